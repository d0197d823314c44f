//! A host's data against a module that puts it in every field a report has
//! — a file's path and contents (text and binary), a diff's header, a
//! subdeployment's context, a nested form's name and arguments, output and
//! reasons — and against what reaches the runtime's stderr: in every output
//! mode, for a value at the blanking threshold and one just under it, both
//! through the controller and read straight from the runtime.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use consfig::sandbox::grants::ModuleGrants;
use consfig::sandbox::policy::Policy;
use consfig::sandbox::redact::REDACT_MIN_LEN;
use consfig::wire::protocol::{self, FromRuntime, ModuleCode, ToRuntime};
use consfig_contract::{Context, Form, Grant};
use consfig_tests::{Chroot, Run, Sandbox, TESTING_GRANTS, Testing, q, runtime_bin};

/// The language of the `testing` module these tests run against:
/// tests/hostile_python.rs includes this file and sets its own.
#[allow(dead_code)]
const TESTING: Testing = Testing::Rust;

fn module(name: &str) -> std::path::PathBuf {
    crate::TESTING.module(name)
}
use serde_json::json;

/// A value long enough to be blanked; a valid part of a name and a path,
/// so the module can put it in both.
const LONG: &str = "correct-horse-battery-staple";
/// A value exactly as long as the blanking threshold: blanked. No letter
/// of it is a hex digit, so no hash in the report spells it by chance.
const AT_THRESHOLD: &str = "k7qz";
/// One byte shorter: too short to be a secret, shown as it is.
const UNDER_THRESHOLD: &str = "k7q";

/// The output modes: each shows the fields of an outcome differently.
const MODES: [(&str, &[&str]); 6] = [
    ("plain", &[]),
    ("verbose", &["-v"]),
    ("json", &["--json"]),
    ("check-diff", &["--check", "--diff"]),
    ("check-diff-json", &["--check", "--diff", "--json"]),
    ("check-verbose", &["--check", "-v"]),
];

/// The base64 text of `value` at each offset among base64's 3-byte groups
/// (the groups wholly made of its bytes): what shows the value in
/// contents encoded as base64.
fn encodings(value: &str) -> Vec<String> {
    (0..3)
        .filter_map(|offset| {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(value.as_bytes());
            let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
            let (from, to) = (offset.div_ceil(3) * 4, bytes.len() / 3 * 4);
            (from < to).then(|| text[from..to].to_owned())
        })
        .collect()
}

/// Neither the value nor an encoding of it anywhere in what the run printed.
fn assert_not_shown(run: &Run, value: &str, what: &str) {
    for shown in [&run.stdout, &run.stderr] {
        assert!(!shown.contains(value), "{what}: {value} shows: {run:?}");
        for encoded in encodings(value) {
            assert!(
                !shown.contains(&encoded),
                "{what}: {value} shows in base64 as {encoded}: {run:?}"
            );
        }
    }
}

/// A data file holding `value` and the newline files end with, outside
/// the consfig's directory.
fn data_file(dir: &Path, value: &str) -> PathBuf {
    let path = dir.join("db-password");
    std::fs::write(&path, format!("{value}\n")).unwrap();
    path
}

/// A Consfig.toml in `dir`: these modules, these grants, and one host `box`
/// with data `db` from `data`, these forms, and these hops after `local`.
fn consfig(
    dir: &Path,
    modules: &[&str],
    grants: &str,
    data: &Path,
    forms: &[String],
    hops: &[String],
) -> String {
    let modules: Vec<String> = modules
        .iter()
        .map(|m| q(module(m).display().to_string()))
        .collect();
    let mut connection = vec![q("local")];
    connection.extend(hops.iter().map(q));
    let text = format!(
        "modules = [{}]\n{grants}\
         [hosts.box]\nconnection = [{}]\ndata = {{ db = {} }}\nproperties = [{}]\n",
        modules.join(", "),
        connection.join(", "),
        q(data.display().to_string()),
        forms.join(", "),
    );
    let path = dir.join("Consfig.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Binary contents holding `value`, as a file held it before.
fn binary(value: &str) -> Vec<u8> {
    let mut bytes = vec![0x01, 0xff];
    bytes.extend_from_slice(value.as_bytes());
    bytes.push(0xfe);
    bytes
}

/// The binary contents `testing:leak-data-into-reports` writes.
fn leaked_binary(value: &str) -> Vec<u8> {
    let mut bytes = vec![0xff, 0xfe, 0x00];
    bytes.extend_from_slice(value.as_bytes());
    bytes.extend_from_slice(&[0x80, b'\n']);
    bytes
}

/// Where one run of `testing:leak-data-into-reports` puts things: its
/// files under `out`, its subdeployment in the chroot `parent/VALUE`.
struct Leak {
    out: PathBuf,
    parent: PathBuf,
    consfig: String,
}

impl Leak {
    fn set_up(dir: &Path, data: &Path, value: &str) -> Leak {
        let (out, parent) = (dir.join("out"), dir.join("c"));
        std::fs::create_dir_all(&out).unwrap();
        // What the files held before: the value too, as text and as bytes.
        std::fs::write(out.join(format!("{value}.txt")), format!("old {value}\n")).unwrap();
        std::fs::write(out.join("blob"), binary(value)).unwrap();
        Chroot::build(parent.join(value));
        let form = format!(
            "[\"testing:leak-data-into-reports\", \"db\", {}, {}]",
            q(out.display().to_string()),
            q(parent.display().to_string())
        );
        let consfig = consfig(dir, &["testing"], TESTING_GRANTS, data, &[form], &[]);
        Leak {
            out,
            parent,
            consfig,
        }
    }

    fn deploy(&self, sb: &Sandbox, mode: &[&str]) -> Run {
        let mut args = vec!["deploy", "--consfig", &self.consfig];
        args.extend_from_slice(mode);
        args.push("box");
        sb.consfig(&args)
    }
}

/// What a report shows of the value in `mode`, blanked to `shown`.
fn assert_blanked_fields(leak: &Leak, mode: &str, run: &Run, shown: &str) {
    let (out, parent) = (leak.out.display(), leak.parent.display());
    let contains = |text: &str| {
        assert!(
            run.stdout.contains(text),
            "{mode}: expected {text:?} in {}",
            run.stdout
        )
    };
    let reason =
        format!("leaked {shown} into every field; 1 of 3 forms failed in chroot:{parent}/{shown}");
    let check = mode.starts_with("check");
    // A file that holds a value blanked shows no contents at all: an edit
    // could split the value where no blank finds it.
    let withheld = shown.starts_with("[data");
    if mode.ends_with("json") {
        let form = &run.forms()[0];
        assert_eq!(form["reason"], reason.as_str(), "{mode}");
        assert_eq!(
            form["output"],
            format!("stdout: {shown}\nthe line after\n").as_str(),
            "{mode}: the line break after the value stays"
        );
        let nested = form["nested"].as_array().unwrap();
        for n in nested {
            assert_eq!(n["context"], format!("chroot:{parent}/{shown}").as_str());
        }
        assert_eq!(
            nested[0]["form"],
            json!(["testing:echo", {shown: [format!("arg {shown}")]}])
        );
        assert_eq!(nested[2]["form"], json!([format!("testing:{shown}")]));
        let unknown = nested[2]["outcome"]["reason"].as_str().unwrap();
        assert!(
            unknown.starts_with(&format!("unknown property testing:{shown}")),
            "{mode}: {unknown}"
        );
        if check {
            let changes = form["changes"].as_array().unwrap();
            let change = |path: String| {
                changes
                    .iter()
                    .find(|c| c["path"] == path.as_str())
                    .unwrap_or_else(|| panic!("{mode}: no change of {path} in {changes:?}"))
            };
            if withheld {
                let withheld = "[contents not shown: this file holds the host's data]\n";
                let text = change(format!("{out}/{shown}.txt"));
                assert_eq!(text["before"]["content"], withheld, "{mode}");
                assert_eq!(text["after"]["content"], withheld, "{mode}");
                assert_eq!(
                    text["diff"],
                    format!(
                        "--- {out}/{shown}.txt (file, mode 644)\n+++ {out}/{shown}.txt (file, mode 644)\n\
                         contents not shown: this file holds the host's data\n"
                    )
                    .as_str()
                );
                let blob = change(format!("{out}/blob"));
                for side in ["before", "after"] {
                    assert_eq!(blob[side]["content"], withheld, "{mode}: blob {side}");
                }
                let inside = change(format!("{parent}/{shown}/in-{shown}"));
                assert_eq!(inside["after"]["content"], withheld, "{mode}");
            } else {
                let text = change(format!("{out}/{shown}.txt"));
                assert_eq!(text["before"]["content"], format!("old {shown}\n").as_str());
                assert_eq!(
                    text["after"]["content"],
                    format!("password={shown}\nnext line\n").as_str()
                );
                assert_eq!(
                    text["diff"],
                    format!(
                        "--- {out}/{shown}.txt (file, mode 644)\n+++ {out}/{shown}.txt (file, mode 644)\n\
                         @@ -1 +1,2 @@\n-old {shown}\n+password={shown}\n+next line\n"
                    )
                    .as_str()
                );
                let blob = change(format!("{out}/blob"));
                for (side, expected) in [("before", binary(shown)), ("after", leaked_binary(shown))]
                {
                    let encoded = blob[side]["content"].as_str().unwrap();
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(encoded.strip_prefix("base64:").unwrap())
                        .unwrap();
                    assert_eq!(
                        bytes, expected,
                        "{mode}: binary contents {side}, blanked as bytes"
                    );
                }
                let inside = change(format!("{parent}/{shown}/in-{shown}"));
                assert_eq!(
                    inside["after"]["content"],
                    format!("inside {shown}\n").as_str()
                );
            }
        }
        return;
    }
    contains(&format!("... failed: {reason}"));
    // A failed form shows its output in every text mode.
    contains(&format!("    | stdout: {shown}\n    | the line after\n"));
    let nested = format!("box ::   [chroot:{parent}/{shown}] ");
    contains(&format!(
        "{nested}testing:{shown} ... failed: unknown property testing:{shown}"
    ));
    contains(&format!(
        "{nested}testing:echo {{\"{shown}\":[\"arg {shown}\"]}} ... unchanged"
    ));
    if mode == "check-diff" && withheld {
        contains(&format!(
            "    --- {out}/{shown}.txt (file, mode 644)\n    +++ {out}/{shown}.txt (file, mode 644)\n    \
             contents not shown: this file holds the host's data\n"
        ));
        // The chroot's file, under the nested form that writes it, in the
        // host's paths, and there only.
        let inside = format!("+++ {parent}/{shown}/in-{shown} (file, mode 644)");
        let write_line = run
            .stdout
            .lines()
            .position(|l| l.starts_with(&format!("{nested}testing:write ")))
            .unwrap_or_else(|| panic!("{mode}: no nested write in {}", run.stdout));
        let under: Vec<&str> = run.stdout.lines().skip(write_line + 1).take(3).collect();
        assert_eq!(
            under,
            [
                format!("      --- {parent}/{shown}/in-{shown} (absent)"),
                format!("      {inside}"),
                "      contents not shown: this file holds the host's data".to_owned(),
            ],
            "{}",
            run.stdout
        );
        assert_eq!(run.stdout.matches(&inside).count(), 1, "{}", run.stdout);
        contains(&format!(
            "    +++ {out}/blob (file, mode 644)\n    contents not shown: this file holds the host's data\n"
        ));
    }
    if mode == "check-diff" && !withheld {
        contains(&format!(
            "    --- {out}/{shown}.txt (file, mode 644)\n    +++ {out}/{shown}.txt (file, mode 644)\n    \
             @@ -1 +1,2 @@\n    -old {shown}\n    +password={shown}\n    +next line\n"
        ));
        // The chroot's file, under the nested form that writes it, in the
        // host's paths, and there only.
        let inside = format!("+++ {parent}/{shown}/in-{shown} (file, mode 644)");
        let write_line = run
            .stdout
            .lines()
            .position(|l| l.starts_with(&format!("{nested}testing:write ")))
            .unwrap_or_else(|| panic!("{mode}: no nested write in {}", run.stdout));
        let under: Vec<&str> = run.stdout.lines().skip(write_line + 1).take(4).collect();
        assert_eq!(
            under,
            [
                format!("      --- {parent}/{shown}/in-{shown} (absent)"),
                format!("      {inside}"),
                "      @@ -0,0 +1 @@".to_owned(),
                format!("      +inside {shown}"),
            ],
            "{}",
            run.stdout
        );
        assert_eq!(run.stdout.matches(&inside).count(), 1, "{}", run.stdout);
        contains(&format!(
            "    +++ {out}/blob (file, mode 644)\n    binary contents differ\n"
        ));
    }
}

#[test]
fn a_value_is_blanked_from_every_field_in_every_output_mode() {
    for value in [LONG, AT_THRESHOLD] {
        assert!(value.len() >= REDACT_MIN_LEN);
        let sb = Sandbox::new();
        let data = data_file(sb.path(), value);
        for (mode, args) in MODES {
            let dir = sb.path().join(mode);
            let leak = Leak::set_up(&dir, &data, value);
            let run = leak.deploy(&sb, args);
            assert_eq!(run.code, 22, "{mode}: the leaking form fails: {run:?}");
            assert_not_shown(&run, value, mode);
            assert_blanked_fields(&leak, mode, &run, "[data db]");
            // The module did get the value: what it wrote holds it.
            let written = std::fs::read_to_string(leak.out.join(format!("{value}.txt")));
            if mode.starts_with("check") {
                assert_eq!(
                    written.unwrap(),
                    format!("old {value}\n"),
                    "{mode}: unchanged"
                );
            } else {
                assert_eq!(written.unwrap(), format!("password={value}\nnext line\n"));
            }
        }
    }
}

#[test]
fn a_value_shorter_than_the_threshold_is_shown_as_it_is() {
    assert_eq!(UNDER_THRESHOLD.len(), REDACT_MIN_LEN - 1);
    let sb = Sandbox::new();
    let data = data_file(sb.path(), UNDER_THRESHOLD);
    for (mode, args) in MODES {
        let leak = Leak::set_up(&sb.path().join(mode), &data, UNDER_THRESHOLD);
        let run = leak.deploy(&sb, args);
        assert_eq!(run.code, 22, "{mode}: {run:?}");
        assert!(!run.stdout.contains("[data"), "{mode}: {}", run.stdout);
        assert_blanked_fields(&leak, mode, &run, UNDER_THRESHOLD);
    }
}

/// A shell script for `testing:pipe-data`: it reads the value from its
/// standard input and writes it to its parent's stderr — the runtime's,
/// which the controller relays — then, with `kill`, kills the runtime
/// (the parent of the control process, the parent of its parent), so the
/// controller shows what the runtime said.
fn to_runtime_stderr(kill: bool) -> String {
    let mut script =
        r#"read -r s; echo "leaked $s" > /proc/$PPID/fd/2; echo "stdout $s""#.to_owned();
    if kill {
        script.push_str(
            "; z=$(cut -d' ' -f4 /proc/$PPID/stat); r=$(cut -d' ' -f4 /proc/$z/stat); kill -9 $r",
        );
    }
    format!(
        "[\"testing:pipe-data\", \"db\", [\"/bin/sh\", \"-c\", {}]]",
        q(script)
    )
}

#[test]
fn a_value_written_to_the_runtimes_stderr_is_blanked_where_the_controller_relays_it() {
    let sb = Sandbox::new();
    let data = data_file(sb.path(), LONG);
    let grants = "[module.testing]\ngrants = [\"command:/bin/sh\", \"data:*\"]\n";
    let consfig = consfig(
        sb.path(),
        &["testing"],
        grants,
        &data,
        &[to_runtime_stderr(true)],
        &[],
    );
    for json in [false, true] {
        let mut args = vec!["deploy", "--consfig", &consfig];
        if json {
            args.push("--json");
        }
        args.push("box");
        let run = sb.consfig(&args);
        assert_eq!(run.code, 22, "{run:?}");
        assert_not_shown(&run, LONG, "stderr");
        let error = if json {
            run.event("host-error")["error"]
                .as_str()
                .unwrap()
                .to_owned()
        } else {
            run.stdout.clone()
        };
        assert!(
            error.contains("lost the runtime") && error.contains("runtime said: leaked [data db]"),
            "the runtime's stderr is shown, blanked: {run:?}"
        );
    }
}

#[test]
fn a_fatal_error_is_blanked_from_the_host_error_and_the_runtimes_stderr() {
    let sb = Sandbox::new();
    let data = data_file(sb.path(), LONG);
    let missing = sb.path().join("missing").join(LONG);
    let hop = format!("chroot:{}", missing.display());
    let consfig = consfig(
        sb.path(),
        &["testing"],
        TESTING_GRANTS,
        &data,
        &[r#"["testing:counter"]"#.to_owned()],
        &[hop],
    );
    let run = sb.consfig(&["deploy", "--consfig", &consfig, "--json", "box"]);
    assert_eq!(run.code, 22, "{run:?}");
    assert_not_shown(&run, LONG, "fatal");
    let error = run.event("host-error")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    let blanked = format!("{}/missing/[data db]", sb.path().display());
    assert!(
        error.starts_with("runtime: ") && error.contains(&blanked),
        "the fatal message, blanked: {error}"
    );
    assert!(
        error.contains("runtime said: consfig runtime: ") && error.matches(&blanked).count() >= 2,
        "the runtime's last words on stderr, blanked: {error}"
    );
}

#[test]
fn a_module_being_initialised_cannot_read_the_hosts_data() {
    let sb = Sandbox::new();
    let data = data_file(sb.path(), LONG);
    let grants = "[module.init-data]\ngrants = [\"data:*\"]\n";
    let consfig = consfig(
        sb.path(),
        &["init_data"],
        grants,
        &data,
        &[r#"["init-data:report"]"#.to_owned()],
        &[],
    );
    let run = sb.consfig(&["deploy", "--consfig", &consfig, "--json", "box"]);
    // Were it given the value, its init would fail with it: the host
    // would fail, the value blanked.
    assert_not_shown(&run, LONG, "init");
    assert_eq!(run.statuses(), ["unchanged"], "{run:?}");
    let output = run.forms()[0]["output"].as_str().unwrap().to_owned();
    assert!(
        output.contains("at init: refused (") && output.contains("data:db"),
        "init's call is refused: {output}"
    );
    assert!(
        output.contains(" (loading) may not"),
        "the refusal names the module by where it was loaded from: {output}"
    );
    assert!(
        output.contains("in a form: [data db]\n"),
        "a form of the same module, granted the data, gets it: {output}"
    );
}

/// A runtime (`consfig-stub runtime`) spoken to directly: every frame it sent, and its stderr.
struct RawRuntime {
    frames: Vec<Vec<u8>>,
    stderr: String,
}

/// Speak to a runtime directly, as a controller would: load the cached
/// testing module under `policy` in `contexts`, apply `forms`, finish.
fn speak_to_runtime(
    sb: &Sandbox,
    policy: Policy,
    contexts: Vec<Context>,
    forms: &[Form],
) -> RawRuntime {
    let mut child = Command::new(runtime_bin())
        .arg("runtime")
        .env("XDG_CACHE_HOME", sb.cache())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut output = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut frames = Vec::new();
    let mut next = |output: &mut std::process::ChildStdout| {
        let frame = protocol::read_frame(output).ok()?;
        let message: FromRuntime = serde_json::from_slice(&frame).unwrap();
        frames.push(frame);
        Some(message)
    };
    let Some(FromRuntime::Hello { cached_code, .. }) = next(&mut output) else {
        panic!("the runtime greets")
    };
    let load = ToRuntime::Load {
        // The hash of the code names the module in errors too.
        modules: cached_code
            .into_iter()
            .map(|code| ModuleCode {
                module: code.clone(),
                code,
            })
            .collect(),
        files: Default::default(),
        policy: Box::new(policy),
        contexts,
    };
    protocol::send(&mut input, &load).unwrap();
    if let Some(FromRuntime::Ready { .. }) = next(&mut output) {
        for (id, form) in forms.iter().enumerate() {
            let apply = ToRuntime::Apply {
                id: id as u64,
                form: form.clone(),
            };
            protocol::send(&mut input, &apply).unwrap();
            assert!(matches!(
                next(&mut output),
                Some(FromRuntime::Outcome { .. })
            ));
        }
        protocol::send(&mut input, &ToRuntime::Finish).unwrap();
    }
    drop(input);
    while next(&mut output).is_some() {}
    let mut text = String::new();
    stderr.read_to_string(&mut text).unwrap();
    child.wait().unwrap();
    RawRuntime {
        frames,
        stderr: text,
    }
}

#[test]
fn the_runtime_itself_sends_no_value_in_any_frame_or_on_its_stderr() {
    let sb = Sandbox::new();
    // A deploy leaves the testing module in the cache, alone.
    sb.write_consfig(
        &[module("testing")],
        &[r#"["testing:counter"]"#.into()],
        TESTING_GRANTS,
    );
    assert_eq!(sb.deploy(&[]).statuses(), ["changed"]);
    let leak = Leak::set_up(&sb.path().join("leak"), &data_file(sb.path(), LONG), LONG);

    let mut policy = Policy::default();
    let grants = [
        "data:*".to_owned(),
        "command:/bin/sh".to_owned(),
        format!("write:{}", sb.path().join("leak").display()),
        "subdeploy".to_owned(),
        "context:chroot:/".to_owned(),
    ];
    policy.grants.insert(
        "testing".into(),
        ModuleGrants {
            grants: grants.iter().map(|g| g.parse::<Grant>().unwrap()).collect(),
            ..ModuleGrants::default()
        },
    );
    policy
        .data
        .insert("db".into(), format!("{LONG}\n").into_bytes());
    let leak_form = Form::parse(&format!(
        "[\"testing:leak-data-into-reports\", \"db\", {}, {}]",
        q(leak.out.display().to_string()),
        q(leak.parent.display().to_string())
    ))
    .unwrap();
    let stderr_form = Form::parse(&to_runtime_stderr(false)).unwrap();

    for check in [false, true] {
        policy.check = check;
        let raw = speak_to_runtime(
            &sb,
            policy.clone(),
            Vec::new(),
            &[leak_form.clone(), stderr_form.clone()],
        );
        let frames: Vec<String> = raw
            .frames
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        assert_eq!(frames.len(), 4, "hello, ready, two outcomes: {frames:?}");
        for frame in &frames {
            assert!(!frame.contains(LONG), "check: {check}: {frame}");
        }
        assert!(
            frames[2].contains("leaked [data db] into every field"),
            "{}",
            frames[2]
        );
        assert!(!raw.stderr.contains(LONG), "check: {check}: {}", raw.stderr);
        // Check mode runs no command that could change things.
        if !check {
            assert!(frames[3].contains("stdout [data db]"), "{}", frames[3]);
            assert!(
                raw.stderr.contains("leaked [data db]\n"),
                "what a command wrote to the runtime's stderr, blanked: {}",
                raw.stderr
            );
        }
    }

    // The runtime cannot enter its context: its fatal frame and its last
    // words on stderr name the context, blanked.
    let missing = format!("chroot:{}/missing/{LONG}", sb.path().display());
    let raw = speak_to_runtime(&sb, policy, vec![missing.parse().unwrap()], &[]);
    let frames: Vec<String> = raw
        .frames
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    assert_eq!(frames.len(), 2, "hello, fatal: {frames:?}");
    assert!(
        frames[1].contains("\"fatal\"") && frames[1].contains("/missing/[data db]"),
        "{}",
        frames[1]
    );
    assert!(!frames[1].contains(LONG), "{}", frames[1]);
    assert!(
        raw.stderr.starts_with("consfig runtime: ") && raw.stderr.contains("/missing/[data db]"),
        "{}",
        raw.stderr
    );
    assert!(!raw.stderr.contains(LONG), "{}", raw.stderr);
}
