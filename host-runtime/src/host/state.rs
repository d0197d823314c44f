//! The host state of a store: everything the `host` calls know of the form
//! running — the modules on the call stack, the deploy's policy, the form's
//! output, check mode's overlay — behind a small API. Its fields are private:
//! the engine enters and leaves modules and takes each form's report; the
//! calls themselves live one file per concern beside this one.

use consfig_contract::{Context, Grant};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::error::HostError;
use super::output::Output;
use crate::sandbox::check::Check;
use crate::sandbox::confinement::{Confinement, Writer};
use crate::sandbox::files::{Disk, FileBackend};
use crate::sandbox::grants::ModuleGrants;
use crate::sandbox::network::NetworkGate;
use crate::sandbox::overlay::{FileChange, Overlay, Unknowable};
use crate::sandbox::place::Place;
use crate::sandbox::policy::{ConsfigFiles, Limit, MAX_SUBDEPLOY_DEPTH, Policy};

/// When the call into a module running now must end, and the limit that
/// set it (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallDeadline {
    pub at: std::time::Instant,
    pub limit: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostMode {
    /// Forms run for real: calls act on the host.
    Deploy,
    /// Modules are described or forms validated: no call may act on the host.
    Inspect,
}

/// What a form left behind, taken when it ends.
#[derive(Debug, Default)]
pub struct FormReport {
    /// What the modules logged and printed.
    pub output: String,
    /// The log went past the largest output limit and was cut.
    pub output_cut: bool,
    /// Sockets the grants refused: a module sees only "permission denied".
    pub socket_denials: Vec<String>,
    /// Check mode: the files the form would change.
    pub changes: Vec<FileChange>,
    /// Check mode: the commands it did not run.
    pub skipped: Vec<String>,
    /// Check mode: the read-only commands it ran on the host as it is,
    /// without the files check mode would have changed before them.
    pub ran_without_changes: Vec<String>,
    /// Check mode: the steps earlier forms did not take, oldest first.
    pub earlier_unknowable: Vec<Unknowable>,
    /// A call of the form failed for real: the grants refused it, or it
    /// was malformed or over a limit. Check mode never takes its form's
    /// failure for unknown.
    pub real_failure: bool,
    /// Why a module panicked, as it said before aborting.
    pub panic: Option<String>,
}

pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    output: Output,
    mode: HostMode,
    policy: Policy,
    /// Names of the modules on the call stack, innermost last.
    stack: Vec<String>,
    /// Where the module being loaded (in `init` or `describe`, before it
    /// has a name) came from, for refusals to name it.
    loading: Option<String>,
    /// The check WASI sockets make, kept to the modules running.
    net: NetworkGate,
    /// Check mode's file backend; None when files are acted on.
    check: Option<Check>,
    disk: Disk,
    /// The deadline of the call running now, if it has one.
    deadline: Option<CallDeadline>,
    pub(super) skipped: Vec<String>,
    pub(super) ran_without_changes: Vec<String>,
    /// A call of this form failed for real (see [`FormReport::real_failure`]).
    real_failure: bool,
    pub(super) panic: Option<String>,
}

impl HostState {
    /// For a deploy's forms (or, inspecting, nobody's), under its policy.
    pub fn new(mode: HostMode, policy: Policy) -> Self {
        // Each stream holds the largest output any form may have; a form's
        // own limit is checked when it ends.
        let output = Output::captured(policy.limits.max_output());
        Self::build(mode, policy, output, NetworkGate::default())
    }

    /// For a bundle's service: output to this process's stdout and stderr,
    /// the bundle's grants for every module in it, and the variables and
    /// files of the consfig it carries.
    pub fn for_service(
        grants: Vec<Grant>,
        vars: serde_json::Map<String, serde_json::Value>,
        files: ConsfigFiles,
    ) -> Self {
        let policy = Policy {
            every_module: Some(ModuleGrants {
                grants,
                ..ModuleGrants::default()
            }),
            vars,
            files,
            ..Policy::default()
        };
        Self::build(
            HostMode::Deploy,
            policy,
            Output::inherited(),
            NetworkGate::default().echoing(),
        )
    }

    fn build(mode: HostMode, policy: Policy, output: Output, net: NetworkGate) -> Self {
        // No stdin (the runtime's stdin is the protocol channel), no
        // environment, no preopened directories: a module reaches the host
        // through `host`, and sockets only as granted. Blocking on the
        // current thread keeps the process single-threaded, as fork needs.
        let mut wasi = WasiCtx::builder();
        output.attach(&mut wasi);
        wasi.arg("consfig-module")
            .allow_blocking_current_thread(true);
        let net = net.checking(policy.check);
        net.apply_to(&mut wasi, policy.any_network());
        let check = policy.check.then(Check::default);
        HostState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            output,
            mode,
            policy,
            stack: Vec::new(),
            loading: None,
            net,
            check,
            disk: Disk,
            deadline: None,
            skipped: Vec::new(),
            ran_without_changes: Vec::new(),
            real_failure: false,
            panic: None,
        }
    }

    /// A new host state in the same mode under the same policy, for a new
    /// image of the same modules.
    pub fn afresh(&self) -> Self {
        Self::new(self.mode, self.policy.clone())
    }

    /// Check mode starting from what earlier forms would have changed (a
    /// subdeployment's view); nothing outside check mode.
    pub fn seeing(mut self, overlay: Option<Overlay>) -> Self {
        if let (Some(check), Some(overlay)) = (&mut self.check, overlay) {
            *check = Check::new(overlay);
        }
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn check_mode(&self) -> bool {
        self.check.is_some()
    }

    /// The deadline of the call into a module running now.
    pub fn deadline(&self) -> Option<CallDeadline> {
        self.deadline
    }

    pub fn set_deadline(&mut self, deadline: Option<CallDeadline>) {
        self.deadline = deadline;
    }

    /// Module `name` starts running: a form, or an `apply` from another.
    pub fn enter(&mut self, name: &str) {
        self.stack.push(name.to_owned());
        self.net.set(self.confinement());
    }

    /// The module from `origin` is loading (`Some`), or done (`None`):
    /// it runs with no grants, and refusals name it by its origin.
    pub fn loading(&mut self, origin: Option<&str>) {
        self.loading = origin.map(str::to_owned);
    }

    /// The innermost module returned.
    pub fn leave(&mut self) {
        self.stack.pop();
        self.net.set(self.confinement());
    }

    /// The module running now (innermost on the call stack), if any.
    pub fn running_module(&self) -> Option<&str> {
        self.stack.last().map(String::as_str)
    }

    /// The limits of the module running now (outside any, of every form).
    pub fn running_limit(&self) -> Limit {
        self.policy
            .limits
            .for_module(self.running_module().unwrap_or(""))
    }

    /// A call was abandoned midway (its deadline passed while it waited in
    /// the host): no module runs any more.
    pub fn leave_all(&mut self) {
        self.stack.clear();
        self.net.set(self.confinement());
    }

    /// Everything the form left behind, leaving nothing for the next.
    pub fn take_report(&mut self) -> FormReport {
        let (output, output_cut) = self.output.take();
        FormReport {
            output,
            output_cut,
            socket_denials: self.net.take_denials(),
            changes: self
                .check
                .as_mut()
                .map(Check::take_changes)
                .unwrap_or_default(),
            skipped: std::mem::take(&mut self.skipped),
            ran_without_changes: std::mem::take(&mut self.ran_without_changes),
            earlier_unknowable: self
                .check
                .as_ref()
                .map(|check| check.earlier_unknowable().to_vec())
                .unwrap_or_default(),
            real_failure: std::mem::take(&mut self.real_failure),
            panic: self.panic.take(),
        }
    }

    /// The text a module gets for `error`; a refusal by the grants is
    /// noted, as a failure that check mode never takes for unknown.
    pub fn refusal_noted(&mut self, error: super::error::HostError) -> String {
        self.note_refusal(&error);
        error.to_string()
    }

    /// Note `error` if the grants refused the call.
    pub fn note_refusal(&mut self, error: &super::error::HostError) {
        if error.is_refusal() {
            self.note_real_failure();
        }
    }

    /// A call of this form failed for real.
    pub fn note_real_failure(&mut self) {
        self.real_failure = true;
    }

    /// Check mode: whether a command run now would see the host without
    /// files check mode would have changed.
    pub(super) fn check_has_changes(&self) -> bool {
        self.check.as_ref().is_some_and(Check::has_changes)
    }

    /// Check mode: take in the steps a form did not take, for the forms
    /// after it.
    pub fn note_unknowable(&mut self, steps: impl IntoIterator<Item = Unknowable>) {
        if let Some(check) = &mut self.check {
            check.note_unknowable(steps);
        }
    }

    /// Check mode: take in what a form run elsewhere (a forked copy) would
    /// have changed, so the forms after it see it.
    pub fn absorb(&mut self, changes: &[FileChange]) -> std::io::Result<()> {
        match &mut self.check {
            Some(check) => check.absorb(changes),
            None => Ok(()),
        }
    }

    /// Check mode: what a subdeployment chrooted at `root` sees.
    /// It carries the commands this form and earlier ones did not run.
    pub fn check_view(&self, root: &std::path::Path) -> std::io::Result<Option<Overlay>> {
        let mut view = self
            .check
            .as_ref()
            .map(|check| check.view_beneath(root))
            .transpose()?;
        if let Some(view) = &mut view {
            view.note_unknowable(self.skipped.iter().cloned().map(Unknowable::NotRun));
        }
        Ok(view)
    }

    /// Check mode: what a subdeployment chrooted at `root` would change.
    pub fn record_beneath(&mut self, root: &std::path::Path, changes: &[FileChange]) {
        if let Some(check) = &mut self.check {
            check.record_beneath(root, changes);
        }
    }

    pub(super) fn output(&mut self) -> &mut Output {
        &mut self.output
    }
}

/// The sandbox's decisions on calls, for the calls here and the engine's.
impl HostState {
    /// Refuse `call` while modules are only inspected.
    pub fn effects_allowed(&self, call: &'static str) -> Result<(), HostError> {
        match self.mode {
            HostMode::Deploy => Ok(()),
            HostMode::Inspect => Err(HostError::Inspecting { call }),
        }
    }

    /// The modules whose grants bound a call now: the running module, every
    /// untrusted non-standard module it was called through, and those a
    /// subdeployment was asked for through; and what every untrusted module
    /// of the deploy may write.
    pub fn confinement(&self) -> Confinement {
        let mut confining = Vec::new();
        if let Some((innermost, outer)) = self.stack.split_last() {
            confining.push((innermost.clone(), self.policy.grants_of(innermost)));
            for name in outer.iter().rev() {
                let grants = self.policy.grants_of(name);
                if !grants.trusted && !grants.standard {
                    confining.push((name.clone(), grants));
                }
            }
        } else {
            // Nothing runs outside a module's call: no module, no effects.
            let who = match &self.loading {
                Some(origin) => format!("{origin} (loading)"),
                None => "(none)".to_owned(),
            };
            confining.push((who, ModuleGrants::default()));
        }
        confining.extend(self.policy.ceiling.iter().cloned());
        let mut writers = self.policy.outer_writers.clone();
        // A standard module's programs are the system's own, which the
        // host runs as root anyway: only a call an untrusted module asked
        // for is bounded by what the deploy's other modules can write.
        if confining.iter().any(|(_, g)| !g.trusted && !g.standard) {
            writers.extend(self.policy.deploy_writers());
        }
        for (name, grants) in confining.iter().filter(|(_, g)| !g.trusted) {
            writers.extend(Writer::of(name, grants));
        }
        Confinement {
            modules: confining,
            writers,
        }
    }

    /// May a bundle written now be given `grants`?
    pub fn bundle_grants(&self, grants: &[Grant]) -> Result<(), HostError> {
        self.confinement().bundle_grants(grants).map_err(|denied| {
            let asked: Vec<String> = grants.iter().map(Grant::to_string).collect();
            HostError::denied("dump-image with", asked.join(" "), denied)
        })
    }

    /// May the modules running now look `name` up? A refusal is recorded
    /// for the form's reason, as a refused socket's is.
    pub fn may_look_up(&self, name: &str) -> bool {
        self.net.lookup(name)
    }

    /// Where a file call on `path` may act, or why it may not.
    pub fn place(&self, call: &'static str, path: &str, write: bool) -> Result<Place, HostError> {
        let checked =
            consfig_contract::absolute_path(path).map_err(|reason| HostError::BadPath {
                call,
                path: path.to_owned(),
                reason,
            })?;
        let confinement = self.confinement();
        let root = confinement
            .file_access(&checked, write)
            .map_err(|denied| HostError::denied(call, path, denied))?;
        if write && !self.policy.protected.is_empty() {
            // Where it leads, too: a symlink beneath a grant of `/` could
            // lead into the runtime's cache.
            let resolved = checked.parent().and_then(|dir| {
                let dir = std::fs::canonicalize(dir).ok()?;
                Some(match checked.file_name() {
                    Some(name) => dir.join(name),
                    None => dir,
                })
            });
            let paths: Vec<&std::path::Path> = [Some(checked.as_path()), resolved.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            confinement
                .protects(&self.policy.protected, &paths)
                .map_err(|denied| HostError::denied(call, path, denied))?;
        }
        Place::new(&checked, root).map_err(|e| HostError::file(call, path, e))
    }

    /// Where file calls act: the disk, or check mode's overlay.
    pub fn files(&mut self) -> &mut dyn FileBackend {
        match &mut self.check {
            Some(check) => check,
            None => &mut self.disk,
        }
    }

    /// The policy a subdeployment into `contexts` asked for now runs
    /// under: this one, with the untrusted, non-standard modules on the
    /// stack bounding its calls too, and what untrusted modules may write
    /// seen through the chroots it enters. Refused without the `subdeploy`
    /// grant, and without a `context:` grant for each context.
    pub fn subdeployment_policy(&self, contexts: &[Context]) -> Result<Policy, HostError> {
        let confinement = self.confinement();
        let chain = Context::describe_chain(contexts);
        confinement
            .subdeploy()
            .map_err(|denied| HostError::denied("subdeploy", chain.clone(), denied))?;
        for context in contexts {
            confinement
                .context(context)
                .map_err(|denied| HostError::denied("subdeploy", chain.clone(), denied))?;
        }
        // Seen from inside a chroot, what was written from outside it is
        // beneath its `/`; the grants themselves apply to paths inside.
        let mut outer_writers = self.policy.outer_writers.clone();
        let mut deploy_writers = self.policy.deploy_writers();
        // Whether an earlier context of the chain moved the root already:
        // a process id after it is not this process's to look up.
        let mut moved = false;
        for context in contexts {
            // A container's root, where this process can see it; None when it
            // cannot tell: then what any of them may write could be anywhere
            // inside, and counts as all of it.
            let root = match context {
                Context::Chroot { path, .. } => Some(Some(path.clone())),
                Context::Nsenter { .. } | Context::Machine { .. } => Some(
                    (!moved)
                        .then(|| super::processes::namespace_root(context))
                        .flatten(),
                ),
                Context::Setuid { .. } => None,
            };
            let Some(root) = root else { continue };
            moved = true;
            let inside = |writer: Writer| match &root {
                Some(path) => writer.inside(path),
                None => Some(Writer {
                    here: "/".into(),
                    ..writer
                }),
            };
            let own = confinement.modules.iter().filter(|(_, g)| !g.trusted);
            let own = own.flat_map(|(name, grants)| Writer::of(name, grants));
            outer_writers = (outer_writers.into_iter().chain(own))
                .filter_map(inside)
                .collect();
            deploy_writers = (deploy_writers.into_iter()).filter_map(inside).collect();
        }
        if self.policy.depth >= MAX_SUBDEPLOY_DEPTH {
            return Err(HostError::SubdeployTooDeep {
                max: MAX_SUBDEPLOY_DEPTH,
            });
        }
        Ok(Policy {
            ceiling: confinement.ceiling(),
            outer_writers,
            deploy_writers_inside: deploy_writers,
            depth: self.policy.depth + 1,
            ..self.policy.clone()
        })
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::test_support::host_under;
    use crate::sandbox::grants::ModuleGrants;

    #[test]
    fn subdeployments_nest_at_most_so_deep() {
        let mut policy = Policy::default();
        policy.grants.insert(
            "m".into(),
            ModuleGrants {
                grants: consfig_contract::parse_grants(&["subdeploy"]).unwrap(),
                ..ModuleGrants::default()
            },
        );
        let mut depth = 0;
        let refused = loop {
            match host_under(policy.clone()).subdeployment_policy(&[]) {
                Ok(deeper) => {
                    assert_eq!(deeper.depth, policy.depth + 1);
                    policy = deeper;
                    depth += 1;
                }
                Err(refused) => break refused,
            }
            assert!(depth <= MAX_SUBDEPLOY_DEPTH, "no end to nesting");
        };
        assert_eq!(depth, MAX_SUBDEPLOY_DEPTH);
        assert!(
            matches!(refused, HostError::SubdeployTooDeep { max: 8 }),
            "{refused}"
        );
        assert!(
            refused
                .to_string()
                .starts_with("subdeploy: subdeployments nest at most 8 deep")
        );
    }

    /// A module with these grants.
    fn module(grants: &[&str]) -> ModuleGrants {
        ModuleGrants {
            grants: consfig_contract::parse_grants(grants).unwrap(),
            ..ModuleGrants::default()
        }
    }

    #[test]
    fn a_subdeployment_is_given_the_deploys_writers_as_seen_inside_its_chroot() {
        let mut policy = Policy::default();
        policy
            .grants
            .insert("m".into(), module(&["subdeploy", "context:chroot:/srv/c1"]));
        policy
            .grants
            .insert("w".into(), module(&["write:/srv/c1/opt"]));
        policy
            .grants
            .insert("far".into(), module(&["write:/var/www"]));
        let chroot = Context::Chroot {
            path: "/srv/c1".into(),
            mounts: false,
        };
        let inside = host_under(policy.clone())
            .subdeployment_policy(&[chroot])
            .unwrap();
        let seen: Vec<_> = inside
            .deploy_writers()
            .into_iter()
            .map(|w| (w.module, w.here))
            .collect();
        assert_eq!(seen, [("w".to_owned(), "/opt".into())]);
        // And so at the next level down, without a chroot.
        let deeper = host_under(inside.clone())
            .subdeployment_policy(&[])
            .unwrap();
        assert_eq!(deeper.deploy_writers(), inside.deploy_writers());
    }

    #[test]
    fn in_a_container_whose_root_cannot_be_named_every_writer_writes_all_of_it() {
        let mut policy = Policy::default();
        policy
            .grants
            .insert("m".into(), module(&["subdeploy", "context:nsenter:*"]));
        policy
            .grants
            .insert("w".into(), module(&["write:/var/lib/machines/web/opt"]));
        // No such process: its root is not among this system's files.
        let gone = Context::Nsenter {
            pid: consfig_contract::PID_MAX,
        };
        let inside = host_under(policy).subdeployment_policy(&[gone]).unwrap();
        let seen: Vec<_> = inside
            .deploy_writers()
            .into_iter()
            .map(|w| (w.module, w.here))
            .collect();
        assert_eq!(seen, [("w".to_owned(), "/".into())]);
    }
}
