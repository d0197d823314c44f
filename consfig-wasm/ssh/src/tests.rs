//! Tests of `ssh:authorized-keys` and `ssh:known-host` on a fake host.

use consfig_guest::testing::FakeHost;

use super::*;

fn form(json: &str) -> Form {
    json.parse().unwrap()
}

use consfig_guest::testing::failure;

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA ada@laptop";
const OTHER: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB old@box";
const AUTH: &str = "/home/ada/.ssh/authorized_keys";

fn host() -> FakeHost {
    FakeHost::new()
        .module(&MODULE)
        .user("ada", 1000, 1000)
        .group("ada", 1000, Vec::<String>::new())
        .dir("/home/ada")
        .owner("/home/ada", 1000, 1000)
}

/// (mode, uid, gid) of what is at `path`.
fn attrs(host: &FakeHost, path: &str) -> (u32, u32, u32) {
    let stat = host.stat(path).unwrap();
    (stat.mode.bits(), stat.uid, stat.gid)
}

#[test]
fn authorized_keys_makes_the_directory_and_file_owned_by_the_user() {
    let host = host();
    let keys = form(&format!(r#"["ssh:authorized-keys", "ada", ["{KEY}"]]"#));
    assert_eq!(host.apply_form(&keys), Ok(Change::Changed));
    assert_eq!(host.text(AUTH).unwrap(), format!("{KEY}\n"));
    assert_eq!(attrs(&host, "/home/ada/.ssh"), (0o700, 1000, 1000));
    assert_eq!(attrs(&host, AUTH), (0o600, 1000, 1000));
    let changes = host.file_changes().len();
    assert_eq!(host.apply_form(&keys), Ok(Change::Unchanged));
    assert_eq!(host.file_changes().len(), changes);
}

#[test]
fn authorized_keys_keeps_other_keys_and_replaces_a_key_s_line() {
    let host = host()
        .dir("/home/ada/.ssh")
        .owner("/home/ada/.ssh", 1000, 1000)
        .mode("/home/ada/.ssh", 0o700)
        .file(
            AUTH,
            format!("# mine\n{OTHER}\nno-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA old\n"),
        )
        .owner(AUTH, 1000, 1000)
        .mode(AUTH, 0o600);
    let keys = form(&format!(r#"["ssh:authorized-keys", "ada", ["{KEY}"]]"#));
    assert_eq!(host.apply_form(&keys), Ok(Change::Changed));
    assert_eq!(
        host.text(AUTH).unwrap(),
        format!("# mine\n{OTHER}\n{KEY}\n")
    );
    assert_eq!(host.apply_form(&keys), Ok(Change::Unchanged));
    let only = form(&format!(
        r#"["ssh:authorized-keys", "ada", ["{KEY}"], {{"exclusive": true}}]"#
    ));
    assert_eq!(host.apply_form(&only), Ok(Change::Changed));
    assert_eq!(host.text(AUTH).unwrap(), format!("{KEY}\n"));
    assert_eq!(host.apply_form(&only), Ok(Change::Unchanged));
}

#[test]
fn authorized_keys_corrects_modes_and_owners() {
    let host = host()
        .dir("/home/ada/.ssh")
        .mode("/home/ada/.ssh", 0o755)
        .file(AUTH, format!("{KEY}\n"))
        .mode(AUTH, 0o644);
    let keys = form(&format!(r#"["ssh:authorized-keys", "ada", ["{KEY}"]]"#));
    assert_eq!(host.apply_form(&keys), Ok(Change::Changed));
    assert_eq!(attrs(&host, "/home/ada/.ssh"), (0o700, 1000, 1000));
    assert_eq!(attrs(&host, AUTH), (0o600, 1000, 1000));
    assert_eq!(
        host.file_changes(),
        [
            "chown /home/ada/.ssh 1000 1000",
            "chmod /home/ada/.ssh 0700",
            "chown /home/ada/.ssh/authorized_keys 1000 1000",
            "chmod /home/ada/.ssh/authorized_keys 0600",
        ]
    );
}

#[test]
fn authorized_keys_refuses_a_symlinked_ssh_directory_or_file() {
    let linked_dir = host().dir("/etc").symlink("/home/ada/.ssh", "/etc");
    let keys = form(&format!(r#"["ssh:authorized-keys", "ada", ["{KEY}"]]"#));
    assert_eq!(
        failure(linked_dir.apply_form(&keys)),
        "/home/ada/.ssh is a symlink, not a directory: refusing to write through it"
    );
    assert!(linked_dir.file_changes().is_empty());
    let linked_file = host()
        .dir("/home/ada/.ssh")
        .owner("/home/ada/.ssh", 1000, 1000)
        .mode("/home/ada/.ssh", 0o700)
        .dir("/etc")
        .file("/etc/shadow", "root:*:1::::::\n")
        .symlink(AUTH, "/etc/shadow");
    assert_eq!(
        failure(linked_file.apply_form(&keys)),
        "/home/ada/.ssh/authorized_keys is a symlink, not a file: refusing to write through it"
    );
    assert!(linked_file.file_changes().is_empty());
    assert_eq!(linked_file.text("/etc/shadow").unwrap(), "root:*:1::::::\n");
}

#[test]
fn authorized_keys_in_check_mode_predicts_without_a_command() {
    let host = host().check_mode();
    let keys = form(&format!(r#"["ssh:authorized-keys", "ada", ["{KEY}"]]"#));
    assert_eq!(host.apply_form(&keys), Ok(Change::Changed));
    assert!(host.commands_run().is_empty());
}

#[test]
fn authorized_keys_refuses_bad_input() {
    let host = host();
    for (json, message) in [
        (
            r#"["ssh:authorized-keys", "--root", []]"#.to_owned(),
            "\"--root\" is not a valid user name",
        ),
        (
            r#"["ssh:authorized-keys", "bob", []]"#.to_owned(),
            "there is no user bob on this host",
        ),
        (
            format!(r#"["ssh:authorized-keys", "ada", ["{KEY}\n{OTHER}"]]"#),
            "\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA ada@laptop\\nssh-rsa",
        ),
        (
            r#"["ssh:authorized-keys", "ada", ["hunter2"]]"#.to_owned(),
            "\"hunter2\" is not an authorized key",
        ),
    ] {
        let error = failure(host.apply_form(&form(&json)));
        assert!(error.starts_with(message), "{json}: {error}");
    }
    let homeless = FakeHost::new().module(&MODULE).user("ada", 1000, 1000);
    assert_eq!(
        failure(homeless.apply_form(&form(&format!(
            r#"["ssh:authorized-keys", "ada", ["{KEY}"]]"#
        )))),
        "the home of ada, /home/ada, does not exist"
    );
    assert!(host.file_changes().is_empty());
}

#[test]
fn known_host_sets_the_host_s_keys_in_the_system_file() {
    let host = FakeHost::new().module(&MODULE).dir("/etc/ssh").file(
        "/etc/ssh/ssh_known_hosts",
        "other ssh-rsa AAAAB3\ngit.example ssh-rsa AAAAold\n|1|hashed= ssh-rsa AAAAB3\n",
    );
    let git = form(
        r#"["ssh:known-host", "git.example", ["ssh-ed25519 AAAAC3new", "ssh-rsa AAAAB3rsa"]]"#,
    );
    assert_eq!(host.apply_form(&git), Ok(Change::Changed));
    assert_eq!(
        host.text("/etc/ssh/ssh_known_hosts").unwrap(),
        "other ssh-rsa AAAAB3\n|1|hashed= ssh-rsa AAAAB3\n\
         git.example ssh-ed25519 AAAAC3new\ngit.example ssh-rsa AAAAB3rsa\n"
    );
    assert_eq!(host.apply_form(&git), Ok(Change::Unchanged));
    let fresh = FakeHost::new().module(&MODULE);
    assert_eq!(fresh.apply_form(&git), Ok(Change::Changed));
    assert_eq!(attrs(&fresh, "/etc/ssh/ssh_known_hosts").0, 0o644);
}

#[test]
fn known_host_of_a_user_goes_in_their_ssh_directory() {
    let host = host();
    let git = form(
        r#"["ssh:known-host", "[git.example]:2222", ["ssh-ed25519 AAAAC3"], {"user": "ada"}]"#,
    );
    assert_eq!(host.apply_form(&git), Ok(Change::Changed));
    assert_eq!(
        host.text("/home/ada/.ssh/known_hosts").unwrap(),
        "[git.example]:2222 ssh-ed25519 AAAAC3\n"
    );
    assert_eq!(
        attrs(&host, "/home/ada/.ssh/known_hosts"),
        (0o644, 1000, 1000)
    );
    assert_eq!(attrs(&host, "/home/ada/.ssh"), (0o700, 1000, 1000));
    assert_eq!(host.apply_form(&git), Ok(Change::Unchanged));
    let symlinked = FakeHost::new()
        .module(&MODULE)
        .user("ada", 1000, 1000)
        .dir("/home/ada")
        .dir("/root")
        .symlink("/home/ada/.ssh", "/root");
    assert!(failure(symlinked.apply_form(&git)).contains("is a symlink, not a directory"));
}

#[test]
fn known_host_refuses_injection() {
    let host = FakeHost::new().module(&MODULE).dir("/etc/ssh");
    for json in [
        r#"["ssh:known-host", "a\nevil", ["ssh-ed25519 AAAA"]]"#,
        r#"["ssh:known-host", "a b", ["ssh-ed25519 AAAA"]]"#,
        r#"["ssh:known-host", "@cert-authority", ["ssh-ed25519 AAAA"]]"#,
        r#"["ssh:known-host", "a,*", ["ssh-ed25519 AAAA"]]"#,
        r#"["ssh:known-host", "", ["ssh-ed25519 AAAA"]]"#,
        r#"["ssh:known-host", "a", ["ssh-ed25519 AAAA\n* ssh-rsa BBBB"]]"#,
        r#"["ssh:known-host", "a", ["other ssh-ed25519 AAAA"]]"#,
        r#"["ssh:known-host", "a", ["ssh-ed25519 AAAA"], {"user": "-x"}]"#,
    ] {
        assert!(host.apply_form(&form(json)).is_err(), "{json}");
    }
    assert!(host.file_changes().is_empty());
}
