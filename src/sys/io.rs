//! The calls the supervisor performs on the target's behalf, on descriptors borrowed from it
//! with `pidfd_getfd`. Each returns the kernel's result as `Ok(value)` or `Err(errno)`, exactly
//! what the target would have seen.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A kernel result: value or positive errno.
pub type SysResult = Result<usize, i32>;

fn check(r: isize) -> SysResult {
    if r < 0 { Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)) } else { Ok(r as usize) }
}

/// File type bits (`S_IFMT`) of the open file.
pub fn file_type(fd: BorrowedFd<'_>) -> Result<u32, i32> {
    // SAFETY: fstat fills the stat buffer, which is exclusively borrowed for the call.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } as isize)?;
    Ok(st.st_mode & libc::S_IFMT)
}

/// The file's mode (type and permission bits).
pub fn file_mode(fd: BorrowedFd<'_>) -> Result<u32, i32> {
    // SAFETY: fstat fills the stat buffer, which is exclusively borrowed for the call.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } as isize)?;
    Ok(st.st_mode)
}

/// `statfs.f_type` of the file's filesystem.
pub fn fs_magic(fd: BorrowedFd<'_>) -> Result<i64, i32> {
    // SAFETY: fstatfs fills the buffer, which is exclusively borrowed for the call.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    check(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) } as isize)?;
    Ok(st.f_type)
}

/// File status flags (`F_GETFL`): O_NONBLOCK, O_APPEND, O_DIRECT...
pub fn status_flags(fd: BorrowedFd<'_>) -> Result<i32, i32> {
    // SAFETY: F_GETFL takes no pointer.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) } as isize).map(|v| v as i32)
}

/// `preadv2(fd, [buf], offset, flags)`; offset -1 means the file position.
pub fn preadv2(fd: BorrowedFd<'_>, buf: &mut [u8], offset: i64, flags: i32) -> SysResult {
    let iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: one iovec describing `buf`, exclusively borrowed for the call.
    check(unsafe { libc::preadv2(fd.as_raw_fd(), &iov, 1, offset, flags) })
}

/// `pwritev2(fd, [buf], offset, flags)`; offset -1 means the file position.
pub fn pwritev2(fd: BorrowedFd<'_>, buf: &[u8], offset: i64, flags: i32) -> SysResult {
    let iov = libc::iovec { iov_base: buf.as_ptr() as *mut libc::c_void, iov_len: buf.len() };
    // SAFETY: one iovec describing `buf`, borrowed for the call; the kernel only reads it.
    check(unsafe { libc::pwritev2(fd.as_raw_fd(), &iov, 1, offset, flags) })
}

/// `recvfrom`; `addr` receives the peer address, its length is returned beside the count.
pub fn recvfrom(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    flags: i32,
    addr: Option<&mut [u8; 128]>,
) -> Result<(usize, u32), i32> {
    let mut alen: libc::socklen_t = 128;
    let (ap, lp) = match addr {
        Some(a) => (a.as_mut_ptr().cast::<libc::sockaddr>(), &raw mut alen),
        None => (std::ptr::null_mut(), std::ptr::null_mut()),
    };
    // SAFETY: `buf` and the optional address buffer (128 bytes, `alen` says so) are exclusively
    // borrowed for the call.
    let n = check(unsafe { libc::recvfrom(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), flags, ap, lp) })?;
    Ok((n, alen))
}

/// `sendto`, with an optional destination address (raw sockaddr bytes).
pub fn sendto(fd: BorrowedFd<'_>, buf: &[u8], flags: i32, addr: Option<&[u8]>) -> SysResult {
    let (ap, alen) = match addr {
        Some(a) => (a.as_ptr().cast::<libc::sockaddr>(), a.len() as libc::socklen_t),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: `buf` and the address bytes are borrowed for the call and only read.
    check(unsafe { libc::sendto(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), flags, ap, alen) })
}

/// `recvmsg` without ancillary data: one buffer, an optional name buffer. Returns
/// (count, name length, msg_flags).
pub fn recvmsg(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    name: Option<&mut [u8; 128]>,
    flags: i32,
) -> Result<(usize, u32, i32), i32> {
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: msghdr is plain data; all-zero is valid (no name, no control).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    if let Some(n) = name {
        msg.msg_name = n.as_mut_ptr().cast();
        msg.msg_namelen = 128;
    }
    // SAFETY: the msghdr points at `buf` and the name buffer, exclusively borrowed for the call.
    let r = check(unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, flags) })?;
    Ok((r, msg.msg_namelen, msg.msg_flags))
}

/// `sendmsg` of one buffer, with ancillary data in the native `cmsghdr` layout (`control`,
/// empty for none: the descriptors an `SCM_RIGHTS` message names are this process's).
pub fn sendmsg(fd: BorrowedFd<'_>, buf: &[u8], name: Option<&[u8]>, control: &[u8], flags: i32) -> SysResult {
    let mut iov = libc::iovec { iov_base: buf.as_ptr() as *mut libc::c_void, iov_len: buf.len() };
    // SAFETY: msghdr is plain data; all-zero is valid (no name, no control).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    if let Some(n) = name {
        msg.msg_name = n.as_ptr() as *mut libc::c_void;
        msg.msg_namelen = n.len() as u32;
    }
    if !control.is_empty() {
        msg.msg_control = control.as_ptr() as *mut libc::c_void;
        msg.msg_controllen = control.len();
    }
    // SAFETY: the msghdr points at buffers borrowed for the call, which the kernel only reads.
    check(unsafe { libc::sendmsg(fd.as_raw_fd(), &msg, flags) })
}

/// `connect` to raw sockaddr bytes.
pub fn connect(fd: BorrowedFd<'_>, addr: &[u8]) -> SysResult {
    // SAFETY: the address bytes are borrowed for the call and only read.
    check(unsafe { libc::connect(fd.as_raw_fd(), addr.as_ptr().cast(), addr.len() as libc::socklen_t) } as isize)
}

/// `accept4`; the new descriptor is ours (close-on-exec). Returns it and the peer address length.
pub fn accept4(fd: BorrowedFd<'_>, addr: Option<&mut [u8; 128]>, flags: i32) -> Result<(OwnedFd, u32), i32> {
    let mut alen: libc::socklen_t = 128;
    let (ap, lp) = match addr {
        Some(a) => (a.as_mut_ptr().cast::<libc::sockaddr>(), &raw mut alen),
        None => (std::ptr::null_mut(), std::ptr::null_mut()),
    };
    // SAFETY: the optional address buffer (128 bytes, `alen` says so) is exclusively borrowed.
    let r = check(unsafe { libc::accept4(fd.as_raw_fd(), ap, lp, flags | libc::SOCK_CLOEXEC) } as isize)?;
    // SAFETY: accept4 just created this descriptor for us; nothing else owns it.
    Ok((unsafe { OwnedFd::from_raw_fd(r as i32) }, alen))
}

/// Sends `sig` to one thread (`tgkill`).
pub fn tgkill(tgid: u32, tid: u32, sig: i32) -> Result<(), i32> {
    // SAFETY: tgkill takes integers only.
    check(unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, sig) } as isize).map(drop)
}

/// Whether the descriptor is a terminal.
pub fn is_tty(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: isatty takes an integer and only queries the descriptor.
    unsafe { libc::isatty(fd.as_raw_fd()) == 1 }
}

/// An integer socket option (`SOL_SOCKET`).
pub fn sockopt_int(fd: BorrowedFd<'_>, opt: i32) -> Result<i32, i32> {
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `v`, exclusively borrowed for the call.
    check(unsafe { libc::getsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, opt, (&raw mut v).cast(), &mut len) } as isize)?;
    Ok(v)
}

/// The socket's local (`peer` false) or peer address, as raw sockaddr bytes.
pub fn sockname(fd: BorrowedFd<'_>, peer: bool) -> Result<Vec<u8>, i32> {
    let mut buf = [0u8; 128];
    let mut len: libc::socklen_t = 128;
    let p = buf.as_mut_ptr().cast::<libc::sockaddr>();
    // SAFETY: the kernel writes at most `len` (128) bytes into `buf`, exclusively borrowed.
    let r = unsafe {
        if peer {
            libc::getpeername(fd.as_raw_fd(), p, &mut len)
        } else {
            libc::getsockname(fd.as_raw_fd(), p, &mut len)
        }
    };
    check(r as isize)?;
    Ok(buf[..(len as usize).min(128)].to_vec())
}

/// The inode number of the open file.
pub fn inode(fd: BorrowedFd<'_>) -> Result<u64, i32> {
    // SAFETY: fstat fills the stat buffer, which is exclusively borrowed for the call.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } as isize)?;
    Ok(st.st_ino)
}

/// `bind` to raw sockaddr bytes.
pub fn bind(fd: BorrowedFd<'_>, addr: &[u8]) -> SysResult {
    // SAFETY: the address bytes are borrowed for the call and only read.
    check(unsafe { libc::bind(fd.as_raw_fd(), addr.as_ptr().cast(), addr.len() as libc::socklen_t) } as isize)
}

/// `socket`; the new descriptor is ours.
pub fn socket(domain: i32, ty: i32, proto: i32) -> Result<OwnedFd, i32> {
    // SAFETY: socket takes integers only.
    let r = check(unsafe { libc::socket(domain, ty, proto) } as isize)?;
    // SAFETY: socket just created this descriptor for us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
}

/// `setsockopt` with the option's bytes.
pub fn setsockopt(fd: BorrowedFd<'_>, level: i32, opt: i32, val: &[u8]) -> SysResult {
    // SAFETY: the value bytes are borrowed for the call and only read; their length is passed.
    check(unsafe { libc::setsockopt(fd.as_raw_fd(), level, opt, val.as_ptr().cast(), val.len() as libc::socklen_t) }
        as isize)
}

/// `listen`.
pub fn listen(fd: BorrowedFd<'_>, backlog: i32) -> SysResult {
    // SAFETY: listen takes integers only.
    check(unsafe { libc::listen(fd.as_raw_fd(), backlog) } as isize)
}

/// One message of [`sendmmsg`]: an optional destination, its bytes, its ancillary data (native
/// layout; empty for none).
pub type Message<'a> = (Option<&'a [u8]>, &'a [u8], &'a [u8]);

/// `sendmmsg` of whole messages. Returns the bytes sent of each message sent, as the kernel
/// reports them.
pub fn sendmmsg(fd: BorrowedFd<'_>, msgs: &[Message<'_>], flags: i32) -> Result<Vec<u32>, i32> {
    let mut iovs: Vec<libc::iovec> = msgs
        .iter()
        .map(|(_, data, _)| libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() })
        .collect();
    let mut hdrs: Vec<libc::mmsghdr> = Vec::with_capacity(msgs.len());
    for (i, (name, _, control)) in msgs.iter().enumerate() {
        // SAFETY: mmsghdr is plain data; all-zero is valid (no name, no control).
        let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
        h.msg_hdr.msg_iov = &raw mut iovs[i];
        h.msg_hdr.msg_iovlen = 1;
        if let Some(n) = name {
            h.msg_hdr.msg_name = n.as_ptr() as *mut libc::c_void;
            h.msg_hdr.msg_namelen = n.len() as u32;
        }
        if !control.is_empty() {
            h.msg_hdr.msg_control = control.as_ptr() as *mut libc::c_void;
            h.msg_hdr.msg_controllen = control.len();
        }
        hdrs.push(h);
    }
    // SAFETY: every header points at an iovec in `iovs` and at name, data and control bytes
    // borrowed from `msgs` for the call; the kernel reads them and writes only the headers'
    // msg_len fields.
    let sent = check(unsafe { libc::sendmmsg(fd.as_raw_fd(), hdrs.as_mut_ptr(), hdrs.len() as u32, flags) } as isize)?;
    Ok(hdrs[..sent].iter().map(|h| h.msg_len).collect())
}

/// Opens `path` as an `O_PATH` descriptor without following any symbolic link on the way
/// (`openat2` with `RESOLVE_NO_SYMLINKS`), so that what was judged by name is what gets used.
pub fn open_path_nofollow(path: &std::ffi::CStr) -> Result<OwnedFd, i32> {
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    const RESOLVE_NO_SYMLINKS: u64 = 0x04;
    const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    let how = OpenHow {
        flags: (libc::O_PATH | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: the path is a valid C string and `how` a valid open_how of the size passed, both
    // borrowed for the call and only read.
    let r = unsafe {
        libc::syscall(libc::SYS_openat2, libc::AT_FDCWD, path.as_ptr(), &raw const how, size_of::<OpenHow>())
    };
    let fd = check(r as isize)?;
    // SAFETY: openat2 just created this descriptor for us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Whether this kernel runs x32 system calls (`CONFIG_X86_X32_ABI` and not disabled at boot):
/// an x32 `getpid` either works or fails with ENOSYS.
pub fn x32_available() -> bool {
    const X32_GETPID: libc::c_long = 0x4000_0000 | libc::SYS_getpid;
    // SAFETY: getpid takes no arguments and has no effect, on any ABI.
    unsafe { libc::syscall(X32_GETPID) >= 0 }
}

/// Whether the events `pfd` asks for are pending now (`poll` without waiting).
pub fn poll_now(pfd: &mut libc::pollfd) -> bool {
    // SAFETY: `pfd` is one live, exclusively borrowed pollfd; the count passed is 1.
    let r = unsafe { libc::poll(pfd, 1, 0) };
    r > 0 && pfd.revents != 0
}

/// RLIMIT_FSIZE of process (or thread) `pid`, soft and hard, as `prlimit(2)` reads it.
pub fn file_size_limit(pid: libc::pid_t) -> Result<(u64, u64), i32> {
    let mut old = libc::rlimit64 { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: prlimit64 with a NULL new limit only writes the old one into `old`, exclusively
    // borrowed for the call.
    let r = unsafe { libc::prlimit64(pid, libc::RLIMIT_FSIZE, std::ptr::null(), &mut old) };
    check(r as isize)?;
    Ok((old.rlim_cur, old.rlim_max))
}
