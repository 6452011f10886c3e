/* forktree DEPTH K: a binary tree of processes DEPTH levels deep; every process calls
 * getppid() K times, waits for its children and exits 0. 2^DEPTH - 1 processes in all. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int depth = argc > 1 ? atoi(argv[1]) : 3;
    int k = argc > 2 ? atoi(argv[2]) : 5;
    for (int level = 1; level < depth; level++) {
        pid_t a = fork();
        if (a == 0) continue;           /* left child goes on down */
        pid_t b = fork();
        if (b == 0) continue;           /* right child goes on down */
        for (int i = 0; i < k; i++) getppid();
        int st, bad = 0;
        while (wait(&st) > 0) bad |= !WIFEXITED(st) || WEXITSTATUS(st);
        _exit(bad);
    }
    for (int i = 0; i < k; i++) getppid();
    _exit(0);
}
