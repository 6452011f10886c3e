/* hostile_orphan OUT PORT: a program running as the same user as interpose kills interpose and
 * its guardian (interpose-guard, found in /proc), so that nothing is left to stop and kill it.
 * The launched process forks a child and waits; the child sends SIGKILL to the guardian, then
 * to interpose (its grandparent), waits a second, and tries what it can: a TCP connect to
 * 127.0.0.1:PORT, and a write to OUT. It writes "launched=P child=C guard=G kill_guard=R
 * kill_interpose=R socket=R connect=R alive=1" to OUT (R: 0 or -errno), then stays alive for
 * 5 more seconds before exiting. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The parent of PID, and its name in COMM (when not NULL). */
static int parent_of(int pid, char *comm, size_t size)
{
    char p[64], b[512];
    snprintf(p, sizeof p, "/proc/%d/stat", pid);
    int fd = open(p, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0) return -1;
    b[n] = 0;
    char *open_ = strchr(b, '('), *close_ = strrchr(b, ')');
    if (!open_ || !close_) return -1;
    if (comm) snprintf(comm, size, "%.*s", (int)(close_ - open_ - 1), open_ + 1);
    return atoi(close_ + 4);
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    int launched = getpid(), interpose = getppid();
    pid_t child = fork();
    if (child) {
        waitpid(child, 0, 0);
        return 0;
    }
    /* The guardian: interpose-guard, a child of interpose. */
    int guard = -1;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        int pid = atoi(e->d_name);
        char comm[64];
        if (pid > 0 && parent_of(pid, comm, sizeof comm) == interpose && !strcmp(comm, "interpose-guard")) guard = pid;
    }
    int kg = guard > 0 ? (kill(guard, SIGKILL) ? -errno : 0) : -ESRCH;
    int ki = kill(interpose, SIGKILL) ? -errno : 0;
    sleep(1);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int rs = s < 0 ? -errno : 0;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int rc = connect(s, (struct sockaddr *)&a, sizeof a) ? -errno : 0;
    char out[256];
    int n = snprintf(out, sizeof out, "launched=%d child=%d guard=%d kill_guard=%d kill_interpose=%d socket=%d connect=%d alive=1\n",
                     launched, (int)getpid(), guard, kg, ki, rs, rc);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0 && write(fd, out, n) == n) close(fd);
    sleep(5);
    return 0;
}
