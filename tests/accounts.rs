//! Users, groups, SSH keys and cron against a real Debian 12 root (the
//! cached debootstrap root of `tests/fixtures/debian-root.sh`, copied, with
//! cron installed into the copy from the mirror, since the minimal root
//! lacks `crontab`), deployed through the `chroot:` hop: an existing account
//! corrected and a new one made, groups made, corrected and removed, a
//! password hash from the host's data, authorized keys with the right
//! owners and modes, cron jobs in a real crontab and in /etc/cron.d.
//! `--check` predicts every status, the second deploy changes nothing, and
//! the hash is in no output. `sshd:configured` runs on this machine's own
//! sshd, on a copy of its configuration (the root has no openssh-server):
//! `sshd -t` refuses a bad value and the file stays as it was, and
//! `sshd:no-passwords` sets what `sshd -T` then reports.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use consfig_tests::debian::{copy_of_root, in_root};
use consfig_tests::{Run, Sandbox, q};

/// A copy of the Debian root with cron (its services never started) and an
/// account `ada` made as an installer would have, with a uid, shell and
/// comment the consfig corrects; and a cron file the consfig removes.
fn prepared_root(sb: &Sandbox) -> PathBuf {
    let root = copy_of_root(sb, "debian");
    std::fs::write(root.join("usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n").unwrap();
    in_root(&root, "chmod 755 /usr/sbin/policy-rc.d");
    in_root(
        &root,
        "apt-get update -q && apt-get install -y -q --no-install-recommends cron",
    );
    in_root(
        &root,
        "useradd --create-home --uid 1500 --shell /bin/sh --comment old ada",
    );
    std::fs::write(
        root.join("etc/cron.d/old"),
        "#Consfig: old\n@daily root true\n",
    )
    .unwrap();
    // The minimal root has no ssh client; a server has /etc/ssh. (Check mode
    // cannot write beneath a grant's directory that it made itself.)
    std::fs::create_dir(root.join("etc/ssh")).unwrap();
    root
}

/// A crypt(3) hash (SHA-512) the host's data gives `user:has-password`.
const HASH: &str = "$6$consfigsalt$Q7rO1f0rjVv1c8H7jzWm0eA5Cw9yD0a3nM1x1p2q3r4s5t6u7v8w9x0yZaBbCcDdEeFfGgHhIiJjKkLlMmNn0.";

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv8ZyhQ6Rb3JxBq1qkT0N8ZlW0u8b0hJ6n0pFzT4d2a ada@laptop";

/// The forms of the consfig.
const FORMS: usize = 19;

fn write_consfig(sb: &Sandbox, root: &Path) {
    let hash = sb.path().join("ada-password");
    std::fs::write(&hash, format!("{HASH}\n")).unwrap();
    let text = format!(
        r#"modules = ["user", "group", "ssh", "cron"]

[hosts.debian]
connection = ["local", {chroot}]
data = {{ ada-hash = {hash} }}
properties = [
  ["group:exists", "web", {{ gid = 990, system = true }}],
  ["group:exists", "voice", {{ gid = 2022 }}],
  ["group:absent", "fax"],
  ["user:has-account", "ada", {{ uid = 1600, comment = "Ada Lovelace", groups = ["web", "adm"] }}],
  ["user:has-account", "deploy", {{ home = "/srv/deploy", shell = "/bin/bash", groups = ["web"] }}],
  ["user:has-groups", "ada", ["web", "adm", "users"], {{ exclusive = true }}],
  ["user:has-desktop-groups", "deploy"],
  ["user:has-login-shell", "ada", "/bin/bash"],
  ["user:has-password", "ada", "ada-hash"],
  ["user:has-locked-password", "root"],
  ["user:absent", "games"],
  ["ssh:authorized-keys", "ada", [{key}]],
  ["ssh:known-host", "git.example.org", ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey"]],
  ["ssh:known-host", "[git.example.org]:2222", ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey"], {{ user = "ada" }}],
  ["cron:job", "backup", {{ job = "/usr/local/bin/backup", user = "root", minute = "0", hour = "3", cron-file = "backup" }}],
  ["cron:job", "old", {{ cron-file = "old", state = "absent" }}],
  ["cron:job", "sync", {{ job = "/usr/bin/sync", user = "ada", minute = "*/5" }}],
  ["cron:job", "MAILTO", {{ job = "ada@example.org", user = "ada", env = true }}],
  ["cron:user-crontab", "root", ["@reboot /bin/true", "30 4 * * 0 /usr/sbin/logrotate /etc/logrotate.conf"]],
]
"#,
        chroot = q(format!("chroot:{}", root.display())),
        hash = q(hash.display().to_string()),
        key = q(KEY),
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
}

fn deploy(sb: &Sandbox, args: &[&str]) -> Run {
    let mut all = vec!["deploy", "--json"];
    all.extend_from_slice(args);
    all.push("debian");
    sb.consfig(&all)
}

/// The fields of the line of `name` in the root's `file` (passwd, group, shadow).
fn entry(root: &Path, file: &str, name: &str) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(root.join("etc").join(file)).unwrap();
    text.lines()
        .map(|l| l.split(':').map(str::to_owned).collect::<Vec<_>>())
        .find(|f| f[0] == name)
}

#[test]
fn accounts_keys_and_cron_through_the_chroot_hop() {
    let sb = Sandbox::new();
    let root = prepared_root(&sb);
    write_consfig(&sb, &root);

    let check = deploy(&sb, &["--check"]);
    assert_eq!(check.code, 23, "{check:?}");
    let predicted = check.statuses_as_checked();
    assert_eq!(predicted.len(), FORMS, "{check:?}");
    assert!(
        predicted.iter().all(|s| s == "would-change"),
        "every form would change something: {predicted:?} {check:?}"
    );
    assert_eq!(
        entry(&root, "passwd", "ada").unwrap()[2],
        "1500",
        "check changed nothing"
    );
    assert!(entry(&root, "passwd", "deploy").is_none());

    let first = deploy(&sb, &[]);
    assert_eq!(first.code, 23, "{first:?}");
    assert_eq!(
        first.statuses_as_checked(),
        predicted,
        "the check predicted every status"
    );

    let second = deploy(&sb, &[]);
    assert_eq!(
        second.code, 0,
        "the second deploy changes nothing: {second:?}"
    );
    assert!(
        second.statuses().iter().all(|s| s == "unchanged"),
        "{second:?}"
    );

    for run in [&check, &first, &second] {
        assert!(
            !run.stdout.contains(HASH) && !run.stderr.contains(HASH),
            "the hash leaked: {run:?}"
        );
        assert!(!run.stdout.contains("consfigsalt"), "{run:?}");
    }
    assert_accounts(&root);
    assert_ssh(&root);
    assert_cron(&root);
}

fn assert_accounts(root: &Path) {
    let ada = entry(root, "passwd", "ada").unwrap();
    assert_eq!(
        ada[2..],
        ["1600", "1500", "Ada Lovelace", "/home/ada", "/bin/bash"]
    );
    let deploy = entry(root, "passwd", "deploy").unwrap();
    assert_eq!(
        (deploy[5].as_str(), deploy[6].as_str()),
        ("/srv/deploy", "/bin/bash")
    );
    assert!(root.join("srv/deploy").is_dir());
    assert_eq!(
        std::fs::metadata(root.join("home/ada/.profile"))
            .unwrap()
            .uid(),
        1600
    );
    let members = |group: &str| entry(root, "group", group).unwrap()[3].clone();
    assert_eq!(entry(root, "group", "web").unwrap()[2], "990");
    assert_eq!(entry(root, "group", "voice").unwrap()[2], "2022");
    assert_eq!(members("web"), "ada,deploy");
    assert_eq!(members("adm"), "ada");
    assert_eq!(members("users"), "ada");
    // The desktop groups a minimal Debian has (base-passwd's); the others
    // (netdev, bluetooth, …) come with packages it lacks.
    for group in ["audio", "cdrom", "dip", "floppy", "video", "plugdev"] {
        assert_eq!(members(group), "deploy", "{group}");
    }
    assert!(entry(root, "group", "netdev").is_none());
    assert!(entry(root, "group", "fax").is_none());
    assert!(entry(root, "passwd", "games").is_none());
    assert_eq!(entry(root, "shadow", "ada").unwrap()[1], HASH);
    assert!(entry(root, "shadow", "root").unwrap()[1].starts_with('!'));
}

fn assert_ssh(root: &Path) {
    let attrs = |p: &str| {
        let m = std::fs::symlink_metadata(root.join(p)).unwrap();
        (m.mode() & 0o7777, m.uid(), m.gid())
    };
    assert_eq!(attrs("home/ada/.ssh"), (0o700, 1600, 1500));
    assert_eq!(attrs("home/ada/.ssh/authorized_keys"), (0o600, 1600, 1500));
    assert_eq!(
        std::fs::read_to_string(root.join("home/ada/.ssh/authorized_keys")).unwrap(),
        format!("{KEY}\n")
    );
    assert_eq!(attrs("home/ada/.ssh/known_hosts"), (0o644, 1600, 1500));
    assert_eq!(
        std::fs::read_to_string(root.join("home/ada/.ssh/known_hosts")).unwrap(),
        "[git.example.org]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/ssh/ssh_known_hosts")).unwrap(),
        "git.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKey\n"
    );
}

fn assert_cron(root: &Path) {
    let backup = root.join("etc/cron.d/backup");
    assert_eq!(
        std::fs::read_to_string(&backup).unwrap(),
        "#Consfig: backup\n0 3 * * * root /usr/local/bin/backup\n"
    );
    assert_eq!(std::fs::metadata(&backup).unwrap().mode() & 0o7777, 0o644);
    assert!(
        !root.join("etc/cron.d/old").exists(),
        "its last job went, and the file"
    );
    // The real crontabs, as crontab(1) wrote them: its header, then the lines.
    let spool = |user: &str| {
        std::fs::read_to_string(root.join("var/spool/cron/crontabs").join(user)).unwrap()
    };
    let ada = spool("ada");
    assert!(ada.starts_with("# DO NOT EDIT THIS FILE"), "{ada}");
    assert!(
        ada.ends_with("MAILTO=\"ada@example.org\"\n#Consfig: sync\n*/5 * * * * /usr/bin/sync\n"),
        "{ada}"
    );
    assert_eq!(
        std::fs::metadata(root.join("var/spool/cron/crontabs/ada"))
            .unwrap()
            .uid(),
        1600
    );
    assert!(
        spool("root")
            .ends_with("@reboot /bin/true\n30 4 * * 0 /usr/sbin/logrotate /etc/logrotate.conf\n")
    );
}

#[test]
fn a_symlinked_ssh_directory_is_refused() {
    let sb = Sandbox::new();
    let root = copy_of_root(&sb, "debian");
    in_root(
        &root,
        "useradd --create-home mallory && ln -s /etc /home/mallory/.ssh && chown -h mallory: /home/mallory/.ssh",
    );
    let before = std::fs::read_dir(root.join("etc")).unwrap().count();
    let run = sb.consfig(&[
        "apply",
        &format!("local,chroot:{}", root.display()),
        &format!(r#"["ssh:authorized-keys", "mallory", ["{KEY}"]]"#),
    ]);
    assert_eq!(run.code, 22, "{run:?}");
    assert!(
        run.stdout
            .contains("/home/mallory/.ssh is a symlink, not a directory"),
        "{run:?}"
    );
    assert!(!root.join("etc/authorized_keys").exists());
    assert_eq!(std::fs::read_dir(root.join("etc")).unwrap().count(), before);
}

/// `sshd:configured` on a copy of this machine's sshd_config, checked by
/// its own sshd: a refused value leaves the file as it was; a good one is
/// set, predicted by `--check`, and unchanged the second time.
#[test]
fn sshd_checks_the_new_configuration_before_replacing_it() {
    assert!(
        Path::new("/usr/sbin/sshd").exists() && Path::new("/etc/ssh/sshd_config").exists(),
        "this test needs openssh-server on this machine (apt-get install openssh-server)"
    );
    let sb = Sandbox::new();
    let dir = sb.path().join("ssh");
    std::fs::create_dir(&dir).unwrap();
    let config = dir.join("sshd_config");
    let original = std::fs::read_to_string("/etc/ssh/sshd_config").unwrap();
    std::fs::write(&config, &original).unwrap();
    let write = format!("sshd=write:{}", dir.display());
    let apply = |extra: &[&str], settings: &str| {
        let form = format!(
            r#"["sshd:configured", {settings}, {{"config": {}}}]"#,
            serde_json::Value::String(config.display().to_string())
        );
        let mut args = vec![
            "apply",
            "--grant",
            &write,
            "--grant",
            "sshd=command:/usr/sbin/sshd -t -f /dev/stdin",
        ];
        args.extend_from_slice(extra);
        args.extend(["local", form.as_str()]);
        sb.consfig(&args)
    };

    let bad = apply(&[], r#"{"PermitRootLogin": "maybe"}"#);
    assert_eq!(bad.code, 22, "{bad:?}");
    assert!(
        bad.stdout.contains("sshd -t refuses the new configuration"),
        "{bad:?}"
    );
    assert!(
        bad.stdout.contains(r#"unsupported option "maybe""#),
        "{bad:?}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);

    let good = r#"{"PermitRootLogin": "no", "PasswordAuthentication": "no", "MaxAuthTries": "3"}"#;
    let check = apply(&["--check"], good);
    assert_eq!(check.code, 23, "{check:?}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    let first = apply(&[], good);
    assert_eq!(first.code, 23, "{first:?}");
    let text = std::fs::read_to_string(&config).unwrap();
    for line in [
        "PermitRootLogin no",
        "PasswordAuthentication no",
        "MaxAuthTries 3",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
    let status = Command::new("/usr/sbin/sshd")
        .arg("-t")
        .arg("-f")
        .arg(&config)
        .status()
        .unwrap();
    assert!(status.success(), "sshd reads what was written");
    let second = apply(&[], good);
    assert_eq!(second.code, 0, "{second:?}");

    // sshd:no-passwords on the same copy: the included files (this
    // machine's sshd_config.d) are read too, and allow no passwords.
    std::fs::write(&config, &original).unwrap();
    let no_passwords = |extra: &[&str]| {
        let form = format!(
            r#"["sshd:no-passwords", {{"config": {}}}]"#,
            serde_json::Value::String(config.display().to_string())
        );
        let mut args = vec![
            "apply",
            "--grant",
            &write,
            "--grant",
            "sshd=read:/etc/ssh",
            "--grant",
            "sshd=command:/usr/sbin/sshd -t -f /dev/stdin",
        ];
        args.extend_from_slice(extra);
        args.extend(["local", form.as_str()]);
        sb.consfig(&args)
    };
    let check = no_passwords(&["--check"]);
    assert_eq!(check.code, 23, "{check:?}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    let first = no_passwords(&[]);
    assert_eq!(first.code, 23, "{first:?}");
    let text = std::fs::read_to_string(&config).unwrap();
    for line in [
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
    let effective = Command::new("/usr/sbin/sshd")
        .arg("-T")
        .arg("-f")
        .arg(&config)
        .output()
        .unwrap();
    let effective = String::from_utf8_lossy(&effective.stdout);
    for line in [
        "passwordauthentication no",
        "kbdinteractiveauthentication no",
    ] {
        assert!(
            effective.lines().any(|l| l == line),
            "{line} in {effective}"
        );
    }
    let second = no_passwords(&[]);
    assert_eq!(second.code, 0, "{second:?}");
}
