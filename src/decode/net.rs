//! Sockets beyond the transfers: socketpair, socket options, listen, shutdown, names (strace's
//! `net.c`, `sockaddr.c`). connect, bind, accept, socket and the transfers keep their shapes in
//! `format`, where the executor's results are shown.

use super::format::Args;
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

/// setsockopt(fd, level, optname, optval, optlen): the value is not captured yet.
pub fn setsockopt(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    level_and_name(a, v[1], v[2]);
    a.ptr(v[3]);
    a.int(v[4]);
}

/// getsockopt(fd, level, optname, optval, optlen): value and length are outputs.
pub fn getsockopt(a: &mut Args, v: &[u64; 6]) {
    a.fd(v[0]);
    level_and_name(a, v[1], v[2]);
    a.ptr(v[3]);
    a.ptr(v[4]);
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
    a.ptr(v[1]);
    a.ptr(v[2]);
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
