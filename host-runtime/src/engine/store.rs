//! The data of a store: the host state, which the `host` calls work on, and
//! what the engine keeps of the calls into modules — the loaded modules,
//! which of them are on the call stack, nested forms waiting to be
//! validated, the outcomes of subdeployments, and an exit a module asked for.

use std::sync::Arc;

use wasmtime_wasi::{WasiCtxView, WasiView};

use super::modules::{MAX_EXTRA_INSTANCES, ModuleSet};
use crate::host::bindings::Module as ModuleBindings;
use crate::host::state::HostState;
use crate::sandbox::policy::show_bytes;
use crate::wire::outcome::Nested;

/// Most forms that may wait for validation at once: a module cannot grow
/// the host's memory by asking for validations it never lets happen.
pub const MAX_DEFERRED: usize = 1024;

/// The outcomes of a form's subdeployments are larger than its output limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the reports of this form's subdeployments are larger than the output limit of {}",
    show_bytes(*limit)
)]
pub struct NestedTooLarge {
    pub limit: u64,
}

/// The bytes of text a subdeployment's form and its outcome hold (file
/// changes in check mode aside: they are the form's own report).
fn nested_text(nested: &Nested) -> u64 {
    let outcome = &nested.outcome;
    let own = nested.context.len()
        + nested.root.as_os_str().len()
        + nested.form.0.to_string().len()
        + outcome.output.len()
        + outcome.reason.as_ref().map_or(0, String::len)
        + outcome.skipped.iter().map(String::len).sum::<usize>()
        + outcome
            .unknown_after
            .iter()
            .map(|step| step.to_string().len())
            .sum::<usize>();
    outcome
        .nested
        .iter()
        .map(nested_text)
        .fold(own as u64, u64::saturating_add)
}

/// Why a form could not be left to validate later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeferRefused {
    #[error("more than {MAX_DEFERRED} forms are waiting to be validated")]
    TooMany,
    #[error(
        "the forms waiting to be validated would take more than {} (the memory limit of the module)",
        show_bytes(*limit)
    )]
    TooLarge { limit: u64 },
}

pub struct StoreData {
    host: HostState,
    /// Set once every module is instantiated.
    modules: Option<Arc<ModuleSet>>,
    /// Indices of the modules on the call stack, innermost last.
    active: Vec<usize>,
    /// Forms (as text) given to `validate-form` whose module (by index) was
    /// on the stack, to be validated once it unwinds (an instance cannot be
    /// re-entered); held to [`MAX_DEFERRED`] and the module's memory limit.
    deferred: Vec<(usize, String)>,
    deferred_bytes: u64,
    /// Outcomes of the subdeployments the current form started, and the
    /// bytes of text they hold.
    nested: Vec<Nested>,
    nested_bytes: u64,
    /// The status a module passed to WASI `exit`, which ends its form.
    exit_requested: Option<i32>,
    /// A call into a module trapped: its instance cannot be entered again.
    trapped: bool,
    /// Instances made beyond the pristine ones, for modules applying forms
    /// of their own, that no call is running in now, by module index.
    spare: Vec<(usize, ModuleBindings)>,
    /// How many such instances this store made.
    extra_instances: usize,
}

impl StoreData {
    pub fn new(host: HostState) -> Self {
        StoreData {
            host,
            modules: None,
            active: Vec::new(),
            deferred: Vec::new(),
            deferred_bytes: 0,
            nested: Vec::new(),
            nested_bytes: 0,
            exit_requested: None,
            trapped: false,
            spare: Vec::new(),
            extra_instances: 0,
        }
    }

    pub fn host(&self) -> &HostState {
        &self.host
    }

    pub fn host_mut(&mut self) -> &mut HostState {
        &mut self.host
    }

    pub fn modules(&self) -> Option<&Arc<ModuleSet>> {
        self.modules.as_ref()
    }

    pub(super) fn set_modules(&mut self, modules: Arc<ModuleSet>) {
        self.modules = Some(modules);
    }

    /// Whether module `index` is on the call stack.
    pub fn is_active(&self, index: usize) -> bool {
        self.active.contains(&index)
    }

    pub fn depth(&self) -> usize {
        self.active.len()
    }

    /// Module `index`, named `name`, starts running.
    pub(super) fn enter(&mut self, index: usize, name: &str) {
        self.active.push(index);
        self.host.enter(name);
    }

    pub(super) fn leave(&mut self) {
        self.active.pop();
        self.host.leave();
    }

    /// An idle extra instance of module `index`, if there is one.
    pub(super) fn take_spare(&mut self, index: usize) -> Option<ModuleBindings> {
        let at = self.spare.iter().position(|(i, _)| *i == index)?;
        Some(self.spare.swap_remove(at).1)
    }

    /// An extra instance of module `index` whose call returned: idle again.
    pub(super) fn put_spare(&mut self, index: usize, bindings: ModuleBindings) {
        self.spare.push((index, bindings));
    }

    /// Count one more extra instance; false when no more may be made.
    pub(super) fn count_extra_instance(&mut self) -> bool {
        if self.extra_instances >= MAX_EXTRA_INSTANCES {
            return false;
        }
        self.extra_instances += 1;
        true
    }

    /// Keep the form `text` of module `index` to validate later.
    pub(super) fn defer_validation(
        &mut self,
        index: usize,
        text: &str,
    ) -> Result<(), DeferRefused> {
        if self.deferred.len() >= MAX_DEFERRED {
            return Err(DeferRefused::TooMany);
        }
        let limit = self.host.running_limit().memory;
        let bytes = self.deferred_bytes.saturating_add(text.len() as u64);
        if bytes > limit {
            return Err(DeferRefused::TooLarge { limit });
        }
        self.deferred_bytes = bytes;
        self.deferred.push((index, text.to_owned()));
        Ok(())
    }

    pub(super) fn deferred_count(&self) -> usize {
        self.deferred.len()
    }

    pub(super) fn pop_deferred(&mut self) -> Option<(usize, String)> {
        let popped = self.deferred.pop()?;
        self.deferred_bytes -= popped.1.len() as u64;
        Some(popped)
    }

    /// A call was abandoned midway (at its deadline, waiting in the host):
    /// nothing of it is on the stack or waiting any more.
    pub(super) fn abandon_calls(&mut self) {
        // An abandoned call leaves its instance unenterable, as a trap does.
        self.trapped = true;
        self.active.clear();
        self.deferred.clear();
        self.deferred_bytes = 0;
        self.host.leave_all();
    }

    /// Keep the outcome of a subdeployment's form, within the output limit
    /// of the running module for all of them: a module cannot make the host
    /// hold more of its subdeployments' reports than of its own output.
    pub(super) fn push_nested(&mut self, nested: Nested) -> Result<(), NestedTooLarge> {
        let limit = self.host.running_limit().output;
        let bytes = self.nested_bytes.saturating_add(nested_text(&nested));
        if bytes > limit {
            return Err(NestedTooLarge { limit });
        }
        self.nested_bytes = bytes;
        self.nested.push(nested);
        Ok(())
    }

    pub(super) fn take_nested(&mut self) -> Vec<Nested> {
        self.nested_bytes = 0;
        std::mem::take(&mut self.nested)
    }

    /// A call trapped (with `passing` through, for the caller's match).
    pub(super) fn note_trap<T>(&mut self, passing: T) -> T {
        self.trapped = true;
        passing
    }

    /// Whether a call into a module of this store trapped.
    pub fn trapped(&self) -> bool {
        self.trapped
    }

    pub(super) fn request_exit(&mut self, status: i32) {
        self.exit_requested = Some(status);
    }

    pub fn exit_requested(&self) -> Option<i32> {
        self.exit_requested
    }
}

impl WasiView for StoreData {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.host.ctx()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::state::HostMode;
    use crate::sandbox::policy::Policy;

    fn running(memory: u64) -> StoreData {
        let mut policy = Policy::default();
        policy.limits.forms.memory = Some(memory);
        let mut data = StoreData::new(HostState::new(HostMode::Inspect, policy));
        data.enter(0, "m");
        data
    }

    #[test]
    fn forms_waiting_for_validation_are_bounded_in_number_and_size() {
        let mut data = running(1 << 30);
        for _ in 0..MAX_DEFERRED {
            data.defer_validation(0, r#"["m:p"]"#).unwrap();
        }
        assert_eq!(
            data.defer_validation(0, r#"["m:p"]"#),
            Err(DeferRefused::TooMany)
        );
        assert_eq!(data.pop_deferred(), Some((0, r#"["m:p"]"#.to_owned())));
        data.defer_validation(0, r#"["m:p"]"#).unwrap();

        let mut data = running(1000);
        let big = format!(r#"["m:p", "{}"]"#, "x".repeat(400));
        data.defer_validation(0, &big).unwrap();
        data.defer_validation(0, &big).unwrap();
        let refused = data.defer_validation(0, &big).unwrap_err();
        assert_eq!(refused, DeferRefused::TooLarge { limit: 1000 });
        assert!(refused.to_string().contains("1000 bytes"), "{refused}");
        data.pop_deferred().unwrap();
        data.defer_validation(0, &big).unwrap();
        data.abandon_calls();
        assert_eq!((data.deferred_count(), data.depth()), (0, 0));
    }

    #[test]
    fn the_reports_of_subdeployments_are_held_to_the_output_limit() {
        let mut policy = Policy::default();
        policy.limits.forms.output = Some(1000);
        let mut data = StoreData::new(HostState::new(HostMode::Inspect, policy));
        data.enter(0, "m");
        let nested = |output: usize| Nested {
            context: "subdeployment".into(),
            root: "/".into(),
            form: (&consfig_contract::Form::parse(r#"["m:p"]"#).unwrap()).into(),
            outcome: crate::wire::outcome::Outcome::failed("no", "o".repeat(output)),
        };
        data.push_nested(nested(400)).unwrap();
        data.push_nested(nested(400)).unwrap();
        let refused = data.push_nested(nested(400)).unwrap_err();
        assert_eq!(refused, NestedTooLarge { limit: 1000 });
        assert_eq!(data.take_nested().len(), 2);
        data.push_nested(nested(400)).unwrap();
    }
}
