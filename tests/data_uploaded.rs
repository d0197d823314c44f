//! `file:data-uploaded` and `file:copied` end to end: a host's data written
//! to a file never shows in what the controller prints, with or without
//! `--check --diff`, as text or `--json`; a file of the consfig copied to
//! the target only when it differs, predicted exactly by check mode.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use consfig_tests::{Run, Sandbox, module, q};

const SECRET: &str = "s3cret-Value-for-db-9f2b";

/// The secret's bytes nowhere in what consfig printed.
fn assert_not_shown(run: &Run, what: &str) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.contains(SECRET) && !text.contains("9f2b"),
            "{what}: the secret is on {stream}:\n{text}"
        );
    }
}

fn write_consfig(dir: &Path, secret_file: &Path, forms: &[String]) {
    std::fs::write(
        dir.join("Consfig.toml"),
        format!(
            "modules = [{}]\n[hosts.box]\nconnection = [\"local\"]\ndata = {{ db = {} }}\nproperties = [\n{}\n]\n",
            q(module("file").display().to_string()),
            q(secret_file.display().to_string()),
            forms.join(",\n")
        ),
    )
    .unwrap();
}

#[test]
fn uploaded_data_never_shows_in_a_diff_a_report_or_the_json() {
    let sb = Sandbox::new();
    let secrets = tempfile::tempdir().unwrap();
    let secret_file = secrets.path().join("db");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let target = sb.path().join("db.password");
    let form = format!(
        "[\"file:data-uploaded\", {}, \"db\"]",
        q(target.display().to_string())
    );
    write_consfig(sb.path(), &secret_file, &[form]);

    // A file there already, so the diff has a before and an after.
    std::fs::write(&target, "old password\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    for args in [
        &["deploy", "--check", "--diff", "box"][..],
        &["deploy", "--check", "--diff", "--json", "box"],
        &["deploy", "--check", "--diff", "-v", "box"],
    ] {
        let check = sb.consfig(args);
        assert_eq!(check.code, 23, "{args:?}: {check:?}");
        assert_not_shown(&check, &format!("{args:?}"));
        // The diff says the file would change, and that its contents are
        // not shown: not even what the data replaces.
        assert!(
            check
                .stdout
                .contains("contents not shown: this file holds the host's data"),
            "{args:?}: {}",
            check.stdout
        );
        assert!(
            !check.stdout.contains("old password"),
            "{args:?}: {}",
            check.stdout
        );
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "old password\n");

    let deploy = sb.consfig(&["deploy", "--json", "-v", "box"]);
    assert_eq!(deploy.code, 23, "{deploy:?}");
    assert_not_shown(&deploy, "deploy");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        format!("{SECRET}\n")
    );
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600);
    let again = sb.consfig(&["deploy", "--json", "box"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.statuses(), ["unchanged"]);
}

#[test]
fn a_copied_file_is_predicted_by_check_and_written_only_when_it_differs() {
    let sb = Sandbox::new();
    let secrets = tempfile::tempdir().unwrap();
    let secret_file = secrets.path().join("db");
    std::fs::write(&secret_file, SECRET).unwrap();
    std::fs::create_dir(sb.path().join("files")).unwrap();
    std::fs::write(sb.path().join("files/app.conf"), "port = 8080\n").unwrap();
    let target = sb.path().join("app.conf");
    let form = format!(
        "[\"file:copied\", {}, \"files/app.conf\", {{ mode = \"0640\" }}]",
        q(target.display().to_string())
    );
    write_consfig(sb.path(), &secret_file, &[form]);

    let check = sb.deploy(&["--check", "--diff"]);
    assert_eq!(check.statuses(), ["would-change"], "{check:?}");
    let changes = &check.forms()[0]["changes"];
    assert!(changes.to_string().contains("port = 8080"), "{changes}");
    assert!(!target.exists(), "check changed nothing");

    let deploy = sb.deploy(&[]);
    assert_eq!(deploy.statuses(), ["changed"], "{deploy:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "port = 8080\n");
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
    assert_eq!(sb.deploy(&[]).statuses(), ["unchanged"]);
    assert_eq!(sb.deploy(&["--check"]).statuses(), ["unchanged"]);

    std::fs::write(sb.path().join("files/app.conf"), "port = 9090\n").unwrap();
    let check = sb.deploy(&["--check", "--diff"]);
    assert_eq!(check.statuses(), ["would-change"], "{check:?}");
    assert!(
        check.stdout.contains(r"-port = 8080\n+port = 9090"),
        "{}",
        check.stdout
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "port = 8080\n");
    assert_eq!(sb.deploy(&[]).statuses(), ["changed"]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "port = 9090\n");
}

/// Data written to a file, then that file edited line by line by later
/// forms: neither the check's diffs nor the deploy's report show any line
/// of the data, even once an edit has split it.
#[test]
fn data_edited_by_line_properties_later_never_shows() {
    let sb = Sandbox::new();
    let secrets = tempfile::tempdir().unwrap();
    let secret_file = secrets.path().join("db");
    // Two lines: an edit of the first leaves the second on its own.
    std::fs::write(
        &secret_file,
        format!("user=app-9f2b-user\npassword={SECRET}\n"),
    )
    .unwrap();
    let target = sb.path().join("db.conf");
    let path = q(target.display().to_string());
    let forms = [
        format!("[\"file:data-uploaded\", {path}, \"db\"]"),
        format!(
            "[\"file:line-in-file\", {path}, {{ line = \"# managed by consfig\", insert-before = \"BOF\" }}]"
        ),
        format!("[\"file:line-in-file\", {path}, {{ regexp = \"^user=\", line = \"user=web\" }}]"),
        format!("[\"file:contains-lines\", {path}, [\"port=5432\"]]"),
    ];
    write_consfig(sb.path(), &secret_file, &forms);
    for args in [
        &["deploy", "--check", "--diff", "box"][..],
        &["deploy", "--check", "--diff", "--json", "box"],
    ] {
        let check = sb.consfig(args);
        assert_eq!(check.code, 23, "{args:?}: {check:?}");
        assert_not_shown(&check, &format!("{args:?}"));
        let diffs = check
            .stdout
            .matches("contents not shown: this file holds the host's data");
        assert!(diffs.count() >= 4, "{args:?}: {}", check.stdout);
    }
    assert!(!target.exists());
    let deploy = sb.consfig(&["deploy", "--json", "-v", "box"]);
    assert_eq!(deploy.code, 23, "{deploy:?}");
    assert_not_shown(&deploy, "deploy");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        format!("# managed by consfig\nuser=web\npassword={SECRET}\nport=5432\n")
    );
}
