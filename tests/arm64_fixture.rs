//! The aarch64 host fixture itself, checked with the system `ssh` client:
//! root logs in with the client key and a known_hosts it writes, programs
//! run there are aarch64 ones (emulated), what the bootstrap of a deploy
//! needs is there, writes land in the overlay and never in the cached root,
//! and stopping leaves no process of it and no mount.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use consfig_tests::arm64::Arm64Host;
use consfig_tests::sshd::ssh_client;

/// `ssh … root@127.0.0.1 COMMAND` with host-key checking on and no prompts.
fn ssh_command(host: &Arm64Host, known_hosts: &Path, command: &str) -> Command {
    ssh_client(
        &host.client_key(),
        host.port(),
        known_hosts,
        "root",
        command,
    )
}

fn ssh(host: &Arm64Host, known_hosts: &Path, command: &str) -> Output {
    ssh_command(host, known_hosts, command).output().unwrap()
}

/// `command` succeeds on the host and prints `expected`.
#[track_caller]
fn assert_prints(host: &Arm64Host, known_hosts: &Path, command: &str, expected: &str) {
    let out = ssh(host, known_hosts, command);
    assert!(out.status.success(), "{command}: {out:?}\n{}", host.log());
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{command}");
}

/// Whether something is mounted on `path` in this process's namespace.
fn mounted(path: &Path) -> bool {
    let path = path.to_str().unwrap();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|line| line.split(' ').nth(4) == Some(path))
}

#[test]
fn root_logs_in_and_runs_aarch64_programs() {
    let started = Instant::now();
    let host = Arm64Host::start();
    eprintln!("arm64 host started in {:?}", started.elapsed());
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    host.write_known_hosts(&known);
    assert!(host.host_public_key().starts_with("ssh-ed25519 AAAA"));

    assert_prints(&host, &known, "uname -m", "aarch64\n");
    assert_prints(&host, &known, "/bin/sh -c 'echo hi'", "hi\n");
    assert_prints(&host, &known, "id -un", "root\n");
    // What the deploy's bootstrap script runs on the target, and the
    // aarch64 busybox test chroots are made of.
    for tool in ["sha256sum", "gzip", "head", "uname", "tar", "busybox"] {
        let out = ssh(&host, &known, &format!("command -v {tool}"));
        assert!(out.status.success(), "no {tool} on the arm64 host: {out:?}");
    }
    let busybox = std::fs::read(host.root().join("bin/busybox")).unwrap();
    // ELF, e_machine EM_AARCH64 (183).
    assert_eq!(&busybox[..4], b"\x7fELF");
    assert_eq!(u16::from_le_bytes([busybox[18], busybox[19]]), 183);

    // Writes land in the copy, not in the cached root under it.
    assert_prints(&host, &known, "echo written > /root/marker", "");
    assert_eq!(
        std::fs::read_to_string(host.root().join("root/marker")).unwrap(),
        "written\n"
    );
    let cache = consfig_tests::debian::fixture("debian-arm64-root.sh");
    assert!(!cache.join("root/marker").exists(), "the cache was written");

    let rounds = 5;
    let timing = Instant::now();
    for _ in 0..rounds {
        let out = ssh(&host, &known, "true");
        assert!(out.status.success(), "{out:?}");
    }
    eprintln!(
        "ssh true to the arm64 host: {:?} a round trip",
        timing.elapsed() / rounds
    );
}

#[test]
fn an_unknown_host_key_is_refused() {
    let host = Arm64Host::start();
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    std::fs::write(&known, "").unwrap();
    let out = ssh(&host, &known, "true");
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Host key verification failed"),
        "{out:?}"
    );
}

#[test]
fn after_stop_no_process_is_left_and_the_overlay_is_unmounted() {
    let mut host = Arm64Host::start();
    let root = host.root().to_owned();
    let port = host.port();
    assert!(mounted(&root), "the overlay is not mounted on {root:?}");
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    host.write_known_hosts(&known);
    // A logged-in session whose command runs on: stopping must end it too.
    let mut session = ssh_command(&host, &known, "echo up; exec sleep 600")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(session.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "up\n");
    let running = host.processes();
    assert!(
        running.len() >= 3,
        "sshd, the session's sshd and sleep at least: {running:?}"
    );

    let stopping = Instant::now();
    host.stop();
    eprintln!("arm64 host stopped in {:?}", stopping.elapsed());
    let ended = Instant::now();
    while session.try_wait().unwrap().is_none() {
        assert!(
            ended.elapsed() < Duration::from_secs(10),
            "the session outlived the host"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let left: Vec<_> = running
        .iter()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|stat| !stat.contains(") Z"))
        })
        .collect();
    assert!(left.is_empty(), "processes of the host left: {left:?}");
    assert!(!mounted(&root), "the overlay is still mounted on {root:?}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "something still listens on {port}"
    );
    host.stop(); // again: nothing to do
}
