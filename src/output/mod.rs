//! Product output: the trace log and the summary, written by one thread, off the receive path.
//!
//! The supervisor hands [`Record`]s over through a bounded buffer ([`sink`]). When it is full the
//! supervisor waits (back-pressure): events are never dropped. The writer takes whatever is
//! queued, formats it, and flushes once per batch, so a burst of calls costs one write(2).
//!
//! The tool's own diagnostics never come here; they go through `tracing`.

pub mod sink;
pub mod summary;
pub mod text;

use std::io::{self, Write};
use std::thread::JoinHandle;

use crate::event::{Event, ExitStatus};
use crate::stats::Stats;

/// What the writer is asked to write.
pub enum Record {
    Call(Event),
    /// The launched process ended.
    Exit {
        pid: u32,
        status: ExitStatus,
    },
    Summary(Box<Stats>),
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

/// What the writer prints.
#[derive(Clone, Debug)]
pub struct Config {
    /// One line per call (off with `-c`).
    pub log: bool,
    /// `-T`: the time spent in each executed call.
    pub syscall_times: bool,
    pub only: Only,
    pub summary: summary::Layout,
    pub format: crate::decode::format::Options,
    /// True when writing to `-o FILE`: pid prefixes use strace's file style.
    pub to_file: bool,
    pub launch_pid: u32,
}

/// Starts the writer thread on `dest`.
pub fn spawn(dest: Box<dyn Write + Send>, cfg: Config) -> io::Result<(sink::Sink, JoinHandle<io::Result<()>>)> {
    let (tx, rx) = sink::channel();
    let handle = std::thread::Builder::new().name("interpose-out".into()).spawn(move || write_loop(rx, dest, cfg))?;
    Ok((tx, handle))
}

fn write_loop(mut rx: sink::Drain, dest: Box<dyn Write + Send>, cfg: Config) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, dest);
    let mut text = text::Formatter::new(cfg.clone());
    let mut line = String::with_capacity(256);
    let mut failed: Option<io::Error> = None;
    while let Some(mut batch) = rx.next_batch() {
        for rec in batch.drain(..) {
            line.clear();
            match rec {
                Record::Call(ev) => text.event(&ev, &mut line),
                Record::Exit { pid, status } => text.exit(pid, status, &mut line),
                Record::Summary(stats) => summary::render(&stats, &cfg.summary, &mut line),
            }
            // After a failure, keep draining so that the supervisor never waits on a dead writer.
            if failed.is_none()
                && let Err(e) = out.write_all(line.as_bytes())
            {
                failed = Some(e);
            }
        }
        rx.recycle(batch);
        if failed.is_none()
            && let Err(e) = out.flush()
        {
            failed = Some(e);
        }
    }
    match failed {
        Some(e) => Err(e),
        None => out.flush(),
    }
}
