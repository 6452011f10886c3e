/* settid: a thread (not the leader) writes "T" to /dev/null and exits; then a child process is
 * made with clone3 and set_tid = that thread's id (root, or CAP_CHECKPOINT_RESTORE), and writes
 * "C". The id comes back without a pid wrap. Prints "THREAD CHILD LEADER", or "no-set_tid" when
 * the kernel refuses the id (the test is then skipped). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int null;
static pid_t tid;

static void *thread(void *arg)
{
    (void)arg;
    tid = (pid_t)syscall(SYS_gettid);
    write(null, "T", 1);
    return 0;
}

int main(void)
{
    null = open("/dev/null", O_WRONLY);
    pthread_t t;
    pthread_create(&t, 0, thread, 0);
    pthread_join(t, 0);
    /* The thread's id is free once it is reaped (joined threads are, at their exit). */
    usleep(20000);
    struct {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size;
    } ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    pid_t want[1] = { tid };
    ca.set_tid = (uintptr_t)want;
    ca.set_tid_size = 1;
    long c = syscall(SYS_clone3, &ca, sizeof ca);
    if (c == 0) {
        write(null, "C", 1);
        _exit(0);
    }
    if (c < 0) {
        printf("no-set_tid\n");
        return 0;
    }
    waitpid(c, 0, 0);
    printf("%d %ld %d\n", tid, c, getpid());
    return 0;
}
