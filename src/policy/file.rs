//! The TOML policy file.
//!
//! ```toml
//! [trace]
//! syscalls = ["read", "connect", "futex"]   # names, %classes, /regex, "all", "!name" excludes
//! ```
//!
//! Parsing is strict (`deny_unknown_fields`): a misspelt key is an error, not a silently ignored
//! line. Errors carry the file, line, column and the dotted key they concern.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::set::{self, SyscallSet};
use super::{Location, Policy, PolicyError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    trace: Option<RawTrace>,
    #[serde(default)]
    inject: Vec<RawInject>,
    #[serde(default)]
    deny: Vec<RawDeny>,
    network: Option<Spanned<RawNetwork>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    allow_raw_sockets: Option<bool>,
    allow_io_uring: Option<bool>,
    allow_bpf: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeny {
    syscalls: Spanned<Vec<Spanned<String>>>,
    error: Option<Spanned<Scalar>>,
    #[serde(default)]
    except: Vec<Spanned<String>>,
}

/// A value written either as a string or as a number (`error = "EAGAIN"` or `error = 11`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Float(f64),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInject {
    syscalls: Vec<Spanned<String>>,
    error: Option<Spanned<Scalar>>,
    retval: Option<Spanned<i64>>,
    signal: Option<Spanned<Scalar>>,
    syscall: Option<Spanned<String>>,
    delay_enter: Option<Spanned<Scalar>>,
    delay_exit: Option<Spanned<Scalar>>,
    when: Option<Spanned<Scalar>>,
    probability: Option<Spanned<f64>>,
    seed: Option<Spanned<u64>>,
    max: Option<Spanned<u64>>,
    short: Option<Spanned<u64>>,
    rate: Option<Spanned<Scalar>>,
    after: Option<Spanned<Scalar>>,
    #[serde(rename = "for")]
    active_for: Option<Spanned<Scalar>>,
    fd: Option<Spanned<Scalar>>,
    dest: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    comm: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrace {
    syscalls: Vec<Spanned<String>>,
    execute: Option<bool>,
}

pub fn load(path: &Path) -> Result<Policy, PolicyError> {
    let name = path.display().to_string();
    let text = super::source::read(path).map_err(|message| PolicyError {
        location: Location::File { path: name.clone(), line: 0, column: 0, key: None },
        message,
    })?;
    parse(&name, &text)
}

pub fn parse(name: &str, text: &str) -> Result<Policy, PolicyError> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let (line, column) = line_col(text, span.start);
        let mut message = clean_message(e.message());
        if message == "duplicate key"
            && let Some(k) = text.get(span.clone())
        {
            message = format!("duplicate key `{}`", k.trim());
        }
        PolicyError {
            location: Location::File { path: name.to_string(), line, column, key: key_at(text, span.start) },
            message,
        }
    })?;
    let at = |span: std::ops::Range<usize>, key: String, message: String| {
        let (line, column) = line_col(text, span.start);
        PolicyError { location: Location::File { path: name.to_string(), line, column, key: Some(key) }, message }
    };

    let mut inject = Vec::new();
    for (i, r) in raw.inject.iter().enumerate() {
        inject.push(inject_rule(name, text, i, r)?);
    }
    let execute = raw.trace.as_ref().and_then(|t| t.execute);
    let trace = match &raw.trace {
        Some(t) => syscall_list(&t.syscalls, "trace.syscalls", &at)?,
        None => SyscallSet::empty(),
    };
    let mut deny = Vec::new();
    for (i, r) in raw.deny.iter().enumerate() {
        deny.push(deny_rule(name, text, i, r, &at)?);
    }
    let mut network = super::deny::NetworkOptions::default();
    if let Some(n) = &raw.network {
        if deny.is_empty() {
            return Err(at(
                n.span(),
                "network".into(),
                "[network] says what [[deny]] rules also refuse, and this policy has no [[deny]] rule".into(),
            ));
        }
        network.allow_raw_sockets = n.get_ref().allow_raw_sockets.unwrap_or(false);
        network.allow_io_uring = n.get_ref().allow_io_uring.unwrap_or(false);
        network.allow_bpf = n.get_ref().allow_bpf.unwrap_or(false);
    }
    Ok(Policy { trace, execute, inject, deny, network })
}

fn deny_rule(
    name: &str,
    text: &str,
    index: usize,
    r: &RawDeny,
    at: &dyn Fn(std::ops::Range<usize>, String, String) -> PolicyError,
) -> Result<super::deny::DenyRule, PolicyError> {
    let prefix = format!("deny[{index}]");
    let syscalls = syscall_list(r.syscalls.get_ref(), &format!("{prefix}.syscalls"), at)?;
    super::deny::check_syscalls(&syscalls).map_err(|m| at(r.syscalls.span(), format!("{prefix}.syscalls"), m))?;
    let error = match &r.error {
        Some(e) => {
            super::inject::parse_errno(&e.get_ref().text()).map_err(|m| at(e.span(), format!("{prefix}.error"), m))?
        }
        None => libc::ECONNREFUSED,
    };
    let mut except = Vec::new();
    for (i, e) in r.except.iter().enumerate() {
        except.push(
            super::deny::parse_except(e.get_ref()).map_err(|m| at(e.span(), format!("{prefix}.except[{i}]"), m))?,
        );
    }
    let (line, _) = line_col(text, r.syscalls.span().start);
    Ok(super::deny::DenyRule { syscalls, error, except, origin: format!("{name}:{line}") })
}

/// A syscall list with `"!name"` exclusions, as in `[trace] syscalls`.
fn syscall_list(
    items: &[Spanned<String>],
    key: &str,
    at: &dyn Fn(std::ops::Range<usize>, String, String) -> PolicyError,
) -> Result<SyscallSet, PolicyError> {
    let mut set = SyscallSet::empty();
    let mut excluded = SyscallSet::empty();
    for (i, item) in items.iter().enumerate() {
        let (target, token) = match item.get_ref().strip_prefix('!') {
            Some(rest) => (&mut excluded, rest),
            None => (&mut set, item.get_ref().as_str()),
        };
        let s = set::parse_token(token).map_err(|e| at(item.span(), format!("{key}[{i}]"), e.to_string()))?;
        *target = target.union(&s);
    }
    Ok(set.difference(&excluded))
}

fn inject_rule(name: &str, text: &str, index: usize, r: &RawInject) -> Result<super::inject::InjectRule, PolicyError> {
    let at = |span: std::ops::Range<usize>, key: String, message: String| {
        let (line, column) = line_col(text, span.start);
        PolicyError { location: Location::File { path: name.to_string(), line, column, key: Some(key) }, message }
    };
    let prefix = format!("inject[{index}]");
    let syscalls = syscall_list(&r.syscalls, &format!("{prefix}.syscalls"), &at)?;
    let mut draft = super::inject::Draft::default();
    let mut set = |key: &str, span: std::ops::Range<usize>, value: String| {
        draft.set(key, &value, false).map_err(|m| at(span, format!("{prefix}.{key}"), m))
    };
    let scalar = |v: &Option<Spanned<Scalar>>| v.as_ref().map(|v| (v.span(), v.get_ref().text()));
    // Delays written as bare numbers are microseconds, as in strace.
    for (key, v) in [
        ("error", scalar(&r.error)),
        ("signal", scalar(&r.signal)),
        ("delay_enter", scalar(&r.delay_enter)),
        ("delay_exit", scalar(&r.delay_exit)),
        ("when", scalar(&r.when)),
        ("rate", scalar(&r.rate)),
        ("after", scalar(&r.after)),
        ("for", scalar(&r.active_for)),
        ("fd", scalar(&r.fd)),
    ] {
        if let Some((span, value)) = v {
            set(key, span, value)?;
        }
    }
    let strings = [("syscall", &r.syscall), ("dest", &r.dest), ("path", &r.path), ("comm", &r.comm)];
    for (key, v) in strings {
        if let Some(v) = v {
            set(key, v.span(), v.get_ref().clone())?;
        }
    }
    if let Some(v) = &r.retval {
        set("retval", v.span(), v.get_ref().to_string())?;
    }
    if let Some(v) = &r.probability {
        set("probability", v.span(), v.get_ref().to_string())?;
    }
    if let Some(v) = &r.seed {
        set("seed", v.span(), v.get_ref().to_string())?;
    }
    if let Some(v) = &r.max {
        set("max", v.span(), v.get_ref().to_string())?;
    }
    if let Some(v) = &r.short {
        set("short", v.span(), v.get_ref().to_string())?;
    }
    let (line, _) = line_col(text, r.syscalls.first().map_or(0, |s| s.span().start));
    let origin = format!("{name}:{line}");
    let table_span = r.syscalls.first().map_or(0..0, |s| s.span());
    draft.finish(syscalls, false, origin).map_err(|m| at(table_span, prefix.clone(), m))
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The dotted key whose key or value covers byte offset `at`, e.g. `trace.syscalls[2]`.
fn key_at(text: &str, at: usize) -> Option<String> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    walk_table(doc.get_ref(), at, &mut path);
    (!path.is_empty()).then(|| path.join(".").replace(".[", "["))
}

fn walk_table(t: &toml::de::DeTable<'_>, at: usize, path: &mut Vec<String>) {
    for (k, v) in t.iter() {
        if k.span().contains(&at) {
            path.push(k.get_ref().to_string());
            return;
        }
        if v.span().contains(&at) || contains(v.get_ref(), at) {
            path.push(k.get_ref().to_string());
            walk_value(v.get_ref(), at, path);
            return;
        }
    }
}

/// Whether a table (or an array of tables, whose spans the parser does not always give) holds
/// byte offset `at`.
fn contains(v: &toml::de::DeValue<'_>, at: usize) -> bool {
    if let Some(t) = v.as_table() {
        return t.iter().any(|(k, v)| k.span().contains(&at) || v.span().contains(&at) || contains(v.get_ref(), at));
    }
    if let Some(a) = v.as_array() {
        return a.iter().any(|item| item.span().contains(&at) || contains(item.get_ref(), at));
    }
    false
}

fn walk_value(v: &toml::de::DeValue<'_>, at: usize, path: &mut Vec<String>) {
    if let Some(t) = v.as_table() {
        walk_table(t, at, path);
    } else if let Some(a) = v.as_array() {
        for (i, item) in a.iter().enumerate() {
            if item.span().contains(&at) || contains(item.get_ref(), at) {
                path.push(format!("[{i}]"));
                walk_value(item.get_ref(), at, path);
                return;
            }
        }
    }
}

/// toml's messages end with a newline; keep them on one line, and name tables the way a user
/// writes them rather than by our Rust type names.
fn clean_message(m: &str) -> String {
    m.trim()
        .replace('\n', "; ")
        .replace("struct RawTrace", "a table ([trace])")
        .replace("struct RawInject", "a table ([[inject]])")
        .replace("struct RawDeny", "a table ([[deny]])")
        .replace("struct RawPolicy", "a table")
        .replace("data did not match any variant of untagged enum Scalar", "expected a string or a number")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse("p.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn exclusions_and_classes() {
        let p = parse("p.toml", "[trace]\nsyscalls = [\"%net\", \"!sendmsg\"]\n").unwrap();
        assert!(p.trace.contains(42));
        assert!(!p.trace.contains(46));
        let p = parse("p.toml", "[trace]\nsyscalls = [\"all\", \"!futex\"]\n").unwrap();
        assert_eq!(p.trace.len(), SyscallSet::all().len() - 1);
        assert!(parse("p.toml", "").unwrap().trace.is_empty());
    }

    #[test]
    fn errors_name_file_line_and_key() {
        assert_eq!(
            err("[trace]\nsyscalls = [\"read\", \"raed\"]\n"),
            "p.toml:2:21: trace.syscalls[1]: unknown syscall \"raed\", did you mean \"read\"?"
        );
        assert_eq!(
            err("[trace]\nsycalls = [\"read\"]\n"),
            "p.toml:2:1: trace.sycalls: unknown field `sycalls`, expected `syscalls` or `execute`"
        );
        assert_eq!(
            err("[trace]\nsyscalls = \"read\"\n"),
            "p.toml:2:12: trace.syscalls: invalid type: string \"read\", expected a sequence"
        );
        assert_eq!(
            err("[trace]\nsyscalls = [1]\n"),
            "p.toml:2:13: trace.syscalls[0]: invalid type: integer `1`, expected a string"
        );
        assert_eq!(
            err("[trac]\n"),
            "p.toml:1:2: trac: unknown field `trac`, expected one of `trace`, `inject`, `deny`, `network`"
        );
        assert!(err("[trace\n").starts_with("p.toml:1:"), "{}", err("[trace\n"));
    }
}
