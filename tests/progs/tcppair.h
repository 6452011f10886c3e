/* tcp_pair: a connected pair of TCP sockets on loopback, the way socketpair() gives an AF_UNIX
 * one. Test programs whose sends interpose must execute use it: a send on an AF_UNIX socket
 * carries the sender's pid and credentials to the peer, so interpose leaves it to the kernel. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

static int tcp_pair(int flags, int sv[2])
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&a, &len))
        return -1;
    sv[1] = socket(AF_INET, SOCK_STREAM | flags, 0);
    if (sv[1] < 0) return -1;
    if (connect(sv[1], (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS) return -1;
    sv[0] = accept4(l, 0, 0, flags);
    close(l);
    return sv[0] < 0 ? -1 : 0;
}
