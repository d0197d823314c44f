//! The data of a store: the host state, which the `host` calls work on, and
//! what the engine keeps of the calls into modules — the loaded modules,
//! which of them are on the call stack, nested forms waiting to be
//! validated, the outcomes of subdeployments, and an exit a module asked for.

use std::sync::Arc;

use consfig_contract::Form;
use wasmtime_wasi::{WasiCtxView, WasiView};

use super::modules::ModuleSet;
use crate::host::state::HostState;
use crate::wire::outcome::Nested;

pub struct StoreData {
    host: HostState,
    /// Set once every module is instantiated.
    modules: Option<Arc<ModuleSet>>,
    /// Indices of the modules on the call stack, innermost last.
    active: Vec<usize>,
    /// Forms given to `validate-form` whose module (by index) was on the
    /// stack, to be validated once it unwinds (an instance cannot be re-entered).
    deferred: Vec<(usize, Form)>,
    /// Outcomes of the subdeployments the current form started.
    nested: Vec<Nested>,
    /// The status a module passed to WASI `exit`, which ends its form.
    exit_requested: Option<i32>,
}

impl StoreData {
    pub fn new(host: HostState) -> Self {
        StoreData {
            host,
            modules: None,
            active: Vec::new(),
            deferred: Vec::new(),
            nested: Vec::new(),
            exit_requested: None,
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

    pub(super) fn defer_validation(&mut self, index: usize, form: Form) {
        self.deferred.push((index, form));
    }

    pub(super) fn deferred_count(&self) -> usize {
        self.deferred.len()
    }

    pub(super) fn pop_deferred(&mut self) -> Option<(usize, Form)> {
        self.deferred.pop()
    }

    pub(super) fn push_nested(&mut self, nested: Nested) {
        self.nested.push(nested);
    }

    pub(super) fn take_nested(&mut self) -> Vec<Nested> {
        std::mem::take(&mut self.nested)
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
