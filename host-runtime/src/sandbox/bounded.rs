//! Reading a file into memory, at most so many bytes: a file (or a device
//! such as `/dev/zero`) longer than the limit is refused with [`TooLarge`]
//! instead of growing the process without end. Opening never waits: a FIFO
//! with no writer reads as empty instead of hanging the call.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;

use super::policy::show_bytes;

/// A file longer than a read's limit: the payload of the `io::Error` the
/// read fails with, which callers recognise by type.
#[derive(Debug, thiserror::Error)]
#[error("larger than the limit of {}", show_bytes(*limit))]
pub struct TooLarge {
    pub limit: u64,
}

impl TooLarge {
    /// The refusal an I/O error reports, if it is one.
    pub fn of(error: &io::Error) -> Option<&TooLarge> {
        error.get_ref()?.downcast_ref()
    }

    pub fn error(limit: u64) -> io::Error {
        io::Error::new(io::ErrorKind::FileTooLarge, TooLarge { limit })
    }
}

/// Open flags for a file to be read whole: never blocking in `open`.
pub const OPEN_FLAGS: i32 = libc::O_NONBLOCK;

/// Read all of `file` (opened with [`OPEN_FLAGS`]), refusing past `limit` bytes.
pub fn read_at_most(mut file: File, limit: u64) -> io::Result<Vec<u8>> {
    // Reads block again (O_NONBLOCK was only for the open).
    // SAFETY: fcntl on a descriptor this function owns.
    unsafe {
        let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    let meta = file.metadata()?;
    // A regular file says its size: refused before reading any of it.
    if meta.is_file() && meta.len() > limit {
        return Err(TooLarge::error(limit));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    // One byte past the limit tells a file of exactly the limit from a longer one.
    (&mut file)
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(TooLarge::error(limit));
    }
    Ok(bytes)
}

/// Open the file at `path` with [`OPEN_FLAGS`] and read it, at most `limit` bytes.
pub fn read_path_at_most(path: &std::path::Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OPEN_FLAGS)
        .open(path)?;
    read_at_most(file, limit)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_past_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"0123456789").unwrap();
        assert_eq!(read_path_at_most(&file, 10).unwrap(), b"0123456789");
        let refused = read_path_at_most(&file, 9).unwrap_err();
        assert_eq!(TooLarge::of(&refused).map(|t| t.limit), Some(9));
        assert_eq!(refused.to_string(), "larger than the limit of 9 bytes");
        // A device never ends: refused at the limit, not read forever.
        let zero = read_path_at_most(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(TooLarge::of(&zero).map(|t| t.limit), Some(1 << 20));
    }

    #[test]
    fn a_fifo_without_a_writer_reads_empty_instead_of_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert_eq!(read_path_at_most(&fifo, 100).unwrap(), b"");
    }

    #[test]
    fn a_fifo_whose_writer_is_slow_is_waited_for() {
        // Opened without blocking, then read blocking: data that comes
        // late is read, not refused as "would block".
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        use std::os::unix::fs::OpenOptionsExt;
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(OPEN_FLAGS)
            .open(&fifo)
            .unwrap();
        let (opened, writer_ready) = std::sync::mpsc::channel();
        let writer = std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            opened.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(200));
            std::io::Write::write_all(&mut w, b"late").unwrap();
        });
        writer_ready.recv().unwrap();
        assert_eq!(read_at_most(reader, 100).unwrap(), b"late");
        writer.join().unwrap();
    }
}
