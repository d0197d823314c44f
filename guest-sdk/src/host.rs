//! Typed wrappers for the `host` imports: every effect a module has on the
//! machine it configures goes through these calls, which the runtime controls.
//!
//! While forms are only being validated, the host refuses every call with an
//! effect, which is why validation decodes arguments and nothing more.
//!
//! Facts about the host need no grant: [`hostname`], [`architecture`],
//! [`identity`] (who the form runs as), [`os_release`], [`lookup_user`],
//! [`lookup_group`] and [`in_chroot`]. Nor do what the consfig sends this
//! host: its variables ([`var`], [`vars`]) and its files ([`consfig_file`]).
//! [`data`] reads this host's secrets, each with its grant `data:KEY`.
//!
//! ```no_run
//! use consfig_guest::prelude::*;
//!
//! /// The host's name and architecture, in a file only root reads.
//! #[property]
//! fn facts_recorded(path: String) -> Result<Change> {
//!     let me = host::identity();
//!     ensure!(me.is_root(), "needs root, runs as uid {}", me.uid);
//!     let facts = format!("{} {}\n", host::hostname(), host::architecture());
//!     if fs::exists(&path)? && fs::read_to_string(&path)? == facts {
//!         return Ok(Change::Unchanged);
//!     }
//!     fs::write(&path, facts, Some(Mode::new(0o600)?))?;
//!     Ok(Change::Changed)
//! }
//! # consfig_guest::module! { name: "facts", properties: [facts_recorded] }
//! # fn main() {}
//! ```
//!
//! Calling another module's property (`apply`, in the contract's `forms` interface) is [`crate::apply`],
//! and applying forms in other contexts (`subdeploy`) is [`crate::subdeploy`].

pub mod fs;
pub mod log;
mod run;

pub use run::{Command, Output, run};

use serde_json::{Map, Value};

use crate::sys;

/// This host's data named `key` (`[hosts.NAME] data` in the consfig), such
/// as a password: only this host gets it, it is never written to the host's
/// disk unless a module writes it, and the runtime blanks it out of every
/// output and reason it reports.
pub fn data(key: &str) -> crate::Result<Vec<u8>> {
    sys::data(key).map_err(crate::Error::new)
}

/// [`data`] as UTF-8 text, without the trailing newline files usually end with.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The database password, from the host's data `db-password` (the module
/// /// needs the grant `data:db-password`), in the app's configuration.
/// #[property]
/// fn configured(path: String) -> Result<Change> {
///     let password = host::data_text("db-password")?;
///     let config = format!("password = {password}\n");
///     if fs::exists(&path)? && fs::read(&path)? == config.as_bytes() {
///         return Ok(Change::Unchanged);
///     }
///     // The file holds a secret: only its owner reads it.
///     fs::write(&path, config, Some(Mode::new(0o600)?))?;
///     Ok(Change::Changed)
/// }
/// # consfig_guest::module! { name: "app", properties: [configured] }
/// # fn main() {}
/// ```
pub fn data_text(key: &str) -> crate::Result<String> {
    let bytes = data(key)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| crate::Error::new(format!("data {key} is not UTF-8 text")))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// The host's name.
pub fn hostname() -> String {
    sys::hostname()
}

/// The machine's architecture as `uname -m` reports it, e.g. `x86_64`.
pub fn architecture() -> String {
    sys::architecture()
}

/// Who the calling process runs as: see [`identity`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// The user's name, when the password database has one for the uid.
    pub user: Option<String>,
    /// The value of `HOME`, if set.
    pub home: Option<String>,
}

impl Identity {
    pub fn is_root(&self) -> bool {
        self.uid == 0
    }
}

/// Who the process applying the current form runs as (the `whoami` import):
/// in a subdeployment under `setuid:USER`, that user.
pub fn identity() -> Identity {
    sys::whoami()
}

/// What the target's `/etc/os-release` says: see [`os_release`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OsRelease {
    /// `ID`, e.g. `debian`, `ubuntu`, `fedora`.
    pub id: String,
    /// `VERSION_ID`, e.g. `12`.
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`, e.g. `bookworm`.
    pub version_codename: Option<String>,
    /// `PRETTY_NAME`, e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub pretty_name: Option<String>,
}

/// An account of the target's own `/etc/passwd`: see [`lookup_user`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserInfo {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// The GECOS field, e.g. the full name.
    pub comment: String,
    pub home: String,
    pub shell: String,
}

/// A group of the target's own `/etc/group`: see [`lookup_group`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupInfo {
    pub name: String,
    pub gid: u32,
    /// Its supplementary members, by name.
    pub members: Vec<String>,
}

/// What `/etc/os-release` (or `/usr/lib/os-release`) of the root the form
/// runs in says: inside a chroot, the chroot's. An error when neither file
/// exists or it names no `ID`. Needs no grant.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The package index is fresh, with the tool of the distribution.
/// #[property]
/// fn index_updated() -> Result<Change> {
///     let os = host::os_release()?;
///     let program = match os.id.as_str() {
///         "debian" | "ubuntu" => "apt-get",
///         "fedora" => "dnf",
///         other => bail!("no package manager known for {other}"),
///     };
///     let output = run(Command::change(program).arg("update"))?;
///     ensure!(output.success(), "{program} update failed: {}", output.stderr_str());
///     Ok(Change::Changed)
/// }
/// # consfig_guest::module! { name: "pkg", properties: [index_updated] }
/// # fn main() {}
/// ```
pub fn os_release() -> crate::Result<OsRelease> {
    sys::os_release().map_err(crate::Error::new)
}

/// The account named `user` in the target's own `/etc/passwd`, or with that
/// uid when `user` is a number; `None` when there is none. Read from the
/// file, not through NSS, so inside a chroot it is the chroot's. Needs no
/// grant.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The user's shell is zsh (checked, not set).
/// #[property]
/// fn uses_zsh(user: String) -> Result<Change> {
///     let account = host::lookup_user(&user)?.ok_or_else(|| Error::new(format!("no user {user}")))?;
///     ensure!(account.shell.ends_with("/zsh"), "{user}'s shell is {}", account.shell);
///     Ok(Change::Unchanged)
/// }
/// # consfig_guest::module! { name: "shell", properties: [uses_zsh] }
/// # fn main() {}
/// ```
pub fn lookup_user(user: &str) -> crate::Result<Option<UserInfo>> {
    sys::lookup_user(user).map_err(crate::Error::new)
}

/// The group named `group` in the target's own `/etc/group`, or with that
/// gid when `group` is a number; `None` when there is none. Needs no grant.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The user may use sudo (checked, not set).
/// #[property]
/// fn may_sudo(user: String) -> Result<Change> {
///     let sudo = host::lookup_group("sudo")?.ok_or("no group sudo")?;
///     ensure!(sudo.members.contains(&user), "{user} is not in group sudo");
///     Ok(Change::Unchanged)
/// }
/// # consfig_guest::module! { name: "admins", properties: [may_sudo] }
/// # fn main() {}
/// ```
pub fn lookup_group(group: &str) -> crate::Result<Option<GroupInfo>> {
    sys::lookup_group(group).map_err(crate::Error::new)
}

/// Whether the form runs in a chroot: its root is not the root of the
/// machine's first process (for instance, while an image is built, where
/// services must not be started). Needs no grant.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// nginx has reloaded, unless in a chroot, where nothing runs.
/// #[property]
/// fn reloaded() -> Result<Change> {
///     if host::in_chroot() {
///         info!("in a chroot: not reloading nginx");
///         return Ok(Change::Unchanged);
///     }
///     let output = run(Command::change("systemctl").args(["reload", "nginx"]))?;
///     ensure!(output.success(), "reload failed: {}", output.stderr_str());
///     Ok(Change::Changed)
/// }
/// # consfig_guest::module! { name: "nginx", properties: [reloaded] }
/// # fn main() {}
/// ```
pub fn in_chroot() -> bool {
    sys::in_chroot()
}

/// This host's variable `key`: `[vars]` of Consfig.toml, overridden by its
/// groups' `vars`, overridden by the host's own. `None` when no level sets
/// it. Needs no grant.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The site's domain, from the host's variable `domain`, in a file.
/// #[property]
/// fn domain_recorded(path: String) -> Result<Change> {
///     let domain = match host::var("domain") {
///         Some(serde_json::Value::String(domain)) => domain,
///         Some(other) => bail!("the variable domain is {other}, not a string"),
///         None => bail!("the host has no variable domain: set it in Consfig.toml"),
///     };
///     let text = format!("{domain}\n");
///     if fs::exists(&path)? && fs::read_to_string(&path)? == text {
///         return Ok(Change::Unchanged);
///     }
///     fs::write(&path, text, None)?;
///     Ok(Change::Changed)
/// }
/// # use consfig_guest::serde_json;
/// # consfig_guest::module! { name: "site", properties: [domain_recorded] }
/// # fn main() {}
/// ```
pub fn var(key: &str) -> Option<Value> {
    sys::var(key).map(|json| from_runtime_json(&json))
}

/// Every variable of this host, merged as [`var`] merges them. Needs no
/// grant.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The host's variables, as JSON, in a file.
/// #[property]
/// fn vars_recorded(path: String) -> Result<Change> {
///     let text = serde_json::Value::Object(host::vars()).to_string();
///     if fs::exists(&path)? && fs::read_to_string(&path)? == text {
///         return Ok(Change::Unchanged);
///     }
///     fs::write(&path, text, None)?;
///     Ok(Change::Changed)
/// }
/// # use consfig_guest::serde_json;
/// # consfig_guest::module! { name: "vars", properties: [vars_recorded] }
/// # fn main() {}
/// ```
pub fn vars() -> Map<String, Value> {
    match from_runtime_json(&sys::vars()) {
        Value::Object(vars) => vars,
        // The runtime always sends an object; anything else is no variable.
        _ => Map::new(),
    }
}

/// JSON the runtime sent. It is always JSON; should it not be, the text
/// itself is the value rather than a panic in the module.
fn from_runtime_json(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or_else(|_| Value::String(json.to_owned()))
}

/// The file at `path` (relative to Consfig.toml) of the consfig, as the
/// controller sent it to this host: only files this host's forms name by
/// that path are sent, any other is an error. Needs no grant.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// The file of the consfig is at `path`.
/// #[property]
/// fn copied(path: String, source: String) -> Result<Change> {
///     let content = host::consfig_file(&source)?;
///     if fs::exists(&path)? && fs::read(&path)? == content {
///         return Ok(Change::Unchanged);
///     }
///     fs::write(&path, content, None)?;
///     Ok(Change::Changed)
/// }
/// # consfig_guest::module! { name: "copy", properties: [copied] }
/// # fn main() {}
/// ```
pub fn consfig_file(path: &str) -> crate::Result<Vec<u8>> {
    sys::consfig_file(path).map_err(crate::Error::new)
}
