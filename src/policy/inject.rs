//! Fault injection rules: strace's `-e inject=` / `-e fault=` grammar, and the same rules as
//! `[[inject]]` tables in a policy file.
//!
//! ```text
//! -e inject=SET[:error=ERRNO|:retval=VALUE][:signal=SIG][:syscall=PURE][:delay_enter=DELAY]
//!             [:delay_exit=DELAY][:when=EXPR][:probability=P][:seed=N][:max=N]
//!             [:short=N][:rate=BYTES[k|m]/s][:after=DURATION][:for=DURATION]
//!             [:fd=KIND|N][:dest=ADDR][:path=PREFIX][:comm=NAME]
//! -e fault=SET[:error=ERRNO][:when=EXPR][...the same scope and window keys]   (error defaults to ENOSYS)
//! ```
//!
//! The strace part accepts and refuses exactly what strace 6.1 does; the keys after `when` are
//! interpose's. Values that may contain `:` (`dest=[::1]:443`, `path=`) run to the next `:KEY=`.
//!
//! `short=` and `rate=` shape calls that run: interpose applies them to the transfers it executes
//! on the program's behalf (see `supervisor::exec`), and to nothing else. `after=`/`for=` make
//! a rule active in a window of the run's time only.

use std::time::Duration;

use super::addr::AddrPattern;
use super::set::SyscallSet;
use crate::decode::xlat;

/// strace's `when=first[..last][+[step]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When {
    pub first: u32,
    /// Inclusive; `u32::MAX` for open-ended.
    pub last: u32,
    pub step: u32,
}

impl Default for When {
    /// Every invocation.
    fn default() -> Self {
        When { first: 1, last: u32::MAX, step: 1 }
    }
}

impl When {
    /// Whether the `n`th invocation (1-based) is selected.
    pub fn selects(&self, n: u64) -> bool {
        n >= u64::from(self.first)
            && n <= u64::from(self.last)
            && (n - u64::from(self.first)) % u64::from(self.step) == 0
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("invalid when=\"{s}\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)")
        };
        let num = |t: &str, max: u32| -> Result<u32, String> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse::<u32>().ok().filter(|&n| (1..=max).contains(&n)).ok_or_else(bad)
        };
        let (range, step) = match s.split_once('+') {
            Some((r, st)) => (r, Some(st)),
            None => (s, None),
        };
        let (first_s, last_s) = match range.split_once("..") {
            Some((f, l)) => (f, Some(l)),
            None => (range, None),
        };
        let first = num(first_s, 65535)?;
        let last = match last_s {
            Some(l) => {
                let l = num(l, 65534)?;
                if l < first {
                    return Err(format!(
                        "invalid when=\"{s}\": the last invocation ({l}) is before the first ({first})"
                    ));
                }
                l
            }
            None if step.is_some() => u32::MAX,
            None => first,
        };
        let step = match step {
            None | Some("") => 1,
            Some(st) => num(st, 65535)?,
        };
        Ok(When { first, last, step })
    }
}

/// Which descriptors a rule applies to (the call's first argument).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdScope {
    Socket,
    Pipe,
    File,
    Tty,
    Number(i32),
}

impl FdScope {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "socket" => Ok(FdScope::Socket),
            "pipe" => Ok(FdScope::Pipe),
            "file" => Ok(FdScope::File),
            "tty" => Ok(FdScope::Tty),
            n => {
                n.parse::<i32>().ok().filter(|&n| n >= 0).map(FdScope::Number).ok_or_else(|| {
                    format!("invalid fd=\"{s}\"; expected socket, pipe, file, tty or a descriptor number")
                })
            }
        }
    }
}

/// Where a rule applies, beyond its syscalls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub fd: Option<FdScope>,
    /// connect/sendto/sendmsg/bind destination.
    pub dest: Option<AddrPattern>,
    /// Path prefix of open-type calls.
    pub path: Option<String>,
    /// Thread name (/proc/TID/comm).
    pub comm: Option<String>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        *self == Scope::default()
    }
}

/// One validated injection rule.
#[derive(Clone, Debug, PartialEq)]
pub struct InjectRule {
    pub syscalls: SyscallSet,
    /// Positive errno to fail with.
    pub error: Option<i32>,
    /// Value to succeed with, without running the call.
    pub retval: Option<i64>,
    pub signal: Option<i32>,
    pub delay_enter: Option<Duration>,
    pub delay_exit: Option<Duration>,
    pub when: When,
    pub probability: Option<f64>,
    pub seed: Option<u64>,
    /// At most this many injections by this rule, over the whole run.
    pub max: Option<u64>,
    /// `short=N`: an executed transfer moves at most N bytes.
    pub short: Option<u64>,
    /// `rate=`: executed transfers in the rule's scope are paced to this many bytes a second.
    pub rate: Option<u64>,
    /// `after=`: the rule is active from this long after the run started...
    pub after: Option<Duration>,
    /// ... `for=` this long (else to the end of the run).
    pub active_for: Option<Duration>,
    pub scope: Scope,
    /// Where it was written: `-e inject=...` or `FILE:LINE`.
    pub origin: String,
}

impl InjectRule {
    /// The rule as a `-e inject=` value that parses back to the same rule.
    pub fn to_expr(&self) -> String {
        let names: Vec<&str> = self.syscalls.names().collect();
        let mut s = if names.is_empty() { "none".to_string() } else { names.join(",") };
        let mut add = |k: &str, v: String| {
            s.push(':');
            s.push_str(k);
            s.push('=');
            s.push_str(&v);
        };
        if let Some(e) = self.error {
            add("error", xlat::errno_name(e).map_or_else(|| e.to_string(), str::to_string));
        }
        if let Some(v) = self.retval {
            add("retval", v.to_string());
        }
        if let Some(sig) = self.signal {
            add("signal", sig.to_string());
        }
        if let Some(d) = self.delay_enter {
            add("delay_enter", format!("{}ns", d.as_nanos()));
        }
        if let Some(d) = self.delay_exit {
            add("delay_exit", format!("{}ns", d.as_nanos()));
        }
        if self.when != When::default() {
            add("when", self.when.to_string());
        }
        if let Some(p) = self.probability {
            add("probability", p.to_string());
        }
        if let Some(v) = self.seed {
            add("seed", v.to_string());
        }
        if let Some(v) = self.max {
            add("max", v.to_string());
        }
        if let Some(v) = self.short {
            add("short", v.to_string());
        }
        if let Some(v) = self.rate {
            add("rate", format!("{v}/s"));
        }
        if let Some(d) = self.after {
            add("after", time(d));
        }
        if let Some(d) = self.active_for {
            add("for", time(d));
        }
        match self.scope.fd {
            Some(FdScope::Socket) => add("fd", "socket".into()),
            Some(FdScope::Pipe) => add("fd", "pipe".into()),
            Some(FdScope::File) => add("fd", "file".into()),
            Some(FdScope::Tty) => add("fd", "tty".into()),
            Some(FdScope::Number(n)) => add("fd", n.to_string()),
            None => {}
        }
        if let Some(d) = &self.scope.dest {
            add("dest", d.to_string());
        }
        if let Some(p) = &self.scope.path {
            add("path", p.clone());
        }
        if let Some(c) = &self.scope.comm {
            add("comm", c.clone());
        }
        s
    }
}

/// A time as `after=`/`for=` print it: in the largest unit that keeps it exact (`5s`, `250ms`).
pub fn time(d: Duration) -> String {
    let ns = d.as_nanos();
    match [(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us")].iter().find(|(k, _)| ns % k == 0) {
        Some((k, unit)) => format!("{}{unit}", ns / k),
        None => format!("{ns}ns"),
    }
}

/// The syscalls `[[deny]]` rules govern, among those `short=`/`rate=` could shape: the ones they
/// name, the sends where they name connect (a send with an address connects), and sendmmsg
/// where they name sendmsg. Governed calls run on the rules' own copy, not through the
/// executor. (A rule naming bind only checks the sends of unbound UDP sockets, which the kernel
/// then runs.)
pub fn governed(deny: &[super::deny::DenyRule]) -> SyscallSet {
    let mut s = deny.iter().fold(SyscallSet::empty(), |s, r| s.union(&r.syscalls));
    if s.contains(libc::SYS_connect as u32) {
        s.insert(libc::SYS_sendto as u32);
        s.insert(libc::SYS_sendmsg as u32);
        s.insert(libc::SYS_sendmmsg as u32);
    }
    if s.contains(libc::SYS_sendmsg as u32) {
        s.insert(libc::SYS_sendmmsg as u32);
    }
    s
}

/// The calls `short=` and `rate=` can shape: the transfers interpose executes.
pub const SHAPED: &[&str] =
    &["read", "pread64", "readv", "recvfrom", "recvmsg", "write", "pwrite64", "writev", "sendto", "sendmsg"];

impl InjectRule {
    /// Whether the rule shapes calls that run (`short=`, `rate=`), which only executed calls
    /// can honour.
    pub fn shapes(&self) -> bool {
        self.short.is_some() || self.rate.is_some()
    }

    /// Its shaping keys as written, `short=3, rate=102400/s`.
    fn shaping_keys(&self) -> String {
        let mut keys = Vec::new();
        if let Some(n) = self.short {
            keys.push(format!("short={n}"));
        }
        if let Some(r) = self.rate {
            keys.push(format!("rate={r}/s"));
        }
        keys.join(", ")
    }

    /// What `interpose check` says of a rule that shapes calls: to which of them it applies.
    pub fn executed_only(&self) -> Option<&'static str> {
        match (self.short, self.rate) {
            (None, None) => None,
            (Some(_), _) => Some(
                "applies only to calls interpose executes: not to a read that finds a blocking pipe or socket empty, nor to a write one cannot take at once (the kernel completes those, whole)",
            ),
            (None, Some(_)) => Some(
                "applies only to calls interpose executes: not to a read that finds a blocking pipe or socket empty, nor to a write on a blocking one (the kernel completes those, unpaced)",
            ),
        }
    }

    /// Why some or all of the calls this rule selects can never be shaped, one sentence per
    /// reason: execution is off, interpose never executes the syscall, or `[[deny]]` rules run
    /// it (`governed`: the syscalls they govern). Empty when the rule does not shape calls, or
    /// when every call it selects may be executed.
    pub fn unshapeable(&self, execute: bool, governed: &SyscallSet) -> Vec<String> {
        if !self.shapes() {
            return Vec::new();
        }
        let keys = self.shaping_keys();
        if !execute {
            return vec![format!(
                "{keys} applies only to calls interpose executes, and execution is off (--no-exec, or execute = false): this rule does nothing"
            )];
        }
        let mut why = Vec::new();
        let never: Vec<&str> = self.syscalls.names().filter(|n| !SHAPED.contains(n)).collect();
        if !never.is_empty() {
            let what = if never.len() > 8 {
                format!("{} of its syscalls ({}, ...)", never.len(), never[..8].join(", "))
            } else {
                never.join(", ")
            };
            why.push(format!(
                "{keys} applies only to the transfers interpose executes ({}); it does nothing to {what}",
                SHAPED.join(", ")
            ));
        }
        let ruled: Vec<&str> = self
            .syscalls
            .names()
            .filter(|n| SHAPED.contains(n))
            .filter(|n| governed.names().any(|g| g == *n))
            .collect();
        if !ruled.is_empty() {
            why.push(format!(
                "{keys} does not apply to the {} calls [[deny]] rules govern: those run on the rules' own copy",
                ruled.join(", ")
            ));
        }
        why
    }
}

impl std::fmt::Display for When {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.first)?;
        match (self.last, self.step) {
            (l, 1) if l == self.first => Ok(()),
            (u32::MAX, 1) => write!(f, "+"),
            (u32::MAX, step) => write!(f, "+{step}"),
            (l, 1) => write!(f, "..{l}"),
            (l, step) => write!(f, "..{l}+{step}"),
        }
    }
}

/// `EAGAIN`, `eagain` or `11` (1..4095), as strace accepts them.
pub fn parse_errno(s: &str) -> Result<i32, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=4095).contains(n))
            .ok_or_else(|| format!("invalid error=\"{s}\"; an errno number must be within 1..4095"));
    }
    let upper = s.to_ascii_uppercase();
    // strace knows each errno by one name; its aliases (EWOULDBLOCK...) are refused.
    if let Some(&(alias, value)) = xlat::ERRNO_ALIASES.iter().find(|(n, _)| *n == upper) {
        let canonical = xlat::errno_name(value).unwrap_or("?");
        return Err(format!("invalid error=\"{s}\": {alias} is spelt {canonical} here, as in strace"));
    }
    xlat::errno_by_name(&upper).ok_or_else(|| {
        let hint = suggest_errno(&upper).map(|n| format!(", did you mean \"{n}\"?")).unwrap_or_default();
        format!("unknown errno \"{s}\"{hint}")
    })
}

fn suggest_errno(name: &str) -> Option<&'static str> {
    xlat::ERRNOS
        .iter()
        .filter(|n| !n.is_empty())
        .map(|n| (strsim::jaro_winkler(name, n), *n))
        .filter(|(s, _)| *s > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

/// `SIGUSR1`, `USR1`, `usr1` or `10` (1..64).
pub fn parse_signal(s: &str) -> Result<i32, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=libc::SIGRTMAX()).contains(n))
            .ok_or_else(|| format!("invalid signal=\"{s}\"; a signal number must be within 1..{}", libc::SIGRTMAX()));
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    xlat::SIGNALS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|&(v, _)| v as i32)
        .ok_or_else(|| format!("unknown signal \"{s}\" (e.g. SIGUSR1, USR1 or 10)"))
}

/// strace's time specification: a number (`+`, decimals and exponents allowed) with an optional
/// unit `s`, `ms`, `us` or `ns`; no unit means microseconds. `800ms` = `8e5` = `0.8s`.
pub fn parse_delay(s: &str) -> Result<Duration, String> {
    let bad = || format!("invalid delay \"{s}\"; expected a number of microseconds, or one with a unit: s, ms, us, ns");
    let (num, scale) = [("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", 1e9)]
        .iter()
        .find_map(|&(u, k)| s.strip_suffix(u).map(|n| (n, k)))
        .unwrap_or((s, 1e3));
    let ok_chars = !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit() || b"+.eE-".contains(&b));
    if !ok_chars || num.starts_with('-') {
        return Err(bad());
    }
    let v: f64 = num.parse().map_err(|_| bad())?;
    let ns = v * scale;
    if !ns.is_finite() || !(0.0..=1e18).contains(&ns) {
        return Err(bad());
    }
    Ok(Duration::from_nanos(ns.round() as u64))
}

/// `rate=BYTES[k|m]/s`: bytes a second; `k` is 1024 bytes, `m` 1024 k; `/s` may be left out.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let bad = || format!("invalid rate=\"{s}\"; expected BYTES[k|m]/s, such as 100k/s (k = 1024 bytes, m = 1024 k)");
    let num = s.strip_suffix("/s").unwrap_or(s);
    let (num, scale) = match num.as_bytes().last() {
        Some(b'k' | b'K') => (&num[..num.len() - 1], 1024.0),
        Some(b'm' | b'M') => (&num[..num.len() - 1], 1024.0 * 1024.0),
        _ => (num, 1.0),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let v: f64 = num.parse().map_err(|_| bad())?;
    let bytes = (v * scale).round();
    if !bytes.is_finite() || !(1.0..=1e15).contains(&bytes) {
        return Err(format!("invalid rate=\"{s}\"; expected at least 1 byte a second, and at most 1e15"));
    }
    Ok(bytes as u64)
}

/// `after=` and `for=`: a time with its unit (`s`, `ms`, `us`, `ns`), `5s`, `1.5s`, `200ms`. Unlike
/// a delay, a bare number is refused: `after=5` is more likely five seconds than five
/// microseconds.
pub fn parse_window(key: &str, s: &str) -> Result<Duration, String> {
    if !["s", "ms", "us", "ns"]
        .iter()
        .any(|u| s.strip_suffix(u).is_some_and(|n| n.ends_with(|c: char| c.is_ascii_digit() || c == '.')))
    {
        return Err(format!(
            "invalid {key}=\"{s}\"; expected a time with its unit: s, ms, us or ns (such as 5s or 200ms)"
        ));
    }
    parse_delay(s).map_err(|_| {
        format!("invalid {key}=\"{s}\"; expected a time with its unit: s, ms, us or ns (such as 5s or 200ms)")
    })
}

/// `0 < P <= 1`.
pub fn check_probability(p: f64) -> Result<f64, String> {
    if p > 0.0 && p <= 1.0 { Ok(p) } else { Err(format!("invalid probability {p}; expected a number with 0 < P <= 1")) }
}

/// Keys of an expression, with whether their value may itself contain `:`.
const KEYS: &[(&str, bool)] = &[
    ("error", false),
    ("retval", false),
    ("signal", false),
    ("syscall", false),
    ("delay_enter", false),
    ("delay_exit", false),
    ("poke_enter", false),
    ("poke_exit", false),
    ("when", false),
    ("probability", false),
    ("seed", false),
    ("max", false),
    ("short", false),
    ("rate", false),
    ("after", false),
    ("for", false),
    ("fd", false),
    ("dest", true),
    ("path", true),
    ("comm", false),
];

/// Builder shared by the expression and file front ends: each setter validates one key.
#[derive(Default)]
pub struct Draft {
    pub error: Option<i32>,
    pub retval: Option<i64>,
    pub signal: Option<i32>,
    pub delay_enter: Option<Duration>,
    pub delay_exit: Option<Duration>,
    pub when: Option<When>,
    pub probability: Option<f64>,
    pub seed: Option<u64>,
    pub max: Option<u64>,
    pub short: Option<u64>,
    pub rate: Option<u64>,
    pub after: Option<Duration>,
    pub active_for: Option<Duration>,
    pub scope: Scope,
}

impl Draft {
    /// Applies `key=value`; `fault` restricts the keys to strace's fault= ones plus scopes.
    pub fn set(&mut self, key: &str, value: &str, fault: bool) -> Result<(), String> {
        let strace_fault_keys = ["error", "when"];
        let ours = ["probability", "seed", "max", "after", "for", "fd", "dest", "path", "comm"];
        if fault && !strace_fault_keys.contains(&key) && !ours.contains(&key) {
            return Err(format!("{key}= is not allowed in fault= (use inject=)"));
        }
        match key {
            "error" => {
                if self.error.is_some() || self.retval.is_some() {
                    return Err("only one error= or retval= per rule (they are mutually exclusive)".into());
                }
                self.error = Some(parse_errno(value)?);
            }
            "retval" => {
                if self.error.is_some() || self.retval.is_some() {
                    return Err("only one error= or retval= per rule (they are mutually exclusive)".into());
                }
                self.retval =
                    Some(value.parse::<i64>().map_err(|_| format!("invalid retval=\"{value}\"; expected an integer"))?);
            }
            "signal" => {
                if self.signal.is_some() {
                    return Err("only one signal= per rule".into());
                }
                self.signal = Some(parse_signal(value)?);
            }
            "syscall" => {
                // strace replaces the call by a pure syscall instead of -1; the program cannot
                // tell the difference, and neither runs the original call. Accepted, no effect.
                let set = super::set::parse_token(value).map_err(|e| e.to_string())?;
                let pure =
                    crate::decode::registry().all().filter(|s| s.row.classes.contains(crate::decode::class::bits::U));
                let pure: Vec<u32> = pure.map(|s| s.nr()).collect();
                if set.len() != 1 || !set.iter().all(|nr| pure.contains(&nr)) {
                    return Err(format!(
                        "invalid syscall=\"{value}\"; only one %pure syscall (such as gettid) may be named"
                    ));
                }
            }
            "delay_enter" => self.delay_enter = Some(parse_delay(value)?),
            "delay_exit" => self.delay_exit = Some(parse_delay(value)?),
            "poke_enter" | "poke_exit" => return Err(format!("{key}= is not supported by interpose")),
            // The last when= takes precedence, as in strace.
            "when" => self.when = Some(When::parse(value)?),
            "probability" => {
                let p: f64 =
                    value.parse().map_err(|_| format!("invalid probability=\"{value}\"; expected 0 < P <= 1"))?;
                self.probability = Some(check_probability(p)?);
            }
            "seed" => {
                self.seed =
                    Some(value.parse().map_err(|_| format!("invalid seed=\"{value}\"; expected an unsigned integer"))?)
            }
            "max" => {
                let n: u64 =
                    value.parse().map_err(|_| format!("invalid max=\"{value}\"; expected a positive integer"))?;
                if n == 0 {
                    return Err("invalid max=0; expected a positive integer".into());
                }
                self.max = Some(n);
            }
            "short" => {
                let n: u64 =
                    value.parse().ok().filter(|&n| (1..=1 << 30).contains(&n)).ok_or_else(|| {
                        format!("invalid short=\"{value}\"; expected a number of bytes, 1 to 1073741824")
                    })?;
                self.short = Some(n);
            }
            "rate" => self.rate = Some(parse_rate(value)?),
            "after" => self.after = Some(parse_window(key, value)?),
            "for" => {
                let d = parse_window(key, value)?;
                if d.is_zero() {
                    return Err("invalid for=0: a window must last some time".into());
                }
                self.active_for = Some(d);
            }
            "fd" => self.scope.fd = Some(FdScope::parse(value)?),
            "dest" => self.scope.dest = Some(AddrPattern::parse_destination(value)?),
            "path" => {
                if value.is_empty() {
                    return Err("empty path=".into());
                }
                self.scope.path = Some(value.to_string());
            }
            "comm" => {
                if value.is_empty() || value.len() > 15 {
                    return Err(format!("invalid comm=\"{value}\"; a thread name has 1 to 15 bytes"));
                }
                self.scope.comm = Some(value.to_string());
            }
            other => {
                let names: Vec<&str> = KEYS.iter().map(|(k, _)| *k).filter(|k| !k.starts_with("poke")).collect();
                return Err(format!("unknown key \"{other}\"; expected one of: {}", names.join(", ")));
            }
        }
        Ok(())
    }

    /// Checks that something is injected, and builds the rule.
    pub fn finish(self, syscalls: SyscallSet, fault: bool, origin: String) -> Result<InjectRule, String> {
        let mut error = self.error;
        if fault && error.is_none() {
            error = Some(libc::ENOSYS);
        }
        if error.is_none()
            && self.retval.is_none()
            && self.signal.is_none()
            && self.delay_enter.is_none()
            && self.delay_exit.is_none()
            && self.short.is_none()
            && self.rate.is_none()
        {
            return Err(
                "nothing to inject: give error=, retval=, signal=, delay_enter=, delay_exit=, short= or rate=".into()
            );
        }
        if (self.short.is_some() || self.rate.is_some()) && (error.is_some() || self.retval.is_some()) {
            let key = if self.short.is_some() { "short=" } else { "rate=" };
            let other = if error.is_some() { "error=" } else { "retval=" };
            return Err(format!(
                "{key} shapes a call that runs, and {other} replaces the call: give them in two rules"
            ));
        }
        Ok(InjectRule {
            syscalls,
            error,
            retval: self.retval,
            signal: self.signal,
            delay_enter: self.delay_enter,
            delay_exit: self.delay_exit,
            when: self.when.unwrap_or_default(),
            probability: self.probability,
            seed: self.seed,
            max: self.max,
            short: self.short,
            rate: self.rate,
            after: self.after,
            active_for: self.active_for,
            scope: self.scope,
            origin,
        })
    }
}

/// Parses the value of `-e inject=` (`fault` for `-e fault=`).
pub fn parse_expr(value: &str, fault: bool) -> Result<InjectRule, String> {
    let mut parts = split_tokens(value);
    let set_text = parts.remove(0);
    let syscalls = super::expr::parse_set(&set_text)?;
    let mut draft = Draft::default();
    for token in parts {
        if token.is_empty() {
            continue; // strace ignores empty tokens (`a::b`, a trailing `:`)
        }
        let (key, val) =
            token.split_once('=').ok_or_else(|| format!("invalid token \"{token}\"; expected KEY=VALUE"))?;
        draft.set(key, val, fault)?;
    }
    let qualifier = if fault { "fault" } else { "inject" };
    draft.finish(syscalls, fault, format!("-e {qualifier}={value}"))
}

/// Splits on `:`, except that the values of `dest=` and `path=` run on to the next `:KEY=`.
fn split_tokens(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open_ended = false;
    for (i, piece) in s.split(':').enumerate() {
        let key = piece.split_once('=').map(|(k, _)| k);
        let is_key = key.is_some_and(|k| KEYS.iter().any(|(n, _)| *n == k));
        if i > 0 && open_ended && !is_key {
            let last = out.last_mut().expect("a token before");
            last.push(':');
            last.push_str(piece);
            continue;
        }
        open_ended = key.is_some_and(|k| KEYS.iter().any(|(n, colon)| *n == k && *colon));
        out.push(piece.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_grammar() {
        let w = |s| When::parse(s).unwrap();
        assert_eq!(w("3"), When { first: 3, last: 3, step: 1 });
        assert_eq!(w("3+"), When { first: 3, last: u32::MAX, step: 1 });
        assert_eq!(w("3+2"), When { first: 3, last: u32::MAX, step: 2 });
        assert_eq!(w("3..5"), When { first: 3, last: 5, step: 1 });
        assert_eq!(w("3..5+"), When { first: 3, last: 5, step: 1 });
        assert_eq!(w("3..100+2"), When { first: 3, last: 100, step: 2 });
        let sel: Vec<u64> = (1..=12).filter(|&n| w("3..9+3").selects(n)).collect();
        assert_eq!(sel, [3, 6, 9]);
        for bad in [
            "", "0", "-1", "4-", "5+-", "6++", "7+0", "8+-1", "9+1+", "65536", "1+65536", "24..23", "1..65535", "a",
            "1..", "..3",
        ] {
            assert!(When::parse(bad).is_err(), "{bad}");
        }
        assert!(When::parse("65535").is_ok() && When::parse("1+65535").is_ok() && When::parse("1..65534").is_ok());
    }

    #[test]
    fn delays_in_equivalent_spellings() {
        let d = |s| parse_delay(s).unwrap();
        assert_eq!(d("800ms"), d("8e5"));
        assert_eq!(d("800ms"), d("0.8s"));
        assert_eq!(d("800ms"), d("800000us"));
        assert_eq!(d("+8e8ns"), d("800ms"));
        assert_eq!(d("1.6s"), Duration::from_millis(1600));
        assert_eq!(d("0"), Duration::ZERO);
        for bad in ["", "-1", "1m", "1h", "abc", "ms", "1e400", "nan", "inf"] {
            assert!(parse_delay(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errnos_and_signals() {
        assert_eq!(parse_errno("EAGAIN"), Ok(11));
        assert_eq!(parse_errno("eagain"), Ok(11));
        assert_eq!(parse_errno("4095"), Ok(4095));
        assert!(parse_errno("4096").is_err() && parse_errno("0").is_err() && parse_errno("-1").is_err());
        assert_eq!(
            parse_errno("EWOULDBLOCK").unwrap_err(),
            "invalid error=\"EWOULDBLOCK\": EWOULDBLOCK is spelt EAGAIN here, as in strace"
        );
        assert_eq!(parse_errno("EAGIAN").unwrap_err(), "unknown errno \"EAGIAN\", did you mean \"EAGAIN\"?");
        assert_eq!(parse_signal("SIGUSR1"), Ok(10));
        assert_eq!(parse_signal("usr1"), Ok(10));
        assert_eq!(parse_signal("64"), Ok(64));
        assert!(parse_signal("0").is_err() && parse_signal("65").is_err() && parse_signal("SIGFOO").is_err());
    }

    #[test]
    fn shaping_and_window_keys() {
        assert_eq!(parse_rate("100k/s"), Ok(102_400));
        assert_eq!(parse_rate("100K"), Ok(102_400));
        assert_eq!(parse_rate("1.5m/s"), Ok(1_572_864));
        assert_eq!(parse_rate("4096/s"), Ok(4096));
        for bad in ["", "/s", "k/s", "0/s", "0.1/s", "-1k/s", "1g/s", "1e3/s", "1k/m", "fast"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_window("after", "1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_window("for", "200ms"), Ok(Duration::from_millis(200)));
        for bad in ["5", "5m", "s", "ms", "-1s", "1h"] {
            assert!(parse_window("after", bad).is_err(), "{bad}");
        }
        assert_eq!(time(Duration::from_millis(1500)), "1500ms");
        assert_eq!(time(Duration::from_secs(5)), "5s");
        assert_eq!(time(Duration::from_nanos(7)), "7ns");
        let r = parse_expr("connect:error=ECONNREFUSED:dest=127.0.0.1:6379:after=5s:for=10s", false).unwrap();
        assert_eq!((r.after, r.active_for), (Some(Duration::from_secs(5)), Some(Duration::from_secs(10))));
        let r = parse_expr("read,write:short=7:rate=1m/s", false).unwrap();
        assert_eq!((r.short, r.rate), (Some(7), Some(1 << 20)));
        assert!(r.shapes() && r.unshapeable(true, &SyscallSet::empty()).is_empty());
        assert_eq!(r.unshapeable(false, &SyscallSet::empty()).len(), 1);
        let r = parse_expr("read,preadv:short=7", false).unwrap();
        assert!(r.unshapeable(true, &SyscallSet::empty())[0].ends_with("it does nothing to preadv"));
        assert!(parse_expr("read:short=7:error=EIO", false).is_err());
        assert!(parse_expr("read:short=7", true).is_err());
        assert!(parse_expr("read:after=1s", true).is_ok());
    }

    #[test]
    fn tokens_with_colons() {
        let r = parse_expr("connect:error=ECONNREFUSED:dest=127.0.0.1:8080:when=2", false).unwrap();
        assert_eq!(r.scope.dest, Some(AddrPattern::parse("127.0.0.1:8080").unwrap()));
        assert_eq!(r.when.first, 2);
        let r = parse_expr("connect:dest=[::1]:443:error=EINTR", false).unwrap();
        assert_eq!(r.scope.dest, Some(AddrPattern::parse("[::1]:443").unwrap()));
        let r = parse_expr("chdir:error=1::when=1:", false).unwrap();
        assert_eq!(r.error, Some(1));
        assert_eq!(parse_expr("chdir", true).unwrap().error, Some(libc::ENOSYS));
    }
}
