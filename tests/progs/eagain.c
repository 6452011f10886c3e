/* eagain K: a non-blocking socketpair reader. K times: read (fails with EAGAIN: nothing
 * there yet), then the peer writes one byte, then read (gets it). Exactly K reads fail with
 * EAGAIN and K succeed. Prints "eagain=K ok=K". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int k = argc > 1 ? atoi(argv[1]) : 10, sv[2], again = 0, ok = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv)) return 1;
    char c;
    for (int i = 0; i < k; i++) {
        if (read(sv[0], &c, 1) < 0 && errno == EAGAIN) again++;
        if (write(sv[1], "x", 1) != 1) return 1;
        if (read(sv[0], &c, 1) == 1 && c == 'x') ok++;
    }
    printf("eagain=%d ok=%d\n", again, ok);
    return again == k && ok == k ? 0 : 1;
}
