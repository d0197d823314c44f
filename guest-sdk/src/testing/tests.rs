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
