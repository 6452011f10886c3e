//! Whether a transfer interpose executes is charged and limited as the program's own would be.
//!
//! The kernel charges what a call allocates, and applies its limits, to the task that makes it:
//! the page cache and tmpfs pages a write to a regular file fills, and the pages of a pipe's
//! buffer, go to the writer's memory cgroup (as do the pages a read of a regular file brings
//! into the cache); a write to a regular file is checked against the writer's `RLIMIT_FSIZE`;
//! the blocks ext4 keeps for root and disk quotas give way to the writer's `CAP_SYS_RESOURCE`;
//! an LSM checks each read and write against the caller's label. Made by interpose, all of
//! that would be interpose's: a program limited to 64 MiB could fill a tmpfs, ignore its own
//! file size limit, or use the blocks reserved for root.
//!
//! So a transfer on a regular file or a pipe is executed only when the program thread is in
//! interpose's cgroups (every hierarchy, v1 and v2) and, where an LSM labels tasks, has
//! interpose's label; a write to a regular file also needs its file size limit and its
//! credentials to be interpose's (the caller checks the credentials: see `exec`). Otherwise the
//! kernel runs the call, in the program, and the log shows `= ?` without exit events. Sockets
//! are charged to the cgroup the socket was created in, whoever sends, and need none of this.
//!
//! Each comparison reads the thread's `/proc/TID/cgroup` again (kept open: a read fails once the
//! thread is gone, so an id given to another thread is never read as this one's) and
//! interpose's own: either may be moved at any time, by anyone allowed to write `cgroup.procs`.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;

/// Bound on kept per-thread files; the map is cleared when it grows past this.
const MAX_KEPT: usize = 4096;

pub(super) struct Charges {
    /// `/proc/self/cgroup`, or None when it cannot be read (then nothing is executed).
    ours: Option<File>,
    theirs: HashMap<u32, File>,
    /// Interpose's LSM label, where an LSM gives tasks one.
    our_label: Option<Vec<u8>>,
    our_fsize: Option<(u64, u64)>,
    a: Vec<u8>,
    b: Vec<u8>,
}

impl Default for Charges {
    fn default() -> Self {
        Self {
            ours: File::open("/proc/self/cgroup").ok(),
            theirs: HashMap::new(),
            our_label: std::fs::read("/proc/self/attr/current").ok(),
            our_fsize: crate::sys::io::file_size_limit(0).ok(),
            a: vec![0; 4096],
            b: vec![0; 4096],
        }
    }
}

/// Reads all of a small /proc file from offset 0 into `buf` (grown as needed); None on failure.
fn read_all(f: &File, buf: &mut Vec<u8>) -> Option<usize> {
    loop {
        let n = f.read_at(buf, 0).ok()?;
        if n < buf.len() {
            return Some(n);
        }
        if buf.len() >= 1 << 20 {
            return None;
        }
        let len = buf.len() * 2;
        buf.resize(len, 0);
    }
}

impl Charges {
    /// Whether thread `tid` is in interpose's cgroups and has its LSM label: what its
    /// transfer on a regular file or pipe allocates is then charged where the program's
    /// own call would charge it.
    pub(super) fn same_cgroups(&mut self, tid: u32) -> bool {
        let Some(ours) = &self.ours else { return false };
        if !self.theirs.contains_key(&tid) {
            if self.theirs.len() >= MAX_KEPT {
                self.theirs.clear();
            }
            let Ok(f) = File::open(format!("/proc/{tid}/cgroup")) else { return false };
            self.theirs.insert(tid, f);
        }
        let theirs = self.theirs.get(&tid).expect("inserted above");
        let (Some(n), Some(m)) = (read_all(theirs, &mut self.a), read_all(ours, &mut self.b)) else {
            // The thread is gone (its id may be another's now): forget the file.
            self.theirs.remove(&tid);
            return false;
        };
        if n == 0 || self.a[..n] != self.b[..m] {
            return false;
        }
        match &self.our_label {
            None => true,
            Some(ours) => std::fs::read(format!("/proc/{tid}/attr/current")).is_ok_and(|l| &l == ours),
        }
    }

    /// Whether thread `tid`'s process has interpose's `RLIMIT_FSIZE`, which a write to a
    /// regular file made by interpose is checked against.
    pub(super) fn same_file_size_limit(&self, tid: u32) -> bool {
        self.our_fsize.is_some() && crate::sys::io::file_size_limit(tid as i32).ok() == self.our_fsize
    }

    /// Thread `tid` has exited.
    pub(super) fn forget_thread(&mut self, tid: u32) {
        self.theirs.remove(&tid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_of_interpose_shares_its_charges() {
        let mut c = Charges::default();
        let me = crate::sys::signals::gettid();
        assert!(c.same_cgroups(me));
        assert!(c.same_file_size_limit(me));
        // No such thread: never the same.
        assert!(!c.same_cgroups(u32::MAX / 2));
    }
}
