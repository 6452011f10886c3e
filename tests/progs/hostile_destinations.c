/* hostile_destinations: destinations a [[deny]] rule must judge as the kernel uses them, not as
 * they are written (issue 28). One mode per run; key=value lines (results: 0, a count, -errno)
 * and done=1.
 *
 *   anyaddr PORT    connect(0.0.0.0:PORT) on TCP (the kernel connects to 127.0.0.1), connect
 *                   ([::]:PORT) on TCPv6 (to ::1), connect([::]:PORT) on a TCPv6 socket bound to
 *                   ::ffff:127.0.0.1 (to 127.0.0.1), sendto(0.0.0.0:PORT) on UDP (to 127.0.0.1):
 *                   tcp4=R tcp6=R mapped=R udp4=R
 *   autobind PORT   an unbound UDP socket's sendto(127.0.0.1:PORT) binds it to 0.0.0.0 first;
 *                   then a second socket's send without an address (fails EDESTADDRREQ, binds
 *                   all the same): send=R send_any=1|0 (bound to the wildcard after it)
 *                   nodest=R nodest_any=1|0
 *   nlpeer          a NETLINK_USERSOCK datagram from a child to its parent's socket (another
 *                   process, not the kernel): sent=R received=N */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define R(x) ({ long r_ = (long)(x); r_ < 0 ? -errno : r_; })

static long connect_to(int s, void *a, socklen_t l)
{
    long r = R(connect(s, a, l));
    close(s);
    return r;
}

static int anyaddr(int port)
{
    struct sockaddr_in any4 = { .sin_family = AF_INET, .sin_port = htons(port) };
    struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
    printf("tcp4=%ld\n", connect_to(socket(AF_INET, SOCK_STREAM, 0), &any4, sizeof any4));
    printf("tcp6=%ld\n", connect_to(socket(AF_INET6, SOCK_STREAM, 0), &any6, sizeof any6));
    int m = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 local = { .sin6_family = AF_INET6 };
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &local.sin6_addr);
    if (bind(m, (void *)&local, sizeof local)) {
        printf("mapped_bind=%d\n", -errno);
        close(m);
    } else {
        printf("mapped=%ld\n", connect_to(m, &any6, sizeof any6));
    }
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    printf("udp4=%ld\n", R(sendto(u, "x", 1, 0, (void *)&any4, sizeof any4)));
    return 0;
}

static int bound_any(int s)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    if (getsockname(s, (void *)&a, &l)) return -1;
    return a.sin_port != 0 && a.sin_addr.s_addr == htonl(INADDR_ANY);
}

static int autobind(int port)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    printf("send=%ld\n", R(sendto(u, "x", 1, 0, (void *)&to, sizeof to)));
    printf("send_any=%d\n", bound_any(u));
    int v = socket(AF_INET, SOCK_DGRAM, 0);
    printf("nodest=%ld\n", R(send(v, "x", 1, 0)));
    printf("nodest_any=%d\n", bound_any(v));
    return 0;
}

static int nlpeer(void)
{
    int r = socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
    struct sockaddr_nl a = { .nl_family = AF_NETLINK };
    socklen_t l = sizeof a;
    if (r < 0 || bind(r, (void *)&a, sizeof a) || getsockname(r, (void *)&a, &l)) {
        printf("unavailable=%d\n", -errno);
        return 0;
    }
    pid_t child = fork();
    if (child == 0) {
        int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
        struct {
            struct nlmsghdr h;
            char body[16];
        } msg = { { sizeof msg, NLMSG_MIN_TYPE, 0, 1, 0 }, "to a peer" };
        printf("sent=%ld\n", R(sendto(s, &msg, sizeof msg, 0, (void *)&a, sizeof a)));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(child, &st, 0);
    struct pollfd p = { .fd = r, .events = POLLIN };
    char buf[256];
    int got = poll(&p, 1, 300) == 1 && recv(r, buf, sizeof buf, MSG_DONTWAIT) > 0;
    printf("received=%d\n", got);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    int r = 2;
    if (argc >= 3 && !strcmp(argv[1], "anyaddr")) r = anyaddr(atoi(argv[2]));
    else if (argc >= 3 && !strcmp(argv[1], "autobind")) r = autobind(atoi(argv[2]));
    else if (argc >= 2 && !strcmp(argv[1], "nlpeer")) r = nlpeer();
    if (r == 0) printf("done=1\n");
    return r;
}
