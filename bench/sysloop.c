/* sysloop SYSCALL N: makes N raw syscalls after a warm-up and prints the mean cost in
 * nanoseconds per call, measured in-process (clock_gettime is vDSO: it is never trapped). Under
 * a filter that selects the syscall, this is the cost of a trapped call; with a filter that
 * selects another syscall, of an untraced one. SYSCALL is getppid, getuid or getpid (no
 * arguments), or, for the cost of decoding: fcntl (fcntl(pipe, F_GETFL): a command, a decoded
 * result) or ppoll (one pollfd, a timeout and a signal mask, all read at entry). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "getppid";
    long n = argc > 2 ? atol(argv[2]) : 100000;
    long nr = strcmp(name, "getppid") == 0 ? SYS_getppid : strcmp(name, "getpid") == 0 ? SYS_getpid
              : strcmp(name, "fcntl") == 0                                 ? SYS_fcntl
              : strcmp(name, "ppoll") == 0                                 ? SYS_ppoll
                                                                           : SYS_getuid;
    int p[2];
    if (pipe(p) != 0) return 1;
    struct pollfd pfd = { p[0], POLLIN, 0 };
    struct timespec zero = { 0, 0 };
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    long a[4] = { 0, 0, 0, 0 };
    if (nr == SYS_fcntl) {
        a[0] = p[0];
        a[1] = F_GETFL;
    } else if (nr == SYS_ppoll) {
        a[0] = (long)&pfd;
        a[1] = 1;
        a[2] = (long)&zero;
        a[3] = (long)&mask;
    }
    for (long i = 0; i < n / 10; i++) syscall(nr, a[0], a[1], a[2], a[3], 8);
    long long t = now();
    for (long i = 0; i < n; i++) syscall(nr, a[0], a[1], a[2], a[3], 8);
    printf("%.1f\n", (double)(now() - t) / n);
    return 0;
}
