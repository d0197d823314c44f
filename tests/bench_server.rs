//! `make bench`: the example web server (examples/web-server) deployed to a
//! freshly booted Debian 12 over SSH — first deploy (packages from the
//! mirror, everything made; Consfig's runtime and modules sent and compiled
//! there) and second (nothing to change) — next to the same configuration
//! as an Ansible playbook (tests/fixtures/web-server-ansible, Debian's
//! `ansible` package, pipelining on) deployed the same way to another fresh
//! boot, in the same run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use consfig_tests::booted::Booted;
use consfig_tests::web_server::{SERVER_NAME, TITLE, make_site_repository, write_consfig};
use consfig_tests::{Sandbox, free_port, repo_root};

/// Consfig's deploys: first and second to a fresh host with the
/// controller's module cache cold (every module compiled there and on the
/// host), then the first to another fresh host with that cache warm (only
/// the host compiles).
fn consfig_deploys() -> [Duration; 3] {
    let sb = Sandbox::cold();
    let deploy = |expected: i32| {
        let start = Instant::now();
        let run = sb.deploy(&[]);
        let took = start.elapsed();
        assert_eq!(run.code, expected, "{run:?}");
        took
    };
    let fresh_host = || {
        let booted = Booted::boot();
        booted.trust(&sb.home(), "web");
        make_site_repository(&sb, &booted.inside("/"));
        booted
    };
    write_consfig(&sb, &["ssh://web".into()], free_port());
    let first = fresh_host();
    let cold = deploy(23);
    let second = deploy(0);
    drop(first);
    let _another = fresh_host();
    let warm = deploy(23);
    [cold, second, warm]
}

/// Ansible's first and second deploy of the same configuration.
fn ansible_deploys() -> [Duration; 2] {
    let booted = Booted::boot();
    let sb = Sandbox::new();
    make_site_repository(&sb, &booted.inside("/"));
    let dir = sb.path();
    let playbook = repo_root().join("tests/fixtures/web-server-ansible");
    let known_hosts = dir.join("known_hosts");
    std::fs::write(&known_hosts, format!("{}\n", booted.known_hosts_line())).unwrap();
    let public = {
        let key = dir.join("deploy_ed25519");
        consfig_tests::booted::keygen(&key);
        std::fs::read_to_string(key.with_extension("pub")).unwrap()
    };
    std::fs::write(
        dir.join("inventory"),
        format!(
            "web ansible_host=127.0.0.1 ansible_port={} ansible_user=root \
             ansible_ssh_private_key_file={} \
             ansible_ssh_common_args='-o UserKnownHostsFile={}'\n",
            booted.port(),
            booted.client_key().display(),
            known_hosts.display()
        ),
    )
    .unwrap();
    let vars = serde_json::json!({
        "server_name": SERVER_NAME,
        "site_title": TITLE,
        "http_listen": format!("127.0.0.1:{}", free_port()),
        "site_repo": "file:///srv/git/site.git",
        "deploy_key": public.trim(),
        "timezone": "Etc/UTC",
        "locale": "en_US.UTF-8",
        "sshd_settings": {
            "PasswordAuthentication": "no",
            "KbdInteractiveAuthentication": "no",
            "X11Forwarding": "no",
            "DebianBanner": "no",
        },
    });
    std::fs::write(dir.join("vars.json"), vars.to_string()).unwrap();
    let ansible = |program: &str, args: &[&str]| {
        let out = Command::new(program)
            .current_dir(&playbook)
            .arg("-i")
            .arg(dir.join("inventory"))
            .args(args)
            .env("ANSIBLE_PIPELINING", "True")
            .env("ANSIBLE_LOCAL_TEMP", dir.join("ansible-tmp"))
            .env("ANSIBLE_SSH_CONTROL_PATH_DIR", dir.join("cp"))
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e} (`make bench` installs ansible)"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{program} {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    // Ansible's modules are Python: the target needs it first (not timed).
    ansible(
        "ansible",
        &[
            "web",
            "-m",
            "raw",
            "-a",
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 python3-apt",
        ],
    );
    let vars = format!("@{}", dir.join("vars.json").display());
    let runs = [true, false].map(|first| {
        let start = Instant::now();
        let out = ansible("ansible-playbook", &["-e", &vars, "playbook.yml"]);
        let took = start.elapsed();
        let recap = out
            .rsplit("PLAY RECAP")
            .next()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(
            recap.contains("changed=0"),
            !first,
            "the first run changes, the second does not: {out}"
        );
        took
    });
    drop(booted);
    runs
}

fn s(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() {
    assert!(
        Path::new("/usr/bin/ansible-playbook").exists(),
        "ansible is missing: `make bench` installs it"
    );
    let consfig = consfig_deploys();
    let ansible = ansible_deploys();
    println!();
    println!("the example web server to a booted Debian 12 over SSH (same run)");
    println!();
    println!("| deploy | Consfig | Ansible | Ansible / Consfig |");
    println!("| --- | ---: | ---: | ---: |");
    let rows = [
        (
            "first, controller's module cache cold",
            consfig[0],
            ansible[0],
        ),
        (
            "first, controller's module cache warm",
            consfig[2],
            ansible[0],
        ),
        ("second (nothing to change)", consfig[1], ansible[1]),
    ];
    for (what, c, a) in rows {
        println!(
            "| {what} | {} | {} | {:.1} × |",
            s(c),
            s(a),
            a.as_secs_f64() / c.as_secs_f64()
        );
    }
    println!();
    println!(
        "first deploys install nginx, git, cron and locales from the mirror; Ansible's \
         python3 on the host beforehand, not timed"
    );
}
