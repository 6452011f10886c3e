/* hostile_dup2 N: the descriptor a call names is looked up again by the kernel when the call is
 * handed back to it, and another thread may have pointed that number at another socket with
 * dup2 since the decision. Each try makes two TCP sockets: B, bound to 127.0.0.1:0 (which the
 * test's policy allows), and U, unbound; a second thread keeps dup2-ing B and U onto descriptor
 * 100 while the first calls listen(100). A listen on U binds it to 0.0.0.0 and a port of the
 * kernel's: a bind to any address, which the policy refuses.
 * Stops after N tries or 5 seconds. Prints "tries=T listened=L leaked=K": L tries where B ended
 * up listening, K where U did (and got a port). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOT 100

static atomic_int b_fd = -1, u_fd = -1, done;
static atomic_uint flips;

static void *flipper(void *arg)
{
    (void)arg;
    unsigned n = 0;
    while (!atomic_load(&done)) {
        int b = atomic_load(&b_fd), u = atomic_load(&u_fd);
        if (b >= 0 && u >= 0 && dup2(++n & 1 ? u : b, SLOT) == SLOT) atomic_fetch_add(&flips, 1);
    }
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int listening(int fd)
{
    int v = 0;
    socklen_t l = sizeof v;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == 0 && v;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    int n = atoi(argv[1]);
    pthread_t t;
    pthread_create(&t, 0, flipper, 0);
    long tries = 0, listened = 0, leaked = 0;
    double end = now() + 5;
    for (; tries < n && now() < end; tries++) {
        int b = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (bind(b, (struct sockaddr *)&a, sizeof a)) {
            perror("bind to 127.0.0.1:0");
            return 2;
        }
        dup2(b, SLOT);
        atomic_store(&b_fd, b);
        atomic_store(&u_fd, u);
        /* Let the flipper get going, so that natively both sockets get their turn. */
        unsigned f0 = atomic_load(&flips);
        for (int spin = 0; spin < 1000000 && atomic_load(&flips) < f0 + 3; spin++) {}
        listen(SLOT, 1);
        atomic_store(&b_fd, -1);
        atomic_store(&u_fd, -1);
        listened += listening(b);
        leaked += listening(u);
        close(b);
        close(u);
    }
    atomic_store(&done, 1);
    pthread_join(t, 0);
    printf("tries=%ld listened=%ld leaked=%ld\n", tries, listened, leaked);
    return 0;
}
