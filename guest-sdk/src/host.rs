//! Typed wrappers for the `host` imports: every effect a module has on the
//! machine it configures goes through these calls, which the runtime controls.
//!
//! While forms are only being validated, the host refuses every call with an
//! effect, which is why validation decodes arguments and nothing more.
//!
//! Facts about the host need no grant: [`hostname`], [`architecture`] and
//! [`identity`] (who the form runs as). [`data`] reads this host's secrets,
//! each with its grant `data:KEY`.
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
