//! Processes, limits, time and identity: clone, exit, wait4, prlimit64, arch_prctl, prctl,
//! getrandom, clocks, scheduling (strace's `clone.c`, `exit.c`, `wait.c`, `resource.c`,
//! `prctl.c`, `time.c`, `affinity.c`).

use super::format::Args;
use super::xlat::{self, Table, x};

pub static CLONE_FLAGS: Table = x![
    CLONE_VM,
    CLONE_FS,
    CLONE_FILES,
    CLONE_SIGHAND,
    CLONE_PIDFD,
    CLONE_PTRACE,
    CLONE_VFORK,
    CLONE_PARENT,
    CLONE_THREAD,
    CLONE_NEWNS,
    CLONE_SYSVSEM,
    CLONE_SETTLS,
    CLONE_PARENT_SETTID,
    CLONE_CHILD_CLEARTID,
    CLONE_DETACHED,
    CLONE_UNTRACED,
    CLONE_CHILD_SETTID,
    CLONE_NEWCGROUP,
    CLONE_NEWUTS,
    CLONE_NEWIPC,
    CLONE_NEWUSER,
    CLONE_NEWPID,
    CLONE_NEWNET,
    CLONE_IO,
];

/// clone(flags, stack, parent_tid, child_tid, tls) on x86_64, printed as strace names the
/// fields: `clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD,
/// child_tidptr=0x7f...)`.
pub fn clone(a: &mut Args, v: &[u64; 6]) {
    let flags = v[0];
    let out = a.arg();
    out.push_str("child_stack=");
    super::format::ptr(out, v[1]);
    let out = a.arg();
    out.push_str("flags=");
    let sig = (flags & 0xff) as i32;
    let rest = flags & !0xff;
    if rest != 0 || sig == 0 {
        xlat::flags(out, CLONE_FLAGS, rest, "0");
    }
    if sig != 0 {
        if rest != 0 {
            out.push('|');
        }
        super::signal::signal(out, sig);
    }
    let has = |f: i32| flags & f as u64 != 0;
    if has(libc::CLONE_PARENT_SETTID) || has(libc::CLONE_PIDFD) {
        let out = a.arg();
        out.push_str("parent_tid=");
        super::format::ptr(out, v[2]);
    }
    if has(libc::CLONE_SETTLS) {
        let out = a.arg();
        out.push_str("tls=");
        super::format::ptr(out, v[4]);
    }
    if has(libc::CLONE_CHILD_SETTID) || has(libc::CLONE_CHILD_CLEARTID) {
        let out = a.arg();
        out.push_str("child_tidptr=");
        super::format::ptr(out, v[3]);
    }
}

/// clone3(args, size): the struct is not captured yet.
pub fn clone3(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
}

/// unshare(flags).
pub fn unshare(a: &mut Args, v: &[u64; 6]) {
    a.flags(CLONE_FLAGS, v[0] as u32 as u64, "0");
}

/// exit(status), exit_group(status).
pub fn exit(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
}

pub static WAIT_OPTIONS: Table = x![WNOHANG, WUNTRACED, WEXITED, WCONTINUED, WNOWAIT, __WNOTHREAD, __WALL, __WCLONE,];

/// wait4(pid, wstatus, options, rusage): status and usage are outputs.
pub fn wait4(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    a.ptr(v[1]);
    a.flags(WAIT_OPTIONS, v[2] as u32 as u64, "0");
    a.ptr(v[3]);
}

pub static ID_TYPES: Table = x![P_ALL, P_PID, P_PGID, P_PIDFD];

/// waitid(idtype, id, infop, options, rusage).
pub fn waitid(a: &mut Args, v: &[u64; 6]) {
    a.constant(ID_TYPES, v[0] as u32 as u64, "P_");
    a.int(v[1]);
    a.ptr(v[2]);
    a.flags(WAIT_OPTIONS, v[3] as u32 as u64, "0");
    a.ptr(v[4]);
}

/// set_tid_address(tidptr).
pub fn set_tid_address(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
}

/// set_robust_list(head, len).
pub fn set_robust_list(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
}

pub static ARCH_CODES: Table = x![
    ARCH_SET_GS = 0x1001,
    ARCH_SET_FS = 0x1002,
    ARCH_GET_FS = 0x1003,
    ARCH_GET_GS = 0x1004,
    ARCH_GET_CPUID = 0x1011,
    ARCH_SET_CPUID = 0x1012,
    ARCH_GET_XCOMP_SUPP = 0x1021,
    ARCH_GET_XCOMP_PERM = 0x1022,
    ARCH_REQ_XCOMP_PERM = 0x1023,
    ARCH_GET_XCOMP_GUEST_PERM = 0x1024,
    ARCH_REQ_XCOMP_GUEST_PERM = 0x1025,
    ARCH_MAP_VDSO_X32 = 0x2001,
    ARCH_MAP_VDSO_32 = 0x2002,
    ARCH_MAP_VDSO_64 = 0x2003,
    ARCH_CET_STATUS = 0x3001,
];

/// arch_prctl(code, addr).
pub fn arch_prctl(a: &mut Args, v: &[u64; 6]) {
    a.constant(ARCH_CODES, v[0] as u32 as u64, "ARCH_");
    a.ptr(v[1]);
}

pub static PRCTL_OPTIONS: Table = x![
    PR_SET_PDEATHSIG,
    PR_GET_PDEATHSIG,
    PR_GET_DUMPABLE,
    PR_SET_DUMPABLE,
    PR_GET_UNALIGN,
    PR_SET_UNALIGN,
    PR_GET_KEEPCAPS,
    PR_SET_KEEPCAPS,
    PR_GET_FPEMU,
    PR_SET_FPEMU,
    PR_GET_FPEXC,
    PR_SET_FPEXC,
    PR_GET_TIMING,
    PR_SET_TIMING,
    PR_SET_NAME,
    PR_GET_NAME,
    PR_GET_ENDIAN,
    PR_SET_ENDIAN,
    PR_GET_SECCOMP,
    PR_SET_SECCOMP,
    PR_CAPBSET_READ,
    PR_CAPBSET_DROP,
    PR_GET_TSC,
    PR_SET_TSC,
    PR_GET_SECUREBITS,
    PR_SET_SECUREBITS,
    PR_SET_TIMERSLACK,
    PR_GET_TIMERSLACK,
    PR_TASK_PERF_EVENTS_DISABLE,
    PR_TASK_PERF_EVENTS_ENABLE,
    PR_MCE_KILL,
    PR_MCE_KILL_GET,
    PR_SET_MM,
    PR_SET_CHILD_SUBREAPER,
    PR_GET_CHILD_SUBREAPER,
    PR_SET_NO_NEW_PRIVS,
    PR_GET_NO_NEW_PRIVS,
    PR_GET_TID_ADDRESS,
    PR_SET_THP_DISABLE,
    PR_GET_THP_DISABLE,
    PR_MPX_ENABLE_MANAGEMENT,
    PR_MPX_DISABLE_MANAGEMENT,
    PR_SET_FP_MODE,
    PR_GET_FP_MODE,
    PR_CAP_AMBIENT,
    PR_SVE_SET_VL = 50,
    PR_SVE_GET_VL = 51,
    PR_GET_SPECULATION_CTRL = 52,
    PR_SET_SPECULATION_CTRL = 53,
    PR_PAC_RESET_KEYS = 54,
    PR_SET_TAGGED_ADDR_CTRL = 55,
    PR_GET_TAGGED_ADDR_CTRL = 56,
    PR_SET_IO_FLUSHER = 57,
    PR_GET_IO_FLUSHER = 58,
    PR_SET_SYSCALL_USER_DISPATCH = 59,
    PR_SCHED_CORE = 62,
    PR_SET_VMA = 0x53564d41,
];

/// prctl(option, arg2, arg3, arg4, arg5): the option by name; options without arguments stop
/// there, as strace prints them, and the rest show their arguments in hex.
pub fn prctl(a: &mut Args, v: &[u64; 6]) {
    let option = v[0] as u32 as i32;
    a.constant(PRCTL_OPTIONS, option as u32 as u64, "PR_");
    match option {
        libc::PR_GET_DUMPABLE
        | libc::PR_GET_KEEPCAPS
        | libc::PR_GET_SECCOMP
        | libc::PR_GET_TIMING
        | libc::PR_GET_SECUREBITS
        | libc::PR_GET_TIMERSLACK
        | libc::PR_TASK_PERF_EVENTS_DISABLE
        | libc::PR_TASK_PERF_EVENTS_ENABLE
        | libc::PR_GET_CHILD_SUBREAPER
        | libc::PR_GET_NO_NEW_PRIVS
        | libc::PR_GET_THP_DISABLE => {}
        libc::PR_SET_PDEATHSIG => super::signal::sig_arg(a, v[1]),
        libc::PR_GET_PDEATHSIG | libc::PR_GET_NAME | libc::PR_SET_NAME | libc::PR_GET_TID_ADDRESS => a.ptr(v[1]),
        libc::PR_SET_DUMPABLE
        | libc::PR_SET_KEEPCAPS
        | libc::PR_SET_CHILD_SUBREAPER
        | libc::PR_CAPBSET_READ
        | libc::PR_CAPBSET_DROP => a.udec(v[1] as u32 as u64),
        libc::PR_SET_NO_NEW_PRIVS | libc::PR_SET_THP_DISABLE => {
            for &x in &v[1..5] {
                a.udec(x);
            }
        }
        _ => {
            for &x in &v[1..5] {
                a.hex(x);
            }
        }
    }
}

pub static RLIMITS: Table = x![
    RLIMIT_CPU,
    RLIMIT_FSIZE,
    RLIMIT_DATA,
    RLIMIT_STACK,
    RLIMIT_CORE,
    RLIMIT_RSS,
    RLIMIT_NPROC,
    RLIMIT_NOFILE,
    RLIMIT_MEMLOCK,
    RLIMIT_AS,
    RLIMIT_LOCKS,
    RLIMIT_SIGPENDING,
    RLIMIT_MSGQUEUE,
    RLIMIT_NICE,
    RLIMIT_RTPRIO,
    RLIMIT_RTTIME,
];

/// prlimit64(pid, resource, new_limit, old_limit): the limits are not captured yet.
pub fn prlimit64(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    a.constant(RLIMITS, v[1] as u32 as u64, "RLIMIT_");
    a.ptr(v[2]);
    a.ptr(v[3]);
}

/// getrlimit(resource, rlim), setrlimit.
pub fn getrlimit(a: &mut Args, v: &[u64; 6]) {
    a.constant(RLIMITS, v[0] as u32 as u64, "RLIMIT_");
    a.ptr(v[1]);
}

pub static RUSAGE_WHO: Table = x![RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD];

pub fn getrusage(a: &mut Args, v: &[u64; 6]) {
    let who = v[0] as u32 as i32;
    a.constant(RUSAGE_WHO, who as i64 as u64 & 0xffff_ffff, "RUSAGE_");
    a.ptr(v[1]);
}

pub static GRND_FLAGS: Table = x![GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE];

/// getrandom(buf, buflen, flags): the buffer is an output.
pub fn getrandom(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
    a.flags(GRND_FLAGS, v[2] as u32 as u64, "0");
}

/// sched_getaffinity(pid, cpusetsize, mask), sched_setaffinity.
pub fn sched_affinity(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    a.udec(v[1]);
    a.ptr(v[2]);
}

pub static CLOCKS: Table = x![
    CLOCK_REALTIME,
    CLOCK_MONOTONIC,
    CLOCK_PROCESS_CPUTIME_ID,
    CLOCK_THREAD_CPUTIME_ID,
    CLOCK_MONOTONIC_RAW,
    CLOCK_REALTIME_COARSE,
    CLOCK_MONOTONIC_COARSE,
    CLOCK_BOOTTIME,
    CLOCK_REALTIME_ALARM,
    CLOCK_BOOTTIME_ALARM,
    CLOCK_TAI,
];

fn clock(a: &mut Args, v: u64) {
    let id = v as u32 as i32;
    if id < 0 {
        // A process or thread CPU clock (`MAKE_PROCESS_CPUCLOCK`): strace shows the number.
        a.int(v);
    } else {
        a.constant(CLOCKS, id as u64, "CLOCK_");
    }
}

/// clock_gettime(clockid, tp), clock_getres, clock_settime.
pub fn clock_gettime(a: &mut Args, v: &[u64; 6]) {
    clock(a, v[0]);
    a.ptr(v[1]);
}

/// clock_nanosleep(clockid, flags, request, remain).
pub fn clock_nanosleep(a: &mut Args, v: &[u64; 6]) {
    clock(a, v[0]);
    a.flags(x![TIMER_ABSTIME], v[1] as u32 as u64, "0");
    a.ptr(v[2]);
    a.ptr(v[3]);
}

/// Calls of one or two pointers to outputs: uname(buf), sysinfo(info), nanosleep(req, rem),
/// gettimeofday(tv, tz), times(buf), pipe(fds).
pub fn ptrs(a: &mut Args, v: &[u64; 6], n: usize) {
    for &p in &v[..n] {
        a.ptr(p);
    }
}

pub fn ptr1(a: &mut Args, v: &[u64; 6]) {
    ptrs(a, v, 1);
}

pub fn ptr2(a: &mut Args, v: &[u64; 6]) {
    ptrs(a, v, 2);
}

pub fn ptr3(a: &mut Args, v: &[u64; 6]) {
    ptrs(a, v, 3);
}

/// setuid(uid), setgid, setfsuid, setfsgid.
pub fn id1(a: &mut Args, v: &[u64; 6]) {
    super::file::id(a, v[0]);
}

pub fn id2(a: &mut Args, v: &[u64; 6]) {
    super::file::id(a, v[0]);
    super::file::id(a, v[1]);
}

pub fn id3(a: &mut Args, v: &[u64; 6]) {
    super::file::id(a, v[0]);
    super::file::id(a, v[1]);
    super::file::id(a, v[2]);
}

/// getgroups(size, list), setgroups.
pub fn groups(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    a.ptr(v[1]);
}

/// getpgid(pid), getsid(pid), sched_getscheduler(pid)... : one int.
pub fn int1(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
}

pub fn int2(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    a.int(v[1]);
}

/// alarm(seconds).
pub fn uint1(a: &mut Args, v: &[u64; 6]) {
    a.uint(v[0]);
}

pub static PRIO_WHICH: Table = x![PRIO_PROCESS, PRIO_PGRP, PRIO_USER];

/// getpriority(which, who), setpriority(which, who, prio).
pub fn getpriority(a: &mut Args, v: &[u64; 6]) {
    a.constant(PRIO_WHICH, v[0] as u32 as u64, "PRIO_");
    a.int(v[1]);
}

pub fn setpriority(a: &mut Args, v: &[u64; 6]) {
    getpriority(a, v);
    a.int(v[2]);
}

pub static MEMBARRIER_CMDS: Table = x![
    MEMBARRIER_CMD_QUERY = 0,
    MEMBARRIER_CMD_GLOBAL = 1,
    MEMBARRIER_CMD_GLOBAL_EXPEDITED = 2,
    MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 4,
    MEMBARRIER_CMD_PRIVATE_EXPEDITED = 8,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 16,
    MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 32,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64,
    MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 128,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 256,
];

/// membarrier(cmd, flags, cpu_id).
pub fn membarrier(a: &mut Args, v: &[u64; 6]) {
    a.constant(MEMBARRIER_CMDS, v[0] as u32 as u64, "MEMBARRIER_CMD_");
    a.uint(v[1]);
    a.int(v[2]);
}

/// pidfd_open(pid, flags).
pub fn pidfd_open(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    a.flags(x![PIDFD_NONBLOCK], v[1] as u32 as u64, "0");
}

/// pidfd_getfd(pidfd, targetfd, flags).
pub fn pidfd_getfd(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.int(v[1]);
    a.uint(v[2]);
}
