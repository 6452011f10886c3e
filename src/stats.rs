//! Counters kept by the supervisor as calls are answered, read by the summary at the end.
//!
//! Updated on the receive path, so they are plain arrays indexed by syscall number: no
//! allocation and no hashing for native calls.

use std::collections::BTreeMap;

use crate::decode::{NR_LIMIT, xlat};
use crate::event::{Call, Outcome};

#[derive(Clone, Debug)]
pub struct Stats {
    /// Completed (answered) calls per native syscall number.
    pub calls: Vec<u64>,
    /// Calls withdrawn before our answer took effect, per native number.
    pub interrupted: Vec<u64>,
    /// Foreign-ABI calls by (arch, nr): (calls, interrupted).
    pub foreign: BTreeMap<(u32, i32), (u64, u64)>,
    /// futex calls by operation (command plus PRIVATE/CLOCK_REALTIME flags).
    pub futex_ops: BTreeMap<u64, u64>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            calls: vec![0; NR_LIMIT],
            interrupted: vec![0; NR_LIMIT],
            foreign: BTreeMap::new(),
            futex_ops: BTreeMap::new(),
        }
    }
}

const FUTEX_NR: u32 = 202;

impl Stats {
    pub fn record(&mut self, call: Call, args: &[u64; 6], outcome: Outcome) {
        let done = outcome == Outcome::Continued;
        match call {
            Call::Native(nr) => {
                let slot = if done { &mut self.calls } else { &mut self.interrupted };
                slot[nr as usize] += 1;
                if nr == FUTEX_NR && done {
                    let op =
                        args[1] & (xlat::FUTEX_CMD_MASK & 0xff | xlat::FUTEX_PRIVATE_FLAG | xlat::FUTEX_CLOCK_REALTIME);
                    *self.futex_ops.entry(op).or_default() += 1;
                }
            }
            Call::Foreign { arch, nr } => {
                let e = self.foreign.entry((arch, nr)).or_default();
                if done { e.0 += 1 } else { e.1 += 1 }
            }
        }
    }

    pub fn total_calls(&self) -> u64 {
        self.calls.iter().sum::<u64>() + self.foreign.values().map(|v| v.0).sum::<u64>()
    }
}
