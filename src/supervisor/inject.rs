//! Deciding, per notification, whether an injection rule fires.
//!
//! Counting follows strace: invocations are counted per syscall and per tracee (thread), and
//! `when=` selects among them. A rule with a scope (descriptor kind, destination, path, thread
//! name) counts only the calls in its scope. For a given call the last rule that selects its
//! syscall and whose scope matches decides, alone (a later rule overrides an earlier one, as a
//! later `-e inject=` does in strace).
//!
//! `probability=` is drawn from a hash of (seed, rule, syscall, thread's invocation number):
//! the same seed gives the same faults on the same program, however its threads interleave.

use std::collections::HashMap;
use std::time::Duration;

use super::exec::Executor;
use crate::decode::{Decoder, NR_LIMIT, Syscall, class::bits};
use crate::policy::inject::{FdScope, InjectRule};
use crate::sys::mem;
use crate::sys::seccomp::Notification;

/// What to do to one call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Injection {
    /// Replace the result: `Err(errno)` or `Ok(retval)`.
    pub result: Option<Result<i64, i32>>,
    pub signal: Option<i32>,
    pub delay_enter: Option<Duration>,
    pub delay_exit: Option<Duration>,
}

impl Injection {
    pub fn total_delay(&self) -> Duration {
        self.delay_enter.unwrap_or_default() + self.delay_exit.unwrap_or_default()
    }
}

struct RuleState {
    rule: InjectRule,
    seed: u64,
    injected: u64,
}

pub struct Injector {
    rules: Vec<RuleState>,
    /// Rule indices per native syscall number, last rule first.
    by_nr: Vec<Vec<usize>>,
    /// Invocations seen: (thread, rule, syscall) -> count.
    counts: HashMap<(u32, usize, u32), u64>,
    comm: HashMap<u32, String>,
}

/// splitmix64: a fast, well-mixed 64-bit hash step.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A uniform draw in [0, 1) determined by its inputs.
pub fn draw(seed: u64, rule: usize, nr: u32, n: u64) -> f64 {
    let h = mix(mix(mix(seed ^ rule as u64) ^ u64::from(nr)) ^ n);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

impl Injector {
    pub fn new(rules: &[InjectRule]) -> Self {
        let mut by_nr = vec![Vec::new(); NR_LIMIT];
        for (i, r) in rules.iter().enumerate().rev() {
            for nr in r.syscalls.iter() {
                by_nr[nr as usize].push(i);
            }
        }
        let clock =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let rules = rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let seed = r.seed.unwrap_or_else(|| mix(clock ^ u64::from(std::process::id()) ^ i as u64));
                if r.probability.is_some() && r.seed.is_none() {
                    tracing::info!(rule = %r.origin, seed, "probability without seed=: drew a seed (add seed={seed} to repeat this run)");
                }
                RuleState { rule: r.clone(), seed, injected: 0 }
            })
            .collect();
        Self { rules, by_nr, counts: HashMap::new(), comm: HashMap::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether any rule may inject into native syscall `nr`.
    pub fn covers(&self, nr: u32) -> bool {
        self.by_nr.get(nr as usize).is_some_and(|v| !v.is_empty())
    }

    /// A thread executed a new program: its name may change.
    pub fn forget_comm(&mut self, tid: u32) {
        self.comm.remove(&tid);
    }

    /// Decides for one notification of native syscall `sc`.
    pub fn decide(&mut self, n: &Notification, sc: &Syscall, executor: &mut Executor) -> Option<Injection> {
        let nr = sc.nr();
        let candidates = self.by_nr.get(nr as usize)?.clone();
        for idx in candidates {
            if !self.in_scope(idx, n, sc, executor) {
                continue;
            }
            let count = self.counts.entry((n.tid(), idx, nr)).or_insert(0);
            *count += 1;
            let count = *count;
            let st = &mut self.rules[idx];
            let r = &st.rule;
            let fires = r.when.selects(count)
                && r.probability.is_none_or(|p| draw(st.seed, idx, nr, count) < p)
                && r.max.is_none_or(|m| st.injected < m);
            if !fires {
                return None;
            }
            st.injected += 1;
            return Some(Injection {
                result: r.error.map(Err).or(r.retval.map(Ok)),
                signal: r.signal,
                delay_enter: r.delay_enter,
                delay_exit: r.delay_exit,
            });
        }
        None
    }

    fn in_scope(&mut self, idx: usize, n: &Notification, sc: &Syscall, executor: &mut Executor) -> bool {
        let scope = &self.rules[idx].rule.scope;
        if scope.is_empty() {
            return true;
        }
        let args = n.args();
        if let Some(fd) = scope.fd {
            if !sc.row.classes.contains(bits::D) {
                return false;
            }
            let ok = match fd {
                FdScope::Number(want) => args[0] as i32 == want,
                kind => executor.fd_kind(n.tid(), args[0]).is_some_and(|k| k == kind),
            };
            if !ok {
                return false;
            }
        }
        if let Some(dest) = &scope.dest {
            let addr = match (sc.decoder, sc.name()) {
                (Decoder::SockaddrIn, _) => Some((args[1], args[2])),
                (Decoder::Sendto, _) if args[4] != 0 => Some((args[4], args[5])),
                (Decoder::Sendmsg, _) => mem::read_msghdr(n.tid(), args[1]).filter(|h| h[0] != 0).map(|h| (h[0], h[1])),
                _ => None,
            };
            let matched = addr.is_some_and(|(a, len)| {
                let mut buf = vec![0u8; (len as usize).min(128)];
                mem::read(n.tid(), a, &mut buf).is_ok_and(|got| got == buf.len()) && dest.matches(&buf)
            });
            if !matched {
                return false;
            }
        }
        if let Some(prefix) = &scope.path {
            if !sc.row.classes.contains(bits::F) {
                return false;
            }
            let at = if sc.name().ends_with("at") || sc.name().ends_with("at2") { args[1] } else { args[0] };
            let mut path = Vec::new();
            if !mem::read_cstr(n.tid(), at, crate::decode::capture::PATH_MAX, &mut path).unwrap_or(false)
                || !path.starts_with(prefix.as_bytes())
            {
                return false;
            }
        }
        if let Some(want) = &scope.comm {
            let tid = n.tid();
            let name = self.comm.entry(tid).or_insert_with(|| {
                std::fs::read_to_string(format!("/proc/{tid}/comm"))
                    .map(|s| s.trim_end().to_string())
                    .unwrap_or_default()
            });
            if name != want {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_uniform_enough() {
        assert_eq!(draw(42, 0, 0, 7), draw(42, 0, 0, 7));
        assert_ne!(draw(42, 0, 0, 7), draw(43, 0, 0, 7));
        let hits = (1..=100_000u64).filter(|&n| draw(1, 0, 0, n) < 0.1).count();
        assert!((9_000..11_000).contains(&hits), "{hits}");
    }
}
