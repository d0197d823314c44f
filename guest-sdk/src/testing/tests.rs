//! The fake host itself: what it records, refuses and answers.

use serde_json::json;

use super::*;
use crate::host::{fs, run};
use crate::{apply, ensure, info, property, subdeploy};

/// Write `content` at `path` when it differs; reload `service` then.
#[property]
fn configured(path: String, content: String, service: Option<String>) -> Result<Change> {
    if fs::exists(&path)? && fs::read(&path)? == content.as_bytes() {
        return Ok(Change::Unchanged);
    }
    fs::write(&path, &content, None)?;
    info!("wrote {path}");
    if let Some(service) = service {
        let reload = run(Command::change("systemctl").args(["reload", &service]))?;
        ensure!(reload.success(), "reload failed: {}", reload.stderr_str());
    }
    Ok(Change::Changed)
}

/// Apply each form through the host.
#[property]
fn each(forms: Vec<Form>) -> Result<Change> {
    let mut change = Change::Unchanged;
    for form in &forms {
        change |= apply(form)?;
    }
    Ok(change)
}

/// Whether `getent passwd NAME` finds the user.
#[property]
fn user_known(name: String) -> Result<Change> {
    let found = run(Command::query("getent").args(["passwd", &name]))?;
    ensure!(found.success(), "no user {name}");
    Ok(Change::Unchanged)
}

/// Apply itself, forever.
#[property]
fn recurse() -> Result<Change> {
    apply(&Form::new("fake:recurse"))
}

static MODULE: Module = Module {
    name: "fake",
    doc: "",
    init: None,
    properties: &[
        crate::export::Entry::of::<__consfig_property_configured>(),
        crate::export::Entry::of::<__consfig_property_each>(),
        crate::export::Entry::of::<__consfig_property_user_known>(),
        crate::export::Entry::of::<__consfig_property_recurse>(),
    ],
    needs: &[],
};

fn configured_form(path: &str, content: &str) -> Form {
    Form::new("fake:configured")
        .arg(path)
        .unwrap()
        .arg(content)
        .unwrap()
}

#[test]
fn runs_a_property_on_files_in_memory() {
    let host = FakeHost::new()
        .file("/etc/app.conf", "old\n")
        .mode("/etc/app.conf", 0o600)
        .owner("/etc/app.conf", 1000, 100)
        .command(["systemctl", "reload", "app"], 0, "");
    let apply_it = || configured("/etc/app.conf".into(), "new\n".into(), Some("app".into()));
    assert_eq!(host.apply(apply_it), Ok(Change::Changed));
    assert_eq!(host.text("/etc/app.conf").as_deref(), Some("new\n"));
    let stat = host.stat("/etc/app.conf").unwrap();
    assert_eq!((stat.mode.bits(), stat.uid, stat.gid), (0o600, 1000, 100));
    assert_eq!(host.commands_run(), [["systemctl", "reload", "app"]]);
    assert_eq!(host.logged(), ["info: wrote /etc/app.conf"]);
    // The state carries over: the second time there is nothing to do.
    assert_eq!(host.apply(apply_it), Ok(Change::Unchanged));
    assert_eq!(host.commands_run().len(), 1);
}

#[test]
fn answers_commands_as_scripted_in_order() {
    let host = FakeHost::new()
        .command(["getent", "passwd", "ada"], 2, "")
        .command(
            ["getent", "passwd", "ada"],
            0,
            "ada:x:1000:1000::/home/ada:/bin/sh\n",
        );
    let known = || user_known("ada".into());
    assert_eq!(host.apply(known).unwrap_err().message(), "no user ada");
    assert_eq!(host.commands_not_run(), [["getent", "passwd", "ada"]]);
    assert_eq!(host.apply(known), Ok(Change::Unchanged));
    assert_eq!(
        host.apply(known),
        Ok(Change::Unchanged),
        "the last script again"
    );
    assert_eq!(host.commands_run().len(), 3);
    assert!(host.commands_not_run().is_empty());
    let failing = FakeHost::new().command_output(
        ["systemctl", "reload", "app"],
        Output {
            exit_code: Some(1),
            stdout: Vec::new(),
            stderr: b"no such unit\n".to_vec(),
        },
    );
    let result = failing.apply(|| configured("/x".into(), "".into(), Some("app".into())));
    assert_eq!(
        result.unwrap_err().message(),
        "reload failed: no such unit\n"
    );
}

#[test]
#[should_panic(
    expected = "FakeHost: the property ran [\"systemctl\", \"reload\", \"app\"] \
                           (a change), which the test did not script"
)]
fn fails_the_test_on_a_command_nobody_scripted() {
    let host = FakeHost::new().command(["systemctl", "reload", "web"], 0, "");
    let _ = host.apply(|| configured("/x".into(), "".into(), Some("app".into())));
}

#[test]
fn shows_commands_as_they_were_built() {
    let host = FakeHost::new().command(["chpasswd"], 0, "");
    let command = Command::change("chpasswd")
        .stdin("ada:secret\n")
        .env("LC_ALL", "C")
        .cwd("/root");
    host.apply(|| run(command.clone())).unwrap();
    assert_eq!(host.commands(), [command]);
    assert_eq!(host.commands()[0].input(), Some(&b"ada:secret\n"[..]));
}

#[test]
fn check_mode_skips_changes_and_runs_queries() {
    let host = FakeHost::new()
        .check_mode()
        .command(["getent", "passwd", "ada"], 0, "");
    let apply_it = || configured("/x".into(), "x".into(), Some("app".into()));
    assert_eq!(host.apply(apply_it), Ok(Change::Changed));
    assert_eq!(host.commands_skipped(), [["systemctl", "reload", "app"]]);
    assert!(host.commands_run().is_empty());
    // What it wrote, later reads see, as with check mode's overlay.
    assert_eq!(host.text("/x").as_deref(), Some("x"));
    assert_eq!(
        host.apply(|| user_known("ada".into())),
        Ok(Change::Unchanged)
    );
    assert_eq!(host.commands_run(), [["getent", "passwd", "ada"]]);
}

#[test]
fn refuses_what_the_system_refuses() {
    let host = FakeHost::new().dir("/etc").file("/srv/f", "");
    let err = |r: Result<Change>| r.unwrap_err().to_string();
    assert_eq!(
        err(host.apply(|| configured("/nope/x".into(), "".into(), None))),
        "write-file /nope/x: No such file or directory (os error 2)"
    );
    assert_eq!(
        err(host.apply(|| configured("/etc".into(), "".into(), None))),
        "read-file /etc: Is a directory (os error 21)"
    );
    assert_eq!(
        err(host.apply(|| configured("etc".into(), "".into(), None))),
        "stat \"etc\": the path must be absolute"
    );
    host.apply(|| fs::remove("/srv/f")).unwrap();
    assert!(!host.exists("/srv/f"));
    assert_eq!(
        host.apply(|| fs::remove("/srv")),
        Ok(()),
        "an empty directory goes"
    );
}

#[test]
fn records_other_modules_forms_and_runs_its_own() {
    let foreign = Form::new("file:directory-exists").arg("/etc/app").unwrap();
    let host = FakeHost::new()
        .dir("/etc")
        .module(&MODULE)
        .form(foreign.clone(), Change::Changed);
    let own = configured_form("/etc/app.conf", "a");
    let unscripted = Form::new("user:exists").arg("ada").unwrap();
    let forms = vec![foreign.clone(), own.clone(), unscripted.clone()];
    assert_eq!(host.apply(|| each(forms.clone())), Ok(Change::Changed));
    assert_eq!(host.forms_applied(), forms);
    assert_eq!(
        host.text("/etc/app.conf").as_deref(),
        Some("a"),
        "its own form ran"
    );
    assert!(
        !host.exists("/etc/app"),
        "the other module's was only recorded"
    );

    // A form applying itself stops, as in the runtime.
    let err = host.apply(recurse).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: apply nested more than 32 deep",
            "fake:recurse: ".repeat(33) + r#"["fake:recurse"]"#
        )
    );
    let shallow = Form::from_value(json!(["fake:each", [["fake:each", []]]])).unwrap();
    assert_eq!(host.apply(|| apply(&shallow)), Ok(Change::Unchanged));
    let failing = FakeHost::new().form_fails(unscripted.clone(), "useradd failed");
    assert_eq!(
        failing
            .apply(|| each(vec![unscripted]))
            .unwrap_err()
            .message(),
        "user:exists: useradd failed"
    );
}

#[test]
fn applies_forms_validated_first() {
    let host = FakeHost::new().module(&MODULE);
    assert_eq!(
        host.apply_form(&configured_form("/a", "a")),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.apply_form(&Form::new("fake:configured").value(json!("/a")))
            .unwrap_err()
            .message(),
        "missing argument 2 (content)"
    );
    let nested = Form::new("fake:each")
        .arg([json!(["fake:configured", "/b"])])
        .unwrap();
    assert_eq!(
        host.apply_form(&nested).unwrap_err().message(),
        "argument 1 (forms): fake:configured: missing argument 2 (content)"
    );
    assert!(!host.exists("/b"), "nothing ran");
    assert_eq!(
        host.apply_form(&Form::new("fake:nope"))
            .unwrap_err()
            .message(),
        "module fake has no property fake:nope \
         (it has fake:configured, fake:each, fake:user-known, fake:recurse)"
    );
}

#[test]
fn records_subdeployments_and_gives_facts() {
    let contexts = [Context::chroot("/srv/c1")];
    let forms = [configured_form("/x", "x")];
    let host = FakeHost::new()
        .hostname("web1")
        .architecture("aarch64")
        .data("password", "s3cret\n")
        .subdeploy(contexts.clone(), Change::Changed);
    let facts = host.apply(|| {
        (
            crate::host::hostname(),
            crate::host::architecture(),
            crate::host::identity().is_root(),
            crate::host::data_text("password"),
            subdeploy(&contexts, &forms),
            subdeploy(&[Context::setuid("ada")], &forms),
        )
    });
    assert_eq!(
        facts,
        (
            "web1".into(),
            "aarch64".into(),
            true,
            Ok("s3cret".into()),
            Ok(Change::Changed),
            Ok(Change::Unchanged)
        )
    );
    assert_eq!(host.subdeployments().len(), 2);
    assert_eq!(host.subdeployments()[0].contexts, contexts);
    assert_eq!(host.subdeployments()[1].forms, forms);
    let missing = host.apply(|| crate::host::data("token")).unwrap_err();
    assert_eq!(
        missing.message(),
        "data: this host has no data named \"token\" (the FakeHost has password)"
    );
}

#[test]
#[should_panic(expected = "host call `hostname` with no host")]
fn a_host_call_outside_a_fake_host_says_so() {
    crate::host::hostname();
}

#[test]
fn makes_and_reads_symlinks() {
    let host = FakeHost::new()
        .dir("/etc/nginx/sites-available/x")
        .file("/srv/f", "");
    let made = host.apply(|| fs::symlink("sites-available", "/etc/nginx/sites-enabled"));
    assert_eq!(made, Ok(()));
    assert_eq!(
        host.apply(|| fs::readlink("/etc/nginx/sites-enabled")),
        Ok("sites-available".to_owned())
    );
    assert!(host.stat("/etc/nginx/sites-enabled").unwrap().is_symlink());
    let listed = host
        .apply(|| fs::list_dir("/etc/nginx/sites-enabled"))
        .unwrap();
    assert_eq!(
        listed.len(),
        1,
        "a symlink to a directory is listed through"
    );
    let err = |r: Result<()>| r.unwrap_err().to_string();
    assert_eq!(
        err(host.apply(|| fs::symlink("/x", "/etc/nginx/sites-enabled"))),
        "symlink /etc/nginx/sites-enabled -> /x: File exists (os error 17)"
    );
    assert_eq!(
        err(host.apply(|| fs::symlink("/x", "/srv/f"))),
        "symlink /srv/f -> /x: File exists (os error 17)"
    );
    assert_eq!(
        err(host.apply(|| fs::symlink("/x", "/nope/link"))),
        "symlink /nope/link -> /x: No such file or directory (os error 2)"
    );
    assert_eq!(
        host.apply(|| fs::readlink("/srv/f")).unwrap_err().message(),
        "readlink /srv/f: Invalid argument (os error 22)"
    );
    // A dangling one is there all the same.
    host.apply(|| fs::symlink("/nowhere", "/srv/dangling"))
        .unwrap();
    assert_eq!(host.readlink("/srv/dangling").as_deref(), Some("/nowhere"));
}

#[test]
fn chowns_by_name_or_number_never_through_a_symlink() {
    let host = FakeHost::new()
        .user("ada", 1000, 1000)
        .group("staff", 50, ["ada"])
        .file("/srv/f", "")
        .symlink("/srv/l", "f");
    host.apply(|| fs::chown("/srv/f", Some("ada"), Some("staff")))
        .unwrap();
    let stat = host.stat("/srv/f").unwrap();
    assert_eq!((stat.uid, stat.gid), (1000, 50));
    host.apply(|| fs::chown("/srv/f", None, Some("7"))).unwrap();
    assert_eq!(host.stat("/srv/f").unwrap().uid, 1000, "owner left alone");
    assert_eq!(host.stat("/srv/f").unwrap().gid, 7);
    host.apply(|| fs::chown("/srv/l", Some("4242"), None))
        .unwrap();
    assert_eq!(
        host.stat("/srv/l").unwrap().uid,
        4242,
        "the link's own owner"
    );
    assert_eq!(host.stat("/srv/f").unwrap().uid, 1000, "not its target's");
    assert_eq!(
        host.file_changes(),
        [
            "chown /srv/f ada staff",
            "chown /srv/f - 7",
            "chown /srv/l 4242 -"
        ]
    );
    let err = host.apply(|| fs::chown("/srv/f", Some("bob"), None));
    assert_eq!(
        err.unwrap_err().message(),
        "chown /srv/f: no user \"bob\" in /etc/passwd (give it with FakeHost::user)"
    );
    let err = host.apply(|| fs::chown("/srv/f", None, Some("wheel")));
    assert_eq!(
        err.unwrap_err().message(),
        "chown /srv/f: no group \"wheel\" in /etc/group (give it with FakeHost::group)"
    );
    assert_eq!(
        host.apply(|| fs::chown("/srv/none", Some("root"), None))
            .unwrap_err()
            .message(),
        "chown /srv/none: No such file or directory (os error 2)"
    );
}

#[test]
fn renames_as_linux_does() {
    let host = FakeHost::new()
        .file("/srv/a/x", "x")
        .file("/srv/a/sub/y", "y")
        .file("/srv/old", "old")
        .file("/srv/new", "new")
        .dir("/srv/full/z")
        .dir("/srv/empty");
    host.apply(|| fs::rename("/srv/old", "/srv/new")).unwrap();
    assert_eq!(host.text("/srv/new").as_deref(), Some("old"), "replaced");
    assert!(!host.exists("/srv/old"));
    host.apply(|| fs::rename("/srv/a", "/srv/b")).unwrap();
    assert_eq!(
        host.text("/srv/b/sub/y").as_deref(),
        Some("y"),
        "with what is beneath"
    );
    assert!(!host.exists("/srv/a/x"));
    let err = |from: &'static str, to: &'static str| {
        host.apply(|| fs::rename(from, to)).unwrap_err().to_string()
    };
    assert_eq!(
        err("/srv/new", "/srv/empty"),
        "rename /srv/new to /srv/empty: Is a directory (os error 21)"
    );
    assert_eq!(
        err("/srv/b", "/srv/new"),
        "rename /srv/b to /srv/new: Not a directory (os error 20)"
    );
    assert_eq!(
        err("/srv/b", "/srv/full"),
        "rename /srv/b to /srv/full: Directory not empty (os error 39)"
    );
    assert_eq!(
        err("/srv/b", "/srv/b/sub/c"),
        "rename /srv/b to /srv/b/sub/c: Invalid argument (os error 22)"
    );
    assert_eq!(
        err("/srv/none", "/srv/x"),
        "rename /srv/none to /srv/x: No such file or directory (os error 2)"
    );
    host.apply(|| fs::rename("/srv/b", "/srv/empty")).unwrap();
    assert_eq!(
        host.file_changes(),
        [
            "rename /srv/old /srv/new",
            "rename /srv/a /srv/b",
            "rename /srv/b /srv/empty"
        ],
        "failures are not changes"
    );
    assert_eq!(
        host.text("/srv/empty/x").as_deref(),
        Some("x"),
        "an empty directory replaced"
    );
}

#[test]
fn lists_directories_sorted_with_each_entrys_own_kind() {
    let host = FakeHost::new()
        .file("/d/b-c", "")
        .file("/d/b/inner", "")
        .symlink("/d/a", "b")
        .special("/d/fifo")
        .file("/d2", "");
    let entries = host.apply(|| fs::list_dir("/d")).unwrap();
    let listed: Vec<(&str, fs::FileKind)> =
        entries.iter().map(|e| (e.name.as_str(), e.kind)).collect();
    assert_eq!(
        listed,
        [
            ("a", fs::FileKind::Symlink),
            ("b", fs::FileKind::Directory),
            ("b-c", fs::FileKind::File),
            ("fifo", fs::FileKind::Other),
        ]
    );
    let root: Vec<String> = host
        .list_dir("/")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(root, ["d", "d2"]);
    assert_eq!(
        host.apply(|| fs::list_dir("/d2")).unwrap_err().message(),
        "list-dir /d2: Not a directory (os error 20)"
    );
    assert_eq!(
        host.apply(|| fs::list_dir("/none")).unwrap_err().message(),
        "list-dir /none: No such file or directory (os error 2)"
    );
}

#[test]
fn changes_move_mtimes() {
    let host = FakeHost::new()
        .file("/srv/old", "")
        .mtime("/srv/old", 1_000)
        .dir("/srv/d");
    let stat = |path: &str| host.stat(path).unwrap();
    assert_eq!(stat("/srv/old").mtime, 1_000);
    let start = stat("/srv/d").mtime;
    host.apply(|| fs::write("/srv/d/f", "x", None)).unwrap();
    let written = stat("/srv/d/f").mtime;
    assert!(written > start);
    assert_eq!(
        stat("/srv/d").mtime,
        written,
        "a new entry changes its directory"
    );
    host.apply(|| fs::chmod("/srv/d/f", crate::Mode::new(0o600).unwrap()))
        .unwrap();
    assert_eq!(stat("/srv/d/f").mtime, written, "chmod changes no content");
    host.apply(|| fs::write("/srv/d/f", "y", None)).unwrap();
    assert!(stat("/srv/d/f").mtime > written);
    host.apply(|| fs::rename("/srv/old", "/srv/d/old")).unwrap();
    assert_eq!(stat("/srv/d/old").mtime, 1_000, "a rename keeps it");
}

#[test]
fn gives_facts_variables_and_files_of_the_consfig() {
    let host = FakeHost::new()
        .user("ada", 1000, 100)
        .group("users", 100, ["ada", "bob"])
        .in_chroot(true)
        .var("domain", "example.org")
        .var("ports", json!([80, 443]))
        .consfig_file("files/motd", "hello\n");
    let answers = host.apply(|| {
        (
            crate::host::os_release().unwrap().version_codename,
            crate::host::lookup_user("ada").unwrap().map(|u| u.home),
            crate::host::lookup_user("1000").unwrap().map(|u| u.name),
            crate::host::lookup_user("bob").unwrap(),
            crate::host::lookup_group("100").unwrap().map(|g| g.members),
            crate::host::lookup_group("root").unwrap().map(|g| g.gid),
            crate::host::in_chroot(),
            crate::host::var("ports"),
            crate::host::var("nope"),
            crate::host::vars(),
            crate::host::consfig_file("files/motd"),
        )
    });
    let mut vars = serde_json::Map::new();
    vars.insert("domain".into(), json!("example.org"));
    vars.insert("ports".into(), json!([80, 443]));
    assert_eq!(
        answers,
        (
            Some("bookworm".to_owned()),
            Some("/home/ada".to_owned()),
            Some("ada".to_owned()),
            None,
            Some(vec!["ada".to_owned(), "bob".to_owned()]),
            Some(0),
            true,
            Some(json!([80, 443])),
            None,
            vars,
            Ok(b"hello\n".to_vec()),
        )
    );
    assert_eq!(
        host.apply(|| crate::host::consfig_file("other"))
            .unwrap_err()
            .message(),
        "consfig-file: the consfig sent no file \"other\" to this host \
         (the FakeHost has files/motd)"
    );
    let ubuntu = FakeHost::new().os_release(crate::host::OsRelease {
        id: "ubuntu".into(),
        version_id: Some("24.04".into()),
        version_codename: Some("noble".into()),
        pretty_name: None,
    });
    assert_eq!(ubuntu.apply(crate::host::os_release).unwrap().id, "ubuntu");
    assert!(!ubuntu.apply(crate::host::in_chroot));
}

#[test]
fn refuses_the_new_calls_with_an_effect_while_validating() {
    let host = FakeHost::new().file("/f", "");
    host.state.borrow_mut().validating = true;
    let refused = host.apply(|| {
        [
            fs::chown("/f", Some("root"), None).err(),
            fs::symlink("/f", "/l").err(),
            fs::readlink("/f").err(),
            fs::list_dir("/").err(),
            fs::rename("/f", "/g").err(),
            crate::host::os_release().err(),
            crate::host::lookup_user("root").err(),
            crate::host::consfig_file("x").err(),
        ]
    });
    for error in refused {
        let message = error.expect("refused").to_string();
        assert!(
            message.ends_with("is not available while modules are described or forms validated"),
            "{message}"
        );
    }
    assert!(host.exists("/f") && !host.exists("/l"));
}
