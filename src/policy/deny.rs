//! Network rules: `[[deny]]` refuses connect/bind/sendto/sendmsg to any destination its `except`
//! list does not allow.
//!
//! ```toml
//! [[deny]]
//! syscalls = ["connect"]          # connect, bind, sendto, sendmsg
//! error = "ECONNREFUSED"          # the default
//! except = ["127.0.0.1:8080", "[::1]/128", "127.0.0.0/8:443", "unix:/run/app.sock"]
//! ```
//!
//! The rules govern IPv4, IPv6 and AF_UNIX addresses; calls without an address (a send on a
//! connected socket) and other families (netlink, packet) are not theirs to judge.

use super::addr::AddrPattern;
use super::set::SyscallSet;

/// The syscalls a deny rule may govern.
pub const GOVERNED: &[&str] = &["connect", "bind", "sendto", "sendmsg"];

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
    pub fn allows(&self, sockaddr: &[u8]) -> bool {
        self.except.iter().any(|p| p.matches(sockaddr))
    }
}

/// Checks that a deny rule's syscalls are ones it can govern.
pub fn check_syscalls(set: &SyscallSet) -> Result<(), String> {
    let bad: Vec<&str> = set.names().filter(|n| !GOVERNED.contains(n)).collect();
    if bad.is_empty() && !set.is_empty() {
        Ok(())
    } else if set.is_empty() {
        Err("no syscalls; a deny rule governs connect, bind, sendto and sendmsg".into())
    } else {
        Err(format!("a deny rule governs connect, bind, sendto and sendmsg, not {}", bad.join(", ")))
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
