//! Deploying an aarch64 Debian machine (tests/support/arm64.rs: the arm64
//! root emulated by qemu-user-static, sshd on loopback) from this x86_64
//! controller: the bootstrap learns the architecture and ships the aarch64
//! runtime, which has no compiler; the controller compiles each module for
//! aarch64 and ships the code. The same deploy as on x86: forms applied,
//! each in a fresh fork of the pristine image, a trap failing only its
//! form, a chroot subdeployment, a command run there; a second deploy
//! changes and sends nothing.

use std::path::{Path, PathBuf};

use consfig_tests::arm64::Arm64Host;
use consfig_tests::{Run, Sandbox, TESTING_GRANTS, module, q, repo_root};

/// ELF's machine number for aarch64 (EM_AARCH64), at offset 18.
const EM_AARCH64: u16 = 183;

fn elf_machine(bytes: &[u8]) -> u16 {
    assert_eq!(&bytes[..4], b"\x7fELF", "an ELF file");
    u16::from_le_bytes([bytes[18], bytes[19]])
}

fn consfig_toml(sb: &Sandbox, forms: &[String]) {
    let modules: Vec<PathBuf> = ["file", "cmd", "chroot", "testing"]
        .iter()
        .map(|m| module(m))
        .collect();
    let text = format!(
        "modules = [{}]\n{TESTING_GRANTS}[hosts.pi]\nconnection = [\"ssh://pi\"]\nproperties = [\n{}\n]\n",
        modules
            .iter()
            .map(|m| q(m.display().to_string()))
            .collect::<Vec<_>>()
            .join(", "),
        forms
            .iter()
            .map(|f| format!("  {f},"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
}

fn deploy(sb: &Sandbox) -> Run {
    sb.consfig(&["deploy", "--json", "pi"])
}

/// The one entry of `dir`.
fn only_entry(dir: &Path) -> PathBuf {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.pop().unwrap()
}

#[test]
fn an_aarch64_host_is_deployed_from_this_x86_64_controller() {
    assert_eq!(std::env::consts::ARCH, "x86_64", "the controller is x86_64");
    let mut host = Arm64Host::start();
    // A cold controller: it compiles every module for aarch64 now.
    let sb = Sandbox::cold();
    host.trust(&sb.home(), "pi");
    let jail = host.root().join("srv/jail");
    std::fs::create_dir_all(&jail).unwrap();
    let lasting = [
        r#"["file:has-content", "/root/arm.txt", "deployed\n"]"#.to_owned(),
        r#"["chroot:deploys", "/srv/jail", [["file:has-content", "/inside.txt", "in\n"]]]"#
            .to_owned(),
        r#"["cmd:single", ["/bin/sh", "-c", "uname -m > /root/uname"], "/root/uname"]"#.to_owned(),
    ];
    let mut forms = lasting.to_vec();
    forms.extend(
        [
            r#"["testing:counter"]"#,
            r#"["testing:trap"]"#,
            r#"["testing:counter"]"#,
        ]
        .map(str::to_owned),
    );
    consfig_toml(&sb, &forms);

    let first = deploy(&sb);
    assert_eq!(first.code, 22, "a failed form fails the deploy");
    assert_eq!(
        first.statuses(),
        [
            "changed", "changed", "changed", "changed", "failed", "changed"
        ],
        "{first:?}\n{}",
        host.log()
    );
    // Applied there, by aarch64 programs.
    let root = host.root();
    assert_eq!(
        std::fs::read_to_string(root.join("root/arm.txt")).unwrap(),
        "deployed\n"
    );
    assert_eq!(
        std::fs::read_to_string(jail.join("inside.txt")).unwrap(),
        "in\n"
    );
    assert!(
        !root.join("inside.txt").exists(),
        "the subdeployment stayed in its chroot"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("root/uname")).unwrap(),
        "aarch64\n"
    );
    // Each form in a fresh fork of the pristine image: the counter is 1
    // both times, the trap before the second one notwithstanding.
    let forms_reported = first.forms();
    for index in [3, 5] {
        let output = forms_reported[index]["output"].as_str().unwrap();
        assert!(output.contains("counter=1"), "form {index}: {output}");
    }
    let trap = forms_reported[4]["reason"].as_str().unwrap();
    assert!(trap.contains("unreachable"), "{trap}");

    // What it was sent: the aarch64 runtime, and each module's code
    // compiled here for aarch64 (the controller compiled them all now).
    let modules = first.event("modules");
    assert_eq!(modules["arch"], "aarch64");
    assert_eq!(modules["sent"].as_array().unwrap().len(), 4);
    assert_eq!(modules["compiled"].as_array().unwrap().len(), 4);
    assert!(modules["runtime_bytes"].as_u64().unwrap() > 0);
    let shipped = repo_root().join("target/release/consfig-stub.aarch64");
    let runtime =
        std::fs::read(only_entry(&root.join("root/.cache/consfig/runtime")).join("consfig"))
            .unwrap();
    assert_eq!(
        runtime,
        std::fs::read(&shipped).unwrap(),
        "the aarch64 runtime"
    );
    assert_eq!(elf_machine(&runtime), EM_AARCH64);
    let code = root.join("root/.cache/consfig/code");
    let entries: Vec<_> = std::fs::read_dir(&code).unwrap().collect();
    assert_eq!(entries.len(), 4, "one piece of code per module");
    for entry in entries {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert_eq!(elf_machine(&bytes), EM_AARCH64, "code compiled for aarch64");
    }
    assert!(
        !root.join("root/.cache/consfig/modules").exists(),
        "the target compiled nothing and holds no module to compile"
    );

    // Second deploy: nothing to change, nothing sent.
    consfig_toml(&sb, &lasting);
    let second = deploy(&sb);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(second.statuses(), ["unchanged"; 3]);
    let modules = second.event("modules");
    assert_eq!(modules["sent"].as_array().unwrap().len(), 0);
    assert_eq!(modules["compiled"].as_array().unwrap().len(), 0, "cached");
    assert_eq!(second.event("summary")["bytes_sent"], 0);
    host.stop();
}

/// `consfig bundle --target aarch64` on this x86_64 machine: the aarch64
/// stub and code compiled for aarch64, which serves its page when started
/// on the aarch64 host; an unknown architecture is refused by name.
#[test]
fn a_bundle_for_aarch64_is_written_here_and_serves_there() {
    let sb = Sandbox::new();
    let port = consfig_tests::free_port();
    let form = format!("[\"cool-web-service:start-server\", {port}]");
    let grant = format!("net:127.0.0.1:{port}");
    let bundle = sb.path().join("service-aarch64");
    let out = bundle.display().to_string();
    let args = [
        "bundle",
        "--module",
        "cool-web-service",
        "--form",
        &form,
        "--grant",
        &grant,
        "-o",
        &out,
    ];
    let mut with_target = args.to_vec();
    with_target.extend(["--target", "riscv64"]);
    let refused = sb.consfig(&with_target);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains(
            "--target riscv64: not an architecture Consfig compiles for; known: x86_64, aarch64"
        ),
        "{refused:?}"
    );
    assert!(!bundle.exists(), "nothing written");

    with_target.truncate(args.len());
    with_target.extend(["--target", "aarch64"]);
    let made = sb.consfig(&with_target);
    assert_eq!(made.code, 0, "{made:?}");
    let bytes = std::fs::read(&bundle).unwrap();
    let stub = std::fs::read(repo_root().join("target/release/consfig-stub.aarch64")).unwrap();
    assert_eq!(&bytes[..stub.len()], stub.as_slice(), "the aarch64 stub");
    assert_eq!(elf_machine(&bytes), EM_AARCH64);
    let info = sb.consfig(&["bundle", "--info", &out]);
    assert!(
        info.stdout.starts_with("bundle of Consfig ") && info.stdout.contains(" for aarch64, "),
        "{info:?}"
    );

    // Started on the aarch64 host, it serves on the shared loopback.
    let mut host = Arm64Host::start();
    let inside = host.root().join("root/service");
    std::fs::copy(&bundle, &inside).unwrap();
    let known = sb.path().join("known_hosts");
    host.write_known_hosts(&known);
    let started = consfig_tests::sshd::ssh_client(
        &host.client_key(),
        host.port(),
        &known,
        "root",
        "/root/service </dev/null >/root/service.log 2>&1 &",
    )
    .status()
    .unwrap();
    assert!(started.success());
    let mut page = String::new();
    let served = consfig_tests::sshd::wait_until(std::time::Duration::from_secs(60), || {
        let out = std::process::Command::new("curl")
            .args(["-sS", "--fail", "--max-time", "5"])
            .arg(format!("http://127.0.0.1:{port}/"))
            .output()
            .unwrap();
        page = String::from_utf8_lossy(&out.stdout).into_owned();
        out.status.success()
    });
    assert!(
        served,
        "no page; its log: {}",
        std::fs::read_to_string(host.root().join("root/service.log")).unwrap_or_default()
    );
    assert!(page.contains("release 1"), "{page}");
    // Stopping the host stops the service with every process of it.
    host.stop();
}
