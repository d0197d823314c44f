//! Keeping an archive beneath its destination: which entries may be
//! written, decided for every entry before anything is written, so that a
//! bad archive leaves nothing half-extracted.
//!
//! Refused: a name that is absolute or climbs out with `..`; an entry
//! beneath a symlink (the archive's own or one already under the
//! destination), which would be written wherever that link points; a symlink
//! whose target, resolved from the link's directory, leads out of the
//! destination or passes through a symlink on the way (a link `s -> .`
//! makes `s/..` the destination's parent, which resolving the text alone
//! would miss); a hard link to anything but a file earlier in the archive.

use std::collections::HashMap;

use consfig_guest::host::fs::FileKind;

use crate::format::{RawEntry, RawKind};

/// An entry that may be written: its path relative to the destination,
/// normalised (`a/b`, no `.`, `..` or empty components).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Permission bits without set-uid and set-gid. A hard link is a file
    /// with its target's content.
    File {
        data: Vec<u8>,
        mode: u32,
    },
    Directory {
        mode: u32,
    },
    /// The target as the archive has it (relative, or absolute beneath the
    /// destination).
    Symlink {
        target: String,
    },
}

/// The bits an extracted file or directory may have: permissions and the
/// sticky bit, never set-uid or set-gid.
const ALLOWED_MODE: u32 = 0o1777;

#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error(
        "the entry {name:?} has an absolute path: entries are extracted beneath the destination"
    )]
    Absolute { name: String },
    #[error("the entry {name:?} climbs out of the destination with `..`")]
    Parent { name: String },
    #[error("the entry {name:?} names the destination itself, but is not a directory")]
    Destination { name: String },
    #[error(
        "the entry {name:?} lies beneath {through:?}, a symlink: nothing is extracted \
         through a symlink"
    )]
    ThroughSymlink { name: String, through: String },
    #[error("the entry {name:?} lies beneath {through:?}, which is a {kind}, not a directory")]
    NotADirectory {
        name: String,
        through: String,
        kind: FileKind,
    },
    #[error("the symlink {name:?} points to {target:?}, outside the destination")]
    LinkOutside { name: String, target: String },
    #[error(
        "the symlink {name:?} points to {target:?}, through {through:?}, a symlink that \
         the archive does not make: a link may only point through real directories"
    )]
    LinkThroughSymlink {
        name: String,
        target: String,
        through: String,
    },
    #[error(
        "the hard link {name:?} links to {target:?}, which is not a file earlier in the archive"
    )]
    HardlinkTarget { name: String, target: String },
    #[error("{0}")]
    Host(consfig_guest::Error),
}

/// `name` as components beneath the destination, or why it may not be.
fn components(name: &str) -> Result<Vec<&str>, Refused> {
    if name.starts_with('/') {
        return Err(Refused::Absolute { name: name.into() });
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(Refused::Parent { name: name.into() }),
            part => parts.push(part),
        }
    }
    Ok(parts)
}

/// What is already on disk beneath the destination, asked once per path.
struct Disk<F> {
    kind_of: F,
    known: HashMap<String, Option<FileKind>>,
}

impl<F> Disk<F>
where
    F: FnMut(&str) -> consfig_guest::Result<Option<FileKind>>,
{
    fn kind(&mut self, path: &str) -> Result<Option<FileKind>, Refused> {
        if let Some(kind) = self.known.get(path) {
            return Ok(*kind);
        }
        let kind = (self.kind_of)(path).map_err(Refused::Host)?;
        self.known.insert(path.to_owned(), kind);
        Ok(kind)
    }
}

/// The entries of an archive to extract at `dest` (an absolute, normalised
/// path), each path confined beneath it, or the first that may not be.
///
/// `kind_of(path)` tells what is on disk at `dest/path` (without following a
/// final symlink). A path given twice keeps its last entry, in its place,
/// as extracting them in order would leave it.
pub fn confine<F>(dest: &str, raw: Vec<RawEntry>, kind_of: F) -> Result<Vec<Entry>, Refused>
where
    F: FnMut(&str) -> consfig_guest::Result<Option<FileKind>>,
{
    let entries = normalise(raw)?;
    let archive: HashMap<&str, &Kind> =
        entries.iter().map(|e| (e.path.as_str(), &e.kind)).collect();
    let mut disk = Disk {
        kind_of,
        known: HashMap::new(),
    };
    for entry in &entries {
        check_ancestors(&entry.path, &archive, &mut disk)?;
        if let Kind::Symlink { target } = &entry.kind {
            check_link(dest, &entry.path, target, &archive, &mut disk)?;
        }
    }
    Ok(entries)
}

/// Names normalised, hard links made files, set-id bits dropped, and only
/// the last entry of each path kept.
fn normalise(raw: Vec<RawEntry>) -> Result<Vec<Entry>, Refused> {
    let mut entries: Vec<Option<Entry>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for RawEntry { name, kind } in raw {
        let path = components(&name)?.join("/");
        let kind = match kind {
            RawKind::Directory { .. } if path.is_empty() => continue,
            _ if path.is_empty() => return Err(Refused::Destination { name }),
            RawKind::File { data, mode } => Kind::File {
                data,
                mode: mode & ALLOWED_MODE,
            },
            RawKind::Directory { mode } => Kind::Directory {
                mode: mode & ALLOWED_MODE,
            },
            RawKind::Symlink { target } => Kind::Symlink { target },
            RawKind::Hardlink { target } => {
                let linked = components(&target).map(|parts| parts.join("/"));
                let file = linked
                    .ok()
                    .and_then(|linked| index.get(&linked).copied())
                    .and_then(|i| entries[i].as_ref())
                    .filter(|e| matches!(e.kind, Kind::File { .. }));
                match file {
                    Some(file) => file.kind.clone(),
                    None => return Err(Refused::HardlinkTarget { name, target }),
                }
            }
        };
        if let Some(earlier) = index.insert(path.clone(), entries.len()) {
            entries[earlier] = None;
        }
        entries.push(Some(Entry { path, kind }));
    }
    Ok(entries.into_iter().flatten().collect())
}

/// Every directory above `path` beneath the destination must be one, or
/// be made as one: neither a symlink nor a file, in the archive or on disk.
fn check_ancestors<F>(
    path: &str,
    archive: &HashMap<&str, &Kind>,
    disk: &mut Disk<F>,
) -> Result<(), Refused>
where
    F: FnMut(&str) -> consfig_guest::Result<Option<FileKind>>,
{
    let refuse_through = |through: &str, kind| match kind {
        FileKind::Symlink => Refused::ThroughSymlink {
            name: path.into(),
            through: through.into(),
        },
        kind => Refused::NotADirectory {
            name: path.into(),
            through: through.into(),
            kind,
        },
    };
    for (end, _) in path.match_indices('/') {
        let ancestor = &path[..end];
        match archive.get(ancestor) {
            Some(Kind::Symlink { .. }) => return Err(refuse_through(ancestor, FileKind::Symlink)),
            Some(Kind::File { .. }) => return Err(refuse_through(ancestor, FileKind::File)),
            Some(Kind::Directory { .. }) | None => {}
        }
        match disk.kind(ancestor)? {
            None | Some(FileKind::Directory) => {}
            Some(kind) => return Err(refuse_through(ancestor, kind)),
        }
    }
    Ok(())
}

/// The link's target, resolved from its directory one component at a time,
/// stays beneath the destination, and every component it passes through
/// (and the one it ends at, unless the archive makes it) is no symlink.
fn check_link<F>(
    dest: &str,
    path: &str,
    target: &str,
    archive: &HashMap<&str, &Kind>,
    disk: &mut Disk<F>,
) -> Result<(), Refused>
where
    F: FnMut(&str) -> consfig_guest::Result<Option<FileKind>>,
{
    let outside = || Refused::LinkOutside {
        name: path.into(),
        target: target.into(),
    };
    // An absolute target is resolved from the destination, when it lies beneath.
    let (mut resolved, rest): (Vec<&str>, &str) = if target.starts_with('/') {
        let beneath = match dest {
            "/" => Some(target),
            dest => target
                .strip_prefix(dest)
                .filter(|rest| rest.is_empty() || rest.starts_with('/')),
        };
        (Vec::new(), beneath.ok_or_else(outside)?)
    } else {
        let mut dir: Vec<&str> = path.split('/').collect();
        dir.pop();
        (dir, target)
    };
    let parts: Vec<&str> = rest
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for (i, part) in parts.iter().enumerate() {
        if *part == ".." {
            resolved.pop().ok_or_else(outside)?;
            continue;
        }
        resolved.push(part);
        let so_far = resolved.join("/");
        let last = i + 1 == parts.len();
        let in_archive = archive.get(so_far.as_str());
        let through_link = match in_archive {
            // The archive's own links are confined too: the last
            // component may be one, but a path may not pass through one.
            Some(Kind::Symlink { .. }) => !last,
            Some(_) => false,
            None => disk.kind(&so_far)? == Some(FileKind::Symlink),
        };
        if through_link {
            return Err(Refused::LinkThroughSymlink {
                name: path.into(),
                target: target.into(),
                through: so_far,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> RawEntry {
        RawEntry {
            name: name.into(),
            kind: RawKind::File {
                data: name.as_bytes().to_vec(),
                mode: 0o4755,
            },
        }
    }

    fn dir(name: &str) -> RawEntry {
        RawEntry {
            name: name.into(),
            kind: RawKind::Directory { mode: 0o2775 },
        }
    }

    fn symlink(name: &str, target: &str) -> RawEntry {
        RawEntry {
            name: name.into(),
            kind: RawKind::Symlink {
                target: target.into(),
            },
        }
    }

    fn hardlink(name: &str, target: &str) -> RawEntry {
        RawEntry {
            name: name.into(),
            kind: RawKind::Hardlink {
                target: target.into(),
            },
        }
    }

    /// Confined at /srv/app with an empty destination.
    fn check(raw: Vec<RawEntry>) -> Result<Vec<Entry>, String> {
        check_on(raw, &[])
    }

    /// Confined at /srv/app over what `disk` says is there.
    fn check_on(raw: Vec<RawEntry>, disk: &[(&str, FileKind)]) -> Result<Vec<Entry>, String> {
        let disk: HashMap<String, FileKind> =
            disk.iter().map(|(p, k)| ((*p).to_owned(), *k)).collect();
        confine("/srv/app", raw, |path| Ok(disk.get(path).copied())).map_err(|e| e.to_string())
    }

    fn paths(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    fn names_are_normalised_and_set_id_bits_dropped() {
        let entries = check(vec![dir("./"), dir("./a/"), file("./a//b"), file("c")]).unwrap();
        assert_eq!(paths(&entries), ["a", "a/b", "c"]);
        assert_eq!(entries[0].kind, Kind::Directory { mode: 0o775 });
        assert_eq!(
            entries[1].kind,
            Kind::File {
                data: b"./a//b".to_vec(),
                mode: 0o755
            }
        );
    }

    #[test]
    fn absolute_and_parent_names_are_refused() {
        assert_eq!(
            check(vec![file("ok"), file("../x")]).unwrap_err(),
            "the entry \"../x\" climbs out of the destination with `..`"
        );
        assert_eq!(
            check(vec![file("a/../../x")]).unwrap_err(),
            "the entry \"a/../../x\" climbs out of the destination with `..`"
        );
        assert_eq!(
            check(vec![file("/etc/x")]).unwrap_err(),
            "the entry \"/etc/x\" has an absolute path: entries are extracted beneath the destination"
        );
        assert_eq!(
            check(vec![file("./")]).unwrap_err(),
            "the entry \"./\" names the destination itself, but is not a directory"
        );
    }

    #[test]
    fn links_stay_beneath_the_destination() {
        let ok = check(vec![
            dir("lib"),
            file("lib/libx.so.1"),
            symlink("lib/libx.so", "libx.so.1"),
            symlink("bin/x", "../lib/libx.so"),
            symlink("here", "/srv/app/lib"),
            symlink("top", "."),
        ]);
        assert_eq!(paths(&ok.unwrap()).len(), 6);
        assert_eq!(
            check(vec![symlink("etc", "/etc")]).unwrap_err(),
            "the symlink \"etc\" points to \"/etc\", outside the destination"
        );
        assert_eq!(
            check(vec![symlink("a/up", "../../x")]).unwrap_err(),
            "the symlink \"a/up\" points to \"../../x\", outside the destination"
        );
        assert_eq!(
            check(vec![symlink("sibling", "/srv/application")]).unwrap_err(),
            "the symlink \"sibling\" points to \"/srv/application\", outside the destination"
        );
        assert_eq!(
            check(vec![symlink("back", "/srv/app/../etc")]).unwrap_err(),
            "the symlink \"back\" points to \"/srv/app/../etc\", outside the destination"
        );
        let at_root = confine("/", vec![symlink("etc/alt", "/etc/x")], |_| Ok(None));
        assert!(at_root.is_ok(), "beneath / is everywhere: {at_root:?}");
    }

    #[test]
    fn a_link_through_a_link_is_refused() {
        // `s -> .` is the destination, so `s/..` is its parent.
        assert_eq!(
            check(vec![symlink("s", "."), symlink("escape", "s/../etc")]).unwrap_err(),
            "the symlink \"escape\" points to \"s/../etc\", through \"s\", a symlink \
             that the archive does not make: a link may only point through real directories"
        );
        assert_eq!(
            check_on(
                vec![symlink("x", "old/../..")],
                &[("old", FileKind::Symlink)]
            )
            .unwrap_err(),
            "the symlink \"x\" points to \"old/../..\", through \"old\", a symlink \
             that the archive does not make: a link may only point through real directories"
        );
        assert_eq!(
            check_on(vec![symlink("x", "old")], &[("old", FileKind::Symlink)]).unwrap_err(),
            "the symlink \"x\" points to \"old\", through \"old\", a symlink \
             that the archive does not make: a link may only point through real directories"
        );
    }

    #[test]
    fn nothing_is_written_through_a_symlink() {
        assert_eq!(
            check(vec![symlink("etc", "sub"), file("etc/passwd")]).unwrap_err(),
            "the entry \"etc/passwd\" lies beneath \"etc\", a symlink: nothing is extracted \
             through a symlink"
        );
        assert_eq!(
            check_on(vec![file("old/x")], &[("old", FileKind::Symlink)]).unwrap_err(),
            "the entry \"old/x\" lies beneath \"old\", a symlink: nothing is extracted \
             through a symlink"
        );
        assert_eq!(
            check_on(vec![file("f/x")], &[("f", FileKind::File)]).unwrap_err(),
            "the entry \"f/x\" lies beneath \"f\", which is a file, not a directory"
        );
        assert_eq!(
            check(vec![file("f"), file("f/x")]).unwrap_err(),
            "the entry \"f/x\" lies beneath \"f\", which is a file, not a directory"
        );
    }

    #[test]
    fn hard_links_are_copies_of_earlier_files() {
        let entries = check(vec![file("a"), hardlink("b", "./a")]).unwrap();
        assert_eq!(entries[1].kind, entries[0].kind);
        for (link, why) in [("../etc/shadow", "etc"), ("later", "later"), ("d", "dir")] {
            let err = check(vec![dir("d"), hardlink("h", link), file("later")]).unwrap_err();
            assert_eq!(
                err,
                format!(
                    "the hard link \"h\" links to {link:?}, which is not a file earlier in \
                     the archive"
                ),
                "{why}"
            );
        }
    }

    #[test]
    fn the_last_entry_of_a_path_wins() {
        let entries = check(vec![file("a"), dir("d"), symlink("a", "d")]).unwrap();
        assert_eq!(paths(&entries), ["d", "a"]);
        assert_eq!(entries[1].kind, Kind::Symlink { target: "d".into() });
    }
}
