//! The controller trusts nothing a module or a runtime says: text reaches
//! the operator's terminal with its control characters made visible, and a
//! runtime — a compromised target's, faked here by a script that sends
//! frames the test wrote — cannot make the controller hold more than a
//! bounded amount, hang it, or reach another host's report or data.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use consfig::sandbox::overlay::{Entry, FileChange};
use consfig::wire::outcome::{Nested, Outcome, Status};
use consfig::wire::protocol::{self, FromRuntime, PROTOCOL_VERSION};
use consfig_contract::Form;
use consfig_tests::{Sandbox, consfig_bin, module, q, runtime_bin, warm};

/// What a fake runtime does, in order.
enum Step {
    /// Send these bytes on stdout (frames made with [`frame`]).
    Say(Vec<u8>),
    /// Run this shell command (e.g. to stream a huge frame, or flood stderr).
    Shell(String),
}

fn frame(message: &FromRuntime) -> Vec<u8> {
    let mut bytes = Vec::new();
    protocol::send(&mut bytes, message).unwrap();
    bytes
}

/// A runtime's greeting claiming it caches `modules` (so none is sent), and
/// its readiness.
fn greeting(modules: &[PathBuf]) -> Vec<u8> {
    let cached = modules.iter().map(|m| warm::code_hash(m)).collect();
    [
        frame(&FromRuntime::Hello {
            protocol: PROTOCOL_VERSION,
            runtime_version: "0.1.0".into(),
            arch: std::env::consts::ARCH.into(),
            cached_code: cached,
            cached_files: Vec::new(),
        }),
        frame(&FromRuntime::Ready {
            received_code: Vec::new(),
            received_bytes: 0,
            received_files: Vec::new(),
            received_file_bytes: 0,
        }),
    ]
    .concat()
}

fn outcome(id: u64, outcome: Outcome) -> Vec<u8> {
    frame(&FromRuntime::Outcome { id, outcome })
}

/// Write a fake runtime into `dir`: a script that keeps what the controller
/// sends it in `dir/received`, takes its steps, then waits for the
/// controller to close its input. With `real`, only the first runtime
/// started is fake (it claims `dir/claimed`); the others exec the real one.
fn fake_runtime(dir: &Path, steps: &[Step], real: bool) -> PathBuf {
    let mut script = format!("#!/bin/sh\nd={}\n", dir.display());
    if real {
        script.push_str(&format!(
            "mkdir \"$d/claimed\" 2>/dev/null || exec {} \"$@\"\n",
            runtime_bin().display()
        ));
    }
    // Through another descriptor: a background command's stdin is /dev/null.
    script.push_str("exec 3<&0\ncat <&3 > \"$d/received\" &\nexec 3<&-\n");
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Say(bytes) => {
                let file = dir.join(format!("said.{i}"));
                std::fs::write(&file, bytes).unwrap();
                script.push_str(&format!("cat {}\n", file.display()));
            }
            Step::Shell(command) => script.push_str(&format!("{command}\n")),
        }
    }
    script.push_str("wait\n");
    let path = dir.join("fake-runtime");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

/// The text a hostile runtime puts everywhere: escape sequences that would
/// erase the line above and redraw it, and a line that would pass for
/// another host's.
fn lie(other: &str) -> String {
    format!(
        "HOSTILE\x1b[1A\x1b[2K\r{other} :: testing:print x ... unchanged\u{9b}2K\x07\u{202e}\n{other} :: HOSTILE forged line\r\n{other}: 0 changed, 1 unchanged, 0 failed"
    )
}

/// An outcome with the lie in every text a report shows.
fn hostile_outcome(other: &str) -> Outcome {
    let lie = lie(other);
    let mut inner = Outcome::failed(lie.clone(), lie.clone());
    inner.skipped.push(lie.clone());
    let mut outcome = Outcome::failed(lie.clone(), lie.clone());
    outcome.skipped.push(lie.clone());
    outcome.changes.push(FileChange {
        path: format!("/etc/{lie}").into(),
        before: Entry::Absent,
        after: Entry::File {
            content: lie.clone().into_bytes(),
            mode: 0o644,
            owner: None,
        },
    });
    outcome.nested.push(Nested {
        context: lie.clone(),
        root: format!("/{lie}").into(),
        form: (&Form::new("testing:print", vec![lie.clone().into()]).unwrap()).into(),
        outcome: inner,
    });
    outcome
}

const NONE: [char; 0] = [];

/// At most `n` characters of `text`, for messages.
fn head(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// The last `n` characters of `text`, for messages.
fn tail(text: &str, n: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars[chars.len().saturating_sub(n)..].iter().collect()
}

/// Characters a terminal acts on: all controls but the line break, and the
/// bidirectional override.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| (c.is_control() && c != '\n') || c == '\u{202e}')
        .collect()
}

#[test]
fn a_module_printing_control_sequences_is_shown_escaped() {
    let sb = Sandbox::new();
    let sequences = "\x1b[1A\x1b[2Kdone ... unchanged\r\u{9b}31m\x07";
    sb.write_consfig(
        &[module("testing")],
        &[format!("[\"testing:print\", {}]", q(sequences))],
        "",
    );
    for json in [false, true] {
        let mut args = vec!["deploy", "-v"];
        if json {
            args.push("--json");
        }
        args.push("box");
        let run = sb.consfig(&args);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(raw_controls(&run.stdout), NONE, "{:?}", run.stdout);
        let shown = if json {
            r#"\u001b[1A\u001b[2Kdone ... unchanged\r\u009b31m\u0007"#
        } else {
            r"\x1b[1A\x1b[2Kdone ... unchanged\r\u{9b}31m\x07"
        };
        assert!(run.stdout.contains(shown), "{}", run.stdout);
    }
}

#[test]
fn a_runtimes_control_sequences_and_forged_lines_stay_visible_and_its_own() {
    let sb = Sandbox::new();
    let modules = [module("testing")];
    sb.write_consfig(&modules, &[r#"["testing:print", "a"]"#.into()], "");
    let said = [greeting(&modules), outcome(0, hostile_outcome("web2"))].concat();
    let runtime = fake_runtime(sb.path(), &[Step::Say(said)], false);
    for args in [
        &["deploy", "-v", "box"][..],
        &["deploy", "-v", "--check", "--diff", "box"],
        &["deploy", "--json", "--check", "--diff", "box"],
    ] {
        let run = sb.consfig_with_env(args, &[("CONSFIG_RUNTIME", &runtime)]);
        assert_eq!(run.code, 22, "{run:?}");
        assert_eq!(
            raw_controls(&run.stdout),
            NONE,
            "{args:?}: {:?}",
            run.stdout
        );
        assert_eq!(
            raw_controls(&run.stderr),
            NONE,
            "{args:?}: {:?}",
            run.stderr
        );
        if args.contains(&"--json") {
            assert!(
                run.stdout.contains(r"HOSTILE\u001b[1A\u001b[2K\rweb2"),
                "{}",
                run.stdout
            );
            assert!(run.forms().iter().all(|f| f["host"] == "box"));
            continue;
        }
        assert!(
            run.stdout.contains(
                r"HOSTILE\x1b[1A\x1b[2K\rweb2 :: testing:print x ... unchanged\u{9b}2K\x07\u{202e}"
            ),
            "{}",
            run.stdout
        );
        for line in run.stdout.lines() {
            assert!(
                line.starts_with("box :: ") || line.starts_with("box: ") || line.starts_with(' '),
                "{args:?}: a line that is not box's: {line:?} in\n{}",
                run.stdout
            );
        }
    }
}

#[test]
fn one_hosts_runtime_reaches_neither_another_hosts_report_nor_its_data() {
    let sb = Sandbox::new();
    let modules = [module("testing")];
    let forms = [
        r#"["testing:print", "fine"]"#,
        r#"["testing:print", "also fine"]"#,
    ];
    for host in ["alpha", "beta"] {
        std::fs::write(sb.path().join(host), format!("{host}-secret")).unwrap();
    }
    let host = |name: &str| {
        format!(
            "[hosts.{name}]\nconnection = [\"local\"]\nproperties = [{}]\ndata = {{ {name}-key = {} }}\n",
            forms.join(", "),
            q(sb.path().join(name).display().to_string())
        )
    };
    std::fs::write(
        sb.path().join("Consfig.toml"),
        format!(
            "modules = [{}]\n[module.testing]\ngrants = [\"data:*\"]\n{}{}",
            q(modules[0].display().to_string()),
            host("alpha"),
            host("beta")
        ),
    )
    .unwrap();
    // The hostile runtime does not know which host it serves: it lies about both.
    let said = [
        greeting(&modules),
        outcome(0, hostile_outcome("alpha")),
        outcome(1, hostile_outcome("beta")),
    ]
    .concat();
    let runtime = fake_runtime(sb.path(), &[Step::Say(said)], true);
    for json in [false, true] {
        let _ = std::fs::remove_dir(sb.path().join("claimed"));
        let mut args = vec!["deploy", "-v", "-j", "2", "alpha", "beta"];
        if json {
            args.insert(1, "--json");
        }
        let run = sb.consfig_with_env(&args, &[("CONSFIG_RUNTIME", &runtime)]);
        assert_eq!(run.code, 22, "{run:?}");
        assert_eq!(raw_controls(&run.stdout), NONE, "{:?}", run.stdout);

        // Which host got the hostile runtime: the one whose forms failed.
        let received = std::fs::read(sb.path().join("received")).unwrap();
        let has = |needle: &str| {
            received
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
        };
        let (evil, good) = if has("alpha-key") {
            ("alpha", "beta")
        } else {
            ("beta", "alpha")
        };
        assert!(has(&format!("{evil}-key")) && !has(&format!("{good}-key")));
        let secret =
            |host: &str| serde_json::to_string(format!("{host}-secret").as_bytes()).unwrap();
        assert!(
            !has(&secret(good)),
            "the other host's data reached the hostile runtime"
        );

        if json {
            for event in run.events() {
                if event["host"] == good {
                    assert!(!event.to_string().contains("HOSTILE"), "{event}");
                }
            }
            let statuses: Vec<_> = run
                .forms()
                .iter()
                .filter(|f| f["host"] == good)
                .map(|f| f["status"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(statuses, ["unchanged", "unchanged"], "{}", run.stdout);
            continue;
        }
        // Every line belongs to the host it starts with (or the recap), and
        // lines under the good host's never carry the hostile runtime's text.
        let mut owner = "";
        for line in run.stdout.lines() {
            if !line.starts_with(' ') {
                owner = [good, evil, "recap"]
                    .into_iter()
                    .find(|h| {
                        line.starts_with(&format!("{h} ::")) || line.starts_with(&format!("{h}:"))
                    })
                    .unwrap_or_else(|| panic!("a line of no host: {line:?} in\n{}", run.stdout));
            }
            if line.contains("HOSTILE") {
                assert_eq!(owner, evil, "{line:?} in\n{}", run.stdout);
            }
        }
        assert_eq!(
            run.stdout
                .lines()
                .filter(|l| l.starts_with(&format!("{good} :: testing:print"))
                    // After `-v`'s duration of the form, e.g. ` [3 ms]`.
                    && l.rsplit_once(" [").is_some_and(|(line, took)| {
                        line.ends_with("... unchanged") && took.ends_with("s]")
                    }))
                .count(),
            2,
            "{}",
            run.stdout
        );
    }
}

/// Run `consfig deploy --json box` with `runtime`; its result and the
/// controller's peak resident memory, in bytes.
fn deploy_measuring(sb: &Sandbox, runtime: &Path) -> (consfig_tests::Run, u64) {
    let mut child = Command::new(consfig_bin())
        .args(["deploy", "--json", "box"])
        .current_dir(sb.path())
        .env("XDG_CACHE_HOME", sb.cache())
        .env("HOME", sb.home())
        .env("CONSFIG_RUNTIME", runtime)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    // VmHWM only grows: the last reading before the end is the peak (the
    // controller waits for the runtime to end, so there is a last reading).
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib * 1024);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let run = consfig_tests::Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (run, peak)
}

#[test]
fn an_oversized_or_deeply_nested_report_fails_its_form_and_the_controller_stays_small() {
    let sb = Sandbox::new();
    let modules = [module("testing")];
    let forms: Vec<String> = (0..3)
        .map(|i| format!(r#"["testing:print", "{i}"]"#))
        .collect();
    sb.write_consfig(&modules, &forms, "");
    let fine = |id| {
        let mut o = Outcome::failed("", format!("form {id} fine"));
        o.status = Status::Unchanged;
        o.reason = None;
        outcome(id, o)
    };
    let deep = format!(
        r#"{{"type":"outcome","id":1,"outcome":{{"status":"changed","output":{}0{}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mut deep_frame = Vec::new();
    protocol::write_frame(&mut deep_frame, deep.as_bytes()).unwrap();
    let size: u32 = 200 << 20;
    let runs = [false, true].map(|huge| {
        let dir = sb.path().join(if huge { "huge" } else { "small" });
        std::fs::create_dir(&dir).unwrap();
        let first = if huge {
            // A 200 MB report of form 0, streamed without touching the disk.
            vec![
                Step::Say(size.to_be_bytes().to_vec()),
                Step::Shell(format!("head -c {size} /dev/zero")),
            ]
        } else {
            vec![Step::Say(fine(0))]
        };
        let steps: Vec<Step> = [Step::Say(greeting(&modules))]
            .into_iter()
            .chain(first)
            .chain([Step::Say(deep_frame.clone()), Step::Say(fine(2))])
            // Some time before ending, for the last measurement.
            .chain([Step::Shell("sleep 0.5".into())])
            .collect();
        deploy_measuring(&sb, &fake_runtime(&dir, &steps, false))
    });
    let [(small, small_peak), (huge, huge_peak)] = runs;
    for run in [&small, &huge] {
        assert_eq!(run.code, 22, "{run:?}");
        let forms = run.forms();
        assert_eq!(forms.len(), 3, "{}", run.stdout);
        assert!(
            forms[1]["reason"]
                .as_str()
                .unwrap()
                .starts_with("the runtime's report of this form is malformed, so it was dropped: recursion limit exceeded"),
            "{}",
            forms[1]
        );
        assert_eq!(forms[2]["status"], "unchanged", "{}", run.stdout);
        assert_eq!(forms[2]["output"], "form 2 fine");
    }
    assert_eq!(huge.forms()[0]["status"], "failed");
    assert!(
        huge.forms()[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("the runtime's report of this form is 209715200 bytes, more than the 16 MiB this controller accepts from a runtime; it was dropped unread"),
        "{}",
        huge.stdout
    );
    assert!(
        huge_peak < small_peak + (32 << 20),
        "the controller held the report: peak {huge_peak} bytes, against {small_peak} with a small one"
    );
}

#[test]
fn a_runtime_flooding_stderr_and_never_ending_costs_the_controller_little() {
    let sb = Sandbox::new();
    let modules = [module("testing")];
    sb.write_consfig(&modules, &[r#"["testing:print", "a"]"#.into()], "");
    let hello = frame(&FromRuntime::Hello {
        protocol: PROTOCOL_VERSION,
        runtime_version: "0.1.0".into(),
        arch: std::env::consts::ARCH.into(),
        cached_code: Vec::new(),
        cached_files: Vec::new(),
    });
    let fatal = frame(&FromRuntime::Fatal {
        message: format!("gave up {}", "\x1b[2J".repeat(1 << 20)),
    });
    let runtime = fake_runtime(
        sb.path(),
        &[
            Step::Shell("head -c 50000000 /dev/zero | tr '\\0' E >&2".into()),
            Step::Say([hello, fatal].concat()),
            // It never ends by itself: the controller stops it.
            Step::Shell("exec sleep 600".into()),
        ],
        false,
    );
    let started = Instant::now();
    let run = sb.consfig_with_env(
        &["deploy", "--json", "box"],
        &[("CONSFIG_RUNTIME", &runtime)],
    );
    let took = started.elapsed();
    assert_eq!(run.code, 22, "{run:?}");
    assert!(took < Duration::from_secs(40), "took {took:?}");
    let error = run.event("summary")["error"].as_str().unwrap().to_owned();
    assert!(
        error.starts_with("runtime: gave up \x1b[2J"),
        "{}",
        head(&error, 100)
    );
    assert!(
        error.contains("more bytes)\nruntime said: EEEE"),
        "{}",
        head(&error, 200)
    );
    assert!(
        error.ends_with(&format!("… ({} more bytes)", 50_000_000 - (64 << 10))),
        "{}",
        tail(&error, 100)
    );
    assert!(error.len() < 80_000, "{} bytes", error.len());
    assert!(run.stdout.len() < 250_000, "{} bytes", run.stdout.len());
    assert_eq!(raw_controls(&run.stdout), NONE);
}

#[test]
fn a_runtime_that_stops_answering_is_given_up_on_in_time() {
    let sb = Sandbox::new();
    let modules = [module("testing")];
    sb.write_consfig(
        &modules,
        &[r#"["testing:print", "a"]"#.into()],
        "[limits]\ntime = \"1s\"\n",
    );
    // Ready, then silent for ever: neither an outcome nor an exit.
    let runtime = fake_runtime(
        sb.path(),
        &[
            Step::Say(greeting(&modules)),
            Step::Shell("exec sleep 600".into()),
        ],
        false,
    );
    let started = Instant::now();
    let run = sb.consfig_with_env(
        &["deploy", "--json", "box"],
        &[("CONSFIG_RUNTIME", &runtime)],
    );
    let took = started.elapsed();
    assert_eq!(run.code, 22, "{run:?}");
    assert_eq!(
        run.event("summary")["error"],
        "no progress from the runtime within 6s while waiting for the outcome of a form: it was given up on",
        "{run:?}"
    );
    // The form's second, as much again (at least 5 s), and the grace to end.
    assert!(took >= Duration::from_secs(6), "{took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}
