//! Output for people and tools: JSON lines, the trace-event file, the HTML report, strace's
//! display flags, and the small subcommands.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

#[test]
fn json_lines_carry_the_fields_and_agree_with_text_and_summary() {
    let p = prog("eagain");
    let o = run(&["--format", "json", "-C", "-e", "trace=read,write", "--", p.to_str().unwrap(), "5"]);
    assert!(o.status.success(), "{}", o.stderr);
    let lines = json_lines(&o.stderr);
    let calls: Vec<&Value> = lines.iter().filter(|v| v["type"] == "call").collect();
    for c in &calls {
        for key in
            ["pid", "tid", "syscall", "args", "ret", "errno", "duration_ns", "injected", "time", "ts_ns", "status"]
        {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
        assert!(c["pid"].as_u64().unwrap() > 0 && c["tid"].as_u64().unwrap() > 0);
    }
    // The calls as the text log shows them, from a second (deterministic) run.
    let t = run(&["-e", "trace=read,write", "--", p.to_str().unwrap(), "5"]);
    let text: Vec<(String, String)> = t
        .stderr
        .lines()
        .filter(|l| !l.starts_with("+++"))
        .map(|l| {
            let name = l[..l.find('(').unwrap()].to_string();
            let result = l.rsplit_once(" = ").unwrap().1;
            (name, result.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        })
        .collect();
    let from_json: Vec<(String, String)> = calls
        .iter()
        .map(|c| {
            let result = match (c["ret"].as_i64(), c["errno"].as_str()) {
                (Some(-1), Some(e)) => format!("-1 {e}"),
                (Some(r), None) => r.to_string(),
                (None, _) => "?".to_string(),
                (r, e) => panic!("odd ret/errno {r:?} {e:?}"),
            };
            (c["syscall"].as_str().unwrap().to_string(), result)
        })
        .collect();
    assert_eq!(from_json, text);
    // The JSON summary counts what the JSON lines show.
    let summary = lines.iter().find(|v| v["type"] == "summary").expect("a summary object");
    // (calls, errors, calls whose result is known)
    let mut by_name: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for c in &calls {
        let e = by_name.entry(c["syscall"].as_str().unwrap()).or_default();
        e.0 += 1;
        e.1 += u64::from(!c["errno"].is_null());
        e.2 += u64::from(!c["ret"].is_null());
    }
    for row in summary["syscalls"].as_array().unwrap() {
        let name = row["syscall"].as_str().unwrap();
        let (calls, errors, known) = by_name[name];
        // No result known at all: the error count is unknown too (null, `-` in the table).
        let errors = (known > 0).then_some(errors);
        assert_eq!((row["calls"].as_u64().unwrap(), row["errors"].as_u64()), (calls, errors), "{name}");
    }
    assert!(lines.iter().any(|v| v["type"] == "exit" && v["exit_code"] == 0));
    assert!(lines.iter().any(|v| v["type"] == "thread"));
}

#[test]
fn trace_file_has_a_track_per_thread_and_an_x_event_per_executed_call() {
    let dir = scratch("trace-out");
    let tf = dir.join("trace.json");
    let p = prog("decode_exec");
    let o = run(&[
        "--format",
        "json",
        "-c",
        "--trace-out",
        tf.to_str().unwrap(),
        "-e",
        "trace=%net,read,readv",
        "--",
        p.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    let trace: Value = serde_json::from_str(&std::fs::read_to_string(&tf).unwrap()).expect("the trace file parses");
    let events = trace["traceEvents"].as_array().unwrap();
    let summary = json_lines(&o.stderr).into_iter().find(|v| v["type"] == "summary").unwrap();
    let executed: u64 = summary["syscalls"].as_array().unwrap().iter().map(|r| r["completed"].as_u64().unwrap()).sum();
    let x = events.iter().filter(|e| e["ph"] == "X").count() as u64;
    assert_eq!(x, executed);
    assert!(executed >= 10);
    for e in events.iter().filter(|e| e["ph"] == "X") {
        assert!(e["ts"].as_f64().is_some() && e["dur"].as_f64().is_some() && e["name"].is_string(), "{e}");
    }
    let threads = events.iter().filter(|e| e["ph"] == "M" && e["name"] == "thread_name").count();
    let tids: std::collections::BTreeSet<u64> =
        events.iter().filter(|e| e["ph"] != "M").map(|e| e["tid"].as_u64().unwrap()).collect();
    assert_eq!(threads, tids.len(), "one named track per thread");

    // Several threads: one track each.
    let r = prog("reads");
    let o = run(&[
        "-c",
        "-o",
        "/dev/null",
        "--trace-out",
        tf.to_str().unwrap(),
        "-e",
        "trace=read",
        "--",
        r.to_str().unwrap(),
        "4",
        "10",
    ]);
    assert!(o.status.success());
    let trace: Value = serde_json::from_str(&std::fs::read_to_string(&tf).unwrap()).unwrap();
    let names = trace["traceEvents"].as_array().unwrap().iter().filter(|e| e["name"] == "thread_name").count();
    assert_eq!(names, 5, "main thread and four readers");
}

#[test]
fn html_report_is_well_formed_with_an_svg_per_syscall() {
    let dir = scratch("report");
    let html = dir.join("report.html");
    let o = run(&[
        "-c",
        "-o",
        "/dev/null",
        "--report",
        html.to_str().unwrap(),
        "-e",
        "trace=read,write,futex,connect",
        "--",
        prog("reads").to_str().unwrap(),
        "4",
        "10",
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(!text.contains("<script") && !text.contains("<link") && !text.contains("src="), "self-contained");
    let doc = roxmltree::Document::parse_with_options(
        &text,
        roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() },
    )
    .expect("well-formed");
    let rows: Vec<_> =
        doc.descendants().filter(|n| n.has_tag_name("tr") && n.attribute("class") == Some("syscall")).collect();
    // read and write always; futex only when a join has to wait (not when the readers are done
    // first, as happened once under load).
    assert!(rows.len() >= 2, "{text}");
    for row in &rows {
        let name = row.first_element_child().unwrap().text().unwrap();
        let svgs = row.descendants().filter(|n| n.tag_name().name() == "svg").count();
        assert_eq!(svgs, 1, "one histogram in the row of {name}");
    }
    let total_svgs = doc.descendants().filter(|n| n.tag_name().name() == "svg").count();
    assert_eq!(total_svgs, rows.len());
}

/// Replaces what differs between runs: times, ports, inodes, addresses.
fn shape(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
            out.push('N');
        } else {
            out.push(c);
        }
    }
    out.split_whitespace()
        .map(|w| {
            if w.starts_with("0xN") || w.starts_with("N") && w.contains("xN") {
                "ADDR".to_string()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn timestamps_and_descriptor_decoding_have_straces_shape() {
    let p = prog("decode_exec");
    for flags in [&["-tt"][..], &["-t"], &["-ttt"], &["-y"], &["-yy"], &["-tt", "-yy"], &["-r"]] {
        let trace = "trace=recvfrom,recvmsg,readv,connect,accept4,read,sendto,sendmsg";
        let mut ours_args = flags.to_vec();
        ours_args.extend(["-e", trace, "--", p.to_str().unwrap()]);
        let ours = run(&ours_args);
        assert!(ours.status.success(), "{}", ours.stderr);
        let theirs =
            run_bounded(Command::new("strace").args(flags).args(["-e", trace]).arg(&p).stdin(Stdio::null()), LIMIT);
        let a: Vec<String> = ours.stderr.lines().map(shape).collect();
        let b: Vec<String> = theirs.stderr.lines().map(shape).collect();
        assert_eq!(a, b, "with {flags:?}");
    }
}

#[test]
fn quiet_leaves_out_the_exit_line() {
    let o = run(&["-qq", "-e", "trace=read", "--", "true"]);
    assert!(!o.stderr.contains("+++"), "{}", o.stderr);
    let o = run(&["-q", "-e", "trace=read", "--", "true"]);
    assert!(o.stderr.ends_with("+++ exited with 0 +++\n"), "{}", o.stderr);
}

#[test]
fn diagnostics_stay_out_of_the_trace() {
    let dir = scratch("diag");
    let log = dir.join("trace.txt");
    let o = run(&["-vv", "-o", log.to_str().unwrap(), "-e", "trace=read", "--", "true"]);
    assert!(o.status.success());
    assert!(o.stderr.contains("DEBUG") && o.stderr.contains("program launched"), "{}", o.stderr);
    let trace = std::fs::read_to_string(&log).unwrap();
    assert!(!trace.contains("DEBUG") && trace.contains("+++ exited with 0 +++"), "{trace}");
}

#[test]
fn check_passes_every_shipped_policy_and_refuses_a_broken_one() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let o = run_bounded(interpose().arg("check").arg(&path), LIMIT);
        assert!(o.status.success(), "{}: {}", path.display(), o.stderr);
        let out = o.stdout_str();
        assert!(out.starts_with(&format!("{}: ok\n", path.display())), "{out}");
        assert!(out.contains("\n  traps (with execve, execveat") && out.contains("per ABI: x86_64 "), "{out}");
        assert!(!out.contains("ret USER_NOTIF"), "the filter only with --bpf: {out}");
        let o = run_bounded(interpose().args(["check", "--bpf"]).arg(&path), LIMIT);
        assert!(o.status.success(), "{}: {}", path.display(), o.stderr);
        let bpf = o.stdout_str();
        assert!(bpf.starts_with(&out[..out.find("  (`interpose check --bpf`").unwrap()]), "{bpf}");
        assert!(bpf.contains("  filter (the BPF program, as loaded):\n") && bpf.contains(": ret USER_NOTIF"), "{bpf}");
        assert!(bpf.contains("   0: ld [4] (arch)\n"), "{bpf}");
        n += 1;
    }
    assert!(n >= 7);
    let bad = scratch("check").join("bad.toml");
    std::fs::write(&bad, "[trace]\nsyscalls = [\"read\",\n \"wirte\"]\n").unwrap();
    let o = run_bounded(interpose().arg("check").arg(&bad), LIMIT);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        o.stderr,
        format!(
            "interpose: {}:3:2: trace.syscalls[1]: unknown syscall \"wirte\", did you mean \"write\"?\n",
            bad.display()
        )
    );
}

#[test]
fn check_of_a_deny_policy_fits_on_a_screen_and_names_each_rule() {
    let path = scratch("check-summary").join("p.toml");
    std::fs::write(
        &path,
        "[trace]\nsyscalls = [\"%net\", \"read\"]\n\n[[inject]]\nsyscalls = [\"read\"]\nerror = \"EAGAIN\"\nfd = \"socket\"\n\n\
         [[deny]]\nsyscalls = [\"connect\", \"sendto\", \"sendmsg\", \"sendmmsg\"]\nexcept = [\"127.0.0.1:8080\", \"netlink\"]\n\n\
         [network]\nallow_io_uring = true\n",
    )
    .unwrap();
    let p = path.display();
    let o = run_bounded(interpose().arg("check").arg(&path), LIMIT);
    assert!(o.status.success(), "{}", o.stderr);
    let out = o.stdout_str();
    assert!(out.lines().count() < 25, "one screen:\n{out}");
    for line in [
        format!("{p}: ok"),
        "  traces 22 syscalls: read, sendfile, socket, connect,".to_string(),
        format!("  injects ({p}:5): -e inject=read:error=EAGAIN:fd=socket"),
        format!(
            "  denies ({p}:10): connect, sendto, sendmsg, sendmmsg with ECONNREFUSED, except to 127.0.0.1:8080, netlink"
        ),
        "  also refuses (EPERM, see [network]): raw and packet sockets, bpf".to_string(),
        // 22 traced, bpf, execve, execveat, landlock_restrict_self, fanotify_init; i386 also
        // through socketcall.
        "  traps (with execve, execveat, landlock_restrict_self, fanotify_init), per ABI: x86_64 27, i386 27 + socketcall, x32 27"
            .to_string(),
        "  (`interpose check --bpf` prints the filter)".to_string(),
    ] {
        assert!(out.lines().any(|l| l.starts_with(&line)), "no {line:?} in:\n{out}");
    }
    let o = run_bounded(interpose().args(["check", "--bpf"]).arg(&path), LIMIT);
    let bpf = o.stdout_str();
    // i386 (0x40000003), with socketcall's sub-calls by its first argument.
    assert!(bpf.contains(": jeq 0x40000003, ") && bpf.contains(": ld [16] (argument 0, low half)"), "{bpf}");
}

#[test]
fn syscalls_completions_and_man() {
    let o = run_bounded(interpose().args(["syscalls", "--class", "net"]), LIMIT);
    assert!(o.status.success());
    let out = o.stdout_str();
    assert!(out.contains(" connect ") && out.contains("%network") && !out.contains(" openat "), "{out}");
    let all = run_bounded(interpose().arg("syscalls"), LIMIT).stdout_str();
    assert!(all.lines().count() > 370);
    let o = run_bounded(interpose().args(["syscalls", "--class", "nett"]), LIMIT);
    assert_eq!(o.status.code(), Some(2));
    for shell in ["bash", "zsh", "fish"] {
        let o = run_bounded(interpose().args(["completions", shell]), LIMIT);
        assert!(o.status.success() && o.stdout_str().contains("interpose"), "{shell}");
    }
    let o = run_bounded(interpose().arg("man"), LIMIT);
    assert!(o.status.success() && o.stdout_str().contains(".TH interpose"), "{}", o.stdout_str());
}

/// The text of `interpose man ARGS`, with roff's `\-` as `-`.
fn man(args: &[&str]) -> String {
    let o = run_bounded(interpose().arg("man").args(args), LIMIT);
    assert!(o.status.success(), "man {args:?}: {}", o.stderr);
    o.stdout_str().replace("\\-", "-")
}

#[test]
fn man_pages_cover_every_subcommand_and_every_page_they_name_exists() {
    let top = man(&[]);
    let subs = ["run", "check", "syscalls", "completions", "man"];
    for sub in subs {
        assert!(top.contains(&format!("interpose-{sub}(1)")), "interpose(1) names interpose-{sub}(1): {top}");
    }
    let run = man(&["run"]);
    assert!(run.starts_with(".ie") && run.contains(".TH interpose-run 1"), "{run}");
    for option in ["--no-exec", "--sync-wakeup", "-e", "--policy", "--summary-only", "--format", "--trace-out"] {
        assert!(run.contains(&format!("{option}\\fR")), "interpose-run(1) documents {option}: {run}");
    }
    // Every page any page names is one `interpose man` prints.
    let dir = scratch("man");
    let o = run_bounded(interpose().args(["man", "--dir"]).arg(&dir), LIMIT);
    assert!(o.status.success(), "{}", o.stderr);
    let mut written: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    written.sort();
    let mut want: Vec<String> =
        subs.iter().map(|s| format!("interpose-{s}.1")).chain(["interpose.1".to_string()]).collect();
    want.sort();
    assert_eq!(written, want);
    for page in &written {
        let text = std::fs::read_to_string(dir.join(page)).unwrap().replace("\\-", "-");
        for (i, _) in text.match_indices("interpose-") {
            let name: String = text[i + "interpose-".len()..].chars().take_while(char::is_ascii_lowercase).collect();
            if text[i..].starts_with(&format!("interpose-{name}(1)")) {
                assert!(subs.contains(&name.as_str()), "{page} names interpose-{name}(1), which has no page");
            }
        }
        let sub = page.strip_prefix("interpose-").map(|p| p.trim_end_matches(".1"));
        assert_eq!(text, man(&sub.into_iter().collect::<Vec<_>>()), "{page} is what `interpose man` prints");
    }
    let o = run_bounded(interpose().args(["man", "runn"]), LIMIT);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        o.stderr,
        "interpose: no manual page for \"runn\"; the subcommands are: run, check, syscalls, completions, man\n"
    );
}

/// A thread's id given again after a pid wrap, to a new process: that process's calls are
/// logged under its own pid, not under the process whose thread had the id (and its process is
/// told to the guardian). Forks until the id comes back: only where pid_max is small enough for
/// that to take seconds (32768, as on this project's CI machines).
#[test]
fn a_thread_id_given_again_after_a_pid_wrap_is_logged_under_its_new_process() {
    let pid_max: u64 =
        std::fs::read_to_string("/proc/sys/kernel/pid_max").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    if pid_max == 0 || pid_max > 65536 {
        eprintln!("skipped: pid_max {pid_max} (a wrap would take too long)");
        return;
    }
    let p = prog("tidreuse");
    let mut cmd = interpose();
    cmd.args(["run", "--exits=off", "--format", "json", "-e", "trace=getppid", "--", p.to_str().unwrap()]);
    let o = run_bounded(&mut cmd, std::time::Duration::from_secs(90));
    assert!(o.status.success(), "{}", o.stderr);
    let report = o.stdout_str();
    if !report.starts_with("reused ") {
        eprintln!("skipped: the id did not come back in time ({report})");
        return;
    }
    let ids: Vec<u64> = report.split_whitespace().skip(1).map(|w| w.parse().unwrap()).collect();
    let (tid, parent) = (ids[0], ids[1]);
    let calls: Vec<(u64, u64)> = json_lines(&o.stderr)
        .iter()
        .filter(|v| v["type"] == "call" && v["syscall"] == "getppid")
        .map(|v| (v["pid"].as_u64().unwrap(), v["tid"].as_u64().unwrap()))
        .collect();
    assert_eq!(calls, vec![(parent, tid), (tid, tid)], "the thread's call, then the new process's: {}", o.stderr);
}

/// The same without a wrap: a child made with `clone3`'s `set_tid` takes a dead thread's id at
/// once (root only). With exit events (root), interpose reads the kernel's thread exit records,
/// so the child's call is logged under the child's pid (found by a hostile review: the wrap
/// watcher alone cannot see this).
#[test]
fn a_thread_id_chosen_with_set_tid_is_logged_under_its_new_process() {
    if !exit_events_available() {
        eprintln!("skipped: exit events not available (they need root or CAP_PERFMON)");
        return;
    }
    let p = prog("settid");
    let mut cmd = interpose();
    cmd.args(["run", "--format", "json", "-e", "trace=write", "--", p.to_str().unwrap()]);
    let o = run_bounded(&mut cmd, std::time::Duration::from_secs(30));
    assert!(o.status.success(), "{}", o.stderr);
    let report = o.stdout_str();
    if report.starts_with("no-set_tid") {
        eprintln!("skipped: the kernel refused set_tid");
        return;
    }
    let ids: Vec<u64> = report.split_whitespace().map(|w| w.parse().unwrap()).collect();
    let (tid, child, leader) = (ids[0], ids[1], ids[2]);
    assert_eq!(tid, child, "set_tid gave the thread's id");
    let writes: Vec<(u64, u64)> = json_lines(&o.stderr)
        .iter()
        .filter(|v| v["type"] == "call" && v["syscall"] == "write" && v["raw_args"][0] != 1)
        .map(|v| (v["pid"].as_u64().unwrap(), v["tid"].as_u64().unwrap()))
        .collect();
    assert_eq!(writes, vec![(leader, tid), (child, child)], "the thread's write, then the child's: {}", o.stderr);
}
