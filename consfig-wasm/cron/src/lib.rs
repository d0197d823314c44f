//! The `cron` module: jobs and variables of crontabs, as Ansible's `cron`
//! module manages them (marker lines `#Consfig: NAME` before each job), in
//! a user's crontab or a file of `/etc/cron.d`; and a user's whole crontab.
//! The text edits are in [`table`]; reading and writing crontabs in
//! [`store`].

pub mod store;
pub mod table;

use consfig_guest::prelude::*;
use consfig_user::names::check_name;
use serde::{Deserialize, Serialize};

use crate::store::{CRON_D, Store};
use crate::table::Table;

/// Whether the job (or variable) should be there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    #[default]
    Present,
    Absent,
}

/// cron's nicknames for times, `@daily` and the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpecialTime {
    Annually,
    Daily,
    Hourly,
    Monthly,
    Reboot,
    Weekly,
    Yearly,
}

/// `present` or `absent`.
impl consfig_guest::HasSchema for State {
    fn schema() -> consfig_guest::Schema {
        consfig_guest::Schema::String
    }
}

/// A nickname such as `daily`.
impl consfig_guest::HasSchema for SpecialTime {
    fn schema() -> consfig_guest::Schema {
        consfig_guest::Schema::String
    }
}

impl SpecialTime {
    fn word(self) -> &'static str {
        match self {
            SpecialTime::Annually => "annually",
            SpecialTime::Daily => "daily",
            SpecialTime::Hourly => "hourly",
            SpecialTime::Monthly => "monthly",
            SpecialTime::Reboot => "reboot",
            SpecialTime::Weekly => "weekly",
            SpecialTime::Yearly => "yearly",
        }
    }
}

/// One line of text: no newline or other control character but a tab.
fn check_line(what: &str, text: &str) -> Result<()> {
    ensure!(
        !text.chars().any(|c| c.is_control() && c != '\t'),
        "the {what} {text:?} is not a single line (it has a newline or another control character)"
    );
    Ok(())
}

/// A time field: one word, as cron splits fields on blanks.
fn check_field(what: &str, value: &str) -> Result<()> {
    ensure!(
        !value.is_empty() && !value.chars().any(|c| c.is_whitespace() || c.is_control()),
        "the {what} {value:?} is not a cron time field: one word such as `*`, `5`, `*/2` or `1-5`"
    );
    Ok(())
}

/// The file of `/etc/cron.d` named `name`: only letters, digits, `_` and
/// `-` (the names cron reads there; no `/`, `.` or `..`).
fn cron_d_path(name: &str) -> Result<String> {
    ensure!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "the cron-file {name:?} is not the name of a file in {CRON_D}: use letters, digits, \
         `_` and `-` (cron ignores other names there)"
    );
    Ok(format!("{CRON_D}/{name}"))
}

/// Job `name` is in a crontab as the options say, or not there: Ansible's
/// `cron` module, with the marker `#Consfig: NAME` before each job line.
///
/// Options: `job` (the command, one line; `%` is cron's newline: write
/// `\%` for a literal one), `minute`, `hour`, `day`, `month`, `weekday`
/// (each one field, `*` by default) or `special-time` (`annually`,
/// `daily`, `hourly`, `monthly`, `reboot`, `weekly` or `yearly`, for
/// `@daily` and the rest; not with time fields), `disabled` (the job line
/// commented out), `state` (`present`, the default, or `absent`), `user`
/// (whose crontab, by default the one of the user the form runs as) and
/// `cron-file` (instead, the file of that name in `/etc/cron.d`, made with
/// mode 0644; its job lines name `user`, which jobs then require; removing
/// its last line removes the file).
///
/// With `env` true, `name` is a variable and `job` its value: the line
/// `NAME="VALUE"` is set where it is, or put first, or removed when
/// `state` is `absent`.
///
/// A job whose marker is missing but whose line is there is adopted (its
/// marker added). A user's crontab is read with `crontab -l` and replaced
/// with `crontab -`, so cron notices; a cron file through the host's file
/// calls. Unchanged when the crontab already holds it. Check mode reads
/// the crontab and predicts the same.
#[property]
#[allow(clippy::too_many_arguments)]
pub fn job(
    name: String,
    job: Option<String>,
    user: Option<String>,
    #[default = "*"] minute: String,
    #[default = "*"] hour: String,
    #[default = "*"] day: String,
    #[default = "*"] month: String,
    #[default = "*"] weekday: String,
    special_time: Option<SpecialTime>,
    cron_file: Option<String>,
    #[default = false] env: bool,
    #[default = false] disabled: bool,
    #[default = "present"] state: State,
) -> Result<Change> {
    ensure!(!name.is_empty(), "the name is empty");
    check_line("name", &name)?;
    if env {
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        ensure!(
            valid,
            "{name:?} is not an environment variable name: letters, digits and `_`"
        );
    }
    if let Some(job) = &job {
        check_line("job", job)?;
        ensure!(
            !env || !job.contains('"'),
            "the value {job:?} of {name} has a `\"`, which cron cannot read in a variable"
        );
    }
    if let Some(user) = &user {
        check_name("user", user)?;
    }
    let fields = [
        ("minute", &minute),
        ("hour", &hour),
        ("day", &day),
        ("month", &month),
        ("weekday", &weekday),
    ];
    for (what, value) in fields {
        check_field(what, value)?;
    }
    ensure!(
        special_time.is_none() || fields.iter().all(|(_, value)| *value == "*"),
        "give either the time fields (minute, hour, day, month, weekday) or special-time, \
         not both"
    );
    let store = match &cron_file {
        Some(file) => Store::File(cron_d_path(file)?),
        None => Store::User(user.clone()),
    };
    if state == State::Present {
        ensure!(
            job.is_some(),
            "{name}: give `job` ({})",
            match env {
                true => "the variable's value",
                false => "the command",
            }
        );
        ensure!(
            env || cron_file.is_none() || user.is_some(),
            "{name}: a cron-file needs `user`, the user the job runs as"
        );
    }

    let before = store.read()?;
    let mut table = before.clone().unwrap_or_else(|| Table::parse(""));
    match (env, state, job) {
        (true, State::Present, Some(value)) => table.set_env(&name, &format!("{name}=\"{value}\"")),
        (true, _, _) => table.remove_env(&name),
        (false, State::Present, Some(command)) => {
            let when = match special_time {
                Some(special) => format!("@{}", special.word()),
                None => fields.map(|(_, value)| value.as_str()).join(" "),
            };
            let prefix = if disabled { "#" } else { "" };
            let line = match (&cron_file, &user) {
                (Some(_), Some(user)) => format!("{prefix}{when} {user} {command}"),
                _ => format!("{prefix}{when} {command}"),
            };
            table.set_job(&name, &line);
        }
        (false, _, _) => table.remove_job(&name),
    }
    let unchanged = match &before {
        Some(before) => before.render() == table.render(),
        None => table.is_empty(),
    };
    if unchanged {
        return Ok(Change::Unchanged);
    }
    let what = if env { "variable" } else { "job" };
    if state == State::Absent && cron_file.is_some() && table.is_empty() {
        store.remove()?;
        info!("removed {store}: its last {what} {name} was removed");
    } else {
        store.write(&table)?;
        match state {
            State::Present => info!("{store}: set the {what} {name}"),
            State::Absent => info!("{store}: removed the {what} {name}"),
        }
    }
    Ok(Change::Changed)
}

/// The whole crontab of `user` is `lines` (each one line, without its
/// newline), replaced with `crontab -u USER -`; an empty list empties it.
///
/// Unchanged when `crontab -l` shows these lines already (a missing
/// crontab is the same as an empty one). Check mode reads it and predicts
/// the same.
#[property]
pub fn user_crontab(user: String, lines: Vec<String>) -> Result<Change> {
    check_name("user", &user)?;
    for line in &lines {
        check_line("line", line)?;
    }
    let wanted = Table::parse(&lines.iter().map(|l| format!("{l}\n")).collect::<String>());
    let store = Store::User(Some(user));
    let unchanged = match store.read()? {
        Some(before) => before == wanted,
        None => lines.is_empty(),
    };
    if unchanged {
        return Ok(Change::Unchanged);
    }
    store.write(&wanted)?;
    info!("replaced {store} ({} lines)", lines.len());
    Ok(Change::Changed)
}

consfig_guest::module! {
    name: "cron",
    export: false,
    needs: [
        "command:/usr/bin/crontab -l",
        "command:/usr/bin/crontab -l -u *",
        "command:/usr/bin/crontab -",
        "command:/usr/bin/crontab -u * -",
        "write:/etc/cron.d",
    ],
    doc: "Cron jobs and variables (Ansible's `cron`), in users' crontabs or /etc/cron.d; \
          whole crontabs.",
    properties: [job, user_crontab],
}

#[cfg(test)]
mod tests;
