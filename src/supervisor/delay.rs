//! Delayed calls, off the receive path.
//!
//! A call with `delay_enter=` (or an executed call with `delay_exit=`) is parked here with its
//! deadline; one thread sleeps until the earliest deadline, then completes the call. The receiver
//! never sleeps, so other threads' and processes' calls keep flowing while one call is delayed.
//!
//! `rate=` uses the same thread: each rule is a link with a clock saying when it is free again.
//! An executed transfer of B bytes takes the link from then (or now, if it is idle) for
//! B / rate seconds, and its answer is parked until the link has carried it. A rule's threads
//! share its link; no one else waits.

use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::Job;

struct Entry {
    at: Instant,
    seq: u64,
    job: Job,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Earliest deadline first (BinaryHeap is a max-heap).
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

#[derive(Default)]
struct State {
    heap: BinaryHeap<Entry>,
    seq: u64,
    closed: bool,
    /// `rate=` links: rule -> when it has carried everything given to it so far.
    links: HashMap<usize, Instant>,
}

/// Handle for scheduling; cheap to clone.
#[derive(Clone, Default)]
pub struct Delayer {
    inner: Arc<(Mutex<State>, Condvar)>,
}

impl Delayer {
    pub fn schedule(&self, at: Instant, job: Job) {
        let (lock, cv) = &*self.inner;
        let mut st = lock.lock().unwrap_or_else(|e| e.into_inner());
        st.seq += 1;
        let seq = st.seq;
        st.heap.push(Entry { at, seq, job });
        cv.notify_one();
    }

    /// Takes rule `rule`'s link (`rate` bytes a second) for `bytes` bytes, from now or from when
    /// it is free, whichever is later; returns when they will have passed.
    pub fn pace(&self, rule: usize, rate: u64, bytes: u64) -> Instant {
        let (lock, _) = &*self.inner;
        let mut st = lock.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let free = st.links.get(&rule).copied().filter(|&t| t > now).unwrap_or(now);
        let nanos = u128::from(bytes) * 1_000_000_000 / u128::from(rate.max(1));
        let done = free + Duration::from_nanos(nanos.min(u128::from(u64::MAX)) as u64);
        st.links.insert(rule, done);
        done
    }

    /// No more jobs will come; the thread finishes what is queued and returns.
    pub fn close(&self) {
        let (lock, cv) = &*self.inner;
        lock.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        cv.notify_one();
    }

    /// Blocks until a job is due (or returns None once closed and empty).
    pub fn next_due(&self) -> Option<Job> {
        let (lock, cv) = &*self.inner;
        let mut st = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = Instant::now();
            match st.heap.peek() {
                Some(e) if e.at <= now || st.closed => return st.heap.pop().map(|e| e.job),
                Some(e) => {
                    let wait = e.at - now;
                    st = cv.wait_timeout(st, wait).unwrap_or_else(|e| e.into_inner()).0;
                }
                None if st.closed => return None,
                None => st = cv.wait(st).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_carries_its_bytes_at_its_rate() {
        let d = Delayer::default();
        let t0 = Instant::now();
        // 100 KiB at 100 KiB/s: one second, however it is cut; an idle link banks nothing.
        let mut last = t0;
        for _ in 0..4 {
            last = d.pace(0, 102_400, 25_600);
        }
        let took = last - t0;
        assert!(took >= Duration::from_millis(1000) && took < Duration::from_millis(1050), "{took:?}");
        // Another rule is another link.
        assert!(d.pace(1, 102_400, 1024) < t0 + Duration::from_millis(100));
    }
}
