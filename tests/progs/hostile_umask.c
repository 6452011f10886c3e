/* hostile_umask PATH: a server that keeps its unix socket private the usual way: umask(077),
 * then bind(PATH), so that the socket file is srwx------ and no other user may connect
 * (connecting needs write permission on it). Prints "bind=R mode=0OOO done=1" (R: 0 or -errno;
 * OOO: the socket file's permission bits, -1 when it does not exist). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    umask(077);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int r = bind(s, (struct sockaddr *)&a, sizeof a) < 0 ? -errno : 0;
    struct stat st;
    int mode = stat(argv[1], &st) == 0 ? (int)(st.st_mode & 07777) : -1;
    printf("bind=%d mode=0%o done=1\n", r, mode);
    unlink(argv[1]);
    return 0;
}
