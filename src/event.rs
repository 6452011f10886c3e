//! What the supervisor hands to the output: one [`Event`] per notification, in receive order.
//!
//! Events carry raw numbers and captured bytes, never text: formatting happens on the output
//! thread, off the receive path.

use crate::decode::capture::Captures;

/// Which syscall, by ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// x86_64, a number in our table.
    Native(u32),
    /// Another ABI (i386 via `int $0x80`, x32) or a number we do not know.
    Foreign { arch: u32, nr: i32 },
}

/// What happened to the call after the supervisor saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered CONTINUE: the kernel runs the call; its result is not visible to us.
    Continued,
    /// The supervisor executed the call on the program's behalf: `ret` is what the program got
    /// (`-errno` on failure), `dur_ns` how long the call itself took.
    Completed { ret: i64, dur_ns: u64 },
    /// Answered CONTINUE, and the kernel's exit event said what it returned: `ret` (`-errno`,
    /// or one of the kernel's restart codes), `dur_ns` from our receipt of the notification to
    /// the exit. Output arguments are not known (the memory has moved on).
    Returned { ret: i64, dur_ns: u64 },
    /// A fault injection replaced the call: it did not run, and the program got `ret`
    /// (`-errno` or the injected retval). `dur_ns` is the injected delay, if any.
    Injected { ret: i64, dur_ns: u64 },
    /// A `[[deny]]` rule refused the call (its destination is not allowed): it did not run, and
    /// the program got `ret` (`-errno`).
    Denied { ret: i64 },
    /// The thread left the wait before our answer took effect (killed by a signal): as far as
    /// the program is concerned the call never returned. Not counted as a call.
    Interrupted,
}

impl Outcome {
    /// The errno of a failed completed call.
    pub fn errno(&self) -> Option<i32> {
        match *self {
            Outcome::Completed { ret, .. }
            | Outcome::Returned { ret, .. }
            | Outcome::Injected { ret, .. }
            | Outcome::Denied { ret }
                if ret < 0 =>
            {
                Some(-ret as i32)
            }
            _ => None,
        }
    }

    /// The return value, when known.
    pub fn ret(&self) -> Option<i64> {
        match *self {
            Outcome::Completed { ret, .. }
            | Outcome::Returned { ret, .. }
            | Outcome::Injected { ret, .. }
            | Outcome::Denied { ret } => Some(ret),
            Outcome::Continued | Outcome::Interrupted => None,
        }
    }

    /// How long the call took, when known.
    pub fn duration_ns(&self) -> Option<u64> {
        match *self {
            Outcome::Completed { dur_ns, .. } | Outcome::Returned { dur_ns, .. } | Outcome::Injected { dur_ns, .. } => {
                Some(dur_ns)
            }
            Outcome::Denied { .. } => Some(0),
            Outcome::Continued | Outcome::Interrupted => None,
        }
    }
}

/// One trapped syscall.
#[derive(Clone, Debug)]
pub struct Event {
    /// Thread id (the kernel's `seccomp_notif.pid`).
    pub tid: u32,
    /// Thread group (process) id, when the output needs it (JSON, trace file); else 0.
    pub tgid: u32,
    /// CLOCK_REALTIME when the notification was received, in nanoseconds.
    pub realtime_ns: u64,
    pub call: Call,
    pub args: [u64; 6],
    /// Argument memory captured at entry, for the decoder of `call`, by argument; empty when
    /// memory could not be trusted (the notification died while we read).
    pub captured: Captures,
    /// Output arguments of a completed call (what a read returned, the peer of an accept), by
    /// argument.
    pub outputs: Captures,
    pub outcome: Outcome,
    /// An injected delay held the call (strace's `(DELAYED)`).
    pub delayed: bool,
    /// `-y`/`-yy`: what the first argument's descriptor is (`/etc/hosts`, `TCP:[a->b]`).
    pub fd_desc: Option<String>,
    /// `-y`/`-yy`: what a returned descriptor is (accept).
    pub ret_desc: Option<String>,
    /// `-k`: the caller's stack at entry, innermost first, not yet symbolized; else empty.
    pub stack: Vec<crate::stack::RawFrame>,
}

/// A thread as the output names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadInfo {
    pub tid: u32,
    pub tgid: u32,
    /// The thread's name (`/proc/TID/comm`).
    pub comm: String,
    /// The process's name (its leader's comm).
    pub process: String,
}

/// How the launched process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled { signal: i32, core_dumped: bool },
}
