//! Metadata calls performed for the program on objects interpose holds: an `O_PATH` descriptor
//! it resolved in the program's context, or a descriptor borrowed from the program. Each
//! returns the kernel's answer (`Err(errno)` as the program would see it) and, for calls with
//! output arguments, the bytes the kernel would have written to the program's buffer, in the
//! program's (x86_64) layout.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::io::SysResult;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

fn check(r: i64) -> SysResult {
    if r < 0 { Err(errno()) } else { Ok(r as usize) }
}

/// `sizeof(struct stat)` on x86_64.
pub const STAT_SIZE: usize = std::mem::size_of::<libc::stat>();
/// `sizeof(struct statx)`.
pub const STATX_SIZE: usize = std::mem::size_of::<libc::statx>();
/// `sizeof(struct statfs)` on x86_64.
pub const STATFS_SIZE: usize = std::mem::size_of::<libc::statfs>();

/// How [`resolve`] may walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walk {
    /// Do not follow a symlink in the last component (`lstat`, `AT_SYMLINK_NOFOLLOW`).
    pub nofollow: bool,
    /// Do not cross a mount point (`RESOLVE_NO_XDEV`): `EXDEV` instead.
    pub no_xdev: bool,
}

/// Resolves `path` from `start` (or from the root when it is absolute) to an `O_PATH`
/// descriptor, as a path lookup of the calling thread's credentials would. Magic links
/// (`/proc/PID/fd/N`, `/proc/self/cwd`...) are refused with `ELOOP`: they would name interpose's
/// own objects. The caller tells that `ELOOP` from a real one by declining on any `ELOOP`.
pub fn resolve(start: BorrowedFd<'_>, path: &CStr, walk: Walk) -> Result<OwnedFd, i32> {
    let mut flags = libc::O_PATH | libc::O_CLOEXEC;
    if walk.nofollow {
        flags |= libc::O_NOFOLLOW;
    }
    let mut resolve = libc::RESOLVE_NO_MAGICLINKS;
    if walk.no_xdev {
        resolve |= libc::RESOLVE_NO_XDEV;
    }
    // SAFETY: open_how is plain data; zeroed is valid, then its fields are set.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    how.resolve = resolve;
    // SAFETY: `path` is a live NUL-terminated string and `how` a live open_how whose size is
    // passed with it; the kernel only reads both. The result is a new descriptor we own.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            start.as_raw_fd(),
            path.as_ptr(),
            &raw const how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if r < 0 {
        return Err(errno());
    }
    // SAFETY: openat2 returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
}

/// Opens `path` (a directory, e.g. `/proc/TID/cwd`) as an `O_PATH` descriptor, following it.
pub fn open_dir_path(path: &CStr) -> Result<OwnedFd, i32> {
    // SAFETY: `path` is a live NUL-terminated string; the result is a new descriptor we own.
    let r = unsafe { libc::open(path.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    if r < 0 {
        return Err(errno());
    }
    // SAFETY: open returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// `fstatat(fd, "", AT_EMPTY_PATH)`: the `struct stat` of what `fd` refers to, as bytes.
pub fn stat(fd: BorrowedFd<'_>) -> Result<[u8; STAT_SIZE], i32> {
    let mut out = [0u8; STAT_SIZE];
    // SAFETY: `out` is an exclusively borrowed buffer of exactly sizeof(struct stat) bytes, which
    // the kernel fills; the path is a static empty C string.
    let r = unsafe {
        libc::fstatat(fd.as_raw_fd(), c"".as_ptr(), out.as_mut_ptr().cast::<libc::stat>(), libc::AT_EMPTY_PATH)
    };
    check(i64::from(r)).map(|_| out)
}

/// `statx(fd, "", AT_EMPTY_PATH | sync, mask)`, as bytes.
pub fn statx(fd: BorrowedFd<'_>, sync: i32, mask: u32) -> Result<[u8; STATX_SIZE], i32> {
    let mut out = [0u8; STATX_SIZE];
    // SAFETY: `out` is an exclusively borrowed buffer of exactly sizeof(struct statx) bytes, which
    // the kernel fills; the path is a static empty C string.
    let r = unsafe {
        libc::syscall(libc::SYS_statx, fd.as_raw_fd(), c"".as_ptr(), libc::AT_EMPTY_PATH | sync, mask, out.as_mut_ptr())
    };
    check(r).map(|_| out)
}

/// The mount id and inode of what `fd` refers to (statx `STATX_MNT_ID`), or None when the
/// kernel does not report the mount id.
pub fn mount_and_inode(fd: BorrowedFd<'_>) -> Option<(u64, u64, u64)> {
    let raw = statx(fd, 0, libc::STATX_INO | libc::STATX_MNT_ID).ok()?;
    // SAFETY: `raw` holds a struct statx the kernel filled; read_unaligned copies it out.
    let st: libc::statx = unsafe { std::ptr::read_unaligned(raw.as_ptr().cast()) };
    if st.stx_mask & libc::STATX_MNT_ID == 0 {
        return None;
    }
    let dev = (u64::from(st.stx_dev_major) << 32) | u64::from(st.stx_dev_minor);
    Some((st.stx_mnt_id, dev, st.stx_ino))
}

/// `fstatfs(fd)`, as bytes.
pub fn statfs(fd: BorrowedFd<'_>) -> Result<[u8; STATFS_SIZE], i32> {
    let mut out = [0u8; STATFS_SIZE];
    // SAFETY: `out` is an exclusively borrowed buffer of exactly sizeof(struct statfs) bytes,
    // which the kernel fills.
    let r = unsafe { libc::fstatfs(fd.as_raw_fd(), out.as_mut_ptr().cast::<libc::statfs>()) };
    check(i64::from(r)).map(|_| out)
}

/// `readlinkat(fd, "", ...)` on an `O_PATH|O_NOFOLLOW` descriptor of a symlink: its target, at
/// most `max` bytes (what the kernel would copy into a buffer of that size).
pub fn readlink(fd: BorrowedFd<'_>, max: usize) -> Result<Vec<u8>, i32> {
    let mut out = vec![0u8; max];
    // SAFETY: `out` is an exclusively borrowed buffer whose length is passed with it.
    let r = unsafe { libc::readlinkat(fd.as_raw_fd(), c"".as_ptr(), out.as_mut_ptr().cast(), out.len()) };
    let n = check(r as i64)?;
    out.truncate(n);
    Ok(out)
}

/// `faccessat2(fd, "", mode, AT_EMPTY_PATH | flags)`: the permission check of the calling
/// thread's credentials on what `fd` refers to.
pub fn access(fd: BorrowedFd<'_>, mode: i32, flags: i32) -> SysResult {
    // SAFETY: the path is a static empty C string; the other arguments are integers.
    check(unsafe {
        libc::syscall(libc::SYS_faccessat2, fd.as_raw_fd(), c"".as_ptr(), mode, libc::AT_EMPTY_PATH | flags)
    })
}

/// `getdents64(fd, buf)`: directory entries in the kernel's layout, read at the descriptor's
/// offset (shared with the program's descriptor).
pub fn getdents64(fd: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult {
    // SAFETY: `buf` is an exclusively borrowed buffer whose length is passed with it.
    check(unsafe { libc::syscall(libc::SYS_getdents64, fd.as_raw_fd(), buf.as_mut_ptr(), buf.len()) })
}

/// `lseek(fd, offset, whence)` on the shared open file description.
pub fn lseek(fd: BorrowedFd<'_>, offset: i64, whence: i32) -> SysResult {
    // SAFETY: integers only.
    check(unsafe { libc::lseek(fd.as_raw_fd(), offset, whence) })
}

/// `getsockopt(fd, level, name)` with `val` as the value buffer, which holds the program's
/// bytes on entry (some options read it). Returns the length the kernel reports.
pub fn getsockopt(fd: BorrowedFd<'_>, level: i32, name: i32, val: &mut [u8]) -> Result<u32, i32> {
    let mut len = val.len() as libc::socklen_t;
    // SAFETY: `val` is an exclusively borrowed buffer of `len` bytes and `len` a live local; the
    // kernel reads and writes both within those bounds.
    let r = unsafe { libc::getsockopt(fd.as_raw_fd(), level, name, val.as_mut_ptr().cast(), &mut len) };
    check(i64::from(r)).map(|_| len)
}

/// `getsockname`/`getpeername` into a full-size buffer: the address and its real length.
pub fn sockname(fd: BorrowedFd<'_>, peer: bool) -> Result<([u8; 128], u32), i32> {
    let mut buf = [0u8; 128];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: `buf` is an exclusively borrowed 128-byte buffer and `len` says so; the kernel
    // writes at most that much and stores the address's real length in `len`.
    let r = unsafe {
        if peer {
            libc::getpeername(fd.as_raw_fd(), buf.as_mut_ptr().cast(), &mut len)
        } else {
            libc::getsockname(fd.as_raw_fd(), buf.as_mut_ptr().cast(), &mut len)
        }
    };
    check(i64::from(r)).map(|_| (buf, len))
}

/// Opens what an `O_PATH` descriptor refers to, anew, with `flags` (through
/// `/proc/self/fd/N`, the kernel's way to re-open a resolved object): the open's own checks
/// (permissions, read-only mounts, ...) are made on that object.
pub fn reopen(fd: BorrowedFd<'_>, flags: i32) -> Result<OwnedFd, i32> {
    let path = std::ffi::CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).map_err(|_| libc::EINVAL)?;
    // SAFETY: `path` is a live NUL-terminated string; the result is a new descriptor we own.
    let r = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) };
    if r < 0 {
        return Err(errno());
    }
    // SAFETY: open returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// Clears `O_NONBLOCK` from the open file's status flags.
pub fn clear_nonblock(fd: BorrowedFd<'_>) -> Result<(), i32> {
    // SAFETY: fcntl on a live descriptor with integer arguments.
    let flags = check(i64::from(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) }))? as i32;
    // SAFETY: as above.
    check(i64::from(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK) })).map(drop)
}

/// `getxattr` of attribute `name` of what an `O_PATH` descriptor refers to (not a symlink: the
/// call goes through `/proc/self/fd/N`, which follows to it), into a buffer of `size` bytes
/// (0: the size it needs). Returns the value, or its size when `size` is 0.
pub fn getxattr(fd: BorrowedFd<'_>, name: &CStr, size: usize) -> Result<Vec<u8>, i32> {
    let path = std::ffi::CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).map_err(|_| libc::EINVAL)?;
    let mut out = vec![0u8; size];
    // SAFETY: `path` and `name` are live NUL-terminated strings; `out` is an exclusively
    // borrowed buffer whose length is passed with it (a null pointer with length 0 asks for
    // the size only).
    let r = unsafe {
        let buf = if size == 0 { std::ptr::null_mut() } else { out.as_mut_ptr().cast() };
        libc::getxattr(path.as_ptr(), name.as_ptr(), buf, size)
    };
    let n = check(r as i64)?;
    if size == 0 {
        return Ok(n.to_ne_bytes().to_vec());
    }
    out.truncate(n);
    Ok(out)
}

/// A call on an open file description, without output arguments.
#[derive(Clone, Copy, Debug)]
pub enum Ofd {
    /// `fcntl(fd, F_GETFL)` or `fcntl(fd, F_SETFL, flags)`.
    Fcntl(i32, i32),
    /// `fadvise64(fd, offset, len, advice)`.
    Fadvise(i64, i64, i32),
    /// `flock(fd, how)`.
    Flock(i32),
    /// `shutdown(fd, how)`.
    Shutdown(i32),
}

/// Makes `op` on `fd`: the kernel's result.
pub fn on_description(fd: BorrowedFd<'_>, op: Ofd) -> SysResult {
    let fd = fd.as_raw_fd();
    // SAFETY: each call takes the descriptor and integers only.
    let r = unsafe {
        match op {
            Ofd::Fcntl(cmd, arg) => i64::from(libc::fcntl(fd, cmd, arg)),
            // The raw call: glibc's posix_fadvise returns the error instead of setting errno.
            Ofd::Fadvise(off, len, advice) => libc::syscall(libc::SYS_fadvise64, fd, off, len, advice),
            Ofd::Flock(how) => i64::from(libc::flock(fd, how)),
            Ofd::Shutdown(how) => i64::from(libc::shutdown(fd, how)),
        }
    };
    check(r)
}

/// Opens, for reading, the file a mapping of another process names, without waiting on
/// anything that process controls: `path` is either its `/proc/PID/map_files/START-END` entry
/// (the kernel's link to the very file mapped, followed) or a path walked without following any
/// symbolic link (`RESOLVE_NO_SYMLINKS`) and, when `no_xdev`, without crossing a mount point.
/// That gives an `O_PATH` descriptor, which opens nothing; it is reopened for reading
/// (`O_NONBLOCK`: a lease to break fails at once) only when it is a regular file with device
/// `dev` (as `/proc/PID/maps` encodes it, `major << 20 | minor`) and inode `ino`, on a
/// filesystem in none of `unsafe_fs` (the `f_type`s that compute contents, or whose server may
/// be the program).
pub fn open_mapped_file(path: &str, dev: u64, ino: u64, no_xdev: bool, unsafe_fs: &[i64]) -> Option<OwnedFd> {
    let c = std::ffi::CString::new(path).ok()?;
    let magic = path.starts_with("/proc/");
    // SAFETY: open_how is plain data; zeroed is valid, then its fields are set.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    if !magic {
        how.flags |= libc::O_NOFOLLOW as u64;
        how.resolve = libc::RESOLVE_NO_SYMLINKS | if no_xdev { libc::RESOLVE_NO_XDEV } else { 0 };
    }
    // SAFETY: `c` is a live NUL-terminated string and `how` a live open_how whose size is
    // passed with it; the kernel only reads both. The result is a new descriptor we own.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c.as_ptr(),
            &raw const how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if r < 0 {
        return None;
    }
    // SAFETY: openat2 returned a new descriptor that nothing else owns.
    let obj = unsafe { OwnedFd::from_raw_fd(r as i32) };
    let st = stat(std::os::fd::AsFd::as_fd(&obj)).ok()?;
    // SAFETY: `st` holds a `struct stat` the kernel filled.
    let st: libc::stat = unsafe { std::ptr::read_unaligned(st.as_ptr().cast()) };
    let st_dev = ((libc::major(st.st_dev) as u64) << 20) | libc::minor(st.st_dev) as u64;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG || st.st_ino != ino || st_dev != dev {
        return None;
    }
    let fs = statfs(std::os::fd::AsFd::as_fd(&obj)).ok()?;
    // SAFETY: `fs` holds a `struct statfs` the kernel filled.
    let fs: libc::statfs = unsafe { std::ptr::read_unaligned(fs.as_ptr().cast()) };
    if unsafe_fs.contains(&fs.f_type) {
        return None;
    }
    reopen(std::os::fd::AsFd::as_fd(&obj), libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY).ok()
}
