//! Why a host call failed, typed. A module sees the text of it, made at the
//! WIT boundary ([`super::edge`]); inside, calls and tests match on the kind.

use std::io;
use std::path::PathBuf;

use super::accounts::BadAccountLine;
use super::collect::CollectError;
use crate::sandbox::bounded::TooLarge;
use crate::sandbox::confinement::Denied;
use crate::sandbox::place::LeadsOut;
use crate::sandbox::policy::show_bytes;
use crate::sandbox::program::ProgramError;

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A call with an effect while modules are only described or validated.
    #[error("host call `{call}` is not available while modules are described or forms validated")]
    Inspecting { call: &'static str },
    /// The grants refused the call.
    #[error("{}", denied.message(&format!("{call} {what}")))]
    Denied {
        call: &'static str,
        what: String,
        denied: Box<Denied>,
    },
    #[error("{call} {path:?}: {reason}")]
    BadPath {
        call: &'static str,
        path: String,
        reason: &'static str,
    },
    /// A symlink (or `..`) led out of the granted directory.
    #[error(
        "denied: {call} {path}: the path leads out of the granted directory {} (through a symlink)",
        root.display()
    )]
    LeadsOut {
        call: &'static str,
        path: String,
        root: PathBuf,
    },
    /// A file larger than the memory limit of the module reading it.
    #[error(
        "{call} {path}: the file is larger than the memory limit of {} of the module reading it (raise memory in [limits] or the module's limits)",
        show_bytes(*limit)
    )]
    TooLarge {
        call: &'static str,
        path: String,
        limit: u64,
    },
    #[error("{call} {path}: {source}")]
    Io {
        call: &'static str,
        path: String,
        source: io::Error,
    },
    #[error(
        "subdeploy: subdeployments nest at most {max} deep, and this form runs {max} deep already (a module that subdeploys itself must stop)"
    )]
    SubdeployTooDeep { max: u32 },
    #[error("run: empty argv")]
    EmptyArgv,
    #[error("run {0}")]
    Program(#[from] ProgramError),
    #[error("run {program}: {source}")]
    Spawn { program: String, source: io::Error },
    /// A command printed too much or ran too long.
    #[error("run {program}: {error}")]
    Command {
        program: String,
        error: CollectError,
    },
    /// The root's os-release says nothing usable.
    #[error("os-release: {reason}")]
    OsRelease { reason: String },
    /// An account file of the root is malformed.
    #[error("{call}: {source}")]
    Accounts {
        call: &'static str,
        source: BadAccountLine,
    },
    /// A name given for an owner or group has no account.
    #[error(
        "{call} {path}: this host has no {kind} named {name:?} in its {file} (create it first, or give a number)"
    )]
    NoAccount {
        call: &'static str,
        path: String,
        kind: &'static str,
        name: String,
        file: &'static str,
    },
    #[error(
        "data: this host has no data named {key:?} (give it under data in its [hosts.NAME] of Consfig.toml; it has {known})"
    )]
    NoData { key: String, known: String },
    #[error(
        "consfig-file: {path:?} was not sent to this host: only files that this host's forms name, by their path relative to Consfig.toml, are sent (sent: {sent})"
    )]
    NoConsfigFile { path: String, sent: String },
}

impl HostError {
    /// Whether the grants refused the call (not the host, nor the call's own arguments).
    pub fn is_refusal(&self) -> bool {
        matches!(self, HostError::Denied { .. } | HostError::LeadsOut { .. })
    }

    /// The error of file call `call` on `path`, saying so when it was
    /// stopped at its granted directory.
    pub fn file(call: &'static str, path: &str, error: io::Error) -> HostError {
        if let Some(too_large) = TooLarge::of(&error) {
            return HostError::TooLarge {
                call,
                path: path.to_owned(),
                limit: too_large.limit,
            };
        }
        match LeadsOut::of(&error) {
            Some(escape) => HostError::LeadsOut {
                call,
                path: path.to_owned(),
                root: escape.root.clone(),
            },
            None => HostError::Io {
                call,
                path: path.to_owned(),
                source: error,
            },
        }
    }

    /// `call` on `what`, refused by the grants.
    pub fn denied(call: &'static str, what: impl Into<String>, denied: Denied) -> HostError {
        HostError::Denied {
            call,
            what: what.into(),
            denied: Box::new(denied),
        }
    }
}
