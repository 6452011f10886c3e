//! The program's filesystem context, and whether interpose can act in it exactly.
//!
//! A path call performed for the program gives the program's result only when the lookup
//! starts where the program's would (its root, its cwd or directory descriptor), in its mount
//! namespace, with its credentials and LSM label. [`Contexts::of`] checks all of that for one
//! calling thread and says how to run the call, or `None`: the call then goes to the kernel.
//!
//! It also keeps lookups from waiting on something the program itself may serve: when the
//! mount namespace holds a filesystem that can call back into user space or the network (FUSE,
//! NFS, CIFS, 9p, autofs...), a lookup must not cross into another mount (`RESOLVE_NO_XDEV`)
//! and must not start on such a filesystem; otherwise a traced FUSE daemon could wait for
//! interpose while interpose waits for it. The mount table is re-read when the kernel says it
//! changed (`POLLPRI` on `/proc/self/mountinfo`).
//!
//! Checking a thread's context reads several /proc files, so what was found is kept per thread
//! and reused while the thread lives (its thread pidfd still refers to a live task, so a reused
//! thread id is never mistaken for it) and has not changed it. A thread changes its own
//! credentials only through its own calls (setresuid and the rest, capset, execve), which the
//! filter traps whenever path calls may run: the thread's entry is dropped when it makes one,
//! before the change, and its next call (made after the change) finds the new context. A change
//! of root or namespaces (chroot, pivot_root, setns, unshare) may affect other threads and
//! processes too, at a moment interpose does not see: after one, nothing is kept any more.
//! A thread that is not its process's leader and execs takes the leader's id when the exec
//! succeeds, with the new image's credentials (a set-user-ID file): while such an exec may be
//! under way, nothing is kept for the leader's id. A Landlock domain (`landlock_restrict_self`)
//! restricts the thread's own opens, which interpose's would not obey: after one, no path call
//! runs for the program any more.
//! With an LSM label to compare (which a write to `/proc/self/attr` changes), nothing is kept
//! either.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::File;
use std::io::{Read, Seek};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use crate::sys::cred::Creds;
use crate::sys::io;
use crate::sys::meta;
use crate::sys::pidfd;

/// Bound on kept thread contexts; the map is cleared when it grows past this.
const MAX_KEPT: usize = 4096;

/// Filesystem types whose lookups stay in the kernel, on local data: a mount namespace with
/// only these needs no lookup restriction.
const LOCAL_FS: &[&str] = &[
    "ext2",
    "ext3",
    "ext4",
    "xfs",
    "btrfs",
    "f2fs",
    "jfs",
    "reiserfs",
    "nilfs2",
    "zfs",
    "erofs",
    "squashfs",
    "vfat",
    "msdos",
    "exfat",
    "iso9660",
    "udf",
    "ntfs3",
    "tmpfs",
    "ramfs",
    "overlay",
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "mqueue",
    "cgroup",
    "cgroup2",
    "pstore",
    "bpf",
    "tracefs",
    "debugfs",
    "securityfs",
    "hugetlbfs",
    "configfs",
    "fusectl",
    "efivarfs",
    "binfmt_misc",
    "nsfs",
    "selinuxfs",
    "rpc_pipefs",
    "none",
];

/// Filesystems served by user space or the network (`f_type`): a lookup must not start on one
/// in a restricted mount table, and a descriptor call must not wait on one (the program may be
/// the server).
pub const SERVED_FS: &[i64] = &[
    0x6573_5546,                   // FUSE
    0x6969,                        // NFS
    0x517b,                        // SMB
    0xff53_4d42_u32 as i32 as i64, // CIFS
    0xfe53_4d42_u32 as i32 as i64, // SMB2
    0x0102_1997,                   // 9P
    0x00c3_6400,                   // Ceph
    0x5346_414f,                   // AFS
    0x0187,                        // autofs
];

/// How to act for one calling thread.
pub struct Program {
    /// `Some` when the thread's credentials differ from interpose's: the call must run on a
    /// thread that takes them ([`crate::sys::cred::run_as`]).
    pub creds: Option<Creds>,
    /// Lookups may not cross mount points (see the module notes).
    pub no_xdev: bool,
    /// `access()` without AT_EACCESS would check with exactly these credentials (see
    /// [`Creds::access_uses_same_ids`]).
    pub access_as_is: bool,
}

pub struct Contexts {
    our_mnt_ns: Option<PathBuf>,
    our_user_ns: Option<PathBuf>,
    our_root: Option<(u64, u64, u64)>,
    /// `None`: no LSM reports a label (`/proc/self/attr/current` is not readable).
    our_label: Option<Vec<u8>>,
    our_creds: Option<Creds>,
    /// Interpose's root, to start lookups of absolute paths.
    root: Option<OwnedFd>,
    mountinfo: Option<File>,
    /// Whether the mount table holds a filesystem outside [`LOCAL_FS`].
    remote: bool,
    /// Threads whose context was found reproducible: a pidfd on the thread, and its
    /// credentials when they differ from interpose's.
    kept: HashMap<u32, (OwnedFd, Option<Creds>, bool)>,
    /// A root or namespace changed somewhere: contexts are checked on every call.
    volatile: bool,
    /// Execs under way in threads that are not their process's leader, by leader id: a pidfd
    /// on each exec'ing thread. Such a thread takes the leader's id when its exec succeeds (the
    /// leader's pidfd then refers to it, with the new image's credentials), so nothing is kept
    /// for the leader's id until the exec'ing thread's own id is gone.
    execs: HashMap<u32, Vec<OwnedFd>>,
    /// A thread entered a Landlock domain, whose restrictions an open made by interpose would
    /// not obey (and which descendants inherit): no path call runs for the program any more.
    sandboxed: bool,
}

impl Default for Contexts {
    fn default() -> Self {
        Self::new()
    }
}

impl Contexts {
    pub fn new() -> Self {
        let root = meta::open_dir_path(c"/").ok();
        let our_root = root.as_ref().and_then(|r| meta::mount_and_inode(r.as_fd()));
        let mut c = Contexts {
            our_mnt_ns: std::fs::read_link("/proc/self/ns/mnt").ok(),
            our_user_ns: std::fs::read_link("/proc/self/ns/user").ok(),
            our_root,
            our_label: std::fs::read("/proc/self/attr/current").ok(),
            our_creds: Creds::current().ok().map(Creds::without_umask),
            root,
            mountinfo: File::open("/proc/self/mountinfo").ok(),
            remote: true,
            kept: HashMap::new(),
            volatile: false,
            execs: HashMap::new(),
            sandboxed: false,
        };
        c.rescan();
        c
    }

    fn rescan(&mut self) {
        let Some(f) = self.mountinfo.as_mut() else { return };
        let mut text = String::new();
        if f.rewind().is_err() || f.read_to_string(&mut text).is_err() {
            self.remote = true;
            return;
        }
        self.remote = text.lines().any(|l| {
            let fstype = l.split_once(" - ").and_then(|(_, r)| r.split_whitespace().next()).unwrap_or("?");
            !LOCAL_FS.contains(&fstype)
        });
    }

    /// Whether the mount table changed since it was last read.
    fn mounts_changed(&self) -> bool {
        let Some(f) = &self.mountinfo else { return false };
        let mut pfd = libc::pollfd { fd: std::os::fd::AsRawFd::as_raw_fd(f), events: libc::POLLPRI, revents: 0 };
        crate::sys::io::poll_now(&mut pfd)
    }

    /// Interpose's root, where lookups of absolute paths start.
    pub fn root(&self) -> Option<BorrowedFd<'_>> {
        self.root.as_ref().map(AsFd::as_fd)
    }

    /// How to run a path call for thread `tid`, or `None` when its context cannot be
    /// reproduced exactly.
    pub fn of(&mut self, tid: u32) -> Option<Program> {
        if self.mountinfo.is_none() || self.our_root.is_none() || self.sandboxed {
            return None;
        }
        if self.mounts_changed() {
            self.rescan();
        }
        let exec_pending = self.exec_pending(tid);
        if !exec_pending && let Some((fd, creds, access_as_is)) = self.kept.get(&tid) {
            if pidfd::send_signal(fd.as_fd(), 0).is_ok() {
                return Some(Program { creds: creds.clone(), no_xdev: self.remote, access_as_is: *access_as_is });
            }
            self.kept.remove(&tid);
        }
        // Opened before the checks: if it still refers to a live thread after them, the /proc
        // files read in between were that thread's (its id cannot be reused while it lives).
        let keep = (!self.volatile && !exec_pending && self.our_label.is_none() && pidfd::supports_thread_pidfds())
            .then(|| pidfd::open_thread(tid as i32).ok())
            .flatten();
        let ns = std::fs::read_link(format!("/proc/{tid}/ns/mnt")).ok()?;
        if Some(&ns) != self.our_mnt_ns.as_ref() {
            return None;
        }
        // Capabilities held in another user namespace count there (over the files of the ids
        // it maps), which no credentials interpose can take reproduce.
        if std::fs::read_link(format!("/proc/{tid}/ns/user")).ok() != self.our_user_ns {
            return None;
        }
        let root = meta::open_dir_path(&CString::new(format!("/proc/{tid}/root")).ok()?).ok()?;
        if meta::mount_and_inode(root.as_fd()) != self.our_root {
            return None;
        }
        if let Some(ours) = &self.our_label
            && std::fs::read(format!("/proc/{tid}/attr/current")).ok().as_ref() != Some(ours)
        {
            return None;
        }
        let creds = Creds::of_thread(tid).ok()?.without_umask();
        let access_as_is = creds.access_uses_same_ids();
        let creds = if Some(&creds) == self.our_creds.as_ref() { None } else { Some(creds) };
        if let Some(fd) = keep
            && pidfd::send_signal(fd.as_fd(), 0).is_ok()
        {
            if self.kept.len() >= MAX_KEPT {
                self.kept.clear();
            }
            self.kept.insert(tid, (fd, creds.clone(), access_as_is));
        }
        Some(Program { creds, no_xdev: self.remote, access_as_is })
    }

    /// Thread `tid` is about to make syscall `name` (see the module notes).
    pub fn changed(&mut self, tid: u32, name: &str) {
        match name {
            "setuid" | "setgid" | "setreuid" | "setregid" | "setresuid" | "setresgid" | "setfsuid" | "setfsgid"
            | "setgroups" | "capset" => {
                self.kept.remove(&tid);
            }
            // A new image may bring new credentials (set-id files, file capabilities), and
            // the thread that runs it takes the leader's id.
            // A thread other than the leader takes the leader's id when its exec succeeds.
            "execve" | "execveat" => {
                self.kept.clear();
                if let Ok(tgid) = pidfd::tgid_of(tid as i32)
                    && tgid != tid
                {
                    match pidfd::open_thread(tid as i32) {
                        Ok(fd) => self.execs.entry(tgid).or_default().push(fd),
                        Err(_) => self.volatile = true,
                    }
                }
            }
            "landlock_restrict_self" => {
                self.sandboxed = true;
                self.kept.clear();
            }
            "chroot" | "pivot_root" | "setns" | "unshare" => {
                self.volatile = true;
                self.kept.clear();
            }
            _ => {}
        }
    }

    /// Whether thread `tid` leads a process in which another thread's exec may still be under
    /// way (its pidfd still refers to a task): then nothing is kept for `tid`. Once every such
    /// thread's id is gone, whatever was known of `tid` is dropped (it may now be the new image).
    fn exec_pending(&mut self, tid: u32) -> bool {
        let Some(fds) = self.execs.get_mut(&tid) else { return false };
        fds.retain(|fd| pidfd::send_signal(fd.as_fd(), 0).is_ok());
        if fds.is_empty() {
            self.execs.remove(&tid);
            self.kept.remove(&tid);
            return false;
        }
        true
    }

    /// Whether a lookup may start on `fd` (see the module notes).
    pub fn may_start(&self, p: &Program, fd: BorrowedFd<'_>) -> bool {
        !p.no_xdev || io::fs_magic(fd).is_ok_and(|m| !SERVED_FS.contains(&m))
    }
}
