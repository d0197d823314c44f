//! The pristine image: every module of a recipe instantiated once in one
//! store and initialised. The runtime forks it and applies each form in a
//! copy; on the controller it describes modules and validates forms.

use std::collections::HashMap;
use std::sync::Arc;

use consfig_contract::arguments::ParamSchema;
use consfig_contract::{Change, Form, Schema, name};
use wasmtime::Store;

use super::deadline::{Deadline, TimeLimitExceeded, watch};
use super::executor::block_on;
use super::modules::{CallError, Instance, ModuleSet, Owner, describe_trap};
use super::recipe::Recipe;
use super::store::StoreData;
use super::{EngineError, error_chain};
use crate::host::bindings::Module as ModuleBindings;
use crate::host::bindings::consfig::module::types::{ModuleInfo, ParamInfo};
use crate::host::state::{FormReport, HostMode, HostState};
use crate::sandbox::overlay::Unknowable;
use crate::sandbox::policy::{INSPECT_TIME_LIMIT, LimitSet, Policy, show_bytes};
use crate::sandbox::redact::Redactor;
use crate::wire::outcome::{Outcome, Status};

pub struct Image {
    store: Store<StoreData>,
    modules: Arc<ModuleSet>,
}

impl Image {
    /// Instantiate and initialise every module of `recipe` in a store whose
    /// host starts as `host` (a deploy's policy, a bundle's grants and stdio,
    /// or inspecting).
    pub fn new(recipe: &Arc<Recipe>, host: HostState) -> Result<Self, EngineError> {
        block_on(Self::load(recipe, host))
    }

    /// An image that only describes modules and validates forms: every
    /// call with an effect is refused, every call held to `limits`, and
    /// none longer than [`INSPECT_TIME_LIMIT`].
    pub fn inspecting(recipe: &Arc<Recipe>, limits: LimitSet) -> Result<Self, EngineError> {
        let policy = Policy {
            limits: limits.with_time_at_most(INSPECT_TIME_LIMIT),
            ..Policy::default()
        };
        Self::new(recipe, HostState::new(HostMode::Inspect, policy))
    }

    async fn load(recipe: &Arc<Recipe>, host: HostState) -> Result<Self, EngineError> {
        let mut store = Store::new(recipe.engine(), StoreData::new(host));
        store.limiter(|data| data.host_mut() as &mut dyn wasmtime::ResourceLimiter);
        watch(&mut store);
        // Before a module has said its name, it gets the limit of every form.
        let limit = store.data().host().policy().limits.for_forms().time;
        let mut instances: Vec<Instance> = Vec::with_capacity(recipe.components().len());
        let mut by_property = HashMap::new();
        for loaded in recipe.components() {
            let load_err = |message: String| EngineError::Load {
                origin: loaded.origin.clone(),
                message,
            };
            let bindings =
                ModuleBindings::instantiate_async(&mut store, &loaded.component, recipe.linker())
                    .await
                    .map_err(|e| load_err(format!("cannot instantiate: {}", error_chain(&e))))?;
            let props = bindings.consfig_module_properties();
            store.data_mut().host_mut().loading(Some(&loaded.origin));
            let deadline = Deadline::start(&mut store, limit);
            let init = deadline.run(props.call_init(&mut store)).await;
            deadline.end(&mut store);
            flatten_timed(init)
                .map_err(|e| load_err(format!("init{}", describe_failure(&e))))?
                .map_err(|e| load_err(format!("init failed: {e}")))?;
            let deadline = Deadline::start(&mut store, limit);
            let info = deadline.run(props.call_describe(&mut store)).await;
            deadline.end(&mut store);
            store.data_mut().host_mut().loading(None);
            let info = flatten_timed(info)
                .map_err(|e| load_err(format!("describe{}", describe_failure(&e))))?;
            if !name::is_name(&info.name) {
                return Err(load_err(format!(
                    "module name {:?} is not lowercase letters, digits and dashes, starting with a letter",
                    info.name
                )));
            }
            if let Some(other) = instances.iter().find(|i| i.info.name == info.name) {
                return Err(EngineError::DuplicateModule {
                    name: info.name,
                    first: other.origin.clone(),
                    second: loaded.origin.clone(),
                });
            }
            let index = instances.len();
            for property in &info.properties {
                if name::split_property(&property.name).map(|(m, _)| m) != Some(&info.name) {
                    return Err(load_err(format!(
                        "property {} is not named {}:…, after its module",
                        property.name, info.name
                    )));
                }
                let params = param_schemas(&property.params)
                    .map_err(|e| load_err(format!("property {}: {e}", property.name)))?;
                by_property.insert(property.name.clone(), Owner { index, params });
            }
            instances.push(Instance {
                origin: loaded.origin.clone(),
                sha256: loaded.sha256.clone(),
                info,
                bindings,
            });
        }
        let modules = Arc::new(ModuleSet::new(instances, by_property, Arc::clone(recipe)));
        store.data_mut().set_modules(Arc::clone(&modules));
        // What modules printed while loading is not any form's output.
        store.data_mut().host_mut().take_report();
        Ok(Image { store, modules })
    }

    /// Descriptions of the loaded modules, in load order, with their hashes.
    pub fn modules(&self) -> impl Iterator<Item = (&str, &ModuleInfo)> {
        self.modules.infos()
    }

    pub fn module_set(&self) -> &Arc<ModuleSet> {
        &self.modules
    }

    /// Check that a form names a known property and that its arguments
    /// decode, forms among them included, within the module's time limit.
    pub fn validate(&mut self, form: &Form) -> Result<(), CallError> {
        let modules = Arc::clone(&self.modules);
        let index = modules.property_owner(form.name())?;
        let limit = self.policy().limits.for_module(form.module()).time;
        let deadline = Deadline::start(&mut self.store, limit);
        let result = block_on(deadline.run(modules.validate_nested(&mut self.store, index, form)));
        deadline.end(&mut self.store);
        let result = self.timed_result(result);
        self.store.data_mut().host_mut().take_report();
        // A module that trapped (or was stopped at its deadline) cannot be
        // entered again: the next form is validated on a fresh image.
        if self.store.data().trapped() {
            let host = self.store.data().host().afresh();
            if let Ok(fresh) = Self::new(self.modules.recipe(), host) {
                *self = fresh;
            }
        }
        result
    }

    /// Apply a form on this image, within its module's time limit. The
    /// runtime only calls this on a forked copy.
    pub fn apply(&mut self, form: &Form) -> Outcome {
        let limit = self.policy().limits.for_module(form.module()).time;
        self.apply_within(form, Some(limit))
    }

    /// Apply a form that runs as long as it runs: a bundle's service.
    pub fn apply_untimed(&mut self, form: &Form) -> Outcome {
        self.apply_within(form, None)
    }

    fn apply_within(&mut self, form: &Form, limit: Option<std::time::Duration>) -> Outcome {
        let modules = Arc::clone(&self.modules);
        let result = match (modules.property_owner(form.name()), limit) {
            (Ok(index), Some(limit)) => {
                let deadline = Deadline::start(&mut self.store, limit);
                let result =
                    block_on(deadline.run(modules.call_apply(&mut self.store, index, form)));
                deadline.end(&mut self.store);
                self.timed_result(result)
            }
            (Ok(index), None) => block_on(modules.call_apply(&mut self.store, index, form)),
            (Err(e), _) => Err(e),
        };
        let report = self.store.data_mut().host_mut().take_report();
        let nested = self.store.data_mut().take_nested();
        let limit = self.policy().limits.for_module(form.module()).output;
        let (mut outcome, steps) =
            outcome_of(result, report, limit, &self.policy().data.redactor());
        outcome.nested = nested;
        if self.policy().check {
            outcome.settle_check(
                steps.real_failure,
                &steps.ran_without_changes,
                &steps.earlier,
            );
        }
        outcome
    }

    /// The result of a call that had a deadline; one abandoned at it (it
    /// waited in the host) leaves nothing of itself on the stack.
    fn timed_result<T>(
        &mut self,
        result: Result<Result<T, CallError>, TimeLimitExceeded>,
    ) -> Result<T, CallError> {
        result.unwrap_or_else(|limit| {
            self.store.data_mut().abandon_calls();
            Err(CallError::TimeLimit(limit))
        })
    }

    /// Check mode: take in what a form applied on a copy of this image
    /// would have changed, so the forms after it see it.
    /// The commands it did not run, too: a failure after them is unknown.
    pub fn absorb(&mut self, outcome: &Outcome) -> std::io::Result<()> {
        let host = self.store.data_mut().host_mut();
        host.note_unknowable(outcome.not_run());
        host.absorb(&outcome.changes)
    }

    /// The status a module asked to exit with (WASI `exit`), if one did.
    pub fn exit_requested(&self) -> Option<i32> {
        self.store.data().exit_requested()
    }

    /// Whether this image's forms run in check mode.
    pub fn check_mode(&self) -> bool {
        self.store.data().host().check_mode()
    }

    /// The policy this image's forms, and their subdeployments, run under.
    pub fn policy(&self) -> &Policy {
        self.store.data().host().policy()
    }
}

/// Why `init` or `describe` failed, after the call's name: `: time limit…`
/// or ` wasm trap: …`.
/// A property's parameters as the runtime checks forms against them: each
/// schema parsed, each default JSON of its schema. A module that says
/// otherwise is refused when it loads.
fn param_schemas(params: &[ParamInfo]) -> Result<Vec<ParamSchema>, String> {
    params
        .iter()
        .map(|param| {
            let name = &param.name;
            let schema =
                Schema::parse(&param.schema).map_err(|e| format!("parameter {name:?}: {e}"))?;
            let default = match &param.default {
                None => None,
                Some(text) => {
                    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                        format!("parameter {name:?}: its default {text:?} is not JSON: {e}")
                    })?;
                    schema.check(&value).map_err(|e| {
                        format!(
                            "parameter {name:?}: its default {text} is no value of {schema}: {e}"
                        )
                    })?;
                    Some(value)
                }
            };
            Ok(ParamSchema {
                name: name.clone(),
                schema,
                optional: param.optional || default.is_some(),
                default,
            })
        })
        .collect()
}

fn describe_failure(e: &wasmtime::Error) -> String {
    match super::deadline::time_limit_of(e) {
        Some(limit) => format!(": {limit}"),
        None => format!(" {}", describe_trap(e)),
    }
}

/// A call of `init` or `describe` that had a deadline, as the call's own error.
fn flatten_timed<T>(result: Result<wasmtime::Result<T>, TimeLimitExceeded>) -> wasmtime::Result<T> {
    result.unwrap_or_else(|limit| Err(wasmtime::Error::new(limit)))
}

/// A form's outcome from what its call returned and what it left behind,
/// its output held to `output_limit`; and what check mode needs of it.
fn outcome_of(
    result: Result<Change, CallError>,
    report: FormReport,
    output_limit: u64,
    redactor: &Redactor,
) -> (Outcome, CheckSteps) {
    let FormReport {
        mut output,
        output_cut,
        socket_denials,
        changes,
        skipped,
        ran_without_changes,
        earlier_unknowable,
        real_failure,
        panic,
    } = report;
    // What check mode never takes for unknown: a refusal by the grants, a
    // limit, a call the runtime itself refused, here or in a call within.
    let real_failure = real_failure
        || !socket_denials.is_empty()
        || result.as_ref().is_err_and(|e| !e.check_may_not_know());
    // Blanked before it is cut, so a cut never splits a value: what a
    // cut could leave of one shows only from output cut while captured.
    redactor.string(&mut output);
    let over_limit = output_cut
        || output.len() as u64 > output_limit
        || matches!(result, Err(CallError::OutputLimit(_)));
    let cut_here = output.len() as u64 > output_limit;
    if cut_here {
        let mut end = output_limit as usize;
        while !output.is_char_boundary(end) {
            end -= 1;
        }
        output.truncate(end);
    }
    if over_limit {
        redactor.split_tail(&mut output);
    }
    if cut_here {
        output.push_str("\n[output cut at the limit]\n");
    }
    let result = match result {
        _ if over_limit => Err(format!(
            "output limit of {} exceeded: the form printed or logged more",
            show_bytes(output_limit)
        )),
        Err(CallError::Trap(trap)) => Err(match panic {
            Some(panic) => format!("{trap} ({panic})"),
            None => trap,
        }),
        Err(other) => Err(other.to_string()),
        Ok(change) => Ok(change),
    };
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
            unknown_after: Vec::new(),
            duration_ms: None,
        },
        Err(reason) => {
            // Blanked before the outcome cuts it to its limit.
            let reason = redactor.text(&reason).into_owned();
            let reason = match socket_denials.first() {
                Some(denial) => format!("{reason} ({denial})"),
                None => reason,
            };
            Outcome::failed(reason, output)
        }
    };
    outcome.changes = changes;
    outcome.skipped = skipped;
    let steps = CheckSteps {
        real_failure: real_failure || over_limit,
        ran_without_changes,
        earlier: earlier_unknowable,
    };
    (outcome, steps)
}

/// What check mode needs of a form's report to tell a failure from an
/// unknown ([`Outcome::settle_check`]).
struct CheckSteps {
    real_failure: bool,
    ran_without_changes: Vec<String>,
    earlier: Vec<Unknowable>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::output::OutputLimitExceeded;

    fn outcome_of0(
        result: Result<Change, CallError>,
        report: FormReport,
        output_limit: u64,
        redactor: &Redactor,
    ) -> Outcome {
        outcome_of(result, report, output_limit, redactor).0
    }

    fn report(output: &str) -> FormReport {
        FormReport {
            output: output.to_owned(),
            ..FormReport::default()
        }
    }

    #[test]
    fn traps_name_the_panic_and_refused_sockets() {
        let trapped = Err(CallError::Trap("wasm trap: unreachable".into()));
        let with_panic = FormReport {
            panic: Some("panicked at src/lib.rs:4:5: deliberate panic".into()),
            socket_denials: vec!["denied: module web may not bind".into()],
            ..report("")
        };
        let outcome = outcome_of0(trapped, with_panic, 100, &Redactor::default());
        assert_eq!(
            outcome.reason.as_deref(),
            Some(
                "wasm trap: unreachable (panicked at src/lib.rs:4:5: deliberate panic) (denied: module web may not bind)"
            )
        );
        let failed = outcome_of0(
            Err(CallError::Failed("no".into())),
            report("out\n"),
            100,
            &Redactor::default(),
        );
        assert_eq!(
            (
                failed.status,
                failed.reason.as_deref(),
                failed.output.as_str()
            ),
            (Status::Failed, Some("no"), "out\n")
        );
    }

    #[test]
    fn output_past_the_limit_fails_the_form_and_is_cut() {
        let ok = outcome_of0(
            Ok(Change::Changed),
            report("0123456789"),
            4,
            &Redactor::default(),
        );
        assert_eq!(ok.status, Status::Failed);
        assert!(
            ok.reason
                .unwrap()
                .starts_with("output limit of 4 bytes exceeded")
        );
        assert_eq!(ok.output, "0123\n[output cut at the limit]\n");
        let trapped = outcome_of0(
            Err(CallError::OutputLimit(OutputLimitExceeded)),
            report(""),
            4,
            &Redactor::default(),
        );
        assert!(
            trapped
                .reason
                .unwrap()
                .starts_with("output limit of 4 bytes exceeded")
        );
        let cut_log = FormReport {
            output_cut: true,
            ..report("")
        };
        assert_eq!(
            outcome_of0(Ok(Change::Unchanged), cut_log, 4, &Redactor::default()).status,
            Status::Failed
        );
        let fine = outcome_of0(
            Ok(Change::Unchanged),
            report("ok\n"),
            4,
            &Redactor::default(),
        );
        assert_eq!((fine.status, fine.reason), (Status::Unchanged, None));
    }

    #[test]
    fn a_value_the_cut_would_split_is_blanked_whole() {
        let mut data = crate::sandbox::policy::HostData::default();
        data.insert("db".into(), b"hunter22-secret".to_vec());
        let redactor = Redactor::new(&data);
        // The limit falls inside the value.
        let outcome = outcome_of0(
            Ok(Change::Changed),
            report("pw: hunter22-secret\n"),
            10,
            &redactor,
        );
        assert!(!outcome.output.contains("hunt"), "{}", outcome.output);
        assert!(
            outcome.output.starts_with("pw: [data "),
            "{}",
            outcome.output
        );
        // Cut while captured, before the value's end arrived.
        let captured = FormReport {
            output_cut: true,
            ..report("pw: hunter22-se")
        };
        let outcome = outcome_of0(Ok(Change::Changed), captured, 100, &redactor);
        assert_eq!(outcome.output, "pw: [data db]");
        // A reason longer than its limit, with the value across the cut.
        let long = format!(
            "{}hunter22-secret",
            "x".repeat(crate::wire::outcome::MAX_REASON - 4)
        );
        let failed = outcome_of0(Err(CallError::Failed(long)), report(""), 100, &redactor);
        assert!(!failed.reason.unwrap().contains("hunt"));
    }
}
