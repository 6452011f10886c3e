//! The only room in the crate where `unsafe` lives.
//!
//! Everything that talks to the kernel through raw pointers is wrapped here in types that carry
//! the kernel's rules: an owned seccomp listener, a notification whose id must be re-validated
//! before bytes read on its behalf are trusted, a file descriptor number that belongs to *another*
//! process. The rest of the crate is `#![deny(unsafe_code)]` and sees only safe functions.

pub mod caps;
pub mod child;
pub mod cred;
pub mod guardian;
pub mod io;
pub mod mem;
pub mod meta;
pub mod perf;
pub mod pidfd;
pub mod seccomp;
pub mod signals;
pub mod time;
pub mod wait;
