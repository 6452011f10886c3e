/* hostile_srcroute MODE PORT: a source route set with setsockopt (not a governed call) sends a
 * judged call's packets to another address. The call names an allowed destination; the packet
 * leaves with the first hop of the route as its IP destination:
 *   IPv6  IPV6_RTHDR with a segment routing header (type 4, unprivileged): the IPv6 destination
 *         becomes segments[segments_left], here ::1, while the call names [fe80::1%lo]:PORT
 *   IPv4  IP_OPTIONS with a loose source route (LSRR, needs CAP_NET_RAW, which a root program
 *         without CAP_NET_ADMIN/CAP_SYS_ADMIN/CAP_SYS_PTRACE keeps): the IPv4 destination becomes
 *         the route's first address, here 127.0.0.1, while the call names 127.0.0.2:PORT
 * Both named destinations stay on lo (fe80::1 is not on lo, 127.0.0.2 is), so nothing leaves the
 * machine whatever the call does. The test sniffs lo for packets to 127.0.0.1:PORT and [::1]:PORT.
 * MODE:
 *   user  becomes uid/gid 65534 first, and dumpable again (needs root; otherwise stays as started)
 *   caps  (as root) clears CAP_NET_ADMIN, CAP_SYS_ADMIN and CAP_SYS_PTRACE, keeping the rest
 * For each socket: a UDP sendto, a UDP connect then send (no address: decided on registers), a
 * non-blocking TCP connect (its SYN). Prints "srh=R lsrr=R v6_sendto=R v6_connect=R v6_send=R
 * v6_tcp=R v4_sendto=R v4_connect=R v4_send=R v4_tcp=R done=1" (R: a count, 0 or -errno). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef IPV6_RTHDR
#define IPV6_RTHDR 57
#endif

/* A result: the count, or -errno. */
static int R(long r)
{
    return r < 0 ? -errno : (int)r;
}

static unsigned char srh[8 + 16];
static unsigned char lsrr[8] = { IPOPT_NOP, IPOPT_LSRR, 7, 4, 127, 0, 0, 1 };

static int drop_caps(void)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d)) return -errno;
    unsigned three = 1u << CAP_NET_ADMIN | 1u << CAP_SYS_ADMIN | 1u << CAP_SYS_PTRACE;
    d[0].effective &= ~three;
    d[0].permitted &= ~three;
    d[0].inheritable &= ~three;
    return syscall(SYS_capset, &h, d) ? -errno : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    int port = atoi(argv[2]);
    if (!strcmp(argv[1], "user") && getuid() == 0) {
        if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) {
            printf("unavailable=%d\n", -errno);
            return 0;
        }
        /* Dumpable again, so that interpose can read what it sends for us (see hostile_dropsend). */
        prctl(PR_SET_DUMPABLE, 1);
    } else if (!strcmp(argv[1], "caps")) {
        int r = getuid() == 0 ? drop_caps() : -EPERM;
        if (r) {
            printf("unavailable=%d\n", r);
            return 0;
        }
    }
    /* Segment routing header: next header (filled by the kernel), length 2 (16 bytes after the
     * first 8), type 4, segments left 0, last entry 0, then segments[0] = ::1. */
    srh[1] = 2, srh[2] = 4, srh[3] = 0, srh[4] = 0;
    inet_pton(AF_INET6, "::1", srh + 8);
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_scope_id = if_nametoindex("lo") };
    inet_pton(AF_INET6, "fe80::1", &a6.sin6_addr);
    struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.2", &a4.sin_addr);

    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    printf("srh=%d", R(setsockopt(u, IPPROTO_IPV6, IPV6_RTHDR, srh, sizeof srh)));
    printf(" v6_sendto=%d", R(sendto(u, "srh", 3, 0, (struct sockaddr *)&a6, sizeof a6)));
    int c = socket(AF_INET6, SOCK_DGRAM, 0);
    setsockopt(c, IPPROTO_IPV6, IPV6_RTHDR, srh, sizeof srh);
    printf(" v6_connect=%d", R(connect(c, (struct sockaddr *)&a6, sizeof a6)));
    printf(" v6_send=%d", R(send(c, "srh", 3, 0)));
    int t = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(t, IPPROTO_IPV6, IPV6_RTHDR, srh, sizeof srh);
    printf(" v6_tcp=%d", R(connect(t, (struct sockaddr *)&a6, sizeof a6)));

    int u4 = socket(AF_INET, SOCK_DGRAM, 0);
    printf(" lsrr=%d", R(setsockopt(u4, IPPROTO_IP, IP_OPTIONS, lsrr, sizeof lsrr)));
    printf(" v4_sendto=%d", R(sendto(u4, "lsrr", 4, 0, (struct sockaddr *)&a4, sizeof a4)));
    int c4 = socket(AF_INET, SOCK_DGRAM, 0);
    printf(" v4_connect=%d", R(connect(c4, (struct sockaddr *)&a4, sizeof a4)));
    setsockopt(c4, IPPROTO_IP, IP_OPTIONS, lsrr, sizeof lsrr);
    printf(" v4_send=%d", R(send(c4, "lsrr", 4, 0)));
    int t4 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(t4, IPPROTO_IP, IP_OPTIONS, lsrr, sizeof lsrr);
    printf(" v4_tcp=%d", R(connect(t4, (struct sockaddr *)&a4, sizeof a4)));
    /* Let the SYNs go before the sockets close. */
    usleep(200 * 1000);
    printf(" done=1\n");
    return 0;
}
