//! Tests of `cron:job` and `cron:user-crontab` on a fake host.

use consfig_guest::testing::FakeHost;

use super::*;
use crate::store::CRONTAB;

fn form(json: &str) -> Form {
    json.parse().unwrap()
}

use consfig_guest::testing::failure;

fn no_crontab(user: &str) -> Output {
    Output {
        exit_code: Some(1),
        stdout: Vec::new(),
        stderr: format!("no crontab for {user}\n").into_bytes(),
    }
}

/// The standard input of the `n`th command made.
fn stdin(host: &FakeHost, n: usize) -> String {
    String::from_utf8(host.commands()[n].input().unwrap().to_vec()).unwrap()
}

const BACKUP: &str = "#Consfig: backup\n0 3 * * * /usr/local/bin/backup\n";

#[test]
fn adds_a_job_to_a_user_s_crontab_once() {
    let host = FakeHost::new()
        .module(&MODULE)
        .command_output([CRONTAB, "-l", "-u", "ada"], no_crontab("ada"))
        .command([CRONTAB, "-u", "ada", "-"], 0, "")
        .command([CRONTAB, "-l", "-u", "ada"], 0, BACKUP);
    let backup = form(
        r#"["cron:job", "backup", {"job": "/usr/local/bin/backup", "user": "ada",
            "minute": "0", "hour": "3"}]"#,
    );
    assert_eq!(host.apply_form(&backup), Ok(Change::Changed));
    assert_eq!(stdin(&host, 1), BACKUP);
    assert_eq!(host.apply_form(&backup), Ok(Change::Unchanged));
    assert!(host.commands_not_run().is_empty());
    assert_eq!(
        host.logged(),
        ["info: the crontab of ada: set the job backup"]
    );
}

#[test]
fn without_user_edits_the_crontab_of_the_user_the_form_runs_as() {
    let host = FakeHost::new()
        .command(
            [CRONTAB, "-l"],
            0,
            "MAILTO=ops\n0 3 * * * /usr/local/bin/backup\n",
        )
        .command([CRONTAB, "-"], 0, "");
    let change = host.apply(|| {
        job(
            "backup".into(),
            Some("/usr/local/bin/backup".into()),
            None,
            "0".into(),
            "3".into(),
            "*".into(),
            "*".into(),
            "*".into(),
            None,
            None,
            false,
            false,
            State::Present,
        )
    });
    assert_eq!(change, Ok(Change::Changed));
    // The unmarked line that is the job is adopted: its marker is added.
    assert_eq!(stdin(&host, 1), format!("MAILTO=ops\n{BACKUP}"));
}

#[test]
fn corrects_a_job_with_special_time_or_disabled_and_keeps_other_lines() {
    let before = format!("# mine\n{BACKUP}@reboot /bin/other\n");
    let host = FakeHost::new()
        .module(&MODULE)
        .command([CRONTAB, "-l", "-u", "ada"], 0, &before)
        .command([CRONTAB, "-u", "ada", "-"], 0, "");
    let daily = form(
        r#"["cron:job", "backup", {"job": "/usr/local/bin/backup", "user": "ada",
            "special-time": "daily", "disabled": true}]"#,
    );
    assert_eq!(host.apply_form(&daily), Ok(Change::Changed));
    assert_eq!(
        stdin(&host, 1),
        "# mine\n#Consfig: backup\n#@daily /usr/local/bin/backup\n@reboot /bin/other\n"
    );
    let weekly = FakeHost::new()
        .module(&MODULE)
        .command([CRONTAB, "-l", "-u", "ada"], 0, "")
        .command([CRONTAB, "-u", "ada", "-"], 0, "");
    let every = form(
        r#"["cron:job", "sync", {"job": "sync", "user": "ada", "minute": "*/5",
            "hour": "1-5", "day": "1,15", "month": "jan", "weekday": "mon-fri"}]"#,
    );
    assert_eq!(weekly.apply_form(&every), Ok(Change::Changed));
    assert_eq!(
        stdin(&weekly, 1),
        "#Consfig: sync\n*/5 1-5 1,15 jan mon-fri sync\n"
    );
}

#[test]
fn absent_removes_the_job_and_its_marker_once() {
    let host = FakeHost::new()
        .module(&MODULE)
        .command(
            [CRONTAB, "-l", "-u", "ada"],
            0,
            format!("{BACKUP}@reboot x\n"),
        )
        .command([CRONTAB, "-u", "ada", "-"], 0, "")
        .command([CRONTAB, "-l", "-u", "ada"], 0, "@reboot x\n");
    let gone = form(r#"["cron:job", "backup", {"user": "ada", "state": "absent"}]"#);
    assert_eq!(host.apply_form(&gone), Ok(Change::Changed));
    assert_eq!(stdin(&host, 1), "@reboot x\n");
    assert_eq!(host.apply_form(&gone), Ok(Change::Unchanged));
    // No crontab at all: nothing to remove.
    let none = FakeHost::new()
        .module(&MODULE)
        .command_output([CRONTAB, "-l", "-u", "ada"], no_crontab("ada"));
    assert_eq!(none.apply_form(&gone), Ok(Change::Unchanged));
}

#[test]
fn a_cron_file_gets_the_user_field_and_goes_with_its_last_job() {
    let host = FakeHost::new().module(&MODULE).dir("/etc/cron.d");
    let backup = form(
        r#"["cron:job", "backup", {"job": "/usr/local/bin/backup", "user": "root",
            "hour": "3", "minute": "0", "cron-file": "backup"}]"#,
    );
    let rotate = form(
        r#"["cron:job", "rotate", {"job": "rotate", "user": "www-data",
            "special-time": "hourly", "cron-file": "backup"}]"#,
    );
    assert_eq!(host.apply_form(&backup), Ok(Change::Changed));
    assert_eq!(host.apply_form(&rotate), Ok(Change::Changed));
    assert_eq!(
        host.text("/etc/cron.d/backup").unwrap(),
        "#Consfig: backup\n0 3 * * * root /usr/local/bin/backup\n\
         #Consfig: rotate\n@hourly www-data rotate\n"
    );
    assert_eq!(host.stat("/etc/cron.d/backup").unwrap().mode.bits(), 0o644);
    assert_eq!(host.apply_form(&backup), Ok(Change::Unchanged));
    assert!(host.commands_run().is_empty());
    let absent = |name: &str| {
        form(&format!(
            r#"["cron:job", "{name}", {{"cron-file": "backup", "state": "absent"}}]"#
        ))
    };
    assert_eq!(host.apply_form(&absent("backup")), Ok(Change::Changed));
    assert_eq!(
        host.text("/etc/cron.d/backup").unwrap(),
        "#Consfig: rotate\n@hourly www-data rotate\n"
    );
    assert_eq!(host.apply_form(&absent("rotate")), Ok(Change::Changed));
    assert!(!host.exists("/etc/cron.d/backup"));
    assert_eq!(host.apply_form(&absent("rotate")), Ok(Change::Unchanged));
    assert_eq!(
        host.logged().last().unwrap(),
        "info: removed /etc/cron.d/backup: its last job rotate was removed"
    );
}

#[test]
fn an_existing_cron_file_keeps_its_mode() {
    let host = FakeHost::new()
        .dir("/etc/cron.d")
        .file("/etc/cron.d/x", "SHELL=/bin/sh\n")
        .mode("/etc/cron.d/x", 0o600);
    let change = host.apply(|| {
        job(
            "PATH".into(),
            Some("/usr/bin:/bin".into()),
            None,
            "*".into(),
            "*".into(),
            "*".into(),
            "*".into(),
            "*".into(),
            None,
            Some("x".into()),
            true,
            false,
            State::Present,
        )
    });
    assert_eq!(change, Ok(Change::Changed));
    assert_eq!(
        host.text("/etc/cron.d/x").unwrap(),
        "PATH=\"/usr/bin:/bin\"\nSHELL=/bin/sh\n"
    );
    assert_eq!(host.stat("/etc/cron.d/x").unwrap().mode.bits(), 0o600);
}

#[test]
fn env_sets_updates_and_removes_a_variable_line() {
    let host = FakeHost::new()
        .module(&MODULE)
        .command([CRONTAB, "-l", "-u", "ada"], 0, BACKUP)
        .command([CRONTAB, "-u", "ada", "-"], 0, "")
        .command(
            [CRONTAB, "-l", "-u", "ada"],
            0,
            format!("MAILTO=\"ops@example.org\"\n{BACKUP}"),
        )
        .command(
            [CRONTAB, "-l", "-u", "ada"],
            0,
            format!("MAILTO=\"ops@example.org\"\n{BACKUP}"),
        )
        .command([CRONTAB, "-u", "ada", "-"], 0, "")
        .command(
            [CRONTAB, "-l", "-u", "ada"],
            0,
            format!("MAILTO=\"ops@example.org\"\n{BACKUP}"),
        )
        .command([CRONTAB, "-u", "ada", "-"], 0, "");
    let mailto = |to: &str| {
        form(&format!(
            r#"["cron:job", "MAILTO", {{"job": "{to}", "user": "ada", "env": true}}]"#
        ))
    };
    assert_eq!(
        host.apply_form(&mailto("ops@example.org")),
        Ok(Change::Changed)
    );
    assert_eq!(
        stdin(&host, 1),
        format!("MAILTO=\"ops@example.org\"\n{BACKUP}")
    );
    assert_eq!(
        host.apply_form(&mailto("ops@example.org")),
        Ok(Change::Unchanged)
    );
    assert_eq!(host.apply_form(&mailto("root")), Ok(Change::Changed));
    assert_eq!(stdin(&host, 4), format!("MAILTO=\"root\"\n{BACKUP}"));
    let gone = form(r#"["cron:job", "MAILTO", {"user": "ada", "env": true, "state": "absent"}]"#);
    assert_eq!(host.apply_form(&gone), Ok(Change::Changed));
    assert_eq!(stdin(&host, 6), BACKUP);
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn check_mode_reads_the_crontab_and_skips_crontab_dash() {
    let host = FakeHost::new()
        .check_mode()
        .module(&MODULE)
        .command_output([CRONTAB, "-l", "-u", "ada"], no_crontab("ada"));
    let backup = form(r#"["cron:job", "backup", {"job": "b", "user": "ada"}]"#);
    assert_eq!(host.apply_form(&backup), Ok(Change::Changed));
    assert_eq!(host.commands_run(), [[CRONTAB, "-l", "-u", "ada"]]);
    assert_eq!(host.commands_skipped(), [[CRONTAB, "-u", "ada", "-"]]);
    let unchanged = FakeHost::new().check_mode().module(&MODULE).command(
        [CRONTAB, "-l", "-u", "ada"],
        0,
        "#Consfig: backup\n* * * * * b\n",
    );
    assert_eq!(unchanged.apply_form(&backup), Ok(Change::Unchanged));
    assert!(unchanged.commands_skipped().is_empty());
}

#[test]
fn reading_a_crontab_fails_with_crontab_s_reason() {
    let host = FakeHost::new().module(&MODULE).command_output(
        [CRONTAB, "-l", "-u", "ada"],
        Output {
            exit_code: Some(1),
            stdout: Vec::new(),
            stderr: b"crontab: user 'ada' unknown\n".to_vec(),
        },
    );
    assert_eq!(
        failure(host.apply_form(&form(r#"["cron:job", "b", {"job": "b", "user": "ada"}]"#))),
        "/usr/bin/crontab -l -u ada: exit code 1: crontab: user 'ada' unknown"
    );
}

#[test]
fn refuses_injection_before_any_effect() {
    let host = FakeHost::new().module(&MODULE).dir("/etc/cron.d");
    for (json, message) in [
        (
            r#"["cron:job", "x\n* * * * * root evil", {"job": "true"}]"#,
            "the name \"x\\n* * * * * root evil\" is not a single line",
        ),
        (
            r#"["cron:job", "x", {"job": "true\n* * * * * root evil"}]"#,
            "the job \"true\\n* * * * * root evil\" is not a single line",
        ),
        (
            r#"["cron:job", "x", {"job": "true", "minute": "* * * * * evil #"}]"#,
            "the minute \"* * * * * evil #\" is not a cron time field",
        ),
        (
            r#"["cron:job", "x", {"job": "true", "hour": "1\n* * * * * root evil"}]"#,
            "the hour \"1\\n* * * * * root evil\" is not a cron time field",
        ),
        (
            r#"["cron:job", "x", {"job": "true", "weekday": ""}]"#,
            "the weekday \"\" is not a cron time field",
        ),
        (
            r#"["cron:job", "x", {"job": "true", "user": "root", "cron-file": "../passwd"}]"#,
            "the cron-file \"../passwd\" is not the name of a file in /etc/cron.d",
        ),
        (
            r#"["cron:job", "x", {"job": "true", "user": "root", "cron-file": "/etc/crontab"}]"#,
            "the cron-file \"/etc/crontab\" is not the name",
        ),
        (
            r#"["cron:job", "x", {"job": "true", "user": "root", "cron-file": ".."}]"#,
            "the cron-file \"..\" is not the name",
        ),
        (
            r#"["cron:job", "x", {"job": "true", "user": "root", "cron-file": "a.dpkg-old"}]"#,
            "the cron-file \"a.dpkg-old\" is not the name",
        ),
        (
            r#"["cron:job", "x", {"job": "true", "user": "-r"}]"#,
            "\"-r\" is not a valid user name",
        ),
        (
            r#"["cron:job", "x", {"job": "true", "user": "root evil"}]"#,
            "\"root evil\" is not a valid user name",
        ),
        (
            r#"["cron:job", "A B", {"job": "1", "env": true}]"#,
            "\"A B\" is not an environment variable name",
        ),
        (
            r#"["cron:job", "A=B", {"job": "1", "env": true}]"#,
            "\"A=B\" is not an environment variable name",
        ),
        (
            r#"["cron:job", "A", {"job": "1\"\n* * * * * evil", "env": true}]"#,
            "the job \"1\\\"\\n* * * * * evil\" is not a single line",
        ),
        (
            r#"["cron:job", "A", {"job": "a\"b", "env": true}]"#,
            "the value \"a\\\"b\" of A has a `\"`",
        ),
        (
            r#"["cron:job", "x", {"job": "true", "special-time": "daily", "hour": "3"}]"#,
            "give either the time fields",
        ),
        (
            r#"["cron:job", "x", {"job": "true", "cron-file": "x"}]"#,
            "x: a cron-file needs `user`",
        ),
        (r#"["cron:job", "x"]"#, "x: give `job` (the command)"),
        (r#"["cron:job", "", {"job": "x"}]"#, "the name is empty"),
    ] {
        let error = failure(host.apply_form(&form(json)));
        assert!(error.starts_with(message), "{json}: {error}");
    }
    assert!(
        host.apply_form(&form(
            r#"["cron:job", "x", {"job": "t", "special-time": "often"}]"#
        ))
        .is_err()
    );
    assert!(host.commands_run().is_empty());
    assert!(host.file_changes().is_empty());
}

#[test]
fn a_name_that_looks_like_an_option_is_only_a_marker() {
    let host = FakeHost::new()
        .command_output([CRONTAB, "-l", "-u", "ada"], no_crontab("ada"))
        .command([CRONTAB, "-u", "ada", "-"], 0, "");
    let change = host.apply_form_of(
        r#"["cron:job", "-r", {"job": "true", "user": "ada", "special-time": "reboot"}]"#,
    );
    assert_eq!(change, Ok(Change::Changed));
    assert_eq!(stdin(&host, 1), "#Consfig: -r\n@reboot true\n");
}

#[test]
fn user_crontab_replaces_the_whole_crontab() {
    let host = FakeHost::new()
        .module(&MODULE)
        .command([CRONTAB, "-l", "-u", "ada"], 0, "@reboot old\n")
        .command([CRONTAB, "-u", "ada", "-"], 0, "")
        .command(
            [CRONTAB, "-l", "-u", "ada"],
            0,
            "MAILTO=\"\"\n\n@daily new\n",
        );
    let whole = form(r#"["cron:user-crontab", "ada", ["MAILTO=\"\"", "", "@daily new"]]"#);
    assert_eq!(host.apply_form(&whole), Ok(Change::Changed));
    assert_eq!(stdin(&host, 1), "MAILTO=\"\"\n\n@daily new\n");
    assert_eq!(host.apply_form(&whole), Ok(Change::Unchanged));
    assert_eq!(
        host.logged(),
        ["info: replaced the crontab of ada (3 lines)"]
    );
    // Nothing wanted and no crontab: unchanged; in check mode, skipped.
    let none = FakeHost::new()
        .check_mode()
        .module(&MODULE)
        .command_output([CRONTAB, "-l", "-u", "bob"], no_crontab("bob"))
        .command([CRONTAB, "-l", "-u", "ada"], 0, "@daily x\n");
    assert_eq!(
        none.apply_form(&form(r#"["cron:user-crontab", "bob", []]"#)),
        Ok(Change::Unchanged)
    );
    assert_eq!(
        none.apply_form(&form(r#"["cron:user-crontab", "ada", []]"#)),
        Ok(Change::Changed)
    );
    assert_eq!(none.commands_skipped(), [[CRONTAB, "-u", "ada", "-"]]);
    let bad = FakeHost::new().module(&MODULE);
    assert!(
        failure(bad.apply_form(&form(r#"["cron:user-crontab", "ada", ["a\nb"]]"#)))
            .starts_with("the line \"a\\nb\" is not a single line")
    );
    assert!(
        failure(bad.apply_form(&form(r#"["cron:user-crontab", "-u", []]"#)))
            .starts_with("\"-u\" is not a valid user name")
    );
    assert!(bad.commands_run().is_empty());
}

trait ApplyJson {
    fn apply_form_of(&self, json: &str) -> Result<Change>;
}

impl ApplyJson for FakeHost {
    fn apply_form_of(&self, json: &str) -> Result<Change> {
        self.clone().module(&MODULE).apply_form(&form(json))
    }
}
