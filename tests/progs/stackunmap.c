/* stackunmap: getppid made with the stack pointer in memory the program keeps rewriting and
 * unmapping, for -k: the syscall instruction does not touch the stack, so the program runs on,
 * while the unwinder finds garbage (frame records chained up the region, return addresses into
 * code), an unmapped region, or an address that was never mapped. One thread calls, another
 * rewrites and unmaps the region all the while. Prints "ok". */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define REGION (64 * 1024)
static char *region;
static volatile int done;
int main(void);

static long getppid_on(uintptr_t sp)
{
    long ret;
    __asm__ volatile("mov %%rsp, %%r12\n\t"
                     "mov %2, %%rsp\n\t"
                     "syscall\n\t"
                     "mov %%r12, %%rsp\n\t"
                     : "=a"(ret)
                     : "a"((long)SYS_getppid), "r"(sp)
                     : "rcx", "r11", "r12", "memory");
    return ret;
}

static void fill(int round)
{
    uintptr_t *w = (uintptr_t *)region;
    size_t n = REGION / sizeof *w;
    for (size_t i = 0; i + 1 < n; i += 2) {
        uintptr_t self = (uintptr_t)&w[i];
        /* frame records chained up the region, or pointing back down (a cycle), with return
         * addresses into main and into getppid_on */
        w[i] = round % 2 ? self + 16 : (uintptr_t)region + 64;
        w[i + 1] = round % 3 ? (uintptr_t)main + 20 : (uintptr_t)getppid_on + 8;
    }
}

static void *churn(void *arg)
{
    (void)arg;
    for (int round = 0; !done; round++) {
        munmap(region, REGION);
        usleep(50);
        if (mmap(region, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
            break;
        fill(round);
        usleep(50);
    }
    return 0;
}

int main(void)
{
    region = mmap(0, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fill(1);
    /* never mapped, the last words of the region, the middle of it */
    uintptr_t sps[] = {16, (uintptr_t)region + REGION - 8, (uintptr_t)region + REGION / 2};
    for (int i = 0; i < 3; i++) getppid_on(sps[i]);
    pthread_t t;
    pthread_create(&t, 0, churn, 0);
    for (int i = 0; i < 3000; i++) getppid_on(sps[1 + i % 2] - (i % 64) * 8);
    done = 1;
    pthread_join(t, 0);
    puts("ok");
    return 0;
}
