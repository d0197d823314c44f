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
    succeed(Command::new("groupadd").arg(&name))?;
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
    let mut command = Command::new("useradd").arg("--create-home");
    if let Some(home) = &home {
        command = command.args(["--home-dir", home]);
    }
    if let Some(shell) = &shell {
        command = command.args(["--shell", shell]);
    }
    succeed(command.arg(&name))?;
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
    let command = Command::new("getent").args([database, key]).read_only();
    let shown = command.to_string();
    let output = run(command)?;
    match output.exit_code {
        Some(0) => Ok(true),
        Some(2) => Ok(false),
        _ => bail!("{shown}: {}{}", output.status(), stderr(&output)),
    }
}

/// Run a command that must exit 0, logging what it printed.
fn succeed(command: Command) -> Result<()> {
    let shown = command.to_string();
    let output = run(command)?;
    if !output.success() {
        bail!("{shown}: {}{}", output.status(), stderr(&output));
    }
    for text in [output.stdout_str(), output.stderr_str()] {
        if !text.trim().is_empty() {
            log::info(text.trim_end());
        }
    }
    Ok(())
}

/// A failed command's stderr, to append to its error.
fn stderr(output: &Output) -> String {
    match output.stderr_str().trim() {
        "" => String::new(),
        text => format!(": {text}"),
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
