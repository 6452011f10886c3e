/* loopback-demo: a small multi-threaded loopback service and its clients, in one process.
 *
 * The server runs an event loop the way Go's netpoller does: accepted sockets are non-blocking,
 * and a read that finds no data fails with EAGAIN before the loop waits in poll(2). Client
 * threads connect, send requests and read answers; every answer updates a counter behind one
 * mutex that all threads contend on (futex). The threads are named "server" and "client"
 * (for injection scopes). Run it under interpose to see the picture:
 *
 *     interpose run -c -- loopback-demo
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENTS 4
#define REQUESTS 250
#define MAXFD 64

static struct sockaddr_in addr;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long answered;
static volatile unsigned long checksum;

static void *client(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "client");
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr)) { perror("connect"); exit(1); }
    char req[32], resp[64];
    for (int i = 0; i < REQUESTS; i++) {
        int n = snprintf(req, sizeof req, "GET %d\n", i);
        if (write(s, req, n) != n) { perror("write"); exit(1); }
        ssize_t got = read(s, resp, sizeof resp);
        if (got <= 0) { perror("read"); exit(1); }
        pthread_mutex_lock(&lock);   /* a critical section long enough for the others to queue */
        answered++;
        for (int k = 0; k < 20000; k++) checksum = checksum * 31 + resp[k % got];
        pthread_mutex_unlock(&lock);
    }
    close(s);
    return 0;
}

static void *server(void *arg)
{
    prctl(PR_SET_NAME, "server");
    int ls = *(int *)arg, open_conns = 0, served = 0;
    struct pollfd fds[MAXFD] = { { .fd = ls, .events = POLLIN } };
    int nfds = 1;
    while (served < CLIENTS) {
        poll(fds, nfds, -1);
        if (fds[0].revents & POLLIN) {
            int c = accept4(ls, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c >= 0 && nfds < MAXFD) { fds[nfds++] = (struct pollfd){ .fd = c, .events = POLLIN }; open_conns++; }
        }
        for (int i = 1; i < nfds; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buf[256];
            for (;;) {                       /* drain until the socket says EAGAIN */
                ssize_t n = read(fds[i].fd, buf, sizeof buf);
                if (n > 0) {
                    char out[64];
                    int m = snprintf(out, sizeof out, "OK %zd\n", n);
                    write(fds[i].fd, out, m);
                    continue;
                }
                if (n < 0 && errno == EAGAIN) break;
                close(fds[i].fd);            /* EOF: the client is done */
                fds[i].fd = -1;
                served++;
                break;
            }
        }
    }
    (void)open_conns;
    return 0;
}

int main(void)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    if (bind(ls, (struct sockaddr *)&addr, sizeof addr) || listen(ls, 16) ||
        getsockname(ls, (struct sockaddr *)&addr, &len)) { perror("listen"); return 1; }
    pthread_t srv, cl[CLIENTS];
    pthread_create(&srv, 0, server, &ls);
    for (int i = 0; i < CLIENTS; i++) pthread_create(&cl[i], 0, client, 0);
    for (int i = 0; i < CLIENTS; i++) pthread_join(cl[i], 0);
    pthread_join(srv, 0);
    printf("loopback-demo: %d clients x %d requests on 127.0.0.1:%d, %ld answers\n",
           CLIENTS, REQUESTS, ntohs(addr.sin_port), answered);
    return answered == CLIENTS * REQUESTS ? 0 : 1;
}
