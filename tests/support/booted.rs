//! A booted Debian 12 system for the tests: the cached root of
//! tests/fixtures/debian-booted.sh (made once, with systemd, dbus and
//! openssh-server) under a fresh overlay — the cache is the lower layer and
//! is never written; what the test changes lands in an upper layer of its
//! own — booted with `systemd-nspawn --boot --register=no --keep-unit`.
//!
//! The container shares this machine's network: its sshd listens on
//! 127.0.0.1 and a free port, with a host key made for this boot, and lets
//! root in with a client key made here. [`Booted::boot`] returns once sshd
//! answers with its banner (systemd started it, so systemd is up) and the
//! container's init is known ([`Booted::leader`], for `nsenter:` contexts).
//!
//! [`Booted::stop`] (also run on drop) powers the container off (SIGTERM
//! to systemd-nspawn halts it), kills it if it does not go within the time,
//! checks that no process of it is left, and removes the overlay.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::sshd::wait_until;

/// How long a boot may take until sshd answers.
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a power-off may take before the container is killed.
const HALT_TIMEOUT: Duration = Duration::from_secs(30);

/// The host name the container is given, unlike this machine's.
pub const HOSTNAME: &str = "consfig-booted";

pub struct Booted {
    overlay: Overlay,
    dir: PathBuf,
    root: PathBuf,
    port: u16,
    leader: u32,
    child: Option<Child>,
}

/// In the Debian root `root`: sshd on 127.0.0.1:`port` with a new host
/// key, root let in with a new client key made at `client_key` (no
/// passwords), and the host name `hostname`.
pub fn let_root_in(root: &Path, port: u16, client_key: &Path, hostname: &str) {
    let etc = root.join("etc");
    keygen(&etc.join("ssh/ssh_host_ed25519_key"));
    write(
        &etc.join("ssh/sshd_config.d/consfig-test.conf"),
        &format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey /etc/ssh/ssh_host_ed25519_key\n\
             PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n"
        ),
        0o644,
    );
    keygen(client_key);
    let public = std::fs::read_to_string(client_key.with_extension("pub")).unwrap();
    let ssh = root.join("root/.ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).unwrap();
    write(&ssh.join("authorized_keys"), &public, 0o600);
    write(&etc.join("hostname"), &format!("{hostname}\n"), 0o644);
}

/// The known_hosts line for the sshd of the root `root` on 127.0.0.1:`port`
/// (its host key, as [`let_root_in`] made it).
pub fn root_known_hosts_line(root: &Path, port: u16) -> String {
    let key = std::fs::read_to_string(root.join("etc/ssh/ssh_host_ed25519_key.pub")).unwrap();
    let key: Vec<&str> = key.split_whitespace().take(2).collect();
    format!("[127.0.0.1]:{port} {}", key.join(" "))
}

/// Write `home`/.ssh/config naming 127.0.0.1:`port` `name` (user root,
/// `client_key`), and a known_hosts of `known_hosts_line` alone.
pub fn trust_root(home: &Path, name: &str, port: u16, client_key: &Path, known_hosts_line: &str) {
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::write(
        ssh.join("config"),
        format!(
            "Host {name}\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {}\n",
            client_key.display()
        ),
    )
    .unwrap();
    std::fs::write(ssh.join("known_hosts"), format!("{known_hosts_line}\n")).unwrap();
}

/// A fresh, writable copy of a cached root: an overlay whose lower layer is
/// the cache (never written) and whose upper layer is a scratch directory of
/// its own. Unmounted, and its scratch directory removed, on drop.
pub struct Overlay {
    dir: tempfile::TempDir,
    root: PathBuf,
    mounted: bool,
}

impl Overlay {
    /// An overlay of `lower`, mounted at `<scratch>/root`.
    pub fn of(lower: &Path) -> Overlay {
        let dir = tempfile::Builder::new()
            .prefix("consfig-overlay-")
            .tempdir()
            .unwrap();
        let root = dir.path().join("root");
        for sub in ["upper", "work", "root"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.display(),
            dir.path().join("upper").display(),
            dir.path().join("work").display()
        );
        nix::mount::mount(
            Some("overlay"),
            &root,
            Some("overlay"),
            nix::mount::MsFlags::empty(),
            Some(options.as_str()),
        )
        .unwrap_or_else(|e| panic!("mounting an overlay of {}: {e}", lower.display()));
        Overlay {
            dir,
            root,
            mounted: true,
        }
    }

    /// A fresh copy of the booted root of tests/fixtures/debian-booted.sh
    /// (systemd, dbus, openssh-server installed), not booted: a tree where
    /// systemd does not run, as an image being built.
    pub fn of_booted_root() -> Overlay {
        Overlay::of(&crate::debian::fixture("debian-booted.sh"))
    }

    /// Where the copy is.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A scratch directory beside the copy, removed with it.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// Unmount the copy (idempotent); its scratch directory stays until drop.
    pub fn unmount(&mut self) {
        if self.mounted {
            if nix::mount::umount(&self.root).is_err() {
                let _ = nix::mount::umount2(&self.root, nix::mount::MntFlags::MNT_DETACH);
            }
            self.mounted = false;
        }
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        self.unmount();
    }
}

/// A new ed25519 key pair without passphrase: `path` and `path`.pub.
pub fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "consfig-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen (`make test-deps` installs openssh-client)");
    assert!(status.success(), "ssh-keygen -f {} failed", path.display());
}

/// Write `text` to `path` with `mode`, making its directory.
pub fn write(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Booted {
    /// Boot a fresh copy of the cached root. Returns once its sshd answers.
    pub fn boot() -> Booted {
        assert!(
            Path::new("/usr/bin/systemd-nspawn").exists(),
            "systemd-nspawn is missing: `make test-deps` installs systemd-container"
        );
        let overlay = Overlay::of_booted_root();
        let mut booted = Booted {
            dir: overlay.scratch().to_owned(),
            root: overlay.root().to_owned(),
            overlay,
            port: 0,
            leader: 0,
            child: None,
        };
        booted.port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        booted.configure();
        booted.start();
        booted
    }

    /// sshd on the loopback port with a host key of this boot, root let in
    /// with the client key; the host name [`HOSTNAME`].
    fn configure(&self) {
        let etc = self.root.join("etc");
        for old in std::fs::read_dir(etc.join("ssh")).unwrap().flatten() {
            if old.file_name().to_string_lossy().starts_with("ssh_host_") {
                std::fs::remove_file(old.path()).unwrap();
            }
        }
        let_root_in(&self.root, self.port, &self.client_key(), HOSTNAME);
    }

    fn start(&mut self) {
        let log = std::fs::File::create(self.dir.join("nspawn.log")).unwrap();
        let child = Command::new("/usr/bin/systemd-nspawn")
            .arg("-D")
            .arg(&self.root)
            .args([
                "--boot",
                "--register=no",
                "--keep-unit",
                "--console=passive",
                &format!("--hostname={HOSTNAME}"),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("running systemd-nspawn");
        self.child = Some(child);
        let deadline = Instant::now() + BOOT_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                panic!(
                    "systemd-nspawn ended ({status}) before sshd answered: {}",
                    self.log()
                );
            }
            if self.leader == 0 {
                self.leader = self.find_leader().unwrap_or(0);
            }
            if self.leader != 0 && banner(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = self.log();
        self.stop();
        panic!(
            "the container's sshd did not answer on 127.0.0.1:{} within {BOOT_TIMEOUT:?}: {log}",
            self.port
        );
    }

    /// The container's init: the process under systemd-nspawn that is
    /// process 1 of its own process namespace.
    fn find_leader(&self) -> Option<u32> {
        let nspawn = self.child.as_ref()?.id() as i32;
        super::sshd::descendants(Pid::from_raw(nspawn))
            .into_iter()
            .find_map(|pid| {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
                let ids: Vec<&str> = status
                    .lines()
                    .find_map(|l| l.strip_prefix("NSpid:"))?
                    .split_whitespace()
                    .collect();
                (ids.len() >= 2 && ids.last() == Some(&"1")).then_some(pid.as_raw() as u32)
            })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("nspawn.log")).unwrap_or_default()
    }

    /// The loopback port the container's sshd listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The container's init, as this machine numbers it.
    pub fn leader(&self) -> u32 {
        self.leader
    }

    /// The client's private key (no passphrase), which root's
    /// authorized_keys in the container lists.
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client_ed25519")
    }

    /// Where a path of the container's lies among this machine's files:
    /// through its init's root, so it sees the container's own mounts (/run).
    pub fn inside(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.leader)).join(path.trim_start_matches('/'))
    }

    /// The known_hosts line for the container's sshd.
    pub fn known_hosts_line(&self) -> String {
        root_known_hosts_line(&self.root, self.port)
    }

    /// Write `home`/.ssh/config naming the container `name` (user root,
    /// the client key) and a known_hosts that trusts it alone.
    pub fn trust(&self, home: &Path, name: &str) {
        trust_root(
            home,
            name,
            self.port,
            &self.client_key(),
            &self.known_hosts_line(),
        );
    }

    /// Power the container off (kill it if it takes too long), check that
    /// nothing of it is left running, and remove the overlay.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let nspawn = Pid::from_raw(child.id() as i32);
            let left = super::sshd::descendants(nspawn);
            // systemd-nspawn halts the container on SIGTERM.
            let _ = kill(nspawn, Signal::SIGTERM);
            if !wait_until(HALT_TIMEOUT, || matches!(child.try_wait(), Ok(Some(_)))) {
                // Its init gone, the kernel kills every process of its namespace.
                if self.leader != 0 {
                    let _ = kill(Pid::from_raw(self.leader as i32), Signal::SIGKILL);
                }
                let _ = child.kill();
                let _ = child.wait();
            }
            let gone = |pid: &Pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .map(|s| {
                        s.rsplit_once(')')
                            .is_some_and(|(_, r)| r.trim_start().starts_with(['Z', 'X']))
                    })
                    .unwrap_or(true)
            };
            if !wait_until(Duration::from_secs(5), || left.iter().all(gone)) {
                for pid in &left {
                    let _ = kill(*pid, Signal::SIGKILL);
                }
                let still: Vec<_> = left.iter().filter(|p| !gone(p)).collect();
                if !std::thread::panicking() {
                    assert!(
                        still.is_empty(),
                        "processes of the container left: {still:?}"
                    );
                }
            }
        }
        // What nspawn mounted lived in its own namespace; the overlay is ours.
        self.overlay.unmount();
    }
}

impl Drop for Booted {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether an SSH server answers on 127.0.0.1:`port` with its banner.
pub fn banner(port: u16) -> bool {
    ssh_version(port).is_some_and(|line| line.starts_with("SSH-2.0-"))
}

/// The version line an SSH server on 127.0.0.1:`port` greets with
/// (`SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`), if it answers.
pub fn ssh_version(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 255 {
        stream.read_exact(&mut byte).ok()?;
        if byte[0] == b'\n' {
            break;
        }
        line.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&line).trim_end().to_owned())
}
