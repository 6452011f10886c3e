/* hostile_bpf ALLOWED DENIED NEW_CGROUP_DIR HOME_CGROUP_DIR: a privileged program that lets
 * the kernel rewrite its destinations after any check of them. It moves itself into a new
 * cgroup (v2) of its own, loads a BPF_PROG_TYPE_CGROUP_SOCK_ADDR program that turns port ALLOWED
 * into port DENIED on connect (BPF_CGROUP_INET4_CONNECT), attaches it to that cgroup, and
 * connects a TCP socket to 127.0.0.1:ALLOWED. Then it detaches the program, moves back to
 * HOME_CGROUP_DIR and removes NEW_CGROUP_DIR.
 * Prints "load=R attach=R connect=R peer=PORT" (R: 0, a descriptor or -errno; PORT: where
 * getpeername says the socket went, -1 when unconnected), or "unavailable=-errno step=..." when
 * the cgroup cannot be set up (not root, no cgroup v2). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *a)
{
    return syscall(SYS_bpf, cmd, a, sizeof *a);
}

static int move_to(const char *dir)
{
    char path[512], pid[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    int n = snprintf(pid, sizeof pid, "%d", (int)getpid());
    int f = open(path, O_WRONLY);
    if (f < 0) return -errno;
    int r = write(f, pid, n) == n ? 0 : -errno;
    close(f);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 5) return 2;
    int allowed = atoi(argv[1]), denied = atoi(argv[2]);
    const char *cg = argv[3], *home = argv[4];
    if (mkdir(cg, 0755) && errno != EEXIST) {
        printf("unavailable=%d step=mkdir\n", -errno);
        return 0;
    }
    int r = move_to(cg);
    if (r) {
        printf("unavailable=%d step=move\n", r);
        rmdir(cg);
        return 0;
    }
    /* r2 = ctx->user_port; if (r2 == htons(ALLOWED)) ctx->user_port = htons(DENIED); return 1; */
    struct bpf_insn prog[] = {
        { .code = BPF_LDX | BPF_W | BPF_MEM, .dst_reg = 2, .src_reg = 1, .off = offsetof(struct bpf_sock_addr, user_port) },
        { .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = 2, .off = 2, .imm = htons(allowed) },
        { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 2, .imm = htons(denied) },
        { .code = BPF_STX | BPF_W | BPF_MEM, .dst_reg = 1, .src_reg = 2, .off = offsetof(struct bpf_sock_addr, user_port) },
        { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
        { .code = BPF_JMP | BPF_EXIT },
    };
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
    a.expected_attach_type = BPF_CGROUP_INET4_CONNECT;
    a.insns = (unsigned long)prog;
    a.insn_cnt = sizeof prog / sizeof prog[0];
    a.license = (unsigned long)"GPL";
    int pfd = bpf(BPF_PROG_LOAD, &a);
    printf("load=%d", pfd < 0 ? -errno : 0);
    int cfd = open(cg, O_RDONLY | O_DIRECTORY), attached = 0;
    if (pfd >= 0) {
        memset(&a, 0, sizeof a);
        a.target_fd = cfd;
        a.attach_bpf_fd = pfd;
        a.attach_type = BPF_CGROUP_INET4_CONNECT;
        r = bpf(BPF_PROG_ATTACH, &a) ? -errno : 0;
        attached = r == 0;
        printf(" attach=%d", r);
    } else {
        printf(" attach=-1");
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(allowed), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    r = connect(s, (struct sockaddr *)&to, sizeof to) ? -errno : 0;
    struct sockaddr_in pe;
    socklen_t pl = sizeof pe;
    int peer = getpeername(s, (struct sockaddr *)&pe, &pl) ? -1 : ntohs(pe.sin_port);
    printf(" connect=%d peer=%d", r, peer);
    close(s);
    if (attached) {
        memset(&a, 0, sizeof a);
        a.target_fd = cfd;
        a.attach_bpf_fd = pfd;
        a.attach_type = BPF_CGROUP_INET4_CONNECT;
        bpf(BPF_PROG_DETACH, &a);
    }
    r = move_to(home);
    printf(" cleanup=%d done=1\n", r ? r : (rmdir(cg) ? -errno : 0));
    return 0;
}
