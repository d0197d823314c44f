//! The `testing` module: properties that misbehave on purpose, or report on
//! the runtime, for the end-to-end tests. Never deploy it anywhere real.
//!
//! The runtime must contain each failure to its own form, and start every
//! form from the state the module had right after `init`.

use std::sync::atomic::{AtomicU32, Ordering};

use consfig_guest::bindings::consfig::module::host as wit;
use consfig_guest::prelude::*;
use consfig_guest::serde_json::Value;

/// How often `init` ran in this copy of the module.
static INITS: AtomicU32 = AtomicU32::new(0);
/// How often `testing:counter` ran in this copy of the module.
static COUNTER: AtomicU32 = AtomicU32::new(0);

fn init() -> Result<()> {
    INITS.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Count this call and log `counter=N` and `inits=M`: a form that starts
/// from the pristine image logs `counter=1` and `inits=1`.
#[property]
fn counter() -> Result<Change> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    info!("counter={n}");
    info!("inits={}", INITS.load(Ordering::Relaxed));
    Ok(Change::Changed)
}

/// Execute a Wasm `unreachable` instruction.
#[property]
fn trap() -> Result<Change> {
    core::arch::wasm32::unreachable()
}

/// Panic with the message `deliberate panic`.
#[property]
fn panic() -> Result<Change> {
    panic!("deliberate panic")
}

/// Abort the process.
#[property]
fn abort() -> Result<Change> {
    std::process::abort()
}

/// Loop forever, until the runtime's timeout kills the form.
#[property]
fn spin() -> Result<Change> {
    let mut n = 0u64;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

/// Allocate `mib` MiB, one MiB at a time, touching every page: a memory
/// bomb when `mib` is over the memory limit.
#[property]
fn eat_memory(mib: u32) -> Result<Change> {
    let mut held: Vec<Vec<u8>> = Vec::new();
    for i in 0..mib {
        held.push(vec![i as u8; 1 << 20]);
    }
    log::info(format!("held {} MiB", std::hint::black_box(&held).len()));
    Ok(Change::Unchanged)
}

/// Print `bytes` bytes of text to stdout, in lines: a flood of output.
#[property]
fn flood(bytes: u64) -> Result<Change> {
    let line = "flood flood flood flood flood flood flood flood flood flood flood\n";
    let mut printed = 0;
    while printed < bytes {
        print!("{line}");
        printed += line.len() as u64;
    }
    Ok(Change::Unchanged)
}

/// Leak this host's data `key` every way a module can: stdout, stderr, the
/// log, a form of a subdeployment, and the error it fails with. It also
/// writes the data to the file at `path`, which is what data is for.
#[property]
fn leak_data(key: String, path: String) -> Result<Change> {
    let secret = host::data_text(&key)?;
    println!("stdout: {secret}");
    eprintln!("stderr: {secret}");
    log::info(format!("log: {secret}"));
    fs::write(&path, secret.as_bytes(), None)?;
    let _ = subdeploy(&[], &[Form::new("testing:echo").arg(&secret)?]);
    bail!("error: {secret}")
}

/// Panic with this host's data `key` in the message: the panic's message
/// reaches the form's reason through the `panicked` import.
#[property]
fn panic_with_data(key: String) -> Result<Change> {
    let secret = host::data_text(&key)?;
    panic!("panic: {secret}")
}

/// Tell the host a panic message of `bytes` bytes, then trap: a module
/// that floods the reason of its form.
#[property]
fn flood_panic(bytes: u32) -> Result<Change> {
    let message = "x".repeat(bytes as usize);
    consfig_guest::bindings::consfig::module::host::panicked(&message);
    core::arch::wasm32::unreachable()
}

/// Write `content` to the file at `path` (through the host): how the
/// sandbox tests try paths they were not granted.
#[property]
fn write(path: String, content: String) -> Result<Change> {
    fs::write(&path, content.as_bytes(), None)?;
    Ok(Change::Changed)
}

/// Read the file at `path` and log its size.
#[property]
fn read(path: String) -> Result<Change> {
    let bytes = fs::read(&path)?;
    log::info(format!("read {} bytes", bytes.len()));
    Ok(Change::Unchanged)
}

/// Run a command; fails unless it exits 0.
#[property]
fn run(argv: Vec<String>) -> Result<Change> {
    let (program, args) = argv.split_first().ok_or_else(|| Error::new("empty argv"))?;
    let output = host::run(Command::change(program).args(args))?;
    ensure!(output.success(), "{program} failed");
    Ok(Change::Changed)
}

/// Open a TCP connection to `address` (`IP:PORT`) with std::net.
#[property]
fn connect(address: String) -> Result<Change> {
    let addr: std::net::SocketAddr = address
        .parse()
        .map_err(|_| Error::new(format!("{address} is not IP:PORT")))?;
    std::net::TcpStream::connect(addr).map_err(|e| Error::new(format!("connect {addr}: {e}")))?;
    Ok(Change::Changed)
}

/// Apply a form of another module through the host.
#[property]
fn apply_form(form: Form) -> Result<Change> {
    apply(&form)
}

/// Log the argument as JSON.
#[property]
fn echo(value: Value) -> Result<Change> {
    log::info(value.to_string());
    Ok(Change::Unchanged)
}

/// Print the text to stdout and to stderr.
#[property]
fn print(text: String) -> Result<Change> {
    println!("{text}");
    eprintln!("{text}");
    Ok(Change::Unchanged)
}

/// Write `uid=U gid=G user=NAME` (`user=?` when the uid has no name) and a
/// newline to the file at `path`: who the process applying the form runs as.
#[property]
fn observe(path: String) -> Result<Change> {
    let me = host::identity();
    let user = me.user.as_deref().unwrap_or("?");
    fs::write(
        &path,
        format!("uid={} gid={} user={user}\n", me.uid, me.gid),
        None,
    )?;
    Ok(Change::Changed)
}

/// Count this call, as `testing:counter` does (so this image is no longer
/// pristine), then apply `n` forms `["testing:counter"]` in a subdeployment
/// in the contexts, given as text and passed on unchecked. Each of those
/// must log `counter=1`; the result is the subdeployment's.
#[property]
fn subdeploy_counter(contexts: Vec<String>, n: u32) -> Result<Change> {
    COUNTER.fetch_add(1, Ordering::Relaxed);
    let contexts: Vec<Context> = contexts.into_iter().map(Context::raw).collect();
    let forms = vec![Form::new("testing:counter"); n as usize];
    subdeploy(&contexts, &forms)
}

/// Apply `forms` in a subdeployment in the contexts, given as text and
/// passed on unchecked; the result is the subdeployment's.
#[property]
fn deploys_in(contexts: Vec<String>, forms: Vec<Form>) -> Result<Change> {
    let contexts: Vec<Context> = contexts.into_iter().map(Context::raw).collect();
    subdeploy(&contexts, &forms)
}

/// Run a command as a hostile module would: `spec` is an object with
/// `argv`, and optionally `env` (an object of variables to set), `cwd`,
/// `stdin` (text) and `read-only`. Logs its stdout and stderr; fails unless
/// it exits 0.
#[property]
fn run_with(spec: Value) -> Result<Change> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let argv: Vec<String> = spec["argv"]
        .as_array()
        .ok_or_else(|| Error::new("run-with: argv must be a list"))?
        .iter()
        .filter_map(text)
        .collect();
    let (program, args) = argv.split_first().ok_or_else(|| Error::new("empty argv"))?;
    // Given as `read-only: true`, the command is a query.
    let mut command = match spec["read-only"].as_bool() {
        Some(true) => Command::query(program),
        _ => Command::change(program),
    }
    .args(args);
    if let Some(env) = spec["env"].as_object() {
        for (key, value) in env {
            command = command.env(key, value.as_str().unwrap_or_default());
        }
    }
    if let Some(cwd) = text(&spec["cwd"]) {
        command = command.cwd(cwd);
    }
    if let Some(stdin) = text(&spec["stdin"]) {
        command = command.stdin(stdin.into_bytes());
    }
    let output = host::run(command)?;
    logged_and_checked(program, &output)
}

/// Log a command's stdout and stderr; changed when it succeeded.
fn logged_and_checked(program: &str, output: &host::Output) -> Result<Change> {
    log::info(format!(
        "stdout: {}",
        String::from_utf8_lossy(&output.stdout).trim_end()
    ));
    log::info(format!(
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr).trim_end()
    ));
    ensure!(output.success(), "{program} failed");
    Ok(Change::Changed)
}

/// Write `content` to the file at `path` as an executable (mode 0755): a
/// program planted where a granted command would find it.
#[property]
fn plant(path: String, content: String) -> Result<Change> {
    fs::write(&path, content.as_bytes(), Some(Mode::new(0o755)?))?;
    Ok(Change::Changed)
}

/// Apply `forms` in a subdeployment in the contexts, given as text and
/// passed on unchecked; the result is the subdeployment's.
#[property]
fn subdeploy_forms(contexts: Vec<String>, forms: Vec<Form>) -> Result<Change> {
    let contexts: Vec<Context> = contexts.into_iter().map(Context::raw).collect();
    subdeploy(&contexts, &forms)
}

/// Resolve `name` (with std::net, through WASI's name lookup) and log the
/// addresses found; fails when the lookup does.
#[property]
fn resolve(name: String) -> Result<Change> {
    use std::net::ToSocketAddrs;
    let found: Vec<String> = (name.as_str(), 80)
        .to_socket_addrs()
        .map_err(|e| Error::new(format!("resolve {name}: {e}")))?
        .map(|addr| addr.ip().to_string())
        .collect();
    log::info(format!("resolved {name}: {}", found.join(" ")));
    Ok(Change::Unchanged)
}

// Hostile file calls: every file call the host offers, with modes passed
// raw (any u32, set-id bits included) and the sandbox's answer logged, and
// what a module gets from WASI's own files and environment (nothing).

/// Write `content` to `path` with `mode` exactly as given.
#[property]
fn write_mode(path: String, content: String, mode: u32) -> Result<Change> {
    wit::write_file(&path, content.as_bytes(), Some(mode)).map_err(Error::new)?;
    Ok(Change::Changed)
}

/// Log what `stat` says of `path`: `stat: KIND MODE SIZE` or `stat: none`.
#[property]
fn stat(path: String) -> Result<Change> {
    match wit::stat(&path).map_err(Error::new)? {
        Some(s) => {
            let kind = match s.kind {
                wit::FileKind::File => "file",
                wit::FileKind::Directory => "directory",
                wit::FileKind::Symlink => "symlink",
                wit::FileKind::Other => "other",
            };
            log::info(format!("stat: {kind} {:o} {}", s.mode, s.size))
        }
        None => log::info("stat: none"),
    }
    Ok(Change::Unchanged)
}

/// Remove `path`.
#[property]
fn remove(path: String) -> Result<Change> {
    wit::remove(&path).map_err(Error::new)?;
    Ok(Change::Changed)
}

/// Make the directory `path` with `mode` exactly as given.
#[property]
fn mkdir(path: String, mode: u32) -> Result<Change> {
    wit::mkdir(&path, Some(mode)).map_err(Error::new)?;
    Ok(Change::Changed)
}

/// Set the mode of `path` to `mode` exactly as given.
#[property]
fn chmod(path: String, mode: u32) -> Result<Change> {
    wit::chmod(&path, mode).map_err(Error::new)?;
    Ok(Change::Changed)
}

/// Set the owner and/or group of `path` (names or numbers).
#[property]
fn chown(path: String, owner: Option<String>, group: Option<String>) -> Result<Change> {
    wit::chown(&path, owner.as_deref(), group.as_deref()).map_err(Error::new)?;
    Ok(Change::Changed)
}

/// Make a symlink at `link` whose contents are `target`.
#[property]
fn symlink(target: String, link: String) -> Result<Change> {
    wit::symlink(&target, &link).map_err(Error::new)?;
    Ok(Change::Changed)
}

/// Log the contents of the symlink at `path`: `readlink: TARGET`.
#[property]
fn readlink(path: String) -> Result<Change> {
    let target = wit::readlink(&path).map_err(Error::new)?;
    log::info(format!("readlink: {target}"));
    Ok(Change::Unchanged)
}

/// Log the entries of the directory `path`: `list-dir: NAME KIND, ...`.
#[property]
fn list_dir(path: String) -> Result<Change> {
    let entries = wit::list_dir(&path).map_err(Error::new)?;
    let shown: Vec<String> = entries
        .iter()
        .map(|e| {
            let kind = match e.kind {
                wit::FileKind::File => "file",
                wit::FileKind::Directory => "directory",
                wit::FileKind::Symlink => "symlink",
                wit::FileKind::Other => "other",
            };
            format!("{} {kind}", e.name)
        })
        .collect();
    log::info(format!("list-dir: {}", shown.join(", ")));
    Ok(Change::Unchanged)
}

/// Rename `source` to `destination`.
#[property]
fn rename(source: String, destination: String) -> Result<Change> {
    wit::rename(&source, &destination).map_err(Error::new)?;
    Ok(Change::Changed)
}

/// Log the owner of `path`: `owner: UID:GID`.
#[property]
fn owner(path: String) -> Result<Change> {
    match wit::stat(&path).map_err(Error::new)? {
        Some(s) => log::info(format!("owner: {}:{}", s.uid, s.gid)),
        None => log::info("owner: none"),
    }
    Ok(Change::Unchanged)
}

/// Log the facts: `os: ID`, `root: UID HOME`, `group 0: NAME`, `chroot: BOOL`.
#[property]
fn facts() -> Result<Change> {
    let os = wit::os_release().map_err(Error::new)?;
    log::info(format!("os: {}", os.id));
    match wit::lookup_user("root").map_err(Error::new)? {
        Some(root) => log::info(format!("root: {} {}", root.uid, root.home)),
        None => log::info("root: none"),
    }
    match wit::lookup_group("0").map_err(Error::new)? {
        Some(group) => log::info(format!("group 0: {}", group.name)),
        None => log::info("group 0: none"),
    }
    log::info(format!("chroot: {}", wit::in_chroot()));
    Ok(Change::Unchanged)
}

/// Try the host's files and environment through WASI itself (std::fs,
/// std::env), not through `host`, and log one line per attempt:
/// `wasi NAME: refused (ERROR)` or `wasi NAME: GOT WHAT`.
#[property]
fn wasi_probe() -> Result<Change> {
    let report = |name: &str, got: std::result::Result<String, std::io::Error>| match got {
        Ok(what) => log::info(format!("wasi {name}: GOT {what}")),
        Err(e) => log::info(format!("wasi {name}: refused ({e})")),
    };
    report(
        "read /etc/passwd",
        std::fs::read("/etc/passwd").map(|b| format!("{} bytes", b.len())),
    );
    report(
        "read etc/passwd",
        std::fs::read("etc/passwd").map(|b| format!("{} bytes", b.len())),
    );
    report(
        "list /",
        std::fs::read_dir("/").map(|d| format!("{} entries", d.count())),
    );
    report(
        "list .",
        std::fs::read_dir(".").map(|d| format!("{} entries", d.count())),
    );
    report(
        "write /tmp/consfig-wasi-probe",
        std::fs::write("/tmp/consfig-wasi-probe", b"x").map(|()| "written".to_owned()),
    );
    report(
        "metadata /",
        std::fs::metadata("/").map(|m| format!("{:?}", m.file_type())),
    );
    let vars: Vec<String> = std::env::vars_os()
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    log::info(format!("wasi env: {} variables {vars:?}", vars.len()));
    Ok(Change::Unchanged)
}

// Limits and hangs: modules that try to make the host hold too much, wait
// forever, or nest without end.

/// Subdeploy `forms` (JSON texts, passed on unchecked) in `contexts` (text,
/// passed on unchecked): how the tests hand the host forms the SDK would
/// not build.
#[property]
fn subdeploy_texts(contexts: Vec<String>, forms: Vec<String>) -> Result<Change> {
    let changed = consfig_guest::bindings::consfig::module::forms::subdeploy(&contexts, &forms)
        .map_err(Error::new)?;
    Ok(match changed {
        consfig_guest::bindings::consfig::module::types::Change::Changed => Change::Changed,
        consfig_guest::bindings::consfig::module::types::Change::Unchanged => Change::Unchanged,
    })
}

/// Subdeploy this same form, with no context: a recursion with no end of
/// its own.
#[property]
fn recurse() -> Result<Change> {
    subdeploy(&[], &[Form::new("testing:recurse")])
}

/// Fail with a reason of `bytes` bytes: a flood through the reason.
#[property]
fn fail_with(bytes: u64) -> Result<Change> {
    bail!("{}", "r".repeat(bytes as usize))
}

/// Ask the host `n` times to validate a form of this module (which is
/// running, so each must wait), each `size` bytes long: a module growing
/// the host with validations it never lets happen.
#[property]
fn defer_flood(n: u32, size: u32) -> Result<Change> {
    let form = format!(r#"["testing:echo", "{}"]"#, "v".repeat(size as usize));
    for _ in 0..n {
        consfig_guest::bindings::consfig::module::forms::validate_form(&form)
            .map_err(Error::new)?;
    }
    Ok(Change::Unchanged)
}

/// An argument whose decoding never ends: `"spin"` loops in the module's
/// code, `"sleep"` waits in the host (a WASI sleep); anything else decodes.
struct Stall;

/// Its typed form gives it as the one word that does not stall.
impl consfig_guest::serde::Serialize for Stall {
    fn serialize<S: consfig_guest::serde::Serializer>(
        &self,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str("return")
    }
}

impl<'de> consfig_guest::serde::Deserialize<'de> for Stall {
    fn deserialize<D: consfig_guest::serde::Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Self, D::Error> {
        let how = String::deserialize(d)?;
        match how.as_str() {
            "spin" => {
                let mut n = 0u64;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "sleep" => loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            },
            _ => Ok(Stall),
        }
    }
}

impl HasSchema for Stall {
    fn schema() -> Schema {
        Schema::Any
    }
}

/// Takes an argument whose decoding (when validated, and when applied)
/// stalls on `"spin"` and `"sleep"`.
#[property]
fn stall_decoding(_how: Stall) -> Result<Change> {
    Ok(Change::Unchanged)
}

// Secrets in every field of a report: the host's data put in a file's path
// and contents (text and binary), a subdeployment's context, a nested
// form's name and arguments, the form's output and reason, and what a
// command writes straight to the runtime's own stderr.

/// Put this host's data `key` into every field a report has: a file named
/// after it under `dir`, holding it on a line of its own; `dir/blob`,
/// holding it between bytes that are not text; a subdeployment in
/// `chroot:PARENT/VALUE` (a chroot made there) applying `testing:echo` with
/// it as argument and as key, writing `/in-VALUE` inside, and applying a
/// form named after it (an unknown property); stdout; and the error it
/// always fails with.
#[property]
fn leak_data_into_reports(key: String, dir: String, parent: String) -> Result<Change> {
    let secret = host::data_text(&key)?;
    fs::write(
        format!("{dir}/{secret}.txt"),
        format!("password={secret}\nnext line\n").as_bytes(),
        None,
    )?;
    let mut binary = vec![0xff, 0xfe, 0x00];
    binary.extend_from_slice(secret.as_bytes());
    binary.extend_from_slice(&[0x80, b'\n']);
    fs::write(format!("{dir}/blob"), &binary, None)?;
    println!("stdout: {secret}\nthe line after");
    let mut keyed = consfig_guest::serde_json::Map::new();
    keyed.insert(secret.clone(), Value::from(vec![format!("arg {secret}")]));
    let forms = [
        Form::new("testing:echo").arg(Value::Object(keyed))?,
        Form::new("testing:write")
            .arg(format!("/in-{secret}"))?
            .arg(format!("inside {secret}\n"))?,
        Form::new(format!("testing:{secret}")),
    ];
    let contexts = [Context::raw(format!("chroot:{parent}/{secret}"))];
    let nested = match subdeploy(&contexts, &forms) {
        Ok(_) => "no nested form failed".to_owned(),
        Err(e) => e.to_string(),
    };
    bail!("leaked {secret} into every field; {nested}")
}

/// Run `argv` with this host's data `key` on its standard input, and log
/// what it printed; fails unless it exits 0. A command can write the data
/// to the runtime's own stderr (its parent's, through /proc).
#[property]
fn pipe_data(key: String, argv: Vec<String>) -> Result<Change> {
    let secret = host::data(&key)?;
    let (program, args) = argv.split_first().ok_or_else(|| Error::new("empty argv"))?;
    let output = host::run(Command::change(program).args(args).stdin(secret))?;
    logged_and_checked(program, &output)
}

// What a context entered for a user gives the commands run in it: a
// `setuid:` subdeployment (or hop) must carry the user's supplementary
// groups and login environment, not the runtime's.

/// Run `/bin/sh -c` (grant `command:/bin/sh -c *`, and `env:*` for SHELL)
/// to report what a command started for this form gets, one `KEY=VALUE`
/// line each in the log: `uid` (`id -u`), `groups` (`id -G`), HOME, USER,
/// LOGNAME, SHELL, PATH, `umask` and `cwd`.
#[property]
fn process_report() -> Result<Change> {
    const SCRIPT: &str = r#"echo "uid=$(id -u)"
echo "groups=$(id -G)"
echo "HOME=$HOME"
echo "USER=$USER"
echo "LOGNAME=$LOGNAME"
echo "SHELL=$SHELL"
echo "PATH=$PATH"
echo "umask=$(umask)"
echo "cwd=$(pwd)""#;
    let output = host::run(Command::query("/bin/sh").args(["-c", SCRIPT]))?;
    ensure!(
        output.success(),
        "the report failed: {}",
        String::from_utf8_lossy(&output.stderr).trim_end()
    );
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        log::info(line);
    }
    Ok(Change::Unchanged)
}

/// Apply this same form through the host: a module applying its own form
/// with no end of its own, which the runtime's depth limit must stop.
#[property]
fn apply_recurse() -> Result<Change> {
    apply(&Form::new("testing:apply-recurse"))
}

/// Apply each form through the host, whatever the ones before it came to;
/// fails with the last failure's reason, if any: a module making the host
/// instantiate it again and again (each form of its own that traps loses
/// its instance).
#[property]
fn apply_all(forms: Vec<Form>) -> Result<Change> {
    let mut last = None;
    for form in &forms {
        if let Err(e) = apply(form) {
            last = Some(e);
        }
    }
    match last {
        Some(e) => Err(e),
        None => Ok(Change::Unchanged),
    }
}

/// # Not a heading
/// | a | b |
/// |---|---|
/// <script>alert(1)</script>
/// ```text
/// an unclosed fence
#[property]
fn markdown_breaker(#[default = "a|b`c"] text: String) -> Result<Change> {
    info!("{text}");
    Ok(Change::Unchanged)
}

consfig_guest::module! {
    name: "testing",
    doc: "Misbehaving and diagnostic properties for the end-to-end tests.",
    init: init,
    properties: [
        counter,
        trap,
        panic,
        abort,
        spin,
        eat_memory,
        flood,
        leak_data,
        deploys_in,
        panic_with_data,
        flood_panic,
        write,
        read,
        run,
        connect,
        apply_form,
        echo,
        print,
        observe,
        subdeploy_counter,
        run_with,
        plant,
        subdeploy_forms,
        resolve,
        // Hostile file calls, and WASI's own files and environment.
        write_mode,
        stat,
        remove,
        mkdir,
        chmod,
        chown,
        symlink,
        readlink,
        list_dir,
        rename,
        owner,
        facts,
        wasi_probe,
        // Limits and hangs.
        subdeploy_texts,
        recurse,
        fail_with,
        defer_flood,
        stall_decoding,
        // Secrets in every field of a report.
        leak_data_into_reports,
        pipe_data,
        // The groups and login environment of a context entered for a user.
        process_report,
        // A module applying forms of its own.
        apply_recurse,
        apply_all,
        // What the consfig gives a host: variables and files.
        var,
        vars,
        consfig_file,
        // A doc and a default written to break a Markdown reference (last:
        // its test reads its section to the end).
        markdown_breaker
    ],
}

/// Write this host's variable `key` (its JSON, or `none`) to the file at
/// `path`: how the tests see what a module reads of the variables.
#[property]
fn var(key: String, path: String) -> Result<Change> {
    let value = wit::var(&key).unwrap_or_else(|| "none".to_owned());
    fs::write(&path, value.as_bytes(), None)?;
    Ok(Change::Changed)
}

/// Write every variable of this host, one JSON object, to the file at `path`.
#[property]
fn vars(path: String) -> Result<Change> {
    fs::write(&path, wit::vars().as_bytes(), None)?;
    Ok(Change::Changed)
}

/// Write the file of the consfig named `name` to the file at `path`; fails
/// as reading it fails.
#[property]
fn consfig_file(name: String, path: String) -> Result<Change> {
    let bytes = wit::consfig_file(&name).map_err(Error::new)?;
    fs::write(&path, &bytes, None)?;
    Ok(Change::Changed)
}
