/* hostile_msgedge ALLOWED DENIED: message-header edge cases on a UDP socket, each a datagram of
 * 4 bytes to 127.0.0.1:ALLOWED unless said otherwise:
 *   vlen0            sendmmsg with vlen 0
 *   vlen1100         sendmmsg of 1100 messages (the kernel takes 1024)
 *   unreadable2      sendmmsg of 2 whose second header lies in an unreadable page
 *   mixed            sendmmsg of [ALLOWED, DENIED]
 *   ctl_null         sendmsg, msg_control NULL, msg_controllen 64
 *   ctl_zero         sendmsg, msg_control set, msg_controllen 0
 *   ctl_short        sendmsg, msg_controllen 8 (shorter than a cmsghdr: no ancillary data)
 *   ctl_null_denied  ctl_null to DENIED
 * Prints "name=R" (R: a count or -errno) for each, then done=1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* A result: the count, or -errno. */
static int R(long r)
{
    return r < 0 ? -errno : (int)r;
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    struct sockaddr_in ok = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in no = ok;
    no.sin_port = htons(atoi(argv[2]));
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct iovec iov = { .iov_base = "mmsg", .iov_len = 4 };
    enum { N = 1100 };
    struct mmsghdr *v = calloc(N, sizeof *v);
    for (int i = 0; i < N; i++)
        v[i].msg_hdr = (struct msghdr){ .msg_name = &ok, .msg_namelen = sizeof ok, .msg_iov = &iov, .msg_iovlen = 1 };
    printf("vlen0=%d", R(sendmmsg(s, v, 0, 0)));
    printf(" vlen1100=%d", R(sendmmsg(s, v, N, 0)));
    char *pg = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct mmsghdr *w = (struct mmsghdr *)(pg + 4096 - sizeof *w);
    *w = v[0];
    mprotect(pg + 4096, 4096, PROT_NONE);
    printf(" unreadable2=%d", R(sendmmsg(s, w, 2, 0)));
    struct mmsghdr x[2] = { v[0], v[0] };
    x[1].msg_hdr.msg_name = &no;
    printf(" mixed=%d", R(sendmmsg(s, x, 2, 0)));
    struct msghdr m = v[0].msg_hdr;
    m.msg_control = 0, m.msg_controllen = 64;
    printf(" ctl_null=%d", R(sendmsg(s, &m, 0)));
    m.msg_control = pg, m.msg_controllen = 0;
    printf(" ctl_zero=%d", R(sendmsg(s, &m, 0)));
    m.msg_controllen = 8;
    printf(" ctl_short=%d", R(sendmsg(s, &m, 0)));
    m.msg_name = &no, m.msg_control = 0, m.msg_controllen = 64;
    printf(" ctl_null_denied=%d done=1\n", R(sendmsg(s, &m, 0)));
    return 0;
}
