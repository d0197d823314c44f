//! The linker every module is instantiated with, in one place: WASI p2, the
//! `host` interface (the host layer's calls), and the `forms` interface,
//! defined here because its calls need the whole store — `apply` and
//! `validate-form` call into other instances, `subdeploy` starts a fresh
//! image elsewhere, `dump-image` bundles the loaded modules.

use std::sync::Arc;

use consfig_contract::{Change, Context, ContextError, Form, FormError, GrantError, parse_grants};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Engine, StoreContextMut};

use super::launcher::{LaunchError, Subdeployment};
use super::modules::{CallError, ModuleSet};
use super::store::{DeferRefused, NestedTooLarge, StoreData};
use super::{EngineError, error_chain};
use crate::bundle::format::BundleGiven;
use crate::host::bindings::consfig::module::{host, types};
use crate::host::error::HostError;
use crate::host::state::HostState;
use crate::sandbox::policy::{Policy, normal_path};
use crate::wire::outcome::{Nested, Status};

/// The `forms` interface, as modules import it.
const FORMS: &str = "consfig:module/forms@0.5.0";

#[derive(Debug, thiserror::Error)]
enum FormsError {
    #[error("{call}: {error}")]
    BadForm {
        call: &'static str,
        error: FormError,
    },
    #[error("subdeploy: form {form}: {error}")]
    BadNestedForm { form: String, error: FormError },
    #[error("subdeploy: {0}")]
    BadContext(ContextError),
    #[error("dump-image: {0}")]
    BadGrant(GrantError),
    #[error("validate-form: {0}")]
    Deferred(DeferRefused),
    #[error("subdeploy: {0}")]
    NestedTooLarge(NestedTooLarge),
    #[error("{0}: modules are not loaded yet")]
    NotLoaded(&'static str),
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    Call(#[from] CallError),
    /// The form a bundle would apply does not validate.
    #[error("{form}: {error}")]
    BundledForm { form: String, error: CallError },
    #[error("{call}: {error}")]
    Launch {
        call: &'static str,
        error: LaunchError,
    },
    #[error("dump-image {path}: {reason}")]
    Bundle { path: String, reason: String },
    #[error("{failed} of {total} forms failed in {chain}")]
    NestedFailed {
        failed: usize,
        total: usize,
        chain: String,
    },
    /// Check mode: forms of the subdeployment failed after steps it could not take.
    #[error("{unknown} of {total} forms in {chain} could not be known in check mode")]
    NestedUnknown {
        unknown: usize,
        total: usize,
        chain: String,
    },
}

pub(super) fn new_linker(engine: &Engine) -> Result<Linker<StoreData>, EngineError> {
    let engine_err = |e: wasmtime::Error| EngineError::Engine(error_chain(&e));
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(engine_err)?;
    super::lookups::check_name_lookups(&mut linker).map_err(engine_err)?;
    host::add_to_linker::<StoreData, HasSelf<HostState>>(&mut linker, StoreData::host_mut)
        .map_err(engine_err)?;
    define_forms(&mut linker).map_err(engine_err)?;
    Ok(linker)
}

fn wit_change(change: Change) -> types::Change {
    match change {
        Change::Unchanged => types::Change::Unchanged,
        Change::Changed => types::Change::Changed,
    }
}

impl FormsError {
    /// Whether check mode may not know this failure to be one: what a
    /// step it did not take could cause (a file or a chroot missing, a
    /// property failing). Refusals by the grants, bad arguments and limits
    /// are real whatever check mode skipped.
    fn check_may_not_know(&self) -> bool {
        match self {
            FormsError::Host(error) => !error.is_refusal(),
            FormsError::Call(error) => error.check_may_not_know(),
            FormsError::Launch { .. }
            | FormsError::Bundle { .. }
            | FormsError::NestedFailed { .. }
            | FormsError::NestedUnknown { .. } => true,
            FormsError::BadForm { .. }
            | FormsError::BadNestedForm { .. }
            | FormsError::BadContext(_)
            | FormsError::BadGrant(_)
            | FormsError::Deferred(_)
            | FormsError::NestedTooLarge(_)
            | FormsError::NotLoaded(_)
            | FormsError::BundledForm { .. } => false,
        }
    }
}

/// Text at the boundary: what the module receives. A real failure (a
/// refusal by the grants, say) is noted for the form's report: its form
/// fails in check mode whatever check mode skipped.
fn to_wit<T>(data: &mut StoreData, result: Result<T, FormsError>) -> Result<T, String> {
    result.map_err(|e| {
        if !e.check_may_not_know() {
            data.host_mut().note_real_failure();
        }
        e.to_string()
    })
}

fn define_forms(linker: &mut Linker<StoreData>) -> wasmtime::Result<()> {
    let mut forms = linker.instance(FORMS)?;
    forms.func_wrap_async(
        "apply",
        |mut store: StoreContextMut<'_, StoreData>, (form,): (String,)| {
            Box::new(async move {
                let result = apply(&mut store, &form).await.map(wit_change);
                Ok((to_wit(store.data_mut(), result),))
            })
        },
    )?;
    forms.func_wrap_async(
        "validate-form",
        |mut store: StoreContextMut<'_, StoreData>, (form,): (String,)| {
            Box::new(async move {
                let result = validate_form(&mut store, &form).await;
                Ok((to_wit(store.data_mut(), result),))
            })
        },
    )?;
    forms.func_wrap_async(
        "subdeploy",
        |mut store: StoreContextMut<'_, StoreData>,
         (contexts, forms): (Vec<String>, Vec<String>)| {
            Box::new(async move {
                let result = subdeploy(store.data_mut(), &contexts, &forms).map(wit_change);
                Ok((to_wit(store.data_mut(), result),))
            })
        },
    )?;
    forms.func_wrap_async(
        "dump-image",
        |mut store: StoreContextMut<'_, StoreData>,
         (path, form, grants): (String, String, Vec<String>)| {
            Box::new(async move {
                let result = dump_image(&mut store, &path, &form, &grants)
                    .await
                    .map(wit_change);
                Ok((to_wit(store.data_mut(), result),))
            })
        },
    )?;
    Ok(())
}

/// A form a module passed to `call`, the loaded modules, and which of them
/// defines its property.
fn owned_form(
    data: &StoreData,
    call: &'static str,
    form: &str,
) -> Result<(Form, Arc<ModuleSet>, usize), FormsError> {
    let form = Form::parse(form).map_err(|error| FormsError::BadForm { call, error })?;
    let modules = Arc::clone(data.modules().ok_or(FormsError::NotLoaded(call))?);
    let index = modules.property_owner(form.name())?;
    Ok((form, modules, index))
}

async fn apply(
    store: &mut StoreContextMut<'_, StoreData>,
    form: &str,
) -> Result<Change, FormsError> {
    let (form, modules, index) = owned_form(store.data(), "apply", form)?;
    Ok(modules.call_apply(store, index, &form).await?)
}

async fn validate_form(
    store: &mut StoreContextMut<'_, StoreData>,
    form: &str,
) -> Result<(), FormsError> {
    let (parsed, modules, index) = owned_form(store.data(), "validate-form", form)?;
    if store.data().is_active(index) {
        // Its instance is on the stack and cannot be re-entered: it is
        // validated when the stack has unwound (`validate_nested`).
        store
            .data_mut()
            .defer_validation(index, form)
            .map_err(FormsError::Deferred)?;
        return Ok(());
    }
    Ok(modules.call_validate(store, index, &parsed).await?)
}

/// Apply forms in contexts, in a fresh image the launcher starts; each
/// outcome is reported nested under the calling form.
fn subdeploy(
    data: &mut StoreData,
    contexts: &[String],
    forms: &[String],
) -> Result<Change, FormsError> {
    data.host().effects_allowed("subdeploy")?;
    let contexts = contexts
        .iter()
        .map(|c| c.parse::<Context>().map_err(FormsError::BadContext))
        .collect::<Result<Vec<_>, _>>()?;
    let forms = forms
        .iter()
        .map(|f| {
            Form::parse(f).map_err(|error| FormsError::BadNestedForm {
                form: f.clone(),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let recipe = Arc::clone(
        data.modules()
            .ok_or(FormsError::NotLoaded("subdeploy"))?
            .recipe(),
    );
    let policy = data.host().subdeployment_policy(&contexts)?;
    if forms.is_empty() {
        // Nothing to apply: nothing to enter either.
        return Ok(Change::Unchanged);
    }
    let chain = if contexts.is_empty() {
        "subdeployment".to_owned()
    } else {
        Context::describe_chain(&contexts)
    };
    // In check mode a subdeployment sees what was and would be written so
    // far, beneath its chroot if it has one, and adds to that.
    let root = crate::host::processes::files_root(&contexts);
    let overlay = data
        .host()
        .check_view(&root)
        .map_err(|e| HostError::file("subdeploy", &root.display().to_string(), e))?;
    let outcomes = recipe
        .launcher()
        .subdeploy(Subdeployment {
            recipe: &recipe,
            policy,
            contexts: &contexts,
            overlay,
            forms: &forms,
        })
        .map_err(|error| FormsError::Launch {
            call: "subdeploy",
            error,
        })?;
    let (mut changed, mut failed, mut unknown) = (false, 0, 0);
    for (form, outcome) in forms.iter().zip(outcomes) {
        data.host_mut().record_beneath(&root, &outcome.changes);
        changed |= outcome.status == Status::Changed;
        failed += usize::from(outcome.status == Status::Failed);
        unknown += usize::from(outcome.status == Status::Unknown);
        data.push_nested(Nested {
            context: chain.clone(),
            root: root.clone(),
            form: form.into(),
            outcome,
        })
        .map_err(FormsError::NestedTooLarge)?;
    }
    match (failed, unknown, changed) {
        (0, 0, false) => Ok(Change::Unchanged),
        (0, 0, true) => Ok(Change::Changed),
        (0, unknown, _) => Err(FormsError::NestedUnknown {
            unknown,
            total: forms.len(),
            chain,
        }),
        (failed, _, _) => Err(FormsError::NestedFailed {
            failed,
            total: forms.len(),
            chain,
        }),
    }
}

/// What a bundle of `form` carries from the consfig under `policy`: the
/// host's variables, and the files it was sent that `form` names.
fn given_to(policy: &Policy, form: &Form) -> BundleGiven {
    fn strings_in<'v>(value: &'v serde_json::Value, out: &mut Vec<&'v str>) {
        match value {
            serde_json::Value::String(s) => out.push(s),
            serde_json::Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| strings_in(v, out)),
            _ => {}
        }
    }
    let mut strings = Vec::new();
    for arg in form.args() {
        strings_in(arg, &mut strings);
    }
    let named: Vec<String> = strings.into_iter().map(normal_path).collect();
    let files = (policy.files.paths())
        .filter(|path| named.iter().any(|n| n == path))
        .filter_map(|path| Some((path.to_owned(), policy.files.get(path)?.to_vec())))
        .collect();
    BundleGiven {
        vars: policy.vars.clone(),
        files,
    }
}

/// Write a bundle of every loaded module applying `form`, through the file
/// backend (check mode records it); changed only when the bytes differ.
async fn dump_image(
    store: &mut StoreContextMut<'_, StoreData>,
    path: &str,
    form: &str,
    grants: &[String],
) -> Result<Change, FormsError> {
    store.data().host().effects_allowed("dump-image")?;
    let (form, modules, index) = owned_form(store.data(), "dump-image", form)?;
    let grants = parse_grants(grants).map_err(FormsError::BadGrant)?;
    store.data().host().bundle_grants(&grants)?;
    let place = store.data().host().place("dump-image", path, true)?;
    // A bundle whose form could never run is refused now, not when it starts.
    if !store.data().is_active(index) {
        modules
            .validate_nested(store, index, &form)
            .await
            .map_err(|error| FormsError::BundledForm {
                form: form.name().to_owned(),
                error,
            })?;
    }
    let stub = modules
        .recipe()
        .launcher()
        .stub()
        .map_err(|error| FormsError::Launch {
            call: "dump-image",
            error,
        })?;
    // What the consfig gave this host goes with it: its variables, and the
    // files of the consfig the bundled form names.
    let given = given_to(store.data().host().policy(), &form);
    let bytes = modules
        .bundle(&stub, &form, &grants, &given)
        .map_err(|reason| FormsError::Bundle {
            path: path.to_owned(),
            reason,
        })?;
    let changed = store
        .data_mut()
        .host_mut()
        .files()
        .write_if_changed(&place, &bytes, 0o755)
        .map_err(|e| HostError::file("dump-image", path, e))?;
    Ok(Change::from(changed))
}
