//! Check mode's file backend: writes, removals, new directories and modes go
//! to an overlay instead of the disk, and reads see the overlay first.
//!
//! The overlay holds what earlier forms would have changed. It lives in the
//! process that forks each form (the control child), which takes in every
//! form's changes after it ran, so a form inherits it with its copy of the
//! process and never receives it through a pipe. Refusals are the errors the
//! disk would give (ENOENT, EEXIST, EISDIR), as `io::Error`s.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use super::bounded::TooLarge;
use super::files::{FileBackend, our_ids};
use super::overlay::{Entry, FileChange, Overlay, Owner, Recorder, Unknowable};
use super::place::{Kind, Listed, MAX_LINKS, Place, Status};

#[derive(Debug, Default)]
pub struct Check {
    /// What earlier forms would have changed.
    overlay: Overlay,
    /// What this form would change.
    recorder: Recorder,
}

/// The most of a file on disk check mode keeps, to show what a form would
/// change in it; a larger file is taken as something other than a file.
const MAX_KEPT: u64 = 1 << 30;

/// The most entries beneath a directory check mode follows a rename of.
const MAX_MOVED: usize = 100_000;

/// The owner of what this process creates.
fn ours() -> Owner {
    let (uid, gid) = our_ids();
    Owner { uid, gid }
}

/// The mode a file keeps when its owner changes: the kernel clears its
/// set-uid bit, and its set-gid bit when it is group-executable (else that
/// bit means mandatory locking, and stays).
fn mode_after_chown(mode: u32) -> u32 {
    let mut mode = mode & !0o4000;
    if mode & 0o2010 == 0o2010 {
        mode &= !0o2000;
    }
    mode
}

fn kind_of(entry: &Entry) -> Option<Kind> {
    match entry {
        Entry::File { .. } => Some(Kind::File),
        Entry::Dir { .. } => Some(Kind::Dir),
        Entry::Symlink { .. } => Some(Kind::Symlink),
        Entry::Other => Some(Kind::Other),
        Entry::Absent => None,
    }
}

fn errno(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

impl Check {
    /// Check mode over what earlier forms would have changed.
    pub fn new(overlay: Overlay) -> Self {
        Check {
            overlay,
            recorder: Recorder::default(),
        }
    }

    /// What this form would change, leaving nothing behind for the next.
    pub fn take_changes(&mut self) -> Vec<FileChange> {
        self.recorder.take()
    }

    /// Take in what a form would have changed, for the forms after it.
    pub fn absorb(&mut self, changes: &[FileChange]) -> io::Result<()> {
        self.overlay.apply(changes)
    }

    /// Take in steps a form did not take, for the forms after it.
    pub fn note_unknowable(&mut self, steps: impl IntoIterator<Item = Unknowable>) {
        self.overlay.note_unknowable(steps);
    }

    /// The steps earlier forms did not take, oldest first.
    pub fn earlier_unknowable(&self) -> &[Unknowable] {
        self.overlay.unknowable()
    }

    /// Whether this form or an earlier one would have changed any file:
    /// a command run now sees the host without those changes.
    pub fn has_changes(&self) -> bool {
        !self.overlay.is_empty() || !self.recorder.is_empty()
    }

    /// What a subdeployment chrooted at `root` sees: what earlier forms and
    /// this one would have changed beneath `root`, in its own paths.
    pub fn view_beneath(&self, root: &Path) -> io::Result<Overlay> {
        let mut overlay = self.overlay.clone();
        overlay.apply(&self.recorder.snapshot())?;
        Ok(overlay.seen_from(root))
    }

    /// Record what a subdeployment chrooted at `root` would change.
    pub fn record_beneath(&mut self, root: &Path, changes: &[FileChange]) {
        for change in changes {
            let change = change.seen_outside(root);
            self.recorder
                .record(&change.path, change.before, change.after);
        }
    }

    /// What `place` holds as check mode sees it: this form's changes, then
    /// earlier forms', then the disk.
    fn entry(&self, place: &Place) -> io::Result<Entry> {
        let path = place.path();
        if let Some(entry) = self.recorder.current(&path) {
            return Ok(entry.clone());
        }
        if let Some(entry) = self.overlay.get(&path)? {
            return Ok(entry);
        }
        let Some(s) = place.status()? else {
            return Ok(Entry::Absent);
        };
        let owner = Some(Owner {
            uid: s.uid,
            gid: s.gid,
        });
        Ok(if s.is_dir {
            Entry::Dir {
                mode: s.mode,
                owner,
            }
        } else if s.is_file {
            match place.read(MAX_KEPT) {
                Ok(content) => Entry::File {
                    content,
                    mode: s.mode,
                    owner,
                },
                Err(_) => Entry::Other,
            }
        } else if s.is_symlink {
            match place.read_link().map(|t| t.into_os_string().into_string()) {
                Ok(Ok(target)) => Entry::Symlink { target, owner },
                _ => Entry::Other,
            }
        } else {
            Entry::Other
        })
    }

    /// The target of the symlink check mode made `path`, if it made one.
    fn made_link(&self, path: &Path) -> io::Result<Option<String>> {
        match self.recorder.current(path) {
            Some(Entry::Symlink { target, .. }) => Ok(Some(target.clone())),
            // This form's change is the latest.
            Some(_) => Ok(None),
            None => self.overlay.symlink_target(path),
        }
    }

    /// `place` as it is reached when a directory on its way is a symlink
    /// check mode made (the disk resolved the path without it): through
    /// that link, as the disk would after the real calls. None when no
    /// such link is on its way.
    fn through_made_links(&self, place: &Place) -> io::Result<Option<Place>> {
        let mut current: Option<Place> = None;
        for _ in 0..=MAX_LINKS {
            let at = current.as_ref().unwrap_or(place);
            let path = at.path();
            let mut made = None;
            // The link nearest the root comes first: the disk meets it first.
            let ancestors: Vec<&Path> = path.ancestors().skip(1).collect();
            for dir in ancestors.into_iter().rev() {
                if at.root().is_some_and(|root| !dir.starts_with(root)) {
                    continue;
                }
                if let Some(target) = self.made_link(dir)? {
                    made = Some((dir.to_owned(), target));
                    break;
                }
            }
            let Some((link, target)) = made else {
                return Ok(current);
            };
            let rest = path.strip_prefix(&link).map_err(io::Error::other)?;
            let led = at.elsewhere(&link)?.link_target(Path::new(&target))?;
            current = Some(at.elsewhere(&led.path().join(rest))?);
        }
        Err(errno(libc::ELOOP))
    }

    /// Where `place` leads when check mode sees a symlink there, followed
    /// as on disk (confined, at most so many links); None when it is none.
    /// A link check mode made leads where its contents say; one on disk
    /// is resolved by the disk, then what it leads to is seen as check mode
    /// sees it.
    fn followed(&self, place: &Place) -> io::Result<Option<Place>> {
        let mut current: Option<Place> = None;
        for _ in 0..=MAX_LINKS {
            let at = current.as_ref().unwrap_or(place);
            match self.entry(at)? {
                Entry::Symlink { target, .. } if self.changed(at) => {
                    let led = at.link_target(Path::new(&target))?;
                    current = Some(self.through_made_links(&led)?.unwrap_or(led));
                }
                Entry::Symlink { .. } => {
                    let led = at.resolved()?;
                    current = Some(self.through_made_links(&led)?.unwrap_or(led));
                }
                _ => return Ok(current),
            }
        }
        Err(errno(libc::ELOOP))
    }

    /// The file system `place` is (or would be made) on: that of the
    /// nearest directory holding it on disk.
    fn device_of(&self, place: &Place) -> io::Result<u64> {
        let mut parent = place.parent()?;
        while let Some(dir) = parent {
            if let Some(status) = dir.status()? {
                return Ok(status.dev);
            }
            parent = dir.parent()?;
        }
        // Up to the granted path: the directory holding it is there, open
        // (only its device is looked at).
        let top = match place.root() {
            Some(root) => root.parent().unwrap_or(root),
            None => Path::new("/"),
        };
        Ok(Place::Anywhere(top.to_owned())
            .status()?
            .map_or(0, |s| s.dev))
    }

    /// The owner of `place` as check mode sees it.
    fn owner_of(&self, place: &Place, entry: &Entry) -> io::Result<Owner> {
        if let Some(owner) = entry.owner() {
            return Ok(owner);
        }
        Ok(place.status()?.map_or_else(ours, |s| Owner {
            uid: s.uid,
            gid: s.gid,
        }))
    }

    /// Every path beneath the directory `dir` as check mode sees it, with
    /// what it holds, parents before their children.
    fn subtree(&self, dir: &Place) -> io::Result<Vec<(PathBuf, Entry)>> {
        let mut found = Vec::new();
        let mut todo = vec![self.child_places(dir)?];
        while let Some(children) = todo.pop() {
            for child in children {
                if found.len() >= MAX_MOVED {
                    return Err(io::Error::other(format!(
                        "check mode follows the renaming of a directory of at most {MAX_MOVED} entries"
                    )));
                }
                let entry = self.entry(&child)?;
                if matches!(entry, Entry::Dir { .. }) {
                    todo.push(self.child_places(&child)?);
                }
                found.push((child.path(), entry));
            }
        }
        Ok(found)
    }

    /// The places of the entries of the directory `dir`.
    fn child_places(&self, dir: &Place) -> io::Result<Vec<Place>> {
        self.list_dir(dir, u64::MAX)?
            .into_iter()
            .map(|listed| dir.child(&listed.name))
            .collect()
    }

    /// Whether this form or an earlier one changed `place` in check mode
    /// (else check mode sees it as it is on disk).
    fn changed(&self, place: &Place) -> bool {
        let path = place.path();
        self.recorder.current(&path).is_some() || self.overlay.contains(&path)
    }

    /// Refuse as the disk would when the directory holding `place` does
    /// not (or would not) exist, or is a file.
    fn parent_must_be_dir(&self, place: &Place) -> io::Result<()> {
        // None: `/`, or the granted directory itself, which is open.
        match place
            .parent()?
            .map(|parent| self.entry(&parent))
            .transpose()?
        {
            Some(Entry::Absent) => Err(errno(libc::ENOENT)),
            Some(Entry::File { .. }) => Err(errno(libc::ENOTDIR)),
            _ => Ok(()),
        }
    }
}

impl FileBackend for Check {
    fn read(&self, place: &Place, limit: u64) -> io::Result<Vec<u8>> {
        let through = self.through_made_links(place)?;
        let place = through.as_ref().unwrap_or(place);
        let followed = self.followed(place)?;
        let place = followed.as_ref().unwrap_or(place);
        match self.entry(place)? {
            Entry::File { content, .. } if content.len() as u64 > limit => {
                Err(TooLarge::error(limit))
            }
            Entry::File { content, .. } => Ok(content),
            Entry::Absent => Err(errno(libc::ENOENT)),
            Entry::Dir { .. } => Err(errno(libc::EISDIR)),
            Entry::Symlink { .. } => Err(errno(libc::ELOOP)),
            Entry::Other => place.read(limit),
        }
    }

    fn status(&self, place: &Place) -> io::Result<Option<Status>> {
        let through = self.through_made_links(place)?;
        let place = through.as_ref().unwrap_or(place);
        let on_disk = place.status()?;
        if !self.changed(place) {
            return Ok(on_disk);
        }
        let entry = self.entry(place)?;
        let owner = self.owner_of(place, &entry)?;
        // What check mode changed is seen as just modified, unless it holds
        // what the disk holds (its mode or owner changed, say).
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let same_as_disk = match (&entry, &on_disk) {
            (Entry::File { content, .. }, Some(s)) if s.is_file => place
                .read(content.len() as u64)
                .is_ok_and(|there| &there == content),
            (Entry::Dir { .. }, Some(s)) => s.is_dir,
            (Entry::Symlink { target, .. }, Some(s)) if s.is_symlink => place
                .read_link()
                .is_ok_and(|there| there.as_os_str() == target.as_str()),
            _ => false,
        };
        let mtime = match &on_disk {
            Some(s) if same_as_disk => s.mtime,
            _ => now,
        };
        // What check mode wrote is a new file, with one name.
        let dev = match &on_disk {
            Some(s) => s.dev,
            None => self.device_of(place)?,
        };
        let status = |is_dir, is_file, is_symlink, mode, size| Status {
            is_dir,
            is_file,
            is_symlink,
            mode,
            size,
            uid: owner.uid,
            gid: owner.gid,
            links: 1,
            mtime,
            dev,
        };
        Ok(match entry {
            Entry::Absent => None,
            Entry::Dir { mode, .. } => Some(status(true, false, false, mode, 0)),
            Entry::File { content, mode, .. } => {
                Some(status(false, true, false, mode, content.len() as u64))
            }
            Entry::Symlink { target, .. } => {
                Some(status(false, false, true, 0o777, target.len() as u64))
            }
            Entry::Other => on_disk,
        })
    }

    /// Refused where a real write would be: under a parent that is not (or
    /// would not be) a directory.
    fn write(&mut self, place: &Place, contents: &[u8], mode: Option<u32>) -> io::Result<()> {
        let through = self.through_made_links(place)?;
        let place = through.as_ref().unwrap_or(place);
        self.parent_must_be_dir(place)?;
        let before = self.entry(place)?;
        let mode = mode
            .or(match &before {
                Entry::File { mode, .. } => Some(*mode),
                _ => None,
            })
            .unwrap_or(0o644);
        // A file replaced keeps its owner; what replaces a link is new.
        let owner = match &before {
            Entry::File { owner, .. } | Entry::Dir { owner, .. } => *owner,
            Entry::Other => None,
            Entry::Symlink { .. } | Entry::Absent => Some(ours()),
        };
        let after = Entry::File {
            content: contents.to_vec(),
            mode,
            owner,
        };
        self.recorder.record(&place.path(), before, after);
        Ok(())
    }

    fn remove(&mut self, place: &Place) -> io::Result<()> {
        let through = self.through_made_links(place)?;
        let place = through.as_ref().unwrap_or(place);
        let before = self.entry(place)?;
        if before == Entry::Absent {
            return Err(errno(libc::ENOENT));
        }
        self.recorder.record(&place.path(), before, Entry::Absent);
        Ok(())
    }

    fn mkdir_all(&mut self, place: &Place, mode: u32) -> io::Result<()> {
        let through = self.through_made_links(place)?;
        let place = through.as_ref().unwrap_or(place);
        let mut missing = Vec::new();
        let mut parent: Option<Place> = None;
        // Up from `place`, through its confined parents, to the first that exists.
        loop {
            let dir = parent.as_ref().unwrap_or(place);
            match self.entry(dir)? {
                Entry::Absent => missing.push(dir.path()),
                Entry::File { .. } if parent.is_none() => return Err(errno(libc::EEXIST)),
                Entry::File { .. } => return Err(errno(libc::ENOTDIR)),
                _ => break,
            }
            match dir.parent()? {
                Some(up) => parent = Some(up),
                None => break,
            }
        }
        for dir in missing.into_iter().rev() {
            self.recorder.record(
                &dir,
                Entry::Absent,
                Entry::Dir {
                    mode,
                    owner: Some(ours()),
                },
            );
        }
        Ok(())
    }

    /// Refused as on disk for a file with other names, unless check mode
    /// wrote it anew (a write replaces the file, leaving the other names).
    fn chmod(&mut self, place: &Place, mode: u32) -> io::Result<()> {
        let through = self.through_made_links(place)?;
        let place = through.as_ref().unwrap_or(place);
        if !self.changed(place) {
            place.refuse_shared("mode")?;
        }
        // A link's mode is not changed: what it leads to is.
        let followed = self.followed(place)?;
        let place = followed.as_ref().unwrap_or(place);
        let before = self.entry(place)?;
        let after = match &before {
            Entry::File { content, owner, .. } => Entry::File {
                content: content.clone(),
                mode,
                owner: *owner,
            },
            Entry::Dir { owner, .. } => Entry::Dir {
                mode,
                owner: *owner,
            },
            Entry::Absent => return Err(errno(libc::ENOENT)),
            Entry::Symlink { .. } => return Err(errno(libc::ELOOP)),
            Entry::Other => return Ok(()),
        };
        self.recorder.record(&place.path(), before, after);
        Ok(())
    }

    /// Refused as on disk for a file with other names, unless check mode
    /// made it anew; a link's own owner. Setting the owner it has already
    /// changes nothing (the disk's call is not even made).
    fn chown(&mut self, place: &Place, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
        let through = self.through_made_links(place)?;
        let place = through.as_ref().unwrap_or(place);
        if !self.changed(place) {
            place.refuse_shared("owner")?;
        }
        let before = self.entry(place)?;
        match before {
            Entry::Absent => return Err(errno(libc::ENOENT)),
            Entry::Other => return Ok(()),
            _ => {}
        }
        let current = self.owner_of(place, &before)?;
        let new = Owner {
            uid: uid.unwrap_or(current.uid),
            gid: gid.unwrap_or(current.gid),
        };
        if new == current {
            return Ok(());
        }
        let after = match before.clone().owned_by(new) {
            Entry::File {
                content,
                mode,
                owner,
            } => Entry::File {
                content,
                mode: mode_after_chown(mode),
                owner,
            },
            other => other,
        };
        self.recorder.record(&place.path(), before, after);
        Ok(())
    }

    fn symlink(&mut self, place: &Place, target: &Path) -> io::Result<()> {
        let through = self.through_made_links(place)?;
        let place = through.as_ref().unwrap_or(place);
        self.parent_must_be_dir(place)?;
        let before = self.entry(place)?;
        if before != Entry::Absent {
            return Err(errno(libc::EEXIST));
        }
        let target = target
            .to_str()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the target is no text"))?;
        let after = Entry::Symlink {
            target: target.to_owned(),
            owner: Some(ours()),
        };
        self.recorder.record(&place.path(), before, after);
        Ok(())
    }

    fn read_link(&self, place: &Place) -> io::Result<PathBuf> {
        let through = self.through_made_links(place)?;
        let place = through.as_ref().unwrap_or(place);
        match self.entry(place)? {
            Entry::Symlink { target, .. } => Ok(target.into()),
            Entry::Absent => Err(errno(libc::ENOENT)),
            Entry::Other => place.read_link(),
            Entry::File { .. } | Entry::Dir { .. } => Err(errno(libc::EINVAL)),
        }
    }

    /// The directory as on disk, with what this form and earlier ones
    /// would have made or removed in it.
    fn list_dir(&self, place: &Place, limit: u64) -> io::Result<Vec<Listed>> {
        let through = self.through_made_links(place)?;
        let place = through.as_ref().unwrap_or(place);
        let followed = self.followed(place)?;
        let place = followed.as_ref().unwrap_or(place);
        let on_disk = match self.entry(place)? {
            Entry::Absent => return Err(errno(libc::ENOENT)),
            Entry::File { .. } => return Err(errno(libc::ENOTDIR)),
            // Made by check mode, or there already.
            Entry::Dir { .. } => match place.status()? {
                Some(s) if s.is_dir => place.list_dir(limit)?,
                _ => Vec::new(),
            },
            Entry::Symlink { .. } => return Err(errno(libc::ELOOP)),
            Entry::Other => place.list_dir(limit)?,
        };
        let mut listed: BTreeMap<OsString, Kind> = on_disk
            .into_iter()
            .map(|listed| (listed.name, listed.kind))
            .collect();
        let dir = place.path();
        let changed: Vec<OsString> = self
            .recorder
            .paths_beneath(&dir)
            .chain(self.overlay.paths_beneath(&dir))
            .filter(|path| path.parent() == Some(dir.as_path()))
            .filter_map(|path| path.file_name().map(ToOwned::to_owned))
            .collect();
        for name in changed {
            match kind_of(&self.entry(&place.child(&name)?)?) {
                Some(kind) => listed.insert(name, kind),
                None => listed.remove(&name),
            };
        }
        let mut bytes = 0u64;
        listed
            .into_iter()
            .map(|(name, kind)| {
                bytes += name.len() as u64 + 16;
                if bytes > limit {
                    return Err(TooLarge::error(limit));
                }
                Ok(Listed { name, kind })
            })
            .collect()
    }

    fn reached(&self, place: &Place) -> io::Result<Option<Place>> {
        self.through_made_links(place)
    }

    /// As rename(2) would: a directory is moved with everything beneath it.
    fn rename(&mut self, from: &Place, to: &Place) -> io::Result<()> {
        let through_from = self.through_made_links(from)?;
        let from = through_from.as_ref().unwrap_or(from);
        let through_to = self.through_made_links(to)?;
        let to = through_to.as_ref().unwrap_or(to);
        let (from_path, to_path) = (from.path(), to.path());
        // The granted directory itself (or `/`) is no name in an open
        // directory: the disk refuses it as busy.
        if !from.is_named() || !to.is_named() {
            return Err(errno(libc::EBUSY));
        }
        if from_path == to_path {
            return Ok(());
        }
        let moved = self.entry(from)?;
        if moved == Entry::Absent {
            return Err(errno(libc::ENOENT));
        }
        self.parent_must_be_dir(to)?;
        // A rename never crosses file systems.
        if self.device_of(from)? != self.device_of(to)? {
            return Err(errno(libc::EXDEV));
        }
        let replaced = self.entry(to)?;
        let moving_dir = matches!(moved, Entry::Dir { .. });
        match (&replaced, moving_dir) {
            (Entry::Dir { .. }, _) => return Err(errno(libc::EISDIR)),
            (Entry::Absent, _) | (_, false) => {}
            (_, true) => return Err(errno(libc::ENOTDIR)),
        }
        if moving_dir && to_path.starts_with(&from_path) {
            return Err(errno(libc::EINVAL));
        }
        if moving_dir {
            for (path, entry) in self.subtree(from)? {
                let inside = path.strip_prefix(&from_path).map_err(io::Error::other)?;
                let new = to_path.join(inside);
                self.recorder.record(&path, entry.clone(), Entry::Absent);
                self.recorder.record(&new, Entry::Absent, entry);
            }
        }
        self.recorder
            .record(&from_path, moved.clone(), Entry::Absent);
        self.recorder.record(&to_path, replaced, moved);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::PathBuf;

    use super::*;

    /// A granted directory holding a file `motd`, and check mode over it.
    fn setup() -> (tempfile::TempDir, PathBuf, Check) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("grant");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("motd"), "old\n").unwrap();
        (dir, root, Check::default())
    }

    fn at(root: &Path, rel: &str) -> Place {
        Place::new(&root.join(rel), Some(root.to_owned())).unwrap()
    }

    fn listing(root: &Path) -> Vec<(String, Vec<u8>)> {
        let mut all: Vec<_> = walk(root)
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap_or_default();
                (p.display().to_string(), bytes)
            })
            .collect();
        all.sort();
        all
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                found.extend(walk(&path));
            }
            found.push(path);
        }
        found
    }

    #[test]
    fn writes_are_seen_by_later_reads_and_never_reach_the_disk() {
        let (_dir, root, mut check) = setup();
        let before = listing(&root);
        let motd = at(&root, "motd");
        assert_eq!(check.read(&motd, 100).unwrap(), b"old\n");
        check.write(&motd, b"new\n", None).unwrap();
        assert_eq!(check.read(&motd, 100).unwrap(), b"new\n");
        let status = check.status(&motd).unwrap().unwrap();
        assert_eq!((status.is_file, status.size), (true, 4));
        assert!(!check.write_if_changed(&motd, b"new\n", 0o644).unwrap());
        check.mkdir_all(&at(&root, "a/b"), 0o700).unwrap();
        check.write(&at(&root, "a/b/f"), b"x", Some(0o600)).unwrap();
        assert!(check.status(&at(&root, "a")).unwrap().unwrap().is_dir);
        check.chmod(&at(&root, "a/b/f"), 0o640).unwrap();
        check.remove(&at(&root, "motd")).unwrap();
        assert_eq!(
            check
                .read(&at(&root, "motd"), 100)
                .unwrap_err()
                .raw_os_error(),
            Some(libc::ENOENT)
        );
        assert_eq!(listing(&root), before, "the disk is untouched");

        let changes = check.take_changes();
        let paths: Vec<_> = changes.iter().map(|c| c.path.clone()).collect();
        assert_eq!(
            paths,
            [
                root.join("a"),
                root.join("a/b"),
                root.join("a/b/f"),
                root.join("motd")
            ]
        );
        assert_eq!(
            changes[2].after,
            Entry::File {
                content: b"x".to_vec(),
                mode: 0o640,
                owner: Some(ours()),
            }
        );
        assert_eq!(
            changes[3].before,
            Entry::File {
                content: b"old\n".to_vec(),
                mode: 0o644,
                owner: Some(ours()),
            }
        );
        assert_eq!(changes[3].after, Entry::Absent);
        assert!(check.take_changes().is_empty(), "taken once");
    }

    #[test]
    fn a_granted_directory_check_mode_makes_holds_what_is_written_beneath_it() {
        let (dir, _, mut check) = setup();
        let granted = dir.path().join("linger");
        let ada = at(&granted, "ada");
        assert!(check.status(&ada).unwrap().is_none());
        assert_eq!(
            check.write(&ada, b"", None).unwrap_err().raw_os_error(),
            Some(libc::ENOENT),
            "no directory to write in, as on disk"
        );
        check.mkdir_all(&at(&granted, "sub"), 0o755).unwrap();
        check.write(&at(&granted, "ada"), b"x", None).unwrap();
        assert_eq!(check.read(&at(&granted, "ada"), 10).unwrap(), b"x");
        let listed = check.list_dir(&at(&granted, "sub"), 100).unwrap();
        assert!(listed.is_empty());
        assert!(!granted.exists(), "the disk is untouched");
        let paths: Vec<_> = check.take_changes().into_iter().map(|c| c.path).collect();
        assert_eq!(
            paths,
            [granted.clone(), granted.join("ada"), granted.join("sub")]
        );
    }

    #[test]
    fn refusals_are_the_errors_the_disk_would_give() {
        // Each refused call, in check mode and then for real on the same
        // tree, with a file that check mode made and one that was there.
        let (_dir, root, mut check) = setup();
        check.write(&at(&root, "made"), b"x", None).unwrap();
        std::fs::write(root.join("made-real"), b"x").unwrap();
        let mut disk = crate::sandbox::files::Disk;
        type Call = fn(&mut dyn FileBackend, &Place) -> io::Result<()>;
        let calls: [(&str, &str, Call); 8] = [
            ("none/f", "none/f", |f, p| f.write(p, b"x", None)),
            ("motd/f", "motd/f", |f, p| f.write(p, b"x", None)),
            ("made/f", "made-real/f", |f, p| f.write(p, b"x", None)),
            ("motd", "motd", |f, p| f.mkdir_all(p, 0o755)),
            ("made/d", "made-real/d", |f, p| f.mkdir_all(p, 0o755)),
            ("none", "none", |f, p| f.remove(p)),
            ("none", "none", |f, p| f.chmod(p, 0o600)),
            ("none", "none", |f, p| f.read(p, 100).map(drop)),
        ];
        for (checked, real, call) in calls {
            let code = |e: io::Error| e.raw_os_error();
            let in_check = call(&mut check, &at(&root, checked)).map_err(code);
            let on_disk = call(&mut disk, &at(&root, real)).map_err(code);
            assert!(in_check.is_err(), "{checked}: refused");
            assert_eq!(in_check, on_disk, "{checked} as {real}");
        }
        check.mkdir_all(&at(&root, "d"), 0o755).unwrap();
        assert_eq!(
            check.read(&at(&root, "d"), 100).unwrap_err().raw_os_error(),
            Some(libc::EISDIR)
        );
    }

    #[test]
    fn a_file_with_other_names_is_refused_as_on_disk_until_check_mode_writes_it_anew() {
        let (dir, root, mut check) = setup();
        std::fs::hard_link(root.join("motd"), dir.path().join("motd-elsewhere")).unwrap();
        let motd = at(&root, "motd");
        assert_eq!(check.status(&motd).unwrap().unwrap().links, 2);
        let refused = check.chmod(&motd, 0o600).unwrap_err();
        assert_eq!(
            crate::sandbox::place::SharedFile::of(&refused)
                .unwrap()
                .links,
            2
        );
        // Written anew (a write replaces the file): one name, its own mode.
        check.write(&motd, b"new\n", None).unwrap();
        assert_eq!(check.status(&motd).unwrap().unwrap().links, 1);
        check.chmod(&motd, 0o600).unwrap();
        // So for the forms after this one too.
        let mut next = Check::default();
        next.absorb(&check.take_changes()).unwrap();
        let status = next.status(&motd).unwrap().unwrap();
        assert_eq!((status.links, status.mode), (1, 0o600));
        next.chmod(&motd, 0o640).unwrap();
        assert_eq!(std::fs::metadata(root.join("motd")).unwrap().nlink(), 2);
    }

    #[test]
    fn modes_are_kept_and_changed_as_on_disk() {
        let (_dir, root, mut check) = setup();
        std::fs::set_permissions(root.join("motd"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        std::fs::create_dir(root.join("dir")).unwrap();
        std::fs::set_permissions(root.join("dir"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("motd", root.join("link")).unwrap();
        // A rewrite without a mode keeps the file's.
        check.write(&at(&root, "motd"), b"new\n", None).unwrap();
        // A directory's mode is recorded as a change of the directory.
        check.chmod(&at(&root, "dir"), 0o700).unwrap();
        // A symlink unchanged is seen as on disk.
        assert!(
            check
                .status(&at(&root, "link"))
                .unwrap()
                .unwrap()
                .is_symlink
        );
        let changes = check.take_changes();
        let paths: Vec<_> = changes.iter().map(|c| c.path.clone()).collect();
        assert_eq!(paths, [root.join("dir"), root.join("motd")]);
        assert_eq!(
            (&changes[0].before, &changes[0].after),
            (
                &Entry::Dir {
                    mode: 0o755,
                    owner: Some(ours())
                },
                &Entry::Dir {
                    mode: 0o700,
                    owner: Some(ours())
                }
            )
        );
        assert_eq!(
            changes[1].after,
            Entry::File {
                content: b"new\n".to_vec(),
                mode: 0o600,
                owner: Some(ours()),
            }
        );
    }

    #[test]
    fn later_forms_and_chroots_see_what_earlier_ones_would_change() {
        let (_dir, root, mut check) = setup();
        check.write(&at(&root, "motd"), b"first\n", None).unwrap();
        let changes = check.take_changes();
        // The process that forks forms takes in each form's changes.
        let mut next = Check::default();
        next.absorb(&changes).unwrap();
        assert_eq!(next.read(&at(&root, "motd"), 100).unwrap(), b"first\n");

        // A subdeployment chrooted at `root` sees them in its own paths...
        next.write(&at(&root, "issue"), b"i\n", None).unwrap();
        let inside = next.view_beneath(&root).unwrap();
        let motd = inside.get(Path::new("/motd")).unwrap().unwrap();
        assert_eq!(
            motd,
            Entry::File {
                content: b"first\n".to_vec(),
                mode: 0o644,
                owner: Some(ours()),
            }
        );
        assert!(inside.get(Path::new("/issue")).unwrap().is_some());
        // ...and what it would change comes back in the host's paths.
        next.take_changes();
        next.record_beneath(
            &root,
            &[FileChange {
                path: "/etc/hostname".into(),
                before: Entry::Absent,
                after: Entry::Dir {
                    mode: 0o755,
                    owner: None,
                },
            }],
        );
        assert_eq!(next.take_changes()[0].path, root.join("etc/hostname"));
    }
}
