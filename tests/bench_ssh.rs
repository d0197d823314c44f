//! `make bench`, over SSH: wall time and bytes of deploys of 200
//! `file:has-content` forms to a loopback sshd — cold (modules compiled on
//! the controller, runtime and code uploaded), to another cold target (the
//! code compiled already), warm (nothing changed), one module edited — and
//! of a 20-host
//! parallel deploy, next to a baseline measured in the same run: the system
//! `ssh` client running `true` on the same server.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use consfig_tests::sshd::{Sshd, trust};
use consfig_tests::{consfig_bin, module};

const FORMS: usize = 200;
const HOSTS: usize = 20;
const FORMS_PER_HOST: usize = 20;

struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn trust(&self, servers: &[Sshd]) {
        trust(&self.home(), &servers.iter().collect::<Vec<_>>(), |i| {
            format!("h{i}")
        });
    }

    fn consfig(&self, modules: &[PathBuf], hosts: usize, forms: usize) {
        let mut text = format!(
            "modules = [{}]\n",
            modules
                .iter()
                .map(|m| format!("{:?}", m.display().to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for h in 0..hosts {
            let out = self.dir.path().join(format!("out-{h}"));
            std::fs::create_dir_all(&out).unwrap();
            text.push_str(&format!(
                "[hosts.h{h}]\nconnection = [\"ssh://h{h}\"]\nproperties = [\n"
            ));
            for f in 0..forms {
                text.push_str(&format!(
                    "  [\"file:has-content\", {:?}, \"file {f}\\n\"],\n",
                    out.join(format!("f{f}")).display().to_string()
                ));
            }
            text.push_str("]\n");
        }
        text.push_str(&format!(
            "[groups]\nall = [{}]\n",
            (0..hosts)
                .map(|h| format!("\"h{h}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        // The edited copy of cmd is no longer the standard module: grant it
        // what the standard one declares.
        text.push_str("[module.cmd]\ngrants = [\"command:*\", \"env:*\", \"read:/\"]\n");
        std::fs::write(self.dir.path().join("Consfig.toml"), text).unwrap();
    }

    /// Run a deploy; its wall time and the bytes it sent (runtime + modules).
    fn deploy(&self, target: &str, expect: i32) -> (Duration, u64) {
        let start = Instant::now();
        let out = Command::new(consfig_bin())
            .args(["deploy", "--json", target])
            .current_dir(self.dir.path())
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.dir.path().join("controller-cache"))
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .unwrap();
        let took = start.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(expect),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["event"] == "summary")
            .map(|e| e["bytes_sent"].as_u64().unwrap())
            .sum();
        (took, bytes)
    }
}

fn edit(original: &Path, into: &Path, mark: u8) {
    std::fs::write(into, consfig_tests::edited_message(original, mark)).unwrap();
}

fn ssh_true(server: &Sshd, known: &Path) -> Duration {
    let start = Instant::now();
    let status = Command::new("ssh")
        .args(["-q", "-i"])
        .arg(server.client_key())
        .args([
            "-p",
            &server.port().to_string(),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
        ])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known.display()))
        .args(["root@127.0.0.1", "true"])
        .status()
        .unwrap();
    assert!(status.success());
    start.elapsed()
}

fn main() {
    let bench = Bench {
        dir: tempfile::tempdir().unwrap(),
    };
    let cmd = bench.dir.path().join("cmd.wasm");
    edit(&module("cmd"), &cmd, b'0');
    let modules = vec![module("file"), cmd.clone(), module("example")];

    let server = Sshd::start();
    bench.trust(std::slice::from_ref(&server));
    let known = bench.home().join(".ssh/known_hosts");
    let baseline = (0..5).map(|_| ssh_true(&server, &known)).min().unwrap();

    bench.consfig(&modules, 1, FORMS);
    let cold = bench.deploy("h0", 23);
    let warm = bench.deploy("h0", 0);
    edit(&module("cmd"), &cmd, b'1');
    let edited = bench.deploy("h0", 0);
    drop(server);
    // Another target, cold, from a controller that compiled for it already:
    // a fleet's usual first deploy. (The files are those the first target
    // wrote, on this same machine: nothing to change.)
    let fresh = Sshd::start();
    bench.trust(std::slice::from_ref(&fresh));
    let cold_target = bench.deploy("h0", 0);
    drop(fresh);

    let servers: Vec<Sshd> = (0..HOSTS).map(|_| Sshd::start()).collect();
    bench.trust(&servers);
    bench.consfig(&modules, HOSTS, FORMS_PER_HOST);
    let many_cold = bench.deploy("all", 23);
    let many_warm = bench.deploy("all", 0);
    drop(servers);

    let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let ratio = |d: Duration| format!("{:.1}×", d.as_secs_f64() / baseline.as_secs_f64());
    println!();
    println!("deploys over SSH to loopback sshd (same run)");
    println!();
    println!("| what | wall time | bytes sent | vs one `ssh host true` |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| baseline: `ssh root@127.0.0.1 true` (best of 5) | {} | – | 1.0× |",
        s(baseline)
    );
    for (what, (took, bytes)) in [
        (
            format!("{FORMS} × file:has-content, cold (modules compiled, runtime + code uploaded)"),
            cold,
        ),
        (
            format!(
                "{FORMS} × file:has-content, cold target, code compiled on the controller before"
            ),
            cold_target,
        ),
        (
            format!("{FORMS} × file:has-content, warm, nothing changed"),
            warm,
        ),
        (
            format!("{FORMS} × file:has-content, one module edited"),
            edited,
        ),
        (
            format!("{HOSTS} hosts × {FORMS_PER_HOST} forms in parallel, cold"),
            many_cold,
        ),
        (
            format!("{HOSTS} hosts × {FORMS_PER_HOST} forms in parallel, warm"),
            many_warm,
        ),
    ] {
        println!("| {what} | {} | {bytes} | {} |", s(took), ratio(took));
    }
}
