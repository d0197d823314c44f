//! Loading modules into wasmtime: the engine, compiled-code caching, and the
//! pristine image (every module instantiated once, in one store, initialised).
//!
//! The engine is configured so that nothing here starts a thread: no parallel
//! compilation, no cache worker. The runtime forks after loading, and a fork
//! of a multi-threaded process can inherit locks that no thread will release.

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, StoreContextMut};

#[cfg(feature = "controller")]
use crate::cache::Cache;
use crate::form::Form;
use crate::host_api::{HostMode, HostState};
use crate::report::{Outcome, Status};

pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "module",
        // Calls into modules are futures, so WASI can wait on sockets and timers.
        exports: { default: async },
    });
}

use bindings::Module as ModuleBindings;
use bindings::consfig::module::types::{Change, ModuleInfo};

/// How deep `apply` may nest inside properties before we call it runaway recursion.
const MAX_APPLY_DEPTH: usize = 32;

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
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
}

/// Render a wasmtime error with its whole chain of causes on one line,
/// leaving out wasm backtraces (addresses, not reasons).
pub fn error_chain(e: &wasmtime::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .filter(|c| !c.starts_with("error while executing at wasm backtrace"))
        .collect::<Vec<_>>()
        .join(": ")
}

/// The engine every runtime uses; its configuration decides compiled-code compatibility.
pub fn new_engine() -> Result<Engine, EngineError> {
    let config = Config::new();
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

/// Compiled code for a module: from the cache when present, else compiled now and cached.
/// Returns whether it had to compile.
#[cfg(feature = "controller")]
pub fn load_component(
    engine: &Engine,
    cache: &Cache,
    origin: &str,
    sha256: &str,
    wasm: &[u8],
) -> Result<(Component, bool), EngineError> {
    let compiled_path = cache.compiled_path(sha256, &engine_id(engine));
    if compiled_path.exists() {
        // SAFETY: the file is compiled code this runtime wrote, for this engine id,
        // into a cache directory only its user can write.
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
    crate::atomic::write_atomic(&compiled_path, &compiled, 0o600, None).map_err(|e| {
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

/// A module ready to instantiate: its compiled code and where it came from.
#[derive(Clone)]
pub struct LoadedComponent {
    /// A file path on the controller, or a hash on the target: what errors name.
    pub origin: String,
    pub sha256: String,
    pub component: Component,
}

/// What a pristine image is made of. Instantiating it again, in any process,
/// gives a new pristine image: how a subdeployment gets a clean image even when
/// the process asking for it has run a form.
pub struct Recipe {
    engine: Engine,
    linker: Linker<HostState>,
    components: Vec<LoadedComponent>,
}

impl Recipe {
    pub fn new(
        engine: &Engine,
        components: Vec<LoadedComponent>,
    ) -> Result<Arc<Self>, EngineError> {
        Ok(Arc::new(Recipe {
            engine: engine.clone(),
            linker: new_linker(engine)?,
            components,
        }))
    }

    /// Compile (or load from the cache) each module, named by where it came
    /// from, into a recipe; also say which had to be compiled now.
    #[cfg(feature = "controller")]
    pub fn compile<'a>(
        engine: &Engine,
        cache: &Cache,
        modules: impl IntoIterator<Item = (String, &'a str, &'a [u8])>,
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
        Ok((Self::new(engine, components)?, compiled))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn linker(&self) -> &Linker<HostState> {
        &self.linker
    }

    pub fn components(&self) -> &[LoadedComponent] {
        &self.components
    }
}

/// The linker every module is instantiated with: WASI p2 and the `host` interface.
fn new_linker(engine: &Engine) -> Result<Linker<HostState>, EngineError> {
    let mut linker = Linker::new(engine);
    let engine_err = |e: wasmtime::Error| EngineError::Engine(error_chain(&e));
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(engine_err)?;
    ModuleBindings::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
        .map_err(engine_err)?;
    define_store_imports(&mut linker).map_err(engine_err)?;
    Ok(linker)
}

/// `host.apply`, `host.validate-form` and `host.dump-image` need the whole
/// store to call into other instances, which the generated data-only trait
/// cannot give; define them on the linker instead.
fn define_store_imports(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut host = linker.instance("consfig:module/host@0.1.0")?;
    host.func_wrap_async(
        "apply",
        |mut store: StoreContextMut<'_, HostState>, (form,): (String,)| {
            Box::new(async move { Ok((apply_from_module(&mut store, &form).await,)) })
        },
    )?;
    host.func_wrap_async(
        "validate-form",
        |mut store: StoreContextMut<'_, HostState>, (form,): (String,)| {
            Box::new(async move { Ok((validate_from_module(&mut store, &form).await,)) })
        },
    )?;
    host.func_wrap_async(
        "dump-image",
        |mut store: StoreContextMut<'_, HostState>,
         (path, form, grants): (String, String, Vec<String>)| {
            Box::new(
                async move { Ok((dump_from_module(&mut store, &path, &form, &grants).await,)) },
            )
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// A form a module passed to the host's `call`, the loaded modules, and
/// which of them defines its property.
fn owned_form(
    state: &HostState,
    call: &str,
    form: &str,
) -> Result<(Form, Arc<ModuleSet>, usize), String> {
    let form = Form::parse(form).map_err(|e| format!("{call}: {e}"))?;
    let modules = state
        .modules
        .clone()
        .ok_or_else(|| format!("{call}: modules are not loaded yet"))?;
    let index = modules.property_owner(&form.name)?;
    Ok((form, modules, index))
}

async fn apply_from_module(
    store: &mut StoreContextMut<'_, HostState>,
    form: &str,
) -> Result<Change, String> {
    let (form, modules, index) = owned_form(store.data(), "apply", form)?;
    modules.call_apply(store, index, &form).await
}

async fn validate_from_module(
    store: &mut StoreContextMut<'_, HostState>,
    form: &str,
) -> Result<(), String> {
    let (form, modules, index) = owned_form(store.data(), "validate-form", form)?;
    if store.data().active.contains(&index) {
        // Its instance is on the stack and cannot be re-entered: it is
        // validated when the stack has unwound (`validate_nested`).
        store.data_mut().deferred_validations.push((index, form));
        return Ok(());
    }
    modules.call_validate(store, index, &form).await
}

async fn dump_from_module(
    store: &mut StoreContextMut<'_, HostState>,
    path: &str,
    form: &str,
    grants: &[String],
) -> Result<Change, String> {
    store.data().effects_allowed("dump-image")?;
    let (form, modules, index) = owned_form(store.data(), "dump-image", form)?;
    let grants = crate::grants::parse_grants(grants).map_err(|e| format!("dump-image: {e}"))?;
    let place = store.data().place("dump-image", path, true)?;
    let check = store.data().check_mode();
    // A bundle whose form could never run is refused now, not when it starts.
    if !store.data().active.contains(&index) {
        modules
            .validate_nested(store, index, &form)
            .await
            .map_err(|e| format!("{}: {e}", form.name))?;
    }
    let bytes = crate::bundle::dump(&modules, &form, &grants)?;
    if check {
        let changes =
            store
                .data_mut()
                .record_write("dump-image", path, &place, bytes, Some(0o755))?;
        return Ok(if changes {
            Change::Changed
        } else {
            Change::Unchanged
        });
    }
    match crate::bundle::write_if_changed(&place, &bytes)
        .map_err(|e| format!("dump-image {path}: {e}"))?
    {
        Status::Changed => Ok(Change::Changed),
        _ => Ok(Change::Unchanged),
    }
}

struct Instance {
    origin: String,
    sha256: String,
    info: ModuleInfo,
    bindings: ModuleBindings,
}

/// The instantiated modules of one store, and which module owns which property.
pub struct ModuleSet {
    instances: Vec<Instance>,
    by_property: HashMap<String, usize>,
    recipe: Arc<Recipe>,
}

impl ModuleSet {
    pub fn recipe(&self) -> &Arc<Recipe> {
        &self.recipe
    }

    pub(crate) fn module_name(&self, index: usize) -> &str {
        &self.instances[index].info.name
    }

    /// Each module's name, Wasm hash and compiled code, in load order.
    pub fn compiled(&self) -> impl Iterator<Item = (&str, &str, &Component)> {
        self.instances
            .iter()
            .zip(self.recipe.components())
            .map(|(i, c)| (i.info.name.as_str(), i.sha256.as_str(), &c.component))
    }

    fn property_owner(&self, name: &str) -> Result<usize, String> {
        self.by_property.get(name).copied().ok_or_else(|| {
            let mut known: Vec<&str> = self.by_property.keys().map(String::as_str).collect();
            known.sort();
            let hint = closest(name, &known)
                .map(|k| format!(" (did you mean {k}?)"))
                .unwrap_or_default();
            format!("unknown property {name}{hint}")
        })
    }

    async fn call_validate(
        &self,
        store: &mut impl wasmtime::AsContextMut<Data = HostState>,
        index: usize,
        form: &Form,
    ) -> Result<(), String> {
        let args = form.args_json();
        let mut ctx = store.as_context_mut();
        ctx.data_mut().enter_module(index);
        let result = self.instances[index]
            .bindings
            .consfig_module_properties()
            .call_validate(&mut ctx, &form.name, &args)
            .await;
        ctx.data_mut().leave_module();
        match result {
            Ok(inner) => inner,
            Err(trap) => Err(format!("validating: {}", describe_trap(&trap))),
        }
    }

    /// Validate a form, then the forms nested in it that had to wait for
    /// their module to leave the stack. Those still on it (a form validated
    /// while its module applies) are left to be checked when they run.
    async fn validate_nested(
        &self,
        store: &mut impl wasmtime::AsContextMut<Data = HostState>,
        index: usize,
        form: &Form,
    ) -> Result<(), String> {
        let mut ctx = store.as_context_mut();
        let waiting_before = ctx.data().deferred_validations.len();
        let mut result = self.call_validate(&mut ctx, index, form).await;
        while ctx.data().deferred_validations.len() > waiting_before {
            let (index, nested) = ctx
                .data_mut()
                .deferred_validations
                .pop()
                .expect("one is waiting");
            if result.is_err() || ctx.data().active.contains(&index) {
                continue;
            }
            result = self
                .call_validate(&mut ctx, index, &nested)
                .await
                .map_err(|e| format!("nested form {nested}: {e}"));
        }
        result
    }

    async fn call_apply(
        &self,
        store: &mut impl wasmtime::AsContextMut<Data = HostState>,
        index: usize,
        form: &Form,
    ) -> Result<Change, String> {
        let mut ctx = store.as_context_mut();
        let active = &ctx.data().active;
        if active.contains(&index) {
            return Err(format!(
                "{}: module `{}` is already running; a module calls its own properties directly, not through apply",
                form.name, self.instances[index].info.name
            ));
        }
        if active.len() >= MAX_APPLY_DEPTH {
            return Err(format!(
                "{}: apply nested more than {MAX_APPLY_DEPTH} deep",
                form.name
            ));
        }
        ctx.data_mut().enter_module(index);
        let result = self.instances[index]
            .bindings
            .consfig_module_properties()
            .call_apply(&mut ctx, &form.name, &form.args_json())
            .await;
        ctx.data_mut().leave_module();
        match result {
            Ok(inner) => inner,
            Err(trap) => {
                if let Some(exit) = trap.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    ctx.data_mut().exit_requested = Some(exit.0);
                    return Err(format!(
                        "{}: the module exited with status {}",
                        form.name, exit.0
                    ));
                }
                Err(describe_trap(&trap))
            }
        }
    }
}

/// A one-line reason for a trap, e.g. "wasm trap: wasm `unreachable` instruction executed".
fn describe_trap(e: &wasmtime::Error) -> String {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => error_chain(e),
    }
}

/// The closest known name by edit distance, if any is close enough to be a typo.
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(name, k), *k))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| k)
}

/// Every module instantiated once in one store and initialised: the pristine image.
pub struct Image {
    store: Store<HostState>,
    modules: Arc<ModuleSet>,
}

impl Image {
    pub fn new(recipe: &Arc<Recipe>, mode: HostMode) -> Result<Self, EngineError> {
        Self::with_state(recipe, HostState::new(mode))
    }

    /// An image whose store starts from `state` (a bundle's grants and stdio).
    pub fn with_state(recipe: &Arc<Recipe>, state: HostState) -> Result<Self, EngineError> {
        crate::executor::block_on(Self::load(recipe, state))
    }

    async fn load(recipe: &Arc<Recipe>, state: HostState) -> Result<Self, EngineError> {
        let mut store = Store::new(&recipe.engine, state);
        store.limiter(|state| state as &mut dyn wasmtime::ResourceLimiter);
        let mut instances = Vec::with_capacity(recipe.components.len());
        let mut by_property = HashMap::new();
        for loaded in &recipe.components {
            let load_err = |message: String| EngineError::Load {
                origin: loaded.origin.clone(),
                message,
            };
            let bindings =
                ModuleBindings::instantiate_async(&mut store, &loaded.component, &recipe.linker)
                    .await
                    .map_err(|e| load_err(format!("cannot instantiate: {}", error_chain(&e))))?;
            let props = bindings.consfig_module_properties();
            props
                .call_init(&mut store)
                .await
                .map_err(|e| load_err(format!("init {}", describe_trap(&e))))?
                .map_err(|e| load_err(format!("init failed: {e}")))?;
            let info = props
                .call_describe(&mut store)
                .await
                .map_err(|e| load_err(format!("describe {}", describe_trap(&e))))?;
            if let Some(other) = instances
                .iter()
                .find(|i: &&Instance| i.info.name == info.name)
            {
                return Err(EngineError::DuplicateModule {
                    name: info.name,
                    first: other.origin.clone(),
                    second: loaded.origin.clone(),
                });
            }
            let index = instances.len();
            for property in &info.properties {
                if property.name.split_once(':').map(|(m, _)| m) != Some(info.name.as_str()) {
                    return Err(load_err(format!(
                        "property {} is not named {}:…, after its module",
                        property.name, info.name
                    )));
                }
                by_property.insert(property.name.clone(), index);
            }
            instances.push(Instance {
                origin: loaded.origin.clone(),
                sha256: loaded.sha256.clone(),
                info,
                bindings,
            });
        }
        let modules = Arc::new(ModuleSet {
            instances,
            by_property,
            recipe: Arc::clone(recipe),
        });
        store.data_mut().modules = Some(Arc::clone(&modules));
        // What modules printed while loading is not any form's output.
        store.data_mut().take_output();
        Ok(Image { store, modules })
    }

    /// Descriptions of the loaded modules, in load order, with their hashes.
    pub fn modules(&self) -> impl Iterator<Item = (&str, &ModuleInfo)> {
        self.modules
            .instances
            .iter()
            .map(|i| (i.sha256.as_str(), &i.info))
    }

    /// The loaded modules.
    pub fn module_set(&self) -> &Arc<ModuleSet> {
        &self.modules
    }

    /// Check that a form names a known property and that its arguments
    /// decode, forms among them included.
    pub fn validate(&mut self, form: &Form) -> Result<(), String> {
        let modules = Arc::clone(&self.modules);
        let index = modules.property_owner(&form.name)?;
        let result =
            crate::executor::block_on(modules.validate_nested(&mut self.store, index, form));
        self.store.data_mut().take_output();
        result
    }

    /// Apply a form on this image. The runtime only calls this on a forked copy.
    pub fn apply(&mut self, form: &Form) -> Outcome {
        let modules = Arc::clone(&self.modules);
        let result = match modules.property_owner(&form.name) {
            Ok(index) => {
                crate::executor::block_on(modules.call_apply(&mut self.store, index, form))
            }
            Err(e) => Err(e),
        };
        let mut output = self.store.data_mut().take_output();
        let output_limit = self
            .store
            .data()
            .policy
            .limits
            .for_module(form.module())
            .output;
        let cut = std::mem::take(&mut self.store.data_mut().output_cut);
        let result = match result {
            Err(reason) if reason.contains("beyond capacity of MemoryOutputPipe") => {
                Err(output_limit_reason(output_limit))
            }
            _ if cut || output.len() as u64 > output_limit => {
                Err(output_limit_reason(output_limit))
            }
            other => other,
        };
        if output.len() as u64 > output_limit {
            let mut end = output_limit as usize;
            while !output.is_char_boundary(end) {
                end -= 1;
            }
            output.truncate(end);
            output.push_str("\n[output cut at the limit]\n");
        }
        let mut outcome = match result {
            Ok(change) => Outcome {
                status: match change {
                    Change::Unchanged => Status::Unchanged,
                    Change::Changed => Status::Changed,
                },
                reason: None,
                output,
                nested: Vec::new(),
                changes: Vec::new(),
                skipped: Vec::new(),
            },
            Err(reason) => {
                let reason = match panic_message(&output) {
                    Some(panic) if reason.starts_with("wasm trap") => format!("{reason} ({panic})"),
                    _ => reason,
                };
                let reason = match self.store.data().socket_denials.first() {
                    Some(denial) => format!("{reason} ({denial})"),
                    None => reason,
                };
                Outcome::failed(reason, output)
            }
        };
        outcome.nested = std::mem::take(&mut self.store.data_mut().nested);
        (outcome.changes, outcome.skipped) = self.store.data_mut().take_check();
        outcome
    }

    /// Check mode: what earlier forms would have changed, for this image's next form.
    pub fn set_overlay(&mut self, overlay: crate::overlay::Overlay) {
        self.store.data_mut().overlay = overlay;
    }

    /// The status a module asked to exit with (WASI `exit`), if one did.
    pub fn exit_requested(&self) -> Option<i32> {
        self.store.data().exit_requested
    }

    /// The policy this image's forms, and their subdeployments, run under.
    pub fn policy(&self) -> &crate::policy::Policy {
        &self.store.data().policy
    }
}

fn output_limit_reason(limit: u64) -> String {
    format!(
        "output limit of {} exceeded: the form printed or logged more",
        crate::policy::show_bytes(limit)
    )
}

/// The message of a Rust panic, as the guest's standard library printed it.
fn panic_message(output: &str) -> Option<String> {
    let mut lines = output.lines().skip_while(|l| !l.contains("panicked at"));
    let at = lines.next()?;
    let at = &at[at.find("panicked at").unwrap()..];
    let message = lines.next().unwrap_or("").trim();
    Some(
        format!("{} {message}", at.trim_end_matches(':'))
            .trim()
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_property_names() {
        let known = ["file:has-content", "file:absent"];
        assert_eq!(closest("file:has-contnt", &known), Some("file:has-content"));
        assert_eq!(closest("cmd:single", &known), None);
    }

    #[test]
    fn finds_panic_messages() {
        let out = "thread '<unnamed>' panicked at src/lib.rs:4:5:\ndeliberate panic\nnote: run with RUST_BACKTRACE\n";
        assert_eq!(
            panic_message(out).unwrap(),
            "panicked at src/lib.rs:4:5 deliberate panic"
        );
        assert_eq!(panic_message("all fine\n"), None);
    }
}
