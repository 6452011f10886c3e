/* sysloop SYSCALL N: makes N raw syscalls (getppid, getuid or getpid) after a warm-up and
 * prints the mean cost in nanoseconds per call, measured in-process (clock_gettime is vDSO:
 * it is never trapped). Under a filter that selects the syscall, this is the cost of a trapped
 * call; with a filter that selects another syscall, of an untraced one. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "getppid";
    long n = argc > 2 ? atol(argv[2]) : 100000;
    long nr = strcmp(name, "getppid") == 0 ? SYS_getppid : strcmp(name, "getpid") == 0 ? SYS_getpid : SYS_getuid;
    for (long i = 0; i < n / 10; i++) syscall(nr);
    long long t = now();
    for (long i = 0; i < n; i++) syscall(nr);
    printf("%.1f\n", (double)(now() - t) / n);
    return 0;
}
