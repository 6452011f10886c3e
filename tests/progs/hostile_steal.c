/* hostile_steal: tries to take its supervisor's seccomp listener. For its parent, and for every
 * other process in /proc that runs as its own real uid, it opens a pidfd and copies descriptors
 * 0..255 with pidfd_getfd(2), then reads where each copy points. A copy that is
 * `anon_inode:seccomp notify` would let the program answer its own trapped calls.
 * Prints "parent=<pid> parent_pidfd=<0 or -errno> parent_getfd_ok=<copies made>
 * parent_getfd_err=<-errno of the first refusal> others=<processes tried> others_getfd_ok=K
 * stolen=<notify descriptors obtained>". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int stolen;

/* Copies fds 0..255 of PID; returns how many copies were made, -errno when the pidfd failed. */
static int raid(int pid, int *first_err)
{
    int pfd = syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0) return -errno;
    int got = 0;
    *first_err = 0;
    for (int fd = 0; fd < 256; fd++) {
        int c = syscall(SYS_pidfd_getfd, pfd, fd, 0);
        if (c < 0) {
            if (errno != EBADF && !*first_err) *first_err = -errno;
            continue;
        }
        got++;
        char path[64], link[256];
        snprintf(path, sizeof path, "/proc/self/fd/%d", c);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0) {
            link[n] = 0;
            if (strstr(link, "seccomp")) {
                stolen++;
                fprintf(stderr, "hostile_steal: pid %d fd %d is %s\n", pid, fd, link);
            }
        }
        close(c);
    }
    close(pfd);
    return got;
}

static int ruid_of(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int uid = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Uid: %d", &uid) == 1) break;
    fclose(f);
    return uid;
}

int main(void)
{
    int parent = getppid(), err = 0, me = getpid();
    int got = raid(parent, &err);
    printf("parent=%d parent_pidfd=%d parent_getfd_ok=%d parent_getfd_err=%d", parent, got < 0 ? got : 0, got < 0 ? 0 : got, err);
    int others = 0, others_ok = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int pid = atoi(e->d_name);
        if (pid <= 0 || pid == me || pid == parent || ruid_of(pid) != (int)getuid()) continue;
        others++;
        int g = raid(pid, &err);
        if (g > 0) others_ok += g;
    }
    if (d) closedir(d);
    printf(" others=%d others_getfd_ok=%d stolen=%d\n", others, others_ok, stolen);
    return 0;
}
