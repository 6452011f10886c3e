//! The `-c` / `-C` summary, in strace's table layout.
//!
//! Columns, their headers, widths and default order are strace's (`% time  seconds  usecs/call
//! calls  errors syscall`, then a `total` row), so scripts that parse `strace -c` keep working;
//! `-U` picks and orders columns with strace's names, plus `p50` and `p99`; `-S` sorts with
//! strace's keys. Times and errors are known for the calls the supervisor executed; a value
//! interpose cannot know (a call the kernel completed on its own) is shown as `-`, never as a
//! false zero, and a row that mixes both says so below the table.
//!
//! After the table, what strace lacks: futex calls broken down by operation (are they mostly
//! wakes?) and the calls interrupted before they returned.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::decode::xlat;
use crate::stats::{Row, Stats};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    TimePercent,
    TotalTime,
    MinTime,
    MaxTime,
    AvgTime,
    Calls,
    Errors,
    Name,
    P50,
    P99,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Time,
    MinTime,
    MaxTime,
    AvgTime,
    Calls,
    Errors,
    Name,
    Nothing,
}

/// How the table looks: `-U` and `-S`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub columns: Vec<Column>,
    pub sort: SortKey,
    /// `--summary-mode`: a table per thread or per process before the total.
    pub mode: Mode,
    /// `--errno-summary`: each syscall's errors by errno under the table.
    pub errno_summary: bool,
}

/// `--summary-mode`, as perf trace spells it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// One table for the whole program.
    #[default]
    Total,
    /// One table per thread, then the total.
    Thread,
    /// One table per process, then the total.
    Process,
}

impl Default for Layout {
    fn default() -> Self {
        use Column::*;
        Self {
            columns: vec![TimePercent, TotalTime, AvgTime, Calls, Errors, Name],
            sort: SortKey::Time,
            mode: Mode::Total,
            errno_summary: false,
        }
    }
}

/// The summary as `-c` prints it: with `--summary-mode thread|process`, a titled table per
/// thread or process (in the order they first made a traced call), then the total.
pub fn render_all(stats: &Stats, layout: &Layout, threads: &[crate::event::ThreadInfo], out: &mut String) {
    if layout.mode == Mode::Total || stats.groups.is_empty() {
        return render(stats, layout, out);
    }
    for (key, group) in &stats.groups {
        let info = threads.iter().find(|t| t.tid == *key);
        let (what, name) = match layout.mode {
            Mode::Thread => ("thread", info.map_or("?", |t| t.comm.as_str())),
            _ => ("process", info.map_or("?", |t| t.process.as_str())),
        };
        let _ = writeln!(out, "{what} {key} ({name}):");
        render(group, layout, out);
        out.push('\n');
    }
    let _ = writeln!(out, "total:");
    render(stats, layout, out);
}

const COLUMN_NAMES: &[(&str, Column)] = &[
    ("time-percent", Column::TimePercent),
    ("time", Column::TimePercent),
    ("total-time", Column::TotalTime),
    ("time-total", Column::TotalTime),
    ("min-time", Column::MinTime),
    ("shortest", Column::MinTime),
    ("time-min", Column::MinTime),
    ("max-time", Column::MaxTime),
    ("longest", Column::MaxTime),
    ("time-max", Column::MaxTime),
    ("avg-time", Column::AvgTime),
    ("time-avg", Column::AvgTime),
    ("calls", Column::Calls),
    ("count", Column::Calls),
    ("errors", Column::Errors),
    ("error", Column::Errors),
    ("name", Column::Name),
    ("syscall", Column::Name),
    ("syscall-name", Column::Name),
    ("p50", Column::P50),
    ("median", Column::P50),
    ("p99", Column::P99),
];

const SORT_NAMES: &[(&str, SortKey)] = &[
    ("time", SortKey::Time),
    ("time-percent", SortKey::Time),
    ("time-total", SortKey::Time),
    ("total-time", SortKey::Time),
    ("min-time", SortKey::MinTime),
    ("shortest", SortKey::MinTime),
    ("time-min", SortKey::MinTime),
    ("max-time", SortKey::MaxTime),
    ("longest", SortKey::MaxTime),
    ("time-max", SortKey::MaxTime),
    ("avg-time", SortKey::AvgTime),
    ("time-avg", SortKey::AvgTime),
    ("calls", SortKey::Calls),
    ("count", SortKey::Calls),
    ("errors", SortKey::Errors),
    ("error", SortKey::Errors),
    ("name", SortKey::Name),
    ("syscall", SortKey::Name),
    ("syscall-name", SortKey::Name),
    ("nothing", SortKey::Nothing),
    ("none", SortKey::Nothing),
];

/// Parses `-U`: a comma-separated list; `name` is appended when missing, as strace does.
pub fn parse_columns(spec: &str) -> Result<Vec<Column>, String> {
    let mut cols = Vec::new();
    for item in spec.split(',') {
        let c = COLUMN_NAMES.iter().find(|(n, _)| *n == item).map(|&(_, c)| c).ok_or_else(|| {
            let known: Vec<&str> = COLUMN_NAMES.iter().map(|(n, _)| *n).collect();
            format!("unknown summary column \"{item}\"; expected one of: {}", known.join(", "))
        })?;
        cols.push(c);
    }
    if !cols.contains(&Column::Name) {
        cols.push(Column::Name);
    }
    Ok(cols)
}

/// Parses `-S`.
pub fn parse_sort(spec: &str) -> Result<SortKey, String> {
    SORT_NAMES.iter().find(|(n, _)| *n == spec).map(|&(_, k)| k).ok_or_else(|| {
        let known: Vec<&str> = SORT_NAMES.iter().map(|(n, _)| *n).collect();
        format!("unknown sort key \"{spec}\"; expected one of: {}", known.join(", "))
    })
}

fn header(c: Column) -> (&'static str, usize) {
    match c {
        Column::TimePercent => ("% time", 6),
        Column::TotalTime => ("seconds", 11),
        Column::MinTime => ("shortest", 8),
        Column::MaxTime => ("longest", 8),
        Column::AvgTime => ("usecs/call", 11),
        Column::Calls => ("calls", 9),
        Column::Errors => ("errors", 9),
        Column::Name => ("syscall", 16),
        Column::P50 => ("p50", 8),
        Column::P99 => ("p99", 8),
    }
}

fn secs(ns: u64) -> String {
    format!("{:.6}", ns as f64 / 1e9)
}

/// The text of one cell; `total_ns` is the sum over all rows (for `% time`).
fn cell(c: Column, r: &Row<'_>, total_ns: u64, any_timing: bool) -> String {
    let t = r.timing;
    match c {
        Column::TimePercent => match t {
            Some(t) if total_ns > 0 => format!("{:.2}", 100.0 * t.total_ns as f64 / total_ns as f64),
            Some(_) => "0.00".into(),
            None if r.name == "total" && any_timing => "100.00".into(),
            None => "-".into(),
        },
        Column::TotalTime => t.map_or("-".into(), |t| secs(t.total_ns)),
        Column::MinTime => t.map_or("-".into(), |t| secs(t.min_ns)),
        Column::MaxTime => t.map_or("-".into(), |t| secs(t.max_ns)),
        Column::AvgTime => t.map_or("-".into(), |t| (t.total_ns / 1000 / t.completed.max(1)).to_string()),
        Column::P50 => t.map_or("-".into(), |t| secs(t.quantile_ns(0.5))),
        Column::P99 => t.map_or("-".into(), |t| secs(t.quantile_ns(0.99))),
        Column::Calls => r.calls.to_string(),
        // strace leaves a zero error count blank.
        Column::Errors => t.map_or("-".into(), |t| if t.errors == 0 { String::new() } else { t.errors.to_string() }),
        Column::Name => r.name.clone(),
    }
}

fn sort_rows(rows: &mut [&Row<'_>], key: SortKey) {
    match key {
        SortKey::Nothing => {}
        SortKey::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        SortKey::Calls => rows.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.name.cmp(&b.name))),
        _ => rows.sort_by(|a, b| {
            let k = |r: &Row<'_>| -> Option<u64> {
                r.timing.map(|t| match key {
                    SortKey::MinTime => t.min_ns,
                    SortKey::MaxTime => t.max_ns,
                    SortKey::AvgTime => t.total_ns / t.completed.max(1),
                    SortKey::Errors => t.errors,
                    _ => t.total_ns,
                })
            };
            // Known values first, largest first; then the rest by calls.
            k(b).cmp(&k(a)).then_with(|| b.calls.cmp(&a.calls)).then_with(|| a.name.cmp(&b.name))
        }),
    }
}

pub fn render(stats: &Stats, layout: &Layout, out: &mut String) {
    let all = stats.rows();
    let mut rows: Vec<&Row<'_>> = all.iter().filter(|r| r.calls > 0).collect();
    sort_rows(&mut rows, layout.sort);

    let total = stats.total_timing();
    let any_timing = total.is_some();
    let total_ns = total.as_ref().map_or(0, |t| t.total_ns);
    let total_row = Row {
        name: "total".into(),
        calls: stats.total_calls(),
        interrupted: 0,
        injected: 0,
        denied: 0,
        timing: total.as_ref(),
    };

    let cols = &layout.columns;
    let line = |out: &mut String, cells: Vec<String>| {
        let mut s = String::new();
        for (i, (c, text)) in cols.iter().zip(cells).enumerate() {
            if i > 0 {
                s.push(' ');
            }
            let (_, w) = header(*c);
            if *c == Column::Name {
                if i + 1 == cols.len() {
                    s.push_str(&text);
                } else {
                    let _ = write!(s, "{text:<w$}");
                }
            } else {
                let _ = write!(s, "{text:>w$}");
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(out, cols.iter().map(|&c| header(c).0.to_string()).collect());
    let rule: Vec<String> = cols.iter().map(|&c| "-".repeat(header(c).1)).collect();
    line(out, rule.clone());
    for r in &rows {
        line(out, cols.iter().map(|&c| cell(c, r, total_ns, any_timing)).collect());
    }
    line(out, rule);
    let total_cells = cols
        .iter()
        .map(|&c| match c {
            Column::TimePercent if any_timing => "100.00".into(),
            Column::P50 | Column::P99 => String::new(),
            _ => cell(c, &total_row, total_ns, any_timing),
        })
        .collect();
    line(out, total_cells);

    let known: u64 = rows.iter().map(|r| r.timing.map_or(0, |t| t.completed)).sum();
    let calls: u64 = rows.iter().map(|r| r.calls).sum();
    if any_timing && known < calls {
        let _ = writeln!(
            out,
            "\n% time and seconds cover the {known} of {calls} calls ({:.0}%) whose time is known",
            100.0 * known as f64 / calls as f64
        );
    }
    let partial: Vec<String> = rows
        .iter()
        .filter_map(|r| r.timing.filter(|t| t.completed < r.calls).map(|t| (r, t)))
        .map(|(r, t)| format!("{} ({} of {})", r.name, r.calls - t.completed, r.calls))
        .collect();
    if !partial.is_empty() {
        let _ = writeln!(out, "\nleft to the kernel, so not in the time and error columns: {}", partial.join(", "));
    }

    let listed = |count: fn(&Row<'_>) -> u64| -> Vec<String> {
        all.iter().filter(|r| count(r) > 0).map(|r| format!("{} {}", r.name, count(r))).collect()
    };
    let injected = listed(|r| r.injected);
    if !injected.is_empty() {
        let _ = writeln!(out, "\ninjected (their results are in the table): {}", injected.join(", "));
    }
    let denied = listed(|r| r.denied);
    if !denied.is_empty() {
        let _ = writeln!(out, "\ndenied by [[deny]] rules (counted as errors above): {}", denied.join(", "));
    }

    if !stats.futex_ops.is_empty() {
        let mut ops: Vec<(u64, &crate::stats::FutexOp)> = stats.futex_ops.iter().map(|(&op, f)| (op, f)).collect();
        ops.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then(a.0.cmp(&b.0)));
        let total: u64 = ops.iter().map(|o| o.1.calls).sum();
        let _ = writeln!(out, "\nfutex by operation:");
        let _ =
            writeln!(out, "{:>9} {:>6} {:>11} {:>11} {:>9} operation", "calls", "%", "seconds", "usecs/call", "errors");
        for (op, f) in ops {
            let mut name = String::new();
            xlat::futex_op(&mut name, op);
            let pct = 100.0 * f.calls as f64 / total as f64;
            if f.known == 0 {
                let _ = writeln!(out, "{:>9} {pct:>6.2} {:>11} {:>11} {:>9} {name}", f.calls, "-", "-", "-");
                continue;
            }
            let secs = f.total_ns as f64 / 1e9;
            let avg = f.total_ns / f.known / 1000;
            let errs = if f.errnos.is_empty() { String::new() } else { format!(" ({})", errno_list(f)) };
            let _ = writeln!(out, "{:>9} {pct:>6.2} {secs:>11.6} {avg:>11} {:>9} {name}{errs}", f.calls, f.errors());
        }
    }

    let interrupted = listed(|r| r.interrupted);
    if !interrupted.is_empty() {
        let _ = writeln!(out, "\ninterrupted before they returned (not counted above): {}", interrupted.join(", "));
    }

    if layout.errno_summary && !stats.errnos.is_empty() {
        let _ = writeln!(out, "\nerrors by errno:");
        let mut by_call: BTreeMap<u32, Vec<(i32, bool, u64)>> = BTreeMap::new();
        for (&(nr, e, injected), &n) in &stats.errnos {
            by_call.entry(nr).or_default().push((e, injected, n));
        }
        for (nr, mut list) in by_call {
            list.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
            let text: Vec<String> = list
                .iter()
                .map(|&(e, injected, n)| {
                    let name = xlat::errno_name(e).map_or_else(|| e.to_string(), str::to_string);
                    format!("{name} {n}{}", if injected { " (injected)" } else { "" })
                })
                .collect();
            let _ = writeln!(out, "  {}: {}", crate::decode::syscall_name(nr), text.join(", "));
        }
    }
}

/// With `-k`: for each syscall, the functions that made its calls (see
/// `stack::Symbolizer::caller`), most frequent first, at most 8.
pub fn render_callers(callers: &BTreeMap<(String, String), u64>, out: &mut String) {
    let mut by_call: BTreeMap<&str, Vec<(&str, u64)>> = BTreeMap::new();
    for ((call, who), n) in callers {
        by_call.entry(call).or_default().push((who, *n));
    }
    for (call, mut list) in by_call {
        let total: u64 = list.iter().map(|l| l.1).sum();
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let _ = writeln!(out, "\n{call} by caller (-k):");
        let _ = writeln!(out, "{:>9} {:>6} function", "calls", "%");
        for (who, n) in list.iter().take(8) {
            let _ = writeln!(out, "{n:>9} {:>6.2} {who}", 100.0 * *n as f64 / total as f64);
        }
        if list.len() > 8 {
            let rest: u64 = list[8..].iter().map(|l| l.1).sum();
            let _ = writeln!(out, "{rest:>9} {:>6.2} ({} others)", 100.0 * rest as f64 / total as f64, list.len() - 8);
        }
    }
}

/// `EAGAIN 31, ETIMEDOUT 7`: a futex operation's errors by errno, most frequent first.
pub fn errno_list(f: &crate::stats::FutexOp) -> String {
    let mut v: Vec<(&i32, &u64)> = f.errnos.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(e, n)| format!("{} {n}", xlat::errno_name(**e).map_or_else(|| e.to_string(), str::to_string)))
        .collect::<Vec<_>>()
        .join(", ")
}
