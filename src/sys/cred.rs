//! Acting as the program: a thread of interpose that takes a program thread's credentials (and
//! umask) before it performs a call whose effect carries them (a bind to a privileged port, an
//! AF_UNIX connect whose peer reads `SO_PEERCRED`, a path checked for permission, the mode of a
//! unix socket file a bind creates).
//!
//! Credentials are per thread in the kernel: the raw `setresuid`, `setresgid`, `setgroups`,
//! `setfsuid`, `setfsgid` and `capset` system calls change only the calling thread (glibc's
//! wrappers of the first three broadcast the change to every thread, so they are not used). A
//! thread that gave up root cannot take it back, so each such call runs on a thread of its own
//! that ends with it.

use std::io;

/// A thread's credentials, as `/proc/TID/status` shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Creds {
    /// Real, effective, saved, filesystem.
    uid: [u32; 4],
    gid: [u32; 4],
    groups: Vec<u32>,
    cap_inh: u64,
    cap_prm: u64,
    cap_eff: u64,
    /// The file mode creation mask (a unix socket bound by path gets the binder's).
    umask: Option<u32>,
}

impl Creds {
    /// The credentials of thread `tid`, as they count for interpose's namespaces: ids are
    /// shown mapped into interpose's user namespace, and capabilities held in another user
    /// namespace (a program that called `unshare(CLONE_NEWUSER)`) count for nothing here.
    pub fn of_thread(tid: u32) -> io::Result<Creds> {
        let mut c = Self::parse(&std::fs::read_to_string(format!("/proc/{tid}/status"))?)?;
        if !shares_namespace(tid, "user") {
            (c.cap_inh, c.cap_prm, c.cap_eff) = (0, 0, 0);
        }
        Ok(c)
    }

    /// The same credentials, for a call that creates nothing (the umask does not count).
    pub fn without_umask(mut self) -> Creds {
        self.umask = None;
        self
    }

    /// Whether `access()` (which checks with the real ids, and clears or fills the effective
    /// capabilities as it switches to them) would check exactly what these credentials check:
    /// real and filesystem ids equal, and the effective capabilities already what it sets.
    pub fn access_uses_same_ids(&self) -> bool {
        let caps_as_access = if self.uid[0] == 0 { self.cap_eff == self.cap_prm } else { self.cap_eff == 0 };
        self.uid[0] == self.uid[3] && self.gid[0] == self.gid[3] && caps_as_access
    }

    /// Whether capability `cap` (`CAP_SYS_ADMIN`...) is in the effective set.
    pub fn has_capability(&self, cap: u32) -> bool {
        cap < 64 && self.cap_eff & (1 << cap) != 0
    }

    /// The same credentials with capability `cap` added to the permitted and effective sets.
    pub fn with_capability(mut self, cap: u32) -> Creds {
        if cap < 64 {
            self.cap_prm |= 1 << cap;
            self.cap_eff |= 1 << cap;
        }
        self
    }

    /// Real (0), effective (1), saved (2) or filesystem (3) user id.
    pub fn uid(&self, which: usize) -> u32 {
        self.uid[which]
    }

    /// As [`Self::uid`], for the group ids.
    pub fn gid(&self, which: usize) -> u32 {
        self.gid[which]
    }

    /// The calling thread's.
    pub fn current() -> io::Result<Creds> {
        Self::parse(&std::fs::read_to_string("/proc/thread-self/status")?)
    }

    fn parse(status: &str) -> io::Result<Creds> {
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/PID/status");
        let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
        let ids = |name: &str| -> io::Result<[u32; 4]> {
            let v: Vec<u32> = field(name).ok_or_else(bad)?.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            v.try_into().map_err(|_| bad())
        };
        let cap = |name: &str| -> io::Result<u64> {
            u64::from_str_radix(field(name).ok_or_else(bad)?, 16).map_err(|_| bad())
        };
        let groups = field("Groups:")
            .unwrap_or("")
            .split_whitespace()
            .map(|g| g.parse().map_err(|_| bad()))
            .collect::<Result<Vec<u32>, _>>()?;
        Ok(Creds {
            uid: ids("Uid:")?,
            gid: ids("Gid:")?,
            groups,
            cap_inh: cap("CapInh:")?,
            cap_prm: cap("CapPrm:")?,
            cap_eff: cap("CapEff:")?,
            umask: field("Umask:").and_then(|m| u32::from_str_radix(m, 8).ok()),
        })
    }

    /// These credentials as comparable with `other`: without the umask when `other` has none.
    fn comparable(self, other: &Creds) -> Creds {
        if other.umask.is_none() { self.without_umask() } else { self }
    }

    /// Makes the calling thread's credentials these. Only for a thread that ends after its one
    /// call (see the module notes).
    fn take(&self) -> Result<(), i32> {
        let err = || io::Error::last_os_error().raw_os_error().unwrap_or(libc::EPERM);
        let [ru, eu, su, fu] = self.uid;
        let [rg, eg, sg, fg] = self.gid;
        if let Some(mask) = self.umask {
            // The umask lives in the filesystem context, shared by interpose's threads: this
            // thread takes a copy of its own first.
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_FS).map_err(|e| e as i32)?;
            nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
        }
        // Only what differs is changed: an unprivileged thread may not even set the groups it
        // already has (setgroups needs CAP_SETGID), and a umask of its own is all it may need.
        let now = Creds::current().map_err(|_| libc::EPERM)?;
        // SAFETY: raw credential system calls on integers and on `self.groups`, a live slice whose
        // length is passed with it; they change this thread's credentials only.
        unsafe {
            // Keep the permitted set across the uid change, so that capset below can set the
            // program's sets exactly (a uid change away from 0 would clear them).
            if now.uid != self.uid && libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 {
                return Err(err());
            }
            if now.groups != self.groups
                && libc::syscall(libc::SYS_setgroups, self.groups.len(), self.groups.as_ptr()) != 0
            {
                return Err(err());
            }
            if now.gid != self.gid {
                if libc::syscall(libc::SYS_setresgid, rg, eg, sg) != 0 {
                    return Err(err());
                }
                libc::syscall(libc::SYS_setfsgid, fg);
            }
            if now.uid != self.uid {
                if libc::syscall(libc::SYS_setresuid, ru, eu, su) != 0 {
                    return Err(err());
                }
                libc::syscall(libc::SYS_setfsuid, fu);
            }
        }
        let caps = (self.cap_eff, self.cap_prm, self.cap_inh);
        if Creds::current().ok().map(|c| (c.cap_eff, c.cap_prm, c.cap_inh)) != Some(caps) {
            set_caps(caps.0, caps.1, caps.2)?;
        }
        // What the kernel now says this thread is must be exactly the program's.
        match Creds::current() {
            Ok(now) if now.clone().comparable(self) == *self => Ok(()),
            _ => Err(libc::EPERM),
        }
    }
}

fn set_caps(eff: u64, prm: u64, inh: u64) -> Result<(), i32> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut header = Header { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
    let word = |v: u64, i: u32| (v >> (32 * i)) as u32;
    let data = [0, 1].map(|i| Data { effective: word(eff, i), permitted: word(prm, i), inheritable: word(inh, i) });
    // SAFETY: capset with a version-3 header reads two `Data` records, which `data` holds; both
    // are live locals borrowed for the call. It changes this thread's capabilities only.
    let r = unsafe { libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()) };
    if r == 0 { Ok(()) } else { Err(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EPERM)) }
}

/// Whether thread `tid` is in interpose's namespace of this kind (`user`, `net`, `mnt`...): the
/// same `/proc/.../ns/KIND` link. False when it cannot be told (the thread is gone).
pub fn shares_namespace(tid: u32, kind: &str) -> bool {
    let theirs = std::fs::read_link(format!("/proc/{tid}/ns/{kind}"));
    matches!((theirs, std::fs::read_link(format!("/proc/self/ns/{kind}"))), (Ok(a), Ok(b)) if a == b)
}

/// Runs `f` with `creds`: on the calling thread when it already has them, else on a new thread
/// that takes them first. `Err(errno)` when they cannot be taken (interpose lacks the privilege
/// to become the program): the call must then not run at all.
pub fn run_as<T: Send>(creds: &Creds, f: impl FnOnce() -> T + Send) -> Result<T, i32> {
    if Creds::current().is_ok_and(|c| c.comparable(creds) == *creds) {
        return Ok(f());
    }
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("interpose-as".into())
            .spawn_scoped(s, || {
                creds.take()?;
                Ok(f())
            })
            .map_err(|_| libc::EAGAIN)?
            .join()
            .unwrap_or(Err(libc::EIO))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_status() {
        let c = Creds::current().unwrap();
        assert_eq!(c.uid[0], nix::unistd::getuid().as_raw());
        assert_eq!(run_as(&c, || 7), Ok(7));
    }
}
