//! The engine: wasmtime, configured so that nothing starts a thread (no
//! parallel compilation, no cache worker — the runtime forks after loading),
//! and what it makes of modules:
//!
//! - [`architecture`]: the architectures runtimes are built for;
//! - [`cache`]: modules and their compiled code, content-addressed on disk;
//! - [`recipe`]: compiled modules and the linker — what a pristine image is
//!   made of, in any process;
//! - [`image`]: every module instantiated once and initialised, in one
//!   store ([`store`]): the pristine image, which validates and applies forms;
//! - [`modules`]: which module owns which property, and calls into them;
//! - [`linker`]: the imports every module gets — WASI (its name lookups
//!   checked per module, [`lookups`]), the host's calls,
//!   and the `forms` calls, which need the whole store;
//! - [`launcher`]: what those calls ask of the process around the engine
//!   (forking a subdeployment, the bundle stub);
//! - [`executor`]: driving calls into Wasm on this thread;
//! - [`deadline`]: the time limit of every call into a module.

pub mod architecture;
pub mod cache;
pub mod deadline;
pub mod executor;
pub mod image;
pub mod launcher;
pub mod linker;
mod lookups;
pub mod modules;
pub mod recipe;
pub mod store;

use wasmtime::{Config, Engine};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{origin}: not a valid Wasm component: {message}")]
    Invalid { origin: String, message: String },
    #[error("{origin}: {message}")]
    Load { origin: String, message: String },
    #[error("modules {first} and {second} both define module `{name}`")]
    DuplicateModule {
        name: String,
        first: String,
        second: String,
    },
    #[error("wasmtime engine: {0}")]
    Engine(String),
}

/// Render a wasmtime error with its whole chain of causes on one line.
pub fn error_chain(e: &wasmtime::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

/// The configuration every engine shares, the runtime's and the compiler's
/// alike: it decides compiled-code compatibility. No wasm backtraces: a
/// failed form reports why, and their addresses say nothing to the person
/// deploying; so no address map either (a tenth of the code shipped).
/// Epoch checks in the compiled code let every call have a deadline.
fn config() -> Config {
    let mut config = Config::new();
    config.wasm_backtrace_max_frames(None);
    config.generate_address_map(false);
    config.epoch_interruption(true);
    config
}

/// The engine every runtime uses (one per process). In the controller's
/// build it compiles for this architecture's baseline, as for any target of
/// it ([`compiler_for`]): code compiled for a target also loads here, and
/// once per architecture serves every host.
pub fn new_engine() -> Result<Engine, EngineError> {
    deadline::process_engine(|| {
        #[cfg(feature = "controller")]
        return compiler_for(architecture::native());
        #[cfg(not(feature = "controller"))]
        Engine::new(&config()).map_err(|e| EngineError::Engine(error_chain(&e)))
    })
}

/// An engine that compiles for `arch`'s baseline (no CPU feature beyond
/// what every processor of the architecture has): its code loads in the
/// runtime of any host of that architecture. Never runs code itself.
#[cfg(feature = "controller")]
pub fn compiler_for(arch: &architecture::Architecture) -> Result<Engine, EngineError> {
    let mut config = config();
    config
        .target(arch.triple)
        .map_err(|e| EngineError::Engine(error_chain(&e)))?;
    Engine::new(&config).map_err(|e| EngineError::Engine(error_chain(&e)))
}

/// A short, stable name for what compiled code this engine can load.
#[cfg(feature = "controller")]
pub fn engine_id(engine: &Engine) -> String {
    use sha2::{Digest, Sha256};
    struct Sha(Sha256);
    impl std::hash::Hasher for Sha {
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
        fn finish(&self) -> u64 {
            unreachable!("only the digest is used")
        }
    }
    let mut sha = Sha(Sha256::new());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut sha);
    hex::encode(&sha.0.finalize()[..8])
}
