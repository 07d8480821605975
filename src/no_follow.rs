//! Opening files an attacker may have placed (an evidence directory, a
//! repository's own waivers file): never through a symbolic link in the
//! last component (`O_NOFOLLOW`), never blocking on a FIFO (`O_NONBLOCK`),
//! and read only up to a bound.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// `path` opened for reading, not through a link, without blocking.
pub fn open(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// [`open`], and what was opened checked to be a regular file (a folder
/// swapped for a link could otherwise lead to a device).
pub fn open_regular(path: &Path) -> std::io::Result<(File, Metadata)> {
    let file = open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok((file, metadata))
}

/// Everything `file` holds, refused when that is more than `limit` bytes.
pub fn read_bounded(file: File, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}
