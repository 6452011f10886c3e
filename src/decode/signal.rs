//! Signals: rt_sigaction, rt_sigprocmask, kill and friends (strace's `signal.c`).
//!
//! The sets and actions a call passes in are the rows' extra captures ([`sigset_cap`],
//! [`SIGACTION_CAP`], [`STACK_CAP`]); the ones the kernel fills (an old action, a pending set)
//! show as addresses (`NULL` when absent).

use std::fmt::Write;

use super::Cap;
use super::capture::Key;
use super::format::{Args, ptr};
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

/// The kernel's `sigset_t` on x86_64 (strace's `NSIG_BYTES`): a set of another size is shown as
/// its address, as strace does.
pub const SIGSET_SIZE: u64 = 8;

/// The capture of a `sigset_t` passed in argument `arg`.
pub const fn sigset_cap(arg: u8) -> Cap {
    Cap::Fixed { arg, len: SIGSET_SIZE as u16 }
}

/// rt_sigaction's new action: the kernel's `struct sigaction` (handler, flags, restorer, mask).
pub const SIGACTION_CAP: Cap = Cap::Fixed { arg: 1, len: 32 };

/// sigaltstack's new stack: `stack_t` (ss_sp, ss_flags and padding, ss_size).
pub const STACK_CAP: Cap = Cap::Fixed { arg: 0, len: 24 };

/// libc does not define it for Linux (glibc keeps it private).
const SA_RESTORER: u64 = 0x0400_0000;

/// `sa_flags`, in strace's order.
pub static SA_FLAGS: Table = x![
    SA_RESTORER = SA_RESTORER,
    SA_ONSTACK,
    SA_RESTART,
    SA_INTERRUPT = 0x2000_0000,
    SA_NODEFER,
    SA_RESETHAND,
    SA_SIGINFO,
    SA_NOCLDSTOP,
    SA_NOCLDWAIT,
];

pub static SS_FLAGS: Table = x![SS_ONSTACK, SS_DISABLE, SS_AUTODISARM = 1u32 << 31];

fn word(data: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(data[at..at + 8].try_into().expect("8 bytes"))
}

/// A signal set as strace prints it: `[INT USR2]`, names without `SIG`; when two thirds or
/// more of the bits are set, the signals *not* in it: `~[KILL STOP RTMIN RT_1]`.
pub fn sigset(out: &mut String, data: &[u8]) {
    let data = &data[..data.len().min(SIGSET_SIZE as usize)];
    // strace counts in 32-bit words.
    let bits = data.len().div_ceil(4) * 32;
    let is_set = |i: usize| data.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1);
    let count = (0..bits).filter(|&i| is_set(i)).count();
    let inverted = count >= bits * 2 / 3;
    if inverted {
        out.push('~');
    }
    out.push('[');
    let mut first = true;
    for i in (0..bits).filter(|&i| is_set(i) != inverted) {
        if !first {
            out.push(' ');
        }
        first = false;
        let start = out.len();
        signal(out, i as i32 + 1);
        if out[start..].starts_with("SIG") {
            out.replace_range(start..start + 3, "");
        }
    }
    out.push(']');
}

/// A new action: `{sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x...}`.
pub fn sigaction(out: &mut String, data: &[u8]) {
    let (handler, flags, restorer) = (word(data, 0), word(data, 8), word(data, 16));
    out.push_str("{sa_handler=");
    match handler {
        h if h == libc::SIG_DFL as u64 => out.push_str("SIG_DFL"),
        h if h == libc::SIG_IGN as u64 => out.push_str("SIG_IGN"),
        h if h == libc::SIG_ERR as u64 => out.push_str("SIG_ERR"),
        h => ptr(out, h),
    }
    out.push_str(", sa_mask=");
    sigset(out, &data[24..]);
    out.push_str(", sa_flags=");
    xlat::flags(out, SA_FLAGS, flags, "0");
    if flags & SA_RESTORER != 0 {
        out.push_str(", sa_restorer=");
        ptr(out, restorer);
    }
    out.push('}');
}

/// A `stack_t`: `{ss_sp=0x..., ss_flags=0, ss_size=8192}`.
pub fn stack(out: &mut String, data: &[u8]) {
    out.push_str("{ss_sp=");
    ptr(out, word(data, 0));
    out.push_str(", ss_flags=");
    xlat::flags(out, SS_FLAGS, word(data, 8) as u32 as u64, "0");
    let _ = write!(out, ", ss_size={}}}", word(data, 16));
}

/// A signal set argument (`i`) of `size` bytes, captured at entry.
fn sigset_arg(a: &mut Args, i: u8, size: u64) {
    let (captured, addr) = (a.captured(i), a.addr(i));
    let out = a.arg();
    match captured {
        Some((data, _)) if size == SIGSET_SIZE => sigset(out, data),
        _ => ptr(out, addr),
    }
}

/// rt_sigaction(signum, act, oldact, sigsetsize): the old action is an output.
pub fn rt_sigaction(a: &mut Args, v: &[u64; 6]) {
    sig_arg(a, v[0]);
    let captured = a.captured(1);
    let out = a.arg();
    match captured {
        Some((data, _)) => sigaction(out, data),
        None => ptr(out, v[1]),
    }
    a.ptr(v[2]);
    a.udec(v[3]);
}

/// rt_sigprocmask(how, set, oldset, sigsetsize): the old set is an output.
pub fn rt_sigprocmask(a: &mut Args, v: &[u64; 6]) {
    a.constant(HOW, v[0] as u32 as u64, "SIG_");
    sigset_arg(a, 1, v[3]);
    a.ptr(v[2]);
    a.udec(v[3]);
}

/// rt_sigpending(set, sigsetsize): the set is an output.
pub fn set_size(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
}

/// rt_sigsuspend(mask, sigsetsize).
pub fn rt_sigsuspend(a: &mut Args, v: &[u64; 6]) {
    sigset_arg(a, 0, v[1]);
    a.udec(v[1]);
}

/// rt_sigtimedwait(set, info, timeout, sigsetsize): the info is an output.
pub fn rt_sigtimedwait(a: &mut Args, v: &[u64; 6]) {
    sigset_arg(a, 0, v[3]);
    a.ptr(v[1]);
    a.input(2, super::format::timespec);
    a.udec(v[3]);
}

pub const RT_SIGTIMEDWAIT_CAPS: &[Cap] = &[sigset_cap(0), Cap::Fixed { arg: 2, len: 16 }];

/// rt_sigreturn(): strace shows the mask the frame restores, `{mask=[]}`.
pub fn rt_sigreturn(a: &mut Args, _: &[u64; 6]) {
    if let Some((data, _)) = a.captured_at(Key::Sigframe) {
        let out = a.arg();
        out.push_str("{mask=");
        sigset(out, data);
        out.push('}');
    }
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

/// sigaltstack(ss, old_ss): the old stack is an output.
pub fn sigaltstack(a: &mut Args, v: &[u64; 6]) {
    let captured = a.captured(0);
    let out = a.arg();
    match captured {
        Some((data, _)) => stack(out, data),
        None => ptr(out, v[0]),
    }
    a.ptr(v[1]);
}

/// signalfd4(fd, mask, sizemask, flags).
pub fn signalfd4(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    sigset_arg(a, 1, v[2]);
    a.udec(v[2]);
    a.flags(x![SFD_CLOEXEC, SFD_NONBLOCK], v[3] as u32 as u64, "0");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(bits: u64) -> String {
        let mut s = String::new();
        sigset(&mut s, &bits.to_ne_bytes());
        s
    }

    fn bit(sig: i32) -> u64 {
        1 << (sig - 1)
    }

    #[test]
    fn sets_like_strace() {
        assert_eq!(set(0), "[]");
        assert_eq!(set(bit(libc::SIGUSR2)), "[USR2]");
        assert_eq!(set(bit(libc::SIGINT) | bit(libc::SIGTERM) | bit(libc::SIGCHLD)), "[INT TERM CHLD]");
        assert_eq!(set(bit(32) | bit(33) | bit(64)), "[RTMIN RT_1 RT_32]");
        // Two thirds or more of the 64 bits: the complement, as strace does.
        assert_eq!(set(u64::MAX), "~[]");
        assert_eq!(set(!(bit(libc::SIGKILL) | bit(libc::SIGSTOP) | bit(32) | bit(33))), "~[KILL STOP RTMIN RT_1]");
        let just_below = (1u64 << 41) - 1; // 41 of 64 set: listed, not inverted
        assert!(set(just_below).starts_with("[HUP INT"));
        assert!(set((1u64 << 42) - 1).starts_with("~[RT_11 RT_12"));
    }

    fn action(handler: u64, flags: u64, restorer: u64, mask: u64) -> String {
        let mut data = Vec::new();
        for w in [handler, flags, restorer, mask] {
            data.extend(w.to_ne_bytes());
        }
        let mut s = String::new();
        sigaction(&mut s, &data);
        s
    }

    #[test]
    fn actions_like_strace() {
        let flags = SA_RESTORER | libc::SA_RESTART as u64;
        assert_eq!(
            action(0, flags, 0x7f8d_c50d_0050, 0),
            "{sa_handler=SIG_DFL, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f8dc50d0050}"
        );
        let flags = SA_RESTORER | (libc::SA_ONSTACK | libc::SA_RESTART | libc::SA_SIGINFO) as u64;
        assert_eq!(
            action(0x5555_0000_1000, flags, 0x7f00_0000_0050, bit(libc::SIGUSR1)),
            "{sa_handler=0x555500001000, sa_mask=[USR1], sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_SIGINFO, \
             sa_restorer=0x7f0000000050}"
        );
        // No SA_RESTORER: no sa_restorer field; unknown bits in hex.
        assert_eq!(action(1, 0, 0, 0), "{sa_handler=SIG_IGN, sa_mask=[], sa_flags=0}");
        assert_eq!(action(u64::MAX, 0x400, 0, 0), "{sa_handler=SIG_ERR, sa_mask=[], sa_flags=0x400}");
    }

    #[test]
    fn stacks_like_strace() {
        let mut data = Vec::new();
        for w in [0x55fc_77f5_a370u64, 0, 16880] {
            data.extend(w.to_ne_bytes());
        }
        let mut s = String::new();
        stack(&mut s, &data);
        assert_eq!(s, "{ss_sp=0x55fc77f5a370, ss_flags=0, ss_size=16880}");
        data[..8].fill(0);
        data[8] = libc::SS_DISABLE as u8;
        data[16..].fill(0);
        s.clear();
        stack(&mut s, &data);
        assert_eq!(s, "{ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}");
    }
}
