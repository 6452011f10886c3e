//! Sockets beyond the transfers: socketpair, socket options, listen, shutdown, names (strace's
//! `net.c`, `sockaddr.c`). connect, bind, accept, socket and the transfers keep their shapes in
//! `format`, where the executor's results are shown.

use super::capture;
use super::format::{self, Args};
use super::xlat::{self, Table, x};

pub static LEVELS: Table = x![
    SOL_IP,
    SOL_SOCKET,
    SOL_TCP,
    SOL_UDP,
    SOL_IPV6,
    SOL_ICMPV6,
    SOL_SCTP = 132,
    SOL_UDPLITE = 136,
    SOL_RAW,
    SOL_IPX = 256,
    SOL_PACKET,
    SOL_NETLINK,
    SOL_TLS,
    SOL_XDP,
    SOL_MPTCP = 284,
];

pub static SO_OPTS: Table = x![
    SO_DEBUG,
    SO_REUSEADDR,
    SO_TYPE,
    SO_ERROR,
    SO_DONTROUTE,
    SO_BROADCAST,
    SO_SNDBUF,
    SO_RCVBUF,
    SO_KEEPALIVE,
    SO_OOBINLINE,
    SO_NO_CHECK,
    SO_PRIORITY,
    SO_LINGER,
    SO_BSDCOMPAT,
    SO_REUSEPORT,
    SO_PASSCRED,
    SO_PEERCRED,
    SO_RCVLOWAT,
    SO_SNDLOWAT,
    SO_RCVTIMEO_OLD = 20,
    SO_SNDTIMEO_OLD = 21,
    SO_BINDTODEVICE,
    SO_ATTACH_FILTER,
    SO_DETACH_FILTER,
    SO_PEERNAME,
    SO_TIMESTAMP_OLD = 29,
    SO_ACCEPTCONN,
    SO_PEERSEC,
    SO_SNDBUFFORCE,
    SO_RCVBUFFORCE,
    SO_PASSSEC,
    SO_TIMESTAMPNS_OLD = 35,
    SO_MARK,
    SO_TIMESTAMPING_OLD = 37,
    SO_PROTOCOL,
    SO_DOMAIN,
    SO_RXQ_OVFL,
    SO_WIFI_STATUS,
    SO_PEEK_OFF,
    SO_NOFCS,
    SO_LOCK_FILTER,
    SO_SELECT_ERR_QUEUE,
    SO_BUSY_POLL,
    SO_MAX_PACING_RATE,
    SO_BPF_EXTENSIONS,
    SO_INCOMING_CPU,
    SO_ATTACH_BPF,
    SO_ATTACH_REUSEPORT_CBPF,
    SO_ATTACH_REUSEPORT_EBPF,
    SO_CNX_ADVICE,
    SO_MEMINFO = 55,
    SO_INCOMING_NAPI_ID,
    SO_COOKIE,
    SO_PEERGROUPS = 59,
    SO_ZEROCOPY,
    SO_TXTIME,
    SO_BINDTOIFINDEX,
];

pub static TCP_OPTS: Table = x![
    TCP_NODELAY,
    TCP_MAXSEG,
    TCP_CORK,
    TCP_KEEPIDLE,
    TCP_KEEPINTVL,
    TCP_KEEPCNT,
    TCP_SYNCNT,
    TCP_LINGER2,
    TCP_DEFER_ACCEPT,
    TCP_WINDOW_CLAMP,
    TCP_INFO,
    TCP_QUICKACK,
    TCP_CONGESTION,
    TCP_MD5SIG,
    TCP_THIN_LINEAR_TIMEOUTS,
    TCP_THIN_DUPACK,
    TCP_USER_TIMEOUT,
    TCP_REPAIR,
    TCP_REPAIR_QUEUE,
    TCP_QUEUE_SEQ,
    TCP_REPAIR_OPTIONS,
    TCP_FASTOPEN,
    TCP_TIMESTAMP,
    TCP_NOTSENT_LOWAT,
    TCP_CC_INFO,
    TCP_SAVE_SYN,
    TCP_SAVED_SYN,
    TCP_REPAIR_WINDOW,
    TCP_FASTOPEN_CONNECT,
    TCP_ULP,
    TCP_MD5SIG_EXT,
    TCP_FASTOPEN_KEY,
    TCP_FASTOPEN_NO_COOKIE,
    TCP_ZEROCOPY_RECEIVE,
    TCP_INQ,
    TCP_TX_DELAY = 37,
];

pub static IP_OPTS: Table = x![
    IP_TOS,
    IP_TTL,
    IP_HDRINCL,
    IP_OPTIONS,
    IP_RECVOPTS,
    IP_RETOPTS,
    IP_PKTINFO,
    IP_PKTOPTIONS,
    IP_MTU_DISCOVER,
    IP_RECVERR,
    IP_RECVTTL,
    IP_RECVTOS,
    IP_MTU,
    IP_FREEBIND,
    IP_IPSEC_POLICY,
    IP_XFRM_POLICY,
    IP_PASSSEC,
    IP_TRANSPARENT,
    IP_ORIGDSTADDR,
    IP_MINTTL,
    IP_NODEFRAG,
    IP_CHECKSUM,
    IP_BIND_ADDRESS_NO_PORT,
    IP_RECVFRAGSIZE,
    IP_MULTICAST_IF,
    IP_MULTICAST_TTL,
    IP_MULTICAST_LOOP,
    IP_ADD_MEMBERSHIP,
    IP_DROP_MEMBERSHIP,
    IP_UNBLOCK_SOURCE,
    IP_BLOCK_SOURCE,
    IP_ADD_SOURCE_MEMBERSHIP,
    IP_DROP_SOURCE_MEMBERSHIP,
    IP_MSFILTER,
    IP_MULTICAST_ALL,
    IP_UNICAST_IF,
];

pub static IPV6_OPTS: Table = x![
    IPV6_ADDRFORM,
    IPV6_2292PKTINFO,
    IPV6_2292HOPOPTS,
    IPV6_2292DSTOPTS,
    IPV6_2292RTHDR,
    IPV6_2292PKTOPTIONS,
    IPV6_CHECKSUM,
    IPV6_2292HOPLIMIT,
    IPV6_NEXTHOP,
    IPV6_AUTHHDR,
    IPV6_UNICAST_HOPS,
    IPV6_MULTICAST_IF,
    IPV6_MULTICAST_HOPS,
    IPV6_MULTICAST_LOOP,
    IPV6_ADD_MEMBERSHIP,
    IPV6_DROP_MEMBERSHIP,
    IPV6_ROUTER_ALERT,
    IPV6_MTU_DISCOVER,
    IPV6_MTU,
    IPV6_RECVERR,
    IPV6_V6ONLY,
    IPV6_JOIN_ANYCAST,
    IPV6_LEAVE_ANYCAST,
    IPV6_RECVPKTINFO,
    IPV6_PKTINFO,
    IPV6_RECVHOPLIMIT,
    IPV6_HOPLIMIT,
    IPV6_RECVTCLASS,
    IPV6_TCLASS,
    IPV6_AUTOFLOWLABEL,
    IPV6_ADDR_PREFERENCES,
    IPV6_MINHOPCOUNT,
    IPV6_ORIGDSTADDR,
    IPV6_TRANSPARENT,
    IPV6_UNICAST_IF,
    IPV6_RECVFRAGSIZE,
];

pub static UDP_OPTS: Table = x![UDP_CORK, UDP_ENCAP, UDP_NO_CHECK6_TX, UDP_NO_CHECK6_RX, UDP_SEGMENT, UDP_GRO];

/// A socket option's level and name, the name looked up in its level's table.
fn level_and_name(a: &mut Args, level: u64, name: u64) {
    let level = level as u32 as i32;
    a.constant(LEVELS, level as u32 as u64, "SOL_");
    let table: Option<(Table, &str)> = match level {
        libc::SOL_SOCKET => Some((SO_OPTS, "SO_")),
        libc::SOL_TCP => Some((TCP_OPTS, "TCP_")),
        libc::SOL_IP => Some((IP_OPTS, "IP_")),
        libc::SOL_IPV6 => Some((IPV6_OPTS, "IPV6_")),
        libc::SOL_UDP => Some((UDP_OPTS, "UDP_")),
        _ => None,
    };
    let name = name as u32 as u64;
    match table {
        Some((t, prefix)) => a.constant(t, name, prefix),
        None => a.uint(name),
    }
}

/// The SOL_SOCKET options strace 6.1 prints as an `int` whatever their length, when it is 4 or
/// more (`print_setsockopt`'s "int-like options").
pub static SO_INT_OPTS: &[i32] = &[
    libc::SO_DEBUG,
    libc::SO_REUSEADDR,
    libc::SO_DONTROUTE,
    libc::SO_BROADCAST,
    libc::SO_SNDBUF,
    libc::SO_RCVBUF,
    libc::SO_KEEPALIVE,
    libc::SO_OOBINLINE,
    libc::SO_NO_CHECK,
    libc::SO_PRIORITY,
    libc::SO_BSDCOMPAT,
    libc::SO_REUSEPORT,
    libc::SO_PASSCRED,
    libc::SO_RCVLOWAT,
    libc::SO_SNDLOWAT,
    libc::SO_DETACH_FILTER,
    libc::SO_TIMESTAMP,
    libc::SO_ACCEPTCONN,
    libc::SO_SNDBUFFORCE,
    libc::SO_RCVBUFFORCE,
    libc::SO_PASSSEC,
    libc::SO_TIMESTAMPNS,
    libc::SO_MARK,
    libc::SO_TIMESTAMPING,
    libc::SO_RXQ_OVFL,
    libc::SO_WIFI_STATUS,
    libc::SO_PEEK_OFF,
    libc::SO_NOFCS,
    libc::SO_LOCK_FILTER,
    libc::SO_SELECT_ERR_QUEUE,
    libc::SO_BUSY_POLL,
    libc::SO_INCOMING_CPU,
    libc::SO_CNX_ADVICE,
    libc::SO_INCOMING_NAPI_ID,
    libc::SO_ZEROCOPY,
    libc::SO_TIMESTAMP_NEW,
    libc::SO_TIMESTAMPNS_NEW,
    libc::SO_TIMESTAMPING_NEW,
    libc::SO_DETACH_REUSEPORT_BPF,
    libc::SO_PREFER_BUSY_POLL,
    libc::SO_BUSY_POLL_BUDGET,
    libc::SO_RESERVE_MEM,
    libc::SO_RCVMARK,
];

/// `<linux/icmp.h>`'s, which libc lacks.
const ICMP_FILTER: i32 = 1;

/// How strace 6.1 prints a setsockopt value (`print_setsockopt`).
#[derive(Debug, PartialEq, Eq)]
enum Value {
    Int,
    Linger,
    Mreq,
    Bytes,
    Addr,
}

fn value_kind(level: i32, name: i32, len: i32) -> Value {
    let int_if = |long_enough: bool| if long_enough { Value::Int } else { Value::Addr };
    match (level, name) {
        (libc::SOL_SOCKET, libc::SO_LINGER) if len >= 8 => Value::Linger,
        (libc::SOL_IP, libc::IP_ADD_MEMBERSHIP | libc::IP_DROP_MEMBERSHIP) if len >= 8 => Value::Mreq,
        (libc::SOL_SOCKET, n) if SO_INT_OPTS.contains(&n) => int_if(len >= 4),
        (libc::SOL_NETLINK, _) => int_if(len >= 4),
        // The structs strace decodes and we do not (socket filters, group memberships, packet
        // rings, ICMP filters), and the two above when too short.
        (libc::SOL_SOCKET, libc::SO_LINGER | libc::SO_ATTACH_FILTER | libc::SO_ATTACH_REUSEPORT_CBPF)
        | (
            libc::SOL_IP,
            libc::IP_ADD_MEMBERSHIP | libc::IP_DROP_MEMBERSHIP | libc::MCAST_JOIN_GROUP | libc::MCAST_LEAVE_GROUP,
        )
        | (
            libc::SOL_IPV6,
            libc::IPV6_ADD_MEMBERSHIP
            | libc::IPV6_DROP_MEMBERSHIP
            | libc::IPV6_JOIN_ANYCAST
            | libc::IPV6_LEAVE_ANYCAST
            | libc::MCAST_JOIN_GROUP
            | libc::MCAST_LEAVE_GROUP,
        )
        | (
            libc::SOL_PACKET,
            libc::PACKET_RX_RING | libc::PACKET_TX_RING | libc::PACKET_ADD_MEMBERSHIP | libc::PACKET_DROP_MEMBERSHIP,
        )
        | (libc::SOL_RAW, ICMP_FILTER) => Value::Addr,
        _ if len == 4 => Value::Int,
        _ => Value::Bytes,
    }
}

/// A setsockopt value that is not a string, as strace 6.1 prints it from the bytes captured at
/// entry (`None`: unreadable): `[1]` for an int, `{l_onoff=1, l_linger=0}` for SO_LINGER, the
/// group of IP_ADD_MEMBERSHIP; the address for the structs we do not decode and for values too
/// short for their type.
fn setsockopt_value(out: &mut String, kind: Value, addr: u64, data: Option<&[u8]>) {
    use std::fmt::Write;
    let int = |d: &[u8]| i32::from_ne_bytes(d[..4].try_into().expect("4 bytes"));
    let ip = |d: &[u8]| std::net::Ipv4Addr::new(d[0], d[1], d[2], d[3]);
    match (kind, data) {
        (Value::Int, Some(d)) if d.len() >= 4 => {
            let _ = write!(out, "[{}]", int(d));
        }
        (Value::Linger, Some(d)) if d.len() >= 8 => {
            let _ = write!(out, "{{l_onoff={}, l_linger={}}}", int(d), int(&d[4..]));
        }
        (Value::Mreq, Some(d)) if d.len() >= 8 => {
            let _ =
                write!(out, "{{imr_multiaddr=inet_addr(\"{}\"), imr_interface=inet_addr(\"{}\")}}", ip(d), ip(&d[4..]));
        }
        _ => super::format::ptr(out, addr),
    }
}

/// setsockopt(fd, level, optname, optval, optlen): the value is captured at entry
/// (`Cap::Sized`); other than an int or a struct we know, it is shown as a string cut at `-s`.
pub fn setsockopt(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    level_and_name(a, v[1], v[2]);
    let len = v[4] as i32;
    match value_kind(v[1] as i32, v[2] as i32, len) {
        Value::Bytes if len >= 0 => a.sized_string(3, len as u64, false),
        kind => {
            let data = a.captured(3).map(|(d, _)| d);
            setsockopt_value(a.arg(), kind, v[3], data);
        }
    }
    a.int(v[4]);
}

/// getsockopt(fd, level, optname, optval, optlen): value and length are outputs.
pub fn getsockopt(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    level_and_name(a, v[1], v[2]);
    match a.output(3) {
        Some(capture::Value::Filled { data, .. }) => sockopt_value(a.arg(), v[1] as i32, v[2] as i32, data, v[3]),
        _ => a.ptr(v[3]),
    }
    a.out_socklen(4, 3);
}

/// A getsockopt value as strace prints it: an int in brackets (`[1]`; SO_ERROR as the errno
/// name, `[ECONNREFUSED]`), else the address.
fn sockopt_value(out: &mut String, level: i32, name: i32, data: &[u8], addr: u64) {
    use std::fmt::Write;
    if data.len() != 4 {
        format::ptr(out, addr);
        return;
    }
    let v = i32::from_ne_bytes(data.try_into().expect("4 bytes"));
    match (level, name) {
        (libc::SOL_SOCKET, libc::SO_ERROR) if v != 0 => match xlat::errno_name(v) {
            Some(e) => {
                let _ = write!(out, "[{e}]");
            }
            None => {
                let _ = write!(out, "[{v}]");
            }
        },
        _ => {
            let _ = write!(out, "[{v}]");
        }
    }
}

/// socketpair(domain, type, protocol, sv): as socket, then the pair (an output).
pub fn socketpair(a: &mut Args, v: &[u64; 6]) {
    let family = v[0] as u32 as u64;
    a.constant(xlat::ADDRESS_FAMILIES, family, "AF_");
    sock_type(a.arg(), v[1]);
    a.int(v[2]);
    a.ptr(v[3]);
}

/// `SOCK_STREAM|SOCK_CLOEXEC`.
pub fn sock_type(out: &mut String, ty: u64) {
    let ty = ty as u32 as u64;
    xlat::constant(out, xlat::SOCK_TYPES, ty & 0xf, "SOCK_");
    if ty & !0xf != 0 {
        out.push('|');
        xlat::flags(out, xlat::SOCK_FLAGS, ty & !0xf, "0");
    }
}

pub fn listen(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.int(v[1]);
}

pub static SHUTDOWN_HOW: Table = x![SHUT_RD, SHUT_WR, SHUT_RDWR];

pub fn shutdown(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.constant(SHUTDOWN_HOW, v[1] as u32 as u64, "SHUT_");
}

/// getsockname(fd, addr, addrlen), getpeername: both are outputs.
pub fn getsockname(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.out_sockaddr(1);
    a.out_socklen(2, 1);
}

/// sendmmsg(fd, msgvec, vlen, flags), recvmmsg(fd, msgvec, vlen, flags, timeout).
pub fn sendmmsg(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    a.ptr(v[1]);
    a.uint(v[2]);
    a.flags(xlat::MSG_FLAGS, v[3] as u32 as u64, "0");
}

pub fn recvmmsg(a: &mut Args, v: &[u64; 6]) {
    sendmmsg(a, v);
    a.ptr(v[4]);
}

#[cfg(test)]
mod setsockopt_tests {
    use super::*;

    /// The value as printed, from `data` at 0x7f0000001000.
    fn value(level: i32, name: i32, len: i32, data: Option<&[u8]>) -> String {
        let mut s = String::new();
        setsockopt_value(&mut s, value_kind(level, name, len), 0x7f00_0000_1000, data);
        s
    }

    #[test]
    fn values_like_strace() {
        let one = 1i32.to_ne_bytes();
        assert_eq!(value(libc::SOL_SOCKET, libc::SO_REUSEADDR, 4, Some(&one)), "[1]");
        assert_eq!(value(libc::SOL_TCP, libc::TCP_NODELAY, 4, Some(&(-5i32).to_ne_bytes())), "[-5]");
        // An int-like SOL_SOCKET option is an int whatever its length, when long enough...
        assert_eq!(value(libc::SOL_SOCKET, libc::SO_SNDBUF, 8, Some(&[2, 0, 0, 0, 0, 0, 0, 0])), "[2]");
        assert_eq!(value(libc::SOL_SOCKET, libc::SO_SNDBUF, 2, Some(&[1, 1])), "0x7f0000001000");
        // ... where another option of another length is a string (`format::sized_quote`).
        assert_eq!(value_kind(libc::SOL_TCP, libc::TCP_NODELAY, 8), Value::Bytes);
        assert_eq!(value_kind(libc::SOL_SOCKET, libc::SO_RCVTIMEO, 16), Value::Bytes);
        assert_eq!(value_kind(libc::SOL_NETLINK, 1, 8), Value::Int);
        let linger = [1, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(value(libc::SOL_SOCKET, libc::SO_LINGER, 8, Some(&linger)), "{l_onoff=1, l_linger=0}");
        assert_eq!(value(libc::SOL_SOCKET, libc::SO_LINGER, 4, Some(&linger[..4])), "0x7f0000001000");
        let mreq = [224, 0, 0, 251, 0, 0, 0, 0];
        assert_eq!(
            value(libc::SOL_IP, libc::IP_ADD_MEMBERSHIP, 8, Some(&mreq)),
            r#"{imr_multiaddr=inet_addr("224.0.0.251"), imr_interface=inet_addr("0.0.0.0")}"#
        );
        // Not decoded here: the address, as strace prints what it cannot read.
        assert_eq!(value(libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, 16, Some(&[0; 16])), "0x7f0000001000");
        assert_eq!(value(libc::SOL_SOCKET, libc::SO_REUSEADDR, 4, None), "0x7f0000001000");
    }
}
