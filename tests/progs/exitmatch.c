/* exitmatch THREADS CALLS: calls whose results tell them apart, under a signal storm and thread
 * churn, for matching exit events to notifications. Each thread makes CALLS
 * lseek(fd, OFFSET, SEEK_SET) with an offset unique to the call (the result is the offset),
 * then exits; a new thread replaces it until THREADS * 3 threads have run. Meanwhile an
 * interval timer sends SIGALRM every 200 us (handler with SA_RESTART), so notifications are
 * withdrawn and restarted; every 50th call is a nanosleep of 300 us, which the signals
 * interrupt (restarted) too. A child forks and execs /bin/true in the middle.
 * Prints "calls=N". */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fd, calls;
static volatile long next_base;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void on_alarm(int sig) { (void)sig; }

static void *worker(void *arg)
{
    long base;
    (void)arg;
    pthread_mutex_lock(&m);
    base = next_base;
    next_base += calls;
    pthread_mutex_unlock(&m);
    for (int i = 0; i < calls; i++) {
        if (lseek(fd, base + i, SEEK_SET) != base + i) {
            fprintf(stderr, "lseek returned a wrong offset\n");
            exit(2);
        }
        if (i % 50 == 0) {
            struct timespec ts = { 0, 300000 };
            nanosleep(&ts, 0);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    calls = argc > 2 ? atoi(argv[2]) : 500;
    fd = fileno(tmpfile());
    next_base = 1000000;
    struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = { { 0, 200 }, { 0, 200 } };
    setitimer(ITIMER_REAL, &it, 0);
    pthread_t t[64];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < threads; i++) pthread_create(&t[i], 0, worker, 0);
        if (round == 1) {
            pid_t c = fork();
            if (c == 0) {
                execl("/bin/true", "true", (char *)0);
                _exit(127);
            }
            waitpid(c, 0, 0);
        }
        for (int i = 0; i < threads; i++) pthread_join(t[i], 0);
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, 0);
    printf("calls=%d\n", threads * 3 * calls);
    return 0;
}
