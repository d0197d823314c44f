//! Connections: the chain of hops from the controller to a runtime on the target.
//!
//! A host's `connection` lists hops, e.g. `["local"]`. The last hop starts
//! `consfig runtime` and hands back its stdin/stdout as a [`RuntimeChannel`].

pub mod local;

use std::fmt;
use std::io::{Read, Write};
use std::str::FromStr;

use crate::context::{Context, ContextError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hop {
    /// This machine: run the runtime as a child process.
    Local,
    /// A context the runtime's control child enters before any form,
    /// e.g. `chroot:/srv/c1` or `setuid:www`.
    Context(Context),
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error(
        "unknown connection hop {0:?}; known hops: local, chroot:PATH, chroot-bare:PATH, setuid:USER, as:USER"
    )]
    UnknownHop(String),
    #[error("connection {0}: {1}")]
    BadChain(String, &'static str),
    #[error(transparent)]
    Context(#[from] crate::context::ContextError),
    #[error("starting the runtime {exe}: {source}")]
    Spawn { exe: String, source: std::io::Error },
}

impl FromStr for Hop {
    type Err = ConnectionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local" => Ok(Hop::Local),
            other => match other.parse::<Context>() {
                Ok(context) => Ok(Hop::Context(context)),
                Err(ContextError::Unknown(_)) => Err(ConnectionError::UnknownHop(other.to_owned())),
                Err(e) => Err(e.into()),
            },
        }
    }
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hop::Local => f.write_str("local"),
            Hop::Context(context) => context.fmt(f),
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

/// Open a connection chain: start a runtime at the end of its transport hops,
/// and return the contexts its control child is to enter.
pub fn open(
    hops: &[Hop],
    runtime_exe: &std::path::Path,
) -> Result<(RuntimeChannel, Vec<Context>), ConnectionError> {
    let chain = || {
        hops.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" → ")
    };
    let (Some(Hop::Local), rest) = (hops.first(), hops.get(1..).unwrap_or_default()) else {
        return Err(ConnectionError::BadChain(
            chain(),
            "the first hop must be local",
        ));
    };
    let contexts = rest
        .iter()
        .map(|hop| match hop {
            Hop::Context(context) => Ok(context.clone()),
            Hop::Local => Err(ConnectionError::BadChain(
                chain(),
                "local may only come first",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((local::start_runtime(runtime_exe)?, contexts))
}
