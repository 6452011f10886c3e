/* chdirs N: N chdir("/") calls; prints one character per call (. success, x failure) and the
 * number of failures. For probability tests: the pattern is the fault sequence. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100, failed = 0;
    for (int i = 0; i < n; i++) {
        int bad = chdir("/") != 0;
        failed += bad;
        putchar(bad ? 'x' : '.');
    }
    printf("\nfailed=%d\n", failed);
    return 0;
}
