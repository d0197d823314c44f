//! Tests of `sshd:configured` on a fake host.

use consfig_guest::testing::FakeHost;

use super::*;

fn form(json: &str) -> Form {
    json.parse().unwrap()
}

use consfig_guest::testing::failure;

const TEST: [&str; 4] = [SSHD, "-t", "-f", "/dev/stdin"];
const ACTIVE: [&str; 4] = [SYSTEMCTL, "is-active", "--quiet", "ssh.service"];
const RELOAD: [&str; 3] = [SYSTEMCTL, "reload", "ssh.service"];

const DEBIAN: &str = "Include /etc/ssh/sshd_config.d/*.conf\n\
                      #PermitRootLogin prohibit-password\n\
                      PasswordAuthentication yes\n\
                      X11Forwarding yes\n\
                      Match User anoncvs\n\
                      \tX11Forwarding no\n";

fn debian() -> FakeHost {
    FakeHost::new()
        .module(&MODULE)
        .dir("/etc/ssh")
        .file(SSHD_CONFIG, DEBIAN)
        .mode(SSHD_CONFIG, 0o644)
}

fn failed(code: i32, stderr: &str) -> Output {
    Output {
        exit_code: Some(code),
        stdout: Vec::new(),
        stderr: stderr.as_bytes().to_vec(),
    }
}

#[test]
fn sets_keywords_before_match_checks_and_reloads_a_running_sshd() {
    let host = debian()
        .dir(SYSTEMD_RUNNING)
        .command(TEST, 0, "")
        .command(ACTIVE, 0, "")
        .command(RELOAD, 0, "");
    let hardened = form(
        r#"["sshd:configured", {"PermitRootLogin": "no", "PasswordAuthentication": "no",
            "X11Forwarding": "no", "AllowUsers": "ada deploy"}]"#,
    );
    assert_eq!(host.apply_form(&hardened), Ok(Change::Changed));
    let after = "Include /etc/ssh/sshd_config.d/*.conf\n\
                 PermitRootLogin no\n\
                 PasswordAuthentication no\n\
                 X11Forwarding no\n\
                 AllowUsers ada deploy\n\
                 Match User anoncvs\n\
                 \tX11Forwarding no\n";
    assert_eq!(host.text(SSHD_CONFIG).unwrap(), after);
    assert_eq!(host.stat(SSHD_CONFIG).unwrap().mode.bits(), 0o644);
    // sshd -t checked exactly the text written, before it was written.
    let commands = host.commands();
    assert_eq!(commands[0].argv(), TEST);
    assert_eq!(commands[0].input(), Some(after.as_bytes()));
    assert_eq!(
        host.commands_run(),
        [TEST.to_vec(), ACTIVE.to_vec(), RELOAD.to_vec()]
    );
    assert_eq!(host.apply_form(&hardened), Ok(Change::Unchanged));
    assert_eq!(host.commands_run().len(), 3);
}

#[test]
fn an_inactive_or_unmanaged_sshd_is_not_reloaded() {
    let inactive = debian()
        .dir(SYSTEMD_RUNNING)
        .command(TEST, 0, "")
        .command(ACTIVE, 3, "");
    let form = form(r#"["sshd:configured", {"PermitRootLogin": "no"}]"#);
    assert_eq!(inactive.apply_form(&form), Ok(Change::Changed));
    assert_eq!(inactive.commands_run(), [TEST.to_vec(), ACTIVE.to_vec()]);
    // No systemd running, or in a chroot: not even asked.
    let no_systemd = debian().command(TEST, 0, "");
    assert_eq!(no_systemd.apply_form(&form), Ok(Change::Changed));
    assert_eq!(no_systemd.commands_run(), [TEST.to_vec()]);
    assert_eq!(
        no_systemd.logged().last().unwrap(),
        "info: systemd does not run here: sshd not reloaded"
    );
    let chroot = debian()
        .in_chroot(true)
        .dir(SYSTEMD_RUNNING)
        .command(TEST, 0, "");
    assert_eq!(chroot.apply_form(&form), Ok(Change::Changed));
    assert_eq!(chroot.commands_run(), [TEST.to_vec()]);
}

#[test]
fn a_refused_configuration_leaves_the_file_as_it_was() {
    let host = debian().dir(SYSTEMD_RUNNING).command_output(
        TEST,
        failed(255, "/dev/stdin line 2: unsupported option \"maybe\".\n"),
    );
    let maybe = form(r#"["sshd:configured", {"PermitRootLogin": "maybe"}]"#);
    assert_eq!(
        failure(host.apply_form(&maybe)),
        "/etc/ssh/sshd_config: sshd -t refuses the new configuration, so it is left as it \
         was: exit code 255: /dev/stdin line 2: unsupported option \"maybe\"."
    );
    assert_eq!(host.text(SSHD_CONFIG).unwrap(), DEBIAN);
    assert!(host.file_changes().is_empty());
}

#[test]
fn a_missing_privilege_separation_directory_does_not_make_it_invalid() {
    let host = debian().command_output(
        TEST,
        failed(255, "Missing privilege separation directory: /run/sshd\n"),
    );
    let form = form(r#"["sshd:configured", {"PermitRootLogin": "no"}]"#);
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    let both = debian().command_output(
        TEST,
        failed(
            255,
            "/dev/stdin line 2: Bad yes/no argument\nMissing privilege separation directory: /run/sshd\n",
        ),
    );
    assert!(failure(both.apply_form(&form)).contains("Bad yes/no argument"));
}

#[test]
fn check_mode_validates_and_skips_the_reload() {
    let host = debian()
        .check_mode()
        .dir(SYSTEMD_RUNNING)
        .command(TEST, 0, "")
        .command(ACTIVE, 0, "");
    let form = form(r#"["sshd:configured", {"PermitRootLogin": "no"}]"#);
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    assert_eq!(host.commands_run(), [TEST.to_vec(), ACTIVE.to_vec()]);
    assert_eq!(host.commands_skipped(), [RELOAD.to_vec()]);
}

#[test]
fn another_config_file_is_edited_and_never_reloads() {
    let host = FakeHost::new()
        .module(&MODULE)
        .dir("/tmp/t")
        .dir(SYSTEMD_RUNNING)
        .file("/tmp/t/sshd_config", "Port 22\n")
        .command(TEST, 0, "");
    let form = form(r#"["sshd:configured", {"Port": "2222"}, {"config": "/tmp/t/sshd_config"}]"#);
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    assert_eq!(host.text("/tmp/t/sshd_config").unwrap(), "Port 2222\n");
    assert_eq!(host.commands_run(), [TEST.to_vec()]);
}

#[test]
fn refuses_injection_and_bad_input_before_any_effect() {
    let host = debian();
    for (json, message) in [
        (
            r#"["sshd:configured", {"PermitRootLogin": "no\nPermitEmptyPasswords yes"}]"#,
            "the value of PermitRootLogin, \"no\\nPermitEmptyPasswords yes\", is not one line",
        ),
        (
            r#"["sshd:configured", {"PermitRootLogin\nPermitEmptyPasswords": "yes"}]"#,
            "\"PermitRootLogin\\nPermitEmptyPasswords\" is not an sshd_config keyword",
        ),
        (
            r#"["sshd:configured", {"Permit RootLogin": "yes"}]"#,
            "\"Permit RootLogin\" is not an sshd_config keyword",
        ),
        (
            r#"["sshd:configured", {"-oPort": "1"}]"#,
            "\"-oPort\" is not an sshd_config keyword",
        ),
        (
            r#"["sshd:configured", {"Match": "User root"}]"#,
            "Match starts a block",
        ),
        (
            r#"["sshd:configured", {"Port": ""}]"#,
            "the value of Port, \"\"",
        ),
        (
            r#"["sshd:configured", {"Port": "22"}, {"config": "sshd_config"}]"#,
            "the config \"sshd_config\" is not an absolute path",
        ),
        (
            r#"["sshd:configured", {"Port": "22"}, {"config": "/etc/ssh/none"}]"#,
            "/etc/ssh/none does not exist (is openssh-server installed?)",
        ),
    ] {
        let error = failure(host.apply_form(&form(json)));
        assert!(error.starts_with(message), "{json}: {error}");
    }
    assert!(host.commands_run().is_empty());
    assert!(host.file_changes().is_empty());
}

#[test]
fn a_keyword_only_inside_match_is_appended_before_it() {
    let host = debian().command(TEST, 0, "");
    let form = form(r#"["sshd:configured", {"AllowTcpForwarding": "no"}]"#);
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    assert!(host.text(SSHD_CONFIG).unwrap().ends_with(
        "X11Forwarding yes\nAllowTcpForwarding no\nMatch User anoncvs\n\tX11Forwarding no\n"
    ));
}

#[test]
fn keywords_match_in_any_case_as_sshd_reads_them() {
    let host = FakeHost::new()
        .module(&MODULE)
        .dir("/etc/ssh")
        .file(
            SSHD_CONFIG,
            "permitrootlogin yes\n#  PASSWORDAUTHENTICATION yes\nPort 22\n",
        )
        .command(TEST, 0, "");
    let form =
        form(r#"["sshd:configured", {"PermitRootLogin": "no", "PasswordAuthentication": "no"}]"#);
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    assert_eq!(
        host.text(SSHD_CONFIG).unwrap(),
        "PermitRootLogin no\nPasswordAuthentication no\nPort 22\n"
    );
    assert_eq!(host.apply_form(&form), Ok(Change::Unchanged));
}

// sshd:no-passwords

/// Debian 12's sshd_config, as openssh-server installs it (its settings).
const BOOKWORM: &str = "Include /etc/ssh/sshd_config.d/*.conf\n\
                        #PasswordAuthentication yes\n\
                        #PermitEmptyPasswords no\n\
                        KbdInteractiveAuthentication no\n\
                        UsePAM yes\n\
                        X11Forwarding yes\n\
                        Subsystem\tsftp\t/usr/lib/openssh/sftp-server\n";

const BOOKWORM_NO_PASSWORDS: &str = "Include /etc/ssh/sshd_config.d/*.conf\n\
                                     PasswordAuthentication no\n\
                                     #PermitEmptyPasswords no\n\
                                     KbdInteractiveAuthentication no\n\
                                     UsePAM yes\n\
                                     X11Forwarding yes\n\
                                     Subsystem\tsftp\t/usr/lib/openssh/sftp-server\n";

fn bookworm() -> FakeHost {
    FakeHost::new()
        .module(&MODULE)
        .dir("/etc/ssh/sshd_config.d")
        .file(SSHD_CONFIG, BOOKWORM)
}

#[test]
fn no_passwords_sets_both_keywords_checks_and_reloads() {
    let host = bookworm()
        .file(
            "/etc/ssh/sshd_config.d/10-local.conf",
            "PasswordAuthentication no\n",
        )
        .file("/etc/ssh/sshd_config.d/20-x.conf", "X11Forwarding no\n")
        .dir(SYSTEMD_RUNNING)
        .command(TEST, 0, "")
        .command(ACTIVE, 0, "")
        .command(RELOAD, 0, "");
    let no = form(r#"["sshd:no-passwords"]"#);
    assert_eq!(host.apply_form(&no), Ok(Change::Changed));
    assert_eq!(host.text(SSHD_CONFIG).unwrap(), BOOKWORM_NO_PASSWORDS);
    assert_eq!(
        host.commands()[0].input(),
        Some(BOOKWORM_NO_PASSWORDS.as_bytes())
    );
    assert_eq!(
        host.commands_run(),
        [TEST.to_vec(), ACTIVE.to_vec(), RELOAD.to_vec()]
    );
    assert_eq!(host.apply_form(&no), Ok(Change::Unchanged));
    assert_eq!(host.commands_run().len(), 3);
}

#[test]
fn no_passwords_sets_the_older_keyword_where_the_file_has_it() {
    let old = "ChallengeResponseAuthentication yes\nUsePAM yes\n";
    let host = FakeHost::new()
        .module(&MODULE)
        .file(SSHD_CONFIG, old)
        .command(TEST, 0, "");
    assert_eq!(
        host.apply_form(&form(r#"["sshd:no-passwords"]"#)),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.text(SSHD_CONFIG).unwrap(),
        "ChallengeResponseAuthentication no\nUsePAM yes\nKbdInteractiveAuthentication no\n\
         PasswordAuthentication no\n"
    );
}

#[test]
fn no_passwords_fails_when_an_included_file_read_first_allows_passwords() {
    for (name, text, named) in [
        (
            "50-cloud-init.conf",
            "PasswordAuthentication yes\n",
            "/etc/ssh/sshd_config.d/50-cloud-init.conf: PasswordAuthentication yes",
        ),
        (
            "a.conf",
            "# set by hand\nkbdinteractiveauthentication=yes\n",
            "/etc/ssh/sshd_config.d/a.conf: kbdinteractiveauthentication yes",
        ),
        (
            "b.conf",
            "ChallengeResponseAuthentication yes\n",
            "/etc/ssh/sshd_config.d/b.conf: ChallengeResponseAuthentication yes",
        ),
    ] {
        let host = bookworm()
            .file(&format!("/etc/ssh/sshd_config.d/{name}"), text)
            .command(TEST, 0, "");
        let message = failure(host.apply_form(&form(r#"["sshd:no-passwords"]"#)));
        assert_eq!(
            message,
            format!(
                "/etc/ssh/sshd_config: sshd would still allow passwords, since it reads \
                 first {named}: remove or change that (sshd takes the first value it reads)"
            )
        );
        assert_eq!(host.text(SSHD_CONFIG).unwrap(), BOOKWORM, "nothing written");
        assert!(host.commands().is_empty());
    }
    // Read after the main file's own line, inside a Match block, in a file
    // the glob does not name, or saying no: no matter.
    let host = FakeHost::new()
        .module(&MODULE)
        .file(
            SSHD_CONFIG,
            "PasswordAuthentication no\nInclude conf.d/*.conf\nKbdInteractiveAuthentication no\n",
        )
        .file("/etc/ssh/conf.d/a.conf", "PasswordAuthentication yes\n")
        .file(
            "/etc/ssh/conf.d/b.conf",
            "kbdinteractiveauthentication no\nKbdInteractiveAuthentication yes\n\
             Match User ada\n  PasswordAuthentication yes\n",
        )
        .file(
            "/etc/ssh/conf.d/c.conf.bak",
            "KbdInteractiveAuthentication yes\n",
        );
    assert_eq!(
        host.apply_form(&form(r#"["sshd:no-passwords"]"#)),
        Ok(Change::Unchanged)
    );
    // A glob in the directory of an Include cannot be followed: said.
    let globbed = FakeHost::new()
        .module(&MODULE)
        .file(SSHD_CONFIG, "Include /etc/ssh/*/x.conf\n");
    assert!(
        failure(globbed.apply_form(&form(r#"["sshd:no-passwords"]"#)))
            .starts_with("Include /etc/ssh/*/x.conf: only `*` and `?`")
    );
}

#[test]
fn no_passwords_in_check_mode_validates_and_predicts() {
    let host = bookworm().check_mode().command(TEST, 0, "");
    assert_eq!(
        host.apply_form(&form(r#"["sshd:no-passwords"]"#)),
        Ok(Change::Changed)
    );
    assert_eq!(host.commands_run(), [TEST.to_vec()]);
    let done = FakeHost::new()
        .module(&MODULE)
        .check_mode()
        .file(SSHD_CONFIG, BOOKWORM_NO_PASSWORDS);
    assert_eq!(
        done.apply_form(&form(r#"["sshd:no-passwords"]"#)),
        Ok(Change::Unchanged)
    );
    assert!(done.commands().is_empty());
}

#[test]
fn no_passwords_refuses_a_bad_config_and_a_missing_file() {
    let host = FakeHost::new().module(&MODULE);
    for (config, message) in [
        (
            "sshd_config",
            "the config \"sshd_config\" is not an absolute path",
        ),
        (
            "/etc/ssh/sshd_config\n",
            "the config \"/etc/ssh/sshd_config\\n\" is not an absolute path",
        ),
        (
            "/etc/ssh/sshd_config",
            "/etc/ssh/sshd_config does not exist (is openssh-server installed?)",
        ),
    ] {
        let no = Form::new("sshd:no-passwords")
            .arg(consfig_guest::serde_json::json!({ "config": config }))
            .unwrap();
        assert_eq!(failure(host.apply_form(&no)), message);
    }
    assert!(host.file_changes().is_empty() && host.commands().is_empty());
}
