//! `--format json`: one JSON object per line, for jq and log pipelines.
//!
//! The schema (stable; fields are only ever added):
//!
//! - `{"type":"call", "time", "ts_ns", "pid", "tid", "syscall", "abi", "args", "raw_args", "status",
//!   "ret", "errno", "duration_ns", "injected", "delayed"}` for each traced call:
//!   `time` is RFC 3339 UTC with microseconds and `ts_ns` nanoseconds since the epoch, both at
//!   syscall entry; `args` the decoded arguments as the text log shows them; `raw_args` the
//!   register values; `status` one of `completed` (executed by interpose), `injected`,
//!   `continued` (left to the kernel) or `interrupted`; `ret` and `errno` (a name, like
//!   `"EAGAIN"`) are null when the result is unknown, `duration_ns` too. `fd` (the `-y`
//!   description of the first argument) is present when known. With `-k`, `stack` is the
//!   caller's stack, innermost first: `[{"object", "symbol", "offset", "address"}]` (`object`
//!   the mapped file, `symbol` and `offset` null when unknown, `address` the offset in the file
//!   as strace -k prints it in brackets, or the absolute address outside any file).
//! - `{"type":"thread", "tid", "pid", "comm", "process"}` when a thread first makes a traced call.
//! - `{"type":"exit", "pid", "exit_code", "signal", "core_dumped"}` when the program has ended.
//! - `{"type":"summary", "syscalls":[...], "total":{...}, "futex_ops":{...}}` with `-c`/`-C`.

use serde_json::{Value, json};

use crate::decode::{self, ARCH_I386, xlat};
use crate::event::{Call, Event, ExitStatus, Outcome, ThreadInfo};
use crate::stats::{Stats, Timing};

use super::text;

/// RFC 3339 UTC time with microseconds.
pub fn rfc3339(ns: u64) -> String {
    let secs = (ns / 1_000_000_000) as i64;
    let micros = ns % 1_000_000_000 / 1000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

fn errno_value(e: i32) -> Value {
    xlat::errno_name(e).map_or_else(|| json!(e), |n| json!(n))
}

pub fn event(ev: &Event, opts: decode::format::Options) -> Value {
    let mut text = String::new();
    let spans = text::call_text(ev, &mut text, opts);
    let args: Vec<&str> = spans.iter().map(|r| &text[r.clone()]).collect();
    let name = &text[..text.find('(').unwrap_or(text.len())];
    let (syscall, abi) = match ev.call {
        Call::Native(_) => (name, "x86_64"),
        Call::Foreign { arch, .. } => {
            (name.split_once(':').map_or(name, |(_, n)| n), if arch == ARCH_I386 { "i386" } else { "x32" })
        }
    };
    let nargs = match ev.call {
        Call::Native(nr) => decode::registry().get(i64::from(nr)).map_or(6, |s| usize::from(s.row.nargs)),
        Call::Foreign { .. } => args.len(),
    };
    let (status, ret, errno, dur) = match ev.outcome {
        Outcome::Completed { ret, dur_ns } => ("completed", Some(ret), ev.outcome.errno(), Some(dur_ns)),
        Outcome::Returned { ret, dur_ns } => ("returned", Some(ret), ev.outcome.errno(), Some(dur_ns)),
        Outcome::Injected { ret, dur_ns } => ("injected", Some(ret), ev.outcome.errno(), Some(dur_ns)),
        Outcome::Denied { ret } => ("denied", Some(ret), ev.outcome.errno(), Some(0)),
        Outcome::Continued => ("continued", None, None, None),
        Outcome::Interrupted => ("interrupted", None, None, None),
    };
    let mut v = json!({
        "type": "call",
        "time": rfc3339(ev.realtime_ns),
        "ts_ns": ev.realtime_ns,
        "pid": ev.tgid,
        "tid": ev.tid,
        "syscall": syscall,
        "abi": abi,
        "args": args,
        "raw_args": &ev.args[..nargs],
        "status": status,
        "ret": ret.map(|r| if (-4095..0).contains(&r) { -1 } else { r }),
        "errno": errno.map(errno_value),
        "duration_ns": dur,
        "injected": matches!(ev.outcome, Outcome::Injected { .. }),
        "delayed": ev.delayed,
    });
    if let Some(d) = &ev.fd_desc {
        v["fd"] = json!(d);
    }
    v
}

pub fn thread(t: &ThreadInfo) -> Value {
    json!({"type": "thread", "tid": t.tid, "pid": t.tgid, "comm": t.comm, "process": t.process})
}

pub fn exit(pid: u32, status: ExitStatus) -> Value {
    match status {
        ExitStatus::Exited(code) => {
            json!({"type": "exit", "pid": pid, "exit_code": code, "signal": null, "core_dumped": false})
        }
        ExitStatus::Signaled { signal, core_dumped } => json!({
            "type": "exit", "pid": pid, "exit_code": null, "signal": xlat::signal_name(signal), "core_dumped": core_dumped
        }),
    }
}

fn timing(t: Option<&Timing>) -> Value {
    match t {
        Some(t) => json!({
            "completed": t.completed,
            "errors": t.errors,
            "seconds": t.total_ns as f64 / 1e9,
            "usecs_per_call": t.total_ns / 1000 / t.completed.max(1),
            "min_ns": t.min_ns,
            "max_ns": t.max_ns,
            "p50_ns": t.quantile_ns(0.5),
            "p99_ns": t.quantile_ns(0.99),
        }),
        None => json!({"completed": 0, "errors": null, "seconds": null, "usecs_per_call": null,
                       "min_ns": null, "max_ns": null, "p50_ns": null, "p99_ns": null}),
    }
}

/// The summary object: the total's rows, and with `--summary-mode thread|process` a `groups`
/// array (one object per thread or process, each with its own `syscalls` rows); with
/// `--errno-summary` an `errnos` array.
pub fn summary(stats: &Stats, layout: &super::summary::Layout, threads: &[ThreadInfo]) -> Value {
    let mut v = table(stats);
    if layout.mode != super::summary::Mode::Total {
        let by = if layout.mode == super::summary::Mode::Thread { "tid" } else { "pid" };
        let groups: Vec<Value> = stats
            .groups
            .iter()
            .map(|(key, g)| {
                let info = threads.iter().find(|t| t.tid == *key);
                let name = match layout.mode {
                    super::summary::Mode::Thread => info.map(|t| t.comm.clone()),
                    _ => info.map(|t| t.process.clone()),
                };
                let mut t = table(g);
                t[by] = json!(key);
                t["comm"] = json!(name);
                t
            })
            .collect();
        v["groups"] = json!(groups);
    }
    if layout.errno_summary {
        let errnos: Vec<Value> = stats
            .errnos
            .iter()
            .map(|(&(nr, e, injected), &n)| {
                json!({"syscall": crate::decode::syscall_name(nr), "errno": xlat::errno_name(e), "injected": injected, "count": n})
            })
            .collect();
        v["errnos"] = json!(errnos);
    }
    v
}

fn table(stats: &Stats) -> Value {
    let rows: Vec<Value> = stats
        .rows()
        .iter()
        .map(|r| {
            let mut row = timing(r.timing);
            row["syscall"] = json!(r.name);
            row["calls"] = json!(r.calls);
            row["injected"] = json!(r.injected);
            row["denied"] = json!(r.denied);
            row["interrupted"] = json!(r.interrupted);
            row
        })
        .collect();
    let mut tot = timing(stats.total_timing().as_ref());
    tot["calls"] = json!(stats.total_calls());
    let name = |op: u64| {
        let mut name = String::new();
        xlat::futex_op(&mut name, op);
        name
    };
    let futex: serde_json::Map<String, Value> =
        stats.futex_ops.iter().map(|(&op, f)| (name(op), json!(f.calls))).collect();
    // Time and errors per operation, for the calls whose result is known.
    let futex_times: serde_json::Map<String, Value> = stats
        .futex_ops
        .iter()
        .map(|(&op, f)| {
            let errnos: serde_json::Map<String, Value> = f
                .errnos
                .iter()
                .map(|(&e, &n)| (xlat::errno_name(e).map_or_else(|| e.to_string(), str::to_string), json!(n)))
                .collect();
            let known = f.known > 0;
            (
                name(op),
                json!({
                    "known": f.known,
                    "seconds": known.then(|| f.total_ns as f64 / 1e9),
                    "errors": known.then(|| f.errors()),
                    "errnos": errnos,
                }),
            )
        })
        .collect();
    json!({"type": "summary", "syscalls": rows, "total": tot, "futex_ops": futex, "futex_times": futex_times})
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(super::rfc3339(1_795_712_746_774_855_123), "2026-11-26T17:05:46.774855Z");
        assert_eq!(super::rfc3339(951_782_400_000_000_000), "2000-02-29T00:00:00.000000Z");
    }
}
