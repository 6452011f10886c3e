//! The borrowed-descriptor cache (`--fd-cache`, off by default; issue 14): the receiving
//! thread's copies of the program's descriptors, and what it learned of them (their kind), kept
//! between calls instead of borrowed (`pidfd_getfd`), examined (fstat, fstatfs) and closed at
//! every call.
//!
//! A copy holds the program's open file description: the peer of a socket or pipe sees a close
//! only when the last reference goes. So a copy must go no later than the program's own
//! descriptor. The filter then also traps the calls that end descriptors (see
//! `filter::FD_WATCH`), answered CONTINUE and unlogged unless selected, and before the answer:
//! - `close(fd)`: the process's entry for `fd` is dropped; `close_range` drops the range,
//!   `dup2`/`dup3` the target;
//! - `execve`/`execveat` (close-on-exec), `exit_group`, and `exit` of the last thread: every entry
//!   of the process;
//! - calls after which descriptor tables no longer follow processes (a process sharing another's
//!   table: `clone`/`clone3` with CLONE_FILES and not CLONE_THREAD, a thread with its own table:
//!   CLONE_THREAD without CLONE_FILES, `unshare(CLONE_FILES)`, `close_range(CLOSE_RANGE_UNSHARE)`),
//!   or that close descriptors with no call of their own (io_uring's IORING_OP_CLOSE:
//!   `io_uring_setup`, `io_uring_enter`, `io_uring_register`; a nested supervisor's ADDFD:
//!   `seccomp` with a new listener; a BPF syscall program's `bpf_sys_close`: `bpf(BPF_PROG_TEST_RUN)`),
//!   and any of these calls from another ABI: the cache is
//!   turned off for the rest of the run (every copy dropped).
//!
//! Those calls are seen at entry, from arguments another thread may still change (clone3's
//! flags are in memory). So the tables themselves are checked too, with `kcmp(KCMP_FILES)`: a
//! thread must share its process leader's table, and each process the cache meets (all are
//! watched) must have a table no other watched process has, at first sight (a process comes to
//! share a table only when it is made); either failing turns the cache off.
//!
//! The call that ends a descriptor runs after the answer: until it has, another thread of the
//! process could have the old description borrowed again. So the ended numbers stay *marked*
//! (borrowed without the cache) until the thread that ended them makes its next trapped call
//! (it has then returned), or its process is gone.
//!
//! A process killed by a signal closes its descriptors with no call: the watcher thread polls a
//! pidfd per process with entries and drops them when it becomes readable. Its peers then see
//! the close a few microseconds late (the watcher's wake-up): the one documented difference.
//!
//! Before an entry is used, `kcmp(KCMP_FILE)` checks that the calling thread's descriptor is
//! still the very description the entry holds (one call instead of three). This makes a use
//! exact whatever happened to the number (a reused pid or tid, a change the rules above missed);
//! the rules above are for the close timing only. O_NONBLOCK and O_DIRECT are still read at
//! every call (they belong to the description, and any process holding it can change them).

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};

use crate::sys::pidfd::{self, RemoteFd};

/// Waits until one of `fds` is readable (a pidfd is when its process has exited); which are.
fn readable(fds: &[BorrowedFd<'_>]) -> Vec<bool> {
    let mut polled: Vec<PollFd<'_>> = fds.iter().map(|&fd| PollFd::new(fd, PollFlags::POLLIN)).collect();
    match nix::poll::poll(&mut polled, PollTimeout::NONE) {
        Ok(n) if n > 0 => polled.iter().map(|p| p.revents().is_some_and(|r| !r.is_empty())).collect(),
        _ => vec![false; fds.len()],
    }
}

/// A borrowed descriptor and what was learned of it.
pub struct Entry {
    fd: OwnedFd,
    /// Its kind (file type and filesystem: fixed for a description).
    pub(super) kind: OnceLock<super::exec::Kind>,
    /// Whether it is a socket whose sends show the sender (its domain: fixed too).
    pub(super) identity: OnceLock<bool>,
}

impl AsFd for Entry {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A borrowed descriptor, cached or not.
pub type Local = Arc<Entry>;

/// A descriptor borrowed for one call only.
pub fn uncached(fd: OwnedFd) -> Local {
    Arc::new(Entry { fd, kind: OnceLock::new(), identity: OnceLock::new() })
}

/// A hasher for small integer keys (ids, descriptor numbers): one multiply instead of SipHash,
/// on the path of every executed call. The keys are not chosen by an adversary that could
/// gain anything from collisions but time, bounded by the maps' limits.
#[derive(Default, Clone, Copy)]
struct IntHasher(u64);

impl std::hash::Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_i32(&mut self, n: i32) {
        self.write_u32(n as u32);
    }
}

type IntMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IntHasher>>;

struct Proc {
    pidfd: Arc<OwnedFd>,
    fds: IntMap<i32, Local>,
}

/// Numbers whose end a thread asked for and that may not have ended yet.
#[derive(Clone, Copy, Debug)]
struct Mark {
    /// The thread that ended them; None: until the process is gone.
    tid: Option<u32>,
    tgid: u32,
    first: u32,
    last: u32,
}

#[derive(Default)]
struct State {
    procs: IntMap<u32, Proc>,
    /// The process of each thread seen (forgotten when it execs or exits, or its process goes).
    tgids: IntMap<u32, u32>,
    marks: Vec<Mark>,
    stopped: bool,
}

/// Shared by the receiving thread (its executor) and the watcher thread.
#[derive(Clone)]
pub struct Cache {
    state: Arc<Mutex<State>>,
    on: Arc<AtomicBool>,
    marks: Arc<AtomicUsize>,
    wake: Arc<EventFd>,
    /// Our pid, for kcmp (glibc's getpid is a system call).
    me: i32,
}

const MAX_PROCS: usize = 1024;
const MAX_ENTRIES: usize = 4096;

impl Cache {
    /// A cache, when this kernel can check entries (kcmp).
    pub fn new() -> Option<Cache> {
        let wake = EventFd::from_value_and_flags(0, EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK).ok()?;
        // kcmp of our own eventfd with itself: CONFIG_KCMP, and permitted.
        let me = std::process::id() as i32;
        let raw = std::os::fd::AsRawFd::as_raw_fd(&wake);
        if pidfd::same_file(me, RemoteFd(raw), me, wake.as_fd()).ok() != Some(true) {
            tracing::debug!("no kcmp: the descriptor cache is off");
            return None;
        }
        Some(Cache {
            state: Arc::default(),
            on: Arc::new(AtomicBool::new(true)),
            marks: Arc::default(),
            wake: Arc::new(wake),
            me,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Thread `tid`'s process, watched from now on (so that its threads' ids are forgotten when
    /// it goes). When it cannot be known for sure, the cache is turned off. With `verify`, a
    /// thread id seen before is checked to still share its process's descriptor table (a thread
    /// killed by an exec elsewhere in its process may leave its id to another process's thread):
    /// for the calls that file copies or ends under a process; a use needs no such check, each
    /// being checked by kcmp(KCMP_FILE) whatever process it was looked up under.
    fn process_of(&self, s: &mut State, tid: u32, verify: bool) -> Option<u32> {
        if let Some(&t) = s.tgids.get(&tid) {
            if !verify || t == tid || pidfd::same_files(tid as i32, t as i32).ok() == Some(true) {
                return Some(t);
            }
            s.tgids.remove(&tid);
        }
        if s.tgids.len() > 1 << 16 {
            s.tgids.clear();
        }
        // A thread other than the leader must share the leader's table (a clone3 whose flags
        // another thread changed after interpose read them may have given it its own).
        let tgid = pidfd::tgid_of(tid as i32)
            .ok()
            .filter(|&t| t == tid || pidfd::same_files(tid as i32, t as i32).ok() == Some(true));
        let Some(tgid) = tgid else {
            self.off_locked(s, "a thread whose process or descriptor table is not known for sure");
            return None;
        };
        if self.watched(s, tgid).is_some() {
            s.tgids.insert(tid, tgid);
        } else if !self.is_on() {
            return None;
        }
        Some(tgid)
    }

    /// Thread `tid`'s descriptor `fd`, when cached and still the same description.
    pub fn get(&self, tid: u32, fd: i32) -> Option<Local> {
        if !self.is_on() {
            return None;
        }
        let mut s = self.lock();
        let tgid = self.process_of(&mut s, tid, false)?;
        let entry = s.procs.get(&tgid)?.fds.get(&fd)?.clone();
        if s.marked(tgid, fd) {
            return None;
        }
        if pidfd::same_file(tid as i32, RemoteFd(fd), self.me, entry.as_fd()).ok() == Some(true) {
            return Some(entry);
        }
        if let Some(p) = s.procs.get_mut(&tgid) {
            p.fds.remove(&fd);
        }
        None
    }

    /// Thread `tid`'s descriptor `fd`, just borrowed: kept when it may be.
    pub fn keep(&self, tid: u32, fd: i32, local: OwnedFd) -> Local {
        let local = uncached(local);
        if !self.is_on() {
            return local;
        }
        let mut s = self.lock();
        if s.stopped {
            return local;
        }
        let Some(tgid) = self.process_of(&mut s, tid, true) else { return local };
        if s.marked(tgid, fd) {
            return local;
        }
        let Some(p) = self.watched(&mut s, tgid) else { return local };
        if p.fds.len() < MAX_ENTRIES {
            p.fds.insert(fd, local.clone());
        }
        local
    }

    /// Process `tgid`'s copies, watched (its pidfd polled by the watcher) from now on. None
    /// when it is gone, or when there are too many processes to watch.
    fn watched<'s>(&self, s: &'s mut State, tgid: u32) -> Option<&'s mut Proc> {
        if !s.procs.contains_key(&tgid) {
            if s.procs.len() >= MAX_PROCS {
                return None;
            }
            // A pidfd of the process: the watcher's, to drop its copies (and marks) when it is gone.
            let p = pidfd::open(tgid as i32).ok()?;
            // Each process watched has its own descriptor table: one shared with another
            // process (a clone3 whose flags another thread changed after interpose read them)
            // could end the other's descriptors under this one's name. Compared once, at first
            // sight: a process that shares a table later does so by a call the cache sees.
            let shared = s.procs.keys().any(|&other| match pidfd::same_files(tgid as i32, other as i32) {
                Ok(same) => same,
                Err(e) => e.raw_os_error() != Some(libc::ESRCH),
            });
            if shared {
                self.off_locked(s, "two processes sharing a descriptor table (or not comparable)");
                return None;
            }
            s.procs.insert(tgid, Proc { pidfd: Arc::new(p), fds: IntMap::default() });
            let _ = self.wake.write(1);
        }
        s.procs.get_mut(&tgid)
    }

    /// Marks numbers of process `tgid` ended by a call: the watcher must watch the process, to
    /// remove the mark when it is gone (when it cannot, the cache is turned off).
    fn mark(&self, s: &mut State, m: Mark) {
        if self.watched(s, m.tgid).is_none() {
            match pidfd::open(m.tgid as i32) {
                // Gone: nothing more can borrow from it.
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                // Alive and not watchable (too many processes), or not known to be gone (out
                // of descriptors...).
                _ => self.off_locked(s, "a process that cannot be watched"),
            }
            return;
        }
        s.marks.push(m);
        self.marks.store(s.marks.len(), Ordering::Relaxed);
    }

    /// Thread `tid` makes a call: the numbers it ended before have ended.
    pub fn seen(&self, tid: u32) {
        if self.marks.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut s = self.lock();
        s.marks.retain(|m| m.tid != Some(tid));
        self.marks.store(s.marks.len(), Ordering::Relaxed);
    }

    /// Thread `tid` makes native call `nr` (one of `filter::FD_WATCH` or an exec), before it runs.
    pub fn event(&self, tid: u32, nr: i64, args: [u64; 6]) {
        if !self.is_on() {
            return;
        }
        let end = |first: u64, last: u64| {
            let mut s = self.lock();
            let Some(tgid) = self.process_of(&mut s, tid, true) else { return };
            let (first, last) = (first as u32, last as u32);
            if let Some(p) = s.procs.get_mut(&tgid) {
                if last - first < 64 {
                    for fd in first..=last {
                        p.fds.remove(&(fd as i32));
                    }
                } else {
                    p.fds.retain(|&fd, _| !(first..=last).contains(&(fd as u32)));
                }
            }
            self.mark(&mut s, Mark { tid: Some(tid), tgid, first, last });
        };
        let all = |until_gone: bool| {
            let mut s = self.lock();
            let Some(tgid) = self.process_of(&mut s, tid, true) else { return };
            if let Some(p) = s.procs.get_mut(&tgid) {
                p.fds.clear();
            }
            self.mark(&mut s, Mark { tid: (!until_gone).then_some(tid), tgid, first: 0, last: u32::MAX });
            // An exec leaves one thread, numbered as the process; an exit none.
            s.tgids.retain(|_, t| *t != tgid);
        };
        let files = libc::CLONE_FILES as u64;
        let thread = libc::CLONE_THREAD as u64;
        let splits = |flags: u64| (flags & files != 0) != (flags & thread != 0);
        match nr {
            libc::SYS_close if (args[0] as i32) >= 0 => end(args[0] as u32 as u64, args[0] as u32 as u64),
            libc::SYS_close => {}
            libc::SYS_close_range => {
                if args[2] as u32 & libc::CLOSE_RANGE_UNSHARE != 0 {
                    self.off("close_range(CLOSE_RANGE_UNSHARE)");
                } else if (args[0] as u32) <= (args[1] as u32) {
                    end(args[0] as u32 as u64, args[1] as u32 as u64);
                }
            }
            libc::SYS_dup2 | libc::SYS_dup3 if (args[1] as i32) >= 0 => {
                end(args[1] as u32 as u64, args[1] as u32 as u64)
            }
            libc::SYS_dup2 | libc::SYS_dup3 => {}
            // An exec that fails keeps the descriptors: dropped for nothing, which is harmless.
            libc::SYS_execve | libc::SYS_execveat => all(false),
            libc::SYS_exit_group => all(true),
            libc::SYS_exit => {
                let tgid = {
                    let mut s = self.lock();
                    let Some(t) = self.process_of(&mut s, tid, true) else { return };
                    t
                };
                if live_threads(tgid).is_none_or(|n| n <= 1) {
                    all(true);
                } else {
                    // Its number may go to another process's thread.
                    self.lock().tgids.remove(&tid);
                }
            }
            libc::SYS_clone if splits(args[0]) => self.off("clone sharing a descriptor table across processes"),
            libc::SYS_clone => {}
            libc::SYS_clone3 => {
                let mut b = [0u8; 8];
                let flags = match crate::sys::mem::read(tid, args[0], &mut b) {
                    Ok(8) if args[1] >= 8 => Some(u64::from_ne_bytes(b)),
                    _ => None,
                };
                if flags.is_none_or(splits) {
                    self.off("clone3 sharing a descriptor table across processes (or unreadable)");
                }
            }
            libc::SYS_unshare if args[0] & files != 0 => self.off("unshare(CLONE_FILES)"),
            libc::SYS_unshare => {}
            libc::SYS_seccomp if args[0] == 1 && args[1] & 8 != 0 => self.off("a nested seccomp listener"),
            libc::SYS_seccomp => {}
            // BPF_PROG_TEST_RUN: a BPF_PROG_TYPE_SYSCALL program may close descriptors (bpf_sys_close).
            libc::SYS_bpf if args[0] as u32 == 10 => self.off("bpf(BPF_PROG_TEST_RUN)"),
            libc::SYS_bpf => {}
            libc::SYS_io_uring_setup | libc::SYS_io_uring_enter | libc::SYS_io_uring_register => self.off("io_uring"),
            _ => {}
        }
    }

    /// Turns the cache off for the rest of the run, dropping every copy.
    pub fn off(&self, why: &str) {
        let mut s = self.lock();
        self.off_locked(&mut s, why);
    }

    fn off_locked(&self, s: &mut State, why: &str) {
        if self.on.swap(false, Ordering::Relaxed) {
            tracing::debug!(why, "the descriptor cache is off");
        }
        s.procs.clear();
        s.marks.clear();
        self.marks.store(0, Ordering::Relaxed);
        let _ = self.wake.write(1);
    }

    /// Thread `tid`'s `newfd` is replaced by interpose itself (ADDFD onto a number).
    pub fn forget(&self, tid: u32, fd: i32) {
        let mut s = self.lock();
        let Some(tgid) = self.process_of(&mut s, tid, true) else { return };
        if let Some(p) = s.procs.get_mut(&tgid) {
            p.fds.remove(&fd);
        }
    }

    /// Ends the watcher.
    pub fn stop(&self) {
        let mut s = self.lock();
        s.stopped = true;
        s.procs.clear();
        drop(s);
        let _ = self.wake.write(1);
    }

    /// The watcher: drops the entries of each process as soon as it is gone.
    pub fn watch(&self) {
        loop {
            let (tgids, pidfds): (Vec<u32>, Vec<Arc<OwnedFd>>) = {
                let s = self.lock();
                if s.stopped {
                    return;
                }
                s.procs.iter().map(|(&t, p)| (t, p.pidfd.clone())).unzip()
            };
            let mut fds: Vec<BorrowedFd<'_>> = vec![self.wake.as_fd()];
            fds.extend(pidfds.iter().map(|p| p.as_fd()));
            let ready = readable(&fds);
            if ready[0] {
                let _ = self.wake.read();
            }
            let gone: Vec<(u32, &Arc<OwnedFd>)> =
                tgids.iter().zip(&pidfds).zip(&ready[1..]).filter(|(_, r)| **r).map(|((t, p), _)| (*t, p)).collect();
            if gone.is_empty() {
                continue;
            }
            let mut s = self.lock();
            for (tgid, pidfd) in gone {
                // Only the entries of the process this pidfd named (not of a later one).
                if s.procs.get(&tgid).is_some_and(|p| Arc::ptr_eq(pidfd, &p.pidfd)) {
                    s.procs.remove(&tgid);
                }
                s.marks.retain(|m| m.tgid != tgid);
                s.tgids.retain(|_, t| *t != tgid);
            }
            self.marks.store(s.marks.len(), Ordering::Relaxed);
        }
    }
}

impl State {
    fn marked(&self, tgid: u32, fd: i32) -> bool {
        let fd = fd as u32;
        self.marks.iter().any(|m| m.tgid == tgid && m.first <= fd && fd <= m.last)
    }
}

/// How many threads process `tgid` has (/proc).
fn threads_of(tgid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{tgid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|v| v.trim().parse().ok())
}

/// How many threads of process `tgid` can still make a call: its count, less a main thread that
/// has exited (a zombie until the last thread leaves, and counted).
fn live_threads(tgid: u32) -> Option<u32> {
    let n = threads_of(tgid)?;
    let stat = std::fs::read_to_string(format!("/proc/{tgid}/stat")).ok()?;
    let state = stat[stat.rfind(')')? + 1..].split_whitespace().next()?;
    Some(if state == "Z" { n.saturating_sub(1) } else { n })
}
