/* offsets FILE: reads, preads, writes and pwrites a regular file of at least 200 bytes and
 * checks after each call that the file offset is where the kernel puts it (read and write
 * move it; pread and pwrite do not) and that the bytes are right. Exit 0 when all hold. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond) do { if (!(cond)) { printf("FAILED at line %d: %s\n", __LINE__, #cond); return 1; } } while (0)

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    int fd = open(argv[1], O_RDWR);
    CHECK(fd >= 0);
    char a[16], b[16], c[16];
    CHECK(read(fd, a, 10) == 10);
    CHECK(lseek(fd, 0, SEEK_CUR) == 10);
    CHECK(pread(fd, b, 10, 100) == 10);
    CHECK(lseek(fd, 0, SEEK_CUR) == 10);
    CHECK(read(fd, c, 5) == 5);
    CHECK(lseek(fd, 0, SEEK_CUR) == 15);
    CHECK(memcmp(a, "0123456789", 10) == 0 && memcmp(c, "abcde", 5) == 0);
    CHECK(memcmp(b, "ZYXWVUTSRQ", 10) == 0);
    CHECK(write(fd, "+++", 3) == 3);
    CHECK(lseek(fd, 0, SEEK_CUR) == 18);
    CHECK(pwrite(fd, "***", 3, 150) == 3);
    CHECK(lseek(fd, 0, SEEK_CUR) == 18);
    CHECK(pread(fd, c, 3, 150) == 3 && memcmp(c, "***", 3) == 0);
    CHECK(pread(fd, c, 3, 15) == 3 && memcmp(c, "+++", 3) == 0);
    lseek(fd, 0, SEEK_END);
    CHECK(read(fd, a, 10) == 0);
    printf("offsets ok\n");
    return 0;
}
