/* sleeper: forks a child; both print their pids ("parent=P child=C") and sleep 30 s (in
 * nanosleep, made in a loop so that a trapped call happens now and then). For the tests that
 * kill or signal interpose and check what happens to the program. */
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    pid_t c = fork();
    if (c == 0) {
        for (int i = 0; i < 300; i++) {
            struct timespec t = { 0, 100000000 };
            nanosleep(&t, 0);
            getppid();
        }
        _exit(0);
    }
    printf("parent=%d child=%d\n", getpid(), c);
    fflush(stdout);
    for (int i = 0; i < 300; i++) {
        struct timespec t = { 0, 100000000 };
        nanosleep(&t, 0);
        getppid();
    }
    return 0;
}
