//! `interpose run`: the stages wired together.
//!
//! policy -> filter -> launch -> supervisor thread (notifications) -> writer thread (text).
//! The main thread owns process management: it blocks the signals it handles and reads them from
//! a signalfd, reaps every process that ends (interpose is a child subreaper, so orphaned
//! descendants are reparented to it and reaped rather than left as zombies that would keep the
//! filter alive), forwards termination signals sent to interpose to the program, and waits for
//! the supervisor to report that the last traced task is gone.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::decode::{capture, format};
use crate::event::ExitStatus;
use crate::launch::{self, LaunchError, Program};
use crate::output::{self, Record};
use crate::policy::Policy;
use crate::supervisor::{self, LaunchState, Supervisor};
use crate::{filter, kernel, sys};

/// Which output `-c` / `-C` ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One line per call (the default).
    Log,
    /// `-c`: the summary only.
    Summary,
    /// `-C`: both.
    LogAndSummary,
}

/// `--sync-wakeup`: whether answers wake the program on the supervisor's CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SyncWakeup {
    /// On while a single thread makes the traced calls; off from the second one on.
    Auto,
    On,
    Off,
}

/// `--exits`: whether the kernel's exit events complete the calls left to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExitsMode {
    /// When the kernel permits it; otherwise say once why results are unknown.
    Auto,
    /// Always: fail (exit 2) when not permitted.
    On,
    Off,
}

pub struct RunOptions {
    pub policy: Policy,
    pub sync_wakeup: SyncWakeup,
    pub exits: ExitsMode,
    /// `--duration`: log only calls at least this long.
    pub min_duration_ns: Option<u64>,
    /// `--max-events`: log at most this many calls.
    pub max_events: Option<u64>,
    pub format: output::Format,
    pub timestamps: output::Timestamps,
    pub relative: bool,
    pub quiet: u8,
    pub decode_fds: u8,
    pub trace_out: Option<PathBuf>,
    pub report: Option<PathBuf>,
    /// Execute calls on the program's behalf to learn their results.
    pub execute: bool,
    /// `--fd-cache`: keep borrowed descriptors between calls (see `supervisor::fdcache`).
    pub fd_cache: bool,
    pub syscall_times: bool,
    /// `-k`: the stack of each logged call.
    pub stack_trace: bool,
    pub only: output::Only,
    pub summary: output::summary::Layout,
    pub program: OsString,
    pub args: Vec<OsString>,
    pub mode: Mode,
    pub output: Option<PathBuf>,
    pub strsize: usize,
    /// `-u`: run the program as this user.
    pub user: Option<crate::launch::RunAs>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Kernel(String),
    #[error(transparent)]
    Filter(#[from] filter::FilterError),
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error("cannot write the trace to {path}: {reason}")]
    Output { path: String, reason: String },
    #[error("{0}")]
    Internal(String),
    /// `--exits=on` where exit events cannot be had.
    #[error("--exits=on: {0}")]
    Exits(String),
}

impl RunError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Launch(e) => e.exit_code(),
            RunError::Output { .. } | RunError::Exits(_) => 2,
            RunError::Kernel(_) | RunError::Filter(_) | RunError::Internal(_) => 1,
        }
    }
}

fn internal(what: &str) -> impl Fn(nix::Error) -> RunError + '_ {
    move |e| RunError::Internal(format!("{what}: {}", crate::error::errno_text(e as i32)))
}

/// Opens an output file (`-o`, `--trace-out`, `--report`) without ever waiting in the open: a
/// FIFO that no process has open for reading fails at once (ENXIO) instead of waiting for a
/// reader, and a device does not wait in its open either. Writes then block as usual: a FIFO's
/// reader sets the pace, as with strace.
fn open_output(path: &std::path::Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let flags = nix::fcntl::fcntl(&f, nix::fcntl::FcntlArg::F_GETFL)?;
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) - nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(&f, nix::fcntl::FcntlArg::F_SETFL(flags))?;
    Ok(f)
}

/// Why an output cannot be opened, in words.
fn output_reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENXIO) => "a FIFO that no process has open for reading (start its reader first)".to_string(),
        _ => crate::error::io_reason(e),
    }
}

/// `[[deny]]` holds against a program with no privilege over interpose: say so at launch when
/// the program will run as interpose's own user, or as root (CAP_SYS_PTRACE takes the listener,
/// CAP_NET_ADMIN rewrites routes, CAP_SYS_ADMIN does either).
fn warn_privileged(user: Option<&crate::launch::RunAs>) {
    let me = nix::unistd::geteuid().as_raw();
    let uid = user.map_or(me, |u| u.uid);
    let why = if uid == 0 {
        "runs as root (CAP_SYS_PTRACE, CAP_NET_ADMIN, CAP_SYS_ADMIN: it can take interpose's listener or route around it)"
    } else if uid == me {
        "runs as interpose's own user (it can kill interpose and its guardian)"
    } else {
        return;
    };
    let remedy = if me == 0 { "run it as another user with -u USER" } else { "run interpose as root with -u USER" };
    let _ = writeln!(
        io::stderr(),
        "interpose: warning: the [[deny]] rules do not hold against this program: it {why}; {remedy}"
    );
}

/// Runs the program to completion; returns how it ended.
pub fn run(opts: RunOptions) -> Result<ExitStatus, RunError> {
    let kernel = kernel::check().map_err(RunError::Kernel)?;
    let fd_cache = filter::fd_cache_applies(opts.fd_cache, opts.execute, &opts.policy.trace);
    let mut selected = opts.policy.trace.union(&opts.policy.intercepted());
    if opts.stack_trace {
        // -k reads a process's mappings again after these (see `stack`).
        selected = selected.union(crate::stack::mapping_calls());
    }
    let trapped = filter::trapped_set(&selected, opts.execute, fd_cache);
    let bpf = filter::compile(&trapped)?;
    let program = Program::resolve(&opts.program, &opts.args)?;

    let create = |p: &PathBuf| {
        open_output(p).map_err(|e| RunError::Output { path: p.display().to_string(), reason: output_reason(&e) })
    };
    let (dest, to_file): (Box<dyn Write + Send>, bool) = match &opts.output {
        Some(path) => (Box::new(create(path)?), true),
        None => (Box::new(io::stderr()), false),
    };
    let trace_out = opts.trace_out.as_ref().map(create).transpose()?;
    // Opened now, so that a report that cannot be written fails before the run; written at the end.
    let mut report_file = opts.report.as_ref().map(create).transpose()?;

    sys::signals::ignore_for_executed_writes();
    // The guardian must be forked while interpose is single-threaded.
    let mut guardian = match crate::sys::guardian::spawn() {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!(error = %e, "cannot start the guardian: if interpose is killed, the program's children survive it");
            None
        }
    };

    // Signals the main thread handles, blocked before any thread exists so that every thread
    // inherits the mask. The program gets the mask interpose started with.
    let mut handled = SigSet::empty();
    for s in [Signal::SIGCHLD, Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT] {
        handled.add(s);
    }
    let mut original = SigSet::empty();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&handled), Some(&mut original)).map_err(internal("sigprocmask"))?;
    let mut signals =
        SignalFd::with_flags(&handled, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK).map_err(internal("signalfd"))?;
    nix::sys::prctl::set_child_subreaper(true).map_err(internal("PR_SET_CHILD_SUBREAPER"))?;

    // Exit events: the tracepoint is found and registered with the kernel while the program is
    // being launched (see sys::perf::Warm).
    let warming = (opts.exits != ExitsMode::Off && !opts.policy.trace.is_empty()).then(|| {
        let names: Vec<&'static str> = opts
            .policy
            .trace
            .iter()
            .filter_map(|nr| crate::decode::registry().get(i64::from(nr)))
            .map(|sc| sc.name())
            .collect();
        std::thread::spawn(move || {
            let tps = sys::perf::Tracepoints::read(&names)?;
            // Warm the kind of tracepoint the events will use: adding the other kind's probe
            // later would wait for an RCU grace period again.
            let warm = tps.per_syscall.as_ref().and_then(|p| p.first()).unwrap_or(&tps.raw).warm()?;
            Ok::<_, io::Error>((tps, warm))
        })
    });
    if !opts.policy.deny.is_empty() {
        warn_privileged(opts.user.as_ref());
    }
    let launched = launch::launch(&program, &bpf, original.as_ref(), guardian.is_some(), opts.user.as_ref())?;
    let guardian_pid = guardian.as_ref().map_or(0, |g| g.pid());
    let pid = launched.pid;
    if let Some(g) = &mut guardian {
        g.watch(pid);
    }
    // The listener is ours now. From here on no process of the same user (the program above all,
    // through pidfd_getfd or ptrace) may take it, or anything else, from interpose. Not before:
    // the child was forked from interpose, and a non-dumpable child would refuse the
    // pidfd_getfd that took the listener. The program is parked in its execve until the
    // supervisor answers, so it has run nothing of its own yet.
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        let _ = sys::pidfd::send_signal(launched.pidfd.as_fd(), libc::SIGKILL);
        let _ = sys::wait::wait_pid(pid);
        return Err(internal("PR_SET_DUMPABLE")(e));
    }
    tracing::debug!(pid, insns = bpf.len(), "program launched, listener taken");
    let sync = match opts.sync_wakeup {
        SyncWakeup::Off => SyncWakeup::Off,
        want if !kernel.at_least(kernel::RECV_WAKES_ON_HUP) => {
            if want == SyncWakeup::On {
                tracing::warn!("--sync-wakeup=on needs Linux 6.6; answering without it");
            }
            SyncWakeup::Off
        }
        want => match launched.listener.set_sync_wakeup(true) {
            Ok(()) => want,
            Err(e) => {
                tracing::warn!(error = %e, "SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP unavailable; answering without it");
                SyncWakeup::Off
            }
        },
    };

    let log = opts.mode != Mode::Summary;
    let out_cfg = output::Config {
        log,
        format: opts.format,
        syscall_times: opts.syscall_times,
        timestamps: opts.timestamps,
        relative: opts.relative,
        quiet: opts.quiet,
        only: opts.only,
        summary: opts.summary.clone(),
        decode: format::Options { strsize: opts.strsize },
        to_file,
        launch_pid: pid,
        min_duration_ns: opts.min_duration_ns,
        max_events: opts.max_events,
    };
    let grouped = opts.mode != Mode::Log && opts.summary.mode != output::summary::Mode::Total;
    let name_threads = opts.format == output::Format::Json || trace_out.is_some() || opts.report.is_some() || grouped;
    // The trace file wants every call even when the log is off (-c).
    // -k with a summary: the output thread counts calls by calling function, so the calls
    // reach it even when they are not logged.
    let events = log || trace_out.is_some() || (opts.stack_trace && opts.mode != Mode::Log);
    let (tx, writer) =
        output::spawn(dest, trace_out, out_cfg).map_err(|e| RunError::Internal(format!("thread: {e}")))?;

    let warmed = warming.map(|t| t.join().unwrap_or_else(|_| Err(io::Error::other("the tracefs probe panicked"))));
    let exits = match open_exit_events(opts.exits, pid, &opts.policy.trace, warmed) {
        Ok(e) => e,
        Err(e) => {
            let _ = sys::pidfd::send_signal(launched.pidfd.as_fd(), libc::SIGKILL);
            let _ = sys::wait::wait_pid(pid);
            return Err(e);
        }
    };
    // Thread exits, where exit events are open (about the same permission): else the pid wrap
    // watcher stands in (see supervisor::wrap).
    let tasks = exits.as_ref().and_then(|_| match sys::perf::TaskEvents::open() {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::debug!(error = %e, "no thread exit records: pid wraps are watched instead");
            None
        }
    });
    let sup_cfg = supervisor::Config {
        traced: opts.policy.trace,
        limits: capture::Limits { strsize: opts.strsize },
        log: events,
        execute: opts.execute,
        fd_cache,
        inject: opts.policy.inject.clone(),
        deny: supervisor::guard::Rules {
            rules: opts.policy.deny.clone(),
            network: opts.policy.network,
            x32: crate::sys::io::x32_available(),
        },
        sync_wakeup: sync,
        decode_fds: opts.decode_fds,
        threads: name_threads,
        poll_before_recv: !kernel.at_least(kernel::RECV_WAKES_ON_HUP),
        exits,
        tasks,
        groups: if opts.mode == Mode::Log { output::summary::Mode::Total } else { opts.summary.mode },
        stack: opts.stack_trace && events,
    };
    let (done_r, done_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(internal("pipe"))?;
    let listener = launched.listener;
    let launch_state = LaunchState { pid, report: launched.report };
    let sink = (events || name_threads).then(|| tx.clone());
    let sup = std::thread::Builder::new()
        .name("interpose-recv".into())
        .spawn(move || {
            let r = Supervisor::new(&listener, sup_cfg, launch_state, sink, guardian).run();
            drop(done_w);
            r
        })
        .map_err(|e| RunError::Internal(format!("thread: {e}")))?;

    let mut status = main_loop(&mut signals, &done_r, pid, guardian_pid);
    let outcomes = match sup.join() {
        Ok(Ok(o)) => Some(o),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "the supervisor stopped; killing the program");
            None
        }
        Err(_) => {
            tracing::error!("the supervisor panicked; killing the program");
            None
        }
    };
    if outcomes.is_none() || status.is_none() {
        let _ = sys::pidfd::send_signal(launched.pidfd.as_fd(), libc::SIGKILL);
        status = status.or_else(|| sys::wait::wait_pid(pid));
    }
    let (Some(status), Some(mut outcomes)) = (status, outcomes) else {
        // Write out what was logged before the failure.
        tx.close();
        let _ = writer.join();
        return Err(RunError::Internal("the supervisor failed (see above)".into()));
    };
    if let Some(g) = outcomes.guardian.take() {
        g.dismiss();
    }
    if let Some(errno) = outcomes.exec_error {
        tx.close();
        let _ = writer.join();
        return Err(RunError::Launch(program.exec_failed(errno)));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    tx.send(Record::Exit { pid, status, realtime_ns: now });
    if let Some(path) = &opts.report {
        let command = std::iter::once(&opts.program)
            .chain(&opts.args)
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let status_text = match status {
            ExitStatus::Exited(c) => format!("exited with {c}"),
            ExitStatus::Signaled { signal, .. } => format!("killed by {}", crate::decode::xlat::signal_name(signal)),
        };
        let html = output::report::render(
            &outcomes.stats,
            &outcomes.threads,
            &output::report::Meta { command: &command, status: &status_text },
        );
        let written = match report_file.take() {
            Some(mut f) => f.write_all(html.as_bytes()),
            None => std::fs::write(path, html),
        };
        if let Err(e) = written {
            let _ = writeln!(
                io::stderr(),
                "interpose: cannot write the report to {}: {}",
                path.display(),
                crate::error::io_reason(&e)
            );
        }
    }
    if opts.mode != Mode::Log {
        tx.send(Record::Summary(Box::new(outcomes.stats), outcomes.threads.clone()));
    }
    tx.close();
    let failure = match writer.join() {
        Ok(Ok(())) => None,
        Ok(Err(output::Failed::Log(e))) => {
            Some((opts.output.as_ref().map_or_else(|| "stderr".to_string(), |p| p.display().to_string()), e))
        }
        Ok(Err(output::Failed::TraceFile(e))) => {
            Some((opts.trace_out.as_ref().map_or_else(String::new, |p| p.display().to_string()), e))
        }
        Err(_) => {
            tracing::error!("the output thread panicked");
            None
        }
    };
    if let Some((path, e)) = failure {
        // The program's status still wins; say what was lost.
        let _ = writeln!(io::stderr(), "interpose: cannot write the trace to {path}: {}", crate::error::io_reason(&e));
    }
    Ok(status)
}

/// Serves signals until the supervisor is done. Returns the launched process's status if reaped.
fn main_loop(signals: &mut SignalFd, done: &OwnedFd, pid: u32, guardian: u32) -> Option<ExitStatus> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut status = None;
    loop {
        let mut fds = [PollFd::new(signals.as_fd(), PollFlags::POLLIN), PollFd::new(done.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::Error::EINTR) => continue,
            Err(e) => {
                tracing::error!(error = %e, "poll failed");
                return status;
            }
        }
        let sig_ready = fds[0].any().unwrap_or(false);
        let done_ready = fds[1].any().unwrap_or(false);
        if sig_ready {
            while let Ok(Some(info)) = signals.read_signal() {
                let signo = info.ssi_signo as i32;
                if signo == libc::SIGCHLD {
                    reap(pid, &mut status);
                } else if forwardable(&info, pid) {
                    forward(signo, guardian);
                }
            }
        }
        if done_ready {
            reap(pid, &mut status);
            return status;
        }
    }
}

/// Sends `sig` to the whole program, as a terminal's Ctrl-C reaches a whole process group: every
/// process below interpose (interpose is a subreaper, so orphans of the program are its
/// children too), except the guardian.
fn forward(sig: i32, guardian: u32) {
    let me = std::process::id();
    let roots: Vec<u32> = crate::tree::children(me).into_iter().filter(|&p| p != guardian).collect();
    let Ok(signal) = nix::sys::signal::Signal::try_from(sig) else { return };
    let all = crate::tree::walk(&roots, |_| {});
    tracing::debug!(sig, processes = all.len(), "forwarding a signal to the program");
    for p in all {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p as i32), signal);
    }
}

/// A signal sent to interpose by a process (kill, not the terminal: the terminal's Ctrl-C already
/// reached the whole foreground process group, the program included).
fn forwardable(info: &libc::signalfd_siginfo, pid: u32) -> bool {
    const SI_USER: i32 = 0;
    const SI_QUEUE: i32 = -1;
    const SI_TKILL: i32 = -6;
    matches!(info.ssi_code, SI_USER | SI_QUEUE | SI_TKILL) && info.ssi_pid != pid
}

/// Reaps every finished child (ours and orphans reparented to us).
fn reap(pid: u32, status: &mut Option<ExitStatus>) {
    while let Some((p, st)) = sys::wait::reap_any() {
        if p == pid {
            *status = Some(st);
        }
    }
}

/// Opens the exit events of the launched program (parked in its execve: nothing of it has run),
/// filtered in the kernel to the traced syscalls. `Auto` says once, on stderr, why results stay
/// unknown when they cannot be had.
fn open_exit_events(
    mode: ExitsMode,
    pid: u32,
    traced: &crate::policy::SyscallSet,
    warmed: Option<io::Result<(sys::perf::Tracepoints, sys::perf::Warm)>>,
) -> Result<Option<sys::perf::ExitEvents>, RunError> {
    let Some(warmed) = warmed else { return Ok(None) };
    if mode == ExitsMode::Off || traced.is_empty() {
        return Ok(None);
    }
    let nrs: Vec<u32> = traced.iter().collect();
    // A long filter costs more per event than the events it saves; past this, filter here.
    let filter = (nrs.len() <= 64).then(|| nrs.iter().map(|nr| format!("id == {nr}")).collect::<Vec<_>>().join(" || "));
    // The warm-up event is dropped once the real ones hold the tracepoint. A few syscalls get
    // an event each (cheaper for the untraced ones, see sys::perf::Tracepoints); more, the raw
    // tracepoint filtered in the kernel.
    let opened = warmed.and_then(|(tps, _warm)| match &tps.per_syscall {
        Some(per) => sys::perf::ExitEvents::open(pid as i32, per, None),
        None => sys::perf::ExitEvents::open(pid as i32, &[tps.raw], filter.as_deref()),
    });
    match opened {
        Ok(events) => Ok(Some(events)),
        Err(e) => {
            let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid").unwrap_or_default();
            let why = format!(
                "exit events (raw_syscalls:sys_exit) cannot be opened: {}; they need root or CAP_PERFMON \
                 (or kernel.perf_event_paranoid = -1, it is {}, and a readable tracefs)",
                crate::error::io_reason(&e),
                paranoid.trim()
            );
            if mode == ExitsMode::On {
                return Err(RunError::Exits(why));
            }
            tracing::warn!(
                "results and times of calls left to the kernel are unknown (?): {why}; --exits=off silences this"
            );
            Ok(None)
        }
    }
}
