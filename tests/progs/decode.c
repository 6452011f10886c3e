/* decode: makes a few calls with known arguments and prints, for each, the line the trace must
 * contain ("EXPECT <text>") on stdout. The test checks each expected text is in the log. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

int main(void)
{
    /* openat with a path, flags and a mode */
    int fd = openat(AT_FDCWD, "/tmp/interpose-decode-test", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    printf("EXPECT openat(AT_FDCWD, \"/tmp/interpose-decode-test\", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0640)\n");
    /* write with a buffer that needs escaping */
    write(fd, "tab\there \"q\"\n", 13);
    printf("EXPECT write(%d, \"tab\\there \\\"q\\\"\\n\", 13)\n", fd);
    struct iovec iov[2] = { { "ab", 2 }, { "cde", 3 } };
    writev(fd, iov, 2);
    printf("EXPECT writev(%d, [{iov_base=\"ab\", iov_len=2}, {iov_base=\"cde\", iov_len=3}], 2)\n", fd);
    close(fd);
    unlink("/tmp/interpose-decode-test");

    /* connect to a loopback listener: address and port */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    bind(ls, (struct sockaddr *)&a, sizeof a);
    listen(ls, 1);
    getsockname(ls, (struct sockaddr *)&a, &len);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    printf("EXPECT socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP)\n");
    connect(c, (struct sockaddr *)&a, sizeof a);
    printf("EXPECT connect(%d, {sa_family=AF_INET, sin_port=htons(%d), sin_addr=inet_addr(\"127.0.0.1\")}, 16)\n",
           c, ntohs(a.sin_port));
    sendto(c, "ping", 4, MSG_NOSIGNAL, 0, 0);
    printf("EXPECT sendto(%d, \"ping\", 4, MSG_NOSIGNAL, NULL, 0)\n", c);
    close(c);

    /* an AF_UNIX address */
    int u = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    strcpy(un.sun_path, "/nonexistent/interpose.sock");
    connect(u, (struct sockaddr *)&un, sizeof un);
    printf("EXPECT connect(%d, {sa_family=AF_UNIX, sun_path=\"/nonexistent/interpose.sock\"}, 110)\n", u);

    /* futex operations by name */
    static uint32_t word = 0;
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    printf("EXPECT futex(%p, FUTEX_WAKE_PRIVATE, 1)\n", (void *)&word);
    struct timespec ts = { 0, 1000 };
    syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &ts, 0, FUTEX_BITSET_MATCH_ANY);
    printf("EXPECT futex(%p, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 1, {tv_sec=0, tv_nsec=1000}, "
           "FUTEX_BITSET_MATCH_ANY)\n", (void *)&word);
    syscall(SYS_futex, &word, FUTEX_WAIT, 1, 0, 0, 0);
    printf("EXPECT futex(%p, FUTEX_WAIT, 1, NULL)\n", (void *)&word);
    fflush(stdout);
    return 0;
}
