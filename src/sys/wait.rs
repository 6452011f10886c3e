//! waitpid(2) with the raw status decoded by hand, so that deaths by real-time signals (which
//! nix's `Signal` cannot represent) are reported like any other.

use std::io;

use crate::event::ExitStatus;

fn decode(status: libc::c_int) -> Option<ExitStatus> {
    if libc::WIFEXITED(status) {
        Some(ExitStatus::Exited(libc::WEXITSTATUS(status)))
    } else if libc::WIFSIGNALED(status) {
        Some(ExitStatus::Signaled { signal: libc::WTERMSIG(status), core_dumped: libc::WCOREDUMP(status) })
    } else {
        None
    }
}

fn wait(pid: libc::pid_t, flags: libc::c_int) -> io::Result<Option<(u32, Option<ExitStatus>)>> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: waitpid writes one int into `status`, exclusively borrowed for the call.
        let r = unsafe { libc::waitpid(pid, &mut status, flags) };
        if r > 0 {
            return Ok(Some((r as u32, decode(status))));
        }
        if r == 0 {
            return Ok(None);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Reaps one finished child, if any, without blocking: `(pid, how it ended)`.
pub fn reap_any() -> Option<(u32, ExitStatus)> {
    loop {
        match wait(-1, libc::WNOHANG) {
            Ok(Some((pid, Some(st)))) => return Some((pid, st)),
            Ok(Some((_, None))) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

/// Waits for `pid` to end.
pub fn wait_pid(pid: u32) -> Option<ExitStatus> {
    loop {
        match wait(pid as libc::pid_t, 0) {
            Ok(Some((_, Some(st)))) => return Some(st),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}
