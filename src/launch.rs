//! Starting the program under the filter: path resolution, fork, the handshake, the listener.
//!
//! The child's side is in `sys::child` (it must be async-signal-safe); this is the parent's:
//! 1. resolve the program as execvp would, so that "not found" (127) and "cannot execute" (126)
//!    are reported before anything is forked;
//! 2. fork; read the listener's descriptor number N from the report pipe (the child wrote it
//!    before loading the filter);
//! 3. take N from the child with `pidfd_getfd`, retrying until the child has loaded the filter.
//!    From then on the child (parked in its always-trapped execve) is ours to answer.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::sys::child::{self, ChildPlan, Report};
use crate::sys::pidfd::{self, RemoteFd};
use crate::sys::seccomp::{BpfProgram, Listener};

/// How long the child may take from fork to loading the filter before we give up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("{program}: {reason}")]
    NotFound { program: String, reason: String },
    #[error("{program}: {reason}")]
    NotExecutable { program: String, reason: String },
    #[error("cannot start the program: {0}")]
    Spawn(String),
    #[error("cannot install the seccomp filter: {0}")]
    Filter(String),
}

impl LaunchError {
    /// Exit status, by the shell's convention: 127 not found, 126 found but not runnable.
    pub fn exit_code(&self) -> u8 {
        match self {
            LaunchError::NotFound { .. } => 127,
            LaunchError::NotExecutable { .. } => 126,
            LaunchError::Spawn(_) | LaunchError::Filter(_) => 1,
        }
    }
}

/// A program ready to exec: path and C strings prepared before fork.
pub struct Program {
    pub display: String,
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
}

impl Program {
    /// Resolves `program` like execvp (PATH search when it has no slash) and checks that it can
    /// be executed.
    pub fn resolve(program: &OsStr, args: &[OsString]) -> Result<Self, LaunchError> {
        let display = program.to_string_lossy().into_owned();
        let path = find(program, &display)?;
        let cstr = |s: &OsStr| {
            CString::new(s.as_bytes())
                .map_err(|_| LaunchError::Spawn(format!("argument {:?} contains a NUL byte", s.to_string_lossy())))
        };
        let mut argv = vec![cstr(program)?];
        for a in args {
            argv.push(cstr(a)?);
        }
        let envp = std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k.into_vec();
                kv.push(b'=');
                kv.extend(v.into_vec());
                CString::new(kv).map_err(|_| LaunchError::Spawn("an environment variable contains a NUL byte".into()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { display, path: cstr(path.as_os_str())?, argv, envp })
    }
}

/// Whether interpose must set no_new_privs to load its filter: Linux requires it of a process
/// without CAP_SYS_ADMIN (in its user namespace). Root in a default container lacks that
/// capability; root with it keeps set-uid programs their usual behaviour.
pub fn needs_no_new_privs() -> bool {
    !crate::sys::caps::effective(crate::sys::caps::CAP_SYS_ADMIN)
}

fn find(program: &OsStr, display: &str) -> Result<PathBuf, LaunchError> {
    let not_found = |reason: &str| LaunchError::NotFound { program: display.into(), reason: reason.into() };
    let refused = |reason: String| LaunchError::NotExecutable { program: display.into(), reason };
    if program.is_empty() {
        return Err(not_found("command not found"));
    }
    if program.as_bytes().contains(&b'/') {
        let p = PathBuf::from(program);
        return match check_executable(&p) {
            Ok(()) => Ok(p),
            Err(Missing) => Err(not_found("No such file or directory")),
            Err(Refused(reason)) => Err(refused(reason)),
        };
    }
    let path_var = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    let mut first_refusal: Option<String> = None;
    for dir in std::env::split_paths(&path_var) {
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        let candidate = dir.join(program);
        match check_executable(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(Missing) => {}
            Err(Refused(r)) => first_refusal = first_refusal.or(Some(r)),
        }
    }
    Err(match first_refusal {
        Some(reason) => refused(reason),
        None => not_found("command not found"),
    })
}

enum Unusable {
    Missing,
    Refused(String),
}
use Unusable::{Missing, Refused};

fn check_executable(p: &Path) -> Result<(), Unusable> {
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Missing),
        Err(e) => return Err(Refused(crate::error::io_reason(&e))),
    };
    if meta.is_dir() {
        return Err(Refused("Is a directory".into()));
    }
    nix::unistd::access(p, nix::unistd::AccessFlags::X_OK).map_err(|e| Refused(crate::error::errno_text(e as i32)))
}

/// The program, started and parked in its execve, with our listener in hand.
pub struct Launched {
    pub pid: u32,
    pub pidfd: OwnedFd,
    pub listener: Listener,
    /// Report pipe, read end, non-blocking: EOF once the exec succeeded.
    pub report: File,
}

/// Forks and runs the handshake.
pub fn launch(
    program: &Program,
    filter: &BpfProgram,
    sigmask: &libc::sigset_t,
    guarded: bool,
) -> Result<Launched, LaunchError> {
    let spawn_err =
        |what: &str, e: nix::Error| LaunchError::Spawn(format!("{what}: {}", crate::error::errno_text(e as i32)));
    let (report_r, report_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| spawn_err("cannot create a pipe", e))?;

    let argv: Vec<*const libc::c_char> =
        program.argv.iter().map(|a| a.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
    let envp: Vec<*const libc::c_char> =
        program.envp.iter().map(|a| a.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
    // Seccomp without CAP_SYS_ADMIN requires no_new_privs; with it we leave set-uid programs
    // their usual behaviour.
    let no_new_privs = needs_no_new_privs();
    tracing::debug!(no_new_privs, "loading the filter");
    let plan = ChildPlan {
        path: &program.path,
        argv: &argv,
        envp: &envp,
        filter,
        report_fd: report_w.as_raw_fd(),
        sigmask,
        no_new_privs,
        death_signal: if guarded { libc::SIGSTOP } else { libc::SIGKILL },
    };
    let pid = child::spawn(&plan).map_err(|e| LaunchError::Spawn(format!("fork: {}", crate::error::io_reason(&e))))?;
    drop(report_w);
    let mut report = File::from(report_r);

    let result = handshake(pid, &mut report);
    if result.is_err() {
        // Whatever state the child is in, it must not run on: kill and reap it.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
    }
    let (pidfd, listener) = result?;
    nix::fcntl::fcntl(report.as_fd(), nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK))
        .map_err(|e| spawn_err("fcntl", e))?;
    Ok(Launched { pid: pid as u32, pidfd, listener, report })
}

fn read_report(report: &mut File) -> Option<Report> {
    let mut buf = [0u8; 8];
    report.read_exact(&mut buf).ok().map(|()| Report::from_bytes(buf))
}

fn failure(r: Report) -> LaunchError {
    let text = crate::error::errno_text(r.value);
    match r.kind {
        Report::FAILED_SECCOMP => LaunchError::Filter(match r.value {
            libc::EBUSY => "this process already runs under a seccomp user-notification listener (EBUSY), \
                 for example inside interpose or a container runtime that uses one; Linux allows one listener per filter chain"
                .into(),
            libc::EINVAL => format!("the kernel refused the filter or its flags ({text}); Linux 5.19 or newer is needed"),
            libc::EACCES => format!("{text}: seccomp needs no_new_privs or CAP_SYS_ADMIN"),
            _ => text,
        }),
        Report::FAILED_PRCTL => LaunchError::Spawn(format!("prctl in the child: {text}")),
        Report::FAILED_FD_GUESS => LaunchError::Filter(format!("the listener did not land on the expected descriptor ({})", r.value)),
        Report::FAILED_EXEC => LaunchError::NotExecutable { program: String::new(), reason: text },
        _ => LaunchError::Spawn(format!("unexpected report {r:?} from the child")),
    }
}

fn handshake(pid: libc::pid_t, report: &mut File) -> Result<(OwnedFd, Listener), LaunchError> {
    let pidfd =
        pidfd::open(pid).map_err(|e| LaunchError::Spawn(format!("pidfd_open: {}", crate::error::io_reason(&e))))?;
    let first = read_report(report).ok_or_else(|| LaunchError::Spawn("the child died during set-up".into()))?;
    if first.kind != Report::LISTENER_FD {
        return Err(failure(first));
    }
    let n = RemoteFd(first.value);
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    let mut spins = 0u32;
    loop {
        match pidfd::getfd(pidfd.as_fd(), n) {
            Ok(fd) => {
                check_is_listener(&fd)?;
                return Ok((pidfd, Listener::from_owned(fd)));
            }
            Err(e) if e.raw_os_error() == Some(libc::EBADF) => {}
            Err(e) => {
                // The child is gone: it said why on the pipe, if it could.
                return Err(match read_report(report) {
                    Some(r) => failure(r),
                    None => LaunchError::Filter(format!("pidfd_getfd: {}", crate::error::io_reason(&e))),
                });
            }
        }
        // Not loaded yet. A report (failure) or EOF (death) ends the wait; otherwise back off a
        // little: the child is microseconds away from its seccomp call.
        let timeout = if spins < 100 { 0 } else { 1 };
        spins += 1;
        let mut p = [nix::poll::PollFd::new(report.as_fd(), nix::poll::PollFlags::POLLIN)];
        if nix::poll::poll(&mut p, nix::poll::PollTimeout::from(timeout as u8)).unwrap_or(0) > 0 {
            return Err(match read_report(report) {
                Some(r) => failure(r),
                None => LaunchError::Spawn("the child died before loading the filter".into()),
            });
        }
        if timeout == 0 {
            std::thread::yield_now();
        }
        if Instant::now() > deadline {
            return Err(LaunchError::Filter("the child did not load the filter within 10 s".into()));
        }
    }
}

fn check_is_listener(fd: &OwnedFd) -> Result<(), LaunchError> {
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default();
    if link.as_os_str().as_bytes().starts_with(b"anon_inode:seccomp notify") {
        Ok(())
    } else {
        Err(LaunchError::Filter(format!(
            "descriptor taken from the child is {}, not a seccomp listener",
            link.display()
        )))
    }
}
