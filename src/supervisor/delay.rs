//! Delayed calls, off the receive path.
//!
//! A call with `delay_enter=` (or an executed call with `delay_exit=`) is parked here with its
//! deadline; one thread sleeps until the earliest deadline, then completes the call. The receiver
//! never sleeps, so other threads' and processes' calls keep flowing while one call is delayed.

use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

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
