//! What runs now: `systemd:started`, `systemd:stopped`,
//! `systemd:restarted`, `systemd:reloaded`, `systemd:daemon-reloaded`.
//! Where the manager does not run (a chroot, an image being built), each
//! does nothing, says why, and is unchanged: nothing is started there, and
//! the deploy goes on.

use consfig_guest::prelude::*;

use crate::enablement::state;
use crate::manager::Manager;
use crate::names::unit_name;

/// What `systemctl is-active` says: `active`, `inactive`, `failed`,
/// `activating`, `deactivating`, `reloading`, …
fn activity(manager: &Manager, unit: &str) -> Result<String> {
    let output = manager.query("is-active", unit)?;
    let state = output
        .stdout_str()
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    ensure!(
        !state.is_empty(),
        "systemctl is-active {unit}: {}{}",
        output.status(),
        output.stderr_suffix()
    );
    Ok(state)
}

/// The unit runs: `systemctl start` when `systemctl is-active` says it is
/// not active (nor activating or reloading).
///
/// NAME as for `systemd:unit`; option `user`: the unit of that user's
/// manager. Unchanged when it is active. A unit that does not exist fails
/// (`systemctl is-enabled` says `not-found`), before anything is started —
/// in check mode too, where a unit a skipped package installation would
/// have brought makes the form unknown rather than a wrong prediction.
/// Where systemd does not run (a chroot, a tree not booted with systemd)
/// or the user's manager does not, nothing is started: the form's output
/// says why, and it is unchanged. Check mode asks `systemctl is-active`
/// (and `is-enabled`) and predicts exactly.
#[property]
pub fn started(name: String, user: Option<String>) -> Result<Change> {
    let unit = unit_name(&name)?;
    let manager = Manager::of(user)?;
    if !manager.runs_or_log(&format!("{unit} not started"))? {
        return Ok(Change::Unchanged);
    }
    match activity(&manager, &unit)?.as_str() {
        "active" | "activating" | "reloading" => Ok(Change::Unchanged),
        _ => {
            if state(&manager, &unit)? == "not-found" {
                bail!("{unit}: no such unit for {}", manager.describe());
            }
            manager.change("start", &unit)?;
            Ok(Change::Changed)
        }
    }
}

/// The unit does not run: `systemctl stop` when `systemctl is-active` says
/// it is active (or activating, reloading, deactivating).
///
/// NAME and option `user` as for `systemd:started`. Unchanged when it is
/// inactive or failed, or does not exist. Where the manager does not run,
/// nothing runs to stop: unchanged, and the form's output says so. Check
/// mode asks `systemctl is-active` and predicts exactly.
#[property]
pub fn stopped(name: String, user: Option<String>) -> Result<Change> {
    let unit = unit_name(&name)?;
    let manager = Manager::of(user)?;
    if !manager.runs_or_log(&format!("{unit} not stopped"))? {
        return Ok(Change::Unchanged);
    }
    match activity(&manager, &unit)?.as_str() {
        "active" | "activating" | "reloading" | "deactivating" | "refreshing" => {
            manager.change("stop", &unit)?;
            Ok(Change::Changed)
        }
        _ => Ok(Change::Unchanged),
    }
}

/// The unit has just been restarted: `systemctl restart` (which starts it
/// if it was not running). Always changed where the manager runs — there is
/// nothing to look at first; check mode reports it would change. Use it
/// after a change that needs it (`consfig:on-change`). NAME and option
/// `user` as for `systemd:started`; where the manager does not run, nothing
/// is restarted: unchanged, and the form's output says why.
#[property]
pub fn restarted(name: String, user: Option<String>) -> Result<Change> {
    always(&name, user, "restart", "restarted")
}

/// `systemctl VERB` of the unit NAME, with nothing to look at first:
/// changed where the manager runs; elsewhere nothing is done (`done`, said
/// in the form's output) and it is unchanged.
fn always(name: &str, user: Option<String>, verb: &str, done: &str) -> Result<Change> {
    let unit = unit_name(name)?;
    let manager = Manager::of(user)?;
    if !manager.runs_or_log(&format!("{unit} not {done}"))? {
        return Ok(Change::Unchanged);
    }
    manager.change(verb, &unit)?;
    Ok(Change::Changed)
}

/// The unit has just reloaded its configuration: `systemctl reload` (which
/// fails for a unit that is not running or cannot reload). Always changed
/// where the manager runs; check mode reports it would change. NAME and
/// option `user` as for `systemd:started`; where the manager does not run,
/// nothing is reloaded: unchanged, and the form's output says why.
#[property]
pub fn reloaded(name: String, user: Option<String>) -> Result<Change> {
    always(&name, user, "reload", "reloaded")
}

/// The manager has just reread every unit file: `systemctl daemon-reload`.
/// Always changed where the manager runs; check mode reports it would
/// change. Option `user`: that user's manager. Where the manager does not
/// run, there is nothing to reload (it reads the files when it starts):
/// unchanged, and the form's output says so.
#[property]
pub fn daemon_reloaded(user: Option<String>) -> Result<Change> {
    let manager = Manager::of(user)?;
    if !manager.runs_or_log("not reloading the unit files")? {
        return Ok(Change::Unchanged);
    }
    manager.daemon_reload()?;
    Ok(Change::Changed)
}
