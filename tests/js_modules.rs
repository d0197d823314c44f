//! End-to-end: modules written in JavaScript (consfig-wasm/example-js and
//! consfig-wasm/testing-js, built with the SDK of guest-sdk/js) deployed to
//! this machine over the `local` hop. They get the sandbox of a module in any
//! language: the grants the consfig gives them and nothing more, one form's
//! failure its own, arguments checked before anything runs, check mode
//! exact.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use consfig_tests::built;
use consfig_tests::{Chroot, Run, Sandbox, assert_untouched, identities, q, snapshot};
use serde_json::json;

fn path(p: &Path) -> String {
    q(p.display().to_string())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}

fn reason(run: &Run, index: usize) -> String {
    run.forms()[index]["reason"]
        .as_str()
        .unwrap_or_else(|| panic!("form {index} has no reason: {run:?}"))
        .to_owned()
}

fn output(run: &Run, index: usize) -> String {
    run.forms()[index]["output"].as_str().unwrap().to_owned()
}

/// Grants letting example-js make the website at `root`: its files, and
/// the command that makes built.txt.
fn website_grants(root: &Path) -> String {
    format!(
        "[module.example-js]\ngrants = [{}, {}]\n",
        q(format!("write:{}", root.display())),
        q("command:/bin/sh -c 'echo built > built.txt'")
    )
}

fn website(root: &Path) -> String {
    format!(r#"["example-js:website", {}]"#, path(root))
}

#[test]
fn the_website_is_checked_exactly_then_made_then_left_alone() {
    let sb = Sandbox::new();
    let root = sb.path().join("site");
    sb.write_consfig(
        &[built::module("example-js")],
        &[website(&root)],
        &website_grants(&root),
    );

    // A check on a fresh target: what would change, exactly, and nothing done.
    let check = sb.deploy(&["--check"]);
    assert_eq!(check.code, 23, "{check:?}");
    assert_eq!(check.statuses(), ["would-change"], "{check:?}");
    let form = &check.forms()[0];
    let changed: Vec<&str> = form["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    let index = root.join("index.html");
    let built = root.join("built.txt");
    assert_eq!(
        changed,
        [root.to_str().unwrap(), index.to_str().unwrap()],
        "{form}"
    );
    assert_eq!(
        form["skipped"],
        json!(["/bin/sh -c echo built > built.txt"]),
        "the command is a change: skipped, and said so"
    );
    assert!(!root.exists(), "the check made nothing");

    let first = sb.deploy(&[]);
    assert_eq!(first.code, 23, "{first:?}");
    assert_eq!(first.statuses(), ["changed"], "{first:?}");
    let page = std::fs::read_to_string(&index).unwrap();
    let hostname = hostname();
    assert!(
        page.contains(&format!("<h1>Hello from {hostname}</h1>")),
        "{page}"
    );
    assert_eq!(
        std::fs::metadata(&index).unwrap().permissions().mode() & 0o7777,
        0o644
    );
    assert_eq!(std::fs::read_to_string(&built).unwrap(), "built\n");

    let made = identities(&[&root]);
    let second = sb.deploy(&[]);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(second.statuses(), ["unchanged"], "{second:?}");
    let check = sb.deploy(&["--check"]);
    assert_eq!(check.statuses(), ["unchanged"], "{check:?}");
    assert_untouched(&made, "deploying and checking again");

    // A wrong mode is put right, and only the mode.
    std::fs::set_permissions(&index, std::fs::Permissions::from_mode(0o600)).unwrap();
    let fixed = sb.deploy(&[]);
    assert_eq!(fixed.statuses(), ["changed"], "{fixed:?}");
    assert_eq!(
        std::fs::metadata(&index).unwrap().permissions().mode() & 0o7777,
        0o644
    );
    assert_eq!(std::fs::read_to_string(&index).unwrap(), page);
}

#[test]
fn keyword_arguments_reach_the_function_by_name() {
    let sb = Sandbox::new();
    let root = sb.path().join("site");
    let form = format!(
        r#"["example-js:website", {}, {{ title = "Ada & <Bob>" }}]"#,
        path(&root)
    );
    sb.write_consfig(
        &[built::module("example-js")],
        &[form],
        &website_grants(&root),
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["changed"], "{run:?}");
    let page = std::fs::read_to_string(root.join("index.html")).unwrap();
    assert!(
        page.contains("<h1>Hello from Ada &amp; &lt;Bob&gt;</h1>"),
        "{page}"
    );
}

#[test]
fn without_the_write_grant_the_form_fails_naming_it_and_writes_nothing() {
    let sb = Sandbox::new();
    let root = sb.path().join("site");
    // The command, but not the files.
    let grants = format!(
        "[module.example-js]\ngrants = [{}]\n",
        q("command:/bin/sh -c 'echo built > built.txt'")
    );
    sb.write_consfig(&[built::module("example-js")], &[website(&root)], &grants);
    let before = snapshot(sb.path());
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 22, "{run:?}");
    assert_eq!(run.statuses(), ["failed"], "{run:?}");
    let reason = reason(&run, 0);
    // Its first look at the directory is refused: writing grants reading.
    assert!(
        reason.contains("module example-js may not")
            && reason.contains(&format!("no grant read:{}", root.display())),
        "{reason}"
    );
    assert!(!root.exists());
    let after: Vec<_> = snapshot(sb.path())
        .into_iter()
        .filter(|(p, _)| !p.starts_with(sb.cache()))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| !p.starts_with(sb.cache()))
        .collect();
    assert_eq!(after, before, "nothing written but the cache");
}

fn testing_js() -> PathBuf {
    built::module("testing-js")
}

#[test]
fn an_exception_fails_only_its_form_with_its_type_and_place() {
    let sb = Sandbox::new();
    let root = sb.path().join("site");
    let forms = vec![
        r#"["testing-js:counter"]"#.to_owned(),
        r#"["testing-js:throw", "out of range"]"#.to_owned(),
        r#"["testing-js:throw", "type"]"#.to_owned(),
        r#"["testing-js:fail", "a reason of its own"]"#.to_owned(),
        r#"["testing-js:returns", 5]"#.to_owned(),
        r#"["example-js:website", "/"]"#.to_owned(),
        website(&root),
        r#"["testing-js:counter"]"#.to_owned(),
    ];
    sb.write_consfig(
        &[testing_js(), built::module("example-js")],
        &forms,
        &website_grants(&root),
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 22, "{run:?}");
    assert_eq!(
        run.statuses(),
        [
            "changed", "failed", "failed", "failed", "failed", "failed", "changed", "changed"
        ],
        "{run:?}"
    );
    let range = reason(&run, 1);
    assert!(
        range.starts_with("RangeError: out of range (at "),
        "an unexpected exception names its type and where: {range}"
    );
    let type_error = reason(&run, 2);
    assert!(
        type_error.starts_with("TypeError: ") && type_error.contains("undefined"),
        "{type_error}"
    );
    let stack = output(&run, 2);
    assert!(
        stack.starts_with("error: TypeError: ") && stack.contains("\n    at "),
        "its stack is logged: {stack}"
    );
    assert!(
        !stack.contains("initializer.js") && !stack.contains("guarded"),
        "only the module's own frames: {stack}"
    );
    assert_eq!(
        reason(&run, 3),
        "a reason of its own",
        "a ConsfigError is its message"
    );
    assert_eq!(
        reason(&run, 4),
        "testing-js:returns returned 5: return Change.CHANGED or Change.UNCHANGED"
    );
    assert_eq!(reason(&run, 5), "refusing to make a website of /");
    for index in [0, 7] {
        assert_eq!(
            output(&run, index),
            "counter=1\ninits=1\n",
            "every form starts from the copy taken after init"
        );
    }
    assert!(root.join("index.html").exists());
}

#[test]
fn describe_shows_the_schemas_of_the_parameters() {
    let sb = Sandbox::new();
    let example = built::module("example-js");
    let testing = testing_js();
    let run = sb.consfig(&[
        "describe",
        "--json",
        example.to_str().unwrap(),
        testing.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let modules = run.events();
    assert_eq!(modules[0]["module"], "example-js");
    assert_eq!(
        modules[0]["needs"],
        json!(["command:/bin/sh -c 'echo built > built.txt'"])
    );
    let website = &modules[0]["properties"][0];
    assert_eq!(website["name"], "example-js:website");
    assert!(
        website["doc"].as_str().unwrap().starts_with(
            "Put a small static website under `root`: the directory, an `index.html`\n(mode 0644)"
        ),
        "the doc, its indentation gone: {website}"
    );
    assert_eq!(
        website["params"],
        json!([
            {"name": "root", "schema": "string", "optional": false, "default": null},
            {"name": "title", "schema": "optional<string>", "optional": true, "default": null},
        ])
    );
    let run_params = modules[1]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "testing-js:run")
        .unwrap()["params"]
        .clone();
    assert_eq!(
        run_params,
        json!([
            {"name": "argv", "schema": "list<string>", "optional": false, "default": null},
            {"name": "read-only", "schema": "bool", "optional": true, "default": false},
        ]),
        "readOnly is given as read-only"
    );
}

#[test]
fn bad_arguments_are_refused_before_anything_runs() {
    let sb = Sandbox::new();
    let root = sb.path().join("site");
    let written = sb.path().join("written");
    let write = format!(r#"["testing-js:write", {}, "hi"]"#, path(&written));
    let cases = [
        (
            format!(
                r#"["example-js:website", {}, {{ titel = "x" }}]"#,
                path(&root)
            ),
            r#"unknown keyword argument "titel": it takes title"#,
        ),
        (
            r#"["example-js:website", 42]"#.to_owned(),
            "argument 1 (root): expected a string, got an integer",
        ),
        (
            format!(r#"["example-js:website", {}, "t", "extra"]"#, path(&root)),
            "too many arguments: expected at most 2 (root, title), got 3",
        ),
        (
            // Deep in a form's arguments: a form of another module.
            format!(
                r#"["testing-js:each", [{}, ["example-js:website"]]]"#,
                write
            ),
            "argument 1 (forms): item 2: example-js:website: missing argument 1 (root)",
        ),
    ];
    for (bad, expected) in cases {
        sb.write_consfig(
            &[testing_js(), built::module("example-js")],
            &[write.clone(), bad.clone()],
            &format!(
                "{}\n[module.testing-js]\ngrants = [{}]\n",
                website_grants(&root),
                q(format!("write:{}", sb.path().display()))
            ),
        );
        let run = sb.deploy(&[]);
        assert_eq!(run.code, 2, "{bad} is refused as bad input: {run:?}");
        assert!(
            run.stderr.contains("Consfig.toml:") && run.stderr.contains(expected),
            "{bad}: {}",
            run.stderr
        );
        assert!(!written.exists(), "{bad}: the form before it did not run");
        assert!(!root.exists());
    }
}

#[test]
fn a_hostile_module_gets_the_same_refusals_as_any() {
    let sb = Sandbox::new();
    let granted = sb.path().join("granted");
    let outside = sb.path().join("outside");
    std::fs::create_dir_all(&granted).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret"), "secret\n").unwrap();
    let touched = outside.join("touched");
    let forms = vec![
        format!(
            r#"["testing-js:write", {}, "ok"]"#,
            path(&granted.join("ok"))
        ),
        format!(
            r#"["testing-js:write", {}, "x"]"#,
            q(format!("{}/../outside/dotdot", granted.display()))
        ),
        format!(
            r#"["testing-js:write", {}, "x"]"#,
            path(&outside.join("direct"))
        ),
        format!(r#"["testing-js:read", {}]"#, path(&outside.join("secret"))),
        format!(r#"["testing-js:run", ["touch", {}]]"#, path(&touched)),
        r#"["testing-js:spin"]"#.to_owned(),
        r#"["testing-js:echo", "after"]"#.to_owned(),
    ];
    sb.write_consfig(
        &[testing_js()],
        &forms,
        &format!(
            "[module.testing-js]\ngrants = [{}]\nlimits = {{ time = \"2s\" }}\n",
            q(format!("write:{}", granted.display()))
        ),
    );
    let before = snapshot(&outside);
    let run = sb.deploy(&[]);
    assert_eq!(
        run.statuses(),
        [
            "changed",
            "failed",
            "failed",
            "failed",
            "failed",
            "failed",
            "unchanged"
        ],
        "{run:?}"
    );
    assert!(
        reason(&run, 1).contains("may not contain . or .."),
        "{}",
        reason(&run, 1)
    );
    for index in [2, 3] {
        let why = reason(&run, index);
        assert!(
            why.contains("module testing-js may not") && why.contains("no grant"),
            "{why}"
        );
    }
    assert!(
        reason(&run, 4).contains("no grant command:/usr/bin/touch"),
        "{}",
        reason(&run, 4)
    );
    assert!(
        reason(&run, 5).contains("time limit of 2s"),
        "the endless loop is stopped: {}",
        reason(&run, 5)
    );
    assert_eq!(output(&run, 6), "after\n");
    assert_eq!(
        snapshot(&outside),
        before,
        "nothing outside the grant changed"
    );
    assert_eq!(std::fs::read_to_string(granted.join("ok")).unwrap(), "ok");
}

#[test]
fn host_calls_and_the_console_reach_the_form() {
    let sb = Sandbox::new();
    sb.write_consfig(
        &[testing_js()],
        &[r#"["testing-js:facts"]"#.to_owned()],
        "[vars]\ncolour = \"blue\"\n",
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["unchanged"], "{run:?}");
    let facts: std::collections::BTreeMap<String, String> = output(&run, 0)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(facts["hostname"], hostname());
    assert_eq!(facts["architecture"], std::env::consts::ARCH);
    let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap());
    assert_eq!(facts["uid"], uid.to_string());
    assert_eq!(facts["in-chroot"], "false");
    assert_eq!(facts["root-user"], "root");
    assert_eq!(facts["var"], "\"blue\"");
    assert_eq!(facts["unset"], "undefined");
}

#[test]
fn a_subdeployment_applies_forms_in_a_chroot_only_when_granted() {
    let sb = Sandbox::new();
    let chroot = Chroot::build(sb.path().join("c1"));
    let inside = r#"["testing-js:write", "/inside.txt", "in"]"#;
    let form = format!(
        r#"["testing-js:subdeploy", [{}], [{inside}, ["testing-js:counter"]]]"#,
        q(format!("chroot:{}", chroot.root.display()))
    );
    sb.write_consfig(&[testing_js()], std::slice::from_ref(&form), "");
    let refused = sb.deploy(&[]);
    assert_eq!(refused.statuses(), ["failed"], "{refused:?}");
    assert!(
        reason(&refused, 0).contains("no grant subdeploy"),
        "{refused:?}"
    );
    assert!(!chroot.outside("/inside.txt").exists());

    let grants = format!(
        "[module.testing-js]\ngrants = [\"write:/\", \"subdeploy\", {}]\n",
        q(format!("context:chroot:{}", chroot.root.display()))
    );
    sb.write_consfig(&[testing_js()], &[form], &grants);
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["changed"], "{run:?}");
    assert_eq!(
        std::fs::read_to_string(chroot.outside("/inside.txt")).unwrap(),
        "in"
    );
    assert!(
        !Path::new("/inside.txt").exists(),
        "nothing escaped the chroot"
    );
    let nested = run.forms()[0]["nested"].as_array().unwrap().clone();
    assert_eq!(nested.len(), 2, "{run:?}");
    assert_eq!(nested[1]["outcome"]["output"], "counter=1\ninits=1\n");
}
