//! pidfds: stable handles on the target's processes, and the way we borrow their descriptors.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// A file descriptor number in *another* process's table. It means nothing in ours until
/// `pidfd_getfd` turns it into an [`OwnedFd`] that refers to the same open file description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteFd(pub RawFd);

fn check(r: libc::c_long) -> io::Result<libc::c_long> {
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(r) }
}

/// `pidfd_open(pid, 0)`: the returned fd is close-on-exec.
pub fn open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and returns a new descriptor or -1.
    let fd = check(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the kernel just created this descriptor for us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `PIDFD_THREAD` (Linux 6.9): a pidfd for one thread rather than its thread group.
const PIDFD_THREAD: libc::c_int = libc::O_EXCL;

/// A pidfd for thread `tid` itself (Linux 6.9+); it never refers to a later thread that reuses
/// the number. Falls back to the thread group's pidfd on older kernels.
pub fn open_thread(tid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and returns a new descriptor or -1.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, tid, PIDFD_THREAD) };
    if r >= 0 {
        // SAFETY: the kernel just created this descriptor for us; nothing else owns it.
        return Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) });
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() != Some(libc::EINVAL) {
        return Err(e);
    }
    open(tgid_of(tid)? as libc::pid_t)
}

/// Whether pidfds can name single threads (`PIDFD_THREAD`, Linux 6.9), so that signals sent
/// through them are thread-directed.
pub fn supports_thread_pidfds() -> bool {
    use std::sync::OnceLock;
    static YES: OnceLock<bool> = OnceLock::new();
    *YES.get_or_init(|| {
        // SAFETY: pidfd_open on our own pid with PIDFD_THREAD; the result is closed at once.
        let r = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), PIDFD_THREAD) };
        if r >= 0 {
            // SAFETY: we own the descriptor just created.
            drop(unsafe { OwnedFd::from_raw_fd(r as RawFd) });
        }
        r >= 0
    })
}

/// The thread group (process) id of thread `tid`, from /proc.
pub fn tgid_of(tid: libc::pid_t) -> io::Result<u32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| io::Error::from_raw_os_error(libc::ESRCH))
}

/// `pidfd_getfd(pidfd, fd, 0)`: a duplicate, in our table, of `fd` from the process behind
/// `pidfd`. The new descriptor is close-on-exec.
pub fn getfd(pidfd: BorrowedFd<'_>, fd: RemoteFd) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_getfd takes three integers and returns a new descriptor or -1.
    let r = check(unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd.0, 0) })?;
    // SAFETY: the kernel just created this descriptor for us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

/// Sends `sig` to the process behind `pidfd` (no siginfo).
pub fn send_signal(pidfd: BorrowedFd<'_>, sig: i32) -> io::Result<()> {
    // SAFETY: a null siginfo is allowed and means "as kill(2) would send it".
    check(unsafe {
        libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), sig, std::ptr::null::<libc::siginfo_t>(), 0)
    })
    .map(drop)
}

/// `kcmp(a, b, KCMP_FILES)`: whether threads `a` and `b` share one descriptor table.
pub fn same_files(a: libc::pid_t, b: libc::pid_t) -> io::Result<bool> {
    const KCMP_FILES: libc::c_long = 2;
    // SAFETY: kcmp takes five integers and touches no memory of ours.
    let r = check(unsafe { libc::syscall(libc::SYS_kcmp, a as libc::c_long, b as libc::c_long, KCMP_FILES, 0, 0) })?;
    Ok(r == 0)
}

/// `kcmp(tid, me, KCMP_FILE, fd, ours)`: whether thread `tid`'s descriptor `fd` refers to the
/// same open file description as our descriptor `ours` (`me`: our pid). Err when the comparison
/// cannot be made (no such thread or descriptor: EBADF, ESRCH; no kcmp: ENOSYS).
pub fn same_file(tid: libc::pid_t, fd: RemoteFd, me: libc::pid_t, ours: BorrowedFd<'_>) -> io::Result<bool> {
    const KCMP_FILE: libc::c_long = 0;
    // SAFETY: kcmp takes five integers and touches no memory of ours.
    let r = check(unsafe {
        libc::syscall(
            libc::SYS_kcmp,
            tid as libc::c_long,
            me as libc::c_long,
            KCMP_FILE,
            fd.0 as libc::c_long,
            ours.as_raw_fd() as libc::c_long,
        )
    })?;
    Ok(r == 0)
}
