//! What a build from Python or JavaScript sources is made of, and its key:
//! the SHA-256 of the kind of build and its tools' versions, then of each
//! tree that goes in (the WIT, the language's SDK, the module directory),
//! each as its files' sorted relative paths and bytes. Same key, same
//! module: a build whose key is cached is not made again.
//!
//! Trees are walked following symlinks (a symlinked directory is visited
//! once: a link back up ends no walk), as the tools read them, so that what
//! a build reads is what its key covers — a module's `wit/deps/consfig`
//! linking the contract, say. What is no source is skipped: entries whose
//! name starts with `.` (`.git`, `.venv`), `__pycache__` and
//! `node_modules`, and anything that is neither a file nor a directory (a
//! FIFO would never end a read).

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
#[error("reading {}: {source}", path.display())]
pub struct SourceError {
    pub path: PathBuf,
    pub source: io::Error,
}

fn read_error(path: &Path) -> impl FnOnce(io::Error) -> SourceError + '_ {
    move |source| SourceError {
        path: path.to_owned(),
        source,
    }
}

/// Whether a directory entry of this name is left out of sources.
pub fn skipped(name: &str) -> bool {
    name.starts_with('.') || name == "__pycache__" || name == "node_modules"
}

/// The source files under `root`, as sorted paths relative to it.
pub fn source_files(root: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let mut files = Vec::new();
    let mut visited = HashSet::new();
    walk(root, Path::new(""), &mut visited, &mut files)?;
    files.sort();
    Ok(files)
}

fn walk(
    root: &Path,
    relative: &Path,
    visited: &mut HashSet<(u64, u64)>,
    files: &mut Vec<PathBuf>,
) -> Result<(), SourceError> {
    let dir = root.join(relative);
    let meta = fs::metadata(&dir).map_err(read_error(&dir))?;
    // A symlink back to an ancestor (or a second link to a directory) is
    // walked once.
    if !visited.insert((meta.dev(), meta.ino())) {
        return Ok(());
    }
    for entry in fs::read_dir(&dir).map_err(read_error(&dir))? {
        let entry = entry.map_err(read_error(&dir))?;
        let name = entry.file_name();
        if name.to_str().is_none_or(skipped) {
            continue;
        }
        let path = relative.join(&name);
        let full = root.join(&path);
        // Followed: a link is what it points at; a dangling one is nothing.
        let Ok(meta) = fs::metadata(&full) else {
            continue;
        };
        if meta.is_dir() {
            walk(root, &path, visited, files)?;
        } else if meta.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// A build's key, made of what goes into it.
pub struct BuildKey {
    hasher: Sha256,
}

impl BuildKey {
    /// A key for builds of `kind` (e.g. `python`) with tools `tools` (their
    /// names and versions).
    pub fn new(kind: &str, tools: &str) -> Self {
        let mut key = BuildKey {
            hasher: Sha256::new(),
        };
        key.field(b"consfig source build 1");
        key.field(kind.as_bytes());
        key.field(tools.as_bytes());
        key
    }

    /// Each part is its length then its bytes: no two sequences of parts
    /// read the same.
    fn field(&mut self, bytes: &[u8]) {
        self.hasher.update((bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
    }

    /// Add the tree at `root` as `label` (its files, by their paths
    /// relative to it); a tree that is not there adds as empty. Gives the
    /// files it added.
    pub fn add_tree(&mut self, label: &str, root: &Path) -> Result<Vec<PathBuf>, SourceError> {
        let files = if root.is_dir() {
            source_files(root)?
        } else {
            Vec::new()
        };
        self.field(label.as_bytes());
        self.field(&(files.len() as u64).to_le_bytes());
        for file in &files {
            let full = root.join(file);
            let bytes = fs::read(&full).map_err(read_error(&full))?;
            self.field(file.as_os_str().as_encoded_bytes());
            self.field(&bytes);
        }
        Ok(files)
    }

    /// The key, as lowercase hex.
    pub fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

/// Copy the `files` (relative paths) of `from` into `to`.
pub fn copy_files(from: &Path, files: &[PathBuf], to: &Path) -> Result<(), SourceError> {
    for file in files {
        let target = to.join(file);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(read_error(parent))?;
        }
        let source = from.join(file);
        fs::copy(&source, &target).map_err(read_error(&source))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn key_of(root: &Path) -> String {
        let mut key = BuildKey::new("python", "componentize-py 0.25.1");
        key.add_tree("module", root).unwrap();
        key.finish()
    }

    #[test]
    fn sources_are_the_files_but_dot_entries_caches_and_special_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "app.py", "x = 1\n");
        write(root, "lib/util.py", "y = 2\n");
        write(root, "templates/motd.txt", "hi\n");
        write(root, ".git/HEAD", "ref\n");
        write(root, ".venv/lib/site.py", "");
        write(root, ".hidden.py", "");
        write(root, "__pycache__/app.cpython-311.pyc", "");
        write(root, "lib/__pycache__/util.pyc", "");
        write(root, "node_modules/left-pad/index.js", "");
        nix::unistd::mkfifo(&root.join("pipe"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        std::os::unix::fs::symlink("lib/util.py", root.join("linked.py")).unwrap();
        std::os::unix::fs::symlink("nowhere", root.join("dangling.py")).unwrap();
        // A link back up: walked once, never forever.
        std::os::unix::fs::symlink("..", root.join("lib/up")).unwrap();
        let files: Vec<String> = source_files(root)
            .unwrap()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            files,
            ["app.py", "lib/util.py", "linked.py", "templates/motd.txt"]
        );
    }

    #[test]
    fn a_symlink_out_of_the_tree_is_followed_and_its_files_are_in_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("module");
        write(&root, "app.py", "");
        write(dir.path(), "contract/consfig.wit", "package a;");
        std::os::unix::fs::symlink("../contract", root.join("wit-deps")).unwrap();
        let files = source_files(&root).unwrap();
        assert_eq!(
            files,
            [
                PathBuf::from("app.py"),
                PathBuf::from("wit-deps/consfig.wit")
            ]
        );
        let before = key_of(&root);
        write(dir.path(), "contract/consfig.wit", "package b;");
        assert_ne!(
            key_of(&root),
            before,
            "an edit where the link leads is a new key"
        );
    }

    #[test]
    fn the_key_changes_with_every_source_and_only_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "app.py", "x = 1\n");
        write(root, "lib/util.py", "y = 2\n");
        let first = key_of(root);
        assert_eq!(first.len(), 64);
        assert_eq!(key_of(root), first, "the same sources, the same key");

        // What is not a source changes nothing.
        write(root, "__pycache__/app.pyc", "compiled");
        write(root, ".git/index", "x");
        write(root, "node_modules/x/index.js", "x");
        assert_eq!(key_of(root), first);

        // A file's bytes, its name, a new file: each a new key.
        write(root, "lib/util.py", "y = 3\n");
        let edited = key_of(root);
        assert_ne!(edited, first);
        fs::rename(root.join("lib/util.py"), root.join("lib/utils.py")).unwrap();
        let renamed = key_of(root);
        assert_ne!(renamed, edited);
        write(root, "data.json", "{}");
        assert_ne!(key_of(root), renamed);

        // Where a file's bytes end and the next path starts is part of it.
        let a = tempfile::tempdir().unwrap();
        write(a.path(), "a", "bc");
        let b = tempfile::tempdir().unwrap();
        write(b.path(), "ab", "c");
        assert_ne!(key_of(a.path()), key_of(b.path()));

        // The kind, the tools and every tree are in it.
        let with = |kind: &str, tools: &str, sdk: Option<&Path>| {
            let mut key = BuildKey::new(kind, tools);
            key.add_tree("module", a.path()).unwrap();
            if let Some(sdk) = sdk {
                key.add_tree("sdk", sdk).unwrap();
            }
            key.finish()
        };
        let base = with("python", "t 1", None);
        assert_ne!(with("javascript", "t 1", None), base);
        assert_ne!(with("python", "t 2", None), base);
        assert_ne!(with("python", "t 1", Some(b.path())), base);
        // A missing tree counts as empty, which is not the same as absent.
        assert_ne!(with("python", "t 1", Some(&root.join("none"))), base);
    }

    #[test]
    fn copies_the_files_it_was_given() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "app.py", "x");
        write(dir.path(), "lib/util.py", "y");
        write(dir.path(), "__pycache__/app.pyc", "z");
        let to = tempfile::tempdir().unwrap();
        copy_files(dir.path(), &source_files(dir.path()).unwrap(), to.path()).unwrap();
        assert_eq!(
            fs::read_to_string(to.path().join("lib/util.py")).unwrap(),
            "y"
        );
        assert!(!to.path().join("__pycache__").exists());
    }
}
