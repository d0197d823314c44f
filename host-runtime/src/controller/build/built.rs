//! Modules built from Python and JavaScript sources, kept by build key
//! ([`super::source_hash`]) as `$XDG_CACHE_HOME/consfig/builds/<key>.wasm`:
//! a module whose sources did not change is taken from here, not built
//! again. Entries are written atomically (temporary file, rename), so a
//! build interrupted midway leaves no entry.

use std::io;
use std::path::{Path, PathBuf};

use crate::engine::cache::{Cache, CacheError};
use crate::sandbox::atomic::write_atomic;

/// The start of every Wasm binary.
const WASM_MAGIC: &[u8] = b"\0asm";

#[derive(Debug, Clone)]
pub struct Builds {
    dir: PathBuf,
}

impl Builds {
    /// The builds of the cache the environment names.
    pub fn from_env() -> Result<Self, CacheError> {
        Ok(Self::at(Cache::from_env()?.root().join("builds")))
    }

    pub fn at(dir: PathBuf) -> Self {
        Builds { dir }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.wasm"))
    }

    /// The module built with this key, if one was.
    pub fn get(&self, key: &str) -> Option<PathBuf> {
        let path = self.path(key);
        path.is_file().then_some(path)
    }

    /// Keep the module a build made at `built` under `key`.
    pub fn store(&self, key: &str, built: &Path) -> io::Result<PathBuf> {
        let bytes = std::fs::read(built)?;
        if !bytes.starts_with(WASM_MAGIC) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is no Wasm module", built.display()),
            ));
        }
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(key);
        write_atomic(&path, &bytes, 0o644, None)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_wasm_by_key_and_refuses_anything_else() {
        let dir = tempfile::tempdir().unwrap();
        let builds = Builds::at(dir.path().join("builds"));
        assert_eq!(builds.get("k"), None);
        let out = dir.path().join("out.wasm");
        std::fs::write(&out, b"\0asm\x0d\0\x01\0").unwrap();
        let kept = builds.store("k", &out).unwrap();
        assert_eq!(builds.get("k"), Some(kept.clone()));
        assert_eq!(std::fs::read(&kept).unwrap(), b"\0asm\x0d\0\x01\0");
        std::fs::write(&out, b"Traceback").unwrap();
        assert!(builds.store("j", &out).is_err());
        assert_eq!(builds.get("j"), None);
    }
}
