//! Product output: the trace log (text or JSON lines), the trace-event file and the summary,
//! written by one thread, off the receive path.
//!
//! The supervisor hands [`Record`]s over through a bounded buffer ([`sink`]). When it is full the
//! supervisor waits (back-pressure): events are never dropped. The writer takes whatever is
//! queued, formats it, and flushes once per batch, so a burst of calls costs one write(2).
//!
//! The tool's own diagnostics never come here; they go through `tracing`.

pub mod json;
pub mod perfetto;
pub mod report;
pub mod sink;
pub mod summary;
pub mod text;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::thread::JoinHandle;

use crate::event::{Event, ExitStatus, ThreadInfo};
use crate::stats::Stats;

/// What the writer is asked to write.
pub enum Record {
    Call(Event),
    /// A thread's names, before its first call.
    Thread(ThreadInfo),
    /// The launched process ended (`realtime_ns`: when interpose learnt it).
    Exit {
        pid: u32,
        status: ExitStatus,
        realtime_ns: u64,
    },
    /// The counters, and the threads seen (to name per-thread or per-process tables).
    Summary(Box<Stats>, Vec<ThreadInfo>),
}

/// `-z` / `-Z`: which calls the log shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    All,
    /// `-z`: calls that returned without an error.
    Successful,
    /// `-Z`: calls that returned an error.
    Failed,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// strace-style lines.
    Text,
    /// One JSON object per line (see [`json`]).
    Json,
}

/// `-t`, `-tt`, `-ttt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timestamps {
    None,
    /// `-t`: local time of day, seconds.
    Seconds,
    /// `-tt`: with microseconds.
    Micros,
    /// `-ttt`: seconds since the epoch, with microseconds.
    Epoch,
}

/// What the writer prints.
#[derive(Clone, Debug)]
pub struct Config {
    /// One line per call (off with `-c`).
    pub log: bool,
    pub format: Format,
    /// `-T`: the time spent in each executed call.
    pub syscall_times: bool,
    pub timestamps: Timestamps,
    /// `-r`: time since the previous line instead.
    pub relative: bool,
    /// `-q` count: `-qq` leaves out the exit line.
    pub quiet: u8,
    pub only: Only,
    pub summary: summary::Layout,
    pub decode: crate::decode::format::Options,
    /// True when writing to `-o FILE`: pid prefixes use strace's file style.
    pub to_file: bool,
    pub launch_pid: u32,
    /// `--duration`: log only calls whose known duration is at least this.
    pub min_duration_ns: Option<u64>,
    /// `--max-events`: log at most this many calls.
    pub max_events: Option<u64>,
}

/// `--duration` and `--max-events`: which calls reach the log and the trace file.
struct Limits {
    min_duration_ns: Option<u64>,
    max_events: Option<u64>,
    logged: u64,
    /// The last call looked at was admitted.
    last: bool,
    /// The cap was reached (its note written once).
    full: bool,
}

impl Limits {
    /// Whether `ev` is logged; counts it if so.
    fn admit(&mut self, ev: &Event, only: Only) -> bool {
        self.last = text::kept(only, ev.outcome)
            && match self.min_duration_ns {
                Some(min) => ev.outcome.duration_ns().is_some_and(|d| d >= min),
                None => true,
            };
        if self.last && self.max_events.is_some_and(|max| self.logged >= max) {
            self.last = false;
        } else if self.last {
            self.logged += 1;
        }
        self.last
    }

    fn admitted(&self) -> bool {
        self.last
    }

    /// True the first time a call is turned away by `--max-events`.
    fn just_full(&mut self) -> bool {
        let full = self.max_events.is_some_and(|max| self.logged >= max);
        let first = full && !self.full;
        self.full |= full;
        first
    }

    fn full_note(&self, json: bool) -> String {
        let n = self.max_events.unwrap_or(0);
        if json {
            format!(
                "{{\"type\":\"note\",\"note\":\"--max-events {n} reached: later calls are counted, not logged\"}}\n"
            )
        } else {
            format!("--- --max-events {n} reached: later calls are counted in the summary, not logged ---\n")
        }
    }
}

/// Which output failed.
#[derive(Debug)]
pub enum Failed {
    /// The log and summary (stderr or `-o`).
    Log(io::Error),
    /// The `--trace-out` file.
    TraceFile(io::Error),
}

/// Starts the writer thread on `dest` (and on the trace-event file, if any).
pub fn spawn(
    dest: Box<dyn Write + Send>,
    trace_out: Option<File>,
    cfg: Config,
) -> io::Result<(sink::Sink, JoinHandle<Result<(), Failed>>)> {
    let (tx, rx) = sink::channel();
    let handle =
        std::thread::Builder::new().name("interpose-out".into()).spawn(move || write_loop(rx, dest, trace_out, cfg))?;
    Ok((tx, handle))
}

/// Remembers the first error of a destination and stops writing to it, but keeps draining so
/// that the supervisor never waits on a dead writer.
fn keep<T>(failed: &mut Option<io::Error>, r: io::Result<T>) {
    if failed.is_none()
        && let Err(e) = r
    {
        *failed = Some(e);
    }
}

fn write_loop(
    mut rx: sink::Drain,
    dest: Box<dyn Write + Send>,
    trace_out: Option<File>,
    cfg: Config,
) -> Result<(), Failed> {
    let mut out = BufWriter::with_capacity(1 << 16, dest);
    let mut trace = match trace_out {
        Some(f) => Some(perfetto::TraceWriter::new(BufWriter::with_capacity(1 << 16, f)).map_err(Failed::TraceFile)?),
        None => None,
    };
    let mut text = text::Formatter::new(cfg.clone());
    // -k: frames are named here, off the receive path.
    let mut symbols = crate::stack::Symbolizer::default();
    let mut callers: std::collections::BTreeMap<(String, String), u64> = Default::default();
    let mut line = String::with_capacity(256);
    let mut failed: Option<io::Error> = None;
    let mut trace_failed: Option<io::Error> = None;
    let json = cfg.format == Format::Json;
    let mut limits = Limits {
        min_duration_ns: cfg.min_duration_ns,
        max_events: cfg.max_events,
        logged: 0,
        last: false,
        full: false,
    };
    while let Some(mut batch) = rx.next_batch() {
        for rec in batch.drain(..) {
            line.clear();
            match &rec {
                Record::Call(ev) => {
                    if !limits.admit(ev, cfg.only) {
                        if limits.just_full() {
                            line = limits.full_note(json);
                        }
                    } else if let Some(t) = trace.as_mut().filter(|_| trace_failed.is_none()) {
                        keep(&mut trace_failed, t.event(ev, cfg.decode));
                    }
                    if !ev.stack.is_empty()
                        && let Some(who) = symbols.caller(&ev.stack)
                    {
                        // With -k and a summary: calls per syscall and calling function.
                        *callers.entry((text::call_name(ev), who)).or_default() += 1;
                    }
                    if !limits.admitted() {
                    } else if !json {
                        text.event(ev, &mut line);
                        if !line.is_empty() && !ev.stack.is_empty() {
                            symbols.text(&ev.stack, &mut line);
                        }
                    } else if cfg.log && text::kept(cfg.only, ev.outcome) {
                        let mut v = json::event(ev, cfg.decode);
                        if !ev.stack.is_empty() {
                            v["stack"] = symbols.json(&ev.stack);
                        }
                        line = v.to_string() + "\n";
                    }
                }
                Record::Thread(t) => {
                    if let Some(w) = trace.as_mut().filter(|_| trace_failed.is_none()) {
                        keep(&mut trace_failed, w.thread(t));
                    }
                    if json && cfg.log {
                        line = json::thread(t).to_string() + "\n";
                    }
                }
                Record::Exit { pid, status, realtime_ns } => {
                    if !json {
                        text.exit(*pid, *status, *realtime_ns, &mut line);
                    } else if cfg.log && cfg.quiet < 2 {
                        line = json::exit(*pid, *status).to_string() + "\n";
                    }
                }
                Record::Summary(stats, threads) => {
                    if json {
                        line = json::summary(stats, &cfg.summary, threads).to_string() + "\n";
                    } else {
                        summary::render_all(stats, &cfg.summary, threads, &mut line);
                        summary::render_callers(&callers, &mut line);
                    }
                }
            }
            if failed.is_none() && !line.is_empty() {
                keep(&mut failed, out.write_all(line.as_bytes()));
            }
        }
        rx.recycle(batch);
        if failed.is_none() {
            keep(&mut failed, out.flush());
        }
    }
    if let Some(t) = trace
        && trace_failed.is_none()
    {
        keep(&mut trace_failed, t.finish());
    }
    if let Some(e) = trace_failed {
        return Err(Failed::TraceFile(e));
    }
    match failed {
        Some(e) => Err(Failed::Log(e)),
        None => out.flush().map_err(Failed::Log),
    }
}
