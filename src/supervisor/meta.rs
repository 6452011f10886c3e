//! Metadata calls executed for the program: the stat family, statx, statfs, readlink, access,
//! getcwd on paths; fstat, fstatfs, getdents64, lseek on descriptors; getsockname,
//! getpeername and getsockopt on sockets. They change nothing but what the program's own call
//! would change (a directory offset, a socket's pending error), and their output arguments
//! (the stat struct, the entries, the link target, the address, the option value) are what the
//! log needs and what a call left to the kernel cannot show.
//!
//! Exact or not at all:
//! - a path is resolved the way the program's lookup would be: from its root (which must be
//!   interpose's, in the same mount namespace), its cwd (`/proc/TID/cwd`) or its directory
//!   descriptor, with its credentials and LSM label ([`super::context`]); the call is then made
//!   on the object found (`AT_EMPTY_PATH` on an `O_PATH` descriptor), so no rename or symlink
//!   swap between the two can make them disagree;
//! - lookups through magic links (`/proc/self/fd/N`, `/dev/stdin`, `/proc/self/cwd`) are not
//!   made (`RESOLVE_NO_MAGICLINKS`), and objects in procfs, whose answers depend on who asks,
//!   are left to the kernel, as are descriptors on filesystems served by user space or the
//!   network (the program may be the server);
//! - arguments the kernel would reject (unknown flags, negative sizes) are left to it, so the
//!   error and its order among the checks are the kernel's own;
//! - a lookup failure (ENOENT, ENOTDIR, EACCES, ENAMETOOLONG) is the program's result; any
//!   other failure of interpose's own steps hands the call to the kernel.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Instant;

use super::context::{Contexts, Program, SERVED_FS};
use super::exec::{Borrow, Done, Executor};
use crate::decode::capture::{Captures, PATH_MAX, Value};
use crate::sys::cred;
use crate::sys::io::{self, SysResult};
use crate::sys::mem;
use crate::sys::meta::{self, Ofd, Walk};
use crate::sys::seccomp::{Listener, Notification};

const PROC_SUPER_MAGIC: i64 = 0x9fa0;
/// Largest getdents64 buffer executed.
const MAX_DENTS: u64 = 4 << 20;
/// Largest getsockopt value executed.
const MAX_OPTVAL: u64 = 64 << 10;

/// Lookup failures that are the program's own result.
fn lookup_error(e: i32) -> bool {
    matches!(e, libc::ENOENT | libc::ENOTDIR | libc::EACCES | libc::ENAMETOOLONG)
}

fn finish(result: SysResult, t: Instant, outputs: Captures) -> Option<Done> {
    Some(Done { result, dur_ns: t.elapsed().as_nanos() as u64, outputs, answered: None, ret_desc: None })
}

/// What getpid, gettid, getppid and getpgrp are answered from, kept per thread between its
/// calls (opening `/proc/TID/stat` and the namespace link at every call cost four times the
/// read): its `/proc/TID/stat`, open, whose reads fail (ESRCH) once that thread is gone, so a
/// later thread given the same id cannot be answered with these; its process id; whether it is
/// in interpose's pid namespace (a task's pid namespace is fixed for its life).
pub(super) struct ThreadIds {
    stat: std::fs::File,
    tgid: u32,
    ours: bool,
}

impl ThreadIds {
    fn open(tid: u32) -> Option<Self> {
        // Opened first: the other two are read by id, and the first read of `stat` succeeding
        // proves the thread it opened was alive throughout, so they were read of it.
        let stat = std::fs::File::open(format!("/proc/{tid}/stat")).ok()?;
        let tgid = crate::sys::pidfd::tgid_of(tid as i32).ok()?;
        Some(Self { stat, tgid, ours: cred::shares_namespace(tid, "pid") })
    }

    /// The thread's stat line, whole, in `buf`: its length, or None when the thread is gone.
    fn read_stat(&self, buf: &mut [u8]) -> Option<usize> {
        use std::os::unix::fs::FileExt;
        let len = self.stat.read_at(buf, 0).ok()?;
        (len > 0 && len < buf.len() && buf[len - 1] == b'\n').then_some(len)
    }
}

/// A path argument, as the lookup will see it.
struct PathArg {
    dirfd: i32,
    text: Vec<u8>,
}

impl Executor {
    /// Executes a metadata call, or None to leave it to the kernel.
    pub(super) fn meta(&mut self, listener: &Listener, n: &Notification) -> Option<Done> {
        if self.exits && !self.log {
            // Exit events give the result and time; only the log needs the output arguments.
            return None;
        }
        let a = n.args();
        let cwd = u64::from(libc::AT_FDCWD as u32);
        match i64::from(n.nr()) {
            // The output buffer by index: what it receives is also that argument's in the log.
            libc::SYS_stat => self.stat(listener, n, cwd, a[0], 1, 0),
            libc::SYS_lstat => self.stat(listener, n, cwd, a[0], 1, libc::AT_SYMLINK_NOFOLLOW),
            libc::SYS_newfstatat => self.stat(listener, n, a[0], a[1], 2, a[3] as i32),
            libc::SYS_fstat => self.fd_stat(listener, n, a[0], 1),
            libc::SYS_statx => self.statx(listener, n),
            libc::SYS_statfs => self.statfs(listener, n, a[0], 1),
            libc::SYS_fstatfs => self.fd_statfs(listener, n, a[0], 1),
            libc::SYS_readlink => self.readlink(listener, n, cwd, a[0], 1, a[2]),
            libc::SYS_readlinkat => self.readlink(listener, n, a[0], a[1], 2, a[3]),
            libc::SYS_access => self.access(listener, n, cwd, a[0], a[1], 0),
            libc::SYS_faccessat => self.access(listener, n, a[0], a[1], a[2], 0),
            libc::SYS_faccessat2 => self.access(listener, n, a[0], a[1], a[2], a[3]),
            libc::SYS_getcwd => self.getcwd(listener, n, 0, a[1]),
            libc::SYS_getdents64 => self.getdents64(listener, n, a[0], a[1], a[2]),
            libc::SYS_lseek => self.lseek(listener, n, a[0], a[1], a[2]),
            libc::SYS_getsockname => self.sockname(listener, n, false),
            libc::SYS_getpeername => self.sockname(listener, n, true),
            libc::SYS_getsockopt => self.getsockopt(listener, n),
            libc::SYS_open => self.open(listener, n, cwd, a[0], a[1]),
            libc::SYS_openat => self.open(listener, n, a[0], a[1], a[2]),
            libc::SYS_dup => self.dup(listener, n, a[0], None, 0),
            libc::SYS_dup2 => self.dup(listener, n, a[0], Some(a[1] as i32), 0),
            libc::SYS_dup3 => self.dup(listener, n, a[0], Some(a[1] as i32), a[2] as i32),
            libc::SYS_fcntl
                if (a[1] as i32 == libc::F_DUPFD || a[1] as i32 == libc::F_DUPFD_CLOEXEC) && a[2] as i32 == 0 =>
            {
                let cloexec = if a[1] as i32 == libc::F_DUPFD_CLOEXEC { libc::O_CLOEXEC } else { 0 };
                self.dup(listener, n, a[0], None, cloexec)
            }
            libc::SYS_fcntl if a[1] as i32 == libc::F_GETFL || a[1] as i32 == libc::F_SETFL => {
                self.on_description(listener, n, Ofd::Fcntl(a[1] as i32, a[2] as i32))
            }
            libc::SYS_fadvise64 => {
                self.on_description(listener, n, Ofd::Fadvise(a[1] as i64, a[2] as i64, a[3] as i32))
            }
            libc::SYS_flock => self.on_description(listener, n, Ofd::Flock(a[1] as i32)),
            libc::SYS_shutdown => self.on_description(listener, n, Ofd::Shutdown(a[1] as i32)),
            libc::SYS_getpid | libc::SYS_gettid | libc::SYS_getppid | libc::SYS_getpgrp => self.ids(listener, n),
            libc::SYS_getuid | libc::SYS_geteuid | libc::SYS_getgid | libc::SYS_getegid => self.uids(listener, n),
            libc::SYS_getxattr => self.getxattr(listener, n, false),
            libc::SYS_lgetxattr => self.getxattr(listener, n, true),
            libc::SYS_chdir => self.probe(listener, n, cwd, a[0], 0),
            _ => None,
        }
    }

    /// Whether `nr` is one [`Self::meta`] knows.
    pub fn meta_handles(nr: u32) -> bool {
        [
            libc::SYS_stat,
            libc::SYS_lstat,
            libc::SYS_newfstatat,
            libc::SYS_fstat,
            libc::SYS_statx,
            libc::SYS_statfs,
            libc::SYS_fstatfs,
            libc::SYS_readlink,
            libc::SYS_readlinkat,
            libc::SYS_access,
            libc::SYS_faccessat,
            libc::SYS_faccessat2,
            libc::SYS_getcwd,
            libc::SYS_getdents64,
            libc::SYS_lseek,
            libc::SYS_getsockname,
            libc::SYS_getpeername,
            libc::SYS_getsockopt,
            libc::SYS_open,
            libc::SYS_openat,
            libc::SYS_chdir,
            libc::SYS_dup,
            libc::SYS_dup2,
            libc::SYS_dup3,
            libc::SYS_fcntl,
            libc::SYS_fadvise64,
            libc::SYS_flock,
            libc::SYS_shutdown,
            libc::SYS_getpid,
            libc::SYS_gettid,
            libc::SYS_getppid,
            libc::SYS_getpgrp,
            libc::SYS_getuid,
            libc::SYS_geteuid,
            libc::SYS_getgid,
            libc::SYS_getegid,
            libc::SYS_getxattr,
            libc::SYS_lgetxattr,
        ]
        .contains(&i64::from(nr))
    }

    /// Whether the trapped calls that change a context matter (anything may be executed).
    pub fn watches_contexts(&self) -> bool {
        !(self.landlocked && self.perm_events)
    }

    /// Thread `tid` is about to make syscall `name`: if it changes the thread's credentials,
    /// root or namespaces, what is known of them is dropped; after a Landlock domain or a
    /// fanotify group, what interpose would execute is restricted (see `exec`'s notes).
    pub fn context_changed(&mut self, tid: u32, name: &str) {
        match name {
            "landlock_restrict_self" => self.landlocked = true,
            "fanotify_init" => self.perm_events = true,
            _ => {}
        }
        if let Some(c) = &mut self.contexts {
            c.changed(tid, name);
        }
    }

    pub(super) fn contexts(&mut self) -> &mut Contexts {
        let landlocked = self.landlocked;
        let c = self.contexts.get_or_insert_with(Contexts::new);
        if landlocked {
            // The domain may have come before any path call made the contexts.
            c.changed(0, "landlock_restrict_self");
        }
        c
    }

    /// Reads the program's path argument; None when it cannot be read whole (the kernel then
    /// says EFAULT or ENAMETOOLONG itself).
    fn path_arg(tid: u32, dirfd: u64, addr: u64) -> Option<PathArg> {
        let mut text = Vec::new();
        if !mem::read_cstr(tid, addr, PATH_MAX - 1, &mut text).ok()? {
            return None;
        }
        Some(PathArg { dirfd: dirfd as i32, text })
    }

    /// Whether a call may run on this descriptor: not in procfs (answers depend on the asker),
    /// not on a filesystem the program may be serving.
    fn plain_fs(fd: BorrowedFd<'_>) -> bool {
        io::fs_magic(fd).is_ok_and(|m| m != PROC_SUPER_MAGIC && !SERVED_FS.contains(&m))
    }

    /// Runs `op` on the object `path` names for thread `tid`, in the program's context:
    /// Some(Ok(value)) or Some(Err(errno)) as the program's call would end, None to decline.
    /// `op` runs with the program's credentials, on the resolved `O_PATH` descriptor.
    fn at_path<T: Send>(
        &mut self,
        tid: u32,
        path: &PathArg,
        walk_nofollow: bool,
        op: impl FnOnce(BorrowedFd<'_>) -> Result<T, i32> + Send,
    ) -> Option<Result<T, i32>> {
        self.at_path_if(tid, path, walk_nofollow, false, op)
    }

    /// [`Self::at_path`], declining also when `need_access_as_is` and access() would switch to
    /// other credentials than the thread's.
    fn at_path_if<T: Send>(
        &mut self,
        tid: u32,
        path: &PathArg,
        walk_nofollow: bool,
        need_access_as_is: bool,
        op: impl FnOnce(BorrowedFd<'_>) -> Result<T, i32> + Send,
    ) -> Option<Result<T, i32>> {
        if path.text.is_empty() {
            // No AT_EMPTY_PATH (callers handle it): the kernel refuses an empty name first.
            return Some(Err(libc::ENOENT));
        }
        let c_path = CString::new(path.text.clone()).ok()?;
        let prog: Program = self.contexts().of(tid)?;
        if need_access_as_is && !prog.access_as_is {
            return None;
        }
        let start: OwnedFd = if path.text[0] == b'/' {
            self.contexts().root()?.try_clone_to_owned().ok()?
        } else if path.dirfd == libc::AT_FDCWD {
            meta::open_dir_path(&CString::new(format!("/proc/{tid}/cwd")).ok()?).ok()?
        } else {
            match self.borrow(tid, path.dirfd as u32 as u64) {
                Ok(fd) => fd,
                Err(Borrow::BadFd) => return Some(Err(libc::EBADF)),
                Err(Borrow::Decline) => return None,
            }
        };
        if !self.contexts().may_start(&prog, start.as_fd()) {
            return None;
        }
        let walk = Walk { nofollow: walk_nofollow, no_xdev: prog.no_xdev };
        let run = move || -> Option<Result<T, i32>> {
            let obj = match meta::resolve(start.as_fd(), &c_path, walk) {
                Ok(obj) => obj,
                Err(e) if lookup_error(e) => return Some(Err(e)),
                // ELOOP may be our refusal of a magic link; EXDEV our mount rule: decline both.
                Err(_) => return None,
            };
            if io::fs_magic(obj.as_fd()).map_or(true, |m| m == PROC_SUPER_MAGIC) {
                return None;
            }
            Some(op(obj.as_fd()))
        };
        match &prog.creds {
            None => run(),
            Some(creds) => cred::run_as(creds, run).ok().flatten(),
        }
    }

    /// Copies `data` to the program's buffer: false when it is not all writable (EFAULT).
    fn put(tid: u32, addr: u64, data: &[u8]) -> bool {
        mem::write(tid, addr, data).is_ok_and(|w| w == data.len())
    }

    fn put_u32(tid: u32, addr: u64, v: u32) -> bool {
        Self::put(tid, addr, &v.to_ne_bytes())
    }

    /// Answers with `result`, first writing its bytes to the buffer argument `buf` points to
    /// when it succeeded (EFAULT when that fails), after checking that the thread still waits
    /// for the answer. The bytes are that argument's output in the log.
    fn answer_with(
        &self,
        listener: &Listener,
        n: &Notification,
        t: Instant,
        result: Result<Vec<u8>, i32>,
        buf: u8,
        value: impl FnOnce(&[u8]) -> usize,
    ) -> Option<Done> {
        if !listener.id_valid(n.id()) {
            return None;
        }
        match result {
            Ok(bytes) => {
                if !Self::put(n.tid(), n.args()[usize::from(buf)], &bytes) {
                    return finish(Err(libc::EFAULT), t, Captures::new());
                }
                let v = value(&bytes);
                let mut outputs = Captures::new();
                if self.log {
                    outputs.put_arg(buf, Value::Bytes { data: bytes, complete: true });
                }
                finish(Ok(v), t, outputs)
            }
            Err(e) => finish(Err(e), t, Captures::new()),
        }
    }

    /// stat, lstat, newfstatat.
    fn stat(
        &mut self,
        listener: &Listener,
        n: &Notification,
        dirfd: u64,
        path: u64,
        buf: u8,
        flags: i32,
    ) -> Option<Done> {
        let known = libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT | libc::AT_EMPTY_PATH;
        if flags & !known != 0 {
            return None;
        }
        let p = Self::path_arg(n.tid(), dirfd, path)?;
        let t = Instant::now();
        let result = if p.text.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
            self.on_fd(n.tid(), p.dirfd, |fd| meta::stat(fd).map(|s| s.to_vec()))?
        } else {
            self.at_path(n.tid(), &p, flags & libc::AT_SYMLINK_NOFOLLOW != 0, |obj| {
                meta::stat(obj).map(|s| s.to_vec())
            })?
        };
        self.answer_with(listener, n, t, result, buf, |_| 0)
    }

    /// `op` on what descriptor `fd` (or the cwd, for AT_FDCWD) refers to: AT_EMPTY_PATH.
    fn on_fd(
        &mut self,
        tid: u32,
        fd: i32,
        op: impl FnOnce(BorrowedFd<'_>) -> Result<Vec<u8>, i32>,
    ) -> Option<Result<Vec<u8>, i32>> {
        // The ids in a stat struct are shown in the caller's user namespace: the program's
        // must be interpose's (part of what the context check says).
        self.contexts().of(tid)?;
        let local = if fd == libc::AT_FDCWD {
            meta::open_dir_path(&CString::new(format!("/proc/{tid}/cwd")).ok()?).ok()?
        } else {
            match self.borrow(tid, fd as u32 as u64) {
                Ok(l) => l,
                Err(Borrow::BadFd) => return Some(Err(libc::EBADF)),
                Err(Borrow::Decline) => return None,
            }
        };
        if !Self::plain_fs(local.as_fd()) {
            return None;
        }
        Some(op(local.as_fd()))
    }

    fn fd_stat(&mut self, listener: &Listener, n: &Notification, fd: u64, buf: u8) -> Option<Done> {
        let t = Instant::now();
        if fd as i32 == libc::AT_FDCWD {
            // fstat(AT_FDCWD) is EBADF, not the cwd.
            return finish(Err(libc::EBADF), t, Captures::new());
        }
        let result = self.on_fd(n.tid(), fd as i32, |l| meta::stat(l).map(|s| s.to_vec()))?;
        self.answer_with(listener, n, t, result, buf, |_| 0)
    }

    fn statx(&mut self, listener: &Listener, n: &Notification) -> Option<Done> {
        let a = n.args();
        let (flags, mask, buf) = (a[2] as i32, a[3] as u32, 4);
        let known = libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT | libc::AT_EMPTY_PATH | libc::AT_STATX_SYNC_TYPE;
        if flags & !known != 0
            || flags & libc::AT_STATX_SYNC_TYPE == libc::AT_STATX_SYNC_TYPE
            || mask & (libc::STATX__RESERVED as u32) != 0
        {
            return None;
        }
        let sync = flags & libc::AT_STATX_SYNC_TYPE;
        let p = Self::path_arg(n.tid(), a[0], a[1])?;
        let t = Instant::now();
        let result = if p.text.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
            self.on_fd(n.tid(), p.dirfd, |fd| meta::statx(fd, sync, mask).map(|s| s.to_vec()))?
        } else {
            self.at_path(n.tid(), &p, flags & libc::AT_SYMLINK_NOFOLLOW != 0, move |obj| {
                meta::statx(obj, sync, mask).map(|s| s.to_vec())
            })?
        };
        self.answer_with(listener, n, t, result, buf, |_| 0)
    }

    fn statfs(&mut self, listener: &Listener, n: &Notification, path: u64, buf: u8) -> Option<Done> {
        let p = Self::path_arg(n.tid(), u64::from(libc::AT_FDCWD as u32), path)?;
        let t = Instant::now();
        let result = self.at_path(n.tid(), &p, false, |obj| meta::statfs(obj).map(|s| s.to_vec()))?;
        self.answer_with(listener, n, t, result, buf, |_| 0)
    }

    fn fd_statfs(&mut self, listener: &Listener, n: &Notification, fd: u64, buf: u8) -> Option<Done> {
        let t = Instant::now();
        if fd as i32 == libc::AT_FDCWD {
            return finish(Err(libc::EBADF), t, Captures::new());
        }
        let result = self.on_fd(n.tid(), fd as i32, |l| meta::statfs(l).map(|s| s.to_vec()))?;
        self.answer_with(listener, n, t, result, buf, |_| 0)
    }

    /// readlink, readlinkat.
    fn readlink(
        &mut self,
        listener: &Listener,
        n: &Notification,
        dirfd: u64,
        path: u64,
        buf: u8,
        size: u64,
    ) -> Option<Done> {
        let size = size as i32;
        if size <= 0 {
            return None;
        }
        let p = Self::path_arg(n.tid(), dirfd, path)?;
        if p.text.is_empty() {
            // readlinkat(fd, "") reads the descriptor's own link: left to the kernel.
            return None;
        }
        let t = Instant::now();
        let max = (size as usize).min(PATH_MAX);
        let result = self.at_path(n.tid(), &p, true, move |obj| match meta::stat(obj) {
            Ok(st) if stat_mode(&st) & libc::S_IFMT == libc::S_IFLNK => meta::readlink(obj, max),
            // Not a symlink: the kernel says EINVAL for a named path.
            Ok(_) => Err(libc::EINVAL),
            Err(e) => Err(e),
        })?;
        self.answer_with(listener, n, t, result, buf, <[u8]>::len)
    }

    /// access, faccessat, faccessat2.
    fn access(
        &mut self,
        listener: &Listener,
        n: &Notification,
        dirfd: u64,
        path: u64,
        mode: u64,
        flags: u64,
    ) -> Option<Done> {
        let (mode, flags) = (mode as i32, flags as i32);
        let known = libc::AT_EACCESS | libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH;
        if mode & !7 != 0 || flags & !known != 0 {
            return None;
        }
        let p = Self::path_arg(n.tid(), dirfd, path)?;
        if p.text.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
            return None;
        }
        let t = Instant::now();
        let aflags = flags & libc::AT_EACCESS;
        // access() checks with the real ids, and its lookup runs with them too: only when they
        // are the ones the lookup below uses.
        let nofollow = flags & libc::AT_SYMLINK_NOFOLLOW != 0;
        let result = self.at_path_if(n.tid(), &p, nofollow, aflags == 0, move |obj| meta::access(obj, mode, aflags))?;
        if !listener.id_valid(n.id()) {
            return None;
        }
        finish(result, t, Captures::new())
    }

    fn getcwd(&mut self, listener: &Listener, n: &Notification, buf: u8, size: u64) -> Option<Done> {
        let tid = n.tid();
        self.contexts().of(tid)?;
        let t = Instant::now();
        let text = std::fs::read_link(format!("/proc/{tid}/cwd")).ok()?;
        let text = std::os::unix::ffi::OsStrExt::as_bytes(text.as_os_str()).to_vec();
        if text.first() != Some(&b'/') || text.ends_with(b" (deleted)") {
            return None;
        }
        // The text must name the cwd itself from the shared root (not a detached mount's path).
        let cwd = meta::open_dir_path(&CString::new(format!("/proc/{tid}/cwd")).ok()?).ok()?;
        let root = self.contexts().root()?;
        let named =
            meta::resolve(root, &CString::new(text.clone()).ok()?, Walk { nofollow: true, no_xdev: false }).ok()?;
        if meta::mount_and_inode(named.as_fd()).is_none()
            || meta::mount_and_inode(named.as_fd()) != meta::mount_and_inode(cwd.as_fd())
        {
            return None;
        }
        let mut bytes = text;
        bytes.push(0);
        let result = if bytes.len() as u64 > size { Err(libc::ERANGE) } else { Ok(bytes) };
        self.answer_with(listener, n, t, result, buf, <[u8]>::len)
    }

    fn getdents64(&mut self, listener: &Listener, n: &Notification, fd: u64, dirp: u64, count: u64) -> Option<Done> {
        let count = count as u32 as u64;
        if count > MAX_DENTS || self.perm_events {
            return None;
        }
        let tid = n.tid();
        let t = Instant::now();
        let local = borrow_or_return!(self, tid, fd);
        if !Self::plain_fs(local.as_fd()) || !listener.id_valid(n.id()) {
            return None;
        }
        let mut buf = vec![0u8; count as usize];
        let result = meta::getdents64(local.as_fd(), &mut buf);
        let Ok(got) = result else { return finish(result, t, Captures::new()) };
        if !Self::put(tid, dirp, &buf[..got]) {
            tracing::warn!(
                tid,
                fd,
                "cannot copy executed getdents64 entries into the target's buffer; answering EFAULT"
            );
            return finish(Err(libc::EFAULT), t, Captures::new());
        }
        let mut outputs = Captures::new();
        if self.log {
            // getdents64(fd, dirp, count): the log shows how many entries `dirp` received.
            outputs.put_arg(1, Value::Count(dirent_count(&buf[..got])));
        }
        finish(Ok(got), t, outputs)
    }

    /// open, openat and chdir, which only the kernel can complete: their lookup is made first in
    /// the program's context, and when it fails (ENOENT, ENOTDIR, EACCES, ENAMETOOLONG) that is
    /// the call's result, with no effect, exactly as the kernel would have failed it. When it
    /// succeeds the call goes to the kernel. Not for opens that may create (O_CREAT,
    /// O_TMPFILE), and not when exit events report results anyway (the lookup would be made
    /// twice for nothing).
    fn probe(&mut self, listener: &Listener, n: &Notification, dirfd: u64, path: u64, flags: u64) -> Option<Done> {
        let flags = flags as i32;
        if self.exits || creates(flags) {
            return None;
        }
        let p = Self::path_arg(n.tid(), dirfd, path)?;
        let t = Instant::now();
        match self.at_path(n.tid(), &p, flags & libc::O_NOFOLLOW != 0, |_| Ok(()))? {
            Ok(()) => None,
            Err(e) => {
                if !listener.id_valid(n.id()) {
                    return None;
                }
                finish(Err(e), t, Captures::new())
            }
        }
    }

    /// open, openat without exit events: a failed lookup is answered as [`Self::probe`] does; a
    /// regular file or directory found in the program's context, with its credentials
    /// (interpose's own), on a filesystem that computes nothing for the opener, is opened by
    /// interpose and installed in the program at the lowest free number with ADDFD, which
    /// answers the call in the same step. Opens that create or truncate, and any open whose
    /// final step fails, go to the kernel (a failed open has no effect, so the kernel's own
    /// attempt gives the program its own error).
    fn open(&mut self, listener: &Listener, n: &Notification, dirfd: u64, path: u64, flags: u64) -> Option<Done> {
        let flags = flags as i32;
        if self.exits || self.perm_events || creates(flags) || flags & libc::O_TRUNC != 0 {
            return None;
        }
        let p = Self::path_arg(n.tid(), dirfd, path)?;
        let t = Instant::now();
        let tid = n.tid();
        let found = self.at_path(tid, &p, flags & libc::O_NOFOLLOW != 0, |obj| {
            Ok(obj.try_clone_to_owned().map_err(|e| e.raw_os_error().unwrap_or(libc::EIO)))
        })?;
        let obj = match found {
            Ok(Ok(obj)) => obj,
            Ok(Err(_)) => return None,
            Err(e) => {
                if !listener.id_valid(n.id()) {
                    return None;
                }
                return finish(Err(e), t, Captures::new());
            }
        };
        // Opened as interpose: only when the program's credentials are interpose's.
        if self.contexts().of(tid)?.creds.is_some() {
            return None;
        }
        let ty = stat_mode(&meta::stat(obj.as_fd()).ok()?) & libc::S_IFMT;
        if (ty != libc::S_IFREG && ty != libc::S_IFDIR) || !Self::plain_fs(obj.as_fd()) || Self::pseudo(obj.as_fd()) {
            return None;
        }
        // Opened without waiting: an open that must first break another holder's lease waits
        // for it (up to /proc/sys/fs/lease-break-time), and the holder may be the program,
        // waiting for interpose. Non-blocking, such an open fails with EWOULDBLOCK (the break
        // is started, as the program's own open would start it) and the kernel's open waits
        // natively. O_NONBLOCK is then cleared unless the program asked for it.
        let file =
            meta::reopen(obj.as_fd(), (flags & !(libc::O_NOFOLLOW | libc::O_CLOEXEC)) | libc::O_NONBLOCK).ok()?;
        if flags & libc::O_NONBLOCK == 0 && meta::clear_nonblock(file.as_fd()).is_err() {
            return None;
        }
        let dur_ns = t.elapsed().as_nanos() as u64;
        let (result, answered) = match listener.add_fd_and_answer(n.id(), file.as_fd(), flags & libc::O_CLOEXEC != 0) {
            Ok(newfd) => (Ok(newfd as usize), Some(true)),
            Err(libc::ENOENT) => (Err(libc::ENOENT), Some(false)),
            Err(e) => (Err(e), None),
        };
        Some(Done { result, dur_ns, outputs: Captures::new(), answered, ret_desc: None })
    }

    /// Whether the descriptor is on a filesystem whose files compute their contents (and may
    /// act) for whoever opens them: sysfs, debugfs, tracefs...
    fn pseudo(fd: BorrowedFd<'_>) -> bool {
        io::fs_magic(fd).map_or(true, |m| super::exec::PSEUDO_FS.contains(&m))
    }

    /// dup, dup2, dup3, fcntl F_DUPFD(_CLOEXEC) with 0, without exit events: the program's own
    /// open file, installed again with ADDFD (at the lowest free number, or at `newfd`,
    /// replacing what is there in the program's own context, as dup2 does).
    fn dup(&mut self, listener: &Listener, n: &Notification, old: u64, newfd: Option<i32>, flags: i32) -> Option<Done> {
        if self.exits || flags & !libc::O_CLOEXEC != 0 || newfd.is_some_and(|f| f < 0) {
            return None;
        }
        if newfd == Some(old as i32) && n.nr() == libc::SYS_dup3 as i32 {
            // dup3 onto itself is the kernel's EINVAL.
            return None;
        }
        let t = Instant::now();
        let local = borrow_or_return!(self, n.tid(), old);
        if newfd == Some(old as i32) {
            // dup2 onto itself: the number, when it is open.
            return finish(Ok(old as i32 as usize), t, Captures::new());
        }
        let cloexec = flags & libc::O_CLOEXEC != 0;
        if let (Some(at), Some(cache)) = (newfd, &self.cache) {
            // What `at` was goes now: interpose's copy of it first.
            cache.forget(n.tid(), at);
        }
        let added = match newfd {
            None => listener.add_fd_and_answer(n.id(), local.as_fd(), cloexec),
            Some(at) => listener.add_fd_at_and_answer(n.id(), local.as_fd(), at, cloexec),
        };
        let dur_ns = t.elapsed().as_nanos() as u64;
        let (result, answered) = match added {
            Ok(fd) => (Ok(fd as usize), Some(true)),
            Err(libc::ENOENT) => (Err(libc::ENOENT), Some(false)),
            Err(e) => (Err(e), None),
        };
        Some(Done { result, dur_ns, outputs: Captures::new(), answered, ret_desc: None })
    }

    /// getpid, gettid, getppid, getpgrp, logged without exit events: the numbers interpose sees
    /// are the program's when it is in interpose's pid namespace.
    fn ids(&mut self, listener: &Listener, n: &Notification) -> Option<Done> {
        if self.exits || !self.log {
            return None;
        }
        let t = Instant::now();
        let tid = n.tid();
        let mut stat = [0u8; 1024];
        let mut fresh = false;
        let (len, ids) = loop {
            if !self.ids.contains_key(&tid) {
                if self.ids.len() >= super::exec::MAX_PIDFDS {
                    self.ids.clear();
                }
                self.ids.insert(tid, ThreadIds::open(tid)?);
                fresh = true;
            }
            let ids = self.ids.get(&tid).expect("inserted above");
            match ids.read_stat(&mut stat) {
                Some(len) => break (len, ids),
                // Gone: a thread that had this id before. Once for the new one, then give up.
                None if !fresh => {
                    self.ids.remove(&tid);
                }
                None => {
                    self.ids.remove(&tid);
                    return None;
                }
            }
        };
        if !ids.ours {
            return None;
        }
        let v = match i64::from(n.nr()) {
            libc::SYS_gettid => tid,
            libc::SYS_getpid => ids.tgid,
            // "pid (comm) state ppid pgrp ...", comm may hold anything.
            nr => {
                let line = &stat[..len];
                let rest = &line[line.iter().rposition(|&b| b == b')')? + 1..];
                let at = if nr == libc::SYS_getppid { 1 } else { 2 };
                let field = rest.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty()).nth(at)?;
                std::str::from_utf8(field).ok()?.parse().ok()?
            }
        };
        if !listener.id_valid(n.id()) {
            return None;
        }
        finish(Ok(v as usize), t, Captures::new())
    }

    /// getuid, geteuid, getgid, getegid, logged without exit events: the ids /proc shows, which
    /// are the program's own when it is in interpose's user namespace.
    fn uids(&mut self, listener: &Listener, n: &Notification) -> Option<Done> {
        if self.exits || !self.log || !cred::shares_namespace(n.tid(), "user") {
            return None;
        }
        let t = Instant::now();
        let c = cred::Creds::of_thread(n.tid()).ok()?;
        let v = match i64::from(n.nr()) {
            libc::SYS_getuid => c.uid(0),
            libc::SYS_geteuid => c.uid(1),
            libc::SYS_getgid => c.gid(0),
            _ => c.gid(1),
        };
        if !listener.id_valid(n.id()) {
            return None;
        }
        finish(Ok(v as usize), t, Captures::new())
    }

    /// getxattr, lgetxattr: the attribute of the object the path names in the program's
    /// context, read as interpose when the program's credentials are interpose's (xattr
    /// permissions are the reader's). Symlinks themselves (lgetxattr on one) go to the kernel.
    fn getxattr(&mut self, listener: &Listener, n: &Notification, nofollow: bool) -> Option<Done> {
        const XATTR_NAME_MAX: usize = 255;
        const XATTR_SIZE_MAX: u64 = 65536;
        let a = n.args();
        let tid = n.tid();
        let p = Self::path_arg(tid, u64::from(libc::AT_FDCWD as u32), a[0])?;
        let mut name = Vec::new();
        if !mem::read_cstr(tid, a[1], XATTR_NAME_MAX, &mut name).ok()? || name.is_empty() {
            return None;
        }
        let name = CString::new(name).ok()?;
        let size = a[3];
        if self.contexts().of(tid)?.creds.is_some() {
            return None;
        }
        let want = size.min(XATTR_SIZE_MAX) as usize;
        let t = Instant::now();
        let result = self.at_path(tid, &p, nofollow, |obj| match meta::stat(obj) {
            Ok(st) if stat_mode(&st) & libc::S_IFMT == libc::S_IFLNK => Ok(None),
            Ok(_) => match meta::getxattr(obj, &name, want) {
                Ok(v) => Ok(Some(Ok(v))),
                Err(e) => Ok(Some(Err(e))),
            },
            Err(e) => Err(e),
        })?;
        let result = match result {
            Ok(None) => return None,
            Ok(Some(r)) => r,
            Err(e) => Err(e),
        };
        if !listener.id_valid(n.id()) {
            return None;
        }
        match result {
            Ok(bytes) if want == 0 => {
                let need = usize::from_ne_bytes(bytes.as_slice().try_into().ok()?);
                finish(Ok(need), t, Captures::new())
            }
            ok @ Ok(_) => self.answer_with(listener, n, t, ok, 2, <[u8]>::len),
            // ERANGE and the rest: the kernel's answer for that size.
            Err(e) => finish(Err(e), t, Captures::new()),
        }
    }

    /// Calls whose effect is on the open file description the program's descriptor shares
    /// with interpose's borrowed copy, that show nothing of their caller and return at once:
    /// made on the copy, without exit events (with them the kernel's exit says the result).
    /// Not fsync and fdatasync, which may wait on the disk for long while every other traced
    /// call waits for interpose. Not: a flock that
    /// would wait (only LOCK_NB is made), F_SETFL with O_NOATIME (the caller must own the file)
    /// or O_ASYNC set or cleared (SIGIO is registered by descriptor number), anything on procfs
    /// or on a filesystem the program may be serving.
    fn on_description(&mut self, listener: &Listener, n: &Notification, op: Ofd) -> Option<Done> {
        match op {
            Ofd::Flock(how) if how & libc::LOCK_NB == 0 && how & libc::LOCK_UN == 0 => return None,
            Ofd::Fcntl(libc::F_SETFL, flags) if flags & libc::O_NOATIME != 0 => return None,
            _ => {}
        }
        if self.exits {
            return None;
        }
        let t = Instant::now();
        let local = borrow_or_return!(self, n.tid(), n.args()[0]);
        if !Self::plain_fs(local.as_fd()) {
            return None;
        }
        if let Ofd::Fcntl(libc::F_SETFL, flags) = op {
            // O_ASYNC registers (or drops) the caller's descriptor number for SIGIO: interpose's
            // number would be the one registered.
            let now = meta::on_description(local.as_fd(), Ofd::Fcntl(libc::F_GETFL, 0)).ok()? as i32;
            if (now | flags) & libc::O_ASYNC != 0 {
                return None;
            }
        }
        if !listener.id_valid(n.id()) {
            return None;
        }
        finish(meta::on_description(local.as_fd(), op), t, Captures::new())
    }

    fn lseek(&mut self, listener: &Listener, n: &Notification, fd: u64, offset: u64, whence: u64) -> Option<Done> {
        let t = Instant::now();
        let local = borrow_or_return!(self, n.tid(), fd);
        if !Self::plain_fs(local.as_fd()) || !listener.id_valid(n.id()) {
            return None;
        }
        finish(meta::lseek(local.as_fd(), offset as i64, whence as i32), t, Captures::new())
    }

    /// getsockname, getpeername(fd, addr, addrlen): the address (cut to the program's length)
    /// and its real length.
    fn sockname(&mut self, listener: &Listener, n: &Notification, peer: bool) -> Option<Done> {
        let (fd, lenp) = (n.args()[0], n.args()[2]);
        let tid = n.tid();
        let len = self.read_u32(tid, lenp)?;
        if (len as i32) < 0 {
            return None;
        }
        let t = Instant::now();
        let local = borrow_or_return!(self, tid, fd);
        if !listener.id_valid(n.id()) {
            return None;
        }
        let (sa, real) = match meta::sockname(local.as_fd(), peer) {
            Ok(x) => x,
            Err(e) => return finish(Err(e), t, Captures::new()),
        };
        let shown = (len as usize).min(real as usize).min(sa.len());
        self.answer_sized(n, t, (1, &sa[..shown]), (2, len, real))
    }

    /// The end of a call that fills a buffer and its length (getsockname, getsockopt): `data`
    /// in the buffer argument `buf` points to, the length the kernel reports (`after`) in the
    /// length argument `len`; for the log, the bytes with the length before and after, as the
    /// buffer argument's output. EFAULT when the program's memory cannot take them.
    fn answer_sized(
        &self,
        n: &Notification,
        t: Instant,
        (buf, data): (u8, &[u8]),
        (len, before, after): (u8, u32, u32),
    ) -> Option<Done> {
        let (tid, a) = (n.tid(), n.args());
        if !Self::put(tid, a[usize::from(buf)], data) || !Self::put_u32(tid, a[usize::from(len)], after) {
            return finish(Err(libc::EFAULT), t, Captures::new());
        }
        let mut outputs = Captures::new();
        if self.log {
            outputs.put_arg(buf, Value::Filled { data: data.to_vec(), len_in: before, len_out: after });
        }
        finish(Ok(0), t, outputs)
    }

    fn getsockopt(&mut self, listener: &Listener, n: &Notification) -> Option<Done> {
        let a = n.args();
        let (fd, level, name, val, lenp) = (a[0], a[1] as i32, a[2] as i32, a[3], a[4]);
        if !plain_sockopt(level, name) {
            return None;
        }
        let tid = n.tid();
        // The peer's pid, uid and gids are shown in the caller's namespaces.
        if level == libc::SOL_SOCKET
            && matches!(name, libc::SO_PEERCRED | libc::SO_PEERGROUPS)
            && !(cred::shares_namespace(tid, "pid") && cred::shares_namespace(tid, "user"))
        {
            return None;
        }
        let len = self.read_u32(tid, lenp)?;
        if (len as i32) < 0 || u64::from(len) > MAX_OPTVAL {
            return None;
        }
        // Some options read the value buffer: start from the program's bytes.
        let mut buf = vec![0u8; len as usize];
        if mem::read(tid, val, &mut buf).ok()? != buf.len() {
            return None;
        }
        let t = Instant::now();
        let local = borrow_or_return!(self, tid, fd);
        if !listener.id_valid(n.id()) {
            return None;
        }
        let out = match meta::getsockopt(local.as_fd(), level, name, &mut buf) {
            Ok(out) => out,
            Err(e) => return finish(Err(e), t, Captures::new()),
        };
        let shown = (out as usize).min(buf.len());
        // getsockopt(fd, level, optname, optval, optlen).
        self.answer_sized(n, t, (3, &buf[..shown]), (4, len, out))
    }
}

/// Whether an open may create a file: O_CREAT, or O_TMPFILE (which includes O_DIRECTORY's bit).
fn creates(flags: i32) -> bool {
    flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE
}

/// `st_mode` of a raw x86_64 `struct stat`.
fn stat_mode(st: &[u8]) -> u32 {
    u32::from_ne_bytes(st[24..28].try_into().expect("struct stat holds st_mode at 24"))
}

/// The number of entries in a getdents64 result.
fn dirent_count(buf: &[u8]) -> u64 {
    let (mut at, mut count) = (0usize, 0u64);
    while at + 19 <= buf.len() {
        let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
        if reclen == 0 {
            break;
        }
        count += 1;
        at += reclen;
    }
    count
}

/// Socket options whose value is the socket's alone: reading them as interpose reads what the
/// program would. Not: options that install a descriptor or map memory in the caller
/// (SO_PEERPIDFD, TCP_ZEROCOPY_RECEIVE), nor the firewall and multicast-routing ranges of the
/// IP levels, which answer from the caller's privileges and namespace tables.
fn plain_sockopt(level: i32, name: i32) -> bool {
    const SO_PEERPIDFD: i32 = 77;
    const TCP_ZEROCOPY_RECEIVE: i32 = 35;
    match level {
        libc::SOL_SOCKET => name != SO_PEERPIDFD,
        libc::IPPROTO_TCP => name != TCP_ZEROCOPY_RECEIVE,
        libc::IPPROTO_UDP => true,
        libc::IPPROTO_IP | libc::IPPROTO_IPV6 => name < 64,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_mode_offset_is_the_kernels() {
        assert_eq!(std::mem::offset_of!(libc::stat, st_mode), 24);
    }

    #[test]
    fn counts_dirents() {
        let mut buf = vec![0u8; 48];
        buf[16..18].copy_from_slice(&24u16.to_ne_bytes());
        buf[40..42].copy_from_slice(&24u16.to_ne_bytes());
        assert_eq!(dirent_count(&buf), 2);
    }
}
