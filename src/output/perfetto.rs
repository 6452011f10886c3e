//! `--trace-out FILE`: a Chrome trace-event JSON file, which ui.perfetto.dev and
//! chrome://tracing open.
//!
//! One process per traced process and one track per thread, named from /proc (`comm (tid)`);
//! a complete event (`"ph":"X"`, `ts`, `dur`) per call interpose executed or injected into, an
//! instant (`"ph":"i"`) per call left to the kernel or interrupted. Injected faults are in the
//! `injected` category and carry `"injected": true`. Times are microseconds from the first event.

use std::collections::HashSet;
use std::io::{self, Write};

use serde_json::json;

use crate::decode;
use crate::event::{Event, Outcome, ThreadInfo};

use super::text;

pub struct TraceWriter<W: Write> {
    out: W,
    first: bool,
    t0: Option<u64>,
    processes: HashSet<u32>,
}

impl<W: Write> TraceWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(b"{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")?;
        Ok(Self { out, first: true, t0: None, processes: HashSet::new() })
    }

    fn emit(&mut self, v: serde_json::Value) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, &v).map_err(io::Error::other)
    }

    pub fn thread(&mut self, t: &ThreadInfo) -> io::Result<()> {
        if self.processes.insert(t.tgid) {
            self.emit(json!({"ph": "M", "name": "process_name", "pid": t.tgid, "tid": t.tgid,
                             "args": {"name": format!("{} ({})", t.process, t.tgid)}}))?;
        }
        self.emit(json!({"ph": "M", "name": "thread_name", "pid": t.tgid, "tid": t.tid,
                         "args": {"name": format!("{} ({})", t.comm, t.tid)}}))
    }

    pub fn event(&mut self, ev: &Event, opts: decode::format::Options) -> io::Result<()> {
        let t0 = *self.t0.get_or_insert(ev.realtime_ns);
        let ts = ev.realtime_ns.saturating_sub(t0) as f64 / 1000.0;
        let mut call = String::new();
        text::call_text(ev, &mut call, opts);
        let name = call[..call.find('(').unwrap_or(call.len())].to_string();
        let mut result = String::new();
        match ev.outcome {
            Outcome::Completed { ret, .. }
            | Outcome::Returned { ret, .. }
            | Outcome::Injected { ret, .. }
            | Outcome::Denied { ret } => text::result(&mut result, ret),
            Outcome::Continued => result.push_str("= ? (left to the kernel)"),
            Outcome::Interrupted => result.push_str("= ? <interrupted>"),
        }
        let injected = matches!(ev.outcome, Outcome::Injected { .. });
        let args = json!({"call": call, "result": result, "injected": injected, "delayed": ev.delayed});
        let cat = match ev.outcome {
            Outcome::Injected { .. } => "injected",
            Outcome::Denied { .. } => "denied",
            _ => "syscall",
        };
        match ev.outcome {
            Outcome::Completed { dur_ns, .. } | Outcome::Returned { dur_ns, .. } | Outcome::Injected { dur_ns, .. } => {
                self.emit(json!({
                    "ph": "X", "name": name, "cat": cat, "pid": ev.tgid, "tid": ev.tid,
                    "ts": ts, "dur": dur_ns as f64 / 1000.0, "args": args
                }))
            }
            Outcome::Continued | Outcome::Interrupted | Outcome::Denied { .. } => self.emit(json!({
                "ph": "i", "s": "t", "name": name, "cat": cat, "pid": ev.tgid, "tid": ev.tid, "ts": ts, "args": args
            })),
        }
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()
    }
}
