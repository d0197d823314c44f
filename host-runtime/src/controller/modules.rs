//! The modules of a consfig as the controller reads them: files found by
//! path or glob, hashed, compressed for the wire once; and loaded into an
//! image that only inspects — to describe them and to validate every form
//! before anything connects.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use consfig_contract::Form;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::engine::cache::{Cache, CacheError, sha256_hex};
use crate::engine::image::Image;
use crate::engine::launcher::NoLauncher;
use crate::engine::modules::CallError;
use crate::engine::recipe::Recipe;
use crate::engine::{EngineError, new_engine};
use crate::sandbox::policy::LimitSet;

#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    #[error("module {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// A module file as the controller read it.
#[derive(Debug)]
pub struct ModuleFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
    /// Gzip of the bytes, as shipped; made once, when first needed.
    compressed: OnceLock<Vec<u8>>,
}

impl ModuleFile {
    pub fn compressed(&self) -> &[u8] {
        self.compressed.get_or_init(|| {
            let mut gz = GzEncoder::new(Vec::new(), Compression::best());
            gz.write_all(&self.bytes).expect("writing to memory");
            gz.finish().expect("writing to memory")
        })
    }
}

pub fn read_modules(paths: &[PathBuf]) -> Result<Vec<ModuleFile>, ModuleError> {
    paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).map_err(|source| ModuleError::Read {
                path: path.clone(),
                source,
            })?;
            Ok(ModuleFile {
                sha256: sha256_hex(&bytes),
                path: path.clone(),
                bytes,
                compressed: OnceLock::new(),
            })
        })
        .collect()
}

/// Expand module paths and globs, relative to `base`; each must name at least one file.
pub fn expand_modules(base: &Path, patterns: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for pattern in patterns {
        let full = base.join(pattern);
        let full_text = full.to_string_lossy();
        let matches =
            glob::glob(&full_text).map_err(|e| format!("modules pattern {pattern:?}: {e}"))?;
        let mut found: Vec<PathBuf> = matches
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        if found.is_empty() {
            return Err(format!(
                "modules entry {pattern:?} matches no file (looked for {full_text}); build the modules first (`make`)"
            ));
        }
        found.sort();
        for file in found {
            if !files.contains(&file) {
                files.push(file);
            }
        }
    }
    Ok(files)
}

/// The modules loaded on the controller, where no host call may act: to
/// describe them and to validate forms before anything connects.
pub struct Inspector {
    image: Image,
}

impl Inspector {
    /// The modules, each call into them held to the default limits.
    pub fn new(modules: &[ModuleFile]) -> Result<Self, ModuleError> {
        Self::with_limits(modules, LimitSet::default())
    }

    /// The modules, each call into them (`init`, `describe`, validating a
    /// form) held to the time limit `limits` give its module.
    pub fn with_limits(modules: &[ModuleFile], limits: LimitSet) -> Result<Self, ModuleError> {
        let cache = Cache::from_env()?;
        let engine = new_engine()?;
        let (recipe, _) = Recipe::compile(
            &engine,
            &cache,
            modules.iter().map(|m| {
                (
                    m.path.display().to_string(),
                    m.sha256.as_str(),
                    m.bytes.as_slice(),
                )
            }),
            Arc::new(NoLauncher),
        )?;
        Ok(Inspector {
            image: Image::inspecting(&recipe, limits)?,
        })
    }

    pub fn validate(&mut self, form: &Form) -> Result<(), CallError> {
        self.image.validate(form)
    }

    pub fn image(&self) -> &Image {
        &self.image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_globs_must_each_match_a_file() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.wasm", "a.wasm"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let found = expand_modules(dir.path(), &["*.wasm".into(), "a.wasm".into()]).unwrap();
        assert_eq!(
            found,
            [dir.path().join("a.wasm"), dir.path().join("b.wasm")]
        );
        let e = expand_modules(dir.path(), &["nope/*.wasm".into()]).unwrap_err();
        assert!(e.contains("matches no file"), "{e}");
    }

    #[test]
    fn reads_and_hashes_module_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.wasm");
        std::fs::write(&path, b"\0asm").unwrap();
        let files = read_modules(std::slice::from_ref(&path)).unwrap();
        assert_eq!(files[0].sha256, sha256_hex(b"\0asm"));
        assert!(!files[0].compressed().is_empty());
        assert!(matches!(
            read_modules(&[dir.path().join("missing.wasm")]),
            Err(ModuleError::Read { .. })
        ));
    }
}
