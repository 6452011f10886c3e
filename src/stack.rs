//! `-k`: the user stack of each logged call, as strace -k prints it.
//!
//! Two halves, on two threads:
//!
//! - [`Capturer`], on the receive path, while the notified thread is stopped at syscall entry:
//!   the program counter comes with the notification, the stack pointer from
//!   `/proc/TID/syscall`; stack memory is read page by page with `process_vm_readv`; `framehop`
//!   unwinds over the `.eh_frame` (or `.debug_frame`) of each mapped object, and falls back to
//!   frame pointers where an address has no CFI (Go code on amd64). It produces raw frames: an
//!   address, the mapped object and the offset in its file. Unwind info is parsed once per file
//!   (keyed by device and inode) and the unwinder once per process, rebuilt when its mappings
//!   change: the filter traps `mmap`, `munmap` and `mremap` under `-k` (as strace re-reads the
//!   maps after each of them), and the process's next stack reads `/proc/PID/maps` again; so
//!   does an exec. A program counter outside every known mapping reads them again once per
//!   change at most (a mapping made by a process sharing the memory, `vfork`), never at every
//!   call: a program with 30,000 mappings and code outside any file (a JIT) pays for the maps
//!   when they change, not per call.
//! - [`Symbolizer`], on the output thread: the symbol tables of the objects (`.symtab` and
//!   `.dynsym`, parsed with `object`, once per file), and the lines themselves.
//!
//! The register set at syscall entry is not readable without ptrace: only the program counter
//! and the stack pointer are. The frame pointer, which code built with frame pointers needs to
//! unwind past its own frame, is recovered from the stack: the first slot at or above the stack
//! pointer that holds a frame record (a pointer a little further up the stack, then a return
//! address into executable code). Frames whose CFI saved it restore the real one.
//!
//! Everything the target controls is bounded: at most [`MAX_FRAMES`] frames and
//! [`MAX_PAGES`] pages of stack per call; a read that fails ends the stack there; at most
//! [`MAX_NEW_FILES`] files parsed per reading of the maps; an unwind section larger than
//! [`MAX_SECTION`] is not read (that object unwinds by frame pointers); what is kept of files
//! stays under [`MAX_KEPT_BYTES`], and of mappings under [`MAX_KEPT_MAPPINGS`].
//!
//! The files are the program's to choose (a mapping of a deleted file shows as `PATH
//! (deleted)`, and a FIFO may be given that name): interpose opens a mapped object through
//! `/proc/PID/map_files/` where it may (root: the very file mapped, no path walked), else by
//! path without following a final symbolic link, as an `O_PATH` descriptor first, and reads
//! it only if that is a regular file with the mapping's device and inode, on a filesystem that
//! neither computes its contents nor is served by user space or the network (where the server
//! may be the program, waiting for interpose); the read itself is opened non-blocking. Files
//! on served filesystems are never opened: their frames have no symbol.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::ops::Range;
use std::sync::Arc;

use framehop::Unwinder as _;
use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
use framehop::{ExplicitModuleSectionInfo, Module};
use object::{Object as _, ObjectSection as _, ObjectSegment as _, ObjectSymbol as _};

/// Frames per call, at most.
pub const MAX_FRAMES: usize = 64;
/// Pages of stack read per call, at most (256 KiB).
pub const MAX_PAGES: usize = 64;
const PAGE: u64 = 4096;
/// How far above the stack pointer the frame pointer is looked for (in 8-byte slots).
const BP_SCAN_SLOTS: u64 = 1024;
/// Files whose unwind information one reading of a process's maps parses, at most.
pub const MAX_NEW_FILES: usize = 64;
/// Largest unwind or symbol section read from a file (64 MiB).
pub const MAX_SECTION: u64 = 64 << 20;
/// What the kept unwind sections may weigh in all (256 MiB) before they are dropped.
pub const MAX_KEPT_BYTES: usize = 256 << 20;
/// Mappings kept over all processes, at most.
pub const MAX_KEPT_MAPPINGS: usize = 1 << 20;
/// The syscalls after which a process's mappings are read again (trapped under `-k`).
pub const MAPPING_CHANGERS: &[&str] = &["mmap", "munmap", "mremap"];

/// The native numbers of [`MAPPING_CHANGERS`].
pub fn mapping_calls() -> &'static crate::policy::SyscallSet {
    static SET: std::sync::OnceLock<crate::policy::SyscallSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let reg = crate::decode::registry();
        let mut set = crate::policy::SyscallSet::empty();
        for sc in MAPPING_CHANGERS.iter().filter_map(|n| reg.by_name(n)) {
            set.insert(sc.nr());
        }
        set
    })
}

/// A mapped file, as `/proc/PID/maps` names it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Object {
    pub path: String,
    pub dev: u64,
    pub ino: u64,
    /// A process that maps it (to open it through `/proc/PID/root` if the path does not lead
    /// to the same file from here).
    pub pid: u32,
    /// Where it is mapped in that process (`/proc/PID/map_files/START-END`).
    pub range: Range<u64>,
    /// On a filesystem served by user space or the network: never opened.
    pub served: bool,
}

/// One frame as captured: symbolized later, on the output thread.
#[derive(Clone, Debug)]
pub struct RawFrame {
    pub pc: u64,
    /// The mapped object the address is in; None outside any file mapping.
    pub object: Option<Arc<Object>>,
    /// The address's offset in the object's file (what strace prints in brackets).
    pub file_offset: u64,
}

struct Mapping {
    range: Range<u64>,
    offset: u64,
    exec: bool,
    object: Option<Arc<Object>>,
}

/// What the unwinder needs from one file.
struct UnwindInfo {
    /// PT_LOAD segments: (file offset, vaddr, file size).
    loads: Vec<(u64, u64, u64)>,
    eh_frame: Option<(Range<u64>, Arc<[u8]>)>,
    eh_frame_hdr: Option<(Range<u64>, Arc<[u8]>)>,
    debug_frame: Option<Arc<[u8]>>,
    text: Option<Range<u64>>,
    got: Option<Range<u64>>,
}

impl UnwindInfo {
    /// The bytes of its sections.
    fn bytes(&self) -> usize {
        self.eh_frame.as_ref().map_or(0, |(_, d)| d.len())
            + self.eh_frame_hdr.as_ref().map_or(0, |(_, d)| d.len())
            + self.debug_frame.as_ref().map_or(0, |d| d.len())
    }
}

type Unwinder = UnwinderX86_64<Arc<[u8]>>;

struct Process {
    maps: Vec<Mapping>,
    unwinder: Unwinder,
    /// Its mappings changed since they were read (a trapped mmap, munmap or mremap).
    stale: bool,
    /// They were read again for a program counter outside them, since the last change.
    reread_for_pc: bool,
}

/// Receive-path half: raw stacks of stopped threads.
#[derive(Default)]
pub struct Capturer {
    procs: HashMap<u32, Process>,
    files: HashMap<(u64, u64), Option<Arc<UnwindInfo>>>,
    objects: HashMap<(u64, u64, String), Arc<Object>>,
    cache: Option<Box<CacheX86_64>>,
    /// `/proc/TID/syscall`, kept open per thread.
    syscall_files: HashMap<u32, File>,
    /// Bytes of unwind sections kept in `files`.
    kept_bytes: usize,
    /// Threads whose last call mapped or unmapped memory (see [`Capturer::call`]).
    changing: std::collections::HashSet<u32>,
}

impl Capturer {
    /// The process `tgid` changed its image (execve): its mappings are read again.
    pub fn forget(&mut self, tgid: u32) {
        self.procs.remove(&tgid);
    }

    /// Thread `tid` of process `tgid` made a call (`changes`: one that maps or unmaps memory):
    /// the process's mappings are read again at its next stack, and once more after that
    /// thread's next call, by which time the change has surely been made (another thread's
    /// stack may read them while the call is still under way).
    pub fn call(&mut self, tid: u32, tgid: u32, changes: bool) {
        let after = self.changing.remove(&tid);
        if changes {
            self.changing.insert(tid);
        }
        if (changes || after)
            && let Some(p) = self.procs.get_mut(&tgid)
        {
            p.stale = true;
        }
    }

    /// Thread `tid` has exited.
    pub fn forget_thread(&mut self, tid: u32) {
        self.syscall_files.remove(&tid);
        self.changing.remove(&tid);
    }

    /// Thread and process ids may now be others' (a pid wrap).
    pub fn forget_all(&mut self) {
        self.procs.clear();
        self.syscall_files.clear();
        self.changing.clear();
    }

    /// The stack of thread `tid` (of process `tgid`), stopped at syscall entry with program
    /// counter `pc`. Innermost frame first; empty when not even the stack pointer is readable.
    pub fn capture(&mut self, tid: u32, tgid: u32, pc: u64) -> Vec<RawFrame> {
        let Some(sp) = self.stack_pointer(tid) else {
            return Vec::new();
        };
        let refresh = match self.procs.get_mut(&tgid) {
            None => true,
            Some(p) if p.stale => true,
            // Once per change at most (see the module notes).
            Some(p) if !p.reread_for_pc && find(&p.maps, pc).is_none_or(|m| m.object.is_none()) => {
                p.reread_for_pc = true;
                true
            }
            Some(_) => false,
        };
        if refresh {
            let reread = self.procs.get(&tgid).is_some_and(|p| p.reread_for_pc && !p.stale);
            self.refresh(tgid);
            if let Some(p) = self.procs.get_mut(&tgid) {
                p.reread_for_pc = reread;
            }
        }
        let mut mem = StackMemory { tid, pages: Vec::new(), failed: false };
        self.best_walk(&mut mem, tgid, pc, sp)
    }

    /// Unwinds without a frame pointer first; when that does not reach the end of the stack,
    /// with each of the first few frame records the stack holds as the frame pointer, and keeps
    /// the walk that ends cleanly with the most named frames.
    fn best_walk(&mut self, mem: &mut StackMemory, tgid: u32, pc: u64, sp: u64) -> Vec<RawFrame> {
        // Not 0, which framehop takes for the end of the stack: an address never readable.
        const NO_FRAME_POINTER: u64 = 0xffff_ffff_ffff_fff0;
        let (frames, clean) = self.walk(mem, tgid, pc, sp, NO_FRAME_POINTER);
        if clean {
            return frames;
        }
        let score = |f: &[RawFrame], clean: bool| (clean, f.iter().filter(|f| f.object.is_some()).count());
        let mut best = (score(&frames, clean), frames);
        let candidates = match self.procs.get(&tgid) {
            Some(p) => frame_records(mem, sp, &p.maps),
            None => Vec::new(),
        };
        for bp in candidates {
            let (frames, clean) = self.walk(mem, tgid, pc, sp, bp);
            let s = score(&frames, clean);
            if s > best.0 {
                best = (s, frames);
                if clean {
                    break;
                }
            }
        }
        best.1
    }

    /// The stack pointer from `/proc/TID/syscall` (`NR ARGS.. SP PC` while the thread waits).
    fn stack_pointer(&mut self, tid: u32) -> Option<u64> {
        if self.syscall_files.len() > 4096 {
            self.syscall_files.clear();
        }
        let mut buf = [0u8; 256];
        for attempt in 0..2 {
            if attempt == 1 || !self.syscall_files.contains_key(&tid) {
                let f = File::open(format!("/proc/{tid}/syscall")).ok()?;
                self.syscall_files.insert(tid, f);
            }
            let f = self.syscall_files.get_mut(&tid)?;
            let mut read = |buf: &mut [u8]| f.seek(SeekFrom::Start(0)).and_then(|_| f.read(buf));
            match syscall_stack_pointer(&mut read, &mut buf) {
                Ok(sp) => return sp,
                Err(_) => {
                    self.syscall_files.remove(&tid);
                    continue;
                }
            }
        }
        None
    }

    /// Reads `/proc/TGID/maps` and builds the process's unwinder.
    fn refresh(&mut self, tgid: u32) {
        let text = std::fs::read_to_string(format!("/proc/{tgid}/maps")).unwrap_or_default();
        let served = served_devices(tgid);
        let mut maps = Vec::new();
        let mut unwinder = Unwinder::new();
        let mut parsed = 0;
        if self.files.len() > 4096 || self.kept_bytes > MAX_KEPT_BYTES {
            self.files.clear();
            self.objects.clear();
            self.kept_bytes = 0;
        }
        for line in text.lines() {
            let Some(m) = parse_maps_line(line) else { continue };
            let object = m.path.filter(|p| p.starts_with('/') && m.ino != 0).map(|path| {
                let key = (m.dev, m.ino, path.to_string());
                self.objects
                    .entry(key)
                    .or_insert_with(|| {
                        Arc::new(Object {
                            path: path.to_string(),
                            dev: m.dev,
                            ino: m.ino,
                            pid: tgid,
                            range: m.range.clone(),
                            served: served.contains(&m.dev),
                        })
                    })
                    .clone()
            });
            if m.exec
                && let Some(obj) = &object
            {
                let info = match self.files.get(&(obj.dev, obj.ino)) {
                    Some(info) => info.clone(),
                    None if parsed < MAX_NEW_FILES => {
                        parsed += 1;
                        let info = unwind_info(obj);
                        self.kept_bytes += info.as_ref().map_or(0, |i| i.bytes());
                        self.files.insert((obj.dev, obj.ino), info.clone());
                        info
                    }
                    // Parsed at a later reading of the maps.
                    None => None,
                };
                if let Some(info) = info
                    && let Some(module) = module(&info, &m.range, m.offset, &obj.path)
                {
                    unwinder.add_module(module);
                }
            }
            maps.push(Mapping { range: m.range, offset: m.offset, exec: m.exec, object });
        }
        let kept: usize = self.procs.values().map(|p| p.maps.len()).sum();
        if self.procs.len() > 256 || kept + maps.len() > MAX_KEPT_MAPPINGS {
            self.procs.clear();
        }
        self.procs.insert(tgid, Process { maps, unwinder, stale: false, reread_for_pc: false });
    }

    /// One unwind from (pc, sp, bp). True when it reached the end of the stack.
    fn walk(&mut self, mem: &mut StackMemory, tgid: u32, pc: u64, sp: u64, bp: u64) -> (Vec<RawFrame>, bool) {
        let Some(proc) = self.procs.get(&tgid) else { return (Vec::new(), false) };
        let cache = self.cache.get_or_insert_with(|| Box::new(CacheX86_64::new()));
        let mut read = |addr: u64| mem.word(addr).ok_or(());
        let mut iter = proc.unwinder.iter_frames(pc, UnwindRegsX86_64::new(pc, sp, bp), cache, &mut read);
        let mut frames = Vec::new();
        while frames.len() < MAX_FRAMES {
            let addr = match iter.next() {
                Ok(Some(addr)) => addr,
                Ok(None) => return (frames, true),
                Err(_) => break,
            };
            let pc = addr.address();
            let m = find(&proc.maps, pc);
            let object = m.and_then(|m| m.object.clone());
            let file_offset = m.map_or(pc, |m| pc - m.range.start + m.offset);
            let stop = object.is_none() || pc == 0;
            frames.push(RawFrame { pc, object, file_offset });
            if stop {
                break;
            }
        }
        (frames, false)
    }
}

fn find(maps: &[Mapping], addr: u64) -> Option<&Mapping> {
    let i = maps.partition_point(|m| m.range.start <= addr);
    maps[..i].last().filter(|m| m.range.contains(&addr))
}

/// How many times `/proc/TID/syscall` is read again while it says "running".
const RUNNING_RETRIES: usize = 1000;

/// The stack pointer from `/proc/TID/syscall`, read with `read`. The kernel says "running"
/// while the thread is not yet asleep, and a thread that just sent a seccomp notification may
/// still be on its way to sleep when the supervisor receives it: the file is read again (a
/// bounded number of times, yielding the CPU between) until the thread has stopped.
/// `Err` when the read fails; `Ok(None)` when it shows no syscall.
pub fn syscall_stack_pointer(
    read: &mut dyn FnMut(&mut [u8]) -> std::io::Result<usize>,
    buf: &mut [u8],
) -> std::io::Result<Option<u64>> {
    for _ in 0..RUNNING_RETRIES {
        let n = read(buf)?;
        if !buf[..n].starts_with(b"running") {
            return Ok(parse_syscall_sp(&buf[..n]));
        }
        std::thread::yield_now();
    }
    Ok(None)
}

fn parse_syscall_sp(buf: &[u8]) -> Option<u64> {
    // "NR A1 A2 A3 A4 A5 A6 SP PC": only while the thread is in a syscall.
    let text = std::str::from_utf8(buf).ok()?;
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 9 {
        return None;
    }
    u64::from_str_radix(fields[7].trim_start_matches("0x"), 16).ok()
}

struct MapsLine<'a> {
    range: Range<u64>,
    offset: u64,
    exec: bool,
    dev: u64,
    ino: u64,
    path: Option<&'a str>,
}

fn parse_maps_line(line: &str) -> Option<MapsLine<'_>> {
    // start-end perms offset major:minor inode   path
    let mut it = line.splitn(6, ' ');
    let (range, perms, offset, dev, ino) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    let path = it.next().map(str::trim_start).filter(|p| !p.is_empty());
    let (start, end) = range.split_once('-')?;
    let (major, minor) = dev.split_once(':')?;
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    Some(MapsLine {
        range: hex(start)?..hex(end)?,
        offset: hex(offset)?,
        exec: perms.as_bytes().get(2) == Some(&b'x'),
        dev: (hex(major)? << 20) | hex(minor)?,
        ino: ino.parse().ok()?,
        path,
    })
}

/// The devices of the filesystems in process `pid`'s mount table that user space or the
/// network serves (FUSE, NFS, ...), as `/proc/PID/maps` writes them (major << 20 | minor).
fn served_devices(pid: u32) -> std::collections::HashSet<u64> {
    const SERVED: &[&str] = &["fuse", "fuseblk", "nfs", "nfs4", "cifs", "smb3", "9p", "ceph", "afs", "autofs"];
    let text = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            // ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE ...
            let dev = l.split(' ').nth(2)?;
            let fstype = l.split_once(" - ")?.1.split(' ').next()?;
            let base = fstype.split('.').next()?;
            if !SERVED.contains(&base) {
                return None;
            }
            let (major, minor) = dev.split_once(':')?;
            Some((major.parse::<u64>().ok()? << 20) | minor.parse::<u64>().ok()?)
        })
        .collect()
}

/// Opens the object's file for reading, making sure it is the file mapped (see the module
/// notes): through `/proc/PID/map_files/` where interpose may, else by path, checked on an
/// `O_PATH` descriptor before it is opened. Never waits on what the program controls.
fn open_object(obj: &Object) -> Option<File> {
    if obj.served {
        return None;
    }
    let by_map = format!("/proc/{}/map_files/{:x}-{:x}", obj.pid, obj.range.start, obj.range.end);
    let mut candidates = vec![by_map];
    if !obj.path.ends_with(" (deleted)") {
        // /proc/PID/maps writes paths from the reader's root: interpose's.
        candidates.push(obj.path.clone());
    }
    // A lookup by path must not enter a served filesystem (the program may have put one on
    // the way): with any in the mount table, it stays on its mount.
    let no_xdev = !served_devices(std::process::id()).is_empty();
    let unsafe_fs: Vec<i64> =
        crate::supervisor::exec::PSEUDO_FS.iter().chain(crate::supervisor::context::SERVED_FS).copied().collect();
    candidates
        .iter()
        .find_map(|p| crate::sys::meta::open_mapped_file(p, obj.dev, obj.ino, no_xdev, &unsafe_fs).map(File::from))
}

fn unwind_info(obj: &Object) -> Option<Arc<UnwindInfo>> {
    let file = open_object(obj)?;
    let cache = object::ReadCache::new(file);
    let elf = object::File::parse(&cache).ok()?;
    let section = |name: &str| -> Option<(Range<u64>, Arc<[u8]>)> {
        let s = elf.section_by_name(name)?;
        if s.size() > MAX_SECTION {
            return None;
        }
        let data = s.uncompressed_data().ok()?;
        if data.len() as u64 > MAX_SECTION {
            return None;
        }
        Some((s.address()..s.address() + s.size(), Arc::from(&*data)))
    };
    let range = |name: &str| elf.section_by_name(name).map(|s| s.address()..s.address() + s.size());
    Some(Arc::new(UnwindInfo {
        loads: loads(&elf),
        eh_frame: section(".eh_frame"),
        eh_frame_hdr: section(".eh_frame_hdr"),
        debug_frame: section(".debug_frame").map(|(_, d)| d),
        text: range(".text"),
        got: range(".got"),
    }))
}

fn loads<'d, R: object::ReadRef<'d>>(elf: &object::File<'d, R>) -> Vec<(u64, u64, u64)> {
    elf.segments().map(|s| (s.file_range().0, s.address(), s.file_range().1)).collect()
}

/// The framehop module for one executable mapping of a file.
fn module(info: &UnwindInfo, range: &Range<u64>, offset: u64, path: &str) -> Option<Module<Arc<[u8]>>> {
    // The segment this part of the file belongs to gives the load bias.
    let &(p_offset, p_vaddr, _) = info
        .loads
        .iter()
        .find(|&&(o, _, size)| offset >= (o & !(PAGE - 1)) && offset < o.saturating_add(size.max(1)))?;
    let vaddr_at_start = offset.checked_add(p_vaddr)?.checked_sub(p_offset)?;
    let bias = range.start.wrapping_sub(vaddr_at_start);
    let section = ExplicitModuleSectionInfo {
        base_svma: 0,
        text_svma: info.text.clone(),
        got_svma: info.got.clone(),
        eh_frame_svma: info.eh_frame.as_ref().map(|(r, _)| r.clone()),
        eh_frame: info.eh_frame.as_ref().map(|(_, d)| d.clone()),
        eh_frame_hdr_svma: info.eh_frame_hdr.as_ref().map(|(r, _)| r.clone()),
        eh_frame_hdr: info.eh_frame_hdr.as_ref().map(|(_, d)| d.clone()),
        debug_frame: info.debug_frame.clone(),
        ..Default::default()
    };
    Some(Module::new(path.to_string(), range.clone(), bias, section))
}

/// The stopped thread's stack, read a page at a time, at most [`MAX_PAGES`].
struct StackMemory {
    tid: u32,
    pages: Vec<(u64, Box<[u8; PAGE as usize]>)>,
    failed: bool,
}

impl StackMemory {
    fn page(&mut self, base: u64) -> Option<&[u8; PAGE as usize]> {
        if let Some(i) = self.pages.iter().position(|(b, _)| *b == base) {
            return Some(&self.pages[i].1);
        }
        if self.failed || self.pages.len() >= MAX_PAGES {
            return None;
        }
        let mut buf = Box::new([0u8; PAGE as usize]);
        match crate::sys::mem::read(self.tid, base, &mut buf[..]) {
            Ok(n) if n == PAGE as usize => {}
            _ => {
                // Unmapped or gone: nothing further is read for this call.
                self.failed = true;
                return None;
            }
        }
        self.pages.push((base, buf));
        self.pages.last().map(|(_, p)| &**p)
    }

    fn word(&mut self, addr: u64) -> Option<u64> {
        let mut bytes = [0u8; 8];
        for (i, b) in bytes.iter_mut().enumerate() {
            let a = addr.checked_add(i as u64)?;
            if i == 0 || a % PAGE == 0 {
                self.page(a & !(PAGE - 1))?;
            }
            let page = self.pages.iter().find(|(base, _)| *base == a & !(PAGE - 1))?;
            *b = page.1[(a % PAGE) as usize];
        }
        Some(u64::from_ne_bytes(bytes))
    }
}

/// Where the frame pointer may be at syscall entry, as the stack suggests: slots `A` at or
/// above `sp` followed by an address in executable code (`[A+8]`, a return address), those
/// where `[A]` is itself a little further up the stack (a chain of frame records) first.
fn frame_records(mem: &mut StackMemory, sp: u64, maps: &[Mapping]) -> Vec<u64> {
    const CANDIDATES: usize = 6;
    let is_code = |addr: u64| find(maps, addr).is_some_and(|m| m.exec);
    let (mut chained, mut other) = (Vec::new(), Vec::new());
    let mut a = sp & !7;
    for _ in 0..BP_SCAN_SLOTS {
        let Some(v) = mem.word(a) else { break };
        if mem.word(a + 8).is_some_and(is_code) {
            if v > a && v - a < (1 << 20) && v % 8 == 0 {
                chained.push(a);
            } else {
                other.push(a);
            }
            if chained.len() + other.len() >= 2 * CANDIDATES {
                break;
            }
        }
        a += 8;
    }
    chained.into_iter().chain(other).take(CANDIDATES).collect()
}

/// One object's function symbols, for the output thread.
struct Symbols {
    /// PT_LOAD segments: (file offset, vaddr, file size).
    loads: Vec<(u64, u64, u64)>,
    /// (address, name), sorted by address; at one address the first in table order.
    funcs: Vec<(u64, String)>,
}

impl Symbols {
    fn load(obj: &Object) -> Option<Symbols> {
        let file = open_object(obj)?;
        let cache = object::ReadCache::new(file);
        let elf = object::File::parse(&cache).ok()?;
        let too_large = [".symtab", ".strtab", ".dynsym", ".dynstr"]
            .iter()
            .any(|n| elf.section_by_name(n).is_some_and(|s| s.size() > MAX_SECTION));
        if too_large {
            return None;
        }
        // As libunwind (strace's unwinder here) does: STT_FUNC symbols of .dynsym and .symtab.
        let mut funcs: Vec<(u64, String)> = elf
            .dynamic_symbols()
            .chain(elf.symbols())
            .filter(|s| s.kind() == object::SymbolKind::Text && !s.is_undefined())
            .filter_map(|s| Some((s.address(), s.name().ok()?.to_string())))
            .filter(|(_, n)| !n.is_empty())
            .collect();
        // Stable: at one address the first in table order stays first.
        funcs.sort_by_key(|(a, _)| *a);
        funcs.dedup_by_key(|(a, _)| *a);
        Some(Symbols { loads: loads(&elf), funcs })
    }

    fn vaddr(&self, file_offset: u64) -> Option<u64> {
        self.loads
            .iter()
            .find(|(o, _, size)| file_offset >= *o && file_offset < o.saturating_add(*size))
            .map(|(o, v, _)| (file_offset - o).wrapping_add(*v))
    }

    /// The function containing `vaddr` (the closest one below it) and the offset in it.
    fn lookup(&self, vaddr: u64) -> Option<(&str, u64)> {
        let i = self.funcs.partition_point(|(a, _)| *a <= vaddr);
        self.funcs[..i].last().map(|(a, n)| (n.as_str(), vaddr - a))
    }
}

/// One frame, named.
pub struct Named<'a> {
    pub object: Option<&'a str>,
    pub symbol: Option<&'a str>,
    pub offset: Option<u64>,
    /// The address in the object's file; the absolute address when there is no object.
    pub address: u64,
}

/// Output-thread half: names frames.
#[derive(Default)]
pub struct Symbolizer {
    files: HashMap<(u64, u64, String), Option<Symbols>>,
}

impl Symbolizer {
    fn name<'a>(&'a mut self, f: &'a RawFrame, innermost: bool) -> Named<'a> {
        let Some(obj) = &f.object else {
            return Named { object: None, symbol: None, offset: None, address: f.pc };
        };
        if self.files.len() > 4096 {
            self.files.clear();
        }
        let key = (obj.dev, obj.ino, obj.path.clone());
        let syms = self.files.entry(key).or_insert_with(|| Symbols::load(obj));
        let found = syms.as_ref().and_then(|s| {
            let vaddr = s.vaddr(f.file_offset)?;
            // A return address may be just past its call's function: look up the call.
            let lookup = if innermost { vaddr } else { vaddr.saturating_sub(1) };
            let (name, off) = s.lookup(lookup)?;
            Some((name, off + (vaddr - lookup)))
        });
        Named {
            object: Some(&obj.path),
            symbol: found.map(|(n, _)| n),
            offset: found.map(|(_, o)| o),
            address: f.file_offset,
        }
    }

    /// The function that made the call, for the summary's "by caller" tables: the first frame
    /// that is not in the C library or the dynamic loader and is not a Go runtime syscall
    /// wrapper (`runtime.futex`, `syscall.Syscall`...); `OBJECT+0xOFF` when it has no symbol.
    pub fn caller(&mut self, frames: &[RawFrame]) -> Option<String> {
        const WRAPPERS: &[&str] = &[
            "runtime.futex",
            "runtime.read",
            "runtime.write",
            "runtime/internal/syscall.",
            "internal/runtime/syscall.",
            "syscall.",
            "internal/poll.ignoringEINTR",
        ];
        for (i, f) in frames.iter().enumerate() {
            let n = self.name(f, i == 0);
            let object = n.object.unwrap_or("");
            let base = object.rsplit('/').next().unwrap_or(object);
            if base.starts_with("libc.so") || base.starts_with("libpthread") || base.starts_with("ld-linux") {
                continue;
            }
            match n.symbol {
                Some(s) if WRAPPERS.iter().any(|w| s.starts_with(w)) => continue,
                Some(s) => return Some(s.to_string()),
                None => return Some(format!("{base}+{:#x}", n.address)),
            }
        }
        None
    }

    /// strace -k's lines: ` > /lib/libc.so.6(syscall+0x19) [0x101829]`.
    pub fn text(&mut self, frames: &[RawFrame], out: &mut String) {
        for (i, f) in frames.iter().enumerate() {
            let n = self.name(f, i == 0);
            let _ = match (n.object, n.symbol, n.offset) {
                (Some(o), Some(s), Some(off)) => writeln!(out, " > {o}({s}+{off:#x}) [{:#x}]", n.address),
                (Some(o), _, _) => writeln!(out, " > {o}() [{:#x}]", n.address),
                (None, _, _) => writeln!(out, " > unexpected_backtracing_error [{:#x}]", n.address),
            };
        }
    }

    /// `[{"object", "symbol", "offset", "address"}]`, innermost first.
    pub fn json(&mut self, frames: &[RawFrame]) -> serde_json::Value {
        let v: Vec<serde_json::Value> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let n = self.name(f, i == 0);
                serde_json::json!({"object": n.object, "symbol": n.symbol, "offset": n.offset, "address": n.address})
            })
            .collect();
        serde_json::Value::Array(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_still_running_is_read_again() {
        let mut answers =
            vec!["running\n", "running\n", "202 0x1 0x2 0x3 0x4 0x5 0x6 0x7ffd1000 0x401000\n"].into_iter();
        let mut read = |buf: &mut [u8]| {
            let a = answers.next().expect("read no more than needed").as_bytes();
            buf[..a.len()].copy_from_slice(a);
            Ok(a.len())
        };
        assert_eq!(syscall_stack_pointer(&mut read, &mut [0u8; 256]).unwrap(), Some(0x7ffd_1000));
        let mut always = |buf: &mut [u8]| {
            buf[..8].copy_from_slice(b"running\n");
            Ok(8)
        };
        assert_eq!(syscall_stack_pointer(&mut always, &mut [0u8; 256]).unwrap(), None);
    }

    #[test]
    fn syscall_line() {
        let l = b"39 0x1 0x2 0x3 0x4 0x5 0x6 0x7ffc8a5e1f58 0x7f26d3f01829\n";
        assert_eq!(parse_syscall_sp(l), Some(0x7ffc_8a5e_1f58));
        assert_eq!(parse_syscall_sp(b"running\n"), None);
        assert_eq!(parse_syscall_sp(b"-1 0x7ffc8a5e1f58 0x7f26d3f01829\n"), None);
    }

    #[test]
    fn maps_line() {
        let m = parse_maps_line(
            "7f26d3e27000-7f26d3f7c000 r-xp 00026000 08:01 1837410                    /usr/lib/x86_64-linux-gnu/libc.so.6",
        )
        .unwrap();
        assert_eq!(m.range, 0x7f26_d3e2_7000..0x7f26_d3f7_c000);
        assert_eq!(m.offset, 0x26000);
        assert!(m.exec);
        assert_eq!(m.dev, 8 << 20 | 1);
        assert_eq!(m.ino, 1_837_410);
        assert_eq!(m.path, Some("/usr/lib/x86_64-linux-gnu/libc.so.6"));
        let anon = parse_maps_line("7ffc8a5c2000-7ffc8a5e3000 rw-p 00000000 00:00 0                          [stack]")
            .unwrap();
        assert_eq!(anon.path, Some("[stack]"));
        assert!(!anon.exec);
        let bare = parse_maps_line("7f26d3e00000-7f26d3e01000 rw-p 00000000 00:00 0 ").unwrap();
        assert_eq!(bare.path, None);
    }

    #[test]
    fn closest_symbol_below() {
        let s =
            Symbols { loads: vec![(0x1000, 0x1000, 0x1000)], funcs: vec![(0x1100, "a".into()), (0x1200, "b".into())] };
        assert_eq!(s.lookup(0x1150), Some(("a", 0x50)));
        assert_eq!(s.lookup(0x1200), Some(("b", 0)));
        assert_eq!(s.lookup(0x10ff), None);
        assert_eq!(s.vaddr(0x1234), Some(0x1234));
        assert_eq!(s.vaddr(0x2000), None);
    }
}
