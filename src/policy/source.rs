//! Reading a policy file: a regular file of at most [`MAX_BYTES`], nothing else.
//!
//! A policy path is user input like any other: `-p /dev/zero` must not read forever, and
//! `check FIFO` must not wait for a writer that never comes. So the path is looked at before it
//! is opened (a device is never opened: opening some has side effects, a tape rewinds, a watchdog
//! starts), opened with `O_NONBLOCK` (a FIFO swapped in after that look does not block the open),
//! looked at again through the opened descriptor (what is read is what was checked), and read
//! with a bound (a file that grows, or a /proc file whose size says 0, stops at the bound).

use std::fs::Metadata;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The largest policy file accepted. Real policies are a few hundred bytes.
pub const MAX_BYTES: u64 = 1024 * 1024;

/// The policy file's text, or the message saying why it cannot be used (without the path, which
/// the caller's error carries).
pub fn read(path: &Path) -> Result<String, String> {
    let cannot = |e: std::io::Error| format!("cannot read the policy file: {}", crate::error::io_reason(&e));
    // Symbolic links are followed, as for any file argument; what they lead to must be regular.
    regular(&std::fs::metadata(path).map_err(cannot)?)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    regular(&meta)?;
    if meta.len() > MAX_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // One byte over the bound tells a file that grew past it from one that ends at it.
    (&file).take(MAX_BYTES + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| {
        format!("cannot read the policy file: not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to())
    })
}

fn too_large() -> String {
    "policy file larger than 1 MiB".to_string()
}

fn regular(meta: &Metadata) -> Result<(), String> {
    let t = meta.file_type();
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "of an unknown type"
    };
    Err(format!("not a regular file ({what})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_size() {
        assert_eq!(read(Path::new("/dev/zero")).unwrap_err(), "not a regular file (a character device)");
        assert_eq!(read(Path::new("/")).unwrap_err(), "not a regular file (a directory)");
        let dir = std::env::temp_dir().join(format!("interpose-source-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.toml");
        std::fs::write(&f, vec![b'#'; MAX_BYTES as usize]).unwrap();
        assert_eq!(read(&f).unwrap().len(), MAX_BYTES as usize);
        std::fs::write(&f, vec![b'#'; MAX_BYTES as usize + 1]).unwrap();
        assert_eq!(read(&f).unwrap_err(), "policy file larger than 1 MiB");
        std::fs::write(&f, b"# \xff\n").unwrap();
        assert_eq!(read(&f).unwrap_err(), "cannot read the policy file: not UTF-8 text (invalid byte at offset 2)");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
