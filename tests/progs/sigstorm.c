/* sigstorm THREADS N RESTART: THREADS threads each read(2) one byte from /dev/zero N times while
 * an interval timer showers the process with SIGALRM every 50 us. With RESTART=1 the handler is
 * installed with SA_RESTART (an interrupted read is restarted by the kernel); with 0 it is not
 * (an interrupted read fails with EINTR and this program does not retry it).
 * Prints "ok=<reads that returned 1> eintr=<reads that failed with EINTR> signals=<handled>".
 * A /dev/zero read never blocks in the kernel: the only wait it can be interrupted in is the
 * wait for the seccomp supervisor. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static int fd, n;
static atomic_long ok, eintr, signals;

static void on_alarm(int s) { (void)s; atomic_fetch_add(&signals, 1); }

static void *worker(void *arg)
{
    (void)arg;
    char c;
    for (int i = 0; i < n; i++) {
        ssize_t r = read(fd, &c, 1);
        if (r == 1) atomic_fetch_add(&ok, 1);
        else if (r < 0 && errno == EINTR) atomic_fetch_add(&eintr, 1);
        else abort();
    }
    return 0;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    n = argc > 2 ? atoi(argv[2]) : 1000;
    int restart = argc > 3 ? atoi(argv[3]) : 1;
    fd = open("/dev/zero", O_RDONLY);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = { { 0, 50 }, { 0, 50 } };
    setitimer(ITIMER_REAL, &it, 0);
    pthread_t th[64];
    if (threads > 64) threads = 64;
    for (int i = 0; i < threads; i++) pthread_create(&th[i], 0, worker, 0);
    for (int i = 0; i < threads; i++) pthread_join(th[i], 0);
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, 0);
    printf("ok=%ld eintr=%ld signals=%ld\n", (long)ok, (long)eintr, (long)signals);
    return 0;
}
