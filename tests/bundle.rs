//! Bundles end to end: `consfig bundle` makes a standalone executable of the
//! example web service, which serves real HTTP (fetched with curl) on a
//! loopback port until SIGTERM; `image:dumped` writes one during a deploy,
//! locally and over SSH; damaged bundles are refused.

use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use consfig_tests::sshd::{Sshd, trust};
use consfig_tests::{Sandbox, assert_untouched, free_port, identities, module, q};

/// What the example service says in this build; the module-edit test changes it.
const RELEASE_1: &[u8] = b"cool-web-service release 1";
const RELEASE_2: &[u8] = b"cool-web-service release 2";

fn start_server_form(port: u16) -> String {
    format!("[\"cool-web-service:start-server\", {port}]")
}

/// A started bundle, killed if a test fails before stopping it.
struct Service {
    child: Option<Child>,
    port: u16,
}

impl Service {
    fn start(bundle: &Path, port: u16) -> Service {
        let child = Command::new(bundle)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut service = Service {
            child: Some(child),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = service.child.as_mut().unwrap().try_wait().unwrap() {
                let out = service.child.take().unwrap().wait_with_output().unwrap();
                panic!(
                    "{} exited ({status}) before serving: {}",
                    bundle.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} never listened",
                bundle.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        service
    }

    /// GET a path with curl; the body.
    fn fetch(&self, path: &str) -> String {
        let out = Command::new("curl")
            .args(["-sS", "--fail", "--max-time", "10"])
            .arg(format!("http://127.0.0.1:{}{path}", self.port))
            .output()
            .expect("curl is installed by `make test-deps`");
        assert!(
            out.status.success(),
            "curl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// SIGTERM, and the exit it causes: the process ends by that signal and
    /// the port is closed.
    fn stop(mut self) {
        let mut child = self.child.take().unwrap();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(nix::sys::signal::Signal::SIGTERM as i32),
            "{status}"
        );
        assert!(
            TcpStream::connect(("127.0.0.1", self.port)).is_err(),
            "nothing listens after the service stopped"
        );
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `consfig bundle` of the example service, granted its port unless `grant` is false.
fn make_bundle(sb: &Sandbox, port: u16, grant: bool, out: &Path) {
    let form = start_server_form(port);
    let grant_arg = format!("net:127.0.0.1:{port}");
    let mut args = vec!["bundle", "--module", "cool-web-service", "--form", &form];
    if grant {
        args.extend(["--grant", &grant_arg]);
    }
    let out_arg = out.display().to_string();
    args.extend(["-o", &out_arg]);
    let run = sb.consfig(&args);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn a_bundle_serves_http_until_sigterm() {
    let sb = Sandbox::new();
    let port = free_port();
    let bundle = sb.path().join("cool-web-service");
    make_bundle(&sb, port, true, &bundle);
    assert_eq!(
        std::fs::metadata(&bundle).unwrap().permissions().mode() & 0o777,
        0o755
    );

    let info = sb.consfig(&["bundle", "--info", &bundle.display().to_string()]);
    assert_eq!(info.code, 0, "{info:?}");
    assert!(info.stdout.contains("checksum verified"), "{}", info.stdout);
    assert!(
        info.stdout.contains(&format!("net:127.0.0.1:{port}")),
        "{}",
        info.stdout
    );
    assert!(
        info.stdout.contains("cool-web-service:start-server"),
        "{}",
        info.stdout
    );

    let service = Service::start(&bundle, port);
    let page = service.fetch("/hello?x=<y>");
    assert!(
        page.contains("Hello from cool-web-service release 1"),
        "{page}"
    );
    assert!(
        page.contains("/hello?x=&lt;y&gt;"),
        "the path, escaped: {page}"
    );
    service.stop();
}

#[test]
fn without_a_network_grant_binding_fails_naming_the_grant() {
    let sb = Sandbox::new();
    let port = free_port();
    let bundle = sb.path().join("ungranted");
    make_bundle(&sb, port, false, &bundle);
    let out = Command::new(&bundle).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the form failed: {stderr}");
    let grant = format!("net:127.0.0.1:{port}");
    assert!(
        stderr.contains("denied") && stderr.contains(&grant),
        "says what was denied and which grant would allow it: {stderr}"
    );
    assert!(stderr.contains("cannot listen"), "{stderr}");
}

#[test]
fn truncated_or_altered_bundles_are_refused() {
    let sb = Sandbox::new();
    let good = sb.path().join("good");
    make_bundle(&sb, free_port(), true, &good);
    let bytes = std::fs::read(&good).unwrap();
    let len = bytes.len();
    let stub_len = u64::from_le_bytes(bytes[len - 64..len - 56].try_into().unwrap()) as usize;

    let mut damaged: Vec<(&str, Vec<u8>, &str)> = vec![
        ("cut-1", bytes[..len - 1].to_vec(), "truncated"),
        (
            "cut-in-payload",
            bytes[..stub_len + (len - stub_len) / 2].to_vec(),
            "truncated",
        ),
    ];
    let mut flip = |name, at: usize| {
        let mut copy = bytes.clone();
        copy[at] ^= 0x20;
        damaged.push((name, copy, "damaged"));
    };
    flip("flipped-payload", stub_len + (len - stub_len) / 2);
    flip("flipped-manifest", stub_len + 10);
    flip("flipped-checksum", len - 40);

    for (name, contents, says) in damaged {
        let path = sb.path().join(name);
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = Command::new(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{name}: {stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");

        let info = sb.consfig(&["bundle", "--info", &path.display().to_string()]);
        assert_eq!(info.code, 2, "{name}: {info:?}");
        assert!(info.stderr.contains(says), "{name}: {info:?}");
    }

    // Cut inside the stub, the file is no longer a whole executable, so the
    // stub never gets to check it; it must not run, and --info refuses it.
    let path = sb.path().join("cut-in-stub");
    std::fs::write(&path, &bytes[..stub_len / 2]).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let ran = Command::new(&path).output();
    assert!(!ran.is_ok_and(|out| out.status.success()));
    let info = sb.consfig(&["bundle", "--info", &path.display().to_string()]);
    assert_eq!(info.code, 2, "{info:?}");
    assert!(info.stderr.contains("truncated"), "{info:?}");
}

/// `bundle` with its manifest edited by `edit`, and a checksum that matches
/// again: what anyone can make, as the checksum is no signature.
fn recrafted(bundle: &[u8], edit: impl FnOnce(&mut serde_json::Value, u64)) -> Vec<u8> {
    let len = bundle.len();
    let stub_len = u64::from_le_bytes(bundle[len - 64..len - 56].try_into().unwrap()) as usize;
    let body = &bundle[..len - 64];
    let manifest_len =
        u32::from_le_bytes(body[stub_len..stub_len + 4].try_into().unwrap()) as usize;
    let manifest_at = stub_len + 4;
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&body[manifest_at..manifest_at + manifest_len]).unwrap();
    let code = &body[manifest_at + manifest_len..];
    edit(&mut manifest, code.len() as u64);
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let mut bytes = body[..stub_len].to_vec();
    bytes.extend_from_slice(&(manifest.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&manifest);
    bytes.extend_from_slice(code);
    let checksum = consfig::engine::cache::sha256_hex(&bytes);
    let payload_len = (bytes.len() - stub_len) as u64;
    bytes.extend_from_slice(&(stub_len as u64).to_le_bytes());
    bytes.extend_from_slice(&payload_len.to_le_bytes());
    for pair in checksum.as_bytes().chunks(2) {
        bytes.push(u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap());
    }
    bytes.extend_from_slice(&bundle[len - 16..]);
    bytes
}

#[test]
fn a_crafted_bundle_whose_sizes_wrap_around_is_refused_not_run() {
    let sb = Sandbox::new();
    let good = sb.path().join("good");
    make_bundle(&sb, free_port(), true, &good);
    let bytes = std::fs::read(&good).unwrap();
    // Module sizes that add up, modulo 2^64, to the code there is: the first
    // wraps the offset around to one byte before the code, a second entry
    // brings it back to the end.
    let crafted = recrafted(&bytes, |manifest, code| {
        let modules = manifest["modules"].as_array_mut().unwrap();
        let mut again = modules[0].clone();
        modules[0]["compiled_size"] = u64::MAX.into();
        again["compiled_size"] = (code + 1).into();
        modules.push(again);
    });
    let path = sb.path().join("crafted");
    std::fs::write(&path, crafted).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Another test thread forking while the file was open for writing holds
    // it open a moment longer: "text file busy" until its child execs.
    let out = (0..100)
        .find_map(|_| match Command::new(&path).output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(Duration::from_millis(20));
                None
            }
            result => Some(result.unwrap()),
        })
        .expect("the bundle stays busy");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{:?}: {stderr}", out.status);
    assert!(
        stderr.contains("bad bundle manifest: module cool-web-service: 18446744073709551615 bytes of code from offset"),
        "{stderr}"
    );
    assert!(stderr.contains("run past the payload"), "{stderr}");

    let info = sb.consfig(&["bundle", "--info", &path.display().to_string()]);
    assert_eq!(info.code, 2, "{info:?}");
    assert!(info.stderr.contains("run past the payload"), "{info:?}");
}

#[test]
fn bad_bundle_requests_are_refused_before_writing() {
    let sb = Sandbox::new();
    let out = sb.path().join("never");
    let out_arg = out.display().to_string();
    for (args, says) in [
        (
            vec!["--form", r#"["cool-web-service:start-server", "x"]"#],
            "argument 1 (port)",
        ),
        (
            vec!["--form", r#"["cool-web-service:start-servr", 1]"#],
            "did you mean cool-web-service:start-server",
        ),
        (vec!["--form", "[1, 2"], "--form"),
        (
            vec![
                "--form",
                r#"["cool-web-service:start-server", 1]"#,
                "--grant",
                "net:localhost:80",
            ],
            "IP address",
        ),
    ] {
        let mut all = vec!["bundle", "--module", "cool-web-service", "-o", &out_arg];
        all.extend(args);
        let run = sb.consfig(&all);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
        if run.stderr.contains("unknown property") || run.stderr.contains("argument") {
            assert!(
                run.stderr.contains("no bundle was written"),
                "{}",
                run.stderr
            );
        }
        assert!(!out.exists(), "nothing written");
    }
    let missing = sb.consfig(&[
        "bundle",
        "--module",
        "no-such-module",
        "--form",
        r#"["x:y"]"#,
        "-o",
        &out_arg,
    ]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("no standard module named no-such-module"),
        "{missing:?}"
    );
}

/// A copy of the example service whose page says release 2: a module edit
/// that changes behaviour, made without a compiler by rewriting the one
/// string constant that names the release.
fn edited_service(into: &Path) {
    let mut bytes = std::fs::read(module("cool_web_service")).unwrap();
    let at: Vec<usize> = bytes
        .windows(RELEASE_1.len())
        .enumerate()
        .filter(|(_, w)| *w == RELEASE_1)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "the release string occurs once in the module");
    bytes[at[0]..at[0] + RELEASE_2.len()].copy_from_slice(RELEASE_2);
    std::fs::write(into, bytes).unwrap();
}

fn dumped_form(path: &Path, port: u16) -> String {
    format!(
        "[\"image:dumped\", {}, {}, [\"net:127.0.0.1:{port}\"]]",
        q(path.display().to_string()),
        start_server_form(port)
    )
}

#[test]
fn image_dumped_changes_only_when_the_bundle_would_and_follows_module_edits() {
    let sb = Sandbox::new();
    let port = free_port();
    let service_module = sb.path().join("cool-web-service.wasm");
    std::fs::copy(module("cool_web_service"), &service_module).unwrap();
    let bin_dir = sb.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    let bundle = bin_dir.join("cool-web-service");
    sb.write_consfig(
        &[module("image"), service_module.clone()],
        &[dumped_form(&bundle, port)],
        "",
    );

    let first = sb.deploy(&[]);
    assert_eq!(first.statuses(), ["changed"], "{first:?}");
    assert_eq!(
        std::fs::metadata(&bundle).unwrap().permissions().mode() & 0o777,
        0o755
    );
    let written = identities(&[&bin_dir]);
    let again = sb.deploy(&[]);
    assert_eq!(again.statuses(), ["unchanged"], "{again:?}");
    assert_untouched(&written, "an unchanged bundle is not rewritten");
    let service = Service::start(&bundle, port);
    assert!(service.fetch("/").contains("release 1"));
    service.stop();

    edited_service(&service_module);
    let edited = sb.deploy(&[]);
    assert_eq!(edited.statuses(), ["changed"], "{edited:?}");
    let service = Service::start(&bundle, port);
    let page = service.fetch("/");
    assert!(page.contains("release 2"), "the new module serves: {page}");
    service.stop();

    let names: Vec<String> = std::fs::read_dir(&bin_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["cool-web-service"], "no temporary files left");
}

/// A form writing a bundle on a target builds it on the runtime there,
/// which is the stub: nothing more is shipped for it.
#[test]
fn image_dumped_over_ssh_is_built_on_the_runtime_itself() {
    let server = Sshd::start();
    let sb = Sandbox::new();
    trust(&sb.home(), &[&server], |_| "web1".to_owned());
    let port = free_port();
    let bundle = sb.path().join("over-ssh-service");
    let text = format!(
        "modules = [{}, {}]\n[hosts.web1]\nconnection = [\"ssh://web1\"]\nproperties = [\n  {},\n]\n",
        q(module("image").display().to_string()),
        q(module("cool_web_service").display().to_string()),
        dumped_form(&bundle, port)
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();

    let cold = sb.consfig(&["deploy", "--json", "web1"]);
    assert_eq!(cold.statuses(), ["changed"], "{cold:?}");
    let runtime = std::fs::read(consfig_tests::runtime_bin()).unwrap();
    let written = std::fs::read(&bundle).unwrap();
    assert_eq!(
        &written[..runtime.len()],
        runtime.as_slice(),
        "the bundle starts with the runtime the target was sent"
    );
    let runtime_sha = consfig::engine::cache::sha256_hex(&runtime);
    let installed = server
        .target_cache()
        .join(format!("consfig/runtime/{runtime_sha}/consfig"));
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        runtime,
        "the runtime it runs"
    );
    assert!(
        !server.target_cache().join("consfig/stub").exists(),
        "no stub of its own"
    );
    let service = Service::start(&bundle, port);
    assert!(service.fetch("/").contains("release 1"));
    service.stop();

    let written = identities(&[&bundle]);
    let warm = sb.consfig(&["deploy", "--json", "web1"]);
    assert_eq!(warm.statuses(), ["unchanged"], "{warm:?}");
    assert_eq!(warm.event("summary")["runtime_bytes_sent"], 0, "{warm:?}");
    assert_untouched(&written, "the warm deploy");
}
