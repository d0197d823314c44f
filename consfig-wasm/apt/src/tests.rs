//! The apt module's properties on a fake host: every property and option,
//! the unchanged second run, check mode, and input that must be refused
//! before any command runs.

use std::time::{SystemTime, UNIX_EPOCH};

use consfig_guest::host::OsRelease;
use consfig_guest::prelude::*;
use consfig_guest::testing::FakeHost;

use crate::MODULE;
use crate::apt_get::{APT_GET, NO_SERVICES, POLICY_RC_D};
use crate::debconf::reconfigured;
use crate::lists::{Age, UPDATE_STAMP, autoremoved, updated, upgraded};
use crate::packages::{installed, removed};
use crate::selections::{held, unheld};
use crate::sources::{Words, key, source};
use crate::standard_sources::{SOURCES_LIST, standard_sources_list};
use consfig_file::content::Content;

use consfig_guest::testing::failure;

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// apt-get as the module runs it, with `args`.
fn apt_get(args: &[&str]) -> Vec<String> {
    let mut argv = strings(&[
        APT_GET,
        "-y",
        "-q",
        "-o",
        "DPkg::Lock::Timeout=120",
        "-o",
        "Dpkg::Options::=--force-confdef",
        "-o",
        "Dpkg::Options::=--force-confold",
        "-o",
        "Dpkg::Use-Pty=0",
    ]);
    argv.extend(strings(args));
    argv
}

fn dpkg(package: &str) -> Vec<String> {
    strings(&[
        "/usr/bin/dpkg-query",
        "--show",
        "--showformat=${db:Status-Status} ",
        "--",
        package,
    ])
}

fn policy(packages: &[&str]) -> Vec<String> {
    let mut argv = strings(&["/usr/bin/apt-cache", "policy", "--"]);
    argv.extend(strings(packages));
    argv
}

/// What apt-cache policy prints for a package with this candidate.
fn policy_of(package: &str, candidate: &str) -> String {
    format!(
        "{package}:\n  Installed: (none)\n  Candidate: {candidate}\n  Version table:\n     \
         {candidate} 500\n        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n"
    )
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A Debian host where systemd does not run (as in a chroot), with the
/// directories apt has.
fn host() -> FakeHost {
    FakeHost::new()
        .dir("/usr/sbin")
        .dir("/etc/apt/sources.list.d")
        .dir("/var/lib/apt/lists")
        .file(
            "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
            "Package: hello\n",
        )
        .file(
            "/etc/apt/sources.list",
            "deb http://deb.debian.org/debian bookworm main\n",
        )
        .mtime("/etc/apt/sources.list", 1_600_000_000)
}

// apt:installed

#[test]
fn installed_installs_only_the_missing_packages_and_no_service_starts() {
    let host = host()
        .command(dpkg("bash"), 0, "installed ")
        .command(dpkg("hello"), 1, "")
        .command(policy(&["hello"]), 0, policy_of("hello", "2.10-3"))
        .command(
            apt_get(&["install", "--", "hello"]),
            0,
            "Setting up hello\n",
        )
        .command(dpkg("bash"), 0, "installed ")
        .command(dpkg("hello"), 0, "installed ");
    let both = || installed(strings(&["bash", "hello", "hello"]), false, None);
    assert_eq!(host.apply(both), Ok(Change::Changed));
    assert_eq!(
        host.file_changes(),
        [
            format!("write-file {POLICY_RC_D} 0755"),
            format!("remove {POLICY_RC_D}")
        ]
    );
    assert!(!host.exists(POLICY_RC_D));
    assert!(
        host.logged()
            .iter()
            .any(|l| l.contains("waits up to 120 s"))
    );
    assert!(host.logged().contains(&"info: installed hello".to_owned()));
    let install = host
        .commands()
        .into_iter()
        .find(|c| c.argv()[0] == APT_GET)
        .unwrap();
    assert_eq!(
        install.envs(),
        [("DEBIAN_FRONTEND".to_owned(), "noninteractive".to_owned())]
    );
    // Once installed: unchanged, and nothing but dpkg-query runs.
    assert_eq!(host.apply(both), Ok(Change::Unchanged));
    assert!(host.commands_not_run().is_empty());
    assert_eq!(host.commands_run().len(), 6);
}

#[test]
fn installed_without_recommends() {
    let host = host()
        .command(dpkg("nginx"), 0, "config-files ")
        .command(policy(&["nginx"]), 0, policy_of("nginx", "1.22"))
        .command(
            apt_get(&["install", "--no-install-recommends", "--", "nginx"]),
            0,
            "",
        );
    let form: Form = r#"["apt:installed", ["nginx"], {"no-recommends": true}]"#
        .parse()
        .unwrap();
    assert_eq!(
        host.clone().module(&MODULE).apply_form(&form),
        Ok(Change::Changed)
    );
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn installed_refuses_a_package_apt_does_not_know_exactly() {
    // apt-cache reads an unknown name as a regular expression: the section
    // of another package is not a candidate for it.
    let regex = host().command(dpkg("hell.o"), 1, "").command(
        policy(&["hell.o"]),
        0,
        policy_of("hello", "2.10-3"),
    );
    assert_eq!(
        failure(regex.apply(|| installed(strings(&["hell.o"]), false, None))),
        "apt has no installation candidate for hell.o: the package lists may need updating \
         (apt:updated), or a source is missing"
    );
    // A virtual package has no candidate either.
    let virtual_host = host().command(dpkg("mail-transport-agent"), 1, "").command(
        policy(&["mail-transport-agent"]),
        0,
        "mail-transport-agent:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n",
    );
    assert!(
        failure(virtual_host.apply(|| installed(strings(&["mail-transport-agent"]), false, None)))
            .starts_with("apt has no installation candidate for mail-transport-agent")
    );
    assert!(regex.file_changes().is_empty() && virtual_host.file_changes().is_empty());
}

#[test]
fn installed_in_check_mode_asks_dpkg_and_skips_apt_get() {
    let host = host()
        .check_mode()
        .command(dpkg("hello:amd64"), 1, "")
        .command(policy(&["hello:amd64"]), 0, policy_of("hello", "2.10-3"));
    assert_eq!(
        host.apply(|| installed(strings(&["hello:amd64"]), false, None)),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.commands_skipped(),
        [apt_get(&["install", "--", "hello:amd64"])]
    );
    assert!(!host.exists(POLICY_RC_D));
}

#[test]
fn no_policy_is_written_where_systemd_runs_and_one_there_is_kept() {
    let running = host()
        .dir("/run/systemd/system")
        .command(dpkg("hello"), 1, "")
        .command(policy(&["hello"]), 0, policy_of("hello", "2.10-3"))
        .command(apt_get(&["install", "--", "hello"]), 0, "");
    assert_eq!(
        running.apply(|| installed(strings(&["hello"]), false, None)),
        Ok(Change::Changed)
    );
    assert!(running.file_changes().is_empty());

    // In a chroot, even with /run/systemd/system there, no service starts.
    let chroot = host()
        .in_chroot(true)
        .dir("/run/systemd/system")
        .command(dpkg("hello"), 1, "")
        .command(policy(&["hello"]), 0, policy_of("hello", "2.10-3"))
        .command(apt_get(&["install", "--", "hello"]), 0, "");
    assert_eq!(
        chroot.apply(|| installed(strings(&["hello"]), false, None)),
        Ok(Change::Changed)
    );
    assert_eq!(chroot.file_changes().len(), 2);

    let kept = host()
        .file(POLICY_RC_D, "#!/bin/sh\nexit 0\n")
        .command(dpkg("hello"), 1, "")
        .command(policy(&["hello"]), 0, policy_of("hello", "2.10-3"))
        .command(apt_get(&["install", "--", "hello"]), 0, "");
    assert_eq!(
        kept.apply(|| installed(strings(&["hello"]), false, None)),
        Ok(Change::Changed)
    );
    assert!(kept.file_changes().is_empty());
    assert_eq!(kept.text(POLICY_RC_D).unwrap(), "#!/bin/sh\nexit 0\n");
}

#[test]
fn a_forced_policy_holds_while_apt_get_runs_even_where_systemd_runs() {
    let install = apt_get(&["install", "--", "nginx"]);
    let running = host()
        .dir("/run/systemd/system")
        .command(dpkg("nginx"), 1, "")
        .command(policy(&["nginx"]), 0, policy_of("nginx", "1.22"))
        .command(install.clone(), 0, "");
    let form: Form = r#"["apt:installed", ["nginx"], {"policy-rc-d": 101}]"#
        .parse()
        .unwrap();
    assert_eq!(
        running.clone().module(&MODULE).apply_form(&form),
        Ok(Change::Changed)
    );
    assert_eq!(
        running.file_changes(),
        [
            format!("write-file {POLICY_RC_D} 0755"),
            format!("remove {POLICY_RC_D}")
        ]
    );
    assert_eq!(running.commands_run().last(), Some(&install));
    assert!(
        running
            .logged()
            .iter()
            .any(|line| line.contains("answers 101 to every service action")),
        "{:?}",
        running.logged()
    );
    assert!(!running.exists(POLICY_RC_D));

    // The administrator's policy is put back as it was, after a failure too.
    let theirs = "#!/bin/sh\nexit 0\n";
    let failing = host()
        .file(POLICY_RC_D, theirs)
        .mode(POLICY_RC_D, 0o750)
        .command(dpkg("nginx"), 1, "")
        .command(policy(&["nginx"]), 0, policy_of("nginx", "1.22"))
        .command(install, 100, "");
    assert!(
        failing
            .apply(|| installed(strings(&["nginx"]), false, Some(101)))
            .is_err()
    );
    assert_eq!(failing.text(POLICY_RC_D).unwrap(), theirs);
    assert_eq!(failing.stat(POLICY_RC_D).unwrap().mode.bits(), 0o750);

    // Not a regular file there: left alone, nothing installed.
    let linked = host()
        .symlink(POLICY_RC_D, "/bin/true")
        .command(dpkg("nginx"), 1, "")
        .command(policy(&["nginx"]), 0, policy_of("nginx", "1.22"));
    let refusal = failure(linked.apply(|| installed(strings(&["nginx"]), false, Some(101))));
    assert!(refusal.contains("no regular file"), "{refusal}");
    assert_eq!(linked.readlink(POLICY_RC_D).as_deref(), Some("/bin/true"));
    assert!(linked.commands_run().iter().all(|c| c[0] != APT_GET));

    // A code no exit status can be is refused before anything runs.
    let big: Form = r#"["apt:installed", ["nginx"], {"policy-rc-d": 256}]"#
        .parse()
        .unwrap();
    let refused = host().module(&MODULE);
    let message = failure(refused.apply_form(&big));
    assert!(message.contains("policy-rc-d"), "{message}");
    assert!(refused.commands_run().is_empty());
}

#[test]
fn the_policy_is_removed_when_apt_get_fails() {
    let host = host()
        .command(dpkg("hello"), 1, "")
        .command(policy(&["hello"]), 0, policy_of("hello", "2.10-3"))
        .command_output(
            apt_get(&["install", "--", "hello"]),
            Output {
                exit_code: Some(100),
                stdout: Vec::new(),
                stderr: b"E: Could not get lock /var/lib/dpkg/lock-frontend\n".to_vec(),
            },
        );
    let failure = failure(host.apply(|| installed(strings(&["hello"]), false, None)));
    assert!(
        failure.ends_with(
            "install -- hello: exit code 100: E: Could not get lock /var/lib/dpkg/lock-frontend"
        ),
        "{failure}"
    );
    assert!(!host.exists(POLICY_RC_D));
    assert_eq!(NO_SERVICES.lines().last(), Some("exit 101"));
}

#[test]
fn package_names_that_are_options_patterns_or_paths_are_refused_before_any_command() {
    // Nothing scripted: any command would fail the test.
    let host = host();
    for bad in [
        "-oAPT::Get::Trivial-Only=1",
        "--purge",
        "bas.*",
        "bash-",
        "?exact-name(bash)",
        "~nbash",
        "a/b",
        "hello world",
        "hello\n",
        "",
    ] {
        let message = failure(host.apply(|| installed(vec![bad.to_owned()], false, None)));
        assert!(message.starts_with("packages: "), "{message}");
        assert!(
            host.apply(|| removed(vec![bad.to_owned()], true, None))
                .is_err()
        );
        assert!(
            host.apply(|| updated(Age(0), vec![bad.to_owned()]))
                .is_err()
        );
        assert!(
            host.apply(|| reconfigured(bad.to_owned(), Vec::new()))
                .is_err()
        );
    }
    assert!(host.commands().is_empty());
    assert_eq!(
        host.apply(|| installed(Vec::new(), false, None)),
        Ok(Change::Unchanged)
    );
}

// apt:removed

#[test]
fn removed_removes_present_packages_and_purges_when_told() {
    let first = host()
        .command(dpkg("nano"), 0, "installed ")
        .command(dpkg("vim"), 1, "")
        .command(dpkg("ed"), 0, "config-files ")
        .command(apt_get(&["remove", "--", "nano"]), 0, "Removing nano\n");
    assert_eq!(
        first.apply(|| removed(strings(&["nano", "vim", "ed"]), false, None)),
        Ok(Change::Changed)
    );
    assert!(first.logged().contains(&"info: removed nano".to_owned()));
    // Configuration files left are removed only by a purge.
    let host = host()
        .command(dpkg("ed"), 0, "config-files ")
        .command(dpkg("ed"), 0, "config-files ")
        .command(dpkg("vim"), 0, "not-installed ")
        .command(apt_get(&["purge", "--", "ed"]), 0, "")
        .command(dpkg("ed"), 1, "");
    assert_eq!(
        host.apply(|| removed(strings(&["ed", "vim"]), false, None)),
        Ok(Change::Unchanged)
    );
    let form: Form = r#"["apt:removed", ["ed", "vim"], {"purge": true}]"#
        .parse()
        .unwrap();
    let module_host = host.clone().module(&MODULE);
    assert_eq!(module_host.apply_form(&form), Ok(Change::Changed));
    assert_eq!(module_host.apply_form(&form), Ok(Change::Unchanged));
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn removed_in_check_mode_skips_apt_get() {
    let host = host()
        .check_mode()
        .command(dpkg("nano"), 0, "half-configured ");
    assert_eq!(
        host.apply(|| removed(strings(&["nano"]), false, None)),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.commands_skipped(),
        [apt_get(&["remove", "--", "nano"])]
    );
}

#[test]
fn a_failing_dpkg_query_is_an_error_naming_it() {
    let host = host().command_output(
        dpkg("nano"),
        Output {
            exit_code: Some(2),
            stdout: Vec::new(),
            stderr: b"dpkg-query: error: parsing file '/var/lib/dpkg/status'\n".to_vec(),
        },
    );
    assert_eq!(
        failure(host.apply(|| removed(strings(&["nano"]), false, None))),
        "/usr/bin/dpkg-query --show '--showformat=${db:Status-Status} ' -- nano: exit code 2: \
         dpkg-query: error: parsing file '/var/lib/dpkg/status'"
    );
}

// apt:updated

#[test]
fn updated_updates_without_a_stamp_and_records_it() {
    // No stamp: the lists' directory tells their age, as Ansible reckons it.
    let recent =
        host()
            .mtime("/var/lib/apt/lists", now() - 600)
            .command(apt_get(&["update"]), 0, "");
    assert_eq!(
        recent.apply(|| updated(Age(86_400), Vec::new())),
        Ok(Change::Unchanged)
    );
    assert_eq!(
        recent.apply(|| updated(Age(300), Vec::new())),
        Ok(Change::Changed)
    );
    assert!(
        recent
            .logged()
            .iter()
            .any(|l| l.contains("s ago (/var/lib/apt/lists), max-age is 300"))
    );
    let nothing = FakeHost::new()
        .dir("/usr/sbin")
        .command(apt_get(&["update"]), 0, "");
    assert_eq!(
        nothing.apply(|| updated(Age(86_400), Vec::new())),
        Ok(Change::Changed)
    );
    assert!(
        nothing
            .logged()
            .iter()
            .any(|l| l.contains("no successful update is recorded"))
    );

    let host = host().command(apt_get(&["update"]), 0, "Hit:1 http://deb.debian.org\n");
    assert_eq!(
        host.apply(|| updated(Age(86_400), Vec::new())),
        Ok(Change::Changed)
    );
    assert!(host.exists(UPDATE_STAMP));
    // Fresh now (the fake host's clock is older than this one: a long max-age).
    let long = Age::parse("520w").unwrap();
    assert_eq!(
        host.apply(|| updated(long, Vec::new())),
        Ok(Change::Unchanged)
    );
    assert_eq!(host.commands_run().len(), 1);
}

#[test]
fn updated_follows_max_age_sources_and_candidates() {
    let fresh = || {
        host()
            .file(UPDATE_STAMP, "")
            .mtime(UPDATE_STAMP, now() - 3600)
    };
    // One hour old: fresh for a day, stale for 30 minutes.
    assert_eq!(
        fresh().apply(|| updated(Age::parse("1d").unwrap(), Vec::new())),
        Ok(Change::Unchanged)
    );
    let stale = fresh().command(apt_get(&["update"]), 0, "");
    assert_eq!(
        stale.apply(|| updated(Age::parse("30m").unwrap(), Vec::new())),
        Ok(Change::Changed)
    );
    // A source newer than the last update.
    let changed = fresh()
        .file("/etc/apt/sources.list.d/extra.sources", "Types: deb\n")
        .mtime("/etc/apt/sources.list.d/extra.sources", now())
        .command(apt_get(&["update"]), 0, "");
    assert_eq!(
        changed.apply(|| updated(Age(86_400), Vec::new())),
        Ok(Change::Changed)
    );
    assert!(changed.logged().iter().any(|l| {
        l.contains("/etc/apt/sources.list.d/extra.sources changed since the last update")
    }));
    // A package apt has no candidate for.
    let missing = fresh()
        .command(
            policy(&["hello", "newpkg"]),
            0,
            policy_of("hello", "2.10-3"),
        )
        .command(apt_get(&["update"]), 0, "");
    assert_eq!(
        missing.apply(|| updated(Age(86_400), strings(&["hello", "newpkg"]))),
        Ok(Change::Changed)
    );
    assert!(
        missing
            .logged()
            .iter()
            .any(|l| l.contains("apt has no candidate for newpkg"))
    );
    let known = fresh().command(policy(&["hello"]), 0, policy_of("hello", "2.10-3"));
    assert_eq!(
        known.apply(|| updated(Age(86_400), strings(&["hello"]))),
        Ok(Change::Unchanged)
    );
    // No lists at all.
    let empty = FakeHost::new()
        .dir("/usr/sbin")
        .dir("/var/lib/apt/lists/partial")
        .file(UPDATE_STAMP, "")
        .mtime(UPDATE_STAMP, now())
        .command(apt_get(&["update"]), 0, "");
    assert_eq!(
        empty.apply(|| updated(Age(86_400), Vec::new())),
        Ok(Change::Changed)
    );
}

#[test]
fn an_update_that_fetched_not_every_list_fails_unrecorded() {
    let host = host().command_output(
        apt_get(&["update"]),
        Output {
            exit_code: Some(0),
            stdout: b"Err:1 http://deb.example.org bookworm InRelease\n".to_vec(),
            stderr: b"W: Failed to fetch http://deb.example.org/dists/bookworm/InRelease  Could not resolve\n\
                      W: Some index files failed to download.\n"
                .to_vec(),
        },
    );
    assert_eq!(
        failure(host.apply(|| updated(Age(0), Vec::new()))),
        "apt-get update could not update every list: W: Failed to fetch \
         http://deb.example.org/dists/bookworm/InRelease  Could not resolve"
    );
    assert!(!host.exists(UPDATE_STAMP));
}

#[test]
fn updated_in_check_mode_predicts_and_skips() {
    let host = host().check_mode();
    assert_eq!(
        host.apply(|| updated(Age(0), Vec::new())),
        Ok(Change::Changed)
    );
    assert_eq!(host.commands_skipped(), [apt_get(&["update"])]);
}

#[test]
fn max_age_is_seconds_or_a_duration() {
    for (text, seconds) in [
        ("90s", 90),
        ("30m", 1800),
        ("6h", 21_600),
        ("1d", 86_400),
        ("2w", 1_209_600),
        ("0", 0),
        ("45", 45),
    ] {
        assert_eq!(Age::parse(text), Some(Age(seconds)), "{text}");
    }
    for bad in ["", "1y", "d", "-1", "1.5h", "1 d x"] {
        assert_eq!(Age::parse(bad), None, "{bad:?}");
    }
    let host = host()
        .module(&MODULE)
        .file(UPDATE_STAMP, "")
        .mtime(UPDATE_STAMP, now());
    let form = |json: &str| json.parse::<Form>().unwrap();
    assert_eq!(
        host.apply_form(&form(r#"["apt:updated", {"max-age": 3600}]"#)),
        Ok(Change::Unchanged)
    );
    assert_eq!(
        host.apply_form(&form(r#"["apt:updated", {"max-age": "6h"}]"#)),
        Ok(Change::Unchanged)
    );
    assert_eq!(
        host.apply_form(&form(r#"["apt:updated"]"#)),
        Ok(Change::Unchanged)
    );
    let bad = failure(host.apply_form(&form(r#"["apt:updated", {"max-age": "1y"}]"#)));
    assert!(bad.contains("\"1y\" is not a duration"), "{bad}");
    let negative = failure(host.apply_form(&form(r#"["apt:updated", {"max-age": -5}]"#)));
    assert!(negative.contains("-5 is negative"), "{negative}");
}

// apt:upgraded, apt:autoremoved

fn simulate(args: &[&str]) -> Vec<String> {
    let mut argv = strings(&[APT_GET, "-s", "-q"]);
    argv.extend(strings(args));
    argv
}

#[test]
fn upgraded_upgrades_only_when_a_simulation_would() {
    let plan = "Reading package lists...\nInst bash [5.2.15-2+b8] (5.2.15-2+b13 Debian:12.15/oldstable [amd64])\n\
                Conf bash (5.2.15-2+b13 Debian:12.15/oldstable [amd64])\n";
    let upgrading = host()
        .command(simulate(&["upgrade"]), 0, plan)
        .command(apt_get(&["upgrade"]), 0, "")
        .command(simulate(&["upgrade"]), 0, "0 upgraded, 0 newly installed\n");
    assert_eq!(
        upgrading.apply(|| upgraded(false, None)),
        Ok(Change::Changed)
    );
    assert!(
        upgrading
            .logged()
            .contains(&"info: upgraded bash".to_owned())
    );
    assert_eq!(
        upgrading.apply(|| upgraded(false, None)),
        Ok(Change::Unchanged)
    );
    let simulation = upgrading
        .commands()
        .into_iter()
        .find(|c| c.argv()[1] == "-s")
        .unwrap();
    assert!(simulation.is_query());
    // dist-upgrade, in check mode: the simulation runs, the upgrade does not.
    let check = host()
        .check_mode()
        .command(simulate(&["dist-upgrade"]), 0, "Remv oldlib [1.0]\n");
    let form: Form = r#"["apt:upgraded", {"dist": true}]"#.parse().unwrap();
    assert_eq!(
        check.clone().module(&MODULE).apply_form(&form),
        Ok(Change::Changed)
    );
    assert_eq!(check.commands_skipped(), [apt_get(&["dist-upgrade"])]);
}

#[test]
fn autoremoved_removes_only_when_a_simulation_would() {
    let host = host()
        .command(
            simulate(&["autoremove"]),
            0,
            "Remv libfoo1 [1.0-1]\nRemv libbar2 [2.0]\n",
        )
        .command(apt_get(&["autoremove"]), 0, "")
        .command(
            simulate(&["autoremove"]),
            0,
            "0 upgraded, 0 newly installed, 0 to remove\n",
        );
    assert_eq!(host.apply(autoremoved), Ok(Change::Changed));
    assert!(
        host.logged()
            .contains(&"info: removed libfoo1 libbar2".to_owned())
    );
    assert_eq!(host.apply(autoremoved), Ok(Change::Unchanged));
    let failing = host.clone().command_output(
        simulate(&["autoremove"]),
        Output {
            exit_code: Some(100),
            stdout: Vec::new(),
            stderr: b"E: broken\n".to_vec(),
        },
    );
    assert_eq!(
        failure(failing.apply(autoremoved)),
        "/usr/bin/apt-get -s -q autoremove: exit code 100: E: broken"
    );
}

// apt:source, apt:key

const DOCKER: &str = "Types: deb\nURIs: https://download.docker.com/linux/debian\n\
                      Suites: bookworm\nComponents: stable\n\
                      Signed-By: /etc/apt/keyrings/docker.asc\n";

#[test]
fn source_writes_a_deb822_file_once() {
    let host = FakeHost::new().module(&MODULE);
    let form: Form = r#"["apt:source", "docker", {"uris": "https://download.docker.com/linux/debian",
        "suites": ["bookworm"], "components": "stable", "signed-by": "/etc/apt/keyrings/docker.asc"}]"#
        .parse()
        .unwrap();
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    let path = "/etc/apt/sources.list.d/docker.sources";
    assert_eq!(host.text(path).unwrap(), DOCKER);
    assert_eq!(host.stat(path).unwrap().mode.bits(), 0o644);
    assert_eq!(host.apply_form(&form), Ok(Change::Unchanged));
    // Other options, in a changed file.
    let more = || {
        source(
            "docker".into(),
            Some(Words::Many(strings(&["deb", "deb-src"]))),
            Some(Words::One(
                "https://a.example/debian https://b.example/debian".into(),
            )),
            Some(Words::One("bookworm bookworm-updates".into())),
            Some(Words::Many(strings(&["main", "contrib"]))),
            None,
        )
    };
    assert_eq!(host.apply(more), Ok(Change::Changed));
    assert_eq!(
        host.text(path).unwrap(),
        "Types: deb deb-src\nURIs: https://a.example/debian https://b.example/debian\n\
         Suites: bookworm bookworm-updates\nComponents: main contrib\n"
    );
    assert_eq!(host.apply(more), Ok(Change::Unchanged));
    assert!(host.commands().is_empty());
}

#[test]
fn source_embeds_an_armored_key_and_takes_exact_paths() {
    let host = FakeHost::new();
    let armored = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n";
    let change = host.apply(|| {
        source(
            "local".into(),
            None,
            Some(Words::One("file:/srv/repo".into())),
            Some(Words::One("./".into())),
            None,
            Some(armored.into()),
        )
    });
    assert_eq!(change, Ok(Change::Changed));
    assert_eq!(
        host.text("/etc/apt/sources.list.d/local.sources").unwrap(),
        "Types: deb\nURIs: file:/srv/repo\nSuites: ./\nSigned-By:\n \
         -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mQINBF\n =abcd\n \
         -----END PGP PUBLIC KEY BLOCK-----\n"
    );
}

#[test]
fn source_refuses_bad_names_and_values_before_writing() {
    let host = FakeHost::new();
    let uris = || Some(Words::One("https://deb.example.org".into()));
    let suites = || Some(Words::One("bookworm".into()));
    let main = || Some(Words::One("main".into()));
    let attempt = |name: &str,
                   types: Option<Words>,
                   uris: Option<Words>,
                   suites: Option<Words>,
                   components: Option<Words>,
                   signed_by: Option<&str>| {
        failure(host.apply(|| {
            source(
                name.into(),
                types,
                uris,
                suites,
                components,
                signed_by.map(str::to_owned),
            )
        }))
    };
    for name in [
        "../../etc/cron.d/evil",
        "a/b",
        "..",
        ".hidden",
        "-x",
        "a b",
        "",
    ] {
        assert!(
            attempt(name, None, uris(), suites(), main(), None)
                .contains("is not a valid source name"),
            "{name:?}"
        );
    }
    assert_eq!(
        attempt("x", None, None, suites(), main(), None),
        "uris is required: the URIs of the repository"
    );
    assert!(attempt("x", None, uris(), None, main(), None).starts_with("suites is required"));
    assert!(attempt("x", None, uris(), suites(), None, None).starts_with("components is required"));
    assert!(
        attempt(
            "x",
            None,
            uris(),
            Some(Words::One("./".into())),
            main(),
            None
        )
        .starts_with("components: a suite ending with / is an exact path")
    );
    assert_eq!(
        attempt(
            "x",
            Some(Words::One("rpm".into())),
            uris(),
            suites(),
            main(),
            None
        ),
        "types: \"rpm\" is neither deb nor deb-src"
    );
    // A newline would add a field of the attacker's choosing.
    assert!(
        attempt(
            "x",
            None,
            Some(Words::Many(strings(&["https://a.example\nTrusted: yes"]))),
            suites(),
            main(),
            None
        )
        .starts_with("uris: \"https://a.example\\nTrusted: yes\" is not a single word")
    );
    assert!(
        attempt(
            "x",
            None,
            uris(),
            suites(),
            main(),
            Some("/k.asc\nTrusted: yes")
        )
        .starts_with("signed-by: ")
    );
    assert!(
        attempt("x", None, uris(), suites(), main(), Some("relative.asc"))
            .contains("neither an absolute keyring path nor a fingerprint")
    );
    assert_eq!(
        attempt(
            "x",
            None,
            Some(Words::One("   ".into())),
            suites(),
            main(),
            None
        ),
        "uris is empty"
    );
    assert!(host.file_changes().is_empty());
    // A directory where the file goes is not replaced.
    let host = FakeHost::new().dir("/etc/apt/sources.list.d/x.sources");
    assert_eq!(
        failure(host.apply(|| source("x".into(), None, uris(), suites(), main(), None))),
        "/etc/apt/sources.list.d/x.sources is a directory, not a file: not replacing it"
    );
}

const ARMORED: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBFit2ioBEADh\n-----END PGP PUBLIC KEY BLOCK-----\n";

#[test]
fn key_writes_an_armored_or_binary_keyring() {
    let host = FakeHost::new().module(&MODULE);
    let armored: Form = format!(r#"["apt:key", "docker", {}]"#, serde_json_string(ARMORED))
        .parse()
        .unwrap();
    assert_eq!(host.apply_form(&armored), Ok(Change::Changed));
    assert_eq!(host.text("/etc/apt/keyrings/docker.asc").unwrap(), ARMORED);
    assert_eq!(host.stat("/etc/apt/keyrings").unwrap().mode.bits(), 0o755);
    assert_eq!(host.apply_form(&armored), Ok(Change::Unchanged));
    // The same name as a binary keyring replaces the armored one.
    let binary: Form = r#"["apt:key", "docker", {"base64": "mQINBA=="}]"#.parse().unwrap();
    assert_eq!(host.apply_form(&binary), Ok(Change::Changed));
    assert_eq!(
        host.content("/etc/apt/keyrings/docker.gpg").unwrap(),
        [0x99, 0x02, 0x0d, 0x04]
    );
    assert!(!host.exists("/etc/apt/keyrings/docker.asc"));
    assert_eq!(host.apply_form(&binary), Ok(Change::Unchanged));
    // A wrong mode is corrected.
    let host = FakeHost::new()
        .file("/etc/apt/keyrings/docker.asc", ARMORED)
        .mode("/etc/apt/keyrings/docker.asc", 0o600);
    assert_eq!(
        host.apply(|| key("docker".into(), Content::from(ARMORED))),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.stat("/etc/apt/keyrings/docker.asc")
            .unwrap()
            .mode
            .bits(),
        0o644
    );
}

fn serde_json_string(text: &str) -> String {
    consfig_guest::serde_json::to_string(text).unwrap()
}

#[test]
fn key_refuses_what_is_no_key_and_names_that_are_paths() {
    let host = FakeHost::new().module(&MODULE);
    assert!(
        failure(host.apply(|| key("x".into(), Content::from("not a key"))))
            .starts_with("the key is neither an armored public key")
    );
    for name in ["../trusted.gpg.d/evil", "a/b", "..", ".x", "-x"] {
        assert!(
            failure(host.apply(|| key(name.into(), Content::from(ARMORED))))
                .contains("is not a valid keyring name"),
            "{name:?}"
        );
    }
    let bad: Form = r#"["apt:key", "x", {"base64": "@@"}]"#.parse().unwrap();
    assert!(failure(host.apply_form(&bad)).contains("the base64 of the content is not valid"));
    let extra: Form = r#"["apt:key", "x", {"base64": "AA==", "mode": "0600"}]"#
        .parse()
        .unwrap();
    assert!(failure(host.apply_form(&extra)).contains("unexpected key \"mode\""));
    assert!(host.file_changes().is_empty());
}

// apt:reconfigured

fn debconf_show(package: &str) -> Vec<String> {
    strings(&["/usr/bin/debconf-show", package])
}

const RECONFIGURE: [&str; 4] = [
    "/usr/sbin/dpkg-reconfigure",
    "--frontend",
    "noninteractive",
    "locales",
];

#[test]
fn reconfigured_sets_differing_answers_and_reconfigures() {
    let shown =
        "* locales/default_environment_locale: C.UTF-8\n  locales/locales_to_be_generated:\n";
    let after = "* locales/default_environment_locale: en_US.UTF-8\n* locales/locales_to_be_generated: en_US.UTF-8 UTF-8\n";
    let host = host()
        .command(dpkg("locales"), 0, "installed ")
        .command(debconf_show("locales"), 0, shown)
        .command(["/usr/bin/debconf-set-selections"], 0, "")
        .command(RECONFIGURE, 0, "Generating locales...\n")
        .command(debconf_show("locales"), 0, after);
    let settings = || {
        vec![
            (
                "locales/default_environment_locale".to_owned(),
                "select".to_owned(),
                "en_US.UTF-8".to_owned(),
            ),
            (
                "locales/locales_to_be_generated".to_owned(),
                "multiselect".to_owned(),
                "en_US.UTF-8 UTF-8".to_owned(),
            ),
        ]
    };
    assert_eq!(
        host.apply(|| reconfigured("locales".into(), settings())),
        Ok(Change::Changed)
    );
    let set = host
        .commands()
        .into_iter()
        .find(|c| c.argv()[0] == "/usr/bin/debconf-set-selections")
        .unwrap();
    assert_eq!(
        set.input().unwrap(),
        b"locales locales/default_environment_locale select en_US.UTF-8\n\
          locales locales/locales_to_be_generated multiselect en_US.UTF-8 UTF-8\n"
    );
    assert_eq!(
        host.file_changes().len(),
        2,
        "policy-rc.d written and removed"
    );
    assert_eq!(
        host.apply(|| reconfigured("locales".into(), settings())),
        Ok(Change::Unchanged)
    );
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn reconfigured_reads_passwords_from_their_database() {
    let passwords =
        "Name: locales/secret\nTemplate: locales/secret\nValue: hunter22\nOwners: locales\n\n";
    let host = host()
        .file("/var/cache/debconf/passwords.dat", passwords)
        .command(dpkg("locales"), 0, "installed ")
        .command(
            debconf_show("locales"),
            0,
            "  locales/secret: (password omitted)\n",
        );
    let same = vec![(
        "locales/secret".to_owned(),
        "password".to_owned(),
        "hunter22".to_owned(),
    )];
    assert_eq!(
        host.apply(|| reconfigured("locales".into(), same)),
        Ok(Change::Unchanged)
    );
    let check = host.clone().check_mode();
    let other = vec![(
        "locales/secret".to_owned(),
        "password".to_owned(),
        "new-one".to_owned(),
    )];
    assert_eq!(
        check.apply(|| reconfigured("locales".into(), other)),
        Ok(Change::Changed)
    );
    assert_eq!(
        check.commands_skipped(),
        [
            strings(&["/usr/bin/debconf-set-selections"]),
            strings(&RECONFIGURE)
        ]
    );
}

#[test]
fn reconfigured_refuses_bad_settings_and_packages_not_installed() {
    let host = host();
    let one = |q: &str, t: &str, v: &str| vec![(q.to_owned(), t.to_owned(), v.to_owned())];
    assert!(
        failure(host.apply(|| reconfigured("tzdata".into(), one("tzdata/Areas", "selekt", "Etc"))))
            .starts_with("tzdata/Areas: \"selekt\" is not a debconf type")
    );
    // A newline would add a selection of the attacker's choosing.
    assert_eq!(
        failure(host.apply(|| reconfigured(
            "tzdata".into(),
            one("tzdata/Areas", "select", "Etc\nlocales locales/x string y")
        ))),
        "tzdata/Areas: the value holds a newline or control character: it must be one line"
    );
    for question in [
        "Areas",
        "tzdata/Areas x",
        "-tzdata/Areas",
        "tzdata/Are\nas",
        "",
    ] {
        assert!(
            failure(host.apply(|| reconfigured("tzdata".into(), one(question, "select", "Etc"))))
                .contains("is not a debconf question"),
            "{question:?}"
        );
    }
    assert!(host.commands().is_empty());
    let host = host.command(dpkg("tzdata"), 1, "");
    assert_eq!(
        failure(host.apply(|| reconfigured("tzdata".into(), one("tzdata/Areas", "select", "Etc")))),
        "tzdata is not installed: install it first (apt:installed) to reconfigure it"
    );
}

// apt:held, apt:unheld

/// dpkg-query as `apt:held` asks it: selection and status.
fn want(package: &str) -> Vec<String> {
    strings(&[
        "/usr/bin/dpkg-query",
        "--show",
        "--showformat=${db:Status-Want}/${db:Status-Status} ",
        "--",
        package,
    ])
}

const SET_SELECTIONS: [&str; 2] = ["/usr/bin/dpkg", "--set-selections"];

/// The input of the run of `dpkg --set-selections`, if any.
fn selections_given(host: &FakeHost) -> Vec<String> {
    host.commands()
        .into_iter()
        .filter(|c| c.argv() == SET_SELECTIONS)
        .map(|c| String::from_utf8(c.input().unwrap_or_default().to_vec()).unwrap())
        .collect()
}

#[test]
fn held_holds_only_the_packages_not_held_yet() {
    let host = host()
        .module(&MODULE)
        .command(want("nginx"), 0, "install/installed ")
        .command(want("openssl"), 0, "hold/installed ")
        .command(want("old"), 0, "deinstall/config-files ")
        .command(SET_SELECTIONS, 0, "")
        .command(want("nginx"), 0, "hold/installed ")
        .command(want("openssl"), 0, "hold/installed ")
        .command(want("old"), 0, "hold/config-files ");
    let form: Form = r#"["apt:held", ["nginx", "openssl", "old", "nginx"]]"#
        .parse()
        .unwrap();
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    assert_eq!(selections_given(&host), ["nginx hold\nold hold\n"]);
    assert!(host.logged().contains(&"info: held nginx old".to_owned()));
    // A second time: every one held, nothing set.
    assert_eq!(host.apply_form(&form), Ok(Change::Unchanged));
    assert!(host.commands_not_run().is_empty());
    assert_eq!(selections_given(&host).len(), 1);
    // No file is touched: no policy-rc.d, nothing.
    assert!(host.file_changes().is_empty());
}

#[test]
fn held_holds_every_architecture_of_a_package() {
    let host = host()
        .command(want("libc6"), 0, "hold/installed install/installed ")
        .command(SET_SELECTIONS, 0, "");
    assert_eq!(
        host.apply(|| held(strings(&["libc6"]))),
        Ok(Change::Changed)
    );
    assert_eq!(selections_given(&host), ["libc6 hold\n"]);
}

#[test]
fn held_refuses_a_package_dpkg_does_not_know_before_holding_any() {
    // As Ansible's dpkg_selections fails for a package it cannot find.
    let host = host()
        .command(want("nginx"), 0, "install/installed ")
        .command(want("nosuch"), 1, "");
    assert_eq!(
        failure(host.apply(|| held(strings(&["nginx", "nosuch"])))),
        "packages: dpkg knows no package nosuch: install it before holding it (apt:installed)"
    );
    assert!(selections_given(&host).is_empty());
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn held_in_check_mode_asks_dpkg_query_and_skips_the_change() {
    let some = host()
        .check_mode()
        .command(want("nginx"), 0, "install/installed ");
    assert_eq!(
        some.apply(|| held(strings(&["nginx"]))),
        Ok(Change::Changed)
    );
    assert_eq!(some.commands_skipped(), [SET_SELECTIONS]);
    let all_held = host()
        .check_mode()
        .command(want("nginx"), 0, "hold/installed ");
    assert_eq!(
        all_held.apply(|| held(strings(&["nginx"]))),
        Ok(Change::Unchanged)
    );
    assert!(all_held.commands_skipped().is_empty());
}

#[test]
fn unheld_sets_install_or_deinstall_as_apt_mark_does() {
    let host = host()
        .module(&MODULE)
        .command(want("nginx"), 0, "hold/installed ")
        .command(want("old"), 0, "hold/config-files ")
        .command(want("bash"), 0, "install/installed ")
        .command(want("nosuch"), 1, "")
        .command(SET_SELECTIONS, 0, "")
        .command(want("nginx"), 0, "install/installed ")
        .command(want("old"), 0, "deinstall/config-files ")
        .command(want("bash"), 0, "install/installed ")
        .command(want("nosuch"), 1, "");
    let form: Form = r#"["apt:unheld", ["nginx", "old", "bash", "nosuch"]]"#
        .parse()
        .unwrap();
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    assert_eq!(selections_given(&host), ["nginx install\nold deinstall\n"]);
    assert!(
        host.logged()
            .contains(&"info: released the hold on nginx old".to_owned())
    );
    assert_eq!(host.apply_form(&form), Ok(Change::Unchanged));
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn unheld_in_check_mode_skips_the_change() {
    let host = host()
        .check_mode()
        .command(want("nginx"), 0, "hold/half-configured ");
    assert_eq!(
        host.apply(|| unheld(strings(&["nginx"]))),
        Ok(Change::Changed)
    );
    assert_eq!(host.commands_skipped(), [SET_SELECTIONS]);
    assert_eq!(selections_given(&host), ["nginx install\n"]);
}

#[test]
fn held_and_unheld_refuse_names_that_would_be_options_or_new_lines() {
    // Nothing scripted: any command would fail the test.
    let host = host();
    for bad in [
        "-oAPT::X=1",
        "--admindir=/tmp",
        "nginx hold\nbash",
        "nginx\nopenssl purge",
        "nginx purge",
        "../etc/passwd",
        "ngin*",
        "",
    ] {
        let message = failure(host.apply(|| held(vec!["bash".to_owned(), bad.to_owned()])));
        assert!(message.starts_with("packages: "), "{message}");
        let message = failure(host.apply(|| unheld(vec![bad.to_owned()])));
        assert!(message.starts_with("packages: "), "{message}");
    }
    assert!(host.commands().is_empty());
    assert_eq!(host.apply(|| held(Vec::new())), Ok(Change::Unchanged));
    assert_eq!(host.apply(|| unheld(Vec::new())), Ok(Change::Unchanged));
}

#[test]
fn a_failing_set_selections_is_an_error_naming_it() {
    let host = host()
        .command(want("nginx"), 0, "install/installed ")
        .command_output(
            SET_SELECTIONS,
            Output {
                exit_code: Some(2),
                stdout: Vec::new(),
                stderr: b"dpkg: error: dpkg frontend lock was locked by another process\n".to_vec(),
            },
        );
    assert_eq!(
        failure(host.apply(|| held(strings(&["nginx"])))),
        "/usr/bin/dpkg --set-selections: exit code 2: dpkg: error: dpkg frontend lock was \
         locked by another process"
    );
}

// apt:standard-sources.list

const BOOKWORM: &str = "deb http://deb.debian.org/debian bookworm main\n\
                        deb http://deb.debian.org/debian bookworm-updates main\n\
                        deb http://security.debian.org/debian-security bookworm-security main\n";

fn os(id: &str, version_id: Option<&str>, codename: Option<&str>) -> OsRelease {
    OsRelease {
        id: id.to_owned(),
        version_id: version_id.map(str::to_owned),
        version_codename: codename.map(str::to_owned),
        pretty_name: None,
    }
}

#[test]
fn standard_sources_list_writes_the_release_updates_and_security() {
    let host = host().module(&MODULE).mode(SOURCES_LIST, 0o644);
    let form: Form = r#"["apt:standard-sources.list"]"#.parse().unwrap();
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    assert_eq!(host.text(SOURCES_LIST).unwrap(), BOOKWORM);
    assert_eq!(host.stat(SOURCES_LIST).unwrap().mode.bits(), 0o644);
    assert_eq!(host.apply_form(&form), Ok(Change::Unchanged));
    assert!(host.commands().is_empty());
    assert_eq!(
        host.file_changes(),
        [format!("write-file {SOURCES_LIST} 0644")]
    );
}

#[test]
fn standard_sources_list_takes_a_mirror_and_components() {
    let host = host()
        .module(&MODULE)
        .os_release(os("debian", Some("13"), Some("trixie")));
    let form: Form =
        r#"["apt:standard-sources.list", {"mirror": "https://mirror.example.org/debian/",
        "components": "main contrib non-free-firmware"}]"#
            .parse()
            .unwrap();
    assert_eq!(host.apply_form(&form), Ok(Change::Changed));
    assert_eq!(
        host.text(SOURCES_LIST).unwrap(),
        "deb https://mirror.example.org/debian/ trixie main contrib non-free-firmware\n\
         deb https://mirror.example.org/debian/ trixie-updates main contrib non-free-firmware\n\
         deb http://security.debian.org/debian-security trixie-security main contrib \
         non-free-firmware\n"
    );
    let list: Form =
        r#"["apt:standard-sources.list", {"mirror": "https://mirror.example.org/debian/",
        "components": ["main", "contrib", "non-free-firmware"]}]"#
            .parse()
            .unwrap();
    assert_eq!(host.apply_form(&list), Ok(Change::Unchanged));
}

#[test]
fn standard_sources_list_corrects_the_mode_and_mentions_a_deb822_source() {
    let host = host()
        .file(SOURCES_LIST, BOOKWORM)
        .mode(SOURCES_LIST, 0o600)
        .file("/etc/apt/sources.list.d/debian.sources", "Types: deb\n");
    assert_eq!(
        host.apply(|| standard_sources_list("http://deb.debian.org/debian".into(), None)),
        Ok(Change::Changed)
    );
    assert_eq!(host.stat(SOURCES_LIST).unwrap().mode.bits(), 0o644);
    assert!(
        host.logged()
            .iter()
            .any(|l| l.contains("/etc/apt/sources.list.d/debian.sources is there too"))
    );
}

#[test]
fn standard_sources_list_in_check_mode_predicts_from_the_file() {
    let apply = || standard_sources_list("http://deb.debian.org/debian".into(), None);
    let other = host().check_mode();
    assert_eq!(other.apply(apply), Ok(Change::Changed));
    let same = host()
        .check_mode()
        .file(SOURCES_LIST, BOOKWORM)
        .mode(SOURCES_LIST, 0o644);
    assert_eq!(same.apply(apply), Ok(Change::Unchanged));
    assert!(same.file_changes().is_empty());
}

#[test]
fn standard_sources_list_is_for_debian_stable_releases_only() {
    let apply = |os: OsRelease| {
        let host = host().os_release(os);
        let result = failure(
            host.apply(|| standard_sources_list("http://deb.debian.org/debian".into(), None)),
        );
        assert_eq!(
            host.text(SOURCES_LIST).unwrap(),
            "deb http://deb.debian.org/debian bookworm main\n",
            "nothing written"
        );
        result
    };
    let mut ubuntu = os("ubuntu", Some("24.04"), Some("noble"));
    ubuntu.pretty_name = Some("Ubuntu 24.04 LTS".into());
    assert_eq!(
        apply(ubuntu),
        "apt:standard-sources.list writes Debian's sources, and this system is Ubuntu 24.04 \
         LTS (os-release ID \"ubuntu\"): use apt:source for its own"
    );
    assert!(apply(os("debian", Some("12"), None)).contains("names no VERSION_CODENAME"),);
    assert!(apply(os("debian", Some("12"), Some(""))).contains("names no VERSION_CODENAME"),);
    assert!(apply(os("debian", None, Some("trixie"))).contains("Debian testing or unstable"));
    // A codename that would add a line or a field is refused.
    for codename in [
        "bookworm\ndeb [trusted=yes] http://evil/ x main",
        "book worm",
        "../x",
    ] {
        assert!(
            apply(os("debian", Some("12"), Some(codename))).contains("is not a Debian codename"),
            "{codename:?}"
        );
    }
}

#[test]
fn standard_sources_list_refuses_mirrors_and_components_that_inject() {
    let host = host();
    for mirror in [
        "[trusted=yes] http://evil.example/debian",
        "[trusted=yes]",
        "http://a.example/debian bookworm main\ndeb http://evil.example/debian",
        "http://a.example/ debian",
        "deb.debian.org/debian",
        "-o",
        "http://a.example/#",
        "",
    ] {
        let message = failure(host.apply(|| standard_sources_list(mirror.into(), None)));
        assert!(message.starts_with("mirror: "), "{mirror:?}: {message}");
    }
    for components in [
        Words::Many(strings(&[
            "main",
            "contrib\ndeb http://evil.example/ x main",
        ])),
        Words::Many(strings(&["#main"])),
        Words::Many(strings(&["[trusted=yes]"])),
        Words::Many(Vec::new()),
        Words::One("  ".into()),
    ] {
        let message = failure(host.apply(|| {
            standard_sources_list("http://deb.debian.org/debian".into(), Some(components))
        }));
        assert!(message.starts_with("components"), "{message}");
    }
    assert!(host.file_changes().is_empty());
}
