/* hostile_race CALL VARIANT ALLOWED DENIED N BLOCKING: one thread makes N calls (CALL = sendmsg,
 * sendto or connect) while a second thread keeps rewriting the memory the call reads, so that a
 * check that reads it once and then lets the kernel read it again can be fooled:
 *
 *   unspec   sin_family flips between AF_INET and AF_UNSPEC (port DENIED)
 *   netlink  sin_family flips between AF_INET and AF_NETLINK (port DENIED)
 *   name     msg_name flips between NULL and &{127.0.0.1:DENIED}          (sendmsg only)
 *   namelen  msg_namelen flips between 0 and 16, msg_name = &{DENIED}      (sendmsg only)
 *   port     sin_port flips between ALLOWED and DENIED
 *
 * sendmsg and sendto use one UDP socket connected to 127.0.0.1:ALLOWED (so a call without an
 * address goes there); connect uses a fresh TCP socket per try and asks getpeername where it
 * went. BLOCKING=0 makes the sockets non-blocking. Receivers are the test's. The loop stops
 * after N tries or 5 seconds.
 * Prints "tries=T ok=<calls that sent 8 bytes / connected> failed=F connected_denied=D". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif

static volatile struct sockaddr_in target;
static struct iovec iov = { .iov_base = "hostile", .iov_len = 8 };
static volatile struct msghdr msg;
static atomic_int done;
static const char *variant;
static enum { UNSPEC, NETLINK, NAME, NAMELEN, PORT } mode;
static int allowed, denied;

static void *flipper(void *arg)
{
    (void)arg;
    unsigned n = 0;
    while (!atomic_load_explicit(&done, memory_order_relaxed)) {
        int odd = ++n & 1;
        switch (mode) {
        case UNSPEC: target.sin_family = odd ? AF_UNSPEC : AF_INET; break;
        case NETLINK: target.sin_family = odd ? AF_NETLINK : AF_INET; break;
        case NAME: msg.msg_name = odd ? NULL : (void *)&target; break;
        case NAMELEN: msg.msg_namelen = odd ? 0 : sizeof target; break;
        case PORT: target.sin_port = htons(odd ? allowed : denied); break;
        }
    }
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Waits for a non-blocking connect; 0 when it connected. */
static int finish(int c, int r)
{
    if (r < 0 && errno == EINPROGRESS) {
        struct pollfd p = { .fd = c, .events = POLLOUT };
        poll(&p, 1, 3000);
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
        return err ? -1 : 0;
    }
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 7) return 2;
    const char *call = argv[1];
    variant = argv[2];
    allowed = atoi(argv[3]);
    denied = atoi(argv[4]);
    int n = atoi(argv[5]), blocking = atoi(argv[6]);
    int nb = blocking ? 0 : SOCK_NONBLOCK;
    if (!strcmp(variant, "unspec")) mode = UNSPEC;
    else if (!strcmp(variant, "netlink")) mode = NETLINK;
    else if (!strcmp(variant, "name")) mode = NAME;
    else if (!strcmp(variant, "namelen")) mode = NAMELEN;
    else if (!strcmp(variant, "port")) mode = PORT;
    else return 2;
    target.sin_family = AF_INET;
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    target.sin_port = htons(mode == PORT ? allowed : denied);
    msg.msg_name = (void *)&target;
    msg.msg_namelen = sizeof target;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;

    int u = -1;
    if (strcmp(call, "connect")) {
        u = socket(AF_INET, SOCK_DGRAM | nb, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(allowed), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (connect(u, (struct sockaddr *)&a, sizeof a)) { perror("connect to the allowed port"); return 2; }
    }
    pthread_t f;
    pthread_create(&f, 0, flipper, 0);
    long tries = 0, ok = 0, failed = 0, connected_denied = 0;
    double end = now() + 5;
    for (; tries < n && now() < end; tries++) {
        if (!strcmp(call, "sendmsg")) {
            if (sendmsg(u, (struct msghdr *)&msg, 0) == 8) ok++;
            else failed++;
        } else if (!strcmp(call, "sendto")) {
            if (sendto(u, "hostile", 8, 0, (struct sockaddr *)&target, sizeof target) == 8) ok++;
            else failed++;
        } else {
            int c = socket(AF_INET, SOCK_STREAM | nb, 0);
            int r = finish(c, connect(c, (struct sockaddr *)&target, sizeof target));
            struct sockaddr_in peer;
            socklen_t pl = sizeof peer;
            /* connect(AF_UNSPEC) returns 0 without connecting: ask where the socket went. */
            if (r == 0 && getpeername(c, (struct sockaddr *)&peer, &pl) == 0) {
                ok++;
                if (ntohs(peer.sin_port) == denied) connected_denied++;
            } else {
                failed++;
            }
            close(c);
        }
    }
    atomic_store(&done, 1);
    pthread_join(f, 0);
    printf("tries=%ld ok=%ld failed=%ld connected_denied=%ld\n", tries, ok, failed, connected_denied);
    return 0;
}
