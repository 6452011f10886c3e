//! Start-up checks: does this kernel have what the supervisor relies on?

use crate::sys::seccomp;

/// Oldest kernel with `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`.
pub const MINIMUM: (u32, u32) = (5, 19);
/// First kernel whose blocked `NOTIF_RECV` wakes up when the filter loses its last user, and
/// which has `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`.
pub const RECV_WAKES_ON_HUP: (u32, u32) = (6, 6);

/// What was found.
#[derive(Clone, Copy, Debug)]
pub struct Kernel {
    pub version: (u32, u32),
}

impl Kernel {
    pub fn at_least(&self, v: (u32, u32)) -> bool {
        self.version >= v
    }
}

/// `major.minor` of a release string like `6.18.44-fc-v657`.
pub fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Checks the running kernel; the error explains what is missing.
pub fn check() -> Result<Kernel, String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    evaluate(release.trim(), &seccomp::probe())
}

/// The decision of [`check`], from the release string and what the kernel answered.
pub fn evaluate(release: &str, support: &seccomp::KernelSupport) -> Result<Kernel, String> {
    let version = parse_release(release).ok_or_else(|| format!("cannot tell the kernel version from {release:?}"))?;
    if !support.user_notif {
        return Err(format!(
            "this kernel ({release}) does not offer seccomp user notification \
             (SECCOMP_RET_USER_NOTIF); interpose needs Linux {}.{} or newer built with CONFIG_SECCOMP_FILTER",
            MINIMUM.0, MINIMUM.1
        ));
    }
    if version < MINIMUM {
        return Err(format!(
            "this kernel ({release}) is older than Linux {}.{}: it lacks SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, \
             without which a signal to the traced program would cancel calls mid-flight",
            MINIMUM.0, MINIMUM.1
        ));
    }
    if !support.sizes_match {
        return Err(format!("this kernel ({release}) reports seccomp notification structures smaller than expected"));
    }
    Ok(Kernel { version })
}

#[cfg(test)]
mod tests {
    use crate::sys::seccomp::KernelSupport;

    #[test]
    fn what_is_missing_is_said() {
        let full = KernelSupport { user_notif: true, sizes_match: true };
        assert!(super::evaluate("6.18.44", &full).is_ok());
        let e = super::evaluate("5.15.0-91-generic", &full).unwrap_err();
        assert!(e.contains("older than Linux 5.19") && e.contains("WAIT_KILLABLE_RECV"), "{e}");
        let e = super::evaluate("6.1.0", &KernelSupport { user_notif: false, sizes_match: true }).unwrap_err();
        assert!(e.contains("does not offer seccomp user notification"), "{e}");
        let e = super::evaluate("6.1.0", &KernelSupport { user_notif: true, sizes_match: false }).unwrap_err();
        assert!(e.contains("smaller than expected"), "{e}");
        assert!(super::evaluate("weird", &full).is_err());
    }

    #[test]
    fn releases() {
        assert_eq!(super::parse_release("6.18.44-fc-v657"), Some((6, 18)));
        assert_eq!(super::parse_release("5.19.0"), Some((5, 19)));
        assert_eq!(super::parse_release("garbage"), None);
    }
}
