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
    super::format::file_mode(out, mode & 0o7777);
    if ty == libc::S_IFCHR as u64 || ty == libc::S_IFBLK as u64 {
        makedev(a.arg(), dev);
    }
}

/// newfstatat(dirfd, path, statbuf, flags).
pub fn newfstatat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path(1);
    a.out_struct(2, stat_struct);
    at_flags(a, v[3]);
}

/// statx(dirfd, path, flags, mask, statxbuf).
pub fn statx(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path(1);
    let flags = v[2] as u32 as u64;
    let out = a.arg();
    xlat::constant(out, STATX_SYNC, flags & AT_STATX_SYNC_TYPE, "AT_STATX_");
    if flags & !AT_STATX_SYNC_TYPE != 0 {
        out.push('|');
        xlat::flags(out, AT_FLAGS, flags & !AT_STATX_SYNC_TYPE, "0");
    }
    a.flags(STATX_MASK, v[3] as u32 as u64, "0");
    a.out_struct(4, statx_struct);
}

/// faccessat(dirfd, path, mode), faccessat2(dirfd, path, mode, flags).
pub fn faccessat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path(1);
    a.access_mode(v[2]);
}

pub fn faccessat2(a: &mut Args, v: &[u64; 6]) {
    faccessat(a, v);
    a.flags(FACCESSAT_FLAGS, v[3] as u32 as u64, "0");
}

/// readlink(path, buf, bufsiz): the buffer is an output.
pub fn readlink(a: &mut Args, v: &[u64; 6]) {
    a.path(0);
    a.out_string(1);
    a.udec(v[2]);
}

/// readlinkat(dirfd, path, buf, bufsiz).
pub fn readlinkat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path(1);
    a.out_string(2);
    a.udec(v[3]);
}

/// getxattr(path, name, value, size), lgetxattr: the name is captured (`Cap::Str(1)`), the
/// value is an output.
pub fn getxattr(a: &mut Args, v: &[u64; 6]) {
    a.path(0);
    a.string(1);
    a.out_string(2);
    a.udec(v[3]);
}

/// fgetxattr(fd, name, value, size).
pub fn fgetxattr(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.string(1);
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
fn xattr_value(a: &mut Args, i: u8, size: u64) {
    if size > XATTR_SIZE_MAX {
        a.ptr(a.addr(i));
    } else {
        a.sized_string(i, size, true);
    }
}

/// setxattr(path, name, value, size, flags), lsetxattr.
pub fn setxattr(a: &mut Args, v: &[u64; 6]) {
    a.path(0);
    a.string(1);
    xattr_value(a, 2, v[3]);
    a.udec(v[3]);
    a.flags(XATTR_FLAGS, v[4] as u32 as u64, "0");
}

pub fn fsetxattr(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.string(1);
    xattr_value(a, 2, v[3]);
    a.udec(v[3]);
    a.flags(XATTR_FLAGS, v[4] as u32 as u64, "0");
}

/// listxattr(path, list, size), llistxattr.
pub fn listxattr(a: &mut Args, v: &[u64; 6]) {
    a.path(0);
    a.ptr(v[1]);
    a.udec(v[2]);
}

pub fn flistxattr(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.ptr(v[1]);
    a.udec(v[2]);
}

/// removexattr(path, name), lremovexattr.
pub fn removexattr(a: &mut Args, _: &[u64; 6]) {
    a.path(0);
    a.string(1);
}

/// fremovexattr(fd, name).
pub fn fremovexattr(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.string(1);
}

/// getcwd(buf, size): the buffer is an output.
pub fn getcwd(a: &mut Args, v: &[u64; 6]) {
    a.out_path(0);
    a.udec(v[1]);
}

/// mkdirat(dirfd, path, mode), fchmodat(dirfd, path, mode).
pub fn at_mode(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path(1);
    a.mode(v[2]);
}

/// fchmodat2(dirfd, path, mode, flags).
pub fn fchmodat2(a: &mut Args, v: &[u64; 6]) {
    at_mode(a, v);
    at_flags(a, v[3]);
}

/// mknod(path, mode, dev).
pub fn mknod(a: &mut Args, v: &[u64; 6]) {
    a.path(0);
    mknod_mode(a, v[1], v[2]);
}

pub fn mknodat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path(1);
    mknod_mode(a, v[2], v[3]);
}

/// unlinkat(dirfd, path, flags).
pub fn unlinkat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path(1);
    at_flags(a, v[2]);
}

/// rename(old, new), link, symlink: the second path is an extra capture (`Cap::Path(1)`).
pub fn two_paths(a: &mut Args, _: &[u64; 6]) {
    a.path(0);
    a.string(1);
}

/// renameat(olddirfd, oldpath, newdirfd, newpath), renameat2(..., flags).
pub fn renameat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path(1);
    a.dirfd(v[2]);
    a.string(3);
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
    a.path(0);
    a.dirfd(v[1]);
    a.string(2);
}

/// chown(path, owner, group), lchown.
pub fn chown(a: &mut Args, v: &[u64; 6]) {
    a.path(0);
    id(a, v[1]);
    id(a, v[2]);
}

/// fchownat(dirfd, path, owner, group, flags).
pub fn fchownat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path(1);
    id(a, v[2]);
    id(a, v[3]);
    at_flags(a, v[4]);
}

/// truncate(path, length).
pub fn truncate(a: &mut Args, v: &[u64; 6]) {
    a.path(0);
    a.sdec(v[1]);
}

/// utimensat(dirfd, path, times, flags): a NULL path is the descriptor itself.
pub fn utimensat(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path(1);
    a.input(2, |out, data| {
        out.push('[');
        utime_timespec(out, &data[..16]);
        out.push_str(", ");
        utime_timespec(out, &data[16..32]);
        out.push(']');
    });
    at_flags(a, v[3]);
}

/// One of utimensat's times: `UTIME_NOW`, `UTIME_OMIT`, or the time with the date strace
/// prints beside it: `{tv_sec=1, tv_nsec=0} /* 1970-01-01T00:00:01+0000 */`.
fn utime_timespec(out: &mut String, t: &[u8]) {
    let (sec, nsec) = (super::format::word(t, 0) as i64, super::format::word(t, 8) as i64);
    match nsec {
        libc::UTIME_NOW => out.push_str("UTIME_NOW"),
        libc::UTIME_OMIT => out.push_str("UTIME_OMIT"),
        _ => {
            super::format::timespec(out, t);
            if let Some(date) = local_iso8601(sec, nsec) {
                let _ = write!(out, " /* {date} */");
            }
        }
    }
}

/// umask(mask): `022`.
pub fn umask(a: &mut Args, v: &[u64; 6]) {
    a.mode(v[0]);
}

/// A time as strace's `sprinttime_nsec` writes it in a comment, in local time:
/// `2023-11-14T22:13:20.000000123+0000`; `None` for the epoch itself and for nanoseconds out
/// of range, which strace leaves without a comment.
pub fn local_iso8601(sec: i64, nsec: i64) -> Option<String> {
    if (sec == 0 && nsec == 0) || !(0..1_000_000_000).contains(&nsec) {
        return None;
    }
    // The zone's offset from the local time of day (zones lie within -12 h and +14 h).
    let (h, m, sc) = crate::sys::time::local_hms(sec);
    let mut off = i64::from(h * 3600 + m * 60 + sc) - sec.rem_euclid(86_400);
    if off > 14 * 3600 {
        off -= 86_400;
    } else if off < -12 * 3600 {
        off += 86_400;
    }
    let local = sec + off;
    let (y, mo, d) = civil_from_days(local.div_euclid(86_400));
    let mut s = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{sc:02}");
    if nsec > 0 {
        let _ = write!(s, ".{nsec:09}");
    }
    let mins = off / 60;
    let _ = write!(s, "{}{:02}{:02}", if mins < 0 { '-' } else { '+' }, mins.abs() / 60, mins.abs() % 60);
    Some(s)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub static RESOLVE_FLAGS: Table = x![
    RESOLVE_NO_XDEV = 0x1,
    RESOLVE_NO_MAGICLINKS = 0x2,
    RESOLVE_NO_SYMLINKS = 0x4,
    RESOLVE_BENEATH = 0x8,
    RESOLVE_IN_ROOT = 0x10,
    RESOLVE_CACHED = 0x20,
];

/// openat2(dirfd, path, how, size): `{flags=O_RDONLY|O_CLOEXEC, resolve=RESOLVE_BENEATH}`,
/// with `mode=` when the flags create a file or the mode is not 0, as strace prints it.
pub fn openat2(a: &mut Args, v: &[u64; 6]) {
    a.dirfd(v[0]);
    a.path(1);
    let size = v[3];
    a.input(2, |out, how| {
        if size < 24 {
            super::format::ptr(out, v[2]);
            return;
        }
        let (flags, mode, resolve) =
            (super::format::word(how, 0), super::format::word(how, 8), super::format::word(how, 16));
        out.push_str("{flags=");
        xlat::open_modes(out, flags);
        if flags & (xlat::O_CREAT | (xlat::O_TMPFILE & !(libc::O_DIRECTORY as u64))) != 0 || mode != 0 {
            out.push_str(", mode=");
            super::format::file_mode(out, mode as u32);
        }
        out.push_str(", resolve=");
        xlat::flags(out, RESOLVE_FLAGS, resolve, "0");
        out.push('}');
    });
    a.udec(v[3]);
}

pub static MFD_FLAGS: Table = x![MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB, MFD_NOEXEC_SEAL = 8, MFD_EXEC = 0x10];

/// memfd_create(name, flags): the name is captured as a path.
pub fn memfd_create(a: &mut Args, v: &[u64; 6]) {
    a.path(0);
    a.flags(MFD_FLAGS, v[1] as u32 as u64, "0");
}

pub static IN_EVENTS: Table = x![
    IN_ACCESS,
    IN_MODIFY,
    IN_ATTRIB,
    IN_CLOSE_WRITE,
    IN_CLOSE_NOWRITE,
    IN_OPEN,
    IN_MOVED_FROM,
    IN_MOVED_TO,
    IN_CREATE,
    IN_DELETE,
    IN_DELETE_SELF,
    IN_MOVE_SELF,
    IN_UNMOUNT = 0x2000,
    IN_Q_OVERFLOW = 0x4000,
    IN_IGNORED = 0x8000,
    IN_ONLYDIR,
    IN_DONT_FOLLOW,
    IN_EXCL_UNLINK,
    IN_MASK_CREATE = 0x1000_0000,
    IN_MASK_ADD,
    IN_ISDIR,
    IN_ONESHOT,
];

/// inotify_add_watch(fd, path, mask): the path is the row's extra capture.
pub fn inotify_add_watch(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.string(1);
    a.flags(IN_EVENTS, v[2] as u32 as u64, "0");
}

/// A file mode as strace prints it in a stat struct: `S_IFDIR|S_ISVTX|0777`.
pub fn mode_text(out: &mut String, mode: u32) {
    let ty = u64::from(mode & libc::S_IFMT);
    if ty != 0 {
        xlat::constant(out, FILE_TYPES, ty, "S_IF");
        out.push('|');
    }
    for (bit, name) in [(libc::S_ISUID, "S_ISUID"), (libc::S_ISGID, "S_ISGID"), (libc::S_ISVTX, "S_ISVTX")] {
        if mode & bit != 0 {
            out.push_str(name);
            out.push('|');
        }
    }
    super::format::file_mode(out, mode & 0o777);
}

/// `makedev(0x1, 0x3)`, with glibc's split of a device number.
fn makedev(out: &mut String, dev: u64) {
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    out.push_str("makedev(");
    super::format::hex(out, u64::from(major));
    out.push_str(", ");
    super::format::hex(out, u64::from(minor));
    out.push(')');
}

fn word(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).map_or(0, |w| u64::from_ne_bytes(w.try_into().expect("8 bytes")))
}

fn half(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).map_or(0, |w| u32::from_ne_bytes(w.try_into().expect("4 bytes")))
}

/// A `struct stat` (x86_64 layout) as strace abbreviates it: `{st_mode=S_IFREG|0644,
/// st_size=1234, ...}`, or `st_rdev=makedev(...)` in place of the size for a device.
pub fn stat_struct(out: &mut String, st: &[u8]) {
    let mode = half(st, 24);
    out.push_str("{st_mode=");
    mode_text(out, mode);
    let ty = mode & libc::S_IFMT;
    if ty == libc::S_IFCHR || ty == libc::S_IFBLK {
        out.push_str(", st_rdev=");
        makedev(out, word(st, 40));
    } else {
        let _ = write!(out, ", st_size={}", word(st, 48) as i64);
    }
    out.push_str(", ...}");
}

pub static STATX_ATTRS: Table = x![
    STATX_ATTR_COMPRESSED,
    STATX_ATTR_IMMUTABLE,
    STATX_ATTR_APPEND,
    STATX_ATTR_NODUMP,
    STATX_ATTR_ENCRYPTED,
    STATX_ATTR_AUTOMOUNT,
    STATX_ATTR_MOUNT_ROOT,
    STATX_ATTR_VERITY,
    STATX_ATTR_DAX,
];

/// A `struct statx` as strace abbreviates it: `{stx_mask=..., stx_attributes=...,
/// stx_mode=S_IFDIR|0755, stx_size=4096, ...}`.
pub fn statx_struct(out: &mut String, st: &[u8]) {
    out.push_str("{stx_mask=");
    xlat::flags(out, STATX_MASK, u64::from(half(st, 0)), "0");
    out.push_str(", stx_attributes=");
    xlat::flags(out, STATX_ATTRS, word(st, 8), "0");
    out.push_str(", stx_mode=");
    mode_text(out, u32::from(u16::from_ne_bytes([st[28], st[29]])));
    let _ = write!(out, ", stx_size={}, ...}}", word(st, 40));
}

/// Filesystem magics strace names (`f_type`).
pub static FS_MAGICS: Table = x![
    EXT2_SUPER_MAGIC = 0xef53,
    TMPFS_MAGIC = 0x0102_1994,
    PROC_SUPER_MAGIC = 0x9fa0,
    SYSFS_MAGIC = 0x6265_6572,
    OVERLAYFS_SUPER_MAGIC = 0x794c_7630,
    BTRFS_SUPER_MAGIC = 0x9123_683e,
    XFS_SUPER_MAGIC = 0x5846_5342,
    DEVPTS_SUPER_MAGIC = 0x1cd1,
    CGROUP_SUPER_MAGIC = 0x0027_e0eb,
    CGROUP2_SUPER_MAGIC = 0x6367_7270,
    NFS_SUPER_MAGIC = 0x6969,
    FUSE_SUPER_MAGIC = 0x6573_5546,
    SQUASHFS_MAGIC = 0x7371_7368,
    MSDOS_SUPER_MAGIC = 0x4d44,
    RAMFS_MAGIC = 0x8584_58f6,
    TRACEFS_MAGIC = 0x7472_6163,
    DEBUGFS_MAGIC = 0x6462_6720,
];

/// `f_flags` of statfs (the `ST_*` mount flags).
pub static STATFS_FLAGS: Table = x![
    ST_RDONLY = 0x1,
    ST_NOSUID = 0x2,
    ST_NODEV = 0x4,
    ST_NOEXEC = 0x8,
    ST_SYNCHRONOUS = 0x10,
    ST_VALID = 0x20,
    ST_MANDLOCK = 0x40,
    ST_NOATIME = 0x400,
    ST_NODIRATIME = 0x800,
    ST_RELATIME = 0x1000,
    ST_NOSYMFOLLOW = 0x2000,
];

/// A `struct statfs` (x86_64 layout) as strace prints it, every field.
pub fn statfs_struct(out: &mut String, st: &[u8]) {
    out.push_str("{f_type=");
    xlat::constant(out, FS_MAGICS, word(st, 0) & 0xffff_ffff, "");
    let _ = write!(
        out,
        ", f_bsize={}, f_blocks={}, f_bfree={}, f_bavail={}, f_files={}, f_ffree={}, f_fsid={{val=[",
        word(st, 8) as i64,
        word(st, 16),
        word(st, 24),
        word(st, 32),
        word(st, 40),
        word(st, 48),
    );
    super::format::hex(out, u64::from(half(st, 56)));
    out.push_str(", ");
    super::format::hex(out, u64::from(half(st, 60)));
    let _ = write!(out, "]}}, f_namelen={}, f_frsize={}, f_flags=", word(st, 64) as i64, word(st, 72) as i64);
    xlat::flags(out, STATFS_FLAGS, word(st, 80), "0");
    out.push('}');
}

/// stat(path, buf), lstat.
pub fn stat(a: &mut Args, _: &[u64; 6]) {
    a.path(0);
    a.out_struct(1, stat_struct);
}

/// fstat(fd, buf).
pub fn fstat(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.out_struct(1, stat_struct);
}

/// statfs(path, buf).
pub fn statfs(a: &mut Args, _: &[u64; 6]) {
    a.path(0);
    a.out_struct(1, statfs_struct);
}

/// fstatfs(fd, buf).
pub fn fstatfs(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.out_struct(1, statfs_struct);
}

#[cfg(test)]
mod output_tests {
    use super::*;

    fn put(b: &mut [u8], at: usize, v: &[u8]) {
        b[at..at + v.len()].copy_from_slice(v);
    }

    #[test]
    fn stat_structs_like_strace() {
        let mut st = vec![0u8; 144];
        put(&mut st, 24, &(libc::S_IFDIR | libc::S_ISVTX | 0o777).to_ne_bytes());
        put(&mut st, 48, &4096i64.to_ne_bytes());
        let mut out = String::new();
        stat_struct(&mut out, &st);
        assert_eq!(out, "{st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}");
        put(&mut st, 24, &(libc::S_IFCHR | 0o666).to_ne_bytes());
        put(&mut st, 40, &libc::makedev(1, 3).to_ne_bytes());
        out.clear();
        stat_struct(&mut out, &st);
        assert_eq!(out, "{st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}");
        put(&mut st, 40, &libc::makedev(0x88, 0).to_ne_bytes());
        out.clear();
        stat_struct(&mut out, &st);
        assert_eq!(out, "{st_mode=S_IFCHR|0666, st_rdev=makedev(0x88, 0), ...}");
    }

    #[test]
    fn statx_and_statfs_like_strace() {
        let mut sx = vec![0u8; 256];
        put(&mut sx, 0, &(libc::STATX_BASIC_STATS | libc::STATX_MNT_ID).to_ne_bytes());
        put(&mut sx, 28, &((libc::S_IFCHR | 0o666) as u16).to_ne_bytes());
        let mut out = String::new();
        statx_struct(&mut out, &sx);
        assert_eq!(
            out,
            "{stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFCHR|0666, stx_size=0, ...}"
        );
        let mut sf = vec![0u8; 120];
        put(&mut sf, 0, &0xef53i64.to_ne_bytes());
        put(&mut sf, 8, &4096i64.to_ne_bytes());
        put(&mut sf, 64, &255i64.to_ne_bytes());
        put(&mut sf, 80, &0x1020i64.to_ne_bytes());
        out.clear();
        statfs_struct(&mut out, &sf);
        assert_eq!(
            out,
            "{f_type=EXT2_SUPER_MAGIC, f_bsize=4096, f_blocks=0, f_bfree=0, f_bavail=0, f_files=0, f_ffree=0, \
             f_fsid={val=[0, 0]}, f_namelen=255, f_frsize=0, f_flags=ST_VALID|ST_RELATIME}"
        );
    }

    #[test]
    fn layouts_are_the_kernels() {
        assert_eq!(std::mem::size_of::<libc::stat>(), 144);
        assert_eq!(std::mem::offset_of!(libc::stat, st_rdev), 40);
        assert_eq!(std::mem::offset_of!(libc::stat, st_size), 48);
        assert_eq!(std::mem::offset_of!(libc::statx, stx_mode), 28);
        assert_eq!(std::mem::offset_of!(libc::statx, stx_size), 40);
        assert_eq!(std::mem::offset_of!(libc::statfs, f_namelen), 64);
        assert_eq!(std::mem::size_of::<libc::statfs>(), 120);
    }
}
