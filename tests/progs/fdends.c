/* fdends MODE: the peer of a socket the program read through (executed reads, so borrowed by
 * interpose) sees the program's end go exactly when it goes natively. A socketpair: the program
 * keeps A, a child process ("peer", untraced calls only: it only polls) holds B. The program
 * reads from A a few times (the peer writes), then ends A by MODE:
 *   close, dup2, dup3, close_range, clonefiles (a process sharing the descriptor table closes
 *   A), clone3race (the same, the process made by a clone3 whose flags gain CLONE_FILES from
 *   another thread while the call is held: run with a delay_enter injected on clone3), lastexit (the last thread exits with exit(2)), exec (A close-on-exec; the new image
 *   waits for the peer), exit_group
 *   (from a second thread, the first blocked in a read of another socket), kill (the program
 *   is killed by SIGKILL from the peer), fork (a child inherits A; the parent closes A; the
 *   child reads on A and must still get data; the peer must not see EOF before the child
 *   closes).
 * The peer reports on stdout "eof <ms>" (time from the end to POLLHUP/EOF) or "no-eof".
 * Exit 0 when the peer saw what it should. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int sv[2], ctl[2];

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits until B sees its peer gone (EOF on read), at most `ms`. Returns the wait, or -1. */
static long wait_eof(int b, int ms)
{
    long t0 = now_ms();
    for (;;) {
        long left = ms - (now_ms() - t0);
        if (left <= 0)
            return -1;
        struct pollfd p = { .fd = b, .events = POLLIN };
        if (poll(&p, 1, left) <= 0)
            continue;
        char c[64];
        ssize_t n = recv(b, c, sizeof c, MSG_DONTWAIT);
        if (n == 0)
            return now_ms() - t0;
        if (n < 0 && errno != EAGAIN)
            return now_ms() - t0;
    }
}

static void rd(int fd, int times)
{
    char buf[4];
    for (int i = 0; i < times; i++) {
        if (read(fd, buf, 4) != 4 || memcmp(buf, "ping", 4)) {
            fprintf(stderr, "fdends: read %d on %d failed\n", i, fd);
            exit(3);
        }
    }
}

/* clone3's arguments (CLONE_ARGS_SIZE_VER0), and a thread that adds CLONE_FILES to them 100 ms
 * after the call was made. */
static struct {
    unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
} ca;

static void *flip(void *arg)
{
    (void)arg;
    usleep(100000);
    __atomic_store_n(&ca.flags, (unsigned long long)CLONE_FILES, __ATOMIC_SEQ_CST);
    return 0;
}

static void *blocked(void *arg)
{
    char c;
    read(*(int *)arg, &c, 1); /* never returns: the other end stays silent */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "sleeper")) {
        /* After the exec: the peer is this image's child. */
        int st;
        if (wait(&st) < 0)
            return 9;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 8;
    }
    if (argc != 2)
        return 2;
    const char *mode = argv[1];
    if (pipe(ctl) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) /* A above the pipe: close_range(A, A+5) */
        return 2;
    int a = sv[0], b = sv[1];
    if (!strcmp(mode, "exec"))
        fcntl(a, F_SETFD, FD_CLOEXEC);
    pid_t prog = getpid();
    pid_t peer = fork();
    if (peer == 0) {
        close(a);
        close(ctl[1]);
        for (int i = 0; i < 3; i++)
            write(b, "ping", 4);
        char go;
        if (read(ctl[0], &go, 1) != 1)
            _exit(4);
        int fork_mode = go == 'f';
        if (go == 'k')
            kill(prog, SIGKILL);
        if (fork_mode) {
            /* The parent closed its A; its child still holds A: no EOF yet, and the child
             * still reads (one more ping). */
            write(b, "ping", 4);
            long w = wait_eof(b, 300);
            if (w >= 0) {
                printf("early-eof %ld\n", w);
                fflush(stdout);
                _exit(1);
            }
            write(b, "done", 4); /* the child exits when it reads this */
        }
        long w = wait_eof(b, 2000);
        if (w < 0)
            printf("no-eof\n");
        else
            printf("eof %ld\n", w);
        fflush(stdout);
        _exit(w < 0 || w > 1000);
    }
    close(b);
    close(ctl[0]);
    rd(a, 3);
    if (!strcmp(mode, "close")) {
        close(a);
    } else if (!strcmp(mode, "dup2")) {
        int other = open("/dev/null", O_RDONLY);
        dup2(other, a);
    } else if (!strcmp(mode, "dup3")) {
        int other = open("/dev/null", O_RDONLY);
        dup3(other, a, O_CLOEXEC);
    } else if (!strcmp(mode, "close_range")) {
        syscall(SYS_close_range, a, a + 5, 0);
    } else if (!strcmp(mode, "exec")) {
        write(ctl[1], "e", 1);
        execl("/proc/self/exe", argv[0], "sleeper", (char *)0);
        return 5;
    } else if (!strcmp(mode, "exit_group")) {
        int q[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, q);
        pthread_t t;
        pthread_create(&t, 0, blocked, &q[0]);
        usleep(50000);
        write(ctl[1], "x", 1);
        syscall(SYS_exit_group, 0);
    } else if (!strcmp(mode, "kill")) {
        write(ctl[1], "k", 1);
        for (;;)
            pause();
    } else if (!strcmp(mode, "clonefiles")) {
        /* A process sharing this one's descriptor table closes A. */
        long c = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
        if (c == 0) {
            close(a);
            _exit(0);
        }
        waitpid(c, 0, 0);
    } else if (!strcmp(mode, "clone3race")) {
        ca.exit_signal = SIGCHLD;
        pthread_t t;
        pthread_create(&t, 0, flip, 0);
        long c = syscall(SYS_clone3, &ca, sizeof ca);
        if (c == 0) {
            close(a);
            _exit(0);
        }
        waitpid(c, 0, 0);
        if (fcntl(a, F_GETFD) != -1) {
            fprintf(stderr, "fdends: the clone3 child did not share the descriptor table (no delay?)\n");
            return 10;
        }
    } else if (!strcmp(mode, "lastexit")) {
        /* The last thread leaves with exit(2), not exit_group. */
        write(ctl[1], "c", 1);
        syscall(SYS_exit, 0);
    } else if (!strcmp(mode, "fork")) {
        pid_t c = fork();
        if (c == 0) {
            rd(a, 1); /* the peer's fourth ping, after the parent closed A */
            char buf[4];
            if (read(a, buf, 4) != 4 || memcmp(buf, "done", 4))
                _exit(6);
            _exit(0);
        }
        close(a);
        write(ctl[1], "f", 1);
        int st;
        waitpid(c, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "fdends: the forked child failed\n");
            return 7;
        }
    } else {
        return 2;
    }
    if (strcmp(mode, "fork"))
        write(ctl[1], "c", 1);
    int st;
    waitpid(peer, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 8;
}
