//! Syscall exit events: the `raw_syscalls:sys_exit` tracepoint, read through `perf_event_open`
//! ring buffers (bindings from `perf-event-open-sys`, the maintained crate for them).
//!
//! The tracepoint fires at every syscall exit of the watched tasks, including calls answered
//! through a seccomp notification (with the answered value) and calls seccomp skipped. One event
//! per online CPU is opened on the launched process with `inherit`, so that every thread and
//! child it creates afterwards reports into the same buffers; samples carry the thread id, a
//! CLOCK_MONOTONIC timestamp and the raw record (`id`, `ret`).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use perf_event_open_sys as sys;

/// One syscall exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    pub tid: u32,
    /// CLOCK_MONOTONIC, nanoseconds.
    pub time_ns: u64,
    /// The syscall number (of the thread's ABI).
    pub nr: i64,
    pub ret: i64,
}

/// A syscall exit tracepoint, and where its syscall number and return value are in its raw
/// record: `raw_syscalls:sys_exit` (every syscall: `long id`) or one syscall's
/// `syscalls:sys_exit_NAME` (`int __syscall_nr`).
#[derive(Clone, Copy, Debug)]
pub struct Tracepoint {
    pub id: u64,
    nr_offset: usize,
    nr_size: usize,
    ret_offset: usize,
}

const TRACEFS: &[&str] = &["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// The exit tracepoints for a selection of syscalls.
#[derive(Debug)]
pub struct Tracepoints {
    /// `raw_syscalls:sys_exit`.
    pub raw: Tracepoint,
    /// `syscalls:sys_exit_NAME` of each selected syscall, when all exist and there are few
    /// (see [`Tracepoints::read`]).
    pub per_syscall: Option<Vec<Tracepoint>>,
}

impl Tracepoints {
    /// Above this many selected syscalls, one `raw_syscalls:sys_exit` event per CPU (filtered in
    /// the kernel) is opened instead of one event per syscall per CPU.
    pub const PER_SYSCALL_MAX: usize = 16;

    /// The exit tracepoints for `names`, as tracefs describes them. When tracefs is not mounted
    /// and interpose may mount it (CAP_SYS_ADMIN), it is mounted on a thread with a mount
    /// namespace of its own, so that nothing changes for the rest of the system.
    ///
    /// Per-syscall tracepoints are preferred for a few syscalls: while any of them is enabled,
    /// an untraced syscall costs the kernel a bit test at its exit, where the raw tracepoint
    /// costs a record written and filtered out (about 100 ns against 250 ns here).
    pub fn read(names: &[&str]) -> io::Result<Tracepoints> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let get = move |root: &str| -> io::Result<Tracepoints> {
            let raw = Tracepoint::read(&format!("{root}/events/raw_syscalls/sys_exit"), "id")?;
            let per_syscall = (!names.is_empty() && names.len() <= Self::PER_SYSCALL_MAX)
                .then(|| {
                    names
                        .iter()
                        .map(|n| Tracepoint::read(&format!("{root}/events/syscalls/sys_exit_{n}"), "__syscall_nr"))
                        .collect::<io::Result<Vec<_>>>()
                        .ok()
                })
                .flatten();
            Ok(Tracepoints { raw, per_syscall })
        };
        for root in TRACEFS {
            if let Ok(t) = get(root) {
                return Ok(t);
            }
        }
        std::thread::scope(|s| {
            s.spawn(|| -> io::Result<Tracepoints> {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).map_err(io::Error::from)?;
                nix::mount::mount(
                    None::<&str>,
                    "/",
                    None::<&str>,
                    nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_PRIVATE,
                    None::<&str>,
                )
                .map_err(io::Error::from)?;
                nix::mount::mount(
                    Some("nodev"),
                    TRACEFS[0],
                    Some("tracefs"),
                    nix::mount::MsFlags::empty(),
                    None::<&str>,
                )
                .map_err(io::Error::from)?;
                get(TRACEFS[0])
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("tracefs probe panicked")))
        })
    }
}

impl Tracepoint {
    /// `raw_syscalls:sys_exit` alone.
    pub fn sys_exit() -> io::Result<Tracepoint> {
        Tracepoints::read(&[]).map(|t| t.raw)
    }

    fn read(dir: &str, nr_field: &str) -> io::Result<Tracepoint> {
        let id = std::fs::read_to_string(format!("{dir}/id"))?
            .trim()
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad tracepoint id"))?;
        let format = std::fs::read_to_string(format!("{dir}/format"))?;
        // `field:long ret;	offset:16;	size:8;	signed:1;`
        let place = |field: &str| {
            format.lines().find(|l| l.contains(&format!(" {field};"))).and_then(|l| {
                let num = |key: &str| {
                    l.split(';').find_map(|p| p.trim().strip_prefix(key)).and_then(|v| v.parse::<usize>().ok())
                };
                Some((num("offset:")?, num("size:")?))
            })
        };
        match (place(nr_field), place("ret")) {
            (Some((nr_offset, nr_size @ (4 | 8))), Some((ret_offset, 8))) => {
                Ok(Tracepoint { id, nr_offset, nr_size, ret_offset })
            }
            _ => Err(io::Error::new(io::ErrorKind::InvalidData, "unexpected sys_exit format")),
        }
    }

    fn same_layout(&self, other: &Tracepoint) -> bool {
        (self.nr_offset, self.nr_size, self.ret_offset) == (other.nr_offset, other.nr_size, other.ret_offset)
    }
}

/// A mapped perf ring buffer.
struct Ring {
    fd: OwnedFd,
    base: *mut u8,
    /// The whole mapping: one metadata page and `data_size` bytes.
    len: usize,
    data_size: u64,
}

// SAFETY: the mapping is owned by this value alone and only touched through &mut self.
unsafe impl Send for Ring {}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: base/len are the mapping made in `open` and nothing refers to it any more.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

impl Ring {
    /// Opens the event `attr` on task `pid` and `cpu`, and maps its ring: one metadata page and
    /// `data_pages` (a power of two) of records.
    fn open(attr: &mut sys::bindings::perf_event_attr, pid: i32, cpu: u32, data_pages: usize) -> io::Result<Ring> {
        let fd = open_event(attr, pid, cpu)?;
        let page = page_size();
        let len = (data_pages + 1) * page;
        // SAFETY: maps the event's ring buffer (read-write: we update data_tail), a fresh
        // shared mapping of the size the kernel expects (1 + 2^n pages).
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Ring { fd, base: base.cast(), len, data_size: (data_pages * page) as u64 })
    }

    fn meta(&self) -> *mut sys::bindings::perf_event_mmap_page {
        self.base.cast()
    }

    /// Whether records wait to be read (two loads: no call).
    fn has_records(&self) -> bool {
        // SAFETY: the first page of the mapping is the kernel's perf_event_mmap_page; the kernel
        // writes data_head, we write data_tail.
        let (head, tail) = unsafe {
            (
                std::ptr::read_volatile(&raw const (*self.meta()).data_head),
                std::ptr::read_volatile(&raw const (*self.meta()).data_tail),
            )
        };
        head != tail
    }

    /// Hands every record available now to `f` (its type and its bytes, header included), in
    /// order, then gives their space back to the kernel. Returns false when the buffer held
    /// something that is not a record (it is then given back whole).
    fn read(&self, scratch: &mut Vec<u8>, mut f: impl FnMut(u32, &[u8])) -> bool {
        let meta = self.meta();
        // SAFETY: see `has_records`; data_head is read with acquire ordering as the ABI requires
        // (the kernel writes it after the records), data_tail written with release after we are
        // done with them.
        let head = unsafe { std::ptr::read_volatile(&raw const (*meta).data_head) };
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        // SAFETY: as above.
        let mut tail = unsafe { std::ptr::read_volatile(&raw const (*meta).data_tail) };
        let mut sane = true;
        while tail < head {
            let mut header = [0u8; 8];
            self.copy_out(tail, &mut header);
            let kind = u32::from_ne_bytes(header[..4].try_into().expect("4"));
            let len = u64::from(u16::from_ne_bytes(header[6..8].try_into().expect("2")));
            if len < 8 || len > self.data_size {
                sane = false;
                tail = head;
                break;
            }
            scratch.resize(len as usize, 0);
            self.copy_out(tail, scratch);
            f(kind, scratch);
            tail += len;
        }
        std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
        // SAFETY: see above; data_tail tells the kernel the space is free again.
        unsafe { std::ptr::write_volatile(&raw mut (*meta).data_tail, tail) };
        sane
    }

    /// Copies `out.len()` bytes of the data area from position `pos`, wrapping.
    fn copy_out(&self, pos: u64, out: &mut [u8]) {
        let size = self.data_size as usize;
        let start = (pos % self.data_size) as usize;
        let first = out.len().min(size - start);
        // SAFETY: the data area starts one page into the mapping and is `size` bytes long;
        // start + first <= size and the rest (wrapped) starts at 0, so every byte read is
        // inside the mapping. The kernel does not write the part between tail and head.
        unsafe {
            let data = self.base.add(page_size());
            std::ptr::copy_nonoverlapping(data.add(start), out.as_mut_ptr(), first);
            std::ptr::copy_nonoverlapping(data, out.as_mut_ptr().add(first), out.len() - first);
        }
    }
}

/// `perf_event_open(attr, pid, cpu)`, close-on-exec.
fn open_event(attr: &mut sys::bindings::perf_event_attr, pid: i32, cpu: u32) -> io::Result<OwnedFd> {
    // SAFETY: attr is a valid, initialized perf_event_attr that lives for the call.
    let fd = unsafe {
        sys::perf_event_open(attr, pid, cpu as i32, -1, libc::c_ulong::from(sys::bindings::PERF_FLAG_FD_CLOEXEC))
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: perf_event_open just created this descriptor for us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The exit events of a process tree.
pub struct ExitEvents {
    rings: Vec<Ring>,
    /// The other events of each CPU, writing into that CPU's ring (`PERF_EVENT_IOC_SET_OUTPUT`).
    others: Vec<OwnedFd>,
    tp: Tracepoint,
    /// Records the kernel dropped because a buffer was full.
    pub lost: u64,
    record: Vec<u8>,
}

/// Data pages per CPU buffer (a power of two): 512 KiB.
const DATA_PAGES: usize = 128;

impl ExitEvents {
    /// Opens exit events on process `pid` and its future threads and children: one event per
    /// online CPU and tracepoint in `tps` (which share one record layout), each CPU's events
    /// writing into one ring, filtered in the kernel to `filter` (a tracepoint filter such as
    /// `id == 0 || id == 1`) when given.
    pub fn open(pid: i32, tps: &[Tracepoint], filter: Option<&str>) -> io::Result<ExitEvents> {
        let cpus = online_cpus()?;
        let page = page_size();
        let tp = *tps.first().ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        if !tps.iter().all(|t| t.same_layout(&tp)) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "exit tracepoints of different layouts"));
        }
        let mut rings: Vec<Ring> = Vec::new();
        let mut others = Vec::new();
        for cpu in cpus {
            for (k, tp) in tps.iter().enumerate() {
                // SAFETY: perf_event_attr is plain data; all-zero is a valid starting point.
                let mut attr: sys::bindings::perf_event_attr = unsafe { std::mem::zeroed() };
                attr.type_ = sys::bindings::PERF_TYPE_TRACEPOINT;
                attr.size = size_of::<sys::bindings::perf_event_attr>() as u32;
                attr.config = tp.id;
                attr.__bindgen_anon_1.sample_period = 1;
                attr.sample_type = u64::from(
                    sys::bindings::PERF_SAMPLE_TID | sys::bindings::PERF_SAMPLE_TIME | sys::bindings::PERF_SAMPLE_RAW,
                );
                attr.set_inherit(1);
                attr.set_use_clockid(1);
                attr.clockid = libc::CLOCK_MONOTONIC;
                // Lost-record notices carry their time too (see `drain`).
                attr.set_sample_id_all(1);
                // The reader polls on its own schedule; wake it only when a buffer is half full.
                attr.set_watermark(1);
                attr.__bindgen_anon_2.wakeup_watermark = (DATA_PAGES * page / 2) as u32;
                let filtered = |fd: &OwnedFd| -> io::Result<()> {
                    if let Some(f) = filter {
                        let c = std::ffi::CString::new(f).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
                        // SAFETY: SET_FILTER reads the NUL-terminated string, which lives for the call.
                        if unsafe { sys::ioctls::SET_FILTER(fd.as_raw_fd(), c.as_ptr() as *mut libc::c_char) } < 0 {
                            return Err(io::Error::last_os_error());
                        }
                    }
                    Ok(())
                };
                if k > 0 {
                    let fd = open_event(&mut attr, pid, cpu)?;
                    filtered(&fd)?;
                    let ring = rings.last().expect("the CPU's first event made its ring");
                    // SAFETY: SET_OUTPUT takes another perf event's descriptor (same CPU) by value.
                    if unsafe { sys::ioctls::SET_OUTPUT(fd.as_raw_fd(), ring.fd.as_raw_fd()) } < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    others.push(fd);
                    continue;
                }
                let ring = Ring::open(&mut attr, pid, cpu, DATA_PAGES)?;
                filtered(&ring.fd)?;
                rings.push(ring);
            }
        }
        Ok(ExitEvents { rings, others, tp, lost: 0, record: Vec::new() })
    }

    /// The descriptors to poll for readability.
    pub fn fds(&self) -> Vec<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        self.rings.iter().map(|r| r.fd.as_fd()).collect()
    }

    /// Reads every record available now, in each buffer's order (not merged across CPUs), and
    /// the time of each notice that records were lost (`lost_at`): the kernel writes one, with
    /// its time, once the full buffer has room again, so any exit after the last record read
    /// and before that time may be missing.
    pub fn drain(&mut self, out: &mut Vec<Exit>, lost_at: &mut Vec<u64>) {
        let (tp, mut lost) = (self.tp, 0);
        for ring in &self.rings {
            let sane = ring.read(&mut self.record, |kind, rec| match kind {
                sys::bindings::PERF_RECORD_SAMPLE => {
                    if let Some(e) = parse_sample(&rec[8..], tp) {
                        out.push(e);
                    }
                }
                sys::bindings::PERF_RECORD_LOST if rec.len() >= 24 => {
                    lost += u64::from_ne_bytes(rec[16..24].try_into().expect("8"));
                    // header, id, lost, then sample_id: pid, tid, time.
                    let time = rec.get(32..40).map_or(u64::MAX, |t| u64::from_ne_bytes(t.try_into().expect("8")));
                    lost_at.push(time);
                }
                _ => {}
            });
            if !sane {
                // Not a record: the buffer was given back whole rather than stall on it.
                lost += 1;
                lost_at.push(monotonic_ns());
            }
        }
        self.lost += lost;
    }
}

/// Thread exits: `PERF_RECORD_EXIT`, written by a software event that counts nothing
/// (`PERF_COUNT_SW_DUMMY` with `task` set), one per CPU for every task of the system (CAP_PERFMON
/// or root). The kernel writes a thread's exit record before it frees the thread's id, so a
/// reader that reads them before it trusts what it keeps per thread id never takes a new thread
/// for one that had the id before (after a pid wrap, or an id chosen with `clone3`'s `set_tid`).
/// System-wide rather than on the program's tasks: events attached to a task are scheduled in
/// and out at each of its context switches (two per traced call), which cost a traced getppid
/// 0.9 µs more here; the system's other thread exits cost a record each instead.
pub struct TaskEvents {
    rings: Vec<Ring>,
    record: Vec<u8>,
}

/// Data pages per CPU for thread records (forks come with the exits): about 1,800 records.
const TASK_PAGES: usize = 16;

impl TaskEvents {
    /// Opens them (for every task: the reader keeps the ones it knows).
    pub fn open() -> io::Result<TaskEvents> {
        let page = page_size();
        let mut rings = Vec::new();
        for cpu in online_cpus()? {
            // SAFETY: perf_event_attr is plain data; all-zero is a valid starting point.
            let mut attr: sys::bindings::perf_event_attr = unsafe { std::mem::zeroed() };
            attr.type_ = sys::bindings::PERF_TYPE_SOFTWARE;
            attr.size = size_of::<sys::bindings::perf_event_attr>() as u32;
            attr.config = u64::from(sys::bindings::PERF_COUNT_SW_DUMMY);
            attr.set_task(1);
            // Read when the receiver looks, never woken for.
            attr.set_watermark(1);
            attr.__bindgen_anon_2.wakeup_watermark = (TASK_PAGES * page / 2) as u32;
            rings.push(Ring::open(&mut attr, -1, cpu, TASK_PAGES)?);
        }
        Ok(TaskEvents { rings, record: Vec::new() })
    }

    /// Adds to `out` the threads that exited since the last call. False when records were lost
    /// (a full buffer): any thread may then have exited.
    pub fn exited(&mut self, out: &mut Vec<u32>) -> bool {
        let mut complete = true;
        for ring in self.rings.iter().filter(|r| r.has_records()) {
            // PERF_RECORD_EXIT: header, pid, ppid, tid, ptid (u32 each), time.
            complete &= ring.read(&mut self.record, |kind, rec| match kind {
                sys::bindings::PERF_RECORD_EXIT if rec.len() >= 20 => {
                    out.push(u32::from_ne_bytes(rec[16..20].try_into().expect("4")));
                }
                sys::bindings::PERF_RECORD_LOST => complete = false,
                _ => {}
            });
        }
        complete
    }
}

/// A disabled event on the tracepoint, opened only to register it with the kernel ahead of
/// time (the first perf user of a tracepoint waits for the kernel to patch it in, about 15 ms
/// here), so that this wait overlaps with the program's launch.
pub struct Warm(#[allow(dead_code)] OwnedFd);

impl Tracepoint {
    pub fn warm(self) -> io::Result<Warm> {
        // SAFETY: perf_event_attr is plain data; all-zero is a valid starting point.
        let mut attr: sys::bindings::perf_event_attr = unsafe { std::mem::zeroed() };
        attr.type_ = sys::bindings::PERF_TYPE_TRACEPOINT;
        attr.size = size_of::<sys::bindings::perf_event_attr>() as u32;
        attr.config = self.id;
        attr.set_disabled(1);
        // SAFETY: attr is a valid, initialized perf_event_attr that lives for the call.
        let fd = unsafe {
            sys::perf_event_open(&mut attr, 0, -1, -1, libc::c_ulong::from(sys::bindings::PERF_FLAG_FD_CLOEXEC))
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: perf_event_open just created this descriptor for us.
        Ok(Warm(unsafe { OwnedFd::from_raw_fd(fd) }))
    }
}

impl ExitEvents {
    /// Closes the events without waiting for the kernel to let go of the tracepoint (the last
    /// close of a tracepoint event waits for an RCU grace period, tens of milliseconds that
    /// every run would otherwise add to its end): a forked child holds the descriptors, closes
    /// everything else at once (so that no pipe or file stays open on its account), and closes
    /// them after interpose has let go of its own copies.
    pub fn close_detached(self) {
        let ExitEvents { rings, others, .. } = self;
        let mut fds: Vec<OwnedFd> = others;
        for r in rings {
            let r = std::mem::ManuallyDrop::new(r);
            // SAFETY: base/len are the mapping made in `open`; `r` is never dropped (its Drop
            // would unmap it again), and its descriptor is moved out exactly once.
            let fd = unsafe {
                libc::munmap(r.base.cast(), r.len);
                std::ptr::read(&r.fd)
            };
            fds.push(fd);
        }
        let Ok((wait_r, wait_w)) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) else { return };
        let mut keep: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
        keep.push(wait_r.as_raw_fd());
        keep.sort_unstable();
        // SAFETY: the child makes only async-signal-safe raw calls (close_range, read, _exit) on
        // integers and a stack buffer, everything prepared before the fork.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: as above.
            unsafe {
                let mut from = 0u32;
                for &k in &keep {
                    if (k as u32) > from {
                        libc::syscall(libc::SYS_close_range, from, k as u32 - 1, 0);
                    }
                    from = k as u32 + 1;
                }
                libc::syscall(libc::SYS_close_range, from, u32::MAX, 0);
                let mut b = [0u8; 1];
                while libc::read(wait_r.as_raw_fd(), b.as_mut_ptr().cast(), 1) < 0 {}
                libc::_exit(0);
            }
        }
        drop(fds);
        drop(wait_r);
        drop(wait_w);
    }
}

/// A sample: pid, tid (u32 each), time (u64), raw size (u32) and the raw tracepoint record.
fn parse_sample(b: &[u8], tp: Tracepoint) -> Option<Exit> {
    let u32_at = |o: usize| b.get(o..o + 4).map(|s| u32::from_ne_bytes(s.try_into().expect("4")));
    let u64_at = |o: usize| b.get(o..o + 8).map(|s| u64::from_ne_bytes(s.try_into().expect("8")));
    let tid = u32_at(4)?;
    let time_ns = u64_at(8)?;
    let raw_size = u32_at(16)? as usize;
    let raw = b.get(20..20 + raw_size)?;
    let field = |o: usize| raw.get(o..o + 8).map(|s| i64::from_ne_bytes(s.try_into().expect("8")));
    let nr = match tp.nr_size {
        4 => i64::from(i32::from_ne_bytes(raw.get(tp.nr_offset..tp.nr_offset + 4)?.try_into().expect("4"))),
        _ => field(tp.nr_offset)?,
    };
    Some(Exit { tid, time_ns, nr, ret: field(tp.ret_offset)? })
}

fn page_size() -> usize {
    // SAFETY: sysconf takes an integer and has no side effects.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// The online CPUs, from `/sys/devices/system/cpu/online` (`0-3,5`).
fn online_cpus() -> io::Result<Vec<u32>> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online")?;
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "bad cpu list");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(cpus)
}

/// The CLOCK_MONOTONIC time, in nanoseconds: the clock of [`Exit::time_ns`].
pub fn monotonic_ns() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .unwrap_or_else(|_| nix::sys::time::TimeSpec::new(0, 0));
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exits `ev` reads of a thread started now that runs `calls` ten times.
    fn exits_of_a_new_thread(ev: &mut ExitEvents, calls: fn()) -> Vec<Exit> {
        let tid = std::thread::spawn(move || {
            for _ in 0..10 {
                calls();
            }
            nix::unistd::gettid().as_raw() as u32
        })
        .join()
        .unwrap();
        let mut out = Vec::new();
        ev.drain(&mut out, &mut Vec::new());
        out.retain(|e| e.tid == tid);
        out
    }

    /// Exit events of a thread started after they were opened (inherit), filtered in the
    /// kernel; skipped where perf events are not permitted.
    #[test]
    fn a_new_threads_exits_are_seen_filtered() {
        let Ok(tp) = Tracepoint::sys_exit() else { return eprintln!("SKIPPED: no tracefs") };
        let filter = format!("id == {}", libc::SYS_getppid);
        let mut ev = match ExitEvents::open(0, &[tp], Some(&filter)) {
            Ok(ev) => ev,
            Err(e) => return eprintln!("SKIPPED: perf events not permitted: {e}"),
        };
        let t0 = monotonic_ns();
        let mine = exits_of_a_new_thread(&mut ev, || {
            nix::unistd::getppid();
            nix::unistd::getpid();
        });
        assert_eq!(mine.len(), 10, "{mine:?}");
        assert!(mine.iter().all(|e| e.nr == libc::SYS_getppid && e.ret > 0 && e.time_ns > t0));
    }

    /// The same through per-syscall tracepoints, two of them sharing each CPU's ring.
    #[test]
    fn per_syscall_exits_share_a_ring() {
        let Ok(tps) = Tracepoints::read(&["getppid", "getpid"]) else { return eprintln!("SKIPPED: no tracefs") };
        let Some(per) = tps.per_syscall else { return eprintln!("SKIPPED: no per-syscall tracepoints") };
        let mut ev = match ExitEvents::open(0, &per, None) {
            Ok(ev) => ev,
            Err(e) => return eprintln!("SKIPPED: perf events not permitted: {e}"),
        };
        let mine = exits_of_a_new_thread(&mut ev, || {
            nix::unistd::getppid();
            nix::unistd::getpid();
            nix::unistd::getuid();
        });
        assert_eq!(mine.len(), 20, "{mine:?}");
        assert_eq!(mine.iter().filter(|e| e.nr == libc::SYS_getppid).count(), 10);
        assert!(mine.iter().all(|e| (e.nr == libc::SYS_getppid || e.nr == libc::SYS_getpid) && e.ret > 0));
    }
}
