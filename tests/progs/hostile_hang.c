/* hostile_hang connect PORT | hostile_hang send PORT: a blocking call that cannot complete, and
 * the program dies (SIGALRM, default action, after one second) while it waits.
 *   connect  a blocking connect to 127.0.0.1:PORT, whose listener's accept queue is full (the
 *            kernel drops the SYNs and retries for two minutes)
 *   send     a blocking TCP connection to 127.0.0.1:PORT whose peer never reads, then one
 *            blocking sendmsg of 32 MiB carrying the peer's address (as a guarded send does)
 * Prints "pid=<its pid>" first (flushed), then waits for the alarm. Should the call ever
 * return, prints "returned=R" and exits 3. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    long r;
    if (!strcmp(argv[1], "connect")) {
        printf("pid=%d\n", (int)getpid());
        fflush(stdout);
        alarm(1);
        r = connect(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        int small = 16384;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        if (connect(fd, (struct sockaddr *)&a, sizeof a)) { perror("connect"); return 2; }
        size_t n = 32 << 20;
        char *buf = calloc(1, n);
        struct iovec iov = { .iov_base = buf, .iov_len = n };
        struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov, .msg_iovlen = 1 };
        printf("pid=%d\n", (int)getpid());
        fflush(stdout);
        alarm(1);
        r = sendmsg(fd, &m, 0);
    }
    printf("returned=%ld\n", r < 0 ? -errno : r);
    return 3;
}
