/* int80: calls getpid through the i386 ABI (int $0x80, number 20) and through the native one.
 * Prints both results, which must be equal. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
    printf("i386=%ld native=%ld\n", r, (long)getpid());
    return r == getpid() ? 0 : 1;
}
