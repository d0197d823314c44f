//! The systemd module's properties on a fake host: every property and the
//! `user` option, the unchanged second run, check mode, trees where
//! systemd does not run, and names that must be refused before any command.

use consfig_guest::prelude::*;
use consfig_guest::testing::FakeHost;

use crate::MODULE;
use crate::activity::{daemon_reloaded, reloaded, restarted, started, stopped};
use crate::enablement::{disabled, enabled, masked};
use crate::linger::{LINGER_DIR, lingering_enabled};
use crate::unit::unit;

use consfig_guest::testing::failure;

fn systemctl(args: &[&str]) -> Vec<String> {
    let mut argv = vec!["/usr/bin/systemctl".to_owned()];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    argv
}

fn as_ada(args: &[&str]) -> Vec<String> {
    let mut all = vec!["--user", "--machine=ada@.host"];
    all.extend_from_slice(args);
    systemctl(&all)
}

/// A booted system: systemd runs.
fn booted() -> FakeHost {
    FakeHost::new()
        .dir("/run/systemd/system")
        .dir("/etc/systemd/system")
}

/// A tree systemd did not boot (an image being built).
fn unbooted() -> FakeHost {
    FakeHost::new().dir("/etc/systemd/system")
}

fn failing(code: i32, stdout: &str, stderr: &str) -> Output {
    Output {
        exit_code: Some(code),
        stdout: stdout.as_bytes().to_vec(),
        stderr: stderr.as_bytes().to_vec(),
    }
}

const UNIT: &str =
    "[Service]\nExecStart=/usr/local/bin/app\n\n[Install]\nWantedBy=multi-user.target\n";

// systemd:unit

#[test]
fn unit_writes_the_file_and_reloads_systemd_once() {
    let host = booted().command(systemctl(&["daemon-reload"]), 0, "");
    assert_eq!(
        host.apply(|| unit("app".into(), UNIT.into())),
        Ok(Change::Changed)
    );
    assert_eq!(host.text("/etc/systemd/system/app.service").unwrap(), UNIT);
    assert_eq!(
        host.stat("/etc/systemd/system/app.service")
            .unwrap()
            .mode
            .bits(),
        0o644
    );
    assert_eq!(host.commands_run(), [systemctl(&["daemon-reload"])]);
    assert_eq!(
        host.apply(|| unit("app.service".into(), UNIT.into())),
        Ok(Change::Unchanged)
    );
    assert_eq!(host.commands_run().len(), 1);
    // New content: written and reloaded again.
    assert_eq!(
        host.apply(|| unit("app.service".into(), "[Service]\n".into())),
        Ok(Change::Changed)
    );
    assert_eq!(host.commands_run().len(), 2);
}

#[test]
fn unit_in_a_tree_without_systemd_is_written_without_reloading() {
    for host in [unbooted(), booted().in_chroot(true), FakeHost::new()] {
        assert_eq!(
            host.apply(|| unit("backup.timer".into(), "[Timer]\n".into())),
            Ok(Change::Changed)
        );
        assert!(host.exists("/etc/systemd/system/backup.timer"));
        assert!(host.commands().is_empty());
        assert!(
            host.logged()[1].starts_with("info: not reloading systemd: "),
            "{:?}",
            host.logged()
        );
    }
}

#[test]
fn unit_in_check_mode_writes_to_the_overlay_and_skips_the_reload() {
    let host = booted().check_mode();
    assert_eq!(
        host.apply(|| unit("app".into(), UNIT.into())),
        Ok(Change::Changed)
    );
    assert_eq!(host.commands_skipped(), [systemctl(&["daemon-reload"])]);
}

#[test]
fn unit_names_that_are_paths_or_options_are_refused() {
    let host = booted();
    for name in [
        "../../etc/cron.d/x",
        "a/b.service",
        "..",
        "-x",
        "--root=/tmp",
        ".service",
        "a b",
        "x\n",
    ] {
        assert!(
            failure(host.apply(|| unit(name.into(), UNIT.into()))).contains("is not a unit name"),
            "{name:?}"
        );
        assert!(host.apply(|| enabled(name.into(), None)).is_err());
        assert!(host.apply(|| started(name.into(), None)).is_err());
        assert!(host.apply(|| masked(name.into(), None)).is_err());
    }
    let directory = booted().dir("/etc/systemd/system/app.service");
    assert_eq!(
        failure(directory.apply(|| unit("app".into(), UNIT.into()))),
        "/etc/systemd/system/app.service is a directory, not a file: not replacing it"
    );
    assert!(host.commands().is_empty() && host.file_changes().is_empty());
}

// systemd:enabled, disabled, masked

#[test]
fn enabled_enables_only_what_is_not() {
    let host = booted()
        .command_output(
            systemctl(&["is-enabled", "--", "app.service"]),
            failing(1, "disabled\n", ""),
        )
        .command(systemctl(&["enable", "--", "app.service"]), 0, "")
        .command(
            systemctl(&["is-enabled", "--", "app.service"]),
            0,
            "enabled\n",
        );
    assert_eq!(
        host.apply(|| enabled("app".into(), None)),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.apply(|| enabled("app".into(), None)),
        Ok(Change::Unchanged)
    );
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn enabled_works_offline_in_a_chroot() {
    let host = unbooted()
        .in_chroot(true)
        .command_output(
            systemctl(&["is-enabled", "--", "app.service"]),
            failing(1, "disabled\n", ""),
        )
        .command(
            systemctl(&["enable", "--", "app.service"]),
            0,
            "Created symlink ...\n",
        );
    assert_eq!(
        host.apply(|| enabled("app.service".into(), None)),
        Ok(Change::Changed)
    );
}

#[test]
fn enabled_says_what_cannot_be_enabled() {
    let host = booted().command(
        systemctl(&["is-enabled", "--", "apt-daily.service"]),
        0,
        "static\n",
    );
    assert_eq!(
        host.apply(|| enabled("apt-daily".into(), None)),
        Ok(Change::Unchanged)
    );
    assert_eq!(
        host.logged(),
        ["info: apt-daily.service is static: it has nothing to enable"]
    );
    let host = booted().command_output(
        systemctl(&["is-enabled", "--", "x.service"]),
        failing(1, "masked\n", ""),
    );
    assert_eq!(
        failure(host.apply(|| enabled("x".into(), None))),
        "x.service is masked: it cannot be enabled until it is unmasked"
    );
    let host = booted().command_output(
        systemctl(&["is-enabled", "--", "nosuch.service"]),
        failing(
            1,
            "",
            "Failed to get unit file state for nosuch.service: No such file or directory\n",
        ),
    );
    assert_eq!(
        failure(host.apply(|| enabled("nosuch".into(), None))),
        "nosuch.service: no such unit for systemd"
    );
    let host = booted().command_output(
        systemctl(&["is-enabled", "--", "x.service"]),
        failing(1, "", "Failed to connect to bus: Permission denied\n"),
    );
    assert_eq!(
        failure(host.apply(|| enabled("x".into(), None))),
        "systemctl is-enabled x.service: exit code 1: Failed to connect to bus: Permission denied"
    );
}

#[test]
fn enabled_in_check_mode_asks_and_skips() {
    let host = booted().check_mode().command_output(
        systemctl(&["is-enabled", "--", "app.service"]),
        failing(1, "disabled\n", ""),
    );
    assert_eq!(
        host.apply(|| enabled("app".into(), None)),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.commands_skipped(),
        [systemctl(&["enable", "--", "app.service"])]
    );
}

#[test]
fn disabled_and_masked() {
    let host = unbooted()
        .command(
            systemctl(&["is-enabled", "--", "cron.service"]),
            0,
            "enabled\n",
        )
        .command(systemctl(&["disable", "--", "cron.service"]), 0, "")
        .command_output(
            systemctl(&["is-enabled", "--", "cron.service"]),
            failing(1, "disabled\n", ""),
        )
        .command_output(
            systemctl(&["is-enabled", "--", "cron.service"]),
            failing(1, "disabled\n", ""),
        )
        .command(systemctl(&["mask", "--", "cron.service"]), 0, "")
        .command_output(
            systemctl(&["is-enabled", "--", "cron.service"]),
            failing(1, "masked\n", ""),
        );
    assert_eq!(
        host.apply(|| disabled("cron".into(), None)),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.apply(|| disabled("cron".into(), None)),
        Ok(Change::Unchanged)
    );
    assert_eq!(
        host.apply(|| masked("cron".into(), None)),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.apply(|| masked("cron".into(), None)),
        Ok(Change::Unchanged)
    );
    assert_eq!(
        host.apply(|| disabled("cron".into(), None)),
        Ok(Change::Unchanged)
    );
    assert!(host.commands_not_run().is_empty());
    // Nothing to disable: no such unit.
    let host = booted().command_output(
        systemctl(&["is-enabled", "--", "nosuch.service"]),
        failing(
            1,
            "",
            "Failed to get unit file state for nosuch.service: No such file or directory\n",
        ),
    );
    assert_eq!(
        host.apply(|| disabled("nosuch".into(), None)),
        Ok(Change::Unchanged)
    );
    // Masking a unit that does not exist yet.
    let host = host.command(systemctl(&["mask", "--", "nosuch.service"]), 0, "");
    assert_eq!(
        host.apply(|| masked("nosuch".into(), None)),
        Ok(Change::Changed)
    );
}

// The `user` option.

/// A booted system where ada's user manager runs.
fn ada_logged_in() -> FakeHost {
    booted()
        .user("ada", 1000, 1000)
        .file("/run/user/1000/systemd/private", "")
}

#[test]
fn user_units_go_to_the_users_manager() {
    let host = ada_logged_in()
        .module(&MODULE)
        .command_output(
            as_ada(&["is-enabled", "--", "sync.timer"]),
            failing(1, "disabled\n", ""),
        )
        .command(as_ada(&["enable", "--", "sync.timer"]), 0, "")
        .command(as_ada(&["is-active", "--", "sync.timer"]), 3, "inactive\n")
        .command(as_ada(&["start", "--", "sync.timer"]), 0, "")
        .command(as_ada(&["daemon-reload"]), 0, "");
    let form = |json: &str| json.parse::<Form>().unwrap();
    assert_eq!(
        host.apply_form(&form(
            r#"["systemd:enabled", "sync.timer", {"user": "ada"}]"#
        )),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.apply_form(&form(
            r#"["systemd:started", "sync.timer", {"user": "ada"}]"#
        )),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.apply_form(&form(r#"["systemd:daemon-reloaded", {"user": "ada"}]"#)),
        Ok(Change::Changed)
    );
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn a_user_manager_that_does_not_run_is_reported_not_failed() {
    let host = booted().user("ada", 1000, 1000);
    for change in [
        host.apply(|| enabled("sync.timer".into(), Some("ada".into()))),
        host.apply(|| started("sync.timer".into(), Some("ada".into()))),
        host.apply(|| restarted("sync.timer".into(), Some("ada".into()))),
    ] {
        assert_eq!(change, Ok(Change::Unchanged));
    }
    assert!(host.commands().is_empty());
    assert!(host.logged()[0].starts_with(
        "info: sync.timer not enabled: ada's systemd user manager does not run (/run/user/1000/systemd/private is missing"
    ));
    assert_eq!(
        failure(host.apply(|| started("x".into(), Some("bob".into())))),
        "user: there is no user bob"
    );
    for bad in ["-M", "ada@evil", "root@.host --system", "Ada", ""] {
        assert!(
            failure(host.apply(|| started("x".into(), Some(bad.into())))).starts_with("user: "),
            "{bad:?}"
        );
    }
}

// systemd:started, stopped, restarted, reloaded, daemon-reloaded

#[test]
fn started_and_stopped_follow_is_active() {
    let host = booted()
        .command(
            systemctl(&["is-active", "--", "nginx.service"]),
            3,
            "inactive\n",
        )
        .command(
            systemctl(&["is-enabled", "--", "nginx.service"]),
            0,
            "enabled\n",
        )
        .command(systemctl(&["start", "--", "nginx.service"]), 0, "")
        .command(
            systemctl(&["is-active", "--", "nginx.service"]),
            0,
            "active\n",
        )
        .command(
            systemctl(&["is-active", "--", "nginx.service"]),
            0,
            "active\n",
        )
        .command(systemctl(&["stop", "--", "nginx.service"]), 0, "")
        .command(
            systemctl(&["is-active", "--", "nginx.service"]),
            3,
            "failed\n",
        );
    assert_eq!(
        host.apply(|| started("nginx".into(), None)),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.apply(|| started("nginx".into(), None)),
        Ok(Change::Unchanged)
    );
    assert_eq!(
        host.apply(|| stopped("nginx".into(), None)),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.apply(|| stopped("nginx".into(), None)),
        Ok(Change::Unchanged)
    );
    assert!(host.commands_not_run().is_empty());
    let broken = booted().command_output(
        systemctl(&["is-active", "--", "nginx.service"]),
        failing(1, "", "Failed to connect to bus\n"),
    );
    assert_eq!(
        failure(broken.apply(|| started("nginx".into(), None))),
        "systemctl is-active nginx.service: exit code 1: Failed to connect to bus"
    );
}

#[test]
fn a_unit_that_does_not_exist_is_not_started_and_fails() {
    let host = booted()
        .command(
            systemctl(&["is-active", "--", "nginx.service"]),
            3,
            "inactive\n",
        )
        .command_output(
            systemctl(&["is-enabled", "--", "nginx.service"]),
            failing(
                1,
                "",
                "Failed to get unit file state for nginx.service: No such file or directory\n",
            ),
        );
    assert_eq!(
        failure(host.apply(|| started("nginx".into(), None))),
        "nginx.service: no such unit for systemd"
    );
    assert!(
        host.commands_run()
            .iter()
            .all(|c| !c.contains(&"start".to_owned()))
    );
}

#[test]
fn restarted_reloaded_and_daemon_reloaded_always_change() {
    let host = booted()
        .command(systemctl(&["restart", "--", "nginx.service"]), 0, "")
        .command(systemctl(&["reload", "--", "nginx.service"]), 0, "")
        .command(systemctl(&["daemon-reload"]), 0, "");
    for _ in 0..2 {
        assert_eq!(
            host.apply(|| restarted("nginx".into(), None)),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.apply(|| reloaded("nginx".into(), None)),
            Ok(Change::Changed)
        );
        assert_eq!(host.apply(|| daemon_reloaded(None)), Ok(Change::Changed));
    }
    let check = booted().check_mode();
    assert_eq!(
        check.apply(|| restarted("nginx".into(), None)),
        Ok(Change::Changed)
    );
    assert_eq!(
        check.apply(|| reloaded("nginx".into(), None)),
        Ok(Change::Changed)
    );
    assert_eq!(check.apply(|| daemon_reloaded(None)), Ok(Change::Changed));
    assert_eq!(check.commands_skipped().len(), 3);
    let failing_reload = booted().command_output(
        systemctl(&["reload", "--", "nginx.service"]),
        failing(1, "", "Job for nginx.service failed.\n"),
    );
    assert_eq!(
        failure(failing_reload.apply(|| reloaded("nginx".into(), None))),
        "/usr/bin/systemctl reload -- nginx.service: exit code 1: Job for nginx.service failed."
    );
}

#[test]
fn nothing_starts_where_systemd_does_not_run() {
    for host in [unbooted(), booted().in_chroot(true)] {
        assert_eq!(
            host.apply(|| started("nginx".into(), None)),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            host.apply(|| stopped("nginx".into(), None)),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            host.apply(|| restarted("nginx".into(), None)),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            host.apply(|| reloaded("nginx".into(), None)),
            Ok(Change::Unchanged)
        );
        assert_eq!(host.apply(daemon_reloaded_system), Ok(Change::Unchanged));
        assert!(host.commands().is_empty());
        let logged = host.logged();
        assert_eq!(logged.len(), 5);
        assert!(
            logged[0].starts_with("info: nginx.service not started: "),
            "{logged:?}"
        );
    }
    let chroot = booted().in_chroot(true);
    chroot.apply(|| started("nginx".into(), None)).unwrap();
    assert_eq!(
        chroot.logged(),
        ["info: nginx.service not started: this is a chroot: systemd does not run in it"]
    );
}

fn daemon_reloaded_system() -> Result<Change> {
    daemon_reloaded(None)
}

// systemd:lingering-enabled

const LINGER: [&str; 4] = ["/usr/bin/loginctl", "enable-linger", "--", "ada"];

#[test]
fn lingering_enabled_asks_logind_where_systemd_runs() {
    let host = booted()
        .module(&MODULE)
        .user("ada", 1000, 1000)
        .command(LINGER, 0, "");
    let form: Form = r#"["systemd:lingering-enabled", "ada"]"#.parse().unwrap();
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    assert_eq!(host.commands_run(), [LINGER]);
    // loginctl made no file on the fake host; logind's file is what says so.
    assert!(host.file_changes().is_empty());
    let lingering = booted()
        .module(&MODULE)
        .file(&format!("{LINGER_DIR}/ada"), "");
    assert_eq!(lingering.apply_form(&form), Ok(Change::Unchanged));
    assert!(lingering.commands().is_empty());
}

#[test]
fn lingering_enabled_makes_logind_s_file_where_systemd_does_not_run() {
    for host in [
        unbooted().dir("/var/lib/systemd").user("ada", 1000, 1000),
        booted()
            .in_chroot(true)
            .dir("/var/lib/systemd")
            .user("ada", 1000, 1000),
    ] {
        let apply = || lingering_enabled("ada".into());
        assert_eq!(host.apply(apply), Ok(Change::Changed));
        let path = format!("{LINGER_DIR}/ada");
        assert_eq!(host.text(&path).unwrap(), "");
        assert_eq!(host.stat(&path).unwrap().mode.bits(), 0o644);
        assert_eq!(host.stat(LINGER_DIR).unwrap().mode.bits(), 0o755);
        assert!(host.commands().is_empty());
        assert!(host.logged().iter().any(|l| l.contains("starts at boot")));
        // The second time: the file is there.
        assert_eq!(host.apply(apply), Ok(Change::Unchanged));
        assert_eq!(host.file_changes().len(), 2);
    }
    // The directory is there already: only the file is written.
    let host = unbooted()
        .dir(LINGER_DIR)
        .file(&format!("{LINGER_DIR}/bob"), "");
    assert_eq!(
        host.apply(|| lingering_enabled("ada".into())),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.file_changes(),
        [format!("write-file {LINGER_DIR}/ada 0644")]
    );
    // No such account in the tree yet: said, not refused.
    assert!(
        host.logged()
            .iter()
            .any(|l| l.contains("there is no user ada in /etc/passwd yet"))
    );
}

#[test]
fn lingering_enabled_in_check_mode_reads_the_file() {
    let running = booted().check_mode();
    assert_eq!(
        running.apply(|| lingering_enabled("ada".into())),
        Ok(Change::Changed)
    );
    assert_eq!(running.commands_skipped(), [LINGER]);
    let offline = unbooted().check_mode().dir("/var/lib/systemd");
    assert_eq!(
        offline.apply(|| lingering_enabled("ada".into())),
        Ok(Change::Changed)
    );
    let done = unbooted()
        .check_mode()
        .file(&format!("{LINGER_DIR}/ada"), "");
    assert_eq!(
        done.apply(|| lingering_enabled("ada".into())),
        Ok(Change::Unchanged)
    );
}

#[test]
fn lingering_enabled_fails_when_loginctl_does() {
    let host = booted().command_output(
        LINGER,
        failing(1, "", "Failed to look up user ada: No such process\n"),
    );
    assert_eq!(
        failure(host.apply(|| lingering_enabled("ada".into()))),
        "/usr/bin/loginctl enable-linger -- ada: exit code 1: \
         Failed to look up user ada: No such process"
    );
}

#[test]
fn lingering_enabled_refuses_paths_options_and_odd_files() {
    let host = unbooted().dir(LINGER_DIR);
    for bad in [
        "../../../etc/shadow",
        "..",
        "ada/../root",
        "-h",
        "--machine=root@.host",
        "ada\nroot",
        "Ada",
        "",
    ] {
        let message = failure(host.apply(|| lingering_enabled(bad.into())));
        assert!(message.starts_with("user: "), "{bad:?}: {message}");
    }
    let booted_host = booted();
    assert!(failure(booted_host.apply(|| lingering_enabled("-H".into()))).starts_with("user: "));
    assert!(host.file_changes().is_empty() && booted_host.commands().is_empty());
    // A directory where logind's file would be is not taken for it.
    let odd = unbooted().dir(&format!("{LINGER_DIR}/ada"));
    assert_eq!(
        failure(odd.apply(|| lingering_enabled("ada".into()))),
        format!("{LINGER_DIR}/ada is a directory, not the file logind makes")
    );
}
