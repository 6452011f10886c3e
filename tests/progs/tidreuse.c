/* tidreuse: a thread makes a traced call (getppid) and exits; then children are forked until one
 * is given the thread's id as its pid (after a pid wrap: pid_max is 32768 on small machines),
 * and that child makes the same call. Under interpose, the child's call must be logged under the
 * child's pid, not under the process whose thread had the id before.
 * Prints "reused TID PARENT" or "not-reused" (bounded: at most 100,000 forks and 60 s). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t tid;

static void *thread(void *arg)
{
    (void)arg;
    tid = (pid_t)syscall(SYS_gettid);
    syscall(SYS_getppid);
    return 0;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, 0, thread, 0);
    pthread_join(t, 0);
    time_t start = time(0);
    for (int i = 0; i < 100000 && time(0) - start < 60; i++) {
        pid_t c = fork();
        if (c < 0)
            return 2;
        if (c == 0) {
            if (getpid() == tid)
                syscall(SYS_getppid);
            _exit(0);
        }
        waitpid(c, 0, 0);
        if (c == tid) {
            printf("reused %d %d\n", tid, getpid());
            return 0;
        }
    }
    printf("not-reused\n");
    return 0;
}
