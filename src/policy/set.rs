//! Sets of native syscalls, and strace's set grammar.
//!
//! One token is a syscall name (`read`), a number (`0`), a class (`%net`), a regular expression
//! (`/^sen`), `all` or `none`; a leading `?` makes an unknown name or class match nothing instead
//! of failing, as in strace. How tokens combine (strace's leading `!` on a whole `-e` set, or
//! `"!name"` exclusions in a policy file) is decided by the callers.

use crate::decode::{self, NR_LIMIT};

const WORDS: usize = NR_LIMIT / 64;

/// A set of native syscall numbers.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct SyscallSet([u64; WORDS]);

impl std::fmt::Debug for SyscallSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

impl SyscallSet {
    pub fn empty() -> Self {
        Self::default()
    }

    /// Every syscall the table knows.
    pub fn all() -> Self {
        let mut s = Self::empty();
        for sc in decode::registry().all() {
            s.insert(sc.nr());
        }
        s
    }

    pub fn insert(&mut self, nr: u32) {
        if (nr as usize) < NR_LIMIT {
            self.0[nr as usize / 64] |= 1 << (nr % 64);
        }
    }

    pub fn remove(&mut self, nr: u32) {
        if (nr as usize) < NR_LIMIT {
            self.0[nr as usize / 64] &= !(1 << (nr % 64));
        }
    }

    pub fn contains(&self, nr: u32) -> bool {
        (nr as usize) < NR_LIMIT && self.0[nr as usize / 64] & (1 << (nr % 64)) != 0
    }

    pub fn union(&self, other: &Self) -> Self {
        let mut s = *self;
        for (a, b) in s.0.iter_mut().zip(other.0) {
            *a |= b;
        }
        s
    }

    pub fn difference(&self, other: &Self) -> Self {
        let mut s = *self;
        for (a, b) in s.0.iter_mut().zip(other.0) {
            *a &= !b;
        }
        s
    }

    /// Everything the table knows that is not in `self`.
    pub fn complement(&self) -> Self {
        Self::all().difference(self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..NR_LIMIT as u32).filter(|&nr| self.contains(nr))
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        let reg = decode::registry();
        self.iter().filter_map(move |nr| reg.get(i64::from(nr)).map(|s| s.name()))
    }
}

/// Why a token was refused; the caller adds where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    Empty,
    UnknownSyscall { name: String, suggestion: Option<&'static str> },
    UnknownClass { name: String, suggestion: Option<&'static str> },
    BadRegex { pattern: String, reason: String },
    BadNumber { text: String },
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Empty => write!(f, "empty syscall name (two commas in a row, or a trailing comma?)"),
            TokenError::UnknownSyscall { name, suggestion: Some(s) } => {
                write!(f, "unknown syscall \"{name}\", did you mean \"{s}\"?")
            }
            TokenError::UnknownSyscall { name, suggestion: None } => {
                write!(f, "unknown syscall \"{name}\" (`interpose syscalls` lists the known ones)")
            }
            TokenError::UnknownClass { name, suggestion: Some(s) } => {
                write!(f, "unknown syscall class \"%{name}\", did you mean \"%{s}\"?")
            }
            TokenError::UnknownClass { name, suggestion: None } => {
                let known: Vec<String> = decode::class::NAMES.iter().map(|(n, _)| format!("%{n}")).collect();
                write!(f, "unknown syscall class \"%{name}\"; known classes: {}", known.join(", "))
            }
            TokenError::BadRegex { pattern, reason } => write!(f, "invalid regular expression /{pattern}: {reason}"),
            TokenError::BadNumber { text } => write!(f, "no syscall has number {text}"),
        }
    }
}

/// The syscalls one token names.
pub fn parse_token(token: &str) -> Result<SyscallSet, TokenError> {
    let (optional, token) = match token.strip_prefix('?') {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    let result = parse_plain(token);
    match result {
        Err(TokenError::UnknownSyscall { .. } | TokenError::UnknownClass { .. } | TokenError::BadNumber { .. })
            if optional =>
        {
            Ok(SyscallSet::empty())
        }
        other => other,
    }
}

fn parse_plain(token: &str) -> Result<SyscallSet, TokenError> {
    let reg = decode::registry();
    let mut set = SyscallSet::empty();
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    if token == "all" {
        return Ok(SyscallSet::all());
    }
    if token == "none" {
        return Ok(set);
    }
    if let Some(class) = token.strip_prefix('%') {
        let bit = decode::Class::bit_by_name(class)
            .ok_or_else(|| TokenError::UnknownClass { name: class.to_string(), suggestion: suggest_class(class) })?;
        for sc in reg.all().filter(|s| s.row.classes.contains(bit)) {
            set.insert(sc.nr());
        }
        return Ok(set);
    }
    if let Some(pattern) = token.strip_prefix('/') {
        let re = regex::Regex::new(pattern)
            .map_err(|e| TokenError::BadRegex { pattern: pattern.to_string(), reason: first_line(&e.to_string()) })?;
        for sc in reg.all().filter(|s| re.is_match(s.name())) {
            set.insert(sc.nr());
        }
        return Ok(set);
    }
    if token.bytes().all(|b| b.is_ascii_digit()) {
        let nr: u32 = token.parse().map_err(|_| TokenError::BadNumber { text: token.to_string() })?;
        if reg.get(i64::from(nr)).is_none() {
            return Err(TokenError::BadNumber { text: token.to_string() });
        }
        set.insert(nr);
        return Ok(set);
    }
    match reg.by_name(token) {
        Some(sc) => {
            set.insert(sc.nr());
            Ok(set)
        }
        None => Err(TokenError::UnknownSyscall { name: token.to_string(), suggestion: reg.suggest(token) }),
    }
}

fn first_line(s: &str) -> String {
    s.lines().rfind(|l| !l.trim().is_empty()).unwrap_or(s).trim().to_string()
}

fn suggest_class(name: &str) -> Option<&'static str> {
    decode::class::NAMES
        .iter()
        .map(|(n, _)| (strsim::jaro_winkler(name, n), *n))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &SyscallSet) -> Vec<&'static str> {
        s.names().collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(names(&parse_token("read").unwrap()), ["read"]);
        assert_eq!(names(&parse_token("0").unwrap()), ["read"]);
        assert!(parse_token("%net").unwrap().contains(42));
        assert!(parse_token("%network").unwrap().contains(42));
        assert!(!parse_token("%net").unwrap().contains(0));
        assert_eq!(names(&parse_token("/^pread").unwrap()), ["pread64", "preadv", "preadv2"]);
        assert!(parse_token("none").unwrap().is_empty());
        assert!(parse_token("?nosuch").unwrap().is_empty());
        assert_eq!(
            parse_token("raed"),
            Err(TokenError::UnknownSyscall { name: "raed".into(), suggestion: Some("read") })
        );
        assert!(matches!(parse_token("%nett"), Err(TokenError::UnknownClass { suggestion: Some("net"), .. })));
        assert!(matches!(parse_token("/("), Err(TokenError::BadRegex { .. })));
        assert!(matches!(parse_token("400"), Err(TokenError::BadNumber { .. })));
        assert_eq!(parse_token(""), Err(TokenError::Empty));
    }

    #[test]
    fn set_algebra() {
        let all = SyscallSet::all();
        let read = parse_token("read").unwrap();
        assert_eq!(all.len(), crate::decode::table::X86_64.len());
        assert_eq!(read.complement().len(), all.len() - 1);
        assert_eq!(read.union(&read.complement()), all);
    }
}
