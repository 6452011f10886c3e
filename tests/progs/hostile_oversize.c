/* hostile_oversize UDP_ALLOWED UDP_DENIED TCP_ALLOWED: lengths the kernel accepts although they
 * are too big, each of which must behave as without a supervisor. The program binds its own
 * receivers on the three ports (127.0.0.1). Prints `name=RESULT` (a count, 0, or -errno):
 *   namelen200          sendmsg with msg_namelen 200 (the kernel clamps it to 128) to UDP_ALLOWED;
 *                       namelen200_recv: datagrams that arrived there
 *   namelen200_denied   the same to UDP_DENIED; namelen200_denied_recv
 *   sendto_len_hi       sendto(UDP_ALLOWED) with addrlen (1<<32)|16 through syscall(2) (the
 *                       kernel takes an int: 16); sendto_len_hi_recv
 *   connect_len_hi      connect(TCP_ALLOWED) with addrlen (1<<32)|16 through syscall(2)
 *   big_sendto          on a connected TCP socket, sendto(fd, 100 MiB, 0, &TCP_ALLOWED, 16);
 *                       big_received: bytes a reader thread of the program received */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIG (100L << 20)

static struct sockaddr_in lo(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    return a;
}

static int receiver(int type, int port)
{
    int fd = socket(AF_INET, type, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = lo(port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || (type == SOCK_STREAM && listen(fd, 8))) {
        perror("receiver");
        exit(2);
    }
    return fd;
}

static int arrived(int fd)
{
    char buf[64];
    int n = 0;
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0) n++;
    return n;
}

static long R(long r)
{
    return r < 0 ? -errno : r;
}

static void *reader(void *arg)
{
    int l = (int)(long)arg;
    int s = accept(l, 0, 0);
    static char buf[1 << 16];
    long total = 0, n;
    while ((n = read(s, buf, sizeof buf)) > 0) total += n;
    close(s);
    return (void *)total;
}

static long sendmsg_namelen(int fd, int port, int namelen)
{
    char name[256];
    memset(name, 0, sizeof name);
    struct sockaddr_in a = lo(port);
    memcpy(name, &a, sizeof a);
    struct iovec iov = { .iov_base = "hostile", .iov_len = 8 };
    struct msghdr m = { .msg_name = name, .msg_namelen = namelen, .msg_iov = &iov, .msg_iovlen = 1 };
    return R(sendmsg(fd, &m, 0));
}

int main(int argc, char **argv)
{
    if (argc < 4) return 2;
    int ua = atoi(argv[1]), ud = atoi(argv[2]), ta = atoi(argv[3]);
    int ra = receiver(SOCK_DGRAM, ua), rd = receiver(SOCK_DGRAM, ud), tl = receiver(SOCK_STREAM, ta);
    int u = socket(AF_INET, SOCK_DGRAM, 0);

    printf("namelen200=%ld", sendmsg_namelen(u, ua, 200));
    printf(" namelen200_recv=%d", arrived(ra));
    printf(" namelen200_denied=%ld", sendmsg_namelen(u, ud, 200));
    printf(" namelen200_denied_recv=%d", arrived(rd));

    struct sockaddr_in a = lo(ua);
    printf(" sendto_len_hi=%ld", R(syscall(SYS_sendto, u, "hostile", 8L, 0L, &a, (1UL << 32) | sizeof a)));
    printf(" sendto_len_hi_recv=%d", arrived(ra));

    pthread_t t;
    pthread_create(&t, 0, reader, (void *)(long)tl);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in b = lo(ta);
    long r = R(syscall(SYS_connect, c, &b, (1UL << 32) | sizeof b));
    printf(" connect_len_hi=%ld", r);
    if (r) { /* the reader still needs its connection */
        close(c);
        c = socket(AF_INET, SOCK_STREAM, 0);
        connect(c, (struct sockaddr *)&b, sizeof b);
    }
    char *big = malloc(BIG);
    for (long i = 0; i < BIG; i++) big[i] = (char)(i * 7);
    printf(" big_sendto=%ld", R(sendto(c, big, BIG, 0, (struct sockaddr *)&b, sizeof b)));
    shutdown(c, SHUT_WR);
    void *got;
    pthread_join(t, &got);
    printf(" big_received=%ld done=1\n", (long)got);
    return 0;
}
