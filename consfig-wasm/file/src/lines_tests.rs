//! The line and block properties on a fake host, through their forms (so
//! with the option names users type): what they write, that a second
//! application is unchanged, check mode, and missing or special files.

use consfig_guest::prelude::*;
use consfig_guest::testing::FakeHost;

use crate::MODULE;
use crate::edit::line::State;

fn host() -> FakeHost {
    FakeHost::new().module(&MODULE)
}

fn form(json: &str) -> Form {
    json.parse().unwrap()
}

/// Apply a form twice: changed, then unchanged.
#[track_caller]
fn changes_once(host: &FakeHost, json: &str) {
    let form = form(json);
    assert_eq!(host.apply_form(&form), Ok(Change::Changed), "{json}");
    assert_eq!(
        host.apply_form(&form),
        Ok(Change::Unchanged),
        "again: {json}"
    );
}

#[track_caller]
fn fails(host: &FakeHost, json: &str) -> String {
    host.apply_form(&form(json)).unwrap_err().to_string()
}

#[test]
fn line_in_file_with_every_option_by_name() {
    let host = host()
        .file("/etc/login.defs", "UMASK\t\t022\nOTHER 1\n")
        .mode("/etc/login.defs", 0o600)
        .owner("/etc/login.defs", 0, 42);
    changes_once(
        &host,
        r#"["file:line-in-file", "/etc/login.defs", {"regexp": "^UMASK", "line": "UMASK\t\t027"}]"#,
    );
    changes_once(
        &host,
        r##"["file:line-in-file", "/etc/login.defs", {"line": "# managed", "insert-before": "BOF"}]"##,
    );
    changes_once(
        &host,
        r#"["file:line-in-file", "/etc/login.defs", {"line": "AFTER 1", "insert-after": "^UMASK", "firstmatch": true}]"#,
    );
    changes_once(
        &host,
        r#"["file:line-in-file", "/etc/login.defs", {"search-string": "OTHER", "line": "OTHER 2"}]"#,
    );
    changes_once(
        &host,
        r#"["file:line-in-file", "/etc/login.defs", {"regexp": "^(OTHER) (\\d)$", "line": "\\1=\\2", "backrefs": true}]"#,
    );
    changes_once(
        &host,
        r#"["file:line-in-file", "/etc/login.defs", {"regexp": "^AFTER", "state": "absent"}]"#,
    );
    assert_eq!(
        host.text("/etc/login.defs").as_deref(),
        Some("# managed\nUMASK\t\t027\nOTHER=2\n")
    );
    let stat = host.stat("/etc/login.defs").unwrap();
    assert_eq!(
        (stat.mode.bits(), stat.gid),
        (0o600, 42),
        "mode and group kept"
    );
    // Backrefs that match nothing leave the file.
    assert_eq!(
        host.apply_form(&form(
            r#"["file:line-in-file", "/etc/login.defs", {"regexp": "^(NONE)=", "line": "\\1", "backrefs": true}]"#
        )),
        Ok(Change::Unchanged)
    );
}

#[test]
fn line_in_file_fails_on_a_missing_file_unless_create() {
    let host = host();
    assert_eq!(
        fails(
            &host,
            r#"["file:line-in-file", "/etc/hosts", {"line": "x"}]"#
        ),
        "/etc/hosts does not exist: give create = true to make it"
    );
    assert!(!host.exists("/etc/hosts"));
    changes_once(
        &host,
        r#"["file:line-in-file", "/new/dir/hosts", {"line": "127.0.1.1 web", "create": true}]"#,
    );
    assert_eq!(
        host.text("/new/dir/hosts").as_deref(),
        Some("127.0.1.1 web\n")
    );
    assert_eq!(host.stat("/new/dir/hosts").unwrap().mode.bits(), 0o644);
    // Absent from a missing file, and backrefs without a file: nothing made.
    for json in [
        r#"["file:line-in-file", "/none", {"line": "x", "state": "absent"}]"#,
        r#"["file:line-in-file", "/none", {"line": "x", "regexp": "(x)", "backrefs": true, "create": true}]"#,
    ] {
        assert_eq!(
            host.apply_form(&form(json)),
            Ok(Change::Unchanged),
            "{json}"
        );
        assert!(!host.exists("/none"));
    }
}

#[test]
fn bad_options_name_the_file_and_the_option() {
    let host = host().file("/f", "a\n");
    assert_eq!(
        fails(
            &host,
            r#"["file:line-in-file", "/f", {"line": "x", "insert-after": "a", "insert-before": "b"}]"#
        ),
        "/f: insert-after and insert-before cannot both be given"
    );
    assert_eq!(
        fails(
            &host,
            r#"["file:line-in-file", "/f", {"line": "x", "state": "gone"}]"#
        ),
        "keyword argument state: unknown variant `gone`, expected `present` or `absent`"
    );
    assert!(
        fails(&host, r#"["file:replaced", "/f", "(", "x"]"#)
            .starts_with("/f: regexp: \"(\" is not a regular expression")
    );
    assert!(
        fails(&host, r#"["file:line-in-file", "/f", {"lines": "x"}]"#)
            .starts_with("unknown keyword argument \"lines\"")
    );
    assert_eq!(host.text("/f").as_deref(), Some("a\n"), "not touched");
}

#[test]
fn no_directory_symlink_or_special_file_is_edited() {
    let host = host()
        .dir("/etc/d")
        .file("/etc/real", "a\n")
        .symlink("/etc/link", "real")
        .special("/dev/null");
    let forms = [
        r#"["file:line-in-file", "PATH", {"line": "x"}]"#,
        r#"["file:block-in-file", "PATH", {"block": "x"}]"#,
        r#"["file:replaced", "PATH", "a", "b"]"#,
        r#"["file:contains-lines", "PATH", ["x"]]"#,
        r#"["file:lacks-lines", "PATH", ["a"]]"#,
        r#"["file:lacks-lines-matching", "PATH", ["a"]]"#,
        r#"["file:regex-replaced-lines", "PATH", "a", "b"]"#,
        r#"["file:contains-conf-space", "PATH", {"k": "v"}]"#,
        r#"["file:contains-ini-settings", "PATH", [["s", "k", "v"]]]"#,
    ];
    for json in forms {
        assert_eq!(
            fails(&host, &json.replace("PATH", "/etc/d")),
            "/etc/d is a directory, not a file: not editing it"
        );
        assert_eq!(
            fails(&host, &json.replace("PATH", "/etc/link")),
            "/etc/link is a symlink: not editing through it; edit the file it points to"
        );
        assert!(fails(&host, &json.replace("PATH", "/dev/null")).starts_with("/dev/null is a "));
    }
    assert_eq!(host.text("/etc/real").as_deref(), Some("a\n"));
}

#[test]
fn block_in_file_inserts_replaces_and_removes() {
    let host = host().file("/etc/bash.bashrc", "# bashrc\r\nPS1=x\r\n");
    changes_once(
        &host,
        r#"["file:block-in-file", "/etc/bash.bashrc", {"block": "alias ll='ls -l'\nalias la='ls -A'"}]"#,
    );
    assert_eq!(
        host.text("/etc/bash.bashrc").as_deref(),
        Some(
            "# bashrc\r\nPS1=x\r\n# BEGIN ANSIBLE MANAGED BLOCK\r\nalias ll='ls -l'\r\nalias la='ls -A'\r\n# END ANSIBLE MANAGED BLOCK\r\n"
        )
    );
    changes_once(
        &host,
        r#"["file:block-in-file", "/etc/bash.bashrc", {"block": "alias l=ls", "insert-before": "BOF"}]"#,
    );
    assert_eq!(
        host.text("/etc/bash.bashrc").as_deref(),
        Some(
            "# bashrc\r\nPS1=x\r\n# BEGIN ANSIBLE MANAGED BLOCK\r\nalias l=ls\r\n# END ANSIBLE MANAGED BLOCK\r\n"
        ),
        "replaced where it was"
    );
    changes_once(
        &host,
        r#"["file:block-in-file", "/etc/bash.bashrc", {"block": "x", "marker": "// {mark}", "marker-begin": "from", "marker-end": "to", "insert-after": "^# bashrc$", "prepend-newline": true, "append-newline": true}]"#,
    );
    assert_eq!(
        host.text("/etc/bash.bashrc").as_deref(),
        Some(
            "# bashrc\r\n\r\n// from\r\nx\r\n// to\r\n\r\nPS1=x\r\n# BEGIN ANSIBLE MANAGED BLOCK\r\nalias l=ls\r\n# END ANSIBLE MANAGED BLOCK\r\n"
        )
    );
    changes_once(
        &host,
        r#"["file:block-in-file", "/etc/bash.bashrc", {"state": "absent"}]"#,
    );
    assert_eq!(
        host.text("/etc/bash.bashrc").as_deref(),
        Some("# bashrc\r\n\r\n// from\r\nx\r\n// to\r\n\r\nPS1=x\r\n")
    );
}

#[test]
fn block_in_file_creates_only_when_asked() {
    let host = host();
    assert_eq!(
        fails(&host, r#"["file:block-in-file", "/etc/x", {"block": "a"}]"#),
        "/etc/x does not exist: give create = true to make it"
    );
    assert_eq!(
        host.apply_form(&form(
            r#"["file:block-in-file", "/etc/x", {"state": "absent", "create": true}]"#
        )),
        Ok(Change::Unchanged)
    );
    assert!(!host.exists("/etc/x"));
    changes_once(
        &host,
        r#"["file:block-in-file", "/etc/d/x", {"block": "a", "create": true}]"#,
    );
    assert_eq!(
        host.text("/etc/d/x").as_deref(),
        Some("# BEGIN ANSIBLE MANAGED BLOCK\na\n# END ANSIBLE MANAGED BLOCK\n")
    );
    // An empty block with create makes an empty file, as Ansible does.
    changes_once(
        &host,
        r#"["file:block-in-file", "/etc/empty", {"create": true}]"#,
    );
    assert_eq!(host.text("/etc/empty").as_deref(), Some(""));
}

#[test]
fn replaced_with_after_and_before() {
    let host = host().file("/etc/adduser.conf", "#DSHELL=/bin/sh\n[a]\nx=0\n[b]\nx=0\n");
    changes_once(
        &host,
        r#"["file:replaced", "/etc/adduser.conf", "^#?DSHELL=.*$", "DSHELL=/bin/bash"]"#,
    );
    changes_once(
        &host,
        r#"["file:replaced", "/etc/adduser.conf", "0", "1", {"after": "\\[a\\]", "before": "\\[b\\]"}]"#,
    );
    assert_eq!(
        host.text("/etc/adduser.conf").as_deref(),
        Some("DSHELL=/bin/bash\n[a]\nx=1\n[b]\nx=0\n")
    );
    assert!(
        host.logged()
            .iter()
            .any(|l| l.ends_with("/etc/adduser.conf: 1 replacements"))
    );
    assert_eq!(
        fails(&host, r#"["file:replaced", "/etc/none", "a", "b"]"#),
        "/etc/none does not exist"
    );
}

#[test]
fn consfigurator_line_properties() {
    let host = host()
        .file("/etc/profile", "a\nb")
        .file("/etc/fstab", "# UNCONFIGURED FSTAB\r\n/dev/sda1 / ext4\r\n");
    changes_once(
        &host,
        r#"["file:contains-lines", "/etc/profile", ["b", "umask 027"]]"#,
    );
    assert_eq!(
        host.text("/etc/profile").as_deref(),
        Some("a\nb\numask 027\n")
    );
    changes_once(
        &host,
        r#"["file:contains-lines", "/etc/new/file", ["x", "y"]]"#,
    );
    assert_eq!(host.text("/etc/new/file").as_deref(), Some("x\ny\n"));
    changes_once(
        &host,
        r#"["file:lacks-lines", "/etc/profile", ["a", "zzz"]]"#,
    );
    assert_eq!(host.text("/etc/profile").as_deref(), Some("b\numask 027\n"));
    changes_once(
        &host,
        r#"["file:lacks-lines-matching", "/etc/fstab", ["^# UNCONFIGURED"]]"#,
    );
    assert_eq!(
        host.text("/etc/fstab").as_deref(),
        Some("/dev/sda1 / ext4\r\n")
    );
    changes_once(
        &host,
        r#"["file:regex-replaced-lines", "/etc/fstab", "ext(\\d)$", "ext\\g<1>,noatime"]"#,
    );
    assert_eq!(
        host.text("/etc/fstab").as_deref(),
        Some("/dev/sda1 / ext4,noatime\r\n")
    );
    // Missing files: unchanged, and not made.
    for json in [
        r#"["file:lacks-lines", "/none", ["a"]]"#,
        r#"["file:lacks-lines-matching", "/none", ["a"]]"#,
        r#"["file:regex-replaced-lines", "/none", "a", "b"]"#,
        r#"["file:contains-lines", "/none", []]"#,
    ] {
        assert_eq!(
            host.apply_form(&form(json)),
            Ok(Change::Unchanged),
            "{json}"
        );
        assert!(!host.exists("/none"));
    }
    assert_eq!(
        fails(
            &host,
            r#"["file:contains-lines", "/etc/profile", ["a\nb"]]"#
        ),
        "/etc/profile: line \"a\\nb\" contains a line break: give each line as its own string"
    );
}

#[test]
fn check_mode_predicts_the_same_changes() {
    let forms = [
        r#"["file:line-in-file", "/etc/a", {"line": "x"}]"#,
        r#"["file:block-in-file", "/etc/a", {"block": "y"}]"#,
        r#"["file:replaced", "/etc/a", "^x$", "z"]"#,
        r#"["file:contains-lines", "/etc/a", ["w"]]"#,
        r#"["file:lacks-lines", "/etc/a", ["w"]]"#,
        r#"["file:lacks-lines", "/etc/a", ["w"]]"#,
        r#"["file:line-in-file", "/etc/b", {"line": "x", "create": true}]"#,
    ];
    let run = |host: FakeHost| -> (Vec<Change>, Option<String>, Option<String>) {
        let changes = forms
            .iter()
            .map(|json| host.apply_form(&form(json)).unwrap())
            .collect();
        (changes, host.text("/etc/a"), host.text("/etc/b"))
    };
    let real = run(host().file("/etc/a", "a\n"));
    let checked = run(host().check_mode().file("/etc/a", "a\n"));
    assert_eq!(checked, real);
    assert_eq!(
        real.0,
        [
            Change::Changed,
            Change::Changed,
            Change::Changed,
            Change::Changed,
            Change::Changed,
            Change::Unchanged,
            Change::Changed
        ]
    );
}

#[test]
fn typed_forms_use_the_option_names_users_type() {
    let form: Form = crate::forms::line_in_file("/etc/x")
        .line("x")
        .insert_before("BOF")
        .state(State::Absent)
        .into();
    assert_eq!(
        form.to_string(),
        r#"["file:line-in-file","/etc/x",{"insert-before":"BOF","line":"x","state":"absent"}]"#
    );
    let host = host().file("/etc/x", "x\ny\n");
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    assert_eq!(host.text("/etc/x").as_deref(), Some("y\n"));
    let block: Form = crate::forms::block_in_file("/etc/x")
        .block("b")
        .marker_begin("<")
        .append_newline(true)
        .into();
    assert!(
        block.to_string().contains(r#""append-newline":true"#),
        "{block}"
    );
    assert!(
        block.to_string().contains(r#""marker-begin":"<""#),
        "{block}"
    );
}
