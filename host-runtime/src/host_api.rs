//! The `host` imports a module sees: logging, commands, files, facts, and
//! `apply` to call a property of any loaded module.
//!
//! Every effect a module has on the host passes through here, checked against
//! the grants of the modules on the call stack (see [`crate::grants`]): files
//! beneath granted directories (with cap-std), commands by program and
//! arguments, subdeployments. While modules are only being described or their
//! forms validated (on the controller), every effectful import is refused, so
//! validation can never touch the machine.

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::confined_fs::{Place, Status as DiskStatus};
use crate::context::{Context, describe_chain, files_root};
use crate::engine::ModuleSet;
use crate::engine::bindings::consfig::module::host::{
    self, Command, CommandOutput, FileKind, FileStat, Identity, Level,
};
use crate::engine::bindings::consfig::module::types::{self, Change};
use crate::form::Form;
use crate::grants::{Confinement, Denied, Grant, ModuleGrants, NetworkGate};
use crate::overlay::{Entry, FileChange, Overlay, Recorder};
use crate::policy::{Policy, show_bytes};
use crate::report::{Nested, Status};
use crate::zygote::Zygote;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostMode {
    /// Forms run for real: imports act on the host.
    Deploy,
    /// Modules are described or forms validated: no import may act on the host.
    Inspect,
}

/// The data of a store: WASI state, captured output, and the loaded modules.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
    /// Captured output already handed out, per stream, so each form gets only its own.
    taken: (usize, usize),
    log: String,
    mode: HostMode,
    pub(crate) modules: Option<Arc<ModuleSet>>,
    /// Indices of the modules on the call stack, innermost last.
    pub(crate) active: Vec<usize>,
    /// Forms given to `validate-form` whose module (by index) was on the
    /// stack, to be validated once it unwinds (an instance cannot be re-entered).
    pub(crate) deferred_validations: Vec<(usize, Form)>,
    /// Outcomes of subdeployments the current form started.
    pub(crate) nested: Vec<Nested>,
    /// Limits (and, for subdeployments, everything else a deploy decided).
    pub(crate) policy: Policy,
    /// A form's log went past the largest output limit and was cut.
    pub(crate) output_cut: bool,
    /// The check WASI sockets make, kept to the modules running.
    net: NetworkGate,
    /// Output goes straight to this process's stdout and stderr (a bundle
    /// running a service) instead of being captured per form.
    service: bool,
    /// The status a module passed to WASI `exit`, which ends its form.
    pub(crate) exit_requested: Option<i32>,
    /// Sockets the grants refused since output was last taken: a module
    /// sees only "permission denied", the form's reason says why.
    pub(crate) socket_denials: Vec<String>,
    /// Check mode: what earlier forms would have changed.
    pub(crate) overlay: Overlay,
    /// Check mode: what this form would change.
    recorder: Recorder,
    /// Check mode: the commands this form did not run.
    skipped: Vec<String>,
}

impl HostState {
    pub fn new(mode: HostMode) -> Self {
        Self::build(mode, Policy::default(), false)
    }

    /// For a deploy's forms, under its policy.
    pub fn with_policy(mode: HostMode, policy: Policy) -> Self {
        Self::build(mode, policy, false)
    }

    /// For a bundle's service: output to this process's stdout and stderr,
    /// and the bundle's grants for every module in it.
    pub fn for_service(grants: Vec<Grant>) -> Self {
        let policy = Policy {
            every_module: Some(ModuleGrants {
                grants,
                ..ModuleGrants::default()
            }),
            ..Policy::default()
        };
        Self::build(HostMode::Deploy, policy, true)
    }

    fn build(mode: HostMode, policy: Policy, service: bool) -> Self {
        // Each stream holds the largest output any form may have; a form's own
        // limit is checked when it ends.
        let capacity = usize::try_from(policy.limits.max_output()).unwrap_or(usize::MAX);
        let stdout = MemoryOutputPipe::new(capacity);
        let stderr = MemoryOutputPipe::new(capacity);
        // No stdin (the runtime's stdin is the protocol channel), no environment,
        // no preopened directories: a module reaches the host through `host`,
        // and sockets only as granted. Blocking on the current thread keeps
        // the process single-threaded, as fork needs.
        let mut wasi = WasiCtx::builder();
        if service {
            wasi.inherit_stdout().inherit_stderr();
        } else {
            wasi.stdout(stdout.clone()).stderr(stderr.clone());
        }
        wasi.arg("consfig-module")
            .allow_blocking_current_thread(true);
        let net = if service {
            NetworkGate::default().echoing()
        } else {
            NetworkGate::default()
        };
        net.apply_to(&mut wasi, policy.any_network());
        let wasi = wasi.build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            stdout,
            stderr,
            taken: (0, 0),
            log: String::new(),
            mode,
            modules: None,
            active: Vec::new(),
            deferred_validations: Vec::new(),
            nested: Vec::new(),
            policy,
            output_cut: false,
            net,
            service,
            exit_requested: None,
            socket_denials: Vec::new(),
            overlay: Overlay::default(),
            recorder: Recorder::default(),
            skipped: Vec::new(),
        }
    }

    /// Everything the modules logged or printed since the last call.
    pub fn take_output(&mut self) -> String {
        let stdout = self.stdout.contents();
        let stderr = self.stderr.contents();
        let mut output = std::mem::take(&mut self.log);
        self.socket_denials = self.net.take_denials();
        for denial in &self.socket_denials {
            output.push_str(denial);
            output.push('\n');
        }
        for (bytes, taken) in [(&stdout, &mut self.taken.0), (&stderr, &mut self.taken.1)] {
            let new = &bytes[(*taken).min(bytes.len())..];
            output.push_str(&String::from_utf8_lossy(new));
            if !new.is_empty() && !output.ends_with('\n') {
                output.push('\n');
            }
            *taken = bytes.len();
        }
        output
    }

    pub(crate) fn effects_allowed(&self, call: &str) -> Result<(), String> {
        match self.mode {
            HostMode::Deploy => Ok(()),
            HostMode::Inspect => Err(format!(
                "host call `{call}` is not available while modules are described or forms validated"
            )),
        }
    }
}

impl HostState {
    /// The module running now (innermost on the call stack), if any.
    pub(crate) fn running_module(&self) -> Option<&str> {
        let index = *self.active.last()?;
        Some(self.modules.as_ref()?.module_name(index))
    }

    /// Module `index` starts running (a form, or an `apply` from another).
    pub(crate) fn enter_module(&mut self, index: usize) {
        self.active.push(index);
        self.net.set(self.confinement());
    }

    pub(crate) fn leave_module(&mut self) {
        self.active.pop();
        self.net.set(self.confinement());
    }

    /// The modules whose grants bound a call now: the running module, every
    /// untrusted non-standard module it was called through, and those a
    /// subdeployment was asked for through.
    pub(crate) fn confinement(&self) -> Confinement {
        let Some(modules) = &self.modules else {
            return Confinement::default();
        };
        let mut confining = Vec::new();
        if let Some((&innermost, outer)) = self.active.split_last() {
            let name = modules.module_name(innermost);
            confining.push((name.to_owned(), self.policy.grants_of(name)));
            for &index in outer.iter().rev() {
                let name = modules.module_name(index);
                let grants = self.policy.grants_of(name);
                if !grants.trusted && !grants.standard {
                    confining.push((name.to_owned(), grants));
                }
            }
        } else {
            // Nothing runs outside a module's call: no module, no effects.
            confining.push(("(none)".to_owned(), ModuleGrants::default()));
        }
        confining.extend(self.policy.ceiling.iter().cloned());
        Confinement { modules: confining }
    }

    /// Where a file call on `path` may act, or why it may not.
    pub(crate) fn place(&self, call: &str, path: &str, write: bool) -> Result<Place, String> {
        let checked = checked_path(call, path)?;
        let root = self
            .confinement()
            .file_access(&checked, write)
            .map_err(|denied| denial(call, path, &denied))?;
        Place::new(&checked, root).map_err(|e| format!("{call} {path}: {e}"))
    }
}

impl HostState {
    pub(crate) fn check_mode(&self) -> bool {
        self.policy.check
    }

    /// Check mode: what this form would change, and the commands it skipped.
    pub(crate) fn take_check(&mut self) -> (Vec<FileChange>, Vec<String>) {
        (self.recorder.take(), std::mem::take(&mut self.skipped))
    }

    /// What `place` holds as check mode sees it: this form's changes, then
    /// earlier forms', then the disk.
    fn entry_now(&self, place: &Place) -> std::io::Result<Entry> {
        let path = place.path();
        if let Some(entry) = self.recorder.current(&path).or(self.overlay.get(&path)) {
            return Ok(entry.clone());
        }
        Ok(match place.status()? {
            None => Entry::Absent,
            Some(s) if s.is_dir => Entry::Dir { mode: s.mode },
            Some(s) if s.is_file => match place.read() {
                Ok(content) => Entry::File {
                    content,
                    mode: s.mode,
                },
                Err(_) => Entry::Other,
            },
            Some(_) => Entry::Other,
        })
    }

    /// Check mode's answer to `stat`, when it knows better than the disk.
    fn overlay_status(&self, place: &Place) -> std::io::Result<Option<DiskStatus>> {
        let on_disk = place.status()?;
        let (uid, gid) = on_disk.as_ref().map_or_else(our_ids, |s| (s.uid, s.gid));
        let status = |is_dir, is_file, mode, size| DiskStatus {
            is_dir,
            is_file,
            is_symlink: false,
            mode,
            size,
            uid,
            gid,
        };
        Ok(match self.entry_now(place)? {
            Entry::Absent => None,
            Entry::Dir { mode } => Some(status(true, false, mode, 0)),
            Entry::File { content, mode } => Some(status(false, true, mode, content.len() as u64)),
            Entry::Other => on_disk,
        })
    }

    /// Check mode's write of `path` (at `place`): recorded, not done; whether
    /// it changes anything. Refused where a real write would be: under a
    /// parent that is not (or would not be) a directory.
    pub(crate) fn record_write(
        &mut self,
        call: &str,
        path: &str,
        place: &Place,
        content: Vec<u8>,
        mode: Option<u32>,
    ) -> Result<bool, String> {
        let checked = place.path();
        if let Some(parent) = checked.parent() {
            let parent_place = self.place(call, &parent.display().to_string(), false)?;
            let parent_entry =
                self.entry_now(&parent_place)
                    .map_err(file_error(call, path, &parent_place))?;
            if matches!(parent_entry, Entry::Absent | Entry::File { .. }) {
                return Err(format!(
                    "{call} {path}: No such file or directory (os error 2)"
                ));
            }
        }
        let before = self
            .entry_now(place)
            .map_err(file_error(call, path, place))?;
        let mode = mode
            .or(match &before {
                Entry::File { mode, .. } => Some(*mode),
                _ => None,
            })
            .unwrap_or(0o644);
        let after = Entry::File { content, mode };
        let changes = before != after;
        self.recorder.record(&checked, before, after);
        Ok(changes)
    }
}

/// The effective user and group of this process: the owner of what it creates.
fn our_ids() -> (u32, u32) {
    (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    )
}

/// An absolute path without `.` or `..` components.
fn checked_path(call: &str, path: &str) -> Result<PathBuf, String> {
    crate::grants::clean_path(path).map_err(|reason| format!("{call} {path:?}: {reason}"))
}

/// The message of a refused call: module, call, and the grant it lacks.
fn denial(call: &str, what: &str, denied: &Denied) -> String {
    denied.message(&format!("{call} {what}"))
}

/// The error of a file call, saying when it was stopped at its granted directory.
fn file_error(call: &str, path: &str, place: &Place) -> impl FnOnce(std::io::Error) -> String {
    let root = place.root().map(Path::to_owned);
    let call = call.to_owned();
    let path = path.to_owned();
    move |e| match root {
        Some(root) if e.to_string().contains("outside of the filesystem") => format!(
            "denied: {call} {path}: the path leads out of the granted directory {} (through a symlink)",
            root.display()
        ),
        _ => format!("{call} {path}: {e}"),
    }
}

/// Variables commands get when their module has no `env:` grant for more.
const BASE_ENV: [&str; 5] = ["PATH", "HOME", "USER", "LOGNAME", "LANG"];

/// Where a program named without a `/` is looked for.
fn resolve_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The memory limit: a module's linear memory may grow only so far. Growth
/// past it traps the form with a message that names the limit.
impl wasmtime::ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let module = self.running_module().unwrap_or("");
        let limit = self.policy.limits.for_module(module).memory;
        if desired as u64 > limit {
            let who = if module.is_empty() {
                "a module".to_owned()
            } else {
                format!("module {module}")
            };
            wasmtime::bail!(
                "memory limit of {} exceeded: {who} asked for {}",
                show_bytes(limit),
                show_bytes(desired as u64)
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a million is far beyond any module.
        Ok(desired <= 1_000_000)
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

impl types::Host for HostState {}

impl host::Host for HostState {
    fn log(&mut self, level: Level, message: String) {
        let prefix = match level {
            Level::Debug => "debug: ",
            Level::Info => "",
            Level::Warn => "warning: ",
            Level::Error => "error: ",
        };
        let line = format!("{prefix}{}\n", message.trim_end_matches('\n'));
        if self.service {
            let _ = std::io::stderr().write_all(line.as_bytes());
        } else if (self.log.len() + line.len()) as u64 <= self.policy.limits.max_output() {
            self.log.push_str(&line);
        } else {
            self.output_cut = true;
        }
    }

    fn run(&mut self, command: Command) -> Result<CommandOutput, String> {
        self.effects_allowed("run")?;
        let Some((program, args)) = command.argv.split_first() else {
            return Err("run: empty argv".into());
        };
        let resolved = resolve_program(program)
            .ok_or_else(|| format!("run {program}: no such program in PATH"))?;
        let confinement = self.confinement();
        confinement
            .command(&resolved, args)
            .map_err(|denied| denial("run", &command.argv.join(" "), &denied))?;
        if self.check_mode() && !command.read_only {
            self.skipped.push(command.argv.join(" "));
            return Ok(CommandOutput {
                exit_code: Some(0),
                stdout: Vec::new(),
                stderr: Vec::new(),
            });
        }
        let mut cmd = std::process::Command::new(&resolved);
        cmd.args(args);
        // Only the variables granted (and a few every program expects) pass.
        cmd.env_clear();
        for (name, value) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if BASE_ENV.contains(&name_text.as_ref()) || confinement.env(&name_text) {
                cmd.env(name, value);
            }
        }
        cmd.envs(command.env.iter().map(|(k, v)| (k, v)));
        if let Some(cwd) = &command.cwd {
            let place = self.place("run in", cwd, false)?;
            // A command is a process of its own: it can only be started in
            // the directory, not kept beneath it.
            cmd.current_dir(place.path());
        }
        // Standard input comes from an unlinked temporary file, so feeding a large
        // input needs no writer thread: this process may have to fork again.
        cmd.stdin(match command.stdin {
            None => Stdio::null(),
            Some(bytes) => {
                let mut file = tempfile::tempfile().map_err(|e| format!("run {program}: {e}"))?;
                file.write_all(&bytes)
                    .and_then(|()| file.rewind())
                    .map_err(|e| format!("run {program}: {e}"))?;
                Stdio::from(file)
            }
        });
        let output = cmd.output().map_err(|e| format!("run {program}: {e}"))?;
        Ok(CommandOutput {
            exit_code: output.status.code(),
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }

    fn read_file(&mut self, path: String) -> Result<Vec<u8>, String> {
        self.effects_allowed("read-file")?;
        let place = self.place("read-file", &path, false)?;
        if self.check_mode() {
            match self
                .entry_now(&place)
                .map_err(file_error("read-file", &path, &place))?
            {
                Entry::File { content, .. } => return Ok(content),
                Entry::Absent => {
                    return Err(format!(
                        "read-file {path}: No such file or directory (os error 2)"
                    ));
                }
                Entry::Dir { .. } => {
                    return Err(format!("read-file {path}: Is a directory (os error 21)"));
                }
                Entry::Other => {}
            }
        }
        place.read().map_err(file_error("read-file", &path, &place))
    }

    fn write_file(
        &mut self,
        path: String,
        contents: Vec<u8>,
        mode: Option<u32>,
    ) -> Result<(), String> {
        self.effects_allowed("write-file")?;
        let place = self.place("write-file", &path, true)?;
        if self.check_mode() {
            return self
                .record_write("write-file", &path, &place, contents, mode)
                .map(|_| ());
        }
        let existing = place
            .status()
            .map_err(file_error("write-file", &path, &place))?
            .filter(|s| !s.is_symlink);
        let mode = mode.or(existing.as_ref().map(|s| s.mode)).unwrap_or(0o644);
        // Replacing a file keeps its owner, as editing it in place would; a new
        // file is simply ours.
        let ours = our_ids();
        let owner = existing
            .map(|s| (s.uid, s.gid))
            .filter(|owner| *owner != ours);
        place
            .write_atomic(&contents, mode, owner)
            .map_err(file_error("write-file", &path, &place))
    }

    fn stat(&mut self, path: String) -> Result<Option<FileStat>, String> {
        self.effects_allowed("stat")?;
        let place = self.place("stat", &path, false)?;
        let status = if self.check_mode() {
            self.overlay_status(&place)
        } else {
            place.status()
        }
        .map_err(file_error("stat", &path, &place))?;
        Ok(status.map(|s| FileStat {
            kind: if s.is_symlink {
                FileKind::Symlink
            } else if s.is_dir {
                FileKind::Directory
            } else if s.is_file {
                FileKind::File
            } else {
                FileKind::Other
            },
            mode: s.mode,
            size: s.size,
            uid: s.uid,
            gid: s.gid,
        }))
    }

    fn remove(&mut self, path: String) -> Result<(), String> {
        self.effects_allowed("remove")?;
        let place = self.place("remove", &path, true)?;
        if self.check_mode() {
            let before = self
                .entry_now(&place)
                .map_err(file_error("remove", &path, &place))?;
            if before == Entry::Absent {
                return Err(format!(
                    "remove {path}: No such file or directory (os error 2)"
                ));
            }
            self.recorder.record(&place.path(), before, Entry::Absent);
            return Ok(());
        }
        place.remove().map_err(file_error("remove", &path, &place))
    }

    fn mkdir(&mut self, path: String, mode: Option<u32>) -> Result<(), String> {
        self.effects_allowed("mkdir")?;
        let place = self.place("mkdir", &path, true)?;
        if self.check_mode() {
            let checked = place.path();
            let mut missing = Vec::new();
            for dir in checked.ancestors() {
                let dir_place = self.place("mkdir", &dir.display().to_string(), false)?;
                match self
                    .entry_now(&dir_place)
                    .map_err(file_error("mkdir", &path, &dir_place))?
                {
                    Entry::Absent => missing.push(dir.to_owned()),
                    Entry::File { .. } => {
                        return Err(format!("mkdir {path}: File exists (os error 17)"));
                    }
                    _ => break,
                }
            }
            for dir in missing.into_iter().rev() {
                self.recorder.record(
                    &dir,
                    Entry::Absent,
                    Entry::Dir {
                        mode: mode.unwrap_or(0o755),
                    },
                );
            }
            return Ok(());
        }
        place
            .mkdir_all(mode.unwrap_or(0o755))
            .map_err(file_error("mkdir", &path, &place))
    }

    fn chmod(&mut self, path: String, mode: u32) -> Result<(), String> {
        self.effects_allowed("chmod")?;
        let place = self.place("chmod", &path, true)?;
        if self.check_mode() {
            let before = self
                .entry_now(&place)
                .map_err(file_error("chmod", &path, &place))?;
            let after = match &before {
                Entry::File { content, .. } => Entry::File {
                    content: content.clone(),
                    mode,
                },
                Entry::Dir { .. } => Entry::Dir { mode },
                Entry::Absent => {
                    return Err(format!(
                        "chmod {path}: No such file or directory (os error 2)"
                    ));
                }
                Entry::Other => return Ok(()),
            };
            self.recorder.record(&place.path(), before, after);
            return Ok(());
        }
        place
            .chmod(mode)
            .map_err(file_error("chmod", &path, &place))
    }

    fn whoami(&mut self) -> Identity {
        let uid = nix::unistd::getuid();
        Identity {
            uid: uid.as_raw(),
            gid: nix::unistd::getgid().as_raw(),
            user: nix::unistd::User::from_uid(uid)
                .ok()
                .flatten()
                .map(|u| u.name),
            home: std::env::var("HOME").ok(),
        }
    }

    fn subdeploy(&mut self, contexts: Vec<String>, forms: Vec<String>) -> Result<Change, String> {
        self.effects_allowed("subdeploy")?;
        let contexts = contexts
            .iter()
            .map(|c| c.parse::<Context>().map_err(|e| format!("subdeploy: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let forms = forms
            .iter()
            .map(|f| Form::parse(f).map_err(|e| format!("subdeploy: form {f}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let recipe = match &self.modules {
            Some(modules) => Arc::clone(modules.recipe()),
            None => return Err("subdeploy: modules are not loaded yet".into()),
        };
        let confinement = self.confinement();
        confinement
            .subdeploy()
            .map_err(|denied| denial("subdeploy", "", &denied))?;
        // The subdeployment's calls stay within what this one may do: its
        // untrusted, non-standard modules bound them too.
        let mut policy = self.policy.clone();
        policy.ceiling = confinement
            .modules
            .into_iter()
            .filter(|(_, grants)| !grants.trusted && !grants.standard)
            .collect();
        if forms.is_empty() {
            // Nothing to apply: nothing to enter either.
            return Ok(Change::Unchanged);
        }
        let chain = if contexts.is_empty() {
            "subdeployment".to_owned()
        } else {
            describe_chain(&contexts)
        };
        // In check mode a subdeployment sees what was and would be written so
        // far, beneath its chroot if it has one, and adds to that.
        let root = files_root(&contexts);
        let mut overlay = self.overlay.clone();
        overlay.apply(&self.recorder.snapshot());
        let mut overlay = overlay.seen_from(&root);
        let mut zygote = Zygote::spawn_fresh(&recipe, &policy, &contexts)
            .map_err(|e| format!("subdeploy: cannot enter {chain}: {e}"))?;
        let (mut changed, mut failed) = (false, 0);
        for form in &forms {
            let outcome = zygote
                .apply_checked(
                    form,
                    self.policy.limits.for_module(form.module()).time,
                    &overlay,
                )
                .unwrap_or_else(|e| crate::report::Outcome::failed(e.to_string(), String::new()));
            overlay.apply(&outcome.changes);
            for change in &outcome.changes {
                let change = change.seen_outside(&root);
                self.recorder
                    .record(&change.path, change.before, change.after);
            }
            changed |= outcome.status == Status::Changed;
            failed += usize::from(outcome.status == Status::Failed);
            self.nested.push(Nested {
                context: chain.clone(),
                form: form.clone(),
                outcome,
            });
        }
        zygote.shutdown();
        match (failed, changed) {
            (0, false) => Ok(Change::Unchanged),
            (0, true) => Ok(Change::Changed),
            (n, _) => Err(format!("{n} of {} forms failed in {chain}", forms.len())),
        }
    }

    fn hostname(&mut self) -> String {
        nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn architecture(&mut self) -> String {
        nix::sys::utsname::uname()
            .map(|u| u.machine().to_string_lossy().into_owned())
            .unwrap_or_else(|_| std::env::consts::ARCH.to_owned())
    }

    fn apply(&mut self, _form: String) -> Result<Change, String> {
        // Calling into another module needs the whole store, not just this data:
        // the linker defines `apply` itself (see `engine::define_store_imports`),
        // shadowing this.
        Err("internal error: host apply reached the data-only binding".into())
    }

    fn validate_form(&mut self, _form: String) -> Result<(), String> {
        // Shadowed like `apply`: validating calls into other instances.
        Err("internal error: host validate-form reached the data-only binding".into())
    }

    fn data(&mut self, key: String) -> Result<Vec<u8>, String> {
        self.effects_allowed("data")?;
        self.policy.data.get(&key).map(<[u8]>::to_vec).ok_or_else(|| {
            let known: Vec<&str> = self.policy.data.keys().collect();
            format!(
                "data: this host has no data named {key:?} (give it under data in its [hosts.NAME] of Consfig.toml; it has {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })
    }

    fn dump_image(
        &mut self,
        _path: String,
        _form: String,
        _grants: Vec<String>,
    ) -> Result<Change, String> {
        // Shadowed like `apply`: validating the form needs the store.
        Err("internal error: host dump-image reached the data-only binding".into())
    }
}
