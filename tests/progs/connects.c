/* connects K: listens on 127.0.0.1 (ephemeral port), then K times: socket, connect, accept,
 * close both. Prints "port=P connects=K". Every connect must succeed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int k = argc > 1 ? atoi(argv[1]) : 5;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 64) || getsockname(ls, (struct sockaddr *)&a, &len))
        return 1;
    for (int i = 0; i < k; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a)) { perror("connect"); return 1; }
        int s = accept(ls, 0, 0);
        if (s < 0) return 1;
        close(s);
        close(c);
    }
    printf("port=%d connects=%d\n", ntohs(a.sin_port), k);
    return 0;
}
