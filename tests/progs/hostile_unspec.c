/* hostile_unspec ALLOWED_UDP DENIED_UDP BIND_PORT: addresses with sa_family = AF_UNSPEC (0),
 * which the kernel takes as IPv4 on an AF_INET socket for sendto, sendmsg and bind (bind only
 * with INADDR_ANY), and as "disconnect" for connect.
 *
 * Prints `name=RESULT` (0, a byte count or -errno) for: UDP sendto and sendmsg with AF_UNSPEC to
 * the denied and to the allowed port; bind(AF_UNSPEC, 0.0.0.0:BIND_PORT) on a TCP socket, then
 * listen, and whether the socket ended up bound to BIND_PORT (`tcp_bound`), and the same bind on
 * a UDP socket; a UDP socket connected to the allowed port, then connect(AF_UNSPEC)
 * (`disconnect`) and a send without address afterwards (`send_after_disconnect`, -EDESTADDRREQ
 * natively). On an AF_INET6 UDP socket (dual-stack): sendto an IPv4-mapped address
 * [::ffff:127.0.0.1] at the denied and at the allowed port (v6_mapped_denied, v6_mapped_allowed),
 * an AF_INET address (v6_inet_denied), and an AF_UNSPEC one (v6_unspec_denied, which the kernel
 * takes as no address: -EDESTADDRREQ natively). The datagrams' receivers are the test's. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int R(long r)
{
    return r < 0 ? -errno : (int)r;
}

static struct sockaddr_in addr(int family, uint32_t ip, int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = family;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(ip);
    return a;
}

static int send_msg(int fd, struct sockaddr_in *a)
{
    struct iovec iov = { .iov_base = "hostile", .iov_len = 8 };
    struct msghdr m = { .msg_name = a, .msg_namelen = sizeof *a, .msg_iov = &iov, .msg_iovlen = 1 };
    return R(sendmsg(fd, &m, 0));
}

static int bound_to(int fd)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &l)) return -1;
    return ntohs(a.sin_port);
}

int main(int argc, char **argv)
{
    if (argc < 4) return 2;
    int allowed = atoi(argv[1]), denied = atoi(argv[2]), bport = atoi(argv[3]);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in d = addr(AF_UNSPEC, INADDR_LOOPBACK, denied), ok = addr(AF_UNSPEC, INADDR_LOOPBACK, allowed);
    printf("sendto_denied=%d", R(sendto(u, "hostile", 8, 0, (struct sockaddr *)&d, sizeof d)));
    printf(" sendmsg_denied=%d", send_msg(u, &d));
    printf(" sendto_allowed=%d", R(sendto(u, "hostile", 8, 0, (struct sockaddr *)&ok, sizeof ok)));
    printf(" sendmsg_allowed=%d", send_msg(u, &ok));
    close(u);

    int t = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in any = addr(AF_UNSPEC, INADDR_ANY, bport);
    printf(" tcp_bind=%d", R(bind(t, (struct sockaddr *)&any, sizeof any)));
    printf(" tcp_listen=%d", R(listen(t, 8)));
    printf(" tcp_bound=%d", bound_to(t) == bport);
    close(t);
    u = socket(AF_INET, SOCK_DGRAM, 0);
    printf(" udp_bind=%d", R(bind(u, (struct sockaddr *)&any, sizeof any)));
    printf(" udp_bound=%d", bound_to(u) == bport);
    close(u);

    u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in in = addr(AF_INET, INADDR_LOOPBACK, allowed), un = addr(AF_UNSPEC, 0, 0);
    printf(" connect_allowed=%d", R(connect(u, (struct sockaddr *)&in, sizeof in)));
    printf(" disconnect=%d", R(connect(u, (struct sockaddr *)&un, sizeof un)));
    printf(" send_after_disconnect=%d", R(send(u, "hostile", 8, 0)));
    close(u);

    int v6 = socket(AF_INET6, SOCK_DGRAM, 0), zero = 0;
    setsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    struct sockaddr_in6 m6 = { .sin6_family = AF_INET6, .sin6_port = htons(denied) };
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &m6.sin6_addr);
    printf(" v6_mapped_denied=%d", R(sendto(v6, "hostile", 8, 0, (struct sockaddr *)&m6, sizeof m6)));
    m6.sin6_port = htons(allowed);
    printf(" v6_mapped_allowed=%d", R(sendto(v6, "hostile", 8, 0, (struct sockaddr *)&m6, sizeof m6)));
    struct sockaddr_in in4 = addr(AF_INET, INADDR_LOOPBACK, denied);
    printf(" v6_inet_denied=%d", R(sendto(v6, "hostile", 8, 0, (struct sockaddr *)&in4, sizeof in4)));
    struct sockaddr_in6 u6 = m6;
    u6.sin6_family = AF_UNSPEC;
    u6.sin6_port = htons(denied);
    printf(" v6_unspec_denied=%d", R(sendto(v6, "hostile", 8, 0, (struct sockaddr *)&u6, sizeof u6)));
    close(v6);
    printf(" done=1\n");
    return 0;
}
