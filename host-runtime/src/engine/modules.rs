//! The instantiated modules of one store, which module owns which property,
//! and calls into them: validating and applying a form with its module,
//! with the call stack kept so an instance is never re-entered. A module
//! applying a form of its own (a form it holds as data) gets another
//! instance of itself, fresh from `init`, in the same store.

use std::collections::HashMap;
use std::sync::Arc;

use consfig_contract::arguments::{self, ArgumentError, ParamSchema};
use consfig_contract::{Change, Form, Grant};
use wasmtime::AsContextMut;
use wasmtime::component::Component;

use super::deadline::{TimeLimitExceeded, time_limit_of};
use super::error_chain;
use super::recipe::Recipe;
use super::store::{MAX_DEFERRED, StoreData};
use crate::bundle::format::{BundleGiven, BundleModule, assemble};
use crate::host::bindings::Module as ModuleBindings;
use crate::host::bindings::consfig::module::types::{self as wit, ModuleInfo};
use crate::host::output::OutputLimitExceeded;

/// How deep `apply` may nest inside properties before we call it runaway recursion.
const MAX_APPLY_DEPTH: usize = 32;

/// Most instances a store makes beyond the pristine ones, for modules
/// applying their own forms. Idle ones are used again, so only nesting
/// (bounded by [`MAX_APPLY_DEPTH`]) or instances lost to traps use more.
pub const MAX_EXTRA_INSTANCES: usize = MAX_APPLY_DEPTH;

/// Why a call into a module did not give a result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("unknown property {name}{}", hint.as_ref().map(|k| format!(" (did you mean {k}?)")).unwrap_or_default())]
    UnknownProperty { name: String, hint: Option<String> },
    #[error("{form}: apply nested more than {MAX_APPLY_DEPTH} deep")]
    TooDeep { form: String },
    /// Applying forms of running modules made more instances than any form may.
    #[error(
        "{form}: more than {MAX_EXTRA_INSTANCES} instances were made for modules applying forms of their own in this form"
    )]
    TooManyInstances { form: String },
    /// Another instance of a running module could not be made.
    #[error("{form}: another instance of module `{module}`: {reason}")]
    Instantiate {
        form: String,
        module: String,
        reason: String,
    },
    /// The module asked to exit (WASI `exit`), which ends its form.
    #[error("{form}: the module exited with status {status}")]
    Exited { form: String, status: i32 },
    /// The module printed more than any form may.
    #[error("{0}")]
    OutputLimit(OutputLimitExceeded),
    /// The call ran past its deadline.
    #[error("{0}")]
    TimeLimit(TimeLimitExceeded),
    /// Validating a form asked for more nested validations than any may.
    #[error("validating nested forms: more than {MAX_DEFERRED} of them; a form holds fewer")]
    TooManyNested,
    /// The module trapped (a Wasm trap, an abort, a limit): why.
    #[error("{0}")]
    Trap(String),
    /// The form's arguments are not what its property's parameters take:
    /// found by the runtime before the module saw them.
    #[error("{0}")]
    Arguments(ArgumentError),
    /// The property failed: its own reason.
    #[error("{0}")]
    Failed(String),
}

impl CallError {
    /// Whether check mode may not know this failure to be one: a property's
    /// own failure or a trap may come of a step check mode did not take; a
    /// limit, an unknown property or a runaway recursion does not.
    pub fn check_may_not_know(&self) -> bool {
        matches!(self, CallError::Failed(_) | CallError::Trap(_))
    }
}

pub(super) struct Instance {
    pub origin: String,
    pub sha256: String,
    pub info: ModuleInfo,
    pub bindings: ModuleBindings,
}

/// Which module has a property, and the property's parameters as forms are
/// checked against them.
pub(super) struct Owner {
    pub index: usize,
    pub params: Vec<ParamSchema>,
}

pub struct ModuleSet {
    instances: Vec<Instance>,
    by_property: HashMap<String, Owner>,
    recipe: Arc<Recipe>,
}

impl ModuleSet {
    pub(super) fn new(
        instances: Vec<Instance>,
        by_property: HashMap<String, Owner>,
        recipe: Arc<Recipe>,
    ) -> Self {
        ModuleSet {
            instances,
            by_property,
            recipe,
        }
    }

    pub fn recipe(&self) -> &Arc<Recipe> {
        &self.recipe
    }

    pub fn module_name(&self, index: usize) -> &str {
        &self.instances[index].info.name
    }

    /// Each module's hash and description, in load order.
    pub fn infos(&self) -> impl Iterator<Item = (&str, &ModuleInfo)> {
        self.instances.iter().map(|i| (i.sha256.as_str(), &i.info))
    }

    /// Each module's name, Wasm hash and compiled code, in load order.
    fn compiled(&self) -> impl Iterator<Item = (&str, &str, &Component)> {
        self.instances
            .iter()
            .zip(self.recipe.components())
            .map(|(i, c)| (i.info.name.as_str(), i.sha256.as_str(), &c.component))
    }

    /// The bytes of a bundle of every module here on `stub`, applying `form`
    /// with `grants` for its modules, for this machine's architecture.
    pub fn bundle(
        &self,
        stub: &[u8],
        form: &Form,
        grants: &[Grant],
        given: &BundleGiven,
    ) -> Result<Vec<u8>, String> {
        self.bundle_for(
            std::env::consts::ARCH,
            stub,
            form,
            grants,
            given,
            |_, component| component.serialize().map_err(|e| error_chain(&e)),
        )
    }

    /// The same for `arch`, with each module's code from `code_of` (given
    /// its Wasm hash and the code compiled here).
    pub fn bundle_for(
        &self,
        arch: &str,
        stub: &[u8],
        form: &Form,
        grants: &[Grant],
        given: &BundleGiven,
        code_of: impl Fn(&str, &Component) -> Result<Vec<u8>, String>,
    ) -> Result<Vec<u8>, String> {
        let mut bundled = Vec::new();
        for (name, sha256, component) in self.compiled() {
            let compiled = code_of(sha256, component).map_err(|e| format!("module {name}: {e}"))?;
            bundled.push(BundleModule {
                name: name.to_owned(),
                sha256: sha256.to_owned(),
                compiled,
            });
        }
        Ok(assemble(arch, stub, form, grants, &bundled, given))
    }

    /// The module defining the property `name`.
    pub fn property_owner(&self, name: &str) -> Result<usize, CallError> {
        self.by_property.get(name).map(|o| o.index).ok_or_else(|| {
            let mut known: Vec<&str> = self.by_property.keys().map(String::as_str).collect();
            known.sort();
            CallError::UnknownProperty {
                name: name.to_owned(),
                hint: closest(name, &known).map(str::to_owned),
            }
        })
    }

    /// Check a form's arguments against its property's parameters, the
    /// same way for modules in every language, before its module sees them.
    fn check_arguments(&self, form: &Form) -> Result<(), CallError> {
        match self.by_property.get(form.name()) {
            Some(owner) => {
                arguments::check(&owner.params, form.args()).map_err(CallError::Arguments)
            }
            None => Ok(()),
        }
    }

    pub(super) async fn call_validate(
        &self,
        store: &mut impl AsContextMut<Data = StoreData>,
        index: usize,
        form: &Form,
    ) -> Result<(), CallError> {
        self.check_arguments(form)?;
        let args = form.args_json();
        let mut ctx = store.as_context_mut();
        ctx.data_mut().enter(index, self.module_name(index));
        let result = self.instances[index]
            .bindings
            .consfig_module_properties()
            .call_validate(&mut ctx, form.name(), &args)
            .await;
        ctx.data_mut().leave();
        match result {
            Ok(inner) => inner.map_err(CallError::Failed),
            Err(trap) => Err(match ctx.data_mut().note_trap(time_limit_of(&trap)) {
                Some(limit) => CallError::TimeLimit(limit),
                None => CallError::Trap(format!("validating: {}", describe_trap(&trap))),
            }),
        }
    }

    /// Validate a form, then the forms nested in it that had to wait for
    /// their module to leave the stack. Those still on it (a form validated
    /// while its module applies) are left to be checked when they run.
    pub(super) async fn validate_nested(
        &self,
        store: &mut impl AsContextMut<Data = StoreData>,
        index: usize,
        form: &Form,
    ) -> Result<(), CallError> {
        let mut ctx = store.as_context_mut();
        let waiting_before = ctx.data().deferred_count();
        let mut result = self.call_validate(&mut ctx, index, form).await;
        // Each validation may leave more forms waiting: at most so many in all.
        let mut validated = 0;
        while ctx.data().deferred_count() > waiting_before {
            let (index, text) = ctx.data_mut().pop_deferred().expect("one is waiting");
            if result.is_err() || ctx.data().is_active(index) {
                continue;
            }
            validated += 1;
            if validated > MAX_DEFERRED {
                result = Err(CallError::TooManyNested);
                continue;
            }
            result = match Form::parse(&text) {
                // It parsed when it was left to wait.
                Err(e) => Err(CallError::Failed(format!("nested form {text}: {e}"))),
                Ok(nested) => {
                    self.call_validate(&mut ctx, index, &nested)
                        .await
                        .map_err(|e| match e {
                            CallError::TimeLimit(limit) => CallError::TimeLimit(limit),
                            e => CallError::Failed(format!("nested form {nested}: {e}")),
                        })
                }
            };
        }
        result
    }

    pub(super) async fn call_apply(
        &self,
        store: &mut impl AsContextMut<Data = StoreData>,
        index: usize,
        form: &Form,
    ) -> Result<Change, CallError> {
        self.check_arguments(form)?;
        let mut ctx = store.as_context_mut();
        if ctx.data().depth() >= MAX_APPLY_DEPTH {
            return Err(CallError::TooDeep {
                form: form.name().to_owned(),
            });
        }
        // An instance on the stack cannot be entered again: a module applying
        // its own form gets another instance of itself.
        let another = if ctx.data().is_active(index) {
            Some(self.another_instance(&mut ctx, index, form).await?)
        } else {
            None
        };
        let bindings = another.as_ref().unwrap_or(&self.instances[index].bindings);
        ctx.data_mut().enter(index, self.module_name(index));
        let result = bindings
            .consfig_module_properties()
            .call_apply(&mut ctx, form.name(), &form.args_json())
            .await;
        ctx.data_mut().leave();
        match result {
            Ok(result) => {
                if let Some(bindings) = another {
                    ctx.data_mut().put_spare(index, bindings);
                }
                match result {
                    Ok(wit::Change::Unchanged) => Ok(Change::Unchanged),
                    Ok(wit::Change::Changed) => Ok(Change::Changed),
                    Err(reason) => Err(CallError::Failed(reason)),
                }
            }
            Err(trap) => {
                ctx.data_mut().note_trap(());
                if let Some(exit) = trap.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    ctx.data_mut().request_exit(exit.0);
                    return Err(CallError::Exited {
                        form: form.name().to_owned(),
                        status: exit.0,
                    });
                }
                if trap.is::<OutputLimitExceeded>() {
                    return Err(CallError::OutputLimit(OutputLimitExceeded));
                }
                if let Some(limit) = time_limit_of(&trap) {
                    return Err(CallError::TimeLimit(limit));
                }
                Err(CallError::Trap(describe_trap(&trap)))
            }
        }
    }

    /// An instance of module `index` other than those on the stack: an idle
    /// one made earlier in this store, or a new one from the module's
    /// compiled code, initialised as the pristine one was — under the
    /// module's own name, so its limits and grants are the module's.
    async fn another_instance(
        &self,
        ctx: &mut wasmtime::StoreContextMut<'_, StoreData>,
        index: usize,
        form: &Form,
    ) -> Result<ModuleBindings, CallError> {
        if let Some(bindings) = ctx.data_mut().take_spare(index) {
            return Ok(bindings);
        }
        if !ctx.data_mut().count_extra_instance() {
            return Err(CallError::TooManyInstances {
                form: form.name().to_owned(),
            });
        }
        let failed = |reason: String| CallError::Instantiate {
            form: form.name().to_owned(),
            module: self.module_name(index).to_owned(),
            reason,
        };
        let component = &self.recipe.components()[index].component;
        let bindings =
            ModuleBindings::instantiate_async(&mut *ctx, component, self.recipe.linker())
                .await
                .map_err(|e| failed(format!("cannot instantiate: {}", error_chain(&e))))?;
        ctx.data_mut().enter(index, self.module_name(index));
        let init = bindings
            .consfig_module_properties()
            .call_init(&mut *ctx)
            .await;
        ctx.data_mut().leave();
        match init {
            Ok(Ok(())) => Ok(bindings),
            Ok(Err(reason)) => Err(failed(format!("init failed: {reason}"))),
            Err(trap) => {
                ctx.data_mut().note_trap(());
                match time_limit_of(&trap) {
                    Some(limit) => Err(CallError::TimeLimit(limit)),
                    None => Err(failed(format!("init {}", describe_trap(&trap)))),
                }
            }
        }
    }
}

/// A one-line reason for a trap, e.g. "wasm trap: wasm `unreachable` instruction executed".
pub(super) fn describe_trap(e: &wasmtime::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_property_names() {
        let known = ["file:has-content", "file:absent"];
        assert_eq!(closest("file:has-contnt", &known), Some("file:has-content"));
        assert_eq!(closest("cmd:single", &known), None);
        let unknown = CallError::UnknownProperty {
            name: "file:has-contnt".into(),
            hint: Some("file:has-content".into()),
        };
        assert_eq!(
            unknown.to_string(),
            "unknown property file:has-contnt (did you mean file:has-content?)"
        );
    }
}
