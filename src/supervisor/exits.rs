//! Results of calls left to the kernel, from its exit events (`sys::perf`).
//!
//! A notification arrives at syscall entry; after "continue" the kernel runs the call and
//! interpose hears nothing more. Where exit events are available, each call answered "continue"
//! is parked here ([`Exits::defer`], before the answer, so that its exit cannot be read before it
//! is waited for) and completed by the exit thread ([`Exits::run`]) when the exit arrives.
//!
//! Matching: a thread makes one syscall at a time, so its exits come in the order of its calls.
//! The exits of a thread are processed in time order; an exit belongs to the oldest parked call
//! of that thread if it happened after interpose received that call's notification and has its
//! syscall number. An exit from before the notification is another call's (one interpose
//! executed or refused, one a signal withdrew before interpose received it, one not traced) and
//! is dropped. An exit of another number after the notification means this call's exit was lost
//! (a full buffer): the call stays unknown (`?`). A restarted call (a signal interrupted it) is a
//! new notification with its own exit; the interrupted one shows the kernel's restart code, as in
//! strace.
//!
//! Lost exits: records carry a syscall number, but not the ABI of the call (the raw tracepoint
//! gives an `int $0x80` call's exit its i386 number, which may be a traced native call's: i386
//! `geteuid` is 49, native `bind`). So a call whose own exit the kernel dropped (a full buffer)
//! must never take a later record of the same number: when the kernel says records were lost
//! (a notice with its time), every parked call received before that time and not yet completed
//! stays unknown, and so does a call whose candidate exit comes after such a notice.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::{Completer, Pending};
use crate::decode::capture::Captures;
use crate::event::{Call, Outcome};
use crate::sys::perf::{Exit, ExitEvents};

/// How long an exit is held back before it is matched, so that the exits of a thread that
/// moved between CPUs (in different buffers) are seen in time order.
const HOLD_NS: u64 = 2_000_000;
/// How often the buffers are read.
const PERIOD: Duration = Duration::from_millis(10);
/// Parked calls past which the exit thread is woken early: memory stays bounded when the
/// program makes calls faster than one period's worth.
const WAKE_AT: usize = 1024;
/// With `-c` alone, a thread with this many calls waiting for their exits completes them on
/// the receive path before its next call: memory stays bounded when the exit thread gets no
/// CPU (a busy machine), instead of growing with the backlog.
pub(super) const BACKLOG: usize = 256;

struct Parked {
    token: u64,
    p: Pending,
    /// CLOCK_MONOTONIC at the notification's receipt.
    recv_ns: u64,
    nr: i64,
}

#[derive(Default)]
struct Table {
    by_tid: HashMap<u32, VecDeque<Parked>>,
    next: u64,
    parked: usize,
}

impl Table {
    /// The receipt time of the oldest call parked (u64::MAX when none is).
    fn oldest_recv_ns(&self) -> u64 {
        self.by_tid.values().filter_map(|q| q.front()).map(|p| p.recv_ns).min().unwrap_or(u64::MAX)
    }
}

/// The buffers, read by the exit thread and, to keep each thread's lines in order, by the
/// receiver.
struct Reader {
    events: ExitEvents,
    /// Read, not yet matched (see [`HOLD_NS`]).
    held: Vec<Exit>,
    /// When the kernel said records were lost (see the module notes), oldest first.
    lost_at: Vec<u64>,
}

#[derive(Default)]
struct Shared {
    reader: Mutex<Option<Reader>>,
    table: Mutex<Table>,
    /// The exit thread waits here between reads.
    wake: Condvar,
    stop: AtomicBool,
}

/// The calls waiting for their exit; shared by the supervisor's threads and the exit thread.
#[derive(Clone, Default)]
pub struct Exits(Arc<Shared>);

/// Whether a call never returns (no exit event will come).
fn never_returns(nr: u32) -> bool {
    i64::from(nr) == libc::SYS_exit || i64::from(nr) == libc::SYS_exit_group
}

impl Exits {
    /// Whether an exit event will come for this call, and can be told apart: a native call
    /// that returns (not exit or exit_group). i386 calls' exits carry i386 numbers that the
    /// kernel filter does not select.
    pub(super) fn will_return(p: &Pending) -> bool {
        matches!(p.call, Call::Native(nr) if !never_returns(nr))
    }

    /// Parks `p` until its exit (see [`Exits::will_return`]); returns a token for
    /// [`Exits::cancel`].
    pub(super) fn defer(&self, p: Pending) -> u64 {
        let nr = match p.call {
            Call::Native(nr) => i64::from(nr),
            Call::Foreign { nr, .. } => i64::from(nr),
        };
        let mut t = self.0.table.lock().unwrap_or_else(|e| e.into_inner());
        t.next += 1;
        let token = t.next;
        let recv_ns = p.recv_ns;
        t.by_tid.entry(p.n.tid()).or_default().push_back(Parked { token, p, recv_ns, nr });
        t.parked += 1;
        if t.parked % WAKE_AT == 0 {
            self.0.wake.notify_one();
        }
        token
    }

    /// Tells the exit thread that every call is answered: it reads the last exits and stops.
    pub(super) fn stop(&self) {
        self.0.stop.store(true, Ordering::Release);
        let _t = self.0.table.lock().unwrap_or_else(|e| e.into_inner());
        self.0.wake.notify_one();
    }

    /// Takes back a parked call whose answer did not land (the thread was killed); None if its
    /// exit already completed it.
    pub(super) fn cancel(&self, tid: u32, token: u64) -> Option<Pending> {
        let mut t = self.0.table.lock().unwrap_or_else(|e| e.into_inner());
        let q = t.by_tid.get_mut(&tid)?;
        let i = q.iter().position(|x| x.token == token)?;
        let p = q.remove(i).map(|x| x.p);
        if q.is_empty() {
            t.by_tid.remove(&tid);
        }
        t.parked -= usize::from(p.is_some());
        p
    }

    /// What to record for the exits `xs` (in time order): the calls they complete or show lost.
    /// One lock for the batch: the receiver parks calls under the same lock, and every wait for
    /// it can cost a cross-CPU wake-up.
    fn match_exits(&self, xs: &[Exit], lost_at: &[u64]) -> Vec<(Pending, Outcome)> {
        let mut out = Vec::new();
        if xs.is_empty() {
            return out;
        }
        let mut t = self.0.table.lock().unwrap_or_else(|e| e.into_inner());
        for x in xs {
            Self::match_exit(&mut t, *x, lost_at, &mut out);
        }
        out
    }

    fn match_exit(t: &mut Table, x: Exit, lost_at: &[u64], out: &mut Vec<(Pending, Outcome)>) {
        let Some(q) = t.by_tid.get_mut(&x.tid) else { return };
        while let Some(front) = q.front() {
            if x.time_ns < front.recv_ns {
                break;
            }
            let parked = q.pop_front().expect("front exists");
            t.parked -= 1;
            // Records were lost between the call's receipt and this exit: its own may be one.
            let maybe_lost = lost_at.iter().any(|&l| l > parked.recv_ns && l <= x.time_ns);
            if x.nr == parked.nr && !maybe_lost {
                let dur_ns = x.time_ns - parked.recv_ns;
                out.push((parked.p, Outcome::Returned { ret: x.ret, dur_ns }));
                break;
            }
            out.push((parked.p, Outcome::Continued));
        }
        if q.is_empty() {
            t.by_tid.remove(&x.tid);
        }
    }

    /// Everything still parked (the run is over: their exits never came).
    fn take_all(&self) -> Vec<Pending> {
        let mut t = self.0.table.lock().unwrap_or_else(|e| e.into_inner());
        t.parked = 0;
        let mut all: Vec<Parked> = t.by_tid.drain().flat_map(|(_, q)| q).collect();
        all.sort_by_key(|p| p.token);
        all.into_iter().map(|p| p.p).collect()
    }

    /// Gives the exit events to this table (before the program's first call is answered).
    pub(super) fn attach(&self, events: ExitEvents) {
        *self.0.reader.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Reader { events, held: Vec::new(), lost_at: Vec::new() });
    }

    /// Whether thread `tid` has calls waiting for their exit.
    pub(super) fn has_parked(&self, tid: u32) -> bool {
        self.0.table.lock().unwrap_or_else(|e| e.into_inner()).by_tid.contains_key(&tid)
    }

    /// How many calls of thread `tid` wait for their exits.
    pub(super) fn parked(&self, tid: u32) -> usize {
        self.0.table.lock().unwrap_or_else(|e| e.into_inner()).by_tid.get(&tid).map_or(0, |q| q.len())
    }

    /// Reads the buffers and matches what can be matched, recording with `c`: every exit older
    /// than [`HOLD_NS`], and every exit of thread `now` (whose new call interpose just
    /// received: all its earlier exits are in the buffers already, so its earlier calls are
    /// completed, and logged, before this one). `all`: everything (the run is over).
    fn pass(&self, c: &mut Completer<'_>, now: Option<u32>, all: bool) {
        let mut guard = self.0.reader.lock().unwrap_or_else(|e| e.into_inner());
        let Some(r) = guard.as_mut() else { return };
        // The horizon is taken before reading: an exit written while the buffers are read is
        // held back to the next pass, never overtaken by a later one of its thread.
        let horizon = crate::sys::perf::monotonic_ns().saturating_sub(HOLD_NS);
        r.events.drain(&mut r.held, &mut r.lost_at);
        r.lost_at.sort_unstable();
        let ready = match now {
            // The receive path: only this thread's exits, and no sort of the rest (it runs for
            // every call of a thread that has calls waiting).
            Some(tid) => {
                let mut mine = Vec::new();
                r.held.retain(|e| {
                    let keep = e.tid != tid;
                    if !keep {
                        mine.push(*e);
                    }
                    keep
                });
                mine.sort_by_key(|e| e.time_ns);
                mine
            }
            None => {
                r.held.sort_by_key(|e| e.time_ns);
                let cut = if all { r.held.len() } else { r.held.partition_point(|e| e.time_ns <= horizon) };
                r.held.drain(..cut).collect()
            }
        };
        // Matched while the reader lock is held (lock order: reader, then table): another pass
        // cannot match a later exit of the same thread in between.
        let mut matched = self.match_exits(&ready, &r.lost_at);
        // A notice matters to calls received before it: none is older than the oldest parked.
        if !r.lost_at.is_empty() {
            let oldest = self.0.table.lock().unwrap_or_else(|e| e.into_inner()).oldest_recv_ns();
            r.lost_at.retain(|&l| l > oldest);
        }
        if let Some(tid) = now {
            // Its new call started: every earlier call of the thread has returned, and an exit
            // that is not in the buffers was lost. Those calls stay unknown rather than take a
            // later exit of the same number.
            let mut t = self.0.table.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(q) = t.by_tid.remove(&tid) {
                t.parked -= q.len();
                matched.extend(q.into_iter().map(|x| (x.p, Outcome::Continued)));
            }
        }
        drop(guard);
        for (p, outcome) in matched {
            c.record(p, outcome, Captures::new(), None);
        }
    }

    /// On the receive path: before thread `tid`'s new call, complete its earlier ones.
    pub(super) fn catch_up(&self, tid: u32, c: &mut Completer<'_>) {
        self.pass(c, Some(tid), false);
    }

    /// The exit thread: reads the buffers every [`PERIOD`] (sooner when many calls wait),
    /// matches, records with `c`, until [`Exits::stop`]; then reads what is left and gives up
    /// on the rest. Returns how many exit events the kernel lost.
    pub(super) fn run(&self, c: &mut Completer<'_>) -> u64 {
        loop {
            {
                let t = self.0.table.lock().unwrap_or_else(|e| e.into_inner());
                if !self.0.stop.load(Ordering::Acquire) && t.parked < WAKE_AT {
                    let _ = self.0.wake.wait_timeout(t, PERIOD);
                }
            }
            let done = self.0.stop.load(Ordering::Acquire);
            self.pass(c, None, done);
            if done {
                break;
            }
        }
        for p in self.take_all() {
            c.record(p, Outcome::Continued, Captures::new(), None);
        }
        let reader = self.0.reader.lock().unwrap_or_else(|e| e.into_inner()).take();
        reader.map_or(0, |r| {
            let lost = r.events.lost;
            r.events.close_detached();
            lost
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::capture::Captures;

    fn parked(token: u64, nr: u32, recv_ns: u64) -> Parked {
        let p = Pending {
            n: crate::sys::seccomp::Notification::default(),
            call: Call::Native(nr),
            sc: None,
            traced: true,
            realtime_ns: 0,
            tgid: 0,
            captured: Captures::new(),
            fd_desc: None,
            injection: None,
            guard: None,
            recv_ns,
            stack: Vec::new(),
        };
        Parked { token, p, recv_ns, nr: i64::from(nr) }
    }

    fn outcomes(lost_at: &[u64], exits: &[Exit]) -> Vec<Outcome> {
        let mut t = Table::default();
        t.by_tid.entry(7).or_default().push_back(parked(1, libc::SYS_bind as u32, 100));
        t.parked = 1;
        let mut out = Vec::new();
        for x in exits {
            Exits::match_exit(&mut t, *x, lost_at, &mut out);
        }
        out.into_iter().map(|(_, o)| o).collect()
    }

    /// A native bind parked, its exit lost, then an i386 geteuid's exit (raw number 49, bind's):
    /// the bind must stay unknown, never take geteuid's 0.
    #[test]
    fn a_call_whose_exit_may_be_lost_never_takes_another_abis_record() {
        let geteuid_i386 = Exit { tid: 7, time_ns: 300, nr: libc::SYS_bind, ret: 0 };
        assert_eq!(outcomes(&[200], &[geteuid_i386]), vec![Outcome::Continued]);
        // Without a loss, the first exit after the receipt is the call's own.
        let own = Exit { tid: 7, time_ns: 150, nr: libc::SYS_bind, ret: -98 };
        assert_eq!(outcomes(&[], &[own]), vec![Outcome::Returned { ret: -98, dur_ns: 50 }]);
        // A loss before the receipt says nothing of this call.
        assert_eq!(outcomes(&[50], &[own]), vec![Outcome::Returned { ret: -98, dur_ns: 50 }]);
    }
}
