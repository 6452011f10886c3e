//! Policy -> BPF.
//!
//! Selected syscalls are sent to the supervisor (`SECCOMP_RET_USER_NOTIF`); everything else is
//! allowed (never "notify" as the default action). `execve` and `execveat` are always sent to
//! the supervisor, selected or not: that is what makes the launch handshake safe (see
//! `sys::child`), and it lets the supervisor see every program image change. The i386 and x32
//! twins of the selected syscalls are trapped too (`int $0x80`, x32 numbers), with i386's
//! `socketcall` for the socket calls it multiplexes.
//!
//! [`bpf`] writes the program; libseccomp names the twins (its tables of the other ABIs' numbers)
//! and, in the tests, compiles the same policy its own way: a unit test runs both programs over
//! every number of every ABI.

pub mod bpf;

use libseccomp::{ScmpArch, ScmpSyscall};

use crate::policy::SyscallSet;
use crate::sys::seccomp::BpfProgram;

/// Syscalls always trapped, whatever the policy says.
pub const ALWAYS_TRAPPED: &[&str] = &["execve", "execveat"];

#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("cannot export the filter: {0}")]
    Export(String),
}

/// Syscalls that change what a path lookup of the calling thread sees: its credentials, root
/// or namespaces (a Landlock domain too: see [`EXECUTION_GUARDS`]). Trapped (and answered CONTINUE, unlogged unless selected) whenever interpose
/// may execute path calls, so that what it knows of each thread's context is dropped when the
/// thread changes it (see `supervisor::context`).
/// (The first nine have i386 twins with 32-bit ids, `setuid32`..., trapped as well.)
pub const CONTEXT_CHANGERS: &[&str] = &[
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setfsuid",
    "setfsgid",
    "setgroups",
    "capset",
    "chroot",
    "pivot_root",
    "setns",
    "unshare",
];

/// Syscalls after which calls interpose executes would no longer be the program's own: a
/// Landlock domain restricts the thread's own opens and connects (interpose's would not obey
/// it), and a fanotify group of the content classes makes opens and reads of files wait for
/// its listener (which may be the program, waiting for interpose). Trapped whenever calls may
/// be executed (and answered CONTINUE, unlogged unless selected); see `supervisor::exec`.
pub const EXECUTION_GUARDS: &[&str] = &["landlock_restrict_self", "fanotify_init"];

/// The native numbers of [`CONTEXT_CHANGERS`], [`EXECUTION_GUARDS`] and [`ALWAYS_TRAPPED`]:
/// the calls whose notification tells the executor something about the program's context.
pub fn context_calls() -> &'static SyscallSet {
    static SET: std::sync::OnceLock<SyscallSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| numbers(CONTEXT_CHANGERS.iter().chain(EXECUTION_GUARDS).chain(ALWAYS_TRAPPED)))
}

/// Calls that end descriptors, or after which descriptor tables no longer follow processes:
/// trapped with `--fd-cache` (and answered CONTINUE, unlogged unless selected), so that the
/// receiving thread's copies of descriptors go before the program's (see
/// `supervisor::fdcache`). Execs are always trapped.
pub const FD_WATCH: &[&str] = &[
    "close",
    "close_range",
    "dup2",
    "dup3",
    "exit",
    "exit_group",
    "clone",
    "clone3",
    "unshare",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "seccomp",
    "bpf",
];

/// The native numbers of [`FD_WATCH`] and [`ALWAYS_TRAPPED`].
pub fn fd_watch_calls() -> &'static SyscallSet {
    static SET: std::sync::OnceLock<SyscallSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| numbers(FD_WATCH.iter().chain(ALWAYS_TRAPPED)))
}

/// Whether `--fd-cache` takes effect: calls are executed, and some are traced (the cache keeps
/// what executed calls borrow).
pub fn fd_cache_applies(requested: bool, execute: bool, traced: &SyscallSet) -> bool {
    requested && execute && !traced.is_empty()
}

/// The native numbers of the calls named.
fn numbers<'a>(names: impl Iterator<Item = &'a &'a str>) -> SyscallSet {
    let reg = crate::decode::registry();
    let mut set = SyscallSet::empty();
    for sc in names.filter_map(|n| reg.by_name(n)) {
        set.insert(sc.nr());
    }
    set
}

/// The path calls interpose may execute in the program's context.
pub const PATH_CALLS: &[&str] = &[
    "stat",
    "lstat",
    "newfstatat",
    "statx",
    "statfs",
    "readlink",
    "readlinkat",
    "access",
    "faccessat",
    "faccessat2",
    "open",
    "openat",
    "chdir",
    "getcwd",
];

/// Writes interpose executes on regular files only for a thread whose credentials are its own
/// (they decide quotas and the blocks reserved for root: `supervisor::charges`), which it
/// knows per thread as for path calls.
pub const CREDENTIAL_WRITES: &[&str] = &["write", "pwrite64", "writev"];

/// The syscalls the filter sends to the supervisor: the policy's plus the always-trapped ones,
/// the context changers when `execute` lets path calls or writes to files run (see
/// [`CREDENTIAL_WRITES`]), and with `fd_cache` (as
/// [`fd_cache_applies`] says) the calls the descriptor cache watches.
pub fn trapped_set(selected: &SyscallSet, execute: bool, fd_cache: bool) -> SyscallSet {
    let reg = crate::decode::registry();
    let path_calls = execute
        && PATH_CALLS
            .iter()
            .chain(CREDENTIAL_WRITES)
            .filter_map(|n| reg.by_name(n))
            .any(|sc| selected.contains(sc.nr()));
    let extra: &[&str] = if path_calls { CONTEXT_CHANGERS } else { &[] };
    let executes = execute && !selected.is_empty();
    let guards: &[&str] = if executes { EXECUTION_GUARDS } else { &[] };
    let watched: &[&str] = if fd_cache { FD_WATCH } else { &[] };
    selected.union(&numbers(ALWAYS_TRAPPED.iter().chain(extra).chain(guards).chain(watched)))
}

/// The calls i386 also reaches through a multiplexer (`socketcall`, `ipc`): the multiplexer,
/// the sub-call number (`SYS_SOCKET`... in `linux/net.h`, `SEMOP`... in `linux/ipc.h`) and the
/// call's own i386 number (`syscall_32.tbl`; accept, semop and semtimedop have none), which
/// libseccomp 2.5's tables give as pseudo-numbers.
const MULTIPLEXED_I386: &[(&str, u32, u32, Option<u32>)] = &[
    ("socket", bpf::I386_SOCKETCALL, 1, Some(359)),
    ("bind", bpf::I386_SOCKETCALL, 2, Some(361)),
    ("connect", bpf::I386_SOCKETCALL, 3, Some(362)),
    ("listen", bpf::I386_SOCKETCALL, 4, Some(363)),
    ("accept", bpf::I386_SOCKETCALL, 5, None),
    ("getsockname", bpf::I386_SOCKETCALL, 6, Some(367)),
    ("getpeername", bpf::I386_SOCKETCALL, 7, Some(368)),
    ("socketpair", bpf::I386_SOCKETCALL, 8, Some(360)),
    ("sendto", bpf::I386_SOCKETCALL, 11, Some(369)),
    // send(2) and recv(2): sendto and recvfrom without an address, for the kernel too.
    ("sendto", bpf::I386_SOCKETCALL, 9, None),
    ("recvfrom", bpf::I386_SOCKETCALL, 12, Some(371)),
    ("recvfrom", bpf::I386_SOCKETCALL, 10, None),
    ("shutdown", bpf::I386_SOCKETCALL, 13, Some(373)),
    ("setsockopt", bpf::I386_SOCKETCALL, 14, Some(366)),
    ("getsockopt", bpf::I386_SOCKETCALL, 15, Some(365)),
    ("sendmsg", bpf::I386_SOCKETCALL, 16, Some(370)),
    ("recvmsg", bpf::I386_SOCKETCALL, 17, Some(372)),
    ("accept4", bpf::I386_SOCKETCALL, 18, Some(364)),
    ("recvmmsg", bpf::I386_SOCKETCALL, 19, Some(337)),
    ("sendmmsg", bpf::I386_SOCKETCALL, 20, Some(345)),
    ("semop", bpf::I386_IPC, 1, None),
    ("semget", bpf::I386_IPC, 2, Some(393)),
    ("semctl", bpf::I386_IPC, 3, Some(394)),
    ("semtimedop", bpf::I386_IPC, 4, None),
    ("msgsnd", bpf::I386_IPC, 11, Some(400)),
    ("msgrcv", bpf::I386_IPC, 12, Some(401)),
    ("msgget", bpf::I386_IPC, 13, Some(399)),
    ("msgctl", bpf::I386_IPC, 14, Some(402)),
    ("shmat", bpf::I386_IPC, 21, Some(397)),
    ("shmdt", bpf::I386_IPC, 22, Some(398)),
    ("shmget", bpf::I386_IPC, 23, Some(395)),
    ("shmctl", bpf::I386_IPC, 24, Some(396)),
];

/// First native number shared by every ABI (Linux 5.1's unified numbering): a call from there
/// on has the same number on i386, and with the x32 bit on x32, whether or not this
/// libseccomp knows it.
const SHARED_FROM: u32 = 424;

/// i386 names of native calls besides their 32-bit-id (`chown32`), large-file (`stat64`) and
/// 64-bit-time (`futex_time64`, `clock_gettime64`) variants, which are found by suffix.
const I386_ALIASES: &[(&str, &str)] = &[
    ("newfstatat", "fstatat64"),
    ("mmap", "mmap2"),
    ("lseek", "_llseek"),
    ("fadvise64", "fadvise64_64"),
    ("getrlimit", "ugetrlimit"),
    ("select", "_newselect"),
];

/// The i386 names that are variants of native call `name` (not `name` itself): those that are
/// not native calls of their own (`getdents64` is).
fn i386_variants(name: &str) -> impl Iterator<Item = String> + '_ {
    let reg = crate::decode::registry();
    ["32", "64", "_time64"]
        .into_iter()
        .map(move |suffix| format!("{name}{suffix}"))
        .filter(|v| reg.by_name(v).is_none())
        .chain(I386_ALIASES.iter().filter(move |(n, _)| *n == name).map(|(_, a)| (*a).to_string()))
}

/// The native call a call of another ABI stands for, as the policy selects it: i386's
/// `setresuid32`, `stat64` or `futex_time64` is `setresuid`, `stat` or `futex`; its
/// `socketcall` and `ipc` are the sub-call their first argument names; an x32 call is its
/// native namesake. None for a call with no native counterpart.
pub fn native_of(arch: u32, nr: i32, arg0: u64) -> Option<u32> {
    let reg = crate::decode::registry();
    let by_name = |name: &str| reg.by_name(name).map(|sc| sc.nr());
    let shared = |n: u32| (n >= SHARED_FROM).then(|| reg.get(i64::from(n)).map(|sc| sc.nr())).flatten();
    match arch {
        crate::decode::ARCH_I386 => {
            let nr = nr as u32;
            if nr == bpf::I386_SOCKETCALL || nr == bpf::I386_IPC {
                let sub = if nr == bpf::I386_IPC { arg0 & 0xffff } else { arg0 & 0xffff_ffff };
                let row = MULTIPLEXED_I386.iter().find(|&&(_, via, s, _)| via == nr && u64::from(s) == sub)?;
                return by_name(row.0);
            }
            let Ok(name) = ScmpSyscall::from(nr as i32).get_name_by_arch(ScmpArch::X86) else { return shared(nr) };
            by_name(&name)
                .or_else(|| I386_ALIASES.iter().find(|(_, a)| *a == name).and_then(|(n, _)| by_name(n)))
                .or_else(|| ["_time64", "64", "32"].iter().find_map(|s| name.strip_suffix(s).and_then(by_name)))
                .or_else(|| MULTIPLEXED_I386.iter().find(|r| r.3 == Some(nr)).and_then(|r| by_name(r.0)))
        }
        crate::decode::ARCH_X86_64 => {
            let bare = (nr as u32) & !(crate::decode::X32_SYSCALL_BIT as u32);
            match ScmpSyscall::from(nr).get_name_by_arch(ScmpArch::X32) {
                Ok(name) => by_name(&name),
                Err(_) => shared(bare),
            }
        }
        _ => None,
    }
}

/// What the filter traps on each ABI.
pub struct Plan {
    pub abis: bpf::Trapped,
    /// How many of the native calls are trapped on i386 too: by their own number, a variant's
    /// (`stat64`), or through a multiplexer only (accept).
    pub i386_calls: usize,
    /// The trapped native calls another ABI has no number for (it lacks the call, or this
    /// libseccomp does not know it): `(abi, names)`. They are trapped natively only.
    pub missing: Vec<(&'static str, Vec<&'static str>)>,
}

/// The twins of the native calls `trapped` on the i386 and x32 ABIs, by name.
pub fn plan(trapped: &SyscallSet) -> Plan {
    let reg = crate::decode::registry();
    let mut abis = bpf::Trapped { x86_64: trapped.iter().collect(), ..Default::default() };
    let (mut no_i386, mut no_x32, mut i386_calls) = (Vec::new(), Vec::new(), 0);
    for nr in trapped.iter() {
        let Some(name) = reg.get(i64::from(nr)).map(|s| s.name()) else { continue };
        let number =
            |name: &str, arch| ScmpSyscall::from_name_by_arch(name, arch).ok().map(i32::from).filter(|&n| n >= 0);
        let shared = (nr >= SHARED_FROM).then_some(nr);
        let multiplexed: Vec<_> = MULTIPLEXED_I386.iter().filter(|(n, ..)| *n == name).collect();
        let direct = multiplexed.iter().find_map(|r| r.3);
        let variants: Vec<u32> =
            i386_variants(name).filter_map(|v| number(&v, ScmpArch::X86)).map(|n| n as u32).collect();
        let own = number(name, ScmpArch::X86).map(|n| n as u32).or(direct).or(shared);
        if own.is_none() && multiplexed.is_empty() && variants.is_empty() {
            no_i386.push(name);
        } else {
            i386_calls += 1;
        }
        abis.i386.extend(own);
        // 32-bit ids, large files, 64-bit times: the variants a 32-bit program calls instead.
        abis.i386.extend(variants);
        for &&(_, via, sub, _) in &multiplexed {
            match abis.multiplexed.iter_mut().find(|(m, _)| *m == via) {
                Some((_, subs)) => subs.push(sub),
                None => abis.multiplexed.push((via, vec![sub])),
            }
        }
        match number(name, ScmpArch::X32)
            .map(|n| n as u32)
            .or(shared.map(|n| n | crate::decode::X32_SYSCALL_BIT as u32))
        {
            Some(n) => abis.x32.push(n),
            None => no_x32.push(name),
        }
    }
    let missing = [("i386", no_i386), ("x32", no_x32)].into_iter().filter(|(_, n)| !n.is_empty()).collect();
    abis.i386.sort_unstable();
    abis.i386.dedup();
    Plan { abis, i386_calls, missing }
}

/// Compiles `trapped` to a BPF program ready for the child to load.
pub fn compile(trapped: &SyscallSet) -> Result<BpfProgram, FilterError> {
    let plan = plan(trapped);
    for (abi, names) in &plan.missing {
        tracing::debug!(abi, calls = %names.join(", "), "no number on this ABI: trapped natively only");
    }
    BpfProgram::from_insns(bpf::program(&plan.abis, libc::SECCOMP_RET_USER_NOTIF)).map_err(FilterError::Export)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Seek};
    use std::os::fd::{AsFd, OwnedFd};

    use libseccomp::error::SeccompError;
    use libseccomp::{ScmpAction, ScmpFilterContext};

    use super::*;
    use crate::decode::{ARCH_I386, ARCH_X86_64};

    /// The same filter, compiled by libseccomp (as interpose did before it wrote its own): the
    /// names of the syscalls this libseccomp cannot filter (newer than it) are returned.
    fn libseccomp_context(trapped: &SyscallSet) -> Result<(ScmpFilterContext, Vec<&'static str>), SeccompError> {
        // One context per ABI, merged (as interpose did: faster to build, the same program).
        let new = |arch: Option<ScmpArch>| -> Result<ScmpFilterContext, SeccompError> {
            let mut ctx = ScmpFilterContext::new(ScmpAction::Allow)?;
            ctx.set_ctl_nnp(false)?;
            // A binary search over syscall numbers, as interpose had it.
            let _ = ctx.set_ctl_optimize(2);
            if let Some(arch) = arch {
                ctx.add_arch(arch)?;
                ctx.remove_arch(ScmpArch::native())?;
            }
            Ok(ctx)
        };
        let mut ctx = new(None)?;
        let mut unknown = Vec::new();
        for nr in trapped.iter() {
            let sc = ScmpSyscall::from(nr as i32);
            // One newer than this libseccomp cannot be filtered at all.
            if ctx.add_rule(ScmpAction::Notify, sc).is_err() && ctx.add_rule_exact(ScmpAction::Notify, sc).is_err() {
                unknown.push(crate::decode::registry().get(i64::from(nr)).map_or("?", |s| s.name()));
            }
        }
        // The i386 and x32 twins of the same syscalls (libseccomp translates by name; on i386 it
        // also adds the socketcall sub-calls of the socket calls). A syscall with no twin is
        // trapped on the native ABI only.
        for arch in [ScmpArch::X86, ScmpArch::X32] {
            let abi = new(Some(arch)).and_then(|mut other| {
                for nr in trapped.iter() {
                    let _ = other.add_rule(ScmpAction::Notify, ScmpSyscall::from(nr as i32));
                    // The i386 variants interpose traps too (setresuid32, stat64, futex_time64,
                    // send and recv through socketcall), by their native pseudo-numbers, which
                    // libseccomp translates: a rule takes numbers as native ones (the i386
                    // number interpose gave it before it wrote its own program trapped another
                    // call: setreuid32's 203 is x86_64's sched_setaffinity, i386's 241).
                    let Some(name) = crate::decode::registry().get(i64::from(nr)).map(|sc| sc.name()) else {
                        continue;
                    };
                    let extra = match name {
                        "sendto" => vec!["send".to_string()],
                        "recvfrom" => vec!["recv".to_string()],
                        _ => Vec::new(),
                    };
                    if arch == ScmpArch::X86 {
                        for v in i386_variants(name).chain(extra) {
                            if let Ok(twin) = ScmpSyscall::from_name(&v) {
                                let _ = other.add_rule(ScmpAction::Notify, twin);
                            }
                        }
                    }
                }
                ctx.merge(other).map(drop)
            });
            abi?;
        }
        Ok((ctx, unknown))
    }

    /// libseccomp's program for `trapped`, as the kernel would load it.
    fn libseccomp_program(trapped: &SyscallSet) -> (Vec<libc::sock_filter>, Vec<&'static str>) {
        let (ctx, unknown) = libseccomp_context(trapped).unwrap();
        let fd: OwnedFd = nix::sys::memfd::memfd_create(c"filter", nix::sys::memfd::MFdFlags::MFD_CLOEXEC).unwrap();
        let mut file = std::fs::File::from(fd);
        ctx.export_bpf(file.as_fd()).unwrap();
        let mut bytes = Vec::new();
        file.rewind().and_then(|_| file.read_to_end(&mut bytes)).unwrap();
        let insns = bytes
            .chunks_exact(8)
            .map(|c| libc::sock_filter {
                code: u16::from_ne_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        (insns, unknown)
    }

    /// Every call the descriptor cache relies on seeing is one the registry knows (a name it
    /// did not know would be silently left untrapped).
    #[test]
    fn the_descriptor_cache_s_calls_are_all_known() {
        assert_eq!(fd_watch_calls().iter().count(), FD_WATCH.len() + ALWAYS_TRAPPED.len());
    }

    fn set(names: &[&str]) -> SyscallSet {
        let mut s = SyscallSet::empty();
        for n in names {
            s.insert(crate::decode::registry().by_name(n).unwrap().nr());
        }
        s
    }

    /// interpose's program and libseccomp's decide alike for every syscall number of the three
    /// ABIs (and past them), and for every `socketcall` sub-call, on policies small and large.
    #[test]
    fn the_program_decides_as_libseccomps() {
        let reg = crate::decode::registry();
        let all = {
            let mut s = SyscallSet::empty();
            for sc in reg.all() {
                s.insert(sc.nr());
            }
            s
        };
        let every_other = {
            let mut s = SyscallSet::empty();
            for sc in reg.all().filter(|sc| sc.nr() % 2 == 0) {
                s.insert(sc.nr());
            }
            s
        };
        let file = {
            let mut s = SyscallSet::empty();
            for sc in reg.all().filter(|sc| sc.row.classes.contains(crate::decode::class::bits::F)) {
                s.insert(sc.nr());
            }
            s
        };
        let cases = [
            set(&[]),
            set(&["read"]),
            set(&["read", "connect", "futex"]),
            set(&["connect", "sendto", "sendmsg", "sendmmsg", "bind", "listen", "socket", "setsockopt", "accept"]),
            trapped_set(&set(&["openat", "stat"]), true, false),
            file,
            every_other,
            all,
        ];
        let notify = libc::SECCOMP_RET_USER_NOTIF;
        for trapped in cases {
            let (theirs, unknown) = libseccomp_program(&trapped);
            let ours = bpf::program(&plan(&trapped).abis, notify);
            assert!(ours.len() <= 4096, "{} instructions", ours.len());
            let known = |arch: u32, nr: u32| {
                // A syscall newer than this libseccomp: interpose traps it by the number all
                // ABIs share, libseccomp natively at most.
                let bare = if arch == ARCH_X86_64 { nr & !0x4000_0000 } else { nr };
                let scmp = match (arch, nr & 0x4000_0000 != 0) {
                    (ARCH_I386, _) => ScmpArch::X86,
                    (ARCH_X86_64, true) => ScmpArch::X32,
                    (ARCH_X86_64, false) => ScmpArch::X8664,
                    _ => return true,
                };
                let newer = bare >= SHARED_FROM && ScmpSyscall::from(nr as i32).get_name_by_arch(scmp).is_err();
                !newer && !unknown.iter().any(|u| reg.by_name(u).is_some_and(|s| s.nr() == bare))
            };
            let numbers = (0..1100u32).chain(0x4000_0000..0x4000_0000 + 1100).chain([u32::MAX, 0x7fff_ffff]);
            for arch in [ARCH_X86_64, ARCH_I386, 0xc000_00b7] {
                for nr in numbers.clone() {
                    let args: &[u64] = if arch == ARCH_I386 && (nr == bpf::I386_SOCKETCALL || nr == bpf::I386_IPC) {
                        &[0, 1, 2, 3, 4, 5, 9, 11, 12, 13, 14, 16, 20, 21, 22, 23, 24, 25, 3 | 1 << 32, 21 | 1 << 16]
                    } else {
                        &[0]
                    };
                    for &a0 in args {
                        let (o, t) = (bpf::tests::run(&ours, arch, nr, a0), bpf::tests::run(&theirs, arch, nr, a0));
                        // ipc's version bits: interpose masks them as the kernel does.
                        let t = if nr == bpf::I386_IPC && a0 >> 16 != 0 {
                            bpf::tests::run(&theirs, arch, nr, a0 & 0xffff)
                        } else {
                            t
                        };
                        if known(arch, nr) {
                            assert_eq!(
                                o,
                                t,
                                "arch {arch:#x} nr {nr:#x} a0 {a0:#x}, trapped {:?}",
                                trapped.names().collect::<Vec<_>>()
                            );
                        } else {
                            let bare = if arch == ARCH_X86_64 { nr & !0x4000_0000 } else { nr };
                            let want = if trapped.contains(bare) { notify } else { libc::SECCOMP_RET_ALLOW };
                            assert_eq!(
                                o, want,
                                "a syscall newer than libseccomp, by its shared number: {arch:#x} {nr:#x}"
                            );
                        }
                    }
                }
            }
        }
    }
}
