//! Where a file call acts, confined to a granted directory.
//!
//! A call the grants allow acts either anywhere (its modules are trusted or
//! granted `/`) or beneath the deepest directory granted for it, opened with
//! cap-std: `..` and symlinks cannot lead out of it, whatever the path says.
//! Symlinks whose absolute targets stay beneath it are followed (cap-std
//! alone refuses every absolute symlink); one that leads out is refused with
//! a [`LeadsOut`] error, which callers recognise by type.
//!
//! A granted path that is no directory (a file, or nothing yet) is acted on
//! by its name in the directory holding it, and never followed. Beneath a
//! granted directory that is not there, nothing is: a path there is
//! absent, every call but making directories fails as it would on disk
//! (ENOENT), and making one makes the granted directory first, as its own
//! name in the directory holding it.
//!
//! The granted directory itself is opened one component at a time, never
//! through a symlink ([`ThroughLink`]): a grant names a place, not whatever
//! a link there points to now. A mode is never changed through a name of a
//! file that has others ([`SharedFile`]): a hard link inside the grant may
//! be the same file as one outside it.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Component, Path, PathBuf};

use cap_std::fs::{
    Dir, DirBuilder, DirBuilderExt, MetadataExt, OpenOptions, OpenOptionsExt, Permissions,
    PermissionsExt,
};

use super::atomic::{TEMP_PREFIX, write_atomic};
use super::bounded::{OPEN_FLAGS, read_at_most, read_path_at_most};

/// What `stat` tells about a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub is_dir: bool,
    pub is_file: bool,
    pub is_symlink: bool,
    pub mode: u32,
    pub size: u64,
    pub uid: u32,
    pub gid: u32,
    /// How many names (hard links) the file has.
    pub links: u64,
    /// Last modification, in seconds since the Unix epoch.
    pub mtime: i64,
    /// The file system it is on.
    pub dev: u64,
}

/// What kind of thing a path is, as a directory lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    /// A device, a FIFO, a socket.
    Other,
}

impl Kind {
    /// The kind from a file type's three questions, which `std` and
    /// `cap_std` file types and [`Status`] each answer.
    fn of(is_symlink: bool, is_dir: bool, is_file: bool) -> Kind {
        if is_symlink {
            Kind::Symlink
        } else if is_dir {
            Kind::Dir
        } else if is_file {
            Kind::File
        } else {
            Kind::Other
        }
    }
}

impl Status {
    pub fn kind(&self) -> Kind {
        Kind::of(self.is_symlink, self.is_dir, self.is_file)
    }
}

impl From<fs::FileType> for Kind {
    fn from(t: fs::FileType) -> Kind {
        Kind::of(t.is_symlink(), t.is_dir(), t.is_file())
    }
}

/// One entry of a directory listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: OsString,
    pub kind: Kind,
}

/// A path whose symlinks (or `..`) lead out of its granted directory: the
/// payload of the `io::Error` a confined call fails with.
#[derive(Debug, thiserror::Error)]
#[error("the path leads out of the granted directory {}", root.display())]
pub struct LeadsOut {
    pub root: PathBuf,
}

impl LeadsOut {
    /// The escape an I/O error reports, if it is one.
    pub fn of(error: &io::Error) -> Option<&LeadsOut> {
        error.get_ref()?.downcast_ref()
    }

    fn error(root: &Path) -> io::Error {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            LeadsOut {
                root: root.to_owned(),
            },
        )
    }
}

/// A granted directory whose path goes through a symlink: the payload of
/// the `io::Error` opening it fails with. The link is never followed, since
/// whoever can change it would choose what the grant covers.
#[derive(Debug, thiserror::Error)]
#[error(
    "denied: the granted directory {} is reached through the symlink {} (to {}), and grants are never followed through symlinks: grant the directory it leads to instead",
    root.display(), link.display(), target.display()
)]
pub struct ThroughLink {
    pub root: PathBuf,
    /// The symlink on the way: `root` or one of its ancestors.
    pub link: PathBuf,
    pub target: PathBuf,
}

impl ThroughLink {
    /// The symlink an I/O error reports, if it is one.
    pub fn of(error: &io::Error) -> Option<&ThroughLink> {
        error.get_ref()?.downcast_ref()
    }
}

/// A file with more than one name (hard link), whose mode or owner a call
/// would change: the payload of the `io::Error` it is refused with. Its
/// other names may lie outside the grant, and they would change too.
#[derive(Debug, thiserror::Error)]
#[error(
    "denied: the file has {links} names (hard links), which may lie outside the grant and would change with it: its {what} is never changed through one of them (remove the other links, or write the file anew)"
)]
pub struct SharedFile {
    pub links: u64,
    /// What the call would change: `mode` or `owner`.
    pub what: &'static str,
}

impl SharedFile {
    /// The refusal an I/O error reports, if it is one.
    pub fn of(error: &io::Error) -> Option<&SharedFile> {
        error.get_ref()?.downcast_ref()
    }

    /// Refuse a change of `what` (mode, owner) of what has this status, if
    /// it has other names. Directories cannot be hard linked (their link
    /// count is their subdirectories').
    fn refuse(is_dir: bool, links: u64, what: &'static str) -> io::Result<()> {
        if is_dir || links <= 1 {
            return Ok(());
        }
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            SharedFile { links, what },
        ))
    }
}

/// The directory `path` of the grant of `root` (`root` itself, or the
/// directory holding it), opened one component at a time from `/` with
/// O_NOFOLLOW: a symlink anywhere on its path is refused ([`ThroughLink`]),
/// not followed.
fn open_root(path: &Path, root: &Path) -> io::Result<Dir> {
    use nix::fcntl::{OFlag, open, openat, readlinkat};
    use nix::sys::stat::Mode;
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut dir = open("/", flags, Mode::empty())?;
    let mut reached = PathBuf::from("/");
    for component in path.components() {
        let name = match component {
            Component::RootDir => continue,
            Component::Normal(name) => name,
            // Grants are absolute paths without `.` or `..`.
            Component::CurDir | Component::ParentDir | Component::Prefix(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a plain absolute path", path.display()),
                ));
            }
        };
        reached.push(name);
        dir = match openat(&dir, name, flags, Mode::empty()) {
            Ok(next) => next,
            Err(errno) => {
                // O_NOFOLLOW with O_DIRECTORY fails on a symlink (ENOTDIR).
                return Err(match readlinkat(&dir, name) {
                    Ok(target) => io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        ThroughLink {
                            root: root.to_owned(),
                            link: reached,
                            target: target.into(),
                        },
                    ),
                    Err(_) => errno.into(),
                });
            }
        };
    }
    Ok(Dir::from_std_file(fs::File::from(dir)))
}

/// Set the mode of `rel` beneath `dir` (with no symlink left to follow),
/// unless it is a file with other names ([`SharedFile`]). Files and
/// directories are opened and changed through that descriptor, so the file
/// checked is the file changed; anything else (a device, a FIFO: opening
/// those can act) is checked by name, then changed by name.
fn chmod_unshared(dir: &Dir, rel: &Path, mode: u32) -> io::Result<()> {
    let found = dir.symlink_metadata(rel)?;
    if found.is_file() || found.is_dir() {
        let mut options = OpenOptions::new();
        options.read(true);
        OpenOptionsExt::custom_flags(
            &mut options,
            libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY,
        );
        match dir.open_with(rel, &options) {
            Ok(file) => {
                let file = file.into_std();
                let meta = file.metadata()?;
                SharedFile::refuse(meta.is_dir(), meta.nlink(), "mode")?;
                return file.set_permissions(fs::Permissions::from_mode(mode));
            }
            // A runtime that is not root may own a file it cannot read.
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {}
            Err(e) => return Err(e),
        }
    }
    SharedFile::refuse(found.is_dir(), MetadataExt::nlink(&found), "mode")?;
    dir.set_permissions(rel, Permissions::from_mode(mode))
}

/// Set the owner and group of what `fd` (opened with O_PATH, never
/// following a final symlink: a link's own owner) is, unless it is a file
/// with other names beneath a grant ([`SharedFile`]), or it has them
/// already. Checked and changed through the one descriptor, so the file
/// checked is the file changed.
fn chown_fd(fd: &OwnedFd, uid: Option<u32>, gid: Option<u32>, confined: bool) -> io::Result<()> {
    use nix::fcntl::AtFlags;
    use nix::unistd::{Gid, Uid, fchownat};
    let stat = nix::sys::stat::fstat(fd)?;
    let is_dir = stat.st_mode & libc::S_IFMT == libc::S_IFDIR;
    if confined {
        SharedFile::refuse(is_dir, stat.st_nlink as u64, "owner")?;
    }
    // Not even the call: changing an owner clears a file's set-id bits,
    // which setting the same owner must not do.
    if uid.unwrap_or(stat.st_uid) == stat.st_uid && gid.unwrap_or(stat.st_gid) == stat.st_gid {
        return Ok(());
    }
    fchownat(
        fd,
        "",
        uid.map(Uid::from_raw),
        gid.map(Gid::from_raw),
        AtFlags::AT_EMPTY_PATH | AtFlags::AT_SYMLINK_NOFOLLOW,
    )?;
    Ok(())
}

/// `name` in `dir`, opened with O_PATH and never followed.
fn open_path(dir: &impl AsFd, name: &OsStr) -> io::Result<OwnedFd> {
    use nix::fcntl::{OFlag, openat};
    use nix::sys::stat::Mode;
    let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    Ok(openat(dir, name, flags, Mode::empty())?)
}

/// What a call on a path beneath a granted directory that is not there
/// meets, as on disk.
fn not_there() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOENT)
}

/// `path` with `.` and `..` taken out by name alone (`..` of `/` is `/`).
pub fn normalized(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Where a checked file call acts.
pub enum Place {
    /// The absolute path, with no confinement.
    Anywhere(PathBuf),
    /// `rel` beneath the granted directory `root`, opened as `dir`: the
    /// path as given, with the symlinks before its last component resolved.
    /// When `lone`, `root` is granted but is no directory (a file, or nothing
    /// yet): `dir` is the directory holding it, `rel` its name, never followed.
    Beneath {
        dir: Dir,
        root: PathBuf,
        rel: PathBuf,
        given: PathBuf,
        lone: bool,
    },
    /// `given` beneath the granted directory `root`, which is not there:
    /// nothing is, until [`Place::mkdir_all`] makes it.
    Unmade { root: PathBuf, given: PathBuf },
}

/// Symlinks followed in one path before giving up, as Linux's limit.
pub(super) const MAX_LINKS: usize = 40;

/// `rel` beneath `dir` (the granted directory `root`) with its symlinks
/// resolved, the last component's too with `follow_last`. cap-std refuses
/// every absolute symlink, even `/srv/app/current` → `/srv/app/releases/3`
/// inside a grant of `/srv/app`; resolved here, such a link leads where it
/// says. A path whose links lead out of `root` is refused ([`LeadsOut`]),
/// one that loops too (ELOOP). What comes back holds no symlink (but the last
/// component without `follow_last`), and cap-std still checks every step of
/// it: a link swapped in meanwhile cannot lead out either.
fn resolve_beneath(dir: &Dir, root: &Path, rel: &Path, follow_last: bool) -> io::Result<PathBuf> {
    let push_reversed = |todo: &mut Vec<OsString>, path: &Path| {
        for component in path.components().rev() {
            match component {
                Component::Normal(name) => todo.push(name.to_owned()),
                Component::ParentDir => todo.push("..".into()),
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
    };
    let mut todo = Vec::new();
    push_reversed(&mut todo, rel);
    let mut done = PathBuf::new();
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            if !done.pop() {
                return Err(LeadsOut::error(root));
            }
            continue;
        }
        let candidate = done.join(&name);
        if todo.is_empty() && !follow_last {
            return Ok(candidate);
        }
        let Ok(target) = dir.read_link_contents(&candidate) else {
            done = candidate;
            continue;
        };
        links += 1;
        if links > MAX_LINKS {
            return Err(io::Error::from_raw_os_error(libc::ELOOP));
        }
        if target.is_absolute() {
            let Ok(inside) = target.strip_prefix(root) else {
                return Err(LeadsOut::error(root));
            };
            done = PathBuf::new();
            push_reversed(&mut todo, inside);
        } else {
            push_reversed(&mut todo, &target);
        }
    }
    Ok(if done.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        done
    })
}

fn status_of(m: &fs::Metadata) -> Status {
    Status {
        is_dir: m.is_dir(),
        is_file: m.is_file(),
        is_symlink: m.file_type().is_symlink(),
        mode: m.mode() & 0o7777,
        size: m.size(),
        uid: m.uid(),
        gid: m.gid(),
        links: m.nlink(),
        mtime: m.mtime(),
        dev: m.dev(),
    }
}

impl Place {
    /// `path` (absolute, checked by the grants) beneath `root`, if any.
    pub fn new(path: &Path, root: Option<PathBuf>) -> io::Result<Place> {
        let Some(root) = root else {
            return Ok(Place::Anywhere(path.to_owned()));
        };
        let given = path.strip_prefix(&root).unwrap_or(Path::new("")).to_owned();
        let dir = match open_root(&root, &root) {
            Ok(dir) => dir,
            // The granted path itself, a file or not there yet.
            Err(e)
                if given.as_os_str().is_empty()
                    && matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ENOENT)) =>
            {
                return Place::lone(root);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                return Ok(Place::Unmade { root, given });
            }
            Err(e) => return Err(e),
        };
        let rel = resolve_beneath(&dir, &root, &given, false)?;
        Ok(Place::Beneath {
            dir,
            root,
            rel,
            given,
            lone: false,
        })
    }

    /// The granted path `root`, no directory: its name in the directory
    /// holding it, which is opened as a granted directory is.
    fn lone(root: PathBuf) -> io::Result<Place> {
        let (Some(parent), Some(name)) = (root.parent(), root.file_name()) else {
            return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
        };
        let dir = open_root(parent, &root)?;
        Ok(Place::Beneath {
            dir,
            rel: PathBuf::from(name),
            root,
            given: PathBuf::new(),
            lone: true,
        })
    }

    /// The path to act on beneath `dir`, following a final symlink (but
    /// for a `lone` granted path, which is never followed).
    fn followed(dir: &Dir, root: &Path, rel: &Path, lone: bool) -> io::Result<PathBuf> {
        if lone {
            return Ok(rel.to_owned());
        }
        resolve_beneath(dir, root, rel, true)
    }

    /// The absolute path of the directory holding this place, with the
    /// links on its way resolved (as the kernel resolves a relative link's
    /// contents from it); None for `/`.
    pub fn real_parent(&self) -> Option<PathBuf> {
        match self {
            Place::Anywhere(path) => path.parent().map(Path::to_owned),
            Place::Beneath {
                root, lone: true, ..
            } => root.parent().map(Path::to_owned),
            Place::Beneath { root, rel, .. } => {
                let real = normalized(&root.join(rel));
                real.parent().map(Path::to_owned)
            }
            Place::Unmade { root, given } => {
                let real = normalized(&root.join(given));
                real.parent().map(Path::to_owned)
            }
        }
    }

    /// The absolute path this place is.
    pub fn path(&self) -> PathBuf {
        match self {
            Place::Anywhere(path) => path.clone(),
            Place::Beneath { root, given, .. } if given.as_os_str().is_empty() => root.clone(),
            Place::Beneath { root, given, .. } | Place::Unmade { root, given } => root.join(given),
        }
    }

    /// The directory holding this place, confined as it is; None for `/`
    /// and for the granted directory itself (which exists: it is open).
    pub fn parent(&self) -> io::Result<Option<Place>> {
        match self {
            Place::Anywhere(path) => Ok(path.parent().map(|p| Place::Anywhere(p.to_owned()))),
            Place::Beneath { root, given, .. } | Place::Unmade { root, given } => {
                match given.parent() {
                    None => Ok(None),
                    Some(parent) => Place::new(&root.join(parent), Some(root.clone())).map(Some),
                }
            }
        }
    }

    /// The file's contents, at most `limit` bytes ([`bounded`](super::bounded)).
    pub fn read(&self, limit: u64) -> io::Result<Vec<u8>> {
        match self {
            Place::Anywhere(path) => read_path_at_most(path, limit),
            Place::Beneath {
                dir,
                root,
                rel,
                lone,
                ..
            } => {
                // Nothing is left to follow: a link there now was swapped in.
                let mut options = OpenOptions::new();
                options.read(true);
                OpenOptionsExt::custom_flags(&mut options, OPEN_FLAGS | libc::O_NOFOLLOW);
                let file = dir.open_with(Self::followed(dir, root, rel, *lone)?, &options)?;
                read_at_most(file.into_std(), limit)
            }
            Place::Unmade { .. } => Err(not_there()),
        }
    }

    /// Status without following a final symlink; None when nothing is there.
    pub fn status(&self) -> io::Result<Option<Status>> {
        let found = match self {
            Place::Anywhere(path) => fs::symlink_metadata(path).map(|m| status_of(&m)),
            Place::Beneath { dir, rel, .. } => dir.symlink_metadata(rel).map(|m| Status {
                is_dir: m.is_dir(),
                is_file: m.is_file(),
                is_symlink: m.file_type().is_symlink(),
                mode: m.permissions().mode() & 0o7777,
                size: m.len(),
                uid: MetadataExt::uid(&m),
                gid: MetadataExt::gid(&m),
                links: MetadataExt::nlink(&m),
                mtime: MetadataExt::mtime(&m),
                dev: MetadataExt::dev(&m),
            }),
            Place::Unmade { .. } => return Ok(None),
        };
        match found {
            Ok(status) => Ok(Some(status)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn remove(&self) -> io::Result<()> {
        let status = self
            .status()?
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
        match (self, status.is_dir) {
            (Place::Anywhere(path), true) => fs::remove_dir(path),
            (Place::Anywhere(path), false) => fs::remove_file(path),
            (Place::Beneath { dir, rel, .. }, true) => dir.remove_dir(rel),
            (Place::Beneath { dir, rel, .. }, false) => dir.remove_file(rel),
            (Place::Unmade { .. }, _) => Err(not_there()),
        }
    }

    pub fn mkdir_all(&self, mode: u32) -> io::Result<()> {
        match self {
            Place::Anywhere(path) => fs::DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(path),
            Place::Beneath {
                dir,
                root,
                rel,
                lone,
                ..
            } => {
                let mut builder = DirBuilder::new();
                builder.recursive(true);
                DirBuilderExt::mode(&mut builder, mode);
                dir.create_dir_with(Self::followed(dir, root, rel, *lone)?, &builder)
            }
            // The granted directory first, by its name in the directory
            // holding it (never above it), then the rest beneath it.
            Place::Unmade { root, given } => {
                Place::lone(root.clone())?.mkdir_all(mode)?;
                match Place::new(&root.join(given), Some(root.clone()))? {
                    Place::Unmade { .. } => Err(not_there()),
                    made => made.mkdir_all(mode),
                }
            }
        }
    }

    /// Set the mode. Beneath a granted directory, never of a file with
    /// other names ([`SharedFile`]); anywhere, every name is granted anyway.
    pub fn chmod(&self, mode: u32) -> io::Result<()> {
        match self {
            Place::Anywhere(path) => fs::set_permissions(path, fs::Permissions::from_mode(mode)),
            Place::Beneath {
                dir,
                root,
                rel,
                lone,
                ..
            } => chmod_unshared(dir, &Self::followed(dir, root, rel, *lone)?, mode),
            Place::Unmade { .. } => Err(not_there()),
        }
    }

    /// Whether [`chmod`](Self::chmod) (`what`: `mode`) or
    /// [`chown`](Self::chown) (`owner`, then never following a final link)
    /// would refuse the file as it is on disk for its other names: check
    /// mode's answer, the same as the disk's.
    pub fn refuse_shared(&self, what: &'static str) -> io::Result<()> {
        let Place::Beneath {
            dir,
            root,
            rel,
            lone,
            ..
        } = self
        else {
            return Ok(());
        };
        let rel = match what {
            "owner" => rel.clone(),
            _ => Self::followed(dir, root, rel, *lone)?,
        };
        match dir.symlink_metadata(rel) {
            Ok(m) => SharedFile::refuse(m.is_dir(), MetadataExt::nlink(&m), what),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Where a symlink here whose contents are `target` leads, confined as
    /// this place is: a link out of the granted directory is refused
    /// ([`LeadsOut`]) as following it on disk would be. The links on the
    /// way are resolved as on disk; the last is left for the caller.
    pub fn link_target(&self, target: &Path) -> io::Result<Place> {
        match self {
            Place::Anywhere(path) => {
                let base = path.parent().unwrap_or(Path::new("/"));
                Ok(Place::Anywhere(normalized(&base.join(target))))
            }
            // A granted path that is a link is never followed.
            Place::Beneath { lone: true, .. } => Err(io::Error::from_raw_os_error(libc::ELOOP)),
            Place::Beneath { dir, root, rel, .. } => {
                let wanted = Self::target_beneath(root, rel, target)?;
                Place::resolved_beneath(dir, root, resolve_beneath(dir, root, &wanted, false)?)
            }
            // No link on the way: there is nothing there.
            Place::Unmade { root, given } => {
                let wanted = Self::target_beneath(root, given, target)?;
                let mut inside = PathBuf::new();
                for component in wanted.components() {
                    match component {
                        Component::Normal(name) => inside.push(name),
                        Component::ParentDir if !inside.pop() => {
                            return Err(LeadsOut::error(root));
                        }
                        _ => {}
                    }
                }
                Place::new(&root.join(inside), Some(root.clone()))
            }
        }
    }

    /// Where a link at `rel` beneath `root` whose contents are `target`
    /// points, as a path beneath `root` (its `..` not resolved yet); an
    /// absolute target elsewhere leads out ([`LeadsOut`]).
    fn target_beneath(root: &Path, rel: &Path, target: &Path) -> io::Result<PathBuf> {
        if target.is_absolute() {
            return Ok(target
                .strip_prefix(root)
                .map_err(|_| LeadsOut::error(root))?
                .to_owned());
        }
        Ok(rel.parent().unwrap_or(Path::new("")).join(target))
    }

    /// The place at `rel`, a path beneath `root` with no link left on its way
    /// (`.` for the granted directory itself).
    fn resolved_beneath(dir: &Dir, root: &Path, rel: PathBuf) -> io::Result<Place> {
        let given = if rel == Path::new(".") {
            PathBuf::new()
        } else {
            rel.clone()
        };
        Ok(Place::Beneath {
            dir: dir.try_clone()?,
            root: root.to_owned(),
            rel,
            given,
            lone: false,
        })
    }

    /// This place with every link on its way resolved as on disk, its last
    /// too (confined: [`LeadsOut`] when a link leads out). Unconfined, a
    /// dangling link leads where its contents say.
    pub fn resolved(&self) -> io::Result<Place> {
        match self {
            Place::Anywhere(path) => match fs::canonicalize(path) {
                Ok(real) => Ok(Place::Anywhere(real)),
                Err(_) => self.link_target(&fs::read_link(path)?),
            },
            Place::Beneath { lone: true, .. } => Err(io::Error::from_raw_os_error(libc::ELOOP)),
            Place::Beneath { dir, root, rel, .. } => {
                Place::resolved_beneath(dir, root, resolve_beneath(dir, root, rel, true)?)
            }
            Place::Unmade { .. } => Err(not_there()),
        }
    }

    /// The place at the absolute, plain `path`, confined as this one is
    /// (refused, [`LeadsOut`], beneath another granted directory).
    pub fn elsewhere(&self, path: &Path) -> io::Result<Place> {
        match self {
            Place::Anywhere(_) => Ok(Place::Anywhere(path.to_owned())),
            Place::Beneath { root, .. } | Place::Unmade { root, .. } if path.starts_with(root) => {
                Place::new(path, Some(root.clone()))
            }
            Place::Beneath { root, .. } | Place::Unmade { root, .. } => Err(LeadsOut::error(root)),
        }
    }

    /// The granted directory this place is confined beneath, if any.
    pub fn root(&self) -> Option<&Path> {
        match self {
            Place::Anywhere(_) => None,
            Place::Beneath { root, .. } | Place::Unmade { root, .. } => Some(root),
        }
    }

    /// The place of `name` in this directory, confined as it is.
    pub fn child(&self, name: &OsStr) -> io::Result<Place> {
        Ok(match self {
            Place::Anywhere(path) => Place::Anywhere(path.join(name)),
            Place::Beneath {
                dir,
                root,
                rel,
                given,
                ..
            } => Place::Beneath {
                dir: dir.try_clone()?,
                root: root.clone(),
                rel: rel.join(name),
                given: given.join(name),
                lone: false,
            },
            Place::Unmade { root, given } => Place::Unmade {
                root: root.clone(),
                given: given.join(name),
            },
        })
    }

    /// The directory holding this place, opened (confined as the place
    /// is), and its name there; None for `/` and the granted directory
    /// itself. Acting on a single name in an open directory leaves nothing
    /// on the way to swap for a symlink.
    fn in_parent(&self) -> io::Result<Option<(Dir, OsString)>> {
        let (parent, name) = match self {
            Place::Anywhere(path) => {
                let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                    return Ok(None);
                };
                let dir = Dir::open_ambient_dir(parent, cap_std::ambient_authority())?;
                return Ok(Some((dir, name.to_owned())));
            }
            Place::Beneath { dir, rel, .. } => match (rel.parent(), rel.file_name()) {
                (Some(parent), Some(name)) if parent.as_os_str().is_empty() => {
                    (dir.try_clone()?, name)
                }
                (Some(parent), Some(name)) => (dir.open_dir(parent)?, name),
                _ => return Ok(None),
            },
            Place::Unmade { .. } => return Err(not_there()),
        };
        Ok(Some((parent, name.to_owned())))
    }

    /// Whether this place is a name in a directory: not `/`, nor the
    /// granted directory itself (which a rename refuses as busy).
    pub fn is_named(&self) -> bool {
        match self {
            Place::Anywhere(path) => path.parent().is_some() && path.file_name().is_some(),
            Place::Beneath { rel, .. } => rel.parent().is_some() && rel.file_name().is_some(),
            Place::Unmade { .. } => true,
        }
    }

    /// Set the owner and/or group, of a symlink itself, never of what it
    /// points to. Beneath a granted directory, never of a file with other
    /// names ([`SharedFile`]).
    pub fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
        let confined = !matches!(self, Place::Anywhere(_));
        let fd = match (self.in_parent()?, self) {
            (Some((parent, name)), _) => open_path(&parent, &name)?,
            // The granted directory itself, open already.
            (None, Place::Beneath { dir, .. }) => dir.as_fd().try_clone_to_owned()?,
            (None, Place::Anywhere(path)) => open_path(
                &Dir::open_ambient_dir("/", cap_std::ambient_authority())?,
                path.as_os_str(),
            )?,
            (None, Place::Unmade { .. }) => return Err(not_there()),
        };
        chown_fd(&fd, uid, gid, confined)
    }

    /// Make a symlink here whose contents are `target`, which the caller
    /// has checked: it is not resolved here.
    pub fn symlink(&self, target: &Path) -> io::Result<()> {
        match self.in_parent()? {
            Some((parent, name)) => parent.symlink_contents(target, name),
            None => Err(io::Error::from_raw_os_error(libc::EEXIST)),
        }
    }

    /// The contents of the symlink here.
    pub fn read_link(&self) -> io::Result<PathBuf> {
        match self {
            Place::Anywhere(path) => fs::read_link(path),
            Place::Beneath { dir, rel, .. } => dir.read_link_contents(rel),
            Place::Unmade { .. } => Err(not_there()),
        }
    }

    /// The entries of the directory here (following a final symlink that
    /// stays beneath the grant, as reading does), in no order, refused past
    /// `limit` bytes of names.
    pub fn list_dir(&self, limit: u64) -> io::Result<Vec<Listed>> {
        let mut listed = Vec::new();
        let mut bytes = 0u64;
        let mut take = |name: OsString, kind: Kind| {
            // What the module is given for each: a name and a kind.
            bytes += name.len() as u64 + 16;
            if bytes > limit {
                return Err(super::bounded::TooLarge::error(limit));
            }
            listed.push(Listed { name, kind });
            Ok(())
        };
        match self {
            Place::Anywhere(path) => {
                for entry in fs::read_dir(path)? {
                    let entry = entry?;
                    take(entry.file_name(), entry.file_type()?.into())?;
                }
            }
            Place::Beneath {
                dir,
                root,
                rel,
                lone,
                ..
            } => {
                // A granted path that is no directory is never followed.
                if *lone && dir.symlink_metadata(rel)?.file_type().is_symlink() {
                    return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
                }
                for entry in dir.read_dir(Self::followed(dir, root, rel, *lone)?)? {
                    let entry = entry?;
                    let kind = entry.file_type()?;
                    let kind = Kind::of(kind.is_symlink(), kind.is_dir(), kind.is_file());
                    take(entry.file_name(), kind)?;
                }
            }
            Place::Unmade { .. } => return Err(not_there()),
        }
        Ok(listed)
    }

    /// Whether the links on the way to this place, and the place itself if
    /// it is one, stay beneath its granted directory ([`LeadsOut`] if not).
    pub fn resolves_inside(&self) -> io::Result<()> {
        match self {
            Place::Beneath {
                dir,
                root,
                rel,
                lone: false,
                ..
            } => resolve_beneath(dir, root, rel, true).map(drop),
            _ => Ok(()),
        }
    }

    /// Rename this place to `to`, each confined as it is, never following
    /// a final symlink of either (a link is renamed, or replaced).
    pub fn rename(&self, to: &Place) -> io::Result<()> {
        let busy = || io::Error::from_raw_os_error(libc::EBUSY);
        let (from_dir, from_name) = self.in_parent()?.ok_or_else(busy)?;
        let (to_dir, to_name) = to.in_parent()?.ok_or_else(busy)?;
        from_dir.rename(from_name, &to_dir, to_name)
    }

    /// Replace the file atomically: a temporary file beside it, then rename.
    pub fn write_atomic(
        &self,
        bytes: &[u8],
        mode: u32,
        owner: Option<(u32, u32)>,
    ) -> io::Result<()> {
        let (dir, rel) = match self {
            Place::Anywhere(path) => return write_atomic(path, bytes, mode, owner),
            Place::Beneath { dir, rel, .. } => (dir, rel),
            Place::Unmade { .. } => return Err(not_there()),
        };
        let parent = rel.parent().unwrap_or(Path::new(""));
        let name = rel
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
        let temp = parent.join(format!(
            "{TEMP_PREFIX}{}-{}",
            std::process::id(),
            name.to_string_lossy()
        ));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        OpenOptionsExt::mode(&mut options, 0o600);
        let written = (|| {
            let file = dir.open_with(&temp, &options)?;
            let mut file = file.into_std();
            file.write_all(bytes)?;
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
            }
            file.set_permissions(fs::Permissions::from_mode(mode))?;
            file.sync_all()?;
            dir.rename(&temp, dir, rel)
        })();
        if written.is_err() {
            let _ = dir.remove_file(&temp);
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A granted directory with a release, links to it, and links out of it.
    fn grant() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("app");
        fs::create_dir_all(root.join("releases/1")).unwrap();
        let link =
            |target: &Path, at: &str| std::os::unix::fs::symlink(target, root.join(at)).unwrap();
        link(&root.join("releases/1"), "current");
        link(Path::new("releases"), "all");
        link(&root.join("releases/1"), "releases/latest");
        link(Path::new("/etc"), "out");
        link(&root.join("../"), "up");
        link(&root.join("loop"), "loop");
        link(Path::new("../.."), "releases/dotdot");
        (tmp, root)
    }

    fn place(root: &Path, rel: &str) -> io::Result<Place> {
        Place::new(&root.join(rel), Some(root.to_owned()))
    }

    #[test]
    fn a_fifo_beneath_a_grant_reads_empty_instead_of_hanging() {
        let (_tmp, root) = grant();
        nix::unistd::mkfifo(
            &root.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        assert_eq!(place(&root, "fifo").unwrap().read(100).unwrap(), b"");
    }

    #[test]
    fn absolute_links_inside_the_grant_are_followed() {
        let (_tmp, root) = grant();
        let at = |rel| place(&root, rel).unwrap();
        at("current/config")
            .write_atomic(b"v1", 0o644, None)
            .unwrap();
        assert_eq!(fs::read(root.join("releases/1/config")).unwrap(), b"v1");
        assert_eq!(at("current/config").read(100).unwrap(), b"v1");
        // A relative link, then an absolute one beneath it.
        assert_eq!(at("all/latest/config").read(100).unwrap(), b"v1");
        at("current/static").mkdir_all(0o755).unwrap();
        assert!(root.join("releases/1/static").is_dir());
        // The path as given, for messages and check mode.
        assert_eq!(at("current/config").path(), root.join("current/config"));
        // The last component is not followed where a call acts on the link.
        let status = at("current").status().unwrap().unwrap();
        assert!(status.is_symlink);
    }

    #[test]
    fn links_out_of_the_grant_are_refused_by_type() {
        let (_tmp, root) = grant();
        for rel in [
            "out/passwd",
            "up/app/current/x",
            "releases/dotdot/etc/passwd",
        ] {
            let error = match place(&root, rel) {
                Err(e) => e,
                Ok(p) => p.write_atomic(b"x", 0o644, None).unwrap_err(),
            };
            let escape = LeadsOut::of(&error).unwrap_or_else(|| panic!("{rel}: {error}"));
            assert_eq!(escape.root, root);
        }
        // A final link is refused when followed (read), not when looked at (stat).
        let out = place(&root, "out").unwrap();
        assert!(out.status().unwrap().unwrap().is_symlink);
        assert!(LeadsOut::of(&out.read(100).unwrap_err()).is_some());
        let looping = place(&root, "loop/x").map(|_| ()).unwrap_err();
        assert_eq!(looping.raw_os_error(), Some(libc::ELOOP));
        assert!(!Path::new("/etc/x").exists());
    }

    #[test]
    fn beneath_a_granted_directory_not_there_nothing_is_until_it_is_made() {
        let (tmp, _) = grant();
        let granted = tmp.path().join("linger");
        let at = |rel: &str| Place::new(&granted.join(rel), Some(granted.clone())).unwrap();
        let ada = at("ada");
        assert_eq!(ada.path(), granted.join("ada"));
        assert!(ada.status().unwrap().is_none(), "absent, not an error");
        let enoent = |r: io::Result<()>| r.unwrap_err().raw_os_error() == Some(libc::ENOENT);
        assert!(enoent(ada.read(10).map(drop)));
        assert!(enoent(ada.write_atomic(b"x", 0o644, None)));
        assert!(enoent(ada.list_dir(100).map(drop)));
        assert!(enoent(ada.remove()));
        assert!(enoent(ada.chmod(0o600)));
        assert!(enoent(ada.chown(Some(0), None)));
        assert!(enoent(ada.symlink(Path::new("x"))));
        assert!(enoent(ada.read_link().map(drop)));
        assert!(!granted.exists(), "nothing was made");
        // Its parent is the granted path, as a lone name; links from it
        // stay beneath the grant.
        assert_eq!(ada.parent().unwrap().unwrap().path(), granted);
        assert_eq!(
            ada.link_target(Path::new("sub/../bob")).unwrap().path(),
            granted.join("bob")
        );
        for out in ["../../etc/passwd", "/etc/passwd"] {
            let error = ada.link_target(Path::new(out)).map(drop).unwrap_err();
            assert!(LeadsOut::of(&error).is_some(), "{out}: {error}");
        }

        // Making a directory beneath it makes the granted directory first.
        at("sub/deeper").mkdir_all(0o755).unwrap();
        assert!(granted.join("sub/deeper").is_dir());
        at("ada").write_atomic(b"", 0o644, None).unwrap();
        assert!(granted.join("ada").is_file());

        // Never above the grant: with the directory holding it missing too,
        // nothing is made.
        let deep = tmp.path().join("a/b");
        let place = Place::new(&deep.join("x"), Some(deep.clone())).unwrap();
        assert!(enoent(place.mkdir_all(0o755)));
        assert!(!tmp.path().join("a").exists());

        // A symlink put at the granted path meanwhile is not followed.
        let elsewhere = tmp.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        let swapped = tmp.path().join("swapped");
        let place = Place::new(&swapped.join("x"), Some(swapped.clone())).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &swapped).unwrap();
        assert!(place.mkdir_all(0o755).is_err());
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
        assert!(swapped.is_symlink());
    }

    #[test]
    fn a_granted_path_through_a_symlink_is_refused_by_type() {
        let (tmp, root) = grant();
        let elsewhere = tmp.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        let linked = tmp.path().join("linked");
        std::os::unix::fs::symlink(&elsewhere, &linked).unwrap();
        // The granted directory a link, a directory beneath a link, and a
        // link inside the grant named as the granted directory.
        for (granted, link, target) in [
            (linked.clone(), linked.clone(), elsewhere.clone()),
            (linked.join("sub"), linked.clone(), elsewhere.clone()),
            (
                root.join("current"),
                root.join("current"),
                root.join("releases/1"),
            ),
        ] {
            let error = match Place::new(&granted.join("f"), Some(granted.clone())) {
                Ok(_) => panic!("{} was opened", granted.display()),
                Err(e) => e,
            };
            let through = ThroughLink::of(&error).unwrap_or_else(|| panic!("{error}"));
            assert_eq!(
                (&through.root, &through.link, &through.target),
                (&granted, &link, &target)
            );
        }
        // The same directories, granted by their own paths, open.
        for granted in [&elsewhere, &root.join("releases/1")] {
            let place = Place::new(&granted.join("f"), Some(granted.to_path_buf())).unwrap();
            place.write_atomic(b"x", 0o644, None).unwrap();
        }
    }

    #[test]
    fn a_granted_file_is_acted_on_by_name_and_never_followed() {
        let (tmp, root) = grant();
        let file = root.join("releases/1/config");
        fs::write(&file, "v1").unwrap();
        let at = |path: &Path| Place::new(path, Some(path.to_owned()));
        assert_eq!(at(&file).unwrap().read(1 << 20).unwrap(), b"v1");
        at(&file).unwrap().write_atomic(b"v2", 0o600, None).unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"v2");
        at(&file).unwrap().chmod(0o640).unwrap();
        assert_eq!(at(&file).unwrap().status().unwrap().unwrap().mode, 0o640);
        // Not there yet: made by its name.
        let new = root.join("releases/new.conf");
        at(&new).unwrap().write_atomic(b"n", 0o644, None).unwrap();
        assert_eq!(fs::read(&new).unwrap(), b"n");
        let dir = root.join("releases/made");
        at(&dir).unwrap().mkdir_all(0o755).unwrap();
        assert!(dir.is_dir());
        at(&new).unwrap().remove().unwrap();
        assert!(!new.exists());
        // Nothing beneath a file; a granted file that is a link is refused.
        let beneath = Place::new(&file.join("x"), Some(file.clone())).map(drop);
        assert_eq!(beneath.unwrap_err().raw_os_error(), Some(libc::ENOTDIR));
        let secret = tmp.path().join("secret");
        fs::write(&secret, "keep").unwrap();
        std::os::unix::fs::symlink(&secret, root.join("to-secret")).unwrap();
        let refused = at(&root.join("to-secret")).map(drop).unwrap_err();
        assert!(ThroughLink::of(&refused).is_some(), "{refused}");
        // A granted file beneath a link names the grant.
        let beneath = root.join("current/config");
        let refused = at(&beneath).map(drop).unwrap_err();
        let through = ThroughLink::of(&refused).unwrap_or_else(|| panic!("{refused}"));
        assert_eq!(
            (&through.root, &through.link),
            (&beneath, &root.join("current"))
        );
        assert_eq!(fs::read(&secret).unwrap(), b"keep");
    }

    #[test]
    fn a_file_with_other_names_keeps_its_mode() {
        let (tmp, root) = grant();
        let file = root.join("releases/1/tool");
        fs::write(&file, "x").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        // Its other name outside the grant.
        let outside = tmp.path().join("outside");
        fs::hard_link(&file, &outside).unwrap();
        let at = place(&root, "current/tool").unwrap();
        let refused = at.chmod(0o4755).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(SharedFile::of(&refused).map(|s| s.links), Some(2));
        let checked = at.refuse_shared("mode").unwrap_err();
        assert_eq!(SharedFile::of(&checked).map(|s| s.links), Some(2));
        assert_eq!(fs::metadata(&outside).unwrap().mode() & 0o7777, 0o644);
        // Directories are no hard links, whatever their link count.
        let dir = place(&root, "releases").unwrap();
        assert!(fs::metadata(root.join("releases")).unwrap().nlink() > 1);
        dir.refuse_shared("mode").unwrap();
        dir.chmod(0o750).unwrap();
        // Once the file has one name again, it is the grant's.
        fs::remove_file(&outside).unwrap();
        at.refuse_shared("mode").unwrap();
        at.chmod(0o640).unwrap();
        assert_eq!(fs::metadata(&file).unwrap().mode() & 0o7777, 0o640);
        // Nothing there: nothing to refuse; nothing beneath a file: an error.
        place(&root, "releases/none")
            .unwrap()
            .refuse_shared("mode")
            .unwrap();
        let beneath = place(&root, "current/tool/x").unwrap();
        assert_eq!(
            beneath.refuse_shared("mode").unwrap_err().raw_os_error(),
            Some(libc::ENOTDIR)
        );
        assert_eq!(
            beneath.status().unwrap_err().raw_os_error(),
            Some(libc::ENOTDIR)
        );
        assert!(
            place(&root, "releases/none")
                .unwrap()
                .status()
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn links_are_followed_up_to_the_kernels_limit() {
        let (_tmp, root) = grant();
        // l1 → l2 → … → lN → releases/1, each a link to the next.
        let chain = |n: usize| {
            for i in 1..=n {
                let name = root.join(format!("chain{n}-{i}"));
                let next = if i == n {
                    PathBuf::from("releases/1")
                } else {
                    PathBuf::from(format!("chain{n}-{}", i + 1))
                };
                std::os::unix::fs::symlink(next, name).unwrap();
            }
            place(&root, &format!("chain{n}-1/config"))
        };
        let longest = chain(MAX_LINKS).unwrap();
        longest.write_atomic(b"far", 0o644, None).unwrap();
        assert_eq!(fs::read(root.join("releases/1/config")).unwrap(), b"far");
        let too_long = chain(MAX_LINKS + 1).map(drop).unwrap_err();
        assert_eq!(too_long.raw_os_error(), Some(libc::ELOOP));
    }

    #[test]
    fn the_granted_directory_itself_is_named_as_granted() {
        let (_tmp, root) = grant();
        let itself = place(&root, "").unwrap();
        assert_eq!(itself.path().as_os_str(), root.as_os_str());
        assert_eq!(
            place(&root, "releases").unwrap().path().as_os_str(),
            root.join("releases").as_os_str()
        );
    }

    #[test]
    fn parents_stay_confined() {
        let (_tmp, root) = grant();
        let parent = place(&root, "releases/1/config")
            .unwrap()
            .parent()
            .unwrap()
            .unwrap();
        assert_eq!(parent.path(), root.join("releases/1"));
        assert!(parent.status().unwrap().unwrap().is_dir);
        assert!(place(&root, "").unwrap().parent().unwrap().is_none());
        assert!(
            Place::new(Path::new("/"), None)
                .unwrap()
                .parent()
                .unwrap()
                .is_none()
        );
    }
}
