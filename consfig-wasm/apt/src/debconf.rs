//! Debconf answers of an installed package: `apt:reconfigured`.

use std::collections::BTreeMap;

use consfig_guest::prelude::*;

use crate::apt_get::{parsed, without_services};
use crate::names::{check_package, is_word};
use crate::packages::status;

const DEBCONF_SHOW: &str = "/usr/bin/debconf-show";
const DEBCONF_SET_SELECTIONS: &str = "/usr/bin/debconf-set-selections";
const DPKG_RECONFIGURE: &str = "/usr/sbin/dpkg-reconfigure";
/// Where debconf keeps the answers to `password` questions (root only),
/// which `debconf-show` does not show.
const PASSWORDS: &str = "/var/cache/debconf/passwords.dat";

/// The types of debconf questions (debconf-devel(7)).
const TYPES: [&str; 9] = [
    "string",
    "password",
    "boolean",
    "select",
    "multiselect",
    "note",
    "text",
    "title",
    "error",
];

/// A debconf question's name: `package/question`, no spaces.
fn check_question(question: &str) -> Result<()> {
    ensure!(
        is_word(question)
            && question.contains('/')
            && question
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_.+:-".contains(c))
            && !question.starts_with(['-', '/']),
        "{question:?} is not a debconf question (such as tzdata/Areas): letters, digits, \
         `/`, `_`, `.`, `+`, `:` and `-`"
    );
    Ok(())
}

/// The current answers of `package`'s questions, as `debconf-show` shows
/// them (`* question: value`, `*` when seen).
fn current(package: &str) -> Result<BTreeMap<String, String>> {
    let output = parsed(Command::query(DEBCONF_SHOW).arg(package))?;
    let mut answers = BTreeMap::new();
    for line in output.stdout_str().lines() {
        let line = line.strip_prefix('*').unwrap_or(line).trim_start();
        if let Some((question, value)) = line.split_once(':') {
            let value = value.strip_prefix(' ').unwrap_or(value);
            answers.insert(question.to_owned(), value.to_owned());
        }
    }
    Ok(answers)
}

/// The value of password `question` in debconf's password database, if set.
fn password(question: &str) -> Result<Option<String>> {
    if fs::stat(PASSWORDS)?.is_none() {
        return Ok(None);
    }
    let text = fs::read_to_string(PASSWORDS)?;
    for stanza in text.split("\n\n") {
        let mut name = None;
        let mut value = None;
        for line in stanza.lines() {
            if let Some(rest) = line.strip_prefix("Name: ") {
                name = Some(rest);
            } else if let Some(rest) = line.strip_prefix("Value: ") {
                value = Some(rest);
            }
        }
        if name == Some(question) {
            return Ok(value.map(str::to_owned));
        }
    }
    Ok(None)
}

/// The installed PACKAGE's debconf questions have these answers: each
/// setting a `[QUESTION, TYPE, VALUE]` triple, as `debconf-set-selections`
/// takes them (`["tzdata", [["tzdata/Areas", "select", "Europe"]]]`). TYPE
/// is one of string, password, boolean, select, multiselect, note, text,
/// title, error; VALUE one line.
///
/// The current answers are read with `debconf-show PACKAGE` (passwords from
/// debconf's password database); unchanged when every one already has its
/// value. Otherwise the differing answers are given to
/// `debconf-set-selections`, then `dpkg-reconfigure --frontend
/// noninteractive PACKAGE` applies them (no service started where systemd
/// does not run). Questions must be the package's own (those debconf-show
/// lists); a package that rewrites its answers from its own configuration
/// files when reconfigured (tzdata reads /etc/timezone) needs those files
/// set too. Fails when the package is not installed. Check mode runs the
/// queries and predicts exactly.
#[property]
pub fn reconfigured(package: String, settings: Vec<(String, String, String)>) -> Result<Change> {
    check_package(&package)?;
    for (question, kind, value) in &settings {
        check_question(question)?;
        ensure!(
            TYPES.contains(&kind.as_str()),
            "{question}: {kind:?} is not a debconf type ({})",
            TYPES.join(", ")
        );
        ensure!(
            !value
                .chars()
                .any(|c| c == '\n' || c == '\r' || c.is_control() && c != '\t'),
            "{question}: the value holds a newline or control character: it must be one line"
        );
    }
    if settings.is_empty() {
        return Ok(Change::Unchanged);
    }
    ensure!(
        status(&package)?.installed(),
        "{package} is not installed: install it first (apt:installed) to reconfigure it"
    );
    let answers = current(&package)?;
    let mut selections = String::new();
    let mut differing = Vec::new();
    for (question, kind, value) in &settings {
        let now = if kind == "password" {
            password(question)?
        } else {
            answers.get(question).cloned()
        };
        if now.as_deref() != Some(value.as_str()) {
            selections.push_str(&format!("{package} {question} {kind} {value}\n"));
            differing.push(question.as_str());
        }
    }
    if differing.is_empty() {
        return Ok(Change::Unchanged);
    }
    Command::change(DEBCONF_SET_SELECTIONS)
        .stdin(selections)
        .succeed()?;
    without_services(|| {
        Command::change(DPKG_RECONFIGURE)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["--frontend", "noninteractive", &package])
            .succeed()
    })?;
    info!("reconfigured {package}: {}", differing.join(", "));
    Ok(Change::Changed)
}
