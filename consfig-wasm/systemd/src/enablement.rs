//! Whether units start at boot: `systemd:enabled`, `systemd:disabled`,
//! `systemd:masked`. systemctl does these offline where systemd does not
//! run, by editing the symlinks under /etc/systemd.

use consfig_guest::prelude::*;

use crate::manager::Manager;
use crate::names::unit_name;

/// What `systemctl is-enabled` says of a unit: `enabled`, `disabled`,
/// `static`, `masked`, …, or `not-found` (also when systemctl only said so
/// on stderr, as it does offline).
pub(crate) fn state(manager: &Manager, unit: &str) -> Result<String> {
    let output = manager.query("is-enabled", unit)?;
    let state = output
        .stdout_str()
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    if !state.is_empty() {
        return Ok(state);
    }
    let stderr = output.stderr_str();
    if stderr.contains("No such file or directory") || stderr.contains("not found") {
        return Ok("not-found".to_owned());
    }
    bail!(
        "systemctl is-enabled {unit}: {}{}",
        output.status(),
        output.stderr_suffix()
    )
}

/// Whether the manager can be asked, or why not: a user's manager must
/// run; the system's is asked offline too.
fn reachable(manager: &Manager, user: &Option<String>, not_done: &str) -> Result<bool> {
    if user.is_none() {
        return Ok(true);
    }
    manager.runs_or_log(not_done)
}

/// The unit starts at boot: `systemctl enable` (its `[Install]` section's
/// symlinks made).
///
/// NAME as for `systemd:unit`. Option `user`: the unit of that user's
/// manager. Unchanged when `systemctl is-enabled` says `enabled`, or that
/// it cannot be enabled at all (`static`, `generated`, `transient`,
/// `alias`: said in the form's output). Fails for a masked unit or one
/// that does not exist. Works offline, in a chroot or an image being built
/// (the symlinks are made, nothing is started); with `user`, needs the
/// user's manager running, and otherwise does nothing, says so, and is
/// unchanged. Check mode asks `systemctl is-enabled` and predicts exactly.
#[property]
pub fn enabled(name: String, user: Option<String>) -> Result<Change> {
    let unit = unit_name(&name)?;
    let manager = Manager::of(user.clone())?;
    if !reachable(&manager, &user, &format!("{unit} not enabled"))? {
        return Ok(Change::Unchanged);
    }
    match state(&manager, &unit)?.as_str() {
        "enabled" => Ok(Change::Unchanged),
        state @ ("static" | "generated" | "transient" | "alias") => {
            info!("{unit} is {state}: it has nothing to enable");
            Ok(Change::Unchanged)
        }
        "masked" | "masked-runtime" => {
            bail!("{unit} is masked: it cannot be enabled until it is unmasked")
        }
        "not-found" => bail!("{unit}: no such unit for {}", manager.describe()),
        _ => {
            manager.change("enable", &unit)?;
            Ok(Change::Changed)
        }
    }
}

/// The unit does not start at boot: `systemctl disable`.
///
/// NAME and option `user` as for `systemd:enabled`. Unchanged when
/// `systemctl is-enabled` says it is not enabled (`disabled`, `static`,
/// `masked`, `indirect`, …) or there is no such unit. A running unit is
/// not stopped (see `systemd:stopped`). Works offline; with `user`, as for
/// `systemd:enabled`. Check mode asks `systemctl is-enabled` and predicts
/// exactly.
#[property]
pub fn disabled(name: String, user: Option<String>) -> Result<Change> {
    let unit = unit_name(&name)?;
    let manager = Manager::of(user.clone())?;
    if !reachable(&manager, &user, &format!("{unit} not disabled"))? {
        return Ok(Change::Unchanged);
    }
    match state(&manager, &unit)?.as_str() {
        "enabled" | "enabled-runtime" | "linked" | "linked-runtime" => {
            manager.change("disable", &unit)?;
            Ok(Change::Changed)
        }
        _ => Ok(Change::Unchanged),
    }
}

/// The unit is masked (linked to /dev/null): it cannot be started, even as
/// a dependency. `systemctl mask`, which also masks a unit that does not
/// exist yet.
///
/// NAME and option `user` as for `systemd:enabled`. Unchanged when
/// `systemctl is-enabled` says `masked`. A running unit is not stopped.
/// Works offline; with `user`, as for `systemd:enabled`. Check mode asks
/// `systemctl is-enabled` and predicts exactly.
#[property]
pub fn masked(name: String, user: Option<String>) -> Result<Change> {
    let unit = unit_name(&name)?;
    let manager = Manager::of(user.clone())?;
    if !reachable(&manager, &user, &format!("{unit} not masked"))? {
        return Ok(Change::Unchanged);
    }
    if state(&manager, &unit)? == "masked" {
        return Ok(Change::Unchanged);
    }
    manager.change("mask", &unit)?;
    Ok(Change::Changed)
}
