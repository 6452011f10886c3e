//! Reading the target's memory.
//!
//! `process_vm_readv` first; `/proc/TID/mem` when the kernel lacks cross-memory attach. Reads
//! never cross a page boundary in one request beyond what is asked, so that a string which ends
//! just before an unmapped page is still read whole. Nothing read here is trustworthy until the
//! notification it was read for has been re-validated (see `Listener::id_valid`).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

const PAGE: u64 = 4096;

static NO_CMA: AtomicBool = AtomicBool::new(false);

/// Reads up to `buf.len()` bytes at `addr` in thread `tid`'s address space. A short count means
/// the rest is not mapped (or not readable).
pub fn read(tid: u32, addr: u64, buf: &mut [u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    if !NO_CMA.load(Ordering::Relaxed) {
        let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        let remote = libc::iovec { iov_base: addr as *mut libc::c_void, iov_len: buf.len() };
        // SAFETY: `local` describes `buf`, exclusively borrowed and valid for buf.len() bytes; the
        // remote iovec is only interpreted in the other process, by the kernel, with checks.
        let r = unsafe { libc::process_vm_readv(tid as libc::pid_t, &local, 1, &remote, 1, 0) };
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ENOSYS) {
            return Err(e);
        }
        NO_CMA.store(true, Ordering::Relaxed);
    }
    let f = File::open(format!("/proc/{tid}/mem"))?;
    f.read_at(buf, addr)
}

/// Reads several buffers at once (one `process_vm_readv` for all): `bufs[i]` from `addrs[i]`.
/// Returns, for each buffer, whether it was read whole; the kernel stops at the first remote
/// range it cannot read, so the ones after it are retried one by one.
pub fn read_many(tid: u32, addrs: &[u64], bufs: &mut [&mut [u8]]) -> Vec<bool> {
    let n = addrs.len().min(bufs.len());
    let total: usize = bufs[..n].iter().map(|b| b.len()).sum();
    if n <= 1 || NO_CMA.load(Ordering::Relaxed) {
        return (0..n).map(|i| read(tid, addrs[i], bufs[i]).is_ok_and(|got| got == bufs[i].len())).collect();
    }
    let local: Vec<libc::iovec> =
        bufs[..n].iter_mut().map(|b| libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() }).collect();
    let remote: Vec<libc::iovec> =
        (0..n).map(|i| libc::iovec { iov_base: addrs[i] as *mut libc::c_void, iov_len: bufs[i].len() }).collect();
    // SAFETY: each local iovec describes one of `bufs`, exclusively borrowed and valid for its
    // length for the whole call; the remote iovecs are only interpreted in the other process,
    // by the kernel, with checks. Both arrays hold `n` elements, as passed.
    let r = unsafe {
        libc::process_vm_readv(
            tid as libc::pid_t,
            local.as_ptr(),
            n as libc::c_ulong,
            remote.as_ptr(),
            n as libc::c_ulong,
            0,
        )
    };
    let mut done = usize::try_from(r).unwrap_or(0);
    let mut ok = Vec::with_capacity(n);
    for i in 0..n {
        let len = bufs[i].len();
        if r >= 0 && (done as isize) >= len as isize && (r as usize) <= total {
            done -= len;
            ok.push(true);
        } else {
            // Not read (or not whole) in the batch: alone, it may still be readable.
            done = 0;
            ok.push(read(tid, addrs[i], bufs[i]).is_ok_and(|got| got == len));
        }
    }
    ok
}

/// Reads a NUL-terminated string of at most `max` bytes at `addr` into `out` (without the NUL).
/// Returns true when the terminating NUL was found within `max` bytes.
pub fn read_cstr(tid: u32, addr: u64, max: usize, out: &mut Vec<u8>) -> io::Result<bool> {
    out.clear();
    let mut chunk = [0u8; 256];
    let mut at = addr;
    while out.len() < max {
        let to_page_end = (PAGE - (at % PAGE)) as usize;
        let want = chunk.len().min(to_page_end).min(max - out.len() + 1);
        let got = read(tid, at, &mut chunk[..want])?;
        if got == 0 {
            return Err(io::Error::from_raw_os_error(libc::EFAULT));
        }
        if let Some(nul) = chunk[..got].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..nul]);
            return Ok(true);
        }
        let room = max - out.len();
        out.extend_from_slice(&chunk[..got.min(room)]);
        at += got as u64;
    }
    Ok(false)
}

/// `n` native-endian 64-bit words at `addr` (pointer arrays, iovecs, a msghdr), or None when
/// they are not all readable.
pub fn read_words(tid: u32, addr: u64, n: usize) -> Option<Vec<u64>> {
    let mut raw = vec![0u8; n * 8];
    if read(tid, addr, &mut raw).ok()? != raw.len() {
        return None;
    }
    Some(raw.chunks_exact(8).map(|c| u64::from_ne_bytes(c.try_into().expect("8 bytes"))).collect())
}

/// The `struct msghdr` at `addr` (x86_64 layout): name, namelen, iov, iovlen, control,
/// controllen, flags; the two 32-bit fields without their padding.
pub fn read_msghdr(tid: u32, addr: u64) -> Option<[u64; 7]> {
    let w = read_words(tid, addr, 7)?;
    Some([w[0], w[1] & 0xffff_ffff, w[2], w[3], w[4], w[5], w[6] & 0xffff_ffff])
}

/// Writes `data` at `addr` in thread `tid`'s address space. Returns the count written; a short
/// count means the rest is not mapped writable.
pub fn write(tid: u32, addr: u64, data: &[u8]) -> io::Result<usize> {
    if data.is_empty() {
        return Ok(0);
    }
    let local = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() };
    let remote = libc::iovec { iov_base: addr as *mut libc::c_void, iov_len: data.len() };
    // SAFETY: `local` describes `data`, borrowed for the call and only read by the kernel; the
    // remote iovec is interpreted in the other process, by the kernel, with checks.
    let r = unsafe { libc::process_vm_writev(tid as libc::pid_t, &local, 1, &remote, 1, 0) };
    if r >= 0 { Ok(r as usize) } else { Err(io::Error::last_os_error()) }
}

/// Scatters `data` over the target's iovecs (`(base, len)` pairs) in one call, as readv
/// would. Returns the count written.
pub fn write_scattered(tid: u32, iovecs: &[(u64, u64)], data: &[u8]) -> io::Result<usize> {
    let mut remote = Vec::with_capacity(iovecs.len());
    let mut left = data.len();
    for &(base, len) in iovecs {
        if left == 0 {
            break;
        }
        let n = (len as usize).min(left);
        remote.push(libc::iovec { iov_base: base as *mut libc::c_void, iov_len: n });
        left -= n;
    }
    let total = data.len() - left;
    if total == 0 {
        return Ok(0);
    }
    let local = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: total };
    // SAFETY: `local` describes the first `total` bytes of `data`, borrowed and only read; the
    // remote iovecs are interpreted in the other process, by the kernel, with checks.
    let r = unsafe {
        libc::process_vm_writev(tid as libc::pid_t, &local, 1, remote.as_ptr(), remote.len() as libc::c_ulong, 0)
    };
    if r >= 0 { Ok(r as usize) } else { Err(io::Error::last_os_error()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_several_ranges_at_once_and_tells_which_failed() {
        let tid = nix::unistd::gettid().as_raw() as u32;
        let a = [1u8, 2, 3, 4];
        let b = [9u8; 16];
        let (mut x, mut y, mut z, mut w) = ([0u8; 4], [0u8; 16], [0u8; 8], [0u8; 2]);
        let addrs = [a.as_ptr() as u64, b.as_ptr() as u64, 8, a.as_ptr() as u64 + 2];
        let mut bufs: Vec<&mut [u8]> = vec![&mut x, &mut y, &mut z, &mut w];
        assert_eq!(read_many(tid, &addrs, &mut bufs), vec![true, true, false, true]);
        assert_eq!((x, y, w), (a, b, [3, 4]));
    }
}
