//! Executing fd-based calls on the target's behalf, to learn their results and durations.
//!
//! A notification arrives at syscall entry only; after CONTINUE the result is invisible. So for
//! the read/write/send/recv/connect/accept families the supervisor borrows the target's
//! descriptor (`pidfd_getfd`: the same open file description, so offsets, O_NONBLOCK and socket
//! state are shared), performs the call itself, copies results into the target's memory and
//! answers with the return value or errno.
//!
//! The rule that keeps the program's semantics: **the supervisor never waits**. A call is
//! executed only when it cannot block in the supervisor:
//! - reads on pipes and sockets are attempted without waiting (`RWF_NOWAIT`, `MSG_DONTWAIT`);
//!   when there is nothing to read and the descriptor is blocking, the call is handed back to
//!   the kernel (CONTINUE), which waits natively: signals interrupt and restart it exactly as
//!   without interpose. On a non-blocking descriptor, EAGAIN is the program's real result.
//! - writes, sends, connects and accepts are executed on non-blocking descriptors only (a
//!   non-waiting attempt on a blocking one could complete partially, which the program would
//!   not have seen natively);
//! - regular files are read and written directly (disk waits are not interruptible natively
//!   either), except with O_DIRECT (our buffers are not the program's, so alignment differs);
//! - everything else (ttys, character devices, eventfd, signalfd, /proc and /sys files, calls
//!   with ancillary data, AF_UNIX addresses with a path, which would resolve in our context) is
//!   handed back to the kernel.
//!
//! A declined call is answered CONTINUE and logged with `= ?`, as when execution is off.
//!
//! Two calls of the program change what may be executed for it from then on (the filter traps
//! them whenever anything may be executed): `landlock_restrict_self`, after which connects and
//! sends with an address are left to the kernel (Landlock checks them against the program's
//! domain, which interpose's own would escape), as are path calls (`meta`); and
//! `fanotify_init`, after which reads, writes, opens and directory reads of files are (a
//! permission event makes them wait for a listener that may be the program itself, waiting for
//! interpose).
//!
//! Faults (`short=`): a call may be executed with a byte cap. A read moves at most that many
//! bytes, the rest staying where it was for the next call; a write writes at most that many and
//! returns the short count. Only byte streams are cut (regular files, pipes, stream sockets: a
//! datagram cut short would lose its tail). Under a cap, a write on a blocking pipe or socket
//! is attempted without waiting too: a partial write is then the fault itself, and one that
//! would wait is left to the kernel, whole.
//!
//! Data: a read consumes bytes only after ID_VALID confirmed that the thread is still waiting;
//! they are then copied into its buffer before the answer. A thread can die after that check
//! only by SIGKILL, which linearizes as "read, then killed": what the program would have lost
//! natively too. Signals that are not fatal wait for our answer (WAIT_KILLABLE_RECV), so a
//! signal storm cannot make the program miss or repeat data.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Instant;

use crate::decode::Decoder;
use crate::decode::capture::{Captures, Msghdr, Value};
use crate::sys::io::{self, SysResult};
use crate::sys::mem;
use crate::sys::pidfd::{self, RemoteFd};

use super::fdcache::{self, Local};
use crate::sys::seccomp::{Listener, Notification};

/// Largest single transfer executed; larger ones go to the kernel.
const MAX_TRANSFER: usize = 64 << 20;
/// Largest iovec count the kernel accepts (UIO_MAXIOV).
const MAX_IOV: u64 = 1024;
/// Largest sockaddr.
const SOCKADDR_MAX: u64 = 128;
/// Bound on cached per-thread pidfds (and id sources); a cache is cleared when it grows past this.
pub(super) const MAX_PIDFDS: usize = 4096;

/// Filesystems whose "regular" files compute their contents for the reader (`current`), so a
/// read by the supervisor would not be the program's read.
pub const PSEUDO_FS: &[i64] = &[
    0x9fa0,      // proc
    0x6265_6572, // sysfs
    0x6462_6720, // debugfs
    0x7472_6163, // tracefs
    0x7363_6673, // securityfs
    0x6367_7270, // cgroup2
    0x0027_e0eb, // cgroup
    0xcafe_4a11, // bpf
    0x6265_6570, // configfs
    0xde5e_81e4, // efivarfs
];

/// An executed call: its result, how long the call itself took, what the log should show.
#[derive(Debug)]
pub struct Done {
    pub result: SysResult,
    pub dur_ns: u64,
    /// Output arguments, for the log, by argument (empty when not logging).
    pub outputs: Captures,
    /// The answer was already sent (accept: `ADDFD` with `SEND`). `live` says whether it landed.
    pub answered: Option<bool>,
    /// `-yy`: what the returned descriptor is (accept).
    pub ret_desc: Option<String>,
}

/// What the executor decided.
pub enum Execution {
    /// Executed; answer with the result.
    Done(Done),
    /// Not executed: answer CONTINUE.
    Declined,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Regular,
    Pipe,
    Socket,
    Other,
}

pub struct Executor {
    pidfds: HashMap<u32, OwnedFd>,
    /// The receiving thread's borrowed-descriptor cache (`--fd-cache`; see [`super::fdcache`]).
    pub(super) cache: Option<super::fdcache::Cache>,
    /// getpid & co logged without exit events: what each thread's answers come from.
    pub(super) ids: HashMap<u32, super::meta::ThreadIds>,
    scratch: Vec<u8>,
    strsize: usize,
    pub(super) log: bool,
    /// The program's filesystem context, for path calls (made on first use).
    pub(super) contexts: Option<super::context::Contexts>,
    /// The program entered a Landlock domain: connects (and sends that connect) are left to
    /// the kernel, which checks them against it (interpose's own would not be).
    pub(super) landlocked: bool,
    /// The program made a fanotify group: opens and reads of files may wait for its listener,
    /// which may be the program waiting for interpose, so they are left to the kernel.
    pub(super) perm_events: bool,
    /// Exit events report the results of calls left to the kernel: lookups that only the
    /// kernel can complete are then not probed first (see `meta::probe`).
    pub exits: bool,
    /// `-y` (1) / `-yy` (2): describe the sockets an accept returns.
    pub describe: u8,
    /// The byte cap of the call being executed (a `short=` fault).
    cap: Option<u64>,
    /// The length the call's transfer was cut to, when the cap cut it.
    cut_to: Option<u64>,
    /// Whether the cap changed the last executed call's result (its answer is then an injected
    /// one): it moved as many bytes as it was cut to, or a write attempted without waiting
    /// under the cap was partial.
    pub(super) capped: bool,
    /// Whether a transfer would be charged and limited as the program's (see [`super::charges`]).
    pub(super) charges: super::charges::Charges,
}

/// Why a descriptor could not be borrowed.
pub(super) enum Borrow {
    /// The target has no such descriptor: the call fails with EBADF, as it would natively.
    BadFd,
    Decline,
}

/// An executed call answered the usual way (not already answered by ADDFD).
fn done(result: SysResult, dur_ns: u64, outputs: Captures) -> Option<Done> {
    Some(Done { result, dur_ns, outputs, answered: None, ret_desc: None })
}

fn ns_since(t: Instant) -> u64 {
    t.elapsed().as_nanos() as u64
}

impl Executor {
    pub fn new(strsize: usize, log: bool) -> Self {
        Self {
            pidfds: HashMap::new(),
            cache: None,
            ids: HashMap::new(),
            scratch: Vec::new(),
            strsize,
            log,
            contexts: None,
            landlocked: false,
            perm_events: false,
            exits: false,
            describe: 0,
            cap: None,
            cut_to: None,
            capped: false,
            charges: Default::default(),
        }
    }

    /// Whether `decoder` (for syscall `name`) is one the executor knows.
    pub fn handles(decoder: Decoder, name: &str, nr: u32) -> bool {
        use Decoder::*;
        if Self::meta_handles(nr) {
            return true;
        }
        match decoder {
            Read | Pread | Readv | Write | Pwrite | Writev | Recvfrom | Sendto | Recvmsg | Sendmsg | Accept
            | Accept4 => true,
            SockaddrIn => name == "connect",
            Generic | Fd | Preadv | Pwritev | Socket | Futex | Open | Openat | Execve | Execveat | Path | PathMode
            | Access | PathRest | AtPath => false,
        }
    }

    /// Whether executing a call of this decoder shows more than its result: the bytes a read
    /// or receive returns, the address an accept or receive fills in, the metadata calls'
    /// structures. Writes, sends and connect show nothing the kernel's exit does not say.
    pub fn has_outputs(decoder: Decoder) -> bool {
        !matches!(
            decoder,
            Decoder::Write
                | Decoder::Pwrite
                | Decoder::Writev
                | Decoder::Sendto
                | Decoder::Sendmsg
                | Decoder::SockaddrIn
        )
    }

    /// A transfer buffer past this size is given back after the call, so that one large
    /// transfer does not keep its memory for the rest of the run.
    const SCRATCH_KEEP: usize = 4 << 20;

    /// Executes the call, a transfer moving at most `cap` bytes when given (see the module's
    /// "Faults"); afterwards `capped` says whether the cap changed its result.
    pub fn execute(&mut self, listener: &Listener, n: &Notification, decoder: Decoder, cap: Option<u64>) -> Execution {
        self.cap = cap;
        self.cut_to = None;
        self.capped = false;
        let r = self.execute_inner(listener, n, decoder);
        // A call that moved fewer bytes than it was cut to would have moved as many uncut.
        if let (Execution::Done(d), Some(cut)) = (&r, self.cut_to) {
            self.capped |= d.result == Ok(cut as usize);
        }
        self.cap = None;
        self.trim();
        r
    }

    /// Whether a transfer on this descriptor is a byte stream, which a cap may cut.
    fn stream(fd: BorrowedFd<'_>, kind: Kind) -> bool {
        match kind {
            Kind::Regular | Kind::Pipe => true,
            Kind::Socket => io::sockopt_int(fd, libc::SO_TYPE) == Ok(libc::SOCK_STREAM),
            Kind::Other => false,
        }
    }

    /// `len` cut to the call's cap, when there is one and the descriptor is a byte stream.
    fn capped_len(&mut self, fd: BorrowedFd<'_>, kind: Kind, len: u64) -> u64 {
        match self.cap {
            Some(cap) if len > cap && Self::stream(fd, kind) => {
                self.cut_to = Some(cap);
                cap
            }
            _ => len,
        }
    }

    /// The first `cap` bytes of `iov`.
    fn cut_iov(iov: &[(u64, u64)], cap: u64) -> Vec<(u64, u64)> {
        let mut left = cap;
        let mut out = Vec::new();
        for &(base, len) in iov {
            if left == 0 {
                break;
            }
            let take = len.min(left);
            out.push((base, take));
            left -= take;
        }
        out
    }

    fn trim(&mut self) {
        if self.scratch.capacity() > Self::SCRATCH_KEEP {
            self.scratch = Vec::new();
        }
    }

    fn execute_inner(&mut self, listener: &Listener, n: &Notification, decoder: Decoder) -> Execution {
        let a = n.args();
        let r = match decoder {
            Decoder::Read => self.read(listener, n, a[0], Target::Plain(a[1]), a[2], None),
            Decoder::Pread => self.read(listener, n, a[0], Target::Plain(a[1]), a[2], Some(a[3] as i64)),
            Decoder::Readv => match self.iovecs(n.tid(), a[1], a[2]) {
                Some((iov, total)) => self.read(listener, n, a[0], Target::Iov(iov), total, None),
                None => None,
            },
            Decoder::Write => self.write(listener, n, a[0], &[(a[1], a[2])], None, WriteHow::Write),
            Decoder::Pwrite => self.write(listener, n, a[0], &[(a[1], a[2])], Some(a[3] as i64), WriteHow::Write),
            Decoder::Writev => match self.iovecs(n.tid(), a[1], a[2]) {
                // Nothing to write: the kernel's writev returns 0 before the file sees the call
                // (a datagram socket sends nothing), where one send of 0 bytes would send an
                // empty datagram. Left to it.
                Some((_, 0)) => None,
                Some((iov, _)) => self.write(listener, n, a[0], &iov, None, WriteHow::Write),
                None => None,
            },
            Decoder::Sendto => {
                let addr = match a[4] {
                    0 => Some(Vec::new()),
                    // A send with an address may connect (TCP Fast Open), which Landlock checks.
                    _ if self.landlocked => None,
                    _ => self.sockaddr(n.tid(), a[4], a[5]),
                };
                match addr {
                    Some(addr) => {
                        let how = WriteHow::Send { flags: a[3] as i32, addr: (!addr.is_empty()).then_some(addr) };
                        self.write(listener, n, a[0], &[(a[1], a[2])], None, how)
                    }
                    None => None,
                }
            }
            Decoder::Sendmsg => self.sendmsg(listener, n),
            Decoder::Recvfrom => self.recvfrom(listener, n),
            Decoder::Recvmsg => self.recvmsg(listener, n),
            Decoder::SockaddrIn => self.connect(listener, n),
            Decoder::Accept => self.accept(listener, n, 0),
            Decoder::Accept4 => self.accept(listener, n, a[3] as i32),
            _ => self.meta(listener, n),
        };
        match r {
            Some(done) => Execution::Done(done),
            None => Execution::Declined,
        }
    }

    /// The target thread's descriptor `fd`, borrowed into our table.
    pub(super) fn borrow(&mut self, tid: u32, fd: u64) -> Result<OwnedFd, Borrow> {
        let fd = fd as i32;
        if fd < 0 {
            return Err(Borrow::BadFd);
        }
        for attempt in 0..2 {
            if attempt == 1 || !self.pidfds.contains_key(&tid) {
                if self.pidfds.len() >= MAX_PIDFDS {
                    self.pidfds.clear();
                }
                let p = pidfd::open_thread(tid as i32).map_err(|_| Borrow::Decline)?;
                self.pidfds.insert(tid, p);
            }
            let p = self.pidfds.get(&tid).expect("inserted above");
            match pidfd::getfd(p.as_fd(), RemoteFd(fd)) {
                Ok(local) => return Ok(local),
                Err(e) if e.raw_os_error() == Some(libc::EBADF) => return Err(Borrow::BadFd),
                // A cached pidfd of a thread that has exited (its number now reused): reopen.
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) && attempt == 0 => {}
                Err(_) => return Err(Borrow::Decline),
            }
        }
        Err(Borrow::Decline)
    }

    /// The target thread's descriptor `fd`, from the cache when it has it (see
    /// [`super::fdcache`]), else borrowed (and kept when the cache may).
    pub(super) fn borrow_local(&mut self, tid: u32, fd: u64) -> Result<Local, Borrow> {
        let Some(cache) = self.cache.as_ref().filter(|c| c.is_on()).cloned() else {
            return self.borrow(tid, fd).map(fdcache::uncached);
        };
        if let Some(l) = cache.get(tid, fd as i32) {
            return Ok(l);
        }
        let local = self.borrow(tid, fd)?;
        Ok(cache.keep(tid, fd as i32, local))
    }

    /// Whether sends on a borrowed socket carry the sender's identity (its domain is fixed:
    /// learned once per cached copy).
    fn identity_of(local: &Local) -> bool {
        *local.identity.get_or_init(|| Self::carries_identity(local.as_fd()))
    }

    /// The kind of a borrowed descriptor (learned once per cached copy).
    fn kind_of(local: &Local) -> Kind {
        *local.kind.get_or_init(|| Self::kind(local.as_fd()))
    }

    /// What a borrowed descriptor is, as far as executing calls on it goes. Regular files on
    /// filesystems that compute their contents for the reader, or that user space or the network
    /// serves (FUSE, NFS...: the server may be the program, waiting for interpose), and block
    /// devices (which a user-space server may back: nbd, ublk, a loop device on FUSE) are
    /// `Other`: their calls go to the kernel.
    fn kind(fd: BorrowedFd<'_>) -> Kind {
        match io::file_type(fd) {
            Ok(libc::S_IFREG) => match io::fs_magic(fd) {
                Ok(m) if PSEUDO_FS.contains(&m) || super::context::SERVED_FS.contains(&m) => Kind::Other,
                Ok(_) => Kind::Regular,
                Err(_) => Kind::Other,
            },
            Ok(libc::S_IFIFO) => Kind::Pipe,
            Ok(libc::S_IFSOCK) => Kind::Socket,
            _ => Kind::Other,
        }
    }

    fn nonblocking(fd: BorrowedFd<'_>) -> Option<bool> {
        io::status_flags(fd).ok().map(|f| f & libc::O_NONBLOCK != 0)
    }

    /// Whether a send or connect on this socket shows its caller to the peer: on AF_UNIX
    /// sockets the kernel attaches the sender's pid, uid and gid to every message
    /// (`SCM_CREDENTIALS`, read by a receiver with SO_PASSCRED) and records the connecting
    /// process for `SO_PEERCRED`. Executed by interpose they would show interpose, so they are
    /// left to the kernel.
    fn carries_identity(fd: BorrowedFd<'_>) -> bool {
        io::sockopt_int(fd, libc::SO_DOMAIN).map_or(true, |d| d == libc::AF_UNIX || d == libc::AF_NETLINK)
    }

    /// Whether a write would clear the file's set-user-ID or set-group-ID bit for an
    /// unprivileged writer (the kernel's `file_remove_privs`) and might not for interpose.
    fn clears_privileges(fd: BorrowedFd<'_>) -> bool {
        io::file_mode(fd).map_or(true, |m| m & (libc::S_ISUID | libc::S_ISGID) != 0)
    }

    fn direct(fd: BorrowedFd<'_>) -> bool {
        io::status_flags(fd).map_or(true, |f| f & libc::O_DIRECT != 0)
    }

    pub(super) fn bad_fd() -> Option<Done> {
        done(Err(libc::EBADF), 0, Captures::new())
    }

    /// The target's iovec array: (base, len) pairs and their total, or None to decline.
    fn iovecs(&self, tid: u32, addr: u64, count: u64) -> Option<(Vec<(u64, u64)>, u64)> {
        if count == 0 || count > MAX_IOV {
            return None;
        }
        let words = mem::read_words(tid, addr, count as usize * 2)?;
        let iov: Vec<(u64, u64)> = words.chunks_exact(2).map(|p| (p[0], p[1])).collect();
        let total = iov.iter().try_fold(0u64, |t, &(_, l)| t.checked_add(l))?;
        Some((iov, total))
    }

    /// A socket address the supervisor may use as is: not a filesystem path (which would resolve
    /// against our working directory, root and credentials).
    fn sockaddr(&self, tid: u32, addr: u64, len: u64) -> Option<Vec<u8>> {
        if len > SOCKADDR_MAX {
            return None;
        }
        let mut buf = vec![0u8; len as usize];
        if mem::read(tid, addr, &mut buf).ok()? != buf.len() {
            return None;
        }
        let family = if buf.len() >= 2 { u16::from_ne_bytes([buf[0], buf[1]]) } else { 0 };
        if family == libc::AF_UNIX as u16 && buf.len() > 2 && buf[2] != 0 {
            return None;
        }
        Some(buf)
    }

    /// Copies the target's bytes into `self.scratch` (gathering iovecs). False when unreadable.
    fn gather(&mut self, tid: u32, iov: &[(u64, u64)]) -> bool {
        let total: u64 = iov.iter().map(|&(_, l)| l).sum();
        if total as usize > MAX_TRANSFER {
            return false;
        }
        self.scratch.clear();
        self.scratch.resize(total as usize, 0);
        let mut at = 0;
        for &(base, len) in iov {
            let len = len as usize;
            match mem::read(tid, base, &mut self.scratch[at..at + len]) {
                Ok(got) if got == len => at += len,
                _ => return false,
            }
        }
        true
    }

    fn prepare_scratch(&mut self, len: u64) -> bool {
        if len as usize > MAX_TRANSFER {
            return false;
        }
        // Resized, not cleared: only a part it grows by is zeroed (a read of the same size as the
        // last one zeroes nothing; clearing first zeroed the whole buffer at every read). What
        // the call leaves past its result is never copied out.
        self.scratch.resize(len as usize, 0);
        true
    }

    /// The first `-s` bytes of what a call filled in, for the log.
    fn shown(&self, data: &[u8]) -> Value {
        let n = data.len().min(self.strsize);
        Value::Bytes { data: data[..n].to_vec(), complete: n == data.len() }
    }

    /// read / pread64 / readv.
    fn read(
        &mut self,
        listener: &Listener,
        n: &Notification,
        fd: u64,
        dest: Target,
        len: u64,
        offset: Option<i64>,
    ) -> Option<Done> {
        let tid = n.tid();
        if offset.is_some_and(|o| o < 0) {
            // A negative pread64 offset is the kernel's EINVAL, never preadv2's "the file
            // position" (-1), which on an empty pipe would wait in interpose.
            return None;
        }
        let local = borrow_or_return!(self, tid, fd);
        let l = local.as_fd();
        let kind = Self::kind_of(&local);
        let flags = match kind {
            // The page cache a read fills is charged to the reader's cgroup.
            Kind::Regular if Self::direct(l) || self.perm_events || !self.charges.same_cgroups(tid) => return None,
            Kind::Regular => 0,
            // Never waits: pread on a pipe or socket fails at once (ESPIPE) anyway.
            Kind::Pipe | Kind::Socket => libc::RWF_NOWAIT,
            Kind::Other => return None,
        };
        let len = self.capped_len(l, kind, len);
        if !self.prepare_scratch(len) || !listener.id_valid(n.id()) {
            return None;
        }
        let t = Instant::now();
        let mut result = io::preadv2(l, &mut self.scratch, offset.unwrap_or(-1), flags);
        let mut dur_ns = ns_since(t);
        match result {
            Err(libc::EAGAIN) if flags != 0 => match Self::nonblocking(l) {
                Some(true) => {}
                _ => return None,
            },
            Err(libc::EOPNOTSUPP) if flags != 0 => {
                // No RWF_NOWAIT for this file (kernel < 6.4 for pipes): only a non-blocking
                // descriptor can be read without waiting.
                if Self::nonblocking(l) != Some(true) {
                    return None;
                }
                let t = Instant::now();
                result = io::preadv2(l, &mut self.scratch, offset.unwrap_or(-1), 0);
                dur_ns = ns_since(t);
            }
            _ => {}
        }
        let mut outputs = Captures::new();
        if let Ok(got) = result {
            let data = &self.scratch[..got];
            let written = match &dest {
                Target::Plain(addr) => mem::write(tid, *addr, data),
                Target::Iov(iov) => mem::write_scattered(tid, iov, data),
            };
            if written.map_or(true, |w| w < got) {
                tracing::warn!(
                    tid,
                    fd,
                    bytes = got,
                    "cannot copy executed read into the target's buffer; answering EFAULT"
                );
                result = Err(libc::EFAULT);
            } else if self.log {
                // The buffer, or the iovec, is argument 1 of read, pread64 and readv.
                let value = match &dest {
                    Target::Plain(_) => self.shown(data),
                    Target::Iov(iov) => self.iov(iov, data),
                };
                outputs.put_arg(1, value);
            }
        }
        done(result, dur_ns, outputs)
    }

    /// Data spread over iovecs, for the log: the first `-s` elements, with what landed in each.
    fn iov(&self, iov: &[(u64, u64)], data: &[u8]) -> Value {
        let shown = iov.len().min(self.strsize);
        let mut at = 0;
        let elems = iov[..shown]
            .iter()
            .map(|&(base, len)| {
                let end = (at + len as usize).min(data.len());
                let value = self.shown(&data[at..end]);
                at = end;
                (base, len, value)
            })
            .collect();
        Value::Iov { elems, complete: shown == iov.len() }
    }

    /// write / pwrite64 / writev / sendto.
    fn write(
        &mut self,
        listener: &Listener,
        n: &Notification,
        fd: u64,
        iov: &[(u64, u64)],
        offset: Option<i64>,
        how: WriteHow,
    ) -> Option<Done> {
        let tid = n.tid();
        if offset.is_some_and(|o| o < 0) {
            // As for pread64: EINVAL, never a write at the file position.
            return None;
        }
        let local = borrow_or_return!(self, tid, fd);
        let l = local.as_fd();
        let kind = Self::kind_of(&local);
        // Under a cap, a blocking pipe or stream socket is written without waiting (see "Faults").
        let mut nowait = false;
        match (kind, &how) {
            (Kind::Regular, WriteHow::Write)
                if Self::direct(l)
                    || Self::clears_privileges(l)
                    || self.perm_events
                    || !self.writes_as_program(tid) =>
            {
                return None;
            }
            (Kind::Regular, WriteHow::Write) => {}
            // pwrite64 on a pipe or socket fails at once (ESPIPE); never waits anyway.
            (Kind::Pipe | Kind::Socket, _) if offset.is_some() => nowait = true,
            (Kind::Socket, _) if Self::identity_of(&local) => return None,
            // A pipe's buffer pages are charged to the writer's cgroup.
            (Kind::Pipe, WriteHow::Write) if !self.charges.same_cgroups(tid) => return None,
            (Kind::Pipe, WriteHow::Write) | (Kind::Socket, _) => {
                if Self::nonblocking(l) != Some(true) {
                    if self.cap.is_none() || !Self::stream(l, kind) {
                        return None;
                    }
                    nowait = true;
                }
            }
            _ => return None,
        }
        let total = iov.iter().try_fold(0u64, |t, &(_, len)| t.checked_add(len))?;
        let want = self.capped_len(l, kind, total);
        let cut;
        let iov = if want < total {
            cut = Self::cut_iov(iov, want);
            &cut[..]
        } else {
            iov
        };
        if !self.gather(tid, iov) || !listener.id_valid(n.id()) {
            return None;
        }
        let dontwait = if nowait { libc::MSG_DONTWAIT } else { 0 };
        let t = Instant::now();
        let (result, raise_sigpipe) = match (&how, kind, offset) {
            (WriteHow::Send { flags, addr }, _, _) => {
                let r = io::sendto(l, &self.scratch, flags | libc::MSG_NOSIGNAL | dontwait, addr.as_deref());
                (r, flags & libc::MSG_NOSIGNAL == 0)
            }
            // write(2) on a socket is send(2) without flags: it raises SIGPIPE.
            (WriteHow::Write, Kind::Socket, None) => {
                (io::sendto(l, &self.scratch, libc::MSG_NOSIGNAL | dontwait, None), true)
            }
            (WriteHow::Write, _, _) => {
                let flags = if nowait { libc::RWF_NOWAIT } else { 0 };
                (io::pwritev2(l, &self.scratch, offset.unwrap_or(-1), flags), kind == Kind::Pipe)
            }
        };
        let dur_ns = ns_since(t);
        if nowait {
            match result {
                // It would have waited: the kernel writes it, whole, as without the fault.
                Err(libc::EAGAIN | libc::EOPNOTSUPP) => return None,
                // Partial without waiting: interpose's doing, so the fault's.
                Ok(w) if (w as u64) < want => self.capped = true,
                _ => {}
            }
        }
        if result == Err(libc::EPIPE) && raise_sigpipe {
            self.sigpipe(tid);
        }
        if result == Err(libc::EFBIG) && kind == Kind::Regular {
            // Past RLIMIT_FSIZE the kernel signals the writer; interpose ignores SIGXFSZ for
            // itself, so the program gets it here, as it would natively.
            self.signal(tid, libc::SIGXFSZ);
        }
        done(result, dur_ns, Captures::new())
    }

    /// Whether a write to a regular file made by interpose is charged, limited and permitted as
    /// thread `tid`'s own would be: its cgroups, LSM label, file size limit and credentials are
    /// interpose's (see [`super::charges`]).
    fn writes_as_program(&mut self, tid: u32) -> bool {
        self.charges.same_cgroups(tid)
            && self.charges.same_file_size_limit(tid)
            && self.contexts().of(tid).is_some_and(|p| p.creds.is_none())
    }

    /// The program would have received SIGPIPE from its own write: deliver it to that thread.
    pub(super) fn sigpipe(&mut self, tid: u32) {
        self.signal(tid, libc::SIGPIPE);
    }

    /// Sends `sig` to thread `tid` (a thread pidfd where the kernel has them, else tgkill).
    pub fn signal(&mut self, tid: u32, sig: i32) {
        let thread_pidfd = pidfd::supports_thread_pidfds();
        if thread_pidfd {
            if !self.pidfds.contains_key(&tid)
                && let Ok(p) = pidfd::open_thread(tid as i32)
            {
                self.pidfds.insert(tid, p);
            }
            if let Some(p) = self.pidfds.get(&tid)
                && pidfd::send_signal(p.as_fd(), sig).is_ok()
            {
                return;
            }
        }
        if let Ok(tgid) = pidfd::tgid_of(tid as i32) {
            let _ = io::tgkill(tgid, tid, sig);
        }
    }

    /// The kind of thread `tid`'s descriptor `fd`, for injection scopes.
    pub fn fd_kind(&mut self, tid: u32, fd: u64) -> Option<crate::policy::inject::FdScope> {
        use crate::policy::inject::FdScope;
        let local = self.borrow(tid, fd).ok()?;
        match io::file_type(local.as_fd()).ok()? {
            libc::S_IFSOCK => Some(FdScope::Socket),
            libc::S_IFIFO => Some(FdScope::Pipe),
            libc::S_IFREG => Some(FdScope::File),
            libc::S_IFCHR if io::is_tty(local.as_fd()) => Some(FdScope::Tty),
            _ => None,
        }
    }

    fn recvfrom(&mut self, listener: &Listener, n: &Notification) -> Option<Done> {
        let (tid, a) = (n.tid(), n.args());
        let (fd, buf, len, flags, addr, addrlen) = (a[0], a[1], a[2], a[3] as i32, a[4], a[5]);
        if flags & libc::MSG_ERRQUEUE != 0 || (addr != 0 && addrlen == 0) {
            return None;
        }
        let in_len = if addr != 0 { Some(self.read_u32(tid, addrlen)?) } else { None };
        let (local, nonblocking) = match self.recv_setup(listener, n, fd, flags, len) {
            Ok(x) => x,
            Err(declined_or_failed) => return declined_or_failed,
        };
        let l = local.as_fd();
        let mut peer = [0u8; 128];
        let t = Instant::now();
        let r = io::recvfrom(l, &mut self.scratch, flags | libc::MSG_DONTWAIT, in_len.map(|_| &mut peer));
        let dur_ns = ns_since(t);
        if r == Err(libc::EAGAIN) && nonblocking.or_else(|| Self::nonblocking(l)) != Some(true) {
            return None;
        }
        let mut outputs = Captures::new();
        let result = match r {
            Ok((got, alen)) => {
                let copied = got.min(len as usize);
                let data = &self.scratch[..copied];
                let mut ok = mem::write(tid, buf, data).is_ok_and(|w| w == copied);
                if let Some(in_len) = in_len {
                    let shown = (alen.min(in_len)) as usize;
                    ok &= mem::write(tid, addr, &peer[..shown]).is_ok_and(|w| w == shown);
                    ok &= mem::write(tid, addrlen, &alen.to_ne_bytes()).is_ok_and(|w| w == 4);
                }
                if !ok {
                    return done(Err(libc::EFAULT), dur_ns, outputs);
                }
                if self.log {
                    // recvfrom(fd, buf, len, flags, src_addr, addrlen).
                    outputs.put_arg(1, self.shown(data));
                    if let Some(in_len) = in_len {
                        let shown = (alen.min(in_len)) as usize;
                        let addr = Value::Filled { data: peer[..shown].to_vec(), len_in: in_len, len_out: alen };
                        outputs.put_arg(4, addr);
                    }
                }
                Ok(got)
            }
            Err(e) => Err(e),
        };
        done(result, dur_ns, outputs)
    }

    /// What recvfrom and recvmsg share before receiving: the socket, borrowed; whether it is
    /// known to be non-blocking (checked now only for MSG_WAITALL, which must not be tried
    /// without waiting on a blocking socket); room for `len` bytes; the thread still waiting.
    /// `Err(None)`: decline; `Err(Some(done))`: the call fails as it would natively.
    #[allow(clippy::type_complexity)]
    fn recv_setup(
        &mut self,
        listener: &Listener,
        n: &Notification,
        fd: u64,
        flags: i32,
        len: u64,
    ) -> Result<(Local, Option<bool>), Option<Done>> {
        let local = match self.borrow_local(n.tid(), fd) {
            Ok(l) => l,
            Err(Borrow::BadFd) => return Err(Self::bad_fd()),
            Err(Borrow::Decline) => return Err(None),
        };
        let l = local.as_fd();
        if Self::kind_of(&local) != Kind::Socket {
            return Err(None);
        }
        if flags & libc::MSG_TRUNC != 0 && io::sockopt_int(l, libc::SO_TYPE) != Ok(libc::SOCK_DGRAM) {
            // On a stream, MSG_TRUNC discards bytes without copying any (the kernel returns their
            // count and the buffer keeps what it held); only a datagram's copy is known: the
            // first `len` bytes of it, however long it was.
            return Err(None);
        }
        let mut nonblocking = None;
        if flags & libc::MSG_WAITALL != 0 {
            nonblocking = Self::nonblocking(l);
            if nonblocking != Some(true) {
                return Err(None);
            }
        }
        let len = self.capped_len(l, Kind::Socket, len);
        if !self.prepare_scratch(len) || !listener.id_valid(n.id()) {
            return Err(None);
        }
        Ok((local, nonblocking))
    }

    pub(super) fn read_u32(&self, tid: u32, addr: u64) -> Option<u32> {
        let mut b = [0u8; 4];
        (mem::read(tid, addr, &mut b).ok()? == 4).then(|| u32::from_ne_bytes(b))
    }

    fn sendmsg(&mut self, listener: &Listener, n: &Notification) -> Option<Done> {
        let (tid, a) = (n.tid(), n.args());
        let h = mem::read_msghdr(tid, a[1])?;
        if h[5] != 0 {
            return None; // ancillary data (SCM_RIGHTS...) would name our descriptors, not the program's
        }
        let name = if h[0] != 0 && h[1] != 0 { Some(self.sockaddr(tid, h[0], h[1])?) } else { None };
        if name.is_some() && self.landlocked {
            return None; // a send with an address may connect (TCP Fast Open)
        }
        let (iov, _) = if h[3] == 0 { (Vec::new(), 0) } else { self.iovecs(tid, h[2], h[3])? };
        let local = borrow_or_return!(self, tid, a[0]);
        let l = local.as_fd();
        if Self::kind_of(&local) != Kind::Socket || Self::identity_of(&local) {
            return None;
        }
        // Under a cap, a blocking stream socket is written without waiting (see "Faults").
        let nowait = Self::nonblocking(l) != Some(true);
        if nowait && (self.cap.is_none() || !Self::stream(l, Kind::Socket)) {
            return None;
        }
        let total = iov.iter().try_fold(0u64, |t, &(_, len)| t.checked_add(len))?;
        let want = self.capped_len(l, Kind::Socket, total);
        let iov = if want < total { Self::cut_iov(&iov, want) } else { iov };
        if !self.gather(tid, &iov) || !listener.id_valid(n.id()) {
            return None;
        }
        let flags = a[2] as i32;
        let dontwait = if nowait { libc::MSG_DONTWAIT } else { 0 };
        let t = Instant::now();
        let result = io::sendmsg(l, &self.scratch, name.as_deref(), &[], flags | libc::MSG_NOSIGNAL | dontwait);
        let dur_ns = ns_since(t);
        if nowait {
            match result {
                Err(libc::EAGAIN) => return None,
                Ok(w) if (w as u64) < want => self.capped = true,
                _ => {}
            }
        }
        if result == Err(libc::EPIPE) && flags & libc::MSG_NOSIGNAL == 0 {
            self.sigpipe(tid);
        }
        done(result, dur_ns, Captures::new())
    }

    fn recvmsg(&mut self, listener: &Listener, n: &Notification) -> Option<Done> {
        let (tid, a) = (n.tid(), n.args());
        let flags = a[2] as i32;
        if flags & libc::MSG_ERRQUEUE != 0 {
            return None;
        }
        let mut h = mem::read_msghdr(tid, a[1])?;
        if h[5] != 0 {
            return None; // the program wants ancillary data: descriptors would land in our table
        }
        let (iov, total) = if h[3] == 0 { (Vec::new(), 0) } else { self.iovecs(tid, h[2], h[3])? };
        let want_name = h[0] != 0;
        let (local, nonblocking) = match self.recv_setup(listener, n, a[0], flags, total) {
            Ok(x) => x,
            Err(declined_or_failed) => return declined_or_failed,
        };
        let l = local.as_fd();
        let mut name = [0u8; 128];
        let t = Instant::now();
        let r = io::recvmsg(l, &mut self.scratch, want_name.then_some(&mut name), flags | libc::MSG_DONTWAIT);
        let dur_ns = ns_since(t);
        if r == Err(libc::EAGAIN) && nonblocking.or_else(|| Self::nonblocking(l)) != Some(true) {
            return None;
        }
        let mut outputs = Captures::new();
        let result = match r {
            Ok((got, namelen, mflags)) => {
                let copied = got.min(total as usize);
                let data = &self.scratch[..copied];
                let mut ok = mem::write_scattered(tid, &iov, data).is_ok_and(|w| w == copied);
                let shown_name = if want_name { (namelen.min(h[1] as u32)) as usize } else { 0 };
                if want_name {
                    ok &= mem::write(tid, h[0], &name[..shown_name]).is_ok_and(|w| w == shown_name);
                }
                // msg_namelen (offset 8) and msg_flags (offset 48), as the kernel updates them.
                let out_namelen = if want_name { namelen } else { 0 };
                ok &= mem::write(tid, a[1].wrapping_add(8), &out_namelen.to_ne_bytes()).is_ok_and(|w| w == 4);
                ok &= mem::write(tid, a[1].wrapping_add(48), &mflags.to_ne_bytes()).is_ok_and(|w| w == 4);
                if !ok {
                    return done(Err(libc::EFAULT), dur_ns, outputs);
                }
                if self.log {
                    h[1] = u64::from(out_namelen);
                    h[6] = mflags as u32 as u64;
                    let name = if want_name {
                        Value::Bytes { data: name[..shown_name].to_vec(), complete: true }
                    } else {
                        Value::Fault
                    };
                    // recvmsg(fd, msg, flags).
                    outputs.put_arg(1, Value::Msghdr(Box::new(Msghdr { fields: h, name, iov: self.iov(&iov, data) })));
                }
                Ok(got)
            }
            Err(e) => Err(e),
        };
        done(result, dur_ns, outputs)
    }

    fn connect(&mut self, listener: &Listener, n: &Notification) -> Option<Done> {
        let (tid, a) = (n.tid(), n.args());
        if a[1] == 0 || self.landlocked {
            return None;
        }
        let addr = self.sockaddr(tid, a[1], a[2])?;
        let local = borrow_or_return!(self, tid, a[0]);
        let l = local.as_fd();
        if Self::kind_of(&local) != Kind::Socket
            || Self::identity_of(&local)
            || Self::nonblocking(l) != Some(true)
            || !listener.id_valid(n.id())
        {
            return None;
        }
        let t = Instant::now();
        let result = io::connect(l, &addr);
        done(result, ns_since(t), Captures::new())
    }

    fn accept(&mut self, listener: &Listener, n: &Notification, flags: i32) -> Option<Done> {
        let (tid, a) = (n.tid(), n.args());
        if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 || (a[1] != 0 && a[2] == 0) {
            return None;
        }
        let in_len = if a[1] != 0 { Some(self.read_u32(tid, a[2])?) } else { None };
        let local = borrow_or_return!(self, tid, a[0]);
        let l = local.as_fd();
        if Self::kind_of(&local) != Kind::Socket || Self::nonblocking(l) != Some(true) || !listener.id_valid(n.id()) {
            return None;
        }
        let mut peer = [0u8; 128];
        let t = Instant::now();
        let r = io::accept4(l, in_len.map(|_| &mut peer), flags & libc::SOCK_NONBLOCK);
        let dur_ns = ns_since(t);
        let (conn, alen) = match r {
            Ok(x) => x,
            Err(e) => return done(Err(e), dur_ns, Captures::new()),
        };
        let mut outputs = Captures::new();
        if let Some(in_len) = in_len {
            let shown = alen.min(in_len) as usize;
            let ok = mem::write(tid, a[1], &peer[..shown]).is_ok_and(|w| w == shown)
                && mem::write(tid, a[2], &alen.to_ne_bytes()).is_ok_and(|w| w == 4);
            if !ok {
                // As in the kernel: the connection is dropped when the address cannot be stored.
                return done(Err(libc::EFAULT), dur_ns, outputs);
            }
            if self.log {
                // accept(fd, addr, addrlen): the peer and its length.
                outputs.put_arg(1, Value::Filled { data: peer[..shown].to_vec(), len_in: in_len, len_out: alen });
            }
        }
        let ret_desc = match self.describe {
            0 => None,
            1 => io::inode(conn.as_fd()).ok().map(|i| format!("socket:[{i}]")),
            _ => describe_socket(conn.as_fd()),
        };
        // Install the connection in the program and answer with its number, in one step.
        let (result, answered) = match listener.add_fd_and_answer(n.id(), conn.as_fd(), flags & libc::SOCK_CLOEXEC != 0)
        {
            Ok(newfd) => (Ok(newfd as usize), Some(true)),
            Err(libc::ENOENT) => (Err(libc::ENOENT), Some(false)),
            Err(e) => (Err(e), None),
        };
        Some(Done { result, dur_ns, outputs, answered, ret_desc })
    }

    /// `-y`/`-yy`: what thread `tid`'s descriptor `fd` is: its path, or for a socket with `-yy`
    /// its protocol and endpoints.
    pub fn describe_fd(&mut self, tid: u32, fd: i32, level: u8) -> Option<String> {
        let link = std::fs::read_link(format!("/proc/{tid}/fd/{fd}")).ok()?;
        let link = link.to_string_lossy().into_owned();
        if level >= 2 && link.starts_with("socket:[") {
            let local = self.borrow(tid, fd as u64).ok()?;
            return describe_socket(local.as_fd()).or(Some(link));
        }
        Some(link)
    }
}

/// Where read data goes in the target.
enum Target {
    Plain(u64),
    Iov(Vec<(u64, u64)>),
}

enum WriteHow {
    Write,
    Send { flags: i32, addr: Option<Vec<u8>> },
}

/// strace's `-yy` name for a socket: `TCP:[127.0.0.1:40000->127.0.0.1:8080]`, `UDP:[0.0.0.0:53]`,
/// `TCPv6:[[::1]:443]`, `UNIX-STREAM:[75886]` (an unbound or unconnected socket shows its inode).
pub fn describe_socket(fd: BorrowedFd<'_>) -> Option<String> {
    let domain = io::sockopt_int(fd, libc::SO_DOMAIN).ok()?;
    let ty = io::sockopt_int(fd, libc::SO_TYPE).ok()?;
    let proto = io::sockopt_int(fd, libc::SO_PROTOCOL).unwrap_or(0);
    let inode = io::inode(fd).unwrap_or(0);
    let kind = match (domain, ty, proto) {
        (libc::AF_INET, _, libc::IPPROTO_TCP) => "TCP",
        (libc::AF_INET, _, libc::IPPROTO_UDP) => "UDP",
        (libc::AF_INET6, _, libc::IPPROTO_TCP) => "TCPv6",
        (libc::AF_INET6, _, libc::IPPROTO_UDP) => "UDPv6",
        (libc::AF_UNIX, libc::SOCK_STREAM, _) => "UNIX-STREAM",
        (libc::AF_UNIX, libc::SOCK_DGRAM, _) => "UNIX-DGRAM",
        (libc::AF_UNIX, libc::SOCK_SEQPACKET, _) => "UNIX-SEQPACKET",
        (libc::AF_NETLINK, _, _) => "NETLINK",
        _ => return Some(format!("socket:[{inode}]")),
    };
    let ip = |sa: &[u8]| -> Option<String> {
        let family = u16::from_ne_bytes([*sa.first()?, *sa.get(1)?]) as i32;
        let port = u16::from_be_bytes([*sa.get(2)?, *sa.get(3)?]);
        match family {
            libc::AF_INET if sa.len() >= 8 => {
                let a = std::net::Ipv4Addr::new(sa[4], sa[5], sa[6], sa[7]);
                (port != 0 || !a.is_unspecified()).then(|| format!("{a}:{port}"))
            }
            libc::AF_INET6 if sa.len() >= 24 => {
                let a = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&sa[8..24]).ok()?);
                (port != 0 || !a.is_unspecified()).then(|| format!("[{a}]:{port}"))
            }
            _ => None,
        }
    };
    let local = io::sockname(fd, false).ok().and_then(|sa| ip(&sa));
    let peer = io::sockname(fd, true).ok().and_then(|sa| ip(&sa));
    Some(match (local, peer) {
        (Some(l), Some(p)) => format!("{kind}:[{l}->{p}]"),
        (Some(l), None) => format!("{kind}:[{l}]"),
        _ => format!("{kind}:[{inode}]"),
    })
}
