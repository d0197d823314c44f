//! The `systemd` module: unit files, and the units' states — enabled,
//! disabled, masked, started, stopped, restarted, reloaded — through
//! `systemctl`, for the system or, with option `user`, a user's manager.
//!
//! Every property looks first with queries check mode runs too
//! (`systemctl is-enabled`, `is-active`, file reads), so `--check` predicts
//! exactly; `restarted`, `reloaded` and `daemon-reloaded` always act, and
//! always report a change. In a tree where systemd does not run (a chroot,
//! an image being built, a system not booted with systemd), `enabled`,
//! `disabled` and `masked` work offline (systemctl edits the symlinks),
//! `unit` writes the file without reloading, and the properties that would
//! start, stop or reload something do nothing, say why in the form's
//! output, and are unchanged: they never fail the deploy there.
//!
//! User instances (`{"user": "ada"}`) go through
//! `systemctl --user --machine=ada@.host`, which needs the user's manager
//! running (the user logged in, or lingering: `loginctl enable-linger
//! ada`) and reachable on the user's D-Bus (the `dbus-user-session`
//! package); when the manager does not run, the properties do nothing, say
//! so, and are unchanged. Each concern has its file: [`names`] (unit and user names),
//! [`manager`] (systemctl, and whether a manager runs), [`unit`] (unit
//! files), [`enablement`] (enabled, disabled, masked), [`activity`]
//! (started, stopped, restarted, reloaded, daemon-reloaded) and [`linger`]
//! (lingering-enabled: a user's manager running without a session).

pub mod activity;
pub mod enablement;
pub mod linger;
pub mod manager;
pub mod names;
pub mod unit;

consfig_guest::module! {
    name: "systemd",
    export: false,
    needs: [
        "command:/usr/bin/systemctl is-enabled -- *",
        "command:/usr/bin/systemctl is-active -- *",
        "command:/usr/bin/systemctl enable -- *",
        "command:/usr/bin/systemctl disable -- *",
        "command:/usr/bin/systemctl mask -- *",
        "command:/usr/bin/systemctl start -- *",
        "command:/usr/bin/systemctl stop -- *",
        "command:/usr/bin/systemctl restart -- *",
        "command:/usr/bin/systemctl reload -- *",
        "command:/usr/bin/systemctl daemon-reload",
        "command:/usr/bin/systemctl --user --machine=*@.host is-enabled -- *",
        "command:/usr/bin/systemctl --user --machine=*@.host is-active -- *",
        "command:/usr/bin/systemctl --user --machine=*@.host enable -- *",
        "command:/usr/bin/systemctl --user --machine=*@.host disable -- *",
        "command:/usr/bin/systemctl --user --machine=*@.host mask -- *",
        "command:/usr/bin/systemctl --user --machine=*@.host start -- *",
        "command:/usr/bin/systemctl --user --machine=*@.host stop -- *",
        "command:/usr/bin/systemctl --user --machine=*@.host restart -- *",
        "command:/usr/bin/systemctl --user --machine=*@.host reload -- *",
        "command:/usr/bin/systemctl --user --machine=*@.host daemon-reload",
        "command:/usr/bin/loginctl enable-linger -- *",
        "write:/etc/systemd/system",
        // logind's linger directory, made where it is missing.
        "write:/var/lib/systemd/linger",
        "read:/run/systemd/system",
        "read:/run/user",
    ],
    doc: "systemd units: unit files, enabled, disabled, masked (offline too, in a chroot or an image), started, stopped, restarted, reloaded (nothing started where systemd does not run); for the system, or with option `user` a user's manager (`systemctl --user --machine=USER@.host`: the user's manager must run, lingering or logged in, with dbus-user-session); users' managers lingering, running without a session (offline too).",
    properties: [
        unit::unit,
        enablement::enabled,
        enablement::disabled,
        enablement::masked,
        activity::started,
        activity::stopped,
        activity::restarted,
        activity::reloaded,
        activity::daemon_reloaded,
        linger::lingering_enabled,
    ],
}

#[cfg(test)]
mod tests;
