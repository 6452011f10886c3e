//! Processes, limits, time and identity: clone, exit, wait4, prlimit64, arch_prctl, prctl,
//! getrandom, clocks, scheduling (strace's `clone.c`, `exit.c`, `wait.c`, `resource.c`,
//! `prctl.c`, `time.c`, `affinity.c`).

use std::fmt::Write;

use super::Cap;
use super::format::{self, Args};
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

/// clone3's flags: clone's, and the 64-bit ones.
pub static CLONE3_FLAGS: Table = x![
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
    CLONE_CLEAR_SIGHAND = 0x1_0000_0000u64,
    CLONE_INTO_CGROUP = 0x2_0000_0000u64,
];

/// `struct clone_args` up to `tls` (`CLONE_ARGS_SIZE_VER0`).
pub const CLONE_ARGS_CAP: Cap = Cap::Fixed { arg: 0, len: 64 };

/// clone3(args, size): the fields strace prints at entry, `{flags=..., exit_signal=SIGCHLD,
/// stack=NULL, stack_size=0}` (the pointers only with the flags that use them; `set_tid` and
/// `cgroup` are not shown). What strace adds after the call (`=> {parent_tid=[...]}`) is an
/// output.
pub fn clone3(a: &mut Args, v: &[u64; 6]) {
    let size = v[1];
    a.input(0, |out, c| {
        if size < 64 {
            format::ptr(out, v[0]);
            return;
        }
        let f = |i: usize| format::word(c, i * 8);
        let flags = f(0);
        out.push_str("{flags=");
        xlat::flags(out, CLONE3_FLAGS, flags, "0");
        let has = |bit: i32| flags & bit as u64 != 0;
        let field = |out: &mut String, name: &str, v: u64| {
            let _ = write!(out, ", {name}=");
            format::ptr(out, v);
        };
        if has(libc::CLONE_PIDFD) {
            field(out, "pidfd", f(1));
        }
        if has(libc::CLONE_CHILD_SETTID) || has(libc::CLONE_CHILD_CLEARTID) {
            field(out, "child_tid", f(2));
        }
        if has(libc::CLONE_PARENT_SETTID) {
            field(out, "parent_tid", f(3));
        }
        out.push_str(", exit_signal=");
        match f(4) as u32 as i32 {
            0 => out.push('0'),
            sig => super::signal::signal(out, sig),
        }
        field(out, "stack", f(5));
        out.push_str(", stack_size=");
        format::hex(out, f(6));
        if has(libc::CLONE_SETTLS) {
            field(out, "tls", f(7));
        }
        out.push('}');
    });
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
        // The name, captured at entry whatever the option (the row's Cap::Str(1)).
        libc::PR_SET_NAME => a.string(1),
        libc::PR_GET_PDEATHSIG | libc::PR_GET_NAME | libc::PR_GET_TID_ADDRESS => a.ptr(v[1]),
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

/// A limit as strace's `sprint_rlim64`: `RLIM64_INFINITY`, `8192*1024`, `20000`.
fn rlim(out: &mut String, v: u64) {
    if v == u64::MAX {
        out.push_str("RLIM64_INFINITY");
    } else if v > 1024 && v % 1024 == 0 {
        let _ = write!(out, "{}*1024", v / 1024);
    } else {
        let _ = write!(out, "{v}");
    }
}

/// A `struct rlimit`: `{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}`.
pub fn rlimit(out: &mut String, data: &[u8]) {
    out.push_str("{rlim_cur=");
    rlim(out, format::word(data, 0));
    out.push_str(", rlim_max=");
    rlim(out, format::word(data, 8));
    out.push('}');
}

/// prlimit64(pid, resource, new_limit, old_limit): the old limit is an output.
pub fn prlimit64(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    a.constant(RLIMITS, v[1] as u32 as u64, "RLIMIT_");
    a.input(2, rlimit);
    a.ptr(v[3]);
}

/// getrlimit(resource, rlim): the limit is an output.
pub fn getrlimit(a: &mut Args, v: &[u64; 6]) {
    a.constant(RLIMITS, v[0] as u32 as u64, "RLIMIT_");
    a.ptr(v[1]);
}

/// setrlimit(resource, rlim).
pub fn setrlimit(a: &mut Args, v: &[u64; 6]) {
    a.constant(RLIMITS, v[0] as u32 as u64, "RLIMIT_");
    a.input(1, rlimit);
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

/// sched_getaffinity(pid, cpusetsize, mask): the mask is an output.
pub fn sched_affinity(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    a.udec(v[1]);
    a.ptr(v[2]);
}

/// sched_setaffinity(pid, cpusetsize, mask): the CPUs of the mask, `[0 1]` (its first
/// `max(-s, 8)` bytes: 256 CPUs at the default `-s 32`).
pub fn sched_setaffinity(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    a.udec(v[1]);
    a.input(2, |out, data| format::bit_list(out, data, data.len() * 8));
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

/// clock_nanosleep(clockid, flags, request, remain): the remainder is an output.
pub fn clock_nanosleep(a: &mut Args, v: &[u64; 6]) {
    clock(a, v[0]);
    a.flags(x![TIMER_ABSTIME], v[1] as u32 as u64, "0");
    a.input(2, format::timespec);
    a.ptr(v[3]);
}

/// nanosleep(req, rem): the remainder is an output.
pub fn nanosleep(a: &mut Args, v: &[u64; 6]) {
    a.input(0, format::timespec);
    a.ptr(v[1]);
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

const MEMBARRIER_CMD_FLAG_CPU: u64 = 1;

/// membarrier(cmd, flags, cpu_id): the CPU only with `MEMBARRIER_CMD_FLAG_CPU`, as strace.
pub fn membarrier(a: &mut Args, v: &[u64; 6]) {
    a.constant(MEMBARRIER_CMDS, v[0] as u32 as u64, "MEMBARRIER_CMD_");
    let flags = v[1] as u32 as u64;
    a.flags(x![MEMBARRIER_CMD_FLAG_CPU = MEMBARRIER_CMD_FLAG_CPU], flags, "0");
    if flags & MEMBARRIER_CMD_FLAG_CPU != 0 {
        a.int(v[2]);
    }
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

pub static CAP_VERSIONS: Table = x![
    _LINUX_CAPABILITY_VERSION_1 = 0x1998_0330,
    _LINUX_CAPABILITY_VERSION_2 = 0x2007_1026,
    _LINUX_CAPABILITY_VERSION_3 = 0x2008_0522,
];

/// The capabilities, as strace's `1<<CAP_CHOWN|...` flags.
pub static CAPS: Table = &[
    (1 << 0, "1<<CAP_CHOWN"),
    (1 << 1, "1<<CAP_DAC_OVERRIDE"),
    (1 << 2, "1<<CAP_DAC_READ_SEARCH"),
    (1 << 3, "1<<CAP_FOWNER"),
    (1 << 4, "1<<CAP_FSETID"),
    (1 << 5, "1<<CAP_KILL"),
    (1 << 6, "1<<CAP_SETGID"),
    (1 << 7, "1<<CAP_SETUID"),
    (1 << 8, "1<<CAP_SETPCAP"),
    (1 << 9, "1<<CAP_LINUX_IMMUTABLE"),
    (1 << 10, "1<<CAP_NET_BIND_SERVICE"),
    (1 << 11, "1<<CAP_NET_BROADCAST"),
    (1 << 12, "1<<CAP_NET_ADMIN"),
    (1 << 13, "1<<CAP_NET_RAW"),
    (1 << 14, "1<<CAP_IPC_LOCK"),
    (1 << 15, "1<<CAP_IPC_OWNER"),
    (1 << 16, "1<<CAP_SYS_MODULE"),
    (1 << 17, "1<<CAP_SYS_RAWIO"),
    (1 << 18, "1<<CAP_SYS_CHROOT"),
    (1 << 19, "1<<CAP_SYS_PTRACE"),
    (1 << 20, "1<<CAP_SYS_PACCT"),
    (1 << 21, "1<<CAP_SYS_ADMIN"),
    (1 << 22, "1<<CAP_SYS_BOOT"),
    (1 << 23, "1<<CAP_SYS_NICE"),
    (1 << 24, "1<<CAP_SYS_RESOURCE"),
    (1 << 25, "1<<CAP_SYS_TIME"),
    (1 << 26, "1<<CAP_SYS_TTY_CONFIG"),
    (1 << 27, "1<<CAP_MKNOD"),
    (1 << 28, "1<<CAP_LEASE"),
    (1 << 29, "1<<CAP_AUDIT_WRITE"),
    (1 << 30, "1<<CAP_AUDIT_CONTROL"),
    (1 << 31, "1<<CAP_SETFCAP"),
    (1 << 32, "1<<CAP_MAC_OVERRIDE"),
    (1 << 33, "1<<CAP_MAC_ADMIN"),
    (1 << 34, "1<<CAP_SYSLOG"),
    (1 << 35, "1<<CAP_WAKE_ALARM"),
    (1 << 36, "1<<CAP_BLOCK_SUSPEND"),
    (1 << 37, "1<<CAP_AUDIT_READ"),
    (1 << 38, "1<<CAP_PERFMON"),
    (1 << 39, "1<<CAP_BPF"),
    (1 << 40, "1<<CAP_CHECKPOINT_RESTORE"),
];

/// `struct __user_cap_header_struct`: `{version=_LINUX_CAPABILITY_VERSION_3, pid=0}`.
fn cap_header(out: &mut String, h: &[u8]) {
    out.push_str("{version=");
    xlat::constant(out, CAP_VERSIONS, u64::from(format::word32(h, 0)), "");
    let _ = write!(out, ", pid={}}}", format::word32(h, 4) as i32);
}

/// capget(hdrp, datap): the data is an output.
pub fn capget(a: &mut Args, v: &[u64; 6]) {
    a.input(0, cap_header);
    a.ptr(v[1]);
}

/// capset(hdrp, datap): `{effective=1<<CAP_CHOWN|..., permitted=..., inheritable=0}`, the
/// two 32-bit halves of versions 2 and 3 joined (version 1 has one).
pub fn capset(a: &mut Args, v: &[u64; 6]) {
    let header = a.captured(0).filter(|_| v[0] != 0);
    let out = a.arg();
    match header {
        Some((h, _)) => cap_header(out, h),
        None => format::ptr(out, v[0]),
    }
    let words = match header.map(|(h, _)| format::word32(h, 0)) {
        Some(0x1998_0330) => 1,
        Some(0x2007_1026 | 0x2008_0522) => 2,
        _ => 0,
    };
    a.input(1, |out, d| {
        if words == 0 {
            format::ptr(out, v[1]);
            return;
        }
        // Each struct is {effective, permitted, inheritable}, 32 bits each.
        let field =
            |i: usize| (0..words).fold(0u64, |acc, w| acc | u64::from(format::word32(d, w * 12 + i * 4)) << (32 * w));
        for (i, name) in ["effective", "permitted", "inheritable"].iter().enumerate() {
            out.push_str(if i == 0 { "{" } else { ", " });
            let _ = write!(out, "{name}=");
            xlat::flags(out, CAPS, field(i), "0");
        }
        out.push('}');
    });
}

pub const CAP_CAPS: &[Cap] = &[Cap::Fixed { arg: 0, len: 8 }, Cap::Fixed { arg: 1, len: 24 }];
