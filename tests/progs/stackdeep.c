/* stackdeep: getppid from a function three calls deep (level1 -> level2 -> level3 -> syscall),
 * then once directly from main; for -k, built with -O0 -g (and stripped, as stackdeep_stripped).
 * Prints 1. */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
__attribute__((noinline)) long level3(void) { return syscall(SYS_getppid); }
__attribute__((noinline)) long level2(void) { return level3() + 1; }
__attribute__((noinline)) long level1(void) { return level2() + 1; }
int main(void) { long r = level1(); r += getppid(); printf("%d\n", r > 0); return 0; }
