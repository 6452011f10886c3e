//! `--fd-cache`: the receiving thread keeps its copies of the program's descriptors between
//! executed calls. A copy holds the program's open file description, so it must go when the
//! program's descriptor goes: the peer of a socket sees the end exactly when it would natively
//! (within a bound here; natively and with these drops it is immediate, while a copy left
//! behind makes the peer wait forever). Each mode of `fdends` fails without its drop rule.

mod common;

use std::os::unix::process::ExitStatusExt;

use common::*;

/// Runs `fdends MODE` under interpose with the cache, reads executed; returns the peer's report.
fn ends(mode: &str) -> (Output, String) {
    ends_with(mode, &[])
}

/// `ends`, with more options for interpose.
fn ends_with(mode: &str, options: &[&str]) -> (Output, String) {
    let p = prog("fdends");
    let mut args = options.to_vec();
    args.extend([
        "--fd-cache",
        "--exits=off",
        "-c",
        "-o",
        "/dev/stderr",
        "-e",
        "trace=read",
        "--",
        p.to_str().unwrap(),
        mode,
    ]);
    let o = run(&args);
    let report = o.stdout_str();
    (o, report)
}

fn assert_prompt_eof(mode: &str) {
    assert_prompt_eof_with(mode, &[]);
}

fn assert_prompt_eof_with(mode: &str, options: &[&str]) {
    let (o, report) = ends_with(mode, options);
    assert!(report.starts_with("eof "), "{mode}: the peer saw {report:?}; {}", o.stderr);
    let rows = parse_rows(&o.stderr);
    assert!(rows.get("read").is_some_and(|r| r.1.is_some()), "{mode}: reads were executed: {}", o.stderr);
    if !["kill", "exit_group", "lastexit"].contains(&mode) {
        assert!(o.status.success(), "{mode}: {:?} {}", o.status, o.stderr);
    }
}

#[test]
fn close_ends_the_copy_too() {
    assert_prompt_eof("close");
}

#[test]
fn dup2_and_dup3_onto_a_cached_descriptor_end_the_copy() {
    assert_prompt_eof("dup2");
    assert_prompt_eof("dup3");
}

#[test]
fn close_range_ends_the_copies_in_its_range() {
    assert_prompt_eof("close_range");
}

/// Another process sharing the descriptor table (clone with CLONE_FILES) closes it: the cache is
/// turned off at the clone, every copy dropped.
#[test]
fn a_process_sharing_the_descriptor_table_closes_it() {
    assert_prompt_eof("clonefiles");
}

/// The same, the sharing process made by a clone3 whose flags gain CLONE_FILES from another
/// thread after interpose read them (held 300 ms by an injected delay, the flags changed at
/// 100 ms): interpose cannot see the sharing at the clone, so each process is compared with the
/// others (kcmp KCMP_FILES) the first time the cache meets it. Found by a hostile review; fails
/// without the comparison (the peer never sees the end).
#[test]
fn a_process_made_to_share_the_table_behind_interposes_back_closes_it() {
    assert_prompt_eof_with("clone3race", &["-e", "inject=clone3:delay_enter=300000"]);
}

#[test]
fn the_last_thread_leaving_with_exit_ends_the_copies() {
    assert_prompt_eof("lastexit");
}

#[test]
fn exec_ends_the_copies_of_close_on_exec_descriptors() {
    assert_prompt_eof("exec");
}

#[test]
fn exit_group_of_a_threaded_process_ends_its_copies() {
    assert_prompt_eof("exit_group");
}

#[test]
fn a_process_killed_by_sigkill_loses_its_copies_at_once() {
    let (o, _) = ends("kill");
    assert_eq!(o.status.signal(), Some(libc::SIGKILL), "{}", o.stderr);
    assert_prompt_eof("kill");
}

/// A child inherits the descriptor; the parent closes its own: the child's reads still work
/// (nothing of the child's was dropped wrongly) and the peer sees no end before the child's.
#[test]
fn a_forked_child_keeps_reading_after_its_parent_closed() {
    assert_prompt_eof("fork");
}

/// The transfers through cached copies move the same bytes as natively.
#[test]
fn socket_transfers_through_the_cache_are_byte_exact() {
    let dir = scratch("cache-sockcopy");
    let input = dir.join("in");
    let data: Vec<u8> = (0..(4u32 << 20)).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(&input, &data).unwrap();
    let p = prog("sockcopy");
    for flag in ["-n", ""] {
        let out = dir.join(format!("out{flag}"));
        let script = format!("{} {flag} < {} > {}", p.display(), input.display(), out.display());
        let o = run(&["--fd-cache", "-c", "--exits=off", "-e", "trace=%net,read,write", "--", "sh", "-c", &script]);
        assert!(o.status.success(), "{script}: {}", o.stderr);
        assert!(std::fs::read(&out).unwrap() == data, "{script}: the copy differs");
        let rows = parse_rows(&o.stderr);
        assert!(rows["recvfrom"].1.is_some(), "recvfrom was executed: {}", o.stderr);
    }
}

/// One thread closes a socket while another reads from it: the read that lands between the
/// close's notification and the close itself must not leave a copy behind (the closed numbers
/// stay marked until the closing thread's next call). Fails at once without the marks.
#[test]
fn a_read_racing_a_close_leaves_no_copy_behind() {
    let p = prog("closerace");
    let o =
        run(&["--fd-cache", "--exits=off", "-o", "/dev/null", "-e", "trace=read", "--", p.to_str().unwrap(), "300"]);
    assert!(o.status.success() && o.stdout_str().starts_with("ok "), "{} {}", o.stdout_str(), o.stderr);
}

/// The program holds more descriptors than interpose may (it raised its own limit; interpose
/// runs with a soft limit of 200): when interpose cannot look up a thread's process, the cache
/// turns off instead of filing a close under the wrong process (found by a hostile review: the
/// new thread's close left a copy, and its peer never saw the end).
#[test]
fn a_supervisor_out_of_descriptors_keeps_no_copy_it_cannot_account_for() {
    let p = prog("manyfds");
    let script = format!(
        "ulimit -Sn 200 && exec {} run -qq --fd-cache --exits=off -o /dev/null -e trace=read,write,close -- {} 300",
        env!("CARGO_BIN_EXE_interpose"),
        p.display()
    );
    let o =
        run_bounded(std::process::Command::new("sh").args(["-c", &script]).stdin(std::process::Stdio::null()), LIMIT);
    assert!(o.status.success(), "{}", o.stderr);
    assert_eq!(o.stdout_str(), "main-thread close: peer EOF=1\nnew-thread close: peer EOF=1\n", "{}", o.stderr);
}
