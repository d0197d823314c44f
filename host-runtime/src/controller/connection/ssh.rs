//! The `ssh://` hop, over the `ssh2` crate.
//!
//! Host, port, user, identity files and jump hosts come from the hop, then
//! the SSH configuration as OpenSSH reads it ([`super::ssh_config`]), then
//! defaults, so a host that works with `ssh web1` works here — or, when the
//! configuration asks for what this client cannot do, the deploy says so
//! and names the `openssh://` hop as the way out. Each host's key, the jump
//! hosts' too, must be in known_hosts: an unknown key is refused unless new
//! keys are accepted, a changed key always.

use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use ssh2::{CheckResult, HashType, KnownHostFileKind, Session};

use super::become_user::{Become, Passwords};
use super::bootstrap::{self, Runtimes};
use super::deadline::Deadline;
use super::ssh_config::{self, Query};
use super::ssh_target::Endpoint;
use super::tunnel::{self, JumpSession};
use super::{ConnectionError, FINISH_GRACE, RuntimeChannel, RuntimeProcess, read_diagnostics};

const DEFAULT_KEYS: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// Longest wait for any one step of starting the runtime (including a stalled
/// upload), so a target that stops answering never hangs the controller.
pub const BOOTSTRAP_STEP_TIMEOUT_MS: u32 = 120_000;

/// How long connecting may take when the configuration sets no ConnectTimeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most jump hosts between the controller and a target: more is a loop
/// of ProxyJump settings, most likely.
const MAX_JUMPS: usize = 8;

pub use super::ssh_target::SshTarget;

/// Options of the controller that shape SSH connections.
#[derive(Debug, Clone, Default)]
pub struct SshOptions {
    /// Add unknown host keys to known_hosts (changed keys are always refused).
    pub accept_new_host_keys: bool,
    /// Identity files from Consfig.toml, tried before ~/.ssh/config's and the
    /// defaults (for the target, not its jump hosts).
    pub identity_files: Vec<PathBuf>,
    /// The passwords a `sudo` or `su` hop may need.
    pub passwords: Passwords,
    /// The SSH configuration file to read instead of ~/.ssh/config and
    /// /etc/ssh/ssh_config (as `ssh -F`), from Consfig.toml.
    pub config_file: Option<PathBuf>,
}

/// A host fully resolved with the SSH configuration and defaults.
#[derive(Debug)]
struct Resolved {
    host_name: String,
    port: u16,
    user: String,
    identity_files: Vec<PathBuf>,
    /// Without the agent, if IdentitiesOnly says so.
    identities_only: bool,
    /// Where host keys are looked up; new ones go to the first.
    known_hosts: Vec<PathBuf>,
    connect_timeout: Duration,
    address_family: Option<String>,
    /// The jump hosts to go through, first to last.
    jumps: Vec<Endpoint>,
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// The user running the controller, as the SSH configuration's `%u` and
/// `Match localuser` see it, and the default login user.
fn local_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "root".to_owned())
}

/// Resolve `endpoint` with the SSH configuration; `jumps` as the hop names
/// them (None: the configuration's ProxyJump).
fn resolve(
    home: &Path,
    endpoint: &Endpoint,
    jumps: Option<&[Endpoint]>,
    options: &SshOptions,
) -> Result<Resolved, ConnectionError> {
    let local_user = local_user();
    let files = match &options.config_file {
        Some(file) => vec![file.clone()],
        None => ssh_config::default_files(home),
    };
    let config = ssh_config::evaluate(
        &files,
        home,
        &Query {
            host: &endpoint.host,
            user: endpoint.user.as_deref(),
            local_user: &local_user,
        },
    )
    .map_err(|e| ConnectionError::Config(e.to_string()))?;
    let user = endpoint
        .user
        .clone()
        .or(config.user)
        .unwrap_or_else(|| local_user.clone());
    let host_name = config.host_name.unwrap_or_else(|| endpoint.host.clone());
    let port = endpoint.port.or(config.port).unwrap_or(22);
    let bad = |e: String| ConnectionError::Config(format!("{}: {e}", endpoint.host));
    let path = |value: &str| {
        ssh_config::expand_path(
            value,
            home,
            &local_user,
            &endpoint.host,
            &host_name,
            port,
            &user,
        )
        .map_err(bad)
    };
    let ssh_dir = home.join(".ssh");
    let mut identity_files = options.identity_files.clone();
    for file in &config.identity_files {
        identity_files.push(path(file)?);
    }
    if identity_files.is_empty() {
        identity_files.extend(
            DEFAULT_KEYS
                .iter()
                .map(|k| ssh_dir.join(k))
                .filter(|p| p.exists()),
        );
    }
    let known_hosts = match &config.user_known_hosts_files {
        Some(files) => files.iter().map(|f| path(f)).collect::<Result<_, _>>()?,
        None => vec![ssh_dir.join("known_hosts")],
    };
    let jumps = match jumps {
        Some(jumps) => jumps.to_vec(),
        None => match &config.proxy_jump {
            Some(list) => {
                Endpoint::parse_jumps(list).map_err(|e| bad(format!("ProxyJump: {e}")))?
            }
            None => Vec::new(),
        },
    };
    Ok(Resolved {
        host_name,
        port,
        user,
        identity_files,
        identities_only: config.identities_only.unwrap_or(false),
        known_hosts,
        connect_timeout: config
            .connect_timeout_seconds
            .map(Duration::from_secs)
            .unwrap_or(CONNECT_TIMEOUT),
        address_family: config.address_family,
        jumps,
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
    let ssh_error = |e: ssh2::Error| ConnectionError::Ssh(e.to_string());
    let mut known = session.known_hosts().map_err(ssh_error)?;
    for file in r.known_hosts.iter().filter(|f| f.exists()) {
        known
            .read_file(file, KnownHostFileKind::OpenSSH)
            .map_err(|e| ConnectionError::Ssh(format!("{}: {e}", file.display())))?;
    }
    let first = r.known_hosts.first().cloned().unwrap_or_default();
    match known.check_port(&r.host_name, r.port, key) {
        CheckResult::Match => Ok(()),
        CheckResult::Mismatch => Err(ConnectionError::HostKeyChanged {
            host: name.clone(),
            fingerprint,
            known_hosts: first,
        }),
        CheckResult::NotFound if options.accept_new_host_keys => {
            // Only the first file is written, with only its own lines and the new one.
            let mut own = session.known_hosts().map_err(ssh_error)?;
            if first.exists() {
                own.read_file(&first, KnownHostFileKind::OpenSSH)
                    .map_err(|e| ConnectionError::Ssh(format!("{}: {e}", first.display())))?;
            }
            own.add(&name, key, "added by consfig", key_type.into())
                .and_then(|()| {
                    if let Some(dir) = first.parent() {
                        let _ = std::fs::create_dir_all(dir);
                    }
                    own.write_file(&first, KnownHostFileKind::OpenSSH)
                })
                .map_err(|e| {
                    ConnectionError::Ssh(format!("adding {name} to {}: {e}", first.display()))
                })
        }
        CheckResult::NotFound => Err(ConnectionError::HostKeyUnknown {
            host: name,
            fingerprint,
            known_hosts: first,
        }),
        CheckResult::Failure => Err(ConnectionError::Ssh(format!(
            "{name}: checking the host key failed"
        ))),
    }
}

fn authenticate(session: &Session, r: &Resolved) -> Result<(), ConnectionError> {
    let mut tried = Vec::new();
    if !r.identities_only && std::env::var_os("SSH_AUTH_SOCK").is_some() {
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

/// A TCP connection to the resolved host, of the family the configuration asks.
fn dial(r: &Resolved) -> Result<TcpStream, String> {
    let addresses = (r.host_name.as_str(), r.port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .filter(|a| match r.address_family.as_deref() {
            Some("inet") => a.is_ipv4(),
            Some("inet6") => a.is_ipv6(),
            _ => true,
        });
    let mut last = "no address".to_owned();
    for address in addresses {
        match TcpStream::connect_timeout(&address, r.connect_timeout) {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = format!("{address}: {e}"),
        }
    }
    Err(last)
}

/// Connect to `endpoint` (through its jump hosts, each connected the same
/// way), check its host key, and log in. `jumps`: as the hop names them, or
/// None for the configuration's; `depth`: jumps made so far.
fn connect_to(
    home: &Path,
    endpoint: &Endpoint,
    jumps: Option<&[Endpoint]>,
    options: &SshOptions,
    depth: usize,
) -> Result<JumpSession, ConnectionError> {
    let r = resolve(home, endpoint, jumps, options)?;
    let name = known_hosts_name(&r.host_name, r.port);
    let unreachable = |reason: String| ConnectionError::Unreachable {
        host: name.clone(),
        reason,
    };
    let mut session = Session::new().map_err(|e| ConnectionError::Ssh(e.to_string()))?;
    let transport: OwnedFd = match r.jumps.split_last() {
        None => {
            let tcp = dial(&r).map_err(unreachable)?;
            let transport = tcp.try_clone().map_err(|e| unreachable(e.to_string()))?;
            session.set_tcp_stream(tcp);
            transport.into()
        }
        Some(_) if depth + r.jumps.len() > MAX_JUMPS => {
            return Err(ConnectionError::Config(format!(
                "{}: more than {MAX_JUMPS} jump hosts to reach it (do ProxyJump settings lead back to each other?)",
                endpoint.host
            )));
        }
        Some((last, earlier)) => {
            // The last jump is reached through the ones before it, if the
            // hop or ProxyJump lists any, else through its own ProxyJump.
            let earlier = (!earlier.is_empty()).then_some(earlier);
            // Consfig.toml's identity files are the target's, not its jumps'.
            let jump_options = SshOptions {
                identity_files: Vec::new(),
                ..options.clone()
            };
            let jump = connect_to(home, last, earlier, &jump_options, depth + 1)?;
            jump.session
                .set_timeout(r.connect_timeout.as_millis() as u32);
            let channel = jump
                .session
                .channel_direct_tcpip(&r.host_name, r.port, None)
                .map_err(|e| unreachable(format!("through the jump host {last}: {e}")))?;
            jump.session.set_timeout(0);
            let near = tunnel::start(jump, channel).map_err(|e| unreachable(e.to_string()))?;
            let transport = near.try_clone().map_err(|e| unreachable(e.to_string()))?;
            session.set_tcp_stream(near);
            transport.into()
        }
    };
    // Bounded while connecting; unbounded after, as forms may take long.
    session.set_timeout(15_000);
    session
        .handshake()
        .map_err(|e| unreachable(format!("SSH handshake: {e}")))?;
    verify_host_key(&session, &r, options)?;
    authenticate(&session, &r)?;
    session.set_timeout(0);
    Ok(JumpSession { session, transport })
}

/// Connect to the hop's target, through the jumps it or the configuration names.
fn connect(target: &SshTarget, options: &SshOptions) -> Result<Session, ConnectionError> {
    let jumps = target.jumps.as_deref();
    connect_to(&home(), &target.endpoint(), jumps, options, 0).map(|connected| connected.session)
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
    let command = bootstrap::remote_command(runtimes, via);
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

        let web1 = resolve(home.path(), &endpoint("ssh://web1"), None, &options).unwrap();
        assert_eq!(
            (web1.host_name.as_str(), web1.port, web1.user.as_str()),
            ("127.0.0.7", 2201, "deploy")
        );
        assert_eq!(web1.identity_files, vec![ssh.join("web1_key")]);
        assert_eq!(web1.known_hosts, vec![ssh.join("known_hosts")]);
        assert_eq!(web1.jumps, Vec::new());

        // What the hop says wins over the config.
        let explicit =
            resolve(home.path(), &endpoint("ssh://root@web1:22"), None, &options).unwrap();
        assert_eq!((explicit.port, explicit.user.as_str()), (22, "root"));

        // Unlisted hosts get port 22 and the default keys that exist.
        let other = resolve(home.path(), &endpoint("ssh://root@other"), None, &options).unwrap();
        assert_eq!((other.host_name.as_str(), other.port), ("other", 22));
        assert_eq!(other.identity_files, vec![ssh.join("id_ed25519")]);
    }

    fn endpoint(hop: &str) -> Endpoint {
        hop.parse::<SshTarget>().unwrap().endpoint()
    }

    #[test]
    fn jumps_come_from_the_hop_or_proxy_jump() {
        let home = tempfile::tempdir().unwrap();
        let ssh = home.path().join(".ssh");
        std::fs::create_dir(&ssh).unwrap();
        std::fs::write(
            ssh.join("config"),
            "Host web1\n  ProxyJump deploy@b1:2201,b2\n  UserKnownHostsFile ~/kh1 %d/kh2\nHost b2\n  ProxyJump b0\n",
        )
        .unwrap();
        let options = SshOptions::default();
        let web1 = resolve(home.path(), &endpoint("ssh://web1"), None, &options).unwrap();
        let names: Vec<String> = web1.jumps.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["deploy@b1:2201", "b2"]);
        assert_eq!(
            web1.known_hosts,
            vec![home.path().join("kh1"), home.path().join("kh2")]
        );
        // The hop's jumps win; `jump=none` passes over ProxyJump.
        let hop: SshTarget = "ssh://web1?jump=none".parse().unwrap();
        let direct = resolve(home.path(), &hop.endpoint(), hop.jumps.as_deref(), &options).unwrap();
        assert!(direct.jumps.is_empty());
        // A jump's own ProxyJump applies to it.
        let b2 = resolve(home.path(), &endpoint("ssh://b2"), None, &options).unwrap();
        assert_eq!(b2.jumps[0].host, "b0");
        // The configuration, read instead of ~/.ssh/config: an option the
        // built-in client cannot honour is an error naming it.
        let other = home.path().join("other_config");
        std::fs::write(&other, "Host web1\n  ProxyCommand nc %h %p\n").unwrap();
        let options = SshOptions {
            config_file: Some(other),
            ..SshOptions::default()
        };
        let err = resolve(home.path(), &endpoint("ssh://web1"), None, &options).unwrap_err();
        assert!(err.to_string().contains("ProxyCommand nc %h %p"), "{err}");
    }

    /// ProxyJump settings that lead back to each other end in an error
    /// before anything is dialled.
    #[test]
    fn a_loop_of_jumps_is_an_error() {
        let home = tempfile::tempdir().unwrap();
        let ssh = home.path().join(".ssh");
        std::fs::create_dir(&ssh).unwrap();
        std::fs::write(
            ssh.join("config"),
            "Host a b\n  HostName 127.0.0.1\n  Port 9\nHost a\n  ProxyJump b\nHost b\n  ProxyJump a\n",
        )
        .unwrap();
        let started = std::time::Instant::now();
        let Err(err) = connect_to(
            home.path(),
            &endpoint("ssh://a"),
            None,
            &SshOptions::default(),
            0,
        ) else {
            panic!("connected through a loop");
        };
        assert!(err.to_string().contains("more than 8 jump hosts"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
