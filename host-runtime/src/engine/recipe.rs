//! What a pristine image is made of: the engine, the linker, every module's
//! compiled code, and the launcher the image's `forms` calls use.
//! Instantiating a recipe again, in any process, gives a new pristine image:
//! how a subdeployment gets a clean image even when the process asking for
//! it has run a form.
//!
//! Compiled code comes from the cache when present; compiling (Cranelift)
//! is only in builds with the `controller` feature — the bundle stub loads
//! code compiled elsewhere.

use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use super::launcher::Launcher;
use super::store::StoreData;
use super::{EngineError, error_chain};

/// A module ready to instantiate: its compiled code and where it came from.
#[derive(Clone)]
pub struct LoadedComponent {
    /// A file path on the controller, or a hash on the target: what errors name.
    pub origin: String,
    pub sha256: String,
    pub component: Component,
}

pub struct Recipe {
    engine: Engine,
    linker: Linker<StoreData>,
    components: Vec<LoadedComponent>,
    launcher: Arc<dyn Launcher>,
}

impl Recipe {
    pub fn new(
        engine: &Engine,
        components: Vec<LoadedComponent>,
        launcher: Arc<dyn Launcher>,
    ) -> Result<Arc<Self>, EngineError> {
        Ok(Arc::new(Recipe {
            engine: engine.clone(),
            linker: super::linker::new_linker(engine)?,
            components,
            launcher,
        }))
    }

    /// Compile (or load from the cache) each module, named by where it came
    /// from, into a recipe; also say which had to be compiled now.
    #[cfg(feature = "controller")]
    pub fn compile<'a>(
        engine: &Engine,
        cache: &super::cache::Cache,
        modules: impl IntoIterator<Item = (String, &'a str, &'a [u8])>,
        launcher: Arc<dyn Launcher>,
    ) -> Result<(Arc<Self>, Vec<String>), EngineError> {
        let mut components = Vec::new();
        let mut compiled = Vec::new();
        for (origin, sha256, wasm) in modules {
            let (component, fresh) = load_component(engine, cache, &origin, sha256, wasm)?;
            if fresh {
                compiled.push(sha256.to_owned());
            }
            components.push(LoadedComponent {
                origin,
                sha256: sha256.to_owned(),
                component,
            });
        }
        Ok((Self::new(engine, components, launcher)?, compiled))
    }

    /// A recipe of compiled code this engine made (a bundle's), each module
    /// named by `origin`.
    pub fn deserialize<'a>(
        engine: &Engine,
        modules: impl IntoIterator<Item = (String, &'a str, &'a [u8])>,
        launcher: Arc<dyn Launcher>,
    ) -> Result<Arc<Self>, EngineError> {
        let mut components = Vec::new();
        for (origin, sha256, code) in modules {
            // SAFETY: the code is the output of `Component::serialize`, and
            // its checksum was verified by the caller; wasmtime checks that
            // it suits this engine before using it.
            let component =
                unsafe { Component::deserialize(engine, code) }.map_err(|e| EngineError::Load {
                    origin: origin.clone(),
                    message: error_chain(&e),
                })?;
            components.push(LoadedComponent {
                origin,
                sha256: sha256.to_owned(),
                component,
            });
        }
        Self::new(engine, components, launcher)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn linker(&self) -> &Linker<StoreData> {
        &self.linker
    }

    pub fn components(&self) -> &[LoadedComponent] {
        &self.components
    }

    pub fn launcher(&self) -> &Arc<dyn Launcher> {
        &self.launcher
    }
}

/// Compiled code for a module: from the cache when present, else compiled
/// now and cached. Returns whether it had to compile.
#[cfg(feature = "controller")]
pub fn load_component(
    engine: &Engine,
    cache: &super::cache::Cache,
    origin: &str,
    sha256: &str,
    wasm: &[u8],
) -> Result<(Component, bool), EngineError> {
    let compiled_path = cache.compiled_path(sha256, &super::engine_id(engine));
    if compiled_path.exists() {
        // SAFETY: the file is compiled code this runtime wrote, for this
        // engine id, into a cache directory only its user can write.
        match unsafe { Component::deserialize_file(engine, &compiled_path) } {
            Ok(component) => return Ok((component, false)),
            // A damaged entry is rebuilt rather than failing the deploy.
            Err(_) => {
                let _ = std::fs::remove_file(&compiled_path);
            }
        }
    }
    let compiled = engine
        .precompile_component(wasm)
        .map_err(|e| EngineError::Invalid {
            origin: origin.to_owned(),
            message: error_chain(&e),
        })?;
    crate::sandbox::atomic::write_atomic(&compiled_path, &compiled, 0o600, None).map_err(|e| {
        EngineError::Load {
            origin: compiled_path.display().to_string(),
            message: e.to_string(),
        }
    })?;
    // SAFETY: produced just above by this engine.
    let component =
        unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| EngineError::Load {
            origin: origin.to_owned(),
            message: error_chain(&e),
        })?;
    Ok((component, true))
}
