//! Thread ids come back once the kernel's pid allocator wraps around (`pid_max` is 32768 on
//! small machines: a shell loop gets there in minutes). Where exit events are open, the
//! receiver reads the kernel's thread exit records instead (`sys::perf::TaskEvents`), which is
//! exact; this is the fallback. What the receiver keeps per thread id (its process, its name,
//! the processes told to the guardian, a process's mappings for `-k`) is forgotten at each
//! wrap, so that a thread given an id again is looked up again: the log's pid is then the new
//! thread's process, not the one whose thread had the id.
//!
//! Ids are given in increasing order (`idr_alloc_cyclic`), so a wrap shows as the last id given
//! going down: a thread reads `/proc/sys/kernel/ns_last_pid` (of interpose's pid namespace,
//! whose ids the notifications carry) every 10 ms. A wrap is seen at most 10 ms late; an id
//! given again within those 10 ms (one of the first few hundred after the wrap, while a thread
//! that had it is still known) is the case left. Without `ns_last_pid` (a kernel without
//! checkpoint/restore) everything is forgotten every second instead.

use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

const PERIOD: Duration = Duration::from_millis(10);
/// Without `ns_last_pid`: how often to forget anyway.
const BLIND_PERIOD: Duration = Duration::from_secs(1);

/// How many wraps have been seen.
#[derive(Clone, Default)]
pub struct Wraps(Arc<AtomicU64>);

impl Wraps {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Watches for wraps until `stop` says so (or its sender goes).
    pub fn watch(&self, stop: &Receiver<()>) {
        let file = std::fs::File::open("/proc/sys/kernel/ns_last_pid").ok();
        let last_given = |f: &std::fs::File| {
            let mut buf = [0u8; 16];
            let n = f.read_at(&mut buf, 0).ok()?;
            std::str::from_utf8(&buf[..n]).ok()?.trim().parse::<u32>().ok()
        };
        let mut last = file.as_ref().and_then(last_given);
        let period = if last.is_some() { PERIOD } else { BLIND_PERIOD };
        while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(period) {
            let now = file.as_ref().and_then(last_given);
            let wrapped = match (last, now) {
                (Some(before), Some(now)) => now < before,
                _ => true,
            };
            if wrapped {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
            last = now;
        }
    }
}
