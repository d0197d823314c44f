//! Consfigs whose modules are crates: `consfig new` makes one, `consfig
//! deploy` builds its modules from source with cargo, rebuilds and sends
//! only what an edit changed, and stops on a compile error with the file and
//! line before anything connects.
//!
//! Every build shares one target directory, `target/consfig-modules` of this
//! checkout, so the guest SDK is compiled once for all tests and runs
//! (the first takes minutes). The SDK is this checkout's `guest-sdk/`.

use std::path::{Path, PathBuf};

use consfig::engine::cache::sha256_hex;
use consfig_tests::{Run, Sandbox, cargo_env, modules_target_dir};

/// `consfig ARGS` run in `dir`, building with [`cargo_env`].
fn consfig_in(sandbox: &Sandbox, dir: &Path, args: &[&str]) -> Run {
    let env = cargo_env();
    let env: Vec<(&str, &Path)> = env.iter().map(|(k, v)| (*k, v.as_path())).collect();
    sandbox.consfig_in(dir, args, &env, None)
}

/// The module a crate named `name` builds, as cargo leaves it.
fn built(name: &str) -> Vec<u8> {
    let file = modules_target_dir().join(format!(
        "wasm32-wasip2/release/{}.wasm",
        name.replace('-', "_")
    ));
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// A new consfig, `consfig new NAME` in the sandbox.
fn new_consfig(sandbox: &Sandbox, name: &str) -> PathBuf {
    let run = consfig_in(sandbox, sandbox.path(), &["new", name]);
    assert_eq!(run.code, 0, "{run:?}");
    sandbox.path().join(name)
}

#[test]
fn new_then_deploy_laptop_works_with_no_other_command() {
    let sandbox = Sandbox::new();
    new_consfig(&sandbox, "site");
    let site = sandbox.path().join("site");
    for file in [
        "Cargo.toml",
        "Consfig.toml",
        ".gitignore",
        "README.md",
        "modules/site/src/lib.rs",
    ] {
        assert!(site.join(file).is_file(), "{file} is missing");
    }
    assert_eq!(
        std::fs::read_to_string(site.join("README.md"))
            .unwrap()
            .lines()
            .count(),
        3
    );

    let run = consfig_in(&sandbox, &site, &["deploy", "laptop"]);
    assert_eq!(run.code, 23, "{run:?}");
    let page = std::fs::read_to_string(site.join("www/index.html")).unwrap();
    assert!(page.contains("<h1>Hello from "), "{page}");
    assert!(run.stdout.contains("site:hello"), "{}", run.stdout);

    // Again: nothing to build, send or change.
    let again = consfig_in(&sandbox, &site, &["deploy", "--json", "laptop"]);
    assert_eq!(again.code, 0, "{again:?}");
    let summary = again.event("summary");
    assert_eq!(summary["modules_sent"], 0, "{summary}");
    assert_eq!(summary["unchanged"], 1, "{summary}");

    // Never over a directory in use, nor a module named as a standard one.
    for taken in ["site", "file"] {
        let refused = consfig_in(&sandbox, sandbox.path(), &["new", taken]);
        assert_eq!(refused.code, 2, "{refused:?}");
    }
    assert!(!sandbox.path().join("file").exists());
}

/// A consfig of two module crates, `edits` (made by `consfig new`) and
/// `other`, and the standard `file` module.
fn two_crate_consfig(sandbox: &Sandbox) -> PathBuf {
    let dir = new_consfig(sandbox, "edits");
    let other = dir.join("modules/other");
    std::fs::create_dir_all(other.join("src")).unwrap();
    let manifest = std::fs::read_to_string(dir.join("modules/edits/Cargo.toml")).unwrap();
    std::fs::write(
        other.join("Cargo.toml"),
        manifest.replace("name = \"edits\"", "name = \"other\""),
    )
    .unwrap();
    let source = std::fs::read_to_string(dir.join("modules/edits/src/lib.rs")).unwrap();
    std::fs::write(
        other.join("src/lib.rs"),
        source.replace("name: \"edits\"", "name: \"other\""),
    )
    .unwrap();
    std::fs::write(
        dir.join("Consfig.toml"),
        format!(
            "modules = [\"file\", \"modules/*\"]\n\
             [module.edits]\ngrants = [\"write:{dir}/a\"]\n\
             [module.other]\ngrants = [\"write:{dir}/b\"]\n\
             [hosts.laptop]\nconnection = [\"local\"]\n\
             properties = [[\"edits:hello\", \"{dir}/a\"], [\"other:hello\", \"{dir}/b\"]]\n",
            dir = dir.display()
        ),
    )
    .unwrap();
    dir
}

#[test]
fn an_edit_rebuilds_and_sends_that_module_only() {
    let sandbox = Sandbox::new();
    let dir = two_crate_consfig(&sandbox);
    let first = consfig_in(&sandbox, &dir, &["deploy", "--json", "laptop"]);
    assert_eq!(first.code, 23, "{first:?}");
    assert_eq!(first.event("summary")["modules_sent"], 3);
    let other_before = built("other");

    // Edit one property's source: its page says something else.
    let lib = dir.join("modules/edits/src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let edited = source.replace("<h1>Hello from {host}</h1>", "<h1>Edited on {host}</h1>");
    assert_ne!(source, edited);
    std::fs::write(&lib, edited).unwrap();

    let second = consfig_in(&sandbox, &dir, &["deploy", "--json", "laptop"]);
    assert_eq!(second.code, 23, "{second:?}");
    let edits = built("edits");
    let modules = second.event("modules");
    assert_eq!(
        modules["sent"],
        serde_json::json!([sha256_hex(&edits)]),
        "{modules}"
    );
    let summary = second.event("summary");
    assert_eq!(summary["modules_sent"], 1, "{summary}");
    // What was sent is that module's code, compressed: less than the code.
    let bytes = summary["bytes_sent"].as_u64().unwrap();
    let code = std::fs::read_dir(sandbox.cache().join("consfig/code"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .max()
        .unwrap();
    assert!(bytes > 0 && bytes < code, "{summary}");
    assert_eq!(
        built("other"),
        other_before,
        "the unedited crate was rebuilt differently"
    );
    assert_eq!(second.statuses(), ["changed", "unchanged"]);
    let page = std::fs::read_to_string(dir.join("a/index.html")).unwrap();
    assert!(page.contains("<h1>Edited on "), "{page}");

    let third = consfig_in(&sandbox, &dir, &["deploy", "--json", "laptop"]);
    assert_eq!(third.code, 0, "{third:?}");
    let summary = third.event("summary");
    assert_eq!(summary["modules_sent"], 0, "{summary}");
    assert_eq!(summary["bytes_sent"], 0, "{summary}");
}

#[test]
fn a_compile_error_stops_the_deploy_with_its_file_and_line() {
    let sandbox = Sandbox::new();
    let dir = new_consfig(&sandbox, "broken");
    let lib = dir.join("modules/broken/src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let line = source
        .lines()
        .position(|l| l.contains("let mut change = Change::Unchanged;"))
        .unwrap()
        + 1;
    std::fs::write(
        &lib,
        source.replace(
            "let mut change = Change::Unchanged;",
            "let mut change: Change = 42;",
        ),
    )
    .unwrap();

    let run = consfig_in(&sandbox, &dir, &["deploy", "--json", "laptop"]);
    assert_eq!(run.code, 2, "{run:?}");
    let place = format!("modules/broken/src/lib.rs:{line}:");
    assert!(run.stderr.contains(&place), "no {place} in: {}", run.stderr);
    assert!(
        run.stderr.contains("nothing was deployed"),
        "{}",
        run.stderr
    );
    // Nothing connected: no event at all, nothing made.
    assert_eq!(run.stdout, "");
    assert!(!dir.join("www").exists());
}

#[test]
fn describe_apply_and_bundle_build_crate_directories_first() {
    let sandbox = Sandbox::new();
    let dir = new_consfig(&sandbox, "described");
    let run = consfig_in(&sandbox, &dir, &["describe", "--json", "modules/described"]);
    assert_eq!(run.code, 0, "{run:?}");
    let info = &run.events()[0];
    assert_eq!(info["module"], "described");
    let property = info["properties"][0]["name"].as_str().unwrap();
    assert!(property.ends_with("hello"), "{info}");
    assert!(
        info["path"].as_str().unwrap().ends_with("/described.wasm"),
        "{info}"
    );

    let www = dir.join("www").display().to_string();
    let grant = format!("described=write:{www}");
    let form = format!("[\"described:hello\", {www:?}]");
    let mut args = vec![
        "apply",
        "--modules",
        "file",
        "--modules",
        "./modules/described",
    ];
    args.extend(["--grant", &grant, "local", &form]);
    let run = consfig_in(&sandbox, &dir, &args);
    assert_eq!(run.code, 23, "{run:?}");
    assert!(dir.join("www/index.html").is_file());

    let bundle = dir.join("hello-bundle");
    let run = consfig_in(
        &sandbox,
        &dir,
        &[
            "bundle",
            "--module",
            "file",
            "--module",
            "modules/*",
            "--form",
            &form,
            "-o",
            &bundle.display().to_string(),
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("2 modules"), "{}", run.stdout);
    assert!(bundle.is_file());
}
