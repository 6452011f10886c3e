//! Local time of day, for `-t`/`-tt` (std has no time zone support).

/// Hours, minutes and seconds of the local time at `secs` since the epoch.
pub fn local_hms(secs: i64) -> (u32, u32, u32) {
    let t: libc::time_t = secs;
    // SAFETY: tm is plain data; all-zero is valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r reads `t` and fills `tm`, both borrowed for the call; it is the
    // reentrant variant (no shared static buffer).
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok {
        (tm.tm_hour as u32, tm.tm_min as u32, tm.tm_sec as u32)
    } else {
        let s = secs.rem_euclid(86_400) as u32;
        (s / 3600, s / 60 % 60, s % 60)
    }
}
