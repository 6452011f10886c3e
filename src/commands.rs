//! The small subcommands: `check`, `syscalls`, `man`.

use std::fmt::Write;
use std::path::Path;

use crate::decode;
use crate::policy::{self, PolicyError};

/// `interpose check POLICY`: what the policy selects and the filter it compiles to.
pub fn check(path: &Path) -> Result<String, PolicyError> {
    let p = policy::build(Some(path), &[])?;
    let mut out = String::new();
    let _ = writeln!(out, "{}: ok", path.display());
    let traced: Vec<&str> = p.trace.names().collect();
    let _ = writeln!(
        out,
        "  traces {} syscalls: {}",
        traced.len(),
        if traced.is_empty() { "(none)".to_string() } else { traced.join(", ") }
    );
    let _ = writeln!(
        out,
        "  executes fd-based calls to learn results: {}",
        if p.execute.unwrap_or(true) { "yes" } else { "no" }
    );
    if p.inject.is_empty() {
        let _ = writeln!(out, "  injects: nothing");
    }
    for r in &p.inject {
        let _ = writeln!(out, "  injects ({}): -e inject={}", r.origin, r.to_expr());
    }
    if p.deny.is_empty() {
        let _ = writeln!(out, "  denies: nothing");
    }
    for r in &p.deny {
        let syscalls: Vec<&str> = r.syscalls.names().collect();
        let error = decode::xlat::errno_name(r.error).map_or_else(|| r.error.to_string(), str::to_string);
        let except: Vec<String> = r.except.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "  denies ({}): {} with {error}, {}",
            r.origin,
            syscalls.join(", "),
            if except.is_empty() {
                "to every destination".to_string()
            } else {
                format!("except to {}", except.join(", "))
            }
        );
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
    let trapped = crate::filter::trapped_set(&p.trace.union(&p.intercepted()));
    match crate::filter::pseudo_code(&trapped) {
        Ok(pfc) => {
            let _ = writeln!(out, "  filter (libseccomp's pseudo-code):");
            for line in pfc.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
        Err(e) => {
            let _ = writeln!(out, "  filter: {e}");
        }
    }
    Ok(out)
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
