//! Check mode's file backend: writes, removals, new directories and modes go
//! to an overlay instead of the disk, and reads see the overlay first.
//!
//! The overlay holds what earlier forms would have changed. It lives in the
//! process that forks each form (the control child), which takes in every
//! form's changes after it ran, so a form inherits it with its copy of the
//! process and never receives it through a pipe. Refusals are the errors the
//! disk would give (ENOENT, EEXIST, EISDIR), as `io::Error`s.

use std::io;
use std::path::Path;

use super::bounded::TooLarge;
use super::files::{FileBackend, our_ids};
use super::overlay::{Entry, FileChange, Overlay, Recorder, Unknowable};
use super::place::{Place, Status};

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
        Ok(match place.status()? {
            None => Entry::Absent,
            Some(s) if s.is_dir => Entry::Dir { mode: s.mode },
            Some(s) if s.is_file => match place.read(MAX_KEPT) {
                Ok(content) => Entry::File {
                    content,
                    mode: s.mode,
                },
                Err(_) => Entry::Other,
            },
            Some(_) => Entry::Other,
        })
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
        match self.entry(place)? {
            Entry::File { content, .. } if content.len() as u64 > limit => {
                Err(TooLarge::error(limit))
            }
            Entry::File { content, .. } => Ok(content),
            Entry::Absent => Err(errno(libc::ENOENT)),
            Entry::Dir { .. } => Err(errno(libc::EISDIR)),
            Entry::Other => place.read(limit),
        }
    }

    fn status(&self, place: &Place) -> io::Result<Option<Status>> {
        let on_disk = place.status()?;
        let (uid, gid) = on_disk.as_ref().map_or_else(our_ids, |s| (s.uid, s.gid));
        // What check mode wrote is a new file, with one name.
        let links = match (&on_disk, self.changed(place)) {
            (Some(s), false) => s.links,
            _ => 1,
        };
        let status = |is_dir, is_file, mode, size| Status {
            is_dir,
            is_file,
            is_symlink: false,
            mode,
            size,
            uid,
            gid,
            links,
        };
        Ok(match self.entry(place)? {
            Entry::Absent => None,
            Entry::Dir { mode } => Some(status(true, false, mode, 0)),
            Entry::File { content, mode } => Some(status(false, true, mode, content.len() as u64)),
            Entry::Other => on_disk,
        })
    }

    /// Refused where a real write would be: under a parent that is not (or
    /// would not be) a directory.
    fn write(&mut self, place: &Place, contents: &[u8], mode: Option<u32>) -> io::Result<()> {
        self.parent_must_be_dir(place)?;
        let before = self.entry(place)?;
        let mode = mode
            .or(match &before {
                Entry::File { mode, .. } => Some(*mode),
                _ => None,
            })
            .unwrap_or(0o644);
        let after = Entry::File {
            content: contents.to_vec(),
            mode,
        };
        self.recorder.record(&place.path(), before, after);
        Ok(())
    }

    fn remove(&mut self, place: &Place) -> io::Result<()> {
        let before = self.entry(place)?;
        if before == Entry::Absent {
            return Err(errno(libc::ENOENT));
        }
        self.recorder.record(&place.path(), before, Entry::Absent);
        Ok(())
    }

    fn mkdir_all(&mut self, place: &Place, mode: u32) -> io::Result<()> {
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
            self.recorder
                .record(&dir, Entry::Absent, Entry::Dir { mode });
        }
        Ok(())
    }

    /// Refused as on disk for a file with other names, unless check mode
    /// wrote it anew (a write replaces the file, leaving the other names).
    fn chmod(&mut self, place: &Place, mode: u32) -> io::Result<()> {
        if !self.changed(place) {
            place.refuse_shared()?;
        }
        let before = self.entry(place)?;
        let after = match &before {
            Entry::File { content, .. } => Entry::File {
                content: content.clone(),
                mode,
            },
            Entry::Dir { .. } => Entry::Dir { mode },
            Entry::Absent => return Err(errno(libc::ENOENT)),
            Entry::Other => return Ok(()),
        };
        self.recorder.record(&place.path(), before, after);
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
                mode: 0o640
            }
        );
        assert_eq!(
            changes[3].before,
            Entry::File {
                content: b"old\n".to_vec(),
                mode: 0o644
            }
        );
        assert_eq!(changes[3].after, Entry::Absent);
        assert!(check.take_changes().is_empty(), "taken once");
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
        // A symlink is not modelled: seen as on disk.
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
            (&Entry::Dir { mode: 0o755 }, &Entry::Dir { mode: 0o700 })
        );
        assert_eq!(
            changes[1].after,
            Entry::File {
                content: b"new\n".to_vec(),
                mode: 0o600
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
                mode: 0o644
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
                after: Entry::Dir { mode: 0o755 },
            }],
        );
        assert_eq!(next.take_changes()[0].path, root.join("etc/hostname"));
    }
}
