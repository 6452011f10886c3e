//! The post-fork child: from `fork` to `execve`, nothing but async-signal-safe raw calls.
//!
//! Everything the child needs (program path, argv, envp, the BPF program, the report pipe) is
//! prepared by the parent before fork, so the child never allocates or takes a lock (a malloc lock
//! is a futex, and futex may be one of the selected syscalls).
//!
//! The handshake, and why it cannot deadlock whatever the policy selects:
//! 1. before loading the filter, the child finds the lowest free descriptor number N (the number
//!    `seccomp` will give the listener) and writes it to the report pipe: an untrapped write;
//! 2. it loads the filter (`NEW_LISTENER | WAIT_KILLABLE_RECV`); the listener lands on N;
//! 3. it calls `execve`, which the filter *always* sends to the supervisor (whether or not the
//!    policy selects it). The child thus parks inside execve with the listener still open, until
//!    the parent has taken its own copy of N with `pidfd_getfd` and answers.
//!
//! Between 2 and 3 the child makes no other syscall, and every syscall after the filter load
//! (execve, then anything the new program does) waits in a queue that the parent will serve: no
//! call of the target after exec goes unseen.

use std::ffi::CStr;
use std::io;

use super::seccomp::{BpfProgram, LOAD_FLAGS, raw_seccomp};

/// One 8-byte record on the report pipe, child to parent.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Report {
    pub kind: u32,
    pub value: i32,
}

impl Report {
    pub const LISTENER_FD: u32 = 1;
    pub const FAILED_PRCTL: u32 = 2;
    pub const FAILED_SECCOMP: u32 = 3;
    pub const FAILED_EXEC: u32 = 4;
    pub const FAILED_FD_GUESS: u32 = 5;
    pub const FAILED_USER: u32 = 6;

    pub fn from_bytes(b: [u8; 8]) -> Self {
        Self { kind: u32::from_ne_bytes([b[0], b[1], b[2], b[3]]), value: i32::from_ne_bytes([b[4], b[5], b[6], b[7]]) }
    }
}

/// What the child needs, all of it allocated by the parent.
pub struct ChildPlan<'a> {
    pub path: &'a CStr,
    /// NULL-terminated.
    pub argv: &'a [*const libc::c_char],
    /// NULL-terminated.
    pub envp: &'a [*const libc::c_char],
    pub filter: &'a BpfProgram,
    pub report_fd: libc::c_int,
    /// The signal mask interpose was started with; the target gets it back.
    pub sigmask: &'a libc::sigset_t,
    pub no_new_privs: bool,
    /// `PR_SET_PDEATHSIG`: SIGSTOP when a guardian will clean up, SIGKILL otherwise.
    pub death_signal: libc::c_int,
    /// `-u`: the user, group and supplementary groups the program runs as.
    pub user: Option<(libc::uid_t, libc::gid_t, &'a [libc::gid_t])>,
}

/// Forks; the child follows the handshake above and never returns. Returns the child's pid.
pub fn spawn(plan: &ChildPlan<'_>) -> io::Result<libc::pid_t> {
    assert!(plan.argv.last().is_some_and(|p| p.is_null()) && plan.envp.last().is_some_and(|p| p.is_null()));
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: fork is called with everything the child needs already allocated; the child branch
    // below only makes async-signal-safe raw calls and ends in execve or _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: we are the freshly forked child; see child_main's contract.
        unsafe { child_main(plan, parent) }
    }
    Ok(pid)
}

fn report(fd: libc::c_int, kind: u32, value: i32) {
    let r = Report { kind, value };
    // SAFETY: writes the 8 bytes of `r`, which lives for the call. A short or failed write
    // leaves the parent with EOF, which it reports as an unexplained child death.
    unsafe { libc::write(fd, (&raw const r).cast(), size_of::<Report>()) };
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// # Safety
/// Must be called only in the child of `fork`, before anything else. Never returns.
unsafe fn child_main(plan: &ChildPlan<'_>, parent: libc::pid_t) -> ! {
    let fd = plan.report_fd;
    // SAFETY: raw libc calls on integers and on pointers that the parent prepared and that fork
    // copied into this address space; none allocates or takes a lock.
    unsafe {
        // Rust sets SIGPIPE to "ignore" for itself; an ignored signal stays ignored across exec,
        // so give the target the default, as std::process::Command does.
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        // interpose ignores SIGXFSZ (see sys::signals::ignore_for_executed_writes).
        libc::signal(libc::SIGXFSZ, libc::SIG_DFL);
        libc::pthread_sigmask(libc::SIG_SETMASK, plan.sigmask, std::ptr::null_mut());

        // -u: the user's identity, first (a credential change clears the parent-death signal,
        // set below). Raw calls: this process has one thread, and libc's wrappers would signal
        // the others.
        if let Some((uid, gid, groups)) = plan.user {
            if libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) != 0
                || libc::syscall(libc::SYS_setresgid, gid, gid, gid) != 0
                || libc::syscall(libc::SYS_setresuid, uid, uid, uid) != 0
            {
                report(fd, Report::FAILED_USER, errno());
                libc::_exit(126);
            }
        }

        // If interpose dies, the target must not run on unobserved (its trapped calls would fail
        // with ENOSYS): it stops at once, and the guardian kills it and its descendants (see
        // sys::guardian); without a guardian, it dies. Re-check the parent to close the race
        // with an early death.
        if libc::prctl(libc::PR_SET_PDEATHSIG, plan.death_signal, 0, 0, 0) != 0 {
            report(fd, Report::FAILED_PRCTL, errno());
            libc::_exit(126);
        }
        if libc::getppid() != parent {
            libc::_exit(126);
        }
        if plan.no_new_privs && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            report(fd, Report::FAILED_PRCTL, errno());
            libc::_exit(126);
        }

        // Step 1: the listener will be the lowest free descriptor; tell the parent its number
        // while our writes are still untrapped.
        let guess = libc::fcntl(fd, libc::F_DUPFD, 0);
        if guess < 0 {
            report(fd, Report::FAILED_FD_GUESS, errno());
            libc::_exit(126);
        }
        libc::close(guess);
        report(fd, Report::LISTENER_FD, guess);

        // Step 2.
        let mut prog = plan.filter.fprog();
        let listener = raw_seccomp(libc::SECCOMP_SET_MODE_FILTER, LOAD_FLAGS, (&raw mut prog).cast());
        if listener < 0 {
            // No filter was loaded: this write is not trapped.
            report(fd, Report::FAILED_SECCOMP, errno());
            libc::_exit(126);
        }
        if listener != libc::c_long::from(guess) {
            // Cannot happen in a single-threaded child; if it did, the parent is waiting for a
            // listener at `guess` and would time out. Say why before that.
            report(fd, Report::FAILED_FD_GUESS, listener as i32);
            libc::_exit(126);
        }

        // Step 3: trapped, always. The listener and the report pipe are close-on-exec: a
        // successful exec closes them, which the parent sees as EOF on the pipe.
        libc::execve(plan.path.as_ptr(), plan.argv.as_ptr(), plan.envp.as_ptr());
        let e = errno();
        report(fd, Report::FAILED_EXEC, e);
        libc::_exit(if e == libc::ENOENT { 127 } else { 126 });
    }
}
