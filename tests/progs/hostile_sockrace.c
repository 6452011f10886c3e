/* hostile_sockrace MODE ALLOWED_UDP DENIED_UDP N: races the argument block of the i386
 * socketcall(2) multiplexer, which lives in memory (a supervisor that copies it, decides on
 * the copy and then answers "continue" lets the kernel read it again):
 *   sendto  socketcall(SYS_SENDTO) on a UDP socket connected to ALLOWED_UDP; another thread
 *           flips the block's address pointer between NULL (a send to the connected peer, which
 *           needs no judging) and &{127.0.0.1:DENIED_UDP}
 *   socket  socketcall(SYS_SOCKET) whose type another thread flips between SOCK_DGRAM and
 *           SOCK_RAW (protocol IPPROTO_UDP); a raw socket obtained sends one datagram (UDP header
 *           and payload, to DENIED_UDP) with sendto to 127.0.0.1
 * N tries, at most 5 seconds.
 * Prints "tries=T ok=<sends that returned 8> raw_sockets=<raw sockets obtained>
 * raw_sent=<raw datagrams sent>". Receivers are the test's. */
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

static volatile uint32_t *args;
static atomic_int done;
static int mode_socket;
static uint32_t denied_addr;

static void *flipper(void *arg)
{
    (void)arg;
    unsigned n = 0;
    while (!atomic_load_explicit(&done, memory_order_relaxed)) {
        n++;
        if (mode_socket) args[1] = n & 1 ? SOCK_RAW : SOCK_DGRAM;
        else args[4] = n & 1 ? denied_addr : 0;
    }
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 5) return 2;
    mode_socket = !strcmp(argv[1], "socket");
    int allowed = atoi(argv[2]), denied = atoi(argv[3]), n = atoi(argv[4]);
    char *low = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) return 2;
    struct sockaddr_in *d = (void *)low;
    *d = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(denied), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    denied_addr = (uint32_t)(uintptr_t)d;
    char *payload = low + 64;
    memcpy(payload, "hostile", 8);
    args = (void *)(low + 128);

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(allowed), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (!mode_socket && connect(u, (struct sockaddr *)&a, sizeof a)) { perror("connect"); return 2; }
    if (mode_socket) {
        args[0] = AF_INET, args[1] = SOCK_DGRAM, args[2] = IPPROTO_UDP;
    } else {
        args[0] = u, args[1] = (uint32_t)(uintptr_t)payload, args[2] = 8, args[3] = 0, args[4] = 0, args[5] = 16;
    }
    pthread_t f;
    pthread_create(&f, 0, flipper, 0);
    long tries = 0, ok = 0, raw = 0, raw_sent = 0;
    double end = now() + 5;
    for (; tries < n && now() < end; tries++) {
        if (!mode_socket) {
            if (sys32(102, 11, (long)(uintptr_t)args, 0, 0, 0, 0) == 8) ok++;
            continue;
        }
        int s = sys32(102, 1, (long)(uintptr_t)args, 0, 0, 0, 0);
        if (s < 0) continue;
        int type = 0;
        socklen_t tl = sizeof type;
        getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &tl);
        if (type == SOCK_RAW) {
            raw++;
            /* A UDP header then the payload; the kernel adds the IP header. */
            unsigned char dgram[16] = { 0 };
            uint16_t sport = htons(9), dport = htons(denied), len = htons(16);
            memcpy(dgram, &sport, 2), memcpy(dgram + 2, &dport, 2), memcpy(dgram + 4, &len, 2);
            memcpy(dgram + 8, "hostile", 8);
            struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
            if (sendto(s, dgram, sizeof dgram, 0, (struct sockaddr *)&to, sizeof to) == sizeof dgram) raw_sent++;
        }
        close(s);
    }
    atomic_store(&done, 1);
    pthread_join(f, 0);
    printf("tries=%ld ok=%ld raw_sockets=%ld raw_sent=%ld\n", tries, ok, raw, raw_sent);
    return 0;
}
