//! `--report FILE.html`: one self-contained page (no scripts, fonts or network fetches) with the
//! summary table, a latency histogram per syscall as inline SVG, and the busiest threads.
//!
//! The markup is well-formed XML (XHTML served as HTML), so that it can be checked by an XML
//! parser as well as rendered by a browser.

use std::fmt::Write;

use crate::decode::xlat;
use crate::event::ThreadInfo;
use crate::stats::{Row, Stats, Timing};

/// What the page says about the run.
pub struct Meta<'a> {
    pub command: &'a str,
    pub status: &'a str,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn us(ns: u64) -> String {
    if ns >= 1_000_000 { format!("{:.1} ms", ns as f64 / 1e6) } else { format!("{:.1} µs", ns as f64 / 1e3) }
}

/// The histogram of one syscall's call durations, one bar per power of two of nanoseconds.
fn histogram_svg(name: &str, t: Option<&Timing>) -> String {
    const W: usize = 420;
    const H: usize = 90;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="{} durations">"#,
        esc(name)
    );
    let Some(t) = t.filter(|t| t.completed > 0) else {
        let _ = write!(
            s,
            r##"<rect width="{W}" height="{H}" fill="#f6f6f6"/><text x="10" y="50" font-size="12" fill="#666">no durations known: every call was left to the kernel</text></svg>"##
        );
        return s;
    };
    let bins = t.log2_bins();
    let lo = bins.iter().position(|&n| n > 0).unwrap_or(0);
    let hi = bins.iter().rposition(|&n| n > 0).unwrap_or(0);
    let shown = &bins[lo..=hi];
    let max = shown.iter().copied().max().unwrap_or(1).max(1);
    let bw = ((W - 20) / shown.len().max(1)).clamp(4, 60);
    for (i, &n) in shown.iter().enumerate() {
        let h = if n == 0 { 0 } else { ((n as f64 / max as f64) * (H - 30) as f64).max(1.0) as usize };
        let x = 10 + i * bw;
        let _ = write!(
            s,
            r##"<rect x="{x}" y="{}" width="{}" height="{h}" fill="#4a7bd0"><title>{} to {}: {n} calls</title></rect>"##,
            H - 20 - h,
            bw.saturating_sub(2).max(1),
            us(1 << (lo + i)),
            us(1 << (lo + i + 1)),
        );
    }
    let _ = write!(
        s,
        r##"<text x="10" y="{}" font-size="10" fill="#333">{}</text><text x="{}" y="{}" font-size="10" fill="#333" text-anchor="end">{}</text></svg>"##,
        H - 6,
        us(1 << lo),
        10 + shown.len() * bw,
        H - 6,
        us(1 << (hi + 1)),
    );
    s
}

/// The errors, seconds, min, p50, p99 and max cells of a row; dashes when no call's result
/// is known.
fn timing_cells(tag: &str, t: Option<&Timing>) -> String {
    let values: [String; 6] = match t {
        Some(t) => [
            t.errors.to_string(),
            format!("{:.6}", t.total_ns as f64 / 1e9),
            us(t.min_ns),
            us(t.quantile_ns(0.5)),
            us(t.quantile_ns(0.99)),
            us(t.max_ns),
        ],
        None => std::array::from_fn(|_| "-".to_string()),
    };
    values.iter().map(|v| format!("<{tag}>{v}</{tag}>")).collect()
}

pub fn render(stats: &Stats, threads: &[ThreadInfo], meta: &Meta<'_>) -> String {
    let all = stats.rows();
    let mut rows: Vec<&Row<'_>> = all.iter().filter(|r| r.calls > 0).collect();
    rows.sort_by(|a, b| b.timing.map(|t| t.total_ns).cmp(&a.timing.map(|t| t.total_ns)).then(b.calls.cmp(&a.calls)));

    let mut h = String::new();
    h.push_str(
        r#"<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/><title>interpose report</title>
<style>
body{font-family:sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:middle;white-space:nowrap}
th{background:#eef} td.name{text-align:left;font-family:monospace}
.note{color:#555}
</style></head><body>
"#,
    );
    let _ = writeln!(h, "<h1>interpose report</h1>\n<p><code>{}</code>: {}</p>", esc(meta.command), esc(meta.status));
    h.push_str("<h2>Syscalls</h2>\n<table>\n<tr><th>syscall</th><th>calls</th><th>errors</th><th>seconds</th><th>min</th><th>p50</th><th>p99</th><th>max</th><th>durations</th></tr>\n");
    for r in &rows {
        let _ = writeln!(
            h,
            "<tr class=\"syscall\"><td class=\"name\">{}</td><td>{}</td>{}<td>{}</td></tr>",
            esc(&r.name),
            r.calls,
            timing_cells("td", r.timing),
            histogram_svg(&r.name, r.timing),
        );
    }
    let total = stats.total_timing();
    let _ = writeln!(
        h,
        "<tr><th>total</th><th>{}</th>{}<th></th></tr>\n</table>",
        stats.total_calls(),
        timing_cells("th", total.as_ref())
    );
    h.push_str("<p class=\"note\">Times and errors are known for the calls interpose executed or injected into; a dash means every call of that syscall was left to the kernel.</p>\n");

    let mut busiest: Vec<(u32, u64)> = stats.per_thread.iter().map(|(&t, &c)| (t, c)).collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    busiest.truncate(20);
    if !busiest.is_empty() {
        h.push_str("<h2>Busiest threads</h2>\n<table>\n<tr><th>thread</th><th>name</th><th>process</th><th>traced calls</th></tr>\n");
        for (tid, calls) in busiest {
            let info = threads.iter().find(|t| t.tid == tid);
            let _ = writeln!(
                h,
                "<tr><td>{tid}</td><td class=\"name\">{}</td><td class=\"name\">{}</td><td>{calls}</td></tr>",
                esc(info.map_or("?", |t| t.comm.as_str())),
                esc(&info.map_or_else(|| "?".to_string(), |t| format!("{} ({})", t.process, t.tgid))),
            );
        }
        h.push_str("</table>\n");
    }
    if !stats.futex_ops.is_empty() {
        h.push_str(
            "<h2>futex by operation</h2>\n<table>\n<tr><th>operation</th><th>calls</th><th>seconds</th><th>errors</th></tr>\n",
        );
        let mut ops: Vec<_> = stats.futex_ops.iter().collect();
        ops.sort_by_key(|o| std::cmp::Reverse(o.1.calls));
        for (&op, f) in ops {
            let mut name = String::new();
            xlat::futex_op(&mut name, op);
            let (secs, errs) = if f.known > 0 {
                (format!("{:.6}", f.total_ns as f64 / 1e9), super::summary::errno_list(f))
            } else {
                ("-".to_string(), "-".to_string())
            };
            let _ = writeln!(
                h,
                "<tr><td class=\"name\">{}</td><td>{}</td><td>{secs}</td><td>{}</td></tr>",
                esc(&name),
                f.calls,
                esc(&errs)
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("</body></html>\n");
    h
}
