/* closerace N: N times, one thread closes a socket while another reads from it (both start at a
 * barrier); then the other end must see EOF at once (within 1 s): a copy interpose borrowed for
 * the read must not outlive the close. Prints "ok N" or "late I". */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static pthread_barrier_t bar;
static int a;

static void *reader(void *arg)
{
    (void)arg;
    char c[2];
    pthread_barrier_wait(&bar);
    read(a, c, 1);
    read(a, c, 1);
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    for (int i = 0; i < n; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
            return 2;
        a = sv[0];
        write(sv[1], "xyz", 3);
        pthread_barrier_init(&bar, 0, 2);
        pthread_t t;
        pthread_create(&t, 0, reader, 0);
        pthread_barrier_wait(&bar);
        close(a);
        pthread_join(t, 0);
        struct pollfd p = { .fd = sv[1], .events = POLLIN };
        if (poll(&p, 1, 1000) != 1 || !(p.revents & (POLLHUP | POLLIN))) {
            printf("late %d\n", i);
            return 1;
        }
        char c;
        /* 0 (EOF), or ECONNRESET: a was closed with unread bytes. */
        ssize_t r = recv(sv[1], &c, 1, MSG_DONTWAIT);
        if (r > 0 || (r < 0 && errno == EAGAIN)) {
            printf("late %d\n", i);
            return 1;
        }
        close(sv[1]);
        pthread_barrier_destroy(&bar);
    }
    printf("ok %d\n", n);
    return 0;
}
