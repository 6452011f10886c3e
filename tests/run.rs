//! End to end: real programs under the real filter on this kernel.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

fn assert_counts_match(trace: &str, program: &[&str]) -> std::collections::BTreeMap<String, u64> {
    let theirs = strace_counts(trace, program);
    let ours = our_counts(trace, program);
    assert_eq!(ours, theirs, "calls per syscall, interpose vs strace, for {program:?}");
    ours
}

#[test]
fn counts_match_strace_for_cat() {
    let dir = scratch("cat");
    let file = dir.join("data");
    std::fs::write(&file, vec![b'x'; 300_000]).unwrap();
    let counts = assert_counts_match("read,openat,close", &["cat", file.to_str().unwrap()]);
    assert!(counts["read"] >= 3, "{counts:?}");
}

#[test]
fn counts_match_strace_for_threads() {
    let reads = prog("reads");
    let counts = assert_counts_match("read", &[reads.to_str().unwrap(), "8", "200"]);
    // 1600 from the threads, 1 from the dynamic loader.
    assert_eq!(counts["read"], 1601);
}

#[test]
fn counts_match_strace_for_a_fork_tree() {
    let tree = prog("forktree");
    let counts = assert_counts_match("getppid", &[tree.to_str().unwrap(), "4", "10"]);
    assert_eq!(counts["getppid"], 15 * 10);
}

#[test]
fn counts_match_strace_for_a_shell_pipeline() {
    let dir = scratch("pipeline");
    let file = dir.join("data");
    std::fs::write(&file, b"one\ntwo\nthree\n").unwrap();
    let script = format!("cat {} | wc -l", file.display());
    let counts = assert_counts_match("execve,openat,pipe2,dup2,wait4", &["sh", "-c", &script]);
    assert_eq!(counts["execve"], 3, "sh, cat and wc");
}

#[test]
fn counts_match_strace_for_loopback_connects() {
    let c = prog("connects");
    let counts = assert_counts_match("socket,connect,accept", &[c.to_str().unwrap(), "25"]);
    assert_eq!(counts["connect"], 25);
    assert_eq!(counts["accept"], 25);
}

/// The calls a careless handshake would deadlock on, all selected at once.
const HANDSHAKE_SENSITIVE: &str = "trace=read,write,close,execve,futex,sendmsg,mmap,openat";

#[test]
fn no_deadlock_when_handshake_sensitive_calls_are_selected() {
    let native = run_bounded(Command::new("sh").args(["-c", "ls / | wc -l"]).stdin(Stdio::null()), LIMIT);
    for expr in [HANDSHAKE_SENSITIVE, "trace=all"] {
        let o = run(&["-o", "/dev/null", "-e", expr, "--", "sh", "-c", "ls / | wc -l"]);
        assert!(o.status.success(), "{expr}: {:?} {}", o.status, o.stderr);
        assert_eq!(o.stdout, native.stdout, "{expr}: output differs from the native run");
    }
}

#[test]
fn everything_traced_still_logs_the_program() {
    let o = run(&["-e", HANDSHAKE_SENSITIVE, "--", "sh", "-c", "echo hi"]);
    assert!(o.status.success());
    assert_eq!(o.stdout_str(), "hi\n");
    // The first line is the program's own execve; nothing of the launcher's set-up shows.
    let first = o.stderr.lines().next().unwrap();
    assert!(first.starts_with("execve(\"/usr/bin/sh\", [\"sh\", \"-c\", \"echo hi\"], 0x"), "{first}");
    assert!(o.stderr.contains("write(1, \"hi\\n\", 3)"), "{}", o.stderr);
    assert!(o.stderr.ends_with("+++ exited with 0 +++\n"), "{}", o.stderr);
}

#[test]
fn large_file_through_cat_is_byte_exact() {
    let dir = scratch("bigcat");
    let src = dir.join("src");
    // 24 MiB of varied bytes, through cat's reads and writes into a pipe.
    let data: Vec<u8> = (0..24u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    let o = run(&["-c", "-e", "trace=read,write", "--", "cat", src.to_str().unwrap()]);
    assert!(o.status.success(), "{}", o.stderr);
    assert!(o.stdout == data, "the copy differs from the original ({} bytes vs {})", o.stdout.len(), data.len());
    let calls = parse_table(&o.stderr);
    assert!(calls["write"] >= 24 * 8 && calls["read"] >= 24 * 8, "{calls:?}");
}

#[test]
fn stdin_reaches_the_program() {
    let mut cmd = interpose();
    cmd.args(["run", "-e", "trace=read", "-o", "/dev/null", "--", "cat"]).stdin(Stdio::piped());
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"hello through stdin\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert_eq!(o.stdout, b"hello through stdin\n");
}

#[test]
fn exit_status_is_passed_through() {
    let o = run(&["--", "sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7));
    let o = run(&["--", "true"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn death_by_signal_is_passed_through() {
    for (sig, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGUSR1, "SIGUSR1"), (libc::SIGKILL, "SIGKILL")] {
        let o = run(&["--", "sh", "-c", &format!("kill -{sig} $$")]);
        assert_eq!(o.status.signal(), Some(sig), "{name}: {:?}", o.status);
        assert!(o.stderr.contains(&format!("+++ killed by {name} +++")), "{}", o.stderr);
        assert!(!o.status.core_dumped());
    }
}

#[test]
fn missing_program_is_127_and_unexecutable_is_126() {
    let o = run(&["--", "no-such-program-interpose"]);
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(o.stderr, "interpose: no-such-program-interpose: command not found\n");

    let o = run(&["--", "./no/such/path"]);
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(o.stderr, "interpose: ./no/such/path: No such file or directory\n");

    let dir = scratch("noexec");
    let f = dir.join("script");
    std::fs::write(&f, "#!/bin/sh\necho hi\n").unwrap();
    let o = run(&["--", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(126), "{}", o.stderr);
    assert_eq!(o.stderr, format!("interpose: {}: Permission denied\n", f.display()));

    let o = run(&["--", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(126));
    assert_eq!(o.stderr, format!("interpose: {}: Is a directory\n", dir.display()));

    // Executable but not a program the kernel can run.
    let junk = dir.join("junk");
    std::fs::write(&junk, [0u8; 64]).unwrap();
    std::fs::set_permissions(&junk, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = run(&["--", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(126), "{}", o.stderr);
    assert_eq!(o.stderr, format!("interpose: {}: Exec format error\n", junk.display()));
}

#[test]
fn decoding_shows_paths_addresses_and_futex_ops() {
    let p = prog("decode");
    let o = run(&["-e", "trace=openat,write,writev,socket,connect,sendto,futex", "--", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", o.stderr);
    let expected: Vec<String> =
        o.stdout_str().lines().filter_map(|l| l.strip_prefix("EXPECT ")).map(str::to_string).collect();
    assert!(expected.len() >= 10);
    for e in expected {
        assert!(o.stderr.contains(&format!("{e} ")), "missing {e:?} in:\n{}", o.stderr);
    }
}

#[test]
fn i386_calls_are_seen_by_name() {
    let p = prog("int80");
    let o = run(&["-e", "trace=getpid", "--", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", o.stderr);
    assert!(o.stderr.starts_with("i386:getpid()"), "{}", o.stderr);
    assert_eq!(o.stderr.matches("\ngetpid()").count(), 2, "{}", o.stderr);
}

/// i386 calls that stand for a selected native call under another name or number are trapped
/// and logged: the socketcall sub-call, the 32-bit-id and large-file variants, and ipc's
/// sub-call with a version bit in its high half (which the kernel ignores, and so must the
/// filter).
#[test]
fn i386_variants_are_seen_as_the_calls_they_stand_for() {
    let p = prog("int80");
    let o = run(&["-e", "trace=connect,setresuid,stat,shmget,shmctl", "--", p.to_str().unwrap(), "variants"]);
    assert!(o.status.success(), "{}", o.stderr);
    assert_eq!(o.stdout_str(), "socketcall connect = -9\nsetresuid32 = 0\nstat64 = 0\nipc shmget = ok\n");
    for head in ["i386:socketcall(0x3, ", "i386:setresuid32(", "i386:stat64(", "i386:ipc(0x10017, ", "i386:ipc(0x18, "]
    {
        assert!(o.stderr.lines().any(|l| l.starts_with(head)), "no {head} in:\n{}", o.stderr);
    }
}

#[test]
fn daemonized_grandchildren_are_followed_to_the_end() {
    let dir = scratch("daemon");
    let flag = dir.join("late");
    let script = format!("(sleep 0.3; echo late > {}) & exit 0", flag.display());
    let o = run(&["-e", "trace=openat", "--", "sh", "-c", &script]);
    assert!(o.status.success());
    // interpose returned only after the background job finished, and saw its openat.
    assert_eq!(std::fs::read_to_string(&flag).unwrap(), "late\n");
    assert!(o.stderr.contains(&format!("\"{}\", O_WRONLY|O_CREAT|O_TRUNC, 0666)", flag.display())), "{}", o.stderr);
}

#[test]
fn output_file_gets_pid_prefixes_and_the_summary() {
    let dir = scratch("ofile");
    let log = dir.join("trace.txt");
    let tree = prog("forktree");
    let o = run(&["-C", "-o", log.to_str().unwrap(), "-e", "trace=getppid", "--", tree.to_str().unwrap(), "2", "3"]);
    assert!(o.status.success());
    assert_eq!(o.stderr, "", "nothing but the program's own output may go to stderr with -o");
    let text = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = text.lines().filter(|l| l.contains("getppid()")).collect();
    assert_eq!(calls.len(), 9);
    for l in &calls {
        // strace's "%-5d " prefix: the pid, padded to 5 columns, and a space.
        let (pid, rest) = l.split_once(' ').unwrap();
        assert!(pid.parse::<u32>().is_ok(), "{l}");
        assert!(rest.trim_start().starts_with("getppid()") && l.find("getppid").unwrap() >= 6, "{l}");
    }
    assert_eq!(parse_table(&text)["getppid"], 9);
}

#[test]
fn sigterm_to_interpose_reaches_the_program() {
    let mut child = interpose()
        .args(["run", "-o", "/dev/null", "--", "sleep", "30"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(std::time::Instant::now() < deadline, "interpose did not end after SIGTERM");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.signal(), Some(libc::SIGTERM));
}

#[test]
fn signal_storm_neither_loses_nor_double_counts_calls() {
    // A read withdrawn by a signal before interpose received it is restarted by the kernel
    // (SA_RESTART) and must be counted once; without SA_RESTART it fails with EINTR and never ran,
    // so it must not be counted at all. Either way our count equals the reads that completed.
    let storm = prog("sigstorm");
    for restart in ["1", "0"] {
        let o = run(&["-c", "-e", "trace=read", "--", storm.to_str().unwrap(), "4", "3000", restart]);
        assert!(o.status.success(), "{}", o.stderr);
        let out = o.stdout_str();
        assert!(field(&out, "signals") > 100, "the storm was too weak to test anything: {out}");
        let completed = field(&out, "ok");
        if restart == "1" {
            assert_eq!(completed, 12_000, "{out}");
        }
        // +1: the dynamic loader's read of libc.
        assert_eq!(parse_table(&o.stderr)["read"], completed + 1, "SA_RESTART={restart}: {out}");
    }
}

#[test]
fn string_limit_cuts_buffers_like_strace() {
    let script = "printf 'abcdefghij\\n'";
    for (limit, want) in [("32", "write(1, \"abcdefghij\\n\", 11)"), ("4", "write(1, \"abcd\"..., 11)")] {
        let o = run(&["-s", limit, "-e", "trace=write", "--", "sh", "-c", script]);
        assert!(o.stderr.contains(want), "-s {limit}: {}", o.stderr);
        let theirs = run_bounded(
            Command::new("strace").args(["-s", limit, "-e", "trace=write", "sh", "-c", script]).stdin(Stdio::null()),
            LIMIT,
        );
        assert!(theirs.stderr.contains(want), "strace -s {limit}: {}", theirs.stderr);
    }
}
