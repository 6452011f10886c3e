//! Counters kept by the supervisor as calls are answered, read by the summary at the end.
//!
//! Updated on the receive path, so they are arrays indexed by syscall number; the timing
//! record of a syscall is allocated once, on its first completed call, and never grows: memory
//! stays flat however many calls pass.

use std::collections::BTreeMap;

use crate::decode::NR_LIMIT;
use crate::event::{Call, Outcome};

/// Log-linear latency histogram: exact below 16 ns, then 8 buckets per power of two (about 6%
/// resolution) up to 2^44 ns.
pub const HIST_BUCKETS: usize = 16 + 41 * 8;

fn bucket(ns: u64) -> usize {
    if ns < 16 {
        return ns as usize;
    }
    let e = 63 - ns.leading_zeros() as usize; // >= 4
    let sub = ((ns >> (e - 3)) & 7) as usize;
    (16 + (e - 4) * 8 + sub).min(HIST_BUCKETS - 1)
}

/// Lower bound of a bucket, in ns.
fn bucket_floor(b: usize) -> u64 {
    if b < 16 {
        return b as u64;
    }
    let e = (b - 16) / 8 + 4;
    let sub = ((b - 16) % 8) as u64;
    (8 + sub) << (e - 3)
}

/// Results and times of the calls the supervisor executed, for one syscall.
#[derive(Clone, Debug)]
pub struct Timing {
    pub completed: u64,
    pub errors: u64,
    pub total_ns: u64,
    pub min_ns: u64,
    pub max_ns: u64,
    hist: Box<[u32; HIST_BUCKETS]>,
}

impl Default for Timing {
    fn default() -> Self {
        Self { completed: 0, errors: 0, total_ns: 0, min_ns: u64::MAX, max_ns: 0, hist: Box::new([0; HIST_BUCKETS]) }
    }
}

impl Timing {
    fn add(&mut self, ns: u64, failed: bool) {
        self.completed += 1;
        self.errors += u64::from(failed);
        self.total_ns += ns;
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
        let b = &mut self.hist[bucket(ns)];
        *b = b.saturating_add(1);
    }

    /// Calls per power of two of nanoseconds: bin k counts durations in [2^k, 2^(k+1)).
    pub fn log2_bins(&self) -> [u64; 45] {
        let mut bins = [0u64; 45];
        for (b, &n) in self.hist.iter().enumerate() {
            let floor = bucket_floor(b).max(1);
            let k = (63 - floor.leading_zeros()) as usize;
            bins[k.min(44)] += u64::from(n);
        }
        bins
    }

    /// Adds another syscall's record to this one (for the total row).
    pub fn merge(&mut self, o: &Timing) {
        self.completed += o.completed;
        self.errors += o.errors;
        self.total_ns += o.total_ns;
        self.min_ns = self.min_ns.min(o.min_ns);
        self.max_ns = self.max_ns.max(o.max_ns);
        for (a, b) in self.hist.iter_mut().zip(o.hist.iter()) {
            *a = a.saturating_add(*b);
        }
    }

    /// The duration below which `q` (0..=1) of the calls fall, to the histogram's resolution
    /// (the lower bound of the bucket holding that rank, never below the observed minimum).
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.completed == 0 {
            return 0;
        }
        let rank = ((q * self.completed as f64).ceil() as u64).clamp(1, self.completed);
        let mut seen = 0u64;
        for (b, &n) in self.hist.iter().enumerate() {
            seen += u64::from(n);
            if seen >= rank {
                return bucket_floor(b).clamp(self.min_ns, self.max_ns);
            }
        }
        self.max_ns
    }
}

#[derive(Clone, Debug)]
pub struct Stats {
    /// Answered calls per native syscall number (continued or completed).
    pub calls: Vec<u64>,
    /// Calls withdrawn before our answer took effect, per native number.
    pub interrupted: Vec<u64>,
    /// Completed (executed) calls: results and times, per native number.
    pub timing: Vec<Option<Box<Timing>>>,
    /// Calls whose result a fault injection replaced, per native number.
    pub injected: Vec<u64>,
    /// Calls a `[[deny]]` rule refused, per native number.
    pub denied: Vec<u64>,
    /// Foreign-ABI calls by (arch, nr): (calls, interrupted).
    pub foreign: BTreeMap<(u32, i32), (u64, u64)>,
    /// futex calls by operation (command plus PRIVATE/CLOCK_REALTIME flags).
    pub futex_ops: BTreeMap<u64, FutexOp>,
    /// Calls per thread (kept only for the report).
    pub per_thread: std::collections::HashMap<u32, u64>,
    /// `--summary-mode thread|process`: the same counters per thread or process id.
    pub groups: BTreeMap<u32, Stats>,
    /// Errors per (native syscall, errno, injected), for `--errno-summary`.
    pub errnos: BTreeMap<(u32, i32, bool), u64>,
}

/// One futex operation's calls: how many, how many with a known result, their total time, and
/// their errors by errno (a FUTEX_WAIT's EAGAIN: the value had changed; ETIMEDOUT: the timeout
/// passed; EINTR: a signal).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FutexOp {
    pub calls: u64,
    pub known: u64,
    pub total_ns: u64,
    pub errnos: BTreeMap<i32, u64>,
}

impl FutexOp {
    fn add(&mut self, outcome: Outcome) {
        self.calls += 1;
        if let (Some(ret), Some(ns)) = (outcome.ret(), outcome.duration_ns()) {
            self.known += 1;
            self.total_ns += ns;
            if ret < 0 {
                *self.errnos.entry((-ret) as i32).or_default() += 1;
            }
        }
    }

    fn merge(&mut self, o: &FutexOp) {
        self.calls += o.calls;
        self.known += o.known;
        self.total_ns += o.total_ns;
        for (e, n) in &o.errnos {
            *self.errnos.entry(*e).or_default() += n;
        }
    }

    pub fn errors(&self) -> u64 {
        self.errnos.values().sum()
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            calls: vec![0; NR_LIMIT],
            interrupted: vec![0; NR_LIMIT],
            timing: (0..NR_LIMIT).map(|_| None).collect(),
            injected: vec![0; NR_LIMIT],
            denied: vec![0; NR_LIMIT],
            foreign: BTreeMap::new(),
            futex_ops: BTreeMap::new(),
            per_thread: Default::default(),
            groups: BTreeMap::new(),
            errnos: BTreeMap::new(),
        }
    }
}

const FUTEX_NR: u32 = 202;
/// The futex command bits (0..127) plus FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME.
const FUTEX_OP_BITS: u64 = 0x1ff;

/// One syscall's counters, native or foreign, under its name.
#[derive(Debug)]
pub struct Row<'a> {
    pub name: String,
    /// Answered calls.
    pub calls: u64,
    pub interrupted: u64,
    pub injected: u64,
    pub denied: u64,
    /// Results and times of the calls executed or injected into.
    pub timing: Option<&'a Timing>,
}

impl Stats {
    /// Every syscall that was called (or interrupted): native ones by number, then foreign ones.
    pub fn rows(&self) -> Vec<Row<'_>> {
        let mut rows: Vec<Row<'_>> = (0..NR_LIMIT)
            .filter(|&nr| self.calls[nr] > 0 || self.interrupted[nr] > 0)
            .map(|nr| Row {
                name: crate::decode::syscall_name(nr as u32),
                calls: self.calls[nr],
                interrupted: self.interrupted[nr],
                injected: self.injected[nr],
                denied: self.denied[nr],
                timing: self.timing[nr].as_deref(),
            })
            .collect();
        rows.extend(self.foreign.iter().map(|(&(arch, nr), &(calls, interrupted))| Row {
            name: crate::decode::foreign_name(arch, nr),
            calls,
            interrupted,
            injected: 0,
            denied: 0,
            timing: None,
        }));
        rows
    }

    /// Every executed or injected call's timing merged (the total row), if there was any.
    pub fn total_timing(&self) -> Option<Timing> {
        let mut total = Timing::default();
        let mut any = false;
        for t in self.timing.iter().flatten() {
            total.merge(t);
            any = true;
        }
        any.then_some(total)
    }

    pub fn record(&mut self, call: Call, args: &[u64; 6], outcome: Outcome) {
        let done = outcome != Outcome::Interrupted;
        match call {
            Call::Native(nr) => {
                let i = nr as usize;
                if !done {
                    self.interrupted[i] += 1;
                    return;
                }
                self.calls[i] += 1;
                match outcome {
                    Outcome::Completed { ret, dur_ns }
                    | Outcome::Returned { ret, dur_ns }
                    | Outcome::Injected { ret, dur_ns } => {
                        self.timing[i].get_or_insert_with(Default::default).add(dur_ns, ret < 0)
                    }
                    Outcome::Denied { ret } => self.timing[i].get_or_insert_with(Default::default).add(0, ret < 0),
                    Outcome::Continued | Outcome::Interrupted => {}
                }
                match outcome {
                    Outcome::Injected { .. } => self.injected[i] += 1,
                    Outcome::Denied { .. } => self.denied[i] += 1,
                    Outcome::Completed { .. }
                    | Outcome::Returned { .. }
                    | Outcome::Continued
                    | Outcome::Interrupted => {}
                }
                if let Some(e) = outcome.errno() {
                    *self.errnos.entry((nr, e, matches!(outcome, Outcome::Injected { .. }))).or_default() += 1;
                }
                if nr == FUTEX_NR {
                    self.futex_ops.entry(args[1] & FUTEX_OP_BITS).or_default().add(outcome);
                }
            }
            Call::Foreign { arch, nr } => {
                let e = self.foreign.entry((arch, nr)).or_default();
                if done { e.0 += 1 } else { e.1 += 1 }
            }
        }
    }

    /// Adds the counters of another thread of the supervisor.
    pub fn merge(&mut self, o: &Stats) {
        for (a, b) in self.calls.iter_mut().zip(&o.calls) {
            *a += b;
        }
        for (a, b) in self.interrupted.iter_mut().zip(&o.interrupted) {
            *a += b;
        }
        for (a, b) in self.injected.iter_mut().zip(&o.injected) {
            *a += b;
        }
        for (a, b) in self.denied.iter_mut().zip(&o.denied) {
            *a += b;
        }
        for (a, b) in self.timing.iter_mut().zip(&o.timing) {
            if let Some(b) = b {
                a.get_or_insert_with(Default::default).merge(b);
            }
        }
        for (k, v) in &o.foreign {
            let e = self.foreign.entry(*k).or_default();
            e.0 += v.0;
            e.1 += v.1;
        }
        for (k, v) in &o.futex_ops {
            self.futex_ops.entry(*k).or_default().merge(v);
        }
        for (k, v) in &o.per_thread {
            *self.per_thread.entry(*k).or_default() += v;
        }
        for (k, v) in &o.errnos {
            *self.errnos.entry(*k).or_default() += v;
        }
        for (k, g) in &o.groups {
            self.groups.entry(*k).or_default().merge(g);
        }
    }

    pub fn total_calls(&self) -> u64 {
        self.calls.iter().sum::<u64>() + self.foreign.values().map(|v| v.0).sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for ns in [0u64, 1, 15, 16, 17, 100, 1000, 12_345, 1 << 30, 1 << 43] {
            let b = bucket(ns);
            assert!(b >= last);
            last = b;
            let floor = bucket_floor(b);
            assert!(floor <= ns && ns - floor <= ns / 8 + 1, "{ns} -> bucket {b} floor {floor}");
        }
    }

    #[test]
    fn quantiles() {
        let mut t = Timing::default();
        for ns in 1..=1000u64 {
            t.add(ns * 1000, false);
        }
        let p50 = t.quantile_ns(0.5) as f64;
        let p99 = t.quantile_ns(0.99) as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.07, "{p50}");
        assert!((p99 - 990_000.0).abs() / 990_000.0 < 0.07, "{p99}");
        assert_eq!(t.quantile_ns(0.0), 1000);
        assert_eq!(t.quantile_ns(1.0), t.max_ns.min(t.quantile_ns(1.0)));
    }
}
