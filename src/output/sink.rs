//! The hand-over from the supervisor to the writer: a bounded buffer that costs the receive
//! path no syscall.
//!
//! Producers (the receiver and the delay thread) append under an uncontended mutex. The writer
//! wakes on its own every few milliseconds, swaps the whole buffer out and writes it, so a burst
//! of a thousand calls costs one wake-up and one write(2) instead of a thousand. Producers wake
//! the writer early only when the buffer is half full, and wait when it is full: back-pressure,
//! never loss.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::Record;

/// Records held before a producer waits for the writer.
pub const CAPACITY: usize = 1 << 16;
/// How often the writer looks, at most this late after an event.
pub const PERIOD: Duration = Duration::from_millis(10);

#[derive(Default)]
struct State {
    queue: Vec<Record>,
    /// No producer is left: the writer drains and stops.
    closed: bool,
    producers_waiting: usize,
}

struct Shared {
    state: Mutex<State>,
    /// The writer waits here (with a timeout).
    writer: Condvar,
    /// Producers wait here when the buffer is full.
    room: Condvar,
}

/// The producers' side; clone it for each producing thread.
#[derive(Clone)]
pub struct Sink {
    shared: Arc<Shared>,
}

/// The writer's side.
pub struct Drain {
    shared: Arc<Shared>,
    spare: Vec<Record>,
}

pub fn channel() -> (Sink, Drain) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { queue: Vec::with_capacity(1024), ..Default::default() }),
        writer: Condvar::new(),
        room: Condvar::new(),
    });
    (Sink { shared: shared.clone() }, Drain { shared, spare: Vec::with_capacity(1024) })
}

impl Sink {
    pub fn send(&self, r: Record) {
        let mut st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        while st.queue.len() >= CAPACITY && !st.closed {
            st.producers_waiting += 1;
            self.shared.writer.notify_one();
            st = self.shared.room.wait(st).unwrap_or_else(|e| e.into_inner());
            st.producers_waiting -= 1;
        }
        st.queue.push(r);
        if st.queue.len() == CAPACITY / 2 {
            self.shared.writer.notify_one();
        }
    }

    /// Tells the writer that nothing more will come (from any producer).
    pub fn close(&self) {
        let mut st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        st.closed = true;
        self.shared.writer.notify_one();
        self.shared.room.notify_all();
    }
}

impl Drain {
    /// The next batch, in arrival order; None once closed and empty.
    pub fn next_batch(&mut self) -> Option<Vec<Record>> {
        let mut st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        while st.queue.is_empty() {
            if st.closed {
                return None;
            }
            st = self.shared.writer.wait_timeout(st, PERIOD).unwrap_or_else(|e| e.into_inner()).0;
        }
        let mut batch = std::mem::take(&mut self.spare);
        std::mem::swap(&mut batch, &mut st.queue);
        if st.producers_waiting > 0 {
            self.shared.room.notify_all();
        }
        Some(batch)
    }

    /// Hands an emptied batch back, so its allocation is reused.
    pub fn recycle(&mut self, mut batch: Vec<Record>) {
        batch.clear();
        if batch.capacity() <= CAPACITY {
            self.spare = batch;
        }
    }
}
