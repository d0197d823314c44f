//! Becoming another user after an SSH login with `su` and `doas` (sudo's
//! tests are in ssh_deploy.rs), against a real sshd, real accounts, the
//! system's su (util-linux, PAM) and doas (OpenDoas): who the runtime runs
//! as, where it keeps its cache, passwords that travel on standard input
//! only (through the built-in client and the system's ssh), and refusals
//! that come at once, say what to do, and leave the target untouched.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use consfig_tests::sshd::{Sshd, trust};
use consfig_tests::{
    ACCOUNTS, DoasConf, Run, Sandbox, TESTING_GRANTS, TestUser, module, q, set_password,
};

/// A sandbox trusting `server` as `web1`, with a directory every account
/// may write (the forms' files) and the Consfig.toml its hosts make.
struct Scene {
    sb: Sandbox,
    out: PathBuf,
}

impl Scene {
    fn new(server: &Sshd) -> Self {
        let sb = Sandbox::new();
        trust(&sb.home(), &[server], |_| "web1".to_owned());
        // Others may pass through the sandbox, and write in `out` only.
        std::fs::set_permissions(sb.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let out = sb.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o1777)).unwrap();
        Scene { sb, out }
    }

    /// A Consfig.toml of hosts, each `(name, connection, extra settings)`,
    /// every one writing who it ran as to `out/NAME`.
    fn write(&self, hosts: &[(&str, &[&str], &str)]) {
        let mut text = format!(
            "modules = [{}]\n{TESTING_GRANTS}",
            q(module("testing").display().to_string())
        );
        for (name, connection, extra) in hosts {
            text.push_str(&format!(
                "[hosts.{name}]\nconnection = [{}]\n{extra}properties = [[\"testing:observe\", {}]]\n",
                connection.iter().map(q).collect::<Vec<_>>().join(", "),
                q(self.seen(name).display().to_string()),
            ));
        }
        std::fs::write(self.sb.path().join("Consfig.toml"), text).unwrap();
    }

    /// Where host `name`'s form writes who it ran as.
    fn seen(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    /// A file holding `password`, for a `*-password-file` setting.
    fn password_file(&self, name: &str, password: &str) -> String {
        let path = self.sb.path().join(name);
        std::fs::write(&path, format!("{password}\n")).unwrap();
        format!("su-password-file = {}\n", q(path.display().to_string()))
    }

    fn deploy(&self, host: &str) -> Run {
        self.sb.consfig(&["deploy", "--json", host])
    }
}

/// The host error of a failed deploy.
fn host_error(run: &Run) -> String {
    assert_eq!(run.code, 22, "{run:?}");
    run.event("host-error")["error"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Watches every process's command line and environment, until stopped,
/// for `secret`; says where it was seen.
struct Watch {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<String>>,
}

impl Watch {
    fn start(secret: &str) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let secret = secret.as_bytes().to_vec();
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir("/proc").unwrap().flatten() {
                    for file in ["cmdline", "environ"] {
                        let path = entry.path().join(file);
                        if let Ok(bytes) = std::fs::read(&path)
                            && bytes.windows(secret.len()).any(|w| w == secret)
                        {
                            seen.push(format!(
                                "{}: {}",
                                path.display(),
                                String::from_utf8_lossy(&bytes)
                            ));
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            seen
        });
        Watch { stop, thread }
    }

    #[track_caller]
    fn assert_never_seen(self) {
        self.stop.store(true, Ordering::Relaxed);
        let seen = self.thread.join().unwrap();
        assert!(seen.is_empty(), "the password showed in {seen:?}");
    }
}

/// Whether `dir` holds a runtime cache owned by `uid`.
fn cache_of(dir: &Path, uid: u32) -> bool {
    std::fs::metadata(dir.join("consfig/runtime")).is_ok_and(|m| m.is_dir() && m.uid() == uid)
}

#[test]
fn root_su_to_a_user_runs_the_runtime_as_that_user_with_its_cache_in_its_home() {
    let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    // Made before the server, so removed after it stopped with its
    // sessions: userdel refuses an account a process still runs as.
    let user = TestUser::create("consfigbsu");
    let server = Sshd::start();
    let scene = Scene::new(&server);
    scene.write(&[("web1", &["ssh://root@web1", "su:consfigbsu"], "")]);

    let cold = scene.deploy("web1");
    assert_eq!(cold.code, 23, "{cold:?}");
    let (uid, _, home, _) = user.passwd();
    assert!(
        std::fs::read_to_string(scene.seen("web1"))
            .unwrap()
            .starts_with(&format!("uid={uid} ")),
    );
    // su passes on none of the login session's environment: not its
    // XDG_CACHE_HOME (the fixture's target cache), so the runtime keeps its
    // cache in the user's home.
    assert!(cache_of(&Path::new(&home).join(".cache"), uid));
    assert!(!server.target_cache().join("consfig").exists());
    assert!(
        cold.event("modules")["runtime_bytes"].as_u64().unwrap() > 0,
        "{cold:?}"
    );

    let warm = scene.deploy("web1");
    assert_eq!(warm.code, 23, "{warm:?}");
    assert_eq!(warm.event("modules")["runtime_bytes"], 0, "{warm:?}");
    assert_eq!(warm.event("summary")["bytes_sent"], 0, "{warm:?}");
}

#[test]
fn su_from_another_login_takes_the_target_users_password_on_standard_input_only() {
    let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    let target = TestUser::create("consfigbst");
    let _login = TestUser::create("consfigbsl");
    let server = Sshd::start();
    server.authorize("consfigbsl");
    let password = "su s3cret 'with\" quotes $(id)";
    set_password("consfigbst", password);
    let scene = Scene::new(&server);
    let hop: &[&str] = &["ssh://consfigbsl@web1", "su:consfigbst"];
    let right = scene.password_file("right", password);
    let wrong = scene.password_file("wrong", "guess s3cret");
    // The same through the system's ssh, reading the sandbox's configuration.
    let openssh_config = scene.sb.path().join("openssh_config");
    std::fs::write(
        &openssh_config,
        format!(
            "Include {home}/.ssh/config\nHost *\n  UserKnownHostsFile {home}/.ssh/known_hosts\n  BatchMode yes\n",
            home = scene.sb.home().display()
        ),
    )
    .unwrap();
    let over_openssh = format!(
        "{right}ssh-config-file = {}\n",
        q(openssh_config.display().to_string())
    );
    scene.write(&[
        ("right", hop, &right),
        ("wrong", hop, &wrong),
        ("none", hop, ""),
        (
            "openssh",
            &["openssh://consfigbsl@web1", "su:consfigbst"],
            &over_openssh,
        ),
    ]);

    let watch = Watch::start(password);
    let run = scene.deploy("right");
    watch.assert_never_seen();
    assert_eq!(run.code, 23, "{run:?}");
    let (uid, _, home, _) = target.passwd();
    assert!(
        std::fs::read_to_string(scene.seen("right"))
            .unwrap()
            .starts_with(&format!("uid={uid} "))
    );
    assert!(cache_of(&Path::new(&home).join(".cache"), uid));
    assert!(!run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"));

    let watch = Watch::start(password);
    let run = scene.deploy("openssh");
    watch.assert_never_seen();
    assert_eq!(run.code, 23, "{run:?}");
    assert!(
        std::fs::read_to_string(scene.seen("openssh"))
            .unwrap()
            .starts_with(&format!("uid={uid} "))
    );
    assert!(!run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"));

    // A wrong password: refused at once, with su's words, nothing applied.
    let watch = Watch::start("guess s3cret");
    let started = Instant::now();
    let run = scene.deploy("wrong");
    watch.assert_never_seen();
    let error = host_error(&run);
    assert!(started.elapsed() < Duration::from_secs(60), "{run:?}");
    assert!(
        error.contains("su refused to switch to consfigbst for consfigbsl")
            && error.contains("Authentication failure"),
        "{error}"
    );
    assert!(!run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"));
    assert!(!scene.seen("wrong").exists(), "nothing applied");

    // None given: what to give.
    let run = scene.deploy("none");
    let error = host_error(&run);
    assert!(
        error.contains("needs the password of consfigbst") && error.contains("su-password-file"),
        "{error}"
    );
    assert!(!scene.seen("none").exists(), "nothing applied");
}

#[test]
fn doas_reaches_root_with_a_nopass_rule_and_says_which_rule_is_missing_without_one() {
    let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    let _login = TestUser::create("consfigbdl");
    let server = Sshd::start();
    server.authorize("consfigbdl");
    let before = std::fs::read(DoasConf::PATH).ok();
    let scene = Scene::new(&server);
    scene.write(&[("web1", &["ssh://consfigbdl@web1", "doas"], "")]);
    // doas resets the environment; the rule sets where root's runtime caches.
    let cache = format!(
        "setenv {{ XDG_CACHE_HOME={} }}",
        server.sudo_cache().display()
    );
    {
        let doas = DoasConf::install(&format!("permit nopass {cache} consfigbdl as root\n"));
        let run = scene.deploy("web1");
        assert_eq!(run.code, 23, "{run:?}");
        assert!(
            std::fs::read_to_string(scene.seen("web1"))
                .unwrap()
                .starts_with("uid=0 ")
        );
        assert!(cache_of(&server.sudo_cache(), 0));
        std::fs::remove_file(scene.seen("web1")).unwrap();

        // A rule that makes doas ask for a password: doas would need a
        // terminal, so this is an error at once, naming the rule to add.
        for rules in [
            format!("permit {cache} consfigbdl as root\n"),
            "permit nopass root as root\n".to_owned(),
        ] {
            doas.rewrite(&rules);
            let started = Instant::now();
            let run = scene.deploy("web1");
            let error = host_error(&run);
            assert!(started.elapsed() < Duration::from_secs(60), "{run:?}");
            assert!(
                error.contains("doas refused to run as root for consfigbdl without a password")
                    && error.contains("permit nopass consfigbdl as root"),
                "{rules}: {error}"
            );
            assert!(!scene.seen("web1").exists(), "nothing applied");
        }
    }
    assert_eq!(
        std::fs::read(DoasConf::PATH).ok(),
        before,
        "/etc/doas.conf is as it was"
    );
}

/// A user name that is not one is refused when the consfig is read, naming
/// the file, the host and the hop, before anything connects.
#[test]
fn become_users_that_are_not_names_are_refused_before_connecting() {
    let sb = Sandbox::new();
    for hop in [
        "su:-c",
        "doas:-u",
        "su:a b",
        "doas:root\\nid",
        "su:'x'",
        "sudo:-i",
    ] {
        std::fs::write(
            sb.path().join("Consfig.toml"),
            format!(
                "modules = [{}]\n[hosts.web1]\nconnection = [\"ssh://root@127.0.0.1:1\", \"{hop}\"]\nproperties = []\n",
                q(module("testing").display().to_string())
            ),
        )
        .unwrap();
        let run = sb.consfig(&["deploy", "web1"]);
        assert_eq!(run.code, 2, "{hop}: {run:?}");
        assert!(
            run.stderr.contains("Consfig.toml")
                && run.stderr.contains("web1")
                && run.stderr.contains("a user name has"),
            "{hop}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("unreachable"), "{}", run.stderr);
    }
}
