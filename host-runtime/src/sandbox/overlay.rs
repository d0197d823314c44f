//! What check mode (`--check`) knows of files: what a path holds or would
//! hold ([`Entry`]), one form's change to a path ([`FileChange`], reported
//! with the form's outcome for `--diff`), the paths earlier forms would have
//! changed ([`Overlay`]), and the changes of the form running ([`Recorder`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What a path holds (or would hold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Entry {
    File {
        #[serde(with = "bytes_as_text")]
        content: Vec<u8>,
        mode: u32,
    },
    Dir {
        mode: u32,
    },
    Absent,
    /// Something check mode does not model (a symlink, a device): as on disk.
    Other,
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

/// The paths check mode changed so far, as they would be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlay {
    entries: BTreeMap<PathBuf, Entry>,
}

impl Overlay {
    pub fn get(&self, path: &Path) -> Option<&Entry> {
        self.entries.get(path)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What a process chrooted at `root` sees of this overlay, in its paths.
    pub fn seen_from(&self, root: &Path) -> Overlay {
        let entries = self
            .entries
            .iter()
            .filter_map(|(path, entry)| {
                let inside = path.strip_prefix(root).ok()?;
                Some((Path::new("/").join(inside), entry.clone()))
            })
            .collect();
        Overlay { entries }
    }

    /// Take in what forms would have changed.
    pub fn apply(&mut self, changes: &[FileChange]) {
        for change in changes {
            self.entries
                .insert(change.path.clone(), change.after.clone());
        }
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

    /// The form's changes so far, leaving them in place.
    pub fn snapshot(&self) -> Vec<FileChange> {
        self.changes.values().cloned().collect()
    }

    /// The state check mode gives `path` now, if this form changed it.
    pub fn current(&self, path: &Path) -> Option<&Entry> {
        self.changes.get(path).map(|c| &c.after)
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
        Entry::File {
            content: text.as_bytes().to_vec(),
            mode: 0o644,
        }
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
    fn a_chroot_sees_the_overlay_beneath_it_and_its_changes_map_back() {
        let mut overlay = Overlay::default();
        let change = |path: &str, text: &str| FileChange {
            path: path.into(),
            before: Entry::Absent,
            after: file(text),
        };
        overlay.apply(&[change("/srv/c1/etc/motd", "in"), change("/etc/motd", "out")]);
        let inside = overlay.seen_from(Path::new("/srv/c1"));
        assert_eq!(inside.get(Path::new("/etc/motd")), Some(&file("in")));
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
}
