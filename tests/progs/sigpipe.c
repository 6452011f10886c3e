/* sigpipe MODE: writes where no one reads, on a non-blocking descriptor.
 *   pipe           write to a pipe whose read end is closed: killed by SIGPIPE
 *   pipe-ignored   same with SIGPIPE ignored: write fails with EPIPE, exit 0
 *   send           send() on a TCP socket shut down for writing: killed by SIGPIPE
 *   send-nosignal  send(MSG_NOSIGNAL): fails with EPIPE, exit 0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tcppair.h"

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "pipe";
    int fds[2];
    if (strncmp(mode, "pipe", 4) == 0) {
        if (pipe(fds)) return 2;
    } else if (tcp_pair(0, fds)) {
        return 2;
    } else {
        shutdown(fds[1], SHUT_WR);
    }
    close(fds[0]);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    if (strcmp(mode, "pipe-ignored") == 0) signal(SIGPIPE, SIG_IGN);
    ssize_t r;
    if (strncmp(mode, "send", 4) == 0)
        r = send(fds[1], "x", 1, strcmp(mode, "send-nosignal") == 0 ? MSG_NOSIGNAL : 0);
    else
        r = write(fds[1], "x", 1);
    printf("r=%zd errno=%s\n", r, r < 0 ? strerror(errno) : "-");
    return r < 0 && errno == EPIPE ? 0 : 1;
}
