//! Connections: the chain of hops from the controller to a runtime on the target.
//!
//! A host's `connection` lists hops, e.g. `["local"]`. The last hop starts
//! `consfig runtime` and hands back its stdin/stdout as a [`RuntimeChannel`].

pub mod local;

use std::fmt;
use std::io::{Read, Write};
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hop {
    /// This machine: run the runtime as a child process.
    Local,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("unknown connection hop {0:?}; known hops: local")]
    UnknownHop(String),
    #[error("starting the runtime {exe}: {source}")]
    Spawn {
        exe: String,
        source: std::io::Error,
    },
}

impl FromStr for Hop {
    type Err = ConnectionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local" => Ok(Hop::Local),
            other => Err(ConnectionError::UnknownHop(other.to_owned())),
        }
    }
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hop::Local => f.write_str("local"),
        }
    }
}

/// A running runtime: its protocol streams, and a way to learn why it ended.
pub struct RuntimeChannel {
    pub reader: Box<dyn Read + Send>,
    pub writer: Box<dyn Write + Send>,
    pub process: Box<dyn RuntimeProcess>,
}

/// The far end's process, as the connection sees it.
pub trait RuntimeProcess: Send {
    /// Wait for it to end; return what it wrote on stderr (its diagnostics).
    fn finish(&mut self) -> String;
}

/// Open a connection chain and start a runtime at its end.
pub fn open(hops: &[Hop], runtime_exe: &std::path::Path) -> Result<RuntimeChannel, ConnectionError> {
    match hops {
        [Hop::Local] => local::start_runtime(runtime_exe),
        _ => Err(ConnectionError::UnknownHop(
            hops.iter().map(ToString::to_string).collect::<Vec<_>>().join(" → "),
        )),
    }
}
