//! The `user` module: user accounts and groups, and deploying as another user.
//!
//! Accounts are looked up with `getent` and made with `useradd` and
//! `groupadd` (from shadow-utils, on every common Linux distribution), so
//! they work with whatever password database the system uses. Properties
//! only create: an existing account or group is left as it is.

use consfig_guest::prelude::*;

/// Apply forms as another user: a subdeployment that has become `user`
/// (with their groups, `HOME` and a `PATH`; needs root unless it is the user
/// running the deploy).
///
/// Changed when any form changed; fails when the user cannot be entered or
/// any form failed (every form is applied even so). No forms is simply
/// Unchanged.
#[property(name = "as")]
fn as_user(user: String, forms: Vec<Form>) -> Result<Change> {
    ensure!(
        !user.is_empty()
            && !user.starts_with('-')
            && !user.chars().any(|c| c.is_whitespace() || c.is_control()),
        "{user:?} is not a user name"
    );
    if forms.is_empty() {
        return Ok(Change::Unchanged);
    }
    subdeploy(&[Context::setuid(&user)], &forms)
}

/// The group exists; if not, it is made with `groupadd`.
///
/// Only creation: an existing group is left as it is.
#[property]
fn group_exists(name: String) -> Result<Change> {
    check_name("group", &name)?;
    if found("group", &name)? {
        return Ok(Change::Unchanged);
    }
    Command::change("groupadd").arg(&name).succeed()?;
    info!("added group {name}");
    Ok(Change::Changed)
}

/// The user account exists; if not, it is made with `useradd --create-home`,
/// with the given home directory and login shell (absolute paths) or the
/// system's defaults.
///
/// Only creation: an existing account is left as it is, even when its home
/// or shell differ from the ones given.
#[property]
fn exists(name: String, home: Option<String>, shell: Option<String>) -> Result<Change> {
    check_name("user", &name)?;
    for (what, path) in [("home", &home), ("shell", &shell)] {
        if let Some(path) = path {
            ensure!(
                path.starts_with('/') && !path.contains(['\n', ':']),
                "the {what} {path:?} is not an absolute path (without `:` or newlines)"
            );
        }
    }
    if found("passwd", &name)? {
        return Ok(Change::Unchanged);
    }
    let mut command = Command::change("useradd").arg("--create-home");
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

/// Refuse what `useradd` and `groupadd` would (or should) refuse:
/// `[a-z_][a-z0-9_-]*[$]?`, which also keeps options and whitespace out of
/// their command lines.
fn check_name(what: &str, name: &str) -> Result<()> {
    let body = name.strip_suffix('$').unwrap_or(name);
    let valid = body.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && body
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    ensure!(
        valid,
        "{name:?} is not a valid {what} name: use lowercase letters, digits, `_` and `-`, \
         starting with a letter or `_` (and perhaps ending with `$`)"
    );
    Ok(())
}

/// Whether `getent DATABASE KEY` finds the entry: exit code 0 is found, 2
/// is not; anything else is an error.
fn found(database: &str, key: &str) -> Result<bool> {
    let command = Command::query("getent").args([database, key]);
    let shown = command.to_string();
    let output = run(command)?;
    match output.exit_code {
        Some(0) => Ok(true),
        Some(2) => Ok(false),
        _ => bail!("{shown}: {}{}", output.status(), output.stderr_suffix()),
    }
}

consfig_guest::module! {
    name: "user",
    export: false,
    needs: [
        "subdeploy",
        "context:setuid:*",
        "command:/usr/sbin/useradd",
        "command:/usr/sbin/groupadd",
        "command:/usr/bin/getent",
    ],
    doc: "User accounts and groups (created only), and deploying as another user.",
    properties: [as_user, group_exists, exists],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    fn err(result: Result<Change>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn group_exists_adds_only_a_missing_group() {
        let host = FakeHost::new()
            .command(["getent", "group", "web"], 0, "web:x:998:\n")
            .command(["getent", "group", "ops"], 2, "")
            .command(["groupadd", "ops"], 0, "");
        assert_eq!(
            host.apply(|| group_exists("web".into())),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            host.apply(|| group_exists("ops".into())),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.commands_run(),
            [
                vec!["getent", "group", "web"],
                vec!["getent", "group", "ops"],
                vec!["groupadd", "ops"],
            ]
        );
        assert_eq!(host.logged(), ["info: added group ops"]);
    }

    #[test]
    fn exists_adds_a_user_with_home_and_shell() {
        let host = FakeHost::new()
            .command(["getent", "passwd", "ada"], 2, "")
            .command(
                [
                    "useradd",
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
                ["getent", "passwd", "ada"],
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
    }

    #[test]
    fn check_mode_looks_the_account_up_and_skips_useradd() {
        let host = FakeHost::new()
            .check_mode()
            .command(["getent", "passwd", "ada"], 2, "");
        assert_eq!(
            host.apply(|| exists("ada".into(), None, None)),
            Ok(Change::Changed)
        );
        assert_eq!(host.commands_run(), [["getent", "passwd", "ada"]]);
        assert_eq!(
            host.commands_skipped(),
            [["useradd", "--create-home", "ada"]]
        );
    }

    #[test]
    fn failures_name_the_command_and_its_stderr() {
        let host = FakeHost::new()
            .command_output(
                ["getent", "passwd", "ada"],
                Output {
                    exit_code: Some(1),
                    stdout: Vec::new(),
                    stderr: b"bad database\n".to_vec(),
                },
            )
            .command(["getent", "group", "ops"], 2, "")
            .command_output(
                ["groupadd", "ops"],
                Output {
                    exit_code: Some(10),
                    stdout: Vec::new(),
                    stderr: b"groupadd: cannot lock /etc/group\n".to_vec(),
                },
            );
        assert_eq!(
            err(host.apply(|| exists("ada".into(), None, None))),
            "getent passwd ada: exit code 1: bad database"
        );
        assert_eq!(
            err(host.apply(|| group_exists("ops".into()))),
            "groupadd ops: exit code 10: groupadd: cannot lock /etc/group"
        );
    }

    #[test]
    fn refuses_bad_names_and_paths_before_any_command() {
        // Nothing is scripted: a command run would fail the test.
        let host = FakeHost::new();
        assert!(
            err(host.apply(|| exists("-o".into(), None, None))).starts_with(
                "\"-o\" is not a valid user name: use lowercase letters, digits, `_` and `-`"
            )
        );
        assert!(
            err(host.apply(|| group_exists("Web".into())))
                .starts_with("\"Web\" is not a valid group name")
        );
        assert_eq!(
            err(host.apply(|| exists("ada".into(), Some("home".into()), None))),
            "the home \"home\" is not an absolute path (without `:` or newlines)"
        );
        assert_eq!(
            err(host.apply(|| exists("ada".into(), None, Some("/bin/sh:x".into())))),
            "the shell \"/bin/sh:x\" is not an absolute path (without `:` or newlines)"
        );
        assert!(host.commands_run().is_empty());
        for valid in ["ada", "_svc", "build-1", "host$"] {
            check_name("user", valid).unwrap();
        }
    }

    #[test]
    fn as_subdeploys_as_the_user() {
        let profile = Form::new("file:has-content")
            .arg("/home/ada/.profile")
            .unwrap()
            .arg("umask 027\n")
            .unwrap();
        let host = FakeHost::new().subdeploy([Context::setuid("ada")], Change::Changed);
        let as_ada = || as_user("ada".into(), vec![profile.clone()]);
        assert_eq!(host.apply(as_ada), Ok(Change::Changed));
        let subs = host.subdeployments();
        assert_eq!(subs[0].contexts, [Context::setuid("ada")]);
        assert_eq!(subs[0].forms, std::slice::from_ref(&profile));
        assert_eq!(
            err(host.apply(|| as_user("ada bob".into(), vec![profile.clone()]))),
            "\"ada bob\" is not a user name"
        );
        assert_eq!(
            host.apply(|| as_user("ada".into(), Vec::new())),
            Ok(Change::Unchanged)
        );
        assert_eq!(host.subdeployments().len(), 1);
    }
}
