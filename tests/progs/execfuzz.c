/* execfuzz SEED N DIR: N random transfers (read, readv, pread64, write, writev, pwrite64, recvfrom,
 * recvmsg, sendto, sendmsg, lseek) with random lengths, offsets and flags, on a regular file, a
 * file opened O_APPEND, a non-blocking and a blocking pipe, a TCP pair (one end blocking), a UDP
 * pair and an AF_UNIX stream pair, all made in DIR and over loopback. One line per call: what it
 * was and what it returned (the value or -errno) and, for calls that fill a buffer, a hash of the
 * whole buffer (filled with a pattern first, so bytes the kernel did not write show); at the
 * end, a hash of each file. The same SEED gives the same calls: run natively and under
 * interpose, the outputs must be byte for byte the same (tests/exec_fuzz.rs).
 *
 * Nothing waits: reads on the blocking pipe and socket end are made only when the program knows
 * data is there, writes to them only when they fit, MSG_WAITALL only on non-blocking sockets. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <linux/sockios.h>
#include <unistd.h>

static uint64_t state;

static uint64_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static uint64_t pick(uint64_t n)
{
    return rnd() % n;
}

static uint64_t hash(const unsigned char *b, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

enum kind { FILE_RW, FILE_APPEND, PIPE_NB, PIPE_BLOCK, TCP_NB, TCP_BLOCK, UDP, UNIX_NB, KINDS };
static const char *names[KINDS] = { "file", "append", "pipe_nb", "pipe", "tcp_nb", "tcp", "udp", "unix" };

/* For each kind: the descriptor read from and the one written to, and for the blocking ones the
 * bytes known to be waiting. */
static int rfd[KINDS], wfd[KINDS];
static long waiting[KINDS];

#define BUF 9000
static unsigned char buf[BUF], data[BUF];

static long res(long r)
{
    return r < 0 ? -errno : r;
}

static size_t length(void)
{
    static const size_t edges[] = { 0, 1, 7, 4096, 4097, 8192, BUF };
    return pick(4) ? pick(600) : edges[pick(sizeof edges / sizeof *edges)];
}

static long offset(void)
{
    static const long edges[] = { -1, -5, 0, 3, 100, 1 << 20 };
    return pick(3) ? (long)pick(3000) : edges[pick(sizeof edges / sizeof *edges)];
}

static int recv_flags(enum kind k)
{
    static const int f[] = { 0, MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT, MSG_TRUNC | MSG_PEEK, MSG_WAITALL };
    int flags = f[pick(sizeof f / sizeof *f)];
    /* MSG_WAITALL on TCP returns what the receive queue holds then, which depends on when the
     * kernel moved the last segments there from the socket's backlog: timing, not semantics. */
    if ((k == TCP_BLOCK || k == TCP_NB) && (flags & MSG_WAITALL)) flags &= ~MSG_WAITALL;
    return flags;
}

static int blocking(enum kind k)
{
    return k == PIPE_BLOCK || k == TCP_BLOCK;
}

static int is_socket(enum kind k)
{
    return k >= TCP_NB;
}

static void fill(size_t n)
{
    for (size_t i = 0; i < n; i++) data[i] = (unsigned char)rnd();
}

/* The reads on a blocking end may not ask for more than is known to be there when it is 0. */
static int may_read(enum kind k)
{
    return !blocking(k) || waiting[k] > 0;
}

static int tcp(enum kind k)
{
    return k == TCP_NB || k == TCP_BLOCK;
}

static void account_read(enum kind k, long r, int peek)
{
    if ((blocking(k) || tcp(k)) && r > 0 && !peek) waiting[k] -= r;
}

/* Loopback TCP moves what was sent to the receive queue in steps (the socket's backlog): wait
 * until all of it is there, so that what a read returns does not depend on timing. */
static void settle(enum kind k)
{
    for (int i = 0; tcp(k) && i < 20000; i++) {
        int n = 0;
        if (ioctl(rfd[k], SIOCINQ, &n) || n >= waiting[k]) return;
        usleep(50);
    }
}

static void one(int i)
{
    enum kind k = (enum kind)pick(KINDS);
    int op = (int)pick(11);
    size_t len = length();
    long r = 0;
    memset(buf, 0xa5, sizeof buf);
    const char *what = "?";
    int filled = 0;
    switch (op) {
    case 0: /* read */
        if (!may_read(k)) return;
        what = "read";
        r = res(read(rfd[k], buf, len));
        account_read(k, r, 0);
        filled = 1;
        break;
    case 1: { /* readv: two pieces */
        if (!may_read(k)) return;
        what = "readv";
        size_t a = len / 3;
        struct iovec v[2] = { { buf, a }, { buf + a + 16, len - a } };
        if (len + 16 > BUF) v[1].iov_len = BUF - a - 16;
        r = res(readv(rfd[k], v, 2));
        account_read(k, r, 0);
        filled = 1;
        break;
    }
    case 2: { /* pread64 */
        long off = offset();
        if (!may_read(k) && off < 0) return; /* EINVAL natively; but never risk a wait */
        what = "pread64";
        r = res(syscall(SYS_pread64, rfd[k], buf, len, off));
        filled = 1;
        printf("%d pread64 %s %zu %ld = %ld %016llx\n", i, names[k], len, off, r, (unsigned long long)hash(buf, BUF));
        return;
    }
    case 3: /* write */
    case 4: /* writev */
    case 5: { /* pwrite64 */
        if (blocking(k) && waiting[k] + (long)len > 60000) return;
        if (k == UDP && len > 8192) len = 8192;
        fill(len);
        long off = op == 5 ? offset() : 0;
        if (op == 3) {
            what = "write";
            r = res(write(wfd[k], data, len));
        } else if (op == 4) {
            what = "writev";
            struct iovec v[2] = { { data, len / 2 }, { data + len / 2, len - len / 2 } };
            r = res(writev(wfd[k], v, 2));
        } else {
            r = res(syscall(SYS_pwrite64, wfd[k], data, len, off));
            printf("%d pwrite64 %s %zu %ld = %ld\n", i, names[k], len, off, r);
            return;
        }
        if ((blocking(k) || tcp(k)) && r > 0) waiting[k] += r;
        settle(k);
        break;
    }
    case 6:   /* recvfrom */
    case 7: { /* recvmsg */
        if (!is_socket(k) || !may_read(k)) return;
        int flags = recv_flags(k);
        if (blocking(k) && (flags & MSG_TRUNC)) flags &= ~MSG_TRUNC;
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        memset(&from, 0x5a, sizeof from);
        if (op == 6) {
            what = "recvfrom";
            r = res(recvfrom(rfd[k], buf, len, flags, (void *)&from, &fl));
        } else {
            what = "recvmsg";
            struct iovec v = { buf, len };
            struct msghdr m = { .msg_name = &from, .msg_namelen = fl, .msg_iov = &v, .msg_iovlen = 1 };
            r = res(recvmsg(rfd[k], &m, flags));
            fl = m.msg_namelen;
            printf("%d msg_flags=%x ", i, m.msg_flags);
        }
        account_read(k, r, flags & MSG_PEEK);
        printf("%d %s %s %zu flags=%x = %ld %016llx namelen=%u\n", i, what, names[k], len, flags, r,
               (unsigned long long)hash(buf, BUF), fl);
        return;
    }
    case 8:   /* sendto */
    case 9: { /* sendmsg */
        if (!is_socket(k)) return;
        if (blocking(k) && waiting[k] + (long)len > 60000) return;
        if (k == UDP && len > 8192) len = 8192;
        fill(len);
        int flags = pick(2) ? MSG_DONTWAIT : 0;
        if (op == 8) {
            what = "sendto";
            r = res(sendto(wfd[k], data, len, flags | MSG_NOSIGNAL, 0, 0));
        } else {
            what = "sendmsg";
            struct iovec v = { data, len };
            struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
            r = res(sendmsg(wfd[k], &m, flags | MSG_NOSIGNAL));
        }
        if ((blocking(k) || tcp(k)) && r > 0) waiting[k] += r;
        settle(k);
        break;
    }
    case 10: { /* lseek */
        if (k > FILE_APPEND) return;
        static const int whence[] = { SEEK_SET, SEEK_CUR, SEEK_END };
        long off = offset();
        int w = whence[pick(3)];
        r = res(lseek(rfd[k], off, w));
        printf("%d lseek %s %ld %d = %ld\n", i, names[k], off, w, r);
        return;
    }
    }
    printf("%d %s %s %zu = %ld", i, what, names[k], len, r);
    if (filled) printf(" %016llx", (unsigned long long)hash(buf, BUF));
    printf("\n");
}

static void sockpair(int domain, int type, int *a, int *b)
{
    if (domain == AF_UNIX) {
        int sv[2];
        if (socketpair(AF_UNIX, type, 0, sv)) exit(1);
        *a = sv[0], *b = sv[1];
        return;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof sa;
    int s = socket(AF_INET, type, 0), one = 1;
    if (bind(s, (void *)&sa, sizeof sa) || getsockname(s, (void *)&sa, &l)) exit(1);
    *b = socket(AF_INET, type, 0);
    if (type == SOCK_STREAM) {
        listen(s, 1);
        if (connect(*b, (void *)&sa, sizeof sa)) exit(1);
        *a = accept(s, 0, 0);
        close(s);
        setsockopt(*a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(*b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    } else {
        *a = s;
        if (connect(*b, (void *)&sa, sizeof sa)) exit(1);
        struct sockaddr_in sb;
        l = sizeof sb;
        getsockname(*b, (void *)&sb, &l);
        connect(*a, (void *)&sb, sizeof sb);
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) return 2;
    state = strtoull(argv[1], 0, 10) * 2654435761u + 1;
    int n = atoi(argv[2]);
    char path[4096];
    signal(SIGPIPE, SIG_IGN);
    snprintf(path, sizeof path, "%s/file", argv[3]);
    rfd[FILE_RW] = wfd[FILE_RW] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    snprintf(path, sizeof path, "%s/append", argv[3]);
    rfd[FILE_APPEND] = wfd[FILE_APPEND] = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
    int p[2];
    if (pipe2(p, O_NONBLOCK)) return 1;
    rfd[PIPE_NB] = p[0], wfd[PIPE_NB] = p[1];
    if (pipe(p)) return 1;
    rfd[PIPE_BLOCK] = p[0], wfd[PIPE_BLOCK] = p[1];
    int a, b;
    sockpair(AF_INET, SOCK_STREAM, &a, &b);
    fcntl(a, F_SETFL, O_NONBLOCK), fcntl(b, F_SETFL, O_NONBLOCK);
    rfd[TCP_NB] = a, wfd[TCP_NB] = b;
    sockpair(AF_INET, SOCK_STREAM, &a, &b);
    rfd[TCP_BLOCK] = a, wfd[TCP_BLOCK] = b;
    sockpair(AF_INET, SOCK_DGRAM, &a, &b);
    fcntl(a, F_SETFL, O_NONBLOCK), fcntl(b, F_SETFL, O_NONBLOCK);
    rfd[UDP] = a, wfd[UDP] = b;
    sockpair(AF_UNIX, SOCK_STREAM, &a, &b);
    fcntl(a, F_SETFL, O_NONBLOCK), fcntl(b, F_SETFL, O_NONBLOCK);
    rfd[UNIX_NB] = a, wfd[UNIX_NB] = b;
    for (int i = 0; i < n; i++) {
        one(i);
        fflush(stdout);
    }
    for (int k = FILE_RW; k <= FILE_APPEND; k++) {
        long size = lseek(rfd[k], 0, SEEK_END);
        static unsigned char all[1 << 22];
        long got = pread(rfd[k], all, size < (long)sizeof all ? size : (long)sizeof all, 0);
        printf("%s size=%ld hash=%016llx\n", names[k], size, (unsigned long long)hash(all, got > 0 ? got : 0));
    }
    return 0;
}
