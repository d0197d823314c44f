//! The standard library against a real Debian 12 root (made once with
//! debootstrap by `tests/fixtures/debian-root.sh` and cached in /var/cache;
//! each test deploys to a copy): one consfig using every file, text-editing,
//! template and archive property, with variables, a named list, files and
//! data of the consfig, deployed through the `chroot:` hop and over SSH.
//! `--check --diff` on the fresh root predicts exactly the files and
//! statuses of the real deploy, the second deploy changes nothing, and the
//! secret never appears in any output.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use consfig_tests::debian::copy_of_root;
use consfig_tests::sshd::{Sshd, trust};
use consfig_tests::tree::{differing, listing};
use consfig_tests::{Run, Sandbox, q};

/// The forms of the consfig, those of its list `base` included.
const FORMS: usize = 32;

/// The secret the consfig uploads with `file:data-uploaded`.
const SECRET: &str = "s3cr3t-Pa55w0rd-for-the-db";

/// A consfig beside Consfig.toml: a file to copy, a template, an archive to
/// unpack, and the host's secret outside it.
fn write_consfig(sb: &Sandbox, hosts: &str) {
    let dir = sb.path();
    std::fs::create_dir_all(dir.join("files/site")).unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(dir.join("files/nginx.conf"), "worker_processes 2;\n").unwrap();
    std::fs::write(dir.join("files/site/index.html"), "<h1>site</h1>\n").unwrap();
    std::fs::write(dir.join("files/site/style.css"), "h1 { color: red }\n").unwrap();
    let tar = Command::new("tar")
        .args([
            "-czf",
            "files/site.tar.gz",
            "-C",
            "files/site",
            "index.html",
            "style.css",
        ])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(tar.success());
    std::fs::write(
        dir.join("templates/site.conf.j2"),
        "# {{ greeting }} from {{ facts.os.id }} {{ facts.os.version_codename }}\n\
         server_name {{ vars.domain }};\n\
         {% for port in ports %}listen {{ port }};\n{% endfor %}",
    )
    .unwrap();
    let secret = dir.parent().unwrap().join(format!(
        "{}-secret",
        dir.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&secret, SECRET).unwrap();

    let text = format!(
        r#"modules = ["file", "archive"]

[vars]
domain = "example.org"
greeting = "hello"
ports = [80]

[groups.web]
hosts = ["debian"]

[groups.web.vars]
ports = [80, 443]

[lists.base]
properties = [
  ["file:has-content", "/etc/motd", "Managed by Consfig.\n", {{ mode = "0640", owner = "root", group = "adm" }}],
  ["file:has-content", "/usr/local/share/blob.bin", {{ base64 = "AAEC/w==" }}],
  ["file:line-in-file", "/etc/login.defs", {{ regexp = "^UMASK", line = "UMASK\t\t027" }}],
  ["file:line-in-file", "/etc/hosts", {{ line = "127.0.1.1 web.example.org web", create = true }}],
  ["file:line-in-file", "/etc/environment", {{ line = "LANG=C.UTF-8", insert-before = "BOF" }}],
  ["file:line-in-file", "/etc/shells", {{ regexp = "^/bin/sh$", state = "absent" }}],
]

[hosts.debian]
{hosts}
data = {{ db-password = {secret} }}
vars = {{ greeting = "welcome" }}
properties = [
  ["list", "base"],
  ["file:block-in-file", "/etc/bash.bashrc", {{ block = "alias ll='ls -l'\nalias la='ls -A'" }}],
  ["file:replaced", "/etc/adduser.conf", "^#?DSHELL=.*$", "DSHELL=/bin/bash"],
  ["file:contains-lines", "/etc/profile", ["umask 027"]],
  ["file:lacks-lines", "/etc/issue.net", ["Debian GNU/Linux 12"]],
  ["file:lacks-lines-matching", "/etc/fstab", ["^# UNCONFIGURED"]],
  ["file:regex-replaced-lines", "/etc/deluser.conf", "^#REMOVE_HOME = 0$", "REMOVE_HOME = 1"],
  ["file:contains-conf-space", "/etc/login.defs", {{ PASS_MAX_DAYS = "90", LOGIN_RETRIES = "3" }}],
  ["file:contains-conf-equals", "/etc/default/useradd", {{ SHELL = "/bin/bash" }}],
  ["file:contains-conf-tab", "/etc/app-tabs.conf", {{ key = "value" }}],
  ["file:contains-conf-shell", "/etc/default/hwclock", {{ HWCLOCKACCESS = "no" }}],
  ["file:contains-ini-settings", "/etc/app.ini", [["main", "name", "web"], ["db", "port", "5432"]]],
  ["file:templated", "/etc/site.conf", "templates/site.conf.j2"],
  ["file:templated", "/etc/inline.conf", {{ inline = "domain={{{{ domain }}}}\n" }}, {{ vars = {{ domain = "form.example" }} }}],
  ["file:has-ownership", "/etc/site.conf", "root", "adm"],
  ["file:has-mode", "/etc/site.conf", "u+x,go-w"],
  ["file:directory-exists", "/srv/www", {{ mode = "0750", owner = "www-data", group = "www-data" }}],
  ["file:containing-directory-exists", "/srv/app/conf/app.conf"],
  ["file:copied", "/etc/nginx.conf", "files/nginx.conf", {{ mode = "0600" }}],
  ["file:copied", "/srv/site.tar.gz", "files/site.tar.gz"],
  ["archive:extracted", "/srv/site.tar.gz", "/srv/www"],
  ["file:symlinked", "/srv/current", "/srv/www"],
  ["file:is-copy-of", "/srv/index.bak", "/srv/www/index.html"],
  ["file:does-not-exist", "/etc/issue"],
  ["file:directory-does-not-exist", "/etc/update-motd.d"],
  ["file:data-uploaded", "/etc/db-password", "db-password"],
  ["file:has-content", "/etc/domain", {{ "$var" = "domain" }}],
]
"#,
        secret = q(secret.display().to_string()),
    );
    std::fs::write(dir.join("Consfig.toml"), text).unwrap();
}

fn deploy(sb: &Sandbox, args: &[&str]) -> Run {
    let mut all = vec!["deploy", "--json"];
    all.extend_from_slice(args);
    all.push("debian");
    sb.consfig(&all)
}

/// Check, deploy, deploy again: the check predicts the deploy exactly, the
/// second deploy changes nothing, and the secret is in no output.
fn check_deploy_again(sb: &Sandbox, root: &Path) {
    let before = listing(root);
    let check = deploy(sb, &["--check", "--diff"]);
    assert_eq!(check.code, 23, "something would change: {check:?}");
    assert_eq!(listing(root), before, "check mode changed the root");
    let predicted_statuses = check.statuses_as_checked();
    assert_eq!(
        predicted_statuses.len(),
        FORMS,
        "one status per form, the list's expanded: {check:?}"
    );
    assert!(
        !predicted_statuses
            .iter()
            .any(|s| s == "unchanged" || s == "failed"),
        "every form would change something on a fresh root: {predicted_statuses:?} {check:?}"
    );

    let first = deploy(sb, &[]);
    assert_eq!(first.code, 23, "{first:?}");
    assert_eq!(
        first.statuses_as_checked(),
        predicted_statuses,
        "the check predicted every status"
    );
    let after = listing(root);
    assert_eq!(
        check.changed_paths(root),
        differing(&before, &after),
        "the check predicted exactly the files the deploy changed"
    );

    let second = deploy(sb, &[]);
    assert_eq!(
        second.code, 0,
        "the second deploy changes nothing: {second:?}"
    );
    assert!(
        second
            .statuses_as_checked()
            .iter()
            .all(|s| s == "unchanged"),
        "{second:?}"
    );
    assert_eq!(
        listing(root),
        after,
        "the second deploy left the root as it was"
    );

    for run in [&check, &first, &second] {
        assert!(
            !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
            "the secret leaked: {run:?}"
        );
    }
    assert_results(root);
}

/// What the consfig made of the root, property by property.
fn assert_results(root: &Path) {
    let text = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let meta = |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap();
    let gid = |name: &str| group_id(root, name);
    assert_eq!(text("etc/motd"), "Managed by Consfig.\n");
    assert_eq!(
        (meta("etc/motd").mode() & 0o7777, meta("etc/motd").gid()),
        (0o640, gid("adm"))
    );
    assert_eq!(
        std::fs::read(root.join("usr/local/share/blob.bin")).unwrap(),
        [0, 1, 2, 255]
    );
    assert!(text("etc/login.defs").contains("\nUMASK\t\t027\n"));
    assert!(text("etc/login.defs").contains("\nPASS_MAX_DAYS 90\n"));
    assert!(text("etc/hosts").ends_with("127.0.1.1 web.example.org web\n"));
    assert!(text("etc/environment").starts_with("LANG=C.UTF-8\n"));
    assert!(!text("etc/shells").lines().any(|l| l == "/bin/sh"));
    assert!(text("etc/bash.bashrc").contains(
        "# BEGIN ANSIBLE MANAGED BLOCK\nalias ll='ls -l'\nalias la='ls -A'\n# END ANSIBLE MANAGED BLOCK\n"
    ));
    assert!(text("etc/adduser.conf").contains("\nDSHELL=/bin/bash\n"));
    assert!(text("etc/profile").ends_with("umask 027\n"));
    assert!(text("etc/default/useradd").contains("\nSHELL=/bin/bash\n"));
    assert!(text("etc/default/hwclock").contains("\nHWCLOCKACCESS=no\n"));
    assert!(text("etc/deluser.conf").contains("\nREMOVE_HOME = 1\n"));
    assert_eq!(text("etc/app-tabs.conf"), "key\tvalue\n");
    assert!(text("etc/app.ini").contains("[main]\nname = web\n"));
    assert_eq!(
        text("etc/site.conf"),
        "# welcome from debian bookworm\nserver_name example.org;\nlisten 80;\nlisten 443;\n"
    );
    assert_eq!(text("etc/inline.conf"), "domain=form.example\n");
    assert_eq!(meta("etc/site.conf").mode() & 0o7777, 0o744);
    assert_eq!(meta("srv/www").mode() & 0o7777, 0o750);
    assert!(meta("srv/app/conf").is_dir());
    assert_eq!(text("etc/nginx.conf"), "worker_processes 2;\n");
    assert_eq!(text("srv/www/index.html"), "<h1>site</h1>\n");
    assert_eq!(
        std::fs::read_link(root.join("srv/current")).unwrap(),
        Path::new("/srv/www")
    );
    assert_eq!(text("srv/index.bak"), "<h1>site</h1>\n");
    assert!(!root.join("etc/issue").exists());
    assert!(!root.join("etc/update-motd.d").exists());
    assert_eq!(text("etc/db-password"), SECRET);
    assert_eq!(meta("etc/db-password").mode() & 0o7777, 0o600);
    assert_eq!(text("etc/domain"), "example.org");
}

fn group_id(root: &Path, name: &str) -> u32 {
    let groups = std::fs::read_to_string(root.join("etc/group")).unwrap();
    groups
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f[0] == name)
        .map(|f| f[2].parse().unwrap())
        .unwrap_or_else(|| panic!("no group {name}"))
}

#[test]
fn every_property_through_the_chroot_hop() {
    let sb = Sandbox::new();
    let root = copy_of_root(&sb, "debian");
    write_consfig(
        &sb,
        &format!(
            "connection = [\"local\", {}]",
            q(format!("chroot:{}", root.display()))
        ),
    );
    check_deploy_again(&sb, &root);
}

#[test]
fn every_property_over_ssh() {
    let server = Sshd::start();
    let sb = Sandbox::new();
    trust(&sb.home(), &[&server], |_| "web1".to_owned());
    let root = copy_of_root(&sb, "debian");
    write_consfig(
        &sb,
        &format!(
            "connection = [\"ssh://web1\", {}]",
            q(format!("chroot:{}", root.display()))
        ),
    );
    check_deploy_again(&sb, &root);
}
