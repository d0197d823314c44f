//! What the end-to-end tests share: where the built `consfig` binary and Wasm
//! modules are, and a sandbox (scratch directory + private module cache) to run
//! the binary in, exactly as a user would.
//!
//! `make test` builds everything first; run alone, a test fails (it never
//! skips) and says to build.

pub mod arm64;
pub mod booted;
pub mod built;
pub mod debian;
pub mod sshd;
pub mod tree;
pub mod warm;
pub mod web_server;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn built(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run `make build` (or `make test`) first",
        path.display()
    );
    path
}

/// The release `consfig` binary.
pub fn consfig_bin() -> PathBuf {
    built(repo_root().join("target/release/consfig"))
}

/// The runtime targets run (`consfig-stub runtime`), built for this machine.
pub fn runtime_bin() -> PathBuf {
    built(repo_root().join("target/release/consfig-stub"))
}

/// Modules that misbehave while they are loaded or described: describing
/// them is what they break, so they are never compiled ahead of a test.
const MISBEHAVE_WHILE_LOADED: [&str; 3] = ["hostile_init", "hostile_describe", "init_data"];

/// A module built from consfig-wasm/, e.g. `module("file")`. Its compiled
/// code is made once into the suite's shared cache (see [`warm`]), from
/// which every sandbox's own cache is seeded.
pub fn module(name: &str) -> PathBuf {
    let file_name = name.replace('-', "_");
    let path = built(repo_root().join(format!(
        "consfig-wasm/target/wasm32-wasip2/release/consfig_{file_name}.wasm"
    )));
    if !MISBEHAVE_WHILE_LOADED.contains(&file_name.as_str()) {
        warm::compile(&path);
    }
    path
}

/// The language of the `testing` module a test target runs against. The
/// tests of a module misbehaving (tests/sandbox.rs, tests/hostile_*.rs,
/// tests/limits.rs, tests/hangs.rs) name it by `crate::TESTING`: run as their own target,
/// that is [`Testing::Rust`]; tests/hostile_python.rs includes the same
/// files with `#[path]` and sets it to [`Testing::Python`], so the same
/// test bodies run against consfig-wasm/testing-python.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Testing {
    Rust,
    Python,
}

impl Testing {
    /// The module `name`, as [`module`] finds it, except `testing`, which
    /// is in this language.
    pub fn module(self, name: &str) -> PathBuf {
        match (self, name) {
            (Testing::Python, "testing") => built::module("testing-python"),
            _ => module(name),
        }
    }
}

/// The target directory of every crate consfig builds from source in the
/// tests and benches: one for all, so the guest SDK is compiled once.
pub fn modules_target_dir() -> PathBuf {
    repo_root().join("target/consfig-modules")
}

/// Where consfig installs the toolchains that build Python and JavaScript
/// modules in tests and benches (`$CONSFIG_TOOLCHAINS`): one for all, so
/// each is installed once per checkout, not once per sandbox.
pub fn toolchains_dir() -> PathBuf {
    repo_root().join("target/consfig-toolchains")
}

/// The environment consfig's cargo builds run with in tests: the shared
/// target directory, no network (crates come from the local registry), one
/// job, and cargo's and rustup's homes (a sandbox's HOME is not the user's).
pub fn cargo_env() -> Vec<(&'static str, PathBuf)> {
    let home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
    let var =
        |name: &str, default: PathBuf| std::env::var_os(name).map(PathBuf::from).unwrap_or(default);
    vec![
        ("CARGO_TARGET_DIR", modules_target_dir()),
        ("CARGO_NET_OFFLINE", "true".into()),
        ("CARGO_BUILD_JOBS", "1".into()),
        ("CARGO_HOME", var("CARGO_HOME", home.join(".cargo"))),
        ("RUSTUP_HOME", var("RUSTUP_HOME", home.join(".rustup"))),
    ]
}

/// What one run of `consfig` did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `--json` events, one per line.
    pub fn events(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// The `form` events, in order.
    pub fn forms(&self) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == "form")
            .collect()
    }

    /// The single event of a kind.
    pub fn event(&self, kind: &str) -> Value {
        let mut found: Vec<_> = self
            .events()
            .into_iter()
            .filter(|e| e["event"] == kind)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one {kind} event in {}",
            self.stdout
        );
        found.remove(0)
    }

    pub fn statuses(&self) -> Vec<String> {
        self.forms()
            .iter()
            .map(|f| f["status"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// A scratch directory with its own module cache. Before each run of
/// `consfig`, the cache gets a copy of the compiled code of the modules
/// named with [`module`] (unless made [`Sandbox::cold`]): what a run does to
/// its cache stays in this sandbox.
pub struct Sandbox {
    dir: tempfile::TempDir,
    seeded: bool,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
            seeded: true,
        }
    }

    /// A sandbox whose cache starts empty and stays unseeded: for tests of
    /// what a first run compiles and caches.
    pub fn cold() -> Self {
        Sandbox {
            seeded: false,
            ..Self::new()
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// HOME for runs of consfig: where ~/.ssh/config and known_hosts live.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Run `consfig ARGS` with this sandbox's cache, in this sandbox.
    pub fn consfig(&self, args: &[&str]) -> Run {
        self.consfig_with_env(args, &[])
    }

    /// The same, with extra environment variables.
    pub fn consfig_with_env(&self, args: &[&str], env: &[(&str, &Path)]) -> Run {
        self.consfig_with(args, env, None)
    }

    /// The same, with extra environment variables and, if given, this umask
    /// instead of the test's.
    pub fn consfig_with(&self, args: &[&str], env: &[(&str, &Path)], umask: Option<u32>) -> Run {
        self.consfig_in(self.path(), args, env, umask)
    }

    /// The same, run in the directory `dir` (e.g. a consfig made there).
    pub fn consfig_in(
        &self,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &Path)],
        umask: Option<u32>,
    ) -> Run {
        self.program_in(&consfig_bin(), dir, args, env, umask)
    }

    /// The same, with another `consfig` binary (e.g. an installed one).
    pub fn program_in(
        &self,
        program: &Path,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &Path)],
        umask: Option<u32>,
    ) -> Run {
        if self.seeded {
            warm::seed(&self.cache().join("consfig"));
        }
        let mut command = Command::new(program);
        if let Some(mask) = umask {
            let mask = nix::sys::stat::Mode::from_bits_truncate(mask as nix::libc::mode_t);
            // SAFETY: umask is async-signal-safe, and nothing else runs
            // between fork and exec.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
                    nix::sys::stat::umask(mask);
                    Ok(())
                });
            }
        }
        let out = command
            .args(args)
            .current_dir(dir)
            .env("XDG_CACHE_HOME", self.cache())
            .env("HOME", self.home())
            .env_remove("SSH_AUTH_SOCK")
            .env("CONSFIG_TOOLCHAINS", toolchains_dir())
            .envs(env.iter().map(|(k, v)| (k, v.as_os_str())))
            .env_remove("CONSFIG_MODULES")
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Write a Consfig.toml using these modules and one local host `box` with these forms
    /// (TOML array elements, e.g. `["file:absent", "/x"]`), plus any extra top-level TOML.
    pub fn write_consfig(&self, modules: &[PathBuf], forms: &[String], extra: &str) -> PathBuf {
        let modules: Vec<String> = modules
            .iter()
            .map(|m| format!("{:?}", m.display().to_string()))
            .collect();
        let text = format!(
            "modules = [{}]\n{extra}\n[hosts.box]\nconnection = [\"local\"]\nproperties = [\n{}\n]\n",
            modules.join(", "),
            forms
                .iter()
                .map(|f| format!("  {f},"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        let path = self.path().join("Consfig.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `consfig deploy --json box` with the Consfig.toml written here.
    pub fn deploy(&self, extra_args: &[&str]) -> Run {
        let mut args = vec!["deploy", "--json"];
        args.extend_from_slice(extra_args);
        args.push("box");
        self.consfig(&args)
    }
}

/// Consfig.toml settings that let the `testing` module (not a standard
/// module, so granted nothing by default) write files, subdeploy anywhere
/// and read the host's data, for
/// tests about something else than grants.
pub const TESTING_GRANTS: &str = "[module.testing]\ngrants = [\"write:/\", \"subdeploy\", \"context:chroot:/\", \"context:setuid:*\", \"data:*\"]\n";

/// The cmd module at `path` with one letter of an error message (a string
/// of its data) replaced by `mark`: a valid module with a new hash whose
/// compiled code differs too — as an edit of the module's source would.
pub fn edited_message(path: &Path, mark: u8) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let message = b"give at least the program to run";
    let at = bytes
        .windows(message.len())
        .position(|w| w == message)
        .unwrap_or_else(|| panic!("{} has no message {:?}", path.display(), message));
    bytes[at] = mark;
    bytes
}

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A JSON string literal, for building forms in tests.
pub fn q(s: impl AsRef<str>) -> String {
    serde_json::to_string(s.as_ref()).unwrap()
}

/// A form (or any JSON value) as a TOML value, for Consfig.toml: objects
/// become inline tables.
pub fn toml_value(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", q(k), toml_value(v)))
                .collect();
            format!("{{ {} }}", pairs.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_value).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// Every path under `root`, with file contents, for before/after comparisons.
pub fn snapshot(root: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
                out.push((path, None));
            } else {
                let bytes = std::fs::read(&path).ok();
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}

/// What shows a file was left alone, beyond its bytes: the same inode (not
/// replaced by a rename), the same modification time (not rewritten, even
/// with the same bytes) and change time (no chmod, chown or new link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Identity {
    pub ino: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl Identity {
    /// The identity of `path` itself (a symlink is not followed).
    pub fn of(path: &Path) -> Identity {
        use std::os::unix::fs::MetadataExt;
        let meta =
            std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Identity {
            ino: meta.ino(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// The identity of each path and, for a directory, of everything beneath
/// it, sorted by path: compare before and after a deploy that should change
/// nothing with [`assert_untouched`].
pub fn identities(paths: &[&Path]) -> Vec<(PathBuf, Identity)> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    while let Some(path) = stack.pop() {
        let identity = Identity::of(&path);
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        }
        out.push((path, identity));
    }
    out.sort();
    out
}

/// Assert that every path recorded in `before` is still there, untouched,
/// and that nothing new appeared in the directories recorded.
#[track_caller]
pub fn assert_untouched(before: &[(PathBuf, Identity)], what: &str) {
    for (path, was) in before {
        let now = std::fs::symlink_metadata(path)
            .ok()
            .map(|_| Identity::of(path));
        assert_eq!(
            now,
            Some(*was),
            "{what}: {} was touched (inode, mtime, ctime before: {was:?})",
            path.display()
        );
        if path.is_dir() && !path.is_symlink() {
            for entry in std::fs::read_dir(path).unwrap() {
                let entry = entry.unwrap().path();
                assert!(
                    before.iter().any(|(p, _)| *p == entry),
                    "{what}: {} is new",
                    entry.display()
                );
            }
        }
    }
}

/// A minimal chroot made by the test: busybox-static as /bin/sh and friends,
/// mount points for /proc, /sys and /dev, and a passwd with root (and any
/// users added with [`Chroot::add_user`]).
pub struct Chroot {
    pub root: PathBuf,
}

impl Chroot {
    pub fn build(root: PathBuf) -> Self {
        let busybox = Path::new("/bin/busybox");
        assert!(
            busybox.exists(),
            "/bin/busybox is missing: `make test-deps` installs busybox-static"
        );
        for dir in ["bin", "etc", "proc", "sys", "dev", "tmp"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        // Like any /tmp: writable by every user, sticky.
        std::fs::set_permissions(
            root.join("tmp"),
            std::os::unix::fs::PermissionsExt::from_mode(0o1777),
        )
        .unwrap();
        std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
        for applet in ["sh", "id", "ls", "cat", "touch"] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
        std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
        Chroot { root }
    }

    pub fn add_user(&self, name: &str, uid: u32) {
        let append = |file: &str, line: String| {
            let path = self.root.join(file);
            let mut text = std::fs::read_to_string(&path).unwrap();
            text.push_str(&line);
            std::fs::write(path, text).unwrap();
        };
        append(
            "etc/passwd",
            format!("{name}:x:{uid}:{uid}::/tmp:/bin/sh\n"),
        );
        append("etc/group", format!("{name}:x:{uid}:\n"));
    }

    /// A path inside the chroot as seen from outside.
    pub fn outside(&self, inside: &str) -> PathBuf {
        self.root.join(inside.trim_start_matches('/'))
    }
}

/// A user account on this machine, made by the test and removed when dropped.
/// Hold [`ACCOUNTS`] while one exists: creating and removing accounts from
/// several test threads at once trips over the account database's lock.
pub struct TestUser {
    pub name: String,
}

/// Give the test account `user` this password (with `chpasswd`, on its stdin).
pub fn set_password(user: &str, password: &str) {
    let mut chpasswd = Command::new("chpasswd")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let line = format!("{user}:{password}\n");
    std::io::Write::write_all(&mut chpasswd.stdin.take().unwrap(), line.as_bytes()).unwrap();
    assert!(chpasswd.wait().unwrap().success());
}

/// Serialises changes to this machine's account database across test threads.
pub static ACCOUNTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl TestUser {
    pub fn uid(&self) -> u32 {
        let out = Command::new("id")
            .args(["-u", &self.name])
            .output()
            .unwrap();
        assert!(out.status.success(), "no user {}", self.name);
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// The account's fields in the passwd database: (uid, gid, home, shell).
    pub fn passwd(&self) -> (u32, u32, String, String) {
        let out = Command::new("getent")
            .args(["passwd", &self.name])
            .output()
            .unwrap();
        assert!(out.status.success(), "no user {}", self.name);
        let line = String::from_utf8(out.stdout).unwrap();
        let fields: Vec<&str> = line.trim_end().split(':').collect();
        (
            fields[2].parse().unwrap(),
            fields[3].parse().unwrap(),
            fields[5].to_owned(),
            fields[6].to_owned(),
        )
    }

    /// Take responsibility for removing an account the test created some other way.
    pub fn adopt(name: &str) -> Self {
        TestUser {
            name: name.to_owned(),
        }
    }

    /// Create an account with a home directory (hold [`ACCOUNTS`]).
    pub fn create(name: &str) -> Self {
        Self::create_with(name, &[])
    }

    /// Create an account with a home directory and these further `useradd`
    /// options, e.g. `--groups` (hold [`ACCOUNTS`]).
    pub fn create_with(name: &str, options: &[&str]) -> Self {
        // An account of this name is a leftover of a run killed before its
        // drops ran (the names are the tests' own).
        let _ = Command::new("userdel").args(["--remove", name]).output();
        let _ = Command::new("groupdel").arg(name).output();
        let status = Command::new("useradd")
            .arg("--create-home")
            .args(options)
            .arg(name)
            .status()
            .unwrap();
        assert!(status.success(), "useradd {options:?} {name}");
        Self::adopt(name)
    }
}

/// A group on this machine, made by the test and removed when dropped: make
/// it before the accounts that are members, so that it outlives them.
/// Hold [`ACCOUNTS`] while one exists.
pub struct TestGroup {
    pub name: String,
}

impl TestGroup {
    pub fn create(name: &str) -> Self {
        // A leftover of a killed run, as for accounts.
        let _ = Command::new("groupdel").arg(name).output();
        let status = Command::new("groupadd").arg(name).status().unwrap();
        assert!(status.success(), "groupadd {name}");
        TestGroup {
            name: name.to_owned(),
        }
    }

    pub fn gid(&self) -> u32 {
        let out = Command::new("getent")
            .args(["group", &self.name])
            .output()
            .unwrap();
        assert!(out.status.success(), "no group {}", self.name);
        String::from_utf8(out.stdout)
            .unwrap()
            .split(':')
            .nth(2)
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl Drop for TestGroup {
    fn drop(&mut self) {
        let _ = Command::new("groupdel").arg(&self.name).output();
    }
}

/// What `testing:process-report` logged: its `KEY=VALUE` lines, from a
/// form's `output`.
pub fn process_report(output: &str) -> std::collections::BTreeMap<String, String> {
    output
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .collect()
}

/// Assert that a `testing:process-report` shows a command running as
/// `user` logged in: its uid, exactly its groups (primary and `extra`, no
/// group of the runtime's), its HOME, USER, LOGNAME and SHELL, umask 0022,
/// and a PATH of absolute directories only.
#[track_caller]
pub fn assert_logged_in(
    report: &std::collections::BTreeMap<String, String>,
    user: &TestUser,
    extra: &[u32],
    what: &str,
) {
    let (uid, gid, home, shell) = user.passwd();
    let field = |key: &str| {
        report
            .get(key)
            .unwrap_or_else(|| panic!("{what}: no {key} in {report:?}"))
            .as_str()
    };
    assert_eq!(field("uid"), uid.to_string(), "{what}: uid");
    let mut groups = extra.to_vec();
    groups.push(gid);
    groups.sort();
    assert_eq!(id_set(field("groups")), groups, "{what}: groups");
    assert_eq!(field("HOME"), home, "{what}: HOME");
    assert_eq!(field("USER"), user.name, "{what}: USER");
    assert_eq!(field("LOGNAME"), user.name, "{what}: LOGNAME");
    assert_eq!(field("SHELL"), shell, "{what}: SHELL");
    assert_eq!(field("umask"), "0022", "{what}: umask");
    let path = field("PATH");
    assert!(
        !path.is_empty() && path.split(':').all(|dir| dir.starts_with('/')),
        "{what}: PATH {path:?} has a relative or empty entry"
    );
}

/// Numbers in a space-separated list (`id -G`), sorted.
pub fn id_set(text: &str) -> Vec<u32> {
    let mut ids: Vec<u32> = text
        .split_whitespace()
        .map(|n| {
            n.parse()
                .unwrap_or_else(|_| panic!("not a number list: {text:?}"))
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// A file in /etc/sudoers.d, removed when dropped.
pub struct Sudoers {
    path: PathBuf,
}

impl Sudoers {
    pub fn install(name: &str, rule: &str) -> Self {
        let path = Path::new("/etc/sudoers.d").join(name);
        std::fs::write(&path, format!("{rule}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o440))
            .unwrap();
        Sudoers { path }
    }
}

impl Drop for Sudoers {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// /etc/doas.conf as a test writes it, put back as it was (or removed, if
/// there was none) when dropped. The file is global: while one exists, a
/// lock keeps other tests of this process from writing it.
pub struct DoasConf {
    /// Its bytes and mode before the test, if it existed.
    previous: Option<(Vec<u8>, u32)>,
    _lock: std::sync::MutexGuard<'static, ()>,
}

static DOAS_CONF: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl DoasConf {
    pub const PATH: &str = "/etc/doas.conf";

    /// Write `rules` as the whole of /etc/doas.conf.
    pub fn install(rules: &str) -> Self {
        assert!(
            Path::new("/usr/bin/doas").exists(),
            "/usr/bin/doas is missing: `make test-deps` installs doas"
        );
        let lock = DOAS_CONF.lock().unwrap_or_else(|e| e.into_inner());
        let previous = std::fs::read(Self::PATH).ok().map(|bytes| {
            let mode = std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(Self::PATH).unwrap().permissions(),
            );
            (bytes, mode & 0o7777)
        });
        let conf = DoasConf {
            previous,
            _lock: lock,
        };
        conf.rewrite(rules);
        conf
    }

    /// Replace the rules. doas refuses a configuration others may write:
    /// root's, mode 0600, renamed into place whole.
    pub fn rewrite(&self, rules: &str) {
        write_atomically(Self::PATH, rules.as_bytes(), 0o600);
    }
}

impl Drop for DoasConf {
    fn drop(&mut self) {
        match &self.previous {
            Some((bytes, mode)) => write_atomically(Self::PATH, bytes, *mode),
            None => {
                let _ = std::fs::remove_file(Self::PATH);
            }
        }
    }
}

fn write_atomically(path: &str, bytes: &[u8], mode: u32) {
    let incoming = format!("{path}.consfig-test");
    std::fs::write(&incoming, bytes).unwrap();
    std::fs::set_permissions(
        &incoming,
        std::os::unix::fs::PermissionsExt::from_mode(mode),
    )
    .unwrap();
    std::fs::rename(&incoming, path).unwrap();
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel")
            .args(["--remove", &self.name])
            .output();
        let _ = Command::new("groupdel").arg(&self.name).output();
    }
}
