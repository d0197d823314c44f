//! Connections: the chain of hops from the controller to a runtime on the target.
//!
//! A host's `connection` lists hops, e.g. `["local"]` or
//! `["ssh://web1?jump=bastion", "sudo"]`. The last transport hop starts
//! the runtime (`consfig-stub runtime`) and hands back its stdin/stdout as a [`RuntimeChannel`].

pub mod become_user;
pub mod bootstrap;
pub mod child;
pub mod deadline;
pub mod local;
pub mod openssh;
pub mod ssh;
pub mod ssh_config;
pub mod ssh_target;
pub mod tunnel;

use std::fmt;
use std::io::{Read, Write};
use std::str::FromStr;
use std::time::{Duration, Instant};

use consfig_contract::{Context, ContextError};

pub use self::become_user::{BadUser, Become, BecomeMethod};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hop {
    /// This machine: run the runtime as a child process.
    Local,
    /// Another machine over SSH: `ssh://[USER@]HOST[:PORT]` with the
    /// built-in client, `openssh://…` with the system's; `?jump=…` through
    /// jump hosts.
    Ssh(ssh::SshTarget),
    /// Run the runtime as another user on the target, through sudo, su or
    /// doas: `sudo`, `su`, `doas` (root) or `sudo:USER`, `su:USER`, `doas:USER`.
    Become(Become),
    /// A context the runtime's control child enters before any form,
    /// e.g. `chroot:/srv/c1` or `setuid:www`.
    Context(Context),
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error(
        "unknown connection hop {0:?}; known hops: local, ssh://[USER@]HOST[:PORT][?jump=[USER@]HOST[:PORT],…], openssh://[USER@]HOST[:PORT][?jump=…], sudo, sudo:USER, su, su:USER, doas, doas:USER, chroot:PATH, chroot-bare:PATH, setuid:USER, as:USER, nsenter:PID, machine:NAME"
    )]
    UnknownHop(String),
    #[error("{0}")]
    BadHop(String),
    #[error(transparent)]
    BadUser(#[from] BadUser),
    #[error("{host} is unreachable: {reason}")]
    Unreachable { host: String, reason: String },
    #[error(
        "{host}: unknown host key {fingerprint}; it is not in {known_hosts}. Check the fingerprint with the host's administrator, then add it (ssh-keyscan), connect once with ssh, or deploy with --accept-new-host-keys"
    )]
    HostKeyUnknown {
        host: String,
        fingerprint: String,
        known_hosts: std::path::PathBuf,
    },
    #[error(
        "{host}: HOST KEY CHANGED to {fingerprint}, unlike the one in {known_hosts}: refusing to connect (someone may be intercepting the connection). If the change is expected, remove the old key with ssh-keygen -R and check the new one"
    )]
    HostKeyChanged {
        host: String,
        fingerprint: String,
        known_hosts: std::path::PathBuf,
    },
    #[error("{user}@{host}: authentication failed; tried {tried}")]
    AuthFailed {
        user: String,
        host: String,
        tried: String,
    },
    #[error("ssh: {0}")]
    Ssh(String),
    /// The SSH configuration is wrong, or asks what the client cannot do.
    #[error("{0}")]
    Config(String),
    #[error("starting the runtime on the target: {0}")]
    Bootstrap(String),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("starting the runtime {exe}: {source}")]
    Spawn { exe: String, source: std::io::Error },
}

impl FromStr for Hop {
    type Err = ConnectionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(parsed) = Become::parse(s) {
            return Ok(Hop::Become(parsed?));
        }
        match s {
            "local" => Ok(Hop::Local),
            _ if s.starts_with("ssh://") || s.starts_with("openssh://") => {
                s.parse().map(Hop::Ssh).map_err(ConnectionError::BadHop)
            }
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
            Hop::Ssh(target) => target.fmt(f),
            Hop::Become(via) => via.fmt(f),
            Hop::Context(context) => context.fmt(f),
        }
    }
}

/// The most of what a runtime writes on stderr (its diagnostics) that is
/// kept for the report; the rest is read and dropped, so a runtime cannot
/// make the controller hold more.
pub const MAX_DIAGNOSTICS: usize = 64 << 10;

/// How long a runtime has to end once the controller closed its input,
/// before it is stopped (local) or abandoned (SSH): a runtime that never
/// ends must not keep the deploy from ending.
pub const FINISH_GRACE: Duration = Duration::from_secs(10);

/// What `reader` gives until its end (or, with `until`, until then), as
/// text: the first [`MAX_DIAGNOSTICS`] bytes of it, and how many more were
/// dropped.
pub fn read_diagnostics(reader: &mut impl Read, until: Option<Instant>) -> String {
    let mut kept = Vec::new();
    let mut dropped = 0u64;
    let mut chunk = vec![0u8; 64 << 10];
    while until.is_none_or(|until| Instant::now() < until) {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                let room = (MAX_DIAGNOSTICS - kept.len()).min(n);
                kept.extend_from_slice(&chunk[..room]);
                dropped += (n - room) as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped > 0 {
        text.push_str(&format!("… ({dropped} more bytes)"));
    }
    text
}

/// A running runtime: its protocol streams, and a way to learn why it ended.
pub struct RuntimeChannel {
    pub reader: Box<dyn Read + Send>,
    pub writer: Box<dyn Write + Send>,
    /// How long reading and writing may wait on the runtime: set before
    /// each wait, it makes them fail with `TimedOut` once passed.
    pub deadline: deadline::Deadline,
    pub process: Box<dyn RuntimeProcess>,
    /// Bytes of the runtime binary uploaded to start it (0 when the target had it).
    pub runtime_bytes_sent: u64,
}

/// The far end's process, as the connection sees it.
pub trait RuntimeProcess: Send {
    /// Wait for it to end, at most [`FINISH_GRACE`]; return what it wrote on
    /// stderr (its diagnostics, at most [`MAX_DIAGNOSTICS`] bytes of them).
    fn finish(&mut self) -> String;
}

/// Open a connection chain: start a runtime at the end of its transport hops
/// (`local`, or `ssh://…` / `openssh://…` optionally followed by `sudo`,
/// `su` or `doas`), and return the contexts its control child is to enter
/// (the hops after those).
pub fn open(
    hops: &[Hop],
    runtimes: &bootstrap::Runtimes,
    ssh: &ssh::SshOptions,
) -> Result<(RuntimeChannel, Vec<Context>), ConnectionError> {
    let chain = || {
        hops.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" → ")
    };
    let bad = |why: &str| ConnectionError::BadHop(format!("connection {}: {why}", chain()));
    let (channel, rest) = match hops {
        [Hop::Local, rest @ ..] => {
            let runtime = runtimes.native().ok_or_else(|| {
                ConnectionError::Bootstrap(runtimes.unsupported(std::env::consts::ARCH))
            })?;
            (local::start_runtime(&runtime.path)?, rest)
        }
        [Hop::Ssh(target), Hop::Become(via), rest @ ..] => {
            (start_over_ssh(target, Some(via), ssh, runtimes)?, rest)
        }
        [Hop::Ssh(target), rest @ ..] => (start_over_ssh(target, None, ssh, runtimes)?, rest),
        _ => return Err(bad("the first hop must be local, ssh:// or openssh://")),
    };
    let contexts = rest
        .iter()
        .map(|hop| match hop {
            Hop::Context(context) => Ok(context.clone()),
            Hop::Become(via) => Err(bad(&format!(
                "{} may only follow an ssh:// or openssh:// hop",
                via.method
            ))),
            Hop::Local | Hop::Ssh(_) => {
                Err(bad("local, ssh:// and openssh:// may only come first"))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((channel, contexts))
}

/// Start the runtime through the SSH client the hop names.
fn start_over_ssh(
    target: &ssh::SshTarget,
    via: Option<&Become>,
    options: &ssh::SshOptions,
    runtimes: &bootstrap::Runtimes,
) -> Result<RuntimeChannel, ConnectionError> {
    match target.client {
        ssh_target::SshClient::BuiltIn => ssh::start_runtime(target, via, options, runtimes),
        ssh_target::SshClient::OpenSsh => openssh::start_runtime(target, via, options, runtimes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_read_and_write_the_same() {
        for text in [
            "local",
            "ssh://deploy@web1:2222",
            "sudo",
            "sudo:www-data",
            "su",
            "su:deploy",
            "doas",
            "doas:backup",
            "chroot:/srv/c1",
            "setuid:www",
        ] {
            let hop: Hop = text.parse().unwrap();
            assert_eq!(hop.to_string(), text);
        }
        assert_eq!(
            "doas:web".parse::<Hop>().unwrap(),
            Hop::Become(Become {
                method: BecomeMethod::Doas,
                user: Some("web".into())
            })
        );
        assert_eq!(
            "sudo".parse::<Hop>().unwrap(),
            Hop::Become(Become {
                method: BecomeMethod::Sudo,
                user: None
            })
        );
    }

    #[test]
    fn bad_become_users_and_unknown_hops_say_what_to_write() {
        let error = "su:-c".parse::<Hop>().unwrap_err();
        assert!(matches!(error, ConnectionError::BadUser(_)), "{error:?}");
        assert!(error.to_string().starts_with("\"su:-c\": a user name has"));
        let error = "doas:".parse::<Hop>().unwrap_err().to_string();
        assert_eq!(
            error,
            "doas:: names no user; write doas (for root) or doas:USER"
        );
        let error = "runas:web".parse::<Hop>().unwrap_err().to_string();
        assert!(
            error.contains("sudo:USER, su, su:USER, doas, doas:USER"),
            "{error}"
        );
    }

    #[test]
    fn diagnostics_keep_their_start_and_count_the_rest() {
        let said = vec![b'E'; MAX_DIAGNOSTICS + 1000];
        let text = read_diagnostics(&mut said.as_slice(), None);
        assert_eq!(
            text,
            format!("{}… (1000 more bytes)", "E".repeat(MAX_DIAGNOSTICS))
        );
        assert_eq!(read_diagnostics(&mut &b"short"[..], None), "short");
        // A stream without end is read no longer than told.
        let started = Instant::now();
        let until = started + Duration::from_millis(100);
        let text = read_diagnostics(&mut std::io::repeat(b'E'), Some(until));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            text.ends_with("more bytes)"),
            "{}",
            &text[text.len() - 30..]
        );
    }
}
