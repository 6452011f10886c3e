/* hostile_fdpass: descriptors passed over AF_UNIX sockets (SCM_RIGHTS) with credentials
 * (SCM_CREDENTIALS), as servers and sandboxes pass them, under a [[deny]] rule that governs
 * sendmsg (issue 25). key=value lines (results: 0, a count, -errno) and done=1.
 *
 *   inside ALLOWED DENIED   a socketpair between this process and a child (both traced): the
 *                           parent sends a file descriptor whose offset it moved to 5, with no
 *                           credentials of its own (the child has SO_PASSCRED: the kernel says
 *                           who sent), then a TCP socket; the child reads the offset of what it
 *                           got, checks the sender's pid, connects the socket to DENIED, then to
 *                           ALLOWED (127.0.0.1 ports): sent=R got=N offset=N cred_pid_ok=0|1
 *                           denied=R allowed=R; then explicit credentials: the program's own
 *                           (creds_own=R), and another pid's (creds_other=R, EPERM natively)
 *   recvpeer PATH           (run untraced, by the test) binds PATH, accepts one connection,
 *                           receives a descriptor with the sender's credentials, writes "peer"
 *                           into it: peer_got=N peer_pid=P peer_wrote=R
 *   sendpeer PATH           connects to PATH and sends one end of a pipe, then reads what the
 *                           peer wrote into it: pid=P sent=R read=TEXT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define R(x) ({ long r_ = (long)(x); r_ < 0 ? -errno : r_; })

static long send_fd(int s, int fd, const struct ucred *cred)
{
    char byte = 'F';
    struct iovec iov = { &byte, 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf };
    m.msg_controllen = CMSG_SPACE(sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (cred) {
        m.msg_controllen += CMSG_SPACE(sizeof *cred);
        c = (struct cmsghdr *)(u.buf + CMSG_SPACE(sizeof(int)));
        c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_CREDENTIALS, c->cmsg_len = CMSG_LEN(sizeof *cred);
        memcpy(CMSG_DATA(c), cred, sizeof *cred);
    }
    return R(sendmsg(s, &m, 0));
}

/* Receives one descriptor (-1 if none) and the sender's credentials. */
static int recv_fd(int s, struct ucred *cred)
{
    char byte;
    struct iovec iov = { &byte, 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int) * 4) + CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    int fd = -1;
    cred->pid = -1;
    if (recvmsg(s, &m, 0) <= 0) return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(c), sizeof fd);
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) memcpy(cred, CMSG_DATA(c), sizeof *cred);
    }
    return fd;
}

static int inside(int allowed, int denied)
{
    int sv[2], one = 1;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 1;
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    /* A message refused to the sender must not leave the receiver waiting for ever. */
    struct timeval tv = { 3, 0 };
    setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    pid_t parent = getpid(), child = fork();
    if (child == 0) {
        struct ucred c;
        int f = recv_fd(sv[1], &c);
        printf("got=%d\n", f >= 0);
        printf("offset=%ld\n", f >= 0 ? (long)lseek(f, 0, SEEK_CUR) : -1L);
        printf("cred_pid_ok=%d\n", c.pid == parent);
        int t = recv_fd(sv[1], &c);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        a.sin_port = htons(denied);
        printf("denied=%ld\n", t >= 0 ? R(connect(t, (void *)&a, sizeof a)) : -9999L);
        a.sin_port = htons(allowed);
        printf("allowed=%ld\n", t >= 0 ? R(connect(t, (void *)&a, sizeof a)) : -9999L);
        recv_fd(sv[1], &c);
        printf("creds_own_pid_ok=%d\n", c.pid == parent);
        fflush(stdout);
        _exit(0);
    }
    char path[] = "/tmp/hostile_fdpass.XXXXXX";
    int f = mkstemp(path);
    unlink(path);
    if (f < 0 || write(f, "0123456789", 10) != 10 || lseek(f, 5, SEEK_SET) != 5) return 1;
    printf("sent=%ld\n", send_fd(sv[0], f, 0));
    int t = socket(AF_INET, SOCK_STREAM, 0);
    send_fd(sv[0], t, 0);
    struct ucred own = { getpid(), getuid(), getgid() };
    printf("creds_own=%ld\n", send_fd(sv[0], f, &own));
    int st;
    waitpid(child, &st, 0);
    /* Another process's pid: EPERM natively unless the sender has CAP_SYS_ADMIN. */
    struct ucred other = { getppid(), getuid(), getgid() };
    printf("creds_other=%ld\n", send_fd(sv[0], f, &other));
    return 0;
}

static int recvpeer(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int one = 1, s = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    unlink(path);
    if (bind(s, (void *)&a, sizeof a) || listen(s, 1)) return 1;
    printf("ready=1\n");
    fflush(stdout);
    int c = accept(s, 0, 0);
    setsockopt(c, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    struct ucred cred;
    int f = recv_fd(c, &cred);
    printf("peer_got=%d\npeer_pid=%d\n", f >= 0, cred.pid);
    printf("peer_wrote=%ld\n", f >= 0 ? R(write(f, "peer", 4)) : -9999L);
    return 0;
}

static int sendpeer(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int p[2], s = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (pipe(p) || connect(s, (void *)&a, sizeof a)) return 1;
    printf("pid=%d\n", getpid());
    printf("sent=%ld\n", send_fd(s, p[1], 0));
    close(p[1]);
    char buf[16] = { 0 };
    printf("read=%.4s\n", read(p[0], buf, sizeof buf - 1) > 0 ? buf : "none");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    int r = 2;
    if (argc >= 4 && !strcmp(argv[1], "inside")) r = inside(atoi(argv[2]), atoi(argv[3]));
    else if (argc >= 3 && !strcmp(argv[1], "recvpeer")) r = recvpeer(argv[2]);
    else if (argc >= 3 && !strcmp(argv[1], "sendpeer")) r = sendpeer(argv[2]);
    if (r == 0) printf("done=1\n");
    return r;
}
