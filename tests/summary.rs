//! What the summary adds to strace's: per-thread and per-process tables, errors by errno,
//! `--duration` and `--max-events` for the log.

mod common;

use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn run(args: &[&str]) -> Output {
    run_bounded(interpose().arg("run").args(args), LIMIT)
}

/// The `calls` column of the `total` line of each table, in order.
fn table_totals(text: &str) -> Vec<u64> {
    text.lines()
        .filter(|l| l.split_whitespace().last() == Some("total") && !l.starts_with("total:"))
        .map(|l| l.split_whitespace().nth(3).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn per_thread_tables_add_up_to_the_total() {
    let p = prog("mutexes");
    let o = run(&["-c", "--summary-mode", "thread", "-e", "trace=futex", "--", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", o.stderr);
    let titles = o.stderr.lines().filter(|l| l.starts_with("thread ")).count();
    assert!(titles >= 4, "a table per thread that called futex: {}", o.stderr);
    let totals = table_totals(&o.stderr);
    assert_eq!(totals.len(), titles + 1, "{}", o.stderr);
    let (groups, total) = totals.split_at(titles);
    assert_eq!(groups.iter().sum::<u64>(), total[0], "{}", o.stderr);
    // JSON carries the same breakdown.
    let j =
        run(&["-c", "--format", "json", "--summary-mode", "thread", "-e", "trace=futex", "--", p.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(j.stderr.lines().last().unwrap()).unwrap();
    let groups = v["groups"].as_array().expect("groups");
    let sum: u64 = groups.iter().map(|g| g["total"]["calls"].as_u64().unwrap()).sum();
    assert_eq!(sum, v["total"]["calls"].as_u64().unwrap());
    assert!(groups.iter().all(|g| g["tid"].as_u64().is_some() && g["comm"].is_string()));
}

#[test]
fn per_process_tables_for_a_pipeline() {
    let o = run(&[
        "-c",
        "--summary-mode",
        "process",
        "-e",
        "trace=read,write,openat,close",
        "--",
        "sh",
        "-c",
        "ls / | wc -l",
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    let titles: Vec<&str> = o.stderr.lines().filter(|l| l.starts_with("process ")).collect();
    for name in ["(ls):", "(wc):"] {
        assert!(titles.iter().any(|t| t.ends_with(name)), "a table for {name}: {titles:?}");
    }
    let totals = table_totals(&o.stderr);
    let (groups, total) = totals.split_at(titles.len());
    assert_eq!(groups.iter().sum::<u64>(), total[0], "{}", o.stderr);
}

#[test]
fn per_process_tables_are_named_after_what_each_process_ran() {
    // With execve traced, each process's first traced call is made under its old name (the
    // launcher's, the shell's): the table takes the name of what it ran.
    let o = run(&[
        "-c",
        "--summary-mode",
        "process",
        "-e",
        "trace=execve,read",
        "--",
        "sh",
        "-c",
        "cat /etc/hostname; cat /etc/hostname",
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    let titles: Vec<&str> = o.stderr.lines().filter(|l| l.starts_with("process ")).collect();
    assert_eq!(titles.iter().filter(|t| t.ends_with("(cat):")).count(), 2, "{titles:?}");
    assert!(titles.iter().any(|t| t.ends_with("(sh):")), "{titles:?}");
    assert!(!titles.iter().any(|t| t.contains("interpose")), "{titles:?}");
}

#[test]
fn errno_summary_separates_injected_errors_from_real_ones() {
    let o = run(&[
        "-c",
        "--errno-summary",
        "-e",
        "trace=openat",
        "-e",
        "inject=openat:error=EACCES:path=/etc/hostname",
        "--",
        "cat",
        "/nonexistent",
        "/etc/hostname",
    ]);
    assert!(!o.status.success());
    let line = o.stderr.lines().find(|l| l.starts_with("  openat: ")).unwrap_or_else(|| panic!("{}", o.stderr));
    assert!(line.contains("EACCES 1 (injected)"), "{line}");
    assert!(line.contains("ENOENT "), "the real ENOENT of /nonexistent: {line}");
}

#[test]
fn duration_keeps_only_slow_calls_and_max_events_caps_the_log() {
    let sysloop = compile(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/sysloop.c"), "sysloop");
    let s = sysloop.to_str().unwrap();
    // The third getppid is held 300 ms; the others take microseconds.
    let o = run(&[
        "--duration",
        "100",
        "-e",
        "trace=getppid",
        "-e",
        "inject=getppid:delay_enter=300ms:when=3",
        "--",
        s,
        "getppid",
        "5",
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    let calls: Vec<&str> = o.stderr.lines().filter(|l| l.contains("getppid(")).collect();
    assert_eq!(calls.len(), 1, "{}", o.stderr);
    assert!(calls[0].contains("(DELAYED)"), "{}", calls[0]);
    let o = run(&["-C", "--max-events", "3", "-e", "trace=getppid", "--", s, "getppid", "20"]);
    assert!(o.status.success(), "{}", o.stderr);
    assert_eq!(o.stderr.lines().filter(|l| l.contains("getppid(")).count(), 3, "{}", o.stderr);
    assert!(o.stderr.contains("--- --max-events 3 reached: later calls are counted in the summary, not logged ---"));
    let row = o.stderr.lines().find(|l| l.ends_with(" getppid")).unwrap();
    assert!(row.split_whitespace().nth(3).unwrap().parse::<u64>().unwrap() >= 20, "every call counted: {row}");
}

#[test]
fn percent_time_says_what_share_of_calls_it_covers() {
    let p = prog("eagain");
    let o = run(&["-c", "--exits=off", "-e", "trace=read,write", "--", p.to_str().unwrap(), "4"]);
    assert!(o.status.success(), "{}", o.stderr);
    assert!(
        o.stderr.contains("\n% time and seconds cover the 9 of 14 calls (64%) whose time is known\n"),
        "{}",
        o.stderr
    );
}
