//! Per-host data (secrets): read on the controller from files outside the
//! consfig, sent only to the host that names them, and never seen again in
//! what Consfig prints, reports as JSON, or keeps in a cache — even from a
//! module written to leak them every way it can.

use std::path::Path;

use consfig_tests::sshd::{Sshd, trust};
use consfig_tests::{Sandbox, TESTING_GRANTS, module, q};

const SECRET: &str = "correct-horse-battery-staple";

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file()
                && std::fs::read(&path)
                    .unwrap()
                    .windows(needle.len())
                    .any(|w| w == needle)
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[test]
fn a_secret_reaches_its_module_but_never_the_output_the_report_or_the_cache() {
    let server = Sshd::start();
    let sb = Sandbox::new();
    trust(&sb.home(), &[&server], |_| "web1".to_owned());
    // Outside the consfig's directory, as the consfig names it.
    let secrets = tempfile::tempdir().unwrap();
    let secret_file = secrets.path().join("db-password");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let consfig_dir = sb.path().join("consfig");
    std::fs::create_dir(&consfig_dir).unwrap();
    let written_local = sb.path().join("written-local");
    let written_ssh = sb.path().join("written-ssh");
    let leak = |path: &Path| {
        format!(
            "[\"testing:leak-data\", \"db\", {}]",
            q(path.display().to_string())
        )
    };
    let text = format!(
        "modules = [{}]\n{TESTING_GRANTS}\
         [hosts.box]\nconnection = [\"local\"]\ndata = {{ db = {} }}\nproperties = [{}]\n\
         [hosts.web1]\nconnection = [\"ssh://web1\"]\ndata = {{ db = {} }}\nproperties = [{}]\n\
         [hosts.other]\nconnection = [\"local\"]\nproperties = [{}]\n",
        q(module("testing").display().to_string()),
        q(secret_file.display().to_string()),
        leak(&written_local),
        q(secret_file.display().to_string()),
        leak(&written_ssh),
        leak(&sb.path().join("written-other")),
    );
    std::fs::write(consfig_dir.join("Consfig.toml"), text).unwrap();
    let consfig = consfig_dir.join("Consfig.toml").display().to_string();

    for json in [false, true] {
        let mut args = vec!["deploy", "--consfig", &consfig, "-v"];
        if json {
            args.push("--json");
        }
        args.extend(["box", "web1", "other"]);
        let run = sb.consfig(&args);
        assert_eq!(run.code, 22, "the leaking forms fail: {run:?}");
        assert!(
            !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
            "the secret shows in the report (json: {json}): {run:?}"
        );
        for stream in ["stdout", "stderr", "log", "error"] {
            assert!(
                run.stdout.contains(&format!("{stream}: [data db]")),
                "{stream} is reported with the secret blanked out: {}",
                run.stdout
            );
        }
        assert!(
            run.stdout.contains("no data named \\\"db\\\"")
                || run.stdout.contains("no data named \"db\""),
            "a host without the data does not get it: {}",
            run.stdout
        );
    }
    // The module did get it, and wrote it where it was told to.
    for written in [&written_local, &written_ssh] {
        assert_eq!(std::fs::read_to_string(written).unwrap(), SECRET);
    }
    assert!(!sb.path().join("written-other").exists());
    for cache in [sb.cache(), server.target_cache(), sb.home()] {
        assert_eq!(
            files_containing(&cache, SECRET.as_bytes()),
            Vec::<String>::new(),
            "nothing under {} holds the secret",
            cache.display()
        );
    }
}

#[test]
fn an_unreadable_data_file_fails_that_host_before_it_runs_anything() {
    let sb = Sandbox::new();
    let marker = sb.path().join("marker");
    let text = format!(
        "modules = [{}]\n[hosts.box]\nconnection = [\"local\"]\ndata = {{ db = \"no-such-file\" }}\nproperties = [[\"file:has-content\", {}, \"x\"]]\n",
        q(module("file").display().to_string()),
        q(marker.display().to_string()),
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 22, "{run:?}");
    assert!(
        run.stdout.contains("data db") && run.stdout.contains("no-such-file"),
        "{run:?}"
    );
    assert!(!marker.exists());

    // A pipe nobody writes to, or a device without end: refused at once, unread.
    let fifo = sb.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    for (source, password) in [
        (fifo.as_path(), false),
        (Path::new("/dev/zero"), false),
        (fifo.as_path(), true),
    ] {
        let text = format!(
            "modules = [{}]\n[hosts.box]\nconnection = [\"local\"]\n{} = {}\nproperties = [[\"file:has-content\", {}, \"x\"]]\n",
            q(module("file").display().to_string()),
            if password {
                "sudo-password-file"
            } else {
                "data.db"
            },
            q(source.display().to_string()),
            q(marker.display().to_string()),
        );
        std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
        let started = std::time::Instant::now();
        let run = sb.deploy(&[]);
        assert_eq!(run.code, 22, "{run:?}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{run:?}"
        );
        assert!(run.stdout.contains("not a regular file"), "{run:?}");
        assert!(!marker.exists());
    }
}

#[test]
fn a_secret_in_a_panic_message_is_blanked_out_of_the_reason() {
    let sb = Sandbox::new();
    let secrets = tempfile::tempdir().unwrap();
    let secret_file = secrets.path().join("db-password");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let text = format!(
        "modules = [{}]\n{TESTING_GRANTS}\
         [hosts.box]\nconnection = [\"local\"]\ndata = {{ db = {} }}\n\
         properties = [[\"testing:panic-with-data\", \"db\"]]\n",
        q(module("testing").display().to_string()),
        q(secret_file.display().to_string()),
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
    let run = sb.deploy(&["-v"]);
    assert_eq!(run.statuses(), ["failed"], "{run:?}");
    let reason = run.forms()[0]["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("panic: [data db]"), "{reason}");
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "{run:?}"
    );
}
