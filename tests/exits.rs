//! Results and times of calls left to the kernel, from its exit events (`--exits`).
//!
//! These need root or CAP_PERFMON; where exit events cannot be opened the tests say so and
//! skip (CI runs as root).

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn run(args: &[&str]) -> Output {
    run_bounded(interpose().arg("run").args(args), LIMIT)
}

/// Whether exit events can be had here.
fn available() -> bool {
    let o = run(&["--exits=on", "-qq", "-e", "trace=getppid", "--", "true"]);
    if !o.status.success() {
        eprintln!("SKIPPED: exit events are not available here: {}", o.stderr);
    }
    o.status.success()
}

/// `% time / seconds / usecs / calls / errors` of one syscall in a `-c` table (ours or strace's).
fn row(table: &str, name: &str) -> Option<(f64, u64, Option<u64>)> {
    table.lines().find(|l| l.split_whitespace().last() == Some(name)).map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let errors = if f.len() == 6 { f[4].parse().ok() } else { Some(0) };
        (f[1].parse().unwrap_or(-1.0), f[3].parse().unwrap(), errors)
    })
}

#[test]
fn futex_waits_have_times_results_and_agree_with_strace() {
    if !available() {
        return;
    }
    let p = prog("mutexes");
    let o = run(&["-c", "-e", "trace=futex", "--", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", o.stderr);
    let (ours, calls, errors) = row(&o.stderr, "futex").expect("a futex row");
    assert!(ours > 0.0 && calls > 0 && errors.is_some(), "the futex row has time and errors: {}", o.stderr);
    assert!(!o.stderr.contains("left to the kernel, so not in the time"), "every result known: {}", o.stderr);
    let wait = o.stderr.lines().find(|l| l.ends_with(" FUTEX_WAIT_PRIVATE") || l.contains(" FUTEX_WAIT_PRIVATE ("));
    let wait = wait.unwrap_or_else(|| panic!("a FUTEX_WAIT_PRIVATE line: {}", o.stderr));
    assert!(!wait.contains(" - "), "waits have a time: {wait}");
    // strace -f -c -w measures the same waits (wall clock from entry to exit). The waits depend
    // on scheduling: two strace runs differ by up to about 2x here, so ours must be within 3x of
    // the range they span.
    let theirs: Vec<f64> = (0..2)
        .map(|_| {
            let s = run_bounded(Command::new("strace").args(["-f", "-c", "-w", "-e", "trace=futex"]).arg(&p), LIMIT);
            row(&s.stderr, "futex").expect("strace's futex row").0
        })
        .collect();
    let (lo, hi) = (theirs[0].min(theirs[1]), theirs[0].max(theirs[1]));
    assert!(ours >= lo / 3.0 && ours <= hi * 3.0, "futex seconds: ours {ours}, strace's {theirs:?}");
    // -T times each futex line.
    let t = run(&["-T", "-e", "trace=futex", "--", p.to_str().unwrap()]);
    let lines: Vec<&str> = t.stderr.lines().filter(|l| l.contains("futex(")).collect();
    assert!(!lines.is_empty());
    for l in &lines {
        assert!(l.ends_with('>') && !l.contains("= ?  "), "a result and a time: {l}");
    }
}

#[test]
fn each_exit_is_matched_to_its_own_call_under_signals_churn_and_exec() {
    if !available() {
        return;
    }
    let dir = scratch("exitmatch");
    let log = dir.join("log");
    let p = prog("exitmatch");
    let o = run(&[
        "-o",
        log.to_str().unwrap(),
        "-e",
        "trace=lseek,clock_nanosleep",
        "--",
        p.to_str().unwrap(),
        "4",
        "1500",
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    assert_eq!(o.stdout_str().trim(), "calls=18000");
    let text = std::fs::read_to_string(&log).unwrap();
    let (mut lseeks, mut sleeps) = (0, 0);
    for l in text.lines() {
        if let Some(rest) = l.split_once("lseek(").map(|(_, r)| r) {
            lseeks += 1;
            // lseek(3, 1000000, SEEK_SET) = 1000000: the result is the offset asked for.
            let offset: u64 = rest.split(", ").nth(1).unwrap().parse().unwrap();
            let result = l.rsplit("= ").next().unwrap();
            assert_eq!(result.parse::<u64>().ok(), Some(offset), "matched to another call: {l}");
        } else if l.contains("clock_nanosleep(") {
            sleeps += 1;
            assert!(l.ends_with("= 0") || l.contains("= ? ERESTART"), "a result: {l}");
        }
    }
    assert_eq!(lseeks, 18000, "every call logged once");
    assert_eq!(sleeps, 12 * 30, "every sleep logged once");
}

#[test]
fn exits_on_where_they_cannot_be_had_is_refused_and_auto_says_why_once() {
    // SAFETY-free check for root: only root can become another user here.
    if !nix::unistd::geteuid().is_root() || Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("SKIPPED: needs root and setpriv to run interpose as an unprivileged user");
        return;
    }
    let nobody = |args: &[&str]| {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(env!("CARGO_BIN_EXE_interpose"));
        c.args(args).env_remove("RUST_LOG");
        run_bounded(&mut c, LIMIT)
    };
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid").unwrap_or_default();
    if paranoid.trim() == "-1" {
        eprintln!("SKIPPED: perf_event_paranoid is -1: users may open exit events here");
        return;
    }
    let on = nobody(&["run", "--exits=on", "-e", "trace=getppid", "--", "true"]);
    assert_eq!(on.status.code(), Some(2), "{}", on.stderr);
    assert!(on.stderr.contains("--exits=on: exit events (raw_syscalls:sys_exit) cannot be opened"), "{}", on.stderr);
    let auto = nobody(&["run", "-e", "trace=getppid", "--", "true"]);
    assert!(auto.status.success(), "{}", auto.stderr);
    assert_eq!(auto.stderr.matches("calls left to the kernel are unknown").count(), 1, "{}", auto.stderr);
    let off = nobody(&["run", "--exits=off", "-e", "trace=getppid", "--", "true"]);
    assert!(!off.stderr.contains("unknown"), "{}", off.stderr);
}

/// Everyday programs traced with `-e trace=all`: the share of strace's lines for which interpose
/// prints a result (issue 13 asks for 97%). A call strace too shows as `= ?` (exit_group, a
/// successful execve of another image in strace's eyes...) counts as having its result.
#[test]
fn everyday_programs_have_results_on_strace_lines() {
    if !available() {
        return;
    }
    let dir = scratch("coverage");
    let file = dir.join("data.txt");
    std::fs::write(&file, "b\na\nc\n".repeat(2000)).unwrap();
    let f = file.to_str().unwrap();
    let copy = dir.join("copy.txt");
    let programs: Vec<Vec<String>> = [
        vec!["ls", "-la", "/etc"],
        vec!["sh", "-c", "ls / | wc -l"],
        vec!["cat", f],
        vec!["sort", f],
        vec!["wc", "-l", f],
        vec!["cp", f, copy.to_str().unwrap()],
        vec!["stat", f],
        vec!["id"],
        vec!["find", "/usr/share/doc", "-maxdepth", "1", "-name", "lib*"],
        vec!["gzip", "-c", f],
        vec!["dd", "if=/dev/zero", "of=/dev/null", "count=100"],
        vec!["python3", "-c", "import json"],
    ]
    .iter()
    .map(|v| v.iter().map(|s| s.to_string()).collect())
    .collect();
    let calls = |text: &str| -> (usize, usize) {
        // (call lines, lines without a result), one per call (strace's resumed halves not counted)
        let mut n = 0;
        let mut unknown = 0;
        for l in text.lines() {
            let l = l.split_once(' ').map_or(l, |(_, r)| r).trim_start();
            if l.starts_with("+++") || l.starts_with("---") || l.starts_with("<...") || !l.contains('(') {
                continue;
            }
            n += 1;
            let is_exit = l.starts_with("exit_group(") || l.starts_with("exit(");
            if (l.ends_with("= ?") || l.contains("<unfinished ...>")) && !is_exit {
                unknown += 1;
            }
        }
        (n, unknown)
    };
    let (mut theirs, mut ours_known, mut worst) = (0usize, 0usize, Vec::new());
    for argv in &programs {
        let native = run_bounded(Command::new(&argv[0]).args(&argv[1..]).current_dir(&dir), LIMIT);
        if !native.status.success() {
            eprintln!("skipping {argv:?}: it fails natively here");
            continue;
        }
        let (s, o) = (dir.join("strace.log"), dir.join("ours.log"));
        let st = run_bounded(Command::new("strace").args(["-f", "-o"]).arg(&s).args(argv).current_dir(&dir), LIMIT);
        assert!(st.status.success(), "{argv:?} under strace");
        let mut c = interpose();
        c.args(["run", "-o", o.to_str().unwrap(), "-e", "trace=all", "--"]).args(argv).current_dir(&dir);
        let ours = run_bounded(&mut c, LIMIT);
        assert_eq!(ours.status.code(), native.status.code(), "{argv:?}: {}", ours.stderr);
        assert_eq!(ours.stdout, native.stdout, "{argv:?}: output differs from the native run");
        let (sn, _) = calls(&std::fs::read_to_string(&s).unwrap());
        let (on, ou) = calls(&std::fs::read_to_string(&o).unwrap());
        theirs += sn;
        ours_known += on - ou;
        worst.push((100.0 * (on - ou) as f64 / sn as f64, argv[0].clone(), on, ou, sn));
    }
    worst.sort_by(|a, b| a.0.total_cmp(&b.0));
    let share = 100.0 * ours_known as f64 / theirs as f64;
    eprintln!(
        "results on {ours_known} of strace's {theirs} lines ({share:.1}%); lowest: {:?}",
        &worst[..3.min(worst.len())]
    );
    assert!(worst.len() >= 10, "at least 10 programs ran: {worst:?}");
    assert!(share >= 97.0, "results on {share:.1}% of strace's lines: {worst:?}");
}
