//! `make bench`, a fleet: one deploy of 100 distinct SSH targets, 20
//! `file:has-content` forms each, 32 at a time — cold (every target's cache
//! and the controller's empty) and warm (nothing changed) — next to the
//! system `ssh` client running `true` on the same 100 targets, 32 at a time.
//!
//! The targets are 100 Unix accounts of one loopback sshd, each with its own
//! home and so its own runtime cache (`~/.cache/consfig`). Per run: wall time,
//! the controller's CPU time and peak RSS (from `wait4`, so of that process
//! alone), bytes sent, and where modules were compiled: the compiled code
//! (`*.cwasm`) that appeared in the controller's cache — once per module —
//! and in the targets' (never).
//!
//! The accounts (`cfleet000`…) are made with `useradd` and removed with
//! `userdel -r` when the bench ends, also when it panics; an account of that
//! name left by an interrupted run is removed first.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use consfig_tests::consfig_bin;
use consfig_tests::sshd::Sshd;
use nix::libc;

const TARGETS: usize = 100;
const FORMS_PER_TARGET: usize = 20;
const JOBS: usize = 32;

/// The bench's Unix accounts, one home each under a directory of their own.
struct Accounts {
    names: Vec<String>,
    homes: tempfile::TempDir,
}

fn account_exists(name: &str) -> bool {
    Command::new("id")
        .args(["-u", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn run_ok(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("running {program}: {e} (the fleet bench needs root and the passwd tools)")
        });
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Accounts {
    fn create(count: usize) -> Accounts {
        let homes = tempfile::Builder::new()
            .prefix("consfig-fleet-")
            .tempdir()
            .unwrap();
        // Each account must reach its home through this directory.
        std::fs::set_permissions(homes.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut accounts = Accounts {
            names: Vec::new(),
            homes,
        };
        for i in 0..count {
            let name = format!("cfleet{i:03}");
            if account_exists(&name) {
                run_ok("userdel", &["-r", &name]);
            }
            let home = accounts.home(&name);
            // `*`, not the `!` useradd leaves: sshd without PAM refuses a
            // locked account.
            run_ok(
                "useradd",
                &[
                    "-m",
                    "-d",
                    home.to_str().unwrap(),
                    "-s",
                    "/bin/sh",
                    "-p",
                    "*",
                    &name,
                ],
            );
            accounts.names.push(name);
        }
        accounts
    }

    fn home(&self, name: &str) -> PathBuf {
        self.homes.path().join(name)
    }
}

impl Drop for Accounts {
    fn drop(&mut self) {
        for name in &self.names {
            let out = Command::new("userdel").args(["-r", name]).output();
            match out {
                Ok(out) if out.status.success() => {}
                Ok(out) => eprintln!(
                    "userdel -r {name}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                Err(e) => eprintln!("userdel -r {name}: {e}"),
            }
        }
    }
}

/// What one process cost, as `wait4` reports it.
struct Measured {
    code: i32,
    stdout: String,
    stderr: String,
    wall: Duration,
    cpu: Duration,
    peak_rss_kib: u64,
}

/// Run `command` to its end, reading its output, and measure it.
// The child is reaped by wait4, which clippy does not know of.
#[allow(clippy::zombie_processes)]
fn measured(command: &mut Command) -> Measured {
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let mut status = 0;
    // SAFETY: rusage is plain data, zero is a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // wait4 rather than Child::wait: it also gives this child's resource
    // usage alone (and that of the children it reaped, none here), which
    // getrusage(RUSAGE_CHILDREN) mixes with every other child's.
    // SAFETY: the child is ours and not yet reaped; both pointers are valid.
    let reaped = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(reaped, child.id() as libc::pid_t, "wait4");
    let wall = start.elapsed();
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Measured {
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        peak_rss_kib: usage.ru_maxrss as u64,
    }
}

/// A deploy, as its `--json` events tell it.
struct Deploy {
    run: Measured,
    bytes_sent: u64,
    /// Hashes of the modules sent, over all targets.
    modules_sent: BTreeSet<String>,
    /// Modules the controller reported compiling, over all targets.
    compiled: BTreeSet<String>,
    changed: u64,
}

struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn controller_cache(&self) -> PathBuf {
        self.dir.path().join("controller-cache")
    }

    fn known_hosts(&self) -> PathBuf {
        self.home().join(".ssh/known_hosts")
    }

    /// ~/.ssh/config naming each account of the server `tNNN`, and a
    /// known_hosts trusting the server.
    fn trust(&self, server: &Sshd, accounts: &Accounts) {
        let ssh = self.home().join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let mut config = String::new();
        for (i, name) in accounts.names.iter().enumerate() {
            config.push_str(&format!(
                "Host t{i:03}\n  HostName 127.0.0.1\n  Port {}\n  User {name}\n  IdentityFile {}\n",
                server.port(),
                server.client_key().display()
            ));
        }
        std::fs::write(ssh.join("config"), config).unwrap();
        server.write_known_hosts(&self.known_hosts());
    }

    /// Consfig.toml: each target writes its forms' files into its home.
    fn consfig(&self, accounts: &Accounts) {
        let mut text = String::from("modules = [\"file\"]\n");
        for (i, name) in accounts.names.iter().enumerate() {
            text.push_str(&format!(
                "[hosts.t{i:03}]\nconnection = [\"ssh://t{i:03}\"]\nproperties = [\n"
            ));
            for f in 0..FORMS_PER_TARGET {
                text.push_str(&format!(
                    "  [\"file:has-content\", {:?}, \"file {f}\\n\"],\n",
                    accounts
                        .home(name)
                        .join(format!("f{f}"))
                        .display()
                        .to_string()
                ));
            }
            text.push_str("]\n");
        }
        text.push_str(&format!(
            "[groups]\nall = [{}]\n",
            (0..accounts.names.len())
                .map(|i| format!("\"t{i:03}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        std::fs::write(self.dir.path().join("Consfig.toml"), text).unwrap();
    }

    fn deploy(&self, expect: i32) -> Deploy {
        let run = measured(
            Command::new(consfig_bin())
                .args(["deploy", "--json", "-j", &JOBS.to_string(), "all"])
                .current_dir(self.dir.path())
                .env("HOME", self.home())
                .env("XDG_CACHE_HOME", self.controller_cache())
                .env_remove("SSH_AUTH_SOCK")
                .env_remove("CONSFIG_MODULES"),
        );
        assert_eq!(run.code, expect, "{}\n{}", run.stdout, run.stderr);
        let events: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        let of = |kind: &'static str| events.iter().filter(move |e| e["event"] == kind);
        let summaries: Vec<_> = of("summary").collect();
        assert_eq!(summaries.len(), TARGETS, "one summary per target");
        for s in &summaries {
            assert_eq!(s["exit_code"], expect, "{s}");
        }
        Deploy {
            bytes_sent: summaries
                .iter()
                .map(|s| s["bytes_sent"].as_u64().unwrap())
                .sum(),
            changed: summaries
                .iter()
                .map(|s| s["changed"].as_u64().unwrap())
                .sum(),
            modules_sent: of("modules")
                .flat_map(|e| e["sent"].as_array().unwrap().iter())
                .map(|h| h.as_str().unwrap().to_owned())
                .collect(),
            compiled: of("modules")
                .flat_map(|e| e["compiled"].as_array().unwrap().iter())
                .map(|h| h.as_str().unwrap().to_owned())
                .collect(),
            run,
        }
    }
}

/// The compiled code files (`*.cwasm`) in a cache's `consfig/modules`.
fn compiled_files(cache: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(cache.join("consfig/modules")) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
        .count()
}

/// `ssh ACCOUNT@127.0.0.1 true` on every account, `JOBS` at a time: wall
/// time, the clients' CPU time in all, and the largest client's peak RSS.
fn ssh_true_loop(
    server: &Sshd,
    accounts: &Accounts,
    known_hosts: &Path,
) -> (Duration, Duration, u64) {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let runs: Vec<Measured> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..JOBS)
            .map(|_| {
                scope.spawn(|| {
                    let mut runs = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(name) = accounts.names.get(i) else {
                            return runs;
                        };
                        let run = measured(
                            Command::new("ssh")
                                .args(["-F", "/dev/null", "-q", "-i"])
                                .arg(server.client_key())
                                .args(["-p", &server.port().to_string()])
                                .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
                                .arg("-o")
                                .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
                                .args([&format!("{name}@127.0.0.1"), "true"])
                                .env_remove("SSH_AUTH_SOCK"),
                        );
                        assert_eq!(run.code, 0, "ssh {name}@127.0.0.1 true: {}", run.stderr);
                        runs.push(run);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let wall = start.elapsed();
    assert_eq!(runs.len(), accounts.names.len());
    (
        wall,
        runs.iter().map(|r| r.cpu).sum(),
        runs.iter().map(|r| r.peak_rss_kib).max().unwrap(),
    )
}

fn main() {
    // Declared before the server, so dropped after it: userdel refuses an
    // account that still has processes, e.g. sessions of a failed deploy.
    let accounts = Accounts::create(TARGETS);
    let server = Sshd::start_with_home_caches();
    for name in &accounts.names {
        server.authorize(name);
    }
    let bench = Bench {
        dir: tempfile::tempdir().unwrap(),
    };
    bench.trust(&server, &accounts);
    bench.consfig(&accounts);

    let (loop_wall, loop_cpu, loop_rss) = ssh_true_loop(&server, &accounts, &bench.known_hosts());

    let cold = bench.deploy(23);
    assert_eq!(cold.changed, (TARGETS * FORMS_PER_TARGET) as u64);
    for name in &accounts.names {
        for f in 0..FORMS_PER_TARGET {
            let path = accounts.home(name).join(format!("f{f}"));
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                format!("file {f}\n"),
                "{}",
                path.display()
            );
        }
    }
    let compiled_by_controller = compiled_files(&bench.controller_cache());
    let compiled_on_targets: usize = accounts
        .names
        .iter()
        .map(|name| compiled_files(&accounts.home(name).join(".cache")))
        .sum();

    // The controller compiles each module once; targets never do.
    assert_eq!(compiled_by_controller, cold.modules_sent.len());
    assert_eq!(compiled_on_targets, 0, "a target compiled");

    let warm = bench.deploy(0);
    assert_eq!(warm.changed, 0);
    assert!(
        warm.modules_sent.is_empty(),
        "a warm target is sent no module"
    );
    drop(server);
    drop(accounts);

    let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let mb = |kib: u64| format!("{:.0} MB", kib as f64 / 1024.0);
    let per_host = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0 / TARGETS as f64);
    let ratio = |a: Duration, b: Duration| format!("{:.1}×", a.as_secs_f64() / b.as_secs_f64());
    println!();
    println!(
        "a fleet: {TARGETS} accounts of one loopback sshd as distinct targets, \
         {FORMS_PER_TARGET} × file:has-content each, {JOBS} at a time (same run)"
    );
    println!();
    println!("| what | wall time | vs ssh loop | CPU | CPU per host | peak RSS | bytes sent |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| baseline: {TARGETS} × `ssh USER@127.0.0.1 true`, {JOBS} at a time (the clients) | {} | 1.0× | {} | {} | {} (one client) | – |",
        s(loop_wall),
        s(loop_cpu),
        per_host(loop_cpu),
        mb(loop_rss)
    );
    for (what, deploy) in [
        ("cold: runtime + module uploaded, compiled", &cold),
        ("warm: nothing changed", &warm),
    ] {
        println!(
            "| `consfig deploy -j {JOBS}`, {what} (the controller) | {} | {} | {} | {} | {} | {} |",
            s(deploy.run.wall),
            ratio(deploy.run.wall, loop_wall),
            s(deploy.run.cpu),
            per_host(deploy.run.cpu),
            mb(deploy.run.peak_rss_kib),
            deploy.bytes_sent
        );
    }
    println!();
    println!(
        "cold / warm: {}; warm / ssh loop: {}",
        ratio(cold.run.wall, warm.run.wall),
        ratio(warm.run.wall, loop_wall)
    );
    println!(
        "compilations: {compiled_by_controller} in the controller's cache ({} reported), \
         {compiled_on_targets} on targets — for {} distinct module(s) deployed; warm: {} reported; \
         cold bytes sent per target: {}",
        cold.compiled.len(),
        cold.modules_sent.len(),
        warm.compiled.len(),
        cold.bytes_sent / TARGETS as u64
    );
}
