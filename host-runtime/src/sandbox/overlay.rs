//! What check mode (`--check`) knows of files: what a path holds or would
//! hold ([`Entry`]), one form's change to a path ([`FileChange`], reported
//! with the form's outcome for `--diff`), the paths earlier forms would have
//! changed ([`Overlay`]), the changes of the form running ([`Recorder`]), and
//! the steps check mode could not take, after which a failure is not known
//! to be one ([`Unknowable`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::sys::memfd::{MFdFlags, memfd_create};

use serde::{Deserialize, Serialize};

/// Who owns a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// What a path holds (or would hold). The owner is none where it is not
/// known (then it is as on disk, or the runtime's for what is new).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Entry {
    File {
        #[serde(with = "bytes_as_text")]
        content: Vec<u8>,
        mode: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<Owner>,
    },
    Dir {
        mode: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<Owner>,
    },
    Symlink {
        target: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<Owner>,
    },
    Absent,
    /// Something check mode does not model (a device, a FIFO, a link whose
    /// target is no text): as on disk.
    Other,
}

impl Entry {
    /// Its owner, where known.
    pub fn owner(&self) -> Option<Owner> {
        match self {
            Entry::File { owner, .. } | Entry::Dir { owner, .. } | Entry::Symlink { owner, .. } => {
                *owner
            }
            Entry::Absent | Entry::Other => None,
        }
    }

    /// The same, owned by `new` (nothing for what has no owner to set).
    pub fn owned_by(self, new: Owner) -> Entry {
        match self {
            Entry::File { content, mode, .. } => Entry::File {
                content,
                mode,
                owner: Some(new),
            },
            Entry::Dir { mode, .. } => Entry::Dir {
                mode,
                owner: Some(new),
            },
            Entry::Symlink { target, .. } => Entry::Symlink {
                target,
                owner: Some(new),
            },
            other => other,
        }
    }
}

#[cfg(test)]
impl Entry {
    /// A text file of mode 0644, for tests.
    pub(crate) fn text(text: &str) -> Entry {
        Entry::File {
            content: text.as_bytes().to_vec(),
            mode: 0o644,
            owner: None,
        }
    }
}

/// One path a form would change: what it held before, what it would hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: PathBuf,
    pub before: Entry,
    pub after: Entry,
}

impl FileChange {
    /// This change, made by a process chrooted at `root`, in the paths of
    /// the process outside.
    pub fn seen_outside(&self, root: &Path) -> FileChange {
        let inside = self.path.strip_prefix("/").unwrap_or(&self.path);
        FileChange {
            path: if inside.as_os_str().is_empty() {
                root.to_owned()
            } else {
                root.join(inside)
            },
            ..self.clone()
        }
    }
}

/// A step check mode could not take as the deploy would: what follows it
/// may fail in check mode only because of that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "step", content = "command")]
pub enum Unknowable {
    /// A command that may change things, which check mode did not run.
    NotRun(String),
    /// A read-only command, run on the host as it is: without the files
    /// check mode would have changed before it.
    RanWithoutChanges(String),
}

impl std::fmt::Display for Unknowable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unknowable::NotRun(command) => write!(f, "did not run `{command}`"),
            Unknowable::RanWithoutChanges(command) => write!(
                f,
                "ran `{command}` without the changes check mode would have made"
            ),
        }
    }
}

/// Most steps check mode keeps of the forms before: the latest.
pub const MAX_UNKNOWABLE: usize = 16;

/// The paths check mode changed so far, as they would be.
///
/// File contents are kept out of this process's memory, in a file of their
/// own in RAM (a memfd) that copies of the overlay share: the overlay lives
/// in the process every form is forked from, and a fork costs in proportion
/// to the memory of the process forked, so a form must not pay for the
/// megabytes earlier forms wrote.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    entries: BTreeMap<PathBuf, Kept>,
    /// Where file contents are; made when the first one comes.
    contents: Option<Arc<File>>,
    /// Commands earlier forms would have run and check mode did not, the
    /// latest [`MAX_UNKNOWABLE`], oldest first.
    not_run: Vec<Unknowable>,
}

/// An entry, its contents (if a file, or a symlink's target) as a range
/// of the contents file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    File {
        at: u64,
        len: u64,
        mode: u32,
        owner: Option<Owner>,
    },
    Dir {
        mode: u32,
        owner: Option<Owner>,
    },
    Symlink {
        at: u64,
        len: u64,
        owner: Option<Owner>,
    },
    Absent,
    Other,
}

impl Overlay {
    /// What check mode says is at `path`, if it changed.
    pub fn get(&self, path: &Path) -> io::Result<Option<Entry>> {
        let Some(kept) = self.entries.get(path) else {
            return Ok(None);
        };
        Ok(Some(match *kept {
            Kept::File {
                at,
                len,
                mode,
                owner,
            } => Entry::File {
                content: self.kept(at, len)?,
                mode,
                owner,
            },
            Kept::Dir { mode, owner } => Entry::Dir { mode, owner },
            Kept::Symlink { at, len, owner } => Entry::Symlink {
                target: String::from_utf8(self.kept(at, len)?).map_err(io::Error::other)?,
                owner,
            },
            Kept::Absent => Entry::Absent,
            Kept::Other => Entry::Other,
        }))
    }

    /// The target of the symlink check mode made at `path`, if it made one
    /// there (without reading what it made anywhere else).
    pub fn symlink_target(&self, path: &Path) -> io::Result<Option<String>> {
        match self.entries.get(path) {
            Some(Kept::Symlink { at, len, .. }) => Ok(Some(
                String::from_utf8(self.kept(*at, *len)?).map_err(io::Error::other)?,
            )),
            _ => Ok(None),
        }
    }

    /// The paths beneath `dir` check mode changed.
    pub fn paths_beneath<'a>(&'a self, dir: &'a Path) -> impl Iterator<Item = &'a Path> + 'a {
        // Paths order by component: those beneath `dir` follow it, together.
        self.entries
            .range(dir.to_owned()..)
            .map(|(path, _)| path.as_path())
            .skip_while(move |path| *path == dir)
            .take_while(move |path| path.starts_with(dir))
    }

    /// `len` bytes of the contents file at `at`.
    fn kept(&self, at: u64, len: u64) -> io::Result<Vec<u8>> {
        let mut content = vec![0; usize::try_from(len).map_err(io::Error::other)?];
        self.contents
            .as_ref()
            .ok_or_else(|| io::Error::other("check mode lost its file contents"))?
            .read_exact_at(&mut content, at)?;
        Ok(content)
    }

    /// Whether check mode changed `path`.
    pub fn contains(&self, path: &Path) -> bool {
        self.entries.contains_key(path)
    }

    /// What a process chrooted at `root` sees of this overlay, in its paths.
    pub fn seen_from(&self, root: &Path) -> Overlay {
        let entries = self
            .entries
            .iter()
            .filter_map(|(path, kept)| {
                let inside = path.strip_prefix(root).ok()?;
                Some((Path::new("/").join(inside), *kept))
            })
            .collect();
        Overlay {
            entries,
            contents: self.contents.clone(),
            not_run: self.not_run.clone(),
        }
    }

    /// Whether check mode changed any path.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Take in steps check mode did not take, for the forms after them.
    pub fn note_unknowable(&mut self, steps: impl IntoIterator<Item = Unknowable>) {
        for step in steps {
            if !self.not_run.contains(&step) {
                self.not_run.push(step);
            }
        }
        let over = self.not_run.len().saturating_sub(MAX_UNKNOWABLE);
        self.not_run.drain(..over);
    }

    /// The steps earlier forms did not take, oldest first.
    pub fn unknowable(&self) -> &[Unknowable] {
        &self.not_run
    }

    /// Take in what forms would have changed.
    pub fn apply(&mut self, changes: &[FileChange]) -> io::Result<()> {
        for change in changes {
            let kept = match &change.after {
                Entry::File {
                    content,
                    mode,
                    owner,
                } => {
                    let (at, len) = self.keep(content)?;
                    Kept::File {
                        at,
                        len,
                        mode: *mode,
                        owner: *owner,
                    }
                }
                Entry::Dir { mode, owner } => Kept::Dir {
                    mode: *mode,
                    owner: *owner,
                },
                Entry::Symlink { target, owner } => {
                    let (at, len) = self.keep(target.as_bytes())?;
                    Kept::Symlink {
                        at,
                        len,
                        owner: *owner,
                    }
                }
                Entry::Absent => Kept::Absent,
                Entry::Other => Kept::Other,
            };
            self.entries.insert(change.path.clone(), kept);
        }
        Ok(())
    }

    /// Append `content` to the contents file; where it is. Copies of the
    /// overlay in other processes share the file, and only one process runs
    /// a form at a time: each appends at the file's true end, so nobody
    /// writes over what another keeps.
    fn keep(&mut self, content: &[u8]) -> io::Result<(u64, u64)> {
        let file = match &self.contents {
            Some(file) => file,
            None => {
                let fd = memfd_create(c"consfig-check", MFdFlags::MFD_CLOEXEC)?;
                self.contents.insert(Arc::new(File::from(fd)))
            }
        };
        let at = file.metadata()?.len();
        file.write_all_at(content, at)?;
        Ok((at, content.len() as u64))
    }
}

/// The changes a form makes in check mode, kept per path: the first
/// `before`, the last `after`; a path changed back to how it was drops out.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    changes: BTreeMap<PathBuf, FileChange>,
}

impl Recorder {
    pub fn record(&mut self, path: &Path, before: Entry, after: Entry) {
        let entry = self
            .changes
            .entry(path.to_owned())
            .or_insert_with(|| FileChange {
                path: path.to_owned(),
                before,
                after: Entry::Other,
            });
        entry.after = after;
    }

    /// The form's changes so far, in path order, leaving none behind.
    pub fn take(&mut self) -> Vec<FileChange> {
        std::mem::take(&mut self.changes)
            .into_values()
            .filter(|c| c.before != c.after)
            .collect()
    }

    /// Whether the form changed nothing so far.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The form's changes so far, leaving them in place.
    pub fn snapshot(&self) -> Vec<FileChange> {
        self.changes.values().cloned().collect()
    }

    /// The state check mode gives `path` now, if this form changed it.
    pub fn current(&self, path: &Path) -> Option<&Entry> {
        self.changes.get(path).map(|c| &c.after)
    }

    /// The paths beneath `dir` this form changed.
    pub fn paths_beneath<'a>(&'a self, dir: &'a Path) -> impl Iterator<Item = &'a Path> + 'a {
        self.changes
            .range(dir.to_owned()..)
            .map(|(path, _)| path.as_path())
            .skip_while(move |path| *path == dir)
            .take_while(move |path| path.starts_with(dir))
    }
}

/// File contents travel as text when they are UTF-8 (readable in `--json`),
/// else as base64 under `base64:`.
mod bytes_as_text {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(bytes) {
            Ok(text) if !text.starts_with("base64:") => s.serialize_str(text),
            _ => s.serialize_str(&format!(
                "base64:{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        match text.strip_prefix("base64:") {
            Some(encoded) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(serde::de::Error::custom),
            None => Ok(text.into_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Entry {
        Entry::text(text)
    }

    #[test]
    fn keeps_first_before_and_last_after() {
        let mut recorder = Recorder::default();
        let p = Path::new("/etc/motd");
        recorder.record(p, file("old\n"), file("mid\n"));
        recorder.record(p, file("mid\n"), file("new\n"));
        recorder.record(Path::new("/tmp/x"), Entry::Absent, file("x"));
        recorder.record(Path::new("/tmp/x"), file("x"), Entry::Absent);
        let changes = recorder.take();
        assert_eq!(
            changes.len(),
            1,
            "a path put back is no change: {changes:?}"
        );
        assert_eq!(changes[0].before, file("old\n"));
        assert_eq!(changes[0].after, file("new\n"));
    }

    #[test]
    fn copies_share_the_contents_file_without_writing_over_each_other() {
        let change = |path: &str, after: Entry| FileChange {
            path: path.into(),
            before: Entry::Absent,
            after,
        };
        let mut first = Overlay::default();
        first.apply(&[change("/a", file("one"))]).unwrap();
        let mut copy = first.clone();
        copy.apply(&[change("/b", file("two")), change("/a", Entry::Absent)])
            .unwrap();
        first
            .apply(&[
                change("/c", file("three")),
                change(
                    "/d",
                    Entry::Dir {
                        mode: 0o700,
                        owner: None,
                    },
                ),
            ])
            .unwrap();
        assert_eq!(first.get(Path::new("/a")).unwrap(), Some(file("one")));
        assert_eq!(first.get(Path::new("/c")).unwrap(), Some(file("three")));
        assert_eq!(first.get(Path::new("/b")).unwrap(), None);
        assert_eq!(copy.get(Path::new("/b")).unwrap(), Some(file("two")));
        assert_eq!(copy.get(Path::new("/a")).unwrap(), Some(Entry::Absent));
        assert_eq!(
            first.get(Path::new("/d")).unwrap(),
            Some(Entry::Dir {
                mode: 0o700,
                owner: None,
            })
        );
        let empty = Entry::File {
            content: Vec::new(),
            mode: 0o600,
            owner: None,
        };
        first.apply(&[change("/e", empty.clone())]).unwrap();
        assert_eq!(first.get(Path::new("/e")).unwrap(), Some(empty));
    }

    #[test]
    fn a_chroot_sees_the_overlay_beneath_it_and_its_changes_map_back() {
        let mut overlay = Overlay::default();
        let change = |path: &str, text: &str| FileChange {
            path: path.into(),
            before: Entry::Absent,
            after: file(text),
        };
        overlay
            .apply(&[change("/srv/c1/etc/motd", "in"), change("/etc/motd", "out")])
            .unwrap();
        let inside = overlay.seen_from(Path::new("/srv/c1"));
        assert_eq!(
            inside.get(Path::new("/etc/motd")).unwrap(),
            Some(file("in"))
        );
        assert_eq!(inside.entries.len(), 1, "nothing from outside the chroot");

        let root = Path::new("/srv/c1");
        assert_eq!(
            change("/etc/issue", "x").seen_outside(root).path,
            Path::new("/srv/c1/etc/issue")
        );
        assert_eq!(
            change("/", "x").seen_outside(root).path.as_os_str(),
            "/srv/c1"
        );
    }

    #[test]
    fn contents_round_trip_as_text_or_base64() {
        for entry in [
            file("plain"),
            Entry::File {
                content: vec![0, 159, 146, 150],
                mode: 0o600,
                owner: Some(Owner { uid: 0, gid: 33 }),
            },
            Entry::Symlink {
                target: "../releases/2".into(),
                owner: None,
            },
        ] {
            let json = serde_json::to_string(&entry).unwrap();
            assert_eq!(
                serde_json::from_str::<Entry>(&json).unwrap(),
                entry,
                "{json}"
            );
        }
    }

    #[test]
    fn text_that_looks_encoded_is_encoded_itself() {
        let entry = file("base64:aGk=");
        let json = serde_json::to_string(&entry).unwrap();
        assert!(!json.contains("\"base64:aGk=\""), "{json}");
        assert_eq!(serde_json::from_str::<Entry>(&json).unwrap(), entry);
        assert!(
            serde_json::to_string(&file("plain"))
                .unwrap()
                .contains("\"plain\"")
        );
    }

    #[test]
    fn links_and_owners_are_kept_and_paths_beneath_a_directory_found() {
        let owner = Some(Owner { uid: 33, gid: 33 });
        let link = Entry::Symlink {
            target: "../releases/2".into(),
            owner,
        };
        let dir = Entry::Dir { mode: 0o750, owner };
        let mut overlay = Overlay::default();
        overlay
            .apply(&[
                FileChange {
                    path: "/srv/app/current".into(),
                    before: Entry::Absent,
                    after: link.clone(),
                },
                FileChange {
                    path: "/srv/app".into(),
                    before: Entry::Absent,
                    after: dir.clone(),
                },
                FileChange {
                    path: "/srv/app/releases/2/f".into(),
                    before: Entry::Absent,
                    after: file("x"),
                },
                FileChange {
                    path: "/srv/apple".into(),
                    before: Entry::Absent,
                    after: file("y"),
                },
            ])
            .unwrap();
        assert_eq!(
            overlay.get(Path::new("/srv/app/current")).unwrap(),
            Some(link)
        );
        assert_eq!(overlay.get(Path::new("/srv/app")).unwrap(), Some(dir));
        assert_eq!(
            overlay
                .symlink_target(Path::new("/srv/app/current"))
                .unwrap(),
            Some("../releases/2".to_owned())
        );
        assert_eq!(
            overlay.symlink_target(Path::new("/srv/apple")).unwrap(),
            None
        );
        let beneath: Vec<&Path> = overlay.paths_beneath(Path::new("/srv/app")).collect();
        assert_eq!(
            beneath,
            [
                Path::new("/srv/app/current"),
                Path::new("/srv/app/releases/2/f")
            ]
        );
        let mut recorder = Recorder::default();
        recorder.record(Path::new("/a/b"), Entry::Absent, file("1"));
        recorder.record(
            Path::new("/a"),
            Entry::Absent,
            Entry::Dir {
                mode: 0o755,
                owner: None,
            },
        );
        recorder.record(Path::new("/ab"), Entry::Absent, file("2"));
        let beneath: Vec<&Path> = recorder.paths_beneath(Path::new("/a")).collect();
        assert_eq!(beneath, [Path::new("/a/b")]);
    }
}
