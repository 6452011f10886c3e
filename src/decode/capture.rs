//! The entering half of decoding: what to copy out of the parked thread for the log.
//!
//! Runs on the receive path, so it reads only what the chosen decoder will print and no more
//! than the limits allow (`-s` bytes of a buffer, `-s` elements of an array, `PATH_MAX` of a
//! path). Output buffers (read's, recv's) are not read at entry: they hold nothing yet.

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

/// Bytes or words copied from the target, in the order the decoder's formatter expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blob {
    /// `complete` is false when the data was cut at the size limit.
    Bytes {
        data: Vec<u8>,
        complete: bool,
    },
    /// An array of pointers or (base, len) pairs; `complete` as above.
    Words {
        data: Vec<u64>,
        complete: bool,
    },
    Count(u64),
    /// The address could not be read; formatted as the bare pointer, as strace does.
    Fault,
}

/// Capture limits, from the command line.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `-s`: bytes of a string or buffer, and elements of an array.
    pub strsize: usize,
}

/// Copies from thread `tid` what `dec` will print for `args`: the shape's captures, then the
/// row's extra ones, one blob each. Appends to `out`.
pub fn capture(dec: &Dec, tid: u32, args: &[u64; 6], limits: Limits, out: &mut Vec<Blob>) {
    let cap = Capturer { tid, limits };
    cap.shape(dec.shape, args, out);
    cap.extras(dec.extra, args, out);
}

struct Capturer {
    tid: u32,
    limits: Limits,
}

impl Capturer {
    fn fixed(&self, addr: u64, len: usize) -> Blob {
        let mut data = vec![0u8; len];
        match mem::read(self.tid, addr, &mut data) {
            Ok(n) if n == len => Blob::Bytes { data, complete: true },
            _ => Blob::Fault,
        }
    }

    /// The first `-s` bytes of a `len`-byte buffer.
    fn buffer(&self, addr: u64, len: u64) -> Blob {
        if addr == 0 && len == 0 {
            return Blob::Bytes { data: Vec::new(), complete: true };
        }
        let want = (len as usize).min(self.limits.strsize);
        let mut data = vec![0u8; want];
        match mem::read(self.tid, addr, &mut data) {
            Ok(n) if n == want => Blob::Bytes { data, complete: want as u64 == len },
            _ => Blob::Fault,
        }
    }

    fn cstr(&self, addr: u64, max: usize) -> Blob {
        let mut data = Vec::new();
        match mem::read_cstr(self.tid, addr, max, &mut data) {
            Ok(complete) => Blob::Bytes { data, complete },
            Err(_) => Blob::Fault,
        }
    }

    fn path(&self, addr: u64) -> Blob {
        if addr == 0 {
            return Blob::Fault;
        }
        self.cstr(addr, PATH_MAX)
    }

    fn sockaddr(&self, addr: u64, len: u64) -> Blob {
        if addr == 0 {
            return Blob::Fault;
        }
        let want = (len as usize).min(SOCKADDR_MAX);
        let mut data = vec![0u8; want];
        match mem::read(self.tid, addr, &mut data) {
            Ok(n) if n == want => Blob::Bytes { data, complete: want as u64 == len },
            _ => Blob::Fault,
        }
    }

    fn words(&self, addr: u64, count: usize) -> Option<Vec<u64>> {
        mem::read_words(self.tid, addr, count)
    }

    /// An iovec array: Words(base, len pairs) then one Bytes per element shown.
    fn iovec(&self, addr: u64, count: u64, out: &mut Vec<Blob>) {
        let shown = (count as usize).min(self.limits.strsize);
        match self.words(addr, shown * 2) {
            Some(pairs) => {
                let buffers: Vec<Blob> = pairs.chunks_exact(2).map(|p| self.buffer(p[0], p[1])).collect();
                out.push(Blob::Words { data: pairs, complete: shown as u64 == count });
                out.extend(buffers);
            }
            None => out.push(Blob::Fault),
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

    /// execve: path, argv (Words + one Bytes per shown element), envp count.
    fn exec(&self, path: u64, argv: u64, envp: u64, out: &mut Vec<Blob>) {
        out.push(self.path(path));
        match (argv != 0).then(|| self.pointer_array(argv, self.limits.strsize)).flatten() {
            Some((ptrs, complete)) => {
                let strings: Vec<Blob> = ptrs.iter().map(|&p| self.cstr(p, self.limits.strsize)).collect();
                out.push(Blob::Words { data: ptrs, complete });
                out.extend(strings);
            }
            None => out.push(Blob::Fault),
        }
        match (envp != 0).then(|| self.pointer_array(envp, MAX_ENV_COUNT)).flatten() {
            Some((ptrs, _)) => out.push(Blob::Count(ptrs.len() as u64)),
            None => out.push(Blob::Fault),
        }
    }

    /// sendmsg's msghdr: Words(7 fields), the name, then the iovec as in [`Self::iovec`].
    fn msghdr(&self, addr: u64, out: &mut Vec<Blob>) {
        match mem::read_msghdr(self.tid, addr) {
            Some(h) => {
                let (name, namelen, iov, iovlen) = (h[0], h[1], h[2], h[3]);
                out.push(Blob::Words { data: h.to_vec(), complete: true });
                out.push(if name == 0 { Blob::Fault } else { self.sockaddr(name, namelen) });
                self.iovec(iov, iovlen, out);
            }
            None => out.push(Blob::Fault),
        }
    }

    fn shape(&self, decoder: Decoder, args: &[u64; 6], out: &mut Vec<Blob>) {
        use Decoder::*;
        match decoder {
            Generic | Fd | Read | Pread | Readv | Preadv | Recvfrom | Recvmsg | Accept | Accept4 | Socket => {}
            Write | Pwrite => out.push(self.buffer(args[1], args[2])),
            Writev | Pwritev => self.iovec(args[1], args[2], out),
            Sendto => {
                out.push(self.buffer(args[1], args[2]));
                out.push(self.sockaddr(args[4], args[5]));
            }
            Sendmsg => self.msghdr(args[1], out),
            SockaddrIn => out.push(self.sockaddr(args[1], args[2])),
            Futex => {
                if super::format::futex_has_timeout(args[1]) && args[3] != 0 {
                    out.push(self.fixed(args[3], 16));
                }
            }
            Open | Path | PathMode | Access | PathRest => out.push(self.path(args[0])),
            Openat | AtPath => out.push(self.path(args[1])),
            Execve => self.exec(args[0], args[1], args[2], out),
            Execveat => self.exec(args[1], args[2], args[3], out),
        }
    }

    /// The extra captures, one blob each: the fixed-size ones read together in one
    /// `process_vm_readv` (each read costs the kernel a page walk and a pin of the pages; a
    /// ppoll's pollfds, timeout and mask are one read instead of three).
    fn extras(&self, caps: &[Cap], args: &[u64; 6], out: &mut Vec<Blob>) {
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
            match (p, plain.len() > 1) {
                (Some((_, _, whole)), true) => out.push(match batch.next().flatten() {
                    Some(data) => Blob::Bytes { data, complete: *whole },
                    None => Blob::Fault,
                }),
                _ => out.push(self.extra(c, args)),
            }
        }
    }

    /// One extra capture: always one blob, [`Blob::Fault`] for NULL or unreadable memory.
    fn extra(&self, c: Cap, args: &[u64; 6]) -> Blob {
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
                    Err(_) => Blob::Fault,
                }
            }
            Cap::Array { arg: i, count_arg, elem } if arg(i) != 0 => {
                let count = arg(count_arg) as u32 as usize;
                let shown = count.min(self.limits.strsize);
                match self.fixed(arg(i), shown * usize::from(elem)) {
                    Blob::Bytes { data, .. } => Blob::Bytes { data, complete: shown == count },
                    b => b,
                }
            }
            Cap::FdSet(i) if arg(i) != 0 => {
                // The kernel caps nfds at the descriptor table's size; strace at 1024 bits.
                let nfds = (args[0] as u32 as i32).clamp(0, FD_SET_BITS as i32) as usize;
                self.fixed(arg(i), nfds.div_ceil(64) * 8)
            }
            Cap::Indirect { arg: i, len } if arg(i) != 0 => match self.words(arg(i), 1) {
                Some(w) if w[0] != 0 => self.fixed(w[0], usize::from(len)),
                _ => Blob::Fault,
            },
            Cap::SigframeMask => match stack_pointer(self.tid) {
                // x86_64's rt_sigframe past its return address: a ucontext, whose uc_sigmask
                // follows uc_flags, uc_link, uc_stack (24 bytes) and the 256-byte sigcontext.
                Some(sp) => self.fixed(sp + 296, 8),
                None => Blob::Fault,
            },
            Cap::Str(_)
            | Cap::Fixed { .. }
            | Cap::Sized { .. }
            | Cap::Array { .. }
            | Cap::FdSet(_)
            | Cap::Indirect { .. } => Blob::Fault,
        }
    }

    /// The first `max(-s, SIZED_MIN)` bytes of a `len`-byte buffer.
    fn sized(&self, addr: u64, len: usize) -> Blob {
        let want = len.min(self.limits.strsize.max(SIZED_MIN));
        let mut data = vec![0u8; want];
        match mem::read(self.tid, addr, &mut data) {
            Ok(n) if n == want => Blob::Bytes { data, complete: want == len },
            _ => Blob::Fault,
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
    fn captured_call(name: &str, args: [u64; 6]) -> (Vec<Blob>, String) {
        let sc = registry().by_name(name).expect("known");
        let tid = std::process::id(); // the test thread is not the main one: read the process
        let mut blobs = Vec::new();
        capture(&sc.row.dec, tid, &args, Limits { strsize: 32 }, &mut blobs);
        let mut s = String::new();
        format::call(&mut s, sc, &args, &blobs, None, None, Options { strsize: 32 });
        (blobs, s)
    }

    #[test]
    fn extra_captures_follow_the_shapes() {
        let path = c"/etc".as_ptr() as u64;
        let name = c"user.a_really_long_attribute_name_longer_than_32".as_ptr() as u64;
        let (blobs, s) = captured_call("getxattr", [path, name, 0, 0, 0, 0]);
        assert_eq!(blobs.len(), 2, "the path, then the name");
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
        // NULL and unreadable inputs still take their blob, so what follows stays in place.
        let (blobs, s) = captured_call("setxattr", [path, 0, 0x10, 4, 0, 0]);
        assert_eq!(blobs.len(), 3);
        assert_eq!(s, r#"setxattr("/etc", NULL, 0x10, 4, 0)"#);
    }
}
