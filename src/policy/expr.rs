//! strace's `-e` expressions: `[QUALIFIER=][!]VALUE[,VALUE]...`.
//!
//! `-e trace=SET` (or a bare `-e SET`) selects syscalls exactly as strace does: names, numbers,
//! `%class`, `/regex`, `all`, `none`, `?name`; each leading `!` inverts the whole set.

use super::set::{self, SyscallSet};
use super::{Location, PolicyError};

/// One parsed `-e` argument.
#[derive(Debug)]
pub enum Qualified {
    Trace(SyscallSet),
    Inject(Box<super::inject::InjectRule>),
}

/// strace qualifiers interpose does not implement, and why.
const UNSUPPORTED: &[(&[&str], &str)] = &[
    (&["signal", "signals", "s"], "interpose does not see signal deliveries (seccomp notifies syscalls only)"),
    (&["status"], "not supported yet: the result of a call the kernel completes is not visible to interpose"),
    (
        &["read", "reads", "r", "write", "writes", "w"],
        "full I/O dumps are not supported; raise -s to see more of each buffer",
    ),
    (&["abbrev", "a", "verbose", "v", "raw", "x"], "interpose always prints abbreviated, decoded arguments"),
    (&["quiet", "silent", "silence", "q"], "not supported"),
    (
        &[
            "decode-fds",
            "decode-fd",
            "decode-pids",
            "decode-pid",
            "kvm",
            "secontext",
            "trace-fds",
            "trace-fd",
            "fd",
            "fds",
        ],
        "not supported",
    ),
];

pub fn parse(expr: &str) -> Result<Qualified, PolicyError> {
    let err = |message: String| PolicyError { location: Location::Expr { expr: expr.to_string() }, message };
    let (qualifier, value) = match expr.split_once('=') {
        Some((q, v)) => (q, v),
        None => ("trace", expr),
    };
    match qualifier {
        "trace" | "t" => parse_set(value).map(Qualified::Trace).map_err(err),
        "inject" => super::inject::parse_expr(value, false).map(|r| Qualified::Inject(Box::new(r))).map_err(err),
        "fault" => super::inject::parse_expr(value, true).map(|r| Qualified::Inject(Box::new(r))).map_err(err),
        q => match UNSUPPORTED.iter().find(|(names, _)| names.contains(&q)) {
            Some((_, why)) => Err(err(format!("strace's -e {q}= is not supported: {why}"))),
            None => Err(err(format!(
                "unknown qualifier \"{q}\"; expected trace=, inject= or fault= (as in `-e trace=read,connect`), or a syscall set alone"
            ))),
        },
    }
}

/// A strace syscall set: `[!]...TOKEN[,TOKEN]...`.
pub fn parse_set(value: &str) -> Result<SyscallSet, String> {
    let mut invert = false;
    let mut rest = value;
    while let Some(r) = rest.strip_prefix('!') {
        invert = !invert;
        rest = r;
    }
    if rest.is_empty() {
        return Err("empty syscall set; expected names, %classes, /regex, all or none".to_string());
    }
    let mut set = SyscallSet::empty();
    for token in rest.split(',') {
        let t = set::parse_token(token).map_err(|e| e.to_string())?;
        set = set.union(&t);
    }
    Ok(if invert { set.complement() } else { set })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(e: &str) -> SyscallSet {
        match parse(e).unwrap() {
            Qualified::Trace(s) => s,
            Qualified::Inject(_) => panic!("not a trace expression"),
        }
    }

    #[test]
    fn spellings() {
        assert_eq!(trace("trace=read,write"), trace("read,write"));
        assert_eq!(trace("t=read"), trace("read"));
        assert_eq!(trace("trace=!read").len(), SyscallSet::all().len() - 1);
        assert_eq!(trace("trace=!!read"), trace("read"));
        assert_eq!(trace("trace=all"), SyscallSet::all());
        assert!(trace("trace=none").is_empty());
        assert_eq!(trace("trace=?nosuch,read"), trace("read"));
    }

    #[test]
    fn refusals() {
        for (e, want) in [
            ("trace=raed", "-e trace=raed: unknown syscall \"raed\", did you mean \"read\"?"),
            ("trace=", "-e trace=: empty syscall set; expected names, %classes, /regex, all or none"),
            ("trace=read,", "-e trace=read,: empty syscall name (two commas in a row, or a trailing comma?)"),
            ("trace=%nett", "-e trace=%nett: unknown syscall class \"%nett\", did you mean \"%net\"?"),
            (
                "signal=SIGINT",
                "-e signal=SIGINT: strace's -e signal= is not supported: interpose does not see signal deliveries (seccomp notifies syscalls only)",
            ),
            (
                "bogus=1",
                "-e bogus=1: unknown qualifier \"bogus\"; expected trace=, inject= or fault= (as in `-e trace=read,connect`), or a syscall set alone",
            ),
        ] {
            assert_eq!(parse(e).unwrap_err().to_string(), want, "for {e}");
        }
    }
}
