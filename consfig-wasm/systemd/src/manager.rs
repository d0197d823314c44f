//! systemctl, for the system manager or a user's, and whether that
//! manager runs in the tree this form changes.

use consfig_guest::prelude::*;

use crate::names::check_user;

pub const SYSTEMCTL: &str = "/usr/bin/systemctl";

/// The directory systemd makes when it boots the system (`sd_booted`).
const SYSTEMD_RUNNING: &str = "/run/systemd/system";

/// The system's manager, or a user's (`systemctl --user --machine=USER@.host`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    user: Option<String>,
}

impl Manager {
    /// The manager of `user`, or the system's; the name is checked.
    pub fn of(user: Option<String>) -> Result<Self> {
        if let Some(user) = &user {
            check_user(user)?;
        }
        Ok(Manager { user })
    }

    /// `systemd`, or `ada's systemd user manager`, for messages.
    pub fn describe(&self) -> String {
        match &self.user {
            None => "systemd".to_owned(),
            Some(user) => format!("{user}'s systemd user manager"),
        }
    }

    fn command(&self, query: bool) -> Command {
        let command = if query {
            Command::query(SYSTEMCTL)
        } else {
            Command::change(SYSTEMCTL)
        };
        match &self.user {
            None => command,
            Some(user) => command.args(["--user".to_owned(), format!("--machine={user}@.host")]),
        }
    }

    /// `systemctl VERB -- UNIT`, a query: its output, however it ended.
    pub fn query(&self, verb: &str, unit: &str) -> Result<Output> {
        run(self.command(true).args([verb, "--", unit]))
    }

    /// `systemctl VERB -- UNIT`, a change that must succeed.
    pub fn change(&self, verb: &str, unit: &str) -> Result<Output> {
        self.command(false).args([verb, "--", unit]).succeed()
    }

    /// `systemctl daemon-reload`.
    pub fn daemon_reload(&self) -> Result<Output> {
        self.command(false).arg("daemon-reload").succeed()
    }

    /// Why the manager cannot act now, if it cannot: systemd did not boot
    /// this tree (a chroot, or a system booted otherwise), or the user's
    /// manager does not run.
    pub fn not_running(&self) -> Result<Option<String>> {
        if host::in_chroot() {
            return Ok(Some(
                "this is a chroot: systemd does not run in it".to_owned(),
            ));
        }
        if !fs::stat(SYSTEMD_RUNNING)?.is_some_and(|stat| stat.is_dir()) {
            return Ok(Some(format!(
                "systemd does not run here ({SYSTEMD_RUNNING} is missing: not booted with systemd)"
            )));
        }
        let Some(user) = &self.user else {
            return Ok(None);
        };
        let Some(account) = host::lookup_user(user)? else {
            bail!("user: there is no user {user}");
        };
        let private = format!("/run/user/{}/systemd/private", account.uid);
        if fs::stat(&private)?.is_none() {
            return Ok(Some(format!(
                "{user}'s systemd user manager does not run ({private} is missing: \
                 they are not logged in and not lingering, see loginctl enable-linger)"
            )));
        }
        Ok(None)
    }

    /// Whether the manager runs; when not, log why and what was not done.
    pub fn runs_or_log(&self, not_done: &str) -> Result<bool> {
        match self.not_running()? {
            None => Ok(true),
            Some(why) => {
                info!("{not_done}: {why}");
                Ok(false)
            }
        }
    }
}
