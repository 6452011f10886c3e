/* pump [-v] [-n] [-b SIZE]: copies stdin to stdout.
 *   -v  readv/writev with three iovecs of odd sizes instead of read/write
 *   -n  makes stdin and stdout non-blocking and waits in poll(2) on EAGAIN
 *   -b  total buffer size (default 65536)
 * Prints the byte count on stderr. Exits 1 on any unexpected error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int vec, nonblock;

static void wait_fd(int fd, short ev)
{
    struct pollfd p = { .fd = fd, .events = ev };
    poll(&p, 1, -1);
}

int main(int argc, char **argv)
{
    size_t size = 65536;
    int o;
    while ((o = getopt(argc, argv, "vnb:")) != -1) {
        if (o == 'v') vec = 1;
        else if (o == 'n') nonblock = 1;
        else if (o == 'b') size = strtoul(optarg, 0, 10);
        else return 2;
    }
    if (nonblock) {
        fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
        fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
    }
    char *buf = malloc(size);
    size_t a = size / 7 + 1, b = size / 3 + 5;
    if (a + b >= size) a = b = 1;
    long long total = 0;
    for (;;) {
        ssize_t n;
        if (vec) {
            struct iovec iov[3] = { { buf, a }, { buf + a, b }, { buf + a + b, size - a - b } };
            n = readv(0, iov, 3);
        } else {
            n = read(0, buf, size);
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (errno == EAGAIN) wait_fd(0, POLLIN);
            continue;
        }
        if (n < 0) { perror("read"); return 1; }
        if (n == 0) break;
        ssize_t off = 0;
        while (off < n) {
            ssize_t w;
            if (vec) {
                size_t left = n - off, first = left / 2, second = left - first;
                struct iovec iov[2] = { { buf + off, first }, { buf + off + first, second } };
                w = writev(1, iov, 2);
            } else {
                w = write(1, buf + off, n - off);
            }
            if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (errno == EAGAIN) wait_fd(1, POLLOUT);
                continue;
            }
            if (w <= 0) { perror("write"); return 1; }
            off += w;
        }
        total += n;
    }
    fprintf(stderr, "pump: %lld bytes\n", total);
    return 0;
}
