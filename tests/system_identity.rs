//! The system identity modules — `hostname`, `timezone`, `locale`,
//! `sysctl`, `fstab` — against a copy of the cached Debian 12 root
//! (`tests/fixtures/debian-root.sh`) through the `chroot:` hop: `--check`
//! predicts the deploy's statuses and files without changing the root, the
//! deploy makes the files Debian's own tools would, `locale-gen` really
//! generates the locale, the second deploy changes nothing — and this
//! machine's running hostname and kernel parameters are left alone, as a
//! chroot demands.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use consfig_tests::debian::copy_of_root;
use consfig_tests::tree::{differing, listing};
use consfig_tests::{Run, Sandbox, q, toml_value};

/// A fresh copy of the Debian root in the sandbox, with the files of
/// Debian's `locales` package (which debootstrap's minimal root lacks)
/// copied from this machine, `/etc/locale.gen` as the package makes it
/// (every supported locale, commented out). It has no `/etc/sysctl.d`
/// (procps is not in debootstrap's minimal root): `sysctl:value` makes it,
/// in check mode too.
fn debian_root(sb: &Sandbox) -> PathBuf {
    let root = copy_of_root(sb, "debian");
    let files = Command::new("dpkg")
        .args(["-L", "locales"])
        .output()
        .unwrap();
    assert!(
        files.status.success(),
        "this machine needs Debian's locales package (apt-get install locales)"
    );
    let list: String = String::from_utf8(files.stdout)
        .unwrap()
        .lines()
        .filter(|f| {
            let path = Path::new(f);
            path.is_file() && !path.is_symlink() && *f != "/etc/locale.gen"
        })
        .map(|f| format!("{}\n", &f[1..]))
        .collect();
    let copy = Command::new("sh")
        .arg("-c")
        .arg("tar -C / -cf - -T - | tar -C \"$1\" -xf -")
        .arg("sh")
        .arg(&root)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(list.as_bytes())?;
            child.wait()
        })
        .unwrap();
    assert!(copy.success(), "copying the locales package into the root");
    let supported = std::fs::read_to_string(root.join("usr/share/i18n/SUPPORTED")).unwrap();
    let commented: String = supported.lines().map(|l| format!("# {l}\n")).collect();
    std::fs::write(
        root.join("etc/locale.gen"),
        format!("# This file lists locales that you wish to have built.\n#\n{commented}"),
    )
    .unwrap();
    root
}

const FORMS: [&str; 8] = [
    r#"["hostname:configured", "web.example.org"]"#,
    r#"["timezone:configured", "Europe/Paris"]"#,
    r#"["locale:available", "en_US.UTF-8"]"#,
    r#"["locale:selected", "en_US.UTF-8"]"#,
    r#"["sysctl:value", "net.ipv4.ip_forward", "1"]"#,
    r#"["sysctl:value", "vm.swappiness", "10", {"file": "10-memory.conf"}]"#,
    r#"["fstab:has-entries", [["tmpfs", "/tmp", "tmpfs", "size=64m,mode=1777"], "proc /proc proc defaults 0 0"]]"#,
    r#"["fstab:has-entries", ["none /srv/cache tmpfs size=16m 0 0"]]"#,
];

fn write_consfig(sb: &Sandbox, root: &Path) {
    let forms: Vec<String> = FORMS
        .iter()
        .map(|f| format!("  {},", toml_value(&serde_json::from_str(f).unwrap())))
        .collect();
    let text = format!(
        "modules = [\"hostname\", \"timezone\", \"locale\", \"sysctl\", \"fstab\"]\n\n\
         [hosts.debian]\nconnection = [\"local\", {}]\nproperties = [\n{}\n]\n",
        q(format!("chroot:{}", root.display())),
        forms.join("\n")
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
}

fn deploy(sb: &Sandbox, check: bool) -> Run {
    let mut args = vec!["deploy", "--json"];
    if check {
        args.extend(["--check", "--diff"]);
    }
    args.push("debian");
    sb.consfig(&args)
}

/// What a chroot must never change: this machine's running hostname and
/// the live values of the kernel parameters the consfig sets.
fn live_state() -> (String, String, String) {
    let read = |p: &str| std::fs::read_to_string(p).unwrap();
    (
        read("/proc/sys/kernel/hostname"),
        read("/proc/sys/net/ipv4/ip_forward"),
        read("/proc/sys/vm/swappiness"),
    )
}

/// What `locale-gen` makes, which no file call reports.
fn generated(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "locale")
        && path.to_string_lossy().contains("usr/lib/locale")
}

#[test]
fn system_identity_through_the_chroot_hop() {
    consfig_tests::warm::standard_modules();
    let sb = Sandbox::new();
    let root = debian_root(&sb);
    write_consfig(&sb, &root);
    let live = live_state();

    let before = listing(&root);
    let check = deploy(&sb, true);
    assert_eq!(check.code, 23, "{check:?}");
    assert_eq!(listing(&root), before, "check mode changed the root");
    let predicted = check.statuses_as_checked();
    assert_eq!(
        predicted,
        [
            "would-change",
            "would-change",
            "would-change",
            "would-change",
            "would-change",
            "would-change",
            "would-change",
            "would-change"
        ],
        "{check:?}"
    );

    let first = deploy(&sb, false);
    assert_eq!(first.code, 23, "{first:?}");
    assert_eq!(first.statuses_as_checked(), predicted, "{first:?}");
    let after = listing(&root);
    let changed: BTreeSet<PathBuf> = differing(&before, &after)
        .into_iter()
        .filter(|p| !generated(p))
        .collect();
    assert_eq!(
        check.changed_paths(&root),
        changed,
        "the check predicted exactly the files the deploy changed"
    );

    let second = deploy(&sb, false);
    assert_eq!(
        second.code, 0,
        "the second deploy changes nothing: {second:?}"
    );
    assert_eq!(
        listing(&root),
        after,
        "the second deploy left the root as it was"
    );
    let check_again = deploy(&sb, true);
    assert_eq!(check_again.code, 0, "{check_again:?}");

    assert_eq!(
        live_state(),
        live,
        "a chroot's deploy changed this machine's kernel"
    );
    assert_results(&root);
}

fn assert_results(root: &Path) {
    let text = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    assert_eq!(text("etc/hostname"), "web\n");
    assert_eq!(text("etc/hosts"), "127.0.1.1\tweb.example.org web\n");
    assert_eq!(text("etc/timezone"), "Europe/Paris\n");
    assert_eq!(
        std::fs::read_link(root.join("etc/localtime")).unwrap(),
        Path::new("/usr/share/zoneinfo/Europe/Paris")
    );
    let locale_gen = text("etc/locale.gen");
    assert!(locale_gen.contains("\nen_US.UTF-8 UTF-8\n"), "{locale_gen}");
    assert!(locale_gen.contains("\n# fr_FR.UTF-8 UTF-8\n"));
    let out = Command::new("chroot")
        .arg(root)
        .args(["locale", "-a"])
        .output()
        .unwrap();
    let locales = String::from_utf8_lossy(&out.stdout);
    assert!(
        locales.lines().any(|l| l == "en_US.utf8"),
        "generated: {locales}"
    );
    assert_eq!(text("etc/default/locale"), "LANG=en_US.UTF-8\n");
    assert_eq!(
        text("etc/sysctl.d/60-consfig.conf"),
        "net.ipv4.ip_forward = 1\n"
    );
    assert_eq!(text("etc/sysctl.d/10-memory.conf"), "vm.swappiness = 10\n");
    assert_eq!(
        text("etc/fstab"),
        "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n\
         tmpfs /tmp tmpfs size=64m,mode=1777 0 0\n\
         proc /proc proc defaults 0 0\n\
         none /srv/cache tmpfs size=16m 0 0\n"
    );
}

#[test]
fn bad_arguments_fail_before_any_change() {
    consfig_tests::warm::standard_modules();
    let sb = Sandbox::new();
    let root = copy_of_root(&sb, "debian");
    let hop = format!("local,chroot:{}", root.display());
    let before = listing(&root);
    for (form, message) in [
        (
            r#"["hostname:configured", "web\n127.0.0.1 evil"]"#,
            "is not a valid host name",
        ),
        (
            r#"["hostname:configured", "-F/etc/shadow"]"#,
            "is not a valid host name",
        ),
        (
            r#"["timezone:configured", "../../etc/passwd"]"#,
            "is not a time zone name",
        ),
        (
            r#"["timezone:configured", "Mars/Base"]"#,
            "there is no time zone",
        ),
        (
            r#"["sysctl:value", "../../etc/passwd", "1"]"#,
            "is not a kernel parameter",
        ),
        (
            r#"["sysctl:value", "kernel/hostname", "evil"]"#,
            "is not a kernel parameter",
        ),
        (
            r#"["sysctl:value", "vm.swappiness", "1\nkernel.panic = 1"]"#,
            "not one line",
        ),
        (
            r#"["sysctl:value", "vm.swappiness", "1", {"file": "../../passwd"}]"#,
            "not a plain name",
        ),
        (
            r#"["fstab:has-entries", ["tmpfs /x tmpfs defaults\n/dev/sda1 / ext4 defaults"]]"#,
            "not one line",
        ),
        (
            r#"["fstab:has-entries", [["tmpfs", "/x y", "tmpfs", "defaults"]]]"#,
            "whitespace",
        ),
        (
            r#"["locale:selected", "C\nLC_ALL=evil"]"#,
            "is not a locale name",
        ),
    ] {
        let run = sb.consfig(&["apply", "--json", &hop, form]);
        assert_eq!(run.code, 22, "{form}: {run:?}");
        assert!(run.stdout.contains(message), "{form}: {run:?}");
    }
    assert_eq!(listing(&root), before, "a refused form changed the root");
}

/// Puts a kernel parameter back and removes the file the test wrote, when
/// dropped.
struct Restore {
    parameter: &'static str,
    value: String,
    file: PathBuf,
}

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = Command::new("sysctl")
            .arg("-w")
            .arg(format!("{}={}", self.parameter, self.value.trim()))
            .output();
        let _ = std::fs::remove_file(&self.file);
    }
}

/// Outside a chroot, `sysctl:value` sets the running kernel's value too:
/// a check predicts it from /proc/sys without setting it.
#[test]
fn sysctl_value_applies_live_outside_a_chroot() {
    consfig_tests::warm::standard_modules();
    let sb = Sandbox::new();
    let live = "/proc/sys/net/ipv4/ip_default_ttl";
    let value = std::fs::read_to_string(live).unwrap();
    let wanted = if value.trim() == "65" { "66" } else { "65" };
    let file = PathBuf::from("/etc/sysctl.d/99-consfig-test-live.conf");
    let _restore = Restore {
        parameter: "net.ipv4.ip_default_ttl",
        value: value.clone(),
        file: file.clone(),
    };
    std::fs::create_dir_all("/etc/sysctl.d").unwrap();
    let form = format!(
        r#"["sysctl:value", "net.ipv4.ip_default_ttl", "{wanted}", {{"file": "99-consfig-test-live.conf"}}]"#
    );
    let apply = |check: bool| {
        let mut args = vec!["apply", "--json"];
        if check {
            args.push("--check");
        }
        args.extend(["local", form.as_str()]);
        sb.consfig(&args)
    };
    let check = apply(true);
    assert_eq!(check.statuses(), ["would-change"], "{check:?}");
    assert_eq!(
        std::fs::read_to_string(live).unwrap(),
        value,
        "the check set it"
    );
    assert!(!file.exists(), "the check wrote the file");
    let first = apply(false);
    assert_eq!(first.statuses(), ["changed"], "{first:?}");
    assert_eq!(std::fs::read_to_string(live).unwrap().trim(), wanted);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("net.ipv4.ip_default_ttl = {wanted}\n")
    );
    for check in [false, true] {
        let again = apply(check);
        assert_eq!(again.statuses(), ["unchanged"], "{again:?}");
    }
}
