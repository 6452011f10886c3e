/* int80: calls getpid through the i386 ABI (int $0x80, number 20) and through the native one.
 * Prints both results, which must be equal.
 * int80 variants: the i386 calls that stand for native ones under another name or number:
 * socketcall(SYS_CONNECT), setresuid32, stat64, ipc(SHMGET) with a version bit, and the
 * segment's removal through ipc(SHMCTL). */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static long i386_call(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

static int variants(void)
{
    /* i386 pointers are 32 bits: the arguments live below 4 GiB. */
    char *low = mmap((void *)0x10000000, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (low == MAP_FAILED)
        return 1;
    unsigned *args = (unsigned *)low;
    unsigned short *sin = (unsigned short *)(low + 256);
    sin[0] = 2; /* AF_INET, port 0, 0.0.0.0 */
    args[0] = (unsigned)-1;
    args[1] = (unsigned)(unsigned long)sin;
    args[2] = 16;
    printf("socketcall connect = %ld\n", i386_call(102, 3, (long)args, 0));
    printf("setresuid32 = %ld\n", i386_call(208, -1, -1, -1));
    strcpy(low + 512, "/");
    printf("stat64 = %ld\n", i386_call(195, (long)(low + 512), (long)(low + 1024), 0));
    long id = i386_call(117, 23 | 1L << 16, 0 /* IPC_PRIVATE */, 4096);
    printf("ipc shmget = %s\n", id >= 0 ? "ok" : "failed");
    if (id >= 0)
        i386_call(117, 24, id, 0 /* IPC_RMID */);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "variants") == 0)
        return variants();
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
    printf("i386=%ld native=%ld\n", r, (long)getpid());
    return r == getpid() ? 0 : 1;
}
