/* coverage: makes, through syscall(2) so that each is the syscall named (not a libc
 * substitute), the calls of issue 10's list that the everyday corpus of tests/decode_strace.rs
 * does not make: timerfd, signalfd, inotify, clone3, vfork, waitid, capabilities, the copy
 * calls, limits, sleeps, signals to threads, openat2, close_range, mremap, the multi-message
 * calls and the waits with signal masks. Run in an empty scratch directory; it writes files there.
 * The test compares the log lines of strace and interpose; this program checks nothing itself.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <linux/stat.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S(...) syscall(__VA_ARGS__)

static void on_usr1(int sig)
{
    (void)sig;
}

int main(int argc, char **argv)
{
    /* An exec'd second stage: execveat brought us here. */
    if (argc > 1 && strcmp(argv[1], "stage2") == 0)
        S(SYS_exit_group, 0);

    /* Files and descriptors. */
    int fd = S(SYS_open, "cov.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
    S(SYS_write, fd, "0123456789abcdef", 16);
    S(SYS_pwrite64, fd, "xy", 2, 4);
    char buf[64];
    S(SYS_pread64, fd, buf, 4, 0);
    S(SYS_lseek, fd, 0, SEEK_SET);
    S(SYS_read, fd, buf, 8);
    struct iovec iov[2] = { { "ab", 2 }, { "cd", 2 } };
    S(SYS_writev, fd, iov, 2);
    struct iovec riov[1] = { { buf, 4 } };
    S(SYS_lseek, fd, 0, SEEK_SET);
    S(SYS_readv, fd, riov, 1);
    S(SYS_fallocate, fd, 0, 0, 4096);
    S(SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 4096, 4096);
    S(SYS_fadvise64, fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    S(SYS_flock, fd, LOCK_EX | LOCK_NB);
    S(SYS_flock, fd, LOCK_UN);
    S(SYS_fdatasync, fd);
    S(SYS_fsync, fd);
    S(SYS_ftruncate, fd, 32);
    S(SYS_fchmod, fd, 0640);
    S(SYS_fchown, fd, -1, -1);
    struct stat st;
    S(SYS_fstat, fd, &st);
    S(SYS_stat, "cov.txt", &st);
    S(SYS_lstat, "cov.txt", &st);
    S(SYS_access, "cov.txt", R_OK | W_OK);
    S(SYS_faccessat, AT_FDCWD, "cov.txt", F_OK);
    S(SYS_faccessat2, AT_FDCWD, "cov.txt", X_OK, AT_EACCESS);
    S(SYS_chmod, "cov.txt", 0600);
    S(SYS_fchmodat, AT_FDCWD, "cov.txt", 0644);
    S(SYS_chown, "cov.txt", -1, -1);
    S(SYS_lchown, "cov.txt", -1, -1);
    S(SYS_fchownat, AT_FDCWD, "cov.txt", -1, -1, AT_SYMLINK_NOFOLLOW);
    struct timespec ts2[2] = { { 1, 0 }, { 2, 0 } };
    S(SYS_utimensat, AT_FDCWD, "cov.txt", ts2, 0);
    S(SYS_utimensat, fd, NULL, NULL, 0);

    int out = S(SYS_openat, AT_FDCWD, "cov.out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    loff_t off_in = 0;
    S(SYS_copy_file_range, fd, &off_in, out, NULL, 8, 0);
    S(SYS_copy_file_range, fd, NULL, out, NULL, 4, 0);
    off_t soff = 2;
    S(SYS_sendfile, out, fd, &soff, 4);
    S(SYS_sendfile, out, fd, NULL, 4);
    int p[2];
    S(SYS_pipe, p);
    S(SYS_lseek, fd, 0, SEEK_SET);
    S(SYS_splice, fd, NULL, p[1], NULL, 8, SPLICE_F_MOVE);
    loff_t outoff = 0;
    S(SYS_splice, p[0], NULL, out, &outoff, 8, 0);
    S(SYS_close, p[0]);
    S(SYS_close, p[1]);
    S(SYS_close, out);

    struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS };
    int o2 = S(SYS_openat2, AT_FDCWD, "cov.txt", &how, sizeof how);
    struct open_how how2 = { .flags = O_WRONLY | O_CREAT, .mode = 0600 };
    int o3 = S(SYS_openat2, AT_FDCWD, "cov2.txt", &how2, sizeof how2);
    S(SYS_dup, o2);
    S(SYS_dup2, o2, 40);
    S(SYS_dup3, o3, 41, O_CLOEXEC);
    S(SYS_close_range, 40, 41, 0);
    S(SYS_close_range, o3, o3, CLOSE_RANGE_CLOEXEC);
    S(SYS_close_range, o2, ~0U, 0);

    S(SYS_mknod, "cov.fifo", S_IFIFO | 0600, 0);
    S(SYS_mknodat, AT_FDCWD, "cov.fifo2", S_IFIFO | 0640, 0);
    S(SYS_mknodat, AT_FDCWD, "cov.reg", S_IFREG | 0600, 0);
    S(SYS_mkdir, "cov.d", 0750);
    S(SYS_mkdirat, AT_FDCWD, "cov.d/e", 0700);
    S(SYS_chdir, "cov.d");
    int dfd = S(SYS_open, ".", O_RDONLY | O_DIRECTORY);
    S(SYS_getcwd, buf, sizeof buf);
    S(SYS_chdir, "..");
    S(SYS_fchdir, dfd);
    S(SYS_fchdir, AT_FDCWD);
    S(SYS_chdir, "..");
    S(SYS_getdents64, dfd, buf, sizeof buf);
    S(SYS_close, dfd);
    S(SYS_symlink, "cov.txt", "cov.sym");
    S(SYS_symlinkat, "cov.txt", AT_FDCWD, "cov.sym2");
    S(SYS_readlink, "cov.sym", buf, sizeof buf);
    S(SYS_readlinkat, AT_FDCWD, "cov.sym2", buf, sizeof buf);
    S(SYS_link, "cov.txt", "cov.lnk");
    S(SYS_rename, "cov.lnk", "cov.ren");
    S(SYS_renameat2, AT_FDCWD, "cov.ren", AT_FDCWD, "cov.ren2", RENAME_NOREPLACE);
    S(SYS_setxattr, "cov.txt", "user.cov", "val", 3, XATTR_CREATE);
    S(SYS_lsetxattr, "cov.txt", "user.cov2", "v2", 2, 0);
    S(SYS_fsetxattr, fd, "user.cov3", "v3", 2, 0);
    S(SYS_getxattr, "cov.txt", "user.cov", buf, sizeof buf);
    S(SYS_lgetxattr, "cov.txt", "user.cov", buf, sizeof buf);
    S(SYS_fgetxattr, fd, "user.cov", NULL, 0);
    S(SYS_listxattr, "cov.txt", buf, sizeof buf);
    S(SYS_llistxattr, "cov.txt", NULL, 0);
    S(SYS_flistxattr, fd, buf, sizeof buf);
    S(SYS_removexattr, "cov.txt", "user.cov");
    S(SYS_lremovexattr, "cov.txt", "user.cov2");
    S(SYS_fremovexattr, fd, "user.cov3");
    struct statfs *sfs = malloc(256);
    S(SYS_statfs, ".", sfs);
    S(SYS_fstatfs, fd, sfs);
    struct statx stx;
    S(SYS_statx, AT_FDCWD, "cov.txt", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &stx);
    S(SYS_newfstatat, AT_FDCWD, "cov.sym", &st, AT_SYMLINK_NOFOLLOW);
    S(SYS_unlink, "cov.sym");
    S(SYS_unlinkat, AT_FDCWD, "cov.sym2", 0);
    S(SYS_unlinkat, AT_FDCWD, "cov.d/e", AT_REMOVEDIR);
    S(SYS_rmdir, "cov.d");
    S(SYS_umask, 022);
    S(SYS_umask, 027);

    /* Memory. */
    void *m = (void *)S(SYS_mmap, NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    S(SYS_mprotect, m, 8192, PROT_READ);
    S(SYS_madvise, m, 8192, MADV_DONTNEED);
    void *m2 = (void *)S(SYS_mremap, m, 8192, 16384, MREMAP_MAYMOVE);
    S(SYS_munmap, m2, 16384);
    S(SYS_brk, 0);
    int mfd = S(SYS_memfd_create, "cov-memfd", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    S(SYS_fcntl, mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
    S(SYS_fcntl, mfd, F_GET_SEALS);
    S(SYS_close, mfd);
    S(SYS_membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0, 0);

    /* fcntl's commands and their results. */
    S(SYS_fcntl, fd, F_GETFL);
    S(SYS_fcntl, fd, F_SETFL, O_APPEND | O_NONBLOCK);
    S(SYS_fcntl, fd, F_GETFL);
    S(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
    S(SYS_fcntl, fd, F_GETFD);
    S(SYS_fcntl, fd, F_SETFD, 0);
    S(SYS_fcntl, fd, F_GETFD);
    S(SYS_fcntl, fd, F_GETOWN);
    S(SYS_fcntl, fd, F_GETSIG);
    S(SYS_fcntl, fd, F_GETLEASE);
    S(SYS_fcntl, fd, F_DUPFD, 50);
    S(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 60);
    int pp[2];
    S(SYS_pipe2, pp, O_NONBLOCK);
    S(SYS_fcntl, pp[0], F_GETPIPE_SZ);
    S(SYS_fcntl, pp[0], F_SETPIPE_SZ, 65536);
    S(SYS_fcntl, pp[0], F_GETFL);
    S(SYS_fcntl, pp[1], F_GETFL);
    S(SYS_ioctl, pp[0], FIONREAD, buf);
    S(SYS_ioctl, fd, FIOCLEX);

    /* Waits: poll, ppoll, select, pselect6, epoll, with and without signal masks. */
    S(SYS_write, pp[1], "x", 1);
    struct pollfd pfd[2] = { { pp[0], POLLIN, 0 }, { pp[1], POLLOUT, 0 } };
    S(SYS_poll, pfd, 2, 0);
    struct timespec zero = { 0, 0 };
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    S(SYS_ppoll, pfd, 2, &zero, &mask, 8);
    S(SYS_ppoll, pfd, 1, &zero, NULL, 8);
    fd_set rs, ws;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_SET(pp[0], &rs);
    FD_SET(pp[1], &ws);
    struct timeval tv = { 0, 0 };
    S(SYS_select, pp[1] + 1, &rs, &ws, NULL, &tv);
    FD_ZERO(&rs);
    FD_SET(pp[0], &rs);
    struct {
        const sigset_t *ss;
        size_t len;
    } sigdata = { &mask, 8 };
    S(SYS_pselect6, pp[0] + 1, &rs, NULL, NULL, &zero, &sigdata);
    FD_ZERO(&rs);
    FD_SET(pp[0], &rs);
    S(SYS_pselect6, pp[0] + 1, &rs, NULL, NULL, &zero, NULL);
    int ep = S(SYS_epoll_create1, EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 7 };
    S(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, pp[0], &ev);
    ev.events = EPOLLIN;
    S(SYS_epoll_ctl, ep, EPOLL_CTL_MOD, pp[0], &ev);
    struct epoll_event evs[4];
    S(SYS_epoll_wait, ep, evs, 4, 0);
    S(SYS_epoll_pwait, ep, evs, 4, 0, &mask, 8);
    S(SYS_epoll_pwait, ep, evs, 4, 0, NULL, 8);
    S(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, pp[0], NULL);
    S(SYS_close, ep);
    int efd = S(SYS_eventfd2, 3, EFD_NONBLOCK);
    S(SYS_close, efd);

    /* timerfd, signalfd, inotify. */
    int tfd = S(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec its = { { 0, 0 }, { 100, 500 } }, old;
    S(SYS_timerfd_settime, tfd, 0, &its, &old);
    S(SYS_timerfd_settime, tfd, TFD_TIMER_ABSTIME, &its, NULL);
    S(SYS_timerfd_gettime, tfd, &old);
    S(SYS_close, tfd);
    int sfd = S(SYS_signalfd4, -1, &mask, 8, SFD_CLOEXEC);
    S(SYS_close, sfd);
    int in1 = S(SYS_inotify_init);
    int in = S(SYS_inotify_init1, IN_CLOEXEC | IN_NONBLOCK);
    int wd = S(SYS_inotify_add_watch, in, ".", IN_CREATE | IN_DELETE | IN_ONLYDIR);
    S(SYS_inotify_rm_watch, in, wd);
    S(SYS_close, in);
    S(SYS_close, in1);

    /* Sockets: the multi-message calls, names and options. */
    int sv[2];
    S(SYS_socketpair, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv);
    struct iovec m1 = { "one", 3 }, m2v = { "two!", 4 };
    struct mmsghdr mm[2] = { { { .msg_iov = &m1, .msg_iovlen = 1 }, 0 }, { { .msg_iov = &m2v, .msg_iovlen = 1 }, 0 } };
    S(SYS_sendmmsg, sv[0], mm, 2, MSG_DONTWAIT);
    char r1[8], r2[8];
    struct iovec ri1 = { r1, sizeof r1 }, ri2 = { r2, sizeof r2 };
    struct mmsghdr rm[2] = { { { .msg_iov = &ri1, .msg_iovlen = 1 }, 0 }, { { .msg_iov = &ri2, .msg_iovlen = 1 }, 0 } };
    S(SYS_recvmmsg, sv[1], rm, 2, MSG_DONTWAIT, NULL);
    int one = 1;
    S(SYS_setsockopt, sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    int val;
    socklen_t vlen = sizeof val;
    S(SYS_getsockopt, sv[0], SOL_SOCKET, SO_SNDBUF, &val, &vlen);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    S(SYS_getsockname, sv[0], &ss, &sl);
    sl = sizeof ss;
    S(SYS_getpeername, sv[0], &ss, &sl);
    S(SYS_shutdown, sv[0], SHUT_WR);
    S(SYS_close, sv[0]);
    S(SYS_close, sv[1]);

    /* accept (libc's accept is accept4 on some versions): a loopback connection. */
    int ls = S(SYS_socket, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    S(SYS_bind, ls, &sin, sizeof sin);
    S(SYS_listen, ls, 1);
    socklen_t sinlen = sizeof sin;
    S(SYS_getsockname, ls, &sin, &sinlen);
    int cs = S(SYS_socket, AF_INET, SOCK_STREAM, 0);
    S(SYS_connect, cs, &sin, sizeof sin);
    int as = S(SYS_accept, ls, NULL, NULL);
    S(SYS_close, as);
    S(SYS_close, cs);
    S(SYS_close, ls);

    /* Limits, identity, system information, scheduling. */
    struct rlimit rl;
    S(SYS_getrlimit, RLIMIT_NOFILE, &rl);
    S(SYS_setrlimit, RLIMIT_CORE, &(struct rlimit){ 0, RLIM_INFINITY });
    S(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &rl);
    S(SYS_prlimit64, 0, RLIMIT_CORE, &(struct rlimit){ 4096, RLIM_INFINITY }, NULL);
    struct sysinfo si;
    S(SYS_sysinfo, &si);
    struct utsname un;
    S(SYS_uname, &un);
    S(SYS_getuid);
    S(SYS_geteuid);
    S(SYS_getgid);
    S(SYS_getegid);
    S(SYS_getpid);
    S(SYS_gettid);
    S(SYS_getppid);
    S(SYS_getpgrp);
    S(SYS_sched_yield);
    cpu_set_t cpus;
    S(SYS_sched_getaffinity, 0, sizeof cpus, &cpus);
    CPU_ZERO(&cpus);
    CPU_SET(0, &cpus);
    S(SYS_sched_setaffinity, 0, sizeof cpus, &cpus);
    struct __user_cap_header_struct ch = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct cd[2];
    S(SYS_capget, &ch, cd);
    S(SYS_capset, &ch, cd);
    S(SYS_getrandom, buf, 8, GRND_NONBLOCK);
    S(SYS_prctl, PR_SET_NAME, "cov", 0, 0, 0);
    S(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0);
    struct timespec now;
    S(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
    struct timespec nap = { 0, 1000 };
    S(SYS_nanosleep, &nap, NULL);
    S(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &nap, NULL);

    /* futex, without another thread: the corpus's futex calls depend on scheduling. */
    int fw = 0;
    S(SYS_futex, &fw, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    struct timespec fto = { 0, 1000 };
    S(SYS_futex, &fw, FUTEX_WAIT_PRIVATE, 1, &fto, NULL, 0);
    S(SYS_futex, &fw, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, &fto, NULL, FUTEX_BITSET_MATCH_ANY);

    /* Signals. */
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigaction(SIGUSR1, &sa, NULL);
    stack_t alt = { .ss_sp = malloc(65536), .ss_size = 65536 };
    S(SYS_sigaltstack, &alt, NULL);
    S(SYS_kill, S(SYS_getpid), SIGUSR1);
    S(SYS_tkill, S(SYS_gettid), SIGUSR1);
    S(SYS_tgkill, S(SYS_getpid), S(SYS_gettid), SIGUSR1);
    S(SYS_rt_sigprocmask, SIG_BLOCK, &mask, NULL, 8);
    S(SYS_kill, S(SYS_getpid), SIGUSR1);
    siginfo_t info;
    S(SYS_rt_sigtimedwait, &mask, &info, &zero, 8);
    S(SYS_rt_sigtimedwait, &mask, NULL, &zero, 8);
    S(SYS_rt_sigprocmask, SIG_UNBLOCK, &mask, NULL, 8);

    /* Processes: fork, vfork, clone, clone3, wait4, waitid, execveat. */
    pid_t c = S(SYS_fork);
    if (c == 0)
        S(SYS_exit, 3);
    int status;
    S(SYS_wait4, c, &status, 0, NULL);
    c = S(SYS_vfork);
    if (c == 0)
        S(SYS_exit, 0);
    siginfo_t wi;
    S(SYS_waitid, P_ALL, 0, &wi, WEXITED, NULL);
    c = S(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
    if (c == 0)
        S(SYS_exit, 0);
    S(SYS_wait4, -1, &status, __WALL, NULL);
    struct clone_args ca = { .exit_signal = SIGCHLD };
    c = S(SYS_clone3, &ca, sizeof ca);
    if (c == 0)
        S(SYS_exit, 0);
    S(SYS_waitid, P_PID, c, &wi, WEXITED, NULL);
    c = S(SYS_fork);
    if (c == 0) {
        char *args[] = { argv[0], "stage2", NULL };
        char *env[] = { "A=1", NULL };
        S(SYS_execveat, AT_FDCWD, argv[0], args, env, 0);
        S(SYS_exit, 1);
    }
    S(SYS_wait4, c, &status, 0, NULL);
    S(SYS_close, fd);
    S(SYS_close, pp[0]);
    S(SYS_close, pp[1]);
    S(SYS_exit_group, 0);
    return 0;
}
