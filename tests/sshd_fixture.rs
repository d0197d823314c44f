//! The SSH test fixture itself, checked with the system `ssh` client: logins
//! with the client key and a known_hosts it writes, refusal of unknown and
//! changed host keys, other accounts, several servers at once, and that
//! stopping leaves nothing listening and no connection open.

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use consfig_tests::sshd::{Sshd, ssh_client};
use consfig_tests::{ACCOUNTS, TestUser};

/// `ssh … USER@127.0.0.1 COMMAND` with host-key checking on and no prompts.
fn ssh(server: &Sshd, known_hosts: &Path, user: &str, command: &str) -> Output {
    ssh_command(server, known_hosts, user, command)
        .output()
        .unwrap()
}

fn ssh_command(server: &Sshd, known_hosts: &Path, user: &str, command: &str) -> Command {
    ssh_client(
        server.client_key(),
        server.port(),
        known_hosts,
        user,
        command,
    )
}

#[test]
fn root_logs_in_with_the_client_key_and_a_known_host() {
    let started = Instant::now();
    let server = Sshd::start();
    eprintln!("sshd started in {:?}", started.elapsed());
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    server.write_known_hosts(&known);

    let mode = std::fs::metadata(server.client_key()).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o600, "client key mode {mode:o}");
    assert!(server.host_public_key().starts_with("ssh-ed25519 AAAA"));
    assert_eq!(
        server.known_hosts_line(),
        format!("[127.0.0.1]:{} {}", server.port(), server.host_public_key())
    );
    assert_eq!(
        std::fs::read_to_string(&known).unwrap(),
        format!("{}\n", server.known_hosts_line())
    );

    let out = ssh(&server, &known, "root", "id -un; echo $XDG_CACHE_HOME");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("root\n{}\n", server.target_cache().display())
    );
}

#[test]
fn an_unknown_host_key_is_refused() {
    let server = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    std::fs::write(&known, "").unwrap();
    let out = ssh(&server, &known, "root", "true");
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Host key verification failed"),
        "{out:?}"
    );
    assert_eq!(std::fs::read_to_string(&known).unwrap(), "");
}

#[test]
fn a_rotated_host_key_is_refused_on_the_same_port() {
    let mut server = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    server.write_known_hosts(&known);
    assert!(ssh(&server, &known, "root", "true").status.success());

    let (port, key) = (server.port(), server.host_public_key());
    server.rotate_host_key();
    assert_eq!(server.port(), port);
    assert_ne!(server.host_public_key(), key);
    let out = ssh(&server, &known, "root", "true");
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("HOST IDENTIFICATION HAS CHANGED"),
        "{out:?}"
    );

    let renewed = dir.path().join("known_hosts.new");
    server.write_known_hosts(&renewed);
    let out = ssh(&server, &renewed, "root", "true");
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn after_stop_nothing_listens_and_open_connections_are_closed() {
    let mut server = Sshd::start();
    let port = server.port();
    // A connection left open before authenticating keeps an sshd process of
    // its own: stopping must end it too.
    let mut open = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut banner = [0u8; 8];
    open.read_exact(&mut banner).unwrap();
    assert_eq!(&banner, b"SSH-2.0-");

    // So does a logged-in session.
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    server.write_known_hosts(&known);
    let mut session = ssh_command(&server, &known, "root", "echo $$; exec sleep 60")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(session.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let sleeper: u32 = line.trim().parse().unwrap();

    let stopping = Instant::now();
    server.stop();
    eprintln!("sshd stopped in {:?}", stopping.elapsed());
    let ended = Instant::now();
    while session.try_wait().unwrap().is_none() {
        assert!(
            ended.elapsed() < Duration::from_secs(5),
            "the session outlived the server"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "something still listens on {port}"
    );
    assert!(
        !Path::new(&format!("/proc/{sleeper}")).exists()
            || std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
                .is_ok_and(|s| s.contains(") Z")),
        "the session's command outlived the server"
    );
    open.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    match open.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    server.stop(); // again: nothing to do
}

#[test]
fn an_authorized_account_logs_in_even_if_useradd_locked_it() {
    let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    let _ = Command::new("userdel")
        .args(["--remove", "consfigsshd"])
        .output();
    let status = Command::new("useradd")
        .args(["--create-home", "consfigsshd"])
        .status()
        .unwrap();
    assert!(status.success());
    // Adopted before the server starts, so removed after it stopped with
    // its sessions: userdel refuses an account a process still runs as.
    let _user = TestUser::adopt("consfigsshd");
    let server = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    server.write_known_hosts(&known);

    let refused = ssh(&server, &known, "consfigsshd", "true");
    assert_eq!(
        refused.status.code(),
        Some(255),
        "not authorised yet: {refused:?}"
    );
    server.authorize("consfigsshd");
    let out = ssh(&server, &known, "consfigsshd", "id -un");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "consfigsshd\n");
}

#[test]
fn several_servers_run_at_once() {
    let started = Instant::now();
    let servers: Vec<Sshd> = std::thread::scope(|s| {
        let starting: Vec<_> = (0..6).map(|_| s.spawn(Sshd::start)).collect();
        starting.into_iter().map(|h| h.join().unwrap()).collect()
    });
    eprintln!("6 sshd started in parallel in {:?}", started.elapsed());
    let mut ports: Vec<u16> = servers.iter().map(Sshd::port).collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), servers.len(), "distinct ports");
    let dir = tempfile::tempdir().unwrap();
    std::thread::scope(|s| {
        for (i, server) in servers.iter().enumerate() {
            let known = dir.path().join(format!("known_hosts{i}"));
            s.spawn(move || {
                server.write_known_hosts(&known);
                let out = ssh(server, &known, "root", "true");
                assert!(out.status.success(), "server {i}: {out:?}");
            });
        }
    });
}
