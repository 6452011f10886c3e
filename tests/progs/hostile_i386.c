/* hostile_i386 ALLOWED_TCP DENIED_TCP DENIED_UDP BIND_PORT: a 64-bit program that reaches the
 * network through the i386 ABI (`int $0x80`), which a check written for x86_64 numbers misses:
 * direct connect (362), sendto (369), sendmsg (370), bind (361), listen (363), and socketcall
 * (102) with SYS_CONNECT, SYS_SENDTO, SYS_BIND, SYS_SENDMSG, SYS_LISTEN. int $0x80 truncates
 * pointers to 32 bits, so everything it points at lives in a MAP_32BIT mapping. It also tries
 * the x32 ABI (number | 0x40000000), which this kernel does not have (ENOSYS natively).
 *
 * Prints one `name=RESULT` per attempt on one line, RESULT being the raw return value
 * (0, a byte count, or -errno), then ` done=1`. Listeners for the denied ports are the test's;
 * BIND_PORT is a free port the policy does not allow; `*_bound=1` says a bind or listen got a
 * port the policy forbids. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NR32_SOCKETCALL 102
#define NR32_BIND 361
#define NR32_CONNECT 362
#define NR32_LISTEN 363
#define NR32_SENDTO 369
#define NR32_SENDMSG 370
#define SC_BIND 2
#define SC_CONNECT 3
#define SC_LISTEN 4
#define SC_SENDTO 11
#define SC_SENDMSG 16
#define X32 0x40000000L

#include "i386.h"


static char *low; /* below 4 GiB */
static size_t used;

static void *lowalloc(size_t n)
{
    void *p = low + used;
    used += (n + 15) & ~(size_t)15;
    return p;
}

static long L(const void *p)
{
    return (long)(uintptr_t)p;
}

static struct sockaddr_in *lo(int port)
{
    struct sockaddr_in *a = lowalloc(sizeof *a);
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int bound_port(int fd)
{
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &l)) return -1;
    return ntohs(a.sin_port);
}

int main(int argc, char **argv)
{
    if (argc < 5) return 2;
    int allowed = atoi(argv[1]), denied_tcp = atoi(argv[2]), denied_udp = atoi(argv[3]), bport = atoi(argv[4]);
    low = mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED || (uintptr_t)low >= (1UL << 32)) { perror("mmap"); return 2; }
    char *payload = lowalloc(8);
    memcpy(payload, "hostile", 8);
    struct iovec32 *iov = lowalloc(sizeof *iov);
    iov->base = (uint32_t)L(payload);
    iov->len = 8;
    uint32_t *args = lowalloc(6 * sizeof *args);
    int fd, r;

    /* Direct i386 calls. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    printf("connect362_denied=%d", sys32(NR32_CONNECT, fd, L(lo(denied_tcp)), 16, 0, 0, 0));
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    printf(" connect362_allowed=%d", sys32(NR32_CONNECT, fd, L(lo(allowed)), 16, 0, 0, 0));
    close(fd);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    printf(" sendto369_denied=%d", sys32(NR32_SENDTO, fd, L(payload), 8, 0, L(lo(denied_udp)), 16));
    close(fd);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct msghdr32 *m = lowalloc(sizeof *m);
    *m = (struct msghdr32){ .name = (uint32_t)L(lo(denied_udp)), .namelen = 16, .iov = (uint32_t)L(iov), .iovlen = 1 };
    printf(" sendmsg370_denied=%d", sys32(NR32_SENDMSG, fd, L(m), 0, 0, 0, 0));
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    r = sys32(NR32_BIND, fd, L(lo(bport)), 16, 0, 0, 0);
    printf(" bind361=%d bind361_bound=%d", r, bound_port(fd) == bport);
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    r = sys32(NR32_LISTEN, fd, 8, 0, 0, 0, 0);
    printf(" listen363_unbound=%d listen363_bound=%d", r, bound_port(fd) > 0);
    close(fd);

    /* socketcall(2): the arguments are an array of 32-bit words. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    args[0] = fd, args[1] = (uint32_t)L(lo(denied_tcp)), args[2] = 16;
    printf(" sc_connect_denied=%d", sys32(NR32_SOCKETCALL, SC_CONNECT, L(args), 0, 0, 0, 0));
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    args[0] = fd, args[1] = (uint32_t)L(lo(allowed)), args[2] = 16;
    printf(" sc_connect_allowed=%d", sys32(NR32_SOCKETCALL, SC_CONNECT, L(args), 0, 0, 0, 0));
    close(fd);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    args[0] = fd, args[1] = (uint32_t)L(payload), args[2] = 8, args[3] = 0, args[4] = (uint32_t)L(lo(denied_udp)),
    args[5] = 16;
    printf(" sc_sendto_denied=%d", sys32(NR32_SOCKETCALL, SC_SENDTO, L(args), 0, 0, 0, 0));
    close(fd);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    m = lowalloc(sizeof *m);
    *m = (struct msghdr32){ .name = (uint32_t)L(lo(denied_udp)), .namelen = 16, .iov = (uint32_t)L(iov), .iovlen = 1 };
    args[0] = fd, args[1] = (uint32_t)L(m), args[2] = 0;
    printf(" sc_sendmsg_denied=%d", sys32(NR32_SOCKETCALL, SC_SENDMSG, L(args), 0, 0, 0, 0));
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    args[0] = fd, args[1] = (uint32_t)L(lo(bport)), args[2] = 16;
    r = sys32(NR32_SOCKETCALL, SC_BIND, L(args), 0, 0, 0, 0);
    printf(" sc_bind=%d sc_bind_bound=%d", r, bound_port(fd) == bport);
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    args[0] = fd, args[1] = 8;
    r = sys32(NR32_SOCKETCALL, SC_LISTEN, L(args), 0, 0, 0, 0);
    printf(" sc_listen_unbound=%d sc_listen_bound=%d", r, bound_port(fd) > 0);
    close(fd);

    /* x32: connect is 42, sendto 44, bind 49 with bit 30 set. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    r = syscall(42 | X32, fd, lo(denied_tcp), 16);
    printf(" x32_connect=%d", r < 0 ? -errno : r);
    close(fd);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    r = syscall(44 | X32, fd, payload, 8, 0, lo(denied_udp), 16);
    printf(" x32_sendto=%d", r < 0 ? -errno : r);
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    r = syscall(49 | X32, fd, lo(bport), 16);
    printf(" x32_bind=%d x32_bound=%d", r < 0 ? -errno : r, bound_port(fd) == bport);
    close(fd);
    printf(" done=1\n");
    return 0;
}
