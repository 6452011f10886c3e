//! `[[deny]]` enforcement: decide on a copy, then execute that copy or refuse.
//!
//! After "continue" the kernel reads the program's memory again (design notes, fact 10), where
//! another thread may have rewritten the address since it was judged; and it looks the
//! descriptor number up again, which another thread may have pointed at another socket with
//! `dup2`. So a call a rule governs is never handed back to the kernel once anything it depends
//! on was read from memory: [`Rules::decide`] copies every byte the decision reads (the
//! address, the msghdr, the iovec array, `socketcall`'s argument block), borrows the descriptor
//! once (`pidfd_getfd`) and judges that socket and that copy; [`execute`] then performs the call
//! on the same socket and the same copy, with the program thread's credentials. Whatever the
//! decision finds (an unknown family, no name, a zero length), it is executed or refused.
//!
//! The only calls answered "continue" are those decided on registers alone: `sendto` without an
//! address, `socket` (its family and type are registers), calls of syscalls no rule governs.
//!
//! Every ABI the filter traps goes through the same decision: x86_64, i386 (`int $0x80`, with
//! its direct socket calls and the `socketcall` multiplexer, whose arguments are in memory and
//! are copied first) and x32 (refused where the kernel runs x32 calls, which interpose does not
//! decode; where it does not, the kernel fails them with ENOSYS and they are let through to it).

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::exec::{Borrow, Done, Executor};
use crate::decode::capture::Captures;
use crate::decode::{ARCH_I386, ARCH_X86_64, X32_SYSCALL_BIT};
use crate::policy::deny::{self, DenyRule, NetworkOptions, Use};
use crate::sys::cred::{self, Creds};
use crate::sys::io::{self, SysResult};
use crate::sys::mem;
use crate::sys::seccomp::{Listener, Notification};

/// The kernel's limits, as the socket calls apply them.
const SOCKADDR_MAX: i32 = 128;
const UIO_MAXIOV: u64 = 1024;
/// `MAX_RW_COUNT`: the most one call transfers.
const MAX_RW: u64 = 0x7fff_f000;
/// How much of a send is copied at a time.
const CHUNK: u64 = 16 << 20;
/// Largest datagram (or sendmmsg batch) copied whole; larger ones fail EMSGSIZE (no datagram
/// socket takes more than 64 KiB, nor an AF_UNIX one more than its send buffer).
const MAX_DATAGRAMS: u64 = 64 << 20;

/// i386's `socketcall` multiplexer.
mod i386 {
    pub const SOCKETCALL: i32 = crate::filter::bpf::I386_SOCKETCALL as i32;
    /// `send(2)`'s sub-call (`linux/net.h`): a sendto without an address, nothing to judge.
    pub const SYS_SEND: u64 = 9;
    /// Argument count of each sub-call, 1..=20 (the kernel's `nargs`).
    pub const NARGS: [usize; 21] = [0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3, 4, 5, 4];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Socket,
    Connect,
    Bind,
    Listen,
    Sendto,
    Sendmsg,
    Sendmmsg,
    IoUringSetup,
    Bpf,
    Setsockopt,
}

impl Op {
    /// The native syscall a rule names for this operation (`listen` is governed as `bind`).
    fn governed_as(self) -> libc::c_long {
        match self {
            Op::Connect => libc::SYS_connect,
            Op::Bind | Op::Listen => libc::SYS_bind,
            Op::Sendto => libc::SYS_sendto,
            Op::Sendmsg => libc::SYS_sendmsg,
            Op::Sendmmsg => libc::SYS_sendmmsg,
            Op::Socket => libc::SYS_socket,
            Op::IoUringSetup => libc::SYS_io_uring_setup,
            Op::Bpf => libc::SYS_bpf,
            Op::Setsockopt => libc::SYS_setsockopt,
        }
    }

    fn native(nr: i32) -> Option<Op> {
        Some(match i64::from(nr) {
            libc::SYS_socket => Op::Socket,
            libc::SYS_connect => Op::Connect,
            libc::SYS_bind => Op::Bind,
            libc::SYS_listen => Op::Listen,
            libc::SYS_sendto => Op::Sendto,
            libc::SYS_sendmsg => Op::Sendmsg,
            libc::SYS_sendmmsg => Op::Sendmmsg,
            libc::SYS_io_uring_setup => Op::IoUringSetup,
            libc::SYS_bpf => Op::Bpf,
            libc::SYS_setsockopt => Op::Setsockopt,
            _ => return None,
        })
    }
}

/// What the rules decided.
pub enum Guard {
    /// Refused by policy with this errno (logged `(DENIED)`).
    Deny(i32),
    /// Fails as it would natively, without running (EFAULT, EBADF, EINVAL...).
    Fail(i32),
    /// Allowed: run this copy.
    Allow(Box<Prepared>),
}

/// An allowed call, with every byte it depends on copied and its socket borrowed.
pub struct Prepared {
    /// The program's socket, borrowed (none for a socket to create).
    fd: Option<OwnedFd>,
    tid: u32,
    action: Action,
    /// The socket waits (a blocking connect or send): run it on a worker thread.
    pub blocking: bool,
    creds: Creds,
    /// The program's descriptors an `SCM_RIGHTS` message passes, borrowed: the message names
    /// these copies, so the receiver gets the same open files as natively.
    passed: Vec<OwnedFd>,
}

/// One message of a send: where its bytes are in the program (read when sending: they are
/// data, not part of the decision) and its destination, copied.
struct Msg {
    name: Option<Vec<u8>>,
    iov: Vec<(u64, u64)>,
    total: u64,
    /// Ancillary data: as copied, in the call's ABI's layout, then as it is sent (native, the
    /// program's descriptors replaced by interpose's copies of them; see [`Rules::control`]).
    control: Vec<u8>,
    /// The destination was the unspecified address, resolved to the one the kernel uses.
    resolved: bool,
}

enum Action {
    /// i386 `socketcall(SYS_SOCKET)`: its arguments were read from memory, so the socket is
    /// created by interpose, as the program, and installed in it.
    Socket {
        domain: i32,
        ty: i32,
        proto: i32,
    },
    Connect(Vec<u8>),
    Bind(Vec<u8>),
    Listen(i32),
    /// i386 `socketcall(SYS_SETSOCKOPT)`: set from the copied arguments and value.
    Setsockopt {
        level: i32,
        opt: i32,
        val: Vec<u8>,
    },
    Send {
        msg: Msg,
        flags: i32,
        stream: bool,
    },
    Sendmmsg {
        msgs: Vec<Msg>,
        flags: i32,
        vec: u64,
        compat: bool,
    },
}

/// The network rules as the supervisor applies them.
pub struct Rules {
    pub rules: Vec<DenyRule>,
    pub network: NetworkOptions,
    /// The kernel runs x32 calls (see the module notes).
    pub x32: bool,
}

/// A call's arguments as the native ABI would carry them, and its structures' layout.
struct Args {
    a: [u64; 6],
    /// 32-bit pointers and sizes in structures (i386).
    compat: bool,
}

impl Rules {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The decision for a call: `None` when the rules have nothing to say about it (the
    /// kernel runs it), else what to do. `stands_for`: the native call it is, whatever its ABI
    /// (`filter::native_of`: i386's `socketcall(SYS_CONNECT)` and `connect` (362), x32's
    /// compat `sendmsg` (518)...).
    pub fn decide(
        &self,
        n: &Notification,
        stands_for: Option<u32>,
        ex: &mut Executor,
        listener: &Listener,
    ) -> Option<Guard> {
        let (arch, nr) = (n.arch(), n.nr());
        let lo = n.args().map(|v| v & 0xffff_ffff);
        if arch == ARCH_I386 && nr == i386::SOCKETCALL && lo[0] == i386::SYS_SEND {
            return None;
        }
        let op = Op::native(stands_for? as i32)?;
        let (op, args) = if arch == ARCH_X86_64 && nr & X32_SYSCALL_BIT == 0 {
            (op, Args { a: n.args(), compat: false })
        } else if arch == ARCH_X86_64 {
            if !self.governs(op) {
                return None;
            }
            // Where the kernel has no x32 it fails the call (ENOSYS) without reading anything.
            return self.x32.then_some(Guard::Deny(libc::EPERM));
        } else if arch == ARCH_I386 {
            if nr == i386::SOCKETCALL {
                if !self.governs(op) {
                    return None;
                }
                // The sub-call's arguments are in memory: copy them once, decide on the copy.
                let count = i386::NARGS[lo[0] as usize];
                let mut raw = [0u8; 24];
                if !mem::read(n.tid(), lo[1], &mut raw[..count * 4]).is_ok_and(|got| got == count * 4) {
                    return Some(Guard::Fail(libc::EFAULT));
                }
                let mut a = [0u64; 6];
                for (i, w) in raw.chunks_exact(4).enumerate() {
                    a[i] = u64::from(u32::from_ne_bytes(w.try_into().expect("4 bytes")));
                }
                (op, Args { a, compat: true })
            } else {
                (op, Args { a: lo, compat: true })
            }
        } else {
            return None;
        };
        if !self.governs(op) {
            return None;
        }
        let g = self.decide_op(n, op, &args, ex);
        // The copies are the program's only while the call is still the same one.
        if matches!(g, Some(Guard::Allow(_))) && !listener.id_valid(n.id()) {
            return Some(Guard::Deny(libc::EINTR));
        }
        g
    }

    /// Whether some rule may govern calls of `op` (for a send, depending on its flags).
    fn governs(&self, op: Op) -> bool {
        let named = |nr: libc::c_long| self.rules.iter().any(|r| r.syscalls.contains(nr as u32));
        match op {
            Op::Socket => !self.rules.is_empty() && !self.network.allow_raw_sockets,
            Op::IoUringSetup => !self.rules.is_empty() && !self.network.allow_io_uring,
            Op::Bpf => !self.rules.is_empty() && !self.network.allow_bpf,
            Op::Setsockopt => !self.rules.is_empty(),
            // A rule naming bind judges the sends of unbound UDP sockets (which bind them).
            Op::Sendto | Op::Sendmsg | Op::Sendmmsg => {
                named(op.governed_as())
                    || named(libc::SYS_connect)
                    || named(libc::SYS_bind)
                    || (op == Op::Sendmmsg && named(libc::SYS_sendmsg))
            }
            _ => named(op.governed_as()),
        }
    }

    /// The rules that govern this call: those naming its syscall (for sendmmsg, sendmsg too:
    /// it sends the same messages), and for a TCP Fast Open send (`MSG_FASTOPEN`, which
    /// connects to the address it carries) those naming connect.
    fn rules_for(&self, op: Op, a: &[u64; 6]) -> Vec<&DenyRule> {
        let flags = match op {
            Op::Sendto | Op::Sendmmsg => a[3] as i32,
            Op::Sendmsg => a[2] as i32,
            _ => 0,
        };
        let fastopen = flags & libc::MSG_FASTOPEN != 0;
        self.rules
            .iter()
            .filter(|r| {
                r.syscalls.contains(op.governed_as() as u32)
                    || (op == Op::Sendmmsg && r.syscalls.contains(libc::SYS_sendmsg as u32))
                    || (fastopen && r.syscalls.contains(libc::SYS_connect as u32))
            })
            .collect()
    }

    /// The rules naming bind: they judge what a send on an unbound UDP socket binds it to.
    fn bind_rules(&self) -> Vec<&DenyRule> {
        self.rules.iter().filter(|r| r.syscalls.contains(libc::SYS_bind as u32)).collect()
    }

    /// A send on an unbound INET socket other than TCP binds it first, to any address and a
    /// port of the kernel's (`inet_send_prepare`, even when the send then fails): under rules
    /// naming bind, that bind is judged as one to the unspecified address, port 0.
    fn judge_autobind(&self, fd: std::os::fd::BorrowedFd<'_>, domain: i32, proto: i32) -> Result<(), i32> {
        let rules = self.bind_rules();
        if rules.is_empty() || !matches!(domain, libc::AF_INET | libc::AF_INET6) || proto == libc::IPPROTO_TCP {
            return Ok(());
        }
        match io::sockname(fd, false) {
            Ok(local) if local.get(2..4) == Some(&[0, 0]) => {
                deny::autobind_address(domain).map_or(Ok(()), |any| deny::judge(&rules, Use::Bind, &any, domain))
            }
            _ => Ok(()),
        }
    }

    fn decide_op(&self, n: &Notification, op: Op, args: &Args, ex: &mut Executor) -> Option<Guard> {
        let (tid, a) = (n.tid(), args.a);
        // socketcall's arguments were read from memory: whatever they say, the call runs on that
        // copy or not at all.
        let from_memory = n.arch() == ARCH_I386 && n.nr() == i386::SOCKETCALL;
        match op {
            Op::Socket if deny::is_raw(a[0] as i32, a[1] as i32) => return Some(Guard::Deny(libc::EPERM)),
            // Registers: the kernel creates what was judged.
            Op::Socket if !from_memory => return None,
            Op::Socket => return Some(self.socket_on_copy(tid, a)),
            Op::IoUringSetup | Op::Bpf => return Some(Guard::Deny(libc::EPERM)),
            Op::Setsockopt if deny::reroutes(a[1] as i32, a[2] as i32) => return Some(Guard::Deny(libc::EPERM)),
            // Registers: the kernel sets what was judged.
            Op::Setsockopt if !from_memory => return None,
            _ => {}
        }
        let rules = self.rules_for(op, &a);
        let send = matches!(op, Op::Sendto | Op::Sendmsg | Op::Sendmmsg);
        if !from_memory && op != Op::Setsockopt && (rules.is_empty() || (op == Op::Sendto && a[4] == 0)) {
            // Decided on registers: a send whose flags make it no connect, or one without an
            // address (on a connected socket). What it may bind is judged on its socket.
            if send && !self.bind_rules().is_empty() {
                let fd = match ex.borrow(tid, a[0]) {
                    Ok(fd) => fd,
                    Err(Borrow::BadFd) => return None,
                    Err(Borrow::Decline) => return Some(Guard::Deny(libc::EACCES)),
                };
                let domain = io::sockopt_int(fd.as_fd(), libc::SO_DOMAIN).unwrap_or(0);
                let proto = io::sockopt_int(fd.as_fd(), libc::SO_PROTOCOL).unwrap_or(0);
                return self.judge_autobind(fd.as_fd(), domain, proto).err().map(Guard::Deny);
            }
            return None;
        }
        let mut action = match copy_action(tid, op, args) {
            Ok(action) => action,
            Err(g) => return Some(g),
        };
        let fd = match ex.borrow(tid, a[0]) {
            Ok(fd) => fd,
            Err(Borrow::BadFd) => return Some(Guard::Fail(libc::EBADF)),
            Err(Borrow::Decline) => return Some(Guard::Deny(libc::EACCES)),
        };
        let domain = match io::sockopt_int(fd.as_fd(), libc::SO_DOMAIN) {
            Ok(d) => d,
            Err(e) => return Some(Guard::Fail(e)),
        };
        let ty = io::sockopt_int(fd.as_fd(), libc::SO_TYPE).unwrap_or(0);
        let proto = io::sockopt_int(fd.as_fd(), libc::SO_PROTOCOL).unwrap_or(0);
        if !self.network.allow_raw_sockets && deny::is_raw(domain, ty) {
            // However it was obtained (passed in, or socketcall raced): its payload names the
            // destination, which no address check can judge.
            return Some(Guard::Deny(libc::EPERM));
        }
        // The unspecified address means this host: judged, and used, as the address the kernel
        // would route it to.
        let local = io::sockname(fd.as_fd(), false).unwrap_or_default();
        action.resolve_unspecified(&local, ty != libc::SOCK_STREAM);
        if send && let Err(e) = self.judge_autobind(fd.as_fd(), domain, proto) {
            return Some(Guard::Deny(e));
        }
        let portless = deny::portless(domain, ty, proto);
        let judge = |how: Use, addr: &[u8]| {
            if portless {
                deny::judge_portless(&rules, how, addr, domain)
            } else {
                deny::judge(&rules, how, addr, domain)
            }
        };
        let verdict = match &action {
            Action::Connect(addr) => judge(Use::Connect, addr),
            Action::Bind(addr) => judge(Use::Bind, addr),
            Action::Socket { .. } | Action::Setsockopt { .. } => Ok(()),
            Action::Listen(_) => match io::sockname(fd.as_fd(), false) {
                // Unbound (port 0): listen binds it to any address and a port of the kernel's.
                Ok(local) if matches!(domain, libc::AF_INET | libc::AF_INET6) && local.get(2..4) == Some(&[0, 0]) => {
                    deny::autobind_address(domain).map_or(Ok(()), |any| judge(Use::Bind, &any))
                }
                _ => Ok(()),
            },
            Action::Send { msg, .. } => msg.name.as_deref().map_or(Ok(()), |name| judge(Use::Send, name)),
            Action::Sendmmsg { msgs, .. } => {
                msgs.iter().filter_map(|m| m.name.as_deref()).try_for_each(|name| judge(Use::Send, name))
            }
        };
        if let Err(e) = verdict {
            return Some(Guard::Deny(e));
        }
        // A unix path resolves against the caller's root and mounts: they must be ours.
        if action.names_unix_path() && !same_filesystem_view(tid) {
            return Some(Guard::Deny(libc::EACCES));
        }
        let Ok(mut creds) = Creds::of_thread(tid) else { return Some(Guard::Deny(libc::EACCES)) };
        // Ancillary data: descriptors borrowed, credentials checked as the kernel checks them.
        let mut passed = Vec::new();
        let mut admin = false;
        let msgs: Vec<&mut Msg> = match &mut action {
            Action::Send { msg, .. } => vec![msg],
            Action::Sendmmsg { msgs, .. } => msgs.iter_mut().collect(),
            _ => Vec::new(),
        };
        for m in msgs {
            match control(tid, domain, m, args.compat, ex, &creds) {
                Ok(c) => {
                    passed.extend(c.fds);
                    admin |= c.needs_admin;
                }
                Err(g) => return Some(g),
            }
        }
        if admin && !creds.has_capability(CAP_SYS_ADMIN) {
            // The program's own pid in SCM_CREDENTIALS: allowed to the program, and to interpose
            // only with CAP_SYS_ADMIN, which it keeps for this send alone.
            if !may_claim_pids(tid) {
                return Some(Guard::Deny(libc::EPERM));
            }
            creds = creds.with_capability(CAP_SYS_ADMIN);
        }
        let nonblocking = io::status_flags(fd.as_fd()).is_ok_and(|f| f & libc::O_NONBLOCK != 0);
        let blocking = !nonblocking
            && match &action {
                Action::Connect(_) => true,
                Action::Send { flags, .. } | Action::Sendmmsg { flags, .. } => flags & libc::MSG_DONTWAIT == 0,
                Action::Bind(_) | Action::Listen(_) | Action::Socket { .. } | Action::Setsockopt { .. } => false,
            };
        let action = match action {
            Action::Send { msg, flags, .. } => Action::Send { msg, flags, stream: ty == libc::SOCK_STREAM },
            other => other,
        };
        Some(Guard::Allow(Box::new(Prepared { fd: Some(fd), tid, action, blocking, creds, passed })))
    }

    /// `socketcall(SYS_SOCKET)` decided on its copied arguments: created from that copy, as the
    /// program (same credentials; the same network namespace, or refused). The socket belongs
    /// to interpose's cgroup, not the program's (see docs/network-policy.md).
    fn socket_on_copy(&self, tid: u32, a: [u64; 6]) -> Guard {
        if !cred::shares_namespace(tid, "net") {
            return Guard::Deny(libc::EACCES);
        }
        let Ok(creds) = Creds::of_thread(tid) else { return Guard::Deny(libc::EACCES) };
        let action = Action::Socket { domain: a[0] as i32, ty: a[1] as i32, proto: a[2] as i32 };
        Guard::Allow(Box::new(Prepared { fd: None, tid, action, blocking: false, creds, passed: Vec::new() }))
    }
}

impl Action {
    /// Replaces a destination that is the unspecified address with the one the kernel would
    /// use (see [`deny::unspecified_to`]), so that the call judged is the call made.
    fn resolve_unspecified(&mut self, local: &[u8], datagram: bool) {
        let resolve = |how: Use, addr: &mut Vec<u8>| match deny::unspecified_to(how, addr, local, datagram) {
            Some(to) => {
                *addr = to;
                true
            }
            None => false,
        };
        match self {
            Action::Connect(a) => {
                resolve(Use::Connect, a);
            }
            Action::Send { msg, .. } => {
                if let Some(n) = &mut msg.name {
                    msg.resolved = resolve(Use::Send, n);
                }
            }
            Action::Sendmmsg { msgs, .. } => {
                for m in msgs {
                    if let Some(n) = &mut m.name {
                        m.resolved = resolve(Use::Send, n);
                    }
                }
            }
            Action::Bind(_) | Action::Listen(_) | Action::Socket { .. } | Action::Setsockopt { .. } => {}
        }
    }

    fn names_unix_path(&self) -> bool {
        let path = |a: &[u8]| is_unix_path(a);
        match self {
            Action::Connect(a) | Action::Bind(a) => path(a),
            Action::Send { msg, .. } => msg.name.as_deref().is_some_and(path),
            Action::Sendmmsg { msgs, .. } => msgs.iter().any(|m| m.name.as_deref().is_some_and(path)),
            Action::Listen(_) | Action::Socket { .. } | Action::Setsockopt { .. } => false,
        }
    }
}

fn is_unix_path(addr: &[u8]) -> bool {
    addr.len() > 2 && u16::from_ne_bytes([addr[0], addr[1]]) == libc::AF_UNIX as u16 && addr[2] != 0
}

/// Whether thread `tid` sees the filesystem as interpose does: the same root and mount
/// namespace.
fn same_filesystem_view(tid: u32) -> bool {
    std::fs::read_link(format!("/proc/{tid}/root")).is_ok_and(|r| r == std::path::Path::new("/"))
        && cred::shares_namespace(tid, "mnt")
}

/// An address argument, as the kernel's `move_addr_to_kernel` takes it: the length is an `int`
/// (the low 32 bits of the register), negative or above 128 is EINVAL, and the bytes must be
/// readable (EFAULT).
fn copy_addr(tid: u32, addr: u64, len: u64) -> Result<Vec<u8>, Guard> {
    let len = len as u32 as i32;
    if !(0..=SOCKADDR_MAX).contains(&len) {
        return Err(Guard::Fail(libc::EINVAL));
    }
    let mut buf = vec![0u8; len as usize];
    if len > 0 && !mem::read(tid, addr, &mut buf).is_ok_and(|got| got == buf.len()) {
        return Err(Guard::Fail(libc::EFAULT));
    }
    Ok(buf)
}

/// The iovec array at `addr` (native 16-byte or compat 8-byte entries), capped as the kernel
/// caps a transfer.
fn copy_iovecs(tid: u32, addr: u64, count: u64, compat: bool) -> Result<(Vec<(u64, u64)>, u64), Guard> {
    if count > UIO_MAXIOV {
        return Err(Guard::Fail(libc::EMSGSIZE));
    }
    let size = if compat { 8 } else { 16 };
    let mut raw = vec![0u8; count as usize * size];
    if !raw.is_empty() && !mem::read(tid, addr, &mut raw).is_ok_and(|got| got == raw.len()) {
        return Err(Guard::Fail(libc::EFAULT));
    }
    let mut iov = Vec::with_capacity(count as usize);
    let mut total = 0u64;
    for e in raw.chunks_exact(size) {
        let (base, len) = if compat {
            (
                u64::from(u32::from_ne_bytes(e[..4].try_into().expect("4"))),
                u64::from(u32::from_ne_bytes(e[4..].try_into().expect("4"))),
            )
        } else {
            (u64::from_ne_bytes(e[..8].try_into().expect("8")), u64::from_ne_bytes(e[8..].try_into().expect("8")))
        };
        // A length that is negative as an ssize_t is EINVAL.
        if (!compat && (len as i64) < 0) || (compat && (len as u32 as i32) < 0) {
            return Err(Guard::Fail(libc::EINVAL));
        }
        // The kernel stops counting at MAX_RW_COUNT.
        let len = len.min(MAX_RW - total);
        total += len;
        iov.push((base, len));
    }
    Ok((iov, total))
}

/// A msghdr (native or compat layout), as the kernel's `__copy_msghdr` reads it: a NULL name
/// means no name; a negative length is EINVAL; one above 128 is cut to 128; ancillary data is
/// copied whole (larger than [`MAX_CONTROL`] is ENOBUFS, as past the kernel's `optmem_max`).
fn copy_msghdr(tid: u32, addr: u64, compat: bool) -> Result<Msg, Guard> {
    let mut raw = [0u8; 56];
    let size = if compat { 28 } else { 56 };
    if !mem::read(tid, addr, &mut raw[..size]).is_ok_and(|got| got == size) {
        return Err(Guard::Fail(libc::EFAULT));
    }
    let u32_at = |o: usize| u64::from(u32::from_ne_bytes(raw[o..o + 4].try_into().expect("4")));
    let u64_at = |o: usize| u64::from_ne_bytes(raw[o..o + 8].try_into().expect("8"));
    // name, namelen, iov, iovlen, control, controllen
    let f = if compat {
        [u32_at(0), u32_at(4), u32_at(8), u32_at(12), u32_at(16), u32_at(20)]
    } else {
        [u64_at(0), u32_at(8), u64_at(16), u64_at(24), u64_at(32), u64_at(40)]
    };
    let namelen = if f[0] == 0 { 0 } else { f[1] as u32 as i32 };
    if namelen < 0 {
        return Err(Guard::Fail(libc::EINVAL));
    }
    let namelen = namelen.min(SOCKADDR_MAX) as u64;
    let (iov, total) = copy_iovecs(tid, f[2], f[3], compat)?;
    let name = if namelen > 0 { Some(copy_addr(tid, f[0], namelen)?) } else { None };
    let controllen = f[5];
    if controllen > MAX_CONTROL {
        return Err(Guard::Fail(libc::ENOBUFS));
    }
    let mut control = vec![0u8; controllen as usize];
    if !control.is_empty() && !mem::read(tid, f[4], &mut control).is_ok_and(|got| got == control.len()) {
        return Err(Guard::Fail(libc::EFAULT));
    }
    Ok(Msg { name, iov, total, control, resolved: false })
}

/// Largest ancillary data copied (the kernel's limit, `optmem_max`, is smaller by default).
const MAX_CONTROL: u64 = 1 << 20;
const CAP_SYS_ADMIN: u32 = crate::sys::caps::CAP_SYS_ADMIN;
/// `linux/capability.h`.
const CAP_SETGID: u32 = 6;
const CAP_SETUID: u32 = 7;
const SCM_CREDENTIALS: i32 = 2;

/// What a message's ancillary data needs to be sent exactly: the program's descriptors it
/// passes, borrowed; whether the send must claim the program's pid in `SCM_CREDENTIALS`
/// (which takes `CAP_SYS_ADMIN` of a process that is not the program).
struct Ancillary {
    fds: Vec<OwnedFd>,
    needs_admin: bool,
}

/// Whether interpose may send credentials with another process's pid in them, for thread
/// `tid`: it has CAP_SYS_ADMIN and they share a pid namespace (the pid is read in the sender's).
fn may_claim_pids(tid: u32) -> bool {
    crate::sys::caps::effective(CAP_SYS_ADMIN) && cred::shares_namespace(tid, "pid")
}

/// One control message as the kernel's `for_each_cmsghdr` walks a buffer: its offset, the
/// offset of its data, its length (`cmsg_len`), level and type.
struct Cmsg {
    at: usize,
    data: usize,
    len: usize,
    level: i32,
    ty: i32,
}

/// Walks ancillary data in the native (`cmsghdr`: 8-byte length, 16-byte header, 8-byte
/// alignment) or compat layout (4, 12, 4). `Err` at a header whose length is shorter than a
/// header or runs past the buffer (`CMSG_OK`), where the kernel stops with EINVAL; a tail too
/// short for a header ends the walk, as in the kernel.
fn cmsgs(raw: &[u8], compat: bool) -> Result<Vec<Cmsg>, usize> {
    let (hdr, align) = if compat { (12, 4) } else { (16, 8) };
    let mut out = Vec::new();
    let mut at = 0usize;
    while raw.len().saturating_sub(at) >= hdr {
        let word = |o: usize| i32::from_ne_bytes(raw[at + o..at + o + 4].try_into().expect("4"));
        let len = if compat {
            u32::from_ne_bytes(raw[at..at + 4].try_into().expect("4")) as usize
        } else {
            u64::from_ne_bytes(raw[at..at + 8].try_into().expect("8")).min(usize::MAX as u64) as usize
        };
        if len < hdr || len > raw.len() - at {
            return Err(at);
        }
        let (level, ty) = if compat { (word(4), word(8)) } else { (word(8), word(12)) };
        out.push(Cmsg { at, data: at + hdr, len, level, ty });
        at = match at.checked_add(len.div_ceil(align) * align) {
            Some(next) => next,
            None => break,
        };
    }
    Ok(out)
}

/// Control messages that would take a send elsewhere than its destination: an IPv4 source
/// route (`IP_RETOPTS`) and IPv6 routing headers.
fn reroutes(level: i32, ty: i32) -> bool {
    const IP_RETOPTS: i32 = 7;
    match level {
        libc::IPPROTO_IP => ty == IP_RETOPTS,
        libc::IPPROTO_IPV6 => matches!(ty, libc::IPV6_RTHDR | libc::IPV6_2292RTHDR),
        _ => false,
    }
}

/// Makes message `m`'s ancillary data what interpose sends, in the native layout: the
/// descriptors of `SCM_RIGHTS` (AF_UNIX) borrowed from the program and named by their copies,
/// so the receiver gets the program's open files; `SCM_CREDENTIALS` checked against the
/// program's credentials as the kernel's `scm_check_creds` would check them, and on AF_UNIX,
/// where the program sent none, the program's pid, uid and gid added (what the kernel attaches
/// for a receiver with SO_PASSCRED), when interpose may claim them. Refused: routes in a
/// control message, and a source (`IP_PKTINFO`) with a destination that was the unspecified
/// address (which the kernel would then send to). Everything else is passed as it is.
fn control(
    tid: u32,
    domain: i32,
    m: &mut Msg,
    compat: bool,
    ex: &mut Executor,
    prog: &Creds,
) -> Result<Ancillary, Guard> {
    let unix = domain == libc::AF_UNIX;
    let mut out = Ancillary { fds: Vec::new(), needs_admin: false };
    let walked = match cmsgs(&m.control, compat) {
        Ok(w) => w,
        // The kernel converts a compat buffer before anything else and fails it whole.
        Err(_) if compat => return Err(Guard::Fail(libc::EINVAL)),
        // A native buffer goes as it is: the kernel stops at the same header.
        Err(at) => cmsgs(&m.control[..at], false).unwrap_or_default(),
    };
    let tgid = crate::sys::pidfd::tgid_of(tid as i32).map_err(|_| Guard::Deny(libc::EACCES))?;
    let mut native = if compat { Vec::new() } else { m.control.clone() };
    let mut has_creds = false;
    for c in &walked {
        if reroutes(c.level, c.ty) {
            return Err(Guard::Deny(libc::EPERM));
        }
        let pktinfo = (c.level == libc::IPPROTO_IP && c.ty == libc::IP_PKTINFO)
            || (c.level == libc::IPPROTO_IPV6 && c.ty == libc::IPV6_PKTINFO);
        if pktinfo && m.resolved {
            return Err(Guard::Deny(libc::EPERM));
        }
        let mut data = m.control[c.data..c.at + c.len].to_vec();
        if unix && c.level == libc::SOL_SOCKET && c.ty == libc::SCM_RIGHTS {
            for slot in data.chunks_exact_mut(4) {
                let fd = i32::from_ne_bytes(slot.try_into().expect("4"));
                let local = match ex.borrow(tid, fd as u32 as u64) {
                    Ok(l) => l,
                    Err(Borrow::BadFd) if std::fs::metadata(format!("/proc/{tid}/fdinfo/{fd}")).is_err() => {
                        return Err(Guard::Fail(libc::EBADF));
                    }
                    // Open, but not to be borrowed (an O_PATH descriptor): not sent as another.
                    Err(_) => return Err(Guard::Deny(libc::EACCES)),
                };
                slot.copy_from_slice(&local.as_raw_fd().to_ne_bytes());
                out.fds.push(local);
            }
        }
        if unix && c.level == libc::SOL_SOCKET && c.ty == SCM_CREDENTIALS && data.len() == 12 {
            has_creds = true;
            let word = |o: usize| u32::from_ne_bytes(data[o..o + 4].try_into().expect("4"));
            let (pid, uid, gid) = (word(0), word(4), word(8));
            if uid != u32::MAX && gid != u32::MAX {
                let pid_ok = pid == tgid || prog.has_capability(CAP_SYS_ADMIN);
                let uid_ok = (0..3).any(|i| prog.uid(i) == uid) || prog.has_capability(CAP_SETUID);
                let gid_ok = (0..3).any(|i| prog.gid(i) == gid) || prog.has_capability(CAP_SETGID);
                if !(pid_ok && uid_ok && gid_ok) {
                    return Err(Guard::Fail(libc::EPERM));
                }
                out.needs_admin |= pid == tgid;
            }
        }
        if compat {
            push_cmsg(&mut native, c.level, c.ty, &data);
        } else {
            native[c.data..c.at + c.len].copy_from_slice(&data);
        }
    }
    if unix && !has_creds && may_claim_pids(tid) {
        let mut ucred = Vec::with_capacity(12);
        for v in [tgid, prog.uid(0), prog.gid(0)] {
            ucred.extend_from_slice(&v.to_ne_bytes());
        }
        // After what the program sent, aligned as a next header would be.
        native.resize(native.len().div_ceil(8) * 8, 0);
        push_cmsg(&mut native, libc::SOL_SOCKET, SCM_CREDENTIALS, &ucred);
        out.needs_admin = true;
    }
    m.control = native;
    Ok(out)
}

/// Appends one native control message (header, data, padding to 8).
fn push_cmsg(buf: &mut Vec<u8>, level: i32, ty: i32, data: &[u8]) {
    buf.extend_from_slice(&((16 + data.len()) as u64).to_ne_bytes());
    buf.extend_from_slice(&level.to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(data);
    buf.resize(buf.len().div_ceil(8) * 8, 0);
}

/// Copies what a governed call's decision and execution depend on.
fn copy_action(tid: u32, op: Op, args: &Args) -> Result<Action, Guard> {
    let a = args.a;
    Ok(match op {
        Op::Connect => Action::Connect(copy_addr(tid, a[1], a[2])?),
        Op::Bind => Action::Bind(copy_addr(tid, a[1], a[2])?),
        Op::Listen => Action::Listen(a[1] as i32),
        Op::Setsockopt => {
            // The kernel takes optlen as an int; no option is larger than a page or so, and a
            // length the kernel would refuse is refused the same way when it runs on the copy.
            let len = (a[4] as u32 as i32).clamp(0, 1 << 16) as usize;
            let mut val = vec![0u8; len];
            if len > 0 && !mem::read(tid, a[3], &mut val).is_ok_and(|got| got == len) {
                return Err(Guard::Fail(libc::EFAULT));
            }
            Action::Setsockopt { level: a[1] as i32, opt: a[2] as i32, val }
        }
        Op::Sendto => {
            let name = if a[4] == 0 { None } else { Some(copy_addr(tid, a[4], a[5])?) };
            let len = if args.compat { a[2] & 0xffff_ffff } else { a[2] }.min(MAX_RW);
            let msg = Msg { name, iov: vec![(a[1], len)], total: len, control: Vec::new(), resolved: false };
            Action::Send { msg, flags: a[3] as i32, stream: false }
        }
        Op::Sendmsg => Action::Send { msg: copy_msghdr(tid, a[1], args.compat)?, flags: a[2] as i32, stream: false },
        Op::Sendmmsg => {
            let vlen = (a[2] & 0xffff_ffff).min(UIO_MAXIOV);
            let stride = if args.compat { 32 } else { 64 };
            let mut msgs = Vec::new();
            for i in 0..vlen {
                match copy_msghdr(tid, a[1].wrapping_add(i * stride), args.compat) {
                    Ok(m) => msgs.push(m),
                    // The kernel sends the messages before a bad one and returns their count.
                    Err(g) if msgs.is_empty() => return Err(g),
                    Err(Guard::Deny(e)) => return Err(Guard::Deny(e)),
                    Err(_) => break,
                }
            }
            Action::Sendmmsg { msgs, flags: a[3] as i32, vec: a[1], compat: args.compat }
        }
        Op::Socket | Op::IoUringSetup | Op::Bpf => unreachable!("decided without a copy"),
    })
}

/// Calls being executed on a thread of interpose for a program thread that may die meanwhile:
/// notification id -> the executing thread. A watchdog ([`InFlight::sweep`]) interrupts the
/// executing thread with [`crate::sys::signals::abandon_signal`] once the notification is no
/// longer valid (the program thread is gone), so that a connect or send that would wait for a
/// peer is abandoned at once and the borrowed socket is closed.
#[derive(Clone, Default)]
pub struct InFlight(Arc<Mutex<HashMap<u64, u32>>>);

/// Removes its entry when the call is over.
pub struct InFlightEntry<'a> {
    map: &'a InFlight,
    id: u64,
}

impl Drop for InFlightEntry<'_> {
    fn drop(&mut self) {
        self.map.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

impl InFlight {
    fn enter(&self, id: u64) -> InFlightEntry<'_> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(id, crate::sys::signals::gettid());
        InFlightEntry { map: self, id }
    }

    /// Interrupts every executing thread whose program thread has gone. The lock is held while
    /// signalling: an executing thread removes its entry (under the lock) before it answers and
    /// takes another call, so the signal can only reach the call it was meant for.
    pub fn sweep(&self, listener: &Listener) {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for (id, tid) in map.iter() {
            if !listener.id_valid(*id) {
                let _ = io::tgkill(std::process::id(), *tid, crate::sys::signals::abandon_signal());
            }
        }
    }
}

/// Performs an allowed call on its copy, as the program thread's credentials, registered in
/// `inflight` while it runs. Also says whether the program thread must get SIGPIPE (a send
/// on a closed connection without MSG_NOSIGNAL, which interpose always passes).
pub fn execute(p: Prepared, id: u64, listener: &Listener, inflight: &InFlight) -> (Done, bool) {
    let Prepared { fd, tid, action, creds, passed, .. } = p;
    let t = Instant::now();
    if let Action::Socket { domain, ty, proto } = action {
        let made = cred::run_as(&creds, || io::socket(domain, ty | libc::SOCK_CLOEXEC, proto)).unwrap_or_else(Err);
        let dur_ns = t.elapsed().as_nanos() as u64;
        let (result, answered) = match made {
            Err(e) => (Err(e), None),
            // Installed in the program and answered with its number, in one step.
            Ok(sock) => match listener.add_fd_and_answer(id, sock.as_fd(), ty & libc::SOCK_CLOEXEC != 0) {
                Ok(newfd) => (Ok(newfd as usize), Some(true)),
                Err(libc::ENOENT) => (Err(libc::ENOENT), Some(false)),
                Err(e) => (Err(e), None),
            },
        };
        return (Done { result, dur_ns, outputs: Captures::new(), answered, ret_desc: None }, false);
    }
    let Some(fd) = fd else {
        return (
            Done { result: Err(libc::EBADF), dur_ns: 0, outputs: Captures::new(), answered: None, ret_desc: None },
            false,
        );
    };
    // The program's memory is read, and written, as interpose: a program that gave up root is
    // not dumpable, and a thread that took its credentials could no longer read it. Only the
    // call itself runs as the program.
    let fd = fd.as_fd();
    let as_program = |f: &(dyn Fn() -> SysResult + Sync)| -> SysResult {
        cred::run_as(&creds, || {
            let _entry = inflight.enter(id);
            f()
        })
        .unwrap_or_else(Err)
    };
    let result = match &action {
        Action::Send { msg, flags, stream } => {
            let flags = flags | libc::MSG_NOSIGNAL;
            if !stream && msg.total > MAX_DATAGRAMS {
                Err(libc::EMSGSIZE)
            } else if !stream || msg.total <= CHUNK {
                match gather(tid, &msg.iov, 0, msg.total) {
                    Ok(data) => as_program(&|| send_one(fd, msg.name.as_deref(), &data, &msg.control, flags)),
                    Err(e) => Err(e),
                }
            } else {
                // A stream: sent a chunk at a time, stopping where the kernel would (a short
                // send, an error after some bytes went: their count).
                let mut sent = 0u64;
                loop {
                    let len = (msg.total - sent).min(CHUNK);
                    let data = match gather(tid, &msg.iov, sent, len) {
                        Ok(d) => d,
                        Err(e) if sent == 0 => break Err(e),
                        Err(_) => break Ok(sent as usize),
                    };
                    // The name and the ancillary data go with the first chunk.
                    let (name, control) =
                        if sent == 0 { (msg.name.as_deref(), &msg.control[..]) } else { (None, &[][..]) };
                    match as_program(&|| send_one(fd, name, &data, control, flags)) {
                        Ok(n) => {
                            sent += n as u64;
                            if (n as u64) < len || sent >= msg.total {
                                break Ok(sent as usize);
                            }
                        }
                        Err(e) if sent == 0 => break Err(e),
                        Err(_) => break Ok(sent as usize),
                    }
                }
            }
        }
        Action::Sendmmsg { msgs, flags, vec, compat } => {
            let datas: Result<Vec<Vec<u8>>, i32> = if msgs.iter().map(|m| m.total).sum::<u64>() > MAX_DATAGRAMS {
                Err(libc::EMSGSIZE)
            } else {
                msgs.iter().map(|m| gather(tid, &m.iov, 0, m.total)).collect()
            };
            let lens = std::sync::Mutex::new(Vec::new());
            let r = datas.and_then(|datas| {
                as_program(&|| {
                    let l = send_many(fd, msgs, &datas, flags | libc::MSG_NOSIGNAL)?;
                    let n = l.len();
                    *lens.lock().unwrap_or_else(|e| e.into_inner()) = l;
                    Ok(n)
                })
            });
            // msg_len of each message sent, where the kernel writes it.
            let (stride, off) = if *compat { (32, 28) } else { (64, 56) };
            for (i, len) in lens.into_inner().unwrap_or_default().iter().enumerate() {
                let _ = mem::write(tid, vec.wrapping_add(i as u64 * stride + off), &len.to_ne_bytes());
            }
            r
        }
        other => as_program(&|| perform(fd, other)),
    };
    drop(passed);
    let dur_ns = t.elapsed().as_nanos() as u64;
    let flags = match &action {
        Action::Send { flags, .. } | Action::Sendmmsg { flags, .. } => Some(*flags),
        _ => None,
    };
    let sigpipe = result == Err(libc::EPIPE) && flags.is_some_and(|f| f & libc::MSG_NOSIGNAL == 0);
    (Done { result, dur_ns, outputs: Captures::new(), answered: None, ret_desc: None }, sigpipe)
}

/// A unix path address, rewritten so that the kernel uses exactly the file judged by name: the
/// path is opened without following symbolic links (in the program's credentials, so that
/// search permission is the program's), and the call names that open file through
/// `/proc/self/fd/N`. The peer sees no difference (names recorded on sockets are the bound
/// ones). Returns the descriptor to keep open for the call and the address.
fn pinned_unix_path(addr: &[u8]) -> Result<(OwnedFd, Vec<u8>), i32> {
    let path = &addr[2..];
    let path = &path[..path.iter().position(|&b| b == 0).unwrap_or(path.len())];
    let c = CString::new(path).map_err(|_| libc::EINVAL)?;
    let file = io::open_path_nofollow(&c)?;
    let mut out = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
    out.extend_from_slice(format!("/proc/self/fd/{}", file.as_raw_fd()).as_bytes());
    out.push(0);
    Ok((file, out))
}

/// The address to pass: unix paths pinned (connect and send; a bind creates the file by its
/// name, which is what the socket will be known by).
fn usable(addr: &[u8]) -> Result<(Option<OwnedFd>, Vec<u8>), i32> {
    if is_unix_path(addr) {
        let (f, a) = pinned_unix_path(addr)?;
        Ok((Some(f), a))
    } else {
        Ok((None, addr.to_vec()))
    }
}

/// Reads a message's bytes `[from, from + len)` from the program.
fn gather(tid: u32, iov: &[(u64, u64)], from: u64, len: u64) -> Result<Vec<u8>, i32> {
    let mut out = vec![0u8; len as usize];
    let (mut at, mut skip) = (0usize, from);
    for &(base, l) in iov {
        if at == out.len() {
            break;
        }
        if skip >= l {
            skip -= l;
            continue;
        }
        let n = ((l - skip) as usize).min(out.len() - at);
        if !mem::read(tid, base.wrapping_add(skip), &mut out[at..at + n]).is_ok_and(|got| got == n) {
            return Err(libc::EFAULT);
        }
        at += n;
        skip = 0;
    }
    Ok(out)
}

fn perform(fd: std::os::fd::BorrowedFd<'_>, action: &Action) -> SysResult {
    match action {
        Action::Connect(addr) => {
            let (_pin, addr) = usable(addr)?;
            io::connect(fd, &addr)
        }
        Action::Bind(addr) => io::bind(fd, addr),
        Action::Listen(backlog) => io::listen(fd, *backlog),
        Action::Setsockopt { level, opt, val } => io::setsockopt(fd, *level, *opt, val),
        Action::Socket { .. } | Action::Send { .. } | Action::Sendmmsg { .. } => Err(libc::EINVAL),
    }
}

/// One send of bytes already copied out of the program, to its (pinned) destination, with its
/// ancillary data (native layout).
fn send_one(
    fd: std::os::fd::BorrowedFd<'_>,
    name: Option<&[u8]>,
    data: &[u8],
    control: &[u8],
    flags: i32,
) -> SysResult {
    let (_pin, name) = match name {
        Some(n) => {
            let (p, a) = usable(n)?;
            (p, Some(a))
        }
        None => (None, None),
    };
    io::sendmsg(fd, data, name.as_deref(), control, flags)
}

/// sendmmsg of messages already copied out of the program; the bytes sent of each.
fn send_many(fd: std::os::fd::BorrowedFd<'_>, msgs: &[Msg], datas: &[Vec<u8>], flags: i32) -> Result<Vec<u32>, i32> {
    let mut pins = Vec::new();
    let mut names = Vec::new();
    for m in msgs {
        names.push(match &m.name {
            Some(n) => {
                let (p, a) = usable(n)?;
                pins.push(p);
                Some(a)
            }
            None => None,
        });
    }
    let list: Vec<io::Message<'_>> = names
        .iter()
        .zip(datas)
        .zip(msgs)
        .map(|((n, d), m)| (n.as_deref(), d.as_slice(), m.control.as_slice()))
        .collect();
    io::sendmmsg(fd, &list, flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::native_of;

    /// The calls the rules govern, reached through each ABI, by the numbers of the kernel's
    /// tables (`syscall_32.tbl`, `syscall_64.tbl`'s x32 entries, `linux/net.h`): each must name
    /// the native call it stands for.
    #[test]
    fn every_abi_reaches_the_same_operations() {
        let op = |arch, nr: u32, arg0| native_of(arch, nr as i32, arg0).and_then(|n| Op::native(n as i32));
        let i386 = [
            (359, Op::Socket),
            (361, Op::Bind),
            (362, Op::Connect),
            (363, Op::Listen),
            (366, Op::Setsockopt),
            (369, Op::Sendto),
            (370, Op::Sendmsg),
            (345, Op::Sendmmsg),
            (357, Op::Bpf),
            (425, Op::IoUringSetup),
        ];
        for (nr, want) in i386 {
            assert_eq!(op(ARCH_I386, nr, 0), Some(want), "i386 {nr}");
        }
        let socketcall = [
            (1, Op::Socket),
            (2, Op::Bind),
            (3, Op::Connect),
            (4, Op::Listen),
            (11, Op::Sendto),
            (14, Op::Setsockopt),
            (16, Op::Sendmsg),
            (20, Op::Sendmmsg),
        ];
        for (call, want) in socketcall {
            assert_eq!(op(ARCH_I386, i386::SOCKETCALL as u32, call), Some(want), "socketcall {call}");
        }
        for call in [5, 6, 7, 8, 10, 12, 13, 15, 17, 18, 19, 0, 21] {
            assert_eq!(op(ARCH_I386, i386::SOCKETCALL as u32, call), None, "socketcall {call}");
        }
        let x32 = [
            (41, Op::Socket),
            (42, Op::Connect),
            (44, Op::Sendto),
            (49, Op::Bind),
            (50, Op::Listen),
            (321, Op::Bpf),
            (425, Op::IoUringSetup),
            (518, Op::Sendmsg),
            (538, Op::Sendmmsg),
            (541, Op::Setsockopt),
        ];
        for (nr, want) in x32 {
            assert_eq!(op(ARCH_X86_64, nr | X32_SYSCALL_BIT as u32, 0), Some(want), "x32 {nr}");
        }
    }
}
