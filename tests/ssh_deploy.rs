//! Deploys over SSH to real OpenSSH servers the tests start on 127.0.0.1,
//! with keys they generate: cold and warm deploys, shipping only what changed,
//! a connection dropped mid-upload, host-key checks, sudo, and many hosts.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use consfig_tests::sshd::{Sshd, trust};
use consfig_tests::{
    ACCOUNTS, Run, Sandbox, Sudoers, TESTING_GRANTS, TestGroup, TestUser, assert_logged_in,
    assert_untouched, identities, module, process_report, q, set_password,
};

/// A sandbox whose HOME has an ~/.ssh/config naming each server `webN`,
/// and a known_hosts that trusts them.
struct SshSandbox {
    sb: Sandbox,
}

impl SshSandbox {
    fn new(servers: &[&Sshd]) -> Self {
        let sb = Sandbox::new();
        trust(&sb.home(), servers, |i| format!("web{}", i + 1));
        SshSandbox { sb }
    }

    /// A Consfig.toml with one host per (name, connection) and the same forms for each.
    fn write(&self, modules: &[PathBuf], hosts: &[(&str, &[&str])], forms: &[String]) {
        let mut text = format!(
            "modules = [{}]\n",
            modules
                .iter()
                .map(|m| q(m.display().to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for (name, connection) in hosts {
            text.push_str(&format!(
                "[hosts.{name}]\nconnection = [{}]\nproperties = [\n{}\n]\n",
                connection.iter().map(q).collect::<Vec<_>>().join(", "),
                forms
                    .iter()
                    .map(|f| format!("  {f},"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
        std::fs::write(self.sb.path().join("Consfig.toml"), text).unwrap();
    }

    fn deploy(&self, args: &[&str]) -> Run {
        let mut all = vec!["deploy", "--json"];
        all.extend_from_slice(args);
        self.sb.consfig(&all)
    }
}

fn file_form(path: &Path, content: &str) -> String {
    format!(
        "[\"file:has-content\", {}, {}]",
        q(path.display().to_string()),
        q(content)
    )
}

fn modules_event(run: &Run, host: &str) -> serde_json::Value {
    run.events()
        .into_iter()
        .find(|e| e["event"] == "modules" && e["host"] == host)
        .unwrap_or_else(|| panic!("no modules event for {host}: {run:?}"))
}

#[test]
fn a_cold_deploy_ships_runtime_and_modules_and_a_warm_one_ships_nothing() {
    let server = Sshd::start();
    let s = SshSandbox::new(&[&server]);
    let target = s.sb.path().join("over-ssh");
    s.write(
        &[module("file"), module("cmd")],
        &[("web1", &["ssh://web1"])],
        &[file_form(&target, "hi")],
    );

    let cold = s.deploy(&["-v", "web1"]);
    assert_eq!(cold.code, 23, "{cold:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "hi");
    let shipped = modules_event(&cold, "web1");
    assert!(
        shipped["runtime_bytes"].as_u64().unwrap() > 1_000_000,
        "the runtime was uploaded: {shipped}"
    );
    assert_eq!(shipped["sent"].as_array().unwrap().len(), 2);

    let written = identities(&[&target]);
    let warm = s.deploy(&["web1"]);
    assert_eq!(warm.code, 0, "{warm:?}");
    let shipped = modules_event(&warm, "web1");
    assert_eq!(shipped["runtime_bytes"], 0, "{shipped}");
    assert_eq!(shipped["bytes"], 0, "{shipped}");
    assert_eq!(warm.event("summary")["bytes_sent"], 0);
    assert_untouched(&written, "the warm deploy");
}

/// The cmd module with one of its messages edited (one letter of its
/// data): valid, with a new hash, and new code.
fn edited(original: &Path, into: &Path) -> PathBuf {
    std::fs::write(into, consfig_tests::edited_message(original, b'G')).unwrap();
    into.to_owned()
}

#[test]
fn editing_one_module_sends_that_module_only() {
    let server = Sshd::start();
    let s = SshSandbox::new(&[&server]);
    let target = s.sb.path().join("edit-target");
    let cmd = s.sb.path().join("cmd.wasm");
    std::fs::copy(module("cmd"), &cmd).unwrap();
    let modules = [module("file"), cmd.clone()];
    s.write(
        &modules,
        &[("web1", &["ssh://web1"])],
        &[file_form(&target, "x")],
    );
    // Once edited, cmd is no longer the standard module: it gets only what
    // the consfig grants.
    let consfig = s.sb.path().join("Consfig.toml");
    let mut text = std::fs::read_to_string(&consfig).unwrap();
    text.push_str("[module.cmd]\ngrants = [\"command:*\", \"env:*\", \"read:/\"]\n");
    std::fs::write(&consfig, text).unwrap();
    assert_eq!(s.deploy(&["web1"]).code, 23);

    edited(&module("cmd"), &cmd);
    let run = s.deploy(&["-v", "web1"]);
    assert_eq!(run.code, 0, "{run:?}");
    let shipped = modules_event(&run, "web1");
    let sent = shipped["sent"].as_array().unwrap();
    assert_eq!(sent.len(), 1, "only the edited module: {shipped}");
    assert_eq!(shipped["compiled"], shipped["sent"], "compiled here, once");
    // Its code (the newest in the target's cache), compressed: less than
    // the code, more than a fifth of it.
    let code = std::fs::read_dir(server.target_cache().join("consfig/code"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap())
        .max_by_key(|m| m.modified().unwrap())
        .unwrap()
        .len();
    let bytes = shipped["bytes"].as_u64().unwrap();
    assert!(
        bytes < code && bytes > code / 5,
        "about its compressed size: {bytes} of {code}"
    );
    assert_eq!(shipped["runtime_bytes"], 0);
}

/// Forwards one TCP connection to `to`, cutting it once `budget` bytes went from
/// client to server.
fn cutting_proxy(to: u16, budget: usize) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (client, _) = listener.accept().unwrap();
        let server = TcpStream::connect(("127.0.0.1", to)).unwrap();
        let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let (mut s_read, mut c_write) = (server.try_clone().unwrap(), client.try_clone().unwrap());
        let back = std::thread::spawn(move || {
            let _ = std::io::copy(&mut s_read, &mut c_write);
        });
        let mut left = budget;
        let mut buf = [0u8; 4096];
        while left > 0 {
            match c_read.read(&mut buf[..left.min(4096)]) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    left -= n;
                }
            }
        }
        let _ = client.shutdown(Shutdown::Both);
        let _ = server.shutdown(Shutdown::Both);
        let _ = back.join();
    });
    (port, handle)
}

#[test]
fn a_connection_dropped_during_a_module_upload_leaves_nothing_corrupt() {
    let server = Sshd::start();
    let s = SshSandbox::new(&[&server]);
    let target = s.sb.path().join("after-drop");
    // First put the runtime on the target, with no modules.
    s.write(
        &[module("file")],
        &[("web1", &["ssh://web1"])],
        &[file_form(&target, "1")],
    );
    assert_eq!(s.deploy(&["web1"]).code, 23);

    // Then deploy a big module set through a proxy that cuts the connection
    // partway through the module upload.
    let modules = [
        module("file"),
        module("cmd"),
        module("user"),
        module("chroot"),
        module("testing"),
    ];
    let (proxy, proxy_thread) = cutting_proxy(server.port(), 100_000);
    let known = s.sb.home().join(".ssh/known_hosts");
    let mut lines = std::fs::read_to_string(&known).unwrap();
    lines.push_str(&format!(
        "[127.0.0.1]:{proxy} {}\n",
        server.host_public_key()
    ));
    std::fs::write(&known, lines).unwrap();
    let config = s.sb.home().join(".ssh/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "Host cut\n  HostName 127.0.0.1\n  Port {proxy}\n  User root\n  IdentityFile {}\n",
        server.client_key().display()
    ));
    std::fs::write(&config, text).unwrap();
    s.write(
        &modules,
        &[("web1", &["ssh://cut"])],
        &[file_form(&target, "2")],
    );
    let run = s.deploy(&["web1"]);
    proxy_thread.join().unwrap();
    assert_eq!(run.code, 22, "the cut deploy fails: {run:?}");
    let error = run.event("host-error");
    assert_eq!(
        error["unreachable"], false,
        "cut after connecting, not before: {error}"
    );
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("lost the runtime"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "1",
        "no form ran"
    );

    // Nothing half-written in the target's cache: all code there has its
    // hash. The controller gives up as soon as the connection drops; the
    // target's runtime notices a moment later and removes the module it was
    // writing, so wait for it to be gone before looking.
    let cache = server.target_cache().join("consfig/code");
    let temporary = || {
        std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with('.'))
            .collect::<Vec<_>>()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !temporary().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let cached = std::fs::read_dir(&cache)
        .unwrap()
        .filter(|e| {
            !e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert!(
        cached < modules.len(),
        "the cut came during the module upload ({cached} cached)"
    );
    for entry in std::fs::read_dir(&cache).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "leftover temporary file {name}");
        // Compiled code is named by its hash.
        let out = std::process::Command::new("sha256sum")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with(&name),
            "{name} is corrupt"
        );
    }

    // And the next deploy, over an intact connection, succeeds.
    s.write(
        &modules,
        &[("web1", &["ssh://web1"])],
        &[file_form(&target, "2")],
    );
    let again = s.deploy(&["web1"]);
    assert_eq!(again.code, 23, "{again:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "2");
}

#[test]
fn unknown_host_keys_are_refused_unless_accepted_and_changed_ones_always() {
    let mut server = Sshd::start();
    let s = SshSandbox::new(&[&server]);
    let known = s.sb.home().join(".ssh/known_hosts");
    std::fs::write(&known, "").unwrap();
    let target = s.sb.path().join("hostkeys");
    s.write(
        &[module("file")],
        &[("web1", &["ssh://web1"])],
        &[file_form(&target, "k")],
    );

    let refused = s.deploy(&["web1"]);
    assert_eq!(refused.code, 22, "{refused:?}");
    let error = refused.event("host-error");
    assert_eq!(error["unreachable"], true);
    let message = error["error"].as_str().unwrap();
    assert!(
        message.contains("unknown host key SHA256:") && message.contains("--accept-new-host-keys"),
        "{message}"
    );
    assert!(!target.exists());

    let accepted = s.deploy(&["--accept-new-host-keys", "web1"]);
    assert_eq!(accepted.code, 23, "{accepted:?}");
    let recorded = std::fs::read_to_string(&known).unwrap();
    assert!(
        recorded.contains(&format!("[127.0.0.1]:{}", server.port())),
        "{recorded}"
    );

    server.rotate_host_key();
    let changed = s.deploy(&["--accept-new-host-keys", "web1"]);
    assert_eq!(changed.code, 22, "{changed:?}");
    let message = changed.event("host-error")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("HOST KEY CHANGED"), "{message}");
    assert_eq!(
        std::fs::read_to_string(&known).unwrap(),
        recorded,
        "known_hosts untouched"
    );
}

#[test]
fn a_login_user_reaches_root_through_sudo() {
    let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    // Made before the server, so removed after it stopped with its sessions:
    // userdel refuses an account a process still runs as.
    let user = TestUser::create("consfigdeploy");
    let server = Sshd::start();
    let _sudoers = Sudoers::install(
        "consfig-test",
        &format!(
            "{}\nconsfigdeploy ALL=(ALL) NOPASSWD: ALL",
            server.sudo_defaults("consfigdeploy")
        ),
    );
    let s = SshSandbox::new(&[&server]);
    server.authorize("consfigdeploy");

    let seen = s.sb.path().join("seen");
    std::fs::set_permissions(
        s.sb.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let observe = format!("[\"testing:observe\", {}]", q(seen.display().to_string()));
    s.write(
        &[module("testing")],
        &[
            ("plain", &["ssh://consfigdeploy@web1"]),
            ("root", &["ssh://consfigdeploy@web1", "sudo"]),
        ],
        &[observe],
    );
    let consfig = s.sb.path().join("Consfig.toml");
    let mut text = std::fs::read_to_string(&consfig).unwrap();
    text.push_str(TESTING_GRANTS);
    std::fs::write(&consfig, text).unwrap();
    let plain = s.deploy(&["plain"]);
    assert_eq!(plain.code, 23, "{plain:?}");
    let uid = user.uid();
    assert!(
        std::fs::read_to_string(&seen)
            .unwrap()
            .starts_with(&format!("uid={uid} "))
    );

    let root = s.deploy(&["root"]);
    assert_eq!(root.code, 23, "{root:?}");
    assert!(
        std::fs::read_to_string(&seen)
            .unwrap()
            .starts_with("uid=0 ")
    );
    assert!(
        server.sudo_cache().join("consfig/runtime").is_dir(),
        "the runtime under sudo kept its cache in the fixture"
    );
}

#[test]
fn many_hosts_deploy_in_parallel_and_a_down_one_is_unreachable() {
    let servers: Vec<Sshd> = (0..5).map(|_| Sshd::start()).collect();
    let s = SshSandbox::new(&servers.iter().collect::<Vec<_>>());
    // A port nothing listens on.
    let down = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down_hop = format!("ssh://root@127.0.0.1:{down}");
    let names: Vec<String> = (1..=5).map(|i| format!("web{i}")).collect();
    let hops: Vec<String> = names.iter().map(|n| format!("ssh://{n}")).collect();
    let mut hosts: Vec<(&str, &[&str])> = Vec::new();
    let hop_slices: Vec<[&str; 1]> = hops.iter().map(|h| [h.as_str()]).collect();
    for (name, hop) in names.iter().zip(&hop_slices) {
        hosts.push((name.as_str(), hop));
    }
    let down_slice = [down_hop.as_str()];
    hosts.push(("down", &down_slice));
    s.write(
        &[module("testing")],
        &hosts,
        &["[\"testing:counter\"]".to_owned()],
    );
    let mut text = std::fs::read_to_string(s.sb.path().join("Consfig.toml")).unwrap();
    text.push_str("[groups]\nall = [\"web1\", \"web2\", \"web3\", \"down\", \"web4\", \"web5\"]\n");
    std::fs::write(s.sb.path().join("Consfig.toml"), text).unwrap();

    let run = s.deploy(&["-j", "3", "all"]);
    assert_eq!(run.code, 22, "one host down means failure: {run:?}");
    let recap = run.event("recap");
    let rows = recap["hosts"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    for row in rows {
        let expected = if row["host"] == "down" {
            "unreachable"
        } else {
            "changed"
        };
        assert_eq!(row["state"], expected, "{row}");
    }
    assert_eq!(run.forms().len(), 5, "every reachable host ran its form");
}

#[test]
fn sudo_gets_the_login_users_password_when_it_needs_one() {
    let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    // Removed after the server stopped (see above).
    let _user = TestUser::create("consfigpw");
    let server = Sshd::start();
    let s = SshSandbox::new(&[&server]);
    server.authorize("consfigpw");
    set_password("consfigpw", "s3cret pass");
    let _sudoers = Sudoers::install(
        "consfig-test-pw",
        &format!(
            "{}\nconsfigpw ALL=(ALL) ALL",
            server.sudo_defaults("consfigpw")
        ),
    );

    let seen = s.sb.path().join("seen-pw");
    let observe = format!("[\"testing:observe\", {}]", q(seen.display().to_string()));
    let right = s.sb.path().join("right-pw");
    std::fs::write(&right, "s3cret pass\n").unwrap();
    let wrong = s.sb.path().join("wrong-pw");
    std::fs::write(&wrong, "guess\n").unwrap();
    let hosts = format!(
        "modules = [{}]\n{TESTING_GRANTS}\
         [hosts.right]\nconnection = [\"ssh://consfigpw@web1\", \"sudo\"]\nsudo-password-file = {}\nproperties = [{observe}]\n\
         [hosts.wrong]\nconnection = [\"ssh://consfigpw@web1\", \"sudo\"]\nsudo-password-file = {}\nproperties = [{observe}]\n\
         [hosts.none]\nconnection = [\"ssh://consfigpw@web1\", \"sudo\"]\nproperties = [{observe}]\n",
        q(module("testing").display().to_string()),
        q(right.display().to_string()),
        q(wrong.display().to_string()),
    );
    std::fs::write(s.sb.path().join("Consfig.toml"), hosts).unwrap();

    let run = s.deploy(&["right"]);
    assert_eq!(run.code, 23, "{run:?}");
    assert!(
        std::fs::read_to_string(&seen)
            .unwrap()
            .starts_with("uid=0 ")
    );
    assert!(
        !run.stdout.contains("s3cret"),
        "the password is never reported"
    );
    assert!(server.sudo_cache().join("consfig/runtime").is_dir());

    let run = s.deploy(&["wrong"]);
    assert_eq!(run.code, 22, "{run:?}");
    let error = run.event("host-error")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("sudo refused"), "{error}");

    let run = s.deploy(&["none"]);
    assert_eq!(run.code, 22, "{run:?}");
    let error = run.event("host-error")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("needs a password") && error.contains("sudo-password-file"),
        "{error}"
    );
}

#[test]
fn sudo_to_a_user_gives_its_groups_and_login_environment() {
    let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    // Group, then accounts, then the server: removed in the reverse order,
    // accounts only once no session runs as them.
    let extra = TestGroup::create("consfigsug");
    let target = TestUser::create_with(
        "consfigsut",
        &["--shell", "/bin/sh", "--groups", "consfigsug"],
    );
    let _login = TestUser::create("consfigsul");
    let server = Sshd::start();
    let _sudoers = Sudoers::install(
        "consfig-test-su",
        &format!(
            "{}\nconsfigsul ALL=(consfigsut) NOPASSWD: ALL",
            server.sudo_defaults("consfigsul")
        ),
    );
    let s = SshSandbox::new(&[&server]);
    server.authorize("consfigsul");
    s.write(
        &[module("testing")],
        &[("su", &["ssh://consfigsul@web1", "sudo:consfigsut"])],
        &[r#"["testing:process-report"]"#.to_owned()],
    );
    let consfig = s.sb.path().join("Consfig.toml");
    let mut text = std::fs::read_to_string(&consfig).unwrap();
    text.push_str("[module.testing]\ngrants = [\"command:/bin/sh -c *\", \"env:*\"]\n");
    std::fs::write(&consfig, text).unwrap();

    let run = s.deploy(&["su"]);
    assert_eq!(run.code, 0, "{run:?}");
    let report = process_report(run.forms()[0]["output"].as_str().unwrap());
    assert_logged_in(&report, &target, &[extra.gid()], "sudo:consfigsut");
    // Its cache is the fixture's, not in the user's home.
    let (uid, _, home, _) = target.passwd();
    let cache = server.sudo_cache().join("consfig");
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&cache).unwrap()),
        uid
    );
    assert!(!Path::new(&home).join(".cache").exists());
}

#[test]
fn logs_in_with_ssh_agent_or_a_key_named_in_the_consfig() {
    let server = Sshd::start();
    let s = SshSandbox::new(&[&server]);
    // No IdentityFile in ~/.ssh/config and no default keys: the key must come from elsewhere.
    std::fs::write(
        s.sb.home().join(".ssh/config"),
        format!(
            "Host web1\n  HostName 127.0.0.1\n  Port {}\n  User root\n",
            server.port()
        ),
    )
    .unwrap();
    let target = s.sb.path().join("auth");
    let form = file_form(&target, "a");
    let text = |extra: &str| {
        format!(
            "modules = [{}]\n[hosts.web1]\nconnection = [\"ssh://web1\"]\n{extra}properties = [{form}]\n",
            q(module("file").display().to_string())
        )
    };
    let consfig = s.sb.path().join("Consfig.toml");

    std::fs::write(&consfig, text("")).unwrap();
    let refused = s.deploy(&["web1"]);
    assert_eq!(refused.code, 22, "{refused:?}");
    let error = refused.event("host-error")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("authentication failed"), "{error}");

    let key = format!(
        "identity-file = {}\n",
        q(server.client_key().display().to_string())
    );
    std::fs::write(&consfig, text(&key)).unwrap();
    let with_key = s.deploy(&["web1"]);
    assert_eq!(with_key.code, 23, "{with_key:?}");

    // An agent holding the key, started and stopped by this test.
    std::fs::write(&consfig, text("")).unwrap();
    std::fs::remove_file(&target).unwrap();
    let sock = s.sb.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    while !sock.exists() {
        if let Ok(Some(status)) = agent.try_wait() {
            panic!("ssh-agent exited: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let agent = Stop(agent);
    let added = std::process::Command::new("ssh-add")
        .arg("-q")
        .arg(server.client_key())
        .env("SSH_AUTH_SOCK", &sock)
        .status()
        .unwrap();
    assert!(added.success());
    let with_agent =
        s.sb.consfig_with_env(&["deploy", "--json", "web1"], &[("SSH_AUTH_SOCK", &sock)]);
    assert_eq!(with_agent.code, 23, "{with_agent:?}");
    drop(agent);
}
