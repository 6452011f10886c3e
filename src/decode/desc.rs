//! Descriptors: fcntl, lseek, ioctl, dup, pipe, poll, epoll, eventfd, flock, fadvise and the
//! other calls on an open file (strace's `desc.c`, `fcntl.c`, `ioctl.c`).

use std::fmt::Write;

use super::Cap;
use super::capture::{Key, Value};
use super::format::{self, Args};
use super::signal::{SIGSET_SIZE, sigset, sigset_cap};
use super::xlat::{self, Table, x};

pub static FCNTL_CMDS: Table = x![
    F_DUPFD,
    F_GETFD,
    F_SETFD,
    F_GETFL,
    F_SETFL,
    F_GETLK,
    F_SETLK,
    F_SETLKW,
    F_SETOWN,
    F_GETOWN,
    F_SETSIG = 10,
    F_GETSIG = 11,
    F_SETOWN_EX = 15,
    F_GETOWN_EX = 16,
    F_GETOWNER_UIDS = 17,
    F_OFD_GETLK,
    F_OFD_SETLK,
    F_OFD_SETLKW,
    F_SETLEASE,
    F_GETLEASE,
    F_NOTIFY,
    F_DUPFD_CLOEXEC,
    F_SETPIPE_SZ,
    F_GETPIPE_SZ,
    F_ADD_SEALS,
    F_GET_SEALS,
    F_GET_RW_HINT = 1035,
    F_SET_RW_HINT = 1036,
    F_GET_FILE_RW_HINT = 1037,
    F_SET_FILE_RW_HINT = 1038,
];

pub static FD_FLAGS: Table = x![FD_CLOEXEC];
pub static LEASES: Table = x![F_RDLCK, F_WRLCK, F_UNLCK];
/// The `DN_*` values are not in libc.
pub static NOTIFY_FLAGS: Table = x![
    DN_ACCESS = 0x1,
    DN_MODIFY = 0x2,
    DN_CREATE = 0x4,
    DN_DELETE = 0x8,
    DN_RENAME = 0x10,
    DN_ATTRIB = 0x20,
    DN_MULTISHOT = 0x80000000u32,
];
pub static SEALS: Table = x![F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE];

/// fcntl(fd, cmd, arg): the argument as the command reads it.
pub fn fcntl(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    let cmd = v[1] as u32 as i32;
    a.constant(FCNTL_CMDS, cmd as u32 as u64, "F_");
    let arg = v[2];
    match cmd {
        libc::F_GETFD
        | libc::F_GETFL
        | libc::F_GETOWN
        | 11
        | libc::F_GETLEASE
        | libc::F_GETPIPE_SZ
        | libc::F_GET_SEALS => {}
        libc::F_SETFD => a.flags(FD_FLAGS, arg as u32 as u64, "0"),
        libc::F_SETFL => xlat::open_modes(a.arg(), arg as u32 as u64),
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC | libc::F_SETOWN | libc::F_SETPIPE_SZ => a.int(arg),
        10 => signal_or_zero(a, arg),
        libc::F_SETLEASE => a.constant(LEASES, arg as u32 as u64, "F_"),
        libc::F_NOTIFY => a.flags(NOTIFY_FLAGS, arg as u32 as u64, "0"),
        libc::F_ADD_SEALS => a.flags(SEALS, arg as u32 as u64, "0"),
        libc::F_GETLK
        | libc::F_SETLK
        | libc::F_SETLKW
        | libc::F_OFD_GETLK
        | libc::F_OFD_SETLK
        | libc::F_OFD_SETLKW
        | 15
        | 16
        | 17 => a.ptr(arg),
        _ => a.hex(arg),
    }
}

/// What strace adds to a successful fcntl's result, by command (its `fcntl.c` on exit):
/// `Some((hex, note))`, the result in hex or decimal and the note in parentheses; `None` for a
/// bare decimal result.
pub fn fcntl_result(args: &[u64; 6], ret: i64) -> Option<(bool, String)> {
    /// Not in libc for Linux.
    const F_GETSIG: i32 = 11;
    let v = ret as u64;
    let mut note = String::new();
    match args[1] as u32 as i32 {
        libc::F_GETFD if ret != 0 => {
            note.push_str("flags ");
            xlat::flags(&mut note, FD_FLAGS, v, "0");
            Some((true, note))
        }
        libc::F_GETFL => {
            note.push_str("flags ");
            xlat::open_modes(&mut note, v);
            Some((true, note))
        }
        libc::F_GETLEASE => {
            xlat::constant(&mut note, LEASES, v, "F_");
            Some((true, note))
        }
        libc::F_GET_SEALS if ret != 0 => {
            note.push_str("seals ");
            xlat::flags(&mut note, SEALS, v, "0");
            Some((true, note))
        }
        F_GETSIG if ret != 0 => {
            super::signal::signal(&mut note, ret as i32);
            Some((false, note))
        }
        _ => None,
    }
}

fn signal_or_zero(a: &mut Args, v: u64) {
    let sig = v as u32 as i32;
    if sig == 0 {
        a.arg().push('0');
    } else {
        super::signal::signal(a.arg(), sig);
    }
}

pub static WHENCE: Table = x![SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE];

pub fn lseek(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.sdec(v[1]);
    a.constant(WHENCE, v[2] as u32 as u64, "SEEK_");
}

/// ioctl requests strace names on x86_64 (tty, FIO*, SIOC* and the common file ones).
pub static IOCTLS: Table = x![
    TCGETS,
    TCSETS,
    TCSETSW,
    TCSETSF,
    TCGETA,
    TCSETA,
    TCSETAW,
    TCSETAF,
    TCSBRK,
    TCXONC,
    TCFLSH,
    TIOCEXCL,
    TIOCNXCL,
    TIOCSCTTY,
    TIOCGPGRP,
    TIOCSPGRP,
    TIOCOUTQ,
    TIOCSTI,
    TIOCGWINSZ,
    TIOCSWINSZ,
    TIOCMGET,
    TIOCMBIS,
    TIOCMBIC,
    TIOCMSET,
    TIOCGSOFTCAR,
    TIOCSSOFTCAR,
    FIONREAD,
    TIOCLINUX,
    TIOCCONS,
    TIOCGSERIAL,
    TIOCSSERIAL,
    TIOCPKT,
    FIONBIO,
    TIOCNOTTY,
    TIOCSETD,
    TIOCGETD,
    TCSBRKP,
    TIOCSBRK,
    TIOCCBRK,
    TIOCGSID,
    TCGETS2,
    TCSETS2,
    TCSETSW2,
    TCSETSF2,
    TIOCGPTN,
    TIOCSPTLCK,
    TIOCGDEV,
    TIOCSIG,
    TIOCVHANGUP,
    TIOCGPKT,
    TIOCGPTLCK,
    TIOCGEXCL,
    TIOCGPTPEER,
    FIONCLEX,
    FIOCLEX,
    FIOASYNC,
    TIOCSERCONFIG,
    TIOCSERGWILD,
    TIOCSERSWILD,
    TIOCGLCKTRMIOS,
    TIOCSLCKTRMIOS,
    TIOCSERGSTRUCT,
    TIOCSERGETLSR,
    TIOCSERGETMULTI,
    TIOCSERSETMULTI,
    TIOCMIWAIT,
    TIOCGICOUNT,
    FIOQSIZE = 0x5460,
    FIOSETOWN = 0x8901,
    SIOCSPGRP = 0x8902,
    FIOGETOWN = 0x8903,
    SIOCGPGRP = 0x8904,
    SIOCATMARK = 0x8905,
    SIOCGSTAMP = 0x8906,
    SIOCGSTAMPNS = 0x8907,
    SIOCADDRT,
    SIOCDELRT,
    SIOCGIFNAME,
    SIOCSIFLINK,
    SIOCGIFCONF,
    SIOCGIFFLAGS,
    SIOCSIFFLAGS,
    SIOCGIFADDR,
    SIOCSIFADDR,
    SIOCGIFDSTADDR,
    SIOCSIFDSTADDR,
    SIOCGIFBRDADDR,
    SIOCSIFBRDADDR,
    SIOCGIFNETMASK,
    SIOCSIFNETMASK,
    SIOCGIFMETRIC,
    SIOCSIFMETRIC,
    SIOCGIFMTU,
    SIOCSIFMTU,
    SIOCSIFNAME,
    SIOCSIFHWADDR,
    SIOCGIFHWADDR,
    SIOCADDMULTI,
    SIOCDELMULTI,
    SIOCGIFINDEX,
    SIOCGIFTXQLEN,
    SIOCSIFTXQLEN,
    SIOCETHTOOL,
    SIOCGMIIPHY,
    SIOCGMIIREG,
    SIOCSMIIREG,
    SIOCWANDEV,
    SIOCDARP,
    SIOCGARP,
    SIOCSARP,
    SIOCGIFMAP,
    SIOCSIFMAP,
    FIFREEZE = 0xc0045877u32,
    FITHAW = 0xc0045878u32,
    FS_IOC_GETFLAGS = 0x80086601u32,
    FS_IOC_SETFLAGS = 0x40086602u32,
    FS_IOC_FIEMAP = 0xc020660bu32,
    FIGETBSZ = 0x2,
    FIBMAP = 0x1,
    BLKGETSIZE64 = 0x80081272u32,
    BLKSSZGET = 0x1268,
];

/// ioctl(fd, request, arg).
pub fn ioctl(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    let req = v[1] as u32;
    let arg = v[2];
    match req {
        // FICLONE is also btrfs's first ioctl, and strace names both.
        0x4004_9409 => {
            a.arg().push_str("BTRFS_IOC_CLONE or FICLONE");
            a.int(arg);
        }
        _ if req == libc::FIOCLEX as u32 || req == libc::FIONCLEX as u32 => {
            a.arg().push_str(xlat::lookup(IOCTLS, u64::from(req)).unwrap_or("?"));
        }
        _ => {
            match xlat::lookup(IOCTLS, u64::from(req)) {
                Some(name) => a.arg().push_str(name),
                None => ioc(a.arg(), req),
            }
            if req == libc::TCSBRK as u32
                || req == libc::TCXONC as u32
                || req == libc::TCFLSH as u32
                || req == libc::TIOCSCTTY as u32
            {
                a.int(arg);
            } else {
                a.hex(arg);
            }
        }
    }
}

/// An unknown request as its fields: `_IOC(_IOC_READ, 0x12, 0x34, 0x8)`.
fn ioc(out: &mut String, req: u32) {
    let dir = req >> 30;
    let (ty, nr, size) = ((req >> 8) & 0xff, req & 0xff, (req >> 16) & 0x3fff);
    let dir = match dir {
        0 => "_IOC_NONE",
        1 => "_IOC_WRITE",
        2 => "_IOC_READ",
        _ => "_IOC_READ|_IOC_WRITE",
    };
    let _ = write!(out, "_IOC({dir}, {ty:#x}, {nr:#x}, ");
    super::format::hex(out, u64::from(size));
    out.push(')');
}

/// dup2(oldfd, newfd), dup3(oldfd, newfd, flags).
pub fn dup2(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.int(v[1]);
}

pub fn dup3(a: &mut Args, v: &[u64; 6]) {
    dup2(a, v);
    a.flags(xlat::OPEN_FLAGS, v[2] as u32 as u64, "0");
}

/// pipe2(fds, flags): the fds are an output.
pub fn pipe2(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.flags(xlat::OPEN_FLAGS, v[1] as u32 as u64, "0");
}

/// close_range(first, last, flags): the bounds are unsigned (`~0U` is 4294967295).
pub fn close_range(a: &mut Args, v: &[u64; 6]) {
    a.uint(v[0]);
    a.uint(v[1]);
    a.flags(x![CLOSE_RANGE_UNSHARE, CLOSE_RANGE_CLOEXEC], v[2] as u32 as u64, "0");
}

pub static FADVICE: Table = x![
    POSIX_FADV_NORMAL,
    POSIX_FADV_RANDOM,
    POSIX_FADV_SEQUENTIAL,
    POSIX_FADV_WILLNEED,
    POSIX_FADV_DONTNEED,
    POSIX_FADV_NOREUSE,
];

/// fadvise64(fd, offset, len, advice).
pub fn fadvise64(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.sdec(v[1]);
    a.sdec(v[2]);
    a.constant(FADVICE, v[3] as u32 as u64, "POSIX_FADV_");
}

pub static FALLOC_FLAGS: Table = x![
    FALLOC_FL_KEEP_SIZE,
    FALLOC_FL_PUNCH_HOLE,
    FALLOC_FL_NO_HIDE_STALE = 0x4,
    FALLOC_FL_COLLAPSE_RANGE,
    FALLOC_FL_ZERO_RANGE,
    FALLOC_FL_INSERT_RANGE,
    FALLOC_FL_UNSHARE_RANGE,
];

pub fn fallocate(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.flags(FALLOC_FLAGS, v[1] as u32 as u64, "0");
    a.sdec(v[2]);
    a.sdec(v[3]);
}

/// ftruncate(fd, length), and the other (fd, off_t) calls.
pub fn fd_off(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.sdec(v[1]);
}

/// fchmod(fd, mode).
pub fn fchmod(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.mode(v[1]);
}

/// fchown(fd, owner, group).
pub fn fchown(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    super::file::id(a, v[1]);
    super::file::id(a, v[2]);
}

pub static LOCK_OPS: Table =
    x![LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN, LOCK_MAND = 0x20, LOCK_READ = 0x40, LOCK_WRITE = 0x80];

pub fn flock(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.flags(LOCK_OPS, v[1] as u32 as u64, "0");
}

/// An `loff_t *` read at entry (copy_file_range's and splice's offsets, arguments 1 and 3):
/// `[0]`, as strace prints it before the call updates it.
fn off_ptr(a: &mut Args, i: u8) {
    a.input(i, format::int64_ref);
}

/// The captures of copy_file_range's and splice's offsets.
pub const OFF_CAPS: &[Cap] = &[Cap::Fixed { arg: 1, len: 8 }, Cap::Fixed { arg: 3, len: 8 }];

/// copy_file_range(fd_in, off_in, fd_out, off_out, len, flags).
pub fn copy_file_range(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    off_ptr(a, 1);
    a.int(v[2]);
    off_ptr(a, 3);
    a.udec(v[4]);
    a.uint(v[5]);
}

/// sendfile(out_fd, in_fd, offset, count): the offset is read and updated (strace's
/// `[2] => [6]` needs the value after the call), so it shows as its address.
pub fn sendfile(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.int(v[1]);
    a.ptr(v[2]);
    a.udec(v[3]);
}

pub static SPLICE_FLAGS: Table = x![SPLICE_F_MOVE, SPLICE_F_NONBLOCK, SPLICE_F_MORE, SPLICE_F_GIFT];

/// splice(fd_in, off_in, fd_out, off_out, len, flags).
pub fn splice(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    off_ptr(a, 1);
    a.int(v[2]);
    off_ptr(a, 3);
    a.udec(v[4]);
    a.flags(SPLICE_FLAGS, v[5] as u32 as u64, "0");
}

/// tee(fd_in, fd_out, len, flags).
pub fn tee(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.int(v[1]);
    a.udec(v[2]);
    a.flags(SPLICE_FLAGS, v[3] as u32 as u64, "0");
}

/// readahead(fd, offset, count).
pub fn readahead(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.sdec(v[1]);
    a.udec(v[2]);
}

/// getdents64(fd, dirp, count): the entries are an output.
pub fn getdents(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    // The entries, by count, as strace prints them without -v.
    let entries = a.output(1);
    let out = a.arg();
    format::ptr(out, v[1]);
    if let Some(Value::Count(n)) = entries {
        let _ = write!(out, " /* {n} entries */");
    }
    a.uint(v[2]);
}

/// fstat(fd, statbuf), fstatfs(fd, buf): the struct is an output.
pub fn fd_ptr(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.ptr(v[1]);
}

pub static POLL_EVENTS: Table = x![
    POLLIN,
    POLLPRI,
    POLLOUT,
    POLLERR,
    POLLHUP,
    POLLNVAL,
    POLLRDNORM,
    POLLRDBAND,
    POLLWRNORM,
    POLLWRBAND,
    POLLMSG = 0x400,
    POLLRDHUP,
];

/// A `struct pollfd` as the program passes it: `{fd=3, events=POLLIN}` (`{fd=-1}` when the
/// entry is ignored).
fn pollfd(out: &mut String, e: &[u8]) {
    let fd = format::word32(e, 0) as i32;
    let _ = write!(out, "{{fd={fd}");
    if fd >= 0 {
        out.push_str(", events=");
        let events = u16::from_ne_bytes([e[4], e[5]]);
        xlat::flags(out, POLL_EVENTS, u64::from(events), "0");
    }
    out.push('}');
}

/// poll's and ppoll's array: its first `-s` entries.
pub const POLLFD_CAP: Cap = Cap::Array { arg: 0, count_arg: 1, elem: 8 };

/// poll(fds, nfds, timeout).
pub fn poll(a: &mut Args, v: &[u64; 6]) {
    a.input_array(0, 8, pollfd);
    a.uint(v[1]);
    a.int(v[2]);
}

/// A `sigset_t *` (argument `i`) of `size` bytes captured at entry: `[USR1]`, or its address
/// when the size is not the kernel's.
pub fn sigmask(a: &mut Args, i: u8, size: u64) {
    let addr = a.addr(i);
    a.input(i, |out, data| {
        if size == SIGSET_SIZE {
            sigset(out, data);
        } else {
            format::ptr(out, addr);
        }
    });
}

/// ppoll(fds, nfds, tmo_p, sigmask, sigsetsize).
pub fn ppoll(a: &mut Args, v: &[u64; 6]) {
    a.input_array(0, 8, pollfd);
    a.uint(v[1]);
    a.input(2, format::timespec);
    sigmask(a, 3, v[4]);
    a.udec(v[4]);
}

pub const PPOLL_CAPS: &[Cap] = &[POLLFD_CAP, Cap::Fixed { arg: 2, len: 16 }, sigset_cap(3)];

/// The three `fd_set`s of select and pselect6, as lists of descriptors: `[3 4]`.
fn fd_sets(a: &mut Args, v: &[u64; 6]) {
    let nfds = (v[0] as u32 as i32).clamp(0, super::capture::FD_SET_BITS as i32) as usize;
    for set in 1..4 {
        a.input(set, |out, data| format::bit_list(out, data, nfds));
    }
}

/// select(nfds, readfds, writefds, exceptfds, timeout).
pub fn select(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    fd_sets(a, v);
    a.input(4, format::timeval);
}

pub const SELECT_CAPS: &[Cap] = &[Cap::FdSet(1), Cap::FdSet(2), Cap::FdSet(3), Cap::Fixed { arg: 4, len: 16 }];

/// pselect6(nfds, readfds, writefds, exceptfds, timeout, sigmask): the last is the kernel's
/// `{const sigset_t *ss; size_t ss_len}`, printed `{sigmask=[USR1], sigsetsize=8}`.
pub fn pselect6(a: &mut Args, v: &[u64; 6]) {
    a.int(v[0]);
    fd_sets(a, v);
    a.input(4, format::timespec);
    let st = a.captured(5);
    let set = a.captured_at(Key::Pointee(5));
    let out = a.arg();
    match st {
        Some((data, _)) if v[5] != 0 => {
            let (ss, len) = (format::word(data, 0), format::word(data, 8));
            out.push_str("{sigmask=");
            match set {
                Some((set, _)) if ss != 0 && len == SIGSET_SIZE => sigset(out, set),
                _ => format::ptr(out, ss),
            }
            let _ = write!(out, ", sigsetsize={len}}}");
        }
        _ => format::ptr(out, v[5]),
    }
}

pub const PSELECT6_CAPS: &[Cap] = &[
    Cap::FdSet(1),
    Cap::FdSet(2),
    Cap::FdSet(3),
    Cap::Fixed { arg: 4, len: 16 },
    Cap::Fixed { arg: 5, len: 16 },
    Cap::Indirect { arg: 5, len: SIGSET_SIZE as u16 },
];

pub static EPOLL_CREATE_FLAGS: Table = x![EPOLL_CLOEXEC];
pub static EPOLL_CTL_OPS: Table = x![EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD];

pub fn epoll_create1(a: &mut Args, v: &[u64; 6]) {
    a.flags(EPOLL_CREATE_FLAGS, v[0] as u32 as u64, "0");
}

pub static EPOLL_EVENTS: Table = x![
    EPOLLIN,
    EPOLLPRI,
    EPOLLOUT,
    EPOLLERR,
    EPOLLHUP,
    EPOLLNVAL = 0x20,
    EPOLLRDNORM,
    EPOLLRDBAND,
    EPOLLWRNORM,
    EPOLLWRBAND,
    EPOLLMSG,
    EPOLLRDHUP,
    EPOLLURING_WAKE = 1u32 << 27,
    EPOLLEXCLUSIVE,
    EPOLLWAKEUP,
    EPOLLONESHOT,
    EPOLLET,
];

/// A `struct epoll_event` (packed: events, then the 64-bit data):
/// `{events=EPOLLIN, data={u32=7, u64=7}}`.
pub fn epoll_event(out: &mut String, e: &[u8]) {
    out.push_str("{events=");
    xlat::flags(out, EPOLL_EVENTS, u64::from(format::word32(e, 0)), "0");
    let data = u64::from_ne_bytes(e[4..12].try_into().expect("8 bytes"));
    let _ = write!(out, ", data={{u32={}, u64={data}}}}}", data as u32);
}

/// epoll_ctl(epfd, op, fd, event).
pub fn epoll_ctl(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.constant(EPOLL_CTL_OPS, v[1] as u32 as u64, "EPOLL_CTL_");
    a.int(v[2]);
    a.input(3, epoll_event);
}

/// epoll_wait(epfd, events, maxevents, timeout), epoll_pwait(..., sigmask, sigsetsize).
pub fn epoll_wait(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.ptr(v[1]);
    a.int(v[2]);
    a.int(v[3]);
}

pub fn epoll_pwait(a: &mut Args, v: &[u64; 6]) {
    epoll_wait(a, v);
    sigmask(a, 4, v[5]);
    a.udec(v[5]);
}

pub static EFD_FLAGS: Table = x![EFD_SEMAPHORE, EFD_CLOEXEC, EFD_NONBLOCK];

/// eventfd2(initval, flags).
pub fn eventfd2(a: &mut Args, v: &[u64; 6]) {
    a.uint(v[0]);
    a.flags(EFD_FLAGS, v[1] as u32 as u64, "0");
}

pub static TFD_FLAGS: Table = x![TFD_CLOEXEC, TFD_NONBLOCK];

/// timerfd_create(clockid, flags).
pub fn timerfd_create(a: &mut Args, v: &[u64; 6]) {
    a.constant(super::process::CLOCKS, v[0] as u32 as u64, "CLOCK_");
    a.flags(TFD_FLAGS, v[1] as u32 as u64, "0");
}

pub static TFD_SETTIME_FLAGS: Table = x![TFD_TIMER_ABSTIME = 1, TFD_TIMER_CANCEL_ON_SET = 2];

/// timerfd_settime(fd, flags, new_value, old_value): the old value is an output.
pub fn timerfd_settime(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.flags(TFD_SETTIME_FLAGS, v[1] as u32 as u64, "0");
    a.input(2, format::itimerspec);
    a.ptr(v[3]);
}

/// (fd, int): inotify_rm_watch(fd, wd).
pub fn fd_int(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.int(v[1]);
}

pub static IN_INIT_FLAGS: Table = x![IN_NONBLOCK, IN_CLOEXEC];

pub fn inotify_init1(a: &mut Args, v: &[u64; 6]) {
    a.flags(IN_INIT_FLAGS, v[0] as u32 as u64, "0");
}
