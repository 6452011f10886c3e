/* delays: thread "slow" makes one chdir (which the test delays by seconds); meanwhile thread
 * "fast" makes 200 getppid calls (also traced). Prints whether "fast" finished all of its calls
 * before "slow"'s chdir returned, and how long the chdir took in milliseconds. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static atomic_int fast_done, slow_started;
static long slow_ms;

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *slow(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "slow");
    atomic_store(&slow_started, 1);
    long t0 = now_ms();
    chdir("/");
    slow_ms = now_ms() - t0;
    return 0;
}

static void *fast(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "fast");
    while (!atomic_load(&slow_started)) sched_yield();
    usleep(20000); /* let "slow" enter its chdir */
    for (int i = 0; i < 200; i++) getppid();
    atomic_store(&fast_done, 1);
    return 0;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, 0, slow, 0);
    pthread_create(&b, 0, fast, 0);
    pthread_join(b, 0);
    int fast_first = atomic_load(&fast_done) && slow_ms == 0;
    pthread_join(a, 0);
    printf("fast_done_before_slow_returned=%d slow_ms=%ld\n", fast_first, slow_ms);
    return 0;
}
