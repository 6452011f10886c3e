//! The exiting half of decoding: numbers and captured bytes to strace-style text.
//!
//! Pure functions over values; nothing here touches the kernel or the target. A printer states per
//! argument what it prints ([`Args`]): a number from the register, or argument `i`'s value as
//! [`super::capture`] copied it at entry (`a.path(1)`, `a.input(2, timespec)`) or as the executor
//! filled it in (`a.out_buffer(1)`, `a.out_struct(2, stat_struct)`), looked up by the argument's
//! index; what is absent prints as the argument's address.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::capture::{Captures, Key, Value};
use super::xlat::{self, Table};
use super::{Decoder, Syscall};

/// Formatting options, from the command line.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// `-s`: bytes of a string or buffer, and elements of an array.
    pub strsize: usize,
}

/// Whether a futex op's fourth argument is a timeout pointer (rather than an integer).
pub fn futex_has_timeout(op: u64) -> bool {
    matches!(
        op & xlat::FUTEX_CMD_MASK,
        xlat::FUTEX_WAIT
            | xlat::FUTEX_LOCK_PI
            | xlat::FUTEX_LOCK_PI2
            | xlat::FUTEX_WAIT_BITSET
            | xlat::FUTEX_WAIT_REQUEUE_PI
    )
}

/// Writes `name(args...)` for a native syscall and returns where each argument's text is in
/// `out`. `entry` holds what was captured at entry; `exit` the output arguments of a call that
/// completed successfully in the supervisor (what a read returned, an accept's peer): output
/// arguments are shown from it, or as bare addresses when it is absent. `fd_desc` (`-y`)
/// decorates the first descriptor: `read(3</etc/hosts>, ...)`.
pub fn call(
    out: &mut String,
    sc: &Syscall,
    args: &[u64; 6],
    entry: &Captures,
    exit: Option<&Captures>,
    fd_desc: Option<&str>,
    opts: Options,
) -> Vec<std::ops::Range<usize>> {
    out.push_str(sc.name());
    out.push('(');
    let mut a = Args::new(out, args, entry, exit.unwrap_or(&NOTHING), opts, fd_desc);
    match sc.row.dec.print {
        Some(print) => print(&mut a, args),
        None => shape(&mut a, sc, args),
    }
    let starts = std::mem::take(&mut a.starts);
    let end = out.len();
    out.push(')');
    spans(&starts, end)
}

/// The shapes without a family printer.
fn shape(a: &mut Args, sc: &Syscall, args: &[u64; 6]) {
    use Decoder::*;
    match sc.decoder {
        Generic => {
            for &v in &args[..usize::from(sc.row.nargs)] {
                a.hex(v);
            }
        }
        Fd => a.fd(args[0]),
        Read => {
            a.fd(args[0]);
            a.out_buffer(1);
            a.udec(args[2]);
        }
        Pread => {
            a.fd(args[0]);
            a.out_buffer(1);
            a.udec(args[2]);
            a.sdec(args[3]);
        }
        Write => {
            a.fd(args[0]);
            a.buffer(1);
            a.udec(args[2]);
        }
        Pwrite => {
            a.fd(args[0]);
            a.buffer(1);
            a.udec(args[2]);
            a.sdec(args[3]);
        }
        Readv => {
            a.fd(args[0]);
            a.out_iovec(1);
            a.udec(args[2]);
        }
        Preadv => {
            a.fd(args[0]);
            a.ptr(args[1]);
            a.udec(args[2]);
            a.sdec(args[3]);
        }
        Writev | Pwritev => {
            a.fd(args[0]);
            a.iovec(1);
            a.udec(args[2]);
            if sc.decoder == Pwritev {
                a.sdec(args[3]);
            }
        }
        Recvfrom => {
            a.fd(args[0]);
            a.out_buffer(1);
            a.udec(args[2]);
            a.flags(xlat::MSG_FLAGS, args[3] as u32 as u64, "0");
            a.out_sockaddr(4);
            a.out_socklen(5, 4);
        }
        Sendto => {
            a.fd(args[0]);
            a.buffer(1);
            a.udec(args[2]);
            a.flags(xlat::MSG_FLAGS, args[3] as u32 as u64, "0");
            a.sockaddr(4, args[5]);
            a.udec(args[5] as u32 as u64);
        }
        Recvmsg => {
            a.fd(args[0]);
            a.out_msghdr(1);
            a.flags(xlat::MSG_FLAGS, args[2] as u32 as u64, "0");
        }
        Sendmsg => {
            a.fd(args[0]);
            a.msghdr(1);
            a.flags(xlat::MSG_FLAGS, args[2] as u32 as u64, "0");
        }
        SockaddrIn => {
            a.fd(args[0]);
            a.sockaddr(1, args[2]);
            a.udec(args[2] as u32 as u64);
        }
        Accept | Accept4 => {
            a.fd(args[0]);
            a.out_sockaddr(1);
            a.out_socklen(2, 1);
            if sc.decoder == Accept4 {
                a.flags(xlat::SOCK_FLAGS, args[3] as u32 as u64, "0");
            }
        }
        Socket => {
            let family = args[0] as u32 as u64;
            a.constant(xlat::ADDRESS_FAMILIES, family, "AF_");
            a.sep();
            let ty = args[1] as u32 as u64;
            xlat::constant(a.out, xlat::SOCK_TYPES, ty & 0xf, "SOCK_");
            if ty & !0xf != 0 {
                a.out.push('|');
                xlat::flags(a.out, xlat::SOCK_FLAGS, ty & !0xf, "0");
            }
            if family == u64::from(xlat::AF_INET) || family == u64::from(xlat::AF_INET6) {
                a.constant(xlat::IPPROTOS, args[2] as u32 as u64, "IPPROTO_");
            } else {
                a.sdec(args[2]);
            }
        }
        Futex => a.futex(args),
        Open => {
            a.path(0);
            a.open_flags(args[1], args[2]);
        }
        Openat => {
            a.dirfd(args[0]);
            a.path(1);
            a.open_flags(args[2], args[3]);
        }
        Execve => {
            a.path(0);
            a.argv(1);
            a.envp(2);
        }
        Path => a.path(0),
        PathMode => {
            a.path(0);
            a.mode(args[1]);
        }
        Access => {
            a.path(0);
            a.access_mode(args[1]);
        }
        PathRest => {
            a.path(0);
            for &v in &args[1..usize::from(sc.row.nargs)] {
                a.hex(v);
            }
        }
        AtPath => {
            a.dirfd(args[0]);
            a.path(1);
            for &v in &args[2..usize::from(sc.row.nargs)] {
                a.hex(v);
            }
        }
        Execveat => {
            a.dirfd(args[0]);
            a.path(1);
            a.argv(2);
            a.envp(3);
            a.flags(xlat::AT_FLAGS, args[4] as u32 as u64, "0");
        }
    }
}

/// `[16]`, or `[128 => 16]` when the call changed the length.
pub fn socklen_pair(out: &mut String, before: u64, after: u64) {
    if before == after {
        let _ = write!(out, "[{after}]");
    } else {
        let _ = write!(out, "[{before} => {after}]");
    }
}

/// Argument spans from their start offsets: each ends where the next one's ", " begins.
fn spans(starts: &[usize], end: usize) -> Vec<std::ops::Range<usize>> {
    let mut v = Vec::with_capacity(starts.len());
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).map_or(end, |&n| n - 2);
        v.push(s..e);
    }
    v
}

/// Nothing captured: for calls printed from their registers alone.
static NOTHING: Captures = Captures::new();

/// `name(0x1, 0x2)` for a syscall known only by number (another ABI, or a number we lack):
/// `nargs` arguments in hex, each cut to `arg_bits` (32 for i386).
pub fn raw_call(
    out: &mut String,
    name: &str,
    args: &[u64; 6],
    nargs: usize,
    arg_bits: u32,
) -> Vec<std::ops::Range<usize>> {
    out.push_str(name);
    out.push('(');
    let mask = if arg_bits >= 64 { u64::MAX } else { (1u64 << arg_bits) - 1 };
    let mut a = Args::new(out, args, &NOTHING, &NOTHING, Options { strsize: 0 }, None);
    for &v in &args[..nargs.min(6)] {
        a.hex(v & mask);
    }
    let starts = std::mem::take(&mut a.starts);
    let end = out.len();
    out.push(')');
    spans(&starts, end)
}

/// The arguments being written: each method writes one argument (with its separator), so a
/// decoder is the list of its arguments' printers, in order. Methods that print an argument from
/// its memory take the argument's index (`a.path(1)`): its address and its captured value are
/// both that argument's, so neither can be another's.
pub struct Args<'a, 'b> {
    out: &'a mut String,
    first: bool,
    /// The call's arguments.
    args: &'b [u64; 6],
    /// What was captured at entry, by argument.
    entry: &'b Captures,
    /// Output arguments of a call that completed in the supervisor, by argument (empty
    /// otherwise).
    exit: &'b Captures,
    opts: Options,
    /// `-y` text for the first descriptor argument, used once.
    fd_desc: Option<&'b str>,
    /// Where each top-level argument starts in `out`.
    starts: Vec<usize>,
    /// The entry keys the printer asked for (tests check that the capture fills them).
    #[cfg(test)]
    asked: Vec<Key>,
}

impl<'a, 'b> Args<'a, 'b> {
    fn new(
        out: &'a mut String,
        args: &'b [u64; 6],
        entry: &'b Captures,
        exit: &'b Captures,
        opts: Options,
        fd_desc: Option<&'b str>,
    ) -> Self {
        Self {
            out,
            first: true,
            args,
            entry,
            exit,
            opts,
            fd_desc,
            starts: Vec::new(),
            #[cfg(test)]
            asked: Vec::new(),
        }
    }
}

/// Arguments by value: numbers, flags, constants.
impl<'b> Args<'_, 'b> {
    pub(super) fn sep(&mut self) {
        if !self.first {
            self.out.push_str(", ");
        }
        self.first = false;
        self.starts.push(self.out.len());
    }

    /// Starts an argument and hands out the line, for a decoder that writes it itself.
    pub(super) fn arg(&mut self) -> &mut String {
        self.sep();
        self.out
    }

    /// A C `int` in decimal (`-1`, `AT_FDCWD` excepted).
    pub(super) fn int(&mut self, v: u64) {
        self.sep();
        let _ = write!(self.out, "{}", v as i32);
    }

    /// A C `unsigned int` in decimal.
    pub(super) fn uint(&mut self, v: u64) {
        self.sep();
        let _ = write!(self.out, "{}", v as u32);
    }

    pub(super) fn hex(&mut self, v: u64) {
        self.sep();
        hex(self.out, v);
    }

    pub(super) fn ptr(&mut self, v: u64) {
        self.sep();
        ptr(self.out, v);
    }

    pub(super) fn fd(&mut self, v: u64) {
        self.sep();
        let _ = write!(self.out, "{}", v as i32);
        if let Some(d) = self.fd_desc.take() {
            let _ = write!(self.out, "<{d}>");
        }
    }

    pub(super) fn dirfd(&mut self, v: u64) {
        self.sep();
        if v as i32 == xlat::AT_FDCWD {
            self.out.push_str("AT_FDCWD");
        } else {
            let _ = write!(self.out, "{}", v as i32);
        }
    }

    pub(super) fn udec(&mut self, v: u64) {
        self.sep();
        let _ = write!(self.out, "{v}");
    }

    pub(super) fn sdec(&mut self, v: u64) {
        self.sep();
        let _ = write!(self.out, "{}", v as i64);
    }

    pub(super) fn flags(&mut self, table: Table, v: u64, zero: &str) {
        self.sep();
        xlat::flags(self.out, table, v, zero);
    }

    pub(super) fn constant(&mut self, table: Table, v: u64, prefix: &str) {
        self.sep();
        xlat::constant(self.out, table, v, prefix);
    }

    pub(super) fn open_flags(&mut self, flags: u64, mode: u64) {
        self.sep();
        let flags = flags as u32 as u64;
        xlat::open_modes(self.out, flags);
        if flags & xlat::O_CREAT != 0 || flags & xlat::O_TMPFILE == xlat::O_TMPFILE {
            self.mode(mode);
        }
    }

    /// A file mode as strace's "%#03o" ([`file_mode`]).
    pub(super) fn mode(&mut self, mode: u64) {
        self.sep();
        file_mode(self.out, mode as u32);
    }

    pub(super) fn access_mode(&mut self, mode: u64) {
        self.sep();
        if mode == 0 {
            self.out.push_str("F_OK");
        } else {
            xlat::flags(self.out, &[(4, "R_OK"), (2, "W_OK"), (1, "X_OK")], mode as u32 as u64, "F_OK");
        }
    }

    /// strace's futex layout: which arguments are shown depends on the command.
    pub(super) fn futex(&mut self, args: &[u64; 6]) {
        let (uaddr, op, val, timeout, uaddr2, val3) = (args[0], args[1], args[2], args[3], args[4], args[5]);
        self.ptr(uaddr);
        self.sep();
        xlat::futex_op(self.out, op);
        let val = val as u32;
        let val3 = val3 as u32;
        match op & xlat::FUTEX_CMD_MASK {
            xlat::FUTEX_WAIT => {
                self.udec(u64::from(val));
                self.input(3, timespec);
            }
            xlat::FUTEX_LOCK_PI | xlat::FUTEX_LOCK_PI2 => self.input(3, timespec),
            xlat::FUTEX_WAIT_BITSET => {
                self.udec(u64::from(val));
                self.input(3, timespec);
                self.bitset(val3);
            }
            xlat::FUTEX_WAKE_BITSET => {
                self.udec(u64::from(val));
                self.bitset(val3);
            }
            xlat::FUTEX_REQUEUE => {
                self.udec(u64::from(val));
                self.udec(timeout as u32 as u64);
                self.ptr(uaddr2);
            }
            xlat::FUTEX_CMP_REQUEUE | xlat::FUTEX_CMP_REQUEUE_PI => {
                self.udec(u64::from(val));
                self.udec(timeout as u32 as u64);
                self.ptr(uaddr2);
                self.udec(u64::from(val3));
            }
            xlat::FUTEX_WAKE_OP => {
                self.udec(u64::from(val));
                self.udec(timeout as u32 as u64);
                self.ptr(uaddr2);
                self.sep();
                xlat::futex_wake_op(self.out, u64::from(val3));
            }
            xlat::FUTEX_WAIT_REQUEUE_PI => {
                self.udec(u64::from(val));
                self.input(3, timespec);
                self.ptr(uaddr2);
            }
            xlat::FUTEX_UNLOCK_PI | xlat::FUTEX_TRYLOCK_PI => {}
            _ => {
                // FUTEX_WAKE, FUTEX_FD, and commands the kernel does not know.
                self.udec(u64::from(val));
            }
        }
    }

    pub(super) fn bitset(&mut self, v: u32) {
        self.sep();
        if v == u32::MAX {
            self.out.push_str("FUTEX_BITSET_MATCH_ANY");
        } else {
            let _ = write!(self.out, "{v:#x}");
        }
    }
}

/// Input arguments, by index: printed from what was captured at entry (the shape's captures and
/// the row's [`super::Cap`]s), or as their address when nothing could be read.
impl<'b> Args<'_, 'b> {
    /// Argument `i`'s register: the address of what it points to.
    pub(super) fn addr(&self, i: u8) -> u64 {
        self.args[usize::from(i)]
    }

    /// The value captured under `key`.
    pub(super) fn entry(&mut self, key: Key) -> Option<&'b Value> {
        #[cfg(test)]
        self.asked.push(key);
        self.entry.get(key)
    }

    /// The bytes captured under `key` and whether they are whole; `None` when it was NULL or
    /// could not be read.
    pub(super) fn captured_at(&mut self, key: Key) -> Option<(&'b [u8], bool)> {
        match self.entry(key) {
            Some(Value::Bytes { data, complete }) => Some((data, *complete)),
            _ => None,
        }
    }

    /// The bytes argument `i` points to, as [`Self::captured_at`].
    pub(super) fn captured(&mut self, i: u8) -> Option<(&'b [u8], bool)> {
        self.captured_at(Key::Arg(i))
    }

    /// A path: `"..."`, printed whole; `NULL` when it could not be read.
    pub(super) fn path(&mut self, i: u8) {
        let captured = self.captured(i);
        let out = self.arg();
        match captured {
            Some((data, complete)) => quote(out, data, !complete),
            None => out.push_str("NULL"),
        }
    }

    /// A buffer captured with `-s` limits (write's), or its address when it could not be read.
    pub(super) fn buffer(&mut self, i: u8) {
        self.string(i);
    }

    /// A NUL-terminated string (an xattr name cut at `-s`, a second path whole): `"..."`,
    /// `NULL`, or the address when it could not be read.
    pub(super) fn string(&mut self, i: u8) {
        let (captured, addr) = (self.captured(i), self.addr(i));
        let out = self.arg();
        match captured {
            Some((data, complete)) => quote(out, data, !complete),
            None => ptr(out, addr),
        }
    }

    /// An input struct captured at entry ([`super::Cap::Fixed`] and the like), printed by `f`
    /// from its bytes; `NULL`, or the address when it could not be read.
    pub(super) fn input(&mut self, i: u8, f: impl FnOnce(&mut String, &[u8])) {
        let (captured, addr) = (self.captured(i), self.addr(i));
        let out = self.arg();
        match captured {
            Some((data, _)) if addr != 0 => f(out, data),
            _ => ptr(out, addr),
        }
    }

    /// An input array captured at entry ([`super::Cap::Array`]): `[e1, e2, ...]`, each element of
    /// `elem` bytes printed by `f`, and `...` when it was cut at `-s`.
    pub(super) fn input_array(&mut self, i: u8, elem: usize, f: impl Fn(&mut String, &[u8])) {
        let (captured, addr) = (self.captured(i), self.addr(i));
        let out = self.arg();
        match captured {
            Some((data, complete)) if addr != 0 => {
                out.push('[');
                for (i, e) in data.chunks_exact(elem).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    f(out, e);
                }
                if !complete {
                    out.push_str(if data.is_empty() { "..." } else { ", ..." });
                }
                out.push(']');
            }
            _ => ptr(out, addr),
        }
    }

    /// A buffer of `len` bytes ([`sized_quote`]), or its address.
    pub(super) fn sized_string(&mut self, i: u8, len: u64, omit_nul: bool) {
        let (captured, addr, strsize) = (self.captured(i), self.addr(i), self.opts.strsize);
        let out = self.arg();
        match captured {
            Some((data, _)) if addr != 0 => sized_quote(out, data, len, strsize, omit_nul),
            _ => ptr(out, addr),
        }
    }

    /// A socket address of `len` bytes the program passes (connect's, sendto's).
    pub(super) fn sockaddr(&mut self, i: u8, len: u64) {
        let (captured, addr) = (self.captured(i), self.addr(i));
        let out = self.arg();
        match captured {
            _ if addr == 0 => out.push_str("NULL"),
            Some((data, _)) => sockaddr(out, data, len as u32),
            None => ptr(out, addr),
        }
    }

    /// An iovec array the program passes (writev's), its buffers' first `-s` bytes.
    pub(super) fn iovec(&mut self, i: u8) {
        let (value, addr) = (self.entry(Key::Arg(i)), self.addr(i));
        iovec(self.arg(), value, addr);
    }

    /// A `struct msghdr` the program passes (sendmsg's).
    pub(super) fn msghdr(&mut self, i: u8) {
        let (value, addr) = (self.entry(Key::Arg(i)), self.addr(i));
        msghdr(self.arg(), value, addr);
    }

    /// execve's argv: `["ls", "-l"]`, its first `-s` strings.
    pub(super) fn argv(&mut self, i: u8) {
        let (value, addr) = (self.entry(Key::Arg(i)), self.addr(i));
        let out = self.arg();
        let Some(Value::Strings { elems, complete }) = value else {
            ptr(out, addr);
            return;
        };
        out.push('[');
        for (i, (p, s)) in elems.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match s {
                Value::Bytes { data, complete } => quote(out, data, !complete),
                _ => ptr(out, *p),
            }
        }
        if !complete {
            out.push_str(if elems.is_empty() { "..." } else { ", ..." });
        }
        out.push(']');
    }

    /// execve's envp: its address and how many entries it has, `0x7ffc... /* 12 vars */`.
    pub(super) fn envp(&mut self, i: u8) {
        let (value, addr) = (self.entry(Key::Arg(i)), self.addr(i));
        let out = self.arg();
        ptr(out, addr);
        if let Some(Value::Count(n)) = value {
            let _ = write!(out, " /* {n} var{} */", if *n == 1 { "" } else { "s" });
        }
    }
}

/// Output arguments, by index: printed from what a call executed in the supervisor filled in,
/// or as their address.
impl<'b> Args<'_, 'b> {
    /// What the call filled in for argument `i`, when it completed in the supervisor.
    pub(super) fn output(&self, i: u8) -> Option<&'b Value> {
        self.exit.arg(i)
    }

    /// A buffer the call filled (read's, recvfrom's), its first `-s` bytes, or its address.
    pub(super) fn out_buffer(&mut self, i: u8) {
        let (value, addr) = (self.output(i), self.addr(i));
        let out = self.arg();
        match value {
            Some(Value::Bytes { data, complete }) => quote(out, data, !complete),
            _ => ptr(out, addr),
        }
    }

    /// An output buffer as a string cut at `-s` (readlink's target), or its address.
    pub(super) fn out_string(&mut self, i: u8) {
        let (value, addr, strsize) = (self.output(i), self.addr(i), self.opts.strsize);
        let out = self.arg();
        match value {
            Some(Value::Bytes { data, .. }) => {
                let n = data.len().min(strsize);
                quote(out, &data[..n], n < data.len());
            }
            _ => ptr(out, addr),
        }
    }

    /// An output path, printed whole (getcwd's; without its NUL), or its address.
    pub(super) fn out_path(&mut self, i: u8) {
        let (value, addr) = (self.output(i), self.addr(i));
        let out = self.arg();
        match value {
            Some(Value::Bytes { data, .. }) => quote(out, data.strip_suffix(&[0]).unwrap_or(data), false),
            _ => ptr(out, addr),
        }
    }

    /// An output struct printed by `f` from its bytes (a stat buffer), or its address.
    pub(super) fn out_struct(&mut self, i: u8, f: impl FnOnce(&mut String, &[u8])) {
        let (value, addr) = (self.output(i), self.addr(i));
        let out = self.arg();
        match value {
            Some(Value::Bytes { data, .. }) => f(out, data),
            _ => ptr(out, addr),
        }
    }

    /// A socket address the call filled (accept's peer, getsockname's), or its address.
    pub(super) fn out_sockaddr(&mut self, i: u8) {
        let (value, addr) = (self.output(i), self.addr(i));
        let out = self.arg();
        match value {
            Some(Value::Filled { data, len_out, .. }) => sockaddr(out, data, *len_out),
            _ => ptr(out, addr),
        }
    }

    /// The `socklen_t *` (argument `i`) of the buffer argument `of`, as the call updated it:
    /// `[16]`, or `[128 => 16]` when it changed; its address when the call did not complete
    /// here.
    pub(super) fn out_socklen(&mut self, i: u8, of: u8) {
        let (value, addr) = (self.output(of), self.addr(i));
        let out = self.arg();
        match value {
            Some(Value::Filled { len_in, len_out, .. }) => socklen_pair(out, u64::from(*len_in), u64::from(*len_out)),
            _ => ptr(out, addr),
        }
    }

    /// An iovec array the call filled (readv's).
    pub(super) fn out_iovec(&mut self, i: u8) {
        let (value, addr) = (self.output(i), self.addr(i));
        iovec(self.arg(), value, addr);
    }

    /// A `struct msghdr` the call filled (recvmsg's).
    pub(super) fn out_msghdr(&mut self, i: u8) {
        let (value, addr) = (self.output(i), self.addr(i));
        msghdr(self.arg(), value, addr);
    }
}

/// An iovec array: `[{iov_base="hello", iov_len=5}, ...]`, each buffer as captured (or its
/// address), `...` when there were more elements than shown; the address when it could not be
/// read.
fn iovec(out: &mut String, value: Option<&Value>, addr: u64) {
    let Some(Value::Iov { elems, complete }) = value else {
        ptr(out, addr);
        return;
    };
    out.push('[');
    for (i, (base, len, data)) in elems.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str("{iov_base=");
        match data {
            Value::Bytes { data, complete } => quote(out, data, !complete),
            _ => ptr(out, *base),
        }
        let _ = write!(out, ", iov_len={len}}}");
    }
    if !complete {
        out.push_str(if elems.is_empty() { "..." } else { ", ..." });
    }
    out.push(']');
}

/// A `struct msghdr`: `{msg_name={...}, msg_namelen=16, msg_iov=[...], msg_iovlen=1,
/// msg_controllen=0, msg_flags=0}`; the address when it could not be read.
fn msghdr(out: &mut String, value: Option<&Value>, addr: u64) {
    let Some(Value::Msghdr(m)) = value else {
        ptr(out, addr);
        return;
    };
    let [name, namelen, iov, iovlen, control, controllen, flags] = m.fields;
    let (namelen, flags) = (namelen as u32, flags as u32);
    out.push_str("{msg_name=");
    match &m.name {
        Value::Bytes { data, .. } => sockaddr(out, data, namelen),
        _ => ptr(out, name),
    }
    let _ = write!(out, ", msg_namelen={namelen}, msg_iov=");
    iovec(out, Some(&m.iov), iov);
    let _ = write!(out, ", msg_iovlen={iovlen}");
    if controllen != 0 {
        out.push_str(", msg_control=");
        ptr(out, control);
    }
    let _ = write!(out, ", msg_controllen={controllen}, msg_flags=");
    xlat::flags(out, xlat::MSG_FLAGS, u64::from(flags), "0");
    out.push('}');
}

/// A buffer of `len` bytes as strace's `printstrn`: its first `strsize` bytes, then `...` when
/// it is longer; with `omit_nul` (`QUOTE_OMIT_TRAILING_0`, xattr values) the last byte shown is
/// left out when it is a NUL.
pub fn sized_quote(out: &mut String, data: &[u8], len: u64, strsize: usize, omit_nul: bool) {
    let shown = &data[..data.len().min(strsize)];
    let shown = if omit_nul { shown.strip_suffix(&[0]).unwrap_or(shown) } else { shown };
    quote(out, shown, len > strsize as u64);
}

/// A `u64` (or `i64`, `long`) at byte `at` of a captured struct.
pub fn word(data: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(data[at..at + 8].try_into().expect("8 bytes"))
}

/// A `u32` (or `int`) at byte `at` of a captured struct.
pub fn word32(data: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

/// A `struct timespec`: `{tv_sec=1, tv_nsec=500}`.
pub fn timespec(out: &mut String, data: &[u8]) {
    let _ = write!(out, "{{tv_sec={}, tv_nsec={}}}", word(data, 0) as i64, word(data, 8) as i64);
}

/// A `struct timeval`: `{tv_sec=1, tv_usec=500}`.
pub fn timeval(out: &mut String, data: &[u8]) {
    let _ = write!(out, "{{tv_sec={}, tv_usec={}}}", word(data, 0) as i64, word(data, 8) as i64);
}

/// A `struct itimerspec`: `{it_interval={...}, it_value={...}}`.
pub fn itimerspec(out: &mut String, data: &[u8]) {
    out.push_str("{it_interval=");
    timespec(out, &data[..16]);
    out.push_str(", it_value=");
    timespec(out, &data[16..32]);
    out.push('}');
}

/// An `int64_t` or `loff_t` passed by address: `[0]`.
pub fn int64_ref(out: &mut String, data: &[u8]) {
    let _ = write!(out, "[{}]", word(data, 0) as i64);
}

/// The bits set in a bit set (an `fd_set`, a CPU mask), as strace lists them: `[3 4 7]`.
pub fn bit_list(out: &mut String, data: &[u8], nbits: usize) {
    out.push('[');
    let mut first = true;
    for i in (0..nbits.min(data.len() * 8)).filter(|&i| data[i / 8] >> (i % 8) & 1 == 1) {
        if !first {
            out.push(' ');
        }
        first = false;
        let _ = write!(out, "{i}");
    }
    out.push(']');
}

/// strace prints 0 as `0` and everything else as `0x...`.
pub fn hex(out: &mut String, v: u64) {
    if v == 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

pub fn ptr(out: &mut String, v: u64) {
    if v == 0 {
        out.push_str("NULL");
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

/// A file mode as strace's `%#03o`: 0640 -> `0640`, 5 -> `005`, 0 -> `000`.
pub fn file_mode(out: &mut String, m: u32) {
    let digits = if m == 0 { String::new() } else { format!("0{m:o}") };
    let _ = write!(out, "{digits:0>3}");
}

/// A C string or buffer the way strace prints it: `"..."` with C escapes and minimal octal,
/// followed by `...` when it was cut short.
pub fn quote(out: &mut String, data: &[u8], truncated: bool) {
    out.push('"');
    for (i, &c) in data.iter().enumerate() {
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\x0c' => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\x0b' => out.push_str("\\v"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                let next_is_octal = data.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                if next_is_octal {
                    let _ = write!(out, "\\{:03o}", c);
                } else {
                    let _ = write!(out, "\\{:o}", c);
                }
            }
        }
    }
    out.push('"');
    if truncated {
        out.push_str("...");
    }
}

/// A socket address as strace shows it, from the bytes the program passed (`len` of them).
pub fn sockaddr(out: &mut String, data: &[u8], len: u32) {
    if data.len() < 2 {
        out.push_str("{sa_family=AF_UNSPEC}");
        return;
    }
    let family = u16::from_ne_bytes([data[0], data[1]]);
    out.push_str("{sa_family=");
    xlat::constant(out, xlat::ADDRESS_FAMILIES, u64::from(family), "AF_");
    let port = |d: &[u8]| u16::from_be_bytes([d[2], d[3]]);
    match family {
        xlat::AF_INET if data.len() >= 8 => {
            let ip = Ipv4Addr::new(data[4], data[5], data[6], data[7]);
            let _ = write!(out, ", sin_port=htons({}), sin_addr=inet_addr(\"{ip}\")", port(data));
        }
        xlat::AF_INET6 if data.len() >= 24 => {
            let flow = u32::from_be_bytes(data[4..8].try_into().expect("4 bytes"));
            let ip = Ipv6Addr::from(<[u8; 16]>::try_from(&data[8..24]).expect("16 bytes"));
            let _ = write!(
                out,
                ", sin6_port=htons({}), sin6_flowinfo=htonl({flow}), inet_pton(AF_INET6, \"{ip}\", &sin6_addr)",
                port(data)
            );
            if data.len() >= 28 {
                let scope = u32::from_ne_bytes(data[24..28].try_into().expect("4 bytes"));
                let _ = write!(out, ", sin6_scope_id={scope}");
            }
        }
        xlat::AF_UNIX => {
            let path = &data[2..data.len().min(len as usize)];
            if !path.is_empty() {
                out.push_str(", sun_path=");
                if path[0] == 0 {
                    out.push('@');
                    quote(out, &path[1..], false);
                } else {
                    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                    quote(out, &path[..end], false);
                }
            }
        }
        _ => {
            out.push_str(", sa_data=");
            quote(out, &data[2..], false);
        }
    }
    out.push('}');
}

/// The entry keys `sc`'s printer asks for when it prints `args` with `entry` captured.
#[cfg(test)]
pub(super) fn keys_asked(sc: &Syscall, args: &[u64; 6], entry: &Captures) -> Vec<Key> {
    let mut out = String::new();
    let mut a = Args::new(&mut out, args, entry, &NOTHING, Options { strsize: 32 }, None);
    match sc.row.dec.print {
        Some(print) => print(&mut a, args),
        None => shape(&mut a, sc, args),
    }
    a.asked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(data: &[u8], truncated: bool) -> String {
        let mut s = String::new();
        quote(&mut s, data, truncated);
        s
    }

    #[test]
    fn quotes_like_strace() {
        // strace: read(3, "\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0\20t\2\0\0\0\0\0"..., 832)
        let elf = b"\x7fELF\x02\x01\x01\x03\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0\x10t\x02\0\0\0\0\0";
        assert_eq!(q(elf, true), r#""\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0\20t\2\0\0\0\0\0"..."#);
        assert_eq!(q(b"a\"b\\c\n\t", false), r#""a\"b\\c\n\t""#);
        // An octal escape followed by a digit is widened so it cannot swallow the digit.
        assert_eq!(q(b"\x01\x32", false), r#""\0012""#);
        assert_eq!(q(b"\x01\x38", false), r#""\18""#);
    }

    #[test]
    fn sockaddrs_like_strace() {
        let mut s = String::new();
        let mut v4 = vec![2u8, 0, 0x1f, 0x90, 127, 0, 0, 1];
        v4.extend([0; 8]);
        sockaddr(&mut s, &v4, 16);
        assert_eq!(s, r#"{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}"#);

        s.clear();
        let mut v6 = vec![10u8, 0, 0, 80, 0, 0, 0, 0];
        v6.extend(Ipv6Addr::LOCALHOST.octets());
        v6.extend([0; 4]);
        sockaddr(&mut s, &v6, 28);
        assert_eq!(
            s,
            r#"{sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}"#
        );

        s.clear();
        let mut un = vec![1u8, 0];
        un.extend(b"/run/a.sock\0");
        sockaddr(&mut s, &un, un.len() as u32);
        assert_eq!(s, r#"{sa_family=AF_UNIX, sun_path="/run/a.sock"}"#);

        s.clear();
        let mut abs = vec![1u8, 0, 0];
        abs.extend(b"name");
        sockaddr(&mut s, &abs, abs.len() as u32);
        assert_eq!(s, r#"{sa_family=AF_UNIX, sun_path=@"name"}"#);
    }

    #[test]
    fn futex_ops_like_strace() {
        let mut s = String::new();
        xlat::futex_op(&mut s, 9 | 128 | 256);
        assert_eq!(s, "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME");
        s.clear();
        xlat::futex_wake_op(&mut s, (1 << 28) | (4 << 24) | (1 << 12) | 1);
        assert_eq!(s, "{FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 1}");
    }

    #[test]
    fn sized_buffers_like_strace() {
        let q = |data: &[u8], len: u64, strsize: usize, omit_nul: bool| {
            let mut s = String::new();
            sized_quote(&mut s, data, len, strsize, omit_nul);
            s
        };
        // setxattr's value: a last NUL is left out (strace's QUOTE_OMIT_TRAILING_0).
        assert_eq!(q(b"bar\0baz", 7, 32, true), r#""bar\0baz""#);
        assert_eq!(q(b"bar\0", 4, 32, true), r#""bar""#);
        assert_eq!(q(b"abcdef", 6, 4, true), r#""abcd"..."#);
        assert_eq!(q(b"", 0, 32, true), r#""""#);
        // setsockopt's: kept.
        assert_eq!(q(b"lo\0", 3, 32, false), r#""lo\0""#);
        assert_eq!(q(&[0; 32], 34, 32, false), format!("\"{}\"...", r"\0".repeat(32)));
    }

    #[test]
    fn modes_like_strace() {
        for (m, text) in [(0o640, "0640"), (0o22, "022"), (0o5, "005"), (0, "000"), (0o4755, "04755")] {
            let mut s = String::new();
            file_mode(&mut s, m);
            assert_eq!(s, text);
        }
    }
}
