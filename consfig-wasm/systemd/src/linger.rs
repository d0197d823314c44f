//! Users' managers that run without a session: `systemd:lingering-enabled`
//! (Consfigurator's property of that name), through `loginctl` where
//! systemd runs, and offline elsewhere through the file logind keeps.

use consfig_guest::prelude::*;

use crate::manager::Manager;
use crate::names::check_user;

pub const LOGINCTL: &str = "/usr/bin/loginctl";

/// Where logind records the users who linger, a file named after each.
pub const LINGER_DIR: &str = "/var/lib/systemd/linger";

/// The user's systemd instance runs from boot and keeps running without a
/// session (lingering): what `loginctl enable-linger USER` turns on, and
/// what `systemd:enabled` and the other properties need for a user's units
/// (`{"user": USER}`) when the user is not logged in.
///
/// USER: a user name (lowercase letters, digits, `_` and `-`), so never a
/// path or an option. Where systemd runs, `loginctl enable-linger -- USER`,
/// which starts the user's manager now (and fails for an unknown user);
/// in a tree where systemd does not run (a chroot, an image being built)
/// the file logind reads at boot, /var/lib/systemd/linger/USER (empty,
/// mode 0644), is made, and the directory with it when missing — the
/// manager starts when the system boots. An account not in the tree's
/// /etc/passwd yet is mentioned in the form's output there, not refused:
/// logind reads the file once the account exists. Unchanged when that file
/// exists. Check mode reads it and predicts exactly.
#[property]
pub fn lingering_enabled(user: String) -> Result<Change> {
    check_user(&user)?;
    let path = format!("{LINGER_DIR}/{user}");
    match fs::stat(&path)? {
        Some(stat) if stat.is_file() => return Ok(Change::Unchanged),
        Some(stat) => bail!("{path} is a {}, not the file logind makes", stat.kind),
        None => {}
    }
    match Manager::of(None)?.not_running()? {
        None => {
            Command::change(LOGINCTL)
                .args(["enable-linger", "--", &user])
                .succeed()?;
            info!("{user} lingers: their systemd user manager runs without a session");
        }
        Some(why) => {
            if host::lookup_user(&user)?.is_none() {
                info!(
                    "there is no user {user} in /etc/passwd yet: {path} takes effect once there is"
                );
            }
            // Nobody lingers yet where logind has not made its directory.
            if fs::stat(LINGER_DIR)?.is_none() {
                fs::mkdir(LINGER_DIR, Some(Mode::new(0o755)?))?;
            }
            fs::write(&path, "", Some(Mode::new(0o644)?))?;
            info!("made {path}: {user}'s systemd user manager starts at boot ({why})");
        }
    }
    Ok(Change::Changed)
}
