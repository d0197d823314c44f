//! Why a host call failed, typed. A module sees the text of it, made at the
//! WIT boundary ([`super::edge`]); inside, calls and tests match on the kind.

use std::io;
use std::path::PathBuf;

use crate::sandbox::confinement::Denied;
use crate::sandbox::place::LeadsOut;
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
        denied: Denied,
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
    #[error("{call} {path}: {source}")]
    Io {
        call: &'static str,
        path: String,
        source: io::Error,
    },
    #[error("run: empty argv")]
    EmptyArgv,
    #[error("run {0}")]
    Program(#[from] ProgramError),
    #[error("run {program}: {source}")]
    Spawn { program: String, source: io::Error },
    #[error(
        "data: this host has no data named {key:?} (give it under data in its [hosts.NAME] of Consfig.toml; it has {known})"
    )]
    NoData { key: String, known: String },
}

impl HostError {
    /// The error of file call `call` on `path`, saying so when it was
    /// stopped at its granted directory.
    pub fn file(call: &'static str, path: &str, error: io::Error) -> HostError {
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
            denied,
        }
    }
}
