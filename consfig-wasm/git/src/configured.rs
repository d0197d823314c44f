//! `git:configured`: settings of a repository's own configuration file.

use std::collections::BTreeMap;

use consfig_guest::prelude::*;

use crate::git;

/// The repository at REPO has these settings in its own configuration
/// (`.git/config`, or `config` of a bare repository): each KEY
/// (`section.name` or `section.subsection.name`) has the single value
/// VALUE. A key with another value, or several, is set with
/// `git config --replace-all`; the file keeps its owner (git replaces it
/// with one of its own user's: `chown` gives it back).
///
/// Unchanged when every key already has exactly its value (read with
/// `git config --get-all`, a query, so check mode predicts exactly and
/// skips the setting). Keys are checked before git sees them: no leading `-`, no
/// whitespace or control characters in the section or name; values are one
/// line. Note that some keys make git run programs (`core.sshCommand`,
/// `core.hooksPath`…): a setting is code.
#[property]
pub fn configured(repo: String, settings: BTreeMap<String, String>) -> Result<Change> {
    git::check_path("REPO", &repo)?;
    for (key, value) in &settings {
        check_key(key)?;
        ensure!(
            !value.contains(['\n', '\r', '\0']),
            "the value of {key} {value:?} is not one line"
        );
    }
    let file = config_file(&repo)?;
    let owner = fs::stat(&file)?;
    let mut change = Change::Unchanged;
    for (key, value) in &settings {
        let current = values(&file, key)?;
        if current == [value.as_str()] {
            continue;
        }
        git::change()
            .args(["config", "--file", &file, "--replace-all", "--", key, value])
            .succeed()?;
        info!("{key} = {value} in {file}");
        change = Change::Changed;
    }
    // git replaces the file with one of its own user's: give it back.
    if change == Change::Changed
        && let Some(before) = owner
        && (before.uid, before.gid) != (host::identity().uid, host::identity().gid)
    {
        Command::change(git::CHOWN)
            .args([&format!("{}:{}", before.uid, before.gid), "--", &file])
            .succeed()?;
    }
    Ok(change)
}

/// `section.name` or `section.subsection.name`: the section and name of
/// letters, digits, `-` (and `.` in a section), the subsection anything but
/// a line break.
pub(crate) fn check_key(key: &str) -> Result<()> {
    let word = |s: &str| {
        !s.is_empty()
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let valid = match (key.split_once('.'), key.rsplit_once('.')) {
        (Some((section, _)), Some((middle, name))) => {
            let subsection = middle.strip_prefix(section).unwrap_or_default();
            word(section)
                && word(name)
                && !subsection.contains(['\n', '\r', '\0'])
                && (subsection.is_empty() || subsection.len() > 1)
        }
        _ => false,
    };
    ensure!(
        valid,
        "the key {key:?} is not section.name or section.subsection.name (section and name of \
         letters, digits and `-`, starting with a letter)"
    );
    Ok(())
}

/// The configuration file of the repository at `repo`: `.git/config` of a
/// working copy, `config` of a bare repository.
fn config_file(repo: &str) -> Result<String> {
    match fs::stat(format!("{repo}/.git"))? {
        Some(stat) if stat.is_dir() => return Ok(format!("{repo}/.git/config")),
        Some(_) => bail!("{repo}/.git is not a directory: a linked worktree or submodule"),
        None => {}
    }
    let bare = fs::stat(format!("{repo}/HEAD"))?.is_some_and(|s| s.is_file())
        && fs::stat(format!("{repo}/config"))?.is_some_and(|s| s.is_file());
    ensure!(bare, "{repo} is not a git repository");
    Ok(format!("{repo}/config"))
}

/// Every value of `key` in the file, in order.
fn values(file: &str, key: &str) -> Result<Vec<String>> {
    let command = git::query().args(["config", "--file", file, "--get-all", "--", key]);
    let shown = command.to_string();
    let output = run(command)?;
    match output.exit_code {
        Some(0) => Ok(output.stdout_str().lines().map(str::to_owned).collect()),
        Some(1) => Ok(Vec::new()),
        _ => bail!("{shown}: {}{}", output.status(), output.stderr_suffix()),
    }
}
