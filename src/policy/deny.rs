//! Network rules: `[[deny]]` refuses connect/bind/sendto/sendmsg/sendmmsg (and a listen that
//! would bind) to any destination its `except` list does not allow.
//!
//! ```toml
//! [[deny]]
//! syscalls = ["connect"]          # connect, bind, sendto, sendmsg, sendmmsg
//! error = "ECONNREFUSED"          # the default
//! except = ["127.0.0.1:8080", "[::1]/128", "127.0.0.0/8:443", "unix:/run/app.sock", "netlink"]
//!
//! [network]                       # what any [[deny]] rule also closes (defaults shown)
//! allow_raw_sockets = false
//! allow_io_uring = false
//! ```
//!
//! This module holds the decision on copied bytes ([`judge`]); the supervisor copies, borrows the
//! descriptor and executes (`supervisor::guard`).

use super::addr::AddrPattern;
use super::set::SyscallSet;

/// The syscalls a deny rule may govern. `listen` is governed wherever `bind` is (a listen on an
/// unbound socket binds it).
pub const GOVERNED: &[&str] = &["connect", "bind", "sendto", "sendmsg", "sendmmsg"];

#[derive(Clone, Debug, PartialEq)]
pub struct DenyRule {
    pub syscalls: SyscallSet,
    /// Positive errno for refused calls.
    pub error: i32,
    pub except: Vec<AddrPattern>,
    /// `FILE:LINE`.
    pub origin: String,
}

impl DenyRule {
    /// Whether the rule lets a call use this address. A netlink bind names the socket itself,
    /// not a destination: any netlink entry allows it.
    pub fn allows(&self, how: Use, sockaddr: &[u8]) -> bool {
        if how == Use::Bind && super::addr::is_netlink(sockaddr) {
            return self.except.iter().any(|p| matches!(p, AddrPattern::Netlink | AddrPattern::NetlinkPort(_)));
        }
        self.except.iter().any(|p| p.matches(sockaddr))
    }
}

/// What a rule that names some syscalls also governs, each with the reason, as `check` shows
/// it: `bind` governs `listen` (a listen on an unbound socket binds it) and the sends of an
/// unbound UDP socket (which bind it to any address first); `connect` governs the sends, which
/// connect with TCP Fast Open (`MSG_FASTOPEN`); `sendmsg` governs `sendmmsg`, which sends the
/// same messages several at a time.
pub const IMPLIED: &[(&str, &[&str], &str)] = &[
    ("bind", &["listen"], "a listen on an unbound socket binds it"),
    ("bind", &["sendto", "sendmsg", "sendmmsg"], "a send on an unbound UDP socket binds it to any address"),
    ("connect", &["sendto", "sendmsg", "sendmmsg"], "a TCP Fast Open send connects"),
    ("sendmsg", &["sendmmsg"], "sendmmsg sends the same messages, several at a time"),
];

/// The syscalls a set of governed syscalls reaches, with what they imply ([`IMPLIED`]).
pub fn with_implied(named: &SyscallSet) -> SyscallSet {
    let reg = crate::decode::registry();
    let mut s = *named;
    for (by, implied, _) in IMPLIED {
        if reg.by_name(by).is_some_and(|sc| named.contains(sc.nr())) {
            for sc in implied.iter().filter_map(|n| reg.by_name(n)) {
                s.insert(sc.nr());
            }
        }
    }
    s
}

/// `[network]`: the holes a `[[deny]]` policy closes by refusing, unless told not to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkOptions {
    /// Let the program create raw and packet sockets (`socket(AF_INET, SOCK_RAW, ...)`,
    /// `AF_PACKET`, `AF_XDP`), which carry any destination in their payload.
    pub allow_raw_sockets: bool,
    /// Let the program set up io_uring, whose `IORING_OP_CONNECT`/`SENDMSG` interpose never sees.
    pub allow_io_uring: bool,
    /// Let the program call `bpf()`: a cgroup BPF program (`BPF_CGROUP_INET4_CONNECT`...) can
    /// rewrite a destination inside the kernel after it was judged.
    pub allow_bpf: bool,
}

/// Checks that a deny rule's syscalls are ones it can govern.
pub fn check_syscalls(set: &SyscallSet) -> Result<(), String> {
    let bad: Vec<&str> = set.names().filter(|n| !GOVERNED.contains(n)).collect();
    if bad.is_empty() && !set.is_empty() {
        Ok(())
    } else if set.is_empty() {
        Err("no syscalls; a deny rule governs connect, bind, sendto, sendmsg and sendmmsg".into())
    } else {
        Err(format!("a deny rule governs connect, bind, sendto, sendmsg and sendmmsg, not {}", bad.join(", ")))
    }
}

/// An `except` entry: an address pattern; AF_UNIX paths must be absolute (or abstract, `@name`),
/// since a relative one would depend on the program's working directory.
pub fn parse_except(s: &str) -> Result<AddrPattern, String> {
    let p = AddrPattern::parse(s)?;
    if let AddrPattern::Unix(path) = &p
        && !path.starts_with(b"/")
        && !path.starts_with(b"@")
    {
        return Err(format!("\"{s}\": a unix socket path here must be absolute (or abstract, unix:@name)"));
    }
    Ok(p)
}

/// What a governed call does with its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    Connect,
    Bind,
    /// sendto, sendmsg, sendmmsg: the destination of one datagram (or a TCP Fast Open connect).
    Send,
}

/// Whether a socket is one that carries its destination in its payload (raw IP, packet, XDP),
/// which no address check can judge.
pub fn is_raw(domain: i32, ty: i32) -> bool {
    // `SOCK_PACKET` (10): obsolete, and what makes an AF_INET socket() a packet socket.
    const SOCK_PACKET: i32 = 10;
    let ty = ty & 0xf;
    match domain {
        libc::AF_INET | libc::AF_INET6 => ty == libc::SOCK_RAW || ty == SOCK_PACKET,
        libc::AF_PACKET | libc::AF_XDP => true,
        _ => false,
    }
}

/// The destination a call's address means to the kernel, given the socket's family: `None` when
/// the call names no destination (connect with AF_UNSPEC disconnects; an address shorter than a
/// family is read as none by every protocol, which then fails the call or uses the connected
/// peer), else the bytes to judge. AF_UNSPEC is read as AF_INET by IPv4 binds and sends
/// (`__inet_bind`, `udp_sendmsg`), so on an INET socket it is judged as the IPv4 address it
/// carries; elsewhere as IPv4 too (conservatively: at worst an odd call is refused).
pub fn destination(how: Use, sockaddr: &[u8], _socket_domain: i32) -> Option<Vec<u8>> {
    if sockaddr.len() < 2 {
        return None;
    }
    let family = i32::from(u16::from_ne_bytes([sockaddr[0], sockaddr[1]]));
    if family == libc::AF_UNIX && sockaddr.len() == 2 {
        // Unnamed: a bind autobinds to a random abstract name; anything else fails (EINVAL).
        return None;
    }
    if family != libc::AF_UNSPEC {
        return Some(sockaddr.to_vec());
    }
    if how == Use::Connect {
        return None;
    }
    let mut v4 = sockaddr.to_vec();
    v4[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
    Some(v4)
}

/// The decision on a copy: `Ok` when every rule that governs the call allows the destination,
/// else the first refusing rule's errno. An address no `except` entry matches is refused,
/// whatever its family (an AF_PACKET or AF_VSOCK address too, and netlink unless `netlink` is
/// listed); a short or unreadable address matches nothing.
pub fn judge(rules: &[&DenyRule], how: Use, sockaddr: &[u8], socket_domain: i32) -> Result<(), i32> {
    let Some(dest) = destination(how, sockaddr, socket_domain) else { return Ok(()) };
    match rules.iter().find(|r| !r.allows(how, &dest)) {
        Some(r) => Err(r.error),
        None => Ok(()),
    }
}

/// The address the kernel uses for a connect or send to the *unspecified* address, which
/// means this host: the IPv4 `0.0.0.0` goes to the socket's own address when it is bound to
/// one, else to 127.0.0.1 (`ip_route_output`); the IPv6 `::` goes to `::1`, or for a connect
/// (and a stream's Fast Open send) on a socket bound to an IPv4-mapped address to
/// `::ffff:127.0.0.1`; `::ffff:0.0.0.0` is the IPv4 case, mapped. `None` when `sockaddr` names
/// a specified address (or is not an INET one, or too short to be). `local` is the socket's
/// own address (getsockname); `datagram` whether it sends datagrams.
pub fn unspecified_to(how: Use, sockaddr: &[u8], local: &[u8], datagram: bool) -> Option<Vec<u8>> {
    let family = |sa: &[u8]| (sa.len() >= 2).then(|| i32::from(u16::from_ne_bytes([sa[0], sa[1]])));
    let loopback4 = [127, 0, 0, 1];
    // The socket's own IPv4 address, when it has a specified one (plain or mapped).
    let own4 = match family(local) {
        Some(libc::AF_INET) if local.len() >= 8 && local[4..8] != [0; 4] => {
            Some([local[4], local[5], local[6], local[7]])
        }
        Some(libc::AF_INET6) if local.len() >= 24 && local[8..20] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] => {
            Some([local[20], local[21], local[22], local[23]]).filter(|a| *a != [0; 4])
        }
        _ => None,
    };
    let mut out = sockaddr.to_vec();
    match family(sockaddr)? {
        f @ (libc::AF_INET | libc::AF_UNSPEC)
            if sockaddr.len() >= 16 && sockaddr[4..8] == [0; 4] && (f == libc::AF_INET || how == Use::Send) =>
        {
            out[4..8].copy_from_slice(&own4.unwrap_or(loopback4));
        }
        libc::AF_INET6 if sockaddr.len() >= 24 => {
            let a = &sockaddr[8..24];
            let mapped_any = a[..12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] && a[12..] == [0; 4];
            if mapped_any {
                out[20..24].copy_from_slice(&own4.unwrap_or(loopback4));
            } else if a == [0; 16] {
                let local_mapped = family(local) == Some(libc::AF_INET6)
                    && local.len() >= 24
                    && local[8..20] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
                let mut to = [0u8; 16];
                if local_mapped && (how == Use::Connect || !datagram) {
                    to[10] = 0xff;
                    to[11] = 0xff;
                    to[12..].copy_from_slice(&loopback4);
                } else {
                    to[15] = 1;
                }
                out[8..24].copy_from_slice(&to);
            } else {
                return None;
            }
        }
        _ => return None,
    }
    Some(out)
}

/// Socket options that route a socket's packets through addresses other than its destination
/// (IPv4 source routes, IPv6 routing headers, and the old and flow-label interfaces that can
/// carry them): refused under any deny rule, since every later send would go elsewhere than
/// what was judged.
pub fn reroutes(level: i32, opt: i32) -> bool {
    match level {
        libc::IPPROTO_IP => opt == libc::IP_OPTIONS,
        libc::IPPROTO_IPV6 => matches!(
            opt,
            libc::IPV6_RTHDR | libc::IPV6_2292RTHDR | libc::IPV6_2292PKTOPTIONS | libc::IPV6_FLOWLABEL_MGR
        ),
        _ => false,
    }
}

/// Whether a socket ignores the port of the addresses it is given: ICMP ("ping") sockets use
/// the sin_port field for nothing the rules mean (an echo carries any payload to the host), so
/// their destinations are judged by host alone and only `except` entries without a port allow
/// them.
pub fn portless(domain: i32, ty: i32, proto: i32) -> bool {
    ty & 0xf == libc::SOCK_DGRAM
        && ((domain == libc::AF_INET && proto == libc::IPPROTO_ICMP)
            || (domain == libc::AF_INET6 && proto == libc::IPPROTO_ICMPV6))
}

/// [`judge`] for a [`portless`] socket: an entry with a port (or `*:PORT`) never allows it.
pub fn judge_portless(rules: &[&DenyRule], how: Use, sockaddr: &[u8], socket_domain: i32) -> Result<(), i32> {
    let Some(dest) = destination(how, sockaddr, socket_domain) else { return Ok(()) };
    match rules.iter().find(|r| !r.except.iter().any(|p| p.port().is_none() && p.matches(&dest))) {
        Some(r) => Err(r.error),
        None => Ok(()),
    }
}

/// The address a listen on an unbound socket of `domain` binds to: any address, port 0.
pub fn autobind_address(domain: i32) -> Option<Vec<u8>> {
    match domain {
        libc::AF_INET => {
            let mut v = vec![0u8; 16];
            v[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            Some(v)
        }
        libc::AF_INET6 => {
            let mut v = vec![0u8; 28];
            v[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            Some(v)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(except: &[&str]) -> DenyRule {
        DenyRule {
            syscalls: SyscallSet::empty(),
            error: libc::ECONNREFUSED,
            except: except.iter().map(|e| parse_except(e).unwrap()).collect(),
            origin: String::new(),
        }
    }

    fn v4(family: u16, a: [u8; 4], port: u16) -> Vec<u8> {
        let mut v = family.to_ne_bytes().to_vec();
        v.extend(port.to_be_bytes());
        v.extend(a);
        v.extend([0; 8]);
        v
    }

    #[test]
    fn af_unspec_is_judged_as_ipv4_except_for_a_disconnect() {
        let r = rule(&["127.0.0.1:8080"]);
        let unspec_denied = v4(0, [127, 0, 0, 1], 9);
        assert_eq!(judge(&[&r], Use::Send, &unspec_denied, libc::AF_INET), Err(libc::ECONNREFUSED));
        assert_eq!(judge(&[&r], Use::Bind, &unspec_denied, libc::AF_INET), Err(libc::ECONNREFUSED));
        assert_eq!(judge(&[&r], Use::Send, &v4(0, [127, 0, 0, 1], 8080), libc::AF_INET), Ok(()));
        assert_eq!(judge(&[&r], Use::Connect, &unspec_denied, libc::AF_INET), Ok(()));
    }

    #[test]
    fn families_not_named_are_refused() {
        let r = rule(&["127.0.0.1:8080"]);
        let netlink = [16u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(judge(&[&r], Use::Bind, &netlink, libc::AF_NETLINK), Err(libc::ECONNREFUSED));
        assert_eq!(judge(&[&rule(&["netlink"])], Use::Bind, &netlink, libc::AF_NETLINK), Ok(()));
        let packet = [17u8, 0, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(judge(&[&r], Use::Send, &packet, libc::AF_PACKET), Err(libc::ECONNREFUSED));
        // Too short for its family: matches nothing.
        assert_eq!(
            judge(&[&r], Use::Connect, &v4(2, [127, 0, 0, 1], 8080)[..6], libc::AF_INET),
            Err(libc::ECONNREFUSED)
        );
        // No family at all: not a destination (the kernel fails the call).
        assert_eq!(judge(&[&r], Use::Connect, &[2], libc::AF_INET), Ok(()));
    }

    #[test]
    fn every_rule_must_allow() {
        let (a, b) = (rule(&["127.0.0.1"]), rule(&["*:8080"]));
        assert_eq!(judge(&[&a, &b], Use::Connect, &v4(2, [127, 0, 0, 1], 8080), libc::AF_INET), Ok(()));
        assert!(judge(&[&a, &b], Use::Connect, &v4(2, [127, 0, 0, 1], 80), libc::AF_INET).is_err());
    }

    #[test]
    fn raw_sockets() {
        assert!(is_raw(libc::AF_INET, libc::SOCK_RAW) && is_raw(libc::AF_INET6, libc::SOCK_RAW | libc::SOCK_CLOEXEC));
        assert!(is_raw(libc::AF_INET, 10) && is_raw(libc::AF_PACKET, libc::SOCK_DGRAM));
        assert!(!is_raw(libc::AF_NETLINK, libc::SOCK_RAW) && !is_raw(libc::AF_INET, libc::SOCK_STREAM));
    }
}
