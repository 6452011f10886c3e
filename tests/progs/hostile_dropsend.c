/* hostile_dropsend PORT: what a daemon does (ntpd, chronyd, dnsmasq, nginx workers): started as
 * root, it gives up root in the process (setresuid, no exec afterwards), which leaves it
 * non-dumpable, then sends datagrams to 127.0.0.1:PORT, where it is allowed to.
 * Prints "uid=U dumpable=D sendto=R sendmsg=R sendmmsg=R mmsg_len=L done=1" (R: a count or
 * -errno; L: msg_len of sendmmsg's one message). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    if (getuid() == 0 && (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))) {
        printf("unavailable=%d\n", -errno);
        return 0;
    }
    printf("uid=%d dumpable=%d", (int)getuid(), prctl(PR_GET_DUMPABLE));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    ssize_t r = sendto(s, "dropped", 8, 0, (struct sockaddr *)&a, sizeof a);
    printf(" sendto=%d", r < 0 ? -errno : (int)r);
    struct iovec iov = { .iov_base = "dropped", .iov_len = 8 };
    struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov, .msg_iovlen = 1 };
    r = sendmsg(s, &m, 0);
    printf(" sendmsg=%d", r < 0 ? -errno : (int)r);
    struct mmsghdr mm = { .msg_hdr = m, .msg_len = 0 };
    r = sendmmsg(s, &mm, 1, 0);
    printf(" sendmmsg=%d mmsg_len=%u done=1\n", r < 0 ? -errno : (int)r, mm.msg_len);
    return 0;
}
