//! Grants, against a module written to misbehave (`testing`, which is not a
//! standard module and so gets only what the consfig grants): `..`, a
//! symlink out of its directory, an absolute path outside it, a command and a
//! socket it was not granted, and calling a standard module to do what it may
//! not. Each attempt fails its form with a reason naming the module, the call
//! and the missing grant, and nothing outside the grant changes.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use consfig_tests::{Run, Sandbox, Testing, q, snapshot};

/// The language of the `testing` module these tests run against:
/// tests/hostile_python.rs includes this file and sets its own.
#[allow(dead_code)]
const TESTING: Testing = Testing::Rust;

fn module(name: &str) -> std::path::PathBuf {
    crate::TESTING.module(name)
}

fn reason(run: &Run, i: usize) -> String {
    run.forms()[i]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn path(p: &Path) -> String {
    q(p.display().to_string())
}

#[test]
fn a_module_cannot_reach_past_its_grants() {
    let sb = Sandbox::new();
    let granted = sb.path().join("granted");
    let outside = sb.path().join("outside");
    std::fs::create_dir_all(&granted).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "keep out\n").unwrap();
    std::os::unix::fs::symlink("../outside", granted.join("link")).unwrap();
    std::os::unix::fs::symlink(&outside, granted.join("abs-link")).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    let write = |p: PathBuf| format!("[\"testing:write\", {}, \"x\"]", path(&p));
    let forms = vec![
        write(granted.join("ok.txt")),
        // `..` out of the granted directory.
        format!(
            "[\"testing:write\", {}, \"x\"]",
            q(format!("{}/../outside/dotdot.txt", granted.display()))
        ),
        // Symlinks inside the grant that point out of it.
        write(granted.join("link/through-link.txt")),
        write(granted.join("abs-link/through-abs-link.txt")),
        format!(
            "[\"testing:read\", {}]",
            path(&granted.join("link/secret.txt"))
        ),
        // An absolute path outside.
        write(outside.join("absolute.txt")),
        // A command it was not granted.
        format!(
            "[\"testing:run\", [\"/bin/rm\", \"-f\", {}]]",
            path(&outside.join("secret.txt"))
        ),
        // A socket it was not granted.
        format!("[\"testing:connect\", \"127.0.0.1:{port}\"]"),
        // A standard module asked to do what the caller may not.
        format!(
            "[\"testing:apply-form\", [\"file:has-content\", {}, \"x\"]]",
            path(&outside.join("via-file.txt"))
        ),
        // What it was granted still works after all that.
        write(granted.join("after.txt")),
        "[\"testing:run\", [\"/bin/true\"]]".to_owned(),
        // Subdeploying forms, to run them where its grants would not reach.
        "[\"testing:subdeploy-counter\", [], 1]".to_owned(),
    ];
    let extra = format!(
        "[module.testing]\ngrants = [{}, \"command:/bin/true\"]\n",
        q(format!("write:{}", granted.display()))
    );
    sb.write_consfig(&[module("testing"), module("file")], &forms, &extra);
    let before = snapshot(&outside);
    let run = sb.deploy(&[]);

    let statuses = run.statuses();
    assert_eq!(
        statuses,
        [
            "changed", "failed", "failed", "failed", "failed", "failed", "failed", "failed",
            "failed", "changed", "changed", "failed"
        ],
        "{run:?}"
    );
    assert!(
        reason(&run, 1).contains(". or .."),
        "dot-dot: {}",
        reason(&run, 1)
    );
    for i in [2, 3, 4] {
        assert!(
            reason(&run, i).contains("leads out of the granted directory"),
            "symlink {i}: {}",
            reason(&run, i)
        );
    }
    assert!(
        reason(&run, 5).contains("denied: module testing may not write-file")
            && reason(&run, 5).contains(&format!(
                "no grant write:{}",
                outside.join("absolute.txt").display()
            )),
        "absolute: {}",
        reason(&run, 5)
    );
    assert!(
        reason(&run, 6).contains("denied: module testing may not run")
            && reason(&run, 6).contains("no grant command:/bin/rm -f"),
        "command: {}",
        reason(&run, 6)
    );
    let said = reason(&run, 7);
    assert!(
        said.contains("denied: module testing may not connect to 127.0.0.1")
            && said.contains(&format!("net:127.0.0.1:{port}")),
        "socket: {said}"
    );
    assert!(
        listener.accept().is_err(),
        "no connection reached the listener"
    );
    assert!(
        reason(&run, 8).contains("denied: module testing may not")
            && reason(&run, 8).contains("via-file.txt"),
        "through file: {}",
        reason(&run, 8)
    );

    assert_eq!(
        snapshot(&outside),
        before,
        "nothing outside the grant changed"
    );
    assert!(granted.join("ok.txt").exists() && granted.join("after.txt").exists());
}

#[test]
fn an_absolute_symlink_that_stays_inside_the_grant_is_followed() {
    let sb = Sandbox::new();
    let app = sb.path().join("app");
    std::fs::create_dir_all(app.join("releases/1")).unwrap();
    std::os::unix::fs::symlink(app.join("releases/1"), app.join("current")).unwrap();
    let forms = vec![
        format!(
            "[\"testing:write\", {}, \"v1\"]",
            path(&app.join("current/config"))
        ),
        format!("[\"testing:read\", {}]", path(&app.join("current/config"))),
    ];
    let extra = format!(
        "[module.testing]\ngrants = [{}]\n",
        q(format!("write:{}", app.display()))
    );
    sb.write_consfig(&[module("testing")], &forms, &extra);
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["changed", "unchanged"], "{run:?}");
    assert_eq!(
        std::fs::read_to_string(app.join("releases/1/config")).unwrap(),
        "v1",
        "written where the link leads"
    );
    assert!(
        std::fs::symlink_metadata(app.join("current"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link itself is left alone"
    );
}

#[test]
fn a_deploy_refuses_to_start_when_a_modules_needs_are_not_granted() {
    let sb = Sandbox::new();
    let target = sb.path().join("target.txt");
    // A copy of the standard `file` module with one more byte is no longer
    // it: it gets only what the consfig grants, and it needs write:/,
    // setid:/ and data:*.
    let copy = sb.path().join("file-copy.wasm");
    let mut bytes = std::fs::read(module("file")).unwrap();
    bytes.extend_from_slice(&[0, 5, 4, b'e', b'd', b'i', b't']);
    std::fs::write(&copy, bytes).unwrap();
    let form = format!("[\"file:has-content\", {}, \"x\"]", path(&target));

    sb.write_consfig(std::slice::from_ref(&copy), std::slice::from_ref(&form), "");
    let refused = sb.deploy(&[]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("module file needs grants it was not given: \"write:/\"")
            && refused.stderr.contains("[module.file]"),
        "{}",
        refused.stderr
    );
    assert!(!target.exists(), "nothing ran");

    sb.write_consfig(
        std::slice::from_ref(&copy),
        std::slice::from_ref(&form),
        "[module.file]\ngrants = [\"write:/\", \"setid:/\", \"data:*\"]\n",
    );
    let granted = sb.deploy(&[]);
    assert_eq!(granted.statuses(), ["changed"], "{granted:?}");

    sb.write_consfig(
        std::slice::from_ref(&copy),
        std::slice::from_ref(&form),
        "[module.file]\ntrusted = true\n",
    );
    let trusted = sb.deploy(&[]);
    assert_eq!(trusted.code, 0, "{trusted:?}");
    assert!(
        trusted.events().iter().any(|e| e["event"] == "notice"
            && e["message"]
                .as_str()
                .unwrap()
                .contains("module file is trusted")),
        "the report says the module is trusted: {}",
        trusted.stdout
    );
}

#[test]
fn apply_says_to_grant_with_its_flags_not_in_a_consfig() {
    let sb = Sandbox::new();
    let target = sb.path().join("target.txt");
    // Not the standard `file` module: granted nothing unless told.
    let copy = sb.path().join("file-copy.wasm");
    let mut bytes = std::fs::read(module("file")).unwrap();
    bytes.extend_from_slice(&[0, 5, 4, b'e', b'd', b'i', b't']);
    std::fs::write(&copy, bytes).unwrap();
    let copy = copy.display().to_string();
    let form = format!("[\"file:has-content\", {}, \"x\"]", path(&target));
    let refused = sb.consfig(&["apply", "--modules", &copy, "local", &form]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("module file needs grants it was not given: \"write:/\"")
            && refused.stderr.contains("--grant file=GRANT")
            && refused.stderr.contains("--trusted file"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("[module.") && !refused.stderr.contains("Consfig.toml"),
        "there is no Consfig.toml to edit: {}",
        refused.stderr
    );
    let stray = sb.consfig(&[
        "apply",
        "--modules",
        &copy,
        "--trusted",
        "nope",
        "local",
        &form,
    ]);
    assert!(
        stray
            .stderr
            .contains("--grant/--trusted nope: no module named nope"),
        "{}",
        stray.stderr
    );
    assert!(!target.exists(), "nothing ran");
    let granted = sb.consfig(&[
        "apply",
        "--modules",
        &copy,
        "--grant",
        "file=write:/",
        "--grant",
        "file=setid:/",
        "--grant",
        "file=data:*",
        "local",
        &form,
    ]);
    assert_eq!(granted.code, 23, "{granted:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "x");
}

#[test]
fn a_consfig_can_narrow_a_standard_module() {
    let sb = Sandbox::new();
    let allowed = sb.path().join("allowed");
    std::fs::create_dir(&allowed).unwrap();
    let elsewhere = sb.path().join("elsewhere.txt");
    sb.write_consfig(
        &[module("file")],
        &[
            format!(
                "[\"file:has-content\", {}, \"x\"]",
                path(&allowed.join("a"))
            ),
            format!("[\"file:has-content\", {}, \"x\"]", path(&elsewhere)),
        ],
        &format!(
            "[module.file]\ngrants = [{}]\n",
            q(format!("write:{}", allowed.display()))
        ),
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["changed", "failed"], "{run:?}");
    assert!(
        reason(&run, 1).contains("denied: module file may not"),
        "{run:?}"
    );
    assert!(!elsewhere.exists());

    // Ad hoc, a standard module gets what it declares: still a one-liner.
    let adhoc = sb.path().join("adhoc.txt");
    let run = sb.consfig(&[
        "apply",
        "local",
        &format!("[\"file:has-content\", {}, \"x\"]", path(&adhoc)),
    ]);
    assert_eq!(run.code, 23, "{run:?}");
}

#[test]
fn commands_get_only_the_environment_they_are_granted() {
    let sb = Sandbox::new();
    let form = r#"["testing:run", ["/bin/sh", "-c", "test \"$CONSFIG_TEST_VAR\" = visible"]]"#;
    let modules = module("testing").display().to_string();
    let env = [("CONSFIG_TEST_VAR", Path::new("visible"))];
    let run_with = |grants: &[&str]| {
        let mut args = vec!["apply", "--json", "--modules", &modules];
        for grant in grants {
            args.extend(["--grant", grant]);
        }
        args.extend(["local", form]);
        sb.consfig_with_env(&args, &env)
    };
    let without = run_with(&["testing=command:/bin/sh -c *"]);
    assert_eq!(
        without.statuses(),
        ["failed"],
        "the variable did not pass: {without:?}"
    );
    let with = run_with(&[
        "testing=command:/bin/sh -c *",
        "testing=env:CONSFIG_TEST_VAR",
    ]);
    assert_eq!(with.statuses(), ["changed"], "{with:?}");
    let no_command = run_with(&["testing=env:CONSFIG_TEST_VAR"]);
    assert!(
        reason(&no_command, 0).contains("no grant command:/bin/sh -c"),
        "{no_command:?}"
    );
}
