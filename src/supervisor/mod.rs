//! The receive loop: receive -> decide -> capture -> (inject | execute | continue) -> answer ->
//! record.
//!
//! One thread owns the receive loop and never sleeps: formatting and writing happen on the
//! output thread, and delayed calls (fault injection's `delay_enter=`/`delay_exit=`) are completed
//! by a second supervisor thread (see [`delay`]). Per notification the receiver: classifies the
//! call; asks the injector whether a rule fires; for a logged call with pointer arguments, copies
//! them out (shown only if the answer then lands, which proves the thread was still waiting
//! during the reads: bytes read from a dead or reused thread are never shown); then completes it: injects, or executes it (see [`exec`]), or lets the kernel
//! run it; answers; counts; hands the event to the writer.
//!
//! Signals (design.md, "Signals"): a notification withdrawn before RECV is never seen (a restarted
//! call produces a fresh one, counted once); one withdrawn after RECV (only a fatal signal can, with
//! WAIT_KILLABLE_RECV) makes SEND fail with ENOENT and is recorded as interrupted, not as a call.
//!
//! The run ends when the listener hangs up: every task that held the filter has been released.

/// Borrows the program's descriptor, or returns from the calling executor method (in `exec`
/// and `meta`): the call fails with EBADF when the program has no such descriptor, and is
/// declined (left to the kernel) when the descriptor cannot be borrowed.
macro_rules! borrow_or_return {
    ($self:ident, $tid:expr, $fd:expr) => {
        match $self.borrow_local($tid, $fd) {
            Ok(l) => l,
            Err(Borrow::BadFd) => return Self::bad_fd(),
            Err(Borrow::Decline) => return None,
        }
    };
}

pub mod charges;
pub mod context;
pub mod delay;
pub mod exec;
pub mod exits;
pub mod fdcache;
pub mod guard;
pub mod inject;
pub mod meta;
pub mod wrap;

use std::fs::File;
use std::io::{self, Read};
use std::time::{Duration, Instant};

use crate::decode::{self, ARCH_X86_64, NR_LIMIT, Syscall, X32_SYSCALL_BIT, capture};
use crate::event::{Call, Event, Outcome, ThreadInfo};
use crate::output::Record;
use crate::output::sink::Sink;
use crate::policy::SyscallSet;
use crate::policy::inject::InjectRule;
use crate::stats::Stats;
use crate::sys::child::Report;
use crate::sys::seccomp::{Listener, Notification, Recv, Response};

/// What the supervisor needs to know.
pub struct Config {
    /// Syscalls to report (the filter may trap more: execve for the handshake, injected ones).
    pub traced: SyscallSet,
    pub limits: capture::Limits,
    /// Capture arguments and send events to the writer (off for `-c`).
    pub log: bool,
    /// Execute calls on the program's behalf to learn their results (see [`exec`], [`meta`]).
    pub execute: bool,
    /// `--fd-cache`: the receiving thread keeps borrowed descriptors between calls (see
    /// [`fdcache`]; the filter traps `filter::FD_WATCH`).
    pub fd_cache: bool,
    /// Poll before each RECV: needed on kernels older than 6.6, where a blocked RECV is not woken
    /// when the last task holding the filter goes away.
    pub poll_before_recv: bool,
    pub inject: Vec<InjectRule>,
    /// `[[deny]]` rules and `[network]` (see [`guard`]).
    pub deny: guard::Rules,
    /// Sync wake-up as set on the listener (`Auto`: on now, turned off at the second thread).
    pub sync_wakeup: crate::run::SyncWakeup,
    /// `-y` (1) / `-yy` (2): describe the descriptor in the first argument.
    pub decode_fds: u8,
    /// Name threads and processes for the output (JSON, trace file, report).
    pub threads: bool,
    /// Exit events of the program (see [`exits`]): results of the calls left to the kernel.
    pub exits: Option<crate::sys::perf::ExitEvents>,
    /// Thread exit records (of the whole system, where perf permits; see [`wrap`]): what is
    /// kept per thread id is forgotten when its thread exits.
    pub tasks: Option<crate::sys::perf::TaskEvents>,
    /// `--summary-mode`: also count per thread or per process.
    pub groups: crate::output::summary::Mode,
    /// `-k`: capture the stack of each logged call.
    pub stack: bool,
}

/// The launched process, as the handshake left it.
pub struct LaunchState {
    pub pid: u32,
    /// Read end of the report pipe, non-blocking. EOF means the exec succeeded.
    pub report: File,
}

/// What the run produced.
pub struct Outcomes {
    /// Handed back to be dismissed (a supervisor that fails drops it, and the guardian then
    /// kills what it watched).
    pub guardian: Option<crate::sys::guardian::Guardian>,
    pub stats: Stats,
    /// Every thread seen, named (when `Config::threads`).
    pub threads: Vec<ThreadInfo>,
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

/// A call on its way to an answer.
pub struct Pending {
    n: Notification,
    call: Call,
    sc: Option<&'static Syscall>,
    /// Reported (logged and counted); an untraced call is here only to be injected into.
    traced: bool,
    realtime_ns: u64,
    /// The thread's process, when the output names threads; else 0.
    tgid: u32,
    captured: capture::Captures,
    /// `-y`: the first argument's descriptor, described at entry.
    fd_desc: Option<String>,
    injection: Option<inject::Injection>,
    /// The `[[deny]]` rules' decision, made on a copy (see [`guard`]).
    guard: Option<guard::Guard>,
    /// CLOCK_MONOTONIC at receipt, when exit events will complete the call (else 0).
    recv_ns: u64,
    /// `-k`: the raw stack at entry (see [`crate::stack`]).
    stack: Vec<crate::stack::RawFrame>,
}

impl Pending {
    /// Forgets what was read of the thread at entry: it is the program's only if the
    /// notification was alive after the reads, which its answer landing proves. A thread that
    /// died before may have left its id to another, whose memory the reads could have seen.
    /// (The instruction pointer came with the notification: it stays.)
    fn forget_reads(&mut self) {
        self.captured = capture::Captures::new();
        self.stack.truncate(1);
        self.fd_desc = None;
    }
}

/// A call whose answer is decided and only waits for its `delay_exit`.
pub struct Decided {
    p: Pending,
    response: Response,
    /// The outcome if the answer lands.
    outcome: Outcome,
    outputs: capture::Captures,
    ret_desc: Option<String>,
}

/// Work for the delay thread.
pub enum Job {
    /// `delay_enter` has passed: complete the call.
    Resume(Pending),
    /// `delay_exit` has passed: answer.
    Answer(Decided),
}

/// Completes calls and records them: used by the receiver and by the delay thread, each with
/// its own executor and counters (merged at the end).
struct Completer<'a> {
    listener: &'a Listener,
    execute: bool,
    log: bool,
    executor: exec::Executor,
    stats: Stats,
    sink: Option<Sink>,
    delayer: Option<delay::Delayer>,
    /// Count calls per thread (for the report).
    per_thread: bool,
    /// May wait in a guarded call on a blocking socket (the worker threads).
    may_block: bool,
    /// Where guarded calls on blocking sockets go (the receiver and the delay thread).
    pool: Option<std::sync::mpsc::Sender<Pending>>,
    /// Guarded calls being executed, for the watchdog that abandons those of dead threads.
    inflight: guard::InFlight,
    /// Calls left to the kernel wait here for their exit event, when there are exit events.
    exits: Option<exits::Exits>,
    /// Also count per thread or process (`--summary-mode`).
    groups: crate::output::summary::Mode,
}

impl<'a> Completer<'a> {
    /// A completer for one supervisor thread: its own executor and counters.
    fn new(listener: &'a Listener, cfg: &Config, sink: Option<Sink>) -> Self {
        let mut executor = exec::Executor::new(cfg.limits.strsize, cfg.log);
        executor.describe = cfg.decode_fds;
        executor.exits = cfg.exits.is_some();
        Completer {
            listener,
            execute: cfg.execute,
            log: cfg.log,
            executor,
            stats: Stats::default(),
            sink,
            delayer: None,
            per_thread: cfg.threads,
            may_block: false,
            pool: None,
            inflight: guard::InFlight::default(),
            exits: None,
            groups: cfg.groups,
        }
    }
}

/// What the program gets from a call executed on its behalf: the return value (`-errno` on
/// failure) and the answer that gives it.
fn answer_of(result: crate::sys::io::SysResult) -> (i64, Response) {
    match result {
        Ok(v) => (v as i64, Response::Value(v as i64)),
        Err(e) => (-i64::from(e), Response::Error(e)),
    }
}

fn ns(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

impl Completer<'_> {
    fn complete(&mut self, mut p: Pending) {
        let inj = p.injection;
        if let Some(guard::Guard::Deny(e)) = p.guard {
            let decided = Decided {
                p,
                response: Response::Error(e),
                outcome: Outcome::Denied { ret: -i64::from(e) },
                outputs: capture::Captures::new(),
                ret_desc: None,
            };
            return self.answer(decided);
        }
        if let Some(sig) = inj.and_then(|i| i.signal) {
            // Delivered on entry, as strace does; it is handled when the call returns.
            self.executor.signal(p.n.tid(), sig);
        }
        let delay_ns = inj.map_or(0, |i| ns(i.total_delay()));
        let injected = inj.and_then(|i| i.result);
        // A governed call is never handed back to the kernel: it runs on the copy it was judged
        // on, or fails as it would have natively.
        let forced = match (p.guard.take(), injected) {
            (Some(guard::Guard::Allow(prepared)), None) => {
                if prepared.blocking && !self.may_block {
                    match &self.pool {
                        Some(pool) => {
                            // A blocking socket: wait on a worker thread, not here.
                            p.guard = Some(guard::Guard::Allow(prepared));
                            let _ = pool.send(p);
                            return;
                        }
                        None => Some(exec::Done {
                            result: Err(libc::EACCES),
                            dur_ns: 0,
                            outputs: capture::Captures::new(),
                            answered: None,
                            ret_desc: None,
                        }),
                    }
                } else {
                    let (done, sigpipe) = guard::execute(*prepared, p.n.id(), self.listener, &self.inflight);
                    if sigpipe {
                        self.executor.sigpipe(p.n.tid());
                    }
                    if let Some(live) = done.answered {
                        // A socket installed with ADDFD: already answered.
                        let (ret, _) = answer_of(done.result);
                        let outcome =
                            if live { Outcome::Completed { ret, dur_ns: done.dur_ns } } else { Outcome::Interrupted };
                        self.record(p, outcome, capture::Captures::new(), None);
                        return;
                    }
                    Some(done)
                }
            }
            (Some(guard::Guard::Fail(e)), None) => Some(exec::Done {
                result: Err(e),
                dur_ns: 0,
                outputs: capture::Captures::new(),
                answered: None,
                ret_desc: None,
            }),
            _ => None,
        };
        let mut outputs = capture::Captures::new();
        let mut ret_desc = None;
        let (response, outcome) = match (injected, forced) {
            (Some(Ok(v)), _) => (Response::Value(v), Outcome::Injected { ret: v, dur_ns: delay_ns }),
            (Some(Err(e)), _) => (Response::Error(e), Outcome::Injected { ret: -i64::from(e), dur_ns: delay_ns }),
            (None, Some(done)) => {
                let (ret, response) = answer_of(done.result);
                (response, Outcome::Completed { ret, dur_ns: done.dur_ns + delay_ns })
            }
            (None, None) => {
                // short=/rate= shape the call as it runs: executed even when not traced.
                // With exit events and no log, the kernel's exit says the result and time of a
                // call it runs itself: executing it would only add work (and a copy of the
                // program's descriptor). Calls a fault shapes are still executed.
                // Nor, when logging, calls whose execution has no output to show (writes,
                // sends, connect): their result and time are the exit's too.
                let redundant = self.executor.exits
                    && !inject::shapes(inj)
                    && (!self.log || p.sc.is_some_and(|sc| !exec::Executor::has_outputs(sc.decoder)));
                let executable = p.sc.filter(|sc| {
                    (p.traced || inject::shapes(inj))
                        && self.execute
                        && !redundant
                        && exec::Executor::handles(sc.decoder, sc.name(), sc.nr())
                });
                match executable.map(|sc| self.executor.execute(self.listener, &p.n, sc.decoder, inject::cap(inj))) {
                    None | Some(exec::Execution::Declined) => (Response::Continue, Outcome::Continued),
                    Some(exec::Execution::Done(done)) => {
                        outputs = done.outputs;
                        ret_desc = done.ret_desc;
                        let (ret, response) = answer_of(done.result);
                        let outcome = Outcome::Completed { ret, dur_ns: done.dur_ns + delay_ns };
                        let outcome = inject::shaped(outcome, self.executor.capped);
                        if let Some(live) = done.answered {
                            // accept: already answered (ADDFD with SEND); delay_exit cannot apply.
                            let outcome = if live { outcome } else { Outcome::Interrupted };
                            self.record(p, outcome, outputs, ret_desc);
                            return;
                        }
                        (response, outcome)
                    }
                }
            }
        };
        let decided = Decided { p, response, outcome, outputs, ret_desc };
        // delay_exit (and rate=): after the result is known. A call left to the kernel has no
        // exit we can hold, so for it the delay happens before it runs.
        self.answer_or_hold(decided);
    }

    fn answer(&mut self, d: Decided) {
        if d.outcome == Outcome::Continued
            && d.p.traced
            && let Some(exits) = &self.exits
            && exits::Exits::will_return(&d.p)
        {
            // Parked before the answer: its exit cannot be read before it is waited for. An
            // answer that does not land takes the call back, and `record` drops what was read
            // (an exit matched in between, of a thread killed while waiting whose id another
            // thread took during the reads, is the one case left: see issue 10's notes).
            let (id, tid) = (d.p.n.id(), d.p.n.tid());
            let token = exits.defer(d.p);
            let live = self.listener.respond(id, d.response).unwrap_or(false);
            if !live && let Some(p) = exits.cancel(tid, token) {
                self.record(p, Outcome::Interrupted, capture::Captures::new(), None);
            }
            return;
        }
        let live = match self.listener.respond(d.p.n.id(), d.response) {
            Ok(live) => live,
            Err(e) => {
                tracing::warn!(id = d.p.n.id(), tid = d.p.n.tid(), nr = d.p.n.nr(), error = %e, "NOTIF_SEND failed");
                false
            }
        };
        let outcome = if live { d.outcome } else { Outcome::Interrupted };
        self.record(d.p, outcome, d.outputs, d.ret_desc);
    }

    fn record(&mut self, mut p: Pending, outcome: Outcome, outputs: capture::Captures, ret_desc: Option<String>) {
        // Refusals are reported whatever is traced: a deny-only policy still says what it refused.
        if !p.traced && !matches!(outcome, Outcome::Denied { .. }) {
            return;
        }
        let args = p.n.args();
        self.stats.record(p.call, &args, outcome);
        let group = match self.groups {
            crate::output::summary::Mode::Total => None,
            crate::output::summary::Mode::Thread => Some(p.n.tid()),
            crate::output::summary::Mode::Process => Some(if p.tgid != 0 { p.tgid } else { p.n.tid() }),
        };
        if let Some(key) = group {
            self.stats.groups.entry(key).or_default().record(p.call, &args, outcome);
        }
        if self.per_thread && outcome != Outcome::Interrupted {
            *self.stats.per_thread.entry(p.n.tid()).or_default() += 1;
        }
        if self.log
            && let Some(sink) = &self.sink
        {
            // The answer's landing checks the reads (one ioctl fewer than ID_VALID after them).
            if outcome == Outcome::Interrupted {
                p.forget_reads();
            }
            let delayed = p.injection.is_some_and(|i| !i.total_delay().is_zero());
            let ev = Event {
                tid: p.n.tid(),
                tgid: p.tgid,
                realtime_ns: p.realtime_ns,
                call: p.call,
                args,
                captured: p.captured,
                outputs,
                outcome,
                delayed,
                fd_desc: p.fd_desc,
                ret_desc,
                stack: p.stack,
            };
            sink.send(Record::Call(ev));
        }
    }
}

pub struct Supervisor<'a> {
    listener: &'a Listener,
    cfg: Config,
    launch: LaunchState,
    phase: Phase,
    exec_error: Option<i32>,
    completer: Completer<'a>,
    injector: inject::Injector,
    /// With `--sync-wakeup=auto`: the one thread seen so far, until a second one shows up.
    sync_single: Option<Option<u32>>,
    /// Threads named so far (when `Config::threads`).
    threads: std::collections::HashMap<u32, ThreadInfo>,
    /// Threads named that have exited, or were forgotten at a pid wrap (see [`wrap`]): their
    /// ids may have come back as other threads'.
    threads_before: Vec<ThreadInfo>,
    /// Wraps of the pid allocator, and how many the receiver has acted on (without `tasks`).
    wraps: wrap::Wraps,
    wraps_seen: u64,
    /// Threads gone since the last notification (from `Config::tasks`).
    gone: Vec<u32>,
    /// Told of every process the supervisor sees (see `sys::guardian`).
    guardian: Option<crate::sys::guardian::Guardian>,
    /// The process of each thread seen (read from /proc once per thread).
    tgids: std::collections::HashMap<u32, u32>,
    /// Processes already reported to the guardian.
    seen_processes: std::collections::HashSet<u32>,
    /// Exit events complete the calls left to the kernel (see [`exits`]).
    exits_on: bool,
    /// `-k`: raw stacks of logged calls (see [`crate::stack`]).
    stacks: Option<crate::stack::Capturer>,
    /// Threads whose last call was an exec: named again at their next call, or at the end.
    execed: std::collections::HashSet<u32>,
}

impl<'a> Supervisor<'a> {
    pub fn new(
        listener: &'a Listener,
        cfg: Config,
        launch: LaunchState,
        sink: Option<Sink>,
        guardian: Option<crate::sys::guardian::Guardian>,
    ) -> Self {
        let injector = inject::Injector::new(&cfg);
        let needs_delays =
            cfg.inject.iter().any(|r| r.delay_enter.is_some() || r.delay_exit.is_some() || r.rate.is_some());
        let mut completer = Completer::new(listener, &cfg, sink);
        // Only the receiver's executor caches: the others borrow for each call.
        completer.executor.cache = if cfg.fd_cache { fdcache::Cache::new() } else { None };
        completer.delayer = needs_delays.then(delay::Delayer::default);
        let exits_on = cfg.exits.is_some();
        completer.exits = exits_on.then(exits::Exits::default);
        let sync_single = (cfg.sync_wakeup == crate::run::SyncWakeup::Auto).then_some(None);
        let stacks = (cfg.stack && cfg.log).then(crate::stack::Capturer::default);
        Self {
            listener,
            cfg,
            launch,
            phase: Phase::AwaitingExec,
            exec_error: None,
            completer,
            injector,
            sync_single,
            threads: Default::default(),
            threads_before: Vec::new(),
            wraps: Default::default(),
            wraps_seen: 0,
            gone: Vec::new(),
            guardian,
            tgids: Default::default(),
            seen_processes: Default::default(),
            exits_on,
            stacks,
            execed: Default::default(),
        }
    }

    /// Serves notifications until every traced task is gone.
    pub fn run(mut self) -> io::Result<Outcomes> {
        std::thread::scope(|scope| {
            // Workers for guarded calls on blocking sockets (see `Guard`): they may wait.
            // The watchdog abandons guarded calls whose program thread has gone (see
            // `guard::InFlight`), so that nothing the program started outlives it.
            let (stop_watchdog, watchdog) = if self.cfg.deny.is_empty() {
                (None, None)
            } else {
                crate::sys::signals::install_abandon_handler();
                let (stop, stopped) = std::sync::mpsc::channel::<()>();
                let inflight = self.completer.inflight.clone();
                let listener = self.listener;
                let t = std::thread::Builder::new()
                    .name("interpose-watch".into())
                    .spawn_scoped(scope, move || {
                        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                            stopped.recv_timeout(Duration::from_millis(100))
                        {
                            inflight.sweep(listener);
                        }
                    })
                    .expect("spawn the watchdog thread");
                (Some(stop), Some(t))
            };
            let (pool_tx, workers) = if self.cfg.deny.is_empty() {
                (None, Vec::new())
            } else {
                let (tx, rx) = std::sync::mpsc::channel::<Pending>();
                let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
                let workers: Vec<_> = (0..BLOCKING_WORKERS)
                    .map(|i| {
                        let rx = rx.clone();
                        let mut c = Completer::new(self.listener, &self.cfg, self.completer.sink.clone());
                        c.inflight = self.completer.inflight.clone();
                        c.exits = self.completer.exits.clone();
                        c.may_block = true;
                        std::thread::Builder::new()
                            .name(format!("interpose-block{i}"))
                            .spawn_scoped(scope, move || {
                                loop {
                                    let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                                    match next {
                                        Ok(p) => c.complete(p),
                                        Err(_) => break,
                                    }
                                }
                                c.stats
                            })
                            .expect("spawn a worker thread")
                    })
                    .collect();
                (Some(tx), workers)
            };
            self.completer.pool = pool_tx.clone();
            // The delay thread completes delayed calls with its own executor and counters.
            let delay_thread = self.completer.delayer.clone().map(|delayer| {
                let mut c = Completer::new(self.listener, &self.cfg, self.completer.sink.clone());
                c.inflight = self.completer.inflight.clone();
                c.exits = self.completer.exits.clone();
                c.delayer = Some(delayer.clone());
                c.pool = pool_tx.clone();
                std::thread::Builder::new()
                    .name("interpose-delay".into())
                    .spawn_scoped(scope, move || {
                        while let Some(job) = delayer.next_due() {
                            match job {
                                Job::Resume(p) => c.complete(p),
                                Job::Answer(d) => c.answer(d),
                            }
                        }
                        c.stats
                    })
                    .expect("spawn the delay thread")
            });
            // The exit thread completes the calls left to the kernel as their exits arrive.
            let (stop_exits, exit_thread) = match (self.cfg.exits.take(), self.completer.exits.clone()) {
                (Some(events), Some(table)) => {
                    let mut c = Completer::new(self.listener, &self.cfg, self.completer.sink.clone());
                    table.attach(events);
                    let stop = table.clone();
                    let t = std::thread::Builder::new()
                        .name("interpose-exits".into())
                        .spawn_scoped(scope, move || {
                            let lost = table.run(&mut c);
                            (c.stats, lost)
                        })
                        .expect("spawn the exit thread");
                    (Some(stop), Some(t))
                }
                _ => (None, None),
            };
            // The descriptor cache's watcher drops the copies of processes that are gone.
            let cache_watcher = self.completer.executor.cache.clone().map(|cache| {
                std::thread::Builder::new()
                    .name("interpose-fdwatch".into())
                    .spawn_scoped(scope, move || cache.watch())
                    .expect("spawn the descriptor cache's watcher")
            });
            // Watches for pid wraps, where thread exits are not read (see `wrap`).
            let (stop_wraps, wraps_stopped) = std::sync::mpsc::channel::<()>();
            let wraps = self.wraps.clone();
            let wrap_thread = self.cfg.tasks.is_none().then(|| {
                std::thread::Builder::new()
                    .name("interpose-wraps".into())
                    .spawn_scoped(scope, move || wraps.watch(&wraps_stopped))
                    .expect("spawn the pid wrap watcher")
            });
            let result = self.receive_loop();
            drop(stop_wraps);
            if let Some(t) = wrap_thread {
                let _ = t.join();
            }
            if let Some(cache) = &self.completer.executor.cache {
                cache.stop();
            }
            if let Some(t) = cache_watcher {
                let _ = t.join();
            }
            if let Some(d) = &self.completer.delayer {
                d.close();
            }
            if let Some(t) = delay_thread {
                match t.join() {
                    Ok(stats) => self.completer.stats.merge(&stats),
                    Err(_) => tracing::error!("the delay thread panicked"),
                }
            }
            // The last senders go: the workers finish what is queued and stop.
            self.completer.pool = None;
            drop(pool_tx);
            for w in workers {
                match w.join() {
                    Ok(stats) => self.completer.stats.merge(&stats),
                    Err(_) => tracing::error!("a worker thread panicked"),
                }
            }
            drop(stop_watchdog);
            if let Some(t) = watchdog {
                let _ = t.join();
            }
            // Every call is answered: the exit thread reads the last exits and stops.
            if let Some(e) = stop_exits {
                e.stop();
            }
            if let Some(t) = exit_thread {
                match t.join() {
                    Ok((stats, lost)) => {
                        self.completer.stats.merge(&stats);
                        if lost > 0 {
                            tracing::warn!(
                                "{lost} exit events were lost (a buffer was full): some results show as unknown (?)"
                            );
                        }
                    }
                    Err(_) => tracing::error!("the exit thread panicked"),
                }
            }
            result?;
            if self.phase != Phase::Running {
                self.check_exec();
            }
            // A process whose last traced call was its exec is named after what it ran, where
            // /proc still says (a zombie's comm is kept until it is reaped).
            for tid in std::mem::take(&mut self.execed) {
                if let Some(t) = self.threads.get_mut(&tid)
                    && let Ok(comm) = std::fs::read_to_string(format!("/proc/{tid}/comm"))
                {
                    t.comm = comm.trim_end().to_string();
                    if t.tgid == tid {
                        t.process = t.comm.clone();
                    }
                }
            }
            // The writer must not outlive the senders of this thread's events.
            self.completer.sink = None;
            // A thread id given twice is named by its last thread.
            let mut threads: Vec<ThreadInfo> = self.threads.drain().map(|(_, t)| t).collect();
            threads.extend(self.threads_before.drain(..).rev());
            threads.sort_by_key(|t| t.tid);
            threads.dedup_by_key(|t| t.tid);
            Ok(Outcomes {
                guardian: self.guardian.take(),
                stats: std::mem::take(&mut self.completer.stats),
                threads,
                exec_error: self.exec_error,
            })
        })
    }

    fn receive_loop(&mut self) -> io::Result<()> {
        let mut n = Notification::default();
        loop {
            if self.cfg.poll_before_recv {
                let (readable, hup) = self.listener.poll(-1)?;
                if hup && !readable {
                    return Ok(());
                }
            }
            match self.listener.recv(&mut n)? {
                Recv::Got => self.handle(&n),
                Recv::Gone => {
                    if self.listener.hung_up() {
                        return Ok(());
                    }
                }
                Recv::Interrupted => {}
            }
        }
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

    /// `--sync-wakeup=auto`: a synchronous wake-up helps a single thread ping-ponging with the
    /// supervisor (every call a cross-CPU wake-up otherwise) and hurts busy multi-threaded
    /// programs, where the woken thread and the supervisor then fight over one CPU (see
    /// docs/performance.md). Turn it off at the second thread.
    fn adapt_wakeup(&mut self, tid: u32) {
        if let Some(first) = &mut self.sync_single {
            match first {
                None => *first = Some(tid),
                Some(t) if *t == tid => {}
                Some(_) => {
                    self.sync_single = None;
                    if let Err(e) = self.listener.set_sync_wakeup(false) {
                        tracing::debug!(error = %e, "cannot turn sync wake-up off");
                    }
                }
            }
        }
    }

    /// The process of thread `tid`, from /proc the first time the thread shows up.
    fn tgid(&mut self, tid: u32) -> u32 {
        if let Some(&t) = self.tgids.get(&tid) {
            return t;
        }
        if self.tgids.len() > 1 << 16 {
            self.tgids.clear();
        }
        let tgid = crate::sys::pidfd::tgid_of(tid as i32).unwrap_or(tid);
        self.tgids.insert(tid, tgid);
        tgid
    }

    /// Tells the guardian about a process the first time one of its threads shows up.
    fn watch(&mut self, tid: u32) {
        if self.guardian.is_none() {
            return;
        }
        let tgid = self.tgid(tid);
        if self.seen_processes.insert(tgid)
            && let Some(g) = &mut self.guardian
        {
            g.watch(tgid);
        }
    }

    /// The pid allocator wrapped, or thread exit records were lost: thread and process ids seen
    /// before may now be others'.
    fn forget_ids(&mut self) {
        self.tgids.clear();
        self.seen_processes.clear();
        self.threads_before.extend(self.threads.drain().map(|(_, t)| t));
        self.injector.forget_comms();
        if let Some(s) = &mut self.stacks {
            s.forget_all();
        }
    }

    /// Thread `tid` has exited: its id may come back as another thread's.
    fn forget_thread(&mut self, tid: u32) {
        self.tgids.remove(&tid);
        // A process's id is its first thread's, reported to the guardian again if it comes back.
        self.seen_processes.remove(&tid);
        if let Some(t) = self.threads.remove(&tid) {
            self.threads_before.push(t);
        }
        self.injector.forget_comm(tid);
        self.completer.executor.charges.forget_thread(tid);
        if let Some(s) = &mut self.stacks {
            s.forget_thread(tid);
        }
    }

    /// Forgets what is kept of threads that have gone, before a notification is handled.
    fn forget_gone(&mut self) {
        match &mut self.cfg.tasks {
            Some(tasks) => {
                let mut gone = std::mem::take(&mut self.gone);
                let complete = tasks.exited(&mut gone);
                for &tid in &gone {
                    self.forget_thread(tid);
                }
                gone.clear();
                self.gone = gone;
                if !complete {
                    self.forget_ids();
                }
            }
            None => {
                let wraps = self.wraps.count();
                if wraps != self.wraps_seen {
                    self.wraps_seen = wraps;
                    self.forget_ids();
                }
            }
        }
    }

    fn handle(&mut self, n: &Notification) {
        let received = Instant::now();
        self.forget_gone();
        self.adapt_wakeup(n.tid());
        self.watch(n.tid());
        let phase_before = self.phase;
        if self.phase != Phase::Running && !self.launch_phase(n) {
            let _ = self.listener.respond(n.id(), Response::Continue);
            return;
        }
        // interpose's own execve of the program: reported, but no rule applies to it (strace
        // too starts the program before any injection).
        let launching = phase_before == Phase::AwaitingExec && self.phase == Phase::AwaitingExecResult;
        let (nr, arch) = (n.nr(), n.arch());
        let native = arch == ARCH_X86_64 && nr & X32_SYSCALL_BIT == 0 && (nr as usize) < NR_LIMIT && nr >= 0;
        // A call of another ABI is selected, and watched, as the native call it stands for
        // (i386's `setresuid32`, `stat64`, `socketcall(SYS_CONNECT)`...): named once here.
        let (call, stands_for) = if native {
            (Call::Native(nr as u32), Some(nr as u32))
        } else {
            (Call::Foreign { arch, nr }, crate::filter::native_of(arch, nr, n.args()[0]))
        };
        let traced = stands_for.is_some_and(|nr| self.cfg.traced.contains(nr));
        let sc = match call {
            Call::Native(nr) => decode::registry().get(i64::from(nr)),
            Call::Foreign { .. } => None,
        };
        if self.execed.remove(&n.tid()) {
            // Its exec is over (this is a later call): named again after the new image.
            self.threads.remove(&n.tid());
        }
        if native && is_exec(nr) {
            // -k: the mappings change too.
            self.forget_stack_maps(n.tid());
            // The program image changes: so may the thread's name, once the exec is done.
            self.injector.forget_comm(n.tid());
            self.threads.remove(&n.tid());
            self.tgids.remove(&n.tid());
            self.execed.insert(n.tid());
        }
        // -k: a process's mappings change with these (see `stack`).
        if self.stacks.is_some() {
            let changes = stands_for.is_some_and(|nr| crate::stack::mapping_calls().contains(nr));
            let tgid = self.tgid(n.tid());
            if let Some(s) = &mut self.stacks {
                s.call(n.tid(), tgid, changes);
            }
        }
        // Descriptors about to end: the cache's copies go first (see `fdcache`).
        if let Some(cache) = &self.completer.executor.cache
            && cache.is_on()
        {
            cache.seen(n.tid());
            if stands_for.is_some_and(|nr| crate::filter::fd_watch_calls().contains(nr)) {
                match call {
                    Call::Native(nr) => cache.event(n.tid(), i64::from(nr), n.args()),
                    Call::Foreign { .. } => cache.off("a call of another ABI that ends descriptors"),
                }
            }
        }
        // A change of credentials, root or namespaces: what the executor knows of the
        // thread's context for path calls is dropped before the change can happen.
        if self.completer.executor.watches_contexts() {
            match call {
                Call::Native(nr) => {
                    if let Some(sc) = sc.filter(|_| crate::filter::context_calls().contains(nr)) {
                        self.completer.executor.context_changed(n.tid(), sc.name());
                    }
                }
                Call::Foreign { .. } => {
                    let name =
                        stands_for.and_then(|nr| decode::registry().get(i64::from(nr))).map_or("", |sc| sc.name());
                    self.completer.executor.context_changed(n.tid(), name);
                }
            }
        }
        let injection = match (call, sc) {
            (Call::Native(nr), Some(sc)) if self.injector.covers(nr) && !launching => {
                self.injector.decide(n, sc, &mut self.completer.executor)
            }
            _ => None,
        };
        // The network rules decide first, on their own copy of the call's memory.
        let guard = if self.cfg.deny.is_empty() || launching {
            None
        } else {
            self.cfg.deny.decide(n, stands_for, &mut self.completer.executor, self.listener)
        };
        let denied = matches!(guard, Some(guard::Guard::Deny(_)));
        let mut captured = capture::Captures::new();
        if (traced || denied)
            && self.cfg.log
            && let Some(sc) = sc
        {
            // Read from a notification that may die meanwhile, when its thread's id may go to
            // another: the answer says whether it was alive throughout (see `record`).
            captured = capture::capture(&sc.row.dec, n.tid(), &n.args(), self.cfg.limits);
        }
        let tgid = if self.cfg.threads && traced { self.thread(n.tid()) } else { 0 };
        let fd_desc = match sc {
            Some(sc) if traced && self.cfg.log && self.cfg.decode_fds > 0 => fd_arg(sc.decoder, &n.args())
                .and_then(|fd| self.completer.executor.describe_fd(n.tid(), fd, self.cfg.decode_fds)),
            _ => None,
        };
        if !traced && injection.is_none() && guard.is_none() {
            let _ = self.listener.respond(n.id(), Response::Continue);
            return;
        }
        // The wall-clock time is shown only in the log (-tt, JSON); -c never reads it.
        let realtime_ns = if (traced || denied) && self.cfg.log { realtime_ns() } else { 0 };
        let recv_ns = if self.exits_on && traced { crate::sys::perf::monotonic_ns() } else { 0 };
        if let Some(exits) = &self.completer.exits
            && (if self.cfg.log { exits.has_parked(n.tid()) } else { exits.parked(n.tid()) >= exits::BACKLOG })
        {
            // Its earlier calls returned before this one started: log them first (with -c alone
            // the order does not matter, and the exit thread completes them, unless they pile
            // up: see exits::BACKLOG).
            let exits = exits.clone();
            exits.catch_up(n.tid(), &mut self.completer);
        }
        // -k: the stack of a logged call, while the thread is stopped at entry.
        let stack = if (traced || denied) && self.stacks.is_some() {
            let tgid = self.tgid(n.tid());
            let frames =
                self.stacks.as_mut().map_or_else(Vec::new, |s| s.capture(n.tid(), tgid, n.instruction_pointer()));
            if native && is_exec(nr) {
                self.forget_stack_maps(n.tid());
            }
            // Like the captures, dropped in `record` if the notification did not live to its answer.
            frames
        } else {
            Vec::new()
        };
        let p =
            Pending { n: *n, call, sc, traced, realtime_ns, tgid, captured, fd_desc, injection, guard, recv_ns, stack };
        match (injection.and_then(|i| i.delay_enter), &self.completer.delayer) {
            (Some(d), Some(delayer)) if !d.is_zero() => delayer.schedule(received + d, Job::Resume(p)),
            _ => self.completer.complete(p),
        }
    }

    /// `-k`: the process of `tid` execs; its mappings are read again at its next call.
    fn forget_stack_maps(&mut self, tid: u32) {
        if self.stacks.is_some() {
            let tgid = self.tgid(tid);
            if let Some(s) = &mut self.stacks {
                s.forget(tgid);
            }
        }
    }

    /// The process of thread `tid`, naming the thread for the output the first time it is seen.
    fn thread(&mut self, tid: u32) -> u32 {
        if let Some(t) = self.threads.get(&tid) {
            return t.tgid;
        }
        let tgid = self.tgid(tid);
        let comm_of = |id: u32| {
            std::fs::read_to_string(format!("/proc/{id}/comm")).map(|s| s.trim_end().to_string()).unwrap_or_default()
        };
        let comm = comm_of(tid);
        let process = if tgid == tid { comm.clone() } else { comm_of(tgid) };
        let info = ThreadInfo { tid, tgid, comm, process };
        if let Some(sink) = &self.completer.sink {
            sink.send(Record::Thread(info.clone()));
        }
        self.threads.insert(tid, info);
        tgid
    }
}

/// The descriptor in a call's first argument, for decoders that have one there.
fn fd_arg(d: decode::Decoder, args: &[u64; 6]) -> Option<i32> {
    use decode::Decoder::*;
    match d {
        Fd | Read | Pread | Write | Pwrite | Readv | Preadv | Writev | Pwritev | Recvfrom | Sendto | Recvmsg
        | Sendmsg | SockaddrIn | Accept | Accept4 => Some(args[0] as i32).filter(|&fd| fd >= 0),
        Generic | Socket | Futex | Open | Openat | Execve | Execveat | Path | PathMode | Access | PathRest | AtPath => {
            None
        }
    }
}

/// Worker threads for guarded calls on blocking sockets.
const BLOCKING_WORKERS: usize = 4;

fn is_exec(nr: i32) -> bool {
    nr == libc::SYS_execve as i32 || nr == libc::SYS_execveat as i32
}

fn realtime_ns() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME)
        .unwrap_or_else(|_| nix::sys::time::TimeSpec::new(0, 0));
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}
