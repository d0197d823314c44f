//! Reaching targets as the user's OpenSSH does: through jump hosts
//! (ProxyJump, two deep, set in an included file's `Match` block, with the
//! built-in client and with the system's `ssh`), with a ControlMaster, and
//! refusing SSH configuration the built-in client cannot honour rather
//! than ignoring it.
//!
//! Each test that needs bastions runs in a network namespace of its own
//! (made for the test's thread, so every server and every `consfig` it
//! starts lives there and nothing outside sees them), where a firewall lets
//! a server be reached only from the account the jump host before it logs
//! in as: sshd opens a jump's forwarded connection in the process of the
//! logged-in user, so the target refuses every connection not made by the
//! last bastion, and that bastion every one not made by the first.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::MutexGuard;

use consfig_tests::sshd::Sshd;
use consfig_tests::{ACCOUNTS, Run, Sandbox, TestUser, module, q};

/// Put this thread (and so every process it starts from now on) in a new
/// network namespace with only a loopback interface, up.
fn isolate_network() {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
        .expect("unshare(CLONE_NEWNET): the tests run as root");
    run(Command::new("ip").args(["link", "set", "lo", "up"]));
}

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Refuse new connections to `port` from every process not run by `uid`
/// (None: from everyone), in this thread's namespace.
fn only_from(port: u16, uid: Option<u32>) {
    run(Command::new("nft").args(["add", "table", "inet", "jumps"]));
    run(Command::new("nft").args([
        "add",
        "chain",
        "inet",
        "jumps",
        "out",
        "{ type filter hook output priority 0; }",
    ]));
    let rule = match uid {
        Some(uid) => format!("tcp dport {port} tcp flags syn meta skuid != {uid} reject"),
        None => format!("tcp dport {port} tcp flags syn reject"),
    };
    run(Command::new("nft")
        .args(["add", "rule", "inet", "jumps", "out"])
        .args(rule.split(' ')));
}

/// A target behind two bastions, each reachable only as described above.
struct Bastions {
    sb: Sandbox,
    bastion1: Sshd,
    bastion2: Sshd,
    target: Sshd,
    /// The SSH configuration naming them, with their known_hosts.
    config: PathBuf,
    _users: [TestUser; 2],
    _accounts: MutexGuard<'static, ()>,
}

impl Bastions {
    fn start() -> Bastions {
        isolate_network();
        let accounts = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
        let users = [
            TestUser::create("consfigjump1"),
            TestUser::create("consfigjump2"),
        ];
        let bastion1 = Sshd::start();
        bastion1.authorize("consfigjump1");
        let bastion2 = Sshd::start();
        bastion2.authorize("consfigjump2");
        let target = Sshd::start();
        only_from(bastion2.port(), Some(users[0].uid()));
        only_from(target.port(), Some(users[1].uid()));
        let sb = Sandbox::new();
        let ssh = sb.home().join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let known = ssh.join("known_hosts");
        std::fs::write(
            &known,
            [&bastion1, &bastion2, &target]
                .iter()
                .map(|s| s.known_hosts_line() + "\n")
                .collect::<String>(),
        )
        .unwrap();
        let host = |name: &str, server: &Sshd, user: &str, extra: &str| {
            format!(
                "Host {name}\n  HostName 127.0.0.1\n  Port {}\n  User {user}\n  IdentityFile {}\n{extra}",
                server.port(),
                server.client_key().display()
            )
        };
        let config = ssh.join("config");
        // The target's jumps come from an included file, in a Match block.
        let jumps = ssh.join("jumps.conf");
        std::fs::write(
            &jumps,
            "Match originalhost target user root\n  ProxyJump bastion1,bastion2\n",
        )
        .unwrap();
        std::fs::write(
            &config,
            [
                format!("Include {}\n", jumps.display()),
                host("bastion1", &bastion1, "consfigjump1", ""),
                host("bastion2", &bastion2, "consfigjump2", ""),
                host("target", &target, "root", ""),
                host("target-direct", &target, "root", ""),
                format!(
                    "Host *\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  BatchMode yes\n\
                     ControlMaster auto\n  ControlPath {}/cm-%C\n  ControlPersist 300\n",
                    known.display(),
                    sb.path().display()
                ),
            ]
            .concat(),
        )
        .unwrap();
        Bastions {
            sb,
            bastion1,
            bastion2,
            target,
            config,
            _users: users,
            _accounts: accounts,
        }
    }

    /// A Consfig.toml with one host `box` reached by `connection` that
    /// writes `content` to `file`, with `extra` lines for the host.
    fn write(&self, connection: &[&str], file: &Path, content: &str, extra: &str) {
        let text = format!(
            "modules = [{}]\n[hosts.box]\nconnection = [{}]\n{extra}\nproperties = [[\"file:has-content\", {}, {}]]\n",
            q(module("file").display().to_string()),
            connection.iter().map(q).collect::<Vec<_>>().join(", "),
            q(file.display().to_string()),
            q(content)
        );
        std::fs::write(self.sb.path().join("Consfig.toml"), text).unwrap();
    }

    fn deploy(&self) -> Run {
        self.sb.consfig(&["deploy", "--json", "box"])
    }

    /// The openssh client's master for `target`: whether one runs.
    fn master_running(&self) -> bool {
        Command::new("ssh")
            .arg("-F")
            .arg(&self.config)
            .args(["-O", "check", "target"])
            .output()
            .unwrap()
            .status
            .success()
    }
}

impl Drop for Bastions {
    fn drop(&mut self) {
        // The ControlPersist master outlives the deploys: end it.
        let _ = Command::new("ssh")
            .arg("-F")
            .arg(&self.config)
            .args(["-O", "exit", "target"])
            .output();
        self.target.stop();
        self.bastion2.stop();
        self.bastion1.stop();
    }
}

fn host_error(run: &Run) -> String {
    run.event("host-error")["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn runtime_bytes(run: &Run) -> u64 {
    run.events()
        .into_iter()
        .find(|e| e["event"] == "modules")
        .unwrap_or_else(|| panic!("no modules event: {run:?}"))["runtime_bytes"]
        .as_u64()
        .unwrap()
}

#[test]
fn the_built_in_client_reaches_a_target_through_two_jump_hosts() {
    let b = Bastions::start();
    let file = b.sb.path().join("jumped");

    // Straight to the target: refused by its firewall.
    b.write(&["ssh://target-direct"], &file, "x", "");
    let direct = b.deploy();
    assert_eq!(direct.code, 22, "{direct:?}");
    assert!(
        host_error(&direct).contains("refused"),
        "{}",
        host_error(&direct)
    );

    // Through ~/.ssh/config's ProxyJump, two deep: cold, then warm and unchanged.
    b.write(&["ssh://target"], &file, "through two jumps", "");
    let cold = b.deploy();
    assert_eq!(cold.code, 23, "{cold:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "through two jumps");
    assert!(runtime_bytes(&cold) > 1_000_000, "the runtime went through");
    let warm = b.deploy();
    assert_eq!(warm.code, 0, "{warm:?}");
    assert_eq!(runtime_bytes(&warm), 0);

    // The jumps named by the hop, to an address the configuration does not
    // name: the same target, warm.
    let hop = format!(
        "ssh://root@127.0.0.1:{}?jump=bastion1,bastion2",
        b.target.port()
    );
    // Consfig.toml's identity file is the target's (the jumps keep theirs).
    b.write(
        &[&hop],
        &file,
        "named by the hop",
        &format!(
            "identity-file = {}",
            q(b.target.client_key().display().to_string())
        ),
    );
    let named = b.deploy();
    assert_eq!(named.code, 23, "{named:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "named by the hop");
    assert_eq!(runtime_bytes(&named), 0, "the same target, warm");
}

#[test]
fn a_jump_host_with_an_unknown_key_is_refused_and_nothing_is_applied() {
    let b = Bastions::start();
    let file = b.sb.path().join("never");
    let known = b.sb.home().join(".ssh/known_hosts");
    // Forget the first bastion's key; keep the others.
    std::fs::write(
        &known,
        format!(
            "{}\n{}\n",
            b.bastion2.known_hosts_line(),
            b.target.known_hosts_line()
        ),
    )
    .unwrap();
    b.write(&["ssh://target"], &file, "x", "");
    let refused = b.deploy();
    assert_eq!(refused.code, 22, "{refused:?}");
    let error = host_error(&refused);
    assert!(
        error.contains(&format!(
            "[127.0.0.1]:{}: unknown host key",
            b.bastion1.port()
        )),
        "{error}"
    );
    assert!(!file.exists());

    // The second bastion's key changed: refused, naming it.
    std::fs::write(
        &known,
        format!(
            "{}\n[127.0.0.1]:{} {}\n{}\n",
            b.bastion1.known_hosts_line(),
            b.bastion2.port(),
            b.bastion1.host_public_key(),
            b.target.known_hosts_line()
        ),
    )
    .unwrap();
    let changed = b.deploy();
    assert_eq!(changed.code, 22, "{changed:?}");
    let error = host_error(&changed);
    assert!(
        error.contains(&format!(
            "[127.0.0.1]:{}: HOST KEY CHANGED",
            b.bastion2.port()
        )),
        "{error}"
    );
    assert!(!file.exists());
}

#[test]
fn the_openssh_client_deploys_through_the_jumps_and_reuses_its_master() {
    let b = Bastions::start();
    let file = b.sb.path().join("via-openssh");
    let config = format!("ssh-config-file = {}", q(b.config.display().to_string()));
    b.write(&["openssh://target"], &file, "cold", &config);
    let cold = b.deploy();
    assert_eq!(cold.code, 23, "{cold:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "cold");
    assert!(runtime_bytes(&cold) > 1_000_000, "the runtime went through");
    assert!(b.master_running(), "ControlPersist kept the master");

    // No new connection can reach the first bastion now: a deploy that
    // works goes over the master's connection.
    only_from(b.bastion1.port(), None);
    b.write(&["openssh://target"], &file, "warm", &config);
    let warm = b.deploy();
    assert_eq!(warm.code, 23, "{warm:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "warm");
    assert_eq!(runtime_bytes(&warm), 0);
    let unchanged = b.deploy();
    assert_eq!(unchanged.code, 0, "{unchanged:?}");

    // The built-in client, which has no master, cannot get through any more.
    b.write(&["ssh://target"], &file, "x", &config);
    let built_in = b.deploy();
    assert_eq!(built_in.code, 22, "{built_in:?}");
}

/// The system `ssh` with a ProxyCommand (which the built-in client refuses)
/// that cuts the connection once `budget` bytes went towards the server
/// (dd, as it passes on each read at once, where head would hold the
/// server's first bytes in its buffer).
fn cutting_proxy_command(port: u16, budget: usize) -> String {
    format!(
        "ProxyCommand bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}; cat <&3 & dd bs=65536 iflag=count_bytes count={budget} status=none >&3; kill $!'"
    )
}

#[test]
fn the_openssh_client_recovers_from_a_connection_dropped_mid_upload() {
    let server = Sshd::start();
    let sb = Sandbox::new();
    let ssh = sb.home().join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    let known = ssh.join("known_hosts");
    server.write_known_hosts(&known);
    let config = |extra: &str| {
        let path = ssh.join("openssh_config");
        std::fs::write(
            &path,
            format!(
                "Host web1\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n  \
                 UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  BatchMode yes\n{extra}",
                server.port(),
                server.client_key().display(),
                known.display()
            ),
        )
        .unwrap();
        path
    };
    let file = sb.path().join("after-drop");
    let consfig = |config: &Path| {
        std::fs::write(
            sb.path().join("Consfig.toml"),
            format!(
                "modules = [{}]\n[hosts.web1]\nconnection = [\"openssh://web1\"]\nssh-config-file = {}\nproperties = [[\"file:has-content\", {}, \"whole\"]]\n",
                q(module("file").display().to_string()),
                q(config.display().to_string()),
                q(file.display().to_string()),
            ),
        )
        .unwrap();
    };

    // The runtime is about 1.4 MB compressed: cut after 300 KB of it.
    consfig(&config(&format!(
        "  {}\n",
        cutting_proxy_command(server.port(), 300_000)
    )));
    let cut = sb.consfig(&["deploy", "--json", "web1"]);
    assert_eq!(cut.code, 22, "{cut:?}");
    let error = host_error(&cut);
    assert!(error.contains("Connection closed"), "{error}");
    assert!(!file.exists());
    let runtimes = server.target_cache().join("consfig/runtime");
    let installed = |dir: &Path| {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("consfig").exists())
            .count()
    };
    assert_eq!(installed(&runtimes), 0, "no runtime half in place");

    consfig(&config(""));
    let again = sb.consfig(&["deploy", "--json", "web1"]);
    assert_eq!(again.code, 23, "{again:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "whole");
    assert!(runtime_bytes(&again) > 1_000_000);
    assert_eq!(installed(&runtimes), 1);
}

#[test]
fn ssh_configuration_the_built_in_client_cannot_honour_is_an_error_not_ignored() {
    let sb = Sandbox::new();
    let ssh = sb.home().join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    // A port nobody listens on: were the option ignored, the error would
    // be about connecting, not about the option.
    std::fs::write(
        ssh.join("config"),
        "Host web1\n  HostName 127.0.0.1\n  Port 9\n  User root\n\
         Match host 127.0.0.1 user root\n  ProxyCommand ssh -W %h:%p bastion\n",
    )
    .unwrap();
    let file = sb.path().join("never");
    std::fs::write(
        sb.path().join("Consfig.toml"),
        format!(
            "modules = [{}]\n[hosts.web1]\nconnection = [\"ssh://web1\"]\nproperties = [[\"file:has-content\", {}, \"x\"]]\n",
            q(module("file").display().to_string()),
            q(file.display().to_string()),
        ),
    )
    .unwrap();
    let run = sb.consfig(&["deploy", "--json", "web1"]);
    assert_eq!(run.code, 22, "{run:?}");
    let error = host_error(&run);
    assert!(
        error.starts_with("web1: ")
            && error.contains(".ssh/config:6: `ProxyCommand ssh -W %h:%p bastion`")
            && error.contains("openssh://"),
        "{error}"
    );
    assert!(!file.exists());
}
