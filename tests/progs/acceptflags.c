/* acceptflags: a non-blocking listener accepts with accept4(SOCK_NONBLOCK|SOCK_CLOEXEC) and
 * with accept4(0) and plain accept; checks each new descriptor's O_NONBLOCK and FD_CLOEXEC, the
 * peer address returned, and that data flows both ways. Exit 0 when all hold. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(cond) do { if (!(cond)) { printf("FAILED at line %d: %s\n", __LINE__, #cond); return 1; } } while (0)

static int accept_one(int ls, struct sockaddr_in *a, int mode)
{
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)a, sizeof *a)) return -1;
    struct pollfd p = { .fd = ls, .events = POLLIN };
    poll(&p, 1, 5000);
    struct sockaddr_in peer;
    socklen_t len = sizeof peer + 4; /* larger than needed: the kernel says 16 */
    int s = mode == 2 ? accept(ls, (struct sockaddr *)&peer, &len)
                      : accept4(ls, (struct sockaddr *)&peer, &len, mode ? SOCK_NONBLOCK | SOCK_CLOEXEC : 0);
    if (s < 0 || len != sizeof peer || peer.sin_family != AF_INET || peer.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
        return -1;
    int fl = fcntl(s, F_GETFL), fdfl = fcntl(s, F_GETFD);
    int want_nb = mode == 1;
    if (!!(fl & O_NONBLOCK) != want_nb || !!(fdfl & FD_CLOEXEC) != want_nb) return -2;
    char buf[8];
    if (write(c, "abc", 3) != 3) return -3;
    struct pollfd q = { .fd = s, .events = POLLIN };
    poll(&q, 1, 5000);
    if (read(s, buf, 8) != 3 || write(s, "xyz", 3) != 3 || read(c, buf, 8) != 3 || memcmp(buf, "xyz", 3)) return -4;
    close(c);
    return s;
}

int main(void)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    CHECK(bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 8) == 0);
    CHECK(getsockname(ls, (struct sockaddr *)&a, &len) == 0);
    CHECK(accept(ls, 0, 0) < 0 && errno == EAGAIN);
    for (int mode = 0; mode < 3; mode++) {
        int s = accept_one(ls, &a, mode);
        if (s < 0) { printf("FAILED: mode %d: %d\n", mode, s); return 1; }
        close(s);
    }
    printf("acceptflags ok\n");
    return 0;
}
