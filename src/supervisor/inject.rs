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
//!
//! `after=`/`for=` bound a rule to a window of the run's time, counted from the supervisor's
//! start (the program's launch). Outside its window a rule is out of scope: its calls are not
//! counted for `when=`, and an earlier rule may decide them.
//!
//! `short=` and `rate=` shape calls that run, so they need the call executed (see
//! [`super::exec`]): a rule that shapes a call has it executed even when it is not traced, with
//! its transfer capped (`short=`), and its answer held until its bytes have passed the rule's
//! link (`rate=`, through the delay thread). A call left to the kernel is not shaped, and not
//! marked: [`Injector::new`] warns once per rule whose calls can never be executed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::exec::Executor;
use crate::decode::{Decoder, NR_LIMIT, Syscall, class::bits};
use crate::event::Outcome;
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
    /// `short=`: the executed transfer's byte cap.
    pub short: Option<u64>,
    /// `rate=`: the rule whose link paces the executed transfer, and its bytes a second.
    pub rate: Option<(usize, u64)>,
}

impl Injection {
    pub fn total_delay(&self) -> Duration {
        self.delay_enter.unwrap_or_default() + self.delay_exit.unwrap_or_default()
    }

    /// Whether the fault shapes the call as it runs (`short=`, `rate=`), so that it must run
    /// executed.
    pub fn shapes(&self) -> bool {
        self.short.is_some() || self.rate.is_some()
    }
}

/// Whether `inj` shapes its call (see [`Injection::shapes`]).
pub fn shapes(inj: Option<Injection>) -> bool {
    inj.is_some_and(|i| i.shapes())
}

/// The byte cap `inj` puts on its call.
pub fn cap(inj: Option<Injection>) -> Option<u64> {
    inj.and_then(|i| i.short)
}

/// The outcome of an executed call: an injected one when `short=` cut it.
pub fn shaped(outcome: Outcome, capped: bool) -> Outcome {
    match outcome {
        Outcome::Completed { ret, dur_ns } if capped => Outcome::Injected { ret, dur_ns },
        o => o,
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
    /// The run's start, for `after=`/`for=`.
    start: Instant,
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
    /// The injector for `cfg`'s rules. Warns, once per rule, when a rule shapes calls
    /// (`short=`, `rate=`) that interpose never executes, as it starts.
    pub fn new(cfg: &super::Config) -> Self {
        let governed = crate::policy::inject::governed(&cfg.deny.rules);
        for r in &cfg.inject {
            for why in r.unshapeable(cfg.execute, &governed) {
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    format!("interpose: warning: {}: {why}\n", r.origin).as_bytes(),
                );
            }
        }
        Self::with_rules(&cfg.inject)
    }

    fn with_rules(rules: &[InjectRule]) -> Self {
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
        Self { rules, by_nr, counts: HashMap::new(), comm: HashMap::new(), start: Instant::now() }
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

    /// Thread ids may now be others' (a pid wrap).
    pub fn forget_comms(&mut self) {
        self.comm.clear();
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
                short: r.short,
                rate: r.rate.map(|rate| (idx, rate)),
            });
        }
        None
    }

    fn in_scope(&mut self, idx: usize, n: &Notification, sc: &Syscall, executor: &mut Executor) -> bool {
        let rule = &self.rules[idx].rule;
        if rule.after.is_some() || rule.active_for.is_some() {
            let t = self.start.elapsed();
            let from = rule.after.unwrap_or_default();
            if t < from || rule.active_for.is_some_and(|d| t >= from + d) {
                return false;
            }
        }
        let scope = &rule.scope;
        if scope.is_empty() {
            return true;
        }
        let args = n.args();
        if let Some(fd) = scope.fd {
            // %desc calls, and the %network ones on a socket (strace does not class recvfrom,
            // sendto, recvmsg, sendmsg... as %desc): their first argument is the descriptor.
            let on_fd = sc.row.classes.contains(bits::D)
                || (sc.row.classes.contains(bits::N) && !matches!(sc.name(), "socket" | "socketpair"));
            if !on_fd {
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

/// Whether calls of this decoder move bytes that `rate=` paces.
fn transfers(sc: Option<&Syscall>) -> bool {
    use Decoder::*;
    sc.is_some_and(|sc| {
        matches!(sc.decoder, Read | Pread | Readv | Write | Pwrite | Writev | Recvfrom | Sendto | Recvmsg | Sendmsg)
    })
}

impl super::Completer<'_> {
    /// Answers a decided call now, or hands it to the delay thread to be answered later: once
    /// its `delay_exit` has passed, and under `rate=` once the rule's link has carried the bytes
    /// the call moved. The wait for the link counts as an injected delay (`(DELAYED)`, and in
    /// the call's time), as `delay_exit` does.
    pub(super) fn answer_or_hold(&mut self, mut d: super::Decided) {
        let Some(delayer) = self.delayer.clone() else { return self.answer(d) };
        let Some(inj) = d.p.injection else { return self.answer(d) };
        let now = Instant::now();
        let delay_exit = inj.delay_exit.unwrap_or_default();
        let mut until = now + delay_exit;
        let moved = match d.outcome {
            Outcome::Completed { ret, .. } | Outcome::Injected { ret, .. } if ret > 0 && transfers(d.p.sc) => {
                ret as u64
            }
            _ => 0,
        };
        if let Some((rule, rate)) = inj.rate
            && moved > 0
        {
            let passed = delayer.pace(rule, rate, moved);
            if passed > until {
                let extra = passed - until;
                until = passed;
                d.p.injection = Some(Injection { delay_exit: Some(delay_exit + extra), ..inj });
                if let Outcome::Completed { dur_ns, .. } | Outcome::Injected { dur_ns, .. } = &mut d.outcome {
                    *dur_ns += extra.as_nanos().min(u128::from(u64::MAX)) as u64;
                }
            }
        }
        if until > now {
            delayer.schedule(until, super::Job::Answer(d));
        } else {
            self.answer(d);
        }
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
