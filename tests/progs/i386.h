/* sys32: a system call through the i386 ABI (`int $0x80`) from a 64-bit program, for the
 * hostile tests: arguments in ebx, ecx, edx, esi, edi, ebp. The red zone is stepped over before
 * rbp is saved; int $0x80 clobbers r8-r11. Pointers passed must be below 4 GiB (MAP_32BIT). */
#include <stdint.h>

/* The compat (32-bit) layouts of struct msghdr, mmsghdr and iovec. */
struct msghdr32 {
    uint32_t name;
    int32_t namelen;
    uint32_t iov;
    uint32_t iovlen;
    uint32_t control;
    uint32_t controllen;
    uint32_t flags;
};
struct mmsghdr32 {
    struct msghdr32 hdr;
    uint32_t len;
};
struct iovec32 {
    uint32_t base;
    uint32_t len;
};

static int sys32(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    long ret;
    __asm__ volatile("sub $128, %%rsp\n\t"
                     "push %%rbp\n\t"
                     "mov %[a6], %%rbp\n\t"
                     "int $0x80\n\t"
                     "pop %%rbp\n\t"
                     "add $128, %%rsp\n\t"
                     : "=a"(ret)
                     : "a"(nr), "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5), [a6] "r"(a6)
                     : "memory", "cc", "r8", "r9", "r10", "r11");
    return (int)ret;
}
