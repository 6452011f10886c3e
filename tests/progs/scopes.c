/* scopes: calls that injection scopes must tell apart. Prints one line per call:
 *   file read, socket read         (fd=socket / fd=file)
 *   connect to 127.0.0.1 and to 127.0.0.2 (dest=)
 *   open of /etc/hostname and of a path under the temporary directory argv[1] (path=)
 *   a read from a thread named "victim" and from one named "bystander" (comm=)   */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    printf("%-22s %s\n", what, r < 0 ? strerror(errno) : "ok");
    fflush(stdout);
}

static int zero;

static void *reader(void *name)
{
    prctl(PR_SET_NAME, name);
    char b[8];
    int fd = open("/dev/zero", O_RDONLY);
    long r = read(fd, b, sizeof b);
    char label[32];
    snprintf(label, sizeof label, "read in %s", (char *)name);
    show(label, r);
    close(fd);
    return 0;
}

static long connect_to(const char *ip)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    inet_pton(AF_INET, ip, &a.sin_addr);
    socklen_t len = sizeof a;
    bind(ls, (struct sockaddr *)&a, sizeof a);
    listen(ls, 1);
    getsockname(ls, (struct sockaddr *)&a, &len);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    long r = connect(c, (struct sockaddr *)&a, sizeof a);
    close(c);
    close(ls);
    return r;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char b[8];
    int f = open("/etc/hostname", O_RDONLY);
    show("file read", read(f, b, 1));
    close(f);
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[1], "abcd", 4);
    show("socket read", read(sv[0], b, 1));
    show("connect 127.0.0.1", connect_to("127.0.0.1"));
    show("connect 127.0.0.2", connect_to("127.0.0.2"));
    show("open /etc/hostname", open("/etc/hostname", O_RDONLY));
    char path[4096];
    snprintf(path, sizeof path, "%s/inside", dir);
    show("open under the dir", open(path, O_RDONLY | O_CREAT, 0600));
    pthread_t t;
    pthread_create(&t, 0, reader, "victim");
    pthread_join(t, 0);
    pthread_create(&t, 0, reader, "bystander");
    pthread_join(t, 0);
    (void)zero;
    return 0;
}
