//! The config-file properties on a fake host, through their forms.

use consfig_guest::prelude::*;
use consfig_guest::testing::FakeHost;

use crate::MODULE;

fn host() -> FakeHost {
    FakeHost::new().module(&MODULE)
}

#[track_caller]
fn changes_once(host: &FakeHost, json: &str) {
    let form: Form = json.parse().unwrap();
    assert_eq!(host.apply_form(&form), Ok(Change::Changed), "{json}");
    assert_eq!(
        host.apply_form(&form),
        Ok(Change::Unchanged),
        "again: {json}"
    );
}

#[test]
fn each_conf_format_sets_uncomments_and_comments_out() {
    let sshd = "#Port 22\nPort 2222\nUsePAM yes\n";
    let host = host()
        .file("/etc/ssh/sshd_config", sshd)
        .mode("/etc/ssh/sshd_config", 0o600)
        .file("/etc/default/useradd", "# SHELL=/bin/sh\nSHELL=/bin/zsh\n")
        .file("/etc/default/hwclock", "#HWCLOCKACCESS=yes\n");
    changes_once(
        &host,
        r#"["file:contains-conf-space", "/etc/ssh/sshd_config", {"Port": "80", "X11Forwarding": "no"}]"#,
    );
    assert_eq!(
        host.text("/etc/ssh/sshd_config").as_deref(),
        Some("Port 80\n# Port 2222\nUsePAM yes\nX11Forwarding no\n")
    );
    assert_eq!(
        host.stat("/etc/ssh/sshd_config").unwrap().mode.bits(),
        0o600
    );
    changes_once(
        &host,
        r#"["file:contains-conf-equals", "/etc/default/useradd", {"SHELL": "/bin/bash"}]"#,
    );
    assert_eq!(
        host.text("/etc/default/useradd").as_deref(),
        Some("SHELL=/bin/bash\n# SHELL=/bin/zsh\n")
    );
    changes_once(
        &host,
        r#"["file:contains-conf-shell", "/etc/default/hwclock", {"HWCLOCKACCESS": "no", "OPTS": "--a b"}]"#,
    );
    assert_eq!(
        host.text("/etc/default/hwclock").as_deref(),
        Some("HWCLOCKACCESS=no\nOPTS=\"--a b\"\n")
    );
    changes_once(
        &host,
        r#"["file:contains-conf-tab", "/etc/app-tabs.conf", {"key": "value"}]"#,
    );
    assert_eq!(
        host.text("/etc/app-tabs.conf").as_deref(),
        Some("key\tvalue\n")
    );
}

#[test]
fn ini_settings_in_a_new_and_an_existing_file() {
    let host = host().file("/etc/php.ini", "[PHP]\r\n;memory_limit = 128M\r\n");
    changes_once(
        &host,
        r#"["file:contains-ini-settings", "/etc/app/app.ini", [["main", "name", "web"], ["db", "port", "5432"]]]"#,
    );
    assert_eq!(
        host.text("/etc/app/app.ini").as_deref(),
        Some("[main]\nname = web\n\n[db]\nport = 5432\n")
    );
    changes_once(
        &host,
        r#"["file:contains-ini-settings", "/etc/php.ini", [["PHP", "memory_limit", "256M"]]]"#,
    );
    assert_eq!(
        host.text("/etc/php.ini").as_deref(),
        Some("[PHP]\r\nmemory_limit = 256M\r\n")
    );
}

#[test]
fn bad_settings_fail_before_anything_is_written() {
    let host = host();
    let form: Form = r#"["file:contains-conf-space", "/etc/x", {"two words": "v"}]"#
        .parse()
        .unwrap();
    let err = host.apply_form(&form).unwrap_err().to_string();
    assert!(
        err.starts_with("/etc/x: key \"two words\" cannot be written"),
        "{err}"
    );
    let form: Form = r#"["file:contains-ini-settings", "/etc/x", [["s", "k"]]]"#
        .parse()
        .unwrap();
    let err = host.apply_form(&form).unwrap_err().to_string();
    assert!(err.starts_with("argument 2 (settings): "), "{err}");
    assert!(!host.exists("/etc/x"));
    let empty: Form = r#"["file:contains-conf-equals", "/etc/x", {}]"#.parse().unwrap();
    assert_eq!(host.apply_form(&empty), Ok(Change::Unchanged));
    assert!(!host.exists("/etc/x"));
}
