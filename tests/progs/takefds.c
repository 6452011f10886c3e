/* takefds: what a hostile program would try first: take descriptors from its parent (interpose)
 * and from interpose's guardian with pidfd_getfd(2), descriptors 0..255 of each. Prints
 * "parent_taken=N parent_errno=E guard=G guard_taken=N guard_errno=E": how many it took and the
 * last error other than EBADF (0 if none); G is 1 when it found the guardian (a child of its
 * parent named interpose-guard). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int take(pid_t pid, int *err)
{
    *err = 0;
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0) {
        *err = errno;
        return 0;
    }
    int taken = 0;
    for (int fd = 0; fd < 256; fd++) {
        int r = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
        if (r >= 0) {
            taken++;
            close(r);
        } else if (errno != EBADF) {
            *err = errno;
        }
    }
    close(pfd);
    return taken;
}

/* A process whose parent is `ppid` and whose name is `comm`, or 0. */
static pid_t find_child(pid_t ppid, const char *comm)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    pid_t found = 0;
    while (!found && (e = readdir(d))) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        /* pid (comm) state ppid ... ; comm may hold spaces and parentheses: use the last ')'. */
        char *open = strchr(buf, '('), *close_ = strrchr(buf, ')');
        if (!open || !close_)
            continue;
        *close_ = 0;
        int pp = 0;
        char state;
        if (sscanf(close_ + 1, " %c %d", &state, &pp) == 2 && pp == ppid && strcmp(open + 1, comm) == 0)
            found = atoi(e->d_name);
    }
    closedir(d);
    return found;
}

int main(void)
{
    pid_t parent = getppid();
    int perr, gerr = 0, gtaken = 0;
    int ptaken = take(parent, &perr);
    pid_t guard = find_child(parent, "interpose-guard");
    if (guard)
        gtaken = take(guard, &gerr);
    printf("parent_taken=%d parent_errno=%d guard=%d guard_taken=%d guard_errno=%d\n", ptaken, perr, guard != 0, gtaken,
           gerr);
    return 0;
}
