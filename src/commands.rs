//! The small subcommands: `check`, `syscalls`, `man`.

use std::fmt::Write;
use std::path::Path;

use crate::decode;
use crate::policy::{self, PolicyError};

/// `interpose check POLICY`: a summary that fits on a screen: what the policy traces, injects
/// and denies (each rule with where it was written), what else its deny rules refuse, and which
/// syscalls the filter traps on each ABI (with `fd_cache`, as `run --fd-cache` would). With
/// `bpf`, also the filter's BPF program, disassembled.
pub fn check(path: &Path, bpf: bool, fd_cache: bool) -> Result<String, PolicyError> {
    let p = policy::build(Some(path), &[])?;
    let mut out = String::new();
    let _ = writeln!(out, "{}: ok", path.display());
    out.push_str(&wrap("  traces ", &describe_set(&p.trace)));
    let _ =
        writeln!(out, "  executes calls to learn results: {}", if p.execute.unwrap_or(true) { "yes" } else { "no" });
    if p.inject.is_empty() {
        let _ = writeln!(out, "  injects: nothing");
    }
    let governed = policy::inject::governed(&p.deny);
    for r in &p.inject {
        let _ = writeln!(out, "  injects ({}): -e inject={}", r.origin, r.to_expr());
        if r.after.is_some() || r.active_for.is_some() {
            let from = r.after.unwrap_or_default();
            let until = r.active_for.map_or("the end of the run".to_string(), |d| format!("{:?}", from + d));
            let _ = writeln!(out, "    active from {from:?} to {until} after the program starts");
        }
        if let Some(note) = r.executed_only() {
            let _ = writeln!(out, "    {note}");
            let execute = p.execute.unwrap_or(true);
            for why in r.unshapeable(execute, &governed) {
                let _ = writeln!(out, "    warning: {why}");
            }
        }
    }
    if p.deny.is_empty() {
        let _ = writeln!(out, "  denies: nothing");
    }
    for r in &p.deny {
        let syscalls: Vec<&str> = r.syscalls.names().collect();
        let error = decode::xlat::errno_name(r.error).map_or_else(|| r.error.to_string(), str::to_string);
        let except: Vec<String> = r.except.iter().map(ToString::to_string).collect();
        let to = if except.is_empty() {
            "to every destination".to_string()
        } else {
            format!("except to {}", except.join(", "))
        };
        // One line per rule, however long: a rule is found with grep.
        let _ = writeln!(out, "  denies ({}): {} with {error}, {to}", r.origin, syscalls.join(", "));
        // What the rule governs beyond the calls it names.
        for (by, implied, why) in policy::deny::IMPLIED {
            if syscalls.contains(by) {
                let _ = writeln!(out, "    {by} also governs {} ({why})", implied.join(", "));
            }
        }
    }
    if !p.deny.is_empty() {
        let n = p.network;
        let refused: Vec<&str> = [
            (!n.allow_raw_sockets).then_some("raw and packet sockets"),
            (!n.allow_io_uring).then_some("io_uring_setup"),
            (!n.allow_bpf).then_some("bpf"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if refused.is_empty() {
            let _ = writeln!(out, "  also refuses: nothing ([network] allows it all)");
        } else {
            let _ = writeln!(out, "  also refuses (EPERM, see [network]): {}", refused.join(", "));
        }
    }
    let selected = p.trace.union(&p.intercepted());
    let execute = p.execute.unwrap_or(true);
    let without_cache = crate::filter::trapped_set(&selected, execute, false);
    let fd_cache = crate::filter::fd_cache_applies(fd_cache, execute, &p.trace);
    let trapped = crate::filter::trapped_set(&selected, execute, fd_cache);
    let added = |names: &[&str]| {
        names
            .iter()
            .filter_map(|n| crate::decode::registry().by_name(n))
            .any(|sc| without_cache.contains(sc.nr()) && !selected.contains(sc.nr()))
    };
    let (changers, guards) = (added(crate::filter::CONTEXT_CHANGERS), added(crate::filter::EXECUTION_GUARDS));
    let watched = trapped != without_cache;
    let plan = crate::filter::plan(&trapped);
    let mut with = String::from("execve, execveat");
    if guards {
        with.push_str(", ");
        with.push_str(&crate::filter::EXECUTION_GUARDS.join(", "));
    }
    if changers {
        with.push_str(" and the calls that change credentials, root or namespaces");
    }
    if watched {
        with.push_str(" and, for --fd-cache, the calls that end descriptors");
    }
    let t = &plan.abis;
    let via: String = t
        .multiplexed
        .iter()
        .map(|&(nr, _)| if nr == crate::filter::bpf::I386_SOCKETCALL { " + socketcall" } else { " + ipc" })
        .collect();
    let _ = writeln!(
        out,
        "  traps (with {with}), per ABI: x86_64 {}, i386 {}{via}, x32 {}",
        t.x86_64.len(),
        plan.i386_calls,
        t.x32.len()
    );
    for (abi, names) in &plan.missing {
        out.push_str(&wrap(&format!("  not on {abi}, which has no such call: "), &names.join(", ")));
    }
    if bpf {
        let _ = writeln!(out, "  filter (the BPF program, as loaded):");
        for line in
            crate::filter::bpf::disassemble(&crate::filter::bpf::program(t, libc::SECCOMP_RET_USER_NOTIF)).lines()
        {
            let _ = writeln!(out, "    {line}");
        }
    } else {
        let _ = writeln!(out, "  (`interpose check --bpf` prints the filter)");
    }
    Ok(out)
}

/// A syscall set in few words: its names, or, when it holds most of them, what it leaves out.
fn describe_set(set: &crate::policy::SyscallSet) -> String {
    let names: Vec<&str> = set.names().collect();
    let known = decode::registry().all().count();
    let left_out: Vec<&str> = decode::registry().all().map(|s| s.name()).filter(|n| !names.contains(n)).collect();
    match names.len() {
        0 => "nothing".to_string(),
        n if n == known => format!("every syscall interpose knows ({n})"),
        n if n > 40 && left_out.len() < n => {
            format!("{n} syscalls, every one interpose knows but: {}", left_out.join(", "))
        }
        1 => format!("1 syscall: {}", names[0]),
        n => format!("{n} syscalls: {}", names.join(", ")),
    }
}

/// `prefix` then `text`, broken at spaces into lines of at most 100 columns, the later ones
/// indented by four.
fn wrap(prefix: &str, text: &str) -> String {
    let mut out = String::from(prefix);
    let mut col = prefix.len();
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            if col + 1 + word.len() > 100 {
                out.push_str("\n    ");
                col = 4;
            } else {
                out.push(' ');
                col += 1;
            }
        }
        out.push_str(word);
        col += word.len();
    }
    out.push('\n');
    out
}

/// `interpose syscalls [--class CLASS]`.
pub fn syscalls(class: Option<&str>) -> Result<String, String> {
    let bit = match class {
        Some(c) => {
            let name = c.trim_start_matches('%');
            Some(decode::Class::bit_by_name(name).ok_or_else(|| {
                let known: Vec<&str> = decode::class::NAMES.iter().map(|(n, _)| *n).collect();
                format!("unknown class \"{c}\"; expected one of: {}", known.join(", "))
            })?)
        }
        None => None,
    };
    let mut out = String::new();
    let _ = writeln!(out, "{:>4}  {:<24} {:>4}  classes", "nr", "name", "args");
    for sc in decode::registry().all() {
        if bit.is_some_and(|b| !sc.row.classes.contains(b)) {
            continue;
        }
        let classes: Vec<String> = sc.row.classes.names().map(|n| format!("%{n}")).collect();
        let _ = writeln!(out, "{:>4}  {:<24} {:>4}  {}", sc.nr(), sc.name(), sc.row.nargs, classes.join(" "));
    }
    Ok(out)
}

/// The command the manual pages describe: clap's `help` subcommand is left out (it has no page).
fn man_command() -> clap::Command {
    let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The subcommands that have a manual page, interpose-SUBCOMMAND(1).
pub fn man_pages() -> Vec<String> {
    man_command().get_subcommands().filter(|s| !s.is_hide_set()).map(|s| s.get_name().to_string()).collect()
}

/// `interpose man [SUBCOMMAND]`: the roff of interpose(1), or of interpose-SUBCOMMAND(1); `None`
/// for a subcommand that does not exist. interpose(1) lists every subcommand as
/// interpose-SUBCOMMAND(1), and every page ends with a SEE ALSO naming the others, each printed by
/// `interpose man SUBCOMMAND`, so no page points to one that cannot be had.
pub fn man(page: Option<&str>) -> std::io::Result<Option<Vec<u8>>> {
    let top = man_command();
    let source = format!("interpose {}", top.get_version().unwrap_or_default());
    let cmd = match page {
        None => top,
        Some(name) => match top.get_subcommands().find(|s| !s.is_hide_set() && s.get_name() == name) {
            Some(sub) => sub.clone(),
            None => return Ok(None),
        },
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).source(source).render(&mut out)?;
    let others: Vec<String> = std::iter::once(None)
        .chain(man_pages().into_iter().map(Some))
        .filter(|p| p.as_deref() != page)
        .map(|p| match p {
            None => "interpose(1)".to_string(),
            Some(sub) => format!(r"interpose\-{sub}(1)"),
        })
        .collect();
    let see_also = format!(
        concat!(
            ".SH \"SEE ALSO\"\n",
            "{},\n",
            "strace(1), seccomp_unotify(2).\n",
            ".PP\n",
            r"\fBinterpose man\fR prints interpose(1), \fBinterpose man\fR \fISUBCOMMAND\fR prints ",
            r"interpose\-\fISUBCOMMAND\fR(1), and \fBinterpose man \-\-dir\fR \fIDIR\fR writes them all. ",
            "The full manual (output format, JSON schema, policy files, fault injection) is ",
            "docs/manual.md in interpose's source.\n",
        ),
        others.join(",\n")
    );
    out.extend_from_slice(see_also.as_bytes());
    Ok(Some(out))
}

/// `interpose man --dir DIR`: writes every page, `interpose.1`, `interpose-run.1`, ...
pub fn man_dir(dir: &Path) -> std::io::Result<()> {
    for page in std::iter::once(None).chain(man_pages().into_iter().map(Some)) {
        let file = dir.join(match &page {
            None => "interpose.1".to_string(),
            Some(sub) => format!("interpose-{sub}.1"),
        });
        let roff = man(page.as_deref())?.expect("a subcommand of the command itself");
        std::fs::write(&file, roff).map_err(|e| {
            std::io::Error::new(e.kind(), format!("{}: {}", file.display(), crate::error::io_reason(&e)))
        })?;
    }
    Ok(())
}
