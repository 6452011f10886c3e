/* reads THREADS N: THREADS threads each read(2) one byte N times from /dev/zero.
 * The trace must show exactly THREADS*N reads of fd FD (printed on stdout), plus the
 * dynamic loader's own read of libc's ELF header. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int fd, n;

static void *worker(void *arg)
{
    (void)arg;
    char c;
    for (int i = 0; i < n; i++)
        if (read(fd, &c, 1) != 1) abort();
    return 0;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    n = argc > 2 ? atoi(argv[2]) : 10;
    fd = open("/dev/zero", O_RDONLY);
    if (fd < 0) return 1;
    pthread_t th[256];
    if (threads > 256) threads = 256;
    for (int i = 0; i < threads; i++) pthread_create(&th[i], 0, worker, 0);
    for (int i = 0; i < threads; i++) pthread_join(th[i], 0);
    printf("fd=%d reads=%d\n", fd, threads * n);
    return 0;
}
