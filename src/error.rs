//! Error helpers shared by the stages: readable reasons, without Rust's "(os error N)" noise.

use std::io;

/// `No such file or directory`, not `No such file or directory (os error 2)`.
pub fn io_reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => errno_text(code),
        None => e.to_string(),
    }
}

/// strerror(3) text for an errno value.
pub fn errno_text(code: i32) -> String {
    let s = io::Error::from_raw_os_error(code).to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
