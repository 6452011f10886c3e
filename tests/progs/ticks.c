/* ticks N MS: N chdir("/") calls, MS milliseconds apart; prints one character per call (. success,
 * x failure), then the number of failures. For fault windows (after=, for=). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10, ms = argc > 2 ? atoi(argv[2]) : 50, failed = 0;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    for (int i = 0; i < n; i++) {
        int bad = chdir("/") != 0;
        failed += bad;
        putchar(bad ? 'x' : '.');
        /* On a fixed schedule, so the calls do not drift from the run's clock. */
        t.tv_nsec += ms * 1000000L;
        while (t.tv_nsec >= 1000000000L) { t.tv_nsec -= 1000000000L; t.tv_sec++; }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, 0);
    }
    printf("\nfailed=%d\n", failed);
    return 0;
}
