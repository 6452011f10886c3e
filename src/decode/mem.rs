//! Memory: mmap, mprotect, munmap, mremap, brk, madvise, msync, mlock (strace's `mem.c`).

use super::format::Args;
use super::xlat::{self, Table, x};

pub static PROT: Table = x![PROT_READ, PROT_WRITE, PROT_EXEC, PROT_SEM = 0x8, PROT_GROWSDOWN, PROT_GROWSUP];

/// The mapping type (the low bits of mmap's flags): one value, not a set.
pub static MAP_TYPES: Table = x![MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE];
const MAP_TYPE: u64 = 0xf;

pub static MAP_FLAGS: Table = x![
    MAP_FIXED,
    MAP_ANONYMOUS,
    MAP_32BIT,
    MAP_GROWSDOWN,
    MAP_DENYWRITE,
    MAP_EXECUTABLE,
    MAP_LOCKED,
    MAP_NORESERVE,
    MAP_POPULATE,
    MAP_NONBLOCK,
    MAP_STACK,
    MAP_HUGETLB,
    MAP_SYNC = 0x80000,
    MAP_FIXED_NOREPLACE,
    MAP_UNINITIALIZED = 0x4000000,
];

pub static MREMAP_FLAGS: Table = x![MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP];

pub static MADVICE: Table = x![
    MADV_NORMAL,
    MADV_RANDOM,
    MADV_SEQUENTIAL,
    MADV_WILLNEED,
    MADV_DONTNEED,
    MADV_FREE,
    MADV_REMOVE,
    MADV_DONTFORK,
    MADV_DOFORK,
    MADV_MERGEABLE,
    MADV_UNMERGEABLE,
    MADV_HUGEPAGE,
    MADV_NOHUGEPAGE,
    MADV_DONTDUMP,
    MADV_DODUMP,
    MADV_WIPEONFORK,
    MADV_KEEPONFORK,
    MADV_COLD,
    MADV_PAGEOUT,
    MADV_POPULATE_READ,
    MADV_POPULATE_WRITE,
    MADV_DONTNEED_LOCKED,
    MADV_COLLAPSE,
    MADV_HWPOISON,
    MADV_SOFT_OFFLINE,
];

pub static MSYNC_FLAGS: Table = x![MS_ASYNC, MS_INVALIDATE, MS_SYNC];
pub static MLOCK_FLAGS: Table = x![MLOCK_ONFAULT];
pub static MLOCKALL_FLAGS: Table = x![MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT];

/// `PROT_READ|PROT_WRITE`, `PROT_NONE`.
pub fn prot(a: &mut Args, v: u64) {
    a.flags(PROT, v as u32 as u64, "PROT_NONE");
}

/// `MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS`.
fn map_flags(out: &mut String, flags: u64) {
    xlat::constant(out, MAP_TYPES, flags & MAP_TYPE, "MAP_");
    let rest = flags & !MAP_TYPE;
    let huge = rest >> libc::MAP_HUGE_SHIFT;
    let rest = rest & ((1 << libc::MAP_HUGE_SHIFT) - 1);
    if rest != 0 {
        out.push('|');
        xlat::flags(out, MAP_FLAGS, rest, "0");
    }
    if huge != 0 {
        use std::fmt::Write;
        let _ = write!(out, "|{}<<MAP_HUGE_SHIFT", huge);
    }
}

/// mmap(addr, length, prot, flags, fd, offset).
pub fn mmap(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
    prot(a, v[2]);
    map_flags(a.arg(), v[3] as u32 as u64);
    a.int(v[4]);
    a.hex(v[5]);
}

/// mprotect(addr, len, prot), pkey_mprotect(addr, len, prot, pkey).
pub fn mprotect(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
    prot(a, v[2]);
}

pub fn pkey_mprotect(a: &mut Args, v: &[u64; 6]) {
    mprotect(a, v);
    a.int(v[3]);
}

/// munmap(addr, len), mlock(addr, len), munlock(addr, len).
pub fn addr_len(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
}

pub fn brk(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
}

/// mremap(old_address, old_size, new_size, flags[, new_address]).
pub fn mremap(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
    a.udec(v[2]);
    let flags = v[3] as u32 as u64;
    a.flags(MREMAP_FLAGS, flags, "0");
    if flags & (libc::MREMAP_FIXED | libc::MREMAP_DONTUNMAP) as u64 != 0 {
        a.ptr(v[4]);
    }
}

pub fn madvise(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
    a.constant(MADVICE, v[2] as u32 as u64, "MADV_");
}

pub fn msync(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
    a.flags(MSYNC_FLAGS, v[2] as u32 as u64, "0");
}

pub fn mlock2(a: &mut Args, v: &[u64; 6]) {
    a.ptr(v[0]);
    a.udec(v[1]);
    a.flags(MLOCK_FLAGS, v[2] as u32 as u64, "0");
}

pub fn mlockall(a: &mut Args, v: &[u64; 6]) {
    a.flags(MLOCKALL_FLAGS, v[0] as u32 as u64, "0");
}
