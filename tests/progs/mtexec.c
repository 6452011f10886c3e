/* mtexec: four threads read from /dev/zero in a loop; one of them (not the main thread) then
 * execs this program again with "after", which reads 5 times and prints "after exec ok".
 * The kernel kills the other threads at the exec, and the exec'ing thread takes the process id. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char self[4096];

static void *reader(void *arg)
{
    int fd = open("/dev/zero", O_RDONLY);
    char b[8];
    for (;;) {
        read(fd, b, sizeof b);
        if (arg) {
            static int n;
            if (++n == 200) {
                char *argv[] = { self, "after", 0 };
                execv(self, argv);
                perror("execv");
                _exit(1);
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "after") == 0) {
        int fd = open("/dev/zero", O_RDONLY);
        char b[8];
        for (int i = 0; i < 5; i++) read(fd, b, sizeof b);
        printf("after exec ok\n");
        return 0;
    }
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    pthread_t t[4];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, reader, (void *)(long)(i == 2));
    for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
    return 1;
}
