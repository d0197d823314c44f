//! Where a crontab lives: a user's, read with `crontab -l` (a query) and
//! replaced with `crontab -` fed on its standard input, so that cron
//! notices; or a file of `/etc/cron.d`, through the host's file calls.

use consfig_guest::prelude::*;

use crate::table::Table;

pub const CRONTAB: &str = "/usr/bin/crontab";
pub const CRON_D: &str = "/etc/cron.d";

/// A crontab to read and replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// The crontab of a user, or of the user the form runs as.
    User(Option<String>),
    /// A file of `/etc/cron.d`, by its path.
    File(String),
}

impl Store {
    /// What the crontab holds, `None` when the user has none or the file
    /// does not exist.
    pub fn read(&self) -> Result<Option<Table>> {
        match self {
            Store::User(user) => {
                let mut command = Command::query(CRONTAB).arg("-l");
                if let Some(user) = user {
                    command = command.args(["-u", user]);
                }
                let shown = command.to_string();
                let output = run(command)?;
                match output.exit_code {
                    Some(0) => Ok(Some(Table::parse_listing(&output.stdout_str()))),
                    Some(1) if output.stderr_str().contains("no crontab for") => Ok(None),
                    _ => bail!("{shown}: {}{}", output.status(), output.stderr_suffix()),
                }
            }
            Store::File(path) => match fs::stat(path)? {
                Some(stat) if stat.is_file() => Ok(Some(Table::parse(&fs::read_to_string(path)?))),
                Some(stat) => bail!("{path} is a {}, not a file", stat.kind),
                None => Ok(None),
            },
        }
    }

    /// Replace the crontab with `table`. A new cron file gets mode 0644
    /// (cron ignores one others may write); an existing one keeps its mode.
    pub fn write(&self, table: &Table) -> Result<()> {
        match self {
            Store::User(user) => {
                let mut command = Command::change(CRONTAB);
                if let Some(user) = user {
                    command = command.args(["-u", user]);
                }
                command.arg("-").stdin(table.render()).succeed()?;
                Ok(())
            }
            Store::File(path) => {
                let mode = match fs::exists(path)? {
                    true => None,
                    false => Some(Mode::new(0o644)?),
                };
                fs::write(path, table.render(), mode)
            }
        }
    }

    /// Remove the cron file (a user's crontab is only emptied).
    pub fn remove(&self) -> Result<()> {
        match self {
            Store::User(_) => self.write(&Table::parse("")),
            Store::File(path) => fs::remove(path),
        }
    }
}

impl std::fmt::Display for Store {
    /// `the crontab of ada`, `/etc/cron.d/backup`, for messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Store::User(Some(user)) => write!(f, "the crontab of {user}"),
            Store::User(None) => f.write_str("the crontab"),
            Store::File(path) => f.write_str(path),
        }
    }
}
