/* hostile_sendmmsg ALLOWED_UDP DENIED_UDP N: UDP datagrams through sendmmsg(2), which carries a
 * destination per message.
 *
 * Prints `name=RESULT` (the call's return value, or -errno):
 *   denied        8 messages to the denied port (fresh unconnected socket)
 *   allowed       8 messages to the allowed port; allowed_msglen=1 when every msg_len is 8
 *   mixed         3 messages: allowed, denied, allowed
 *   connected     8 messages with msg_name NULL on a socket connected to the allowed port
 *   i386_denied   i386 sendmmsg (345, via int $0x80) of 2 messages to the denied port
 *   sc_denied     socketcall(SYS_SENDMMSG) of 2 messages to the denied port
 *   i386_allowed  i386 sendmmsg of 2 messages to the allowed port
 * then a race: N calls of 4 messages each whose destinations another thread flips between the
 * allowed and the denied port: race_tries, race_sent (messages the calls said they sent).
 * Receivers are the test's. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "i386.h"


static struct iovec iov = { .iov_base = "hostile", .iov_len = 8 };
static struct sockaddr_in to_allowed, to_denied;
static volatile struct sockaddr_in racy[4];
static atomic_int done;
static int allowed, denied;
static int lens_ok; /* every msg_len of the last send_to is 8 for a sent message, else 0 */

static struct sockaddr_in lo(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    return a;
}

static int R(long r)
{
    return r < 0 ? -errno : (int)r;
}

static int send_to(struct sockaddr_in **dests, int n, int fd)
{
    struct mmsghdr v[8];
    memset(v, 0, sizeof v);
    for (int i = 0; i < n; i++) {
        v[i].msg_hdr.msg_name = dests ? dests[i] : NULL;
        v[i].msg_hdr.msg_namelen = dests ? sizeof(struct sockaddr_in) : 0;
        v[i].msg_hdr.msg_iov = &iov;
        v[i].msg_hdr.msg_iovlen = 1;
    }
    int own = fd < 0;
    if (own) fd = socket(AF_INET, SOCK_DGRAM, 0);
    int r = R(sendmmsg(fd, v, n, 0));
    if (own) close(fd);
    lens_ok = 1;
    for (int i = 0; i < n; i++) lens_ok &= v[i].msg_len == (i < r ? 8u : 0u);
    return r;
}

static void *flipper(void *arg)
{
    (void)arg;
    unsigned n = 0;
    while (!atomic_load_explicit(&done, memory_order_relaxed)) {
        n++;
        racy[n & 3].sin_port = htons((n >> 2) & 1 ? denied : allowed);
    }
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* i386 sendmmsg of 2 messages to PORT: direct (345) or through socketcall (102, SYS_SENDMMSG). */
static int i386_send(char *low, int port, int via_socketcall)
{
    struct sockaddr_in *a = (void *)low;
    struct iovec32 *v = (void *)(low + 64);
    struct mmsghdr32 *m = (void *)(low + 128);
    uint32_t *args = (void *)(low + 256);
    char *payload = low + 320;
    memcpy(payload, "hostile", 8);
    *a = lo(port);
    v->base = (uint32_t)(uintptr_t)payload;
    v->len = 8;
    memset(m, 0, 2 * sizeof *m);
    for (int i = 0; i < 2; i++)
        m[i].hdr = (struct msghdr32){ .name = (uint32_t)(uintptr_t)a, .namelen = 16, .iov = (uint32_t)(uintptr_t)v, .iovlen = 1 };
    int fd = socket(AF_INET, SOCK_DGRAM, 0), r;
    if (via_socketcall) {
        args[0] = fd, args[1] = (uint32_t)(uintptr_t)m, args[2] = 2, args[3] = 0;
        r = sys32(102, 20, (long)(uintptr_t)args, 0, 0, 0, 0);
    } else {
        r = sys32(345, fd, (long)(uintptr_t)m, 2, 0, 0, 0);
    }
    close(fd);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 4) return 2;
    allowed = atoi(argv[1]);
    denied = atoi(argv[2]);
    int n = atoi(argv[3]);
    to_allowed = lo(allowed);
    to_denied = lo(denied);
    struct sockaddr_in *d8[8], *a8[8], *mixed[3] = { &to_allowed, &to_denied, &to_allowed };
    for (int i = 0; i < 8; i++) d8[i] = &to_denied, a8[i] = &to_allowed;
    printf("denied=%d", send_to(d8, 8, -1));
    int r = send_to(a8, 8, -1);
    printf(" allowed=%d allowed_msglen=%d", r, lens_ok);
    printf(" mixed=%d", send_to(mixed, 3, -1));
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    connect(c, (struct sockaddr *)&to_allowed, sizeof to_allowed);
    printf(" connected=%d", send_to(NULL, 8, c));

    char *low = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) return 2;
    printf(" i386_denied=%d", i386_send(low, denied, 0));
    printf(" sc_denied=%d", i386_send(low, denied, 1));
    printf(" i386_allowed=%d", i386_send(low, allowed, 0));

    struct sockaddr_in *r4[4];
    for (int i = 0; i < 4; i++) racy[i] = to_allowed, r4[i] = (struct sockaddr_in *)&racy[i];
    pthread_t f;
    pthread_create(&f, 0, flipper, 0);
    long tries = 0, sent = 0;
    double end = now() + 5;
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    for (; tries < n && now() < end; tries++) {
        r = send_to(r4, 4, u);
        if (r > 0) sent += r;
    }
    atomic_store(&done, 1);
    pthread_join(f, 0);
    printf(" race_tries=%ld race_sent=%ld done=1\n", tries, sent);
    return 0;
}
