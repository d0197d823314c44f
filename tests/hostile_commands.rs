//! A module written to turn its grants into more — code of its own run as
//! root through a command it was granted exactly, a chroot or user it was
//! not granted, a secret it was not given, a write in check mode — against
//! the real runtime. Each attempt fails its form with a reason that says
//! why, and leaves the host as it was.

use std::path::{Path, PathBuf};

use consfig_tests::{Chroot, Run, Sandbox, Testing, q, snapshot, toml_value};

/// The language of the `testing` module these tests run against:
/// tests/hostile_python.rs includes this file and sets its own.
#[allow(dead_code)]
const TESTING: Testing = Testing::Rust;

fn module(name: &str) -> std::path::PathBuf {
    crate::TESTING.module(name)
}
use serde_json::{Value, json};

fn reason(run: &Run, i: usize) -> String {
    run.forms()[i]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A program's path as a grant names it: the file PATH finds.
fn program(name: &str) -> PathBuf {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed"));
    std::fs::canonicalize(found).unwrap()
}

fn run_with(spec: Value) -> String {
    toml_value(&json!(["testing:run-with", spec]))
}

fn grants(list: &[String]) -> String {
    let quoted: Vec<String> = list.iter().map(q).collect();
    format!("[module.testing]\ngrants = [{}]\n", quoted.join(", "))
}

/// A script that leaves a mark at `marker` when it runs.
fn payload(marker: &Path) -> String {
    format!("#!/bin/sh\ntouch {}\n", marker.display())
}

#[test]
fn a_granted_command_gets_no_variable_it_was_not_granted_and_never_a_loader_one() {
    let sb = Sandbox::new();
    let id = program("id");
    let sh = program("sh");
    let forms = vec![
        // The loader told to load bytes fed on stdin.
        run_with(json!({
            "argv": [id, "-u"],
            "env": {"LD_PRELOAD": "/proc/self/fd/0"},
            "stdin": "ELF bytes",
        })),
        // Granted by name: still never passed.
        run_with(json!({"argv": [id, "-u"], "env": {"GCONV_PATH": "/tmp"}})),
        // Not granted.
        run_with(json!({"argv": [sh, "-c", "echo $BASH_ENV"], "env": {"BASH_ENV": "/tmp/x"}})),
        // Granted by name.
        run_with(json!({"argv": [sh, "-c", "echo $MY_SETTING"], "env": {"MY_SETTING": "on"}})),
    ];
    let granted = grants(&[
        format!("command:{} -u", id.display()),
        format!("command:{} -c *", sh.display()),
        "env:GCONV_PATH".into(),
        "env:MY_SETTING".into(),
        "env:*".into(),
    ]);
    sb.write_consfig(&[module("testing")], &forms, &granted);
    let run = sb.deploy(&[]);
    assert_eq!(
        run.statuses(),
        ["failed", "failed", "failed", "changed"],
        "{run:?}"
    );
    for (i, name) in [(0, "LD_PRELOAD"), (1, "GCONV_PATH")] {
        assert!(
            reason(&run, i).contains(&format!(
                "{name} steers the dynamic loader and never reaches the commands of untrusted modules"
            )),
            "{}",
            reason(&run, i)
        );
    }
    assert!(
        reason(&run, 2).contains("it has no grant env:BASH_ENV"),
        "env:* does not cover variables the module sets: {}",
        reason(&run, 2)
    );
    let output = run.forms()[3]["output"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(output.contains("stdout: on"), "{run:?}");
}

#[test]
fn an_argument_glob_matches_one_argument_and_never_an_option() {
    let sb = Sandbox::new();
    let id = program("id");
    let sh = program("sh");
    let marker = sb.path().join("ran-id");
    let forms = vec![
        // `*` swallowing shell code after the granted words.
        run_with(json!({"argv": [sh, "-c", format!("echo hi; touch {}", marker.display())]})),
        // The granted shape: `sh -c echo X` runs echo, X is only $0.
        run_with(json!({"argv": [sh, "-c", "echo", format!("; touch {}", marker.display())]})),
        // A wildcard standing for an option.
        run_with(json!({"argv": [id, "-u"]})),
        run_with(json!({"argv": [id, "root"]})),
        // Two arguments for one glob.
        run_with(json!({"argv": [id, "root", "daemon"]})),
    ];
    let granted = grants(&[
        format!("command:{} -c echo *", sh.display()),
        format!("command:{} *", id.display()),
    ]);
    sb.write_consfig(&[module("testing")], &forms, &granted);
    let run = sb.deploy(&[]);
    assert_eq!(
        run.statuses(),
        ["failed", "changed", "failed", "changed", "failed"],
        "{run:?}"
    );
    assert!(!marker.exists(), "shell code ran through an argument glob");
    for i in [0, 2, 4] {
        assert!(
            reason(&run, i).contains("denied: module testing may not run"),
            "{}",
            reason(&run, i)
        );
    }
}

#[test]
fn a_program_is_run_by_the_path_checked_and_never_one_the_module_can_write() {
    let sb = Sandbox::new();
    let dir = sb.path().join("granted");
    std::fs::create_dir_all(dir.join("usr/bin")).unwrap();
    let marker = sb.path().join("payload-ran");
    let id = program("id");
    let tool = dir.join("tool");
    let forms = vec![
        json!(["testing:plant", dir.join("usr/bin/id"), payload(&marker)]).to_string(),
        // Relative to the command's directory, checked against another.
        run_with(json!({"argv": ["usr/bin/id"], "cwd": dir})),
        run_with(json!({"argv": ["./usr/bin/id"], "cwd": dir})),
        // A program beneath its own write grant, granted exactly.
        json!(["testing:plant", tool, payload(&marker)]).to_string(),
        run_with(json!({"argv": [tool]})),
        // The granted program elsewhere still runs.
        run_with(json!({"argv": [id]})),
    ];
    let granted = grants(&[
        format!("write:{}", dir.display()),
        format!("command:{}", id.display()),
        format!("command:{}", tool.display()),
    ]);
    sb.write_consfig(&[module("testing")], &forms, &granted);
    let run = sb.deploy(&[]);
    assert_eq!(
        run.statuses(),
        [
            "changed", "failed", "failed", "changed", "failed", "changed"
        ],
        "{run:?}"
    );
    assert!(!marker.exists(), "a planted program ran");
    for i in [1, 2] {
        assert!(
            reason(&run, i).contains("a program path with a / must be absolute"),
            "{}",
            reason(&run, i)
        );
    }
    assert_eq!(
        reason(&run, 4),
        format!(
            "denied: module testing may not run {}: module testing may write {} (write:{}), so the command could run any code (grant command:* if that is meant)",
            tool.display(),
            tool.display(),
            dir.display()
        )
    );
}

#[test]
fn a_chroot_the_module_can_write_runs_none_of_its_programs_and_contexts_need_grants() {
    let sb = Sandbox::new();
    let chroot = Chroot::build(sb.path().join("root"));
    let other = Chroot::build(sb.path().join("other"));
    let marker_inside = "/escaped";
    let plant_id = json!([
        "testing:plant",
        chroot.outside("/usr/bin/id"),
        payload(Path::new(marker_inside))
    ]);
    std::fs::create_dir_all(chroot.outside("/usr/bin")).unwrap();
    let in_root = |forms: Value| {
        toml_value(&json!([
            "testing:subdeploy-forms",
            [format!("chroot-bare:{}", chroot.root.display())],
            forms
        ]))
    };
    let forms = vec![
        plant_id.to_string(),
        in_root(json!([["testing:run-with", {"argv": ["/usr/bin/id"]}]])),
        // Contexts it was not granted.
        json!([
            "testing:subdeploy-counter",
            [format!("chroot:{}", other.root.display())],
            1
        ])
        .to_string(),
        json!(["testing:subdeploy-counter", ["setuid:nobody"], 1]).to_string(),
        json!([
            "testing:subdeploy-counter",
            [format!("chroot:{}/../other", chroot.root.display())],
            1
        ])
        .to_string(),
        // The granted one, for a form with no command.
        in_root(json!([["testing:counter"]])),
    ];
    let granted = grants(&[
        format!("write:{}", chroot.root.display()),
        "subdeploy".into(),
        format!("context:chroot:{}", chroot.root.display()),
        "command:/usr/bin/id".into(),
    ]);
    sb.write_consfig(&[module("testing")], &forms, &granted);
    let before = snapshot(&other.root);
    let run = sb.deploy(&[]);
    assert_eq!(
        run.statuses(),
        ["changed", "failed", "failed", "failed", "failed", "changed"],
        "{run:?}"
    );
    assert!(
        !chroot.outside(marker_inside).exists(),
        "the payload ran in the chroot"
    );
    assert!(
        !Path::new(marker_inside).exists(),
        "the payload ran outside"
    );
    let nested = &run.forms()[1]["nested"][0]["outcome"]["reason"];
    assert!(
        nested
            .as_str()
            .unwrap_or_default()
            .contains("module testing may write /usr/bin/id"),
        "{run:?}"
    );
    assert!(
        reason(&run, 2).contains(&format!(
            "it has no grant context:chroot:{}",
            other.root.display()
        )),
        "{}",
        reason(&run, 2)
    );
    assert!(
        reason(&run, 3).contains("it has no grant context:setuid:nobody"),
        "{}",
        reason(&run, 3)
    );
    assert!(
        reason(&run, 4).contains("may not contain . or .."),
        "{}",
        reason(&run, 4)
    );
    assert_eq!(snapshot(&other.root), before);
}

#[test]
fn a_chroot_reached_through_a_symlink_is_refused() {
    let sb = Sandbox::new();
    let chroot = Chroot::build(sb.path().join("root"));
    let elsewhere = Chroot::build(sb.path().join("elsewhere"));
    // Within the granted directory, a link to a tree outside it.
    std::os::unix::fs::symlink(&elsewhere.root, chroot.outside("/link")).unwrap();
    let forms = vec![
        json!([
            "testing:subdeploy-counter",
            [format!("chroot-bare:{}/link", chroot.root.display())],
            1
        ])
        .to_string(),
    ];
    let granted = grants(&[
        "subdeploy".into(),
        format!("context:chroot:{}", chroot.root.display()),
    ]);
    sb.write_consfig(&[module("testing")], &forms, &granted);
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["failed"], "{run:?}");
    let said = run.forms()[0]["nested"][0]["outcome"]["reason"].to_string() + &reason(&run, 0);
    assert!(said.contains("leads through a symlink"), "{run:?}");
}

#[test]
fn data_is_given_only_to_a_module_granted_its_key() {
    let sb = Sandbox::new();
    let secret_file = sb.path().join("db-secret");
    std::fs::write(&secret_file, "s3cr3t-value\n").unwrap();
    let out = sb.path().join("out");
    let forms = vec![json!(["testing:leak-data", "db", out]).to_string()];
    let extra = format!(
        "{}[hosts.box.data]\ndb = {}\n",
        grants(&[format!("write:{}", sb.path().display()), "data:api".into()]),
        q(secret_file.display().to_string())
    );
    // The data table belongs to the host: written after its properties.
    let path = sb.write_consfig(&[module("testing")], &forms, "");
    let text = std::fs::read_to_string(&path).unwrap() + &extra;
    std::fs::write(&path, text).unwrap();
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["failed"], "{run:?}");
    assert!(
        reason(&run, 0).contains("denied: module testing may not data db: it has no grant data:db"),
        "{}",
        reason(&run, 0)
    );
    assert!(!out.exists());
    assert!(!run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"));
}

#[test]
fn check_mode_runs_read_only_commands_where_they_can_write_nothing_and_reach_nobody() {
    let sb = Sandbox::new();
    let dir = sb.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let touch = program("touch");
    let bash = program("bash");
    let forms = vec![
        // A module that says its command only looks, and lies.
        run_with(json!({"argv": [touch, dir.join("written")], "read-only": true})),
        run_with(json!({
            "argv": [bash, "-c", format!("exec 3<>/dev/tcp/127.0.0.1/{port}")],
            "read-only": true,
        })),
        // One that really only looks works.
        run_with(json!({"argv": [bash, "-c", "echo looked"], "read-only": true})),
    ];
    let granted = grants(&[
        format!("command:{}", touch.display()),
        format!("command:{} -c *", bash.display()),
        format!("write:{}", dir.display()),
    ]);
    sb.write_consfig(&[module("testing")], &forms, &granted);
    let before = snapshot(&dir);
    let run = sb.deploy(&["--check"]);
    assert_eq!(
        run.statuses(),
        ["failed", "failed", "would-change"],
        "{run:?}"
    );
    assert_eq!(snapshot(&dir), before, "check mode changed the host");
    assert!(
        run.forms()[0]["output"]
            .as_str()
            .unwrap_or_default()
            .contains("Read-only file system"),
        "{run:?}"
    );
    assert!(listener.accept().is_err(), "a check-mode command connected");
    // Deploying for real, the same command writes.
    let real = sb.deploy(&[]);
    assert!(dir.join("written").exists(), "{real:?}");
}

#[test]
fn a_check_mode_commands_scratch_space_is_its_own_small_and_gone_after() {
    let sb = Sandbox::new();
    let bash = program("bash");
    let marker = format!("consfig-scratch-{}", std::process::id());
    let forms = vec![
        // Leaves a file in its scratch directory, then tries to fill it.
        run_with(json!({
            "argv": [bash, "-c", format!(
                "echo kept > /dev/shm/{marker} && test \"$TMPDIR\" = /dev/shm && \
                 head -c 100M /dev/zero > /dev/shm/filler"
            )],
            "read-only": true,
        })),
        // The next command (of the next form) finds none of it.
        run_with(json!({
            "argv": [bash, "-c", format!("ls -A /dev/shm; test ! -e /dev/shm/{marker}")],
            "read-only": true,
        })),
    ];
    sb.write_consfig(
        &[module("testing")],
        &forms,
        &grants(&[format!("command:{} -c *", bash.display())]),
    );
    let run = sb.deploy(&["--check"]);
    assert_eq!(run.statuses(), ["failed", "would-change"], "{run:?}");
    assert!(
        run.forms()[0]["output"]
            .as_str()
            .unwrap_or_default()
            .contains("No space left on device"),
        "the scratch holds 64 MiB at most: {run:?}"
    );
    assert_eq!(
        run.forms()[1]["output"],
        "stdout: \nstderr: \n",
        "a later command sees an empty scratch: {run:?}"
    );
    assert!(
        !Path::new("/dev/shm").join(&marker).exists(),
        "the scratch is not this machine's /dev/shm"
    );
}

#[test]
fn check_mode_queries_as_another_user_write_nothing_and_reach_nobody() {
    let sb = Sandbox::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // Where the user may write, outside any grant of the module's.
    let marker = PathBuf::from(format!("/tmp/consfig-as-nobody-{}", std::process::id()));
    let bash = program("bash");
    let as_nobody = |script: String| {
        toml_value(&json!([
            "testing:subdeploy-forms",
            ["setuid:nobody"],
            [["testing:run-with", {"argv": [bash, "-c", script], "read-only": true}]]
        ]))
    };
    let forms = vec![
        as_nobody(format!("touch {}", marker.display())),
        as_nobody(format!("exec 3<>/dev/tcp/127.0.0.1/{port}")),
        // Looking, and a scratch file, work.
        as_nobody("id -un && echo x > \"$TMPDIR/scratch\" && cat /etc/hostname".into()),
    ];
    let granted = grants(&[
        "subdeploy".into(),
        "context:setuid:nobody".into(),
        format!("command:{} -c *", bash.display()),
    ]);
    sb.write_consfig(&[module("testing")], &forms, &granted);
    let run = sb.deploy(&["--check"]);
    assert_eq!(
        run.statuses(),
        ["failed", "failed", "would-change"],
        "{run:?}"
    );
    let nested = |i: usize| run.forms()[i]["nested"][0]["outcome"]["output"].to_string();
    assert!(nested(0).contains("Read-only file system"), "{run:?}");
    assert!(!marker.exists(), "a check-mode query as another user wrote");
    assert!(listener.accept().is_err(), "a check-mode query connected");
    assert!(nested(2).contains("nobody"), "{run:?}");
    // Deploying for real, the same command writes, as that user.
    let real = sb.deploy(&[]);
    let owner = std::fs::metadata(&marker).map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    let _ = std::fs::remove_file(&marker);
    assert_eq!(
        owner.ok(),
        nix::unistd::User::from_name("nobody")
            .unwrap()
            .map(|u| u.uid.as_raw()),
        "{real:?}"
    );
}

#[test]
fn names_are_looked_up_only_for_a_module_granted_net_and_never_in_check_mode() {
    let sb = Sandbox::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let forms = [r#"["testing:resolve", "localhost"]"#.to_owned()];
    // Granting net to another module of the deploy turns WASI's lookups on.
    let extra = "[module.file]\ngrants = [\"write:/\", \"net\"]\n";
    sb.write_consfig(&[module("testing"), module("file")], &forms[..1], extra);
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["failed"], "{run:?}");
    assert!(
        run.forms()[0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("denied: module testing may not look up localhost: it has no grant net"),
        "{run:?}"
    );
    // Granted, it resolves; in check mode, neither lookups nor sockets.
    let granted = "[module.testing]\ngrants = [\"net\"]\n";
    let connect = format!(r#"["testing:connect", "127.0.0.1:{port}"]"#);
    sb.write_consfig(&[module("testing")], &[forms[0].clone(), connect], granted);
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["unchanged", "changed"], "{run:?}");
    assert!(listener.accept().is_ok(), "the granted connection was made");
    let check = sb.deploy(&["--check"]);
    assert_eq!(check.statuses(), ["failed", "failed"], "{check:?}");
    for (i, what) in [(0, "look up localhost"), (1, "connect to 127.0.0.1")] {
        let said = check.forms()[i]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            said.contains(&format!("denied: module testing may not {what}"))
                && said.contains("check mode reaches no other host"),
            "{said}"
        );
    }
    assert!(listener.accept().is_err(), "check mode connected");
}

#[test]
fn a_module_cannot_write_itself_a_bundle_with_more_grants_than_it_has() {
    let sb = Sandbox::new();
    let out = sb.path().join("service");
    let dump = |grants: Value| {
        toml_value(&json!([
            "testing:apply-form",
            ["image:dumped", out, ["testing:counter"], grants]
        ]))
    };
    let forms = vec![
        dump(json!(["command:*"])),
        dump(json!([format!("write:{}", sb.path().display()), "net"])),
    ];
    let granted = grants(&[format!("write:{}", sb.path().display())]);
    sb.write_consfig(&[module("testing"), module("image")], &forms, &granted);
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["failed", "failed"], "{run:?}");
    assert!(
        reason(&run, 0).contains(
            "denied: module testing may not dump-image with command:*: it has no grant command:*"
        ),
        "{}",
        reason(&run, 0)
    );
    assert!(
        reason(&run, 1).contains("it has no grant net"),
        "{}",
        reason(&run, 1)
    );
    assert!(!out.exists(), "a bundle was written");
}

#[test]
fn no_module_writes_the_runtimes_cache_even_with_write_on_everything() {
    let sb = Sandbox::new();
    let modules_dir = sb.cache().join("consfig/modules");
    // A first deploy fills the cache.
    sb.write_consfig(
        &[module("testing")],
        &[r#"["testing:counter"]"#.to_owned()],
        "",
    );
    let first = sb.deploy(&[]);
    assert_eq!(first.statuses(), ["changed"], "{first:?}");
    let compiled = std::fs::read_dir(&modules_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .expect("compiled code in the cache");
    // The code the runtime loads: sent by the controller, named by its hash.
    let code_dir = sb.cache().join("consfig/code");
    let loaded = std::fs::read_dir(&code_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .expect("the runtime's code in the cache");
    let write = |path: &Path| toml_value(&json!(["testing:write", path, "poison"]));
    std::os::unix::fs::symlink(&modules_dir, sb.path().join("into-cache")).unwrap();
    let forms = vec![
        write(&compiled),
        write(&modules_dir.join("new.cwasm")),
        write(&loaded),
        write(&code_dir.join("0".repeat(64))),
        toml_value(&json!(["testing:remove", sb.cache()])),
        // Through a symlink the grant of `/` would follow.
        write(&sb.path().join("into-cache/other.cwasm")),
    ];
    let granted = grants(&["write:/".into()]);
    sb.write_consfig(&[module("testing")], &forms, &granted);
    let before = snapshot(&sb.cache());
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses().len(), 6, "{run:?}");
    for (i, status) in run.statuses().iter().enumerate() {
        assert_eq!(status, "failed", "form {i}: {run:?}");
        assert!(
            reason(&run, i).contains("that is the runtime's own cache and executable"),
            "{}",
            reason(&run, i)
        );
    }
    let after: Vec<_> = snapshot(&sb.cache())
        .into_iter()
        .filter(|(p, _)| p.extension().is_none_or(|x| x == "cwasm" || x == "wasm"))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| p.extension().is_none_or(|x| x == "cwasm" || x == "wasm"))
        .collect();
    assert_eq!(after, before, "the cache changed");
    assert!(
        after.iter().any(|(p, _)| p == &loaded),
        "the runtime's code is among what was compared"
    );
}
