//! strace-style log lines.
//!
//! `read(3, "hello", 4096)                  = 5`: the result column starts at column 40, as in
//! strace. `= ?` means the kernel ran the call itself after we answered CONTINUE, so its result is
//! not known to interpose.
//!
//! Prefixes, in strace's order: the pid (on stderr `[pid  1234] ` once a second thread or process
//! has made a traced call; with `-o FILE`, `1234  ` on every line), then the time (`-t`, `-tt`,
//! `-ttt`, or `-r` relative to the previous line).

use std::collections::HashSet;
use std::fmt::Write;

use crate::decode::{self, Ret, format, xlat};
use crate::event::{Call, Event, ExitStatus, Outcome};

use super::{Config, Only, Timestamps};

/// Column where ` = result` goes.
const RESULT_COLUMN: usize = 40;

pub struct Formatter {
    cfg: Config,
    seen: HashSet<u32>,
    last_ns: Option<u64>,
}

/// Writes the call itself (`name(args)`) and returns its arguments' spans within `out`.
pub fn call_text(ev: &Event, out: &mut String, opts: format::Options) -> Vec<std::ops::Range<usize>> {
    match ev.call {
        Call::Native(nr) => match decode::registry().get(i64::from(nr)) {
            Some(sc) => {
                let exit = match ev.outcome {
                    Outcome::Completed { ret, .. } if ret >= 0 => Some(&ev.outputs),
                    _ => None,
                };
                format::call(out, sc, &ev.args, &ev.captured, exit, ev.fd_desc.as_deref(), opts)
            }
            None => format::raw_call(out, &decode::syscall_name(nr), &ev.args, 6, 64),
        },
        Call::Foreign { arch, nr } => {
            let name = decode::foreign_name(arch, nr);
            // The argument count of the native syscall of the same name, when there is one.
            let bare = name.split_once(':').map_or(name.as_str(), |(_, n)| n);
            let nargs = decode::registry().by_name(bare).map_or(6, |s| usize::from(s.row.nargs));
            let bits = if arch == decode::ARCH_I386 { 32 } else { 64 };
            format::raw_call(out, &name, &ev.args, nargs, bits)
        }
    }
}

/// `= 3`, or `= -1 EAGAIN (Resource temporarily unavailable)`.
pub fn result(out: &mut String, ret: i64) {
    // The kernel's restart codes, as strace prints them: the program never sees them (the call
    // is restarted, or fails with EINTR once a handler ran).
    let restart = match -ret {
        512 => Some(("ERESTARTSYS", "To be restarted if SA_RESTART is set")),
        513 => Some(("ERESTARTNOINTR", "To be restarted")),
        514 => Some(("ERESTARTNOHAND", "To be restarted if no handler")),
        516 => Some(("ERESTART_RESTARTBLOCK", "Interrupted by signal")),
        _ => None,
    };
    if let Some((name, text)) = restart {
        let _ = write!(out, "= ? {name} ({text})");
    } else if ret >= 0 {
        let _ = write!(out, "= {ret}");
    } else if ret >= -4095 {
        let e = (-ret) as i32;
        let name = xlat::errno_name(e).map_or_else(|| e.to_string(), str::to_string);
        let _ = write!(out, "= -1 {name} ({})", crate::error::errno_text(e));
    } else {
        // An injected retval below -4095 is a (strange) success value, not an errno.
        let _ = write!(out, "= {ret}");
    }
}

/// A result printed as the syscall table says (`Ret`): the addresses brk and mmap return in
/// hex, umask's previous mask in octal (`= 022`), `= 0 (Timeout)` for poll and select, fcntl's
/// as its command says (`= 0x8002 (flags O_RDWR|O_LARGEFILE)`, which needs the call's `args`);
/// failures as [`result`].
pub fn typed_result(out: &mut String, kind: Ret, args: &[u64; 6], ret: i64) {
    match (kind, ret) {
        (Ret::Fcntl, 0..) => match decode::desc::fcntl_result(args, ret) {
            Some((true, note)) => {
                out.push_str("= ");
                format::hex(out, ret as u64);
                let _ = write!(out, " ({note})");
            }
            Some((false, note)) => {
                let _ = write!(out, "= {ret} ({note})");
            }
            None => result(out, ret),
        },
        (Ret::Signal, 1..) => {
            let _ = write!(out, "= {ret} (");
            decode::signal::signal(out, ret as i32);
            out.push(')');
        }
        (Ret::Hex, 0..) => {
            let _ = write!(out, "= {ret:#x}");
        }
        (Ret::Octal, 0..) => {
            out.push_str("= ");
            format::file_mode(out, ret as u32);
        }
        (Ret::Timeout, 0) => out.push_str("= 0 (Timeout)"),
        _ => result(out, ret),
    }
}

/// Whether `-z`/`-Z` keep this call (a call whose result is unknown is neither successful nor
/// failed, so both filters leave it out).
pub fn kept(only: Only, outcome: Outcome) -> bool {
    match (only, outcome) {
        (Only::All, _) => true,
        (Only::Successful, o) => o.ret().is_some_and(|r| r >= 0),
        (Only::Failed, o) => o.ret().is_some_and(|r| r < 0),
    }
}

impl Formatter {
    pub fn new(cfg: Config) -> Self {
        let mut seen = HashSet::new();
        seen.insert(cfg.launch_pid);
        Self { cfg, seen, last_ns: None }
    }

    fn pid_prefix(&mut self, tid: u32, out: &mut String) {
        self.seen.insert(tid);
        if self.cfg.to_file {
            let _ = write!(out, "{tid:<5} ");
        } else if self.seen.len() > 1 {
            let _ = write!(out, "[pid {tid:>5}] ");
        }
    }

    fn time_prefix(&mut self, ns: u64, out: &mut String) {
        if self.cfg.relative {
            let d = ns.saturating_sub(self.last_ns.unwrap_or(ns));
            self.last_ns = Some(ns);
            let _ = write!(out, "{:>6}.{:06} ", d / 1_000_000_000, d % 1_000_000_000 / 1000);
            return;
        }
        let (secs, micros) = ((ns / 1_000_000_000) as i64, ns % 1_000_000_000 / 1000);
        match self.cfg.timestamps {
            Timestamps::None => {}
            Timestamps::Seconds | Timestamps::Micros => {
                let (h, m, s) = crate::sys::time::local_hms(secs);
                let _ = write!(out, "{h:02}:{m:02}:{s:02}");
                if self.cfg.timestamps == Timestamps::Micros {
                    let _ = write!(out, ".{micros:06}");
                }
                out.push(' ');
            }
            Timestamps::Epoch => {
                let _ = write!(out, "{secs}.{micros:06} ");
            }
        }
    }

    /// Appends the line for `ev` (with its newline) to `out`; nothing when logging is off or
    /// `-z`/`-Z` filter it out.
    pub fn event(&mut self, ev: &Event, out: &mut String) {
        if !self.cfg.log || !kept(self.cfg.only, ev.outcome) {
            return;
        }
        let line_start = out.len();
        self.pid_prefix(ev.tid, out);
        self.time_prefix(ev.realtime_ns, out);
        call_text(ev, out, self.cfg.decode);
        out.push(' ');
        let width = out[line_start..].chars().count();
        if width < RESULT_COLUMN {
            out.extend(std::iter::repeat_n(' ', RESULT_COLUMN - width));
        }
        match ev.outcome {
            Outcome::Continued => out.push_str("= ?"),
            Outcome::Interrupted => out.push_str("= ? <interrupted>"),
            Outcome::Completed { ret, .. }
            | Outcome::Returned { ret, .. }
            | Outcome::Injected { ret, .. }
            | Outcome::Denied { ret } => {
                typed_result(out, ret_kind(ev.call), &ev.args, ret);
                if ret >= 0
                    && let Some(d) = &ev.ret_desc
                {
                    let _ = write!(out, "<{d}>");
                }
            }
        }
        match ev.outcome {
            Outcome::Injected { .. } => out.push_str(" (INJECTED)"),
            Outcome::Denied { .. } => out.push_str(" (DENIED)"),
            Outcome::Completed { .. } | Outcome::Returned { .. } | Outcome::Continued | Outcome::Interrupted => {}
        }
        if ev.delayed {
            out.push_str(" (DELAYED)");
        }
        if self.cfg.syscall_times
            && let Outcome::Completed { dur_ns, .. }
            | Outcome::Returned { dur_ns, .. }
            | Outcome::Injected { dur_ns, .. } = ev.outcome
        {
            let _ = write!(out, " <{}.{:06}>", dur_ns / 1_000_000_000, (dur_ns % 1_000_000_000) / 1000);
        }
        out.push('\n');
    }

    /// `+++ exited with 0 +++` / `+++ killed by SIGKILL (core dumped) +++`. Written once every
    /// traced task is gone, so on stderr it has no pid prefix (strace's, with one task left).
    /// `-qq` leaves it out, as in strace.
    pub fn exit(&mut self, pid: u32, status: ExitStatus, realtime_ns: u64, out: &mut String) {
        if !self.cfg.log || self.cfg.quiet >= 2 {
            return;
        }
        if self.cfg.to_file {
            let _ = write!(out, "{pid:<5} ");
        }
        self.time_prefix(realtime_ns, out);
        match status {
            ExitStatus::Exited(code) => {
                let _ = writeln!(out, "+++ exited with {code} +++");
            }
            ExitStatus::Signaled { signal, core_dumped } => {
                let core = if core_dumped { " (core dumped)" } else { "" };
                let _ = writeln!(out, "+++ killed by {}{core} +++", xlat::signal_name(signal));
            }
        }
    }
}

/// How the table says a call's successful result prints (other ABIs' calls: in decimal).
fn ret_kind(call: Call) -> Ret {
    match call {
        Call::Native(nr) => decode::registry().get(i64::from(nr)).map_or(Ret::Int, |sc| sc.row.dec.ret),
        Call::Foreign { .. } => Ret::Int,
    }
}

/// The name a call is listed under in the summary (`read`, `i386:connect`).
pub fn call_name(ev: &Event) -> String {
    match ev.call {
        Call::Native(nr) => decode::syscall_name(nr),
        Call::Foreign { arch, nr } => decode::foreign_name(arch, nr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(kind: Ret, ret: i64) -> String {
        let mut s = String::new();
        typed_result(&mut s, kind, &[0; 6], ret);
        s
    }

    fn fcntl(cmd: i32, ret: i64) -> String {
        let mut s = String::new();
        typed_result(&mut s, Ret::Fcntl, &[3, cmd as u64, 0, 0, 0, 0], ret);
        s
    }

    /// As strace 6.1 prints them (tests/progs/coverage.c under strace).
    #[test]
    fn fcntl_results_as_their_command_says() {
        assert_eq!(fcntl(libc::F_GETFL, 0x8002), "= 0x8002 (flags O_RDWR|O_LARGEFILE)");
        assert_eq!(fcntl(libc::F_GETFL, 0x800), "= 0x800 (flags O_RDONLY|O_NONBLOCK)");
        assert_eq!(fcntl(libc::F_GETFL, 0), "= 0 (flags O_RDONLY)");
        assert_eq!(fcntl(libc::F_GETFD, 1), "= 0x1 (flags FD_CLOEXEC)");
        assert_eq!(fcntl(libc::F_GETFD, 0), "= 0");
        assert_eq!(fcntl(libc::F_GETLEASE, 2), "= 0x2 (F_UNLCK)");
        assert_eq!(fcntl(libc::F_GET_SEALS, 6), "= 0x6 (seals F_SEAL_SHRINK|F_SEAL_GROW)");
        assert_eq!(fcntl(11, 10), "= 10 (SIGUSR1)");
        assert_eq!(fcntl(11, 0), "= 0");
        assert_eq!(fcntl(libc::F_GETOWN, 0), "= 0");
        assert_eq!(fcntl(libc::F_GETPIPE_SZ, 65536), "= 65536");
        assert_eq!(fcntl(libc::F_DUPFD, 50), "= 50");
        assert_eq!(fcntl(libc::F_GETFL, -9), "= -1 EBADF (Bad file descriptor)");
        assert_eq!(typed(Ret::Signal, 10), "= 10 (SIGUSR1)");
        assert_eq!(typed(Ret::Signal, -11), "= -1 EAGAIN (Resource temporarily unavailable)");
    }

    #[test]
    fn results_print_as_the_table_says() {
        assert_eq!(typed(Ret::Hex, 0x7f00_0000_1000), "= 0x7f0000001000");
        assert_eq!(typed(Ret::Octal, 0o22), "= 022");
        assert_eq!(typed(Ret::Octal, 0), "= 000");
        assert_eq!(typed(Ret::Timeout, 0), "= 0 (Timeout)");
        assert_eq!(typed(Ret::Timeout, 2), "= 2");
        assert_eq!(typed(Ret::Int, 0), "= 0");
        assert_eq!(typed(Ret::Timeout, -4), "= -1 EINTR (Interrupted system call)");
        assert_eq!(typed(Ret::Hex, -12), "= -1 ENOMEM (Cannot allocate memory)");
    }

    #[test]
    fn the_table_names_the_result_kinds() {
        let kind = |nr: i64| ret_kind(Call::Native(nr as u32));
        assert_eq!(kind(libc::SYS_mmap), Ret::Hex);
        assert_eq!(kind(libc::SYS_shmat), Ret::Hex);
        assert_eq!(kind(libc::SYS_umask), Ret::Octal);
        assert_eq!(kind(libc::SYS_poll), Ret::Timeout);
        assert_eq!(kind(libc::SYS_pselect6), Ret::Timeout);
        assert_eq!(kind(libc::SYS_epoll_wait), Ret::Int);
        assert_eq!(kind(libc::SYS_read), Ret::Int);
    }
}
