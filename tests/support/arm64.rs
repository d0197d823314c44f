//! An aarch64 Debian 12 machine for the tests, reached over SSH: the cached
//! arm64 root of tests/fixtures/debian-arm64-root.sh under a fresh overlay
//! (the cache is the lower layer and is never written), its own sshd run
//! with `systemd-nspawn` (not booted: sshd alone, under nspawn's stub init),
//! every aarch64 program of it emulated by qemu-user-static through
//! binfmt_misc. The container shares this machine's network: sshd listens on
//! 127.0.0.1 and a free port, with a host key made for this start, and lets
//! root in with a client key made here (keys as [`crate::booted`] makes them).
//! [`Arm64Host::start`] returns once sshd answers with its banner.
//!
//! [`Arm64Host::stop`] (also run on drop) ends systemd-nspawn, which kills the
//! container's init and with it every process of its PID namespace (sshd,
//! connections, sessions' commands), checks that no process is left in the
//! root, and unmounts the overlay.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::booted::{Overlay, banner, let_root_in, root_known_hosts_line, trust_root};
use crate::sshd::{descendants, wait_until};

/// How long sshd may take to answer: every program of the root is emulated,
/// its dynamic loader and sshd's start-up included.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long systemd-nspawn may take to go once told to.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The host name the container is given, unlike this machine's.
pub const HOSTNAME: &str = "consfig-arm64";

const NSPAWN: &str = "/usr/bin/systemd-nspawn";

pub struct Arm64Host {
    overlay: Overlay,
    dir: PathBuf,
    root: PathBuf,
    /// The overlay root's (device, inode): what /proc/PID/root of a process
    /// of the container leads to.
    root_id: (u64, u64),
    port: u16,
    child: Option<Child>,
}

impl Arm64Host {
    /// Run sshd in a fresh copy of the cached arm64 root. Returns once it
    /// answers.
    pub fn start() -> Arm64Host {
        assert!(
            Path::new(NSPAWN).exists(),
            "{NSPAWN} is missing: `make test-deps` installs systemd-container"
        );
        // The script checks (and makes) the binfmt_misc registration of
        // qemu-aarch64 on every call, and fails saying why it cannot.
        let overlay = Overlay::of(&crate::debian::fixture("debian-arm64-root.sh"));
        let root = overlay.root().to_owned();
        let meta = std::fs::metadata(&root).unwrap();
        let mut host = Arm64Host {
            dir: overlay.scratch().to_owned(),
            root,
            root_id: (meta.dev(), meta.ino()),
            overlay,
            port: 0,
            child: None,
        };
        host.port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        host.configure();
        host.run_sshd();
        host
    }

    /// sshd on the loopback port with a host key of this start, root let in
    /// with the client key. The rest is Debian's own sshd_config (PAM on).
    fn configure(&self) {
        let_root_in(&self.root, self.port, &self.client_key(), HOSTNAME);
    }

    /// systemd-nspawn with sshd in the foreground under its stub init (so
    /// that orphaned session processes are reaped), /proc, /dev and a fresh
    /// /run mounted for it, this machine's network shared. The machine name
    /// is unique: nspawn keeps a directory per name under /run.
    fn run_sshd(&mut self) {
        let log = std::fs::File::create(self.log_path()).unwrap();
        let child = Command::new(NSPAWN)
            .arg("-D")
            .arg(&self.root)
            .args([
                "-q",
                "--register=no",
                "--keep-unit",
                "--as-pid2",
                "--console=pipe",
                &format!("--machine=consfig-arm64-{}", self.port),
                &format!("--hostname={HOSTNAME}"),
                "/bin/sh",
                "-c",
                // /run is nspawn's fresh tmpfs: sshd's privilege separation
                // directory is made anew.
                "mkdir -p -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("running {NSPAWN}: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                panic!(
                    "systemd-nspawn ended ({status}) before sshd answered: {}",
                    self.log()
                );
            }
            if banner(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = self.log();
        self.stop();
        panic!(
            "the arm64 root's sshd did not answer on 127.0.0.1:{} within {START_TIMEOUT:?}: {log}",
            self.port
        );
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("nspawn.log")
    }

    /// What systemd-nspawn and sshd wrote (sshd logs to stderr, `-e`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The loopback port sshd listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The client's private key (no passphrase), which root's
    /// authorized_keys in the root lists.
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client_ed25519")
    }

    /// Where the container's root is on this machine: what a deploy wrote
    /// there is under it (not what it wrote to /run, /proc or /dev, which
    /// nspawn mounted in the container alone).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host key as `ssh-ed25519 AAAA…`.
    pub fn host_public_key(&self) -> String {
        let line = self.known_hosts_line();
        line.split_once(' ').unwrap().1.to_owned()
    }

    /// The known_hosts line for the container's sshd.
    pub fn known_hosts_line(&self) -> String {
        root_known_hosts_line(&self.root, self.port)
    }

    /// Write a known_hosts file that trusts this host (and nothing else).
    pub fn write_known_hosts(&self, path: &Path) {
        std::fs::write(path, format!("{}\n", self.known_hosts_line())).unwrap();
    }

    /// Write `home`/.ssh/config naming this host `name` (user root, the
    /// client key) and a known_hosts that trusts it alone.
    pub fn trust(&self, home: &Path, name: &str) {
        trust_root(
            home,
            name,
            self.port,
            &self.client_key(),
            &self.known_hosts_line(),
        );
    }

    /// Every process running in the container's root (sshd, connections,
    /// sessions' commands, nspawn's stub init), as this machine numbers them.
    pub fn processes(&self) -> Vec<u32> {
        processes_in(self.root_id)
    }

    /// End sshd and every process of the container, check that none is
    /// left, and unmount the overlay. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let nspawn = Pid::from_raw(child.id() as i32);
            let mut left: Vec<Pid> = descendants(nspawn);
            left.extend(
                self.processes()
                    .into_iter()
                    .map(|p| Pid::from_raw(p as i32)),
            );
            // Without --boot, nspawn answers SIGTERM by killing the
            // container's init, and the kernel then every process of its
            // PID namespace.
            let _ = kill(nspawn, Signal::SIGTERM);
            if !wait_until(STOP_TIMEOUT, || matches!(child.try_wait(), Ok(Some(_)))) {
                for pid in &left {
                    let _ = kill(*pid, Signal::SIGKILL);
                }
                let _ = child.kill();
                let _ = child.wait();
            }
            let gone = |pid: &Pid| ended(pid.as_raw() as u32);
            let all_gone = wait_until(Duration::from_secs(5), || {
                left.iter().all(gone) && self.processes().is_empty()
            });
            if !all_gone {
                let still: Vec<u32> = left
                    .iter()
                    .filter(|p| !gone(p))
                    .map(|p| p.as_raw() as u32)
                    .chain(self.processes())
                    .collect();
                for pid in &still {
                    let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
                }
                if !std::thread::panicking() {
                    panic!("processes of the arm64 container left: {still:?}");
                }
            }
        }
        // What nspawn mounted lived in its own mount namespace; the overlay
        // is ours.
        self.overlay.unmount();
    }
}

impl Drop for Arm64Host {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The processes whose root directory is the directory `root_id` (device,
/// inode) names, zombies aside.
fn processes_in(root_id: (u64, u64)) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(meta) = std::fs::metadata(format!("/proc/{pid}/root")) else {
            continue;
        };
        if (meta.dev(), meta.ino()) == root_id && !ended(pid) {
            found.push(pid);
        }
    }
    found
}

/// Whether process `pid` is gone or a zombie (dead, its parent yet to reap it).
fn ended(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
    })
}
