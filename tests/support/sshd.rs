//! A real OpenSSH server for the tests: `/usr/sbin/sshd` on 127.0.0.1 (never
//! any other address) and a free high port, with an ed25519 host key, a client
//! key pair and an `sshd_config` of its own, all in a temporary directory the
//! fixture owns. Each server also has its own target-side cache directory
//! (passed to sessions as XDG_CACHE_HOME), so a test sees cold and warm targets
//! it made itself — unless started with [`Sshd::start_with_home_caches`], for
//! many accounts as distinct targets, each with the cache in its own home —
//! and another for runtimes started through `sudo`, which
//! drops XDG_CACHE_HOME: a sudoers rule with [`Sshd::sudo_defaults`] sets it
//! again, so that no test writes the cache under root's (or any) home. Several
//! servers may run at once.
//!
//! Accounts: the server runs with `UsePAM no`, and then sshd refuses accounts
//! whose password field in /etc/shadow is locked (starts with `!`, as `useradd`
//! leaves it). [`Sshd::authorize`] therefore replaces a locked field of a test
//! account with `*` (no password, not locked); it never changes root's entry.
//!
//! [`Sshd::stop`] (also run on drop) ends the listener and every process it
//! forked for connections: sshd outlives neither the test nor a restart, and
//! neither do the sessions' commands. (A listener ending on SIGTERM leaves
//! its connections' processes running.)

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const SSHD: &str = "/usr/sbin/sshd";

/// How long a server has to come up before [`Sshd::start`] gives up.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Sshd {
    dir: tempfile::TempDir,
    client_key: PathBuf,
    port: u16,
    child: Option<Child>,
    /// Sessions keep no XDG_CACHE_HOME: each account's runtime caches under
    /// its own `~/.cache`.
    home_caches: bool,
}

fn keygen(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("pub"));
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "consfig-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen (`make test-deps` installs openssh-client)");
    assert!(status.success(), "ssh-keygen -f {} failed", path.display());
}

fn mkdir(path: &Path, mode: u32) {
    std::fs::create_dir(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Sshd {
    /// Start a fresh server: new host and client keys, `root` authorised.
    /// Returns once it answers with an SSH banner.
    pub fn start() -> Sshd {
        Self::start_with(false)
    }

    /// The same, but sessions get no XDG_CACHE_HOME: the runtime of each
    /// account keeps its cache in that account's home, so several accounts
    /// of this one server are distinct targets, cold or warm each on its own.
    pub fn start_with_home_caches() -> Sshd {
        Self::start_with(true)
    }

    fn start_with(home_caches: bool) -> Sshd {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: `make test-deps` installs openssh-server"
        );
        // sshd's privilege separation directory.
        if !Path::new("/run/sshd").exists() {
            match std::fs::create_dir("/run/sshd") {
                Ok(()) => {
                    std::fs::set_permissions("/run/sshd", std::fs::Permissions::from_mode(0o755))
                        .unwrap()
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => panic!("creating /run/sshd: {e}"),
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("consfig-sshd-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        mkdir(&dir.path().join("authorized_keys"), 0o755);
        mkdir(&dir.path().join("target-cache"), 0o1777);
        mkdir(&dir.path().join("sudo-cache"), 0o1777);
        std::fs::write(
            dir.path().join("sudo-env"),
            format!(
                "XDG_CACHE_HOME={}\n",
                dir.path().join("sudo-cache").display()
            ),
        )
        .unwrap();
        keygen(&dir.path().join("host_ed25519"));
        let client_key = dir.path().join("client_ed25519");
        keygen(&client_key);
        let mut sshd = Sshd {
            dir,
            client_key,
            port: 0,
            child: None,
            home_caches,
        };
        sshd.authorize("root");
        sshd.launch(false);
        sshd
    }

    /// The server's sshd_config. `StrictModes no`: the fixture lives under
    /// /tmp, which is world-writable, and sshd's check of the authorized_keys
    /// path would refuse every key; the fixture alone writes those files.
    fn config(&self) -> String {
        let d = self.dir.path().display();
        let cache = if self.home_caches {
            String::new()
        } else {
            format!("SetEnv XDG_CACHE_HOME={d}/target-cache\n")
        };
        format!(
            "ListenAddress 127.0.0.1\n\
             Port {port}\n\
             HostKey {d}/host_ed25519\n\
             PidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys/%u\n\
             StrictModes no\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\n\
             UsePAM no\n\
             {cache}\
             Subsystem sftp internal-sftp\n\
             MaxStartups 100\n\
             MaxSessions 100\n\
             LogLevel ERROR\n",
            port = self.port
        )
    }

    /// Run sshd until it is ready, on `self.port` if `same_port`, else on a
    /// free port found here (another one if sshd could not bind it).
    fn launch(&mut self, same_port: bool) {
        let mut last_error = String::new();
        for _ in 0..5 {
            if !same_port {
                let probe = TcpListener::bind("127.0.0.1:0").unwrap();
                self.port = probe.local_addr().unwrap().port();
            }
            let config = self.dir.path().join("sshd_config");
            std::fs::write(&config, self.config()).unwrap();
            let pid_file = self.dir.path().join("sshd.pid");
            let _ = std::fs::remove_file(&pid_file);
            // sshd's log goes to a file, not a pipe: the processes it forks
            // for connections inherit it, and a pipe nobody drains (or one
            // still held open by them) could block sshd or this process.
            let log_path = self.dir.path().join("sshd.log");
            let log = std::fs::File::create(&log_path).unwrap();
            let mut child = Command::new(SSHD)
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("running {SSHD}: {e}"));
            if ready(&mut child, &pid_file, self.port) {
                self.child = Some(child);
                return;
            }
            let _ = child.kill();
            let _ = child.wait();
            last_error = std::fs::read_to_string(&log_path).unwrap_or_default();
            if same_port {
                // Taken meanwhile by some other listener, maybe: give it time.
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        panic!(
            "sshd did not start on 127.0.0.1:{}: {last_error}",
            self.port
        );
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The client's private key (no passphrase, mode 0600).
    pub fn client_key(&self) -> &Path {
        &self.client_key
    }

    /// Where runtimes started through this server keep their cache (unused
    /// by a server started with [`Sshd::start_with_home_caches`]).
    pub fn target_cache(&self) -> PathBuf {
        self.dir.path().join("target-cache")
    }

    /// Where runtimes started through `sudo` keep their cache, given a
    /// sudoers rule with [`Sshd::sudo_defaults`].
    pub fn sudo_cache(&self) -> PathBuf {
        self.dir.path().join("sudo-cache")
    }

    /// A sudoers line that makes `sudo` run by `login` keep its cache in
    /// [`Sshd::sudo_cache`]. One target user per server: each user's runtime
    /// makes the cache directory its own.
    pub fn sudo_defaults(&self, login: &str) -> String {
        format!(
            "Defaults:{login} env_file=\"{}\"",
            self.dir.path().join("sudo-env").display()
        )
    }

    /// The host key as `ssh-ed25519 AAAA…`.
    pub fn host_public_key(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("host_ed25519.pub")).unwrap();
        text.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The known_hosts line for this server: `[127.0.0.1]:PORT ssh-ed25519 AAAA…`.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_public_key())
    }

    /// Write a known_hosts file that trusts this server (and nothing else).
    pub fn write_known_hosts(&self, path: &Path) {
        std::fs::write(path, format!("{}\n", self.known_hosts_line())).unwrap();
    }

    /// Let `user`, an existing account, log in with the client key. A locked
    /// account (see the module comment) is unlocked with `usermod -p '*'`,
    /// except root, which is refused with an explanation instead.
    pub fn authorize(&self, user: &str) {
        let public = std::fs::read_to_string(self.client_key.with_extension("pub")).unwrap();
        let path = self.dir.path().join("authorized_keys").join(user);
        std::fs::write(&path, public).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        if !password_locked(user) {
            return;
        }
        assert!(
            user != "root",
            "root's password is locked (`!` in /etc/shadow), so sshd (UsePAM no) \
             refuses it: run the SSH tests on a machine where it is not, or \
             unlock it with `usermod -p '*' root`"
        );
        let out = Command::new("usermod")
            .args(["-p", "*", user])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "usermod -p '*' {user}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A new host key, the server restarted on the same port.
    pub fn rotate_host_key(&mut self) {
        self.stop();
        keygen(&self.dir.path().join("host_ed25519"));
        self.launch(true);
    }

    /// Stop the listener and every process under it: the connections' sshd
    /// processes and the commands of their sessions.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let listener = Pid::from_raw(child.id() as i32);
        // Hold the listener still so that it forks no more while the processes
        // under it are listed; SIGTERM then ends it as it resumes.
        let _ = kill(listener, Signal::SIGSTOP);
        wait_until(Duration::from_secs(1), || {
            matches!(process_state(listener), None | Some('T' | 'Z'))
        });
        let sessions = descendants(listener);
        let _ = kill(listener, Signal::SIGTERM);
        let _ = kill(listener, Signal::SIGCONT);
        for &pid in &sessions {
            let _ = kill(pid, Signal::SIGTERM);
        }
        let exited = wait_until(Duration::from_secs(5), || {
            matches!(child.try_wait(), Ok(Some(_)))
        });
        if !exited {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Not ours to reap: gone once dead (or a zombie of their new parent).
        let ended = |pid| matches!(process_state(pid), None | Some('Z' | 'X'));
        if !wait_until(Duration::from_secs(5), || {
            sessions.iter().all(|&p| ended(p))
        }) {
            for &pid in &sessions {
                let _ = kill(pid, Signal::SIGKILL);
            }
            wait_until(Duration::from_secs(1), || {
                sessions.iter().all(|&p| ended(p))
            });
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether /etc/shadow gives `user` a locked password (`!…`), which sshd
/// refuses when it runs without PAM.
fn password_locked(user: &str) -> bool {
    let Ok(shadow) = std::fs::read_to_string("/etc/shadow") else {
        return false;
    };
    shadow.lines().any(|line| {
        let mut fields = line.split(':');
        fields.next() == Some(user) && fields.next().is_some_and(|p| p.starts_with('!'))
    })
}

/// Poll `done` every 10 ms for up to `limit`; whether it became true.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `/proc/PID/stat`, split after the command name: (state, ppid, …).
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    Some(after_comm.split_whitespace().map(str::to_owned).collect())
}

/// A process's state letter (`R`, `S`, `T`, `Z`, …), or None if it is gone.
fn process_state(pid: Pid) -> Option<char> {
    stat_fields(pid.as_raw())?.first()?.chars().next()
}

/// Every process descended from `root`, parents before children.
pub(crate) fn descendants(root: Pid) -> Vec<Pid> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some(ppid) = stat_fields(pid).and_then(|f| f.get(1)?.parse::<i32>().ok()) {
            parents.push((pid, ppid));
        }
    }
    let mut found = vec![root.as_raw()];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|&&(_, pp)| pp == parent)
                .map(|&(p, _)| p),
        );
        i += 1;
    }
    found[1..].iter().map(|&pid| Pid::from_raw(pid)).collect()
}

/// Whether `child` is the server on `port` and answers with an SSH banner
/// within [`READY_TIMEOUT`]. sshd writes its pid file once it listens, so
/// another server that got the same port cannot pass for this one.
fn ready(child: &mut Child, pid_file: &Path, port: u16) -> bool {
    let ours = child.id().to_string();
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        let listening = std::fs::read_to_string(pid_file).is_ok_and(|p| p.trim() == ours);
        if listening && let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut banner = [0u8; 8];
            if stream.read_exact(&mut banner).is_ok() && &banner == b"SSH-2.0-" {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Write `home`/.ssh/config naming each server (`name(i)`, user root, the
/// server's client key) and a known_hosts that trusts them all.
pub fn trust(home: &Path, servers: &[&Sshd], name: impl Fn(usize) -> String) {
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    let mut config = String::new();
    let mut known = String::new();
    for (i, server) in servers.iter().enumerate() {
        config.push_str(&format!(
            "Host {}\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n",
            name(i),
            server.port(),
            server.client_key().display()
        ));
        known.push_str(&server.known_hosts_line());
        known.push('\n');
    }
    std::fs::write(ssh.join("config"), config).unwrap();
    std::fs::write(ssh.join("known_hosts"), known).unwrap();
}

/// The system `ssh` client to `user`@127.0.0.1:`port` running `command`,
/// logging in with `key` alone, host keys checked against `known_hosts`
/// only, never prompting.
pub fn ssh_client(key: &Path, port: u16, known_hosts: &Path, user: &str, command: &str) -> Command {
    let mut ssh = Command::new("ssh");
    ssh.arg("-i")
        .arg(key)
        .args(["-p", &port.to_string()])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "ConnectTimeout=60",
            "-F",
            "/dev/null",
        ])
        .arg(format!("{user}@127.0.0.1"))
        .arg(command)
        .stdin(std::process::Stdio::null());
    ssh
}
