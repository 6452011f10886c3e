//! Hostile programs against `[[deny]]` (issue 11). Each test runs a program in
//! `tests/progs/hostile_*.c` that attacks the network policy one way, under
//! `interpose run -p POLICY`, and (where the comparison means something) natively: nothing may
//! reach a denied listener, allowed destinations must still work, and peers must see the
//! program's credentials, not interpose's.
//!
//! Listeners for denied destinations live in the test (a policy that governs `bind` would refuse
//! the program's own) and drain on a thread; the programs print `key=value` lines, values being
//! raw results (a count, 0, or -errno).
//!
//! Beyond issue 11's list, four tests probe what its fix left open: racing socketcall's
//! argument block, TCP Fast Open sends under a connect-only rule, credentials given up per
//! thread, by capabilities or inside a user namespace, and a cgroup BPF program that rewrites a
//! destination after it was judged.

mod common;

use std::io::Read;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;

const ECONNREFUSED: i64 = -(libc::ECONNREFUSED as i64);
const EACCES: i64 = -(libc::EACCES as i64);
const EPERM: i64 = -(libc::EPERM as i64);
const ENOSYS: i64 = -(libc::ENOSYS as i64);

/// How long one run of a hostile program may take, under interpose or not.
const RUN_LIMIT: Duration = Duration::from_secs(20);

/// Racing tries per variant.
const TRIES: &str = "2000";

// ---------------------------------------------------------------------------------------------
// Helpers

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A loopback listener (TCP) or socket (UDP) on 127.0.0.1:0 that a thread keeps draining,
/// counting the connections accepted or datagrams received.
struct Sink {
    port: u16,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Sink {
    fn tcp() -> Sink {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        // Accepted connections stay open until the sink goes: closing one with unread data
        // resets it, and a program that looks at its socket right after connecting (getpeername)
        // would race that reset.
        let mut kept = Vec::new();
        Sink::start(port, move || match l.accept() {
            Ok((conn, _)) => {
                kept.push(conn);
                Some(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            Err(_) => Some(false),
        })
    }

    fn udp() -> Sink {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let big: libc::c_int = 4 << 20;
        // SAFETY: a valid socket and an int option of the right size. Failure only means a
        // smaller buffer, which the draining thread makes up for.
        unsafe {
            let p = &big as *const libc::c_int as *const libc::c_void;
            let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            if libc::setsockopt(s.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, p, len) != 0 {
                libc::setsockopt(s.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, p, len);
            }
        }
        s.set_nonblocking(true).unwrap();
        let port = s.local_addr().unwrap().port();
        let mut buf = [0u8; 256];
        Sink::start(port, move || match s.recv(&mut buf) {
            Ok(_) => Some(true),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            Err(_) => Some(false),
        })
    }

    /// `poll` returns Some(true) for one more arrival, None when nothing is waiting.
    fn start(port: u16, mut poll: impl FnMut() -> Option<bool> + Send + 'static) -> Sink {
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let (s, c) = (stop.clone(), count.clone());
        let thread = std::thread::spawn(move || {
            loop {
                match poll() {
                    Some(true) => {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(false) => {}
                    // Stop only once nothing is left.
                    None if s.load(Ordering::Relaxed) => break,
                    None => std::thread::sleep(Duration::from_micros(500)),
                }
            }
        });
        Sink { port, stop, count, thread: Some(thread) }
    }

    fn port(&self) -> String {
        self.port.to_string()
    }

    /// Everything that arrived, once the last of it has been drained.
    fn total(&mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.count.load(Ordering::Relaxed)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn policy(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `[[deny]]` over SYSCALLS allowing EXCEPT, with ERROR when given.
fn deny(syscalls: &[&str], except: &[String], error: Option<&str>) -> String {
    let q = |v: &mut dyn Iterator<Item = &str>| v.map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
    let mut t = format!("[[deny]]\nsyscalls = [{}]\n", q(&mut syscalls.iter().copied()));
    if let Some(e) = error {
        t += &format!("error = \"{e}\"\n");
    }
    t += &format!("except = [{}]\n", q(&mut except.iter().map(String::as_str)));
    t
}

fn lo(port: impl std::fmt::Display) -> String {
    format!("127.0.0.1:{port}")
}

/// Runs PROG ARGS natively, bounded.
fn native(prog: &Path, args: &[String]) -> Output {
    run_bounded(Command::new(prog).args(args).stdin(Stdio::null()), RUN_LIMIT)
}

/// `interpose run -o TRACE -p POLICY -- PROG ARGS`, bounded; the trace goes beside the policy.
fn under(policy: &Path, prog: &Path, args: &[String]) -> Output {
    let trace = policy.with_extension("trace");
    run_bounded(
        interpose()
            .arg("run")
            .arg("-o")
            .arg(&trace)
            .arg("-p")
            .arg(policy)
            .arg("--")
            .arg(prog)
            .args(args)
            .stdin(Stdio::null()),
        RUN_LIMIT,
    )
}

/// A signed `key=value` from a program's output.
fn num(out: &str, key: &str) -> i64 {
    out.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in {out:?}"))
}

/// A result as the program saw it: `0`, `8`, `-111 (Connection refused)`.
fn desc(r: i64) -> String {
    if r < 0 {
        let e = std::io::Error::from_raw_os_error(-r as i32).to_string();
        format!("{r} ({})", e.split(" (os error").next().unwrap_or(&e))
    } else {
        r.to_string()
    }
}

/// Collects what went wrong, to report every broken expectation of a run at once.
#[derive(Default)]
struct Faults(Vec<String>);

impl Faults {
    fn expect(&mut self, out: &str, key: &str, want: i64, what: &str) {
        let got = num(out, key);
        if got != want {
            self.0.push(format!("{key}: {what}: wanted {}, got {}", desc(want), desc(got)));
        }
    }
    fn check(&mut self, ok: bool, msg: impl Into<String>) {
        if !ok {
            self.0.push(msg.into());
        }
    }
    fn assert(self, context: &str) {
        assert!(self.0.is_empty(), "{context}:\n  - {}", self.0.join("\n  - "));
    }
}

fn context(what: &str, o: &Output, trace: Option<&Path>) -> String {
    let mut s = format!("{what}\nstatus: {:?}\nstdout: {}stderr: {}", o.status, o.stdout_str(), o.stderr);
    if let Some(t) = trace {
        s += &format!("(trace: {})", t.display());
    }
    s
}

fn gone(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s.rsplit(')').next().unwrap().trim_start().starts_with('Z'),
    }
}

fn wait_until(deadline: Instant, mut f: impl FnMut() -> bool) -> bool {
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

/// A TCP listener on 127.0.0.1:0 with an explicit backlog and receive buffer (std offers
/// neither).
fn raw_listener(backlog: i32, rcvbuf: Option<i32>) -> TcpListener {
    // SAFETY: plain socket calls on a descriptor this function owns; it ends up in a
    // TcpListener, which closes it.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        if let Some(b) = rcvbuf {
            let p = &b as *const i32 as *const libc::c_void;
            libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, p, 4);
        }
        let mut a: libc::sockaddr_in = std::mem::zeroed();
        a.sin_family = libc::AF_INET as libc::sa_family_t;
        a.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        assert_eq!(libc::bind(fd, &a as *const libc::sockaddr_in as *const libc::sockaddr, len), 0);
        assert_eq!(libc::listen(fd, backlog), 0);
        TcpListener::from_raw_fd(fd)
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The i386 ABI (int $0x80, socketcall) and x32

#[test]
fn i386_calls_and_socketcall_get_the_same_decision_and_x32_stays_enosys() {
    let prog = prog("hostile_i386");
    let dir = scratch("hostile-i386");
    // Natively first: every attempt goes through, so the program really does what it claims.
    let run = |with_policy: bool| {
        let (mut allowed, mut denied, mut udp) = (Sink::tcp(), Sink::tcp(), Sink::udp());
        let args = vec![allowed.port(), denied.port(), udp.port(), free_tcp_port().to_string()];
        let p = policy(
            &dir,
            &format!("p{}.toml", allowed.port),
            &deny(&["connect", "bind", "sendto", "sendmsg"], &[lo(allowed.port)], None),
        );
        let o = if with_policy { under(&p, &prog, &args) } else { native(&prog, &args) };
        (o, (allowed.total(), denied.total(), udp.total()), p.with_extension("trace"))
    };

    let (o, (allowed, denied, udp), _) = run(false);
    let nat = o.stdout_str();
    if num(&nat, "connect362_denied") == ENOSYS {
        eprintln!("SKIPPED: this kernel runs no i386 calls (ia32_emulation off): {nat}");
        return;
    }
    let out = &nat;
    let mut f = Faults::default();
    f.check(o.status.success(), "the program failed");
    f.expect(out, "connect362_denied", 0, "native i386 connect");
    f.expect(out, "sendto369_denied", 8, "native i386 sendto");
    f.expect(out, "bind361_bound", 1, "native i386 bind");
    f.expect(out, "sc_connect_denied", 0, "native socketcall connect");
    f.check(
        denied >= 2 && udp >= 4 && allowed == 2,
        format!("native arrivals: allowed={allowed} denied={denied} udp={udp}"),
    );
    f.assert(&context("the attack does not even work natively", &o, None));

    let (o, (allowed, denied, udp), trace) = run(true);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(o.status.success(), "the program or interpose failed");
    for key in [
        "connect362_denied",
        "sendto369_denied",
        "sendmsg370_denied",
        "bind361",
        "listen363_unbound",
        "sc_connect_denied",
        "sc_sendto_denied",
        "sc_sendmsg_denied",
        "sc_bind",
        "sc_listen_unbound",
    ] {
        f.expect(&out, key, ECONNREFUSED, "refused by the rule, as the x86_64 call would be");
    }
    for key in ["bind361_bound", "listen363_bound", "sc_bind_bound", "sc_listen_bound", "x32_bound"] {
        f.expect(&out, key, 0, "bound a port the policy does not allow");
    }
    f.expect(&out, "connect362_allowed", 0, "i386 connect to the allowed port");
    f.expect(&out, "sc_connect_allowed", 0, "socketcall connect to the allowed port");
    // Without x32 in the kernel (the usual case) the calls fail ENOSYS exactly as natively;
    // with it, they are refused as any other ABI's.
    let x32 = num(&nat, "x32_connect") != ENOSYS;
    for key in ["x32_connect", "x32_sendto", "x32_bind"] {
        if x32 {
            f.expect(&out, key, ECONNREFUSED, "x32 call refused by the rule");
        } else {
            f.expect(&out, key, ENOSYS, "this kernel has no x32 ABI: ENOSYS as natively");
        }
    }
    f.check(denied == 0, format!("the denied TCP listener accepted {denied} connection(s)"));
    f.check(udp == 0, format!("the denied UDP port received {udp} datagram(s)"));
    f.check(allowed == 2, format!("the allowed listener accepted {allowed} connection(s), not 2"));
    f.assert(&context("i386/x32 calls under [[deny]]", &o, Some(&trace)));
}

// ---------------------------------------------------------------------------------------------
// 2. AF_UNSPEC

#[test]
fn af_unspec_addresses_are_judged_as_the_kernel_uses_them() {
    let prog = prog("hostile_unspec");
    let dir = scratch("hostile-unspec");
    let run = |with_policy: bool| {
        let (mut allowed, mut denied) = (Sink::udp(), Sink::udp());
        let args = vec![allowed.port(), denied.port(), free_tcp_port().to_string()];
        let p = policy(
            &dir,
            &format!("p{}.toml", allowed.port),
            // 0.0.0.0:0 and [::]:0: the bind an unbound UDP socket's send makes first.
            &deny(
                &["connect", "bind", "sendto", "sendmsg"],
                &[lo(allowed.port), "0.0.0.0:0".into(), "[::]:0".into()],
                Some("EACCES"),
            ),
        );
        let o = if with_policy { under(&p, &prog, &args) } else { native(&prog, &args) };
        (o, allowed.total(), denied.total(), p.with_extension("trace"))
    };
    let edestaddrreq = -(libc::EDESTADDRREQ as i64);

    let (o, allowed, denied, _) = run(false);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.expect(&out, "sendto_denied", 8, "native: AF_UNSPEC is sent as IPv4");
    f.expect(&out, "sendmsg_denied", 8, "native: AF_UNSPEC is sent as IPv4");
    f.expect(&out, "tcp_bind", 0, "native: bind(AF_UNSPEC, INADDR_ANY) binds");
    f.expect(&out, "tcp_bound", 1, "native");
    f.expect(&out, "send_after_disconnect", edestaddrreq, "native: connect(AF_UNSPEC) disconnects");
    f.expect(&out, "v6_mapped_denied", 8, "native: an IPv4-mapped address on a dual-stack socket");
    f.expect(&out, "v6_unspec_denied", edestaddrreq, "native: AF_UNSPEC on an AF_INET6 socket is no address");
    f.check(denied == 4 && allowed == 3, format!("native arrivals: allowed={allowed} denied={denied}"));
    f.assert(&context("the attack does not even work natively", &o, None));

    let (o, allowed, denied, trace) = run(true);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(o.status.success(), "the program or interpose failed");
    f.expect(&out, "sendto_denied", EACCES, "UDP sendto, sin_family=AF_UNSPEC, denied port");
    f.expect(&out, "sendmsg_denied", EACCES, "UDP sendmsg, sin_family=AF_UNSPEC, denied port");
    f.expect(&out, "sendto_allowed", 8, "AF_UNSPEC to the allowed port is IPv4 to the allowed port");
    f.expect(&out, "sendmsg_allowed", 8, "AF_UNSPEC to the allowed port is IPv4 to the allowed port");
    f.expect(&out, "tcp_bind", EACCES, "bind(AF_UNSPEC, 0.0.0.0:port) on TCP");
    f.expect(&out, "tcp_listen", 0, "listen() after the refused bind binds 0.0.0.0:0, which the policy allows");
    f.expect(&out, "tcp_bound", 0, "the TCP socket was bound to the forbidden port");
    f.expect(&out, "udp_bind", EACCES, "bind(AF_UNSPEC, 0.0.0.0:port) on UDP");
    f.expect(&out, "udp_bound", 0, "the UDP socket was bound to the forbidden port");
    f.expect(&out, "connect_allowed", 0, "UDP connect to the allowed port");
    f.expect(&out, "disconnect", 0, "connect(AF_UNSPEC) is a disconnect and allowed");
    f.expect(&out, "send_after_disconnect", edestaddrreq, "the disconnect really happened");
    f.expect(&out, "v6_mapped_denied", EACCES, "an IPv4-mapped address is judged as the IPv4 address");
    f.expect(&out, "v6_mapped_allowed", 8, "an IPv4-mapped address is judged as the IPv4 address");
    f.expect(&out, "v6_inet_denied", EACCES, "an AF_INET address on an AF_INET6 socket");
    // Natively EDESTADDRREQ (no address on an unconnected socket); a refusal is as good.
    let v6u = num(&out, "v6_unspec_denied");
    f.check(v6u < 0, format!("v6_unspec_denied: AF_UNSPEC on an AF_INET6 socket returned {}", desc(v6u)));
    f.check(denied == 0, format!("the denied UDP port received {denied} datagram(s)"));
    f.check(allowed == 3, format!("the allowed UDP port received {allowed} datagram(s), not 3"));
    f.assert(&context("AF_UNSPEC under [[deny]]", &o, Some(&trace)));
}

// ---------------------------------------------------------------------------------------------
// 3. Races: a second thread rewrites what the call reads

fn race(call: &str, variants: &[&str]) {
    let prog = prog("hostile_race");
    let dir = scratch(&format!("hostile-race-{call}"));
    let mut faults = Vec::new();
    let mut summary = Vec::new();
    for variant in variants {
        for blocking in ["1", "0"] {
            let (mut allowed, mut denied) =
                if call == "connect" { (Sink::tcp(), Sink::tcp()) } else { (Sink::udp(), Sink::udp()) };
            let p = policy(
                &dir,
                &format!("{variant}-{blocking}.toml"),
                &deny(&["connect", "bind", "sendto", "sendmsg"], &[lo(allowed.port)], None),
            );
            let args: Vec<String> = [call, variant, &allowed.port(), &denied.port(), TRIES, blocking]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let o = under(&p, &prog, &args);
            let (a, d) = (allowed.total(), denied.total());
            let out = o.stdout_str();
            let what = format!("{call} {variant} blocking={blocking}");
            if !o.status.success() || !out.contains("tries=") {
                faults.push(context(&format!("{what}: the run failed"), &o, Some(&p.with_extension("trace"))));
                continue;
            }
            let (tries, ok) = (num(&out, "tries"), num(&out, "ok"));
            summary.push(format!("{what}: {} allowed={a} denied={d}", out.trim()));
            let mut f = Vec::new();
            if d > 0 {
                f.push(format!("the denied port's receiver got {d} (in {tries} tries)"));
            }
            if num(&out, "connected_denied") > 0 {
                f.push(format!("getpeername showed the denied port {} time(s)", num(&out, "connected_denied")));
            }
            if tries < 1000 {
                f.push(format!("only {tries} tries in the time bound"));
            }
            if ok as u64 != a {
                f.push(format!("{ok} calls succeeded but the allowed receiver got {a}"));
            }
            if matches!(*variant, "port" | "name" | "namelen") && ok == 0 {
                f.push("no call reached the allowed destination".into());
            }
            if !f.is_empty() {
                faults.push(format!(
                    "{what}: {} [{}] (trace: {})",
                    f.join("; "),
                    out.trim(),
                    p.with_extension("trace").display()
                ));
            }
        }
    }
    assert!(faults.is_empty(), "racing {call}:\n{}\nall runs:\n{}", faults.join("\n"), summary.join("\n"));
}

#[test]
fn racing_sendmsg_family_name_and_namelen_never_reaches_a_denied_port() {
    race("sendmsg", &["unspec", "netlink", "name", "namelen", "port"]);
}

#[test]
fn racing_sendto_family_and_port_never_reaches_a_denied_port() {
    race("sendto", &["unspec", "netlink", "port"]);
}

#[test]
fn racing_connect_family_and_port_never_reaches_a_denied_port() {
    race("connect", &["unspec", "netlink", "port"]);
}

/// Beyond issue 11's list: i386 socketcall(2) reads its arguments from memory, so a decision
/// taken on registers alone (sendto without address, socket) is not one for socketcall.
#[test]
fn racing_the_socketcall_argument_block_gains_nothing() {
    let prog = prog("hostile_sockrace");
    let dir = scratch("hostile-sockrace");
    let mut faults = Vec::new();
    let mut summary = Vec::new();
    for mode in ["sendto", "socket"] {
        let (mut allowed, mut denied) = (Sink::udp(), Sink::udp());
        let p = policy(
            &dir,
            &format!("{mode}.toml"),
            &deny(&["connect", "bind", "sendto", "sendmsg", "sendmmsg"], &[lo(allowed.port)], None),
        );
        let o = under(&p, &prog, &[mode.into(), allowed.port(), denied.port(), TRIES.into()]);
        let (a, d) = (allowed.total(), denied.total());
        let out = o.stdout_str();
        if !out.contains("tries=") {
            faults.push(context(&format!("{mode}: the run failed"), &o, Some(&p.with_extension("trace"))));
            continue;
        }
        summary.push(format!("{mode}: {} allowed={a} denied={d}", out.trim()));
        let mut f = Vec::new();
        if d > 0 {
            f.push(format!("the denied port received {d} datagram(s)"));
        }
        if num(&out, "tries") < 1000 {
            f.push("fewer than 1000 tries in the time bound".to_string());
        }
        if mode == "sendto" && (num(&out, "ok") as u64 != a || a == 0) {
            f.push(format!("{} sends succeeded, the allowed port received {a}", num(&out, "ok")));
        }
        if num(&out, "raw_sockets") > 0 {
            f.push(format!(
                "socketcall(SYS_SOCKET) created {} raw socket(s) ({} sent a datagram)",
                num(&out, "raw_sockets"),
                num(&out, "raw_sent")
            ));
        }
        if !f.is_empty() {
            faults.push(format!(
                "socketcall {mode}: {} (trace: {})",
                f.join("; "),
                p.with_extension("trace").display()
            ));
        }
    }
    assert!(
        faults.is_empty(),
        "racing socketcall's argument block:\n{}\nall runs:\n{}",
        faults.join("\n"),
        summary.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 4. sendmmsg

#[test]
fn sendmmsg_is_governed_message_by_message() {
    sendmmsg_governed_by(&["connect", "sendto", "sendmsg", "sendmmsg"]);
}

#[test]
fn a_rule_that_governs_sendmsg_governs_sendmmsg() {
    // sendmmsg sends sendmsg's messages, several at a time (issue 25).
    sendmmsg_governed_by(&["connect", "sendto", "sendmsg"]);
}

fn sendmmsg_governed_by(syscalls: &[&str]) {
    let prog = prog("hostile_sendmmsg");
    let dir = scratch("hostile-sendmmsg");
    let run = |with_policy: bool| {
        let (mut allowed, mut denied) = (Sink::udp(), Sink::udp());
        let p = policy(&dir, &format!("p{}.toml", allowed.port), &deny(syscalls, &[lo(allowed.port)], None));
        let args = vec![allowed.port(), denied.port(), TRIES.to_string()];
        let o = if with_policy { under(&p, &prog, &args) } else { native(&prog, &args) };
        (o, allowed.total(), denied.total(), p.with_extension("trace"))
    };

    let (o, _, denied, _) = run(false);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.expect(&out, "denied", 8, "native sendmmsg");
    f.expect(&out, "i386_denied", 2, "native i386 sendmmsg");
    f.expect(&out, "sc_denied", 2, "native socketcall sendmmsg");
    f.check(denied > 12, format!("natively the denied port got only {denied}"));
    f.assert(&context("the attack does not even work natively", &o, None));

    let (o, allowed, denied, trace) = run(true);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(o.status.success() && out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        f.expect(&out, "denied", ECONNREFUSED, "8 messages to the denied port");
        f.expect(&out, "allowed", 8, "8 messages to the allowed port: the number of messages");
        f.expect(&out, "allowed_msglen", 1, "every msg_len of the allowed sendmmsg is 8");
        f.expect(&out, "connected", 8, "8 messages without address on a socket connected to the allowed port");
        f.expect(&out, "i386_denied", ECONNREFUSED, "i386 sendmmsg to the denied port");
        f.expect(&out, "sc_denied", ECONNREFUSED, "socketcall(SYS_SENDMMSG) to the denied port");
        f.expect(&out, "i386_allowed", 2, "i386 sendmmsg to the allowed port");
        let mixed = num(&out, "mixed");
        f.check(
            mixed == 1 || mixed == ECONNREFUSED,
            format!("mixed [allowed, denied, allowed]: wanted 1 (as the kernel reports a later failure) or the refusal, got {}", desc(mixed)),
        );
        f.check(num(&out, "race_tries") >= 1000, "fewer than 1000 racing tries in the time bound");
        let want = 8 + mixed.max(0) as u64 + 8 + 2 + num(&out, "race_sent") as u64;
        f.check(
            allowed == want,
            format!("the allowed port received {allowed} datagrams; the calls reported {want} sent there"),
        );
    }
    f.check(denied == 0, format!("the denied port received {denied} datagram(s)"));
    f.assert(&context("sendmmsg under [[deny]]", &o, Some(&trace)));
}

// ---------------------------------------------------------------------------------------------
// 5. Taking interpose's listener with pidfd_getfd

/// Whether user 65534 may reach PATH (every directory searchable, the file readable and,
/// when EXEC, executable by others).
fn reachable_by_others(path: &Path, exec: bool) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode()).unwrap_or(0);
    let dirs_ok = path.ancestors().skip(1).all(|d| d.as_os_str().is_empty() || mode(d) & 0o001 != 0);
    let m = mode(path);
    dirs_ok && m & 0o004 != 0 && (!exec || m & 0o001 != 0)
}

#[test]
fn the_program_cannot_take_the_seccomp_listener() {
    use std::os::unix::fs::PermissionsExt;
    let me = PathBuf::from(env!("CARGO_BIN_EXE_interpose"));
    let root = is_root();
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].into_iter().map(PathBuf::from).find(|p| p.exists());
    if root && setpriv.is_none() {
        eprintln!("SKIPPED: running as root and setpriv(1) is missing, so interpose cannot run unprivileged");
        return;
    }
    // A world-readable directory for everything user 65534 must read.
    let dir = std::env::temp_dir().join(format!("interpose-hostile-steal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(dir.clone());
    let stealer = dir.join("hostile_steal");
    std::fs::copy(prog("hostile_steal"), &stealer).unwrap();
    std::fs::set_permissions(&stealer, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = if !root || reachable_by_others(&me, true) {
        me
    } else {
        let b = dir.join("interpose");
        std::fs::copy(&me, &b).unwrap();
        std::fs::set_permissions(&b, std::fs::Permissions::from_mode(0o755)).unwrap();
        b
    };
    let p = dir.join("deny.toml");
    std::fs::write(&p, deny(&["connect", "bind", "sendto", "sendmsg"], &[lo(1)], None)).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let unprivileged = |args: &[&std::ffi::OsStr]| {
        let mut c = match (&setpriv, root) {
            (Some(sp), true) => {
                let mut c = Command::new(sp);
                c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
                c
            }
            _ => Command::new(args[0]),
        };
        let rest = if root { args } else { &args[1..] };
        c.args(rest).current_dir(&dir).env_remove("RUST_LOG").stdin(Stdio::null());
        run_bounded(&mut c, RUN_LIMIT)
    };

    // Control: a dumpable parent of the same user (a shell) gives its descriptors away, so the
    // program's technique works.
    let script = format!("{}; exit $?", stealer.display());
    let o = unprivileged(&["/bin/sh".as_ref(), "-c".as_ref(), script.as_ref()]);
    let out = o.stdout_str();
    assert!(
        out.contains("stolen=") && num(&out, "parent_getfd_ok") >= 3,
        "{}",
        context("control: pidfd_getfd on a same-user shell should work", &o, None)
    );

    let o = unprivileged(&[
        bin.as_os_str(),
        "run".as_ref(),
        "-p".as_ref(),
        p.as_os_str(),
        "--".as_ref(),
        stealer.as_os_str(),
    ]);
    let out = o.stdout_str();
    assert!(
        o.status.success() && out.contains("stolen="),
        "{}",
        context("interpose run as user 65534 failed", &o, None)
    );
    assert_eq!(
        num(&out, "stolen"),
        0,
        "{}",
        context(
            "the program copied interpose's seccomp notify descriptor with pidfd_getfd (it can answer its own calls)",
            &o,
            None
        )
    );
    eprintln!("hostile_steal under interpose: {}", out.trim());
}

// ---------------------------------------------------------------------------------------------
// 6. Holes closed by refusing

#[test]
fn raw_sockets_io_uring_and_listen_without_bind_are_refused() {
    let prog = prog("hostile_holes");
    let dir = scratch("hostile-holes");
    let allowed = free_tcp_port();
    let args = vec![allowed.to_string()];
    let rules = deny(&["connect", "bind", "sendto", "sendmsg"], &[lo(allowed)], Some("EACCES"));

    let o = native(&prog, &args);
    let nat = o.stdout_str();
    let mut f = Faults::default();
    if is_root() {
        for key in ["raw_tcp", "packet", "sock_packet", "i386_raw_tcp", "sc_raw_tcp"] {
            f.expect(&nat, key, 0, "root creates it natively");
        }
    } else {
        eprintln!("not root: raw sockets fail natively too; only their refusal is checked");
    }
    f.expect(&nat, "io_uring", 0, "io_uring_setup natively");
    f.expect(&nat, "i386_io_uring", 0, "i386 io_uring_setup natively");
    f.expect(&nat, "listen_unbound", 0, "listen() binds an unbound socket natively");
    f.check(num(&nat, "listen_unbound_port") > 0, "listen() without bind got no port natively");
    f.assert(&context("natively", &o, None));

    let p = policy(&dir, "deny.toml", &rules);
    let o = under(&p, &prog, &args);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(o.status.success() && out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        for key in
            ["raw_tcp", "raw6_udp", "packet", "sock_packet", "io_uring", "i386_raw_tcp", "sc_raw_tcp", "i386_io_uring"]
        {
            f.expect(&out, key, EPERM, "refused under a [[deny]] policy");
        }
        let xdp = num(&out, "xdp");
        f.check(
            xdp == EPERM || (num(&nat, "xdp") < 0 && xdp == num(&nat, "xdp")),
            format!("xdp: wanted EPERM (or the native failure), got {}", desc(xdp)),
        );
        f.expect(&out, "listen_unbound", EACCES, "listen() on an unbound socket is a bind to 0.0.0.0:0");
        f.expect(&out, "listen_unbound_port", 0, "listen() without bind got a port");
        f.expect(&out, "bind_allowed", 0, "bind to the allowed address");
        f.expect(&out, "listen_bound", 0, "listen() on a socket bound to the allowed address");
    }
    f.assert(&context("under [[deny]]", &o, Some(&p.with_extension("trace"))));

    let p =
        policy(&dir, "allow.toml", &format!("{rules}\n[network]\nallow_raw_sockets = true\nallow_io_uring = true\n"));
    let o = under(&p, &prog, &args);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(o.status.success() && out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        for key in ["raw_tcp", "raw6_udp", "packet", "sock_packet", "xdp", "io_uring", "i386_raw_tcp", "i386_io_uring"]
        {
            f.expect(&out, key, num(&nat, key), "allowed by [network]: as natively");
        }
        f.expect(&out, "listen_unbound", EACCES, "[network] does not change listen()");
    }
    f.assert(&context(
        "under [[deny]] with allow_raw_sockets and allow_io_uring",
        &o,
        Some(&p.with_extension("trace")),
    ));
}

// ---------------------------------------------------------------------------------------------
// 7. Identity seen by peers

fn identity_name() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("interpose-hostile-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Checks the credentials a hostile_identity run reports against the program's own.
fn check_identity(f: &mut Faults, out: &str, keys: &[&str], with_pid: bool) {
    let (pid, uid, gid) = (num(out, "pid"), num(out, "uid"), num(out, "gid"));
    for k in keys {
        if with_pid {
            f.expect(out, &format!("{k}_pid"), pid, "the program's pid");
        }
        f.expect(out, &format!("{k}_uid"), uid, "the program's uid");
        f.expect(out, &format!("{k}_gid"), gid, "the program's gid");
    }
}

#[test]
fn peers_see_the_programs_credentials_not_interposes() {
    let prog = prog("hostile_identity");
    let dir = scratch("hostile-identity");
    let drops: &[bool] = if is_root() { &[false, true] } else { &[false] };
    let mut f = Faults::default();
    let mut seen = Vec::new();
    for &drop in drops {
        let how = if drop { "dropped to 65534" } else { "as started" };
        let name = identity_name();
        let mut args = vec![name.clone()];
        if drop {
            args.push("drop".into());
        }
        let o = native(&prog, &args);
        let out = o.stdout_str();
        let mut n = Faults::default();
        check_identity(&mut n, &out, &["write", "send", "sendmsg", "nb", "b", "nb_srv", "b_srv"], true);
        n.assert(&context(&format!("natively, {how}"), &o, None));

        // Executed calls, no deny rule.
        let trace = dir.join(format!("{name}.trace"));
        let o = run_bounded(
            interpose()
                .arg("run")
                .arg("-o")
                .arg(&trace)
                .args(["-e", "trace=write,sendto,sendmsg,connect", "--"])
                .arg(&prog)
                .args(&args)
                .stdin(Stdio::null()),
            RUN_LIMIT,
        );
        let out = o.stdout_str();
        if !out.contains("done=1") {
            f.check(false, context(&format!("traced, {how}: the run failed"), &o, Some(&trace)));
            continue;
        }
        let before = f.0.len();
        check_identity(&mut f, &out, &["write", "send", "sendmsg", "nb", "b", "nb_srv", "b_srv"], true);
        for m in &mut f.0[before..] {
            *m = format!("-e trace=..., {how}: {m}");
        }
        seen.push(format!("traced, {how}: {}", out.trim()));

        // A deny rule governing connect and bind (so listen too) that allows the abstract name:
        // the executed calls may carry interpose's pid, but never its uid or gid.
        let name = identity_name();
        args[0] = name.clone();
        let p = policy(&dir, &format!("{name}.toml"), &deny(&["connect", "bind"], &[format!("unix:@{name}")], None));
        let o = under(&p, &prog, &args);
        let out = o.stdout_str();
        if !out.contains("done=1") {
            f.check(
                false,
                context(&format!("under deny, {how}: the run failed"), &o, Some(&p.with_extension("trace"))),
            );
            continue;
        }
        let before = f.0.len();
        check_identity(&mut f, &out, &["write", "send", "sendmsg"], true);
        check_identity(&mut f, &out, &["nb", "b", "nb_srv", "b_srv"], false);
        f.expect(&out, "nb_connect", 0, "allowed connect");
        f.expect(&out, "b_connect", 0, "allowed connect");
        for m in &mut f.0[before..] {
            *m = format!("[[deny]] connect and bind, {how}: {m}");
        }
        seen.push(format!("under deny, {how}: {}", out.trim()));
    }
    eprintln!("{}", seen.join("\n"));
    f.assert(&format!("credentials seen by peers:\n{}", seen.join("\n")));
}

// ---------------------------------------------------------------------------------------------
// 8. A program that dropped its privileges

/// Runs hostile_privdrop MODE natively and under a policy allowing 127.0.0.1:80 and a unix socket
/// in a root-only directory: every result must be the native one, and the socket must accept
/// what it accepted natively. None when MODE cannot be set up on this machine.
fn privdrop(mode: &str, native_expect: &[(&str, i64)]) -> Option<Faults> {
    use std::os::unix::fs::PermissionsExt;
    let prog = prog("hostile_privdrop");
    let dir = scratch(&format!("hostile-privdrop-{mode}"));
    let private = dir.join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let sock = private.join("s");
    let l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    l.set_nonblocking(true).unwrap();
    let accepted = || std::iter::from_fn(|| l.accept().ok()).count();
    let args = vec![mode.to_string(), "80".to_string(), sock.display().to_string()];
    let p = policy(&dir, "p.toml", &deny(&["bind", "connect"], &[lo(80), format!("unix:{}", sock.display())], None));

    let o = native(&prog, &args);
    let nat = o.stdout_str();
    if nat.contains("unavailable=") {
        eprintln!("mode {mode} cannot be set up here: {}", nat.trim());
        return None;
    }
    let mut f = Faults::default();
    for (key, want) in native_expect {
        f.expect(&nat, key, *want, "natively");
    }
    let native_accepted = accepted();
    f.assert(&context(&format!("mode {mode}, native run"), &o, None));

    let o = under(&p, &prog, &args);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(out.contains("done=1"), context(&format!("mode {mode}: the program or interpose failed"), &o, None));
    if out.contains("done=1") {
        for key in ["tcp_bind", "udp_bind", "unix_connect"] {
            f.expect(&out, key, num(&nat, key), &format!("mode {mode}: as natively"));
        }
    }
    let n = accepted();
    f.check(
        n == native_accepted,
        format!("mode {mode}: the root-only unix socket accepted {n} connection(s) (natively {native_accepted})"),
    );
    if !f.0.is_empty() {
        f.0.push(format!(
            "mode {mode}: native: {}; under interpose: {} (trace: {})",
            nat.trim(),
            out.trim(),
            p.with_extension("trace").display()
        ));
    }
    Some(f)
}

#[test]
fn a_program_that_dropped_privileges_gets_no_more_than_natively() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (the program drops root privileges itself)");
        return;
    }
    let all_eacces = [("tcp_bind", EACCES), ("udp_bind", EACCES), ("unix_connect", EACCES)];
    let f = privdrop("drop", &all_eacces).expect("setresuid works for root");
    f.assert("a program that dropped root with setresuid, under [[deny]] allowing 127.0.0.1:80 and the socket");
}

/// Beyond issue 11's list: credentials are per thread, capabilities are not the uid, and a user
/// namespace gives capabilities that count in that namespace only.
#[test]
fn credentials_given_up_per_thread_by_capabilities_or_in_a_user_namespace_stay_given_up() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (the program drops root privileges itself)");
        return;
    }
    let all_eacces = [("tcp_bind", EACCES), ("udp_bind", EACCES), ("unix_connect", EACCES)];
    let mut all = Faults::default();
    for (mode, expect) in [("thread", &all_eacces[..]), ("caps", &all_eacces[..2]), ("userns", &all_eacces[..])] {
        if let Some(f) = privdrop(mode, expect) {
            all.0.extend(f.0);
        }
    }
    all.assert("privileges given up other ways, under [[deny]] allowing 127.0.0.1:80 and the socket");
}

// ---------------------------------------------------------------------------------------------
// 8b. TCP Fast Open: a send that connects

#[test]
fn a_tcp_fast_open_send_is_judged_as_the_connect_it_is() {
    let prog = prog("hostile_tfo");
    let dir = scratch("hostile-tfo");
    let denied_keys = ["sendto_denied", "sendmsg_denied", "sendmmsg_denied", "i386_sendto_denied"];
    let run = |syscalls: &[&str]| {
        let (mut allowed, mut denied) = (Sink::tcp(), Sink::tcp());
        let args = vec![allowed.port(), denied.port()];
        let p = policy(&dir, &format!("p{}.toml", allowed.port), &deny(syscalls, &[lo(allowed.port)], None));
        let o = if syscalls.is_empty() { native(&prog, &args) } else { under(&p, &prog, &args) };
        (o, allowed.total(), denied.total(), denied.port as i64, allowed.port as i64, p.with_extension("trace"))
    };

    let (o, _, denied, dport, _, _) = run(&[]);
    let nat = o.stdout_str();
    let mut f = Faults::default();
    for key in denied_keys {
        f.expect(&nat, &format!("{key}_peer"), dport, "natively a MSG_FASTOPEN send connects");
    }
    f.check(denied == 4, format!("natively the denied listener accepted {denied}, not 4"));
    f.assert(&context("the attack does not even work natively", &o, None));

    // A rule that governs connect only, and one that governs the sends too.
    for syscalls in [&["connect"][..], &["connect", "sendto", "sendmsg", "sendmmsg"][..]] {
        let (o, allowed, denied, dport, aport, trace) = run(syscalls);
        let out = o.stdout_str();
        let mut f = Faults::default();
        f.check(out.contains("done=1"), "the program or interpose failed");
        if out.contains("done=1") {
            for key in denied_keys {
                let (r, peer) = (num(&out, key), num(&out, &format!("{key}_peer")));
                f.check(
                    r < 0 && peer != dport,
                    format!(
                        "{key}: a MSG_FASTOPEN send to the denied port returned {} and connected to {peer}",
                        desc(r)
                    ),
                );
            }
            f.expect(&out, "sendto_allowed", 1, "a MSG_FASTOPEN send to the allowed port");
            f.expect(&out, "sendto_allowed_peer", aport, "connected to the allowed port");
        }
        f.check(denied == 0, format!("the denied listener accepted {denied} connection(s)"));
        f.check(allowed == 1, format!("the allowed listener accepted {allowed}, not 1"));
        f.assert(&context(&format!("[[deny]] syscalls = {syscalls:?}"), &o, Some(&trace)));
    }
}

// ---------------------------------------------------------------------------------------------
// 8c. A destination rewritten by the kernel after the check

/// This process's cgroup (v2) directory, if there is a cgroup2 hierarchy.
fn own_cgroup2_dir() -> Option<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount = mountinfo.lines().find_map(|l| {
        let (before, after) = l.split_once(" - ")?;
        (after.split_whitespace().next()? == "cgroup2").then(|| before.split_whitespace().nth(4).map(PathBuf::from))?
    })?;
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let rel = cgroups.lines().find_map(|l| l.strip_prefix("0::"))?;
    Some(mount.join(rel.trim_start_matches('/')))
}

/// Beyond issue 11's list: a privileged program attaches a cgroup BPF program that rewrites
/// connect destinations to its own cgroup; the kernel runs it inside the connect interpose
/// executes (the socket's cgroup is the program's), after the check.
#[test]
fn a_cgroup_bpf_program_cannot_rewrite_an_allowed_destination() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (BPF_PROG_LOAD, cgroup writes)");
        return;
    }
    let Some(home) = own_cgroup2_dir() else {
        eprintln!("SKIPPED: no cgroup v2 hierarchy");
        return;
    };
    let prog = prog("hostile_bpf");
    let dir = scratch("hostile-bpf");
    let cg = home.join(format!("interpose-hostile-bpf-{}", std::process::id()));
    let run = |with_policy: bool| {
        let (mut allowed, mut denied) = (Sink::tcp(), Sink::tcp());
        let args = vec![allowed.port(), denied.port(), cg.display().to_string(), home.display().to_string()];
        let p = policy(
            &dir,
            &format!("p{}.toml", allowed.port),
            &deny(&["connect", "bind", "sendto", "sendmsg", "sendmmsg"], &[lo(allowed.port)], None),
        );
        let o = if with_policy { under(&p, &prog, &args) } else { native(&prog, &args) };
        let _ = std::fs::remove_dir(&cg);
        (o, allowed.total(), denied.total(), denied.port as i64, p.with_extension("trace"))
    };

    let (o, _, denied, dport, _) = run(false);
    let nat = o.stdout_str();
    if nat.contains("unavailable=") || !nat.contains("done=1") || num(&nat, "load") != 0 || num(&nat, "attach") != 0 {
        eprintln!("SKIPPED: a cgroup BPF program cannot be attached here: {} {}", nat.trim(), o.stderr);
        return;
    }
    let mut f = Faults::default();
    f.expect(&nat, "peer", dport, "natively the BPF program rewrites the port");
    f.check(denied == 1, format!("natively the denied listener accepted {denied}"));
    f.assert(&context("the attack does not even work natively", &o, None));

    let (o, _, denied, dport, trace) = run(true);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        let peer = num(&out, "peer");
        f.check(peer != dport, format!("connect(127.0.0.1:allowed) ended up connected to the denied port {peer}"));
    }
    f.check(denied == 0, format!("the denied listener accepted {denied} connection(s)"));
    f.assert(&context("a cgroup/connect4 BPF program under [[deny]]", &o, Some(&trace)));
}

// ---------------------------------------------------------------------------------------------
// 9. Nothing outlives the program

/// Starts `interpose run -p POLICY -- hostile_hang MODE PORT` and returns it with the program's
/// pid (its first line).
fn start_hang(policy: &Path, mode: &str, port: u16) -> (std::process::Child, i64) {
    let mut child = interpose()
        .arg("run")
        .arg("-o")
        .arg(policy.with_extension("trace"))
        .arg("-p")
        .arg(policy)
        .arg("--")
        .arg(prog("hostile_hang"))
        .args([mode, &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while out.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
        line.push(b[0]);
    }
    let line = String::from_utf8_lossy(&line).into_owned();
    if !line.starts_with("pid=") {
        let _ = child.kill();
        let _ = child.wait();
        panic!("hostile_hang under interpose printed {line:?}");
    }
    (child, num(&line, "pid"))
}

/// Waits for the program (killed by its alarm) to die, then for interpose to exit; returns how
/// long interpose outlived the program, or None (after killing it) when that exceeded LIMIT.
fn outlives(child: &mut std::process::Child, pid: i64, limit: Duration) -> (Instant, Option<Duration>) {
    let died = wait_until(Instant::now() + Duration::from_secs(10), || gone(pid));
    if !died {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the program (pid {pid}) was not killed by its alarm within 10 s");
    }
    let death = Instant::now();
    let exited = wait_until(death + limit, || child.try_wait().unwrap().is_some());
    if exited {
        (death, Some(death.elapsed()))
    } else {
        let _ = child.kill();
        let _ = child.wait();
        (death, None)
    }
}

#[test]
fn a_program_killed_in_an_executed_blocking_connect_leaves_nothing_behind() {
    let prog = prog("hostile_hang");
    let dir = scratch("hostile-hang-connect");
    // A listener that never accepts, its one-connection queue filled: connects to it hang.
    let l = raw_listener(0, None);
    let port = l.local_addr().unwrap().port();
    let _filler = TcpStream::connect(l.local_addr().unwrap()).unwrap();

    let o = native(&prog, &["connect".into(), port.to_string()]);
    assert_eq!(
        o.status.signal(),
        Some(libc::SIGALRM),
        "{}",
        context("natively the connect should hang until the alarm kills the program", &o, None)
    );

    let p = policy(&dir, "p.toml", &deny(&["connect", "sendto", "sendmsg"], &[lo(port)], None));
    let (mut child, pid) = start_hang(&p, "connect", port);
    let (_, outlived) = outlives(&mut child, pid, Duration::from_secs(3));
    assert!(
        outlived.is_some(),
        "interpose was still running 3 s after the program died (SIGALRM) in a blocking connect that interpose \
         executed for it (trace: {})",
        p.with_extension("trace").display()
    );
    drop(l);
}

#[test]
fn a_program_killed_in_an_executed_blocking_send_leaves_nothing_behind() {
    let prog = prog("hostile_hang");
    let dir = scratch("hostile-hang-send");
    let l = raw_listener(8, Some(65536));
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    let accept = |l: &TcpListener| {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            match l.accept() {
                Ok((s, _)) => return s,
                Err(_) if Instant::now() < end => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("the program never connected: {e}"),
            }
        }
    };

    // Natively the send blocks until the alarm.
    let mut native_child = Command::new(&prog)
        .args(["send", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let peer = accept(&l);
    let end = Instant::now() + Duration::from_secs(10);
    assert!(wait_until(end, || native_child.try_wait().unwrap().is_some()), "natively the program did not die");
    assert_eq!(native_child.wait().unwrap().signal(), Some(libc::SIGALRM), "natively the send should block");
    drop(peer);

    let p = policy(&dir, "p.toml", &deny(&["connect", "sendto", "sendmsg"], &[lo(port)], None));
    let (mut child, pid) = start_hang(&p, "send", port);
    let mut peer = accept(&l);
    // The peer does not read until interpose had its chance to exit: reading would let the send
    // complete.
    let (death, outlived) = outlives(&mut child, pid, Duration::from_secs(3));
    let mut f = Faults::default();
    f.check(
        outlived.is_some(),
        format!(
            "interpose was still running 3 s after the program died (SIGALRM) in a blocking sendmsg that interpose \
             executed for it (trace: {})",
            p.with_extension("trace").display()
        ),
    );
    // Then the peer must see the end of the connection: nobody holds it any more.
    let deadline = (death + Duration::from_secs(3)).max(Instant::now() + Duration::from_secs(1));
    peer.set_nonblocking(false).unwrap();
    let mut got = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    let end = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break format!("no EOF nor reset within 3 s of the program's death ({got} bytes read)");
        }
        peer.set_read_timeout(Some(left)).unwrap();
        match peer.read(&mut buf) {
            Ok(0) => break String::new(),
            Ok(n) => got += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break String::new(),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => break format!("peer read failed: {e}"),
        }
    };
    f.check(end.is_empty(), end);
    eprintln!("the peer read {got} bytes of the 32 MiB send before EOF");
    f.assert("a program killed in a blocking send");
}

// ---------------------------------------------------------------------------------------------
// 10. Oversize lengths

#[test]
fn oversize_lengths_behave_as_in_the_kernel() {
    let prog = prog("hostile_oversize");
    let dir = scratch("hostile-oversize");
    let (ua, ud, ta) = (free_udp_port(), free_udp_port(), free_tcp_port());
    let args = vec![ua.to_string(), ud.to_string(), ta.to_string()];
    let p = policy(&dir, "p.toml", &deny(&["connect", "sendto", "sendmsg"], &[lo(ua), lo(ta)], None));

    let o = native(&prog, &args);
    let nat = o.stdout_str();
    let mut f = Faults::default();
    f.expect(&nat, "namelen200", 8, "native: msg_namelen 200 is clamped to 128");
    f.expect(&nat, "big_sendto", 100 << 20, "native: a blocking 100 MiB TCP send");
    f.assert(&context("native run", &o, None));

    let o = under(&p, &prog, &args);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(o.status.success() && out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        for key in [
            "namelen200",
            "namelen200_recv",
            "sendto_len_hi",
            "sendto_len_hi_recv",
            "connect_len_hi",
            "big_sendto",
            "big_received",
        ] {
            f.expect(&out, key, num(&nat, key), "as natively");
        }
        f.expect(&out, "namelen200_denied", ECONNREFUSED, "msg_namelen 200 to the denied port");
        f.expect(&out, "namelen200_denied_recv", 0, "the denied port received it");
    }
    f.assert(&context(&format!("under [[deny]] (native: {})", nat.trim()), &o, Some(&p.with_extension("trace"))));
}

// ---------------------------------------------------------------------------------------------
// 11. A deny-only policy logs and counts refusals

#[test]
fn a_deny_only_policy_logs_and_counts_refusals() {
    let prog = prog("hostile_refused");
    let dir = scratch("hostile-refused");
    let (mut tcp, mut udp) = (Sink::tcp(), Sink::udp());
    let p = policy(&dir, "deny.toml", &deny(&["connect", "sendto"], &[lo(1)], None));
    let o = run_bounded(
        interpose()
            .args(["run", "-C", "-p"])
            .arg(&p)
            .arg("--")
            .arg(&prog)
            .args([tcp.port(), udp.port()])
            .stdin(Stdio::null()),
        RUN_LIMIT,
    );
    let (t, u) = (tcp.total(), udp.total());
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(o.status.success() && out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        f.expect(&out, "connect", ECONNREFUSED, "refused connect");
        f.expect(&out, "sendto", ECONNREFUSED, "refused sendto");
    }
    f.check(t == 0 && u == 0, format!("the denied listeners got {t} connection(s) and {u} datagram(s)"));
    let logged = |name: &str| o.stderr.lines().any(|l| l.starts_with(&format!("{name}(")) && l.ends_with("(DENIED)"));
    f.check(logged("connect"), "no `connect(...) = -1 ECONNREFUSED (...) (DENIED)` line in the log");
    f.check(logged("sendto"), "no `sendto(...) = -1 ECONNREFUSED (...) (DENIED)` line in the log");
    if o.stderr.contains("------") {
        let rows = parse_rows(&o.stderr);
        for name in ["connect", "sendto"] {
            f.check(
                rows.get(name) == Some(&(1, Some(1))),
                format!("the summary's {name} row is {:?}, not 1 call with 1 error", rows.get(name)),
            );
        }
    } else {
        f.check(false, "no summary table");
    }
    let denied_line = o.stderr.lines().find(|l| l.starts_with("denied by [[deny]] rules"));
    f.check(
        denied_line.is_some_and(|l| {
            let list = l.split(": ").nth(1).unwrap_or("");
            let items: Vec<&str> = list.split(", ").collect();
            items.contains(&"connect 1") && items.contains(&"sendto 1")
        }),
        format!("the summary's `denied by [[deny]] rules` line is {denied_line:?}"),
    );
    f.assert(&context("`interpose run -C -p deny.toml` (no [trace])", &o, None));
}

// ---------------------------------------------------------------------------------------------
// 12. Beyond the fourteen: what the calls' options, protocols and executors still change

/// Packets on lo that `want` accepts (given the IP packet), counted by a thread, as a Sink
/// counts arrivals. None when an AF_PACKET socket cannot be had (it needs CAP_NET_RAW).
fn sniff_lo(want: impl Fn(&[u8]) -> bool + Send + 'static) -> Option<Sink> {
    use std::os::fd::{FromRawFd, OwnedFd};
    const PACKET_OUTGOING: u8 = 4;
    let proto = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: plain socket calls on a descriptor this function owns (an OwnedFd closes it), with
    // a zeroed sockaddr_ll of the right size.
    unsafe {
        let fd = libc::socket(
            libc::AF_PACKET,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            i32::from(proto),
        );
        if fd < 0 {
            return None;
        }
        let fd = OwnedFd::from_raw_fd(fd);
        let mut ll: libc::sockaddr_ll = std::mem::zeroed();
        ll.sll_family = libc::AF_PACKET as u16;
        ll.sll_protocol = proto;
        ll.sll_ifindex = libc::if_nametoindex(c"lo".as_ptr()) as i32;
        let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        if libc::bind(fd.as_raw_fd(), &ll as *const libc::sockaddr_ll as *const libc::sockaddr, len) != 0 {
            return None;
        }
        let mut buf = vec![0u8; 65536];
        Some(Sink::start(0, move || {
            let mut from: libc::sockaddr_ll = std::mem::zeroed();
            let mut flen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            let n = libc::recvfrom(
                fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                0,
                &mut from as *mut libc::sockaddr_ll as *mut libc::sockaddr,
                &mut flen,
            );
            if n < 0 {
                return if std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) {
                    None
                } else {
                    Some(false)
                };
            }
            // lo shows each packet twice: going out and coming in. Count it coming in.
            Some(from.sll_pkttype != PACKET_OUTGOING && want(&buf[..n as usize]))
        }))
    }
}

/// The TCP or UDP destination port of a transport header at `at`, if PROTO is TCP or UDP.
fn dport(p: &[u8], proto: u8, at: usize) -> Option<u16> {
    (proto == libc::IPPROTO_TCP as u8 || proto == libc::IPPROTO_UDP as u8)
        .then(|| p.get(at + 2..at + 4).map(|b| u16::from_be_bytes([b[0], b[1]])))
        .flatten()
}

/// An IPv4 packet with IP options whose destination is 127.0.0.1:PORT.
fn v4_options_to(port: u16) -> impl Fn(&[u8]) -> bool + Send + 'static {
    move |p: &[u8]| {
        let ihl = usize::from(p.first().map_or(0, |b| b & 15)) * 4;
        p.len() > 20 && p[0] >> 4 == 4 && ihl > 20 && p[16..20] == [127, 0, 0, 1] && dport(p, p[9], ihl) == Some(port)
    }
}

/// An IPv6 packet with a routing header whose destination is [::1]:PORT.
fn v6_rthdr_to(port: u16) -> impl Fn(&[u8]) -> bool + Send + 'static {
    move |p: &[u8]| {
        p.len() > 48
            && p[0] >> 4 == 6
            && p[6] == 43
            && p[24..40] == std::net::Ipv6Addr::LOCALHOST.octets()
            && dport(p, p[40], 40 + (usize::from(p[41]) + 1) * 8) == Some(port)
    }
}

/// Beyond the fourteen: a source route is an option of the socket, set with setsockopt, which no
/// rule governs. The call names an allowed destination and is judged on it; the kernel then
/// sends the packet to the route's first hop. IPv6 takes a segment routing header from anyone
/// (IPV6_RTHDR, type 4); IPv4 takes a loose source route (IP_OPTIONS) from a program with
/// CAP_NET_RAW, which the threat model keeps in scope (only CAP_NET_ADMIN, CAP_SYS_ADMIN and
/// CAP_SYS_PTRACE are not).
#[test]
fn a_source_route_set_with_setsockopt_cannot_take_an_allowed_call_elsewhere() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (an AF_PACKET socket sees where the packets went)");
        return;
    }
    let prog = prog("hostile_srcroute");
    let dir = scratch("hostile-srcroute");
    // Sniffs lo while PROG MODE runs (natively or under the policy): (output, packets to
    // 127.0.0.1:port with IP options, packets to [::1]:port with a routing header).
    let run = |mode: &str, with_policy: bool| {
        let port = free_udp_port();
        let (Some(mut v4), Some(mut v6)) = (sniff_lo(v4_options_to(port)), sniff_lo(v6_rthdr_to(port))) else {
            panic!("an AF_PACKET socket on lo cannot be had as root");
        };
        let p = policy(
            &dir,
            &format!("{mode}-{port}.toml"),
            &deny(
                &["connect", "sendto", "sendmsg", "sendmmsg"],
                &[format!("127.0.0.2:{port}"), format!("[fe80::1]:{port}")],
                None,
            ),
        );
        let args = vec![mode.to_string(), port.to_string()];
        let o = if with_policy { under(&p, &prog, &args) } else { native(&prog, &args) };
        std::thread::sleep(Duration::from_millis(100));
        (o, v4.total(), v6.total(), port, p.with_extension("trace"))
    };

    let mut all = Faults::default();
    for mode in ["user", "caps"] {
        let (o, v4, v6, _, _) = run(mode, false);
        let nat = o.stdout_str();
        if !nat.contains("done=1") {
            eprintln!("mode {mode} cannot be set up here: {}", nat.trim());
            continue;
        }
        let mut f = Faults::default();
        f.check(num(&nat, "srh") == 0 && v6 > 0, format!("natively {v6} IPv6 packet(s) went to ::1"));
        if num(&nat, "lsrr") == 0 {
            f.check(v4 > 0, format!("natively {v4} IPv4 packet(s) went to 127.0.0.1"));
        }
        f.assert(&context(&format!("mode {mode}: the attack does not even work natively"), &o, None));

        let (o, v4, v6, port, trace) = run(mode, true);
        let out = o.stdout_str();
        let mut f = Faults::default();
        f.check(out.contains("done=1"), "the program or interpose failed");
        f.check(
            v6 == 0,
            format!(
                "{v6} IPv6 packet(s) left for [::1]:{port}: UDP sendto/send and a TCP connect named [fe80::1%lo]:{port}, \
                 which the rule allows, on sockets given a segment routing header with setsockopt(IPV6_RTHDR) \
                 (setsockopt returned {})",
                desc(num(&out, "srh"))
            ),
        );
        f.check(
            v4 == 0,
            format!(
                "{v4} IPv4 packet(s) left for 127.0.0.1:{port}: the calls named 127.0.0.2:{port}, which the rule allows, \
                 on sockets given a loose source route with setsockopt(IP_OPTIONS) (returned {})",
                desc(num(&out, "lsrr"))
            ),
        );
        if !f.0.is_empty() {
            f.0.push(format!("mode {mode}: {} (trace: {})", out.trim(), trace.display()));
        }
        all.0.extend(f.0);
    }
    all.assert("a source route set with setsockopt, under [[deny]] allowing 127.0.0.2:PORT and [fe80::1]:PORT");
}

/// Beyond the fourteen: an unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP) takes a
/// sockaddr_in whose port the kernel never reads. A rule that allows a port (`*:443`, meant for
/// TCP and UDP) lets ICMP echo requests, with any payload, reach every address it covers.
#[test]
fn a_ping_socket_is_not_allowed_by_a_port_it_does_not_have() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (the program opens ping sockets in a network namespace of its own)");
        return;
    }
    let prog = prog("hostile_ping");
    let dir = scratch("hostile-ping");
    let port = free_udp_port();
    let args = vec![port.to_string()];
    let o = native(&prog, &args);
    let nat = o.stdout_str();
    if nat.contains("unavailable=") {
        eprintln!("SKIPPED: a network namespace with ping sockets cannot be set up here: {}", nat.trim());
        return;
    }
    let mut f = Faults::default();
    f.expect(&nat, "v4_reply", 1, "natively the echo request to 127.0.0.1 is answered");
    f.expect(&nat, "v6_reply", 1, "natively the echo request to ::1 is answered");
    f.assert(&context("the attack does not even work natively", &o, None));

    let p = policy(&dir, "p.toml", &deny(&["connect", "sendto", "sendmsg", "sendmmsg"], &[format!("*:{port}")], None));
    let o = under(&p, &prog, &args);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        f.check(
            num(&out, "v4_reply") == 0,
            format!(
                "an ICMP echo request (sendto {} bytes, sin_port={port}) reached 127.0.0.1 and was answered: \
                 `*:{port}` allows port {port} on any host, and ICMP has no port",
                desc(num(&out, "v4_port"))
            ),
        );
        f.check(
            num(&out, "v6_reply") == 0,
            format!(
                "an ICMPv6 echo request (sendto {} bytes, sin6_port={port}) reached ::1 and was answered",
                desc(num(&out, "v6_port"))
            ),
        );
        f.expect(&out, "v4_other_port", ECONNREFUSED, "the same echo with another port");
    }
    f.assert(&context(&format!("ping sockets under [[deny]] allowing *:{port}"), &o, Some(&p.with_extension("trace"))));
}

/// Beyond the fourteen: a daemon that gives up root in the process (ntpd, chronyd, dnsmasq) is
/// left non-dumpable by the kernel. interpose executes its governed sends as the program's
/// credentials, and as them it may not read the program's memory: every allowed send fails.
#[test]
fn a_program_that_dropped_root_still_sends_where_it_is_allowed() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (the program drops root privileges itself)");
        return;
    }
    let prog = prog("hostile_dropsend");
    let dir = scratch("hostile-dropsend");
    let run = |with_policy: bool| {
        let mut allowed = Sink::udp();
        let p = policy(
            &dir,
            &format!("p{}.toml", allowed.port),
            &deny(&["connect", "sendto", "sendmsg", "sendmmsg"], &[lo(allowed.port)], None),
        );
        let args = vec![allowed.port()];
        let o = if with_policy { under(&p, &prog, &args) } else { native(&prog, &args) };
        (o, allowed.total(), p.with_extension("trace"))
    };
    let (o, got, _) = run(false);
    let nat = o.stdout_str();
    let mut f = Faults::default();
    f.expect(&nat, "dumpable", 0, "natively the program is non-dumpable after setresuid");
    f.check(got == 3, format!("natively the allowed port received {got}, not 3"));
    f.assert(&context("native run", &o, None));

    let (o, got, trace) = run(true);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        for key in ["sendto", "sendmsg", "sendmmsg", "mmsg_len"] {
            f.expect(&out, key, num(&nat, key), "as natively: the destination is allowed");
        }
    }
    f.check(got == 3, format!("the allowed port received {got} datagram(s), not 3"));
    f.assert(&context(&format!("a program that dropped root (native: {})", nat.trim()), &o, Some(&trace)));
}

/// Beyond the fourteen: the identity rule keeps executed calls off AF_UNIX sockets, but a netlink
/// send carries its sender too (SCM_CREDENTIALS), and the kernel lets it reach another port or a
/// multicast group of NETLINK_ROUTE only when the *sender* has CAP_NET_ADMIN. A traced sendto
/// that no rule governs is executed by interpose, as interpose.
#[test]
fn netlink_sends_interpose_executes_carry_the_programs_identity_and_privilege() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (the program drops root itself, in a network namespace of its own)");
        return;
    }
    let prog = prog("hostile_netlink");
    let dir = scratch("hostile-netlink");
    let o = native(&prog, &[]);
    let nat = o.stdout_str();
    if nat.contains("unavailable=") {
        eprintln!("SKIPPED: cannot be set up here: {}", nat.trim());
        return;
    }
    let mut f = Faults::default();
    f.expect(&nat, "route_unicast", EPERM, "natively: no CAP_NET_ADMIN");
    f.expect(&nat, "route_mc", EPERM, "natively: no CAP_NET_ADMIN");
    f.expect(&nat, "usersock_uid", 65534, "natively");
    f.assert(&context("native run", &o, None));

    // Traced only; and traced (%net) under a [[deny]] rule that governs connect only.
    let traced = run_bounded(
        interpose()
            .arg("run")
            .arg("-o")
            .arg(dir.join("traced.trace"))
            .args(["-e", "trace=sendto", "--"])
            .arg(&prog)
            .stdin(Stdio::null()),
        RUN_LIMIT,
    );
    let p =
        policy(&dir, "p.toml", &format!("[trace]\nsyscalls = [\"%net\"]\n\n{}", deny(&["connect"], &[lo(1)], None)));
    let governed = under(&p, &prog, &[]);
    let mut all = Faults::default();
    for (what, o) in [("-e trace=sendto", &traced), ("[trace] %net + [[deny]] connect", &governed)] {
        let out = o.stdout_str();
        let mut f = Faults::default();
        f.check(out.contains("done=1"), "the program or interpose failed");
        if out.contains("done=1") {
            let r = num(&out, "route_unicast");
            f.check(
                r == EPERM && num(&out, "route_unicast_got") == 0,
                format!(
                    "uid 65534 without capabilities sent to another netlink port of NETLINK_ROUTE: {} \
                     (natively EPERM), received {}",
                    desc(r),
                    num(&out, "route_unicast_got")
                ),
            );
            let r = num(&out, "route_mc");
            f.check(
                r == EPERM && num(&out, "route_mc_got") == 0,
                format!(
                    "uid 65534 multicast a forged RTM_NEWLINK to RTMGRP_LINK: {} (natively EPERM), received by a \
                     listener: {}",
                    desc(r),
                    num(&out, "route_mc_got")
                ),
            );
            let (pid, uid, gid) = (num(&out, "pid"), num(&out, "uid"), num(&out, "gid"));
            f.expect(&out, "usersock_uid", uid, "the receiver's SCM_CREDENTIALS uid is the program's");
            f.expect(&out, "usersock_gid", gid, "the receiver's SCM_CREDENTIALS gid is the program's");
            f.expect(
                &out,
                "usersock_pid",
                pid,
                "the receiver's SCM_CREDENTIALS pid is the program's (an ungoverned call)",
            );
        }
        for m in &mut f.0 {
            *m = format!("{what}: {m} [{}]", out.trim());
        }
        all.0.extend(f.0);
    }
    all.assert("netlink sends of a program that dropped root, under interpose run as root");
}

/// Beyond the fourteen: a governed bind creates the unix socket file on a thread of interpose,
/// which takes the program's credentials but not its umask (the umask belongs to the process's
/// filesystem context, which interpose's threads share). A server that made its socket private
/// with umask(077) gets one any local user may connect to when interpose's umask is 0.
#[test]
fn a_unix_socket_bound_by_a_governed_bind_gets_the_programs_umask() {
    use std::os::unix::process::CommandExt;
    let prog = prog("hostile_umask");
    let dir = scratch("hostile-umask");
    let sock = dir.join("private.sock");
    let args = vec![sock.display().to_string()];
    let o = native(&prog, &args);
    let nat = o.stdout_str();
    let mut f = Faults::default();
    f.expect(&nat, "bind", 0, "natively");
    f.check(nat.contains("mode=0700 "), format!("natively the socket is not 0700: {}", nat.trim()));
    f.assert(&context("native run", &o, None));

    let p = policy(&dir, "p.toml", &deny(&["bind"], &[format!("unix:{}", sock.display())], None));
    let mut cmd = interpose();
    cmd.arg("run").arg("-o").arg(p.with_extension("trace")).arg("-p").arg(&p).arg("--").arg(&prog).args(&args);
    // SAFETY: umask is async-signal-safe and touches nothing but the child's umask.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let o = run_bounded(cmd.stdin(Stdio::null()), RUN_LIMIT);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        f.expect(&out, "bind", 0, "the bind is allowed");
        let mode = out.split_whitespace().find_map(|kv| kv.strip_prefix("mode=")).unwrap_or("?");
        f.check(
            mode == "0700",
            format!(
                "the socket the program bound after umask(077) has mode {mode} under interpose (started with umask 0), \
                 0700 natively: other users may connect to it"
            ),
        );
    }
    f.assert(&context("a governed unix bind", &o, Some(&p.with_extension("trace"))));
}

/// Beyond the fourteen: the dup2 race on the descriptor, for the one decision that depends on the
/// socket itself (a listen binds an unbound socket to any address): the socket judged must be the
/// one that listens.
#[test]
fn a_descriptor_pointed_at_another_socket_with_dup2_gains_nothing() {
    let prog = prog("hostile_dup2");
    let dir = scratch("hostile-dup2");
    let o = native(&prog, &[TRIES.into()]);
    let nat = o.stdout_str();
    assert!(
        num(&nat, "leaked") > 0 && num(&nat, "listened") > 0,
        "{}",
        context("natively both sockets should get to listen", &o, None)
    );
    let p = policy(&dir, "p.toml", &deny(&["bind"], &["127.0.0.1".to_string()], None));
    let o = under(&p, &prog, &[TRIES.into()]);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(out.contains("tries="), "the program or interpose failed");
    if out.contains("tries=") {
        f.check(num(&out, "tries") >= 1000, "fewer than 1000 tries in the time bound");
        f.expect(&out, "leaked", 0, "listen(100) made the unbound socket listen on 0.0.0.0");
        f.check(num(&out, "listened") > 0, "the bound socket never got to listen");
    }
    f.assert(&context(
        &format!("listen racing dup2 under [[deny]] bind allowing 127.0.0.1 (native: {})", nat.trim()),
        &o,
        Some(&p.with_extension("trace")),
    ));
}

/// A unix stream listener on exactly these sun_path bytes (an abstract name when they start with
/// a NUL; a path of 108 bytes, which std refuses, included).
fn unix_listener(path: &[u8]) -> std::os::unix::net::UnixListener {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a descriptor this function owns; it ends up in the returned
    // UnixListener, which closes it. The address is a zeroed sockaddr_un with at most 108 bytes
    // copied into sun_path.
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0);
        assert!(fd >= 0);
        let mut a: libc::sockaddr_un = std::mem::zeroed();
        a.sun_family = libc::AF_UNIX as libc::sa_family_t;
        assert!(path.len() <= a.sun_path.len());
        for (d, s) in a.sun_path.iter_mut().zip(path) {
            *d = *s as libc::c_char;
        }
        let len = (2 + path.len()) as libc::socklen_t;
        assert_eq!(libc::bind(fd, &a as *const libc::sockaddr_un as *const libc::sockaddr, len), 0, "bind {path:?}");
        assert_eq!(libc::listen(fd, 8), 0);
        std::os::unix::net::UnixListener::from_raw_fd(fd)
    }
}

/// Beyond the fourteen: AF_UNIX addresses read differently by a careless matcher and by the
/// kernel (a NUL inside a path, an abstract name with NULs at its end, a path of exactly 108
/// bytes without a NUL, a bare sun_family).
#[test]
fn unix_addresses_are_judged_as_the_kernel_reads_them() {
    use std::os::unix::ffi::OsStrExt;
    let prog = prog("hostile_unixaddr");
    let dir = scratch("hostile-unixaddr");
    let run = |with_policy: bool| {
        let name = identity_name();
        let d = dir.display().to_string();
        let mut long = format!("{d}/").into_bytes();
        long.resize(108, b'L');
        let short = &long[..107];
        let mut abs = vec![0u8];
        abs.extend(name.as_bytes());
        let mut abs_nul = abs.clone();
        abs_nul.push(0);
        let mut abs_pad = abs.clone();
        abs_pad.resize(108, 0);
        let listeners: Vec<(&str, std::os::unix::net::UnixListener)> = vec![
            ("ok", unix_listener(format!("{d}/ok.sock").as_bytes())),
            ("no", unix_listener(format!("{d}/no.sock").as_bytes())),
            ("abs", unix_listener(&abs)),
            ("abs_nul", unix_listener(&abs_nul)),
            ("abs_pad", unix_listener(&abs_pad)),
            ("long", unix_listener(&long)),
            ("short", unix_listener(short)),
        ];
        let except = vec![
            format!("unix:{d}/ok.sock"),
            format!("unix:@{name}"),
            format!("unix:{}", String::from_utf8_lossy(short)),
        ];
        let p = policy(&dir, &format!("{name}.toml"), &deny(&["connect"], &except, None));
        let args = vec![d.clone(), name.clone(), String::from_utf8(long.clone()).unwrap()];
        let o = if with_policy { under(&p, &prog, &args) } else { native(&prog, &args) };
        let counts: Vec<(&str, usize)> =
            listeners.iter().map(|(k, l)| (*k, std::iter::from_fn(|| l.accept().ok()).count())).collect();
        for path in [format!("{d}/ok.sock"), format!("{d}/no.sock"), String::from_utf8_lossy(&long).into_owned()] {
            let _ = std::fs::remove_file(path);
        }
        let _ = std::fs::remove_file(std::ffi::OsStr::from_bytes(short));
        (o, counts, p.with_extension("trace"))
    };
    let got = |c: &[(&str, usize)], k: &str| c.iter().find(|(n, _)| *n == k).map_or(0, |(_, n)| *n);

    let (o, counts, _) = run(false);
    let nat = o.stdout_str();
    let mut f = Faults::default();
    for (key, listener) in [
        ("nul_suffix", "ok"),
        ("abs_nul", "abs_nul"),
        ("abs_padded", "abs_pad"),
        ("long_path", "long"),
        ("short_path", "short"),
    ] {
        f.expect(&nat, key, 0, "natively");
        f.check(got(&counts, listener) == 1, format!("natively {key} did not reach {listener}: {counts:?}"));
    }
    f.expect(&nat, "unnamed", -(libc::EINVAL as i64), "natively");
    f.assert(&context("native run", &o, None));

    let (o, counts, trace) = run(true);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        f.expect(&out, "nul_suffix", 0, "DIR/ok.sock, as the kernel reads it, is allowed");
        f.expect(&out, "short_path", 0, "the 107-byte path is allowed");
        for key in ["abs_nul", "abs_padded", "long_path"] {
            f.expect(&out, key, ECONNREFUSED, "a name no entry allows");
        }
        f.expect(&out, "unnamed", -(libc::EINVAL as i64), "as natively");
    }
    for denied in ["no", "abs", "abs_nul", "abs_pad", "long"] {
        let n = got(&counts, denied);
        f.check(n == 0, format!("the denied listener {denied} accepted {n} connection(s)"));
    }
    f.check(got(&counts, "ok") == 1 && got(&counts, "short") == 1, format!("allowed listeners: {counts:?}"));
    f.assert(&context("AF_UNIX addresses under [[deny]]", &o, Some(&trace)));
}

/// Beyond the fourteen: sendmmsg's vlen at its edges, a header the kernel cannot read after one
/// it can, and ancillary-data fields that describe no data.
#[test]
fn message_header_edge_cases_reach_nothing_denied() {
    let prog = prog("hostile_msgedge");
    let dir = scratch("hostile-msgedge");
    let run = |with_policy: bool| {
        let (mut allowed, mut denied) = (Sink::udp(), Sink::udp());
        let p = policy(
            &dir,
            &format!("p{}.toml", allowed.port),
            &deny(&["connect", "sendto", "sendmsg", "sendmmsg"], &[lo(allowed.port)], None),
        );
        let args = vec![allowed.port(), denied.port()];
        let o = if with_policy { under(&p, &prog, &args) } else { native(&prog, &args) };
        (o, allowed.total(), denied.total(), p.with_extension("trace"))
    };
    let (o, _, denied, _) = run(false);
    let nat = o.stdout_str();
    let mut f = Faults::default();
    f.expect(&nat, "vlen1100", 1024, "natively");
    f.expect(&nat, "mixed", 2, "natively");
    f.check(denied == 1, format!("natively the denied port received {denied}, not 1"));
    f.assert(&context("native run", &o, None));

    let (o, allowed, denied, trace) = run(true);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        for key in ["vlen0", "vlen1100", "unreadable2", "ctl_zero"] {
            f.expect(&out, key, num(&nat, key), "as natively");
        }
        f.expect(&out, "mixed", ECONNREFUSED, "one message to the denied port refuses the call");
        // Ancillary data is refused with EPERM, even where the kernel would find none (or fault).
        for key in ["ctl_null", "ctl_short", "ctl_null_denied"] {
            let r = num(&out, key);
            f.check(
                r == num(&nat, key) || r == EPERM,
                format!("{key}: {} (natively {})", desc(r), desc(num(&nat, key))),
            );
        }
        // sendmmsg returns messages, sendmsg bytes (4 a datagram).
        let sent = ["vlen1100", "unreadable2"].iter().map(|k| num(&out, k).max(0)).sum::<i64>()
            + ["ctl_zero", "ctl_null", "ctl_short"].iter().filter(|k| num(&out, k) > 0).count() as i64;
        f.check(allowed == sent as u64, format!("the allowed port received {allowed}; the calls reported {sent}"));
    }
    f.check(denied == 0, format!("the denied port received {denied} datagram(s)"));
    f.assert(&context(&format!("message header edge cases (native: {})", nat.trim()), &o, Some(&trace)));
}

/// Beyond the fourteen: interpose and its guardian run as the program's user (what the threat
/// model recommends), so the program may signal both. The README promises that a killed interpose
/// leaves a program that is stopped and killed; a child of the program kills the guardian first,
/// then interpose. What runs on is unobserved; trapped calls fail with ENOSYS (no listener), so
/// the network stays closed.
///
/// A known limit, documented in docs/network-policy.md ("What it does not cover"): ignored until
/// interpose runs the program in a PID namespace of its own.
#[test]
#[ignore = "known limit: a same-user program can kill the guardian and interpose (docs/network-policy.md)"]
fn a_program_that_kills_interpose_and_its_guardian_is_still_stopped_and_killed() {
    use std::os::unix::fs::PermissionsExt;
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].into_iter().map(PathBuf::from).find(|p| p.exists());
    let Some(setpriv) = setpriv.filter(|_| is_root()) else {
        eprintln!("SKIPPED: needs root and setpriv(1) (interpose runs as user 65534, as the program does)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("interpose-hostile-orphan-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    struct Cleanup(PathBuf, Vec<i32>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            for &pid in &self.1 {
                // SAFETY: kill on the pids of processes this test started (the program's two).
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let mut cleanup = Cleanup(dir.clone(), Vec::new());
    let copy = |from: &Path, name: &str| {
        let to = dir.join(name);
        std::fs::copy(from, &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
        to
    };
    let prog = copy(&prog("hostile_orphan"), "hostile_orphan");
    let bin = copy(Path::new(env!("CARGO_BIN_EXE_interpose")), "interpose");
    let mut denied = Sink::tcp();
    let p = dir.join("deny.toml");
    std::fs::write(&p, deny(&["connect", "bind", "sendto", "sendmsg"], &[lo(1)], None)).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = dir.join("out");
    let mut child = Command::new(&setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&bin)
        .args(["run", "-o", "/dev/null", "-p"])
        .arg(&p)
        .arg("--")
        .arg(&prog)
        .arg(&out)
        .arg(denied.port())
        .current_dir(&dir)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let exited = wait_until(Instant::now() + Duration::from_secs(10), || child.try_wait().unwrap().is_some());
    if !exited {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    let report = || std::fs::read_to_string(&out).unwrap_or_default();
    wait_until(Instant::now() + Duration::from_secs(3), || report().contains("alive=1"));
    let line = report();
    let mut f = Faults::default();
    if line.contains("alive=1") {
        let (launched, orphan) = (num(&line, "launched"), num(&line, "child"));
        cleanup.1 = vec![launched as i32, orphan as i32];
        f.check(
            num(&line, "kill_guard") != 0 || num(&line, "kill_interpose") != 0 || status.signal() != Some(libc::SIGKILL),
            format!(
                "the program's child (pid {orphan}) killed interpose-guard and interpose, and ran on unobserved a second \
                 later (it wrote this report); the launched process (pid {launched}) is left {}",
                if gone(launched) { "gone".to_string() } else { "stopped, never killed".to_string() }
            ),
        );
        let c = num(&line, "connect");
        f.check(c < 0, format!("after interpose died, connect(127.0.0.1:denied) returned {}", desc(c)));
    }
    let d = denied.total();
    f.check(d == 0, format!("the denied listener accepted {d} connection(s)"));
    f.assert(&format!(
        "a program that kills interpose and its guardian (interpose: {status:?}; report: {})",
        line.trim()
    ));
}

/// Beyond the fourteen: a unix path is connected to through the file opened without following
/// symbolic links, so that a symlink swapped in leads nowhere else; a hard link, or a rename, in
/// the same directory puts another socket under the allowed name just as well.
///
/// A known limit, documented in docs/network-policy.md ("Who the peer sees"): an allowed unix
/// path is only as safe as its directory. Ignored while that is so.
#[test]
#[ignore = "known limit: a program that may write to an allowed path's directory can link another socket there (docs/network-policy.md)"]
fn an_allowed_unix_path_linked_or_renamed_to_a_denied_socket_leads_nowhere_else() {
    let prog = prog("hostile_unixlink");
    let dir = scratch("hostile-unixlink");
    let run = |with_policy: bool| {
        let d = dir.join(format!("{}", with_policy));
        std::fs::create_dir_all(&d).unwrap();
        let listeners: Vec<_> = ["denied.sock", "denied2.sock"]
            .iter()
            .map(|n| {
                let l = std::os::unix::net::UnixListener::bind(d.join(n)).unwrap();
                l.set_nonblocking(true).unwrap();
                l
            })
            .collect();
        let except = ["app.sock", "app2.sock"].map(|n| format!("unix:{}", d.join(n).display()));
        let p = policy(&d, "p.toml", &deny(&["connect"], &except, None));
        let args = vec![d.display().to_string()];
        let o = if with_policy { under(&p, &prog, &args) } else { native(&prog, &args) };
        let accepted: usize = listeners.iter().map(|l| std::iter::from_fn(|| l.accept().ok()).count()).sum();
        (o, accepted, p.with_extension("trace"))
    };
    let (o, accepted, _) = run(false);
    let nat = o.stdout_str();
    let mut f = Faults::default();
    f.check(
        nat.contains("link_peer=denied.sock ") && nat.contains("rename_peer=denied2.sock ") && accepted == 2,
        format!("natively both connects should reach the denied listeners (accepted {accepted})"),
    );
    f.assert(&context("native run", &o, None));

    let (o, accepted, trace) = run(true);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(out.contains("done=1"), "the program or interpose failed");
    if out.contains("done=1") {
        for (what, name) in [("link", "app.sock"), ("rename", "app2.sock")] {
            let peer = out.split_whitespace().find_map(|kv| kv.strip_prefix(&format!("{what}_peer="))).unwrap_or("?");
            f.check(
                peer == "-",
                format!(
                    "connect(DIR/{name}), allowed, reached the listener bound at DIR/{peer} after the program's {what}() \
                     ({} then connect {})",
                    desc(num(&out, what)),
                    desc(num(&out, &format!("{what}_connect")))
                ),
            );
        }
    }
    f.check(accepted == 0, format!("the denied listeners accepted {accepted} connection(s)"));
    f.assert(&context("unix paths under [[deny]] connect allowing DIR/app.sock and DIR/app2.sock", &o, Some(&trace)));
}

// ---------------------------------------------------------------------------------------------
// Issue 28: executed calls, exit records, -k and outputs, attacked by the program (no deny rule
// needed for most: what interpose executes must be exactly what the kernel would do).

/// `interpose run ARGS -- hostile_exec MODE...`, bounded, trace to DIR/NAME.trace.
fn exec_under(dir: &Path, name: &str, args: &[&str], prog_args: &[String]) -> Output {
    run_bounded(
        interpose()
            .arg("run")
            .arg("-o")
            .arg(dir.join(format!("{name}.trace")))
            .args(args)
            .arg("--")
            .arg(prog("hostile_exec"))
            .args(prog_args)
            .stdin(Stdio::null()),
        RUN_LIMIT,
    )
}

/// The key=value results of a run, without `done`.
fn results(out: &str) -> Vec<String> {
    out.split_whitespace().filter(|kv| kv.contains('=') && !kv.starts_with("done=")).map(str::to_string).collect()
}

/// Runs hostile_exec MODE natively and under each interpose option set, and requires the same
/// results and a run that finished.
fn same_as_native(mode: &str, configs: &[&[&str]]) {
    let dir = scratch(&format!("hostile-exec-{mode}"));
    let args = vec![mode.to_string(), dir.display().to_string()];
    let nat = native(&prog("hostile_exec"), &args);
    assert!(nat.stdout_str().contains("done=1"), "{}", context("native run", &nat, None));
    for (i, cfg) in configs.iter().enumerate() {
        let o = exec_under(&dir, &format!("{mode}{i}"), cfg, &args);
        let trace = dir.join(format!("{mode}{i}.trace"));
        assert!(o.stdout_str().contains("done=1"), "{}", context(&format!("{cfg:?}"), &o, Some(&trace)));
        assert_eq!(
            results(&o.stdout_str()),
            results(&nat.stdout_str()),
            "{}",
            context(&format!("under interpose {cfg:?}, against the native run"), &o, Some(&trace))
        );
    }
}

#[test]
fn an_executed_receive_never_copies_bytes_the_kernel_did_not_write() {
    // The pread leaves a file's bytes in interpose's buffer; recv(MSG_TRUNC) on TCP copies
    // nothing natively, on UDP only the first `len` bytes.
    same_as_native("trunc", &[&["-e", "trace=pread64,recvfrom"], &["--exits=off", "-e", "trace=pread64,recvfrom"]]);
}

#[test]
fn pread64_and_pwrite64_with_a_negative_offset_fail_as_natively_and_never_wait() {
    // Offset -1 on a file (EINVAL natively, not a transfer at the file position), on an empty
    // pipe whose writer stays open (a wait in interpose's receiving thread, before the fix).
    same_as_native("offsets", &[&["-e", "trace=pread64,pwrite64"], &["--exits=off", "-e", "trace=pread64,pwrite64"]]);
}

#[test]
fn executed_writes_honour_the_programs_file_size_limit() {
    same_as_native("fsize", &[&["--exits=off", "-e", "trace=write"], &["-e", "trace=write"]]);
}

/// A memory cgroup (v1 or v2) under this test's own, limited to 64 MiB; removed on drop.
struct MemCgroup(PathBuf);

impl MemCgroup {
    fn new(name: &str) -> Option<MemCgroup> {
        let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let v1 = text.lines().find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctl, path) = (f.next()?, f.next()?, f.next()?);
            ctl.split(',').any(|c| c == "memory").then(|| format!("/sys/fs/cgroup/memory{path}"))
        });
        let (dir, limit_file) = match v1 {
            Some(d) => (PathBuf::from(d), "memory.limit_in_bytes"),
            None => {
                let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
                (PathBuf::from(format!("/sys/fs/cgroup{path}")), "memory.max")
            }
        };
        let cg = dir.join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir(&cg).ok()?;
        let cg = MemCgroup(cg);
        std::fs::write(cg.0.join(limit_file), (64u64 << 20).to_string()).ok()?;
        Some(cg)
    }
}

impl Drop for MemCgroup {
    fn drop(&mut self) {
        // Emptied once the program is gone.
        let _ = wait_until(Instant::now() + Duration::from_secs(5), || std::fs::remove_dir(&self.0).is_ok());
    }
}

/// How a memcg run ended: the bytes written, and whether the kernel killed the program.
fn memcg_outcome(o: &Output) -> (i64, bool) {
    let out = o.stdout_str();
    let written = out.lines().rev().find_map(|l| l.split_whitespace().find_map(|kv| kv.strip_prefix("written=")));
    (written.and_then(|w| w.parse().ok()).unwrap_or(0), !out.contains("done=1"))
}

#[test]
fn executed_writes_are_charged_to_the_programs_memory_cgroup() {
    if !is_root() {
        eprintln!("SKIPPED: needs root (a memory cgroup to put the program in)");
        return;
    }
    let Some(cg) = MemCgroup::new("interpose-memcg") else {
        eprintln!("SKIPPED: no memory cgroup can be made here");
        return;
    };
    let dir = scratch("hostile-memcg");
    let shm = if Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { dir.clone() };
    let args = vec!["memcg".to_string(), cg.0.display().to_string(), shm.display().to_string()];
    let nat = native(&prog("hostile_exec"), &args);
    let _ = std::fs::remove_file(shm.join("fill"));
    if nat.stdout_str().contains("unavailable=") {
        eprintln!("SKIPPED: {}", nat.stdout_str().trim());
        return;
    }
    let (nat_written, nat_killed) = memcg_outcome(&nat);
    assert!(nat_written < 200 << 20, "{}", context("natively the limit must hold", &nat, None));
    for cfg in [&["--exits=off", "-e", "trace=write"][..], &["-e", "trace=write"][..]] {
        let o = exec_under(&dir, "memcg", cfg, &args);
        let _ = std::fs::remove_file(shm.join("fill"));
        let (written, killed) = memcg_outcome(&o);
        // Natively the program is stopped near its limit (killed, or its write fails): under
        // interpose too, within a few writes.
        assert!(
            killed == nat_killed && (written - nat_written).abs() <= 8 << 20,
            "{}\nnatively: written {nat_written}, killed {nat_killed}",
            context(&format!("{cfg:?}: the program's 64 MiB limit"), &o, None)
        );
    }
}

#[test]
fn a_fifo_named_as_a_deleted_mapping_does_not_stop_stack_traces() {
    let dir = scratch("hostile-kfifo");
    let args = vec!["kfifo".to_string(), dir.display().to_string()];
    let o = exec_under(&dir, "kfifo", &["-k", "-e", "trace=getppid"], &args);
    let trace = std::fs::read_to_string(dir.join("kfifo.trace")).unwrap_or_default();
    assert!(o.stdout_str().contains("calls=5") && o.status.success(), "{}", context("-k", &o, None));
    assert_eq!(trace.matches("getppid()").count(), 5, "{trace}");
    assert!(trace.contains(" > "), "no stack lines:\n{trace}");
}

#[test]
fn a_record_of_another_abis_call_never_completes_a_call() {
    // i386 geteuid is 49, native bind's number: the raw exit tracepoint gives its exits that
    // number. Every bind but the listener's fails; none may be shown as returning 0.
    let dir = scratch("hostile-i386exit");
    let nat = native(&prog("hostile_exec"), &["i386exit".to_string()]);
    if !nat.stdout_str().contains("done=1") {
        eprintln!("SKIPPED: no i386 syscalls here: {}", nat.stderr);
        return;
    }
    // More than 16 syscalls: the raw exit tracepoint, whose records carry numbers alone.
    let sel = "trace=bind,socket,close,getppid,getuid,getgid,read,write,openat,mmap,munmap,brk,futex,clone3,\
               rt_sigaction,rt_sigprocmask,clock_nanosleep,listen,getsockname";
    let o = exec_under(&dir, "i386exit", &["-e", sel], &["i386exit".to_string()]);
    let trace = std::fs::read_to_string(dir.join("i386exit.trace")).unwrap_or_default();
    assert!(o.stdout_str().contains("bind_errors=200"), "{}", context("natively all fail", &o, None));
    let ok_binds = trace.lines().filter(|l| l.contains("bind(") && l.ends_with("= 0")).count();
    assert_eq!(ok_binds, 1, "only the listener's bind returned 0:\n{trace}");
}

#[test]
fn outputs_that_would_wait_are_refused_at_once() {
    let dir = scratch("hostile-outputs");
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a live NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for flag in ["-o", "--trace-out", "--report"] {
        let t = Instant::now();
        let o = run_bounded(
            interpose().arg("run").arg(flag).arg(&fifo).args(["--", "true"]).stdin(Stdio::null()),
            Duration::from_secs(10),
        );
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", context("a FIFO nobody reads", &o, None));
        assert!(o.stderr.contains("no process has open for reading"), "{flag}: {}", o.stderr);
        assert!(t.elapsed() < Duration::from_secs(5), "{flag} took {:?}", t.elapsed());
    }
}

/// hostile_destinations MODE ARGS under `policy` (and natively), results.
fn destinations(dir: &Path, name: &str, policy_text: &str, args: &[String]) -> (String, String) {
    let prog = prog("hostile_destinations");
    let p = policy(dir, &format!("{name}.toml"), policy_text);
    let nat = native(&prog, args);
    let o = under(&p, &prog, args);
    assert!(o.stdout_str().contains("done=1"), "{}", context(name, &o, Some(&p.with_extension("trace"))));
    (nat.stdout_str(), o.stdout_str())
}

#[test]
fn the_unspecified_address_is_judged_as_the_host_the_kernel_sends_to() {
    let dir = scratch("hostile-anyaddr");
    let mut tcp = Sink::tcp();
    let port = tcp.port;
    let l6 = TcpListener::bind(("::1", port)).ok();
    let u = UdpSocket::bind(("127.0.0.1", port)).unwrap();
    u.set_nonblocking(true).unwrap();
    let args = vec!["anyaddr".to_string(), port.to_string()];
    // Allowed as written (0.0.0.0/8, ::), denied where the kernel goes (127.0.0.1, ::1).
    let (nat, out) = destinations(
        &dir,
        "as-written",
        &deny(&["connect", "sendto"], &["0.0.0.0/8".into(), "[::]/128".into()], None),
        &args,
    );
    let mut f = Faults::default();
    f.expect(&nat, "tcp4", 0, "natively 0.0.0.0 reaches 127.0.0.1");
    for key in ["tcp4", "tcp6", "mapped", "udp4"] {
        if out.contains(&format!("{key}=")) {
            f.expect(&out, key, ECONNREFUSED, "the unspecified address is this host's loopback, which is denied");
        }
    }
    // Allowed where the kernel goes: the unspecified address reaches it.
    let (_, out) = destinations(
        &dir,
        "resolved",
        &deny(&["connect", "sendto"], &[lo(port), format!("[::1]:{port}")], None),
        &args,
    );
    f.expect(&out, "tcp4", 0, "0.0.0.0 is 127.0.0.1, allowed");
    f.expect(&out, "udp4", 1, "0.0.0.0 is 127.0.0.1, allowed");
    if l6.is_some() {
        f.expect(&out, "tcp6", 0, ":: is ::1, allowed");
    }
    f.assert("the unspecified address");
    let _ = tcp.total();
}

#[test]
fn a_send_on_an_unbound_udp_socket_is_judged_as_the_bind_it_makes() {
    let dir = scratch("hostile-autobind");
    let mut sink = Sink::udp();
    let args = vec!["autobind".to_string(), sink.port()];
    let (nat, out) = destinations(&dir, "bind", &deny(&["bind"], &["127.0.0.1".into()], None), &args);
    let mut f = Faults::default();
    f.expect(&nat, "send_any", 1, "natively the send binds the socket to 0.0.0.0");
    f.expect(&nat, "nodest_any", 1, "natively even a failing send binds it");
    f.expect(&out, "send", ECONNREFUSED, "the bind to 0.0.0.0 is not allowed");
    f.expect(&out, "send_any", 0, "the socket was bound to the wildcard");
    f.expect(&out, "nodest_any", 0, "the socket was bound to the wildcard");
    // Allowed when the policy allows a port of the kernel's on any address.
    let (_, out) = destinations(&dir, "any0", &deny(&["bind"], &["0.0.0.0:0".into()], None), &args);
    f.expect(&out, "send", 1, "0.0.0.0:0 allows the autobind");
    f.assert("sends on unbound UDP sockets");
    assert_eq!(sink.total(), 3, "datagrams: one in each native run, one allowed");
}

#[test]
fn netlink_means_the_kernel_not_another_process() {
    let dir = scratch("hostile-nlpeer");
    let (nat, out) =
        destinations(&dir, "nl", &deny(&["sendto", "sendmsg"], &["netlink".into()], None), &["nlpeer".to_string()]);
    if nat.contains("unavailable=") {
        eprintln!("SKIPPED: {nat}");
        return;
    }
    let mut f = Faults::default();
    f.expect(&nat, "received", 1, "natively another process's NETLINK_USERSOCK port receives it");
    f.expect(&out, "sent", ECONNREFUSED, "a netlink destination other than the kernel");
    f.expect(&out, "received", 0, "the peer process received the datagram");
    f.assert("netlink to a peer process");
}

#[test]
fn stacks_read_a_programs_maps_when_they_change_not_at_every_call() {
    // Code outside any file (a JIT) made 200 logged calls; before the fix each one read
    // /proc/PID/maps again. Counted by strace, following interpose's own opens.
    if Command::new("strace").arg("-V").stdout(Stdio::null()).status().map_or(true, |s| !s.success()) {
        eprintln!("SKIPPED: no strace");
        return;
    }
    let dir = scratch("hostile-kmaps");
    let log = dir.join("strace.log");
    let o = run_bounded(
        Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=openat", "-o"])
            .arg(&log)
            .arg(env!("CARGO_BIN_EXE_interpose"))
            .args(["run", "-k", "-e", "trace=getppid", "-o"])
            .arg(dir.join("k.trace"))
            .arg("--")
            .arg(prog("hostile_exec"))
            .args(["jit", "200"])
            .stdin(Stdio::null()),
        RUN_LIMIT,
    );
    assert!(o.stdout_str().contains("calls=200"), "{}", context("-k on JIT code", &o, None));
    let text = std::fs::read_to_string(&log).unwrap();
    let reads = text.lines().filter(|l| l.contains("/maps\"")).count();
    assert!(reads <= 10, "/proc/PID/maps opened {reads} times for 200 calls");
}

// ---------------------------------------------------------------------------------------------
// Issue 25: descriptors and credentials passed under a rule that governs sendmsg.

#[test]
fn descriptors_passed_under_a_governed_sendmsg_reach_the_peer_as_natively() {
    let prog = prog("hostile_fdpass");
    let dir = scratch("hostile-fdpass");
    let (allowed, denied) = (raw_listener(8, None), raw_listener(8, None));
    let (ap, dp) = (allowed.local_addr().unwrap().port(), denied.local_addr().unwrap().port());
    let args = vec!["inside".to_string(), ap.to_string(), dp.to_string()];
    let p = policy(&dir, "p.toml", &deny(&["connect", "sendmsg"], &[lo(ap)], None));
    let nat = native(&prog, &args).stdout_str();
    let o = under(&p, &prog, &args);
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(out.contains("done=1"), "the program or interpose failed");
    f.expect(&out, "sent", 1, "sendmsg with SCM_RIGHTS");
    f.expect(&out, "got", 1, "the peer received a descriptor");
    f.expect(&out, "offset", 5, "the same open file (its offset), not another");
    f.expect(&out, "denied", ECONNREFUSED, "a passed socket's governed connect to a denied port");
    f.expect(&out, "allowed", 0, "a passed socket's governed connect to the allowed port");
    f.expect(&out, "creds_other", num(&nat, "creds_other"), "another pid in SCM_CREDENTIALS, as natively");
    if is_root() {
        // interpose may claim the program's pid: the peer sees exactly what it sees natively.
        f.expect(&out, "cred_pid_ok", 1, "the peer saw the sender's pid (SO_PASSCRED)");
        f.expect(&out, "creds_own", 1, "explicit SCM_CREDENTIALS with the program's own pid");
        f.expect(&out, "creds_own_pid_ok", 1, "the peer saw the program's pid");
    }
    f.assert(&context("SCM_RIGHTS under [[deny]] governing sendmsg", &o, Some(&p.with_extension("trace"))));

    if is_root() && Command::new("setpriv").arg("--help").stdout(Stdio::null()).status().is_ok_and(|s| s.success()) {
        // interpose without CAP_SYS_ADMIN cannot claim another pid: explicit credentials with
        // the program's are refused (EPERM, documented); descriptors still pass.
        let udir = scratch("hostile-fdpass-user");
        std::fs::set_permissions(&udir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        let up = policy(&udir, "p.toml", &deny(&["connect", "sendmsg"], &[lo(ap)], None));
        let o = run_bounded(
            Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(env!("CARGO_BIN_EXE_interpose"))
                .args(["run", "-qq", "-o", "/dev/null", "-p"])
                .arg(&up)
                .arg("--")
                .arg(&prog)
                .args(&args)
                .stdin(Stdio::null()),
            RUN_LIMIT,
        );
        let out = o.stdout_str();
        let mut f = Faults::default();
        f.check(out.contains("done=1"), "the program or interpose failed");
        f.expect(&out, "got", 1, "the peer received a descriptor");
        f.expect(&out, "offset", 5, "the same open file");
        f.expect(&out, "creds_own", EPERM, "documented: explicit credentials need interpose to be privileged");
        f.assert(&context("as uid 65534", &o, None));
    }
}

#[test]
fn a_descriptor_passed_to_a_peer_outside_the_traced_tree_works() {
    let prog = prog("hostile_fdpass");
    let dir = scratch("hostile-fdpeer");
    let path = dir.join("peer.sock");
    let mut peer =
        Command::new(&prog).arg("recvpeer").arg(&path).stdout(Stdio::piped()).stdin(Stdio::null()).spawn().unwrap();
    let mut peer_out = peer.stdout.take().unwrap();
    let mut ready = [0u8; 8];
    peer_out.read_exact(&mut ready).unwrap();
    assert_eq!(&ready, b"ready=1\n");
    let p = policy(&dir, "p.toml", &deny(&["connect", "sendmsg"], &[format!("unix:{}", path.display())], None));
    let o = under(&p, &prog, &["sendpeer".to_string(), path.display().to_string()]);
    let mut rest = String::new();
    peer_out.read_to_string(&mut rest).unwrap();
    let _ = peer.wait();
    let out = o.stdout_str();
    let mut f = Faults::default();
    f.check(out.contains("done=1"), "the program or interpose failed");
    f.expect(&out, "sent", 1, "sendmsg with SCM_RIGHTS to a peer interpose does not trace");
    f.check(out.contains("read=peer"), "the peer wrote through the descriptor it was given");
    f.expect(&rest, "peer_got", 1, "the peer received a descriptor");
    if is_root() {
        f.expect(&rest, "peer_pid", num(&out, "pid"), "the peer saw the program's pid, not interpose's");
    }
    f.assert(&context(&format!("peer: {rest}"), &o, Some(&p.with_extension("trace"))));
}

#[test]
fn a_program_run_with_u_has_no_privilege_over_interpose() {
    // -u USER (issue 25): interpose stays root, the program runs as USER, cannot take the
    // listener; without -u, a [[deny]] policy warns that it does not hold against root.
    if !is_root() {
        eprintln!("SKIPPED: -u needs root");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("interpose-hostile-u-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stealer = dir.join("hostile_steal");
    std::fs::copy(prog("hostile_steal"), &stealer).unwrap();
    std::fs::set_permissions(&stealer, std::fs::Permissions::from_mode(0o755)).unwrap();
    let p = policy(&dir, "deny.toml", &deny(&["connect", "sendto", "sendmsg"], &[lo(1)], None));
    let o = run_bounded(
        interpose()
            .arg("run")
            .args(["-u", "65534", "-p"])
            .arg(&p)
            .arg("--")
            .arg(&stealer)
            .current_dir(&dir)
            .stdin(Stdio::null()),
        RUN_LIMIT,
    );
    let out = o.stdout_str();
    assert!(o.status.success() && out.contains("stolen="), "{}", context("-u 65534", &o, None));
    assert_eq!(num(&out, "stolen"), 0, "{}", context("the program took interpose's listener under -u", &o, None));
    assert!(!o.stderr.contains("do not hold"), "no warning with -u: {}", o.stderr);
    let o = run_bounded(interpose().arg("run").arg("-p").arg(&p).args(["--", "true"]).stdin(Stdio::null()), RUN_LIMIT);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        o.stderr.contains("do not hold against this program: it runs as root") && o.stderr.contains("-u USER"),
        "{}",
        o.stderr
    );
}
