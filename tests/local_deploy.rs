//! End-to-end: deploys to this machine over the `local` hop, with real modules
//! built from consfig-wasm/ and the real `consfig` binary.

use std::os::unix::fs::PermissionsExt;

use consfig_tests::{Sandbox, TESTING_GRANTS, assert_untouched, identities, module, q};

fn std_modules() -> Vec<std::path::PathBuf> {
    vec![module("file"), module("cmd"), module("example")]
}

#[test]
fn deploy_applies_forms_and_a_second_deploy_changes_nothing() {
    let sb = Sandbox::new();
    let root = sb.path().join("site");
    let motd = sb.path().join("motd");
    let made = sb.path().join("made-by-cmd");
    let forms = vec![
        format!(
            "[\"file:has-content\", {}, \"hello\\n\"]",
            q(motd.display().to_string())
        ),
        format!(
            "[\"file:has-mode\", {}, \"0600\"]",
            q(motd.display().to_string())
        ),
        format!("[\"example:website\", {}]", q(root.display().to_string())),
        format!(
            "[\"cmd:single\", [\"touch\", {m}], {m}]",
            m = q(made.display().to_string())
        ),
    ];
    sb.write_consfig(&std_modules(), &forms, "");

    let first = sb.deploy(&[]);
    assert_eq!(first.code, 23, "changes and no failure: {first:?}");
    assert_eq!(first.statuses(), ["changed"; 4]);
    assert_eq!(std::fs::read_to_string(&motd).unwrap(), "hello\n");
    assert_eq!(
        std::fs::metadata(&motd).unwrap().permissions().mode() & 0o7777,
        0o600
    );
    assert!(
        root.join("index.html").is_file(),
        "example composed file: through apply"
    );
    assert!(
        root.join("built.txt").is_file(),
        "example composed cmd: through apply"
    );
    assert!(made.exists());

    let written = identities(&[&motd, &root, &made]);
    let second = sb.deploy(&[]);
    assert_eq!(second.code, 0, "nothing to change: {second:?}");
    assert_eq!(second.statuses(), ["unchanged"; 4]);
    let summary = second.event("summary");
    assert_eq!(summary["unchanged"], 4);
    assert_eq!(summary["changed"], 0);
    // Not only reported so: no file rewritten, replaced, chmod'ed or added.
    assert_untouched(&written, "the second deploy");
}

#[test]
fn a_second_deploy_sends_no_module_bytes() {
    // Cold: the controller compiles every module, and sends the code.
    let sb = Sandbox::cold();
    let forms = vec![format!(
        "[\"file:absent\", {}]",
        q(sb.path().join("nothing").display().to_string())
    )];
    let modules = std_modules();
    sb.write_consfig(&modules, &forms, "");

    let first = sb.deploy(&[]).event("modules");
    assert_eq!(first["sent"].as_array().unwrap().len(), modules.len());
    assert_eq!(first["arch"], std::env::consts::ARCH);
    assert_eq!(
        first["compiled"].as_array().unwrap().len(),
        modules.len(),
        "a cold controller compiles each module, once"
    );
    // What crossed is the compiled code, compressed.
    let code: u64 = std::fs::read_dir(sb.cache().join("consfig/code"))
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .sum();
    let bytes = first["bytes"].as_u64().unwrap();
    assert!(
        bytes > code / 10 && bytes < code,
        "compressed on the wire: {bytes} of {code}"
    );

    let second = sb.deploy(&[]);
    let modules_event = second.event("modules");
    assert_eq!(modules_event["sent"].as_array().unwrap().len(), 0);
    assert_eq!(modules_event["bytes"], 0);
    assert_eq!(second.event("summary")["bytes_sent"], 0);
}

#[test]
fn every_form_runs_in_a_fresh_copy_of_the_pristine_image() {
    let sb = Sandbox::new();
    let forms = vec!["[\"testing:counter\"]".to_owned(); 10];
    sb.write_consfig(&[module("testing")], &forms, "");
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 23, "{run:?}");
    let forms = run.forms();
    assert_eq!(forms.len(), 10);
    for form in &forms {
        let output = form["output"].as_str().unwrap();
        assert!(
            output.contains("counter=1\n"),
            "each form starts from the pristine counter: {output}"
        );
        assert!(
            output.contains("inits=1\n"),
            "init ran once, before the image was taken: {output}"
        );
    }
}

#[test]
fn a_module_applies_forms_of_its_own_in_another_instance_of_itself() {
    let sb = Sandbox::new();
    let target = sb.path().join("written");
    let forms = vec![
        r#"["testing:apply-form", ["testing:counter"]]"#.to_owned(),
        format!(
            r#"["testing:apply-form", ["testing:write", {}, "hi\n"]]"#,
            q(target.display().to_string())
        ),
        // Two deep: each level its own instance.
        r#"["testing:apply-form", ["testing:apply-form", ["testing:counter"]]]"#.to_owned(),
        r#"["testing:echo", "after"]"#.to_owned(),
    ];
    sb.write_consfig(&[module("testing")], &forms, TESTING_GRANTS);
    let run = sb.deploy(&[]);
    assert_eq!(
        run.statuses(),
        ["changed", "changed", "changed", "unchanged"],
        "{run:?}"
    );
    assert_eq!(run.code, 23, "{run:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "hi\n");
    for index in [0, 2] {
        let output = run.forms()[index]["output"].as_str().unwrap().to_owned();
        assert!(
            output.contains("counter=1\n") && output.contains("inits=1\n"),
            "the form ran in an instance fresh from init: {output}"
        );
    }
}

#[test]
fn forms_report_how_long_they_took_and_count_once_with_their_subdeployments() {
    let sb = Sandbox::new();
    let forms = vec![
        r#"["testing:run", ["sleep", "0.3"]]"#.to_owned(),
        r#"["testing:subdeploy-forms", [], [["testing:counter"], ["testing:echo", 1], ["testing:run", ["sleep", "0.2"]]]]"#.to_owned(),
    ];
    let grants = "[module.testing]\ngrants = [\"command:*\", \"subdeploy\"]\n";
    sb.write_consfig(&[module("testing")], &forms, grants);
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["changed", "changed"], "{run:?}");
    let took = |value: &serde_json::Value| {
        value["duration_ms"]
            .as_u64()
            .unwrap_or_else(|| panic!("no duration in {value}"))
    };
    let form = &run.forms()[0];
    assert!((300..60_000).contains(&took(form)), "{form}");
    let nested = run.forms()[1]["nested"].as_array().unwrap().clone();
    assert_eq!(nested.len(), 3);
    assert!(took(&nested[2]["outcome"]) >= 200, "{}", nested[2]);
    assert!(took(&run.forms()[1]) >= took(&nested[2]["outcome"]));
    // The host's two forms, each once: not the three under the second.
    let summary = run.event("summary");
    assert_eq!(
        (
            &summary["changed"],
            &summary["unchanged"],
            &summary["failed"]
        ),
        (&2.into(), &0.into(), &0.into()),
        "{summary}"
    );

    let text = sb.consfig(&["deploy", "-v", "box"]);
    let first = text
        .stdout
        .lines()
        .find(|l| l.starts_with("box :: testing:run"))
        .unwrap_or_else(|| panic!("{}", text.stdout));
    let shown = first
        .rsplit_once(" [")
        .and_then(|(_, d)| d.strip_suffix(" ms]"))
        .unwrap_or_else(|| panic!("a duration in {first}"));
    assert!(shown.parse::<u64>().unwrap() >= 300, "{first}");
    assert!(
        text.stdout
            .lines()
            .any(|l| l.contains("[subdeployment] testing:counter ... changed [")),
        "nested lines have theirs: {}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("box: 2 changed, 0 unchanged, 0 failed"),
        "{}",
        text.stdout
    );
    let quiet = sb.consfig(&["deploy", "box"]);
    assert!(
        !quiet.stdout.contains(" ms]"),
        "only with -v: {}",
        quiet.stdout
    );
}

#[test]
fn traps_panics_aborts_and_endless_loops_fail_only_their_form() {
    let sb = Sandbox::new();
    let marker = |n: usize| sb.path().join(format!("after-{n}"));
    let mut forms = Vec::new();
    for (n, bad) in ["trap", "panic", "abort", "spin"].iter().enumerate() {
        forms.push(format!("[\"testing:{bad}\"]"));
        forms.push(format!(
            "[\"file:has-content\", {}, \"ok\"]",
            q(marker(n).display().to_string())
        ));
    }
    sb.write_consfig(
        &[module("testing"), module("file")],
        &forms,
        "form-timeout = \"2s\"",
    );

    let run = sb.deploy(&[]);
    assert_eq!(run.code, 22, "a failure makes the deploy fail: {run:?}");
    let forms = run.forms();
    assert_eq!(
        run.statuses(),
        [
            "failed", "changed", "failed", "changed", "failed", "changed", "failed", "changed"
        ]
    );
    let reason = |i: usize| forms[i]["reason"].as_str().unwrap().to_owned();
    assert!(reason(0).contains("unreachable"), "trap: {}", reason(0));
    assert!(
        reason(2).contains("deliberate panic"),
        "panic names its message: {}",
        reason(2)
    );
    assert!(reason(4).starts_with("wasm trap"), "abort: {}", reason(4));
    assert!(
        reason(6).contains("time limit of 2s exceeded"),
        "spin: {}",
        reason(6)
    );
    for n in 0..4 {
        assert!(marker(n).exists(), "the form after failure {n} ran");
    }
    let summary = run.event("summary");
    assert_eq!(
        (summary["failed"].as_u64(), summary["changed"].as_u64()),
        (Some(4), Some(4))
    );
}

#[test]
fn the_timeout_flag_overrides_the_consfig() {
    let sb = Sandbox::new();
    sb.write_consfig(
        &[module("testing")],
        &["[\"testing:spin\"]".to_owned()],
        "form-timeout = \"10m\"",
    );
    let run = sb.deploy(&["--timeout", "1s"]);
    assert_eq!(run.code, 22);
    assert!(
        run.forms()[0]["reason"]
            .as_str()
            .unwrap()
            .contains("time limit of 1s exceeded"),
        "{run:?}"
    );
}

#[test]
fn module_output_is_captured_per_form() {
    let sb = Sandbox::new();
    let forms = vec![
        "[\"testing:print\", \"first\"]".to_owned(),
        "[\"testing:echo\", {\"a\" = [1, 2]}]".to_owned(),
    ];
    sb.write_consfig(&[module("testing")], &forms, "");
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 0, "{run:?}");
    let forms = run.forms();
    let first = forms[0]["output"].as_str().unwrap();
    assert!(
        first.contains("first"),
        "stdout and stderr are captured: {first}"
    );
    let second = forms[1]["output"].as_str().unwrap();
    assert!(
        !second.contains("first"),
        "output does not leak into the next form: {second}"
    );
    assert!(second.contains(r#"{"a":[1,2]}"#), "{second}");
}

#[test]
fn apply_runs_forms_ad_hoc_with_text_output() {
    let sb = Sandbox::new();
    let target = sb.path().join("adhoc");
    let form = format!(
        "[\"file:has-content\", {}, \"x\"]",
        q(target.display().to_string())
    );
    let modules = module("file").display().to_string();
    let run = sb.consfig(&["apply", "--modules", &modules, "local", &form]);
    assert_eq!(run.code, 23, "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "local :: file:has-content {} x ... changed",
            target.display()
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("local: 1 changed, 0 unchanged, 0 failed"),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "x");

    let written = identities(&[&target]);
    let again = sb.consfig(&["apply", "--modules", &modules, "local", &form]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("... unchanged"), "{}", again.stdout);
    assert_untouched(&written, "applying the form again");
}

#[test]
fn apply_finds_the_standard_modules_installed_beside_the_binary() {
    let sb = Sandbox::new();
    let target = sb.path().join("std");
    let form = format!(
        "[\"file:directory-exists\", {}]",
        q(target.display().to_string())
    );
    let run = sb.consfig(&["apply", "local", &form]);
    assert_eq!(run.code, 23, "{run:?}");
    assert!(target.is_dir());
}

#[test]
fn describe_lists_properties_with_their_parameters() {
    let sb = Sandbox::new();
    let run = sb.consfig(&["describe", &module("file").display().to_string()]);
    assert_eq!(run.code, 0, "{run:?}");
    for property in [
        "file:has-content",
        "file:directory-exists",
        "file:absent",
        "file:has-mode",
    ] {
        assert!(
            run.stdout.contains(property),
            "{property} in {}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("path: string"), "{}", run.stdout);

    let json = sb.consfig(&["describe", "--json", &module("cmd").display().to_string()]);
    let described: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(described["module"], "cmd");
    let single = &described["properties"][0];
    assert_eq!(single["name"], "cmd:single");
    assert_eq!(
        single["params"][1]["optional"], true,
        "creates is optional: {single}"
    );
}
