//! Capabilities of interpose itself, read with `capget(2)`.

/// `CAP_SYS_ADMIN`: what lets a process load a seccomp filter without no_new_privs.
pub const CAP_SYS_ADMIN: u32 = 21;

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct Header {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Whether `cap` is in this thread's effective set (of its own user namespace). An error of
/// capget (cannot happen with a valid header) counts as "no".
pub fn effective(cap: u32) -> bool {
    let mut header = Header { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
    let mut data = [Data::default(); 2];
    // SAFETY: capget with a version-3 header reads two `Data` records, which `data` holds; both
    // pointers are to live, exclusively borrowed locals.
    let r = unsafe { libc::syscall(libc::SYS_capget, &raw mut header, data.as_mut_ptr()) };
    let (word, bit) = ((cap / 32) as usize, cap % 32);
    r == 0 && word < data.len() && data[word].effective & (1 << bit) != 0
}
