//! The `apt` and `systemd` modules against a real Debian 12 root (the
//! cached debootstrap root of `tests/fixtures/debian-root.sh`, copied),
//! through the `chroot:` hop: apt really updates its lists from the mirror
//! and installs packages, no service starts in the unbooted tree (the
//! policy forbidding it is gone afterwards), systemctl enables a unit
//! offline, and `systemd:started` says why nothing started. `--check`
//! predicts each deploy's statuses and leaves the root as it was; a second
//! deploy changes nothing. Packages are held and released with the root's
//! own dpkg (apt-mark sees it), Debian's sources.list written for the
//! root's release, and a user's lingering recorded offline.

use std::path::Path;
use std::process::Command;

use consfig_tests::debian::{assert_no_policy_and_nothing_running_in, copy_of_root};
use consfig_tests::tree::listing;
use consfig_tests::{Run, Sandbox, q};

fn write_consfig(sb: &Sandbox, root: &Path, properties: &str) {
    let text = format!(
        "modules = [\"apt\", \"systemd\"]\n\n[hosts.debian]\nconnection = [\"local\", {}]\nproperties = [\n{properties}]\n",
        q(format!("chroot:{}", root.display()))
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
}

fn deploy(sb: &Sandbox, args: &[&str]) -> Run {
    let mut all = vec!["deploy", "--json"];
    all.extend_from_slice(args);
    all.push("debian");
    sb.consfig(&all)
}

/// Check, deploy, deploy again: the check leaves the root as it was and
/// predicts `checked` (statuses as a check gives them: `unknown` where a
/// query saw the root without what an earlier form would have written),
/// the deploy does `deployed`, the second deploy changes nothing. The
/// deploy's run.
fn check_deploy_again(sb: &Sandbox, root: &Path, checked: &[&str], deployed: &[&str]) -> Run {
    let before = listing(root);
    let check = deploy(sb, &["--check"]);
    assert_eq!(listing(root), before, "check mode changed the root");
    assert_eq!(check.statuses(), checked, "{check:?}");
    for (checked, deployed) in checked.iter().zip(deployed) {
        assert!(
            checked == deployed || *checked == "unknown",
            "{checked} is no prediction of {deployed}"
        );
    }
    let first = deploy(sb, &[]);
    assert_eq!(first.statuses_as_checked(), deployed, "{first:?}");
    assert_eq!(first.code, 23, "{first:?}");
    let second = deploy(sb, &[]);
    assert_eq!(
        second.code, 0,
        "the second deploy changes nothing: {second:?}"
    );
    assert!(
        second.statuses().iter().all(|s| s == "unchanged"),
        "{second:?}"
    );
    assert_no_policy_and_nothing_running_in(root);
    first
}

/// The mirror the root's sources.list names (its first `deb` line's).
fn mirror_of(root: &Path) -> String {
    let sources_list = std::fs::read_to_string(root.join("etc/apt/sources.list")).unwrap();
    sources_list
        .lines()
        .find_map(|l| l.strip_prefix("deb ")?.split_whitespace().next())
        .expect("a deb line in the root's sources.list")
        .to_owned()
}

/// Whether dpkg in the root has the package installed.
fn installed(root: &Path, package: &str) -> bool {
    let out = Command::new("chroot")
        .arg(root)
        .args([
            "dpkg-query",
            "--show",
            "--showformat=${db:Status-Status}",
            package,
        ])
        .output()
        .unwrap();
    out.status.success() && String::from_utf8_lossy(&out.stdout) == "installed"
}

fn logged(run: &Run, form: usize) -> String {
    run.forms()[form]["output"].to_string()
}

const UNIT: &str = "[Unit]\nDescription=a test unit\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n";

#[test]
fn packages_and_services_in_an_unbooted_root() {
    let sb = Sandbox::new();
    let root = copy_of_root(&sb, "debian");
    // Lists two days old (the root has no update stamp: their directory
    // tells their age), whenever the cached root was made.
    let status = Command::new("touch")
        .args(["-d", "2 days ago"])
        .arg(root.join("var/lib/apt/lists"))
        .status()
        .unwrap();
    assert!(status.success());

    // Packages: the lists updated, packages installed, no service started.
    // cron's maintainer scripts start cron wherever nothing forbids it.
    write_consfig(
        &sb,
        &root,
        r#"  ["apt:updated", { max-age = "1d" }],
  ["apt:installed", ["hello", "cron", "systemd"], { no-recommends = true }],
"#,
    );
    let both = ["would-change", "would-change"];
    let first = check_deploy_again(&sb, &root, &both, &both);
    for package in ["hello", "cron", "systemd"] {
        assert!(installed(&root, package), "{package} is not installed");
    }
    assert!(
        root.join("var/lib/apt/periodic/update-success-stamp")
            .exists()
    );
    assert!(
        logged(&first, 1).contains("policy-rc.d denied execution of start"),
        "{}",
        logged(&first, 1)
    );

    // Units: written, enabled offline; nothing started; a package purged.
    let unit = q(UNIT);
    write_consfig(
        &sb,
        &root,
        &format!(
            r#"  ["systemd:unit", "consfig-test.service", {unit}],
  ["systemd:enabled", "consfig-test"],
  ["systemd:disabled", "cron"],
  ["systemd:masked", "e2scrub_reap"],
  ["systemd:started", "cron"],
  ["systemd:restarted", "cron"],
  ["apt:removed", ["hello"], {{ purge = true }}],
  ["apt:upgraded"],
  ["apt:autoremoved"],
"#
        ),
    );
    // systemctl cannot see the unit the check only wrote to its overlay:
    // whether it would be enabled is unknown.
    let first = check_deploy_again(
        &sb,
        &root,
        &[
            "would-change",
            "unknown",
            "would-change",
            "would-change",
            "unchanged",
            "unchanged",
            "would-change",
            "unchanged",
            "unchanged",
        ],
        &[
            "would-change",
            "would-change",
            "would-change",
            "would-change",
            "unchanged",
            "unchanged",
            "would-change",
            "unchanged",
            "unchanged",
        ],
    );
    let wants = root.join("etc/systemd/system/multi-user.target.wants");
    assert_eq!(
        std::fs::read_link(wants.join("consfig-test.service")).unwrap(),
        Path::new("/etc/systemd/system/consfig-test.service")
    );
    assert!(!wants.join("cron.service").exists());
    assert_eq!(
        std::fs::read_link(root.join("etc/systemd/system/e2scrub_reap.service")).unwrap(),
        Path::new("/dev/null")
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/systemd/system/consfig-test.service")).unwrap(),
        UNIT
    );
    assert!(
        logged(&first, 4).contains("cron.service not started: this is a chroot"),
        "{}",
        logged(&first, 4)
    );
    assert!(!installed(&root, "hello"));

    // Sources: a keyring and a deb822 source of it, the lists updated
    // because the source is newer than them; a debconf answer.
    let keyring = Command::new("base64")
        .args(["-w0"])
        .arg(root.join("usr/share/keyrings/debian-archive-keyring.gpg"))
        .output()
        .unwrap();
    assert!(keyring.status.success());
    let keyring = String::from_utf8(keyring.stdout).unwrap();
    let mirror = mirror_of(&root);
    write_consfig(
        &sb,
        &root,
        &format!(
            r#"  ["apt:key", "debian", {{ base64 = {keyring} }}],
  ["apt:source", "contrib", {{ uris = {mirror}, suites = "bookworm", components = ["contrib"], signed-by = "/etc/apt/keyrings/debian.gpg" }}],
  ["apt:updated", {{ max-age = "1d" }}],
  ["apt:reconfigured", "debconf", [["debconf/priority", "select", "critical"]]],
"#,
            keyring = q(&keyring),
            mirror = q(&mirror),
        ),
    );
    let all = ["would-change"; 4];
    let first = check_deploy_again(&sb, &root, &all, &all);
    assert!(
        logged(&first, 2)
            .contains("etc/apt/sources.list.d/contrib.sources changed since the last update"),
        "{}",
        logged(&first, 2)
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/apt/sources.list.d/contrib.sources")).unwrap(),
        format!(
            "Types: deb\nURIs: {mirror}\nSuites: bookworm\nComponents: contrib\n\
             Signed-By: /etc/apt/keyrings/debian.gpg\n"
        )
    );
    let lists: Vec<String> = std::fs::read_dir(root.join("var/lib/apt/lists"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        lists
            .iter()
            .any(|l| l.contains("_contrib_binary-") && l.ends_with("_Packages")),
        "apt read no contrib list: {lists:?}"
    );
    let shown = Command::new("chroot")
        .arg(&root)
        .args(["debconf-show", "debconf"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("* debconf/priority: critical"),
        "{shown:?}"
    );

    // A dpkg lock another package manager holds is waited for.
    write_consfig(&sb, &root, "  [\"apt:installed\", [\"hello\"]],\n");
    let lock = hold_dpkg_lock(&root);
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(3));
        drop(lock);
    });
    let waited = deploy(&sb, &[]);
    release.join().unwrap();
    assert_eq!(waited.statuses(), ["changed"], "{waited:?}");
    assert!(
        waited.forms()[0]["duration_ms"].as_u64().unwrap() >= 2000,
        "{waited:?}"
    );
    let output = logged(&waited, 0);
    assert!(output.contains("waits up to 120 s"), "{output}");
    assert!(output.contains("Waiting for cache lock"), "{output}");
    assert!(installed(&root, "hello"));
    assert_no_policy_and_nothing_running_in(&root);
}

/// What `apt-mark showhold` in the root lists.
fn shown_held(root: &Path) -> Vec<String> {
    let out = Command::new("chroot")
        .arg(root)
        .args(["apt-mark", "showhold"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn holds_sources_list_and_lingering_offline() {
    let sb = Sandbox::new();
    let root = copy_of_root(&sb, "debian");
    let mirror = mirror_of(&root);
    write_consfig(
        &sb,
        &root,
        &format!(
            r#"  ["apt:held", ["apt", "bash"]],
  ["apt:unheld", ["dash", "hello"]],
  ["apt:standard-sources.list", {{ mirror = {mirror}, components = "main contrib" }}],
  ["systemd:lingering-enabled", "nobody"],
"#,
            mirror = q(&mirror)
        ),
    );
    let all = ["would-change", "unchanged", "would-change", "would-change"];
    check_deploy_again(&sb, &root, &all, &all);
    assert_eq!(shown_held(&root), ["apt", "bash"]);
    assert_eq!(
        std::fs::read_to_string(root.join("etc/apt/sources.list")).unwrap(),
        format!(
            "deb {mirror} bookworm main contrib\ndeb {mirror} bookworm-updates main contrib\n\
             deb http://security.debian.org/debian-security bookworm-security main contrib\n"
        )
    );
    // apt reads it: each suite's release file is one it would fetch.
    let out = Command::new("chroot")
        .arg(&root)
        .args(["apt-get", "update", "--print-uris", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let uris = String::from_utf8_lossy(&out.stdout);
    for release in [
        format!("{mirror}/dists/bookworm/InRelease"),
        format!("{mirror}/dists/bookworm-updates/InRelease"),
        "http://security.debian.org/debian-security/dists/bookworm-security/InRelease".to_owned(),
    ] {
        assert!(
            uris.lines().any(|l| l.starts_with(&format!("'{release}'"))),
            "{release} in {uris}"
        );
    }
    let linger = root.join("var/lib/systemd/linger/nobody");
    assert_eq!(std::fs::read(&linger).unwrap(), b"");

    // Released, one kept; a package dpkg never knew is refused.
    write_consfig(
        &sb,
        &root,
        "  [\"apt:unheld\", [\"apt\"]],\n  [\"apt:held\", [\"bash\"]],\n",
    );
    check_deploy_again(
        &sb,
        &root,
        &["would-change", "unchanged"],
        &["would-change", "unchanged"],
    );
    assert_eq!(shown_held(&root), ["bash"]);
    write_consfig(&sb, &root, "  [\"apt:held\", [\"bash\", \"hello\"]],\n");
    let refused = deploy(&sb, &[]);
    assert_eq!(refused.statuses(), ["failed"], "{refused:?}");
    assert!(
        refused.stdout.contains("dpkg knows no package hello"),
        "{refused:?}"
    );
    assert_eq!(shown_held(&root), ["bash"]);
}

/// The lock apt and dpkg take before changing packages, as another package
/// manager would hold it (an fcntl lock: released when the file is closed).
fn hold_dpkg_lock(root: &Path) -> std::fs::File {
    use nix::fcntl::{FcntlArg, fcntl};
    use nix::libc;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(root.join("var/lib/dpkg/lock-frontend"))
        .unwrap();
    // SAFETY: flock is plain data; all zeroes is a valid value.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as i16;
    lock.l_whence = libc::SEEK_SET as i16;
    fcntl(&file, FcntlArg::F_SETLK(&lock)).unwrap();
    file
}
