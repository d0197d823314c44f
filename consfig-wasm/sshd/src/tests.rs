//! Tests of `sshd:configured` on a fake host.

use consfig_guest::testing::FakeHost;

use super::*;

fn form(json: &str) -> Form {
    json.parse().unwrap()
}

fn err(result: Result<Change>) -> String {
    result.unwrap_err().to_string()
}

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
        err(host.apply_form(&maybe)),
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
    assert!(err(both.apply_form(&form)).contains("Bad yes/no argument"));
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
        let error = err(host.apply_form(&form(json)));
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
