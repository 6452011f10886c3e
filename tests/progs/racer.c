/* racer ALLOWED_PORT DENIED_PORT N BLOCKING: one thread connects N times to 127.0.0.1 through
 * one shared sockaddr whose port another thread keeps flipping between ALLOWED_PORT and
 * DENIED_PORT. Both ports have listeners in this process, counting what reaches them.
 * Prints "ok=<connects that succeeded> refused=<that failed> reached_denied=<connections the
 * denied port's listener accepted>". Under a deny rule that allows only ALLOWED_PORT,
 * reached_denied must be 0 however the flipping interleaves with the check. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile struct sockaddr_in target;
static atomic_int done;
static atomic_long accepted[2];
static int listeners[2];
static int ports[2];

static int listen_on(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 512)) { perror("listen"); exit(2); }
    return s;
}

static void *acceptor(void *arg)
{
    long i = (long)arg;
    while (!atomic_load(&done)) {
        struct pollfd p = { .fd = listeners[i], .events = POLLIN };
        if (poll(&p, 1, 20) > 0) {
            int c = accept(listeners[i], 0, 0);
            if (c >= 0) { atomic_fetch_add(&accepted[i], 1); close(c); }
        }
    }
    return 0;
}

static void *flipper(void *arg)
{
    (void)arg;
    unsigned n = 0;
    while (!atomic_load(&done)) target.sin_port = htons(ports[++n & 1]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) return 2;
    ports[0] = atoi(argv[1]);
    ports[1] = atoi(argv[2]);
    int n = atoi(argv[3]), blocking = atoi(argv[4]);
    listeners[0] = listen_on(ports[0]);
    listeners[1] = listen_on(ports[1]);
    target.sin_family = AF_INET;
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    target.sin_port = htons(ports[0]);
    pthread_t a0, a1, f;
    pthread_create(&a0, 0, acceptor, (void *)0);
    pthread_create(&a1, 0, acceptor, (void *)1);
    pthread_create(&f, 0, flipper, 0);
    long ok = 0, refused = 0;
    for (int i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
        int r = connect(c, (struct sockaddr *)&target, sizeof target);
        if (r < 0 && errno == EINPROGRESS) {
            struct pollfd p = { .fd = c, .events = POLLOUT };
            poll(&p, 1, 5000);
            int err = 0;
            socklen_t el = sizeof err;
            getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
            r = err ? -1 : 0;
            errno = err;
        }
        if (r == 0) ok++;
        else refused++;
        close(c);
    }
    usleep(100000); /* let the acceptors drain their queues */
    atomic_store(&done, 1);
    pthread_join(f, 0);
    pthread_join(a0, 0);
    pthread_join(a1, 0);
    printf("ok=%ld refused=%ld reached_allowed=%ld reached_denied=%ld\n", ok, refused, atomic_load(&accepted[0]), atomic_load(&accepted[1]));
    return 0;
}
