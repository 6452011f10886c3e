//! Constant and flag tables (strace's `xlat`), and the one function that prints them.
//!
//! A flag table lists `(value, name)` in the order strace prints them; multi-bit values come
//! before the single bits they contain. Bits no entry explains are printed in hex at the end, so
//! nothing the program passed is hidden.

use std::fmt::Write;

pub type Table = &'static [(u64, &'static str)];

/// A table from `libc` constants: `x![PROT_READ, PROT_WRITE]` is
/// `&[(libc::PROT_READ as u64, "PROT_READ"), ...]`. Values libc lacks are written
/// `NAME = value` beside them.
macro_rules! x {
    ($($name:ident $(= $v:expr)?),* $(,)?) => {
        &[$(($crate::decode::xlat::x!(@v $name $(= $v)?), stringify!($name))),*]
    };
    (@v $name:ident = $v:expr) => { $v as u64 };
    (@v $name:ident) => { libc::$name as u32 as u64 };
}
pub(crate) use x;

/// Prints `value` as `A|B|0x40`; `0` prints as `zero` (e.g. "0").
pub fn flags(out: &mut String, table: Table, value: u64, zero: &str) {
    if value == 0 {
        out.push_str(zero);
        return;
    }
    let mut rest = value;
    let mut first = true;
    for &(bits, name) in table {
        if bits != 0 && rest & bits == bits {
            if !first {
                out.push('|');
            }
            out.push_str(name);
            rest &= !bits;
            first = false;
        }
    }
    if rest != 0 {
        if !first {
            out.push('|');
        }
        let _ = write!(out, "{rest:#x}");
    }
}

/// Prints a constant by name, or as a number (with a comment, as strace does) when unknown.
pub fn constant(out: &mut String, table: Table, value: u64, unknown_prefix: &str) {
    match lookup(table, value) {
        Some(name) => out.push_str(name),
        None => {
            let _ = write!(out, "{value:#x} /* {unknown_prefix}??? */");
        }
    }
}

pub fn lookup(table: Table, value: u64) -> Option<&'static str> {
    table.iter().find(|&&(v, _)| v == value).map(|&(_, n)| n)
}

pub const O_ACCMODE: u64 = libc::O_ACCMODE as u64;
pub const O_CREAT: u64 = libc::O_CREAT as u64;
pub const O_TMPFILE: u64 = libc::O_TMPFILE as u64;

pub static OPEN_ACCESS: Table = x![O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE];

/// In strace's order: O_TMPFILE (which includes O_DIRECTORY's bit) before O_DIRECTORY.
pub static OPEN_FLAGS: Table = x![
    O_CREAT,
    O_EXCL,
    O_NOCTTY,
    O_TRUNC,
    O_APPEND,
    O_NONBLOCK,
    O_SYNC,
    O_DSYNC,
    O_ASYNC,
    O_DIRECT,
    // libc's O_LARGEFILE is 0 on x86_64 (implied); the kernel's bit is this one.
    O_LARGEFILE = 0o100000,
    O_NOFOLLOW,
    O_NOATIME,
    O_CLOEXEC,
    O_PATH,
    O_TMPFILE,
    O_DIRECTORY,
];

/// `O_RDONLY|O_CLOEXEC`: the access mode, then the other flags.
pub fn open_modes(out: &mut String, flags: u64) {
    constant(out, OPEN_ACCESS, flags & O_ACCMODE, "O_");
    if flags & !O_ACCMODE != 0 {
        out.push('|');
        self::flags(out, OPEN_FLAGS, flags & !O_ACCMODE, "0");
    }
}

pub static MSG_FLAGS: Table = &[
    (0x1, "MSG_OOB"),
    (0x2, "MSG_PEEK"),
    (0x4, "MSG_DONTROUTE"),
    (0x8, "MSG_CTRUNC"),
    (0x10, "MSG_PROBE"),
    (0x20, "MSG_TRUNC"),
    (0x40, "MSG_DONTWAIT"),
    (0x80, "MSG_EOR"),
    (0x100, "MSG_WAITALL"),
    (0x200, "MSG_FIN"),
    (0x400, "MSG_SYN"),
    (0x800, "MSG_CONFIRM"),
    (0x1000, "MSG_RST"),
    (0x2000, "MSG_ERRQUEUE"),
    (0x4000, "MSG_NOSIGNAL"),
    (0x8000, "MSG_MORE"),
    (0x10000, "MSG_WAITFORONE"),
    (0x40000, "MSG_BATCH"),
    (0x4000000, "MSG_ZEROCOPY"),
    (0x20000000, "MSG_FASTOPEN"),
    (0x40000000, "MSG_CMSG_CLOEXEC"),
];

pub static SOCK_TYPES: Table = &[
    (1, "SOCK_STREAM"),
    (2, "SOCK_DGRAM"),
    (3, "SOCK_RAW"),
    (4, "SOCK_RDM"),
    (5, "SOCK_SEQPACKET"),
    (6, "SOCK_DCCP"),
    (10, "SOCK_PACKET"),
];

pub static SOCK_FLAGS: Table = &[(0o2000000, "SOCK_CLOEXEC"), (0o4000, "SOCK_NONBLOCK")];

pub const AF_UNIX: u16 = 1;
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

pub static ADDRESS_FAMILIES: Table = &[
    (0, "AF_UNSPEC"),
    (1, "AF_UNIX"),
    (2, "AF_INET"),
    (3, "AF_AX25"),
    (4, "AF_IPX"),
    (5, "AF_APPLETALK"),
    (9, "AF_X25"),
    (10, "AF_INET6"),
    (16, "AF_NETLINK"),
    (17, "AF_PACKET"),
    (38, "AF_ALG"),
    (40, "AF_VSOCK"),
    (44, "AF_XDP"),
];

pub static IPPROTOS: Table = &[
    (0, "IPPROTO_IP"),
    (1, "IPPROTO_ICMP"),
    (6, "IPPROTO_TCP"),
    (17, "IPPROTO_UDP"),
    (41, "IPPROTO_IPV6"),
    (58, "IPPROTO_ICMPV6"),
    (132, "IPPROTO_SCTP"),
    (136, "IPPROTO_UDPLITE"),
    (262, "IPPROTO_MPTCP"),
];

pub const FUTEX_PRIVATE_FLAG: u64 = 128;
pub const FUTEX_CLOCK_REALTIME: u64 = 256;
pub const FUTEX_CMD_MASK: u64 = !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

pub const FUTEX_WAIT: u64 = 0;
pub const FUTEX_WAKE: u64 = 1;
pub const FUTEX_FD: u64 = 2;
pub const FUTEX_REQUEUE: u64 = 3;
pub const FUTEX_CMP_REQUEUE: u64 = 4;
pub const FUTEX_WAKE_OP: u64 = 5;
pub const FUTEX_LOCK_PI: u64 = 6;
pub const FUTEX_UNLOCK_PI: u64 = 7;
pub const FUTEX_TRYLOCK_PI: u64 = 8;
pub const FUTEX_WAIT_BITSET: u64 = 9;
pub const FUTEX_WAKE_BITSET: u64 = 10;
pub const FUTEX_WAIT_REQUEUE_PI: u64 = 11;
pub const FUTEX_CMP_REQUEUE_PI: u64 = 12;
pub const FUTEX_LOCK_PI2: u64 = 13;

pub static FUTEX_CMDS: Table = &[
    (FUTEX_WAIT, "FUTEX_WAIT"),
    (FUTEX_WAKE, "FUTEX_WAKE"),
    (FUTEX_FD, "FUTEX_FD"),
    (FUTEX_REQUEUE, "FUTEX_REQUEUE"),
    (FUTEX_CMP_REQUEUE, "FUTEX_CMP_REQUEUE"),
    (FUTEX_WAKE_OP, "FUTEX_WAKE_OP"),
    (FUTEX_LOCK_PI, "FUTEX_LOCK_PI"),
    (FUTEX_UNLOCK_PI, "FUTEX_UNLOCK_PI"),
    (FUTEX_TRYLOCK_PI, "FUTEX_TRYLOCK_PI"),
    (FUTEX_WAIT_BITSET, "FUTEX_WAIT_BITSET"),
    (FUTEX_WAKE_BITSET, "FUTEX_WAKE_BITSET"),
    (FUTEX_WAIT_REQUEUE_PI, "FUTEX_WAIT_REQUEUE_PI"),
    (FUTEX_CMP_REQUEUE_PI, "FUTEX_CMP_REQUEUE_PI"),
    (FUTEX_LOCK_PI2, "FUTEX_LOCK_PI2"),
];

/// `FUTEX_WAIT_PRIVATE`, `FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`, as strace spells them.
pub fn futex_op(out: &mut String, op: u64) {
    let cmd = op & FUTEX_CMD_MASK;
    match lookup(FUTEX_CMDS, cmd) {
        Some(name) => {
            out.push_str(name);
            if op & FUTEX_PRIVATE_FLAG != 0 {
                out.push_str("_PRIVATE");
            }
        }
        None => {
            let _ = write!(out, "{:#x} /* FUTEX_??? */", op & !FUTEX_CLOCK_REALTIME);
        }
    }
    if op & FUTEX_CLOCK_REALTIME != 0 {
        out.push_str("|FUTEX_CLOCK_REALTIME");
    }
}

static WAKE_OPS: Table =
    &[(0, "FUTEX_OP_SET"), (1, "FUTEX_OP_ADD"), (2, "FUTEX_OP_OR"), (3, "FUTEX_OP_ANDN"), (4, "FUTEX_OP_XOR")];
static WAKE_CMPS: Table = &[
    (0, "FUTEX_OP_CMP_EQ"),
    (1, "FUTEX_OP_CMP_NE"),
    (2, "FUTEX_OP_CMP_LT"),
    (3, "FUTEX_OP_CMP_LE"),
    (4, "FUTEX_OP_CMP_GT"),
    (5, "FUTEX_OP_CMP_GE"),
];

/// The encoded operation of FUTEX_WAKE_OP: `{FUTEX_OP_SET, 0, FUTEX_OP_CMP_GT, 1}`.
pub fn futex_wake_op(out: &mut String, v: u64) {
    let v = v as u32;
    let op = (v >> 28) & 7;
    let shift = v & (8 << 28) != 0;
    let cmp = (v >> 24) & 15;
    let oparg = (v >> 12) & 0xfff;
    let cmparg = v & 0xfff;
    out.push('{');
    if shift {
        out.push_str("FUTEX_OP_OPARG_SHIFT<<28|");
    }
    constant(out, WAKE_OPS, u64::from(op), "FUTEX_OP_");
    let _ = write!(out, ", {oparg}, ");
    constant(out, WAKE_CMPS, u64::from(cmp), "FUTEX_OP_CMP_");
    let _ = write!(out, ", {cmparg}}}");
}

pub const AT_FDCWD: i32 = -100;

pub static AT_FLAGS: Table = &[
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x200, "AT_REMOVEDIR"),
    (0x400, "AT_SYMLINK_FOLLOW"),
    (0x800, "AT_NO_AUTOMOUNT"),
    (0x1000, "AT_EMPTY_PATH"),
    (0x8000, "AT_RECURSIVE"),
];

/// Signal names by number, for exit statuses and `kill`.
pub static SIGNALS: Table = &[
    (1, "SIGHUP"),
    (2, "SIGINT"),
    (3, "SIGQUIT"),
    (4, "SIGILL"),
    (5, "SIGTRAP"),
    (6, "SIGABRT"),
    (7, "SIGBUS"),
    (8, "SIGFPE"),
    (9, "SIGKILL"),
    (10, "SIGUSR1"),
    (11, "SIGSEGV"),
    (12, "SIGUSR2"),
    (13, "SIGPIPE"),
    (14, "SIGALRM"),
    (15, "SIGTERM"),
    (16, "SIGSTKFLT"),
    (17, "SIGCHLD"),
    (18, "SIGCONT"),
    (19, "SIGSTOP"),
    (20, "SIGTSTP"),
    (21, "SIGTTIN"),
    (22, "SIGTTOU"),
    (23, "SIGURG"),
    (24, "SIGXCPU"),
    (25, "SIGXFSZ"),
    (26, "SIGVTALRM"),
    (27, "SIGPROF"),
    (28, "SIGWINCH"),
    (29, "SIGIO"),
    (30, "SIGPWR"),
    (31, "SIGSYS"),
];

/// `SIGINT`, or `SIGRTMIN`, `SIGRT_2` (34) for the real-time ones, as strace names them.
pub fn signal_name(sig: i32) -> String {
    let mut s = String::new();
    super::signal::signal(&mut s, sig);
    s
}

/// errno names, 1..=133 on x86_64, for `-1 EAGAIN (Resource temporarily unavailable)`.
pub static ERRNOS: &[&str] = &[
    "",
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EINTR",
    "EIO",
    "ENXIO",
    "E2BIG",
    "ENOEXEC",
    "EBADF",
    "ECHILD",
    "EAGAIN",
    "ENOMEM",
    "EACCES",
    "EFAULT",
    "ENOTBLK",
    "EBUSY",
    "EEXIST",
    "EXDEV",
    "ENODEV",
    "ENOTDIR",
    "EISDIR",
    "EINVAL",
    "ENFILE",
    "EMFILE",
    "ENOTTY",
    "ETXTBSY",
    "EFBIG",
    "ENOSPC",
    "ESPIPE",
    "EROFS",
    "EMLINK",
    "EPIPE",
    "EDOM",
    "ERANGE",
    "EDEADLK",
    "ENAMETOOLONG",
    "ENOLCK",
    "ENOSYS",
    "ENOTEMPTY",
    "ELOOP",
    "",
    "ENOMSG",
    "EIDRM",
    "ECHRNG",
    "EL2NSYNC",
    "EL3HLT",
    "EL3RST",
    "ELNRNG",
    "EUNATCH",
    "ENOCSI",
    "EL2HLT",
    "EBADE",
    "EBADR",
    "EXFULL",
    "ENOANO",
    "EBADRQC",
    "EBADSLT",
    "",
    "EBFONT",
    "ENOSTR",
    "ENODATA",
    "ETIME",
    "ENOSR",
    "ENONET",
    "ENOPKG",
    "EREMOTE",
    "ENOLINK",
    "EADV",
    "ESRMNT",
    "ECOMM",
    "EPROTO",
    "EMULTIHOP",
    "EDOTDOT",
    "EBADMSG",
    "EOVERFLOW",
    "ENOTUNIQ",
    "EBADFD",
    "EREMCHG",
    "ELIBACC",
    "ELIBBAD",
    "ELIBSCN",
    "ELIBMAX",
    "ELIBEXEC",
    "EILSEQ",
    "ERESTART",
    "ESTRPIPE",
    "EUSERS",
    "ENOTSOCK",
    "EDESTADDRREQ",
    "EMSGSIZE",
    "EPROTOTYPE",
    "ENOPROTOOPT",
    "EPROTONOSUPPORT",
    "ESOCKTNOSUPPORT",
    "EOPNOTSUPP",
    "EPFNOSUPPORT",
    "EAFNOSUPPORT",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "ENETDOWN",
    "ENETUNREACH",
    "ENETRESET",
    "ECONNABORTED",
    "ECONNRESET",
    "ENOBUFS",
    "EISCONN",
    "ENOTCONN",
    "ESHUTDOWN",
    "ETOOMANYREFS",
    "ETIMEDOUT",
    "ECONNREFUSED",
    "EHOSTDOWN",
    "EHOSTUNREACH",
    "EALREADY",
    "EINPROGRESS",
    "ESTALE",
    "EUCLEAN",
    "ENOTNAM",
    "ENAVAIL",
    "EISNAM",
    "EREMOTEIO",
    "EDQUOT",
    "ENOMEDIUM",
    "EMEDIUMTYPE",
    "ECANCELED",
    "ENOKEY",
    "EKEYEXPIRED",
    "EKEYREVOKED",
    "EKEYREJECTED",
    "EOWNERDEAD",
    "ENOTRECOVERABLE",
    "ERFKILL",
    "EHWPOISON",
];

/// Aliases users may type (strace accepts them too).
pub static ERRNO_ALIASES: &[(&str, i32)] = &[("EWOULDBLOCK", 11), ("EDEADLOCK", 35), ("ENOTSUP", 95)];

/// The kernel's internal restart codes, which a target can see only through a seccomp answer.
pub static ERRNO_INTERNAL: &[(i32, &str)] = &[
    (512, "ERESTARTSYS"),
    (513, "ERESTARTNOINTR"),
    (514, "ERESTARTNOHAND"),
    (515, "ENOIOCTLCMD"),
    (516, "ERESTART_RESTARTBLOCK"),
];

pub fn errno_name(e: i32) -> Option<&'static str> {
    usize::try_from(e)
        .ok()
        .and_then(|i| ERRNOS.get(i))
        .copied()
        .filter(|n| !n.is_empty())
        .or_else(|| ERRNO_INTERNAL.iter().find(|(n, _)| *n == e).map(|(_, s)| *s))
}

pub fn errno_by_name(name: &str) -> Option<i32> {
    ERRNOS
        .iter()
        .position(|n| !n.is_empty() && *n == name)
        .map(|i| i as i32)
        .or_else(|| ERRNO_ALIASES.iter().find(|(n, _)| *n == name).map(|&(_, e)| e))
        .or_else(|| ERRNO_INTERNAL.iter().find(|(_, n)| *n == name).map(|&(e, _)| e))
}
