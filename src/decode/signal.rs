//! Signals: rt_sigaction, rt_sigprocmask, kill and friends (strace's `signal.c`).
//!
//! Sets and actions live in the program's memory and are not captured yet: they show as
//! addresses (`NULL` when absent).

use std::fmt::Write;

use super::format::Args;
use super::xlat::{self, Table, x};

/// `SIGINT`; real-time signals as strace names them: 32 is `SIGRTMIN`, 33 `SIGRT_1`, ...
pub fn signal(out: &mut String, sig: i32) {
    match xlat::lookup(xlat::SIGNALS, sig as u32 as u64) {
        Some(n) => out.push_str(n),
        None if sig == 32 => out.push_str("SIGRTMIN"),
        None if (33..=64).contains(&sig) => {
            let _ = write!(out, "SIGRT_{}", sig - 32);
        }
        None => {
            let _ = write!(out, "{sig}");
        }
    }
}

/// A signal argument; 0 (the "may I signal" probe of kill) prints as `0`.
pub fn sig_arg(a: &mut Args, v: u64) {
    let sig = v as u32 as i32;
    signal(a.arg(), sig);
}

pub static HOW: Table = x![SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK];

/// rt_sigaction(signum, act, oldact, sigsetsize).
pub fn rt_sigaction(a: &mut Args, v: &[u64; 6]) {
    sig_arg(a, v[0]);
    a.ptr(v[1]);
    a.ptr(v[2]);
    a.udec(v[3]);
}

/// rt_sigprocmask(how, set, oldset, sigsetsize).
pub fn rt_sigprocmask(a: &mut Args, v: &[u64; 6]) {
    a.constant(HOW, v[0] as u32 as u64, "SIG_");
    a.ptr(v[1]);
    a.ptr(v[2]);
    a.udec(v[3]);
}

/// rt_sigpending(set, sigsetsize), rt_sigsuspend(mask, sigsetsize).
pub fn set_size(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
}

/// rt_sigtimedwait(set, info, timeout, sigsetsize).
pub fn rt_sigtimedwait(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.ptr(v[1]);
    a.ptr(v[2]);
    a.udec(v[3]);
}

/// kill(pid, sig).
pub fn kill(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    sig_arg(a, v[1]);
}

/// tgkill(tgid, tid, sig).
pub fn tgkill(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    a.int(v[1]);
    sig_arg(a, v[2]);
}

/// rt_sigqueueinfo(tgid, sig, info).
pub fn rt_sigqueueinfo(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    sig_arg(a, v[1]);
    a.ptr(v[2]);
}

/// rt_tgsigqueueinfo(tgid, tid, sig, info).
pub fn rt_tgsigqueueinfo(a: &mut Args, v: &[u64; 6]) {
    tgkill(a, v);
    a.ptr(v[3]);
}

/// pidfd_send_signal(pidfd, sig, info, flags).
pub fn pidfd_send_signal(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    sig_arg(a, v[1]);
    a.ptr(v[2]);
    a.uint(v[3]);
}

/// sigaltstack(ss, old_ss).
pub fn sigaltstack(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.ptr(v[1]);
}

/// signalfd4(fd, mask, sizemask, flags).
pub fn signalfd4(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    a.ptr(v[1]);
    a.udec(v[2]);
    a.flags(x![SFD_CLOEXEC, SFD_NONBLOCK], v[3] as u32 as u64, "0");
}
