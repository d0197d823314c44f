//! What a directory tree holds ([`listing`]), which paths differ between two
//! listings ([`differing`]), and what a check run predicts: each form's
//! status, nested forms included, and the paths it would change. Together
//! they let a test hold `--check` to exactly what the deploy then does.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::Run;

/// What a path holds: its kind (`dir`, `file`, `link`, `other`), mode, owner,
/// group, and its contents or link target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: &'static str,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub body: Vec<u8>,
}

/// Trees of a root that the kernel or a running system fills, not a deploy.
const VOLATILE: [&str; 5] = ["proc", "sys", "dev", "run", "tmp"];

/// Every path beneath `root`, itself included, with its entry; symlinks are
/// not followed, and the kernel's and volatile trees of a root are skipped.
pub fn listing(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let (kind, body) = if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            ("link", target.into_os_string().into_encoded_bytes())
        } else if meta.is_dir() {
            let volatile = path.parent() == Some(root)
                && VOLATILE.iter().any(|v| path.file_name().unwrap() == *v);
            if !volatile {
                for entry in std::fs::read_dir(&path).unwrap() {
                    stack.push(entry.unwrap().path());
                }
            }
            ("dir", Vec::new())
        } else if meta.is_file() {
            ("file", std::fs::read(&path).unwrap())
        } else {
            ("other", Vec::new())
        };
        let entry = Entry {
            kind,
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
            body,
        };
        out.insert(path, entry);
    }
    out
}

/// The paths whose entries differ between two listings, or that only one has.
pub fn differing(
    before: &BTreeMap<PathBuf, Entry>,
    after: &BTreeMap<PathBuf, Entry>,
) -> BTreeSet<PathBuf> {
    before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .cloned()
        .collect()
}

impl Run {
    /// The statuses of the forms and of the forms nested in them, in order,
    /// with `changed` read as `would-change`, so a deploy compares with its
    /// check.
    pub fn statuses_as_checked(&self) -> Vec<String> {
        fn walk(status: &serde_json::Value, nested: &serde_json::Value, out: &mut Vec<String>) {
            let status = status.as_str().unwrap();
            out.push(
                if status == "changed" {
                    "would-change"
                } else {
                    status
                }
                .to_owned(),
            );
            for n in nested.as_array().into_iter().flatten() {
                walk(&n["outcome"]["status"], &n["outcome"]["nested"], out);
            }
        }
        let mut out = Vec::new();
        for form in self.forms() {
            walk(&form["status"], &form["nested"], &mut out);
        }
        out
    }

    /// The paths the forms say they would change (or changed): a form's
    /// changes include its nested forms', in the host's paths. Each is taken
    /// under `root` when given as a path inside it (as a deploy through a
    /// `chroot:` hop reports them).
    pub fn changed_paths(&self, root: &Path) -> BTreeSet<PathBuf> {
        self.forms()
            .iter()
            .flat_map(|f| f["changes"].as_array().cloned().unwrap_or_default())
            .map(|c| PathBuf::from(c["path"].as_str().unwrap()))
            .map(|p| {
                if p.starts_with(root) {
                    p
                } else {
                    root.join(p.strip_prefix("/").unwrap_or(&p))
                }
            })
            .collect()
    }
}
