/* guards: calls after which interpose must stop executing some calls for the program
 * (tests/meta.rs).
 *
 *   guards fanotify FILE   a fanotify group of the content class asks permission for each open
 *                          of FILE; its listener thread makes a traced call (fstat) before
 *                          answering. An open made by interpose would wait for a listener that
 *                          waits for interpose.
 *   guards landlock-net    a Landlock domain forbids TCP connects; a connect to a loopback
 *                          listener must fail with EACCES as it does natively.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int group;

static void *listener(void *arg)
{
    (void)arg;
    char buf[4096];
    for (;;) {
        ssize_t n = read(group, buf, sizeof buf);
        if (n <= 0)
            return NULL;
        struct fanotify_event_metadata *m = (void *)buf;
        for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
            struct stat st;
            fstat(m->fd, &st);
            struct fanotify_response r = {.fd = m->fd, .response = FAN_ALLOW};
            write(group, &r, sizeof r);
            close(m->fd);
        }
    }
}

static int fanotify(const char *file)
{
    group = fanotify_init(FAN_CLASS_CONTENT, O_RDONLY);
    if (group < 0 || fanotify_mark(group, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, file)) {
        printf("fanotify unavailable: %s\n", strerror(errno));
        return 0;
    }
    pthread_t t;
    pthread_create(&t, NULL, listener, NULL);
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    int fd = open(file, O_RDONLY);
    char c;
    printf("open %s, read %zd\n", fd >= 0 ? "ok" : strerror(errno), fd >= 0 ? read(fd, &c, 1) : -1);
    return 0;
}

struct net_ruleset {
    unsigned long long fs, net, scoped;
};

static int landlock_net(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 1);
    getsockname(l, (struct sockaddr *)&a, &len);
    struct net_ruleset ra = {0, 1ULL << 1 /* LANDLOCK_ACCESS_NET_CONNECT_TCP */, 0};
    int rs = syscall(SYS_landlock_create_ruleset, &ra, sizeof ra, 0);
    if (rs < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_landlock_restrict_self, rs, 0)) {
        printf("landlock unavailable: %s\n", strerror(errno));
        return 0;
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(s, (struct sockaddr *)&a, sizeof a);
    printf("connect %s\n", r == 0 ? "ok" : strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 3 && strcmp(argv[1], "fanotify") == 0)
        return fanotify(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "landlock-net") == 0)
        return landlock_net();
    fprintf(stderr, "usage: guards fanotify FILE | landlock-net\n");
    return 2;
}
