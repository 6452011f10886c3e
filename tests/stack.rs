//! `-k`: stacks under each logged call, as strace -k prints them.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{LIMIT, run, run_bounded};

/// The ` > ` lines of a log, per call: (call line, frames).
fn stacks(log: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in log.lines() {
        if let Some(frame) = line.strip_prefix(" > ") {
            if let Some(last) = out.last_mut() {
                last.1.push(frame.to_string());
            }
        } else if (line.starts_with(|c: char| c.is_ascii_lowercase()) || line.starts_with("[pid"))
            && line.contains('(')
            && line.contains(" = ")
        {
            out.push((line.to_string(), Vec::new()));
        }
    }
    out
}

fn frames_of(log: &str) -> Vec<Vec<String>> {
    stacks(log).into_iter().map(|(_, f)| f).collect()
}

fn strace_k(prog: &Path, filter: &str) -> Option<String> {
    let mut c = Command::new("strace");
    c.args(["-k", "-e", filter]).arg(prog).stdin(Stdio::null());
    match c.output() {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stderr).into_owned()),
        _ => None,
    }
}

/// `interpose run -k ...` as uid/gid 65534 (nobody), through setpriv.
fn run_unprivileged(args: &[&str]) -> Option<common::Output> {
    // Only root can switch to another user.
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: not root, cannot switch to an unprivileged user");
        return None;
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: setpriv is missing (util-linux)");
        return None;
    }
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_interpose"))
        .arg("run")
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    Some(run_bounded(&mut c, LIMIT))
}

#[test]
fn frames_match_strace_as_root_and_unprivileged() {
    let prog = common::prog_with("stackdeep", "stackdeep", &["-O0", "-g"]);
    let p = prog.to_str().unwrap();
    let out = run(&["-k", "-e", "trace=getppid", p]);
    assert!(out.status.success(), "{}", out.stderr);
    let ours = frames_of(&out.stderr);
    assert_eq!(ours.len(), 2, "{}", out.stderr);
    // The deep call: libc's syscall(), the three levels, main.
    let deep = ours[0].join("\n");
    for f in [
        "libc.so.6(syscall+0x",
        "stackdeep(level3+0x",
        "stackdeep(level2+0x",
        "stackdeep(level1+0x",
        "stackdeep(main+0x",
    ] {
        assert!(deep.contains(f), "no {f} in\n{deep}");
    }
    match strace_k(&prog, "trace=getppid") {
        Some(log) => assert_eq!(ours, frames_of(&log), "interpose:\n{}\nstrace:\n{log}", out.stderr),
        None => eprintln!("strace -k unavailable: compared with the expected frames only"),
    }
    if let Some(un) = run_unprivileged(&["-k", "-e", "trace=getppid", p]) {
        assert!(un.status.success(), "{}", un.stderr);
        assert_eq!(frames_of(&un.stderr), ours, "unprivileged:\n{}\nroot:\n{}", un.stderr, out.stderr);
    }
}

#[test]
fn json_carries_the_frames() {
    let prog = common::prog_with("stackdeep", "stackdeep", &["-O0", "-g"]);
    let out = run(&["-k", "--format", "json", "-e", "trace=getppid", prog.to_str().unwrap()]);
    assert!(out.status.success(), "{}", out.stderr);
    let calls: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "call")
        .collect();
    assert_eq!(calls.len(), 2, "{}", out.stderr);
    let stack = calls[0]["stack"].as_array().expect("a stack array");
    let names: Vec<&str> = stack.iter().filter_map(|f| f["symbol"].as_str()).collect();
    assert_eq!(&names[..5], ["syscall", "level3", "level2", "level1", "main"], "{}", out.stderr);
    let f = &stack[1];
    assert!(f["object"].as_str().unwrap().ends_with("/stackdeep"));
    assert!(f["offset"].as_u64().is_some() && f["address"].as_u64().is_some(), "{f}");
    // Without -k, no stack.
    let out = run(&["--format", "json", "-e", "trace=getppid", prog.to_str().unwrap()]);
    assert!(!out.stderr.contains("\"stack\""), "{}", out.stderr);
}

#[test]
fn stripped_binary_prints_addresses_as_strace() {
    let prog = common::prog_with("stackdeep", "stackdeep_stripped", &["-O0", "-s"]);
    let out = run(&["-k", "-e", "trace=getppid", prog.to_str().unwrap()]);
    assert!(out.status.success(), "{}", out.stderr);
    let ours = frames_of(&out.stderr);
    assert!(ours[0].iter().any(|f| f.contains("stackdeep_stripped() [0x")), "{}", out.stderr);
    if let Some(log) = strace_k(&prog, "trace=getppid") {
        assert_eq!(ours, frames_of(&log), "interpose:\n{}\nstrace:\n{log}", out.stderr);
    }
}

#[test]
fn futex_stacks_reach_the_thread_function() {
    let prog = common::prog("mutexes");
    let out = run(&["-k", "-f", "-e", "trace=futex", prog.to_str().unwrap()]);
    assert!(out.status.success(), "{}", out.stderr);
    let calls: Vec<_> = stacks(&out.stderr).into_iter().filter(|(l, _)| l.contains("futex(")).collect();
    assert!(calls.len() > 50, "too few futex calls: {}", calls.len());
    let reaching = calls.iter().filter(|(_, f)| f.iter().any(|f| f.contains("/mutexes(work+0x"))).count();
    assert!(
        reaching * 10 >= calls.len() * 9,
        "{reaching} of {} futex calls reach work():\n{}",
        calls.len(),
        calls
            .iter()
            .filter(|(_, f)| !f.iter().any(|f| f.contains("(work+")))
            .take(5)
            .map(|(l, f)| format!("{l}\n{}", f.join("\n")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_stack_unmapped_or_rewritten_mid_call_is_truncated() {
    let prog = common::prog("stackunmap");
    let out = run(&["-k", "-f", "-e", "trace=getppid", prog.to_str().unwrap()]);
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(out.stdout_str(), "ok\n");
    let calls = stacks(&out.stderr);
    assert!(calls.len() >= 3000, "{} calls", calls.len());
    for (line, frames) in &calls {
        assert!(frames.len() <= 64, "{line}: {} frames", frames.len());
    }
}

/// A Go HTTP server under load: every futex call's stack has at least two frames in `runtime.`,
/// `sync.` or `main.` code (Go code has no CFI for the unwinder; it walks frame pointers). With
/// `-c`, the summary groups the futex calls by calling function.
#[test]
fn go_futex_stacks_have_runtime_frames_and_are_grouped_by_caller() {
    use std::io::{Read, Write};
    let bin = common::go_hello();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let dir = common::scratch("stack-go");
    let log = dir.join("log");
    let mut server = common::interpose()
        .args(["run", "-C", "-k", "-o", log.to_str().unwrap(), "-e", "trace=futex", "--"])
        .arg(&bin)
        .args(["-addr", &addr, "-duration", "3s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "the server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(&addr).unwrap();
                s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
                let mut buf = Vec::new();
                for _ in 0..100 {
                    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                    buf.clear();
                    let mut chunk = [0u8; 4096];
                    while !buf.ends_with(b"hello\n") {
                        let n = s.read(&mut chunk).unwrap();
                        assert!(n > 0);
                        buf.extend_from_slice(&chunk[..n]);
                    }
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let status = server.wait().unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    // With -o, every call line starts with its thread id.
    let unprefixed: String = text
        .lines()
        .map(|l| {
            if l.starts_with(|c: char| c.is_ascii_digit()) {
                l.split_once(' ').map_or(l, |(_, r)| r.trim_start())
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let calls: Vec<_> = stacks(&unprefixed).into_iter().filter(|(l, _)| l.contains("futex(")).collect();
    assert!(calls.len() >= 10, "too few futex calls: {}", calls.len());
    let go = |f: &String| ["(runtime.", "(sync.", "(main."].iter().any(|p| f.contains(p));
    for (line, frames) in &calls {
        assert!(frames.iter().filter(|f| go(f)).count() >= 2, "{line}\n{}", frames.join("\n"));
    }
    assert!(text.contains("\nfutex by caller (-k):\n"), "the summary groups futex calls by caller");
}
