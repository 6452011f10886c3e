//! seccomp(2) and the user-notification ioctls, without libseccomp.
//!
//! libseccomp 2.5.4 (Debian 12) folds every ioctl error into ECANCELED and cannot set
//! `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`: interpose writes the BPF program itself
//! (`filter::bpf`), and loads it and answers notifications through the raw calls below.
//!
//! Invariants kept here:
//! - the negative-errno convention of `seccomp_notif_resp.error` is applied in exactly one place,
//!   [`Listener::respond`];
//! - `NOTIF_RECV` is always handed a zeroed buffer (the kernel refuses anything else);
//! - a [`Notification`]'s id is the only handle the supervisor has on a parked thread; memory read
//!   for it is trusted only once the thread is known to have stayed parked there throughout:
//!   [`Listener::id_valid`] after the read, or an answer that lands (what the log shows).

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// Flags the filter is loaded with: a listener for us, and a wait that only fatal signals can
/// interrupt once we have received the notification.
pub const LOAD_FLAGS: libc::c_ulong =
    libc::SECCOMP_FILTER_FLAG_NEW_LISTENER | libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (Linux 6.6), not yet in every libc.
const USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;

/// Largest program the kernel accepts (`BPF_MAXINSNS`).
pub const BPF_MAX_INSNS: usize = 4096;

/// A classic-BPF program ready for `seccomp(SECCOMP_SET_MODE_FILTER)`.
///
/// Built in the parent before fork so that the child only has to pass a pointer to the kernel.
pub struct BpfProgram {
    insns: Vec<libc::sock_filter>,
}

impl BpfProgram {
    /// A program built in memory; refused when longer than the kernel accepts.
    pub fn from_insns(insns: Vec<libc::sock_filter>) -> Result<Self, String> {
        if insns.is_empty() || insns.len() > BPF_MAX_INSNS {
            return Err(format!(
                "the filter needs {} BPF instructions; the kernel accepts 1 to {BPF_MAX_INSNS}",
                insns.len()
            ));
        }
        Ok(Self { insns })
    }

    pub fn len(&self) -> usize {
        self.insns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// The `sock_fprog` the kernel wants. Borrows `self`: the kernel copies the program during the
    /// `seccomp` call, so the pointer only has to live that long.
    pub(crate) fn fprog(&self) -> libc::sock_fprog {
        libc::sock_fprog {
            // from_insns bounds the length by BPF_MAX_INSNS, which fits in u16.
            len: self.insns.len() as u16,
            filter: self.insns.as_ptr() as *mut libc::sock_filter,
        }
    }
}

/// Raw `seccomp(2)`; async-signal-safe, used by the post-fork child.
pub(crate) fn raw_seccomp(op: libc::c_uint, flags: libc::c_ulong, args: *mut libc::c_void) -> libc::c_long {
    // SAFETY: seccomp(2) reads `args` according to `op`; callers pass either null (for ops that
    // ignore it) or a pointer to the structure that op expects, valid for the call.
    unsafe { libc::syscall(libc::SYS_seccomp, op, flags, args) }
}

/// Kernel facts the supervisor depends on, probed without loading any filter.
pub struct KernelSupport {
    pub user_notif: bool,
    pub sizes_match: bool,
}

pub fn probe() -> KernelSupport {
    let mut action: u32 = libc::SECCOMP_RET_USER_NOTIF;
    let user_notif = raw_seccomp(libc::SECCOMP_GET_ACTION_AVAIL, 0, (&raw mut action).cast()) == 0;
    // SAFETY: seccomp_notif_sizes is plain data; all-zero is a valid value.
    let mut sizes: libc::seccomp_notif_sizes = unsafe { zeroed() };
    let got = raw_seccomp(libc::SECCOMP_GET_NOTIF_SIZES, 0, (&raw mut sizes).cast()) == 0;
    // The kernel may grow its structures; it never shrinks them below what we send and read.
    let sizes_match = got
        && usize::from(sizes.seccomp_notif) >= size_of::<libc::seccomp_notif>()
        && usize::from(sizes.seccomp_notif_resp) >= size_of::<libc::seccomp_notif_resp>()
        && usize::from(sizes.seccomp_data) >= size_of::<libc::seccomp_data>();
    KernelSupport { user_notif, sizes_match }
}

/// One parked syscall, as the kernel describes it at syscall entry.
#[derive(Clone, Copy)]
pub struct Notification {
    raw: libc::seccomp_notif,
}

impl Default for Notification {
    fn default() -> Self {
        // SAFETY: seccomp_notif is plain data; all-zero is a valid value (and what RECV requires).
        Self { raw: unsafe { zeroed() } }
    }
}

impl Notification {
    /// Cookie naming this notification; valid until we answer or the thread leaves the wait.
    pub fn id(&self) -> u64 {
        self.raw.id
    }
    /// The calling *thread*'s id, in the supervisor's pid namespace.
    pub fn tid(&self) -> u32 {
        self.raw.pid
    }
    pub fn nr(&self) -> i32 {
        self.raw.data.nr
    }
    pub fn arch(&self) -> u32 {
        self.raw.data.arch
    }
    pub fn args(&self) -> [u64; 6] {
        self.raw.data.args
    }
    /// The program counter at syscall entry: the address just after the syscall instruction.
    pub fn instruction_pointer(&self) -> u64 {
        self.raw.data.instruction_pointer
    }
}

/// How to answer a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    /// Let the kernel run the call as if no filter were there.
    Continue,
    /// Fail the call with this (positive) errno.
    Error(i32),
    /// Complete the call with this return value, without running it.
    Value(i64),
}

/// Outcome of receiving.
pub enum Recv {
    Got,
    /// The notification was withdrawn before we got it (its thread was signalled or died), or the
    /// filter has no users left: check [`Listener::hung_up`].
    Gone,
    Interrupted,
}

/// The supervisor's end of a seccomp filter: owned, close-on-exec.
pub struct Listener {
    fd: OwnedFd,
}

impl Listener {
    pub fn from_owned(fd: OwnedFd) -> Self {
        Self { fd }
    }

    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Blocks until a notification is pending, then fills `n`.
    pub fn recv(&self, n: &mut Notification) -> io::Result<Recv> {
        *n = Notification::default();
        // SAFETY: RECV writes one seccomp_notif into the (zeroed, exclusively borrowed) buffer.
        let r = unsafe { libc::ioctl(self.raw(), libc::SECCOMP_IOCTL_NOTIF_RECV, &raw mut n.raw) };
        if r == 0 {
            return Ok(Recv::Got);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ENOENT) => Ok(Recv::Gone),
            Some(libc::EINTR) => Ok(Recv::Interrupted),
            _ => Err(e),
        }
    }

    /// Answers `id`. Returns `Ok(false)` when the notification is no longer live (ENOENT: the
    /// thread was killed, or interrupted before we answered).
    pub fn respond(&self, id: u64, response: Response) -> io::Result<bool> {
        let (val, error, flags) = match response {
            Response::Continue => (0, 0, libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32),
            // The kernel wants a negative errno: the only place this conversion happens.
            Response::Error(errno) => (0, -errno, 0),
            Response::Value(v) => (v, 0, 0),
        };
        let mut resp = libc::seccomp_notif_resp { id, val, error, flags };
        // SAFETY: SEND reads one seccomp_notif_resp from the buffer, which lives for the call.
        let r = unsafe { libc::ioctl(self.raw(), libc::SECCOMP_IOCTL_NOTIF_SEND, &raw mut resp) };
        if r == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ENOENT) => Ok(false),
            _ => Err(e),
        }
    }

    /// Whether `id` is still parked waiting for us. Bytes read from the target for this id are
    /// trustworthy only if this returns true *after* they were read.
    pub fn id_valid(&self, id: u64) -> bool {
        let mut id = id;
        // SAFETY: ID_VALID reads one u64 from the pointer, which lives for the call.
        unsafe { libc::ioctl(self.raw(), libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &raw mut id) == 0 }
    }

    /// Installs `fd` in the notifying process and answers the notification with the new number,
    /// atomically (`SECCOMP_ADDFD_FLAG_SEND`). `Ok(Err(errno))` when the kernel refused (ENOENT:
    /// the notification is gone; EMFILE: the target's table is full).
    pub fn add_fd_and_answer(&self, id: u64, fd: BorrowedFd<'_>, cloexec: bool) -> Result<i32, i32> {
        let mut req = libc::seccomp_notif_addfd {
            id,
            flags: libc::SECCOMP_ADDFD_FLAG_SEND as u32,
            srcfd: fd.as_raw_fd() as u32,
            newfd: 0,
            newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
        };
        // SAFETY: ADDFD reads one seccomp_notif_addfd from the buffer, which lives for the call.
        let r = unsafe { libc::ioctl(self.raw(), libc::SECCOMP_IOCTL_NOTIF_ADDFD, &raw mut req) };
        if r >= 0 { Ok(r) } else { Err(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)) }
    }

    /// Installs `fd` in the notifying process at number `newfd` (replacing what was there, as
    /// dup2 does, in the target's own context) and answers with it, atomically
    /// (`SECCOMP_ADDFD_FLAG_SETFD | SECCOMP_ADDFD_FLAG_SEND`).
    pub fn add_fd_at_and_answer(&self, id: u64, fd: BorrowedFd<'_>, newfd: i32, cloexec: bool) -> Result<i32, i32> {
        let mut req = libc::seccomp_notif_addfd {
            id,
            flags: (libc::SECCOMP_ADDFD_FLAG_SEND | libc::SECCOMP_ADDFD_FLAG_SETFD) as u32,
            srcfd: fd.as_raw_fd() as u32,
            newfd: newfd as u32,
            newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
        };
        // SAFETY: ADDFD reads one seccomp_notif_addfd from the buffer, which lives for the call.
        let r = unsafe { libc::ioctl(self.raw(), libc::SECCOMP_IOCTL_NOTIF_ADDFD, &raw mut req) };
        if r >= 0 { Ok(r) } else { Err(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)) }
    }

    /// Asks the kernel to wake the target on our CPU when we answer, or stops asking
    /// (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, Linux 6.6+).
    pub fn set_sync_wakeup(&self, on: bool) -> io::Result<()> {
        let flags: u64 = if on { USER_NOTIF_FD_SYNC_WAKE_UP } else { 0 };
        // SAFETY: SET_FLAGS takes its argument by value; no memory is passed.
        let r = unsafe { libc::ioctl(self.raw(), libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) };
        if r == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
    }

    /// Waits up to `timeout_ms` (-1: forever) for the listener to become readable or hang up.
    /// Returns (readable, hung_up).
    pub fn poll(&self, timeout_ms: i32) -> io::Result<(bool, bool)> {
        let mut p = libc::pollfd { fd: self.raw(), events: libc::POLLIN, revents: 0 };
        loop {
            // SAFETY: one pollfd, exclusively borrowed for the call.
            let r = unsafe { libc::poll(&raw mut p, 1, timeout_ms) };
            if r >= 0 {
                return Ok((p.revents & libc::POLLIN != 0, p.revents & (libc::POLLHUP | libc::POLLERR) != 0));
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
    }

    /// True once every task that held the filter has been released.
    pub fn hung_up(&self) -> bool {
        matches!(self.poll(0), Ok((_, true)))
    }
}
