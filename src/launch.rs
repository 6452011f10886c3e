//! Starting the program under the filter: path resolution, fork, the handshake, the listener.
//!
//! The child's side is in `sys::child` (it must be async-signal-safe); this is the parent's:
//! 1. resolve the program as execvp would, so that "not found" (127), "cannot execute" (126) and a
//!    script's missing `#!` interpreter are reported before anything is forked;
//! 2. fork; read the listener's descriptor number N from the report pipe (the child wrote it
//!    before loading the filter);
//! 3. take N from the child with `pidfd_getfd`, retrying until the child has loaded the filter.
//!    From then on the child (parked in its always-trapped execve) is ours to answer.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
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
    /// The program exists, but the interpreter its `#!` line (or, for an ELF program, its
    /// PT_INTERP, the dynamic loader) names is missing or cannot be executed.
    #[error("{program}: bad {}interpreter {interpreter}: {reason}", if *elf { "ELF " } else { "" })]
    BadInterpreter { program: String, interpreter: String, elf: bool, reason: String, missing: bool },
    #[error("cannot start the program: {0}")]
    Spawn(String),
    #[error("cannot install the seccomp filter: {0}")]
    Filter(String),
}

impl LaunchError {
    /// Exit status, by the shell's convention: 127 not found, 126 found but not runnable. A
    /// missing interpreter is 127, as bash (5.1 and later) and dash return when execve fails with
    /// ENOENT; an interpreter that exists but cannot be executed is 126, as in bash.
    pub fn exit_code(&self) -> u8 {
        match self {
            LaunchError::NotFound { .. } => 127,
            LaunchError::BadInterpreter { missing: true, .. } => 127,
            LaunchError::NotExecutable { .. } | LaunchError::BadInterpreter { .. } => 126,
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
    /// `set-uid root`, `set-gid shadow`: what exec would give the program that no_new_privs
    /// takes away.
    set_id: Option<String>,
}

impl Program {
    /// Resolves `program` like execvp (PATH search when it has no slash) and checks that it can
    /// be executed, and that a script's `#!` interpreter exists.
    pub fn resolve(program: &OsStr, args: &[OsString]) -> Result<Self, LaunchError> {
        let display = program.to_string_lossy().into_owned();
        let path = find(program, &display)?;
        if let Some(bad) = bad_interpreter(&path, false, 0) {
            return Err(bad.error(&display));
        }
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
        let set_id = set_id(&path);
        Ok(Self { display, path: cstr(path.as_os_str())?, argv, envp, set_id })
    }

    fn path(&self) -> &Path {
        Path::new(OsStr::from_bytes(self.path.to_bytes()))
    }

    /// What the program's failed execve (after it was resolved) means for the user. ENOENT of a
    /// file that exists is a missing interpreter or dynamic loader, never "no such file".
    pub fn exec_failed(&self, errno: i32) -> LaunchError {
        let program = self.display.clone();
        if (errno == libc::ENOENT || errno == libc::EACCES)
            && let Some(bad) = bad_interpreter(self.path(), true, 0)
        {
            return bad.error(&self.display);
        }
        if errno != libc::ENOENT {
            return LaunchError::NotExecutable { program, reason: crate::error::errno_text(errno) };
        }
        let reason = if self.path().exists() {
            // bash's words for an ENOENT it cannot explain either.
            "cannot execute: required file not found".to_string()
        } else {
            crate::error::errno_text(errno)
        };
        LaunchError::NotFound { program, reason }
    }
}

/// Whether interpose must set no_new_privs to load its filter: Linux requires it of a process
/// without CAP_SYS_ADMIN (in its user namespace). Root in a default container lacks that
/// capability; root with it keeps set-uid programs their usual behaviour.
pub fn needs_no_new_privs() -> bool {
    !crate::sys::caps::effective(crate::sys::caps::CAP_SYS_ADMIN)
}

/// `set-uid root` / `set-gid shadow` / both, when executing `path` would change the process's
/// effective user or group; None when it would not (no such bit, already that user or group, a
/// script, whose set-id bits Linux ignores, or a `nosuid` mount).
fn set_id(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let mode = meta.mode();
    let mut what = Vec::new();
    if mode & libc::S_ISUID != 0 && meta.uid() != nix::unistd::geteuid().as_raw() {
        let uid = nix::unistd::Uid::from_raw(meta.uid());
        let name = nix::unistd::User::from_uid(uid).ok().flatten().map_or_else(|| uid.to_string(), |u| u.name);
        what.push(format!("set-uid {name}"));
    }
    // Set-gid without group execute is mandatory locking, not a privilege.
    if mode & libc::S_ISGID != 0 && mode & libc::S_IXGRP != 0 && meta.gid() != nix::unistd::getegid().as_raw() {
        let gid = nix::unistd::Gid::from_raw(meta.gid());
        let name = nix::unistd::Group::from_gid(gid).ok().flatten().map_or_else(|| gid.to_string(), |g| g.name);
        what.push(format!("set-gid {name}"));
    }
    if what.is_empty() || head(path).is_some_and(|h| h.starts_with(b"#!")) {
        return None;
    }
    let nosuid =
        nix::sys::statvfs::statvfs(path).is_ok_and(|v| v.flags().contains(nix::sys::statvfs::FsFlags::ST_NOSUID));
    (!nosuid).then(|| what.join(" and "))
}

/// The first bytes of a regular file, as many as the kernel looks at for `#!` (BINPRM_BUF_SIZE).
fn head(path: &Path) -> Option<Vec<u8>> {
    let file = open_regular(path)?;
    let mut buf = vec![0u8; 256];
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    buf.truncate(n);
    Some(buf)
}

/// `path` opened for reading if it is a regular file. Anything else is not opened at all (opening
/// a device can have effects), and what was opened is checked again.
fn open_regular(path: &Path) -> Option<File> {
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let file =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path).ok()?;
    file.metadata().ok()?.is_file().then_some(file)
}

/// The interpreter a `#!` line names, parsed as the kernel does (binfmt_script): after `#!` and
/// blanks, up to a blank, a NUL or the end of the line.
fn shebang(head: &[u8]) -> Option<&[u8]> {
    let line = head.strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
    let start = line.iter().position(|&b| b != b' ' && b != b'\t')?;
    let rest = &line[start..];
    Some(&rest[..rest.iter().position(|&b| b == b' ' || b == b'\t' || b == 0).unwrap_or(rest.len())])
}

/// The ELF interpreter (PT_INTERP, the dynamic loader) of an ELF file, if it names one.
fn elf_interpreter(path: &Path) -> Option<Vec<u8>> {
    let file = open_regular(path)?;
    let mut eh = [0u8; 64];
    file.read_exact_at(&mut eh, 0).ok()?;
    if &eh[..4] != b"\x7fELF" {
        return None;
    }
    let big = match eh[5] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let u16_at = |b: &[u8], o: usize| {
        let a = [b[o], b[o + 1]];
        u64::from(if big { u16::from_be_bytes(a) } else { u16::from_le_bytes(a) })
    };
    let u32_at = |b: &[u8], o: usize| {
        let a = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        u64::from(if big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) })
    };
    let u64_at = |b: &[u8], o: usize| {
        let a: [u8; 8] = b[o..o + 8].try_into().unwrap_or_default();
        if big { u64::from_be_bytes(a) } else { u64::from_le_bytes(a) }
    };
    // ELFCLASS32 or ELFCLASS64: where the program header table is, and its entries' size.
    let (wide, phoff, phentsize, phnum) = match eh[4] {
        1 => (false, u32_at(&eh, 0x1c), u16_at(&eh, 0x2a), u16_at(&eh, 0x2c)),
        2 => (true, u64_at(&eh, 0x20), u16_at(&eh, 0x36), u16_at(&eh, 0x38)),
        _ => return None,
    };
    let entry = if wide { 56 } else { 32 };
    if phentsize < entry as u64 {
        return None;
    }
    const PT_INTERP: u64 = 3;
    let mut buf = [0u8; 56];
    let ph = &mut buf[..entry];
    for i in 0..phnum {
        file.read_exact_at(ph, phoff.checked_add(i * phentsize)?).ok()?;
        if u32_at(ph, 0) != PT_INTERP {
            continue;
        }
        let (offset, size) = if wide { (u64_at(ph, 8), u64_at(ph, 32)) } else { (u32_at(ph, 4), u32_at(ph, 16)) };
        if size == 0 || size > 4096 {
            return None;
        }
        let mut name = vec![0u8; size as usize];
        file.read_exact_at(&mut name, offset).ok()?;
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        name.truncate(end);
        return Some(name);
    }
    None
}

/// An interpreter that makes exec fail.
struct BadInterpreter {
    interpreter: String,
    elf: bool,
    missing: bool,
    reason: String,
}

impl BadInterpreter {
    fn error(self, program: &str) -> LaunchError {
        LaunchError::BadInterpreter {
            program: program.to_string(),
            interpreter: self.interpreter,
            elf: self.elf,
            reason: self.reason,
            missing: self.missing,
        }
    }
}

/// The interpreter that would make exec of `path` fail, following `#!` lines as the kernel does
/// (a script's interpreter may itself be a script, a few levels deep) and, with `elf`, ELF
/// programs' dynamic loaders. None when every interpreter on the way is there (or `path` cannot
/// be read: the kernel will say what it finds).
fn bad_interpreter(path: &Path, elf: bool, depth: u32) -> Option<BadInterpreter> {
    let head = head(path)?;
    let (interp, is_elf) = match shebang(&head) {
        Some(i) => (i.to_vec(), false),
        None if elf => (elf_interpreter(path)?, true),
        None => return None,
    };
    if interp.is_empty() {
        return None;
    }
    let interp_path = PathBuf::from(OsStr::from_bytes(&interp));
    let bad = |missing: bool, reason: String| {
        Some(BadInterpreter { interpreter: interp_path.display().to_string(), elf: is_elf, missing, reason })
    };
    match check_executable(&interp_path) {
        Err(Missing) => bad(true, crate::error::errno_text(libc::ENOENT)),
        Err(Refused(reason)) => bad(false, reason),
        // The kernel follows a few levels of interpreters (then fails with ELOOP).
        Ok(()) if depth < 4 => bad_interpreter(&interp_path, elf, depth + 1),
        Ok(()) => None,
    }
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

/// `-u`: who the program runs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunAs {
    /// As given (a name, or UID[:GID]).
    pub name: String,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    /// Supplementary groups: the user's, from the group database, as strace's `initgroups`.
    pub groups: Vec<libc::gid_t>,
}

impl RunAs {
    /// `USERNAME` (its uid, primary group and groups from the user and group databases) or
    /// `UID[:GID]` (no supplementary groups; GID defaults to the user's, or to UID).
    pub fn resolve(spec: &str) -> Result<RunAs, String> {
        use nix::unistd::{Uid, User};
        let by_name = |name: &str| -> Result<RunAs, String> {
            let u = User::from_name(name)
                .map_err(|e| {
                    format!("-u {spec}: cannot read the user database: {}", crate::error::errno_text(e as i32))
                })?
                .ok_or_else(|| format!("-u {spec}: no such user (expected a user name, or UID[:GID])"))?;
            let cname = CString::new(name).map_err(|_| format!("-u {spec}: a user name has no NUL byte"))?;
            let groups = nix::unistd::getgrouplist(&cname, u.gid)
                .map_err(|e| format!("-u {spec}: cannot read the groups: {}", crate::error::errno_text(e as i32)))?;
            Ok(RunAs {
                name: spec.into(),
                uid: u.uid.as_raw(),
                gid: u.gid.as_raw(),
                groups: groups.iter().map(|g| g.as_raw()).collect(),
            })
        };
        let (a, b) = match spec.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (spec, None),
        };
        match a.parse::<u32>() {
            Ok(uid) => {
                let gid = match b {
                    Some(g) => {
                        g.parse::<u32>().map_err(|_| format!("-u {spec}: \"{g}\" is not a group id (UID:GID)"))?
                    }
                    None => User::from_uid(Uid::from_raw(uid)).ok().flatten().map_or(uid, |u| u.gid.as_raw()),
                };
                Ok(RunAs { name: spec.into(), uid, gid, groups: vec![gid] })
            }
            Err(_) if b.is_none() => by_name(a),
            Err(_) => Err(format!("-u {spec}: expected a user name, or UID[:GID] in numbers")),
        }
    }
}

/// Forks and runs the handshake.
pub fn launch(
    program: &Program,
    filter: &BpfProgram,
    sigmask: &libc::sigset_t,
    guarded: bool,
    user: Option<&RunAs>,
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
    // As another user the child has no CAP_SYS_ADMIN left to load the filter with.
    let no_new_privs = needs_no_new_privs() || user.is_some_and(|u| u.uid != 0);
    tracing::debug!(no_new_privs, "loading the filter");
    if no_new_privs && let Some(what) = &program.set_id {
        let n = if what.contains(" and ") { "those privileges" } else { "that privilege" };
        let _ = writeln!(
            io::stderr(),
            "interpose: warning: {} is {what}; under interpose (no_new_privs, needed without CAP_SYS_ADMIN) it runs without {n}",
            program.display
        );
    }
    let plan = ChildPlan {
        path: &program.path,
        argv: &argv,
        envp: &envp,
        filter,
        report_fd: report_w.as_raw_fd(),
        sigmask,
        no_new_privs,
        death_signal: if guarded { libc::SIGSTOP } else { libc::SIGKILL },
        user: user.map(|u| (u.uid, u.gid, u.groups.as_slice())),
    };
    let pid = child::spawn(&plan).map_err(|e| LaunchError::Spawn(format!("fork: {}", crate::error::io_reason(&e))))?;
    drop(report_w);
    let mut report = File::from(report_r);

    let result = handshake(pid, &mut report, program);
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

fn failure(r: Report, program: &Program) -> LaunchError {
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
        Report::FAILED_USER => LaunchError::Spawn(format!("cannot become the user given with -u: {text}")),
        Report::FAILED_FD_GUESS => LaunchError::Filter(format!("the listener did not land on the expected descriptor ({})", r.value)),
        Report::FAILED_EXEC => program.exec_failed(r.value),
        _ => LaunchError::Spawn(format!("unexpected report {r:?} from the child")),
    }
}

fn handshake(pid: libc::pid_t, report: &mut File, program: &Program) -> Result<(OwnedFd, Listener), LaunchError> {
    let pidfd =
        pidfd::open(pid).map_err(|e| LaunchError::Spawn(format!("pidfd_open: {}", crate::error::io_reason(&e))))?;
    let first = read_report(report).ok_or_else(|| LaunchError::Spawn("the child died during set-up".into()))?;
    if first.kind != Report::LISTENER_FD {
        return Err(failure(first, program));
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
                    Some(r) => failure(r, program),
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
                Some(r) => failure(r, program),
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
