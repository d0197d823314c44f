//! The modules of a consfig as the controller reads them: files found by
//! path or glob, hashed, compressed for the wire once; and loaded into an
//! image that only inspects — to describe them and to validate every form
//! before anything connects.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use consfig_contract::Form;
use consfig_contract::name::is_name;
use flate2::Compression;
use flate2::write::GzEncoder;

use super::build::is_source_dir;
use super::compiler::Compiler;
use super::installation::Installation;
use crate::engine::EngineError;
use crate::engine::cache::{CacheError, sha256_hex};
use crate::engine::image::Image;
use crate::engine::launcher::NoLauncher;
use crate::engine::modules::CallError;
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
    #[error("{0}")]
    Compile(String),
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

/// Expand module entries, relative to `base`: paths and globs of `.wasm`
/// files or module directories (crates, Python or JavaScript modules,
/// built by [`super::build`] before they are read), and names of standard modules (`file`, `cool-web-service`),
/// found in `installation`. Each entry must lead to at least one module.
pub fn expand_modules(
    base: &Path,
    patterns: &[String],
    installation: &Installation,
) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for pattern in patterns {
        let found = if is_name(pattern) {
            vec![
                installation
                    .standard_module(pattern)
                    .map_err(|e| e.to_string())?,
            ]
        } else {
            expand_pattern(base, pattern)?
        };
        for file in found {
            if !files.contains(&file) {
                files.push(file);
            }
        }
    }
    Ok(files)
}

/// The module files and module directories a path or glob matches.
fn expand_pattern(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = base.join(pattern);
    let full_text = full.to_string_lossy();
    let matches =
        glob::glob(&full_text).map_err(|e| format!("modules pattern {pattern:?}: {e}"))?;
    let mut found: Vec<PathBuf> = matches
        .filter_map(Result::ok)
        .filter(|p| p.is_file() || is_source_dir(p))
        .collect();
    if found.is_empty() {
        return Err(format!(
            "modules entry {pattern:?} matches no module file or module directory (a crate, or a directory holding app.py or app.js; looked for {full_text}); build the modules first (`make`)"
        ));
    }
    found.sort();
    Ok(found)
}

/// The modules loaded on the controller, where no host call may act: to
/// describe them and to validate forms before anything connects.
pub struct Inspector {
    image: Image,
}

impl Inspector {
    /// The modules, each call into them held to the default limits.
    pub fn new(modules: &[ModuleFile], compiler: &Compiler) -> Result<Self, ModuleError> {
        Self::with_limits(modules, LimitSet::default(), compiler)
    }

    /// The modules, compiled by `compiler`, each call into them (`init`,
    /// `describe`, validating a form) held to the time limit `limits` give
    /// its module.
    pub fn with_limits(
        modules: &[ModuleFile],
        limits: LimitSet,
        compiler: &Compiler,
    ) -> Result<Self, ModuleError> {
        let recipe = compiler
            .recipe(modules, Arc::new(NoLauncher))
            .map_err(ModuleError::Compile)?;
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
    fn module_entries_are_files_globs_crate_directories_or_standard_names() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.wasm", "a.wasm"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let installation = Installation::of(&dir.path().join("bin/consfig"));
        let expand = |patterns: &[&str]| {
            let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
            expand_modules(dir.path(), &patterns, &installation)
        };
        assert_eq!(
            expand(&["*.wasm", "a.wasm"]).unwrap(),
            [dir.path().join("a.wasm"), dir.path().join("b.wasm")]
        );
        let e = expand(&["nope/*.wasm"]).unwrap_err();
        assert!(e.contains("matches no module file"), "{e}");
        // A directory is a module only when it is a crate, or holds app.py
        // or app.js.
        std::fs::create_dir_all(dir.path().join("modules/web/src")).unwrap();
        std::fs::create_dir_all(dir.path().join("modules/notes")).unwrap();
        std::fs::create_dir_all(dir.path().join("modules/py")).unwrap();
        std::fs::create_dir_all(dir.path().join("modules/js")).unwrap();
        std::fs::write(dir.path().join("modules/notes/README.md"), "").unwrap();
        assert!(expand(&["modules/*"]).is_err());
        std::fs::write(dir.path().join("modules/web/Cargo.toml"), "").unwrap();
        std::fs::write(dir.path().join("modules/py/app.py"), "").unwrap();
        std::fs::write(dir.path().join("modules/js/app.js"), "").unwrap();
        assert_eq!(
            expand(&["modules/*"]).unwrap(),
            ["js", "py", "web"].map(|m| dir.path().join("modules").join(m))
        );
        // A bare name is a standard module, never a path beside the consfig.
        let e = expand(&["file"]).unwrap_err();
        assert!(e.contains("no standard module named file"), "{e}");
        std::fs::create_dir_all(dir.path().join("bin/modules")).unwrap();
        std::fs::write(dir.path().join("bin/modules/consfig_file.wasm"), b"").unwrap();
        assert_eq!(
            expand(&["file"]).unwrap(),
            [dir.path().join("bin/modules/consfig_file.wasm")]
        );
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
