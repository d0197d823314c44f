//! Check mode (`consfig deploy --check`): nothing on the target changes, later
//! forms see what earlier ones would have written, and the files it says
//! would change are exactly those the real deploy then changes.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use consfig_tests::tree::{differing, listing};
use consfig_tests::{Chroot, Sandbox, module, q};

#[test]
fn check_changes_nothing_and_predicts_exactly_what_the_deploy_changes() {
    let sb = Sandbox::new();
    let root = sb.path().join("target");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/motd"), "old motd\n").unwrap();
    std::fs::write(root.join("etc/same"), "same\n").unwrap();
    std::fs::write(root.join("etc/junk"), "junk\n").unwrap();
    std::fs::set_permissions(
        root.join("etc/same"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let p = |rel: &str| q(root.join(rel).display().to_string());
    let forms = vec![
        format!("[\"file:directory-exists\", {}]", p("srv/www/static")),
        format!(
            "[\"file:has-content\", {}, \"<h1>hi</h1>\\n\"]",
            p("srv/www/index.html")
        ),
        format!("[\"file:has-content\", {}, \"new motd\\n\"]", p("etc/motd")),
        format!("[\"file:has-content\", {}, \"same\\n\"]", p("etc/same")),
        format!("[\"file:has-mode\", {}, \"0600\"]", p("etc/motd")),
        format!("[\"file:absent\", {}]", p("etc/junk")),
        // Sees what the second form would have written: unchanged.
        format!(
            "[\"file:has-content\", {}, \"<h1>hi</h1>\\n\"]",
            p("srv/www/index.html")
        ),
    ];
    sb.write_consfig(&[module("file")], &forms, "");

    let before = listing(&root);
    let check = sb.deploy(&["--check", "--diff"]);
    assert_eq!(check.code, 23, "something would change: {check:?}");
    assert_eq!(listing(&root), before, "check mode changed the target");
    let check_statuses = check.statuses();
    assert_eq!(
        check_statuses,
        [
            "would-change",
            "would-change",
            "would-change",
            "unchanged",
            "would-change",
            "would-change",
            "unchanged"
        ],
        "{check:?}"
    );
    let motd = &check.forms()[2]["changes"][0];
    assert!(
        motd["diff"]
            .as_str()
            .unwrap()
            .contains("-old motd\n+new motd\n"),
        "a unified diff: {motd}"
    );

    let deploy = sb.deploy(&[]);
    assert_eq!(
        deploy.statuses_as_checked(),
        check_statuses,
        "the check predicted every form: {deploy:?}"
    );
    let changed = differing(&before, &listing(&root));
    assert_eq!(
        check.changed_paths(Path::new("/")),
        changed,
        "the check predicted exactly the files changed"
    );
}

#[test]
fn a_check_sees_through_chroots_both_ways() {
    let sb = Sandbox::new();
    let chroot = Chroot::build(sb.path().join("c1"));
    let root = chroot.root.display().to_string();
    let forms = vec![
        // Outside, into the chroot's tree.
        format!(
            "[\"file:has-content\", {}, \"hello\\n\"]",
            q(format!("{root}/etc/motd"))
        ),
        format!(
            r#"["chroot:deploys", {}, [
                ["file:has-content", "/etc/motd", "hello\n"],
                ["file:has-content", "/etc/issue", "inside\n"]
            ]]"#,
            q(&root)
        ),
        // Sees what the chroot's form would have written.
        format!(
            "[\"file:has-content\", {}, \"inside\\n\"]",
            q(format!("{root}/etc/issue"))
        ),
    ];
    sb.write_consfig(&[module("file"), module("chroot")], &forms, "");

    let before = listing(&chroot.root);
    let check = sb.deploy(&["--check", "--diff"]);
    assert_eq!(
        listing(&chroot.root),
        before,
        "check mode changed the chroot"
    );
    let predicted_statuses = check.statuses_as_checked();
    assert_eq!(
        predicted_statuses,
        [
            "would-change",
            "would-change",
            "unchanged",
            "would-change",
            "unchanged"
        ],
        "the chroot saw the motd written outside, the outside saw its issue: {check:?}"
    );
    assert_eq!(
        check.changed_paths(Path::new("/")),
        BTreeSet::from([chroot.outside("/etc/motd"), chroot.outside("/etc/issue")]),
        "the chroot's changes are reported in the host's paths: {check:?}"
    );

    // In text, each diff is under the line of the form that would make it,
    // in the paths of the host.
    let text = sb.consfig(&["deploy", "--check", "--diff", "box"]);
    let lines: Vec<&str> = text.stdout.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{}", text.stdout))
    };
    let issue_diff = at(&format!("+++ {}", chroot.outside("/etc/issue").display()));
    let issue_line = at("] file:has-content /etc/issue");
    let subdeploy_line = at("box :: chroot:deploys");
    let third_line = at(&format!(
        "box :: file:has-content {}/etc/issue",
        chroot.root.display()
    ));
    assert!(
        subdeploy_line < issue_line && issue_line < issue_diff && issue_diff < third_line,
        "the chroot's diff is under its nested line:\n{}",
        text.stdout
    );
    let motd_diffs = lines
        .iter()
        .filter(|l| l.trim_start().starts_with("+++ ") && l.contains("/etc/motd ("))
        .count();
    assert_eq!(motd_diffs, 1, "the first form's, once:\n{}", text.stdout);
    assert_eq!(
        lines.iter().filter(|l| l.contains("+inside")).count(),
        1,
        "each diff once:\n{}",
        text.stdout
    );

    let deploy = sb.deploy(&[]);
    assert_eq!(
        deploy.statuses_as_checked(),
        predicted_statuses,
        "the check predicted every form: {deploy:?}"
    );
    assert_eq!(
        differing(&before, &listing(&chroot.root)),
        check.changed_paths(Path::new("/")),
        "the check predicted exactly the files changed"
    );
}

#[test]
fn check_skips_commands_that_change_things_and_says_so() {
    let sb = Sandbox::new();
    let marker = sb.path().join("ran");
    let forms = vec![
        format!(
            "[\"cmd:single\", [\"sh\", \"-c\", {}], {}]",
            q(format!("touch {}", marker.display())),
            q(marker.display().to_string())
        ),
        // Looks the account up with a read-only command, which check mode runs.
        "[\"user:exists\", \"root\"]".to_owned(),
    ];
    sb.write_consfig(&[module("cmd"), module("user")], &forms, "");
    let run = sb.deploy(&["--check"]);
    assert_eq!(run.statuses(), ["would-change", "unchanged"], "{run:?}");
    let skipped = &run.forms()[0]["skipped"];
    assert!(
        skipped[0].as_str().unwrap().starts_with("sh -c touch"),
        "says which command it did not run: {skipped}"
    );
    assert!(!marker.exists(), "the command did not run");

    let text = sb.consfig(&["deploy", "--check", "box"]);
    assert!(
        text.stdout
            .contains("would change (could not know: did not run `sh -c touch"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("box: 1 would change, 1 unchanged"),
        "{}",
        text.stdout
    );
}

/// Forms that depend on a command check mode does not run: the command
/// would make a file that the forms after it read.
fn depending_on_a_command(sb: &Sandbox, extra_forms: &[String]) -> PathBuf {
    let dir = sb.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    let made = dir.join("made");
    let made_text = q(made.display().to_string());
    let mut forms = vec![
        format!(
            "[\"cmd:single\", [\"sh\", \"-c\", {}], {made_text}]",
            q(format!("echo built > {}", made.display()))
        ),
        format!("[\"testing:read\", {made_text}]"),
        // The same, in a subdeployment.
        format!("[\"testing:subdeploy-forms\", [], [[\"testing:read\", {made_text}]]]"),
        format!(
            "[\"file:has-content\", {}, \"known\\n\"]",
            q(dir.join("known").display().to_string())
        ),
    ];
    forms.extend_from_slice(extra_forms);
    let grants = format!(
        "[module.testing]\ngrants = [{}, \"subdeploy\"]\n",
        q(format!("read:{}", dir.display()))
    );
    sb.write_consfig(
        &[module("cmd"), module("testing"), module("file")],
        &forms,
        &grants,
    );
    made
}

#[test]
fn a_failure_after_a_command_check_mode_did_not_run_is_unknown() {
    let sb = Sandbox::new();
    let made = depending_on_a_command(&sb, &[]);
    let check = sb.deploy(&["--check"]);
    assert_eq!(
        check.statuses(),
        ["would-change", "unknown", "unknown", "would-change"],
        "{check:?}"
    );
    assert_eq!(check.code, 23, "unknown is no failure: {check:?}");
    assert!(!made.exists(), "check mode ran the command");
    let unknown = &check.forms()[1];
    assert!(
        unknown["reason"].as_str().unwrap().contains("No such file"),
        "its failure is still shown: {unknown}"
    );
    let step = &unknown["unknown_after"][0];
    assert_eq!(step["step"], "not-run", "{unknown}");
    assert!(
        step["command"]
            .as_str()
            .unwrap()
            .starts_with("sh -c echo built"),
        "{unknown}"
    );
    let nested = &check.forms()[2]["nested"][0]["outcome"];
    assert_eq!(nested["status"], "unknown", "{nested}");
    assert_eq!(check.forms()[2]["unknown_after"][0], *step);
    let summary = check.event("summary");
    assert_eq!(
        (&summary["failed"], &summary["unknown"], &summary["changed"]),
        (&0.into(), &2.into(), &2.into()),
        "{summary}"
    );

    let text = sb.consfig(&["deploy", "--check", "box"]);
    assert_eq!(text.code, 23, "{text:?}");
    assert!(
        text.stdout.contains(&format!(
            "box :: testing:read {} ... unknown: ",
            made.display()
        )) && text
            .stdout
            .contains("(not known: check mode did not run `sh -c echo built"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("box: 2 would change, 0 unchanged, 0 failed, 2 unknown"),
        "{}",
        text.stdout
    );

    let deploy = sb.deploy(&[]);
    assert_eq!(
        deploy.statuses(),
        ["changed", "unchanged", "unchanged", "changed"],
        "the deploy then succeeds: {deploy:?}"
    );
    assert_eq!(deploy.code, 23, "{deploy:?}");
    assert_eq!(std::fs::read_to_string(&made).unwrap(), "built\n");
}

#[test]
fn a_refusal_by_the_grants_or_a_limit_is_a_failure_even_after_a_command_not_run() {
    let sb = Sandbox::new();
    // Not granted: read beyond the testing module's directory.
    let outside = sb.path().join("outside");
    std::fs::write(&outside, "x").unwrap();
    depending_on_a_command(
        &sb,
        &[
            format!("[\"testing:read\", {}]", q(outside.display().to_string())),
            // A limit reached in a call within is no more unknown.
            "[\"testing:apply-recurse\"]".to_owned(),
        ],
    );
    let check = sb.deploy(&["--check"]);
    assert_eq!(
        check.statuses(),
        [
            "would-change",
            "unknown",
            "unknown",
            "would-change",
            "failed",
            "failed"
        ],
        "{check:?}"
    );
    assert!(
        check.forms()[4]["reason"]
            .as_str()
            .unwrap()
            .contains("denied"),
        "{check:?}"
    );
    assert_eq!(check.code, 22, "a refusal is a real failure: {check:?}");
    assert_eq!(check.event("summary")["failed"], 2);
}

#[test]
fn diff_needs_check() {
    let sb = Sandbox::new();
    sb.write_consfig(&[module("file")], &[], "");
    let run = sb.consfig(&["deploy", "--diff", "box"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--check"), "{}", run.stderr);
}
