//! Signal dispositions that only `unsafe` APIs can change.

/// An executed write past RLIMIT_FSIZE would send SIGXFSZ to interpose (its default action kills
/// the supervisor); ignored, the write fails with EFBIG, and the executor forwards SIGXFSZ to the
/// writing thread. The launched child restores the default before exec.
pub fn ignore_for_executed_writes() {
    // SAFETY: setting a standard signal to SIG_IGN installs no handler and touches no memory.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
}

/// Ends this process with `sig` as its cause of death, the way the target died, so that the shell
/// sees the same status (strace does the same). Core dumps of our own are suppressed first: the
/// target's core (if any) is the one that matters.
pub fn die_by(sig: i32) -> ! {
    let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain libc calls with valid arguments; after resetting the disposition to default
    // and unblocking, raise() delivers the signal to this thread and the default action ends the
    // process. The process is about to end; no Rust invariants outlive it.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
    // A signal whose default action does not terminate (it cannot be one the target died of, but be
    // safe): fall back to the shell's convention.
    std::process::exit(128 + sig)
}

/// The signal that interrupts a call interpose performs on a worker thread for a program
/// thread that has gone (see `supervisor::guard::InFlight`): a real-time signal no library here
/// uses, whose handler does nothing, installed without `SA_RESTART`, so that a blocking connect
/// or send in the worker returns EINTR.
pub fn abandon_signal() -> i32 {
    libc::SIGRTMIN() + 3
}

extern "C" fn ignore_signal(_: libc::c_int) {}

/// Installs the do-nothing handler of [`abandon_signal`].
pub fn install_abandon_handler() {
    // SAFETY: sigaction with a zeroed struct, an empty mask and a handler that touches nothing
    // (async-signal-safe); no SA_RESTART, so interrupted calls return EINTR.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = ignore_signal as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = 0;
        libc::sigaction(abandon_signal(), &sa, std::ptr::null_mut());
        // Unblocked in this thread, and so in the workers it starts, whatever mask interpose
        // was started with.
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, abandon_signal());
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}

/// This thread's kernel id.
pub fn gettid() -> u32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as u32 }
}
