//! Policies: what to trap and what to do with it.
//!
//! Two front ends meet in one validated [`Policy`]: a TOML policy file (`-p FILE`) and strace's
//! `-e` expressions. Both are parsed into raw forms, then validated into types whose syscall names
//! are already resolved to numbers. Every error says where the bad input was (file, line, column
//! and key; or the `-e` argument) and what was expected.

pub mod addr;
pub mod deny;
mod expr;
mod file;
pub mod inject;
pub mod print;
pub mod set;
mod source;

use std::fmt;
use std::path::Path;

pub use set::SyscallSet;

/// The policy compiled in, used when neither `-p` nor `-e trace=` is given.
pub const DEFAULT_POLICY: &str = include_str!("../../policies/default.toml");
pub const DEFAULT_POLICY_NAME: &str = "policies/default.toml (built in)";

/// A validated policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Syscalls whose calls are reported.
    pub trace: SyscallSet,
    /// `[trace] execute`: whether calls may be executed by the supervisor to learn
    /// their results (None: not said, which means yes).
    pub execute: Option<bool>,
    /// Injection rules in order: the file's `[[inject]]` tables, then `-e inject=`/`fault=`.
    /// For a given call, the last rule that matches it applies (as a later `-e inject=` for the
    /// same syscall replaces an earlier one in strace).
    pub inject: Vec<inject::InjectRule>,
    /// Network rules (policy files only).
    pub deny: Vec<deny::DenyRule>,
    /// `[network]`: what the network rules also refuse.
    pub network: deny::NetworkOptions,
}

impl Policy {
    /// Every syscall some rule injects into or governs: they must reach the supervisor. Under
    /// network rules also `listen` (where `bind` is governed), the sends (where `connect` is: a
    /// TCP Fast Open send connects), `socket` (raw sockets), `io_uring_setup` and `bpf`, which
    /// the rules refuse unless `[network]` allows them.
    pub fn intercepted(&self) -> SyscallSet {
        let s = self.inject.iter().fold(SyscallSet::empty(), |s, r| s.union(&r.syscalls));
        let named = self.deny.iter().fold(SyscallSet::empty(), |s, r| s.union(&r.syscalls));
        let mut s = s.union(&deny::with_implied(&named));
        if !self.deny.is_empty() {
            let mut add = |nr: libc::c_long| s.insert(nr as u32);
            if !self.network.allow_raw_sockets {
                add(libc::SYS_socket);
            }
            if !self.network.allow_io_uring {
                add(libc::SYS_io_uring_setup);
            }
            if !self.network.allow_bpf {
                add(libc::SYS_bpf);
            }
            // Source routes and routing headers (deny::reroutes).
            add(libc::SYS_setsockopt);
        }
        s
    }
}

/// Where a policy error was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A policy file; `line`/`column` are 1-based, 0 when the error is about the whole file.
    File { path: String, line: usize, column: usize, key: Option<String> },
    /// A `-e` argument, as given.
    Expr { expr: String },
}

/// A policy that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File { path, line: 0, .. } => write!(f, "{path}: {}", self.message),
            Location::File { path, line, column, key: Some(key) } => {
                write!(f, "{path}:{line}:{column}: {key}: {}", self.message)
            }
            Location::File { path, line, column, key: None } => write!(f, "{path}:{line}:{column}: {}", self.message),
            Location::Expr { expr } => write!(f, "-e {expr}: {}", self.message),
        }
    }
}

/// Builds the policy from a policy file (if any) and `-e` expressions, in command-line order.
///
/// - With neither a file nor `-e trace=`, the built-in default policy is used.
/// - `-e trace=SET` given several times: the last one wins, as in strace.
/// - A file and `-e trace=` together: the syscalls of both are traced (the sets are merged).
pub fn build(file: Option<&Path>, exprs: &[String]) -> Result<Policy, PolicyError> {
    let mut trace_expr: Option<SyscallSet> = None;
    let mut cli_inject = Vec::new();
    for e in exprs {
        match expr::parse(e)? {
            expr::Qualified::Trace(set) => trace_expr = Some(set),
            expr::Qualified::Inject(rule) => cli_inject.push(*rule),
        }
    }
    let base = match file {
        Some(path) => Some(file::load(path)?),
        None if trace_expr.is_none() => Some(file::parse(DEFAULT_POLICY_NAME, DEFAULT_POLICY)?),
        None => None,
    };
    let execute = base.as_ref().and_then(|p| p.execute);
    let mut inject = base.as_ref().map(|p| p.inject.clone()).unwrap_or_default();
    let deny = base.as_ref().map(|p| p.deny.clone()).unwrap_or_default();
    let network = base.as_ref().map(|p| p.network).unwrap_or_default();
    inject.extend(cli_inject);
    let trace = match (base, trace_expr) {
        (Some(p), Some(t)) => p.trace.union(&t),
        (Some(p), None) => p.trace,
        (None, Some(t)) => t,
        (None, None) => SyscallSet::empty(),
    };
    Ok(Policy { trace, execute, inject, deny, network })
}

/// Parses policy text (for `interpose check` and tests); `name` is used in messages.
pub fn parse_file_text(name: &str, text: &str) -> Result<Policy, PolicyError> {
    file::parse(name, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_read_connect_futex() {
        let p = build(None, &[]).unwrap();
        assert_eq!(p.trace.names().collect::<Vec<_>>(), ["read", "connect", "futex"]);
    }

    #[test]
    fn last_trace_expression_wins_and_file_merges() {
        let p = build(None, &["trace=read".into(), "trace=write".into()]).unwrap();
        assert_eq!(p.trace.names().collect::<Vec<_>>(), ["write"]);
        let dir = std::env::temp_dir().join(format!("interpose-policy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.toml");
        std::fs::write(&f, "[trace]\nsyscalls = [\"openat\"]\n").unwrap();
        let p = build(Some(&f), &["trace=close".into()]).unwrap();
        assert_eq!(p.trace.names().collect::<Vec<_>>(), ["close", "openat"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
