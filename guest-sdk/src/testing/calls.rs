//! The host calls of a module built natively: each goes to the fake host
//! that [`FakeHost::apply`](super::FakeHost::apply) installed for the
//! property it runs. Outside one there is no host, and a call says so.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;

use super::{Answer, Dump, State, Subdeployment};
use crate::host::fs::{DirEntry, Stat};
use crate::host::log::Level;
use crate::host::{Command, GroupInfo, Identity, OsRelease, Output, UserInfo};
use crate::{Change, Context, Form};

/// How deep forms of the module under test may nest, as in the runtime.
const MAX_APPLY_DEPTH: usize = 32;

thread_local! {
    /// The fake host of the property running on this thread, if any.
    static CURRENT: RefCell<Option<Rc<RefCell<State>>>> = const { RefCell::new(None) };
}

/// Install `state` as this thread's host while `body` runs (and put back the
/// one before, even if `body` panics).
pub(super) fn installed<T>(state: &Rc<RefCell<State>>, body: impl FnOnce() -> T) -> T {
    struct Restore(Option<Rc<RefCell<State>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|current| *current.borrow_mut() = self.0.take());
        }
    }
    let outer = CURRENT.with(|current| current.borrow_mut().replace(Rc::clone(state)));
    let _restore = Restore(outer);
    body()
}

/// The installed host, for the call named `call`.
fn host(call: &str) -> Rc<RefCell<State>> {
    CURRENT
        .with(|current| current.borrow().clone())
        .unwrap_or_else(|| {
            panic!(
                "host call `{call}` with no host: built natively, a module reaches a host only \
             in a test, through consfig_guest::testing::FakeHost (host.apply(|| ...))"
            )
        })
}

/// `call` on the installed host's state.
fn with<T>(call: &str, body: impl FnOnce(&mut State) -> T) -> T {
    let host = host(call);
    let mut state = host.borrow_mut();
    body(&mut state)
}

/// `call` on the installed host's state, refused while a form is validated
/// as the runtime refuses it: validation decodes arguments, with no effect.
fn effect<T>(
    call: &'static str,
    body: impl FnOnce(&mut State) -> Result<T, String>,
) -> Result<T, String> {
    with(call, |state| {
        if state.validating {
            return Err(format!(
                "host call `{call}` is not available while modules are described or forms validated"
            ));
        }
        body(state)
    })
}

fn absolute<'a>(call: &str, path: &'a str) -> Result<&'a str, String> {
    match path.starts_with('/') {
        true => Ok(path),
        false => Err(format!("{call} {path:?}: the path must be absolute")),
    }
}

/// Record a file call that changed something, for
/// [`FakeHost::file_changes`](super::FakeHost::file_changes).
fn changed<T>(
    state: &mut State,
    result: Result<T, String>,
    change: impl FnOnce() -> String,
) -> Result<T, String> {
    if result.is_ok() {
        state.file_changes.push(change());
    }
    result
}

/// A mode as the file changes show it, or `-` for none.
fn shown(mode: Option<u32>) -> String {
    mode.map_or_else(|| "-".to_owned(), |mode| format!("{mode:04o}"))
}

pub fn log(level: Level, message: &str) {
    with("log", |state| state.log.push((level, message.to_owned())));
}

pub fn run(command: &Command) -> Result<Output, String> {
    effect("run", |state| {
        if command.argv().is_empty() {
            return Err("run: empty argv".to_owned());
        }
        if state.check && !command.is_query() {
            state.commands.push((command.clone(), true));
            return Ok(Output {
                exit_code: Some(0),
                stdout: Vec::new(),
                stderr: Vec::new(),
            });
        }
        let output = state.scripted_output(command);
        state.commands.push((command.clone(), false));
        Ok(output)
    })
}

pub fn read_file(path: &str) -> Result<Vec<u8>, String> {
    const CALL: &str = "read-file";
    effect(CALL, |state| {
        let path = absolute(CALL, path)?;
        state
            .files
            .read(path)
            .map_err(|e| format!("{CALL} {path}: {e}"))
    })
}

pub fn write_file(path: &str, contents: &[u8], mode: Option<u32>) -> Result<(), String> {
    const CALL: &str = "write-file";
    effect(CALL, |state| {
        let path = absolute(CALL, path)?;
        let owner = (state.identity.uid, state.identity.gid);
        let written = state
            .files
            .write(path, contents, mode, owner)
            .map_err(|e| format!("{CALL} {path}: {e}"));
        changed(state, written, || format!("{CALL} {path} {}", shown(mode)))
    })
}

pub fn stat(path: &str) -> Result<Option<Stat>, String> {
    const CALL: &str = "stat";
    effect(CALL, |state| {
        let path = absolute(CALL, path)?;
        state
            .files
            .stat(path)
            .map_err(|e| format!("{CALL} {path}: {e}"))
    })
}

pub fn remove(path: &str) -> Result<(), String> {
    const CALL: &str = "remove";
    effect(CALL, |state| {
        let path = absolute(CALL, path)?;
        let removed = state
            .files
            .remove(path)
            .map_err(|e| format!("{CALL} {path}: {e}"));
        changed(state, removed, || format!("{CALL} {path}"))
    })
}

pub fn mkdir(path: &str, mode: Option<u32>) -> Result<(), String> {
    const CALL: &str = "mkdir";
    effect(CALL, |state| {
        let path = absolute(CALL, path)?;
        let owner = (state.identity.uid, state.identity.gid);
        let made = state
            .files
            .mkdir(path, mode.unwrap_or(0o755), owner)
            .map_err(|e| format!("{CALL} {path}: {e}"));
        changed(state, made, || format!("{CALL} {path} {}", shown(mode)))
    })
}

pub fn chmod(path: &str, mode: u32) -> Result<(), String> {
    const CALL: &str = "chmod";
    effect(CALL, |state| {
        let path = absolute(CALL, path)?;
        let set = state
            .files
            .chmod(path, mode)
            .map_err(|e| format!("{CALL} {path}: {e}"));
        changed(state, set, || {
            format!("{CALL} {path} {}", shown(Some(mode)))
        })
    })
}

/// The uid a `chown` owner names: a number, or a user of the fake
/// `/etc/passwd`.
fn uid_of(state: &State, owner: &str) -> Result<u32, String> {
    if let Ok(uid) = owner.parse() {
        return Ok(uid);
    }
    state
        .users
        .get(owner)
        .map(|u| u.uid)
        .ok_or_else(|| format!("no user {owner:?} in /etc/passwd (give it with FakeHost::user)"))
}

/// The gid a `chown` group names: a number, or a group of the fake
/// `/etc/group`.
fn gid_of(state: &State, group: &str) -> Result<u32, String> {
    if let Ok(gid) = group.parse() {
        return Ok(gid);
    }
    state
        .groups
        .get(group)
        .map(|g| g.gid)
        .ok_or_else(|| format!("no group {group:?} in /etc/group (give it with FakeHost::group)"))
}

pub fn chown(path: &str, owner: Option<&str>, group: Option<&str>) -> Result<(), String> {
    const CALL: &str = "chown";
    effect(CALL, |state| {
        let path = absolute(CALL, path)?;
        let named = |e: String| format!("{CALL} {path}: {e}");
        let uid = owner.map(|o| uid_of(state, o)).transpose().map_err(named)?;
        let gid = group.map(|g| gid_of(state, g)).transpose().map_err(named)?;
        let set = state
            .files
            .chown(path, uid, gid)
            .map_err(|e| format!("{CALL} {path}: {e}"));
        changed(state, set, || {
            format!(
                "{CALL} {path} {} {}",
                owner.unwrap_or("-"),
                group.unwrap_or("-")
            )
        })
    })
}

pub fn symlink(target: &str, link: &str) -> Result<(), String> {
    const CALL: &str = "symlink";
    effect(CALL, |state| {
        let link = absolute(CALL, link)?;
        let owner = (state.identity.uid, state.identity.gid);
        let made = state
            .files
            .symlink(target, link, owner)
            .map_err(|e| format!("{CALL} {link} -> {target}: {e}"));
        changed(state, made, || format!("{CALL} {link} -> {target}"))
    })
}

pub fn readlink(path: &str) -> Result<String, String> {
    const CALL: &str = "readlink";
    effect(CALL, |state| {
        let path = absolute(CALL, path)?;
        state
            .files
            .readlink(path)
            .map_err(|e| format!("{CALL} {path}: {e}"))
    })
}

pub fn list_dir(path: &str) -> Result<Vec<DirEntry>, String> {
    const CALL: &str = "list-dir";
    effect(CALL, |state| {
        let path = absolute(CALL, path)?;
        state
            .files
            .list_dir(path)
            .map_err(|e| format!("{CALL} {path}: {e}"))
    })
}

pub fn rename(source: &str, destination: &str) -> Result<(), String> {
    const CALL: &str = "rename";
    effect(CALL, |state| {
        let source = absolute(CALL, source)?;
        let destination = absolute(CALL, destination)?;
        let renamed = state
            .files
            .rename(source, destination)
            .map_err(|e| format!("{CALL} {source} to {destination}: {e}"));
        changed(state, renamed, || format!("{CALL} {source} {destination}"))
    })
}

pub fn os_release() -> Result<OsRelease, String> {
    effect("os-release", |state| Ok(state.os_release.clone()))
}

pub fn lookup_user(user: &str) -> Result<Option<UserInfo>, String> {
    effect("lookup-user", |state| {
        Ok(match user.parse::<u32>() {
            Ok(uid) => state.users.values().find(|u| u.uid == uid).cloned(),
            Err(_) => state.users.get(user).cloned(),
        })
    })
}

pub fn lookup_group(group: &str) -> Result<Option<GroupInfo>, String> {
    effect("lookup-group", |state| {
        Ok(match group.parse::<u32>() {
            Ok(gid) => state.groups.values().find(|g| g.gid == gid).cloned(),
            Err(_) => state.groups.get(group).cloned(),
        })
    })
}

pub fn in_chroot() -> bool {
    with("in-chroot", |state| state.in_chroot)
}

pub fn var(key: &str) -> Option<String> {
    with("var", |state| state.vars.get(key).map(Value::to_string))
}

pub fn vars() -> String {
    with("vars", |state| {
        Value::Object(state.vars.clone()).to_string()
    })
}

pub fn consfig_file(path: &str) -> Result<Vec<u8>, String> {
    effect("consfig-file", |state| {
        state.consfig_files.get(path).cloned().ok_or_else(|| {
            let known: Vec<&str> = state.consfig_files.keys().map(String::as_str).collect();
            format!(
                "consfig-file: the consfig sent no file {path:?} to this host (the FakeHost has {})",
                match known.is_empty() {
                    true => "none: give it with FakeHost::consfig_file".to_owned(),
                    false => known.join(", "),
                }
            )
        })
    })
}

pub fn whoami() -> Identity {
    with("whoami", |state| state.identity.clone())
}

pub fn hostname() -> String {
    with("hostname", |state| state.hostname.clone())
}

pub fn architecture() -> String {
    with("architecture", |state| state.architecture.clone())
}

pub fn data(key: &str) -> Result<Vec<u8>, String> {
    effect("data", |state| {
        state.data.get(key).cloned().ok_or_else(|| {
            let known: Vec<&str> = state.data.keys().map(String::as_str).collect();
            format!(
                "data: this host has no data named {key:?} (the FakeHost has {})",
                match known.is_empty() {
                    true => "none: give it with FakeHost::data".to_owned(),
                    false => known.join(", "),
                }
            )
        })
    })
}

/// A form of the module under test runs, as the runtime would run it; any
/// other is only recorded, and answered as the test scripted.
pub fn apply(form: &Form) -> Result<Change, String> {
    let own = effect("apply", |state| {
        state.forms.push(form.clone());
        let module = state.module.filter(|m| form_module(form) == Some(m.name));
        Ok(match module {
            Some(_) if state.depth == MAX_APPLY_DEPTH => Ok(Err(format!(
                "{form}: apply nested more than {MAX_APPLY_DEPTH} deep"
            ))),
            Some(module) => {
                state.depth += 1;
                Err(module)
            }
            None => Ok(state.answer(|key| matches!(key, Answer::Form(f) if f == form))),
        })
    })?;
    let module = match own {
        Ok(answer) => return answer,
        Err(module) => module,
    };
    // Run with the state released: the property makes host calls.
    let ran = serde_json::to_string(form.args())
        .map_err(|e| e.to_string())
        .and_then(|args| {
            module
                .apply(form.name(), &args)
                .map_err(|e| e.message().to_owned())
        });
    with("apply", |state| state.depth -= 1);
    ran
}

/// Forms of the module under test are validated by it before this is
/// reached; others belong to modules that are not here, so they pass.
pub fn validate_form(_form: &Form) -> Result<(), String> {
    with("validate-form", |_| Ok(()))
}

pub fn subdeploy(contexts: &[Context], forms: &[Form]) -> Result<Change, String> {
    effect("subdeploy", |state| {
        state.subdeployments.push(Subdeployment {
            contexts: contexts.to_vec(),
            forms: forms.to_vec(),
        });
        if forms.is_empty() {
            return Ok(Change::Unchanged);
        }
        state.answer(|key| matches!(key, Answer::Subdeploy(c) if c == contexts))
    })
}

pub fn dump_image(path: &str, form: &Form, grants: &[String]) -> Result<Change, String> {
    const CALL: &str = "dump-image";
    effect(CALL, |state| {
        let path = absolute(CALL, path)?;
        state.dumps.push(Dump {
            path: path.to_owned(),
            form: form.clone(),
            grants: grants.to_vec(),
        });
        state.answer(|key| matches!(key, Answer::Dump(p) if p == path))
    })
}

fn form_module(form: &Form) -> Option<&str> {
    form.name().split_once(':').map(|(module, _)| module)
}
