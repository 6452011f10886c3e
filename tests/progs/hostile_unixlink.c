/* hostile_unixlink DIR: an allowed unix socket path is a name, and a program that may write to
 * its directory can put another socket under it without a symbolic link: a hard link
 * (link(DIR/denied.sock, DIR/app.sock)), or a rename (rename(DIR/denied2.sock, DIR/app2.sock)).
 * The test listens on DIR/denied.sock and DIR/denied2.sock and allows only DIR/app.sock and
 * DIR/app2.sock. Prints "link=R link_connect=R link_peer=NAME rename=R rename_connect=R
 * rename_peer=NAME done=1" (R: 0 or -errno; NAME: the basename getpeername reports, "-" when
 * not connected). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void attempt(const char *what, int made, const char *dir, const char *name)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX }, p = { 0 };
    snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", dir, name);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int r = connect(s, (struct sockaddr *)&a, sizeof a) ? -errno : 0;
    socklen_t l = sizeof p;
    const char *peer = "-";
    if (r == 0 && getpeername(s, (struct sockaddr *)&p, &l) == 0 && l > sizeof(sa_family_t)) {
        const char *slash = strrchr(p.sun_path, '/');
        peer = slash ? slash + 1 : p.sun_path;
    }
    printf("%s=%d %s_connect=%d %s_peer=%s ", what, made, what, r, what, peer);
    close(s);
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    char from[256], to[256];
    snprintf(from, sizeof from, "%s/denied.sock", argv[1]);
    snprintf(to, sizeof to, "%s/app.sock", argv[1]);
    attempt("link", link(from, to) ? -errno : 0, argv[1], "app.sock");
    snprintf(from, sizeof from, "%s/denied2.sock", argv[1]);
    snprintf(to, sizeof to, "%s/app2.sock", argv[1]);
    attempt("rename", rename(from, to) ? -errno : 0, argv[1], "app2.sock");
    printf("done=1\n");
    return 0;
}
