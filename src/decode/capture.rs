//! The entering half of decoding: what to copy out of the parked thread for the log.
//!
//! Runs on the receive path, so it reads only what the chosen decoder will print and no more
//! than the limits allow (`-s` bytes of a buffer, `-s` elements of an array, `PATH_MAX` of a
//! path). Output buffers (read's, recv's) are not read at entry: they hold nothing yet; when the
//! supervisor executes the call it fills them in itself, in a [`Captures`] of the same kind.
//!
//! What is copied is kept as typed [`Value`]s under the [`Key`] of the argument they belong to
//! (the shape's captures under the index the [`Decoder`] implies, the row's [`Cap`]s under the
//! one they name): the printer looks a value up by argument, so a capture that could not be made
//! (a NULL or unreadable pointer: [`Value::Fault`]) or was not made (with `-c` alone nothing is)
//! cannot shift what another argument shows.

use super::{Cap, Dec, Decoder};
use crate::sys::mem;

/// Longest path we copy: paths are printed whole, as strace does, not cut at `-s`.
pub const PATH_MAX: usize = 4096;
/// Longest environment we count for `/* N vars */`.
const MAX_ENV_COUNT: usize = 1 << 16;
/// Largest sockaddr (`sockaddr_storage`).
const SOCKADDR_MAX: usize = 128;
/// Bytes of a sized buffer copied whatever `-s` says: enough for an `int` or a `struct linger`.
const SIZED_MIN: usize = 8;
/// Bits of an `fd_set` copied at most (`FD_SETSIZE`).
pub const FD_SET_BITS: usize = 1024;

/// What a captured value belongs to: the argument whose memory it was read from, or, for
/// memory no argument points to directly, what leads to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// Argument `i`'s memory: the struct, string or buffer it points to (or, for execve's
    /// environment, how many entries it has).
    Arg(u8),
    /// The memory at the pointer that starts the struct argument `i` points to: the signal set
    /// of pselect6's `{sigmask, sigsetsize}` (the struct itself is `Arg(i)`).
    Pointee(u8),
    /// The signal mask rt_sigreturn restores, in the frame at the stack pointer: the call has no
    /// argument that points to it.
    Sigframe,
}

/// One argument's memory, copied from the target (at entry) or filled by a call the supervisor
/// executed (at exit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Bytes at the address; `complete` is false when they were cut at the size limit.
    Bytes { data: Vec<u8>, complete: bool },
    /// A number the printer shows for the argument: execve's environment size, the entries
    /// getdents64 returned.
    Count(u64),
    /// A buffer the call filled and its value-result length (a `socklen_t *`) before and after
    /// the call: accept's peer address, getsockopt's value.
    Filled { data: Vec<u8>, len_in: u32, len_out: u32 },
    /// An iovec array: each shown element's base, length and what its buffer held (`Bytes`, or
    /// `Fault`); `complete` is false when there were more elements than shown.
    Iov { elems: Vec<(u64, u64, Value)>, complete: bool },
    /// A NULL-terminated array of strings (execve's argv): each shown pointer and its string
    /// (`Bytes`, or `Fault`); `complete` is false when it was cut at the limit.
    Strings { elems: Vec<(u64, Value)>, complete: bool },
    /// A `struct msghdr`, with its address and its iovec.
    Msghdr(Box<Msghdr>),
    /// The address could not be read (or is NULL); printed as the bare pointer, as strace does.
    Fault,
}

/// A `struct msghdr`: its seven fields (name, namelen, iov, iovlen, control, controllen, flags),
/// the address it names (`Bytes`, or `Fault` when there is none) and its iovec (`Iov`, or
/// `Fault`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msghdr {
    pub fields: [u64; 7],
    pub name: Value,
    pub iov: Value,
}

/// A call's captured values, each with the argument it belongs to. Built on the receive path
/// for every logged call: one small vector (no allocation when nothing is captured), looked up
/// by key; a call has at most a handful.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captures(Vec<(Key, Value)>);

impl Captures {
    /// Nothing captured.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Sets `key`'s value (a key is filled once).
    pub fn put(&mut self, key: Key, value: Value) {
        debug_assert!(self.get(key).is_none(), "{key:?} captured twice");
        self.0.push((key, value));
    }

    /// Sets argument `i`'s value.
    pub fn put_arg(&mut self, i: u8, value: Value) {
        self.put(Key::Arg(i), value);
    }

    pub fn get(&self, key: Key) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Argument `i`'s value.
    pub fn arg(&self, i: u8) -> Option<&Value> {
        self.get(Key::Arg(i))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys captured, in capture order.
    pub fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.0.iter().map(|(k, _)| *k)
    }
}

/// Capture limits, from the command line.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `-s`: bytes of a string or buffer, and elements of an array.
    pub strsize: usize,
}

/// Copies from thread `tid` what `dec` will print for `args`: the shape's captures, then the
/// row's extra ones, each under the key of the argument it belongs to.
pub fn capture(dec: &Dec, tid: u32, args: &[u64; 6], limits: Limits) -> Captures {
    let cap = Capturer { tid, limits };
    let mut out = Captures::new();
    cap.shape(dec.shape, args, &mut out);
    cap.extras(dec.extra, args, &mut out);
    out
}

struct Capturer {
    tid: u32,
    limits: Limits,
}

impl Capturer {
    fn fixed(&self, addr: u64, len: usize) -> Value {
        let mut data = vec![0u8; len];
        match mem::read(self.tid, addr, &mut data) {
            Ok(n) if n == len => Value::Bytes { data, complete: true },
            _ => Value::Fault,
        }
    }

    /// The first `-s` bytes of a `len`-byte buffer.
    fn buffer(&self, addr: u64, len: u64) -> Value {
        if addr == 0 && len == 0 {
            return Value::Bytes { data: Vec::new(), complete: true };
        }
        let want = (len as usize).min(self.limits.strsize);
        let mut data = vec![0u8; want];
        match mem::read(self.tid, addr, &mut data) {
            Ok(n) if n == want => Value::Bytes { data, complete: want as u64 == len },
            _ => Value::Fault,
        }
    }

    fn cstr(&self, addr: u64, max: usize) -> Value {
        let mut data = Vec::new();
        match mem::read_cstr(self.tid, addr, max, &mut data) {
            Ok(complete) => Value::Bytes { data, complete },
            Err(_) => Value::Fault,
        }
    }

    fn path(&self, addr: u64) -> Value {
        if addr == 0 {
            return Value::Fault;
        }
        self.cstr(addr, PATH_MAX)
    }

    fn sockaddr(&self, addr: u64, len: u64) -> Value {
        if addr == 0 {
            return Value::Fault;
        }
        let want = (len as usize).min(SOCKADDR_MAX);
        let mut data = vec![0u8; want];
        match mem::read(self.tid, addr, &mut data) {
            Ok(n) if n == want => Value::Bytes { data, complete: want as u64 == len },
            _ => Value::Fault,
        }
    }

    fn words(&self, addr: u64, count: usize) -> Option<Vec<u64>> {
        mem::read_words(self.tid, addr, count)
    }

    /// An iovec array of `count` elements: the first `-s` of them, each with its buffer's first
    /// `-s` bytes.
    fn iovec(&self, addr: u64, count: u64) -> Value {
        let shown = (count as usize).min(self.limits.strsize);
        match self.words(addr, shown * 2) {
            Some(pairs) => Value::Iov {
                elems: pairs.chunks_exact(2).map(|p| (p[0], p[1], self.buffer(p[0], p[1]))).collect(),
                complete: shown as u64 == count,
            },
            None => Value::Fault,
        }
    }

    /// A NULL-terminated array of pointers, at most `max` of them.
    fn pointer_array(&self, addr: u64, max: usize) -> Option<(Vec<u64>, bool)> {
        let mut ptrs = Vec::new();
        let mut at = addr;
        while ptrs.len() < max {
            // Read up to the end of the page, to stay clear of an unmapped neighbour.
            let in_page = ((4096 - (at % 4096)) / 8).max(1) as usize;
            let n = in_page.min(64).min(max - ptrs.len());
            let words = self.words(at, n)?;
            for w in words {
                if w == 0 {
                    return Some((ptrs, true));
                }
                ptrs.push(w);
            }
            at += n as u64 * 8;
        }
        // Exactly `max` seen: complete only if the next one is the terminator.
        let done = self.words(at, 1).is_some_and(|w| w[0] == 0);
        Some((ptrs, done))
    }

    /// execve's path, argv (its first `-s` strings) and envp (how many entries), in arguments
    /// `first`, `first + 1` and `first + 2` (execveat's start at 1).
    fn exec(&self, first: u8, args: &[u64; 6], out: &mut Captures) {
        let arg = |i: u8| args[usize::from(i)];
        let (path, argv, envp) = (first, first + 1, first + 2);
        out.put_arg(path, self.path(arg(path)));
        let strings = match (arg(argv) != 0).then(|| self.pointer_array(arg(argv), self.limits.strsize)).flatten() {
            Some((ptrs, complete)) => Value::Strings {
                elems: ptrs.iter().map(|&p| (p, self.cstr(p, self.limits.strsize))).collect(),
                complete,
            },
            None => Value::Fault,
        };
        out.put_arg(argv, strings);
        let count = match (arg(envp) != 0).then(|| self.pointer_array(arg(envp), MAX_ENV_COUNT)).flatten() {
            Some((ptrs, _)) => Value::Count(ptrs.len() as u64),
            None => Value::Fault,
        };
        out.put_arg(envp, count);
    }

    /// sendmsg's msghdr: its fields, the address it names and its iovec.
    fn msghdr(&self, addr: u64) -> Value {
        match mem::read_msghdr(self.tid, addr) {
            Some(fields) => {
                let (name, namelen, iov, iovlen) = (fields[0], fields[1], fields[2], fields[3]);
                let name = if name == 0 { Value::Fault } else { self.sockaddr(name, namelen) };
                Value::Msghdr(Box::new(Msghdr { fields, name, iov: self.iovec(iov, iovlen) }))
            }
            None => Value::Fault,
        }
    }

    fn shape(&self, decoder: Decoder, args: &[u64; 6], out: &mut Captures) {
        use Decoder::*;
        match decoder {
            Generic | Fd | Read | Pread | Readv | Preadv | Recvfrom | Recvmsg | Accept | Accept4 | Socket => {}
            Write | Pwrite => out.put_arg(1, self.buffer(args[1], args[2])),
            Writev | Pwritev => out.put_arg(1, self.iovec(args[1], args[2])),
            Sendto => {
                out.put_arg(1, self.buffer(args[1], args[2]));
                out.put_arg(4, self.sockaddr(args[4], args[5]));
            }
            Sendmsg => out.put_arg(1, self.msghdr(args[1])),
            SockaddrIn => out.put_arg(1, self.sockaddr(args[1], args[2])),
            Futex => {
                if super::format::futex_has_timeout(args[1]) && args[3] != 0 {
                    out.put_arg(3, self.fixed(args[3], 16));
                }
            }
            Open | Path | PathMode | Access | PathRest => out.put_arg(0, self.path(args[0])),
            Openat | AtPath => out.put_arg(1, self.path(args[1])),
            Execve => self.exec(0, args, out),
            Execveat => self.exec(1, args, out),
        }
    }

    /// The extra captures, one value each: the fixed-size ones read together in one
    /// `process_vm_readv` (each read costs the kernel a page walk and a pin of the pages; a
    /// ppoll's pollfds, timeout and mask are one read instead of three).
    fn extras(&self, caps: &[Cap], args: &[u64; 6], out: &mut Captures) {
        let arg = |i: u8| args[usize::from(i)];
        // (address, length, whole) of each capture that is one plain read; None for the others.
        let plan: Vec<Option<(u64, usize, bool)>> = caps
            .iter()
            .map(|&c| match c {
                Cap::Fixed { arg: i, len } if arg(i) != 0 => Some((arg(i), usize::from(len), true)),
                Cap::Array { arg: i, count_arg, elem } if arg(i) != 0 => {
                    let count = arg(count_arg) as u32 as usize;
                    let shown = count.min(self.limits.strsize);
                    Some((arg(i), shown * usize::from(elem), shown == count))
                }
                Cap::FdSet(i) if arg(i) != 0 => {
                    let nfds = (args[0] as u32 as i32).clamp(0, FD_SET_BITS as i32) as usize;
                    Some((arg(i), nfds.div_ceil(64) * 8, true))
                }
                _ => None,
            })
            .collect();
        let plain: Vec<(u64, usize)> = plan.iter().flatten().map(|&(a, l, _)| (a, l)).collect();
        let mut read: Vec<Option<Vec<u8>>> = Vec::new();
        if plain.len() > 1 {
            let mut bufs: Vec<Vec<u8>> = plain.iter().map(|&(_, l)| vec![0u8; l]).collect();
            let addrs: Vec<u64> = plain.iter().map(|&(a, _)| a).collect();
            let mut views: Vec<&mut [u8]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
            let ok = mem::read_many(self.tid, &addrs, &mut views);
            read = bufs.into_iter().zip(ok).map(|(b, ok)| ok.then_some(b)).collect();
        }
        let mut batch = read.into_iter();
        for (&c, p) in caps.iter().zip(&plan) {
            let value = match (p, plain.len() > 1) {
                (Some((_, _, whole)), true) => match batch.next().flatten() {
                    Some(data) => Value::Bytes { data, complete: *whole },
                    None => Value::Fault,
                },
                _ => self.extra(c, args),
            };
            out.put(c.key(), value);
        }
    }

    /// One extra capture: [`Value::Fault`] for NULL or unreadable memory.
    fn extra(&self, c: Cap, args: &[u64; 6]) -> Value {
        let arg = |i: u8| args[usize::from(i)];
        match c {
            Cap::Str(i) if arg(i) != 0 => self.cstr(arg(i), self.limits.strsize),
            Cap::Path(i) => self.path(arg(i)),
            Cap::Fixed { arg: i, len } if arg(i) != 0 => self.fixed(arg(i), usize::from(len)),
            Cap::Sized { arg: i, len_arg } if arg(i) != 0 => {
                // The length is a C int: a negative one is left to the printer.
                let len = arg(len_arg) as u32 as i32;
                match usize::try_from(len) {
                    Ok(len) => self.sized(arg(i), len),
                    Err(_) => Value::Fault,
                }
            }
            Cap::Array { arg: i, count_arg, elem } if arg(i) != 0 => {
                let count = arg(count_arg) as u32 as usize;
                let shown = count.min(self.limits.strsize);
                match self.fixed(arg(i), shown * usize::from(elem)) {
                    Value::Bytes { data, .. } => Value::Bytes { data, complete: shown == count },
                    v => v,
                }
            }
            Cap::FdSet(i) if arg(i) != 0 => {
                // The kernel caps nfds at the descriptor table's size; strace at 1024 bits.
                let nfds = (args[0] as u32 as i32).clamp(0, FD_SET_BITS as i32) as usize;
                self.fixed(arg(i), nfds.div_ceil(64) * 8)
            }
            Cap::Indirect { arg: i, len } if arg(i) != 0 => match self.words(arg(i), 1) {
                Some(w) if w[0] != 0 => self.fixed(w[0], usize::from(len)),
                _ => Value::Fault,
            },
            Cap::SigframeMask => match stack_pointer(self.tid) {
                // x86_64's rt_sigframe past its return address: a ucontext, whose uc_sigmask
                // follows uc_flags, uc_link, uc_stack (24 bytes) and the 256-byte sigcontext.
                Some(sp) => self.fixed(sp + 296, 8),
                None => Value::Fault,
            },
            Cap::Str(_)
            | Cap::Fixed { .. }
            | Cap::Sized { .. }
            | Cap::Array { .. }
            | Cap::FdSet(_)
            | Cap::Indirect { .. } => Value::Fault,
        }
    }

    /// The first `max(-s, SIZED_MIN)` bytes of a `len`-byte buffer.
    fn sized(&self, addr: u64, len: usize) -> Value {
        let want = len.min(self.limits.strsize.max(SIZED_MIN));
        let mut data = vec![0u8; want];
        match mem::read(self.tid, addr, &mut data) {
            Ok(n) if n == want => Value::Bytes { data, complete: want == len },
            _ => Value::Fault,
        }
    }
}

/// The stack pointer of thread `tid`, stopped in a syscall (`/proc/TID/syscall`, read as `-k`
/// reads it).
fn stack_pointer(tid: u32) -> Option<u64> {
    use std::io::{Read, Seek};
    let mut f = std::fs::File::open(format!("/proc/{tid}/syscall")).ok()?;
    let mut read = |buf: &mut [u8]| f.rewind().and_then(|_| f.read(buf));
    crate::stack::syscall_stack_pointer(&mut read, &mut [0u8; 256]).ok()?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::format::{self, Options};
    use crate::decode::registry;

    /// Captures from this very thread, as the supervisor does from a parked one, and prints.
    fn captured_call(name: &str, args: [u64; 6]) -> (Captures, String) {
        let sc = registry().by_name(name).expect("known");
        let tid = std::process::id(); // the test thread is not the main one: read the process
        let captured = capture(&sc.row.dec, tid, &args, Limits { strsize: 32 });
        let mut s = String::new();
        format::call(&mut s, sc, &args, &captured, None, None, Options { strsize: 32 });
        (captured, s)
    }

    #[test]
    fn captures_are_keyed_by_argument() {
        let path = c"/etc".as_ptr() as u64;
        let name = c"user.a_really_long_attribute_name_longer_than_32".as_ptr() as u64;
        let (captured, s) = captured_call("getxattr", [path, name, 0, 0, 0, 0]);
        assert_eq!(captured.keys().collect::<Vec<_>>(), [Key::Arg(0), Key::Arg(1)], "the path, then the name");
        assert_eq!(s, r#"getxattr("/etc", "user.a_really_long_attribute_nam"..., NULL, 0)"#);

        let (old, new) = (c"a.tmp".as_ptr() as u64, c"b.tmp".as_ptr() as u64);
        let (_, s) = captured_call("renameat2", [libc::AT_FDCWD as u64, old, 3, new, 1, 0]);
        assert_eq!(s, r#"renameat2(AT_FDCWD, "a.tmp", 3, "b.tmp", RENAME_NOREPLACE)"#);

        let set: u64 = 1 << (libc::SIGUSR2 - 1);
        let (_, s) = captured_call("rt_sigprocmask", [0, &set as *const u64 as u64, 0, 8, 0, 0]);
        assert_eq!(s, "rt_sigprocmask(SIG_BLOCK, [USR2], NULL, 8)");

        let one: i32 = 1;
        let v = &one as *const i32 as u64;
        let (_, s) = captured_call("setsockopt", [3, libc::SOL_SOCKET as u64, libc::SO_REUSEADDR as u64, v, 4, 0]);
        assert_eq!(s, "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4)");
        // NULL and unreadable inputs are kept as faults, under their argument's key.
        let (captured, s) = captured_call("setxattr", [path, 0, 0x10, 4, 0, 0]);
        assert_eq!(captured.arg(1), Some(&Value::Fault));
        assert_eq!(captured.arg(2), Some(&Value::Fault));
        assert_eq!(s, r#"setxattr("/etc", NULL, 0x10, 4, 0)"#);

        // Several values for one argument's struct: pselect6's `{sigmask, sigsetsize}` and the
        // set it points to.
        let mask: u64 = 1 << (libc::SIGUSR1 - 1);
        let st = [&mask as *const u64 as u64, 8];
        let (captured, s) = captured_call("pselect6", [0, 0, 0, 0, 0, st.as_ptr() as u64]);
        assert!(captured.get(Key::Pointee(5)).is_some());
        assert_eq!(s, "pselect6(0, NULL, NULL, NULL, NULL, {sigmask=[USR1], sigsetsize=8})");
    }

    /// Every printer asks only for values its row captures: an index that names another
    /// argument than the capture's would print the address in place of the value.
    #[test]
    fn printers_ask_for_what_is_captured() {
        // Every argument points at zeros (an empty string, NULL-terminated arrays, zeroed
        // structs), so that every pointer is followed.
        let zeros = vec![0u64; 1024];
        let args = [zeros.as_ptr() as u64; 6];
        let tid = std::process::id();
        let mut asked = 0;
        for sc in registry().all() {
            let captured = capture(&sc.row.dec, tid, &args, Limits { strsize: 32 });
            for key in format::keys_asked(sc, &args, &captured) {
                assert!(captured.get(key).is_some(), "{}: the printer asks for {key:?}, not captured", sc.name());
                asked += 1;
            }
        }
        assert!(asked > 100, "{asked}");
    }
}
