/* decode_exec: calls the supervisor executes, with results strace shows at exit: a UDP
 * recvfrom with the peer's address, a recvmsg into two iovecs, a readv from a pipe, a
 * non-blocking connect (EINPROGRESS), an accept4 with the peer's address, reads that succeed,
 * return 0 and fail with EAGAIN. The test compares our log with strace's. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void)
{
    int u1 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), u2 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof a;
    bind(u1, (void *)&a, sizeof a);
    getsockname(u1, (void *)&a, &l);
    sendto(u2, "hey", 3, 0, (void *)&a, sizeof a);
    struct pollfd p = { .fd = u1, .events = POLLIN };
    poll(&p, 1, 5000);
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    char b[16];
    recvfrom(u1, b, sizeof b, 0, (void *)&from, &fl);
    sendto(u2, "hello", 5, 0, (void *)&a, sizeof a);
    poll(&p, 1, 5000);
    struct iovec iov[2] = { { b, 2 }, { b + 2, 10 } };
    struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = iov, .msg_iovlen = 2 };
    recvmsg(u1, &m, 0);
    int pp[2];
    pipe2(pp, O_NONBLOCK);
    write(pp[1], "abcdef", 6);
    readv(pp[0], iov, 2);
    read(pp[0], b, 4);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in b2 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bind(ls, (void *)&b2, sizeof b2);
    listen(ls, 1);
    l = sizeof b2;
    getsockname(ls, (void *)&b2, &l);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(c, (void *)&b2, sizeof b2);
    struct pollfd q = { .fd = ls, .events = POLLIN };
    poll(&q, 1, 5000);
    fl = sizeof from;
    int s = accept4(ls, (void *)&from, &fl, SOCK_CLOEXEC | SOCK_NONBLOCK);
    read(s, b, 0);
    read(s, b, 5);
    struct pollfd w = { .fd = c, .events = POLLOUT };
    poll(&w, 1, 5000);
    sendto(c, "data", 4, MSG_NOSIGNAL, 0, 0);
    struct iovec out[2] = { { "ab", 2 }, { "cd", 2 } };
    struct msghdr om = { .msg_iov = out, .msg_iovlen = 2 };
    sendmsg(c, &om, MSG_NOSIGNAL);
    struct pollfd r = { .fd = s, .events = POLLIN };
    poll(&r, 1, 5000);
    read(s, b, 16);
    return 0;
}
