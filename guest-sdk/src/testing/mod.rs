//! Native tests of properties: a fake host with files in memory, scripted
//! commands and facts, so that `cargo test` runs a module's properties on the
//! build machine, without a runtime, a sandbox or WebAssembly.
//!
//! Built natively (any target but `wasm32`), every host call of this crate —
//! [`host::fs`](crate::host::fs), [`host::run`](crate::host::run),
//! [`host::log`](crate::host::log), the facts, [`apply`](crate::apply),
//! [`subdeploy`](crate::subdeploy), [`image::dump`](crate::image::dump) —
//! goes to the [`FakeHost`] running the property, instead of the runtime:
//!
//! - **Files** are a tree in memory, with contents, modes, owners and
//!   modification times (of a clock of its own, one second further at each
//!   change); the calls — symlinks, chown (names from the host's own users
//!   and groups, [`FakeHost::user`], [`FakeHost::group`]), rename, list-dir
//!   included — refuse what Linux refuses (a missing parent, a directory
//!   that is not empty, …) and follow symlinks where Linux does. The test
//!   looks at the tree afterwards ([`FakeHost::text`], [`FakeHost::stat`],
//!   [`FakeHost::readlink`], [`FakeHost::list_dir`]), and at the file calls
//!   that changed it, in order ([`FakeHost::file_changes`]).
//! - **Commands** are scripted: the program and arguments expected, and the
//!   exit code and output to answer ([`FakeHost::command`]). A command the
//!   test did not script fails the test, naming it. In check mode
//!   ([`FakeHost::check_mode`]) commands made with
//!   [`Command::change`](crate::host::Command::change) are skipped, as the
//!   runtime skips them, and [`Command::query`](crate::host::Command::query)
//!   ones run.
//! - **Facts** — hostname, architecture, who the property runs as,
//!   os-release, the accounts and groups, whether in a chroot, the host's
//!   data, variables and files of the consfig — are what the test says, or
//!   defaults (`test-host`, `x86_64`, root, Debian 12, only the user and
//!   group `root`, not in a chroot, none).
//! - **Forms of other modules**, subdeployments and bundles are not run:
//!   they are recorded, for the test to assert, and answer `Unchanged`
//!   unless the test scripted another answer ([`FakeHost::form`]). Forms of
//!   the module under test ([`FakeHost::module`]) do run.
//!
//! A property is an ordinary function, called inside [`FakeHost::apply`];
//! or a whole form is applied with [`FakeHost::apply_form`], which
//! validates it first, as a deploy does.
//!
//! # Example
//!
//! A property, and what its tests (in the crate's `#[cfg(test)] mod tests`,
//! run with `cargo test --target x86_64-unknown-linux-gnu`: the build
//! machine's target, where `.cargo/config.toml` builds for `wasm32-wasip2`)
//! do with it:
//!
//! ```
//! use consfig_guest::prelude::*;
//! use consfig_guest::testing::FakeHost;
//!
//! /// The site is configured; nginx reloads when it changes.
//! #[property]
//! fn site(name: String, config: String) -> Result<Change> {
//!     let path = format!("/etc/nginx/sites-enabled/{name}");
//!     if fs::exists(&path)? && fs::read_to_string(&path)? == config {
//!         return Ok(Change::Unchanged);
//!     }
//!     fs::write(&path, &config, None)?;
//!     let reload = run(Command::change("systemctl").args(["reload", "nginx"]))?;
//!     ensure!(reload.success(), "nginx did not reload: {}", reload.stderr_str());
//!     Ok(Change::Changed)
//! }
//!
//! consfig_guest::module! { name: "web", properties: [site] }
//!
//! # fn main() -> Result<()> {
//! // #[test] fn writes_the_site_and_reloads_nginx() {
//! let host = FakeHost::new()
//!     .dir("/etc/nginx/sites-enabled")
//!     .command(["systemctl", "reload", "nginx"], 0, "");
//! let change = host.apply(|| site("blog".into(), "server {}\n".into()));
//! assert_eq!(change, Ok(Change::Changed));
//! assert_eq!(host.text("/etc/nginx/sites-enabled/blog").as_deref(), Some("server {}\n"));
//! assert_eq!(host.commands_run(), [["systemctl", "reload", "nginx"]]);
//!
//! // Once more, by its form (checked as a deploy checks it): nothing to do.
//! let host = host.module(&MODULE);
//! let form = Form::new("web:site").arg("blog")?.arg("server {}\n")?;
//! assert_eq!(host.apply_form(&form), Ok(Change::Unchanged));
//! assert_eq!(host.commands_run().len(), 1);
//!
//! // In check mode, the reload is skipped and reported so.
//! let check = FakeHost::new().dir("/etc/nginx/sites-enabled").check_mode();
//! assert_eq!(check.apply(|| site("blog".into(), "".into())), Ok(Change::Changed));
//! assert_eq!(check.commands_skipped(), [["systemctl", "reload", "nginx"]]);
//! # Ok(())
//! # }
//! ```

pub(crate) mod calls;
mod files;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

use files::{Files, Kind, Node};
use serde_json::{Map, Value};

pub use crate::export::Module;
use crate::host::fs::{DirEntry, Stat};
use crate::host::log::Level;
use crate::host::{Command, GroupInfo, Identity, OsRelease, Output, UserInfo};
use crate::{Change, Context, Form, Result};

/// A host for native tests; see [the module](self). Made with [`new`](Self::new)
/// and the builder methods, then given properties to run with
/// [`apply`](Self::apply) and [`apply_form`](Self::apply_form), and looked
/// at afterwards. Its state carries over from one property to the next; a
/// clone is the same host.
#[derive(Debug, Clone)]
pub struct FakeHost {
    state: Rc<RefCell<State>>,
}

/// A subdeployment a property asked for (see [`crate::subdeploy`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Subdeployment {
    pub contexts: Vec<Context>,
    pub forms: Vec<Form>,
}

/// A bundle a property asked for (see [`crate::image::dump`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Dump {
    pub path: String,
    pub form: Form,
    pub grants: Vec<String>,
}

/// What a scripted answer is for.
#[derive(Debug, Clone)]
enum Answer {
    Form(Form),
    Subdeploy(Vec<Context>),
    Dump(String),
}

#[derive(Debug)]
struct Script {
    argv: Vec<String>,
    output: Output,
    used: bool,
}

#[derive(Debug)]
struct State {
    files: Files,
    scripts: Vec<Script>,
    /// Every command made, in order, and whether check mode skipped it.
    commands: Vec<(Command, bool)>,
    check: bool,
    hostname: String,
    architecture: String,
    identity: Identity,
    os_release: OsRelease,
    /// The accounts of the fake `/etc/passwd` and `/etc/group`, by name.
    users: BTreeMap<String, UserInfo>,
    groups: BTreeMap<String, GroupInfo>,
    in_chroot: bool,
    data: BTreeMap<String, Vec<u8>>,
    vars: Map<String, Value>,
    consfig_files: BTreeMap<String, Vec<u8>>,
    module: Option<&'static Module>,
    answers: Vec<(Answer, std::result::Result<Change, String>)>,
    forms: Vec<Form>,
    subdeployments: Vec<Subdeployment>,
    dumps: Vec<Dump>,
    log: Vec<(Level, String)>,
    /// Every file call that changed something, as text.
    file_changes: Vec<String>,
    validating: bool,
    /// How many forms of the module under test are running, one in another.
    depth: usize,
}

impl State {
    /// The output scripted for `command`: the first script of its argv not
    /// used yet, else the last one of its argv again. A command nobody
    /// scripted fails the test.
    fn scripted_output(&mut self, command: &Command) -> Output {
        let matching = || {
            self.scripts
                .iter()
                .enumerate()
                .filter(|(_, s)| s.argv == command.argv())
        };
        let found = matching()
            .find(|(_, s)| !s.used)
            .or_else(|| matching().next_back())
            .map(|(i, _)| i);
        let Some(index) = found else {
            let mut scripted = String::new();
            for script in &self.scripts {
                let _ = write!(scripted, "\n  {:?}", script.argv);
            }
            if scripted.is_empty() {
                scripted.push_str(" none");
            }
            panic!(
                "FakeHost: the property ran {:?} ({}), which the test did not script: \
                 add .command({:?}, EXIT_CODE, STDOUT) to the FakeHost. Scripted:{scripted}",
                command.argv(),
                match command.is_query() {
                    true => "a query",
                    false => "a change",
                },
                command.argv(),
            );
        };
        self.scripts[index].used = true;
        self.scripts[index].output.clone()
    }

    /// The answer scripted for the first key `matches` accepts, else
    /// `Unchanged`.
    fn answer(&self, matches: impl Fn(&Answer) -> bool) -> std::result::Result<Change, String> {
        self.answers
            .iter()
            .find(|(key, _)| matches(key))
            .map_or(Ok(Change::Unchanged), |(_, answer)| answer.clone())
    }
}

impl Default for FakeHost {
    fn default() -> Self {
        FakeHost::new()
    }
}

impl FakeHost {
    /// A host with only the root directory, named `test-host`, on `x86_64`,
    /// running Debian 12 (`bookworm`), whose only user and group are `root`,
    /// where properties run as root (uid 0, home `/root`); not in a chroot,
    /// not in check mode, with no data, variables or files of the consfig.
    pub fn new() -> Self {
        let state = State {
            files: Files::default(),
            scripts: Vec::new(),
            commands: Vec::new(),
            check: false,
            hostname: "test-host".to_owned(),
            architecture: "x86_64".to_owned(),
            identity: Identity {
                uid: 0,
                gid: 0,
                user: Some("root".to_owned()),
                home: Some("/root".to_owned()),
            },
            os_release: OsRelease {
                id: "debian".to_owned(),
                version_id: Some("12".to_owned()),
                version_codename: Some("bookworm".to_owned()),
                pretty_name: Some("Debian GNU/Linux 12 (bookworm)".to_owned()),
            },
            users: BTreeMap::from([("root".to_owned(), user_info("root", 0, 0))]),
            groups: BTreeMap::from([(
                "root".to_owned(),
                GroupInfo {
                    name: "root".to_owned(),
                    gid: 0,
                    members: Vec::new(),
                },
            )]),
            in_chroot: false,
            data: BTreeMap::new(),
            vars: Map::new(),
            consfig_files: BTreeMap::new(),
            module: None,
            answers: Vec::new(),
            forms: Vec::new(),
            subdeployments: Vec::new(),
            dumps: Vec::new(),
            log: Vec::new(),
            file_changes: Vec::new(),
            validating: false,
            depth: 0,
        };
        FakeHost {
            state: Rc::new(RefCell::new(state)),
        }
    }

    fn set(self, change: impl FnOnce(&mut State)) -> Self {
        change(&mut self.state.borrow_mut());
        self
    }

    // Files.

    /// A file with this content, mode 0644, owned by root; missing parent
    /// directories are made (0755, root's).
    pub fn file(self, path: &str, content: impl AsRef<[u8]>) -> Self {
        let node = Node {
            kind: Kind::File(content.as_ref().to_vec()),
            mode: 0o644,
            uid: 0,
            gid: 0,
            // The fake clock's reading when it is put there.
            mtime: 0,
        };
        self.set(|s| s.files.put(path, node))
    }

    /// A directory, mode 0755, owned by root (and its missing parents).
    pub fn dir(self, path: &str) -> Self {
        let node = Node {
            kind: Kind::Directory,
            mode: 0o755,
            uid: 0,
            gid: 0,
            // The fake clock's reading when it is put there.
            mtime: 0,
        };
        self.set(|s| s.files.put(path, node))
    }

    /// A symlink to `target` (absolute, or relative to its directory).
    pub fn symlink(self, path: &str, target: &str) -> Self {
        let node = Node {
            kind: Kind::Symlink(target.to_owned()),
            mode: 0o777,
            uid: 0,
            gid: 0,
            // The fake clock's reading when it is put there.
            mtime: 0,
        };
        self.set(|s| s.files.put(path, node))
    }

    /// Something that is neither file, directory nor symlink: a device, a
    /// socket, a FIFO.
    pub fn special(self, path: &str) -> Self {
        let node = Node {
            kind: Kind::Other,
            mode: 0o600,
            uid: 0,
            gid: 0,
            // The fake clock's reading when it is put there.
            mtime: 0,
        };
        self.set(|s| s.files.put(path, node))
    }

    /// The permission bits of what was added at `path`, e.g. `0o600`.
    pub fn mode(self, path: &str, mode: u32) -> Self {
        assert!(mode <= 0o7777, "FakeHost: {mode:#o} is not a file mode");
        self.set(|s| s.files.edit(path, |node| node.mode = mode))
    }

    /// The owner of what was added at `path`.
    pub fn owner(self, path: &str, uid: u32, gid: u32) -> Self {
        self.set(|s| {
            s.files.edit(path, |node| {
                node.uid = uid;
                node.gid = gid;
            })
        })
    }

    /// The modification time of what was added at `path`, in seconds since
    /// the Unix epoch. (Otherwise it is the fake clock's: 1700000000 at the
    /// start, one second further at every change.)
    pub fn mtime(self, path: &str, mtime: i64) -> Self {
        self.set(|s| s.files.edit(path, |node| node.mtime = mtime))
    }

    // Commands.

    /// When the property runs exactly `argv`, answer with this exit code and
    /// standard output (and no standard error). Scripting the same `argv`
    /// again answers its next run; its last script answers every run after.
    pub fn command<S: Into<String>>(
        self,
        argv: impl IntoIterator<Item = S>,
        exit_code: i32,
        stdout: impl AsRef<[u8]>,
    ) -> Self {
        let output = Output {
            exit_code: Some(exit_code),
            stdout: stdout.as_ref().to_vec(),
            stderr: Vec::new(),
        };
        self.command_output(argv, output)
    }

    /// Like [`command`](Self::command), with any output: standard error, or
    /// `exit_code: None` for a command killed by a signal.
    pub fn command_output<S: Into<String>>(
        self,
        argv: impl IntoIterator<Item = S>,
        output: Output,
    ) -> Self {
        let script = Script {
            argv: argv.into_iter().map(Into::into).collect(),
            output,
            used: false,
        };
        self.set(|s| s.scripts.push(script))
    }

    /// Check mode (`consfig deploy --check`): commands made with
    /// [`Command::change`] are skipped, answering exit code 0 with no
    /// output, and recorded ([`commands_skipped`](Self::commands_skipped));
    /// queries run. Files change in memory as in a deploy, as check mode's
    /// overlay lets later reads see what a form would have written.
    pub fn check_mode(self) -> Self {
        self.set(|s| s.check = true)
    }

    // Facts.

    pub fn hostname(self, name: &str) -> Self {
        self.set(|s| s.hostname = name.to_owned())
    }

    /// As `uname -m` says it, e.g. `aarch64`.
    pub fn architecture(self, arch: &str) -> Self {
        self.set(|s| s.architecture = arch.to_owned())
    }

    /// Who the property runs as; new files and directories are theirs.
    pub fn identity(self, identity: Identity) -> Self {
        self.set(|s| s.identity = identity)
    }

    /// What `/etc/os-release` says (see [`crate::host::os_release`]).
    pub fn os_release(self, os: OsRelease) -> Self {
        self.set(|s| s.os_release = os)
    }

    /// An account `name` with this uid and primary gid, home `/home/NAME`
    /// (`/root` for root), shell `/bin/sh`, no comment: found by
    /// [`crate::host::lookup_user`], and by name by
    /// [`chown`](crate::host::fs::chown). One of the same name is replaced.
    pub fn user(self, name: &str, uid: u32, gid: u32) -> Self {
        self.user_info(user_info(name, uid, gid))
    }

    /// An account as given, every field of it.
    pub fn user_info(self, user: UserInfo) -> Self {
        self.set(|s| {
            s.users.insert(user.name.clone(), user);
        })
    }

    /// A group `name` with this gid and these supplementary members: found by
    /// [`crate::host::lookup_group`], and by name by
    /// [`chown`](crate::host::fs::chown). One of the same name is replaced.
    pub fn group<S: Into<String>>(
        self,
        name: &str,
        gid: u32,
        members: impl IntoIterator<Item = S>,
    ) -> Self {
        let group = GroupInfo {
            name: name.to_owned(),
            gid,
            members: members.into_iter().map(Into::into).collect(),
        };
        self.set(|s| {
            s.groups.insert(name.to_owned(), group);
        })
    }

    /// Whether properties run in a chroot (see [`crate::host::in_chroot`]).
    pub fn in_chroot(self, in_chroot: bool) -> Self {
        self.set(|s| s.in_chroot = in_chroot)
    }

    /// The host's variable `key` (see [`crate::host::var`]): any JSON,
    /// `json!({"domain": "example.org"})` or a plain `"text"`.
    pub fn var(self, key: &str, value: impl Into<Value>) -> Self {
        self.set(|s| {
            s.vars.insert(key.to_owned(), value.into());
        })
    }

    /// The file of the consfig at `path`, relative to Consfig.toml, as the
    /// controller sent it (see [`crate::host::consfig_file`]).
    pub fn consfig_file(self, path: &str, content: impl AsRef<[u8]>) -> Self {
        self.set(|s| {
            s.consfig_files
                .insert(path.to_owned(), content.as_ref().to_vec());
        })
    }

    /// The host's data named `key` (see [`crate::host::data`]).
    pub fn data(self, key: &str, value: impl AsRef<[u8]>) -> Self {
        self.set(|s| {
            s.data.insert(key.to_owned(), value.as_ref().to_vec());
        })
    }

    // Forms.

    /// The module under test, as `module!` defined it (`MODULE`): forms of
    /// its own properties run, where those of other modules are recorded.
    pub fn module(self, module: &'static Module) -> Self {
        self.set(|s| s.module = Some(module))
    }

    /// When the property applies `form` (of another module), answer `change`.
    pub fn form(self, form: Form, change: Change) -> Self {
        self.set(|s| s.answers.push((Answer::Form(form), Ok(change))))
    }

    /// When the property applies `form` (of another module), fail with `reason`.
    pub fn form_fails(self, form: Form, reason: &str) -> Self {
        self.set(|s| s.answers.push((Answer::Form(form), Err(reason.to_owned()))))
    }

    /// When the property subdeploys into exactly these contexts, answer `change`.
    pub fn subdeploy(self, contexts: impl IntoIterator<Item = Context>, change: Change) -> Self {
        let key = Answer::Subdeploy(contexts.into_iter().collect());
        self.set(|s| s.answers.push((key, Ok(change))))
    }

    /// When the property subdeploys into exactly these contexts, fail with
    /// `reason`, as when a context cannot be entered or a form failed.
    pub fn subdeploy_fails(
        self,
        contexts: impl IntoIterator<Item = Context>,
        reason: &str,
    ) -> Self {
        let key = Answer::Subdeploy(contexts.into_iter().collect());
        self.set(|s| s.answers.push((key, Err(reason.to_owned()))))
    }

    /// When the property dumps a bundle at `path`, answer `change`.
    pub fn dump(self, path: &str, change: Change) -> Self {
        self.set(|s| s.answers.push((Answer::Dump(path.to_owned()), Ok(change))))
    }

    // Running properties.

    /// Run `property` — a property function called with its arguments, or
    /// any code making host calls — on this host.
    pub fn apply<T>(&self, property: impl FnOnce() -> T) -> T {
        calls::installed(&self.state, property)
    }

    /// Apply a form of the module under test ([`module`](Self::module)) as a
    /// deploy does: validated first (its arguments decoded, forms among
    /// them too, with no host call allowed), then applied.
    pub fn apply_form(&self, form: &Form) -> Result<Change> {
        let module = self.state.borrow().module.unwrap_or_else(|| {
            panic!(
                "FakeHost::apply_form({form}) needs the module under test: \
                 FakeHost::new().module(&MODULE)"
            )
        });
        let args = serde_json::to_string(form.args()).map_err(|e| e.to_string())?;
        self.state.borrow_mut().validating = true;
        let valid = self.apply(|| module.validate(form.name(), &args));
        self.state.borrow_mut().validating = false;
        valid?;
        self.apply(|| module.apply(form.name(), &args))
    }

    // Looking at it afterwards.

    /// The content of the file at `path` (through symlinks), if one is there.
    pub fn content(&self, path: &str) -> Option<Vec<u8>> {
        self.state.borrow().files.read(path).ok()
    }

    /// [`content`](Self::content) as text (invalid UTF-8 replaced).
    pub fn text(&self, path: &str) -> Option<String> {
        self.content(path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }

    /// What is at `path` (a final symlink not followed), if anything.
    pub fn stat(&self, path: &str) -> Option<Stat> {
        self.state.borrow().files.stat(path).ok().flatten()
    }

    /// Whether anything is at `path`.
    pub fn exists(&self, path: &str) -> bool {
        self.stat(path).is_some()
    }

    /// What the symlink at `path` points to, if a symlink is there.
    pub fn readlink(&self, path: &str) -> Option<String> {
        self.state.borrow().files.readlink(path).ok()
    }

    /// The entries of the directory at `path`, sorted by name, if one is there.
    pub fn list_dir(&self, path: &str) -> Option<Vec<DirEntry>> {
        self.state.borrow().files.list_dir(path).ok()
    }

    /// The commands that ran, in order, as program and arguments: all of
    /// them, or in check mode the queries.
    pub fn commands_run(&self) -> Vec<Vec<String>> {
        self.argvs(false)
    }

    /// The commands check mode skipped, in order.
    pub fn commands_skipped(&self) -> Vec<Vec<String>> {
        self.argvs(true)
    }

    fn argvs(&self, skipped: bool) -> Vec<Vec<String>> {
        let state = self.state.borrow();
        let commands = state.commands.iter().filter(|(_, s)| *s == skipped);
        commands.map(|(c, _)| c.argv().to_vec()).collect()
    }

    /// Every command the properties made, run or skipped, in order, as they
    /// built it: to look at its standard input, environment or directory.
    pub fn commands(&self) -> Vec<Command> {
        let state = self.state.borrow();
        state.commands.iter().map(|(c, _)| c.clone()).collect()
    }

    /// The commands scripted that never ran, to assert that a property ran
    /// everything a test expected.
    pub fn commands_not_run(&self) -> Vec<Vec<String>> {
        let state = self.state.borrow();
        let scripts = state.scripts.iter().filter(|s| !s.used);
        scripts.map(|s| s.argv.clone()).collect()
    }

    /// Every form the properties applied through the host ([`crate::apply`]),
    /// in order: the ones that ran (the module's own) and the ones recorded.
    pub fn forms_applied(&self) -> Vec<Form> {
        self.state.borrow().forms.clone()
    }

    /// The subdeployments asked for, in order.
    pub fn subdeployments(&self) -> Vec<Subdeployment> {
        self.state.borrow().subdeployments.clone()
    }

    /// The bundles asked for, in order.
    pub fn dumps(&self) -> Vec<Dump> {
        self.state.borrow().dumps.clone()
    }

    /// Every file call the properties made that changed something, in
    /// order, as text: `write-file PATH MODE`, `mkdir PATH MODE` (`-` for no
    /// mode), `chmod PATH MODE`, `chown PATH OWNER GROUP` (as given, `-` for
    /// none), `symlink LINK -> TARGET`, `rename SOURCE DESTINATION`,
    /// `remove PATH`. To assert what a property did, and in which order.
    pub fn file_changes(&self) -> Vec<String> {
        self.state.borrow().file_changes.clone()
    }

    /// What the properties logged, in order, as `info: added user ada`.
    pub fn logged(&self) -> Vec<String> {
        let state = self.state.borrow();
        let lines = state.log.iter();
        lines
            .map(|(level, message)| format!("{level}: {message}"))
            .collect()
    }
}

/// What a property's failure says, for a test to assert on: the error of
/// `result`, which must be one (a success panics, naming what it was).
pub fn failure<T: std::fmt::Debug>(result: crate::Result<T>) -> String {
    result.unwrap_err().to_string()
}

/// An account as [`FakeHost::user`] makes it.
fn user_info(name: &str, uid: u32, gid: u32) -> UserInfo {
    UserInfo {
        name: name.to_owned(),
        uid,
        gid,
        comment: String::new(),
        home: match uid {
            0 => "/root".to_owned(),
            _ => format!("/home/{name}"),
        },
        shell: "/bin/sh".to_owned(),
    }
}

#[cfg(test)]
mod tests;
