//! The `-c` / `-C` summary, in strace's table layout.
//!
//! Columns and their order are strace's default (`% time  seconds  usecs/call  calls  errors
//! syscall`, then a `total` row), so scripts that parse `strace -c` keep working. A value
//! interpose cannot know (the time and errors of a call the kernel completed on its own) is shown
//! as `-`, never as a false zero. Rows are sorted by calls, most first.
//!
//! After the table, what strace lacks: futex calls broken down by operation (are they mostly
//! wakes?) and the calls interrupted before they ran.

use std::fmt::Write;

use crate::decode::{self, xlat};
use crate::stats::Stats;

const RULE: &str = "------ ----------- ----------- --------- --------- ----------------";

struct Row {
    name: String,
    calls: u64,
}

pub fn render(stats: &Stats, out: &mut String) {
    let reg = decode::registry();
    let mut rows: Vec<Row> = stats
        .calls
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(nr, &calls)| Row {
            name: reg.get(nr as i64).map_or_else(|| format!("syscall_{nr:#x}"), |s| s.name().to_string()),
            calls,
        })
        .collect();
    rows.extend(
        stats
            .foreign
            .iter()
            .filter(|(_, v)| v.0 > 0)
            .map(|(&(arch, nr), v)| Row { name: decode::foreign_name(arch, nr), calls: v.0 }),
    );
    rows.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.name.cmp(&b.name)));

    let _ =
        writeln!(out, "{:>6} {:>11} {:>11} {:>9} {:>9} syscall", "% time", "seconds", "usecs/call", "calls", "errors");
    let _ = writeln!(out, "{RULE}");
    for r in &rows {
        let _ = writeln!(out, "{:>6} {:>11} {:>11} {:>9} {:>9} {}", "-", "-", "-", r.calls, "-", r.name);
    }
    let _ = writeln!(out, "{RULE}");
    let _ = writeln!(out, "{:>6} {:>11} {:>11} {:>9} {:>9} total", "-", "-", "-", stats.total_calls(), "-");

    if !stats.futex_ops.is_empty() {
        let mut ops: Vec<(u64, u64)> = stats.futex_ops.iter().map(|(&op, &n)| (op, n)).collect();
        ops.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let total: u64 = ops.iter().map(|o| o.1).sum();
        let _ = writeln!(out, "\nfutex by operation:");
        let _ = writeln!(out, "{:>9} {:>6} operation", "calls", "%");
        for (op, n) in ops {
            let mut name = String::new();
            xlat::futex_op(&mut name, op);
            let _ = writeln!(out, "{n:>9} {:>6.2} {name}", 100.0 * n as f64 / total as f64);
        }
    }

    let mut interrupted: Vec<(String, u64)> = stats
        .interrupted
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(nr, &c)| (reg.get(nr as i64).map_or_else(|| format!("syscall_{nr:#x}"), |s| s.name().to_string()), c))
        .collect();
    interrupted.extend(
        stats.foreign.iter().filter(|(_, v)| v.1 > 0).map(|(&(arch, nr), v)| (decode::foreign_name(arch, nr), v.1)),
    );
    if !interrupted.is_empty() {
        let list: Vec<String> = interrupted.iter().map(|(n, c)| format!("{n} {c}")).collect();
        let _ = writeln!(out, "\ninterrupted before they ran (not counted above): {}", list.join(", "));
    }
}
