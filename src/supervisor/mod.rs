//! The receive loop: receive -> decide -> capture -> answer -> record.
//!
//! One thread owns the listener and does nothing but this loop; formatting and writing happen
//! on the output thread. Per notification the work is: RECV; for a logged call with pointer
//! arguments, copy them out and re-validate the id (ID_VALID) so that bytes read from a dead or
//! reused thread are never shown; SEND; count; hand the event over.
//!
//! Signals (design.md, "Signals"): a notification withdrawn before RECV is never seen (a restarted
//! call produces a fresh one, counted once); one withdrawn after RECV (only a fatal signal can, with
//! WAIT_KILLABLE_RECV) makes SEND fail with ENOENT and is recorded as interrupted, not as a call.
//!
//! The run ends when the listener hangs up: every task that held the filter has been released.

pub mod exec;

use std::fs::File;
use std::io::{self, Read};
use std::sync::mpsc::SyncSender;

use crate::decode::{self, ARCH_X86_64, NR_LIMIT, X32_SYSCALL_BIT, capture};
use crate::event::{Call, Event, Outcome};
use crate::output::Record;
use crate::policy::SyscallSet;
use crate::stats::Stats;
use crate::sys::child::Report;
use crate::sys::seccomp::{Listener, Notification, Recv, Response};

/// What the supervisor needs to know.
pub struct Config {
    /// Syscalls to report (the filter may trap more, e.g. execve for the handshake).
    pub traced: SyscallSet,
    pub limits: capture::Limits,
    /// Capture arguments and send events to the writer (off for `-c`).
    pub log: bool,
    /// Execute fd-based calls on the program's behalf to learn their results (see [`exec`]).
    pub execute: bool,
    /// Poll before each RECV: needed on kernels older than 6.6, where a blocked RECV is not woken
    /// when the last task holding the filter goes away.
    pub poll_before_recv: bool,
}

/// The launched process, as the handshake left it.
pub struct LaunchState {
    pub pid: u32,
    /// Read end of the report pipe, non-blocking. EOF means the exec succeeded.
    pub report: File,
}

/// What the run produced.
pub struct Outcomes {
    pub stats: Stats,
    /// Set when the launched program's execve failed (errno).
    pub exec_error: Option<i32>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// The child has not reached its execve yet.
    AwaitingExec,
    /// We answered the child's execve; its result is not known yet.
    AwaitingExecResult,
    /// The program runs.
    Running,
}

pub struct Supervisor<'a> {
    listener: &'a Listener,
    cfg: Config,
    launch: LaunchState,
    phase: Phase,
    exec_error: Option<i32>,
    stats: Stats,
    sink: Option<SyncSender<Record>>,
    blobs: Vec<capture::Blob>,
    executor: exec::Executor,
}

impl<'a> Supervisor<'a> {
    pub fn new(listener: &'a Listener, cfg: Config, launch: LaunchState, sink: Option<SyncSender<Record>>) -> Self {
        let executor = exec::Executor::new(cfg.limits.strsize, cfg.log);
        Self {
            listener,
            cfg,
            launch,
            phase: Phase::AwaitingExec,
            exec_error: None,
            stats: Stats::default(),
            executor,
            sink,
            blobs: Vec::new(),
        }
    }

    /// Serves notifications until every traced task is gone.
    pub fn run(mut self) -> io::Result<Outcomes> {
        let mut n = Notification::default();
        loop {
            if self.cfg.poll_before_recv {
                let (readable, hup) = self.listener.poll(-1)?;
                if hup && !readable {
                    break;
                }
            }
            match self.listener.recv(&mut n)? {
                Recv::Got => self.handle(&n),
                Recv::Gone => {
                    if self.listener.hung_up() {
                        break;
                    }
                }
                Recv::Interrupted => {}
            }
        }
        if self.phase != Phase::Running {
            self.check_exec();
        }
        Ok(Outcomes { stats: self.stats, exec_error: self.exec_error })
    }

    /// Reads the report pipe: EOF means the exec went through.
    fn check_exec(&mut self) -> bool {
        let mut buf = [0u8; 8];
        loop {
            match self.launch.report.read(&mut buf) {
                Ok(0) => return true,
                Ok(8) => {
                    let r = Report::from_bytes(buf);
                    if r.kind == Report::FAILED_EXEC {
                        self.exec_error = Some(r.value);
                    }
                }
                Ok(_) => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    /// Launch-phase bookkeeping. Returns false when the notification belongs to the launcher's own
    /// set-up (before or after a failed exec) and must be answered without being reported.
    fn launch_phase(&mut self, n: &Notification) -> bool {
        if n.tid() != self.launch.pid {
            // Only the exec'd program can have other threads or children.
            self.phase = Phase::Running;
            return true;
        }
        match self.phase {
            Phase::AwaitingExec => {
                if n.arch() == ARCH_X86_64 && is_exec(n.nr()) {
                    self.phase = Phase::AwaitingExecResult;
                    true
                } else {
                    false
                }
            }
            Phase::AwaitingExecResult => {
                if self.check_exec() {
                    self.phase = Phase::Running;
                    true
                } else {
                    false
                }
            }
            Phase::Running => true,
        }
    }

    fn handle(&mut self, n: &Notification) {
        if self.phase != Phase::Running && !self.launch_phase(n) {
            self.answer(n, Response::Continue);
            return;
        }
        let (nr, arch) = (n.nr(), n.arch());
        let native = arch == ARCH_X86_64 && nr & X32_SYSCALL_BIT == 0 && (nr as usize) < NR_LIMIT && nr >= 0;
        let (call, traced) = if native {
            (Call::Native(nr as u32), self.cfg.traced.contains(nr as u32))
        } else {
            (Call::Foreign { arch, nr }, self.foreign_traced(arch, nr))
        };
        if !traced {
            self.answer(n, Response::Continue);
            return;
        }
        let realtime_ns = realtime_ns();
        let args = n.args();
        let sc = match call {
            Call::Native(nr) => decode::registry().get(i64::from(nr)),
            Call::Foreign { .. } => None,
        };
        self.blobs.clear();
        if self.cfg.log
            && let Some(sc) = sc
        {
            capture::capture(sc.decoder, n.tid(), &args, self.cfg.limits, &mut self.blobs);
            // Bytes read for a notification that died meanwhile may belong to another thread
            // that reused the id: drop them.
            if !self.blobs.is_empty() && !self.listener.id_valid(n.id()) {
                self.blobs.clear();
            }
        }
        let mut exit_blobs = Vec::new();
        let execution = match sc {
            Some(sc) if self.cfg.execute && exec::Executor::handles(sc.decoder, sc.name()) => {
                self.executor.execute(self.listener, n, sc.decoder)
            }
            _ => exec::Execution::Declined,
        };
        let outcome = match execution {
            exec::Execution::Declined => {
                if self.answer(n, Response::Continue) {
                    Outcome::Continued
                } else {
                    Outcome::Interrupted
                }
            }
            exec::Execution::Done(done) => {
                let live = match done.answered {
                    Some(live) => live,
                    None => self.answer(
                        n,
                        match done.result {
                            Ok(v) => Response::Value(v as i64),
                            Err(e) => Response::Error(e),
                        },
                    ),
                };
                exit_blobs = done.blobs;
                let ret = match done.result {
                    Ok(v) => v as i64,
                    Err(e) => -i64::from(e),
                };
                if live { Outcome::Completed { ret, dur_ns: done.dur_ns } } else { Outcome::Interrupted }
            }
        };
        self.stats.record(call, &args, outcome);
        if self.cfg.log
            && let Some(sink) = &self.sink
        {
            let ev = Event {
                tid: n.tid(),
                realtime_ns,
                call,
                args,
                blobs: std::mem::take(&mut self.blobs),
                exit_blobs,
                outcome,
            };
            if sink.send(Record::Call(ev)).is_err() {
                // The writer is gone (it failed and said so); keep serving the target.
                self.sink = None;
            }
        }
    }

    /// Sends the answer; false when the notification was no longer live.
    fn answer(&self, n: &Notification, r: Response) -> bool {
        match self.listener.respond(n.id(), r) {
            Ok(live) => live,
            Err(e) => {
                tracing::warn!(id = n.id(), tid = n.tid(), nr = n.nr(), error = %e, "NOTIF_SEND failed");
                false
            }
        }
    }

    /// Whether a foreign-ABI call is one the policy selects (by name).
    fn foreign_traced(&self, arch: u32, nr: i32) -> bool {
        let name = decode::foreign_name(arch, nr);
        let bare = name.split_once(':').map_or(name.as_str(), |(_, n)| n);
        decode::registry().by_name(bare).is_some_and(|sc| self.cfg.traced.contains(sc.nr()))
    }
}

fn is_exec(nr: i32) -> bool {
    nr == libc::SYS_execve as i32 || nr == libc::SYS_execveat as i32
}

fn realtime_ns() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME)
        .unwrap_or_else(|_| nix::sys::time::TimeSpec::new(0, 0));
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}
