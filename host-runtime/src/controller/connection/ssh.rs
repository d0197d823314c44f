//! The `ssh` hop: `ssh://[USER@]HOST[:PORT]`, over the `ssh2` crate.
//!
//! Host, port, user and identity files come from the hop, then `~/.ssh/config`
//! (HostName, Port, User, IdentityFile), then defaults, so a host that works
//! with `ssh web1` works here. The server's key must be in `~/.ssh/known_hosts`:
//! an unknown key is refused unless new keys are accepted, a changed key always.

use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use ssh2::{CheckResult, HashType, KnownHostFileKind, Session};

use super::become_user::{Become, Passwords};
use super::bootstrap::{self, Runtimes, sh_quote};
use super::deadline::Deadline;
use super::{ConnectionError, FINISH_GRACE, RuntimeChannel, RuntimeProcess, read_diagnostics};

const DEFAULT_KEYS: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// Longest wait for any one step of starting the runtime (including a stalled
/// upload), so a target that stops answering never hangs the controller.
const BOOTSTRAP_STEP_TIMEOUT_MS: u32 = 120_000;

pub use super::ssh_target::SshTarget;

/// Options of the controller that shape SSH connections.
#[derive(Debug, Clone, Default)]
pub struct SshOptions {
    /// Add unknown host keys to known_hosts (changed keys are always refused).
    pub accept_new_host_keys: bool,
    /// Identity files from Consfig.toml, tried before ~/.ssh/config's and the defaults.
    pub identity_files: Vec<PathBuf>,
    /// The passwords a `sudo` or `su` hop may need.
    pub passwords: Passwords,
}

/// A target fully resolved with ~/.ssh/config and defaults.
#[derive(Debug)]
struct Resolved {
    host_name: String,
    port: u16,
    user: String,
    identity_files: Vec<PathBuf>,
    known_hosts: PathBuf,
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn resolve(home: &Path, target: &SshTarget, options: &SshOptions) -> Result<Resolved, String> {
    let ssh_dir = home.join(".ssh");
    let config_path = ssh_dir.join("config");
    let params = match std::fs::File::open(&config_path) {
        Ok(file) => ssh2_config::SshConfig::default()
            .home_dir(home)
            .parse(
                &mut std::io::BufReader::new(file),
                ssh2_config::ParseRule::ALLOW_UNKNOWN_FIELDS,
            )
            .map_err(|e| format!("{}: {e}", config_path.display()))?
            .query(&target.host),
        Err(_) => ssh2_config::SshConfig::default().query(&target.host),
    };
    let mut identity_files = options.identity_files.clone();
    identity_files.extend(params.identity_file.unwrap_or_default());
    if identity_files.is_empty() {
        identity_files.extend(
            DEFAULT_KEYS
                .iter()
                .map(|k| ssh_dir.join(k))
                .filter(|p| p.exists()),
        );
    }
    let user = target
        .user
        .clone()
        .or(params.user)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "root".to_owned());
    Ok(Resolved {
        host_name: params.host_name.unwrap_or_else(|| target.host.clone()),
        port: target.port.or(params.port).unwrap_or(22),
        user,
        identity_files,
        known_hosts: ssh_dir.join("known_hosts"),
    })
}

/// How known_hosts names a host: `host` on port 22, else `[host]:port`.
fn known_hosts_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

fn verify_host_key(
    session: &Session,
    r: &Resolved,
    options: &SshOptions,
) -> Result<(), ConnectionError> {
    let name = known_hosts_name(&r.host_name, r.port);
    let (key, key_type) = session
        .host_key()
        .ok_or_else(|| ConnectionError::Ssh(format!("{name}: the server sent no host key")))?;
    let fingerprint = session
        .host_key_hash(HashType::Sha256)
        .map(|h| {
            format!(
                "SHA256:{}",
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(h)
            )
        })
        .unwrap_or_default();
    let mut known = session
        .known_hosts()
        .map_err(|e| ConnectionError::Ssh(e.to_string()))?;
    if r.known_hosts.exists() {
        known
            .read_file(&r.known_hosts, KnownHostFileKind::OpenSSH)
            .map_err(|e| ConnectionError::Ssh(format!("{}: {e}", r.known_hosts.display())))?;
    }
    match known.check_port(&r.host_name, r.port, key) {
        CheckResult::Match => Ok(()),
        CheckResult::Mismatch => Err(ConnectionError::HostKeyChanged {
            host: name.clone(),
            fingerprint,
            known_hosts: r.known_hosts.clone(),
        }),
        CheckResult::NotFound if options.accept_new_host_keys => known
            .add(&name, key, "added by consfig", key_type.into())
            .and_then(|()| {
                if let Some(dir) = r.known_hosts.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                known.write_file(&r.known_hosts, KnownHostFileKind::OpenSSH)
            })
            .map_err(|e| {
                ConnectionError::Ssh(format!("adding {name} to {}: {e}", r.known_hosts.display()))
            }),
        CheckResult::NotFound => Err(ConnectionError::HostKeyUnknown {
            host: name,
            fingerprint,
            known_hosts: r.known_hosts.clone(),
        }),
        CheckResult::Failure => Err(ConnectionError::Ssh(format!(
            "{name}: checking the host key failed"
        ))),
    }
}

fn authenticate(session: &Session, r: &Resolved) -> Result<(), ConnectionError> {
    let mut tried = Vec::new();
    if std::env::var_os("SSH_AUTH_SOCK").is_some() {
        if session.userauth_agent(&r.user).is_ok() && session.authenticated() {
            return Ok(());
        }
        tried.push("ssh-agent".to_owned());
    }
    for key in &r.identity_files {
        if session
            .userauth_pubkey_file(&r.user, None, key, None)
            .is_ok()
            && session.authenticated()
        {
            return Ok(());
        }
        tried.push(key.display().to_string());
    }
    Err(ConnectionError::AuthFailed {
        user: r.user.clone(),
        host: known_hosts_name(&r.host_name, r.port),
        tried: if tried.is_empty() {
            "nothing (no agent, no key files)".into()
        } else {
            tried.join(", ")
        },
    })
}

/// Connect, check the host key, and log in.
fn connect(target: &SshTarget, options: &SshOptions) -> Result<Session, ConnectionError> {
    let r = resolve(&home(), target, options).map_err(ConnectionError::Ssh)?;
    let unreachable = |e: String| ConnectionError::Unreachable {
        host: known_hosts_name(&r.host_name, r.port),
        reason: e,
    };
    let addr = (r.host_name.as_str(), r.port)
        .to_socket_addrs()
        .map_err(|e| unreachable(e.to_string()))?
        .next()
        .ok_or_else(|| unreachable("no address".into()))?;
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| unreachable(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    let mut session = Session::new().map_err(|e| ConnectionError::Ssh(e.to_string()))?;
    session.set_tcp_stream(tcp);
    // Bounded while connecting; unbounded after, as forms may take long.
    session.set_timeout(15_000);
    session
        .handshake()
        .map_err(|e| unreachable(format!("SSH handshake: {e}")))?;
    verify_host_key(&session, &r, options)?;
    authenticate(&session, &r)?;
    session.set_timeout(0);
    Ok(session)
}

struct SshRuntime {
    // Dropped after the channel, which borrows its connection.
    channel: ssh2::Channel,
    session: Session,
}

impl RuntimeProcess for SshRuntime {
    fn finish(&mut self) -> String {
        // Each step bounded: a runtime that never ends is abandoned.
        self.session
            .set_timeout(FINISH_GRACE.as_millis().try_into().unwrap_or(u32::MAX));
        let _ = self.channel.send_eof();
        let until = std::time::Instant::now() + FINISH_GRACE;
        let mut stderr = read_diagnostics(&mut self.channel.stderr(), Some(until));
        let _ = self.channel.wait_close();
        match self.channel.exit_status() {
            Ok(0) | Err(_) => {}
            Ok(code) => stderr.push_str(&format!("\n(runtime exited with status {code})")),
        }
        stderr
    }
}

/// Start the runtime on the far side of `target`, uploading it first (the
/// one for the target's architecture) if the target lacks this exact binary. With `via`, the runtime runs as
/// its user through sudo, su or doas.
pub fn start_runtime(
    target: &SshTarget,
    via: Option<&Become>,
    options: &SshOptions,
    runtimes: &Runtimes,
) -> Result<RuntimeChannel, ConnectionError> {
    let session = connect(target, options)?;
    session.set_timeout(BOOTSTRAP_STEP_TIMEOUT_MS);
    let lost = |e: ssh2::Error| ConnectionError::Ssh(format!("{target}: {e}"));
    let mut channel = session.channel_session().map_err(lost)?;
    let script = bootstrap::script(runtimes);
    let command = match via {
        None => format!("sh -c {}", sh_quote(&script)),
        Some(via) => format!("sh -c {}", sh_quote(&via.command(&script))),
    };
    channel.exec(&command).map_err(lost)?;
    // Byte by byte while starting, so that nothing the runtime says after
    // the bootstrap's last line is read into this buffer.
    let mut reader = BufReader::with_capacity(1, channel.stream(0));
    let mut writer = BufWriter::new(channel.stream(0));
    let runtime_bytes_sent = match bootstrap::finish(
        &mut reader,
        &mut writer,
        runtimes,
        via.map(|via| (via, &options.passwords)),
    ) {
        Ok(sent) => {
            // From here on, the session's deadlines bound every wait.
            session.set_timeout(0);
            sent
        }
        Err(e) => {
            let mut process = SshRuntime { channel, session };
            let said = process.finish();
            let said = said.trim();
            return Err(ConnectionError::Bootstrap(if said.is_empty() {
                e
            } else {
                format!("{e}: {said}")
            }));
        }
    };
    let deadline = Deadline::default();
    let timed = |stream| Timed {
        stream,
        session: session.clone(),
        deadline: deadline.clone(),
    };
    let reader = BufReader::new(timed(reader.into_inner()));
    let writer =
        BufWriter::new(timed(writer.into_inner().map_err(|e| {
            ConnectionError::Ssh(format!("{target}: {}", e.error()))
        })?));
    Ok(RuntimeChannel {
        reader: Box::new(reader),
        writer: Box::new(writer),
        deadline,
        process: Box::new(SshRuntime { channel, session }),
        runtime_bytes_sent,
    })
}

/// A stream of the runtime's channel whose every wait ends at the deadline
/// (the session's timeout, set before each read and write).
struct Timed {
    stream: ssh2::Stream,
    session: Session,
    deadline: Deadline,
}

impl Timed {
    fn arm(&self) -> std::io::Result<()> {
        let ms = match self.deadline.remaining() {
            None => 0,
            Some(left) if left.is_zero() => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the runtime's deadline passed",
                ));
            }
            Some(left) => left.as_millis().clamp(1, u32::MAX as u128) as u32,
        };
        self.session.set_timeout(ms);
        Ok(())
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.arm()?;
        self.stream.read(buf)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.arm()?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.arm()?;
        self.stream.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hosts_as_known_hosts_does() {
        assert_eq!(known_hosts_name("web1", 22), "web1");
        assert_eq!(known_hosts_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
    }

    #[test]
    fn resolves_with_ssh_config_then_defaults() {
        let home = tempfile::tempdir().unwrap();
        let ssh = home.path().join(".ssh");
        std::fs::create_dir(&ssh).unwrap();
        std::fs::write(ssh.join("id_ed25519"), "").unwrap();
        std::fs::write(
            ssh.join("config"),
            "Host web1\n  HostName 127.0.0.7\n  Port 2201\n  User deploy\n  IdentityFile ~/.ssh/web1_key\n  ForwardX11 no\n",
        )
        .unwrap();
        let options = SshOptions::default();

        let web1 = resolve(home.path(), &"ssh://web1".parse().unwrap(), &options).unwrap();
        assert_eq!(
            (web1.host_name.as_str(), web1.port, web1.user.as_str()),
            ("127.0.0.7", 2201, "deploy")
        );
        assert_eq!(web1.identity_files, vec![ssh.join("web1_key")]);
        assert_eq!(web1.known_hosts, ssh.join("known_hosts"));

        // What the hop says wins over the config.
        let explicit = resolve(
            home.path(),
            &"ssh://root@web1:22".parse().unwrap(),
            &options,
        )
        .unwrap();
        assert_eq!((explicit.port, explicit.user.as_str()), (22, "root"));

        // Unlisted hosts get port 22 and the default keys that exist.
        let other = resolve(home.path(), &"ssh://root@other".parse().unwrap(), &options).unwrap();
        assert_eq!((other.host_name.as_str(), other.port), ("other", 22));
        assert_eq!(other.identity_files, vec![ssh.join("id_ed25519")]);
    }
}
