//! `archive:extracted`: what must change under the destination for it to
//! hold the archive's entries, decided before anything is written, then
//! written.

use consfig_guest::host::fs::FileKind;
use consfig_guest::prelude::*;

use crate::confine::{self, Entry, Kind};
use crate::format;

/// Extract an archive on the host into a directory: `.tar`, `.tar.gz`
/// (`.tgz`), `.tar.xz` (`.txz`) or `.zip` (with stored or deflated entries),
/// recognised by its first bytes (or a `.tar` name); ARCHIVE is a file on the
/// host, decoded inside the module (the host needs no `tar` or `unzip`).
///
/// DEST is made if missing. Files (with the archive's permission bits, but
/// never set-uid or set-gid; owned by the user deploying), directories and
/// symlinks are written where they differ from what is there, so a second
/// application is Unchanged; hard links become copies of the file they link
/// to. Directory modes are set last, so a read-only directory still gets
/// its files. Something of another kind in an entry's place (a directory
/// where the archive has a file, say) fails the property: it is not
/// replaced.
///
/// Every entry stays beneath DEST: the archive is refused, before anything
/// is written, when an entry has an absolute name or climbs out with `..`,
/// lies beneath a symlink (the archive's own or one already under DEST),
/// or is a symlink pointing outside DEST or through another symlink, or a
/// hard link to anything but a file earlier in the archive.
///
/// Options: `creates`, an absolute path: when something is there, the
/// archive is taken as extracted and nothing is read or compared (Ansible's
/// `creates`).
#[property]
pub fn extracted(archive: String, dest: String, creates: Option<String>) -> Result<Change> {
    absolute("archive", &archive)?;
    absolute("dest", &dest)?;
    let dest = match dest.trim_end_matches('/') {
        "" => "/".to_owned(),
        trimmed => trimmed.to_owned(),
    };
    if let Some(creates) = &creates {
        absolute("creates", creates)?;
        if fs::exists(creates)? {
            debug!("{creates} exists: {archive} is taken as extracted");
            return Ok(Change::Unchanged);
        }
    }
    let bytes = fs::read(&archive)?;
    let raw =
        format::decode(&archive, &bytes).map_err(|e| Error::new(format!("{archive}: {e}")))?;
    match fs::stat(&dest)? {
        None => {}
        // A symlink the author names as the destination is theirs to make.
        Some(stat) if stat.is_dir() || stat.is_symlink() => {}
        Some(stat) => bail!(
            "{dest} is a {}, not a directory to extract {archive} into",
            stat.kind
        ),
    }
    let entries = confine::confine(&dest, raw, |path| {
        Ok(fs::stat(join(&dest, path))?.map(|stat| stat.kind))
    })
    .map_err(|e| Error::new(format!("{archive}: {e}; nothing was extracted into {dest}")))?;
    let total = entries.len();
    let changes = plan(&dest, entries)?;
    if changes.is_empty() {
        return Ok(Change::Unchanged);
    }
    let count = changes.len();
    write(&dest, changes)?;
    info!("{archive}: {count} of {total} entries written into {dest}");
    Ok(Change::Changed)
}

fn absolute(what: &str, path: &str) -> Result<()> {
    ensure!(
        path.starts_with('/') && !path.split('/').any(|part| part == ".."),
        "{what} must be an absolute path without `..`, not {path:?}"
    );
    Ok(())
}

fn join(dest: &str, path: &str) -> String {
    match dest {
        "/" => format!("/{path}"),
        dest => format!("{dest}/{path}"),
    }
}

/// One change to the destination, its path relative to it.
#[derive(Debug)]
enum Write {
    File {
        path: String,
        data: Vec<u8>,
        mode: Mode,
    },
    Mode {
        path: String,
        mode: Mode,
    },
    Directory {
        path: String,
        mode: Mode,
    },
    /// `replace`: a symlink with another target is there.
    Symlink {
        path: String,
        target: String,
        replace: bool,
    },
}

/// What differs between the entries and what is under `dest` (reads see
/// check mode's overlay, so this is what a real run would change), or the
/// first entry whose place holds something of another kind.
fn plan(dest: &str, entries: Vec<Entry>) -> Result<Vec<Write>> {
    let mut changes = Vec::new();
    for Entry { path, kind } in entries {
        let full = join(dest, &path);
        let stat = fs::stat(&full)?;
        let conflict = |found: FileKind, wanted: &str| {
            Error::new(format!(
                "{full} is a {found}, where the archive has a {wanted}: not replacing it"
            ))
        };
        match kind {
            Kind::File { data, mode } => {
                let mode = Mode::new(mode)?;
                match stat {
                    None => changes.push(Write::File { path, data, mode }),
                    Some(stat) if stat.is_file() => {
                        if fs::read(&full)? != data {
                            changes.push(Write::File { path, data, mode });
                        } else if stat.mode != mode {
                            changes.push(Write::Mode { path, mode });
                        }
                    }
                    Some(stat) => return Err(conflict(stat.kind, "file")),
                }
            }
            Kind::Directory { mode } => {
                let mode = Mode::new(mode)?;
                match stat {
                    None => changes.push(Write::Directory { path, mode }),
                    Some(stat) if stat.is_dir() => {
                        if stat.mode != mode {
                            changes.push(Write::Mode { path, mode });
                        }
                    }
                    Some(stat) => return Err(conflict(stat.kind, "directory")),
                }
            }
            Kind::Symlink { target } => match stat {
                None => changes.push(Write::Symlink {
                    path,
                    target,
                    replace: false,
                }),
                Some(stat) if stat.is_symlink() => {
                    if fs::readlink(&full)? != target {
                        changes.push(Write::Symlink {
                            path,
                            target,
                            replace: true,
                        });
                    }
                }
                Some(stat) => return Err(conflict(stat.kind, "symlink")),
            },
        }
    }
    Ok(changes)
}

/// Make the changes, in the archive's order, directories' modes last.
fn write(dest: &str, changes: Vec<Write>) -> Result<()> {
    let mut modes = Vec::new();
    let parent_made = |path: &str| -> Result<()> {
        if let Some((parent, _)) = path.rsplit_once('/') {
            let parent = join(dest, parent);
            if !fs::exists(&parent)? {
                fs::mkdir(&parent, None)?;
            }
        } else if !fs::exists(dest)? {
            fs::mkdir(dest, None)?;
        }
        Ok(())
    };
    for change in changes {
        match change {
            Write::File { path, data, mode } => {
                parent_made(&path)?;
                fs::write(join(dest, &path), data, Some(mode))?;
            }
            Write::Mode { path, mode } => modes.push((path, mode)),
            Write::Directory { path, mode } => {
                parent_made(&path)?;
                let full = join(dest, &path);
                // Made earlier as the parent of an entry listed before it.
                if !fs::exists(&full)? {
                    fs::mkdir(&full, None)?;
                }
                modes.push((path, mode));
            }
            Write::Symlink {
                path,
                target,
                replace,
            } => {
                parent_made(&path)?;
                let full = join(dest, &path);
                if replace {
                    fs::remove(&full)?;
                }
                fs::symlink(&target, &full)?;
            }
        }
    }
    for (path, mode) in modes.into_iter().rev() {
        let full = join(dest, &path);
        if fs::stat(&full)?.is_some_and(|stat| stat.mode != mode) {
            fs::chmod(&full, mode)?;
        }
    }
    Ok(())
}
