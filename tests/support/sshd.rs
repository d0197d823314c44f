//! A real OpenSSH server for the tests: `sshd` on 127.0.0.1 and a free high
//! port, with a host key and a client key the fixture generates, and a config
//! of its own. Each server has its own target-side cache directory (passed to
//! sessions as XDG_CACHE_HOME), so a test sees cold and warm targets it made.
//! Dropping it stops the server.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

fn keygen(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("pub"));
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "consfig-test", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (make test-deps installs openssh-client)");
    assert!(status.success(), "ssh-keygen failed");
}

impl Sshd {
    pub fn start() -> Sshd {
        assert!(
            Path::new("/usr/sbin/sshd").exists(),
            "/usr/sbin/sshd is missing: `make test-deps` installs openssh-server"
        );
        // sshd's privilege separation directory.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let dir = tempfile::Builder::new()
            .prefix("consfig-sshd-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let keys = dir.path().join("authorized_keys");
        std::fs::create_dir(&keys).unwrap();
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir(dir.path().join("target-cache")).unwrap();
        std::fs::set_permissions(
            dir.path().join("target-cache"),
            std::fs::Permissions::from_mode(0o1777),
        )
        .unwrap();
        keygen(&dir.path().join("host_ed25519"));
        keygen(&dir.path().join("client_ed25519"));
        let mut sshd = Sshd {
            dir,
            port: 0,
            child: None,
        };
        sshd.authorize("root");
        sshd.launch();
        sshd
    }

    fn config(&self) -> String {
        let d = self.dir.path().display();
        format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {d}/host_ed25519\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys/%u\nPubkeyAuthentication yes\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\n\
             SetEnv XDG_CACHE_HOME={d}/target-cache\nMaxStartups 100\nMaxSessions 100\n\
             LogLevel ERROR\n",
            port = self.port
        )
    }

    fn launch(&mut self) {
        let mut last_error = String::new();
        for _ in 0..5 {
            if self.port == 0 {
                let probe = TcpListener::bind("127.0.0.1:0").unwrap();
                self.port = probe.local_addr().unwrap().port();
            }
            let config = self.dir.path().join("sshd_config");
            std::fs::write(&config, self.config()).unwrap();
            let mut child = Command::new("/usr/sbin/sshd")
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            if wait_for_banner(self.port, &mut child) {
                self.child = Some(child);
                return;
            }
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            last_error = stderr;
            self.port = 0; // maybe taken meanwhile: try another
        }
        panic!("sshd did not start: {last_error}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_ed25519")
    }

    /// Where runtimes started through this server keep their cache.
    pub fn target_cache(&self) -> PathBuf {
        self.dir.path().join("target-cache")
    }

    /// The host key as `ssh-ed25519 AAAA…`.
    pub fn host_public_key(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("host_ed25519.pub")).unwrap();
        text.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The known_hosts line for this server.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port, self.host_public_key())
    }

    pub fn write_known_hosts(&self, path: &Path) {
        std::fs::write(path, format!("{}\n", self.known_hosts_line())).unwrap();
    }

    /// Let `user` log in with the client key.
    pub fn authorize(&self, user: &str) {
        let public = std::fs::read_to_string(self.dir.path().join("client_ed25519.pub")).unwrap();
        let path = self.dir.path().join("authorized_keys").join(user);
        std::fs::write(&path, public).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        // With UsePAM off, sshd refuses accounts whose password is locked ("!"),
        // as useradd leaves them: "*" means no password, yet not locked.
        if user != "root" {
            let status = Command::new("usermod")
                .args(["-p", "*", user])
                .status()
                .unwrap();
            assert!(status.success(), "usermod -p '*' {user}");
        }
    }

    /// A new host key, the server restarted on the same port.
    pub fn rotate_host_key(&mut self) {
        self.stop();
        keygen(&self.dir.path().join("host_ed25519"));
        self.launch();
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether a server answers on `port` with an SSH banner within 10 s.
fn wait_for_banner(port: u16, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut banner = [0u8; 8];
            if stream.read_exact(&mut banner).is_ok() && &banner == b"SSH-2.0-" {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
