//! Files on the host. Paths are absolute; a path the host refuses or an I/O
//! failure comes back as an `Error` whose message names the path.
//!
//! Reading, [`stat`], [`readlink`] and [`list_dir`] need the grant
//! `read:DIR` for a path at or beneath DIR; writing, [`mkdir`], [`remove`],
//! [`chmod`] and [`chown`] `write:DIR` (set-uid and set-gid bits `setid:DIR`
//! too); [`rename`] `write:` on both paths; [`symlink`] `write:` on the link,
//! and its target must lie beneath the same write grant. In check mode,
//! changes go to an overlay that later reads, [`stat`], [`readlink`] and
//! [`list_dir`] see, and the host is left as it was.
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
    /// Last modification, in seconds since the Unix epoch.
    pub mtime: i64,
}

/// One entry of a directory, as [`list_dir`] gives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DirEntry {
    /// The entry's name, without the directory's path.
    pub name: String,
    /// What the entry itself is (a symlink is not followed).
    pub kind: FileKind,
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

/// Set the owner and/or group of what is at `path`, each a name (looked up in
/// the target's own `/etc/passwd` and `/etc/group`, so right inside a chroot)
/// or a number as text; `None` leaves it as it is. A symlink's own owner is
/// set, never its target's. Needs `write:` on the path; a file with other
/// hard links is refused, as [`chmod`] refuses it.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The site's files belong to www-data.
/// #[property]
/// fn site_owned(path: String) -> Result<Change> {
///     let Some(stat) = fs::stat(&path)? else { bail!("{path} does not exist") };
///     let owner = host::lookup_user("www-data")?.ok_or("no user www-data")?;
///     if (stat.uid, stat.gid) == (owner.uid, owner.gid) {
///         return Ok(Change::Unchanged);
///     }
///     fs::chown(&path, Some("www-data"), Some(&owner.gid.to_string()))?;
///     Ok(Change::Changed)
/// }
/// # consfig_guest::module! { name: "site", properties: [site_owned] }
/// # fn main() {}
/// ```
pub fn chown(path: impl AsRef<str>, owner: Option<&str>, group: Option<&str>) -> Result<()> {
    sys::chown(path.as_ref(), owner, group).map_err(Error::new)
}

/// Make a symlink at `link` whose contents are `target` (relative to the
/// link's directory unless absolute). Fails when something is already at
/// `link`: remove it first. Needs `write:` on the link; the target, resolved
/// against the link's directory, must lie beneath the same write grant.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The site is enabled: a symlink to it in sites-enabled.
/// #[property]
/// fn enabled(site: String) -> Result<Change> {
///     let link = format!("/etc/nginx/sites-enabled/{site}");
///     let target = format!("../sites-available/{site}");
///     match fs::stat(&link)? {
///         Some(stat) if stat.is_symlink() && fs::readlink(&link)? == target => {
///             return Ok(Change::Unchanged);
///         }
///         Some(stat) if stat.is_symlink() => fs::remove(&link)?,
///         Some(stat) => bail!("{link} is a {}, not a symlink", stat.kind),
///         None => {}
///     }
///     fs::symlink(&target, &link)?;
///     Ok(Change::Changed)
/// }
/// # consfig_guest::module! { name: "nginx", properties: [enabled] }
/// # fn main() {}
/// ```
pub fn symlink(target: impl AsRef<str>, link: impl AsRef<str>) -> Result<()> {
    sys::symlink(target.as_ref(), link.as_ref()).map_err(Error::new)
}

/// The contents of the symlink at `path` (an error when it is not one).
/// Needs `read:` on the path.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The default target is the one given.
/// #[property]
/// fn default_target(target: String) -> Result<Change> {
///     let link = "/etc/systemd/system/default.target";
///     let want = format!("/lib/systemd/system/{target}");
///     if fs::exists(link)? && fs::readlink(link)? == want {
///         return Ok(Change::Unchanged);
///     }
///     if fs::exists(link)? {
///         fs::remove(link)?;
///     }
///     fs::symlink(&want, link)?;
///     Ok(Change::Changed)
/// }
/// # consfig_guest::module! { name: "systemd", properties: [default_target] }
/// # fn main() {}
/// ```
pub fn readlink(path: impl AsRef<str>) -> Result<String> {
    sys::readlink(path.as_ref()).map_err(Error::new)
}

/// The entries of the directory at `path` (a symlink to one is followed),
/// sorted by name, without `.` and `..`. Needs `read:` on the path.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// Nothing but `keep` is in the directory.
/// #[property]
/// fn only_keep(dir: String) -> Result<Change> {
///     let mut change = Change::Unchanged;
///     for entry in fs::list_dir(&dir)? {
///         if entry.name != "keep" && entry.kind != fs::FileKind::Directory {
///             fs::remove(format!("{dir}/{}", entry.name))?;
///             change = Change::Changed;
///         }
///     }
///     Ok(change)
/// }
/// # consfig_guest::module! { name: "tidy", properties: [only_keep] }
/// # fn main() {}
/// ```
pub fn list_dir(path: impl AsRef<str>) -> Result<Vec<DirEntry>> {
    sys::list_dir(path.as_ref()).map_err(Error::new)
}

/// Rename `source` to `destination` atomically, replacing a file there (not
/// a directory); both on the same file system. Needs `write:` on both paths.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The old configuration file has its new name.
/// #[property]
/// fn moved(old: String, new: String) -> Result<Change> {
///     if !fs::exists(&old)? {
///         return Ok(Change::Unchanged);
///     }
///     fs::rename(&old, &new)?;
///     Ok(Change::Changed)
/// }
/// # consfig_guest::module! { name: "conf", properties: [moved] }
/// # fn main() {}
/// ```
pub fn rename(source: impl AsRef<str>, destination: impl AsRef<str>) -> Result<()> {
    sys::rename(source.as_ref(), destination.as_ref()).map_err(Error::new)
}
