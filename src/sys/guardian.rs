//! The guardian: a small process that outlives interpose only to kill what interpose traced.
//!
//! If interpose itself is killed, every selected syscall of the program would fail with ENOSYS
//! while the program runs on unobserved. So at start interpose forks a guardian, which reads,
//! from a pipe, the id of every process the supervisor sees, and holds a pidfd for each (a pidfd
//! never names a later process that reuses the number). When the pipe reaches EOF without the
//! "clean end" record, interpose is gone: the guardian stops the watched processes and all their
//! descendants (found in /proc, so children that never made a trapped call are found too), then
//! kills them, and exits.
//!
//! The launched process itself is stopped by the kernel the moment interpose dies
//! (`PR_SET_PDEATHSIG` with SIGSTOP): it keeps its children attached for the guardian to find,
//! and if the guardian is gone too, it stays stopped rather than running on unobserved.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use super::pidfd;

/// The record that says interpose ended normally.
const CLEAN_END: u32 = 0;

/// interpose's side of the pipe.
pub struct Guardian {
    pid: libc::pid_t,
    pipe: Option<std::fs::File>,
}

/// Forks the guardian. Call while interpose is single-threaded.
pub fn spawn() -> std::io::Result<Guardian> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: interpose is single-threaded here (no thread has been started), so the child may
    // run ordinary code; it never returns from `guard`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid == 0 {
        drop(w);
        guard(r);
    }
    drop(r);
    Ok(Guardian { pid, pipe: Some(std::fs::File::from(w)) })
}

impl Guardian {
    /// A process the supervisor has seen.
    pub fn watch(&mut self, tgid: u32) {
        if let Some(p) = &mut self.pipe
            && p.write_all(&tgid.to_ne_bytes()).is_err()
        {
            self.pipe = None;
        }
    }

    /// interpose ends normally: the guardian exits without killing anything; reap it.
    pub fn dismiss(mut self) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(&CLEAN_END.to_ne_bytes());
        }
        let mut status = 0;
        // SAFETY: waitpid on our own child, writing one int; EINTR retried, ECHILD (already
        // reaped by the main loop) ends it.
        while unsafe { libc::waitpid(self.pid, &mut status, 0) } < 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
        {}
    }

    pub fn pid(&self) -> u32 {
        self.pid as u32
    }
}

fn guard(pipe: OwnedFd) -> ! {
    // Like interpose after the launch, the guardian lets no process of the same user (the
    // program) ptrace it or take its descriptors: the program could otherwise stop or steer the
    // process that is to kill it if interpose dies.
    let _ = nix::sys::prctl::set_dumpable(false);
    // SAFETY: plain libc calls in the freshly forked, single-threaded guardian: stay alive
    // through the terminal's signals (they are for the program and interpose), keep no
    // descriptor but the pipe, and name the process.
    unsafe {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGPIPE] {
            libc::signal(sig, libc::SIG_IGN);
        }
        let keep = pipe.as_raw_fd();
        for fd in 0..keep {
            libc::close(fd);
        }
        libc::syscall(libc::SYS_close_range, keep + 1, u32::MAX, 0);
        libc::prctl(libc::PR_SET_NAME, c"interpose-guard".as_ptr());
    }
    let mut file = std::fs::File::from(pipe);
    let mut watched: HashMap<u32, OwnedFd> = HashMap::new();
    let mut buf = [0u8; 4];
    let clean = loop {
        match file.read_exact(&mut buf) {
            Ok(()) => {
                let tgid = u32::from_ne_bytes(buf);
                if tgid == CLEAN_END {
                    break true;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = watched.entry(tgid)
                    && let Ok(fd) = pidfd::open(tgid as libc::pid_t)
                {
                    e.insert(fd);
                }
                if watched.len() > 512 {
                    // Forget the processes that have ended, so descriptors do not pile up.
                    watched.retain(|_, fd| !exited(fd));
                }
            }
            Err(_) => break false,
        }
    };
    if !clean {
        // Freeze the watched processes and, walking down from them, every descendant (so that
        // none forks or is reparented while we look), then kill them all.
        for fd in watched.values() {
            let _ = pidfd::send_signal(fd.as_fd(), libc::SIGSTOP);
        }
        let roots: Vec<u32> = watched.keys().copied().collect();
        let all = crate::tree::walk(&roots, |pid| {
            // SAFETY: kill takes integers only.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGSTOP) };
        });
        for fd in watched.values() {
            let _ = pidfd::send_signal(fd.as_fd(), libc::SIGKILL);
        }
        for pid in all {
            // SAFETY: kill takes integers only.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
    // SAFETY: ends the guardian without running anything inherited from interpose.
    unsafe { libc::_exit(0) }
}

/// A pidfd is readable once its process has exited.
fn exited(fd: &OwnedFd) -> bool {
    let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd, exclusively borrowed; zero timeout.
    unsafe { libc::poll(&mut p, 1, 0) == 1 }
}

impl Drop for Guardian {
    fn drop(&mut self) {
        // Dropped without `dismiss` (an error path): leave the decision to the guardian, which
        // sees EOF and kills what it watches; that is what an error of interpose should do.
        let _ = self.pipe.take().map(|mut p| p.flush());
    }
}
