//! Compiling modules for targets: each module once per target architecture
//! (its baseline: code any processor of it runs), on the controller,
//! never on a target. The code is cached on disk by module hash and engine
//! ([`crate::engine::engine_id`]: architecture, wasmtime version and
//! settings), shared by every host of a deploy — hosts deployed at once wait
//! for the one compiling — and compressed for the wire once, when a target
//! first lacks it (the gzip kept beside it in the cache). Code for this machine's architecture is the code the
//! controller itself inspects modules with, so compiling it for targets
//! costs nothing more.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use flate2::Compression;
use flate2::write::GzEncoder;
use wasmtime::Engine;

use super::modules::ModuleFile;
use crate::engine::architecture::{self, Architecture};
use crate::engine::cache::{Cache, sha256_hex};
use crate::engine::launcher::Launcher;
use crate::engine::recipe::Recipe;
use crate::engine::{EngineError, compiler_for, engine_id, error_chain, new_engine};

/// A module's code compiled for one architecture, as shipped.
pub struct Code {
    /// The hash of the code: its name in the target's cache.
    pub sha256: String,
    pub bytes: Vec<u8>,
    /// Whether this controller run compiled it (else it came from the cache).
    pub compiled_now: bool,
    /// Where its gzip is kept beside it in the controller's cache.
    gzip_path: PathBuf,
    compressed: OnceLock<Vec<u8>>,
}

impl Code {
    fn new(bytes: Vec<u8>, compiled_now: bool, path: &Path) -> Self {
        let mut gzip_path = path.as_os_str().to_owned();
        gzip_path.push(".gz");
        Code {
            sha256: sha256_hex(&bytes),
            bytes,
            compiled_now,
            gzip_path: gzip_path.into(),
            compressed: OnceLock::new(),
        }
    }

    /// Gzip of the code, as shipped: made once, when a target first lacks
    /// the code, and kept in the cache.
    pub fn compressed(&self) -> &[u8] {
        self.compressed
            .get_or_init(|| packed(&self.bytes, &self.gzip_path))
    }
}

/// Gzip of `bytes`, as the controller ships them: compressing well takes a
/// while, so it is done once and kept at `keep_at`, which is used only if it
/// still unpacks to exactly `bytes`.
pub fn packed(bytes: &[u8], keep_at: &Path) -> Vec<u8> {
    if let Ok(kept) = std::fs::read(keep_at)
        && unpacks_to(&kept, bytes)
    {
        return kept;
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(bytes).expect("writing to memory");
    let packed = gz.finish().expect("writing to memory");
    // Best effort: without it, the next run compresses again.
    if let Some(dir) = keep_at.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = crate::sandbox::atomic::write_atomic(keep_at, &packed, 0o600, None);
    packed
}

fn unpacks_to(packed: &[u8], bytes: &[u8]) -> bool {
    let mut unpacked = Vec::with_capacity(bytes.len());
    flate2::read::GzDecoder::new(packed)
        .take(bytes.len() as u64 + 1)
        .read_to_end(&mut unpacked)
        .is_ok()
        && unpacked == bytes
}

type Slot = Arc<OnceLock<Result<Arc<Code>, String>>>;

/// An architecture's engine and its id, or why it could not be made.
type EngineSlot = Arc<Result<(Engine, String), String>>;

/// The controller's compiler for every target of a deploy.
pub struct Compiler {
    cache: Cache,
    /// An engine per architecture, and its id, made when a target first
    /// needs it.
    engines: Mutex<HashMap<&'static str, EngineSlot>>,
    /// Each module's code per architecture: computed once, whoever asks first.
    code: Mutex<HashMap<(String, &'static str), Slot>>,
    compilations: AtomicUsize,
}

impl Compiler {
    pub fn new(cache: Cache) -> Self {
        Compiler {
            cache,
            engines: Mutex::default(),
            code: Mutex::default(),
            compilations: AtomicUsize::new(0),
        }
    }

    /// The code of `module` for targets of `arch`.
    pub fn code(
        &self,
        arch: &'static Architecture,
        module: &ModuleFile,
    ) -> Result<Arc<Code>, String> {
        let slot = Arc::clone(
            self.code
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry((module.sha256.clone(), arch.name))
                .or_default(),
        );
        // Other hosts needing this code wait here while one compiles it.
        slot.get_or_init(|| self.compile(arch, module).map(Arc::new))
            .clone()
    }

    /// A recipe of `modules` compiled for this machine (for the
    /// controller's own use: inspecting modules, `consfig apply`), named by
    /// their paths: the same code targets of this architecture receive.
    pub fn recipe(
        &self,
        modules: &[ModuleFile],
        launcher: Arc<dyn Launcher>,
    ) -> Result<Arc<Recipe>, String> {
        let code = modules
            .iter()
            .map(|module| self.code(architecture::native(), module))
            .collect::<Result<Vec<_>, _>>()?;
        let engine = new_engine().map_err(|e| e.to_string())?;
        Recipe::deserialize(
            &engine,
            modules.iter().zip(&code).map(|(module, code)| {
                (
                    module.path.display().to_string(),
                    module.sha256.as_str(),
                    code.bytes.as_slice(),
                )
            }),
            launcher,
        )
        .map_err(|e| e.to_string())
    }

    /// How many modules this controller run compiled.
    pub fn compilations(&self) -> usize {
        self.compilations.load(Ordering::Relaxed)
    }

    fn engine(&self, arch: &'static Architecture) -> EngineSlot {
        let mut engines = self.engines.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(engines.entry(arch.name).or_insert_with(|| {
            Arc::new(
                compiler_for(arch)
                    .map(|engine| {
                        let id = engine_id(&engine);
                        (engine, id)
                    })
                    .map_err(|e| e.to_string()),
            )
        }))
    }

    fn compile(&self, arch: &'static Architecture, module: &ModuleFile) -> Result<Code, String> {
        let engine = self.engine(arch);
        let (engine, id) = engine.as_ref().as_ref().map_err(Clone::clone)?;
        let path = self
            .cache
            .compiled_path(&module.sha256, id)
            .map_err(|e| e.to_string())?;
        if let Ok(bytes) = std::fs::read(&path) {
            return Ok(Code::new(bytes, false, &path));
        }
        let bytes = engine.precompile_component(&module.bytes).map_err(|e| {
            EngineError::Invalid {
                origin: module.path.display().to_string(),
                message: error_chain(&e),
            }
            .to_string()
        })?;
        self.compilations.fetch_add(1, Ordering::Relaxed);
        crate::sandbox::atomic::write_atomic(&path, &bytes, 0o600, None)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Code::new(bytes, true, &path))
    }
}
