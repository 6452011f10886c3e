//! Files by name: the *at family, stat and statx, access, xattrs, links, modes and owners
//! (strace's `file.c`, `stat.c`, `statx.c`, `xattr.c`, `access.c`, `open.c`).
//!
//! The path a call names is captured at entry (the `Path`/`AtPath` shapes); a second path or a
//! name string (rename's target, getxattr's name) is one of the row's extra captures.

use std::fmt::Write;

use super::Cap;
use super::format::Args;
use super::xlat::{self, Table, x};

/// The `AT_*` flags of newfstatat, unlinkat, fchownat, linkat, utimensat...
pub static AT_FLAGS: Table =
    x![AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_NO_AUTOMOUNT, AT_EMPTY_PATH, AT_RECURSIVE];

/// faccessat2's flags: 0x200 is AT_EACCESS here, not AT_REMOVEDIR.
pub static FACCESSAT_FLAGS: Table = x![AT_SYMLINK_NOFOLLOW, AT_EACCESS, AT_EMPTY_PATH];

pub static STATX_SYNC: Table = x![AT_STATX_SYNC_AS_STAT, AT_STATX_FORCE_SYNC, AT_STATX_DONT_SYNC];
const AT_STATX_SYNC_TYPE: u64 = 0x6000;

pub static STATX_MASK: Table = x![
    STATX_ALL,
    STATX_BASIC_STATS,
    STATX_TYPE,
    STATX_MODE,
    STATX_NLINK,
    STATX_UID,
    STATX_GID,
    STATX_ATIME,
    STATX_MTIME,
    STATX_CTIME,
    STATX_INO,
    STATX_SIZE,
    STATX_BLOCKS,
    STATX_BTIME,
    STATX_MNT_ID,
    STATX_DIOALIGN,
];

pub static RENAME_FLAGS: Table = x![RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT];

pub static FILE_TYPES: Table = x![S_IFREG, S_IFSOCK, S_IFIFO, S_IFLNK, S_IFDIR, S_IFBLK, S_IFCHR];

/// A uid or gid: `-1` for "unchanged", else unsigned.
pub fn id(a: &mut Args, v: u64) {
    let v = v as u32;
    if v == u32::MAX {
        a.arg().push_str("-1");
    } else {
        a.uint(u64::from(v));
    }
}

fn at_flags(a: &mut Args, v: u64) {
    a.flags(AT_FLAGS, v as u32 as u64, "0");
}

/// `S_IFCHR|0600` and, for devices, `makedev(0x1, 0x3)`.
fn mknod_mode(a: &mut Args, mode: u64, dev: u64) {
    let mode = mode as u32;
    let ty = u64::from(mode) & libc::S_IFMT as u64;
    let out = a.arg();
    if ty != 0 {
        xlat::constant(out, FILE_TYPES, ty, "S_IF");
        out.push('|');
    }
    let _ = write!(out, "{:#03o}", mode & 0o7777);
    if ty == libc::S_IFCHR as u64 || ty == libc::S_IFBLK as u64 {
        let (major, minor) = (libc::major(dev), libc::minor(dev));
        let _ = write!(a.arg(), "makedev({major:#x}, {minor:#x})");
    }
}

/// stat(path, buf), lstat, statfs(path, buf): the struct is an output.
pub fn path_ptr(a: &mut Args, v: &[u64; 6]) {
    a.path();
    a.ptr(v[1]);
}

/// newfstatat(dirfd, path, statbuf, flags).
pub fn newfstatat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path();
    a.ptr(v[2]);
    at_flags(a, v[3]);
}

/// statx(dirfd, path, flags, mask, statxbuf).
pub fn statx(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path();
    let flags = v[2] as u32 as u64;
    let out = a.arg();
    xlat::constant(out, STATX_SYNC, flags & AT_STATX_SYNC_TYPE, "AT_STATX_");
    if flags & !AT_STATX_SYNC_TYPE != 0 {
        out.push('|');
        xlat::flags(out, AT_FLAGS, flags & !AT_STATX_SYNC_TYPE, "0");
    }
    a.flags(STATX_MASK, v[3] as u32 as u64, "0");
    a.ptr(v[4]);
}

/// faccessat(dirfd, path, mode), faccessat2(dirfd, path, mode, flags).
pub fn faccessat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path();
    a.access_mode(v[2]);
}

pub fn faccessat2(a: &mut Args, v: &[u64; 6]) {
    faccessat(a, v);
    a.flags(FACCESSAT_FLAGS, v[3] as u32 as u64, "0");
}

/// readlink(path, buf, bufsiz): the buffer is an output.
pub fn readlink(a: &mut Args, v: &[u64; 6]) {
    a.path();
    a.ptr(v[1]);
    a.udec(v[2]);
}

/// readlinkat(dirfd, path, buf, bufsiz).
pub fn readlinkat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path();
    a.ptr(v[2]);
    a.udec(v[3]);
}

/// getxattr(path, name, value, size), lgetxattr: the name is captured (`Cap::Str(1)`), the
/// value is an output.
pub fn getxattr(a: &mut Args, v: &[u64; 6]) {
    a.path();
    a.string(v[1]);
    a.ptr(v[2]);
    a.udec(v[3]);
}

/// fgetxattr(fd, name, value, size).
pub fn fgetxattr(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.string(v[1]);
    a.ptr(v[2]);
    a.udec(v[3]);
}

pub static XATTR_FLAGS: Table = x![XATTR_CREATE, XATTR_REPLACE];

/// The kernel's `XATTR_SIZE_MAX`: strace shows a larger value as its address.
const XATTR_SIZE_MAX: u64 = 65536;

/// The setxattr family's captures: the name, then the value.
pub const XATTR_SET_CAPS: &[Cap] = &[Cap::Str(1), Cap::Sized { arg: 2, len_arg: 3 }];

/// An xattr value as strace's `print_xattr_val`: the first `-s` bytes, without the last one
/// when it is a NUL; the address when larger than the kernel accepts.
fn xattr_value(a: &mut Args, addr: u64, size: u64) {
    if size > XATTR_SIZE_MAX {
        let _ = a.captured();
        a.ptr(addr);
    } else {
        a.sized_string(addr, size, true);
    }
}

/// setxattr(path, name, value, size, flags), lsetxattr.
pub fn setxattr(a: &mut Args, v: &[u64; 6]) {
    a.path();
    a.string(v[1]);
    xattr_value(a, v[2], v[3]);
    a.udec(v[3]);
    a.flags(XATTR_FLAGS, v[4] as u32 as u64, "0");
}

pub fn fsetxattr(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.string(v[1]);
    xattr_value(a, v[2], v[3]);
    a.udec(v[3]);
    a.flags(XATTR_FLAGS, v[4] as u32 as u64, "0");
}

/// listxattr(path, list, size), llistxattr.
pub fn listxattr(a: &mut Args, v: &[u64; 6]) {
    a.path();
    a.ptr(v[1]);
    a.udec(v[2]);
}

pub fn flistxattr(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.ptr(v[1]);
    a.udec(v[2]);
}

/// removexattr(path, name), lremovexattr.
pub fn removexattr(a: &mut Args, v: &[u64; 6]) {
    a.path();
    a.string(v[1]);
}

/// fremovexattr(fd, name).
pub fn fremovexattr(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.string(v[1]);
}

/// getcwd(buf, size): the buffer is an output.
pub fn getcwd(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
}

/// mkdirat(dirfd, path, mode), fchmodat(dirfd, path, mode).
pub fn at_mode(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path();
    a.mode(v[2]);
}

/// fchmodat2(dirfd, path, mode, flags).
pub fn fchmodat2(a: &mut Args, v: &[u64; 6]) {
    at_mode(a, v);
    at_flags(a, v[3]);
}

/// mknod(path, mode, dev).
pub fn mknod(a: &mut Args, v: &[u64; 6]) {
    a.path();
    mknod_mode(a, v[1], v[2]);
}

pub fn mknodat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path();
    mknod_mode(a, v[2], v[3]);
}

/// unlinkat(dirfd, path, flags).
pub fn unlinkat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path();
    at_flags(a, v[2]);
}

/// rename(old, new), link, symlink: the second path is an extra capture (`Cap::Path(1)`).
pub fn two_paths(a: &mut Args, v: &[u64; 6]) {
    a.path();
    a.string(v[1]);
}

/// renameat(olddirfd, oldpath, newdirfd, newpath), renameat2(..., flags).
pub fn renameat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path();
    a.dirfd(v[2]);
    a.string(v[3]);
}

pub fn renameat2(a: &mut Args, v: &[u64; 6]) {
    renameat(a, v);
    a.flags(RENAME_FLAGS, v[4] as u32 as u64, "0");
}

/// linkat(olddirfd, oldpath, newdirfd, newpath, flags).
pub fn linkat(a: &mut Args, v: &[u64; 6]) {
    renameat(a, v);
    at_flags(a, v[4]);
}

/// symlinkat(target, newdirfd, linkpath): the shape's path is the target.
pub fn symlinkat(a: &mut Args, v: &[u64; 6]) {
    a.path();
    a.dirfd(v[1]);
    a.string(v[2]);
}

/// chown(path, owner, group), lchown.
pub fn chown(a: &mut Args, v: &[u64; 6]) {
    a.path();
    id(a, v[1]);
    id(a, v[2]);
}

/// fchownat(dirfd, path, owner, group, flags).
pub fn fchownat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path();
    id(a, v[2]);
    id(a, v[3]);
    at_flags(a, v[4]);
}

/// truncate(path, length).
pub fn truncate(a: &mut Args, v: &[u64; 6]) {
    a.path();
    a.sdec(v[1]);
}

/// utimensat(dirfd, path, times, flags): a NULL path is the descriptor itself.
pub fn utimensat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path();
    a.ptr(v[2]);
    at_flags(a, v[3]);
}

/// umask(mask): `022`.
pub fn umask(a: &mut Args, v: &[u64; 6]) {
    a.mode(v[0]);
}

/// openat2(dirfd, path, how, size): the struct is not captured.
pub fn openat2(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path();
    a.ptr(v[2]);
    a.udec(v[3]);
}

pub static MFD_FLAGS: Table = x![MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB, MFD_NOEXEC_SEAL = 8, MFD_EXEC = 0x10];

/// memfd_create(name, flags): the name is captured as a path.
pub fn memfd_create(a: &mut Args, v: &[u64; 6]) {
    a.path();
    a.flags(MFD_FLAGS, v[1] as u32 as u64, "0");
}

/// inotify_add_watch(fd, path, mask): the path is not first, so not captured.
pub fn inotify_add_watch(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.ptr(v[1]);
    a.hex(v[2]);
}
