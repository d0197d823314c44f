//! `make bench`, reaching a target as OpenSSH does: the warm deploy of 200
//! `file:has-content` forms to a loopback sshd straight and through one
//! jump host, with the built-in client and with the system's `ssh` (a new
//! connection each deploy, and over a ControlMaster), next to the direct
//! deploy with the built-in client, measured in the same run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use consfig_tests::module;
use consfig_tests::sshd::Sshd;

const FORMS: usize = 200;
const RUNS: usize = 3;

struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn config(&self) -> PathBuf {
        self.home().join(".ssh/config")
    }

    /// ~/.ssh/config: `direct` and `jumped` (through `bastion`) name the
    /// target; `*-cm` the same over a ControlMaster.
    fn trust(&self, target: &Sshd, bastion: &Sshd) {
        let ssh = self.home().join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let known = ssh.join("known_hosts");
        std::fs::write(
            &known,
            format!(
                "{}\n{}\n",
                target.known_hosts_line(),
                bastion.known_hosts_line()
            ),
        )
        .unwrap();
        let host = |name: &str, server: &Sshd, extra: &str| {
            format!(
                "Host {name}\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n{extra}",
                server.port(),
                server.client_key().display()
            )
        };
        let master = format!(
            "  ControlMaster auto\n  ControlPath {}/cm-%C\n  ControlPersist 120\n",
            self.dir.path().display()
        );
        std::fs::write(
            self.config(),
            [
                host("bastion", bastion, ""),
                host("direct", target, ""),
                host("jumped", target, "  ProxyJump bastion\n"),
                host("direct-cm", target, &master),
                host("jumped-cm", target, &format!("  ProxyJump bastion\n{master}")),
                format!(
                    "Host *\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  BatchMode yes\n",
                    known.display()
                ),
            ]
            .concat(),
        )
        .unwrap();
    }

    /// Consfig.toml: one host per connection, the same forms for each.
    fn consfig(&self, connections: &[(&str, &str)]) {
        let out = self.dir.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        let mut text = format!("modules = [{:?}]\n", module("file").display().to_string());
        for (name, connection) in connections {
            text.push_str(&format!(
                "[hosts.{name}]\nconnection = [{connection:?}]\nssh-config-file = {:?}\nproperties = [\n",
                self.config().display().to_string()
            ));
            for f in 0..FORMS {
                text.push_str(&format!(
                    "  [\"file:has-content\", {:?}, \"file {f}\\n\"],\n",
                    out.join(format!("f{f}")).display().to_string()
                ));
            }
            text.push_str("]\n");
        }
        std::fs::write(self.dir.path().join("Consfig.toml"), text).unwrap();
    }

    /// One deploy of `host`; its wall time.
    fn deploy(&self, host: &str, expect: &[i32]) -> Duration {
        let start = Instant::now();
        let out = Command::new(consfig_tests::consfig_bin())
            .args(["deploy", "--json", host])
            .current_dir(self.dir.path())
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.dir.path().join("controller-cache"))
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .unwrap();
        let took = start.elapsed();
        assert!(
            out.status.code().is_some_and(|c| expect.contains(&c)),
            "{host}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        took
    }

    /// The best of [`RUNS`] warm deploys of `host`.
    fn warm(&self, host: &str) -> Duration {
        (0..RUNS).map(|_| self.deploy(host, &[0])).min().unwrap()
    }
}

fn stop_master(config: &Path, host: &str) {
    let _ = Command::new("ssh")
        .arg("-F")
        .arg(config)
        .args(["-O", "exit", host])
        .output();
}

fn main() {
    let bench = Bench {
        dir: tempfile::tempdir().unwrap(),
    };
    let target = Sshd::start();
    let bastion = Sshd::start();
    bench.trust(&target, &bastion);
    let rows = [
        (
            "built-in client, direct (baseline)",
            "direct",
            "ssh://direct",
        ),
        (
            "built-in client, through one jump",
            "jumped",
            "ssh://jumped",
        ),
        ("OpenSSH client, direct", "odirect", "openssh://direct"),
        (
            "OpenSSH client, through one jump",
            "ojumped",
            "openssh://jumped",
        ),
        (
            "OpenSSH client, direct, ControlMaster up",
            "odirectcm",
            "openssh://direct-cm",
        ),
        (
            "OpenSSH client, through one jump, ControlMaster up",
            "ojumpedcm",
            "openssh://jumped-cm",
        ),
    ];
    bench.consfig(&rows.iter().map(|(_, h, c)| (*h, *c)).collect::<Vec<_>>());
    // Warm the target (runtime, code, files) once; every host is the same target.
    bench.deploy("direct", &[0, 23]);
    let times: Vec<Duration> = rows.iter().map(|(_, host, _)| bench.warm(host)).collect();
    stop_master(&bench.config(), "direct-cm");
    stop_master(&bench.config(), "jumped-cm");
    drop(bastion);
    drop(target);

    let baseline = times[0].as_secs_f64();
    println!();
    println!(
        "warm deploys of {FORMS} × file:has-content over SSH, loopback (best of {RUNS}, same run)"
    );
    println!();
    println!("| how the target is reached | wall time | vs built-in client, direct |");
    println!("| --- | ---: | ---: |");
    for ((what, _, _), took) in rows.iter().zip(&times) {
        println!(
            "| {what} | {:.3} s | {:.2}× |",
            took.as_secs_f64(),
            took.as_secs_f64() / baseline
        );
    }
}
