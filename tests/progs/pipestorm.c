/* pipestorm MIB RESTART: a child writes MIB MiB of a known byte pattern into a pipe in
 * chunks of varying size; the parent reads it with varying buffer sizes while an interval
 * timer showers it with SIGALRM (with SA_RESTART when RESTART=1; otherwise interrupted reads
 * fail with EINTR and are retried). The parent checks every byte in order.
 * Prints "bytes=N signals=S eintr=E" and exits 0 when every byte arrived exactly once. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long signals;
static void on_alarm(int s) { (void)s; signals++; }
static unsigned char pattern(unsigned long long i) { return (unsigned char)((i * 2654435761ull) >> 11); }

int main(int argc, char **argv)
{
    long long total = (argc > 1 ? atoll(argv[1]) : 64) << 20;
    int restart = argc > 2 ? atoi(argv[2]) : 1;
    int p[2];
    if (pipe(p)) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        static unsigned char buf[100000];
        unsigned long long at = 0;
        unsigned chunk = 1;
        while ((long long)at < total) {
            chunk = (chunk * 1103515245u + 12345u);
            size_t n = 1 + (chunk >> 8) % sizeof buf;
            if ((long long)(at + n) > total) n = total - at;
            for (size_t i = 0; i < n; i++) buf[i] = pattern(at + i);
            size_t off = 0;
            while (off < n) {
                ssize_t w = write(p[1], buf + off, n - off);
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) _exit(1);
                off += w;
            }
            at += n;
        }
        _exit(0);
    }
    close(p[1]);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = { { 0, 100 }, { 0, 100 } };
    setitimer(ITIMER_REAL, &it, 0);
    static unsigned char buf[70000];
    unsigned long long at = 0;
    long eintr = 0;
    unsigned size = 7;
    for (;;) {
        size = size * 1664525u + 1013904223u;
        size_t want = 1 + (size >> 8) % sizeof buf;
        ssize_t n = read(p[0], buf, want);
        if (n < 0 && errno == EINTR) { eintr++; continue; }
        if (n < 0) { perror("read"); return 1; }
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != pattern(at + i)) { printf("mismatch at byte %llu\n", at + i); return 1; }
        at += n;
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, 0);
    int st;
    waitpid(pid, &st, 0);
    printf("bytes=%llu signals=%ld eintr=%ld\n", at, signals, eintr);
    return (long long)at == total && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
