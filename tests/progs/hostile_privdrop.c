/* hostile_privdrop MODE PORT UNIX_PATH: started as root, gives up privileges (MODE says how),
 * then tries what only its former self could do:
 *   tcp_bind      bind a TCP socket to 127.0.0.1:PORT (PORT < 1024 needs CAP_NET_BIND_SERVICE
 *                 in the network namespace's user namespace)
 *   udp_bind      the same with UDP
 *   unix_connect  connect to the AF_UNIX socket UNIX_PATH (in a directory only root may enter)
 * MODE:
 *   drop    setgroups(0), setresgid(65534 x3), setresuid(65534 x3) (glibc: every thread)
 *   thread  the same with the raw system calls, in a second thread only, which then makes the
 *           calls (credentials are per thread in the kernel; the main thread stays root)
 *   caps    stays uid 0 but clears CAP_NET_BIND_SERVICE, CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
 *           from its effective set
 *   userns  drops to 65534 as `drop`, then enters a new user namespace, where it holds
 *           CAP_NET_BIND_SERVICE, CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, in that namespace
 *           only (as in any root's sets, so that a supervisor could take them)
 * Prints "mode=M uid=.. gid=.. tcp_bind=R udp_bind=R unix_connect=R", R being 0 or -errno, or
 * "mode=M unavailable=-errno" when the mode cannot be set up here. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static int port;
static const char *path;

static int try_bind(int type)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int r = bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ? -errno : 0;
    close(fd);
    return r;
}

static void *attempts(void *arg)
{
    (void)arg;
    printf(" uid=%d gid=%d", (int)syscall(SYS_getuid), (int)syscall(SYS_getgid));
    printf(" tcp_bind=%d", try_bind(SOCK_STREAM));
    printf(" udp_bind=%d", try_bind(SOCK_DGRAM));
    struct sockaddr_un u = { .sun_family = AF_UNIX };
    strncpy(u.sun_path, path, sizeof u.sun_path - 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    printf(" unix_connect=%d done=1\n", connect(fd, (struct sockaddr *)&u, sizeof u) < 0 ? -errno : 0);
    close(fd);
    return 0;
}

static void *thread_drop(void *arg)
{
    (void)arg;
    if (syscall(SYS_setgroups, 0, NULL) || syscall(SYS_setresgid, 65534, 65534, 65534) ||
        syscall(SYS_setresuid, 65534, 65534, 65534)) {
        printf(" unavailable=%d\n", -errno);
        return 0;
    }
    return attempts(0);
}

static int set_caps(unsigned eff, unsigned prm)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2] = { { eff, prm, 0 }, { 0, 0, 0 } };
    return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static int get_caps(unsigned *eff, unsigned *prm)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d)) return -errno;
    *eff = d[0].effective, *prm = d[0].permitted;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) return 2;
    const char *mode = argv[1];
    port = atoi(argv[2]);
    path = argv[3];
    printf("mode=%s", mode);
    const unsigned three = 1u << CAP_NET_BIND_SERVICE | 1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH;
    if (!strcmp(mode, "thread")) {
        pthread_t t;
        pthread_create(&t, 0, thread_drop, 0);
        pthread_join(t, 0);
        return 0;
    }
    if (!strcmp(mode, "drop") || !strcmp(mode, "userns")) {
        if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) {
            printf(" unavailable=%d\n", -errno);
            return 0;
        }
    }
    if (!strcmp(mode, "userns")) {
        if (unshare(CLONE_NEWUSER)) {
            printf(" unavailable=%d\n", -errno);
            return 0;
        }
        int r = set_caps(three, three);
        if (r) {
            printf(" unavailable=%d\n", r);
            return 0;
        }
    } else if (!strcmp(mode, "caps")) {
        unsigned eff = 0, prm = 0;
        int r = get_caps(&eff, &prm);
        if (!r) r = set_caps(eff & ~three, prm);
        if (r) {
            printf(" unavailable=%d\n", r);
            return 0;
        }
    } else if (strcmp(mode, "drop")) {
        return 2;
    }
    attempts(0);
    return 0;
}
