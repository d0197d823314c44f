//! The example web server (examples/web-server/Consfig.toml) set up for a
//! test or bench: the example copied into a sandbox with a host `box` and
//! this machine's variables for it (a loopback port for nginx, a deploy key
//! made here, the site's documentation from a repository the test makes).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::booted::keygen;
use crate::{Sandbox, q, repo_root};

pub const SERVER_NAME: &str = "www.consfig.test";
pub const TITLE: &str = "Consfig test site";
pub const README: &str = "The site's documentation, from git.\n";

/// The example consfig copied into the sandbox, with host `box` reached
/// through `connection` and the variables of this test; the deploy key's
/// private half, beside it.
pub fn write_consfig(sb: &Sandbox, connection: &[String], http_port: u16) -> PathBuf {
    let example = repo_root().join("examples/web-server");
    let templates = sb.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    for name in ["index.html", "nginx-site.conf"] {
        std::fs::copy(example.join("templates").join(name), templates.join(name)).unwrap();
    }
    let key = sb.path().join("deploy_ed25519");
    keygen(&key);
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let mut text = std::fs::read_to_string(example.join("Consfig.toml")).unwrap();
    let connection: Vec<String> = connection.iter().map(q).collect();
    text.push_str(&format!(
        "\n[hosts.box]\nconnection = [{}]\nproperties = [[\"list\", \"web-server\"]]\n\
         vars = {{ server_name = {}, site_title = {}, http_listen = {}, site_repo = \
         \"file:///srv/git/site.git\", deploy_key = {} }}\n",
        connection.join(", "),
        q(SERVER_NAME),
        q(TITLE),
        q(format!("127.0.0.1:{http_port}")),
        q(public.trim()),
    ));
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
    key
}

/// A bare repository at `root`/srv/git/site.git with one commit: README.txt.
pub fn make_site_repository(sb: &Sandbox, root: &Path) {
    let scratch = tempfile::tempdir_in(sb.path()).unwrap();
    let work = scratch.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("README.txt"), README).unwrap();
    let git = |dir: &Path, args: &[&str]| {
        let out = Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=Test", "-c", "user.email=test@consfig.test"])
            .args(args)
            .output()
            .expect("git (`make test-deps` installs it)");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&work, &["init", "-q", "-b", "main"]);
    git(&work, &["add", "README.txt"]);
    git(&work, &["commit", "-q", "-m", "Documentation"]);
    git(&work, &["clone", "-q", "--bare", ".", "../site.git"]);
    // Copied in: git resolves a path through /proc/PID/root to the wrong place.
    let parent = root.join("srv/git");
    std::fs::create_dir_all(&parent).unwrap();
    let copied = Command::new("cp")
        .arg("-a")
        .arg(scratch.path().join("site.git"))
        .arg(&parent)
        .status()
        .unwrap();
    assert!(copied.success(), "copying the repository into the root");
}
