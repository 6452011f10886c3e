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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrace {
    syscalls: Vec<Spanned<String>>,
    execute: Option<bool>,
}

pub fn load(path: &Path) -> Result<Policy, PolicyError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
        location: Location::File { path: name.clone(), line: 0, column: 0, key: None },
        message: format!("cannot read the policy file: {}", crate::error::io_reason(&e)),
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

    let mut trace = SyscallSet::empty();
    let execute = raw.trace.as_ref().and_then(|t| t.execute);
    if let Some(t) = raw.trace {
        let mut excluded = SyscallSet::empty();
        for (i, item) in t.syscalls.iter().enumerate() {
            let key = format!("trace.syscalls[{i}]");
            let (target, token) = match item.get_ref().strip_prefix('!') {
                Some(rest) => (&mut excluded, rest),
                None => (&mut trace, item.get_ref().as_str()),
            };
            let s = set::parse_token(token).map_err(|e| at(item.span(), key, e.to_string()))?;
            *target = target.union(&s);
        }
        trace = trace.difference(&excluded);
    }
    Ok(Policy { trace, execute })
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
        if v.span().contains(&at) || (v.get_ref().is_table() && table_contains(v.get_ref(), at)) {
            path.push(k.get_ref().to_string());
            walk_value(v.get_ref(), at, path);
            return;
        }
    }
}

fn table_contains(v: &toml::de::DeValue<'_>, at: usize) -> bool {
    v.as_table().is_some_and(|t| t.iter().any(|(k, v)| k.span().contains(&at) || v.span().contains(&at)))
}

fn walk_value(v: &toml::de::DeValue<'_>, at: usize, path: &mut Vec<String>) {
    if let Some(t) = v.as_table() {
        walk_table(t, at, path);
    } else if let Some(a) = v.as_array() {
        for (i, item) in a.iter().enumerate() {
            if item.span().contains(&at) {
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
    m.trim().replace('\n', "; ").replace("struct RawTrace", "a table ([trace])").replace("struct RawPolicy", "a table")
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
        assert_eq!(err("[trac]\n"), "p.toml:1:2: trac: unknown field `trac`, expected `trace`");
        assert!(err("[trace\n").starts_with("p.toml:1:"), "{}", err("[trace\n"));
    }
}
