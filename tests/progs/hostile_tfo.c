/* hostile_tfo ALLOWED DENIED: TCP connections opened without connect(2): a send with
 * MSG_FASTOPEN (TCP Fast Open, on by default for clients) on a fresh TCP socket connects it to
 * the send's address (and sends the data once connected).
 * Prints `name=RESULT name_peer=PORT` (RESULT: the call's return or -errno; PORT: where
 * getpeername says the socket is connected, -1 when it is not) for:
 *   sendto_denied, sendmsg_denied, sendmmsg_denied, i386_sendto_denied (int $0x80, nr 369),
 *   sendto_allowed. Listeners are the test's. */
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
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

#include "i386.h"

static void report(const char *name, long r, int fd)
{
    struct sockaddr_in p;
    socklen_t l = sizeof p;
    int peer = getpeername(fd, (struct sockaddr *)&p, &l) == 0 ? ntohs(p.sin_port) : -1;
    printf(" %s=%ld %s_peer=%d", name, r, name, peer);
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    struct sockaddr_in *low = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) return 2;
    struct sockaddr_in ok = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in no = ok;
    no.sin_port = htons(atoi(argv[2]));
    int fd;
    long r;

    printf("tfo=1");
    fd = socket(AF_INET, SOCK_STREAM, 0);
    r = sendto(fd, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&no, sizeof no);
    report("sendto_denied", r < 0 ? -errno : r, fd);

    struct iovec iov = { .iov_base = "x", .iov_len = 1 };
    struct msghdr m = { .msg_name = &no, .msg_namelen = sizeof no, .msg_iov = &iov, .msg_iovlen = 1 };
    fd = socket(AF_INET, SOCK_STREAM, 0);
    r = sendmsg(fd, &m, MSG_FASTOPEN);
    report("sendmsg_denied", r < 0 ? -errno : r, fd);

    struct mmsghdr mm = { .msg_hdr = m };
    fd = socket(AF_INET, SOCK_STREAM, 0);
    r = sendmmsg(fd, &mm, 1, MSG_FASTOPEN);
    report("sendmmsg_denied", r < 0 ? -errno : r, fd);

    low[0] = no;
    char *payload = (char *)&low[1];
    payload[0] = 'x';
    fd = socket(AF_INET, SOCK_STREAM, 0);
    r = sys32(369, fd, (long)(uintptr_t)payload, 1, MSG_FASTOPEN, (long)(uintptr_t)low, sizeof no);
    report("i386_sendto_denied", r, fd);

    fd = socket(AF_INET, SOCK_STREAM, 0);
    r = sendto(fd, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&ok, sizeof ok);
    report("sendto_allowed", r < 0 ? -errno : r, fd);
    printf(" done=1\n");
    return 0;
}
