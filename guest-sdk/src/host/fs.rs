//! Files on the host. Paths are absolute; a path the host refuses or an I/O
//! failure comes back as an `Error` whose message names the path.
//!
//! Reading and [`stat`] need the grant `read:DIR` for a path at or beneath
//! DIR, writing, [`mkdir`], [`remove`] and [`chmod`] `write:DIR` (set-uid and
//! set-gid bits `setid:DIR` too). In check mode, writes go to an overlay that
//! later reads see, and the host is left as it was.
//!
//! ```no_run
//! use consfig_guest::prelude::*;
//!
//! /// The line is in the file, appended if not (a missing file is made).
//! #[property]
//! fn has_line(path: String, line: String) -> Result<Change> {
//!     let text = match fs::stat(&path)? {
//!         Some(stat) if stat.is_file() => fs::read_to_string(&path)?,
//!         Some(stat) => bail!("{path} is a {}, not a file", stat.kind),
//!         None => String::new(),
//!     };
//!     if text.lines().any(|l| l == line) {
//!         return Ok(Change::Unchanged);
//!     }
//!     let separator = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
//!     fs::write(&path, format!("{text}{separator}{line}\n"), None)?;
//!     Ok(Change::Changed)
//! }
//! # consfig_guest::module! { name: "lines", properties: [has_line] }
//! # fn main() {}
//! ```

use std::fmt;

use crate::sys;
use crate::{Error, Mode, Result};

/// What `stat` found at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub kind: FileKind,
    pub mode: Mode,
    pub size: u64,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    File,
    Directory,
    Symlink,
    Other,
}

impl fmt::Display for FileKind {
    /// `file`, `directory`, `symlink` or `special file`, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::File => "file",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symlink",
            FileKind::Other => "special file",
        })
    }
}

impl Stat {
    pub fn is_file(&self) -> bool {
        self.kind == FileKind::File
    }

    pub fn is_dir(&self) -> bool {
        self.kind == FileKind::Directory
    }

    pub fn is_symlink(&self) -> bool {
        self.kind == FileKind::Symlink
    }
}

pub fn read(path: impl AsRef<str>) -> Result<Vec<u8>> {
    sys::read_file(path.as_ref()).map_err(Error::new)
}

pub fn read_to_string(path: impl AsRef<str>) -> Result<String> {
    let path = path.as_ref();
    String::from_utf8(read(path)?).map_err(|_| Error::new(format!("{path} is not UTF-8 text")))
}

/// Replace the file's contents atomically. With no mode, an existing file
/// keeps its mode and a new one gets `0644`.
pub fn write(path: impl AsRef<str>, contents: impl AsRef<[u8]>, mode: Option<Mode>) -> Result<()> {
    sys::write_file(path.as_ref(), contents.as_ref(), mode.map(Mode::bits)).map_err(Error::new)
}

/// What is at the path, without following a final symlink; `None` if nothing.
pub fn stat(path: impl AsRef<str>) -> Result<Option<Stat>> {
    sys::stat(path.as_ref()).map_err(Error::new)
}

/// Whether anything (even a dangling symlink) is at the path.
pub fn exists(path: impl AsRef<str>) -> Result<bool> {
    Ok(stat(path)?.is_some())
}

/// Remove a file, a symlink or an empty directory.
pub fn remove(path: impl AsRef<str>) -> Result<()> {
    sys::remove(path.as_ref()).map_err(Error::new)
}

/// Create a directory and any missing parents; with no mode, `0755`.
pub fn mkdir(path: impl AsRef<str>, mode: Option<Mode>) -> Result<()> {
    sys::mkdir(path.as_ref(), mode.map(Mode::bits)).map_err(Error::new)
}

pub fn chmod(path: impl AsRef<str>, mode: Mode) -> Result<()> {
    sys::chmod(path.as_ref(), mode.bits()).map_err(Error::new)
}
