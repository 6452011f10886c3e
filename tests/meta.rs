//! Metadata calls executed for the program (issue 12): the stat family, statx, statfs,
//! readlink, access, getcwd, getdents64, lseek, getsockname, getpeername, getsockopt. Each run
//! is compared with a native one byte for byte (the program prints every result), and the log
//! is checked for what was executed (a result with `--exits=off`) and what was left to the
//! kernel (`= ?`): answers that depend on who asks (/proc/self, /dev/fd), a program whose root
//! or credentials interpose cannot reproduce.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

/// DIR with f (1234 bytes), l -> f, p (a FIFO), d/ (three files).
fn tree(test: &str) -> PathBuf {
    let dir = scratch(test);
    std::fs::write(dir.join("f"), vec![0u8; 1234]).unwrap();
    std::os::unix::fs::symlink("f", dir.join("l")).unwrap();
    nix::unistd::mkfifo(&dir.join("p"), nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    std::fs::create_dir(dir.join("d")).unwrap();
    for f in ["one", "two", "three"] {
        std::fs::write(dir.join("d").join(f), "").unwrap();
    }
    dir
}

fn native(args: &[&str]) -> String {
    let o = run_bounded(Command::new(prog("meta")).args(args).stdin(Stdio::null()), LIMIT);
    assert!(o.status.success(), "meta {args:?} natively: {}", o.stderr);
    String::from_utf8(o.stdout).unwrap()
}

/// Runs meta under interpose, exit events off: every result in the log was computed by
/// interpose. Returns (stdout, log).
fn traced(dir: &Path, args: &[&str]) -> (String, String) {
    let log = dir.join("log");
    let p = prog("meta");
    let mut c = interpose();
    c.args(["run", "--exits=off", "-o", log.to_str().unwrap(), "-e"])
        .arg("trace=%file,%desc,%network,getcwd,%creds")
        .arg("--")
        .arg(&p)
        .args(args)
        .stdin(Stdio::null());
    let o = run_bounded(&mut c, LIMIT);
    assert!(o.status.success(), "meta {args:?} under interpose: {}", o.stderr);
    (String::from_utf8(o.stdout).unwrap(), std::fs::read_to_string(&log).unwrap())
}

/// The log line of the first call starting with `head` (after the pid).
fn line<'a>(log: &'a str, head: &str) -> &'a str {
    log.lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, r)| r).trim_start())
        .find(|l| l.starts_with(head))
        .unwrap_or_else(|| panic!("no line starting with {head} in\n{log}"))
}

#[test]
fn metadata_results_are_the_programs_own() {
    let dir = tree("meta_basic");
    let d = dir.to_str().unwrap();
    let want = native(&["basic", d]);
    let (got, log) = traced(&dir, &["basic", d]);
    assert_eq!(got, want, "output differs from the native run; log:\n{log}");
    // Executed, with strace's output arguments.
    assert!(line(&log, "newfstatat(AT_FDCWD, \"f\", {st_mode=S_IFREG|0644, st_size=1234, ...}, 0)").ends_with("= 0"));
    assert!(
        line(&log, "newfstatat(AT_FDCWD, \"l\", {st_mode=S_IFLNK|0777, st_size=1, ...}, AT_SYMLINK_NOFOLLOW)")
            .ends_with("= 0")
    );
    assert!(line(&log, "newfstatat(AT_FDCWD, \"missing\",").ends_with("= -1 ENOENT (No such file or directory)"));
    assert!(line(&log, "newfstatat(AT_FDCWD, \"f/x\",").ends_with("= -1 ENOTDIR (Not a directory)"));
    assert!(line(&log, "readlink(\"l\", \"f\", 256)").ends_with("= 1"));
    assert!(line(&log, "readlink(\"f\",").ends_with("= -1 EINVAL (Invalid argument)"));
    assert!(line(&log, "access(\"f\", X_OK)").ends_with("= -1 EACCES (Permission denied)") || !is_root());
    assert!(line(&log, "getdents64(").contains("entries */"));
    assert!(line(&log, "statx(AT_FDCWD, \"f\",").contains("stx_size=1234, ...}) = 0"));
    assert!(line(&log, "statfs(\".\", {f_type=").ends_with("= 0"));
    assert!(line(&log, "getsockopt(3, SOL_SOCKET, SO_TYPE, [1], [4])").ends_with("= 0"));
    assert!(line(&log, "getsockname(3, {sa_family=AF_INET, sin_port=htons(").ends_with("= 0"));
    assert!(line(&log, "getpeername(3,").ends_with("= -1 ENOTCONN (Transport endpoint is not connected)"));
    assert!(line(&log, "getcwd(\"").contains(d));
    // The link itself is the same for every reader: /dev/stdin's text is executed.
    assert!(line(&log, "readlink(\"/dev/stdin\", \"/proc/self/fd/0\", 256)").ends_with("= 15"));
    // Opens and copies installed with ADDFD; failed lookups answered; the rest left.
    assert!(line(&log, "openat(AT_FDCWD, \"d\", O_RDONLY|O_DIRECTORY) = ").ends_with(|c: char| c.is_ascii_digit()));
    assert!(line(&log, "openat(AT_FDCWD, \"missing\", O_RDONLY)").ends_with("= -1 ENOENT (No such file or directory)"));
    assert!(line(&log, "openat(AT_FDCWD, \"f/x\", O_RDONLY)").ends_with("= -1 ENOTDIR (Not a directory)"));
    assert!(line(&log, "dup2(3, 40)").ends_with("= 40"));
    assert!(line(&log, "dup3(3, 41, O_CLOEXEC)").ends_with("= 41"));
    assert!(line(&log, "dup(999)").ends_with("= -1 EBADF (Bad file descriptor)"));
    for head in [
        "openat(AT_FDCWD, \"p\"",
        "openat(AT_FDCWD, \"/dev/null\"",
        "openat(AT_FDCWD, \"/proc/self/status\"",
        "openat(AT_FDCWD, \"f\", O_RDONLY|O_DIRECTORY)",
        "dup3(3, 3, 0)",
    ] {
        assert!(line(&log, head).ends_with("= ?"), "{head}: expected the kernel to answer:\n{log}");
    }
    let uid = nix::unistd::getuid().as_raw();
    assert!(line(&log, "getuid()").ends_with(&format!("= {uid}")), "{log}");
    // Calls on the open file description; a flock that would wait and O_ASYNC left to the kernel.
    assert!(line(&log, "flock(3, LOCK_EX|LOCK_NB)").ends_with("= 0"), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains(", LOCK_SH|LOCK_NB)") && l.ends_with("= -1 EAGAIN (Resource temporarily unavailable)")),
        "another description's lock conflicts: {log}"
    );
    assert!(line(&log, "flock(3, LOCK_EX)").ends_with("= ?"));
    assert!(line(&log, "fsync(3)").ends_with("= ?"), "fsync may wait on the disk: the kernel's");
    assert!(line(&log, "shutdown(3, SHUT_RD)").ends_with("= -1 ENOTSOCK (Socket operation on non-socket)"));
    assert!(log.lines().any(|l| l.contains("fcntl(3, F_SETFL, O_RDONLY|O_ASYNC") && l.ends_with("= ?")), "{log}");
    // Extended attributes, read where they are.
    assert!(line(&log, "getxattr(\"f\", \"user.meta\", NULL, 0)").ends_with("= 5") || !got.contains("(set 0)"));
    assert!(line(&log, "getxattr(\"f\", \"user.none\",").ends_with("= -1 ENODATA (No data available)"));
    assert!(line(&log, "getxattr(\"missing\",").ends_with("= -1 ENOENT (No such file or directory)"));
    assert!(line(&log, "lgetxattr(\"l\",").ends_with("= ?"), "a symlink's own attributes: {log}");
    // Left to the kernel: answers that depend on who asks, and arguments the kernel refuses.
    for head in [
        "readlink(\"/proc/self\"",
        "newfstatat(AT_FDCWD, \"/proc/self\"",
        "newfstatat(AT_FDCWD, \"/dev/fd/",
        "faccessat(AT_FDCWD, \"f\", 0x40",
    ] {
        let l = line(&log, head);
        assert!(l.ends_with("= ?"), "{head}: expected the kernel to answer: {l}");
    }
    assert!(log.lines().any(|l| l.contains("0x8000000) = ?")), "the unknown flag is the kernel's to refuse:\n{log}");
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn a_symlink_swapped_during_the_calls_is_seen_whole() {
    let dir = scratch("meta_race");
    std::fs::write(dir.join("a"), "1").unwrap();
    std::fs::write(dir.join("b"), "22").unwrap();
    std::os::unix::fs::symlink("a", dir.join("l")).unwrap();
    let d = dir.to_str().unwrap();
    let (got, log) = traced(&dir, &["race", d, "2000"]);
    assert_eq!(got, "race: 0 bad of 2000\n", "{}", &log[log.len().saturating_sub(2000)..]);
    assert!(log.lines().any(|l| l.contains("readlink(") && l.ends_with("= 1")), "readlinks were executed");
}

/// A scratch directory with `secret` (mode 0600, root's), for a program that drops to uid
/// 65534; None (skipped) when not root.
fn dir_with_secret(test: &str) -> Option<PathBuf> {
    if !is_root() {
        eprintln!("SKIPPED: needs root (the program drops to uid 65534)");
        return None;
    }
    let dir = scratch(test);
    std::fs::write(dir.join("secret"), "s").unwrap();
    std::fs::set_permissions(dir.join("secret"), std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    Some(dir)
}

#[test]
fn credentials_interpose_must_take_are_the_programs() {
    let Some(dir) = dir_with_secret("meta_drop") else { return };
    std::fs::create_dir(dir.join("locked")).unwrap();
    std::fs::write(dir.join("locked/inner"), "").unwrap();
    std::fs::set_permissions(dir.join("locked"), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    // The scratch directory's parents must be searchable by uid 65534.
    let d = dir.to_str().unwrap();
    let want = native(&["drop", d]);
    assert!(want.contains("access secret R_OK = -1 EACCES"), "{want}");
    let (got, log) = traced(&dir, &["drop", d]);
    assert_eq!(got, want, "log:\n{log}");
    // Executed as uid 65534: the refusals are in the log.
    let has = |what: &str, end: &str| log.lines().any(|l| l.contains(what) && l.ends_with(end));
    assert!(has("secret\", R_OK)", "= -1 EACCES (Permission denied)"), "{log}");
    assert!(has("locked/inner\", 0x", "= -1 EACCES (Permission denied)"), "{log}");
    assert!(has("secret\", {st_mode=S_IFREG|0600, st_size=1, ...}, 0)", "= 0"), "{log}");
}

/// The same drop made through the i386 ABI (`int $0x80` setresuid32 & co, which a filter of
/// native numbers would miss), after a path call made as root: interpose must see the change.
#[test]
fn credentials_changed_through_int80_are_seen() {
    let Some(dir) = dir_with_secret("meta_drop32") else { return };
    let d = dir.to_str().unwrap();
    let want = native(&["drop32", d]);
    if want.contains("no int $0x80") {
        eprintln!("SKIPPED: no i386 syscalls here");
        return;
    }
    assert!(want.contains("access secret R_OK = -1 EACCES"), "{want}");
    let (got, log) = traced(&dir, &["drop32", d]);
    assert_eq!(got, want, "log:\n{log}");
}

#[test]
fn a_program_in_a_chroot_is_left_to_the_kernel() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (chroot)");
        return;
    }
    let dir = tree("meta_chroot");
    let d = dir.to_str().unwrap();
    let want = native(&["chroot", d]);
    assert!(want.contains("stat /f = 0 mode=100644 size=1234"), "{want}");
    let (got, log) = traced(&dir, &["chroot", d]);
    assert_eq!(got, want, "log:\n{log}");
    for head in ["newfstatat(AT_FDCWD, \"/f\"", "readlink(\"/l\"", "access(\"/missing\""] {
        assert!(line(&log, head).ends_with("= ?"), "{head}: {log}");
    }
}

/// Ids in a stat struct are shown in the caller's user namespace, and capabilities held in
/// another one count there: a program in a user namespace of its own is left to the kernel,
/// descriptor calls included.
#[test]
fn a_program_in_another_user_namespace_is_left_to_the_kernel() {
    let dir = tree("meta_userns");
    let f = dir.join("f");
    let argv = ["unshare", "-U", "-r", "stat", "-c", "%u %g %s", f.to_str().unwrap()];
    let native = run_bounded(Command::new(argv[0]).args(&argv[1..]).stdin(Stdio::null()), LIMIT);
    if !native.status.success() {
        eprintln!("SKIPPED: no user namespaces here: {}", native.stderr);
        return;
    }
    let log = dir.join("log");
    let o = run(&["--exits=off", "-o", log.to_str().unwrap(), "-e", "trace=statx,newfstatat,fstat", "--"]
        .into_iter()
        .chain(argv)
        .collect::<Vec<_>>());
    assert_eq!(o.stdout, native.stdout, "{}", o.stderr);
    let log = std::fs::read_to_string(&log).unwrap();
    let after_unshare: Vec<&str> = log.lines().skip_while(|l| !l.contains("statx(")).collect();
    assert!(!after_unshare.is_empty(), "{log}");
    for l in after_unshare.iter().filter(|l| l.contains("stat")) {
        assert!(l.ends_with("= ?"), "left to the kernel in the new user namespace: {l}\n{log}");
    }
}

/// Landlock restricts the opens of the thread that entered a domain, and an open interpose made
/// for it would not obey that: after `landlock_restrict_self`, opens are the kernel's.
#[test]
fn a_landlocked_program_is_refused_its_opens() {
    let dir = tree("meta_landlock");
    let d = dir.to_str().unwrap();
    let want = native(&["landlock", d]);
    if want.contains("unavailable") {
        eprintln!("SKIPPED: no Landlock here");
        return;
    }
    assert!(want.contains("open f = -1 EACCES") && want.contains("open d = -1 EACCES"), "{want}");
    let (got, log) = traced(&dir, &["landlock", d]);
    assert_eq!(got, want, "log:\n{log}");
}

/// A thread other than the leader that execs a set-user-ID file takes the leader's id, with the
/// new credentials: what was known of the leader's id must not be used for the new image (it
/// would open, as root, what uid 65534 may not).
#[test]
fn an_exec_by_another_thread_is_seen_with_its_new_credentials() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (a set-user-ID file of uid 65534)");
        return;
    }
    let dir = scratch("meta_execid");
    std::fs::create_dir(dir.join("locked")).unwrap();
    std::fs::write(dir.join("locked/inner"), "").unwrap();
    std::fs::set_permissions(dir.join("locked"), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let suid = dir.join("meta-suid");
    std::fs::copy(prog("meta"), &suid).unwrap();
    std::os::unix::fs::chown(&suid, Some(65534), None).unwrap();
    std::fs::set_permissions(&suid, std::os::unix::fs::PermissionsExt::from_mode(0o4755)).unwrap();
    let d = dir.to_str().unwrap();
    let want = native(&["execid", d]);
    if !want.contains("euid 65534") {
        eprintln!("SKIPPED: set-user-ID files do not work here: {want}");
        return;
    }
    assert!(want.contains("stat locked/inner = -1 EACCES"), "{want}");
    for _ in 0..3 {
        let (got, log) = traced(&dir, &["execid", d]);
        assert_eq!(got, want, "log:\n{}", &log[log.len().saturating_sub(3000)..]);
    }
}

/// An open that must break a lease waits for its holder; the holder here makes a traced call
/// before giving the lease up, so interpose must not be the one waiting.
#[test]
fn an_open_that_breaks_a_lease_does_not_stall_interpose() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (a lease on a file of another owner, CAP_LEASE)");
        return;
    }
    let dir = tree("meta_lease");
    let d = dir.to_str().unwrap();
    let want = native(&["lease", d]);
    if want.contains("no lease") {
        eprintln!("SKIPPED: no leases here");
        return;
    }
    let t = std::time::Instant::now();
    let (got, log) = traced(&dir, &["lease", d]);
    assert_eq!(got, want, "log:\n{log}");
    assert!(t.elapsed() < std::time::Duration::from_secs(10), "waited for the lease break: {log}");
}

/// After `fanotify_init` of a content class, interpose opens and reads no file for the program:
/// its own open would wait for a permission listener that is the program, waiting for
/// interpose (a hang, before the guard).
#[test]
fn a_fanotify_permission_listener_in_the_program_does_not_hang_it() {
    let dir = tree("meta_fanotify");
    let f = dir.join("f");
    let p = prog("guards");
    let want = run_bounded(Command::new(&p).args(["fanotify", f.to_str().unwrap()]).stdin(Stdio::null()), LIMIT);
    let o = run_bounded(
        interpose()
            .args(["run", "--exits=off", "-e", "trace=openat,newfstatat,fstat,read", "--"])
            .arg(&p)
            .args(["fanotify", f.to_str().unwrap()])
            .stdin(Stdio::null()),
        std::time::Duration::from_secs(20),
    );
    assert!(o.status.success(), "{}", o.stderr);
    assert_eq!(o.stdout, want.stdout);
}

/// After `landlock_restrict_self`, connects are left to the kernel, which checks them against
/// the program's domain (an executed one escaped it).
#[test]
fn a_landlock_domain_is_obeyed_by_connects() {
    let p = prog("guards");
    let want = run_bounded(Command::new(&p).arg("landlock-net").stdin(Stdio::null()), LIMIT);
    if want.stdout.starts_with(b"landlock unavailable") {
        eprintln!("SKIPPED: {}", String::from_utf8_lossy(&want.stdout));
        return;
    }
    assert_eq!(want.stdout, b"connect Permission denied\n");
    let o = run(&["--exits=off", "-e", "trace=connect,socket", "--", p.to_str().unwrap(), "landlock-net"]);
    assert_eq!(o.stdout, want.stdout, "{}", o.stderr);
}

/// getpid, gettid, getppid and getpgrp logged without exit events are answered by interpose
/// (from each thread's `/proc/TID/stat`, kept open between its calls): the numbers the program
/// printed, in its main thread, a second thread and a child; and `?` in a child that is the
/// first process of a new pid namespace, whose numbers are not the ones interpose sees.
#[test]
fn process_ids_are_the_programs_own() {
    for ns in [false, true] {
        let dir = scratch(if ns { "meta_ids_ns" } else { "meta_ids" });
        let log = dir.join("log");
        let mut argv = vec![prog("meta").to_str().unwrap().to_string(), "ids".to_string()];
        if ns {
            argv.push("ns".into());
        }
        let mut args =
            vec!["--exits=off", "-o", log.to_str().unwrap(), "-e", "trace=getpid,gettid,getppid,getpgrp", "--"];
        args.extend(argv.iter().map(String::as_str));
        let o = run(&args);
        assert!(o.status.success(), "{}", o.stderr);
        let stdout = String::from_utf8(o.stdout).unwrap();
        if stdout.contains("no pid namespace") {
            eprintln!("SKIPPED (ns): no pid namespaces here");
            continue;
        }
        // gettid -> "getpid N gettid N getppid N getpgrp N", as the program printed them.
        let printed: std::collections::HashMap<String, Vec<(String, String)>> = stdout
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().skip(1).collect();
                let pairs: Vec<(String, String)> = f.chunks(2).map(|p| (p[0].to_string(), p[1].to_string())).collect();
                (pairs[1].1.clone(), pairs)
            })
            .collect();
        let log = std::fs::read_to_string(&log).unwrap();
        let mut answered = 0;
        for l in log.lines().filter(|l| l.contains("()")) {
            let (pid, rest) = l.split_once(' ').unwrap();
            let (call, result) = rest.trim().split_once("()").unwrap();
            let result = result.trim().trim_start_matches('=').trim();
            match printed.get(pid) {
                Some(pairs) => {
                    let want = &pairs.iter().find(|(c, _)| c == call).unwrap().1;
                    assert_eq!(result, want, "{l}\n{log}\n{}", stdout);
                    answered += 1;
                }
                // The child in its own pid namespace printed other numbers than its id here.
                None => assert!(ns && result == "?", "{l}\n{log}\n{}", stdout),
            }
        }
        assert_eq!(answered, if ns { 12 } else { 16 }, "{log}");
    }
}
