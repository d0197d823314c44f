//! The `file` module's text-editing properties through the real binary and
//! runtime: `--check --diff` changes nothing and predicts exactly the files
//! and statuses of the deploy, the deploy writes what Ansible's and
//! Consfigurator's equivalents write (keeping modes and CRLF line endings),
//! and a second deploy changes nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use consfig_tests::tree::{differing, listing};
use consfig_tests::{Sandbox, module, toml_value};
use serde_json::json;

#[test]
fn every_text_property_checks_deploys_and_settles() {
    let sb = Sandbox::new();
    let root = sb.path().join("target");
    let etc = root.join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    let files = [
        (
            "login.defs",
            "#\tPASS_MAX_DAYS\tMaximum days.\nPASS_MAX_DAYS\t99999\nUMASK\t\t022\n",
        ),
        ("sshd_config", "#Port 22\r\nUsePAM yes\r\n"),
        ("noeol", "a\nb"),
        ("empty", ""),
        ("bashrc", "PS1=x\n"),
        ("adduser.conf", "#DSHELL=/bin/sh\n"),
        ("fstab", "# UNCONFIGURED FSTAB\n/dev/sda1 / ext4\n"),
        ("useradd", "# The SHELL variable\nSHELL=/bin/sh\n"),
        ("hwclock", "# hwclock\n#HWCLOCKACCESS=yes\n"),
        ("php.ini", "[PHP]\r\n;memory_limit = 128M\r\n"),
        ("shells", "/bin/sh\n/bin/bash\n/bin/sh\n"),
    ];
    for (name, content) in files {
        std::fs::write(etc.join(name), content).unwrap();
    }
    std::fs::set_permissions(
        etc.join("sshd_config"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let p = |rel: &str| root.join(rel).display().to_string();
    let forms = [
        json!(["file:line-in-file", p("etc/login.defs"), {"regexp": "^UMASK", "line": "UMASK\t\t027"}]),
        json!(["file:line-in-file", p("etc/noeol"), {"line": "c", "insert-after": "^a$"}]),
        json!(["file:line-in-file", p("etc/empty"), {"line": "first", "insert-before": "BOF"}]),
        json!(["file:line-in-file", p("new/hosts"), {"line": "127.0.1.1 web", "create": true}]),
        json!(["file:line-in-file", p("etc/shells"), {"line": "/bin/sh", "state": "absent"}]),
        json!(["file:block-in-file", p("etc/bashrc"), {"block": "alias ll='ls -l'", "insert-before": "BOF", "append-newline": true}]),
        json!([
            "file:replaced",
            p("etc/adduser.conf"),
            "^#?DSHELL=.*$",
            "DSHELL=/bin/bash"
        ]),
        json!(["file:contains-lines", p("etc/noeol"), ["b", "d"]]),
        json!(["file:lacks-lines", p("etc/noeol"), ["a"]]),
        json!([
            "file:lacks-lines-matching",
            p("etc/fstab"),
            ["^# UNCONFIGURED"]
        ]),
        json!([
            "file:regex-replaced-lines",
            p("etc/fstab"),
            "ext4$",
            "ext4,noatime"
        ]),
        json!(["file:contains-conf-space", p("etc/login.defs"), {"PASS_MAX_DAYS": "90"}]),
        json!(["file:contains-conf-space", p("etc/sshd_config"), {"Port": "2222"}]),
        json!(["file:contains-conf-equals", p("etc/useradd"), {"SHELL": "/bin/bash"}]),
        json!(["file:contains-conf-tab", p("new/tabs.conf"), {"key": "value"}]),
        json!(["file:contains-conf-shell", p("etc/hwclock"), {"HWCLOCKACCESS": "no", "OPTS": "a b"}]),
        json!([
            "file:contains-ini-settings",
            p("etc/php.ini"),
            [
                ["PHP", "memory_limit", "256M"],
                ["Date", "date.timezone", "UTC"]
            ]
        ]),
        // Sees what the first form would have written: unchanged.
        json!(["file:line-in-file", p("etc/login.defs"), {"line": "UMASK\t\t027"}]),
    ];
    let forms: Vec<String> = forms.iter().map(toml_value).collect();
    sb.write_consfig(&[module("file")], &forms, "");

    let before = listing(&root);
    let check = sb.deploy(&["--check", "--diff"]);
    assert_eq!(check.code, 23, "something would change: {check:?}");
    assert_eq!(listing(&root), before, "check mode changed the target");
    let mut expected = vec!["would-change"; forms.len()];
    *expected.last_mut().unwrap() = "unchanged";
    assert_eq!(check.statuses(), expected, "{check:?}");
    let sshd = check.forms()[12]["changes"][0]["diff"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        sshd.contains("-#Port 22") && sshd.contains("+Port 2222"),
        "{sshd}"
    );

    let deploy = sb.deploy(&[]);
    assert_eq!(deploy.code, 23, "{deploy:?}");
    assert_eq!(
        deploy.statuses_as_checked(),
        expected,
        "the check predicted every status"
    );
    let after = listing(&root);
    assert_eq!(
        check.changed_paths(Path::new("/")),
        differing(&before, &after),
        "the check predicted exactly the files the deploy changed"
    );

    let again = sb.deploy(&[]);
    assert_eq!(
        again.code, 0,
        "the second deploy changes nothing: {again:?}"
    );
    assert!(
        again.statuses().iter().all(|s| s == "unchanged"),
        "{again:?}"
    );
    assert_eq!(listing(&root), after);

    let text = |rel: &str| std::fs::read_to_string(root.join(rel)).unwrap();
    assert_eq!(
        text("etc/login.defs"),
        "PASS_MAX_DAYS 90\n# PASS_MAX_DAYS\t99999\nUMASK\t\t027\n"
    );
    assert_eq!(text("etc/noeol"), "c\nb\nd\n");
    assert_eq!(text("etc/empty"), "first\n");
    assert_eq!(text("new/hosts"), "127.0.1.1 web\n");
    assert_eq!(text("etc/shells"), "/bin/bash\n");
    assert_eq!(
        text("etc/bashrc"),
        "# BEGIN ANSIBLE MANAGED BLOCK\nalias ll='ls -l'\n# END ANSIBLE MANAGED BLOCK\n\nPS1=x\n"
    );
    assert_eq!(text("etc/adduser.conf"), "DSHELL=/bin/bash\n");
    assert_eq!(text("etc/fstab"), "/dev/sda1 / ext4,noatime\n");
    assert_eq!(text("etc/sshd_config"), "Port 2222\r\nUsePAM yes\r\n");
    assert_eq!(
        text("etc/useradd"),
        "# The SHELL variable\nSHELL=/bin/bash\n"
    );
    assert_eq!(text("new/tabs.conf"), "key\tvalue\n");
    assert_eq!(
        text("etc/hwclock"),
        "# hwclock\nHWCLOCKACCESS=no\nOPTS=\"a b\"\n"
    );
    assert_eq!(
        text("etc/php.ini"),
        "[PHP]\r\nmemory_limit = 256M\r\n\r\n[Date]\r\ndate.timezone = UTC\r\n"
    );
    let mode = std::fs::metadata(etc.join("sshd_config"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o600, "the mode is kept");
}

#[test]
fn bad_options_and_missing_files_fail_naming_the_file() {
    let sb = Sandbox::new();
    let root = sb.path().join("target");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("f"), "a\n").unwrap();
    let p = |rel: &str| root.join(rel).display().to_string();
    let forms = [
        json!(["file:line-in-file", p("missing"), {"line": "x"}]),
        json!(["file:line-in-file", p("f"), {"line": "x", "insert-after": "a", "insert-before": "b"}]),
        json!(["file:replaced", p("f"), "(a", "b"]),
    ];
    let forms: Vec<String> = forms.iter().map(toml_value).collect();
    sb.write_consfig(&[module("file")], &forms, "");
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["failed", "failed", "failed"], "{run:?}");
    let reasons: Vec<String> = run
        .forms()
        .iter()
        .map(|f| serde_json::to_string(&f["reason"]).unwrap())
        .collect();
    let all = reasons.join("\n");
    assert!(
        all.contains(&format!(
            "{} does not exist: give create = true to make it",
            p("missing")
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "{}: insert-after and insert-before cannot both be given",
            p("f")
        )),
        "{all}"
    );
    assert!(
        all.contains("regexp: \\\"(a\\\" is not a regular expression"),
        "{all}"
    );
    assert_eq!(std::fs::read_to_string(root.join("f")).unwrap(), "a\n");
}
