//! Installing Consfig: `make install` lays it out as the FHS does
//! (`PREFIX/bin/consfig`, the stub, the standard modules and the SDK in
//! `PREFIX/lib/consfig`), and the installed `consfig` finds them there; `make
//! deb` packages the same tree, and the package installs and runs.

use std::path::Path;
use std::process::Command;

use consfig_tests::{Run, Sandbox, cargo_env, repo_root};

fn make(args: &[&str]) {
    let out = Command::new("make")
        .arg("-C")
        .arg(repo_root())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A consfig of the example, naming the standard modules by name (the
/// installed ones), writing beneath the sandbox.
fn example_consfig(sandbox: &Sandbox) -> std::path::PathBuf {
    let out = sandbox.path().join("out");
    let path = sandbox.path().join("Consfig.toml");
    std::fs::write(
        &path,
        format!(
            "modules = [\"file\", \"cmd\", \"example\"]\n\
             [hosts.laptop]\nconnection = [\"local\"]\n\
             properties = [\n\
               [\"file:directory-exists\", \"{out}\"],\n\
               [\"file:has-content\", \"{out}/motd\", \"Managed by Consfig.\\n\"],\n\
               [\"example:website\", \"{out}/www\"],\n\
             ]\n",
            out = out.display()
        ),
    )
    .unwrap();
    path
}

/// Deploy the example consfig with `consfig` twice: changes, then none.
fn deploys_the_example(consfig: &Path) {
    let sandbox = Sandbox::new();
    example_consfig(&sandbox);
    let run =
        |args: &[&str]| -> Run { sandbox.program_in(consfig, sandbox.path(), args, &[], None) };
    let first = run(&["deploy", "--json", "laptop"]);
    assert_eq!(first.code, 23, "{first:?}");
    assert_eq!(first.statuses(), ["changed", "changed", "changed"]);
    let page = std::fs::read_to_string(sandbox.path().join("out/www/index.html")).unwrap();
    assert!(page.contains("Managed by Consfig."), "{page}");
    let second = run(&["deploy", "--json", "laptop"]);
    assert_eq!(second.code, 0, "{second:?}");
    // `apply` with no --modules uses the installed standard modules.
    let motd = sandbox.path().join("out/motd");
    let apply = run(&[
        "apply",
        "local",
        &format!("[\"file:absent\", {:?}]", motd.display().to_string()),
    ]);
    assert_eq!(apply.code, 23, "{apply:?}");
    assert!(!motd.exists());
}

fn assert_installed(root: &Path, prefix: &str) {
    let prefix = root.join(prefix.trim_start_matches('/'));
    for file in [
        "bin/consfig",
        "lib/consfig/consfig-stub",
        "lib/consfig/modules/consfig_file.wasm",
        "lib/consfig/modules/consfig_cool_web_service.wasm",
        "lib/consfig/sdk/Cargo.toml",
        "lib/consfig/sdk/guest-sdk/Cargo.toml",
        "lib/consfig/sdk/wit/consfig.wit",
        // The SDKs Python and JavaScript modules build with.
        "lib/consfig/sdk/guest-sdk/python/consfig/__init__.py",
        "lib/consfig/sdk/guest-sdk/js/consfig.js",
    ] {
        assert!(prefix.join(file).is_file(), "{file} was not installed");
    }
    // Caches of a checkout's own runs are not the SDK.
    for left_out in [
        "lib/consfig/sdk/guest-sdk/python/consfig/__pycache__",
        "lib/consfig/sdk/guest-sdk/js/node_modules",
    ] {
        assert!(!prefix.join(left_out).exists(), "{left_out} was installed");
    }
}

#[test]
fn make_install_lays_out_a_prefix_whose_consfig_deploys_the_example() {
    let root = tempfile::tempdir().unwrap();
    let destdir = format!("DESTDIR={}", root.path().display());
    make(&["install", &destdir, "PREFIX=/opt/consfig"]);
    assert_installed(root.path(), "/opt/consfig");
    // Not beside the binary: found in ../lib/consfig.
    assert!(!root.path().join("opt/consfig/bin/modules").exists());
    let consfig = root.path().join("opt/consfig/bin/consfig");
    deploys_the_example(&consfig);

    // `consfig new` builds with the installed SDK, with nothing else set.
    let sandbox = Sandbox::new();
    let env = cargo_env();
    let env: Vec<(&str, &Path)> = env.iter().map(|(k, v)| (*k, v.as_path())).collect();
    let made = sandbox.program_in(&consfig, sandbox.path(), &["new", "installed"], &[], None);
    assert_eq!(made.code, 0, "{made:?}");
    let dir = sandbox.path().join("installed");
    let workspace = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let sdk =
        std::fs::canonicalize(root.path().join("opt/consfig/lib/consfig/sdk/guest-sdk")).unwrap();
    assert!(
        workspace.contains(&format!("path = \"{}\"", sdk.display())),
        "{workspace}"
    );
    let run = sandbox.program_in(&consfig, &dir, &["deploy", "laptop"], &env, None);
    assert_eq!(run.code, 23, "{run:?}");
    assert!(dir.join("www/index.html").is_file());
}

#[test]
fn the_debian_package_holds_the_installation_and_installs_and_runs() {
    make(&["deb"]);
    let debs: Vec<_> = std::fs::read_dir(repo_root().join("target"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    assert_eq!(debs.len(), 1, "{debs:?}");
    let deb = &debs[0];
    let dpkg_deb = |args: &[&str]| {
        let out = Command::new("dpkg-deb")
            .args(args)
            .arg(deb)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let info = dpkg_deb(&["--info"]);
    assert!(info.contains("Package: consfig"), "{info}");
    assert!(info.contains("Depends: libc6"), "{info}");
    let contents = dpkg_deb(&["--contents"]);
    for path in [
        "./usr/bin/consfig",
        "./usr/lib/consfig/consfig-stub",
        "./usr/lib/consfig/modules/consfig_example.wasm",
        "./usr/lib/consfig/sdk/guest-sdk/Cargo.toml",
    ] {
        assert!(contents.contains(path), "{path} not in:\n{contents}");
    }
    assert!(
        contents.lines().all(|l| l.contains(" root/root ")),
        "{contents}"
    );

    // Installed by dpkg into a root of its own (its own package database).
    let root = tempfile::tempdir().unwrap();
    for dir in ["var/lib/dpkg/info", "var/lib/dpkg/updates"] {
        std::fs::create_dir_all(root.path().join(dir)).unwrap();
    }
    std::fs::write(root.path().join("var/lib/dpkg/status"), "").unwrap();
    let out = Command::new("dpkg")
        .arg(format!("--root={}", root.path().display()))
        .args(["--force-depends", "--log=/dev/null", "-i"])
        .arg(deb)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dpkg -i: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_installed(root.path(), "/usr");
    deploys_the_example(&root.path().join("usr/bin/consfig"));
}
