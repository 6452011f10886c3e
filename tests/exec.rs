//! Executed calls: the supervisor performs fd-based calls on the program's behalf, so results,
//! errors and times are known. Nothing the program reads or writes may change. With `-c` alone
//! and exit events on, nothing is executed (the exits say the results): the tests of the
//! executed path turn exit events off.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use common::*;

#[test]
fn eagain_errors_equal_strace() {
    let p = prog("eagain");
    let theirs = strace_rows("read", &[p.to_str().unwrap(), "40"]);
    let ours = our_rows("read", &[p.to_str().unwrap(), "40"]);
    assert_eq!(ours, theirs);
    // 40 EAGAIN, 40 bytes, and the dynamic loader's read of libc.
    assert_eq!(ours["read"], (81, Some(40)));
}

#[test]
fn nonblocking_connect_errors_equal_strace() {
    let p = prog("nbconnect");
    let theirs = strace_rows("connect,accept", &[p.to_str().unwrap(), "15"]);
    let ours = our_rows("connect,accept", &[p.to_str().unwrap(), "15"]);
    assert_eq!(ours["connect"], theirs["connect"]);
    assert_eq!(ours["connect"], (15, Some(15)), "every connect is EINPROGRESS");
    // The listener is blocking: its accepts are left to the kernel (calls known; errors only
    // from exit events, where they are available).
    assert!(ours["accept"] == (15, None) || ours["accept"] == (15, Some(0)), "{:?}", ours["accept"]);
}

fn cmp_files(a: &std::path::Path, b: &std::path::Path) {
    let (x, y) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert!(x == y, "{} and {} differ ({} vs {} bytes)", a.display(), b.display(), x.len(), y.len());
}

#[test]
fn pipelines_of_two_traced_programs_are_byte_exact() {
    let dir = scratch("pump");
    let input = random_file(&dir, 24 << 20);
    let pump = prog("pump");
    let pump = pump.to_str().unwrap();
    // Blocking and non-blocking ends, read/write and readv/writev, odd buffer sizes.
    for (i, (left, right)) in [("-v", "-n -b 4000"), ("-n -v -b 100000", ""), ("-n", "-n -v -b 777")].iter().enumerate()
    {
        let out = dir.join(format!("out{i}"));
        let script = format!("{pump} {left} < {} | {pump} {right} > {}", input.display(), out.display());
        let o = run(&["-c", "--exits=off", "-e", "trace=read,write,readv,writev", "--", "sh", "-c", &script]);
        assert!(o.status.success(), "{script}: {}", o.stderr);
        cmp_files(&input, &out);
        let rows = parse_rows(&o.stderr);
        assert!(rows.values().any(|(_, e)| e.is_some()), "some calls were executed: {}", o.stderr);
    }
}

#[test]
fn socket_transfers_are_byte_exact() {
    let dir = scratch("sockcopy");
    let input = random_file(&dir, 16 << 20);
    let p = prog("sockcopy");
    for flag in ["-n", ""] {
        let out = dir.join(format!("out{flag}"));
        let script = format!("{} {flag} < {} > {}", p.display(), input.display(), out.display());
        let o = run(&["-c", "--exits=off", "-e", "trace=%net,read,write", "--", "sh", "-c", &script]);
        assert!(o.status.success(), "{script}: {}", o.stderr);
        cmp_files(&input, &out);
        let rows = parse_rows(&o.stderr);
        assert!(rows["recvfrom"].1.is_some(), "recvfrom was executed: {}", o.stderr);
        if flag == "-n" {
            assert!(rows["sendmsg"].1.is_some() && rows["sendto"].1.is_some(), "{}", o.stderr);
        }
    }
}

#[test]
fn file_offsets_stay_right_after_executed_reads_and_writes() {
    let dir = scratch("offsets");
    let f = dir.join("file");
    let mut content = b"0123456789abcde".to_vec();
    content.resize(100, b'x');
    content.extend(b"ZYXWVUTSRQ");
    content.resize(200, b'y');
    std::fs::write(&f, &content).unwrap();
    let o =
        run(&["-e", "trace=read,pread64,write,pwrite64", "--", prog("offsets").to_str().unwrap(), f.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", o.stdout_str(), o.stderr);
    let log: Vec<String> = o.stderr.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    for want in
        ["pread64(3, \"ZYXWVUTSRQ\", 10, 100) = 10", "pwrite64(3, \"***\", 3, 150) = 3", "read(3, \"\", 10) = 0"]
    {
        assert!(log.iter().any(|l| l == want), "{want} not in {}", o.stderr);
    }
    let after = std::fs::read(&f).unwrap();
    assert_eq!(&after[15..18], b"+++");
    assert_eq!(&after[150..153], b"***");
}

#[test]
fn signal_showered_pipe_reader_gets_every_byte_once() {
    let p = prog("pipestorm");
    for restart in ["1", "0"] {
        let o = run(&["-c", "--exits=off", "-e", "trace=read,write", "--", p.to_str().unwrap(), "64", restart]);
        assert!(o.status.success(), "SA_RESTART={restart}: {} {}", o.stdout_str(), o.stderr);
        let out = o.stdout_str();
        assert!(out.starts_with("bytes=67108864 "), "{out}");
        let signals: u64 = out.split("signals=").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        assert!(signals > 100, "the storm was too weak to test anything: {out}");
    }
}

#[test]
fn accept4_flags_and_addresses_are_honoured() {
    let o = run(&["-e", "trace=accept,accept4", "--", prog("acceptflags").to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", o.stdout_str(), o.stderr);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert!(
        lines[0].starts_with("accept(3, NULL, NULL)")
            && lines[0].ends_with("= -1 EAGAIN (Resource temporarily unavailable)"),
        "{}",
        o.stderr
    );
    for (line, flags) in lines[1..4].iter().zip(["0) = ", "SOCK_CLOEXEC|SOCK_NONBLOCK) = ", "[20 => 16]) = "]) {
        assert!(line.contains("{sa_family=AF_INET, sin_port=htons("), "{line}");
        assert!(line.contains("sin_addr=inet_addr(\"127.0.0.1\")}, [20 => 16]"), "{line}");
        assert!(line.contains(flags), "{line}");
    }
}

#[test]
fn sigpipe_reaches_the_writer_as_it_would_natively() {
    let p = prog("sigpipe");
    for mode in ["pipe", "pipe-ignored", "send", "send-nosignal"] {
        let native = run_bounded(Command::new(&p).arg(mode).stdin(Stdio::null()), LIMIT);
        let o = run(&["-e", "trace=write,sendto", "--", p.to_str().unwrap(), mode]);
        assert_eq!(o.status.signal(), native.status.signal(), "{mode}: {}", o.stderr);
        assert_eq!(o.status.code(), native.status.code(), "{mode}: {}", o.stderr);
        assert_eq!(o.stdout, native.stdout, "{mode}");
        assert!(
            o.stderr.contains("= -1 EPIPE (Broken pipe)") || o.stderr.contains("= ? <interrupted>"),
            "{mode}: {}",
            o.stderr
        );
    }
}

#[test]
fn a_write_past_the_file_size_limit_raises_sigxfsz_in_the_writer_not_in_interpose() {
    // interpose runs under `ulimit -f 1` (its limit is what an executed write is checked
    // against): the program's write fails with EFBIG and the program dies of SIGXFSZ, as it would
    // natively; interpose reports it and dies of the same signal.
    let dir = scratch("fsize");
    let f = dir.join("big");
    let script = format!(
        "ulimit -f 1; exec {} run -e trace=write -- dd if=/dev/zero of={} bs=4096 count=2",
        env!("CARGO_BIN_EXE_interpose"),
        f.display()
    );
    let o = run_bounded(Command::new("sh").args(["-c", &script]).stdin(Stdio::null()), LIMIT);
    assert_eq!(o.status.signal(), Some(libc::SIGXFSZ), "{}", o.stderr);
    assert!(o.stderr.contains("= -1 EFBIG (File too large)"), "{}", o.stderr);
    assert!(o.stderr.contains("+++ killed by SIGXFSZ +++"), "{}", o.stderr);
}

/// Replaces what differs between two runs of the same program: ports and addresses.
fn normalize(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("htons(") {
        out.push_str(&rest[..i + 6]);
        rest = &rest[i + 6..];
        let j = rest.find(')').unwrap();
        out.push('P');
        rest = &rest[j..];
    }
    out.push_str(rest);
    out.split_whitespace().map(|w| if w.starts_with("0x") { "ADDR" } else { w }).collect::<Vec<_>>().join(" ")
}

#[test]
fn executed_calls_are_logged_as_strace_logs_them() {
    let p = prog("decode_exec");
    let trace = "trace=recvfrom,recvmsg,readv,connect,accept4,read,sendto,sendmsg";
    let ours = run(&["-e", trace, "--", p.to_str().unwrap()]);
    assert!(ours.status.success(), "{}", ours.stderr);
    let theirs = run_bounded(Command::new("strace").args(["-e", trace]).arg(&p).stdin(Stdio::null()), LIMIT);
    let want: Vec<String> = theirs.stderr.lines().filter(|l| !l.contains("ELF")).map(normalize).collect();
    let got: Vec<String> = ours.stderr.lines().filter(|l| !l.contains("ELF")).map(normalize).collect();
    assert_eq!(got, want);
}

#[test]
fn only_successful_or_failed_calls_with_z_and_capital_z() {
    let p = prog("eagain");
    let o = run(&["-Z", "-e", "trace=read", "--", p.to_str().unwrap(), "5"]);
    assert_eq!(o.stderr.lines().filter(|l| l.contains("= -1 EAGAIN")).count(), 5, "{}", o.stderr);
    assert_eq!(o.stderr.lines().filter(|l| l.starts_with("read(")).count(), 5, "{}", o.stderr);
    let o = run(&["-z", "-e", "trace=read", "--", p.to_str().unwrap(), "5"]);
    assert_eq!(o.stderr.lines().filter(|l| l.starts_with("read(")).count(), 6, "{}", o.stderr);
    assert!(!o.stderr.contains("EAGAIN"), "{}", o.stderr);
}

#[test]
fn syscall_times_with_capital_t() {
    let p = prog("eagain");
    let o = run(&["-T", "-e", "trace=read", "--", p.to_str().unwrap(), "3"]);
    let timed: Vec<&str> = o.stderr.lines().filter(|l| l.starts_with("read(")).collect();
    assert_eq!(timed.len(), 7);
    for l in timed {
        let t = l.rsplit_once(" <").unwrap().1;
        assert!(t.len() == 9 && t.ends_with('>') && t.starts_with("0."), "{l}");
    }
}

#[test]
fn no_exec_leaves_every_call_to_the_kernel() {
    let p = prog("eagain");
    let dir = scratch("noexec");
    let policy = dir.join("p.toml");
    std::fs::write(&policy, "[trace]\nsyscalls = [\"read\"]\nexecute = false\n").unwrap();
    // Without exit events too: nothing then says what the calls returned.
    for args in [
        &["-c", "--exits=off", "--no-exec", "-e", "trace=read", "--"][..],
        &["-c", "--exits=off", "-p", policy.to_str().unwrap(), "--"],
    ] {
        let mut all = args.to_vec();
        all.push(p.to_str().unwrap());
        all.push("4");
        let o = run(&all);
        assert!(o.status.success());
        assert_eq!(parse_rows(&o.stderr)["read"], (9, None), "{}", o.stderr);
        assert!(o.stderr.contains("     -           -           -         9         - read"), "{}", o.stderr);
    }
}

#[test]
fn summary_columns_and_sorting() {
    let p = prog("eagain");
    let o = run(&[
        "-c",
        "--exits=off",
        "-U",
        "name,calls,errors,min-time,max-time,p50,p99",
        "-S",
        "name",
        "-e",
        "trace=read,write",
        "--",
        p.to_str().unwrap(),
        "4",
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    let mut lines = o.stderr.lines();
    assert_eq!(lines.next().unwrap(), "syscall              calls    errors shortest  longest      p50      p99");
    assert_eq!(lines.next().unwrap(), "---------------- --------- --------- -------- -------- -------- --------");
    let read = lines.next().unwrap();
    assert!(read.starts_with("read                     9         4 0.0000"), "{read}");
    // Four writes to an AF_UNIX socket (left to the kernel: the peer would see interpose's
    // credentials) and the final printf to a blocking pipe (left to the kernel too); without
    // exit events nothing says what they returned.
    let write = lines.next().unwrap();
    assert_eq!(write, "write                    5         -        -        -        -        -");
}
