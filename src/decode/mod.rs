//! Syscall knowledge: the table (names, classes), argument capture and formatting.
//!
//! Decoding happens in two halves, as in strace's entering/exiting split:
//! - [`capture`] runs in the supervisor while the thread is parked, and copies out of the target
//!   whatever the log will need (a path, a sockaddr, the first `-s` bytes of a write buffer);
//!   when the supervisor executes the call, it adds what the call filled in (a read's data, an
//!   accept's peer, a stat struct);
//! - [`format`] runs on the output thread and turns numbers plus captured values into text.
//!
//! Both halves speak of values by argument: what is copied at entry and what the executor fills
//! in at exit are [`capture::Captures`], typed values ([`capture::Value`]: bytes, an iovec with
//! its buffers, a sockaddr with its lengths before and after...) keyed by the argument they
//! belong to ([`capture::Key`]); a printer asks for "argument 1's value" or "argument 1's
//! output", never for the next one in a sequence.
//!
//! Each row of the syscall [`table`] names its decoder ([`Dec`]): the function of its family
//! module that prints it ([`mem`], [`desc`], [`file`], [`net`], [`signal`], [`process`], as strace
//! splits `mem.c`, `desc.c`, `file.c`, `net.c`, `signal.c`...), and the shape ([`Decoder`]) that
//! says what the supervisor captures at entry (the path of `Path` and `AtPath`, write's buffer,
//! connect's address, each under its argument's index) and whether it can execute the call.
//! Shapes without a printing function (the transfers, execve, futex) are printed by [`format`]
//! itself. Inputs the shape does not cover (rename's second path, an xattr name, a signal set, a
//! socket option's value) are the row's extra captures ([`Cap`]), each naming its argument.

pub mod capture;
pub mod class;
pub mod desc;
pub mod file;
pub mod format;
pub mod mem;
pub mod net;
pub mod process;
pub mod signal;
pub mod table;
pub mod xlat;

use std::collections::HashMap;
use std::sync::OnceLock;

pub use class::Class;
pub use table::Row;

/// `AUDIT_ARCH_X86_64`.
pub const ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_I386`: `int $0x80` from any process, with i386 numbers.
pub const ARCH_I386: u32 = 0x4000_0003;
/// x32 calls arrive with `ARCH_X86_64` and this bit set in the number.
pub const X32_SYSCALL_BIT: i32 = 0x4000_0000;

/// Highest native syscall number we know, plus one; sets and arrays are sized by it.
pub const NR_LIMIT: usize = 512;

/// How a syscall's arguments are decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoder {
    /// Every argument in hex, as strace prints syscalls it does not decode.
    Generic,
    /// A single file descriptor (close, fsync, ...).
    Fd,
    /// read(fd, buf, count): the buffer is an output, shown as a pointer at entry.
    Read,
    Pread,
    /// write(fd, buf, count): the buffer's first `-s` bytes are shown.
    Write,
    Pwrite,
    Readv,
    Preadv,
    Writev,
    Pwritev,
    Recvfrom,
    Sendto,
    Recvmsg,
    Sendmsg,
    /// connect/bind(fd, sockaddr, len).
    SockaddrIn,
    /// accept(fd, addr, addrlen): outputs only at entry.
    Accept,
    Accept4,
    Socket,
    Futex,
    Open,
    Openat,
    Execve,
    Execveat,
    /// chdir(path), unlink(path), rmdir(path)...: a path, and nothing else.
    Path,
    /// mkdir(path, mode), chmod(path, mode), creat(path, mode): a path and an octal mode.
    PathMode,
    /// access(path, mode): F_OK or R_OK|W_OK|X_OK.
    Access,
    /// stat(path, buf), lstat, readlink, truncate...: a path, then the rest in hex.
    PathRest,
    /// The *at calls: a directory descriptor, a path, then the rest in hex.
    AtPath,
}

/// Prints a call's arguments, one [`format::Args`] method per argument.
pub type Print = fn(&mut format::Args<'_, '_>, &[u64; 6]);

/// A syscall's decoder: what is captured at entry (and executed), and how it prints.
#[derive(Clone, Copy, Debug)]
pub struct Dec {
    pub shape: Decoder,
    /// `None`: [`format`] prints the shape.
    pub print: Option<Print>,
    /// Inputs captured at entry besides the shape's (a second path, an xattr name, a signal
    /// set...), one value each, under the key [`Cap::key`] gives.
    pub extra: &'static [Cap],
    /// How a successful result prints.
    pub ret: Ret,
}

impl Dec {
    /// This decoder, with inputs captured after the shape's.
    pub const fn with(self, extra: &'static [Cap]) -> Self {
        Self { extra, ..self }
    }

    /// This decoder, with its result printed as `ret` says.
    pub const fn ret(self, ret: Ret) -> Self {
        Self { ret, ..self }
    }
}

/// An input argument copied at entry besides the shape's: always exactly one value, under the
/// key [`Cap::key`] says (a [`capture::Value::Fault`] when it is NULL or unreadable). `arg` is
/// the argument's index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    /// A NUL-terminated string cut at `-s` bytes, as strace's `printstr` (an xattr name).
    Str(u8),
    /// A path, whole (up to `PATH_MAX`), as strace's `printpath` (rename's target).
    Path(u8),
    /// A struct of `len` bytes (a `sigset_t`, a `struct sigaction`, a `stack_t`).
    Fixed { arg: u8, len: u16 },
    /// A buffer whose length is argument `len_arg`: its first `-s` bytes, and at least the
    /// first 8 so that an `int` or a small struct can be decoded (setsockopt's value).
    Sized { arg: u8, len_arg: u8 },
    /// An array of argument `count_arg` elements of `elem` bytes, at most `-s` of them (poll's
    /// `struct pollfd`s); not whole when there are more.
    Array { arg: u8, count_arg: u8, elem: u8 },
    /// An `fd_set` of as many bits as argument 0 says (select's nfds), in whole longs.
    FdSet(u8),
    /// `len` bytes at the pointer that starts the struct argument `arg` points to (the signal
    /// set of pselect6's `{sigmask, sigsetsize}`).
    Indirect { arg: u8, len: u16 },
    /// The signal mask rt_sigreturn restores: the `uc_sigmask` of the frame at the stack
    /// pointer (read from `/proc/TID/syscall`, as seccomp does not report it).
    SigframeMask,
}

impl Cap {
    /// Where the printer finds this capture's value.
    pub const fn key(self) -> capture::Key {
        use capture::Key;
        match self {
            Cap::Str(i)
            | Cap::Path(i)
            | Cap::Fixed { arg: i, .. }
            | Cap::Sized { arg: i, .. }
            | Cap::Array { arg: i, .. }
            | Cap::FdSet(i) => Key::Arg(i),
            Cap::Indirect { arg, .. } => Key::Pointee(arg),
            Cap::SigframeMask => Key::Sigframe,
        }
    }
}

/// How a successful result is printed (failures are `-1 ERRNO (text)` for all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// Signed decimal.
    Int,
    /// An address, in hex (brk, mmap).
    Hex,
    /// Octal, as a file mode: umask's `022`.
    Octal,
    /// `0 (Timeout)` when nothing was ready (poll, select).
    Timeout,
    /// As the fcntl command (argument 1) says: `0x8002 (flags O_RDWR|O_LARGEFILE)` for F_GETFL,
    /// `0x1 (flags FD_CLOEXEC)` for F_GETFD, `0x2 (F_UNLCK)` for F_GETLEASE, `10 (SIGUSR1)` for
    /// F_GETSIG, `0x6 (seals ...)` for F_GET_SEALS ([`desc::fcntl_result`]).
    Fcntl,
    /// A signal number, named: rt_sigtimedwait's `10 (SIGUSR1)`.
    Signal,
}

/// A syscall as the rest of the program sees it.
#[derive(Debug)]
pub struct Syscall {
    pub row: &'static Row,
    pub decoder: Decoder,
}

impl Syscall {
    pub fn nr(&self) -> u32 {
        self.row.nr
    }
    pub fn name(&self) -> &'static str {
        self.row.name
    }
}

/// The native (x86_64) syscall registry.
pub struct Registry {
    by_nr: Vec<Option<Syscall>>,
    by_name: HashMap<&'static str, u32>,
}

impl Registry {
    fn build() -> Self {
        let mut by_nr: Vec<Option<Syscall>> = (0..NR_LIMIT).map(|_| None).collect();
        let mut by_name = HashMap::new();
        for row in table::X86_64 {
            by_nr[row.nr as usize] = Some(Syscall { row, decoder: row.dec.shape });
            by_name.insert(row.name, row.nr);
        }
        Self { by_nr, by_name }
    }

    pub fn get(&self, nr: i64) -> Option<&Syscall> {
        usize::try_from(nr).ok().and_then(|n| self.by_nr.get(n)).and_then(Option::as_ref)
    }

    pub fn by_name(&self, name: &str) -> Option<&Syscall> {
        self.by_name.get(name).and_then(|&nr| self.get(i64::from(nr)))
    }

    pub fn all(&self) -> impl Iterator<Item = &Syscall> {
        self.by_nr.iter().flatten()
    }

    /// The known name closest to `name`, for "did you mean" hints.
    pub fn suggest(&self, name: &str) -> Option<&'static str> {
        let mut best: Option<(f64, &'static str)> = None;
        for row in table::X86_64 {
            let score = strsim::jaro_winkler(name, row.name);
            if score > 0.85 && best.is_none_or(|(s, _)| score > s) {
                best = Some((score, row.name));
            }
        }
        best.map(|(_, n)| n)
    }
}

/// The process-wide registry, built on first use.
pub fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(Registry::build)
}

/// The name of native syscall `nr`, or `syscall_0x..` for a number the table lacks.
pub fn syscall_name(nr: u32) -> String {
    registry().get(i64::from(nr)).map_or_else(|| format!("syscall_{nr:#x}"), |s| s.name().to_string())
}

/// Name of a syscall of a foreign architecture (i386 via `int $0x80`, x32), via libseccomp.
pub fn foreign_name(arch: u32, nr: i32) -> String {
    let arch_name = match arch {
        ARCH_I386 => "i386",
        ARCH_X86_64 if nr & X32_SYSCALL_BIT != 0 => "x32",
        _ => "arch",
    };
    let scmp_arch = match arch {
        ARCH_I386 => Some(libseccomp::ScmpArch::X86),
        ARCH_X86_64 => Some(libseccomp::ScmpArch::X32),
        _ => None,
    };
    let name = scmp_arch.and_then(|a| libseccomp::ScmpSyscall::from(nr).get_name_by_arch(a).ok());
    match name {
        Some(n) => format!("{arch_name}:{n}"),
        None => format!("{arch_name}:syscall_{nr:#x}"),
    }
}
