//! File access for the `host` file imports, confined to a granted directory.
//!
//! A call the grants allow acts either anywhere (its modules are trusted or
//! granted `/`) or beneath the deepest directory granted for it, opened with
//! cap-std: `..` and symlinks cannot lead out of it, whatever the path says.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use cap_std::fs::{
    Dir, DirBuilder, DirBuilderExt, MetadataExt, OpenOptions, OpenOptionsExt, Permissions,
    PermissionsExt,
};

/// What `stat` tells about a path.
pub struct Status {
    pub is_dir: bool,
    pub is_file: bool,
    pub is_symlink: bool,
    pub mode: u32,
    pub size: u64,
    pub uid: u32,
    pub gid: u32,
}

/// Where a checked file call acts.
pub enum Place {
    /// The absolute path, with no confinement.
    Anywhere(PathBuf),
    /// `rel` beneath the granted directory `root`, opened as `dir`.
    Beneath {
        dir: Dir,
        root: PathBuf,
        rel: PathBuf,
    },
}

impl Place {
    /// `path` (absolute, checked by the grants) beneath `root`, if any.
    pub fn new(path: &Path, root: Option<PathBuf>) -> io::Result<Place> {
        let Some(root) = root else {
            return Ok(Place::Anywhere(path.to_owned()));
        };
        let dir = Dir::open_ambient_dir(&root, cap_std::ambient_authority())?;
        let rel = path.strip_prefix(&root).unwrap_or(Path::new("")).to_owned();
        let rel = if rel.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            rel
        };
        Ok(Place::Beneath { dir, root, rel })
    }

    /// The absolute path this place is.
    pub fn path(&self) -> PathBuf {
        match self {
            Place::Anywhere(path) => path.clone(),
            Place::Beneath { root, rel, .. } if rel == Path::new(".") => root.clone(),
            Place::Beneath { root, rel, .. } => root.join(rel),
        }
    }

    /// The granted directory, for messages, when confined.
    pub fn root(&self) -> Option<&Path> {
        match self {
            Place::Anywhere(_) => None,
            Place::Beneath { root, .. } => Some(root),
        }
    }

    pub fn read(&self) -> io::Result<Vec<u8>> {
        match self {
            Place::Anywhere(path) => fs::read(path),
            Place::Beneath { dir, rel, .. } => dir.read(rel),
        }
    }

    /// Status without following a final symlink; None when nothing is there.
    pub fn status(&self) -> io::Result<Option<Status>> {
        let found = match self {
            Place::Anywhere(path) => fs::symlink_metadata(path).map(|m| Status {
                is_dir: m.is_dir(),
                is_file: m.is_file(),
                is_symlink: m.file_type().is_symlink(),
                mode: m.mode() & 0o7777,
                size: m.size(),
                uid: m.uid(),
                gid: m.gid(),
            }),
            Place::Beneath { dir, rel, .. } => dir.symlink_metadata(rel).map(|m| Status {
                is_dir: m.is_dir(),
                is_file: m.is_file(),
                is_symlink: m.file_type().is_symlink(),
                mode: m.permissions().mode() & 0o7777,
                size: m.len(),
                uid: MetadataExt::uid(&m),
                gid: MetadataExt::gid(&m),
            }),
        };
        match found {
            Ok(status) => Ok(Some(status)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn remove(&self) -> io::Result<()> {
        let status = self.status()?.ok_or(io::ErrorKind::NotFound)?;
        match (self, status.is_dir) {
            (Place::Anywhere(path), true) => fs::remove_dir(path),
            (Place::Anywhere(path), false) => fs::remove_file(path),
            (Place::Beneath { dir, rel, .. }, true) => dir.remove_dir(rel),
            (Place::Beneath { dir, rel, .. }, false) => dir.remove_file(rel),
        }
    }

    pub fn mkdir_all(&self, mode: u32) -> io::Result<()> {
        match self {
            Place::Anywhere(path) => fs::DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(path),
            Place::Beneath { dir, rel, .. } => {
                let mut builder = DirBuilder::new();
                builder.recursive(true);
                DirBuilderExt::mode(&mut builder, mode);
                dir.create_dir_with(rel, &builder)
            }
        }
    }

    pub fn chmod(&self, mode: u32) -> io::Result<()> {
        match self {
            Place::Anywhere(path) => fs::set_permissions(path, fs::Permissions::from_mode(mode)),
            Place::Beneath { dir, rel, .. } => {
                dir.set_permissions(rel, Permissions::from_mode(mode))
            }
        }
    }

    /// Replace the file atomically: a temporary file beside it, then rename.
    pub fn write_atomic(
        &self,
        bytes: &[u8],
        mode: u32,
        owner: Option<(u32, u32)>,
    ) -> io::Result<()> {
        let (dir, rel) = match self {
            Place::Anywhere(path) => return crate::atomic::write_atomic(path, bytes, mode, owner),
            Place::Beneath { dir, rel, .. } => (dir, rel),
        };
        let parent = rel.parent().unwrap_or(Path::new(""));
        let name = rel
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
        let temp = parent.join(format!(
            ".consfig-{}-{}",
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
