//! Fault injection: strace's -e inject=/fault= with the same results, and what interpose adds.

mod common;

use std::process::{Command, Stdio};

use common::*;

/// Runs injectme under strace and under interpose with the same expression: the program's
/// stdout, stderr and exit status must be identical.
fn parity(expr: &str) {
    let p = prog("injectme");
    let theirs = run_bounded(
        Command::new("strace").args(["-f", "-o", "/dev/null", "-e", expr]).arg(&p).arg("6").stdin(Stdio::null()),
        LIMIT,
    );
    let ours = run(&["-o", "/dev/null", "-e", expr, "--", p.to_str().unwrap(), "6"]);
    assert_eq!(ours.stdout_str(), theirs.stdout_str(), "stdout for -e {expr}");
    assert_eq!(ours.stderr, theirs.stderr, "stderr for -e {expr}");
    assert_eq!(ours.status.code(), theirs.status.code(), "exit status for -e {expr}");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&ours.status),
        std::os::unix::process::ExitStatusExt::signal(&theirs.status),
        "signal for -e {expr}"
    );
}

#[test]
fn same_results_as_strace() {
    for expr in [
        "inject=chdir:error=ENOENT",
        "inject=chdir:error=2:when=3",
        "inject=chdir:error=enoent:when=3",
        "inject=chdir:retval=42:when=2..4",
        "inject=chdir:error=EPERM:when=2+3",
        "inject=chdir:error=EACCES:when=5+",
        "inject=chdir:error=EIO:when=1..5+2",
        "inject=chdir:error=EIO:when=2..5+",
        "fault=chdir",
        "fault=chdir:error=EIO:when=4",
        "inject=read:error=EAGAIN:when=2",
        "inject=read:retval=3",
        "inject=chdir,read:error=EINTR:when=3",
        "inject=%file:error=ENOTDIR:when=2",
        "inject=chdir:signal=USR1:when=2",
        "inject=chdir:error=EPERM:signal=SIGUSR1:when=4",
        "inject=chdir:signal=KILL:when=3",
        "inject=chdir:error=ENOENT:syscall=gettid:when=2",
        "inject=chdir:delay_enter=1ms:when=1..2",
        "inject=read:delay_exit=1ms:when=3",
    ] {
        parity(expr);
    }
}

#[test]
fn later_expressions_override_earlier_ones_for_the_same_syscall() {
    parity_pair("inject=chdir:error=EPERM", "inject=chdir:error=ENOENT:when=2");
}

fn parity_pair(a: &str, b: &str) {
    let p = prog("injectme");
    let theirs = run_bounded(
        Command::new("strace").args(["-f", "-o", "/dev/null", "-e", a, "-e", b]).arg(&p).arg("4").stdin(Stdio::null()),
        LIMIT,
    );
    let ours = run(&["-o", "/dev/null", "-e", a, "-e", b, "--", p.to_str().unwrap(), "4"]);
    assert_eq!(ours.stdout_str(), theirs.stdout_str());
    assert_eq!(ours.status.code(), theirs.status.code());
}

/// Expressions strace refuses (checked against strace 6.1 by the test itself), each with
/// interpose's message.
const REFUSED: &[(&str, &str)] = &[
    ("inject=42", "nothing to inject: give error=, retval=, signal=, delay_enter=, delay_exit=, short= or rate="),
    ("inject=chdir", "nothing to inject: give error=, retval=, signal=, delay_enter=, delay_exit=, short= or rate="),
    ("inject=chdir:", "nothing to inject: give error=, retval=, signal=, delay_enter=, delay_exit=, short= or rate="),
    (
        "inject=chdir:when=3",
        "nothing to inject: give error=, retval=, signal=, delay_enter=, delay_exit=, short= or rate=",
    ),
    ("inject=chdir:42", "invalid token \"42\"; expected KEY=VALUE"),
    ("inject=!chdir:42", "invalid token \"42\"; expected KEY=VALUE"),
    ("inject=chdir:error=", "unknown errno \"\""),
    ("inject=chdir:error=invalid", "unknown errno \"invalid\""),
    ("inject=chdir:error=-1", "unknown errno \"-1\""),
    ("inject=chdir:error=0", "invalid error=\"0\"; an errno number must be within 1..4095"),
    ("inject=chdir:error=4096", "invalid error=\"4096\"; an errno number must be within 1..4095"),
    ("inject=chdir:error=EWOULDBLOCK", "invalid error=\"EWOULDBLOCK\": EWOULDBLOCK is spelt EAGAIN here, as in strace"),
    ("inject=chdir:error=EAGIAN", "unknown errno \"EAGIAN\", did you mean \"EAGAIN\"?"),
    (
        "inject=chdir:error=1:when=",
        "invalid when=\"\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)",
    ),
    (
        "inject=chdir:error=1:when=0",
        "invalid when=\"0\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)",
    ),
    (
        "inject=chdir:error=1:when=-1",
        "invalid when=\"-1\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)",
    ),
    (
        "inject=chdir:error=1:when=4-",
        "invalid when=\"4-\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)",
    ),
    (
        "inject=chdir:error=1:when=5+-",
        "invalid when=\"5+-\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)",
    ),
    (
        "inject=chdir:error=1:when=6++",
        "invalid when=\"6++\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)",
    ),
    (
        "inject=chdir:error=1:when=7+0",
        "invalid when=\"7+0\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)",
    ),
    (
        "inject=chdir:error=1:when=9+1+",
        "invalid when=\"9+1+\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)",
    ),
    (
        "inject=chdir:error=1:when=65536",
        "invalid when=\"65536\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)",
    ),
    (
        "inject=chdir:error=1:when=1+65536",
        "invalid when=\"1+65536\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)",
    ),
    (
        "inject=chdir:error=1:when=1..65535",
        "invalid when=\"1..65535\"; expected FIRST[..LAST][+[STEP]] (FIRST, STEP 1..65535, LAST FIRST..65534)",
    ),
    ("inject=chdir:error=1:when=24..23", "invalid when=\"24..23\": the last invocation (23) is before the first (24)"),
    ("inject=chdir:retval=abc", "invalid retval=\"abc\"; expected an integer"),
    ("inject=chdir:signal=0", "invalid signal=\"0\"; a signal number must be within 1..64"),
    ("inject=chdir:signal=65", "invalid signal=\"65\"; a signal number must be within 1..64"),
    ("inject=chdir:signal=SIGFOO", "unknown signal \"SIGFOO\" (e.g. SIGUSR1, USR1 or 10)"),
    ("inject=chdir:signal=1:signal=2", "only one signal= per rule"),
    ("inject=chdir:retval=0:retval=1", "only one error= or retval= per rule (they are mutually exclusive)"),
    ("inject=chdir:error=1:error=2", "only one error= or retval= per rule (they are mutually exclusive)"),
    ("inject=chdir:retval=0:error=1", "only one error= or retval= per rule (they are mutually exclusive)"),
    ("inject=chdir:error=1:retval=0", "only one error= or retval= per rule (they are mutually exclusive)"),
    (
        "inject=chdir:delay_enter=-1",
        "invalid delay \"-1\"; expected a number of microseconds, or one with a unit: s, ms, us, ns",
    ),
    (
        "inject=chdir:delay_enter=1m",
        "invalid delay \"1m\"; expected a number of microseconds, or one with a unit: s, ms, us, ns",
    ),
    (
        "inject=chdir:delay_enter=",
        "invalid delay \"\"; expected a number of microseconds, or one with a unit: s, ms, us, ns",
    ),
    (
        "inject=chdir:delay_enter=abc",
        "invalid delay \"abc\"; expected a number of microseconds, or one with a unit: s, ms, us, ns",
    ),
    (
        "inject=chdir:syscall=read:error=1",
        "invalid syscall=\"read\"; only one %pure syscall (such as gettid) may be named",
    ),
    (
        "inject=chdir:bogus=1",
        "unknown key \"bogus\"; expected one of: error, retval, signal, syscall, delay_enter, delay_exit, when, probability, seed, max, short, rate, after, for, fd, dest, path, comm",
    ),
    ("inject=:error=1", "empty syscall set; expected names, %classes, /regex, all or none"),
    ("inject=raed:error=1", "unknown syscall \"raed\", did you mean \"read\"?"),
    ("fault=chdir:retval=1", "retval= is not allowed in fault= (use inject=)"),
    ("fault=chdir:signal=1", "signal= is not allowed in fault= (use inject=)"),
];

/// Our additions, refused by their own rules.
const REFUSED_OURS: &[(&str, &str)] = &[
    // strace accepts this one; interpose cannot write into the program's memory on entry.
    ("inject=chdir:poke_enter=@arg1=00", "poke_enter= is not supported by interpose"),
    ("inject=read:error=EIO:probability=0", "invalid probability 0; expected a number with 0 < P <= 1"),
    ("inject=read:error=EIO:probability=1.5", "invalid probability 1.5; expected a number with 0 < P <= 1"),
    ("inject=read:error=EIO:probability=x", "invalid probability=\"x\"; expected 0 < P <= 1"),
    ("inject=read:error=EIO:seed=-3", "invalid seed=\"-3\"; expected an unsigned integer"),
    ("inject=read:error=EIO:max=0", "invalid max=0; expected a positive integer"),
    ("inject=read:error=EIO:fd=disk", "invalid fd=\"disk\"; expected socket, pipe, file, tty or a descriptor number"),
    (
        "inject=connect:error=EIO:dest=1.2.3",
        "invalid address \"1.2.3\"; expected ADDR[/PREFIX][:PORT] (e.g. 127.0.0.1:8080, 10.0.0.0/8, [::1]:443, *:443), unix:PATH, netlink or netlink:PORT",
    ),
    ("inject=connect:error=EIO:dest=1.2.3.4:99999", "invalid port \"99999\" (1..65535)"),
    ("inject=openat:error=EIO:path=", "empty path="),
    (
        "inject=read:error=EIO:comm=a-name-longer-than-15",
        "invalid comm=\"a-name-longer-than-15\"; a thread name has 1 to 15 bytes",
    ),
];

#[test]
fn refused_like_strace_with_a_message_naming_the_bad_part() {
    for (expr, want) in REFUSED {
        // strace refuses it too...
        let theirs = run_bounded(Command::new("strace").args(["-e", expr, "true"]).stdin(Stdio::null()), LIMIT);
        assert!(!theirs.status.success(), "strace accepts -e {expr}");
        // ...and so do we, with our message.
        let o = run(&["-e", expr, "--", "true"]);
        assert_eq!(o.status.code(), Some(2), "-e {expr}: {}", o.stderr);
        assert_eq!(o.stderr, format!("interpose: -e {expr}: {want}\n"), "-e {expr}");
    }
    for (expr, want) in REFUSED_OURS {
        let o = run(&["-e", expr, "--", "true"]);
        assert_eq!(o.status.code(), Some(2), "-e {expr}: {}", o.stderr);
        assert_eq!(o.stderr, format!("interpose: -e {expr}: {want}\n"), "-e {expr}");
    }
}

#[test]
fn accepted_like_strace() {
    for expr in [
        "inject=chdir:error=1:when=65535",
        "inject=chdir:error=1:when=1+65535",
        "inject=chdir:error=1:when=1..65534",
        "inject=chdir:error=1:when=23..23",
        "inject=chdir:error=4095",
        "inject=chdir:retval=-5",
        "inject=chdir:retval=99999999999",
        "inject=chdir:signal=64",
        "inject=chdir:signal=usr1",
        "inject=chdir:delay_enter=0",
        "inject=chdir:delay_enter=+8e8ns:when=9999",
        "inject=chdir:error=1::when=1",
        "inject=chdir:error=1:",
        "inject=chdir:error=1:when=1:when=2",
    ] {
        let theirs = run_bounded(Command::new("strace").args(["-qq", "-e", expr, "true"]).stdin(Stdio::null()), LIMIT);
        assert!(theirs.status.success(), "strace refuses -e {expr}");
        let o = run(&["-o", "/dev/null", "-e", expr, "--", "true"]);
        assert!(o.status.success(), "-e {expr}: {}", o.stderr);
    }
}

fn chdirs(args: &[&str], n: &str) -> String {
    let p = prog("chdirs");
    let mut all = vec!["-o", "/dev/null"];
    all.extend_from_slice(args);
    all.extend(["--", p.to_str().unwrap(), n]);
    let o = run(&all);
    assert!(o.status.success(), "{}", o.stderr);
    o.stdout_str()
}

#[test]
fn probability_is_reproducible_with_a_seed_and_close_to_its_rate() {
    let a = chdirs(&["-e", "inject=chdir:error=EIO:probability=0.1:seed=42"], "10000");
    let b = chdirs(&["-e", "inject=chdir:error=EIO:probability=0.1:seed=42"], "10000");
    let c = chdirs(&["-e", "inject=chdir:error=EIO:probability=0.1:seed=43"], "10000");
    assert_eq!(a, b, "the same seed gives the same faults");
    assert_ne!(a, c, "another seed gives other faults");
    let failed: u32 = a.rsplit("failed=").next().unwrap().trim().parse().unwrap();
    // 10,000 draws at p = 0.1: mean 1000, standard deviation 30; 5 sigma either way.
    assert!((850..=1150).contains(&failed), "{failed} faults");
    // when= selects first, then probability draws among the selected calls.
    let d = chdirs(&["-e", "inject=chdir:error=EIO:when=5001+:probability=0.5:seed=1"], "10000");
    assert!(!d[..5000].contains('x'), "nothing before invocation 5001");
    let late = d[5000..10000].matches('x').count();
    assert!((2200..=2800).contains(&late), "{late}");
}

#[test]
fn max_caps_the_faults_of_a_rule() {
    let out = chdirs(&["-e", "inject=chdir:error=EIO:when=3+:max=4"], "20");
    assert_eq!(out, "..xxxx..............\nfailed=4\n");
}

#[test]
fn scopes_select_by_descriptor_destination_path_and_thread_name() {
    let dir = scratch("scopes");
    let d = dir.to_str().unwrap();
    let p = prog("scopes");
    let o = run(&[
        "-o",
        "/dev/null",
        "-e",
        "inject=read:error=EAGAIN:fd=socket",
        "-e",
        "inject=connect:error=ECONNREFUSED:dest=127.0.0.2",
        "-e",
        &format!("inject=openat:error=EACCES:path={d}"),
        "-e",
        "inject=read:error=EIO:comm=victim",
        "--",
        p.to_str().unwrap(),
        d,
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    let lines: Vec<String> =
        o.stdout_str().lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(
        lines,
        [
            "file read ok",
            "socket read Resource temporarily unavailable",
            "connect 127.0.0.1 ok",
            "connect 127.0.0.2 Connection refused",
            "open /etc/hostname ok",
            "open under the dir Permission denied",
            "read in victim Input/output error",
            "read in bystander ok",
        ]
    );
}

#[test]
fn a_delay_holds_only_its_own_thread() {
    let o = run(&[
        "-o",
        "/dev/null",
        "-e",
        "trace=chdir,getppid",
        "-e",
        "inject=chdir:delay_enter=1.5s:comm=slow",
        "--",
        prog("delays").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", o.stderr);
    let out = o.stdout_str();
    // An ordering, not a timing: 200 traced calls of another thread completed while the
    // delayed call was still held; and the held call was held at least as long as asked.
    assert!(out.contains("fast_done_before_slow_returned=1"), "{out}");
    let ms: u64 = out.rsplit("slow_ms=").next().unwrap().trim().parse().unwrap();
    assert!(ms >= 1500, "{out}");
}

#[test]
fn injected_calls_are_marked_in_the_log_and_counted_as_errors() {
    let p = prog("chdirs");
    let o =
        run(&["-C", "-e", "trace=chdir", "-e", "inject=chdir:error=ENOENT:when=2+2", "--", p.to_str().unwrap(), "6"]);
    let injected: Vec<&str> = o.stderr.lines().filter(|l| l.ends_with("(INJECTED)")).collect();
    assert_eq!(injected.len(), 3, "{}", o.stderr);
    assert!(
        injected[0].starts_with("chdir(\"/\")")
            && injected[0].contains("= -1 ENOENT (No such file or directory) (INJECTED)")
    );
    let rows = parse_rows(&o.stderr[o.stderr.find("% time").unwrap()..]);
    assert_eq!(rows["chdir"], (6, Some(3)), "{}", o.stderr);
    // Inject rules select their syscalls even when the trace set does not include them.
    let o =
        run(&["-o", "/dev/null", "-e", "trace=read", "-e", "inject=chdir:error=EIO", "--", p.to_str().unwrap(), "3"]);
    assert_eq!(o.stdout_str(), "xxx\nfailed=3\n");
}

#[test]
fn policy_file_rules_equal_their_expression() {
    let dir = scratch("inject-policy");
    let f = dir.join("p.toml");
    std::fs::write(
        &f,
        "[trace]\nsyscalls = [\"chdir\"]\n\n[[inject]]\nsyscalls = [\"chdir\"]\nerror = \"EIO\"\nwhen = \"3..100+2\"\nprobability = 0.5\nseed = 7\nmax = 20\n",
    )
    .unwrap();
    let by_file = chdirs(&["-p", f.to_str().unwrap()], "200");
    let by_expr = chdirs(
        &["-e", "trace=chdir", "-e", "inject=chdir:error=EIO:when=3..100+2:probability=0.5:seed=7:max=20"],
        "200",
    );
    assert_eq!(by_file, by_expr);
    assert!(by_file.contains("failed=20"), "{by_file}");
}

#[test]
fn shipped_example_policies_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let o = run(&["-c", "-o", "/dev/null", "-p", path.to_str().unwrap(), "--", "true"]);
        assert!(o.status.success(), "{}: {}", path.display(), o.stderr);
    }
}

/// interpose's own execve of the program is not the program's: an execve rule applies from the
/// program's first execve on, as in strace (whose injection starts once the program runs).
#[test]
fn the_launch_execve_is_not_injected_into() {
    let script = "/bin/true; echo status=$?";
    let expr = "inject=execve:error=EPERM";
    let theirs =
        run_bounded(Command::new("strace").args(["-f", "-o", "/dev/null", "-e", expr, "sh", "-c", script]), LIMIT);
    let ours = run_bounded(interpose().args(["run", "-qq", "-o", "/dev/null", "-e", expr, "sh", "-c", script]), LIMIT);
    assert_eq!(ours.stdout_str(), theirs.stdout_str(), "{}", ours.stderr);
    assert_eq!(ours.status.code(), theirs.status.code(), "{}", ours.stderr);
    assert!(ours.stdout_str().contains("status=126"), "the shell's child was refused: {}", ours.stdout_str());
}
