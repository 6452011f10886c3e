/* hostile_ping PORT: an ICMP echo through an unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP
 * or IPPROTO_ICMPV6), whose destination address carries a port the kernel never reads: an echo
 * "to 127.0.0.1:PORT" is an echo to 127.0.0.1.
 * Needs root to set itself up: it enters a network namespace of its own (only its lo, brought
 * up), lets every group open ping sockets there (net.ipv4.ping_group_range is per namespace;
 * many distributions open it to all by default), then becomes uid/gid 65534 (and dumpable).
 * Prints "ping=R ping6=R v4_port=R v4_reply=N v4_other_port=R v6_port=R v6_reply=N done=1":
 *   v4_port        sendto(127.0.0.1:PORT) of an echo request with a 6-byte payload, R the result
 *   v4_reply       1 when the echo reply came back (the request reached 127.0.0.1), else 0
 *   v4_other_port  the same to 127.0.0.1:(PORT+1)
 *   v6_port        sendto([::1]:PORT) of an ICMPv6 echo request; v6_reply likewise
 * or "unavailable=-errno" when it cannot be set up. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* 1 when an echo reply arrives on S within a second. */
static int reply(int s, int type)
{
    unsigned char b[256];
    struct pollfd p = { .fd = s, .events = POLLIN };
    while (poll(&p, 1, 1000) == 1) {
        ssize_t n = recv(s, b, sizeof b, MSG_DONTWAIT);
        if (n >= 8 && b[0] == type) return 1;
        if (n < 0) return 0;
    }
    return 0;
}

static int echo(int s, struct sockaddr *a, socklen_t len, int type)
{
    unsigned char req[8 + 6] = { type, 0, 0, 0, 0, 0, 0, 1, 'e', 'x', 'f', 'i', 'l', '!' };
    ssize_t r = sendto(s, req, sizeof req, 0, a, len);
    return r < 0 ? -errno : (int)r;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    int port = atoi(argv[1]);
    if (unshare(CLONE_NEWNET)) {
        printf("unavailable=%d\n", -errno);
        return 0;
    }
    struct ifreq ifr = { 0 };
    strcpy(ifr.ifr_name, "lo");
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
    int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
    if (ioctl(c, SIOCSIFFLAGS, &ifr) || fd < 0 || write(fd, "0 2147483647", 12) != 12) {
        printf("unavailable=%d\n", -errno);
        return 0;
    }
    close(fd);
    close(c);
    if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) {
        printf("unavailable=%d\n", -errno);
        return 0;
    }
    /* Dumpable again after the uid change, so that interpose, executing the send as uid 65534,
     * can read the payload (a program that stays non-dumpable gets EFAULT from every executed
     * send: see hostile_dropsend). */
    prctl(PR_SET_DUMPABLE, 1);
    int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    int s6 = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
    printf("ping=%d ping6=%d", s < 0 ? -errno : 0, s6 < 0 ? -errno : 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int r = echo(s, (struct sockaddr *)&a, sizeof a, 8);
    printf(" v4_port=%d v4_reply=%d", r, r > 0 ? reply(s, 0) : 0);
    a.sin_port = htons(port + 1);
    printf(" v4_other_port=%d", echo(s, (struct sockaddr *)&a, sizeof a, 8));
    struct sockaddr_in6 b = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    r = echo(s6, (struct sockaddr *)&b, sizeof b, 128);
    printf(" v6_port=%d v6_reply=%d done=1\n", r, r > 0 ? reply(s6, 129) : 0);
    return 0;
}
