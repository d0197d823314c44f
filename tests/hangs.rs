//! Nothing hangs and nothing outlives its form: modules written to misbehave
//! — a command left running in the background, a subdeployment as another
//! user that outlives its form, a module that subdeploys itself without end,
//! a module whose loading or argument decoding never ends — each meet a
//! limit with a message naming it, and leave no process behind. A runtime
//! whose controller is gone stops, with the form it was running.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use consfig_tests::{Sandbox, Testing, consfig_bin, q};

/// The language of the `testing` module these tests run against:
/// tests/hostile_python.rs includes this file and sets its own.
#[allow(dead_code)]
const TESTING: Testing = Testing::Rust;

fn module(name: &str) -> PathBuf {
    crate::TESTING.module(name)
}

/// A `sleep` argument no other process has: how a test finds what it
/// started in /proc.
fn unique_sleep() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{}.{:09}", 100_000 + std::process::id(), nanos)
}

/// Processes whose command line has `arg` as an argument.
fn processes_with(arg: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline.split(|b| *b == 0).any(|a| a == arg.as_bytes()) {
            found.push(pid);
        }
    }
    found
}

/// Kills what a test left (so a failing test leaves nothing either), and
/// says what it had to kill.
struct Leftovers(String);

impl Leftovers {
    fn check(&self) -> Vec<i32> {
        // A process being killed may take a moment to leave /proc.
        let until = Instant::now() + Duration::from_secs(3);
        loop {
            let left = processes_with(&self.0);
            if left.is_empty() || Instant::now() > until {
                return left;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for pid in processes_with(&self.0) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

#[test]
fn a_form_stopped_at_its_time_limit_leaves_no_process_behind() {
    let sb = Sandbox::new();
    let sleep = Leftovers(unique_sleep());
    let escaper = Leftovers(unique_sleep() + "1");
    // In the background, and in a session of its own (out of the form's
    // process group): both are stopped with the form.
    let script = format!(
        "sleep {0} & setsid sleep {1} & sleep {0}",
        sleep.0, escaper.0
    );
    sb.write_consfig(
        &[module("testing")],
        &[
            format!(r#"["testing:run", ["sh", "-c", {}]]"#, q(&script)),
            r#"["testing:echo", "after"]"#.to_owned(),
        ],
        "[module.testing]\ngrants = [\"command:*\"]\nlimits = { time = \"2s\" }\n",
    );
    let start = Instant::now();
    let run = sb.deploy(&[]);
    assert!(start.elapsed() < Duration::from_secs(30), "{run:?}");
    assert_eq!(run.statuses(), ["failed", "unchanged"], "{run:?}");
    let reason = run.forms()[0]["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("time limit of 2s"), "{reason}");
    assert_eq!(sleep.check(), Vec::<i32>::new(), "sleep {} left", sleep.0);
    assert_eq!(escaper.check(), Vec::<i32>::new(), "setsid sleep left");
}

#[test]
fn a_subdeployment_as_another_user_stops_with_its_form() {
    let sb = Sandbox::new();
    let sleep = Leftovers(unique_sleep());
    // The inner form may run a minute; the form that started it, 2 s.
    let inner = format!(r#"["cmd:single", ["sleep", {}]]"#, q(&sleep.0));
    sb.write_consfig(
        &[module("testing"), module("cmd")],
        &[
            format!(
                r#"["testing:subdeploy-texts", ["setuid:nobody"], [{}]]"#,
                q(&inner)
            ),
            r#"["testing:echo", "after"]"#.to_owned(),
        ],
        "[module.testing]\ngrants = [\"subdeploy\", \"context:setuid:nobody\", \"command:*\"]\nlimits = { time = \"2s\" }\n\n[module.cmd]\nlimits = { time = \"60s\" }\n",
    );
    let start = Instant::now();
    let run = sb.deploy(&[]);
    assert!(start.elapsed() < Duration::from_secs(30), "{run:?}");
    assert_eq!(run.statuses(), ["failed", "unchanged"], "{run:?}");
    assert!(
        run.forms()[0]["reason"]
            .as_str()
            .unwrap()
            .contains("time limit of 2s"),
        "{run:?}"
    );
    assert_eq!(sleep.check(), Vec::<i32>::new(), "sleep {} left", sleep.0);
    let uid_of = |pid: i32| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .map(|uids| uids.split_whitespace().next().unwrap_or("").to_owned())
    };
    // Nor the runtime's processes as nobody: none runs `consfig` as nobody
    // with this sandbox's cache.
    let cache = format!("XDG_CACHE_HOME={}", sb.cache().display());
    let ours: Vec<i32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == cache.as_bytes()))
        })
        .filter(|pid| uid_of(*pid).as_deref() == Some("65534"))
        .collect();
    assert_eq!(ours, Vec::<i32>::new(), "processes left as nobody");
}

#[test]
fn a_runtime_whose_controller_is_gone_stops_with_its_form() {
    let sb = Sandbox::new();
    let sleep = Leftovers(unique_sleep());
    sb.write_consfig(
        &[module("testing")],
        &[format!(r#"["testing:run", ["sleep", {}]]"#, q(&sleep.0))],
        "[module.testing]\ngrants = [\"command:*\"]\n",
    );
    // Its cache seeded as a sandbox's runs have it: no compiling first.
    consfig_tests::warm::seed(&sb.cache().join("consfig"));
    let mut controller = Command::new(consfig_bin())
        .args(["deploy", "--json", "box"])
        .current_dir(sb.path())
        .env("XDG_CACHE_HOME", sb.cache())
        .env("HOME", sb.home())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    while processes_with(&sleep.0).is_empty() {
        assert!(Instant::now() < until, "the form never started its command");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The controller dies without a word; its runtime sees its input close.
    controller.kill().unwrap();
    controller.wait().unwrap();
    assert_eq!(sleep.check(), Vec::<i32>::new(), "sleep {} left", sleep.0);
}

#[test]
fn a_module_that_subdeploys_itself_stops_at_the_depth_limit() {
    let sb = Sandbox::new();
    sb.write_consfig(
        &[module("testing")],
        &[
            r#"["testing:recurse"]"#.to_owned(),
            r#"["testing:echo", "after"]"#.to_owned(),
        ],
        consfig_tests::TESTING_GRANTS,
    );
    let start = Instant::now();
    let run = sb.deploy(&[]);
    assert!(start.elapsed() < Duration::from_secs(60), "{run:?}");
    assert_eq!(run.statuses(), ["failed", "unchanged"], "{run:?}");
    // The innermost form says why, eight subdeployments down.
    let mut outcome = run.forms()[0].clone();
    let mut depth = 0;
    while outcome["nested"][0]["outcome"].is_object() {
        outcome = outcome["nested"][0]["outcome"].clone();
        depth += 1;
    }
    assert_eq!(depth, 8, "{}", run.stdout);
    let reason = outcome["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("subdeployments nest at most 8 deep"),
        "{reason}"
    );
}

#[test]
fn a_module_that_applies_itself_stops_at_the_depth_limit() {
    let sb = Sandbox::new();
    sb.write_consfig(
        &[module("testing")],
        &[
            r#"["testing:apply-recurse"]"#.to_owned(),
            r#"["testing:echo", "after"]"#.to_owned(),
        ],
        consfig_tests::TESTING_GRANTS,
    );
    let start = Instant::now();
    let run = sb.deploy(&[]);
    assert!(start.elapsed() < Duration::from_secs(60), "{run:?}");
    assert_eq!(run.statuses(), ["failed", "unchanged"], "{run:?}");
    assert_eq!(run.code, 22, "{run:?}");
    let reason = run.forms()[0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.contains("testing:apply-recurse: apply nested more than 32 deep"),
        "{reason}"
    );
}

#[test]
fn instances_lost_to_traps_are_not_made_again_without_end() {
    let sb = Sandbox::new();
    let traps = vec![r#"["testing:trap"]"#; 40].join(", ");
    sb.write_consfig(
        &[module("testing")],
        &[
            format!(r#"["testing:apply-all", [{traps}]]"#),
            // Idle instances are used again: no limit is reached.
            format!(
                r#"["testing:apply-all", [{}]]"#,
                vec![r#"["testing:counter"]"#; 40].join(", ")
            ),
        ],
        consfig_tests::TESTING_GRANTS,
    );
    let start = Instant::now();
    let run = sb.deploy(&[]);
    assert!(start.elapsed() < Duration::from_secs(60), "{run:?}");
    assert_eq!(run.statuses(), ["failed", "unchanged"], "{run:?}");
    let reason = run.forms()[0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.contains("more than 32 instances were made"),
        "{reason}"
    );
    let output = run.forms()[1]["output"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        output.contains("counter=40\n") && output.contains("inits=1\n"),
        "one instance, used forty times: {output}"
    );
}

/// A Consfig.toml with `modules` and one form of `testing:echo`, a time
/// limit of 2 s for every call.
fn load(sb: &Sandbox, modules: &[PathBuf], forms: &[String]) -> consfig_tests::Run {
    sb.write_consfig(modules, forms, "[limits]\ntime = \"2s\"\n");
    let start = Instant::now();
    let run = sb.deploy(&[]);
    assert!(start.elapsed() < Duration::from_secs(30), "{run:?}");
    run
}

#[test]
fn a_module_whose_loading_never_ends_is_stopped_at_the_time_limit() {
    for (name, call) in [("hostile_init", "init"), ("hostile_describe", "describe")] {
        let sb = Sandbox::new();
        let hostile = module(name);
        let run = load(&sb, &[module("testing"), hostile.clone()], &[]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            run.stderr.contains(&format!(
                "{}: {call}: time limit of 2s exceeded",
                hostile.display()
            )),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn argument_decoding_that_never_ends_is_stopped_at_the_time_limit() {
    let sb = Sandbox::new();
    let run = load(
        &sb,
        &[module("testing")],
        &[
            r#"["testing:stall-decoding", "spin"]"#.to_owned(),
            r#"["testing:stall-decoding", "sleep"]"#.to_owned(),
            r#"["testing:stall-decoding", "fine"]"#.to_owned(),
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("nothing was deployed"),
        "{}",
        run.stderr
    );
    let problems: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("testing:stall-decoding"))
        .collect();
    assert_eq!(problems.len(), 2, "{}", run.stderr);
    for (problem, how) in problems.iter().zip(["spin", "sleep"]) {
        assert!(problem.contains(how), "{problem}");
        assert!(problem.contains("time limit of 2s exceeded"), "{problem}");
    }
}
