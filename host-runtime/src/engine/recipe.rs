//! What a pristine image is made of: the engine, the linker, every module's
//! compiled code, and the launcher the image's `forms` calls use.
//! Instantiating a recipe again, in any process, gives a new pristine image:
//! how a subdeployment gets a clean image even when the process asking for
//! it has run a form.
//!
//! Recipes are made of compiled code: the controller's compiler
//! (`controller::compiler`) makes it, the runtime and bundles load it.

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

    /// A recipe of compiled code made for this engine, each module named
    /// by `origin`.
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
