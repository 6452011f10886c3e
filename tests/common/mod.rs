//! Helpers for the end-to-end tests: build the C test programs, run commands with a time
//! bound, and read `-c` tables (ours and strace's).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The interpose binary under test.
pub fn interpose() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_interpose"));
    c.env_remove("RUST_LOG");
    c
}

/// Compiles `tests/progs/NAME.c` (once per test binary, and only when the source is newer).
pub fn prog(name: &str) -> PathBuf {
    compile(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/progs").join(format!("{name}.c")), name)
}

/// Compiles a C program to the test programs' directory as NAME.
pub fn compile(src: &Path, name: &str) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("progs");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(name);
    let fresh = |o: &Path| {
        let (Ok(s), Ok(b)) = (std::fs::metadata(src), std::fs::metadata(o)) else { return false };
        b.modified().unwrap() >= s.modified().unwrap()
    };
    if !fresh(&out) {
        // Compile beside, rename into place: other test binaries may be doing the same.
        let tmp = dir.join(format!(".{name}.{}", std::process::id()));
        let st = Command::new("cc")
            .args(["-O2", "-Wall", "-pthread", "-o"])
            .arg(&tmp)
            .arg(src)
            .status()
            .expect("a C compiler (cc) is needed for the test programs");
        assert!(st.success(), "compiling {}", src.display());
        std::fs::rename(&tmp, &out).unwrap();
    }
    out
}

/// A fresh scratch directory, unique to this call.
pub fn scratch(test: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scratch").join(format!("{test}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Output {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs `cmd`, capturing stdout and stderr, failing the test if it takes longer than `limit`.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    cmd.stdout(Stdio::piped());
    run_bounded_keep_stdout(cmd, limit)
}

/// As [`run_bounded`], but stdout goes wherever `cmd` already sends it.
pub fn run_bounded_keep_stdout(cmd: &mut Command, limit: Duration) -> Output {
    cmd.stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let so = child.stdout.take();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut so) = so {
            let _ = so.read_to_end(&mut v);
        }
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("command did not finish within {limit:?}: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = t_out.join().unwrap();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    Output { status, stdout, stderr }
}

pub const LIMIT: Duration = Duration::from_secs(60);

/// `interpose run ARGS...`, bounded.
pub fn run(args: &[&str]) -> Output {
    run_bounded(interpose().arg("run").args(args).stdin(Stdio::null()), LIMIT)
}

/// Parses a strace-style `-c` table: syscall -> calls.
pub fn parse_table(text: &str) -> BTreeMap<String, u64> {
    parse_rows(text).into_iter().map(|(k, (calls, _))| (k, calls)).collect()
}

/// Reads `key=value` pairs from a test program's stdout.
pub fn field(out: &str, key: &str) -> u64 {
    out.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in {out:?}"))
}

/// Parses a `-c` table in the default column layout: syscall -> (calls, errors), where errors
/// is None when the table shows `-` (unknown) and 0 when the cell is blank (strace's zero).
pub fn parse_rows(text: &str) -> BTreeMap<String, (u64, Option<u64>)> {
    let mut rows = BTreeMap::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.starts_with("------") {
            if in_table {
                break;
            }
            in_table = true;
            continue;
        }
        if in_table {
            // Fixed columns: %6 %11 %11 %9 %9 name.
            let calls = line[31..40].trim().parse().unwrap();
            let errors = match line[41..50].trim() {
                "" => Some(0),
                "-" => None,
                n => Some(n.parse().unwrap()),
            };
            rows.insert(line[51..].to_string(), (calls, errors));
        }
    }
    assert!(in_table, "no summary table in:\n{text}");
    rows
}

/// `strace -f -c -e trace=SET PROGRAM...`: (calls, errors) per syscall.
pub fn strace_rows(trace: &str, program: &[&str]) -> BTreeMap<String, (u64, Option<u64>)> {
    let out = scratch("strace").join("table.txt");
    let o = run_bounded(
        Command::new("strace").args(["-f", "-c", "-o"]).arg(&out).arg("-e").arg(format!("trace={trace}")).args(program),
        LIMIT,
    );
    assert!(o.status.success(), "strace failed: {}", o.stderr);
    parse_rows(&std::fs::read_to_string(&out).unwrap())
}

/// `interpose run -c -e trace=SET PROGRAM...`: (calls, errors) per syscall.
pub fn our_rows(trace: &str, program: &[&str]) -> BTreeMap<String, (u64, Option<u64>)> {
    let out = scratch("ours").join("table.txt");
    let expr = format!("trace={trace}");
    let mut args = vec!["-c", "-o", out.to_str().unwrap(), "-e", &expr, "--"];
    args.extend_from_slice(program);
    let o = run(&args);
    assert!(o.status.success(), "interpose failed ({:?}): {}", o.status, o.stderr);
    parse_rows(&std::fs::read_to_string(&out).unwrap())
}

/// The total row of a `-c` table.
pub fn table_total(text: &str) -> u64 {
    let line = text.lines().find(|l| l.ends_with(" total")).expect("a total row");
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

/// `strace -f -c -e trace=SET PROGRAM...`: the calls per syscall.
pub fn strace_counts(trace: &str, program: &[&str]) -> BTreeMap<String, u64> {
    let out = scratch("strace").join("table.txt");
    let o = run_bounded(
        Command::new("strace").args(["-f", "-c", "-o"]).arg(&out).arg("-e").arg(format!("trace={trace}")).args(program),
        LIMIT,
    );
    assert!(o.status.success(), "strace failed: {}", o.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    parse_table(&text)
}

/// `interpose run -c -e trace=SET PROGRAM...`: the calls per syscall.
pub fn our_counts(trace: &str, program: &[&str]) -> BTreeMap<String, u64> {
    let out = scratch("ours").join("table.txt");
    let mut args = vec!["-c", "-o", out.to_str().unwrap(), "-e"];
    let expr = format!("trace={trace}");
    args.push(&expr);
    args.push("--");
    args.extend_from_slice(program);
    let o = run(&args);
    assert!(o.status.success(), "interpose failed ({:?}): {}", o.status, o.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    parse_table(&text)
}

/// Compiles `tests/progs/SRC.c` as OUT with these compiler flags (instead of `-O2`), once per
/// test binary and only when the source is newer.
pub fn prog_with(src: &str, out: &str, flags: &[&str]) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/progs").join(format!("{src}.c"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("progs");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(out);
    let fresh = match (std::fs::metadata(&src), std::fs::metadata(&path)) {
        (Ok(s), Ok(b)) => b.modified().unwrap() >= s.modified().unwrap(),
        _ => false,
    };
    if !fresh {
        let tmp = dir.join(format!(".{out}.{}", std::process::id()));
        let st = Command::new("cc")
            .args(flags)
            .args(["-Wall", "-pthread", "-o"])
            .arg(&tmp)
            .arg(&src)
            .status()
            .expect("a C compiler (cc) is needed for the test programs");
        assert!(st.success(), "compiling {}", src.display());
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

/// Builds bench/hello, the Go net/http hello server the tests run under interpose.
pub fn go_hello() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hello");
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go");
    let st = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(root.join("bench/hello"))
        .env("GOCACHE", work.join("cache"))
        .env("GOPATH", work.join("path"))
        .env("GOFLAGS", "-mod=mod")
        .status()
        .expect("go (golang-go) is needed for this test; scripts/deps installs it");
    assert!(st.success());
    out
}

/// `bytes` of xorshift noise in DIR/input.
pub fn random_file(dir: &Path, bytes: usize) -> PathBuf {
    let f = dir.join("input");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let data: Vec<u8> = (0..bytes)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&f, data).unwrap();
    f
}

/// Whether interpose can read exit events here (root, CAP_PERFMON or a permissive
/// perf_event_paranoid): the results of calls left to the kernel depend on them.
#[allow(dead_code)]
pub fn exit_events_available() -> bool {
    let o = run(&["--exits=on", "-qq", "-e", "trace=getppid", "--", "true"]);
    o.status.success()
}
