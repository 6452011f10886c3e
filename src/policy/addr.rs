//! Socket address patterns: `127.0.0.1:8080`, `10.0.0.0/8`, `127.0.0.0/8:443`, `[::1]:443`,
//! `[::1]/128`, `*:443` (any address, one port), `unix:/run/app.sock`, `unix:@abstract`.
//!
//! Used to scope fault injection to a destination (and, later, by network rules). Matching is on
//! the raw sockaddr bytes a program passed to connect/sendto/sendmsg.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddrPattern {
    Ip {
        net: IpAddr,
        prefix: u8,
        port: Option<u16>,
    },
    AnyIp {
        port: u16,
    },
    /// AF_UNIX by path; abstract names are written with a leading `@`.
    Unix(Vec<u8>),
    /// AF_NETLINK to the kernel (`netlink`): port 0, no multicast group, e.g. glibc's
    /// getaddrinfo asking for the host's addresses. As a bind (a socket's own name), any
    /// netlink address.
    Netlink,
    /// AF_NETLINK to one other socket's port (`netlink:PORT`), without a multicast group:
    /// another process, which plain `netlink` never allows.
    NetlinkPort(u32),
}

impl fmt::Display for AddrPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrPattern::Ip { net: IpAddr::V4(a), prefix, port } => {
                write!(f, "{a}")?;
                if *prefix != 32 {
                    write!(f, "/{prefix}")?;
                }
                port.map_or(Ok(()), |p| write!(f, ":{p}"))
            }
            AddrPattern::Ip { net: IpAddr::V6(a), prefix, port } => {
                write!(f, "[{a}]")?;
                if *prefix != 128 {
                    write!(f, "/{prefix}")?;
                }
                port.map_or(Ok(()), |p| write!(f, ":{p}"))
            }
            AddrPattern::AnyIp { port } => write!(f, "*:{port}"),
            AddrPattern::Unix(p) => write!(f, "unix:{}", String::from_utf8_lossy(p)),
            AddrPattern::Netlink => f.write_str("netlink"),
            AddrPattern::NetlinkPort(p) => write!(f, "netlink:{p}"),
        }
    }
}

const HINT: &str = "expected ADDR[/PREFIX][:PORT] (e.g. 127.0.0.1:8080, 10.0.0.0/8, [::1]:443, *:443), unix:PATH, \
                    netlink or netlink:PORT";

/// A port: 1..65535, or 0, which matches an address whose port is 0: a bind that lets the
/// kernel choose the port (explicitly, or the bind a listen or a UDP send makes first).
fn port(s: &str, min: u16) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(p) if p >= min => Ok(p),
        _ if min == 0 => Err(format!("invalid port \"{s}\" (0..65535; 0 is a port the kernel chooses)")),
        _ => Err(format!("invalid port \"{s}\" (1..65535)")),
    }
}

impl AddrPattern {
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::parse_ports(s, 0)
    }

    /// [`AddrPattern::parse`] with ports from `min_port` up.
    fn parse_ports(s: &str, min_port: u16) -> Result<Self, String> {
        let port = |p: &str| port(p, min_port);
        if s == "netlink" {
            return Ok(AddrPattern::Netlink);
        }
        if let Some(p) = s.strip_prefix("netlink:") {
            return match p.parse::<u32>() {
                Ok(port) if port != 0 => Ok(AddrPattern::NetlinkPort(port)),
                _ => Err(format!(
                    "invalid netlink port \"{p}\" (1..4294967295; the kernel, port 0, is plain \"netlink\")"
                )),
            };
        }
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("empty unix socket path".into());
            }
            return Ok(AddrPattern::Unix(path.as_bytes().to_vec()));
        }
        if let Some(p) = s.strip_prefix("*:") {
            return Ok(AddrPattern::AnyIp { port: port(p)? });
        }
        // [v6](/prefix)?(:port)?
        if let Some(rest) = s.strip_prefix('[') {
            let (addr, after) = rest.split_once(']').ok_or_else(|| format!("unclosed [ in \"{s}\"; {HINT}"))?;
            let ip: Ipv6Addr = addr.parse().map_err(|_| format!("invalid IPv6 address \"{addr}\"; {HINT}"))?;
            let (prefix, port_s) = split_prefix_port(after, s)?;
            let prefix = check_prefix(prefix, 128)?;
            return Ok(AddrPattern::Ip {
                net: mask(IpAddr::V6(ip), prefix),
                prefix,
                port: port_s.map(port).transpose()?,
            });
        }
        // v4(/prefix)?(:port)?
        let (head, port_s) = match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        };
        let (addr, prefix) = match head.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (head, None),
        };
        let ip: Ipv4Addr = addr.parse().map_err(|_| format!("invalid address \"{s}\"; {HINT}"))?;
        let prefix = check_prefix(prefix, 32)?;
        Ok(AddrPattern::Ip { net: mask(IpAddr::V4(ip), prefix), prefix, port: port_s.map(port).transpose()? })
    }

    /// A destination pattern (fault injection's `dest=`): as [`AddrPattern::parse`], but port 0,
    /// which only a bind has, is refused.
    pub fn parse_destination(s: &str) -> Result<Self, String> {
        Self::parse_ports(s, 1)
    }

    /// The port an IP pattern requires, if any.
    pub fn port(&self) -> Option<u16> {
        match self {
            AddrPattern::Ip { port, .. } => *port,
            AddrPattern::AnyIp { port } => Some(*port),
            AddrPattern::Unix(_) | AddrPattern::Netlink | AddrPattern::NetlinkPort(_) => None,
        }
    }

    /// Whether the sockaddr bytes a program passed match.
    pub fn matches(&self, sa: &[u8]) -> bool {
        match (self, parse_sockaddr(sa)) {
            (AddrPattern::Unix(want), Some(Sock::Unix(got))) => *want == got,
            (AddrPattern::Netlink, Some(Sock::Netlink { port: 0, groups: 0 })) => true,
            (AddrPattern::NetlinkPort(want), Some(Sock::Netlink { port, groups: 0 })) => *want == port,
            (AddrPattern::AnyIp { port }, Some(Sock::Ip(_, p))) => *port == p,
            (AddrPattern::Ip { net, prefix, port }, Some(Sock::Ip(ip, p))) => {
                port.is_none_or(|want| want == p) && same_family(net, &ip) && mask(ip, *prefix) == *net
            }
            _ => false,
        }
    }
}

fn same_family(a: &IpAddr, b: &IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

fn split_prefix_port<'a>(after: &'a str, whole: &str) -> Result<(Option<&'a str>, Option<&'a str>), String> {
    let (prefix_part, port) = match after.split_once(':') {
        Some((a, p)) => (a, Some(p)),
        None => (after, None),
    };
    let prefix = if prefix_part.is_empty() {
        None
    } else {
        Some(
            prefix_part
                .strip_prefix('/')
                .ok_or_else(|| format!("unexpected \"{prefix_part}\" in \"{whole}\"; {HINT}"))?,
        )
    };
    Ok((prefix, port))
}

fn check_prefix(p: Option<&str>, max: u8) -> Result<u8, String> {
    match p {
        None => Ok(max),
        Some(s) => s
            .parse::<u8>()
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| format!("invalid prefix length \"/{s}\" (0..{max})")),
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

enum Sock {
    Ip(IpAddr, u16),
    Unix(Vec<u8>),
    /// `nl_pid` and `nl_groups`.
    Netlink {
        port: u32,
        groups: u32,
    },
}

/// Whether `sa` is an AF_NETLINK address (of any length).
pub fn is_netlink(sa: &[u8]) -> bool {
    sa.len() >= 2 && i32::from(u16::from_ne_bytes([sa[0], sa[1]])) == libc::AF_NETLINK
}

fn parse_sockaddr(sa: &[u8]) -> Option<Sock> {
    if sa.len() < 2 {
        return None;
    }
    let family = u16::from_ne_bytes([sa[0], sa[1]]);
    match family as i32 {
        libc::AF_INET if sa.len() >= 8 => {
            Some(Sock::Ip(IpAddr::V4(Ipv4Addr::new(sa[4], sa[5], sa[6], sa[7])), u16::from_be_bytes([sa[2], sa[3]])))
        }
        libc::AF_INET6 if sa.len() >= 24 => {
            let a = Ipv6Addr::from(<[u8; 16]>::try_from(&sa[8..24]).ok()?);
            // An IPv4-mapped address is the IPv4 address it maps.
            let ip = a.to_ipv4_mapped().map_or(IpAddr::V6(a), IpAddr::V4);
            Some(Sock::Ip(ip, u16::from_be_bytes([sa[2], sa[3]])))
        }
        libc::AF_UNIX => {
            let path = &sa[2..];
            let path = match path.first() {
                Some(0) => {
                    let mut v = vec![b'@'];
                    v.extend_from_slice(&path[1..]);
                    v
                }
                _ => path[..path.iter().position(|&b| b == 0).unwrap_or(path.len())].to_vec(),
            };
            Some(Sock::Unix(path))
        }
        // sockaddr_nl: family, pad, nl_pid, nl_groups; shorter is the kernel's EINVAL.
        libc::AF_NETLINK if sa.len() >= 12 => Some(Sock::Netlink {
            port: u32::from_ne_bytes(sa[4..8].try_into().ok()?),
            groups: u32::from_ne_bytes(sa[8..12].try_into().ok()?),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4], port: u16) -> Vec<u8> {
        let mut v = vec![2, 0];
        v.extend(port.to_be_bytes());
        v.extend(a);
        v.extend([0; 8]);
        v
    }

    fn v6(a: Ipv6Addr, port: u16) -> Vec<u8> {
        let mut v = vec![10, 0];
        v.extend(port.to_be_bytes());
        v.extend([0; 4]);
        v.extend(a.octets());
        v.extend([0; 4]);
        v
    }

    #[test]
    fn patterns() {
        let p = AddrPattern::parse("127.0.0.1:8080").unwrap();
        assert!(p.matches(&v4([127, 0, 0, 1], 8080)));
        assert!(!p.matches(&v4([127, 0, 0, 1], 8081)));
        let p = AddrPattern::parse("127.0.0.0/8:443").unwrap();
        assert!(p.matches(&v4([127, 9, 9, 9], 443)) && !p.matches(&v4([10, 0, 0, 1], 443)));
        let p = AddrPattern::parse("10.0.0.0/8").unwrap();
        assert!(p.matches(&v4([10, 1, 2, 3], 1)));
        let p = AddrPattern::parse("[::1]/128").unwrap();
        assert!(p.matches(&v6(Ipv6Addr::LOCALHOST, 5)) && !p.matches(&v4([127, 0, 0, 1], 5)));
        let p = AddrPattern::parse("[::1]:443").unwrap();
        assert!(p.matches(&v6(Ipv6Addr::LOCALHOST, 443)) && !p.matches(&v6(Ipv6Addr::LOCALHOST, 80)));
        // IPv4-mapped IPv6 matches the IPv4 pattern.
        let p = AddrPattern::parse("127.0.0.1").unwrap();
        assert!(p.matches(&v6(Ipv4Addr::LOCALHOST.to_ipv6_mapped(), 1)));
        let p = AddrPattern::parse("*:443").unwrap();
        assert!(p.matches(&v4([1, 2, 3, 4], 443)) && p.matches(&v6(Ipv6Addr::LOCALHOST, 443)));
        let p = AddrPattern::parse("unix:/run/a.sock").unwrap();
        let mut un = vec![1, 0];
        un.extend(b"/run/a.sock\0");
        assert!(p.matches(&un));
        let p = AddrPattern::parse("unix:@abs").unwrap();
        assert!(p.matches(&[1, 0, 0, b'a', b'b', b's']));
        let p = AddrPattern::parse("netlink").unwrap();
        assert!(p.matches(&[16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) && !p.matches(&v4([127, 0, 0, 1], 1)));
        assert_eq!(p.to_string(), "netlink");
        // Another process's port, or a multicast group: not the kernel.
        let nl = |port: u32, groups: u32| {
            let mut v = vec![16, 0, 0, 0];
            v.extend(port.to_ne_bytes());
            v.extend(groups.to_ne_bytes());
            v
        };
        assert!(!p.matches(&nl(4242, 0)) && !p.matches(&nl(0, 1)) && !p.matches(&nl(0, 0)[..8]));
        let p = AddrPattern::parse("netlink:4242").unwrap();
        assert!(p.matches(&nl(4242, 0)) && !p.matches(&nl(0, 0)) && !p.matches(&nl(4242, 2)));
        assert_eq!(p.to_string(), "netlink:4242");
        assert!(AddrPattern::parse("netlink:0").is_err() && AddrPattern::parse("netlink:x").is_err());
        for bad in ["", "1.2.3", "1.2.3.4:99999", "1.2.3.4/33", "[::1", "[zz]", "unix:", "*:x"] {
            assert!(AddrPattern::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(AddrPattern::parse("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
    }
}
