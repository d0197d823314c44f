//! The content-addressed cache on a target: `$XDG_CACHE_HOME/consfig`
//! (default `~/.cache/consfig`).
//!
//! `modules/<sha256>.wasm` holds a module's bytes, `modules/<sha256>.<engine>.cwasm`
//! its compiled code for one engine configuration, `stub/<sha256>` a bundle
//! stub the controller sent, `files/<sha256>` a file of a consfig. Every entry is written to a temporary file in
//! the same directory and renamed into place, so a crash or a dropped
//! connection never leaves a half-written entry under a final name. The
//! controller keeps one too, for the compiled code of the modules it inspects.

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
    #[error("module received as {expected} hashes to {actual}: corrupted in transit, not cached")]
    HashMismatch { expected: String, actual: String },
    #[error("{0:?} is not a module hash (64 lowercase hex digits)")]
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

/// Lowercase hex SHA-256 of some bytes: the identity of a module.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The bytes cached at `path`, which must have the hash `sha256` they are
/// stored under. A damaged entry would fail every deploy: it is dropped, so
/// the next deploy sends it again.
fn read_verified(path: &Path, sha256: &str) -> Result<Vec<u8>, CacheError> {
    let bytes = fs::read(path).map_err(io_err(path))?;
    let actual = sha256_hex(&bytes);
    if actual != sha256 {
        let _ = fs::remove_file(path);
        return Err(CacheError::HashMismatch {
            expected: sha256.to_owned(),
            actual,
        });
    }
    Ok(bytes)
}

fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Age past which a temporary file in the cache is a leftover.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

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
        let modules = cache.modules_dir();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&modules)
            .map_err(io_err(&modules))?;
        Ok(cache)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn modules_dir(&self) -> PathBuf {
        self.root.join("modules")
    }

    pub fn module_path(&self, sha256: &str) -> PathBuf {
        self.modules_dir().join(format!("{sha256}.wasm"))
    }

    pub fn compiled_path(&self, sha256: &str, engine: &str) -> PathBuf {
        self.modules_dir().join(format!("{sha256}.{engine}.cwasm"))
    }

    /// Where the bundle stub with this hash is kept.
    pub fn stub_path(&self, sha256: &str) -> Result<PathBuf, CacheError> {
        if !is_hash(sha256) {
            return Err(CacheError::BadHash(sha256.to_owned()));
        }
        Ok(self.root.join("stub").join(sha256))
    }

    /// Store a stub received under its hash (mode 0755), refusing bytes that
    /// do not match it.
    pub fn store_stub(&self, sha256: &str, bytes: &[u8]) -> Result<PathBuf, CacheError> {
        let path = self.stub_path(sha256)?;
        let actual = sha256_hex(bytes);
        if actual != sha256 {
            return Err(CacheError::HashMismatch {
                expected: sha256.to_owned(),
                actual,
            });
        }
        let dir = self.root.join("stub");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io_err(&dir))?;
        write_atomic(&path, bytes, 0o755, None).map_err(io_err(&path))?;
        Ok(path)
    }

    fn files_dir(&self) -> PathBuf {
        self.root.join("files")
    }

    /// Where the file of a consfig with this hash is kept.
    pub fn file_path(&self, sha256: &str) -> Result<PathBuf, CacheError> {
        if !is_hash(sha256) {
            return Err(CacheError::BadHash(sha256.to_owned()));
        }
        Ok(self.files_dir().join(sha256))
    }

    /// Hashes of the files of consfigs held.
    pub fn cached_files(&self) -> Result<Vec<String>, CacheError> {
        let dir = self.files_dir();
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

    /// Store a file of a consfig received under its hash (mode 0600),
    /// refusing bytes that do not match it.
    pub fn store_file(&self, sha256: &str, bytes: &[u8]) -> Result<PathBuf, CacheError> {
        let path = self.file_path(sha256)?;
        let actual = sha256_hex(bytes);
        if actual != sha256 {
            return Err(CacheError::HashMismatch {
                expected: sha256.to_owned(),
                actual,
            });
        }
        let dir = self.files_dir();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io_err(&dir))?;
        write_atomic(&path, bytes, 0o600, None).map_err(io_err(&path))?;
        Ok(path)
    }

    /// Read a cached file of a consfig back, verifying its hash (a damaged
    /// entry is dropped, so the next deploy sends it again).
    pub fn read_file(&self, sha256: &str) -> Result<Vec<u8>, CacheError> {
        read_verified(&self.file_path(sha256)?, sha256)
    }

    /// Remove temporary files a runtime killed mid-write left behind: a write
    /// takes milliseconds, so one untouched for `ABANDONED_AFTER` is nobody's.
    /// Best effort: what cannot be removed is left for next time.
    pub fn sweep_abandoned(&self) {
        self.sweep_in(&self.modules_dir());
        self.sweep_in(&self.files_dir());
    }

    fn sweep_in(&self, dir: &Path) {
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

    /// Hashes of the modules held, whatever their compiled state.
    pub fn cached_modules(&self) -> Result<Vec<String>, CacheError> {
        let dir = self.modules_dir();
        let mut hashes = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let name = entry.map_err(io_err(&dir))?.file_name();
            if let Some(hash) = name.to_str().and_then(|n| n.strip_suffix(".wasm"))
                && is_hash(hash)
            {
                hashes.push(hash.to_owned());
            }
        }
        hashes.sort();
        Ok(hashes)
    }

    /// Store received module bytes under their hash, refusing bytes that do not match it.
    pub fn store_module(&self, sha256: &str, bytes: &[u8]) -> Result<PathBuf, CacheError> {
        if !is_hash(sha256) {
            return Err(CacheError::BadHash(sha256.to_owned()));
        }
        let actual = sha256_hex(bytes);
        if actual != sha256 {
            return Err(CacheError::HashMismatch {
                expected: sha256.to_owned(),
                actual,
            });
        }
        let path = self.module_path(sha256);
        write_atomic(&path, bytes, 0o600, None).map_err(io_err(&path))?;
        Ok(path)
    }

    /// Read a cached module back, verifying it still has the hash it is stored under.
    pub fn read_module(&self, sha256: &str) -> Result<Vec<u8>, CacheError> {
        if !is_hash(sha256) {
            return Err(CacheError::BadHash(sha256.to_owned()));
        }
        read_verified(&self.module_path(sha256), sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_verified_modules_and_refuses_corrupt_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().join("c")).unwrap();
        let bytes = b"\0asm pretend module";
        let hash = sha256_hex(bytes);
        assert!(cache.cached_modules().unwrap().is_empty());

        let bad = cache.store_module(&hash, b"\0asm other bytes").unwrap_err();
        assert!(matches!(bad, CacheError::HashMismatch { .. }), "{bad}");
        assert!(
            cache.cached_modules().unwrap().is_empty(),
            "nothing half-stored"
        );

        cache.store_module(&hash, bytes).unwrap();
        assert_eq!(cache.cached_modules().unwrap(), vec![hash.clone()]);
        assert_eq!(cache.read_module(&hash).unwrap(), bytes);

        // Damage on disk is detected on read and the entry dropped.
        fs::write(cache.module_path(&hash), b"flipped").unwrap();
        assert!(cache.read_module(&hash).is_err());
        assert!(cache.cached_modules().unwrap().is_empty());
    }

    #[test]
    fn sweeps_only_old_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path()).unwrap();
        let modules = cache.modules_dir();
        let old = std::time::SystemTime::now() - 2 * ABANDONED_AFTER;
        for name in [".consfig-left", ".consfig-writing", "abc.wasm"] {
            fs::write(modules.join(name), b"x").unwrap();
        }
        for name in [".consfig-left", "abc.wasm"] {
            let file = fs::File::options()
                .write(true)
                .open(modules.join(name))
                .unwrap();
            file.set_modified(old).unwrap();
        }
        cache.sweep_abandoned();
        let mut left: Vec<String> = fs::read_dir(&modules)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, [".consfig-writing", "abc.wasm"]);
    }

    #[test]
    fn keeps_stubs_by_hash() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path()).unwrap();
        let stub = b"\x7fELF stub";
        let hash = sha256_hex(stub);
        assert!(cache.store_stub(&hash, b"other").is_err());
        let path = cache.store_stub(&hash, stub).unwrap();
        assert_eq!(path, cache.stub_path(&hash).unwrap());
        assert_eq!(fs::read(path).unwrap(), stub);
        assert!(cache.stub_path("../x").is_err());
    }

    #[test]
    fn keeps_files_of_the_consfig_by_hash_verified() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path()).unwrap();
        assert!(cache.cached_files().unwrap().is_empty(), "no directory yet");
        let bytes = b"a template {{ x }}\n";
        let hash = sha256_hex(bytes);
        assert!(matches!(
            cache.store_file(&hash, b"other bytes"),
            Err(CacheError::HashMismatch { .. })
        ));
        assert!(
            cache.cached_files().unwrap().is_empty(),
            "nothing half-stored"
        );
        cache.store_file(&hash, bytes).unwrap();
        assert_eq!(cache.cached_files().unwrap(), std::slice::from_ref(&hash));
        assert_eq!(cache.read_file(&hash).unwrap(), bytes);
        fs::write(cache.file_path(&hash).unwrap(), b"flipped").unwrap();
        assert!(cache.read_file(&hash).is_err());
        assert!(cache.cached_files().unwrap().is_empty(), "damage dropped");
        assert!(matches!(
            cache.read_file("../modules/x"),
            Err(CacheError::BadHash(_))
        ));
    }

    #[test]
    fn refuses_names_that_are_not_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path()).unwrap();
        assert!(matches!(
            cache.store_module("../../etc/passwd", b""),
            Err(CacheError::BadHash(_))
        ));
    }
}
