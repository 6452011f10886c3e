//! Launching: what interpose reads and checks before the program runs (the policy file, the
//! program and its interpreter, its own privileges) and what it guards once the program runs
//! (its descriptors). The sections follow the items of issue 11.
//!
//! Some tests need root, to run interpose as an unprivileged user or without CAP_SYS_ADMIN
//! (through `setpriv`); without root or setpriv they say why and pass without checking.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// Every command here is quick; one that is not has hung.
const QUICK: Duration = Duration::from_secs(10);

fn interpose_quick(args: &[&str]) -> Output {
    run_bounded(interpose().args(args).stdin(Stdio::null()), QUICK)
}

// ---- Item 10: policy files are read bounded, and only when they are regular files ----

#[test]
fn policy_files_must_be_regular_files() {
    let dir = scratch("policy-kinds");
    let fifo = dir.join("fifo.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let link = dir.join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let cases: [(&Path, &str); 4] = [
        (Path::new("/dev/zero"), "a character device"),
        (&fifo, "a FIFO"),
        (&dir, "a directory"),
        (&link, "a character device"),
    ];
    for (path, what) in cases {
        let p = path.to_str().unwrap();
        let want = format!("interpose: {p}: not a regular file ({what})\n");
        // Bounded by QUICK: /dev/zero used to be read without end, a FIFO to wait for a writer.
        let o = interpose_quick(&["run", "-p", p, "--", "true"]);
        assert_eq!(o.status.code(), Some(2), "run -p {p}: {}", o.stderr);
        assert_eq!(o.stderr, want, "run -p {p}");
        let o = interpose_quick(&["check", p]);
        assert_eq!(o.status.code(), Some(2), "check {p}: {}", o.stderr);
        assert_eq!(o.stderr, want, "check {p}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn policy_files_larger_than_1_mib_are_refused() {
    let dir = scratch("policy-size");
    let policy = "[trace]\nsyscalls = [\"read\"]\n";
    // Exactly 1 MiB: accepted.
    let mut text = policy.as_bytes().to_vec();
    text.push(b'#');
    text.resize((1 << 20) - 1, b'x');
    text.push(b'\n');
    assert_eq!(text.len(), 1 << 20);
    let fits = dir.join("fits.toml");
    std::fs::write(&fits, &text).unwrap();
    let o = interpose_quick(&["check", fits.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", o.stderr);
    assert!(o.stdout_str().contains("traces 1 syscall: read"), "{}", o.stdout_str());
    // One byte more: refused, by run -p and by check alike.
    text.push(b'\n');
    let big = dir.join("big.toml");
    std::fs::write(&big, &text).unwrap();
    let p = big.to_str().unwrap();
    let want = format!("interpose: {p}: policy file larger than 1 MiB\n");
    let o = interpose_quick(&["run", "-p", p, "--", "true"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(o.stderr, want);
    let o = interpose_quick(&["check", p]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(o.stderr, want);
}

// ---- Item 11 (part): check shows [[deny]] rules ----

#[test]
fn check_shows_deny_rules_with_their_origin() {
    let dir = scratch("check-deny");
    let path = dir.join("deny.toml");
    std::fs::write(
        &path,
        "[trace]\nsyscalls = [\"read\"]\n\n[[deny]]\nsyscalls = [\"connect\", \"sendto\"]\n\
         except = [\"127.0.0.1:8080\", \"unix:/run/app.sock\"]\n\n[[deny]]\nsyscalls = [\"bind\"]\nerror = \"EACCES\"\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let o = interpose_quick(&["check", p]);
    assert_eq!(o.status.code(), Some(0), "{}", o.stderr);
    let out = o.stdout_str();
    let want = [
        format!("  denies ({p}:5): connect, sendto with ECONNREFUSED, except to 127.0.0.1:8080, unix:/run/app.sock\n"),
        format!("  denies ({p}:9): bind with EACCES, to every destination\n"),
    ];
    for line in &want {
        assert!(out.contains(line.as_str()), "no {line:?} in:\n{out}");
    }
    let o = interpose_quick(&["check", &format!("{}/policies/default.toml", env!("CARGO_MANIFEST_DIR"))]);
    assert!(o.stdout_str().contains("\n  denies: nothing\n"), "{}", o.stdout_str());
}

// ---- Item 12: root without CAP_SYS_ADMIN, as in a default container ----

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Says why a test checks nothing here, on stderr itself (println! would be captured and shown
/// only for a failure).
fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{test}: skipped: {why}");
}

/// The effective capability set of a process started by `prefix`, from /proc/self/status.
fn cap_eff(prefix: &mut Command) -> Option<u64> {
    let o = prefix.args(["grep", "^CapEff:", "/proc/self/status"]).output().ok()?;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    u64::from_str_radix(text.split_whitespace().nth(1)?, 16).ok()
}

fn without_sys_admin() -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"]);
    c
}

#[test]
fn root_without_cap_sys_admin_can_trace() {
    const TEST: &str = "root_without_cap_sys_admin_can_trace";
    if !is_root() {
        return skip(TEST, "not root (the test drops CAP_SYS_ADMIN from root)");
    }
    if !have("setpriv") {
        return skip(TEST, "setpriv (util-linux) is not installed");
    }
    match cap_eff(&mut without_sys_admin()) {
        Some(caps) if caps & (1 << 21) == 0 => {}
        other => return skip(TEST, &format!("setpriv could not drop CAP_SYS_ADMIN (CapEff {other:x?})")),
    }
    let o = run_bounded(
        without_sys_admin()
            .arg(env!("CARGO_BIN_EXE_interpose"))
            .args(["run", "-e", "trace=write", "--", "/bin/echo", "hi"])
            .stdin(Stdio::null()),
        QUICK,
    );
    assert_eq!(o.status.code(), Some(0), "{}", o.stderr);
    assert_eq!(o.stdout_str(), "hi\n");
    assert!(o.stderr.contains("write(1, \"hi\\n\", 3)"), "the traced write is not in:\n{}", o.stderr);
    assert!(!o.stderr.contains("warning"), "{}", o.stderr);
}

// ---- Item 14: a missing #! interpreter is named as such ----

fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn missing_script_interpreter_is_reported_before_fork() {
    let dir = scratch("bad-interpreter");
    script(&dir, "bad.sh", "#!/nonexistent/sh\necho never\n");
    // By path, relative to the working directory, as a user types it.
    let o = run_bounded(interpose().current_dir(&dir).args(["run", "--", "./bad.sh"]).stdin(Stdio::null()), QUICK);
    assert_eq!(o.stderr, "interpose: ./bad.sh: bad interpreter /nonexistent/sh: No such file or directory\n");
    // 127, as bash (5.1 and later) and dash exit when execve fails with ENOENT.
    assert_eq!(o.status.code(), Some(127));
    // Found through PATH.
    let o = run_bounded(interpose().env("PATH", &dir).args(["run", "--", "bad.sh"]).stdin(Stdio::null()), QUICK);
    assert_eq!(o.stderr, "interpose: bad.sh: bad interpreter /nonexistent/sh: No such file or directory\n");
    assert_eq!(o.status.code(), Some(127));
    // The interpreter of an interpreter, as the kernel follows them.
    let outer = format!("#!{}\n", dir.join("bad.sh").display());
    script(&dir, "outer.sh", &outer);
    let o = run_bounded(interpose().current_dir(&dir).args(["run", "--", "./outer.sh"]).stdin(Stdio::null()), QUICK);
    assert_eq!(o.stderr, "interpose: ./outer.sh: bad interpreter /nonexistent/sh: No such file or directory\n");
    assert_eq!(o.status.code(), Some(127));
}

#[test]
fn script_interpreter_that_cannot_run_exits_126() {
    let dir = scratch("noexec-interpreter");
    let interp = dir.join("not-executable");
    std::fs::write(&interp, "").unwrap();
    std::fs::set_permissions(&interp, std::fs::Permissions::from_mode(0o644)).unwrap();
    script(&dir, "s.sh", &format!("#!{} -x\n", interp.display()));
    let o = run_bounded(interpose().current_dir(&dir).args(["run", "--", "./s.sh"]).stdin(Stdio::null()), QUICK);
    assert_eq!(o.stderr, format!("interpose: ./s.sh: bad interpreter {}: Permission denied\n", interp.display()));
    assert_eq!(o.status.code(), Some(126));
}

#[test]
fn scripts_whose_interpreter_exists_still_run() {
    let dir = scratch("good-interpreter");
    // Blanks after #! and an argument, as the kernel parses them.
    script(&dir, "good.sh", "#!  /bin/sh -e\nexit 7\n");
    let o = run_bounded(
        interpose().current_dir(&dir).args(["run", "-qq", "-e", "trace=none", "--", "./good.sh"]).stdin(Stdio::null()),
        QUICK,
    );
    assert_eq!(o.status.code(), Some(7), "{}", o.stderr);
    assert_eq!(o.stderr, "");
}

#[test]
fn missing_elf_interpreter_is_reported_after_execve() {
    // An ELF program whose dynamic loader is missing: not detected before fork (only `#!` is),
    // so this is the kernel's ENOENT from the program's execve, explained after the fact.
    let dir = scratch("bad-loader");
    let exe = dir.join("noloader");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/progs/ids.c");
    let st = Command::new("cc")
        .args(["-O2", "-Wl,--dynamic-linker=/nonexistent/ld.so", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .expect("a C compiler (cc) is needed for the test programs");
    assert!(st.success());
    let o = run_bounded(interpose().current_dir(&dir).args(["run", "--", "./noloader"]).stdin(Stdio::null()), QUICK);
    assert_eq!(o.stderr, "interpose: ./noloader: bad ELF interpreter /nonexistent/ld.so: No such file or directory\n");
    assert_eq!(o.status.code(), Some(127));
}

// ---- Item 16: a set-uid program interpose cannot honour is named at launch ----

/// `setpriv` as user and group `nobody` (65534), no supplementary groups.
fn as_nobody() -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
    c
}

/// Why the unprivileged-user tests cannot run here, if they cannot.
fn no_nobody(needs: &[&Path]) -> Option<String> {
    if !is_root() {
        return Some("not root: cannot switch to another user".into());
    }
    if !have("setpriv") {
        return Some("setpriv (util-linux) is not installed".into());
    }
    for p in needs.iter().copied().chain([Path::new(env!("CARGO_BIN_EXE_interpose"))]) {
        let ok = as_nobody().arg("test").arg("-x").arg(p).status().is_ok_and(|s| s.success());
        if !ok {
            return Some(format!("user nobody cannot execute {}", p.display()));
        }
    }
    None
}

#[test]
fn set_uid_program_run_by_a_user_is_warned_about() {
    const TEST: &str = "set_uid_program_run_by_a_user_is_warned_about";
    let ids = prog("ids");
    let dir = scratch("setuid");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = |name: &str, mode: u32| {
        let p = dir.join(name);
        std::fs::copy(&ids, &p).unwrap();
        // After the copy: chown and copy would clear the set-id bits.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    };
    let suid = copy("ids-suid", 0o4755);
    let both = copy("ids-both", 0o6755);
    let plain = copy("ids-plain", 0o755);
    let shebang = script(&dir, "suid.sh", "#!/bin/sh\nexit 0\n");
    std::fs::set_permissions(&shebang, std::fs::Permissions::from_mode(0o4755)).unwrap();
    if let Some(why) = no_nobody(&[&suid]) {
        return skip(TEST, &why);
    }
    let run_as_nobody = |p: &Path| {
        run_bounded(
            as_nobody()
                .arg(env!("CARGO_BIN_EXE_interpose"))
                .args(["run", "-qq", "-e", "trace=none", "--"])
                .arg(p)
                .stdin(Stdio::null()),
            QUICK,
        )
    };
    let o = run_as_nobody(&suid);
    assert_eq!(o.status.code(), Some(0), "{}", o.stderr);
    assert_eq!(
        o.stderr,
        format!(
            "interpose: warning: {} is set-uid root; under interpose (no_new_privs, needed without CAP_SYS_ADMIN) it runs without that privilege\n",
            suid.display()
        )
    );
    // What the warning says: the program did not become root.
    assert_eq!(o.stdout_str(), "euid=65534 egid=65534\n");
    let o = run_as_nobody(&both);
    assert_eq!(
        o.stderr,
        format!(
            "interpose: warning: {} is set-uid root and set-gid root; under interpose (no_new_privs, needed without CAP_SYS_ADMIN) it runs without those privileges\n",
            both.display()
        )
    );
    // Nothing to say: no set-id bit, or a script (Linux ignores set-id bits on scripts).
    for p in [&plain, &shebang] {
        let o = run_as_nobody(p);
        assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), o.stderr);
        assert_eq!(o.stderr, "", "{}", p.display());
    }
    // Root with CAP_SYS_ADMIN sets no no_new_privs: set-uid works, nothing to warn about.
    let o =
        run_bounded(interpose().args(["run", "-qq", "-e", "trace=none", "--"]).arg(&suid).stdin(Stdio::null()), QUICK);
    assert_eq!(o.stderr, "");
    assert_eq!(o.stdout_str(), "euid=0 egid=0\n");
}

// ---- Item 5 (part): the program cannot take interpose's descriptors ----

#[test]
fn program_cannot_take_descriptors_from_interpose_or_the_guardian() {
    const TEST: &str = "program_cannot_take_descriptors_from_interpose_or_the_guardian";
    let takefds = prog("takefds");
    // As root the program has CAP_SYS_PTRACE, which overrides non-dumpable: the hostile case is
    // interpose and the program running as the same ordinary user.
    let mut cmd = if is_root() {
        if let Some(why) = no_nobody(&[&takefds]) {
            return skip(TEST, &why);
        }
        let mut c = as_nobody();
        c.arg(env!("CARGO_BIN_EXE_interpose"));
        c
    } else {
        interpose()
    };
    let o = run_bounded(cmd.args(["run", "-qq", "-e", "trace=none", "--"]).arg(&takefds).stdin(Stdio::null()), QUICK);
    assert_eq!(o.status.code(), Some(0), "{}", o.stderr);
    let out = o.stdout_str();
    assert_eq!(field(&out, "parent_taken"), 0, "the program took descriptors from interpose: {out}");
    assert_eq!(field(&out, "parent_errno"), libc::EPERM as u64, "{out}");
    assert_eq!(field(&out, "guard"), 1, "the guardian was not found: {out}");
    assert_eq!(field(&out, "guard_taken"), 0, "the program took descriptors from the guardian: {out}");
    assert_eq!(field(&out, "guard_errno"), libc::EPERM as u64, "{out}");
}

#[test]
fn u_runs_the_program_as_the_user_with_its_groups() {
    if !is_root() {
        // An ordinary user cannot become another: refused as a usage error.
        let o = interpose_quick(&["run", "-u", "nobody", "--", "true"]);
        assert_eq!(o.status.code(), Some(2), "{}", o.stderr);
        assert!(o.stderr.contains("only root"), "{}", o.stderr);
        return;
    }
    let o = interpose_quick(&["run", "-qq", "-e", "trace=none", "-u", "65534:65534", "--", "id", "-u"]);
    assert!(o.status.success(), "{}", o.stderr);
    assert_eq!(o.stdout_str().trim(), "65534");
    let o = interpose_quick(&["run", "-qq", "-e", "trace=none", "-u", "65534:65534", "--", "id", "-G"]);
    assert_eq!(o.stdout_str().trim(), "65534", "supplementary groups: the user's only");
    // By name: the user database's uid, group and groups (as strace's initgroups).
    if let Ok(Some(u)) = nix::unistd::User::from_name("nobody") {
        let o = interpose_quick(&["run", "-qq", "-e", "trace=none", "-u", "nobody", "--", "id", "-u"]);
        assert_eq!(o.stdout_str().trim(), u.uid.to_string(), "{}", o.stderr);
    }
    for (bad, says) in [("no-such-user-x", "no such user"), ("12:x", "not a group id")] {
        let o = interpose_quick(&["run", "-u", bad, "--", "true"]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", o.stderr);
        assert!(o.stderr.contains(says), "{bad}: {}", o.stderr);
    }
}
