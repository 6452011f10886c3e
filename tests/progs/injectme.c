/* injectme N: N chdir("/") calls and N reads of /dev/null, first in a child process, then
 * (after the child has ended) in the parent; every result and errno is printed, and a
 * SIGUSR1 handler says when it runs. The output is the same under strace -e inject= and
 * interpose run -e inject= for the same expression. Exits with the number of failed chdirs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_usr1(int s) { (void)s; write(1, "  SIGUSR1 handled\n", 18); }

static int run(const char *who, int n)
{
    int failed = 0, fd = open("/dev/null", O_RDONLY);
    char b[4];
    for (int i = 1; i <= n; i++) {
        long r = chdir("/");
        printf("%s chdir #%d = %ld %s\n", who, i, r, r < 0 ? strerror(errno) : "");
        fflush(stdout);
        failed += r != 0;
        r = read(fd, b, sizeof b);
        printf("%s read #%d = %ld %s\n", who, i, r, r < 0 ? strerror(errno) : "");
        fflush(stdout);
    }
    close(fd);
    return failed;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 6;
    signal(SIGUSR1, on_usr1);
    pid_t pid = fork();
    if (pid == 0) _exit(run("child", n));
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st)) printf("child killed by signal %d\n", WTERMSIG(st));
    else printf("child exited %d\n", WEXITSTATUS(st));
    fflush(stdout);
    return run("parent", n);
}
