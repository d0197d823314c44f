//! Accounts themselves: `user:exists` (created only), `user:has-account`
//! (created and corrected) and `user:absent`.

use consfig_guest::prelude::*;

use crate::names::{
    USERADD, USERDEL, USERMOD, account, check_comment, check_name, check_path, found,
    supplementary_groups,
};

/// The user account exists; if not, it is made with `useradd --create-home`,
/// with the given home directory and login shell (absolute paths) or the
/// system's defaults.
///
/// Only creation: an existing account is left as it is, even when its home
/// or shell differ from the ones given (`user:has-account` corrects them).
#[property]
pub fn exists(name: String, home: Option<String>, shell: Option<String>) -> Result<Change> {
    check_name("user", &name)?;
    for (what, path) in [("home", &home), ("shell", &shell)] {
        if let Some(path) = path {
            check_path(what, path)?;
        }
    }
    if found("passwd", &name)? {
        return Ok(Change::Unchanged);
    }
    let mut command = Command::change(USERADD).arg("--create-home");
    if let Some(home) = &home {
        command = command.args(["--home-dir", home]);
    }
    if let Some(shell) = &shell {
        command = command.args(["--shell", shell]);
    }
    command.arg(&name).succeed()?;
    info!("added user {name}");
    Ok(Change::Changed)
}

/// The user account exists with what the options say, made or corrected:
/// Ansible's `user` with `state: present`.
///
/// Options: `uid`, `home` (an absolute path; a new account's home directory
/// is made there, an existing one's is set without moving its files, as
/// Ansible does without `move_home`), `shell` (an absolute path), `system`
/// (a system account, `useradd --system`: only when the account is made, as
/// in Ansible; a system account gets a home directory only when `home` is
/// given), `comment` (the GECOS field) and `groups` (supplementary groups
/// the account is added to; it stays in others — `user:has-groups` with
/// `exclusive` removes it from them). What is not given is left as it is,
/// or the system's default for a new account.
///
/// A missing account is made with `useradd`; an existing one whose uid,
/// home, shell, comment or groups differ is corrected with one `usermod`.
/// Unchanged when the account is as the options say. Check mode looks the
/// account up (`getent`) and predicts the same.
#[property]
pub fn has_account(
    name: String,
    uid: Option<u32>,
    home: Option<String>,
    shell: Option<String>,
    #[default = false] system: bool,
    comment: Option<String>,
    groups: Option<Vec<String>>,
) -> Result<Change> {
    check_name("user", &name)?;
    for (what, path) in [("home", &home), ("shell", &shell)] {
        if let Some(path) = path {
            check_path(what, path)?;
        }
    }
    if let Some(comment) = &comment {
        check_comment(comment)?;
    }
    let groups = groups.unwrap_or_default();
    for group in &groups {
        check_name("group", group)?;
    }
    let Some(current) = account(&name)? else {
        let mut command = Command::change(USERADD);
        if system {
            command = command.arg("--system");
        }
        if !system || home.is_some() {
            command = command.arg("--create-home");
        }
        if let Some(uid) = uid {
            command = command.args(["--uid".to_owned(), uid.to_string()]);
        }
        if let Some(home) = &home {
            command = command.args(["--home-dir", home]);
        }
        if let Some(shell) = &shell {
            command = command.args(["--shell", shell]);
        }
        if let Some(comment) = &comment {
            command = command.arg(format!("--comment={comment}"));
        }
        if !groups.is_empty() {
            command = command.args(["--groups".to_owned(), groups.join(",")]);
        }
        command.args(["--", &name]).succeed()?;
        info!("added user {name}");
        return Ok(Change::Changed);
    };
    let mut command = Command::change(USERMOD);
    let mut corrected = Vec::new();
    if let Some(uid) = uid.filter(|uid| *uid != current.uid) {
        command = command.args(["--uid".to_owned(), uid.to_string()]);
        corrected.push(format!("uid {} → {uid}", current.uid));
    }
    if let Some(home) = home.filter(|home| *home != current.home) {
        command = command.args(["--home", &home]);
        corrected.push(format!("home {} → {home}", current.home));
    }
    if let Some(shell) = shell.filter(|shell| *shell != current.shell) {
        command = command.args(["--shell", &shell]);
        corrected.push(format!("shell {} → {shell}", current.shell));
    }
    if let Some(comment) = comment.filter(|comment| *comment != current.comment) {
        command = command.arg(format!("--comment={comment}"));
        corrected.push(format!("comment {:?} → {comment:?}", current.comment));
    }
    if !groups.is_empty() {
        let member_of = supplementary_groups(&name)?;
        let missing: Vec<&String> = groups.iter().filter(|g| !member_of.contains(g)).collect();
        if !missing.is_empty() {
            let missing: Vec<&str> = missing.iter().map(|g| g.as_str()).collect();
            command = command.args(["--append", "--groups", &missing.join(",")]);
            corrected.push(format!("added to {}", missing.join(", ")));
        }
    }
    if corrected.is_empty() {
        return Ok(Change::Unchanged);
    }
    command.args(["--", &name]).succeed()?;
    info!("corrected user {name}: {}", corrected.join(", "));
    Ok(Change::Changed)
}

/// The user account does not exist: removed with `userdel`, Ansible's
/// `user` with `state: absent`.
///
/// Option `remove-home` (Ansible's `remove`): remove its home directory and
/// mail spool too (`userdel --remove`); otherwise they stay, owned by a
/// number. Unchanged when there is no such account. Check mode looks the
/// account up and predicts the same.
#[property]
pub fn absent(name: String, #[default = false] remove_home: bool) -> Result<Change> {
    check_name("user", &name)?;
    if !found("passwd", &name)? {
        return Ok(Change::Unchanged);
    }
    let mut command = Command::change(USERDEL);
    if remove_home {
        command = command.arg("--remove");
    }
    command.args(["--", &name]).succeed()?;
    info!("removed user {name}");
    Ok(Change::Changed)
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::MODULE;
    use crate::names::GETENT;

    use consfig_guest::testing::failure;

    const ADA: &str = "ada:x:1000:1000:Ada:/home/ada:/bin/sh\n";
    const GROUPS: &str = "root:x:0:\nadm:x:4:ada\nsudo:x:27:\n";

    fn form(json: &str) -> Form {
        json.parse().unwrap()
    }

    #[test]
    fn exists_adds_a_user_with_home_and_shell() {
        let host = FakeHost::new()
            .command([GETENT, "passwd", "ada"], 2, "")
            .command(
                [
                    USERADD,
                    "--create-home",
                    "--home-dir",
                    "/srv/ada",
                    "--shell",
                    "/bin/zsh",
                    "ada",
                ],
                0,
                "",
            )
            .command(
                [GETENT, "passwd", "ada"],
                0,
                "ada:x:1000:1000::/srv/ada:/bin/zsh\n",
            );
        let ada = || {
            exists(
                "ada".into(),
                Some("/srv/ada".into()),
                Some("/bin/zsh".into()),
            )
        };
        assert_eq!(host.apply(ada), Ok(Change::Changed));
        assert_eq!(host.apply(ada), Ok(Change::Unchanged));
        assert!(host.commands_not_run().is_empty());
        assert_eq!(host.logged(), ["info: added user ada"]);
    }

    #[test]
    fn exists_leaves_an_existing_account_as_it_is() {
        let host = FakeHost::new().command([GETENT, "passwd", "ada"], 0, ADA);
        assert_eq!(
            host.apply(|| exists("ada".into(), None, Some("/bin/zsh".into()))),
            Ok(Change::Unchanged)
        );
    }

    #[test]
    fn exists_in_check_mode_looks_the_account_up_and_skips_useradd() {
        let host = FakeHost::new()
            .check_mode()
            .command([GETENT, "passwd", "ada"], 2, "");
        assert_eq!(
            host.apply(|| exists("ada".into(), None, None)),
            Ok(Change::Changed)
        );
        assert_eq!(host.commands_run(), [[GETENT, "passwd", "ada"]]);
        assert_eq!(host.commands_skipped(), [[USERADD, "--create-home", "ada"]]);
    }

    #[test]
    fn failures_name_the_command_and_its_stderr() {
        let host = FakeHost::new().command_output(
            [GETENT, "passwd", "ada"],
            Output {
                exit_code: Some(1),
                stdout: Vec::new(),
                stderr: b"bad database\n".to_vec(),
            },
        );
        assert_eq!(
            failure(host.apply(|| exists("ada".into(), None, None))),
            "/usr/bin/getent passwd ada: exit code 1: bad database"
        );
    }

    #[test]
    fn has_account_makes_an_account_with_every_option() {
        let host = FakeHost::new()
            .module(&MODULE)
            .command([GETENT, "passwd", "ada"], 2, "")
            .command(
                [
                    USERADD,
                    "--create-home",
                    "--uid",
                    "1500",
                    "--home-dir",
                    "/srv/ada",
                    "--shell",
                    "/bin/bash",
                    "--comment=Ada Lovelace",
                    "--groups",
                    "adm,sudo",
                    "--",
                    "ada",
                ],
                0,
                "",
            )
            .command(
                [GETENT, "passwd", "ada"],
                0,
                "ada:x:1500:1500:Ada Lovelace:/srv/ada:/bin/bash\n",
            )
            .command([GETENT, "group"], 0, "adm:x:4:ada\nsudo:x:27:ada\n");
        let ada = form(
            r#"["user:has-account", "ada", {"uid": 1500, "home": "/srv/ada",
                "shell": "/bin/bash", "comment": "Ada Lovelace", "groups": ["adm", "sudo"]}]"#,
        );
        assert_eq!(host.apply_form(&ada), Ok(Change::Changed));
        assert_eq!(host.apply_form(&ada), Ok(Change::Unchanged));
        assert!(host.commands_not_run().is_empty());
    }

    #[test]
    fn has_account_makes_system_accounts_without_a_home_unless_given() {
        let host = FakeHost::new()
            .command([GETENT, "passwd", "svc"], 2, "")
            .command([USERADD, "--system", "--", "svc"], 0, "")
            .command([GETENT, "passwd", "web"], 2, "")
            .command(
                [
                    USERADD,
                    "--system",
                    "--create-home",
                    "--home-dir",
                    "/srv/web",
                    "--",
                    "web",
                ],
                0,
                "",
            );
        let system = |name: &str, home: Option<&str>| {
            let name = name.to_owned();
            let home = home.map(str::to_owned);
            move || has_account(name, None, home, None, true, None, None)
        };
        assert_eq!(host.apply(system("svc", None)), Ok(Change::Changed));
        assert_eq!(
            host.apply(system("web", Some("/srv/web"))),
            Ok(Change::Changed)
        );
        assert!(host.commands_not_run().is_empty());
    }

    #[test]
    fn has_account_corrects_what_differs_in_one_usermod() {
        let host = FakeHost::new()
            .command([GETENT, "passwd", "ada"], 0, ADA)
            .command([GETENT, "group"], 0, GROUPS)
            .command(
                [
                    USERMOD,
                    "--uid",
                    "1001",
                    "--home",
                    "/srv/ada",
                    "--shell",
                    "/bin/zsh",
                    "--comment=Ada L",
                    "--append",
                    "--groups",
                    "sudo",
                    "--",
                    "ada",
                ],
                0,
                "",
            );
        let change = host.apply(|| {
            has_account(
                "ada".into(),
                Some(1001),
                Some("/srv/ada".into()),
                Some("/bin/zsh".into()),
                // An existing account is not made a system one.
                true,
                Some("Ada L".into()),
                Some(vec!["adm".into(), "sudo".into()]),
            )
        });
        assert_eq!(change, Ok(Change::Changed));
        assert_eq!(
            host.logged(),
            [
                "info: corrected user ada: uid 1000 → 1001, home /home/ada → /srv/ada, \
              shell /bin/sh → /bin/zsh, comment \"Ada\" → \"Ada L\", added to sudo"
            ]
        );
    }

    #[test]
    fn has_account_corrects_only_the_shell_and_leaves_the_rest() {
        let host = FakeHost::new()
            .command([GETENT, "passwd", "ada"], 0, ADA)
            .command([USERMOD, "--shell", "/bin/zsh", "--", "ada"], 0, "");
        let change = host.apply(|| {
            has_account(
                "ada".into(),
                Some(1000),
                None,
                Some("/bin/zsh".into()),
                false,
                None,
                None,
            )
        });
        assert_eq!(change, Ok(Change::Changed));
        // Nothing given differs: not even the groups are looked at.
        let same = FakeHost::new().command([GETENT, "passwd", "ada"], 0, ADA);
        let change = same.apply(|| {
            has_account(
                "ada".into(),
                Some(1000),
                Some("/home/ada".into()),
                Some("/bin/sh".into()),
                false,
                Some("Ada".into()),
                None,
            )
        });
        assert_eq!(change, Ok(Change::Unchanged));
        assert_eq!(same.commands_run(), [[GETENT, "passwd", "ada"]]);
    }

    #[test]
    fn has_account_in_check_mode_predicts_from_getent() {
        let host = FakeHost::new()
            .check_mode()
            .command([GETENT, "passwd", "ada"], 0, ADA)
            .command([GETENT, "passwd", "bob"], 2, "");
        let shell = |name: &str| {
            let name = name.to_owned();
            move || has_account(name, None, None, Some("/bin/zsh".into()), false, None, None)
        };
        assert_eq!(host.apply(shell("ada")), Ok(Change::Changed));
        assert_eq!(host.apply(shell("bob")), Ok(Change::Changed));
        assert_eq!(
            host.commands_skipped(),
            [
                vec![USERMOD, "--shell", "/bin/zsh", "--", "ada"],
                vec![USERADD, "--create-home", "--shell", "/bin/zsh", "--", "bob"],
            ]
        );
    }

    #[test]
    fn has_account_refuses_bad_input_before_any_command() {
        let host = FakeHost::new().module(&MODULE);
        for (json, message) in [
            (
                r#"["user:has-account", "--badname"]"#,
                "\"--badname\" is not a valid user name",
            ),
            (
                r#"["user:has-account", "ada", {"home": "rel"}]"#,
                "the home \"rel\" is not an absolute path",
            ),
            (
                r#"["user:has-account", "ada", {"shell": "/bin/sh\nroot"}]"#,
                "the shell \"/bin/sh\\nroot\" is not an absolute path",
            ),
            (
                r#"["user:has-account", "ada", {"comment": "x:0:0"}]"#,
                "the comment \"x:0:0\" has a `:`",
            ),
            (
                r#"["user:has-account", "ada", {"groups": ["-G", "root"]}]"#,
                "\"-G\" is not a valid group name",
            ),
            (
                r#"["user:has-account", "ada", {"groups": ["adm,root"]}]"#,
                "\"adm,root\" is not a valid group name",
            ),
        ] {
            let error = failure(host.apply_form(&form(json)));
            assert!(error.starts_with(message), "{json}: {error}");
        }
        assert!(host.commands_run().is_empty());
    }

    #[test]
    fn has_account_given_a_comment_like_an_option_keeps_it_an_argument() {
        let host = FakeHost::new()
            .command([GETENT, "passwd", "ada"], 0, ADA)
            .command([USERMOD, "--comment=--help", "--", "ada"], 0, "");
        let change = host.apply(|| {
            has_account(
                "ada".into(),
                None,
                None,
                None,
                false,
                Some("--help".into()),
                None,
            )
        });
        assert_eq!(change, Ok(Change::Changed));
    }

    #[test]
    fn absent_removes_an_account_with_or_without_its_home() {
        let host = FakeHost::new()
            .module(&MODULE)
            .command([GETENT, "passwd", "ada"], 0, ADA)
            .command([USERDEL, "--", "ada"], 0, "")
            .command(
                [GETENT, "passwd", "bob"],
                0,
                "bob:x:1001:1001::/home/bob:/bin/sh\n",
            )
            .command([USERDEL, "--remove", "--", "bob"], 0, "")
            .command([GETENT, "passwd", "bob"], 2, "");
        assert_eq!(
            host.apply_form(&form(r#"["user:absent", "ada"]"#)),
            Ok(Change::Changed)
        );
        let bob = form(r#"["user:absent", "bob", {"remove-home": true}]"#);
        assert_eq!(host.apply_form(&bob), Ok(Change::Changed));
        assert_eq!(host.apply_form(&bob), Ok(Change::Unchanged));
        assert!(host.commands_not_run().is_empty());
        assert_eq!(
            host.logged(),
            ["info: removed user ada", "info: removed user bob"]
        );
        let check = FakeHost::new()
            .check_mode()
            .command([GETENT, "passwd", "ada"], 0, ADA);
        assert_eq!(
            check.apply(|| absent("ada".into(), false)),
            Ok(Change::Changed)
        );
        assert_eq!(check.commands_skipped(), [[USERDEL, "--", "ada"]]);
        assert!(failure(check.apply(|| absent("-r".into(), false))).contains("not a valid user"));
    }
}
