//! The content-addressed caches: `$XDG_CACHE_HOME/consfig` (default
//! `~/.cache/consfig`), on targets and on the controller.
//!
//! A target keeps `code/<sha256>`, a module's compiled code the controller
//! sent (named by the hash of the code itself), and `files/<sha256>`, a file
//! of a consfig. The controller keeps `modules/<sha256>.<engine>.cwasm`, the
//! code it compiled for one engine (an architecture and its settings) from
//! the module with that hash. Every entry is written to a temporary file in
//! the same directory and renamed into place, so a crash or a dropped
//! connection never leaves a half-written entry under a final name; what a
//! target reads back is verified against its name.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::sandbox::atomic::{TEMP_PREFIX, write_atomic};

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{shelf} received as {expected} hashes to {actual}: corrupted in transit or on disk")]
    HashMismatch {
        shelf: Shelf,
        expected: String,
        actual: String,
    },
    #[error("{0:?} is not a hash (64 lowercase hex digits)")]
    BadHash(String),
    #[error("no cache directory: set XDG_CACHE_HOME or HOME")]
    NoHome,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Lowercase hex SHA-256 of some bytes: the identity of a module, of
/// compiled code, of a file.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Age past which a temporary file in the cache is a leftover.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// What a target's cache holds, each kind in a directory of its own,
/// named by the hash of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    /// Compiled code of a module, for this runtime's engine.
    Code,
    /// Files of consfigs.
    Files,
}

impl Shelf {
    fn dir(self) -> &'static str {
        match self {
            Shelf::Code => "code",
            Shelf::Files => "files",
        }
    }
}

impl std::fmt::Display for Shelf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Shelf::Code => "compiled code",
            Shelf::Files => "file of the consfig",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache named by the environment, created (mode 0700) if missing.
    pub fn from_env() -> Result<Self, CacheError> {
        let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => {
                PathBuf::from(std::env::var_os("HOME").ok_or(CacheError::NoHome)?).join(".cache")
            }
        };
        Self::at(base.join("consfig"))
    }

    pub fn at(root: impl Into<PathBuf>) -> Result<Self, CacheError> {
        let cache = Cache { root: root.into() };
        make_dir(&cache.root)?;
        Ok(cache)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the controller keeps the code it compiled from module `sha256`
    /// for `engine` ([`super::engine_id`]).
    pub fn compiled_path(&self, sha256: &str, engine: &str) -> Result<PathBuf, CacheError> {
        let dir = self.root.join("modules");
        make_dir(&dir)?;
        Ok(dir.join(format!("{sha256}.{engine}.cwasm")))
    }

    /// Where the entry with this hash is kept on `shelf`.
    pub fn path(&self, shelf: Shelf, sha256: &str) -> Result<PathBuf, CacheError> {
        if !is_hash(sha256) {
            return Err(CacheError::BadHash(sha256.to_owned()));
        }
        Ok(self.root.join(shelf.dir()).join(sha256))
    }

    /// Hashes of what `shelf` holds, by name (read back verified).
    pub fn cached(&self, shelf: Shelf) -> Result<Vec<String>, CacheError> {
        let dir = self.root.join(shelf.dir());
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let mut hashes = Vec::new();
        for entry in entries {
            let name = entry.map_err(io_err(&dir))?.file_name();
            if let Some(hash) = name.to_str().filter(|n| is_hash(n)) {
                hashes.push(hash.to_owned());
            }
        }
        hashes.sort();
        Ok(hashes)
    }

    /// Store bytes received under their hash (mode 0600), refusing bytes
    /// that do not match it.
    pub fn store(&self, shelf: Shelf, sha256: &str, bytes: &[u8]) -> Result<PathBuf, CacheError> {
        let path = self.path(shelf, sha256)?;
        let actual = sha256_hex(bytes);
        if actual != sha256 {
            return Err(CacheError::HashMismatch {
                shelf,
                expected: sha256.to_owned(),
                actual,
            });
        }
        make_dir(&self.root.join(shelf.dir()))?;
        write_atomic(&path, bytes, 0o600, None).map_err(io_err(&path))?;
        Ok(path)
    }

    /// Read an entry back, verifying it still has the hash it is stored
    /// under. A damaged entry would fail every deploy: it is dropped, so
    /// the next deploy sends it again.
    pub fn read(&self, shelf: Shelf, sha256: &str) -> Result<Vec<u8>, CacheError> {
        let path = self.path(shelf, sha256)?;
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        let actual = sha256_hex(&bytes);
        if actual != sha256 {
            let _ = fs::remove_file(&path);
            return Err(CacheError::HashMismatch {
                shelf,
                expected: sha256.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Remove temporary files a runtime killed mid-write left behind: a write
    /// takes milliseconds, so one untouched for `ABANDONED_AFTER` is nobody's.
    /// Best effort: what cannot be removed is left for next time.
    pub fn sweep_abandoned(&self) {
        for dir in ["modules", Shelf::Code.dir(), Shelf::Files.dir()] {
            sweep_in(&self.root.join(dir));
        }
    }
}

fn make_dir(dir: &Path) -> Result<(), CacheError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(dir))
}

fn sweep_in(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let abandoned = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(TEMP_PREFIX))
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > ABANDONED_AFTER));
        if abandoned {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_verified_entries_and_drops_damaged_ones() {
        for shelf in [Shelf::Code, Shelf::Files] {
            let dir = tempfile::tempdir().unwrap();
            let cache = Cache::at(dir.path().join("c")).unwrap();
            assert!(cache.cached(shelf).unwrap().is_empty(), "no directory yet");
            let bytes = b"\x7fELF pretend code";
            let hash = sha256_hex(bytes);
            assert!(matches!(
                cache.store(shelf, &hash, b"other bytes"),
                Err(CacheError::HashMismatch { .. })
            ));
            assert!(
                cache.cached(shelf).unwrap().is_empty(),
                "nothing half-stored"
            );
            cache.store(shelf, &hash, bytes).unwrap();
            assert_eq!(cache.cached(shelf).unwrap(), std::slice::from_ref(&hash));
            assert_eq!(cache.read(shelf, &hash).unwrap(), bytes);
            // Damage on disk is detected on read and the entry dropped.
            fs::write(cache.path(shelf, &hash).unwrap(), b"flipped").unwrap();
            assert!(cache.read(shelf, &hash).is_err());
            assert!(cache.cached(shelf).unwrap().is_empty(), "damage dropped");
        }
    }

    #[test]
    fn refuses_names_that_are_not_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path()).unwrap();
        for name in ["../../etc/passwd", "../files/x", &"A".repeat(64)] {
            assert!(matches!(
                cache.store(Shelf::Code, name, b""),
                Err(CacheError::BadHash(_))
            ));
            assert!(matches!(
                cache.read(Shelf::Files, name),
                Err(CacheError::BadHash(_))
            ));
        }
    }

    #[test]
    fn sweeps_only_old_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path()).unwrap();
        let code = dir.path().join("code");
        fs::create_dir(&code).unwrap();
        let old = std::time::SystemTime::now() - 2 * ABANDONED_AFTER;
        for name in [".consfig-left", ".consfig-writing", "abc"] {
            fs::write(code.join(name), b"x").unwrap();
        }
        for name in [".consfig-left", "abc"] {
            let file = fs::File::options()
                .write(true)
                .open(code.join(name))
                .unwrap();
            file.set_modified(old).unwrap();
        }
        cache.sweep_abandoned();
        let mut left: Vec<String> = fs::read_dir(&code)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, [".consfig-writing", "abc"]);
    }
}
