//! Running containers: a real Debian 12 system booted with systemd-nspawn
//! (tests/support/booted.rs), reached over SSH on a loopback port, and
//! entered by the `nsenter:PID` and `machine:NAME` contexts — as hops of the
//! connection and as the context of a subdeployment. A form's effect lands in
//! the container's files and host name, never this machine's. These tests
//! run as root.

use std::path::{Path, PathBuf};

use consfig_tests::booted::{Booted, HOSTNAME};
use consfig_tests::{Chroot, Run, Sandbox, module, q};

/// A Consfig.toml with one host `box` reached through `connection`.
fn write_consfig(
    sb: &Sandbox,
    modules: &[PathBuf],
    connection: &[String],
    forms: &[String],
    extra: &str,
) {
    let list = |items: Vec<String>| items.join(", ");
    let text = format!(
        "modules = [{}]\n{extra}\n[hosts.box]\nconnection = [{}]\nproperties = [\n{}\n]\n",
        list(modules.iter().map(|m| q(m.display().to_string())).collect()),
        list(connection.iter().map(q).collect()),
        forms
            .iter()
            .map(|f| format!("  {f},"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
}

fn has_content(path: &str, content: &str) -> String {
    format!("[\"file:has-content\", {}, {}]", q(path), q(content))
}

/// A form that writes the host name and process id its command sees to `path`.
fn observe(path: &str) -> String {
    format!(
        "[\"cmd:single\", [\"/bin/sh\", \"-c\", {}], {}]",
        q(format!("echo $(hostname) $$ > {path}")),
        q(path)
    )
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the failed form of a run said.
fn reason(run: &Run) -> String {
    format!("{} {}", run.stdout, run.stderr)
}

#[test]
fn a_deploy_over_ssh_reaches_the_booted_system() {
    let booted = Booted::boot();
    let sb = Sandbox::new();
    booted.trust(&sb.home(), "booted");
    let forms = [has_content("/etc/consfig-booted", "over ssh")];
    write_consfig(&sb, &[module("file")], &["ssh://booted".into()], &forms, "");
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 23, "{run:?}");
    assert_eq!(read(&booted.inside("/etc/consfig-booted")), "over ssh");
    assert!(
        !Path::new("/etc/consfig-booted").exists(),
        "not this machine's /etc"
    );
    // systemd runs the container: its runtime directory says so.
    assert!(booted.inside("/run/systemd/system").is_dir());
    assert_eq!(read(&booted.inside("/proc/1/comm")).trim(), "systemd");
    let again = sb.deploy(&[]);
    assert_eq!(again.code, 0, "unchanged the second time: {again:?}");
}

#[test]
fn the_nsenter_hop_applies_forms_inside_the_container() {
    let booted = Booted::boot();
    let sb = Sandbox::new();
    let hop = format!("nsenter:{}", booted.leader());
    let forms = [
        has_content("/etc/consfig-nsenter", "entered"),
        observe("/root/seen"),
    ];
    write_consfig(
        &sb,
        &[module("file"), module("cmd")],
        &["local".into(), hop.clone()],
        &forms,
        "",
    );

    // Check mode predicts, and writes nothing inside.
    let check = sb.deploy(&["--check"]);
    assert_eq!(
        check.statuses(),
        ["would-change", "would-change"],
        "{check:?}"
    );
    assert!(!booted.inside("/etc/consfig-nsenter").exists());
    assert!(!booted.inside("/root/seen").exists());

    let run = sb.deploy(&[]);
    assert_eq!(run.code, 23, "{run:?}");
    assert_eq!(read(&booted.inside("/etc/consfig-nsenter")), "entered");
    assert!(!Path::new("/etc/consfig-nsenter").exists());
    assert!(!Path::new("/root/seen").exists());
    // The container's host name, and a process of the container's own
    // process namespace (its ids are small; this machine's are not 1).
    let seen = read(&booted.inside("/root/seen"));
    let (hostname, pid) = seen.trim().split_once(' ').unwrap();
    assert_eq!(hostname, HOSTNAME);
    assert_ne!(
        nix::unistd::gethostname().unwrap().to_string_lossy(),
        HOSTNAME
    );
    let pid: u32 = pid.parse().unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists() || pid != booted.leader(),
        "the command ran as a process of the container"
    );
    let ns = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
    assert_ne!(ns("self"), ns(&booted.leader().to_string()));

    let again = sb.deploy(&[]);
    assert_eq!(again.statuses(), ["unchanged", "unchanged"], "{again:?}");
}

/// A machine named as systemd-machined names it: its state file under
/// /run/systemd/machines, removed again on drop. (systemd-machined itself
/// needs systemd as this machine's init.)
struct Machine {
    file: PathBuf,
    made_dirs: Vec<PathBuf>,
}

impl Machine {
    fn register(name: &str, leader: u32) -> Machine {
        let dir = Path::new("/run/systemd/machines");
        let mut made_dirs = Vec::new();
        for d in [Path::new("/run/systemd"), dir] {
            if !d.exists() {
                std::fs::create_dir(d).unwrap();
                made_dirs.push(d.to_owned());
            }
        }
        let file = dir.join(name);
        std::fs::write(
            &file,
            format!("# This is private data. Do not parse.\nNAME={name}\nCLASS=container\nLEADER={leader}\n"),
        )
        .unwrap();
        Machine { file, made_dirs }
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
        for d in self.made_dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

#[test]
fn the_machine_hop_finds_the_container_by_name() {
    let booted = Booted::boot();
    let name = format!("consfig-test-{}", std::process::id());
    let _machine = Machine::register(&name, booted.leader());
    let sb = Sandbox::new();
    write_consfig(
        &sb,
        &[module("file")],
        &["local".into(), format!("machine:{name}")],
        &[has_content("/etc/consfig-machine", "by name")],
        "",
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 23, "{run:?}");
    assert_eq!(read(&booted.inside("/etc/consfig-machine")), "by name");

    write_consfig(
        &sb,
        &[module("file")],
        &["local".into(), "machine:consfig-no-such-machine".into()],
        &[has_content("/etc/consfig-machine", "x")],
        "",
    );
    let missing = sb.deploy(&[]);
    assert_ne!(missing.code, 0);
    assert!(
        reason(&missing).contains("machine:consfig-no-such-machine: no such machine"),
        "{missing:?}"
    );
}

#[test]
fn a_subdeployment_enters_the_container_it_is_granted() {
    let booted = Booted::boot();
    let sb = Sandbox::new();
    let leader = booted.leader();
    let forms = [format!(
        "[\"testing:deploys-in\", [\"nsenter:{leader}\"], [{}, {}]]",
        has_content("/etc/consfig-subdeploy", "nested"),
        observe("/root/seen-nested")
    )];
    let modules = [module("file"), module("cmd"), module("testing")];
    // What the forms inside do, the module that asked for them must be
    // granted too (paths inside the container).
    let inside = "\"write:/etc/consfig-subdeploy\", \"write:/root/seen-nested\", \"command:*\"";
    let granted = format!(
        "[module.testing]\ngrants = [\"subdeploy\", \"context:nsenter:{leader}\", {inside}]\n"
    );
    write_consfig(&sb, &modules, &["local".into()], &forms, &granted);
    let check = sb.deploy(&["--check"]);
    assert_eq!(check.statuses(), ["would-change"], "{check:?}");
    assert!(!booted.inside("/etc/consfig-subdeploy").exists());
    assert!(!booted.inside("/root/seen-nested").exists());
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 23, "{run:?}");
    assert_eq!(read(&booted.inside("/etc/consfig-subdeploy")), "nested");
    assert!(!Path::new("/etc/consfig-subdeploy").exists());
    let seen = read(&booted.inside("/root/seen-nested"));
    assert!(seen.starts_with(&format!("{HOSTNAME} ")), "{seen}");
    let nested = run.forms()[0]["nested"].as_array().unwrap().clone();
    assert_eq!(nested.len(), 2);
    assert_eq!(nested[0]["context"], format!("nsenter:{leader}").as_str());

    // `context:nsenter:*` grants any container; no grant, none.
    let any =
        format!("[module.testing]\ngrants = [\"subdeploy\", \"context:nsenter:*\", {inside}]\n");
    write_consfig(&sb, &modules, &["local".into()], &forms, &any);
    let again = sb.deploy(&[]);
    assert_eq!(again.code, 0, "unchanged: {again:?}");

    let other = format!(
        "[module.testing]\ngrants = [\"subdeploy\", \"context:nsenter:{}\", \"context:chroot:/\", {inside}]\n",
        leader + 1
    );
    write_consfig(&sb, &modules, &["local".into()], &forms, &other);
    let denied = sb.deploy(&[]);
    assert_ne!(denied.code, 0);
    assert_eq!(denied.statuses(), ["failed"]);
    assert!(
        reason(&denied).contains(&format!("context:nsenter:{leader}")),
        "the grant it lacks is named: {denied:?}"
    );
}

#[test]
fn a_process_that_is_no_container_or_no_number_is_refused() {
    let sb = Sandbox::new();
    let forms = [has_content("/tmp/consfig-never-written", "x")];
    let try_hop = |hop: &str| {
        write_consfig(
            &sb,
            &[module("file")],
            &["local".into(), hop.into()],
            &forms,
            "",
        );
        sb.deploy(&[])
    };
    let word = try_hop("nsenter:self");
    assert_ne!(word.code, 0);
    assert!(
        reason(&word).contains("nsenter:self: the process id must be a decimal number"),
        "{word:?}"
    );
    // This test's own process has this machine's root.
    let own = try_hop(&format!("nsenter:{}", std::process::id()));
    assert_ne!(own.code, 0);
    assert!(reason(&own).contains("is in no container"), "{own:?}");
    // So has a process with mount and host-name namespaces of its own (a
    // sandboxed service, not a container): its files are this machine's.
    let mut service = std::process::Command::new("/usr/bin/unshare")
        .args(["--mount", "--uts", "/bin/sleep", "120"])
        .spawn()
        .unwrap();
    let service_pid = service.id();
    let wait_ns = std::time::Instant::now();
    while std::fs::read_link(format!("/proc/{service_pid}/ns/uts")).ok()
        == std::fs::read_link("/proc/self/ns/uts").ok()
    {
        assert!(wait_ns.elapsed().as_secs() < 10, "unshare did not start");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let sandboxed = try_hop(&format!("nsenter:{service_pid}"));
    let _ = service.kill();
    let _ = service.wait();
    assert_ne!(sandboxed.code, 0);
    assert!(
        reason(&sandboxed).contains("its root directory is this system's own"),
        "{sandboxed:?}"
    );
    let gone = try_hop("nsenter:4194304");
    assert_ne!(gone.code, 0);
    assert!(reason(&gone).contains("no such process"), "{gone:?}");
    // From inside a chroot, a process id is this machine's: no way out.
    let chroot = Chroot::build(sb.path().join("c1"));
    write_consfig(
        &sb,
        &[module("file")],
        &[
            "local".into(),
            format!("chroot:{}", chroot.root.display()),
            "nsenter:1".into(),
        ],
        &forms,
        "",
    );
    let out_of_chroot = sb.deploy(&[]);
    assert_ne!(out_of_chroot.code, 0);
    assert!(
        reason(&out_of_chroot).contains("entering one would leave the chroot"),
        "{out_of_chroot:?}"
    );
    assert!(!Path::new("/tmp/consfig-never-written").exists());

    // The same, asked for by a module: refused before anything is entered.
    let subdeploy = format!(
        "[\"testing:deploys-in\", [\"nsenter:{}\"], [{}]]",
        std::process::id(),
        has_content("/tmp/consfig-never-written", "x")
    );
    let grants = "[module.testing]\ngrants = [\"subdeploy\", \"context:nsenter:*\"]\n";
    write_consfig(
        &sb,
        &[module("file"), module("testing")],
        &["local".into()],
        &[subdeploy],
        grants,
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["failed"], "{run:?}");
    assert!(reason(&run).contains("is in no container"), "{run:?}");
    assert!(!Path::new("/tmp/consfig-never-written").exists());
}
