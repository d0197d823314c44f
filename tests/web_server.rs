//! The example web server (examples/web-server/Consfig.toml), the standard
//! modules alone configuring a real Debian 12 system:
//!
//! - booted with systemd (tests/support/booted.rs) and reached over SSH on
//!   a loopback port: apt installs nginx, git, cron and locales from the
//!   Debian mirror, systemd starts nginx with the site, curl fetches the
//!   page rendered for the host and the git checkout beneath it, sshd is
//!   reloaded with its new configuration, the cron job is in root's
//!   crontab, and the deploy account logs in with its key;
//! - unbooted, through the `chroot:` hop (an image being built): the same
//!   consfig, everything in place and nothing started.
//!
//! On each, `--check --diff` first predicts the deploy (a form is `unknown`
//! only after a command the check skipped; each file the check said a form
//! would write is what the deploy wrote) and changes nothing, and a second
//! deploy changes nothing. These tests run as root and need the
//! network for the mirror.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use consfig_tests::booted::{Booted, Overlay, ssh_version};
use consfig_tests::debian::assert_no_policy_and_nothing_running_in;
use consfig_tests::tree::listing;
use consfig_tests::web_server::{README, SERVER_NAME, TITLE, make_site_repository, write_consfig};
use consfig_tests::{Run, Sandbox, free_port};

/// The check's statuses against the deploy's, form by form (nested forms
/// too): each the same, or `unknown` after a step the check could not take.
/// The forms the check predicted exactly.
fn assert_predicted(check: &Run, deploy: &Run) -> usize {
    let checked = check.statuses_as_checked();
    let deployed = deploy.statuses_as_checked();
    assert_eq!(checked.len(), deployed.len(), "{check:?}\n{deploy:?}");
    for (i, (checked, deployed)) in checked.iter().zip(&deployed).enumerate() {
        assert!(
            checked == deployed || checked == "unknown",
            "form {i}: the check said {checked}, the deploy {deployed}\n{check:?}\n{deploy:?}"
        );
    }
    for form in check.forms() {
        if form["status"] == "unknown" {
            assert!(
                !form["unknown_after"].as_array().unwrap().is_empty(),
                "unknown, yet after no step the check skipped: {form}"
            );
        }
    }
    checked
        .iter()
        .zip(&deployed)
        .filter(|(c, d)| c == d)
        .count()
}

/// What the check said each file would become, against what the deploy
/// made of it beneath `root`: the same kind, contents and target, for every
/// path one form of the check changed (a path several forms change is
/// compared only through the statuses). How many paths were compared.
fn assert_files_predicted(check: &Run, root: &Path) -> usize {
    let mut changed: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for form in check.forms() {
        for change in form["changes"].as_array().into_iter().flatten() {
            let path = change["path"].as_str().unwrap().to_owned();
            changed
                .entry(path)
                .or_default()
                .push(change["after"].clone());
        }
    }
    let mut compared = 0;
    for (path, afters) in changed {
        let [after] = afters.as_slice() else { continue };
        let real = root.join(path.trim_start_matches('/'));
        let meta = real.symlink_metadata();
        match after["kind"].as_str().unwrap() {
            "absent" => assert!(meta.is_err(), "{path} should be absent"),
            "dir" => assert!(meta.unwrap().is_dir(), "{path} should be a directory"),
            "symlink" => assert_eq!(
                std::fs::read_link(&real).unwrap().to_str(),
                after["target"].as_str(),
                "{path}"
            ),
            "file" => {
                // Contents a check does not show (secrets) are not compared.
                if let Some(content) = after["content"].as_str() {
                    assert_eq!(read(&real), content, "{path}: the check's prediction");
                }
            }
            other => panic!("{path}: a change to a {other}"),
        }
        compared += 1;
    }
    compared
}

/// The top-level forms' statuses by property (the first form of each
/// property name, which is the one the test looks at).
fn by_property(run: &Run) -> BTreeMap<String, String> {
    let mut statuses = BTreeMap::new();
    for form in run.forms() {
        let name = form["form"][0].as_str().unwrap_or_default().to_owned();
        let status = form["status"].as_str().unwrap().to_owned();
        statuses.entry(name).or_insert(status);
    }
    statuses
}

fn deploy(sb: &Sandbox, args: &[&str]) -> Run {
    let run = sb.deploy(args);
    assert!(
        !run.stdout.is_empty(),
        "consfig printed nothing: {}",
        run.stderr
    );
    run
}

/// The second deploy: every form unchanged.
fn assert_second_deploy_unchanged(sb: &Sandbox) {
    let again = deploy(sb, &[]);
    assert_eq!(
        again.code, 0,
        "the second deploy changes nothing: {again:?}"
    );
    assert!(
        again.statuses().iter().all(|s| s == "unchanged"),
        "{again:?}"
    );
}

/// What an HTTP GET of `url` answers (curl), and its status code.
fn http_get(url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "-w", "\n%{http_code}", url])
        .output()
        .expect("curl (`make test-deps` installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// Whether a symlink is at `path` (its absolute target means nothing here).
fn is_symlink(path: &Path) -> bool {
    path.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn form_output(run: &Run, property: &str, argument: &str) -> String {
    run.forms()
        .iter()
        .find(|f| f["form"][0] == property && f["form"][1] == argument)
        .map(|f| f.to_string())
        .unwrap_or_else(|| panic!("no form {property} {argument} in {run:?}"))
}

#[test]
fn the_web_server_consfig_configures_a_booted_debian_over_ssh() {
    let booted = Booted::boot();
    let sb = Sandbox::new();
    booted.trust(&sb.home(), "web");
    let http_port = free_port();
    let key = write_consfig(&sb, &["ssh://web".into()], http_port);
    make_site_repository(&sb, &booted.inside("/"));
    let version_before = ssh_version(booted.port()).unwrap();
    assert!(version_before.contains("Debian"), "{version_before}");

    // The check predicts, touching nothing.
    let check = deploy(&sb, &["--check", "--diff"]);
    assert_eq!(check.code, 23, "{check:?}");
    assert!(!booted.inside("/usr/sbin/nginx").exists());
    assert!(!booted.inside("/var/www/site").exists());
    assert_eq!(ssh_version(booted.port()).unwrap(), version_before);

    let first = deploy(&sb, &[]);
    assert_eq!(first.code, 23, "{first:?}");
    let exact = assert_predicted(&check, &first);
    let statuses = by_property(&first);
    for property in [
        "hostname:configured",
        "apt:installed",
        "user:has-account",
        "file:directory-exists",
    ] {
        assert_eq!(statuses[property], "changed", "{property}: {first:?}");
    }
    assert!(
        exact >= 8,
        "only {exact} forms predicted exactly: {check:?}"
    );
    let compared = assert_files_predicted(&check, &booted.inside("/"));
    assert!(compared >= 6, "only {compared} files compared: {check:?}");

    // nginx serves the page rendered for this host, and the checkout.
    let (code, page) = http_get(&format!("http://127.0.0.1:{http_port}/"));
    assert_eq!(code, 200, "{page}");
    assert!(page.contains(&format!("<h1>{TITLE}</h1>")), "{page}");
    assert!(
        page.contains(&format!(
            "{SERVER_NAME} (Debian GNU/Linux 12 (bookworm)) serves this page"
        )),
        "{page}"
    );
    assert_eq!(
        http_get(&format!("http://127.0.0.1:{http_port}/docs/README.txt")),
        (200, README.to_owned())
    );
    let (code, _) = http_get(&format!("http://127.0.0.1:{http_port}/docs/.git/HEAD"));
    assert_eq!(code, 403, "the repository is not served");
    // Enabled for the next boot, and nothing left forbidding services.
    assert!(is_symlink(&booted.inside(
        "/etc/systemd/system/multi-user.target.wants/nginx.service"
    )));
    assert!(!booted.inside("/usr/sbin/policy-rc.d").exists());

    // sshd was reloaded: its greeting no longer names Debian.
    let version_after = ssh_version(booted.port()).unwrap();
    assert!(
        version_after.starts_with("SSH-2.0-OpenSSH_") && !version_after.contains("Debian"),
        "sshd was not reloaded: {version_after}"
    );

    // The cron job is in root's crontab, where cron reads it.
    let crontab = read(&booted.inside("/var/spool/cron/crontabs/root"));
    assert!(
        crontab.contains(
            "#Consfig: site-docs-pull\n*/15 * * * * git -C /var/www/site/docs pull -q --ff-only\n"
        ),
        "{crontab}"
    );

    // The host's name, in its files and running.
    assert_eq!(read(&booted.inside("/etc/hostname")), "www\n");
    let running = Command::new("nsenter")
        .args(["--uts", "-t", &booted.leader().to_string(), "hostname"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&running.stdout).trim(), "www");
    assert_ne!(
        nix::unistd::gethostname().unwrap().to_string_lossy(),
        "www",
        "not this machine's"
    );

    // The deploy account logs in with its key, in nginx's group.
    let known_hosts = sb.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("{}\n", booted.known_hosts_line())).unwrap();
    let login = Command::new("ssh")
        .args(["-p", &booted.port().to_string(), "-i"])
        .arg(&key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-F",
            "/dev/null",
            "deploy@127.0.0.1",
            "id -un; id -Gn",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&login.stdout);
    assert!(
        login.status.success(),
        "the deploy account could not log in: {}",
        String::from_utf8_lossy(&login.stderr)
    );
    assert!(said.starts_with("deploy\n"), "{said}");
    assert!(said.contains("www-data"), "{said}");

    assert_second_deploy_unchanged(&sb);
}

#[test]
fn the_same_consfig_through_chroot_starts_nothing() {
    let overlay = Overlay::of_booted_root();
    let root = overlay.root();
    let sb = Sandbox::new();
    let http_port = free_port();
    write_consfig(
        &sb,
        &["local".into(), format!("chroot:{}", root.display())],
        http_port,
    );
    make_site_repository(&sb, root);

    let before = listing(root);
    let check = deploy(&sb, &["--check", "--diff"]);
    assert_eq!(check.code, 23, "{check:?}");
    assert_eq!(listing(root), before, "check mode changed the root");

    let first = deploy(&sb, &[]);
    assert_eq!(first.code, 23, "{first:?}");
    let exact = assert_predicted(&check, &first);
    assert!(
        exact >= 8,
        "only {exact} forms predicted exactly: {check:?}"
    );
    let compared = assert_files_predicted(&check, root);
    assert!(compared >= 6, "only {compared} files compared: {check:?}");

    // Everything in place: packages, site, account, key, sshd, cron, clone.
    assert!(root.join("usr/sbin/nginx").exists());
    let page = read(&root.join("var/www/site/index.html"));
    assert!(page.contains(&format!("<h1>{TITLE}</h1>")), "{page}");
    assert!(
        read(&root.join("etc/nginx/sites-available/site"))
            .contains(&format!("listen 127.0.0.1:{http_port} default_server;"))
    );
    assert!(root.join("etc/nginx/sites-enabled/site").is_symlink());
    assert!(!root.join("etc/nginx/sites-enabled/default").exists());
    assert_eq!(read(&root.join("var/www/site/docs/README.txt")), README);
    assert!(read(&root.join("home/deploy/.ssh/authorized_keys")).starts_with("ssh-ed25519 "));
    assert!(read(&root.join("etc/ssh/sshd_config")).contains("\nDebianBanner no\n"));
    assert!(
        read(&root.join("var/spool/cron/crontabs/root")).contains("#Consfig: site-docs-pull\n")
    );
    assert_eq!(read(&root.join("etc/hostname")), "www\n");
    assert!(
        is_symlink(&root.join("etc/systemd/system/multi-user.target.wants/nginx.service")),
        "enabled offline: {}",
        form_output(&first, "systemd:enabled", "nginx")
    );

    // Nothing started, and each service form says why.
    assert_no_policy_and_nothing_running_in(root);
    assert!(
        nothing_listens_on(http_port),
        "nothing listens on the site's port"
    );
    let started = form_output(&first, "systemd:started", "nginx");
    assert!(started.contains("not started"), "{started}");
    assert_ne!(
        nix::unistd::gethostname().unwrap().to_string_lossy(),
        "www",
        "this machine's name is left alone"
    );

    assert_second_deploy_unchanged(&sb);
}

/// Whether nothing listens on 127.0.0.1:`port`.
fn nothing_listens_on(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
}
