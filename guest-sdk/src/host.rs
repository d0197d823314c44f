//! Typed wrappers for the `host` imports: every effect a module has on the
//! machine it configures goes through these calls, which the runtime controls.
//!
//! While forms are only being validated, the host refuses every call with an
//! effect, which is why validation decodes arguments and nothing more.
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
