//! The `consfig` module's combinators through the real binary and runtime:
//! `on-change` applies its handlers only after a change (and predicts them
//! in check mode), `all` stops at its first failure, and `when-os` applies
//! its forms only on a system whose os-release matches.

use std::path::Path;

use consfig_tests::tree::{differing, listing};
use consfig_tests::{Sandbox, module, toml_value};
use serde_json::{Value, json};

/// `ID` and `VERSION_ID` of this machine's os-release, which a local deploy
/// reads as the target's.
fn this_os() -> (String, String) {
    let text = std::fs::read_to_string("/etc/os-release").expect("this machine's os-release");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_else(|| panic!("{name} in /etc/os-release"))
    };
    (field("ID"), field("VERSION_ID"))
}

fn write(sb: &Sandbox, forms: &[Value]) {
    let forms: Vec<String> = forms.iter().map(toml_value).collect();
    sb.write_consfig(&[module("file"), module("consfig")], &forms, "");
}

#[test]
fn on_change_runs_its_handlers_only_after_a_change_and_check_predicts_them() {
    let sb = Sandbox::new();
    let root = sb.path().join("target");
    std::fs::create_dir_all(&root).unwrap();
    let p = |rel: &str| root.join(rel).display().to_string();
    // The handler removes a stamp: whether the stamp is there tells whether
    // the handler ran.
    let stamp = root.join("reload-pending");
    std::fs::write(&stamp, "").unwrap();
    let forms = [json!([
        "consfig:on-change",
        [["file:has-content", p("site.conf"), "listen 80;\n"]],
        [["file:absent", p("reload-pending")]]
    ])];
    write(&sb, &forms);

    let before = listing(&root);
    let check = sb.deploy(&["--check"]);
    assert_eq!(check.statuses(), ["would-change"], "{check:?}");
    assert_eq!(listing(&root), before, "check mode changed the target");

    let deploy = sb.deploy(&[]);
    assert_eq!(deploy.statuses(), ["changed"], "{deploy:?}");
    assert!(!stamp.exists(), "the handler ran after the change");
    assert_eq!(
        check.changed_paths(Path::new("/")),
        differing(&before, &listing(&root)),
        "the check predicted the handler's change too"
    );
    let output = deploy.forms()[0]["output"].as_str().unwrap().to_owned();
    assert!(output.contains("file:has-content: changed"), "{output}");

    // Nothing changes now: the handler must not run again.
    std::fs::write(&stamp, "").unwrap();
    let again = sb.deploy(&[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.statuses(), ["unchanged"]);
    assert!(stamp.exists(), "no change, no handler");
    let check = sb.deploy(&["--check"]);
    assert_eq!(check.statuses(), ["unchanged"], "{check:?}");
}

#[test]
fn all_stops_at_its_first_failure_and_on_change_skips_its_handlers_after_one() {
    let sb = Sandbox::new();
    let root = sb.path().join("target");
    std::fs::create_dir_all(root.join("dir")).unwrap();
    let p = |rel: &str| root.join(rel).display().to_string();
    let forms = [
        json!([
            "consfig:all",
            [
                ["file:has-content", p("first"), "1\n"],
                // A directory is in the way: this form fails.
                ["file:has-content", p("dir"), "2\n"],
                ["file:has-content", p("third"), "3\n"]
            ]
        ]),
        json!([
            "consfig:on-change",
            [
                ["file:has-content", p("config"), "new\n"],
                ["file:has-content", p("dir"), "x\n"]
            ],
            [["file:has-content", p("handler-ran"), "yes\n"]]
        ]),
    ];
    write(&sb, &forms);
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["failed", "failed"], "{run:?}");
    assert!(
        root.join("first").exists(),
        "forms before the failure applied"
    );
    assert!(!root.join("third").exists(), "no form after the failure");
    assert!(root.join("config").exists());
    assert!(
        !root.join("handler-ran").exists(),
        "no handler after a failure"
    );
    let reasons = serde_json::to_string(&run.forms()).unwrap();
    assert!(reasons.contains("1 later form(s) not applied"), "{reasons}");
    assert!(
        reasons.contains("the 1 form(s) of `then` were not applied"),
        "{reasons}"
    );
}

#[test]
fn when_os_applies_its_forms_only_on_a_matching_system() {
    let (id, version) = this_os();
    let sb = Sandbox::new();
    let root = sb.path().join("target");
    std::fs::create_dir_all(&root).unwrap();
    let p = |rel: &str| root.join(rel).display().to_string();
    let forms = [
        json!(["consfig:when-os", {"id": id, "version": version}, [["file:has-content", p("here"), "x\n"]]]),
        json!(["consfig:when-os", {"id": format!("not-{id}")}, [["file:has-content", p("elsewhere"), "x\n"]]]),
    ];
    write(&sb, &forms);
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["changed", "unchanged"], "{run:?}");
    assert!(root.join("here").exists());
    assert!(!root.join("elsewhere").exists());
    let output = run.forms()[1]["output"].as_str().unwrap().to_owned();
    assert!(
        output.contains(&format!("not applied: id is {id}, not not-{id}")),
        "{output}"
    );

    // A misspelt field is refused before anything is applied.
    let bad = [json!(["consfig:when-os", {"ID": id}, [["file:has-content", p("typo"), "x\n"]]])];
    write(&sb, &bad);
    let run = sb.deploy(&[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        format!("{}{}", run.stderr, run.stdout).contains("unknown field `ID`"),
        "{run:?}"
    );
    assert!(!root.join("typo").exists());
}
