/* hostile_identity NAME [drop]: what a peer learns about who sent or connected.
 * With `drop` (as root) the program first becomes uid/gid 65534, so that its credentials differ
 * from its supervisor's.
 *
 * 1. An AF_UNIX SOCK_DGRAM socketpair, both ends non-blocking, SO_PASSCRED on the receiver. The
 *    sender sends with write, send (sendto without address) and sendmsg (no ancillary data); for
 *    each, the receiver's SCM_CREDENTIALS: write_pid= write_uid= write_gid=, send_*, sendmsg_*
 *    (-1 when nothing arrived).
 * 2. An abstract AF_UNIX stream server at "@NAME", and clients connecting to it, a non-blocking
 *    one (nb_*) then a blocking one (b_*): nb_connect= is connect's result (0 or -errno), and
 *    nb_pid/nb_uid/nb_gid the SO_PEERCRED of the accepted socket (-1 when nothing was accepted);
 *    nb_srv_pid/uid/gid the client's SO_PEERCRED, i.e. the server's credentials when it listened.
 * First on the line: pid= uid= gid= of the program itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void creds_of(const char *name, int rx)
{
    char buf[16], cbuf[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct ucred c = { .pid = -1, .uid = -1, .gid = -1 };
    struct pollfd p = { .fd = rx, .events = POLLIN };
    poll(&p, 1, 2000);
    if (recvmsg(rx, &m, MSG_DONTWAIT) >= 0) {
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
            if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS) memcpy(&c, CMSG_DATA(h), sizeof c);
    }
    printf(" %s_pid=%d %s_uid=%d %s_gid=%d", name, (int)c.pid, name, (int)c.uid, name, (int)c.gid);
}

static void peer_of(const char *name, int server, int nonblocking, struct sockaddr_un *a, socklen_t len)
{
    int c = socket(AF_UNIX, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    int r = connect(c, (struct sockaddr *)a, len);
    printf(" %s_connect=%d", name, r < 0 ? -errno : 0);
    struct pollfd p = { .fd = server, .events = POLLIN };
    struct ucred cr = { .pid = -1, .uid = -1, .gid = -1 };
    if (poll(&p, 1, 2000) == 1) {
        int s = accept(server, 0, 0);
        socklen_t l = sizeof cr;
        if (s >= 0) getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &l);
        close(s);
    }
    printf(" %s_pid=%d %s_uid=%d %s_gid=%d", name, (int)cr.pid, name, (int)cr.uid, name, (int)cr.gid);
    /* The client's view of the server: the credentials recorded when the server listened. */
    struct ucred sv = { .pid = -1, .uid = -1, .gid = -1 };
    socklen_t l = sizeof sv;
    getsockopt(c, SOL_SOCKET, SO_PEERCRED, &sv, &l);
    printf(" %s_srv_pid=%d %s_srv_uid=%d %s_srv_gid=%d", name, (int)sv.pid, name, (int)sv.uid, name, (int)sv.gid);
    close(c);
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    if (argc > 2 && !strcmp(argv[2], "drop")) {
        if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) {
            perror("dropping privileges");
            return 2;
        }
    }
    printf("pid=%d uid=%d gid=%d", (int)getpid(), (int)getuid(), (int)getgid());

    int sv[2], one = 1;
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv)) return 2;
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    if (write(sv[0], "w", 1) != 1) perror("write");
    creds_of("write", sv[1]);
    if (send(sv[0], "s", 1, 0) != 1) perror("send");
    creds_of("send", sv[1]);
    struct iovec iov = { .iov_base = "m", .iov_len = 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (sendmsg(sv[0], &m, 0) != 1) perror("sendmsg");
    creds_of("sendmsg", sv[1]);

    struct sockaddr_un a = { .sun_family = AF_UNIX };
    size_t n = strlen(argv[1]);
    if (n + 1 > sizeof a.sun_path) return 2;
    memcpy(a.sun_path + 1, argv[1], n); /* abstract: a leading NUL */
    socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + n;
    int server = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(server, (struct sockaddr *)&a, len) || listen(server, 8)) { perror("abstract server"); return 2; }
    peer_of("nb", server, 1, &a, len);
    peer_of("b", server, 0, &a, len);
    printf(" done=1\n");
    return 0;
}
