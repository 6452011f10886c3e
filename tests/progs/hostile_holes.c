/* hostile_holes ALLOWED_PORT: ways around connect/bind/sendto/sendmsg that a supervisor cannot
 * judge and must refuse instead. Prints `name=RESULT`, RESULT being 0 on success or -errno:
 *   raw_tcp      socket(AF_INET, SOCK_RAW, IPPROTO_TCP)    (any port, no connect needed)
 *   raw6_udp     socket(AF_INET6, SOCK_RAW, IPPROTO_UDP)
 *   packet       socket(AF_PACKET, SOCK_RAW, 0)
 *   sock_packet  socket(AF_INET, SOCK_PACKET, 0)
 *   xdp          socket(AF_XDP, SOCK_RAW, 0)
 *   io_uring     io_uring_setup(8, &params)               (IORING_OP_CONNECT, IORING_OP_SENDMSG...)
 *   listen_unbound   listen() on a TCP socket never bound (the kernel binds it to 0.0.0.0:random);
 *                    listen_unbound_port: the port it got (0 when none)
 *   bind_allowed, listen_bound   bind to 127.0.0.1:ALLOWED_PORT then listen
 *   i386_raw_tcp, sc_raw_tcp, i386_io_uring   the same calls through int $0x80: socket (359),
 *                socketcall(SYS_SOCKET), io_uring_setup (425) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOCK_PACKET
#define SOCK_PACKET 10
#endif

#include "i386.h"

static int sock(int family, int type, int proto)
{
    int fd = socket(family, type, proto);
    if (fd < 0) return -errno;
    close(fd);
    return 0;
}

static int port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &l)) return 0;
    return ntohs(a.sin_port);
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    int allowed = atoi(argv[1]);
    printf("raw_tcp=%d", sock(AF_INET, SOCK_RAW, IPPROTO_TCP));
    printf(" raw6_udp=%d", sock(AF_INET6, SOCK_RAW, IPPROTO_UDP));
    printf(" packet=%d", sock(AF_PACKET, SOCK_RAW, 0));
    printf(" sock_packet=%d", sock(AF_INET, SOCK_PACKET, 0));
    printf(" xdp=%d", sock(AF_XDP, SOCK_RAW, 0));

    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int r = syscall(SYS_io_uring_setup, 8, &p);
    printf(" io_uring=%d", r < 0 ? -errno : 0);
    if (r >= 0) close(r);

    int t = socket(AF_INET, SOCK_STREAM, 0);
    r = listen(t, 8);
    printf(" listen_unbound=%d listen_unbound_port=%d", r < 0 ? -errno : 0, port_of(t));
    close(t);

    t = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(allowed), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    r = bind(t, (struct sockaddr *)&a, sizeof a);
    printf(" bind_allowed=%d", r < 0 ? -errno : 0);
    r = listen(t, 8);
    printf(" listen_bound=%d", r < 0 ? -errno : 0);
    close(t);

    char *low = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) return 2;
    r = sys32(359, AF_INET, SOCK_RAW, IPPROTO_TCP, 0, 0, 0);
    printf(" i386_raw_tcp=%d", r < 0 ? r : 0);
    if (r >= 0) close(r);
    uint32_t *args = (uint32_t *)low;
    args[0] = AF_INET, args[1] = SOCK_RAW, args[2] = IPPROTO_TCP;
    r = sys32(102, 1, (long)(uintptr_t)args, 0, 0, 0, 0);
    printf(" sc_raw_tcp=%d", r < 0 ? r : 0);
    if (r >= 0) close(r);
    memset(low + 64, 0, sizeof(struct io_uring_params));
    r = sys32(425, 8, (long)(uintptr_t)(low + 64), 0, 0, 0, 0);
    printf(" i386_io_uring=%d done=1\n", r < 0 ? r : 0);
    if (r >= 0) close(r);
    return 0;
}
