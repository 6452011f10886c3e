/* hostile_netlink: netlink sends that interpose may execute (a traced sendto on a non-blocking
 * socket). A netlink send carries its sender to the receiver (SCM_CREDENTIALS: pid, uid, gid),
 * and the kernel lets only a sender with CAP_NET_ADMIN reach a multicast group, or another
 * process's port, of most netlink families (NETLINK_ROUTE among them).
 * Started as root, the program enters a network namespace of its own (so that nothing it sends
 * reaches the machine's real listeners), becomes uid/gid 65534, then, with non-blocking senders
 * and receivers of its own:
 *   route_unicast  sendto(NETLINK_ROUTE, to its own receiver's port), R the result; _got 1 when
 *                  the receiver got it
 *   route_mc       sendto(NETLINK_ROUTE, group RTMGRP_LINK): a forged link notification for
 *                  every listener of the namespace; _got likewise
 *   usersock       sendto(NETLINK_USERSOCK, to its own receiver, which has SO_PASSCRED): allowed
 *                  to anyone; usersock_pid/_uid/_gid what SCM_CREDENTIALS said (-1: nothing)
 * Prints "pid=P uid=U gid=G route_unicast=R route_unicast_got=N route_mc=R route_mc_got=N
 * usersock=R usersock_pid=P usersock_uid=U usersock_gid=G done=1", or "unavailable=-errno". */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
} msg = { { sizeof msg, RTM_NEWLINK, 0, 1, 0 }, { 0 } };

/* A receiver of PROTO bound to GROUPS, with SO_PASSCRED; its port in *PORT. */
static int receiver(int proto, unsigned groups, unsigned *port)
{
    int one = 1, r = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, proto);
    struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = groups };
    socklen_t l = sizeof a;
    if (r < 0 || bind(r, (struct sockaddr *)&a, sizeof a) || getsockname(r, (struct sockaddr *)&a, &l)) return -1;
    setsockopt(r, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    *port = a.nl_pid;
    return r;
}

/* Whether R received a message (within half a second), and the credentials it came with. */
static int received(int r, struct ucred *c)
{
    char buf[256], cbuf[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct pollfd p = { .fd = r, .events = POLLIN };
    *c = (struct ucred){ .pid = -1, .uid = -1, .gid = -1 };
    if (poll(&p, 1, 500) != 1 || recvmsg(r, &m, MSG_DONTWAIT) < 0) return 0;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS) memcpy(c, CMSG_DATA(h), sizeof *c);
    return 1;
}

static int send_to(int s, unsigned port, unsigned groups)
{
    struct sockaddr_nl d = { .nl_family = AF_NETLINK, .nl_pid = port, .nl_groups = groups };
    ssize_t n = sendto(s, &msg, sizeof msg, 0, (struct sockaddr *)&d, sizeof d);
    return n < 0 ? -errno : (int)n;
}

int main(void)
{
    if (unshare(CLONE_NEWNET) || setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
        setresuid(65534, 65534, 65534)) {
        printf("unavailable=%d\n", -errno);
        return 0;
    }
    printf("pid=%d uid=%d gid=%d", (int)getpid(), (int)getuid(), (int)getgid());
    struct ucred c;
    unsigned port, unused;
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_ROUTE);
    int r = receiver(NETLINK_ROUTE, 0, &port);
    int n = send_to(s, port, 0);
    printf(" route_unicast=%d route_unicast_got=%d", n, received(r, &c));
    r = receiver(NETLINK_ROUTE, RTMGRP_LINK, &unused);
    n = send_to(s, 0, RTMGRP_LINK);
    printf(" route_mc=%d route_mc_got=%d", n, received(r, &c));
    s = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_USERSOCK);
    r = receiver(NETLINK_USERSOCK, 0, &port);
    n = send_to(s, port, 0);
    received(r, &c);
    printf(" usersock=%d usersock_pid=%d usersock_uid=%d usersock_gid=%d done=1\n", n, (int)c.pid, (int)c.uid, (int)c.gid);
    return 0;
}
