//! Policy -> BPF, through libseccomp.
//!
//! Selected syscalls get `SCMP_ACT_NOTIFY`; everything else `SCMP_ACT_ALLOW` (never NOTIFY as the
//! default action). `execve` and `execveat` are always sent to the supervisor, selected or not:
//! that is what makes the launch handshake safe (see `sys::child`), and it lets the supervisor see
//! every program image change. The i386 and x32 ABIs are added so that `int $0x80` calls of the
//! selected syscalls are trapped too, instead of killing the program as libseccomp's default
//! bad-architecture action would.
//!
//! libseccomp only compiles: the program is exported as raw BPF and loaded by the child with the
//! flags libseccomp 2.5 cannot set.

use std::io::{Read, Seek};
use std::os::fd::{AsFd, OwnedFd};

use libseccomp::{ScmpAction, ScmpArch, ScmpFilterContext, ScmpSyscall};

use crate::policy::SyscallSet;
use crate::sys::seccomp::BpfProgram;

/// Syscalls always trapped, whatever the policy says.
pub const ALWAYS_TRAPPED: &[&str] = &["execve", "execveat"];

#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("libseccomp refused {what}: {source}")]
    Libseccomp { what: String, source: libseccomp::error::SeccompError },
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
    SET.get_or_init(|| {
        let mut set = SyscallSet::empty();
        for name in CONTEXT_CHANGERS.iter().chain(EXECUTION_GUARDS).chain(ALWAYS_TRAPPED) {
            if let Some(sc) = crate::decode::registry().by_name(name) {
                set.insert(sc.nr());
            }
        }
        set
    })
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

/// The syscalls the filter sends to the supervisor: the policy's plus the always-trapped ones,
/// and the context changers when `execute` lets path calls run.
pub fn trapped_set(selected: &SyscallSet, execute: bool) -> SyscallSet {
    let mut set = *selected;
    let reg = crate::decode::registry();
    let path_calls = execute && PATH_CALLS.iter().filter_map(|n| reg.by_name(n)).any(|sc| selected.contains(sc.nr()));
    let extra: &[&str] = if path_calls { CONTEXT_CHANGERS } else { &[] };
    let guards: &[&str] = if execute && !selected.is_empty() { EXECUTION_GUARDS } else { &[] };
    for name in ALWAYS_TRAPPED.iter().chain(extra).chain(guards) {
        if let Some(sc) = reg.by_name(name) {
            set.insert(sc.nr());
        }
    }
    set
}

/// Builds the libseccomp context for `trapped` (native numbers). Also returns the names of the
/// syscalls this libseccomp cannot filter (newer than it), which therefore run untraced.
pub fn context(trapped: &SyscallSet) -> Result<(ScmpFilterContext, Vec<&'static str>), FilterError> {
    let lib = |what: &str| {
        let what = what.to_string();
        move |source| FilterError::Libseccomp { what, source }
    };
    // One context per ABI, merged: libseccomp adds rules to a filter of three ABIs several
    // times more slowly than to three filters of one (for `-e trace=all`: about 100 ms against
    // 25 ms in a C measurement), and the merged program is the same.
    let new = |arch: Option<ScmpArch>| -> Result<ScmpFilterContext, FilterError> {
        let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).map_err(lib("to create a filter"))?;
        // We set no_new_privs ourselves (only when needed); the filter is never loaded by
        // libseccomp.
        ctx.set_ctl_nnp(false).map_err(lib("to clear no_new_privs"))?;
        // A binary search over syscall numbers instead of a linear chain: every untraced call
        // of the program walks this program, so its length is paid on every syscall.
        if let Err(e) = ctx.set_ctl_optimize(2) {
            tracing::debug!(error = %e, "libseccomp cannot build a binary-tree filter; using its linear layout");
        }
        if let Some(arch) = arch {
            ctx.add_arch(arch).map_err(lib("to add an ABI"))?;
            ctx.remove_arch(ScmpArch::native()).map_err(lib("to remove the native ABI"))?;
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
                // i386 has 32-bit-id twins of the credential calls, with names of their own.
                if arch == ScmpArch::X86
                    && let Some(sc) = crate::decode::registry().get(i64::from(nr))
                    && CONTEXT_CHANGERS[..9].contains(&sc.name())
                    && let Ok(twin) = ScmpSyscall::from_name_by_arch(&format!("{}32", sc.name()), arch)
                {
                    let _ = other.add_rule(ScmpAction::Notify, twin);
                }
            }
            ctx.merge(other).map(drop).map_err(lib("to merge an ABI's filter"))
        });
        if let Err(e) = abi {
            tracing::warn!(?arch, error = %e, "cannot add ABI to the filter; its syscalls will not be trapped");
        }
    }
    Ok((ctx, unknown))
}

/// Compiles `trapped` to a BPF program ready for the child to load. Syscalls too new for this
/// libseccomp are left out: a warning names those the user named one by one (`named`); those
/// that came in through a class or `all` are only mentioned at the info level.
pub fn compile(trapped: &SyscallSet, named: &SyscallSet) -> Result<BpfProgram, FilterError> {
    let (ctx, unknown) = context(trapped)?;
    let (warned, noted): (Vec<&str>, Vec<&str>) = unknown
        .iter()
        .partition(|name| crate::decode::registry().by_name(name).is_some_and(|s| named.contains(s.nr())));
    let version = libseccomp_version();
    if !warned.is_empty() {
        tracing::warn!("libseccomp {version} cannot filter {}: these calls will run untraced", warned.join(", "));
    }
    if !noted.is_empty() {
        tracing::info!("libseccomp {version} cannot filter {}: these calls will run untraced", noted.join(", "));
    }
    let mut file = memfd().map_err(|e| FilterError::Export(e.to_string()))?;
    ctx.export_bpf(file.as_fd()).map_err(|e| FilterError::Export(e.to_string()))?;
    let mut bytes = Vec::new();
    file.rewind().and_then(|_| file.read_to_end(&mut bytes)).map_err(|e| FilterError::Export(e.to_string()))?;
    BpfProgram::from_bytes(&bytes).map_err(FilterError::Export)
}

/// libseccomp's human-readable pseudo-filter, for `interpose check`.
pub fn pseudo_code(trapped: &SyscallSet) -> Result<String, FilterError> {
    let (ctx, _) = context(trapped)?;
    let mut file = memfd().map_err(|e| FilterError::Export(e.to_string()))?;
    ctx.export_pfc(file.as_fd()).map_err(|e| FilterError::Export(e.to_string()))?;
    let mut text = String::new();
    file.rewind().and_then(|_| file.read_to_string(&mut text)).map_err(|e| FilterError::Export(e.to_string()))?;
    Ok(text)
}

fn libseccomp_version() -> String {
    libseccomp::ScmpVersion::current().map_or_else(|_| "?".into(), |v| format!("{}.{}.{}", v.major, v.minor, v.micro))
}

fn memfd() -> std::io::Result<std::fs::File> {
    let fd: OwnedFd = nix::sys::memfd::memfd_create(c"interpose-filter", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)?;
    Ok(std::fs::File::from(fd))
}
