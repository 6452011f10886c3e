/* ratelimit BYTES FILE: thread "sender" writes BYTES into a pipe (blocking, looping on partial
 * writes); thread "slowrd" reads them from the non-blocking read end, waiting in poll(2) on
 * EAGAIN as an event loop does, and checks every byte; meanwhile thread "other" makes 200
 * read(2)s of FILE (a regular file). Prints how long the transfer took, how long "other"'s 200
 * reads took, and whether they were all done before the transfer ended. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static int p[2];
static long total;
static const char *file;
static atomic_int transfer_done, other_done;
static long other_ms, transfer_ms, got;

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static unsigned char byte_at(long i) { return (unsigned char)(i * 131 + (i >> 9)); }

static void *sender(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "sender");
    static unsigned char buf[65536];
    long sent = 0;
    while (sent < total) {
        long n = total - sent < (long)sizeof buf ? total - sent : (long)sizeof buf;
        for (long i = 0; i < n; i++) buf[i] = byte_at(sent + i);
        long off = 0;
        while (off < n) {
            ssize_t w = write(p[1], buf + off, n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) { perror("write"); exit(1); }
            off += w;
        }
        sent += n;
    }
    close(p[1]);
    return 0;
}

static void *other(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "other");
    int fd = open(file, O_RDONLY);
    if (fd < 0) { perror(file); exit(1); }
    usleep(300000); /* well into the transfer */
    long t0 = now_ms();
    char buf[64];
    for (int i = 0; i < 200; i++) {
        if (pread(fd, buf, 1, 0) < 0) { perror("pread"); exit(1); }
        if (read(fd, buf, sizeof buf) < 0) { perror("read"); exit(1); }
        lseek(fd, 0, SEEK_SET);
    }
    other_ms = now_ms() - t0;
    atomic_store(&other_done, !atomic_load(&transfer_done));
    return 0;
}

/* In a thread of its own, named before its first call (interpose reads a thread's name once). */
static void *slowrd(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "slowrd");
    static unsigned char buf[65536];
    long t0 = now_ms();
    for (;;) {
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pf = { .fd = p[0], .events = POLLIN };
            poll(&pf, 1, -1);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { perror("read"); exit(1); }
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != byte_at(got + i)) { fprintf(stderr, "byte %ld differs\n", got + i); exit(1); }
        got += n;
    }
    transfer_ms = now_ms() - t0;
    atomic_store(&transfer_done, 1);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    total = atol(argv[1]);
    file = argv[2];
    if (pipe(p)) return 1;
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    pthread_t r, s, o;
    pthread_create(&r, 0, slowrd, 0);
    pthread_create(&s, 0, sender, 0);
    pthread_create(&o, 0, other, 0);
    pthread_join(r, 0);
    pthread_join(s, 0);
    pthread_join(o, 0);
    printf("bytes=%ld transfer_ms=%ld other_ms=%ld other_done_during_transfer=%d\n", got, transfer_ms, other_ms,
           atomic_load(&other_done));
    return got == total ? 0 : 1;
}
