/* hostile_refused TCP_PORT UDP_PORT: one connect to 127.0.0.1:TCP_PORT and one UDP sendto to
 * 127.0.0.1:UDP_PORT, both of which a deny policy refuses (both ports have listeners, so natively
 * both succeed). Prints "connect=R sendto=R", R being 0, a byte count or -errno. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    struct sockaddr_in t = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in u = t;
    u.sin_port = htons(atoi(argv[2]));
    int c = socket(AF_INET, SOCK_STREAM, 0), d = socket(AF_INET, SOCK_DGRAM, 0);
    int r1 = connect(c, (struct sockaddr *)&t, sizeof t) < 0 ? -errno : 0;
    long r2 = sendto(d, "hostile", 8, 0, (struct sockaddr *)&u, sizeof u);
    printf("connect=%d sendto=%ld done=1\n", r1, r2 < 0 ? -(long)errno : r2);
    return 0;
}
