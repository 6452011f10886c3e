/* hostile_exec: calls that interpose executes for the program, each aimed at a way execution
 * could differ from the kernel's own (issue 28). One mode per run; each prints key=value lines
 * (values are results: a count, 0, or -errno) and done=1.
 *
 *   trunc DIR      reads a file of 'S' bytes (executed: leaves them in interpose's buffer), then
 *                  recv(MSG_TRUNC) on a TCP socket with 100 bytes waiting (natively: the bytes
 *                  are discarded, the buffer is not written) and on a UDP socket with a 50-byte
 *                  datagram into 10 bytes (natively: 10 bytes copied, 50 returned); tcp=R
 *                  tcp_touched=N (bytes of the buffer that changed) udp=R udp_touched=N
 *   offsets DIR    pread64/pwrite64 with offset -1 on a file (natively EINVAL, nothing written)
 *                  and on an empty pipe whose writer stays open (natively EINVAL at once):
 *                  file_pread=R file_pwrite=R file_after=CONTENT pipe_pread=R pipe_pwrite=R
 *                  pipe_pread0=R (offset 0: ESPIPE)
 *   fsize DIR      RLIMIT_FSIZE 4096, SIGXFSZ ignored, then two 8192-byte writes to a new file:
 *                  first=R second=R size=N
 *   memcg CG DIR   moves itself into cgroup directory CG (given by the test, with a memory
 *                  limit), then appends up to 256 MiB to DIR/fill in 1 MiB writes: written=N
 *                  last=R (the program may also be killed by the kernel's OOM killer)
 *   kfifo DIR      maps an executable copy of itself, unlinks it, and makes a FIFO named as
 *                  /proc/self/maps now names the mapping ("PATH (deleted)"); then a child (whose
 *                  first stack reads its maps) makes a few traced calls: calls=N
 *   jit N          N getppid calls made from code in an anonymous executable mapping (a JIT's):
 *                  calls=N
 *   i386exit       a second thread makes i386 geteuid calls (int $0x80, 49: native bind's number)
 *                  as fast as it can while the main thread makes 200 binds that fail
 *                  (EADDRINUSE): binds=N bind_errors=N */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define R(x) ({ long r_ = (long)(x); r_ < 0 ? -errno : r_; })

static char path[4096];

static void at(const char *dir, const char *name)
{
    snprintf(path, sizeof path, "%s/%s", dir, name);
}

static int touched(const unsigned char *b, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i++) c += b[i] != 0;
    return c;
}

static int tcp_pair(int *a, int *b)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof sa;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || bind(s, (void *)&sa, sizeof sa) || listen(s, 1) || getsockname(s, (void *)&sa, &l)) return -1;
    *a = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(*a, (void *)&sa, sizeof sa)) return -1;
    *b = accept(s, 0, 0);
    close(s);
    return *b < 0 ? -1 : 0;
}

static int trunc_mode(const char *dir)
{
    static unsigned char secret[4096], buf[4096];
    memset(secret, 'S', sizeof secret);
    at(dir, "secret");
    int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (f < 0 || write(f, secret, sizeof secret) != sizeof secret) return 1;
    memset(secret, 0, sizeof secret);
    if (pread(f, secret, sizeof secret, 0) != sizeof secret) return 1;
    int a, b;
    if (tcp_pair(&a, &b)) return 1;
    memset(secret, 'x', 100);
    if (write(a, secret, 100) != 100) return 1;
    usleep(20000);
    memset(buf, 0, sizeof buf);
    long r = R(recv(b, buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT));
    printf("tcp=%ld tcp_touched=%d\n", r, touched(buf, sizeof buf));

    int u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof sa;
    if (bind(u, (void *)&sa, sizeof sa) || getsockname(u, (void *)&sa, &l)) return 1;
    /* pread again: the buffer interpose read into holds the secret once more. */
    if (pread(f, secret, sizeof secret, 0) != sizeof secret) return 1;
    memset(secret, 'y', 50);
    if (sendto(v, secret, 50, 0, (void *)&sa, sizeof sa) != 50) return 1;
    usleep(20000);
    memset(buf, 0, sizeof buf);
    r = R(recv(u, buf, 10, MSG_TRUNC));
    printf("udp=%ld udp_touched=%d\n", r, touched(buf, sizeof buf));
    return 0;
}

static int offsets_mode(const char *dir)
{
    char buf[64] = { 0 };
    at(dir, "data");
    int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (f < 0 || write(f, "abcdefgh", 8) != 8 || lseek(f, 2, SEEK_SET) != 2) return 1;
    printf("file_pread=%ld\n", R(syscall(SYS_pread64, f, buf, 4, (long)-1)));
    printf("file_pwrite=%ld\n", R(syscall(SYS_pwrite64, f, "ZZZZ", 4, (long)-1)));
    memset(buf, 0, sizeof buf);
    pread(f, buf, 8, 0);
    printf("file_after=%s\n", buf);
    int p[2];
    if (pipe(p)) return 1;
    printf("pipe_pread=%ld\n", R(syscall(SYS_pread64, p[0], buf, 4, (long)-1)));
    printf("pipe_pwrite=%ld\n", R(syscall(SYS_pwrite64, p[1], "a", 1, (long)-1)));
    printf("pipe_pread0=%ld\n", R(syscall(SYS_pread64, p[0], buf, 4, 0L)));
    return 0;
}

static int fsize_mode(const char *dir)
{
    static char buf[8192];
    struct rlimit rl = { 4096, RLIM_INFINITY };
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &rl)) return 1;
    at(dir, "big");
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (f < 0) return 1;
    memset(buf, 'b', sizeof buf);
    printf("first=%ld\n", R(write(f, buf, sizeof buf)));
    printf("second=%ld\n", R(write(f, buf, sizeof buf)));
    struct stat st;
    fstat(f, &st);
    printf("size=%ld\n", (long)st.st_size);
    return 0;
}

static int memcg_mode(const char *cg, const char *dir)
{
    char pid[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", cg);
    int c = open(path, O_WRONLY);
    int n = snprintf(pid, sizeof pid, "%d\n", getpid());
    if (c < 0 || write(c, pid, n) != n) {
        printf("unavailable=%d\n", -errno);
        return 0;
    }
    close(c);
    at(dir, "fill");
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    static char chunk[1 << 20];
    memset(chunk, 'm', sizeof chunk);
    long written = 0, last = 0;
    for (int i = 0; i < 256; i++) {
        last = R(write(f, chunk, sizeof chunk));
        if (last <= 0) break;
        written += last;
        /* Flushed now, so that the output says how far it got if the program is killed. */
        printf("written=%ld\n", written);
        fflush(stdout);
    }
    printf("written=%ld last=%ld\n", written, last);
    unlink(path);
    return 0;
}

static int kfifo_mode(const char *dir)
{
    char exe[4096], buf[65536];
    at(dir, "copy");
    snprintf(exe, sizeof exe, "%s", path);
    int in = open("/proc/self/exe", O_RDONLY), out = open(exe, O_RDWR | O_CREAT | O_TRUNC, 0700);
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n) return 1;
    void *m = mmap(0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, out, 0);
    if (m == MAP_FAILED) return 1;
    close(out);
    unlink(exe);
    snprintf(buf, sizeof buf, "%s (deleted)", exe);
    if (mkfifo(buf, 0600)) return 1;
    /* A new process: its first stack reads its maps, which name the FIFO. */
    pid_t child = fork();
    if (child == 0) {
        int calls = 0;
        for (int i = 0; i < 5; i++) calls += getppid() > 0;
        printf("calls=%d\n", calls);
        _exit(0);
    }
    int st;
    waitpid(child, &st, 0);
    unlink(buf);
    return 0;
}

static int jit_mode(int n)
{
    /* mov eax, 110 (getppid); syscall; ret */
    static const unsigned char code[] = { 0xb8, 0x6e, 0, 0, 0, 0x0f, 0x05, 0xc3 };
    void *m = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 1;
    memcpy(m, code, sizeof code);
    long (*f)(void) = (long (*)(void))m;
    int calls = 0;
    for (int i = 0; i < n; i++) calls += f() > 0;
    printf("calls=%d\n", calls);
    return 0;
}

static atomic_int stop;

static void *flood(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        long r;
        for (int i = 0; i < 256; i++) asm volatile("int $0x80" : "=a"(r) : "a"(49L) : "memory");
    }
    return 0;
}

static int i386exit_mode(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof sa;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || bind(s, (void *)&sa, sizeof sa) || listen(s, 1) || getsockname(s, (void *)&sa, &l)) return 1;
    pthread_t t;
    pthread_create(&t, 0, flood, 0);
    int binds = 0, errors = 0;
    for (int i = 0; i < 200; i++) {
        int b = socket(AF_INET, SOCK_STREAM, 0);
        binds++;
        errors += bind(b, (void *)&sa, sizeof sa) < 0;
        close(b);
        usleep(200);
    }
    atomic_store(&stop, 1);
    pthread_join(t, 0);
    printf("binds=%d bind_errors=%d\n", binds, errors);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    int r = 2;
    if (argc >= 3 && !strcmp(argv[1], "trunc")) r = trunc_mode(argv[2]);
    else if (argc >= 3 && !strcmp(argv[1], "offsets")) r = offsets_mode(argv[2]);
    else if (argc >= 3 && !strcmp(argv[1], "fsize")) r = fsize_mode(argv[2]);
    else if (argc >= 4 && !strcmp(argv[1], "memcg")) r = memcg_mode(argv[2], argv[3]);
    else if (argc >= 3 && !strcmp(argv[1], "kfifo")) r = kfifo_mode(argv[2]);
    else if (argc >= 2 && !strcmp(argv[1], "i386exit")) r = i386exit_mode();
    else if (argc >= 3 && !strcmp(argv[1], "jit")) r = jit_mode(atoi(argv[2]));
    if (r == 0) printf("done=1\n");
    else fprintf(stderr, "hostile_exec: %s failed: %s\n", argc > 1 ? argv[1] : "?", strerror(errno));
    return r;
}
