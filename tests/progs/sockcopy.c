/* sockcopy [-n]: copies stdin to stdout through a loopback TCP connection inside the process: one thread
 * sends with sendmsg (two iovecs) and sendto, the main thread receives with recvmsg, recvfrom
 * and recv, in turns. With -n both socket ends are non-blocking (poll on EAGAIN). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "tcppair.h"
#include <unistd.h>

static int sv[2], nonblock;

static void wait_fd(int fd, short ev)
{
    struct pollfd p = { .fd = fd, .events = ev };
    poll(&p, 1, -1);
}

static void *sender(void *arg)
{
    (void)arg;
    static char buf[40000];
    ssize_t n;
    int turn = 0;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        ssize_t off = 0;
        while (off < n) {
            ssize_t w;
            if (turn++ % 2) {
                size_t left = n - off, half = left / 2;
                struct iovec iov[2] = { { buf + off, half }, { buf + off + half, left - half } };
                struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
                w = sendmsg(sv[1], &m, MSG_NOSIGNAL);
            } else {
                w = sendto(sv[1], buf + off, n - off, MSG_NOSIGNAL, 0, 0);
            }
            if (w < 0 && errno == EAGAIN) { wait_fd(sv[1], POLLOUT); continue; }
            if (w < 0) { perror("send"); exit(1); }
            off += w;
        }
    }
    shutdown(sv[1], SHUT_WR);
    return 0;
}

int main(int argc, char **argv)
{
    nonblock = argc > 1 && strcmp(argv[1], "-n") == 0;
    if (tcp_pair(nonblock ? SOCK_NONBLOCK : 0, sv)) return 1;
    pthread_t t;
    pthread_create(&t, 0, sender, 0);
    static char buf[50000];
    long long total = 0;
    for (int turn = 0;; turn++) {
        ssize_t n;
        if (turn % 3 == 0) {
            struct iovec iov[2] = { { buf, 1000 }, { buf + 1000, sizeof buf - 1000 } };
            struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
            n = recvmsg(sv[0], &m, 0);
        } else if (turn % 3 == 1) {
            n = recvfrom(sv[0], buf, sizeof buf, 0, 0, 0);
        } else {
            n = recv(sv[0], buf, 777, 0);
        }
        if (n < 0 && errno == EAGAIN) { wait_fd(sv[0], POLLIN); continue; }
        if (n < 0) { perror("recv"); return 1; }
        if (n == 0) break;
        if (fwrite(buf, 1, n, stdout) != (size_t)n) return 1;
        total += n;
    }
    pthread_join(t, 0);
    fprintf(stderr, "sockcopy: %lld bytes\n", total);
    return 0;
}
