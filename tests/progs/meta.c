/* meta: metadata calls whose results interpose computes for the program (stat family, statx,
 * statfs, readlink, access, getcwd, getdents64, lseek, getsockname, getsockopt), printed in a
 * form that is the same in every run, so that a run under interpose can be compared with a
 * native one byte for byte (tests/meta.rs).
 *
 *   meta basic DIR     DIR holds f (1234 bytes), l -> f, p (a FIFO), d/ (3 files)
 *   meta race DIR N    another thread swaps symlink l between a and b (renames); N readlinks
 *                      and stats of l must each see a or b whole
 *   meta drop DIR      (root) drops to uid/gid 65534 first: DIR/secret (0600, root) and
 *                      DIR/locked/ (0700, root) must now be refused
 *   meta chroot DIR    (root) chroots into DIR first: "/f" is DIR/f
 *   meta landlock DIR  enters a Landlock domain that handles file and directory reads and
 *                      allows none: opens of DIR/f and DIR/d must be refused
 *   meta execid DIR    (root) a thread other than the leader execs DIR/meta-suid (set-user-ID
 *                      65534) while the leader stats DIR/locked/inner in a loop; the new image
 *                      (suidcheck) must be refused what uid 65534 may not see
 *   meta lease DIR     holds a read lease on DIR/f; a child opens it for writing; the SIGIO
 *                      handler stats DIR/f (a traced call) before giving the lease up
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <grp.h>
#include <linux/landlock.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <unistd.h>

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s = -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s = %ld\n", what, r);
}

static void show_stat(const char *what, int r, const struct stat *st)
{
    if (r < 0)
        printf("%s = -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s = 0 mode=%o size=%lld nlink=%lu\n", what, st->st_mode, (long long)st->st_size,
               (unsigned long)st->st_nlink);
}

static void show_link(const char *what, const char *path)
{
    char buf[256];
    ssize_t n = readlink(path, buf, sizeof buf);
    if (n < 0)
        printf("%s = -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s = %zd \"%.*s\"\n", what, n, (int)n, buf);
}

static int basic(const char *dir)
{
    struct stat st;
    char buf[4096];
    if (chdir(dir) < 0)
        return 1;
    show_stat("stat f", stat("f", &st), &st);
    show_stat("lstat l", lstat("l", &st), &st);
    show_stat("stat l", stat("l", &st), &st);
    show_stat("stat p", stat("p", &st), &st);
    show_stat("stat missing", stat("missing", &st), &st);
    show_stat("stat f/x", stat("f/x", &st), &st);
    show_stat("stat empty", stat("", &st), &st);
    show_link("readlink l", "l");
    show_link("readlink short", "l");
    {
        char small[1];
        show("readlink 1 byte", readlink("l", small, 1));
    }
    show_link("readlink f", "f");
    show_link("readlink missing", "missing");
    show("access f R_OK", access("f", R_OK));
    show("access f X_OK", access("f", X_OK));
    show("access missing", access("missing", F_OK));
    show("faccessat2 l nofollow", syscall(SYS_faccessat2, AT_FDCWD, "l", F_OK, AT_SYMLINK_NOFOLLOW));
    show("faccessat bad mode", syscall(SYS_faccessat, AT_FDCWD, "f", 0x40));
    int d = open("d", O_RDONLY | O_DIRECTORY);
    show_stat("fstatat d/one", fstatat(d, "one", &st, 0), &st);
    show_stat("fstatat d empty", fstatat(d, "", &st, AT_EMPTY_PATH), &st);
    show_stat("fstat d", fstat(d, &st), &st);
    show_stat("fstatat bad flag", fstatat(d, "one", &st, 0x8000000), &st);
    show_stat("fstat -1", fstat(-1, &st), &st);
    show_stat("fstatat 999", fstatat(999, "x", &st, 0), &st);
    {
        struct statx sx;
        int r = statx(AT_FDCWD, "f", 0, STATX_SIZE | STATX_MODE, &sx);
        if (r < 0)
            printf("statx f = -1 %s\n", strerrorname_np(errno));
        else
            printf("statx f = 0 size=%llu mode=%o\n", (unsigned long long)sx.stx_size, sx.stx_mode);
    }
    {
        struct statfs sf;
        int r = statfs(".", &sf);
        printf("statfs . = %d type=%lx\n", r, r == 0 ? (long)sf.f_type : 0L);
        r = fstatfs(d, &sf);
        printf("fstatfs d = %d type=%lx\n", r, r == 0 ? (long)sf.f_type : 0L);
    }
    {
        long n, total = 0, entries = 0;
        while ((n = syscall(SYS_getdents64, d, buf, 64)) > 0) {
            total += n;
            for (long at = 0; at < n;) {
                unsigned short reclen;
                memcpy(&reclen, buf + at + 16, 2);
                entries++;
                at += reclen;
            }
        }
        printf("getdents64 d = %ld entries=%ld bytes=%ld\n", n, entries, total);
        show("lseek d 0", lseek(d, 0, SEEK_SET));
        show("getdents64 tiny", syscall(SYS_getdents64, d, buf, 8));
        n = syscall(SYS_getdents64, d, buf, sizeof buf);
        printf("getdents64 again > 0: %d\n", n > 0);
    }
    {
        int f = open("f", O_RDONLY);
        show("lseek f end", lseek(f, 0, SEEK_END));
        show("lseek f bad whence", lseek(f, 0, 42));
        show("lseek f cur", lseek(f, -34, SEEK_CUR));
        close(f);
    }
    close(d);
    if (getcwd(buf, sizeof buf))
        printf("getcwd ends in dir: %d\n", strcmp(buf + strlen(buf) - strlen(strrchr(dir, '/')), strrchr(dir, '/')) == 0);
    show("getcwd small", getcwd(buf, 2) ? 0 : -1);
    {
        /* Answers that depend on who asks: must be the program's own. */
        char want[64];
        snprintf(want, sizeof want, "%d", (int)getpid());
        ssize_t n = readlink("/proc/self", buf, sizeof buf);
        printf("readlink /proc/self is mine: %d\n", n > 0 && (size_t)n == strlen(want) && memcmp(buf, want, n) == 0);
        struct stat a, b;
        char mine[64];
        snprintf(mine, sizeof mine, "/proc/%d", (int)getpid());
        printf("stat /proc/self is mine: %d\n", stat("/proc/self", &a) == 0 && stat(mine, &b) == 0 && a.st_ino == b.st_ino);
        int f = open("f", O_RDONLY);
        char fdpath[64];
        snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", f);
        show_stat("stat /dev/fd/N", stat(fdpath, &a), &a);
        show_link("readlink /dev/stdin", "/dev/stdin");
        close(f);
    }
    {
        /* Opens and descriptor copies interpose may perform and install with ADDFD. */
        int f = open("f", O_RDONLY);
        show("open f", f >= 0 ? 0 : -1);
        show("open missing", open("missing", O_RDONLY));
        show("open f/x", open("f/x", O_RDONLY));
        show("open d O_DIRECTORY", openat(AT_FDCWD, "d", O_RDONLY | O_DIRECTORY) >= 0 ? 0 : -1);
        show("open f O_DIRECTORY", open("f", O_RDONLY | O_DIRECTORY));
        show("open l O_NOFOLLOW", open("l", O_RDONLY | O_NOFOLLOW));
        show("open d O_WRONLY", open("d", O_WRONLY));
        show("open p nonblock", open("p", O_RDONLY | O_NONBLOCK) >= 0 ? 0 : -1);
        show("open /dev/null", open("/dev/null", O_RDONLY) >= 0 ? 0 : -1);
        show("open /proc/self/status", open("/proc/self/status", O_RDONLY) >= 0 ? 0 : -1);
        int a = dup(f);
        int b = dup2(f, 40);
        int c = dup3(f, 41, O_CLOEXEC);
        int d = fcntl(f, F_DUPFD_CLOEXEC, 0);
        printf("dups: %d %d %d %d, cloexec %d %d %d %d\n", a > f, b, c, d > a, fcntl(a, F_GETFD), fcntl(b, F_GETFD),
               fcntl(c, F_GETFD), fcntl(d, F_GETFD));
        lseek(f, 100, SEEK_SET);
        printf("shared offset: %ld %ld %ld\n", (long)lseek(a, 0, SEEK_CUR), (long)lseek(b, 0, SEEK_CUR),
               (long)lseek(c, 0, SEEK_CUR));
        show("dup2 onto itself", dup2(f, f) == f ? 0 : -1);
        show("dup3 onto itself", dup3(f, f, 0));
        show("dup 999", dup(999));
        show("dup2 999", dup2(999, 42));
        show("dup2 to -1", dup2(f, -1));
        /* Calls on the open file description, shared with the copies above. */
        int fl = fcntl(f, F_GETFL);
        show("F_SETFL O_NONBLOCK", fcntl(f, F_SETFL, fl | O_NONBLOCK));
        printf("nonblock seen through the copy: %d\n", (fcntl(a, F_GETFL) & O_NONBLOCK) != 0);
        show("F_SETFL O_ASYNC", fcntl(f, F_SETFL, fl | O_ASYNC));
        show("F_SETFL back", fcntl(f, F_SETFL, fl));
        show("fsync", fsync(f));
        show("fdatasync", fdatasync(f));
        show("fadvise", syscall(SYS_fadvise64, f, 0, 0, POSIX_FADV_SEQUENTIAL));
        show("fadvise bad", syscall(SYS_fadvise64, f, 0, 0, 99));
        show("flock ex nb", flock(f, LOCK_EX | LOCK_NB));
        int other = open("f", O_RDONLY);
        show("flock other nb", flock(other, LOCK_SH | LOCK_NB));
        show("flock un", flock(f, LOCK_UN));
        show("flock other nb again", flock(other, LOCK_SH | LOCK_NB));
        show("flock other un", flock(other, LOCK_UN));
        close(other);
        show("flock ex (blocking)", flock(f, LOCK_EX));
        flock(f, LOCK_UN);
        show("shutdown a file", shutdown(f, SHUT_RD));
        close(a), close(b), close(c), close(d), close(f);
        printf("pid ok: %d\n", (int)syscall(SYS_gettid) == (int)getpid());
        printf("uid: %d %d %d %d\n", (int)getuid(), (int)geteuid(), (int)getgid(), (int)getegid());
        int set = setxattr("f", "user.meta", "value", 5, 0);
        char v[64];
        ssize_t k = getxattr("f", "user.meta", v, sizeof v);
        printf("getxattr f = %zd %.*s (set %d)\n", k, k > 0 ? (int)k : 0, v, set);
        show("getxattr size", getxattr("f", "user.meta", NULL, 0));
        show("getxattr small", getxattr("f", "user.meta", v, 2));
        show("getxattr none", getxattr("f", "user.none", v, sizeof v));
        show("lgetxattr l", lgetxattr("l", "user.meta", v, sizeof v));
        show("getxattr missing", getxattr("missing", "user.meta", v, sizeof v));
        printf("getppid ok: %d\n", getppid() > 0);
    }
    {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bind(s, (struct sockaddr *)&sa, sizeof sa);
        struct sockaddr_in got;
        socklen_t len = sizeof got;
        int r = getsockname(s, (struct sockaddr *)&got, &len);
        printf("getsockname = %d len=%u port>0=%d\n", r, len, r == 0 && got.sin_port != 0);
        len = 4;
        r = getsockname(s, (struct sockaddr *)&got, &len);
        printf("getsockname short = %d len=%u\n", r, len);
        len = sizeof got;
        r = getpeername(s, (struct sockaddr *)&got, &len);
        printf("getpeername = %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
        int v = -1;
        len = sizeof v;
        r = getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len);
        printf("getsockopt SO_TYPE = %d v=%d len=%u\n", r, v, len);
        len = 2;
        r = getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len);
        printf("getsockopt short = %d len=%u\n", r, len);
        r = getsockopt(0, SOL_SOCKET, SO_TYPE, &v, &len);
        printf("getsockopt not a socket = %d %s\n", r, r < 0 ? strerrorname_np(errno) : "");
        close(s);
    }
    return 0;
}

static volatile int stop;
static const char *race_dir;

static void *swapper(void *arg)
{
    (void)arg;
    char a[4096], b[4096], l[4096];
    snprintf(a, sizeof a, "%s/la", race_dir);
    snprintf(b, sizeof b, "%s/lb", race_dir);
    snprintf(l, sizeof l, "%s/l", race_dir);
    while (!stop) {
        /* la -> a, lb -> b: each rename makes l one of them, atomically. */
        symlink("a", a);
        rename(a, l);
        symlink("b", b);
        rename(b, l);
    }
    return NULL;
}

static int race(const char *dir, int n)
{
    race_dir = dir;
    char l[4096];
    snprintf(l, sizeof l, "%s/l", dir);
    pthread_t t;
    pthread_create(&t, NULL, swapper, NULL);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        char buf[16];
        ssize_t k = readlink(l, buf, sizeof buf);
        if (k != 1 || (buf[0] != 'a' && buf[0] != 'b'))
            bad++;
        struct stat st;
        /* a is 1 byte, b is 2 bytes. */
        if (stat(l, &st) != 0 || (st.st_size != 1 && st.st_size != 2))
            bad++;
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("race: %d bad of %d\n", bad, n);
    return bad != 0;
}

static int drop(const char *dir)
{
    char secret[4096], locked[4096];
    snprintf(secret, sizeof secret, "%s/secret", dir);
    snprintf(locked, sizeof locked, "%s/locked/inner", dir);
    if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) {
        perror("drop");
        return 1;
    }
    struct stat st;
    show("access secret R_OK", access(secret, R_OK));
    show("access secret F_OK", access(secret, F_OK));
    show_stat("stat locked/inner", stat(locked, &st), &st);
    show_stat("stat secret", stat(secret, &st), &st);
    return 0;
}

/* A 32-bit syscall from this 64-bit process: int $0x80, i386 numbers. */
static long int80(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

/* drop, through i386's setgroups32 (206), setresgid32 (210) and setresuid32 (208), after a path
 * call made as root. */
static int drop32(const char *dir)
{
    char secret[4096];
    snprintf(secret, sizeof secret, "%s/secret", dir);
    show("access secret R_OK as root", access(secret, R_OK));
    if (int80(206, 0, 0, 0) || int80(210, 65534, 65534, 65534) || int80(208, 65534, 65534, 65534)) {
        printf("no int $0x80\n");
        return 0;
    }
    struct stat st;
    show("access secret R_OK", access(secret, R_OK));
    show_stat("stat secret", stat(secret, &st), &st);
    return 0;
}

static int do_chroot(const char *dir)
{
    if (chroot(dir) || chdir("/")) {
        perror("chroot");
        return 1;
    }
    struct stat st;
    show_stat("stat /f", stat("/f", &st), &st);
    show_link("readlink /l", "/l");
    show("access /missing", access("/missing", F_OK));
    return 0;
}

static int landlock(const char *dir)
{
    struct landlock_ruleset_attr ra = {
        .handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
    };
    int rs = syscall(SYS_landlock_create_ruleset, &ra, sizeof ra, 0);
    if (rs < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_landlock_restrict_self, rs, 0)) {
        printf("landlock unavailable\n");
        return 0;
    }
    char f[4096], d[4096];
    snprintf(f, sizeof f, "%s/f", dir);
    snprintf(d, sizeof d, "%s/d", dir);
    show("open f", open(f, O_RDONLY) >= 0 ? 0 : -1);
    show("open d", open(d, O_RDONLY | O_DIRECTORY) >= 0 ? 0 : -1);
    return 0;
}

static const char *exec_dir;

static void *exec_suid(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/meta-suid", exec_dir);
    char *argv[] = {path, "suidcheck", (char *)exec_dir, NULL};
    execv(path, argv);
    perror("execv");
    exit(1);
}

static int execid(const char *dir)
{
    char inner[4096];
    snprintf(inner, sizeof inner, "%s/locked/inner", dir);
    exec_dir = dir;
    pthread_t t;
    pthread_create(&t, NULL, exec_suid, NULL);
    for (;;) {
        struct stat st;
        stat(inner, &st);
    }
    return 0;
}

static int suidcheck(const char *dir)
{
    char inner[4096];
    snprintf(inner, sizeof inner, "%s/locked/inner", dir);
    struct stat st;
    printf("euid %d\n", (int)geteuid());
    show_stat("stat locked/inner", stat(inner, &st), &st);
    show("open locked/inner", open(inner, O_RDONLY) >= 0 ? 0 : -1);
    return 0;
}

static int lease_fd;
static const char *lease_file;

static void on_sigio(int sig)
{
    (void)sig;
    struct stat st;
    stat(lease_file, &st);
    fcntl(lease_fd, F_SETLEASE, F_UNLCK);
}

static int lease(const char *dir)
{
    static char f[4096];
    snprintf(f, sizeof f, "%s/f", dir);
    lease_file = f;
    signal(SIGIO, on_sigio);
    lease_fd = open(f, O_RDONLY);
    if (fcntl(lease_fd, F_SETLEASE, F_RDLCK)) {
        printf("no lease\n");
        return 0;
    }
    pid_t c = fork();
    if (c == 0) {
        show("child open f O_WRONLY", open(f, O_WRONLY) >= 0 ? 0 : -1);
        _exit(0);
    }
    int status;
    while (waitpid(c, &status, 0) < 0)
        ;
    printf("lease released\n");
    return 0;
}

static void print_ids(const char *who)
{
    printf("%s getpid %ld gettid %ld getppid %ld getpgrp %ld\n", who, syscall(SYS_getpid),
           syscall(SYS_gettid), syscall(SYS_getppid), syscall(SYS_getpgrp));
}

static void *ids_thread(void *arg)
{
    (void)arg;
    print_ids("thread");
    return NULL;
}

/* The process ids, from the main thread, a second thread and a child; with "ns", the child
 * is the first process of a new pid namespace (getpid 1 there). */
static int ids(int newns)
{
    print_ids("main");
    pthread_t t;
    pthread_create(&t, NULL, ids_thread, NULL);
    pthread_join(t, NULL);
    if (newns && unshare(CLONE_NEWPID) != 0) {
        printf("no pid namespace\n");
        return 0;
    }
    pid_t c = fork();
    if (c == 0) {
        print_ids("child");
        _exit(0);
    }
    int status;
    while (waitpid(c, &status, 0) < 0)
        ;
    print_ids("main");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 3 && strcmp(argv[1], "basic") == 0)
        return basic(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "race") == 0)
        return race(argv[2], atoi(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "drop") == 0)
        return drop(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "drop32") == 0)
        return drop32(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "chroot") == 0)
        return do_chroot(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "landlock") == 0)
        return landlock(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "execid") == 0)
        return execid(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "suidcheck") == 0)
        return suidcheck(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "lease") == 0)
        return lease(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "ids") == 0)
        return ids(argc >= 3 && strcmp(argv[2], "ns") == 0);
    fprintf(stderr, "usage: meta basic|race|drop|chroot|landlock|execid|lease DIR [N] | ids [ns]\n");
    return 2;
}
