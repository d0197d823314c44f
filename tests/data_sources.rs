//! A host's data from a password store (`pass`, through gpg), another
//! command and environment variables: read on the controller before the
//! host is connected to, given to the modules granted it, and never seen in
//! what Consfig prints or reports — even when a form fails with the value in
//! its message, or a command that fails printed the value first.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use consfig_tests::{Run, Sandbox, TESTING_GRANTS, consfig_bin, module, q};

/// A password store of its own: a gpg home with a key without passphrase,
/// and `pass` initialised for it. Its gpg-agent is stopped when dropped.
struct PasswordStore {
    gnupg: tempfile::TempDir,
    store: tempfile::TempDir,
}

const KEY_ID: &str = "Consfig Test <consfig-test@example.invalid>";

impl PasswordStore {
    fn new() -> Self {
        let gnupg = tempfile::tempdir().unwrap();
        std::fs::set_permissions(gnupg.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let store = PasswordStore {
            gnupg,
            store: tempfile::tempdir().unwrap(),
        };
        store.run(
            "gpg",
            &[
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                KEY_ID,
                "default",
                "default",
                "never",
            ],
            b"",
        );
        store.run("pass", &["init", KEY_ID], b"");
        store
    }

    /// Run `program ARGS` with this store's environment and `input` on stdin.
    fn run(&self, program: &str, args: &[&str], input: &[u8]) {
        let mut child = Command::new(program)
            .args(args)
            .envs(self.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e} (run `make test-deps`)"));
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn insert(&self, name: &str, value: &str) {
        self.run("pass", &["insert", "-m", name], value.as_bytes());
    }

    fn env(&self) -> [(&'static str, &Path); 2] {
        [
            ("GNUPGHOME", self.gnupg.path()),
            ("PASSWORD_STORE_DIR", self.store.path()),
        ]
    }
}

impl Drop for PasswordStore {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.gnupg.path())
            .status();
    }
}

/// None of `values` anywhere in what consfig printed.
fn assert_not_shown(run: &Run, values: &[&str], what: &str) {
    for value in values {
        assert!(
            !run.stdout.contains(value) && !run.stderr.contains(value),
            "{what}: {value} shows:\n{run:?}"
        );
    }
}

const PASS_VALUE: &str = "pass-Secret-4e1d";
const ENV_VALUE: &str = "env-Token-8c2a";
/// Not UTF-8: an environment variable's value is its bytes.
const RAW_VALUE: &[u8] = b"raw-\xff\xfe-Bytes-77b1";

#[test]
fn values_from_a_password_store_and_the_environment_reach_their_module_and_never_the_report() {
    let sb = Sandbox::new();
    let store = PasswordStore::new();
    // What `pass show` prints ends with a newline: not part of the value.
    store.insert("web1/db", &format!("{PASS_VALUE}\n"));
    let written_db = sb.path().join("written-db");
    let written_token = sb.path().join("written-token");
    let uploaded_raw = sb.path().join("uploaded-raw");
    let text = format!(
        "modules = [{}, {}]\n{TESTING_GRANTS}\
         [hosts.box]\nconnection = [\"local\"]\nproperties = [\n\
           [\"testing:leak-data\", \"db\", {}],\n\
           [\"testing:leak-data\", \"token\", {}],\n\
           [\"file:data-uploaded\", {}, \"raw\"],\n]\n\
         [hosts.box.data]\n\
         db = {{ command = [\"pass\", \"show\", \"web1/db\"] }}\n\
         token = {{ env = \"CONSFIG_TEST_TOKEN\" }}\n\
         raw = {{ env = \"CONSFIG_TEST_RAW\" }}\n",
        q(module("testing").display().to_string()),
        q(module("file").display().to_string()),
        q(written_db.display().to_string()),
        q(written_token.display().to_string()),
        q(uploaded_raw.display().to_string()),
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
    let [gnupg, password_store] = store.env();
    let env = [
        gnupg,
        password_store,
        ("CONSFIG_TEST_TOKEN", Path::new(ENV_VALUE)),
        ("CONSFIG_TEST_RAW", Path::new(OsStr::from_bytes(RAW_VALUE))),
    ];
    for json in [false, true] {
        let mut args = vec!["deploy", "-v"];
        if json {
            args.push("--json");
        }
        args.push("box");
        let run = sb.consfig_with_env(&args, &env);
        assert_eq!(run.code, 22, "the leaking forms fail: {run:?}");
        assert_not_shown(
            &run,
            &[PASS_VALUE, ENV_VALUE, "Bytes-77b1"],
            &format!("json: {json}"),
        );
        for key in ["db", "token"] {
            for stream in ["stdout", "stderr", "log", "error"] {
                assert!(
                    run.stdout.contains(&format!("{stream}: [data {key}]")),
                    "{stream} is reported with {key} blanked out: {}",
                    run.stdout
                );
            }
        }
    }
    assert_eq!(std::fs::read_to_string(&written_db).unwrap(), PASS_VALUE);
    assert_eq!(std::fs::read_to_string(&written_token).unwrap(), ENV_VALUE);
    assert_eq!(std::fs::read(&uploaded_raw).unwrap(), RAW_VALUE);
}

const FAILED_VALUE: &str = "Fail-Secret-3b9e";

#[test]
fn a_source_that_fails_stops_its_host_before_it_connects_and_names_the_key_not_the_value() {
    let sb = Sandbox::new();
    // The consfig in a directory of its own, run from elsewhere: its command
    // is found, and runs, there.
    let dir = sb.path().join("consfig");
    std::fs::create_dir(&dir).unwrap();
    let fetch = dir.join("fetch-secret");
    std::fs::write(
        &fetch,
        format!(
            "#!/bin/sh\n\
             test -f Consfig.toml || {{ echo 'not in the consfig directory' >&2; exit 9; }}\n\
             echo {FAILED_VALUE}\n\
             echo \"vault: sealed; cached {FAILED_VALUE} for $1\" >&2\n\
             exit 3\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fetch, std::fs::Permissions::from_mode(0o755)).unwrap();
    let marker = |name: &str| sb.path().join(format!("marker-{name}"));
    let has_content = |name: &str| {
        format!(
            "[\"file:has-content\", {}, \"applied\"]",
            q(marker(name).display().to_string())
        )
    };
    let fine = marker("fine");
    let text = format!(
        "modules = [{}]\n\
         [hosts.broken]\nconnection = [\"local\"]\n\
         data = {{ db = {{ command = [\"./fetch-secret\", \"web1\"] }} }}\n\
         properties = [{}]\n\
         [hosts.far]\n\
         # Nothing listens there: connecting would make it unreachable.\n\
         connection = [\"ssh://consfig@127.0.0.1:1\"]\n\
         data = {{ token = {{ env = \"CONSFIG_TEST_UNSET_5d0c\" }} }}\n\
         properties = [{}]\n\
         [hosts.fine]\nconnection = [\"local\"]\n\
         data = {{ db = {{ command = [\"printf\", \"fine-Value-1a2b\\n\\n\"] }} }}\n\
         properties = [[\"file:data-uploaded\", {}, \"db\"]]\n",
        q(module("file").display().to_string()),
        has_content("broken"),
        has_content("far"),
        q(fine.display().to_string()),
    );
    std::fs::write(dir.join("Consfig.toml"), text).unwrap();
    let consfig = dir.join("Consfig.toml").display().to_string();
    let broken_error = "data db: command [\"./fetch-secret\",\"web1\"] exited with status 3: \
         vault: sealed; cached [data db] for web1";
    let far_error =
        "data token: environment variable CONSFIG_TEST_UNSET_5d0c is not set on the controller";

    let run = sb.consfig(&[
        "deploy",
        "--consfig",
        &consfig,
        "--json",
        "broken",
        "far",
        "fine",
    ]);
    assert_eq!(run.code, 22, "{run:?}");
    assert_not_shown(&run, &[FAILED_VALUE], "--json");
    let mut errors: Vec<_> = (run.events().into_iter())
        .filter(|e| e["event"] == "host-error")
        .map(|e| {
            (
                e["host"].as_str().unwrap().to_owned(),
                e["error"].as_str().unwrap().to_owned(),
                e["unreachable"].as_bool().unwrap(),
            )
        })
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        [
            ("broken".to_owned(), broken_error.to_owned(), false),
            ("far".to_owned(), far_error.to_owned(), false),
        ],
        "{run:?}"
    );
    for event in run.events() {
        if event["event"] == "summary" && event["host"] == "fine" {
            assert_eq!(event["changed"], 1, "{event}");
            assert!(event["error"].is_null(), "{event}");
        }
    }
    assert!(!marker("broken").exists(), "a failed host applies nothing");
    assert!(!marker("far").exists());
    assert_eq!(
        std::fs::read_to_string(&fine).unwrap(),
        "fine-Value-1a2b",
        "trailing newlines are not part of a command's value"
    );

    // The same, as text.
    let run = sb.consfig(&["deploy", "--consfig", &consfig, "broken", "far"]);
    assert_eq!(run.code, 22, "{run:?}");
    assert_not_shown(&run, &[FAILED_VALUE], "text");
    for line in [
        format!("broken :: FAILED: {broken_error}"),
        format!("far :: FAILED: {far_error}"),
    ] {
        assert!(run.stdout.contains(&line), "{line}\n{run:?}");
    }
}

/// Where a data source is written wrong, the deploy stops before anything
/// runs, naming the file, line, host and key.
#[test]
fn a_malformed_source_is_an_error_naming_where_it_is() {
    let sb = Sandbox::new();
    let fetch: PathBuf = sb.path().join("never-run");
    let text = format!(
        "modules = [{}]\n[hosts.box]\nconnection = [\"local\"]\n\
         data = {{ ok = {{ command = [{}] }}, db = {{ command = \"pass show db\" }} }}\n",
        q(module("file").display().to_string()),
        q(fetch.display().to_string()),
    );
    std::fs::write(&fetch, "#!/bin/sh\ntouch \"$0.ran\"\n").unwrap();
    std::fs::set_permissions(&fetch, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
    let run = sb.deploy(&[]);
    assert_ne!(run.code, 0, "{run:?}");
    let says = "Consfig.toml:4: host box: data db: command must be a list of strings";
    assert!(run.stderr.contains(says), "{says}\n{run:?}");
    assert!(
        !sb.path().join("never-run.ran").exists(),
        "no source is read from a consfig that does not parse"
    );
}

/// Whether the process `pid` is gone (or a zombie about to be).
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// A command runs in a process group of its own, out of reach of the
/// terminal's Ctrl-C: it dies with the controller that waits for it.
#[test]
fn a_command_dies_with_the_controller_waiting_for_it() {
    let sb = Sandbox::new();
    let slow = sb.path().join("slow");
    std::fs::write(
        &slow,
        "#!/bin/sh\necho $$ > pid.tmp && mv pid.tmp pid\nexec sleep 30\n",
    )
    .unwrap();
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        sb.path().join("Consfig.toml"),
        format!(
            "modules = [{}]\n[hosts.box]\nconnection = [\"local\"]\n\
             data = {{ db = {{ command = [\"./slow\"] }} }}\n",
            q(module("file").display().to_string()),
        ),
    )
    .unwrap();
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
    let pid_file = sb.path().join("pid");
    let until = Instant::now() + Duration::from_secs(20);
    while !pid_file.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    controller.kill().unwrap();
    controller.wait().unwrap();
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("the command started")
        .trim()
        .parse()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while !gone(pid) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let outlived = !gone(pid);
    if outlived {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(!outlived, "the command {pid} outlived its controller");
}
