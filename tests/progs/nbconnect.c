/* nbconnect K: K non-blocking connects to a loopback listener. Each connect fails with
 * EINPROGRESS, completes (poll + SO_ERROR), is accepted, and carries one message each way:
 * the socket the supervisor connected stays usable by the program. Prints "inprogress=K ok=K". */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int k = argc > 1 ? atoi(argv[1]) : 5, inprogress = 0, ok = 0;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 64) || getsockname(ls, (struct sockaddr *)&a, &len))
        return 1;
    for (int i = 0; i < k; i++) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) < 0 && errno == EINPROGRESS) inprogress++;
        struct pollfd p = { .fd = c, .events = POLLOUT };
        poll(&p, 1, 5000);
        int err = -1;
        socklen_t el = sizeof err;
        getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
        int s = accept(ls, 0, 0);
        char buf[8] = { 0 };
        if (err == 0 && s >= 0 && write(c, "ping", 4) == 4 && read(s, buf, 4) == 4 && write(s, "pong", 4) == 4) {
            struct pollfd q = { .fd = c, .events = POLLIN };
            poll(&q, 1, 5000);
            if (read(c, buf, 4) == 4 && buf[0] == 'p' && buf[1] == 'o') ok++;
        }
        close(s);
        close(c);
    }
    printf("inprogress=%d ok=%d\n", inprogress, ok);
    return inprogress == k && ok == k ? 0 : 1;
}
