//! Limits on every form, set for all forms and per module in Consfig.toml:
//! modules written to misbehave — a memory bomb, an endless loop, a flood of
//! output — each hit their limit, fail that form with a message naming the
//! limit, and the forms after them run.

use consfig_tests::{Sandbox, Testing};

/// The language of the `testing` module these tests run against:
/// tests/hostile_python.rs includes this file and sets its own.
#[allow(dead_code)]
const TESTING: Testing = Testing::Rust;

fn module(name: &str) -> std::path::PathBuf {
    crate::TESTING.module(name)
}

#[test]
fn a_memory_bomb_an_endless_loop_and_a_flood_each_hit_their_limit() {
    let sb = Sandbox::new();
    sb.write_consfig(
        &[module("testing")],
        &[
            r#"["testing:eat-memory", 512]"#.to_owned(),
            r#"["testing:echo", "after the bomb"]"#.to_owned(),
            r#"["testing:spin"]"#.to_owned(),
            r#"["testing:echo", "after the loop"]"#.to_owned(),
            r#"["testing:flood", 8000000]"#.to_owned(),
            r#"["testing:echo", "after the flood"]"#.to_owned(),
            // Within the limits: 16 MiB of a 64 MiB memory.
            r#"["testing:eat-memory", 16]"#.to_owned(),
        ],
        "[limits]\nmemory = \"64MiB\"\noutput = \"1MiB\"\n\n[module.testing]\nlimits = { time = \"2s\" }\n",
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 22, "{run:?}");
    let forms = run.forms();
    let statuses: Vec<&str> = forms
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "failed",
            "unchanged",
            "failed",
            "unchanged",
            "failed",
            "unchanged",
            "unchanged"
        ],
        "{run:?}"
    );
    let reason = |i: usize| forms[i]["reason"].as_str().unwrap_or_default().to_owned();
    assert!(
        reason(0).contains("memory limit of 64 MiB exceeded"),
        "bomb: {}",
        reason(0)
    );
    assert!(
        reason(0).contains("testing"),
        "names the module: {}",
        reason(0)
    );
    assert!(
        reason(2).contains("time limit of 2s exceeded"),
        "loop: {}",
        reason(2)
    );
    assert!(
        reason(4).contains("output limit of 1 MiB exceeded"),
        "flood: {}",
        reason(4)
    );
    let output = forms[4]["output"].as_str().unwrap();
    assert!(
        output.len() <= (1 << 20) + 100,
        "the report keeps no more than the limit: {} bytes",
        output.len()
    );
    for (i, said) in [
        (1, "after the bomb"),
        (3, "after the loop"),
        (5, "after the flood"),
    ] {
        assert!(
            forms[i]["output"].as_str().unwrap().contains(said),
            "{:?}",
            forms[i]
        );
    }
}

#[test]
fn a_modules_own_limits_override_those_of_every_form() {
    let sb = Sandbox::new();
    sb.write_consfig(
        &[module("testing")],
        &[
            r#"["testing:eat-memory", 100]"#.to_owned(),
            r#"["testing:flood", 3000]"#.to_owned(),
        ],
        "[limits]\nmemory = \"32MiB\"\n\n[module.testing]\nlimits = { memory = \"256MiB\", output = \"2KiB\" }\n",
    );
    let run = sb.deploy(&[]);
    let forms = run.forms();
    assert_eq!(
        forms[0]["status"], "unchanged",
        "256 MiB for this module: {run:?}"
    );
    assert_eq!(forms[1]["status"], "failed", "{run:?}");
    assert!(
        forms[1]["reason"]
            .as_str()
            .unwrap()
            .contains("output limit of 2 KiB exceeded"),
        "{run:?}"
    );
}

#[test]
fn limits_for_an_unknown_module_are_refused_before_deploying() {
    let sb = Sandbox::new();
    let marker = sb.path().join("marker");
    sb.write_consfig(
        &[module("file")],
        &[format!(
            "[\"file:has-content\", {:?}, \"x\"]",
            marker.display().to_string()
        )],
        "[module.fiel]\nlimits = { time = \"1s\" }\n",
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("[module.fiel]") && run.stderr.contains("file"),
        "{}",
        run.stderr
    );
    assert!(!marker.exists());
}

/// A module may tell the host any panic message before it traps; the
/// form's reason keeps a bounded part of it, and the next form runs.
#[test]
fn a_flood_of_panic_message_is_cut_in_the_reason() {
    let sb = Sandbox::new();
    sb.write_consfig(
        &[module("testing")],
        &[
            r#"["testing:flood-panic", 8000000]"#.to_owned(),
            r#"["testing:echo", "after the flood"]"#.to_owned(),
        ],
        "",
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["failed", "unchanged"], "{run:?}");
    let reason = run.forms()[0]["reason"].as_str().unwrap().to_owned();
    assert!(reason.starts_with("wasm trap"), "{}", &reason[..100]);
    assert!(
        reason.contains("xxxx…"),
        "the message is cut: {}",
        &reason[..100]
    );
    assert!(reason.len() < 5000, "{} bytes of reason", reason.len());
}

// Host-side memory: what a module makes the host hold for it is held to
// the form's limits, as what the module holds itself.

#[test]
fn the_host_holds_no_more_for_a_module_than_its_limits() {
    let sb = Sandbox::new();
    sb.write_consfig(
        &[module("testing")],
        &[
            // 200 MB of output from a command, under a 1 MiB output limit.
            r#"["testing:run", ["sh", "-c", "head -c 200000000 /dev/zero"]]"#.to_owned(),
            // A file that never ends, under a 64 MiB memory limit.
            r#"["testing:read", "/dev/zero"]"#.to_owned(),
            // Validations left waiting: too many, then too large.
            r#"["testing:defer-flood", 100000, 10]"#.to_owned(),
            r#"["testing:defer-flood", 200, 1048576]"#.to_owned(),
            // Subdeployments' reports, each within the limit, all past it.
            r#"["testing:subdeploy-texts", [], ["[\"testing:flood\", 800000]", "[\"testing:flood\", 800000]"]]"#.to_owned(),
            r#"["testing:echo", "after"]"#.to_owned(),
        ],
        "[limits]\nmemory = \"64MiB\"\noutput = \"1MiB\"\n\n[module.testing]\ngrants = [\"command:*\", \"read:/dev\", \"subdeploy\"]\n",
    );
    let start = std::time::Instant::now();
    let run = sb.deploy(&[]);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "{run:?}"
    );
    assert_eq!(
        run.statuses(),
        [
            "failed",
            "failed",
            "failed",
            "failed",
            "failed",
            "unchanged"
        ],
        "{run:?}"
    );
    let forms = run.forms();
    let reason = |i: usize| forms[i]["reason"].as_str().unwrap_or_default().to_owned();
    assert!(
        reason(0).contains("run sh: printed more than the output limit of 1 MiB and was killed"),
        "{}",
        reason(0)
    );
    assert!(
        reason(1)
            .contains("read-file /dev/zero: the file is larger than the memory limit of 64 MiB"),
        "{}",
        reason(1)
    );
    assert!(
        reason(2).contains("validate-form: more than 1024 forms are waiting to be validated"),
        "{}",
        reason(2)
    );
    assert!(
        reason(3).contains("would take more than 64 MiB (the memory limit of the module)"),
        "{}",
        reason(3)
    );
    assert!(
        reason(4).contains(
            "subdeploy: the reports of this form's subdeployments are larger than the output limit of 1 MiB"
        ),
        "{}",
        reason(4)
    );
    assert!(
        run.stdout.len() < 4 << 20,
        "{} bytes of --json",
        run.stdout.len()
    );
}

// Forms enter with bounded nesting: an argument nested deeper than any
// report could carry is refused where it enters, failing only its form.

#[test]
fn a_deeply_nested_argument_fails_only_its_form() {
    let nested = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
    let sb = Sandbox::new();
    let deep = format!(r#"["testing:echo", {}]"#, nested(123));
    sb.write_consfig(
        &[module("testing")],
        &[
            format!(
                r#"["testing:subdeploy-texts", [], [{}]]"#,
                consfig_tests::q(&deep)
            ),
            r#"["testing:echo", "after"]"#.to_owned(),
        ],
        consfig_tests::TESTING_GRANTS,
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 22, "the host is not lost: {run:?}");
    assert_eq!(run.statuses(), ["failed", "unchanged"], "{run:?}");
    let reason = run.forms()[0]["reason"].as_str().unwrap().to_owned();
    assert!(
        reason.contains("testing:echo: the arguments nest more than 32 arrays or objects deep"),
        "{reason}"
    );

    // Given in Consfig.toml, it is refused before anything runs.
    sb.write_consfig(
        &[module("testing")],
        &[format!(r#"["testing:echo", {}]"#, nested(40))],
        "",
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("nest more than 32 arrays or objects deep"),
        "{}",
        run.stderr
    );
}

/// A reason is not output: a module failing with 20 MB of reason has it cut.
#[test]
fn a_flood_of_reason_is_cut() {
    let sb = Sandbox::new();
    sb.write_consfig(
        &[module("testing")],
        &[
            r#"["testing:fail-with", 20000000]"#.to_owned(),
            r#"["testing:echo", "after the flood"]"#.to_owned(),
        ],
        "",
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["failed", "unchanged"], "{run:?}");
    let reason = run.forms()[0]["reason"].as_str().unwrap().to_owned();
    assert!(reason.starts_with("rrrr"), "{}", &reason[..20]);
    assert!(
        reason.ends_with("more bytes cut)"),
        "{}",
        &reason[reason.len() - 40..]
    );
    assert!(reason.len() < 10_000, "{} bytes of reason", reason.len());
    assert!(
        run.stdout.len() < 100_000,
        "{} bytes of --json",
        run.stdout.len()
    );
}
