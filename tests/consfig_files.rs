//! Files of the consfig, end to end: a file beside Consfig.toml that a
//! host's form names reaches that host content-addressed and compressed,
//! only when the target's cache lacks it; a module reads it with
//! `consfig-file`, in a chroot subdeployment too. A file outside the
//! consfig (by `..` or a symlink) is never sent, and a secret the consfig
//! names as data is refused.

use std::path::{Path, PathBuf};

use consfig_tests::{Chroot, Sandbox, TESTING_GRANTS, module, q};
use serde_json::Value;

/// A consfig in `sb/consfig` with one local host `box` and these forms;
/// `extra` goes inside the host's table.
fn write_consfig(sb: &Sandbox, forms: &[String], host_extra: &str) -> PathBuf {
    let dir = sb.path().join("consfig");
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "modules = [{}]\n{TESTING_GRANTS}[hosts.box]\nconnection = [\"local\"]\n{host_extra}properties = [\n{}\n]\n",
        q(module("testing").display().to_string()),
        forms.join(",\n")
    );
    std::fs::write(dir.join("Consfig.toml"), text).unwrap();
    dir
}

fn deploy(sb: &Sandbox, dir: &Path) -> consfig_tests::Run {
    sb.consfig_in(dir, &["deploy", "--json", "box"], &[], None)
}

fn copy(name: &str, to: &Path) -> String {
    format!(
        "[\"testing:consfig-file\", {}, {}]",
        q(name),
        q(to.display().to_string())
    )
}

/// The hashes of the files of consfigs in the sandbox's target cache.
fn cached_files(sb: &Sandbox) -> Vec<String> {
    let dir = sb.cache().join("consfig/files");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn sha256(bytes: &[u8]) -> String {
    consfig::engine::cache::sha256_hex(bytes)
}

#[test]
fn a_file_is_sent_once_and_again_only_when_it_changed() {
    let sb = Sandbox::new();
    let out = sb.path().join("copied");
    let dir = write_consfig(&sb, &[copy("./files/motd", &out)], "");
    std::fs::create_dir(dir.join("files")).unwrap();
    let first = "Welcome to box.\n".repeat(200);
    std::fs::write(dir.join("files/motd"), &first).unwrap();

    let run = deploy(&sb, &dir);
    assert_eq!(run.code, 23, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
    let files = run.event("files");
    assert_eq!(files["sent"], serde_json::json!(["files/motd"]), "{files}");
    let bytes = files["bytes"].as_u64().unwrap();
    assert!(bytes > 0 && bytes < 200, "compressed: {files}");
    assert_eq!(run.event("summary")["files_sent"], 1);
    assert_eq!(cached_files(&sb), [sha256(first.as_bytes())]);

    // Unchanged: nothing sent, and the module still reads it.
    std::fs::remove_file(&out).unwrap();
    let run = deploy(&sb, &dir);
    assert_eq!(run.code, 23, "{}\n{}", run.stdout, run.stderr);
    let files = run.event("files");
    assert_eq!(files["sent"], serde_json::json!([]), "{files}");
    assert_eq!(
        (files["bytes"].as_u64(), files["files"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(run.event("summary")["files_sent"], 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);

    // Changed: sent again, and read as it is now.
    std::fs::write(dir.join("files/motd"), "changed\n").unwrap();
    let run = deploy(&sb, &dir);
    assert_eq!(run.code, 23, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.event("files")["sent"],
        serde_json::json!(["files/motd"])
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "changed\n");
    let mut both = vec![sha256(first.as_bytes()), sha256(b"changed\n")];
    both.sort();
    assert_eq!(cached_files(&sb), both);
}

#[test]
fn files_outside_the_consfig_are_never_sent_and_reading_them_fails() {
    let sb = Sandbox::new();
    let secret = b"not for any host 7c1d";
    std::fs::write(sb.path().join("secret"), secret).unwrap();
    let out = sb.path().join("out");
    let forms = [
        copy("../secret", &out),
        copy("link-out", &out),
        copy(&sb.path().join("secret").display().to_string(), &out),
        copy("inside.txt", &out),
    ];
    let dir = write_consfig(&sb, &forms, "");
    std::os::unix::fs::symlink("../secret", dir.join("link-out")).unwrap();
    std::fs::write(dir.join("inside.txt"), b"inside\n").unwrap();
    let run = deploy(&sb, &dir);
    assert_eq!(run.code, 22, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.statuses(), ["failed", "failed", "failed", "changed"]);
    for form in &run.forms()[..3] {
        let reason = form["reason"].as_str().unwrap();
        assert!(
            reason.contains("was not sent to this host: only files that this host's forms name, by their path relative to Consfig.toml, are sent (sent: inside.txt)"),
            "{reason}"
        );
    }
    assert_eq!(
        run.event("files")["sent"],
        serde_json::json!(["inside.txt"])
    );
    assert_eq!(cached_files(&sb), [sha256(b"inside\n")]);
    assert_eq!(std::fs::read(&out).unwrap(), b"inside\n");
}

#[test]
fn a_chroot_subdeployment_reads_the_files_of_its_host() {
    let sb = Sandbox::new();
    let chroot = Chroot::build(sb.path().join("c1"));
    let form = format!(
        "[\"testing:subdeploy-forms\", [{}], [[\"testing:consfig-file\", \"conf/app.ini\", \"/app.ini\"]]]",
        q(format!("chroot:{}", chroot.root.display()))
    );
    let dir = write_consfig(&sb, &[form], "");
    std::fs::create_dir(dir.join("conf")).unwrap();
    std::fs::write(dir.join("conf/app.ini"), b"[app]\nport = 8080\n").unwrap();
    let run = deploy(&sb, &dir);
    assert_eq!(run.code, 23, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        std::fs::read(chroot.root.join("app.ini")).unwrap(),
        b"[app]\nport = 8080\n"
    );
}

#[test]
fn a_secret_or_key_of_the_consfig_named_in_a_form_is_refused_before_anything_connects() {
    let sb = Sandbox::new();
    let out = sb.path().join("out");
    let dir = write_consfig(
        &sb,
        &[copy("secrets/db", &out)],
        "data = { db = \"secrets/db\" }\n",
    );
    std::fs::create_dir(dir.join("secrets")).unwrap();
    std::fs::write(dir.join("secrets/db"), b"hunter22-db-password").unwrap();
    let run = deploy(&sb, &dir);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "Consfig.toml:8: host box: \"secrets/db\" names host box's data db, which is never sent to a host as a file of the consfig"
        ),
        "{}",
        run.stderr
    );
    assert!(!out.exists());
    assert!(cached_files(&sb).is_empty());
    let events: Vec<Value> = run.events();
    assert!(
        events.iter().all(|e| e["event"] != "form"),
        "{}",
        run.stdout
    );
}

/// A bundle dumped during a deploy carries the host's variables and the
/// files of the consfig its form names: run later, on its own, its form
/// reads them as it would have in the deploy.
#[test]
fn a_bundle_dumped_in_a_deploy_carries_the_variables_and_files_its_form_reads() {
    let sb = Sandbox::new();
    let out = sb.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let grants = format!("[{}]", q(format!("write:{}", out.display())));
    let dump = |bundle: &str, form: String| {
        format!(
            "[\"image:dumped\", {}, {form}, {grants}]",
            q(sb.path().join(bundle).display().to_string())
        )
    };
    let forms = [
        dump("reads-file", copy("conf/app.ini", &out.join("app.ini"))),
        dump(
            "reads-vars",
            format!(
                "[\"testing:vars\", {}]",
                q(out.join("vars.json").display().to_string())
            ),
        ),
    ];
    let dir = sb.path().join("consfig");
    std::fs::create_dir_all(dir.join("conf")).unwrap();
    std::fs::write(dir.join("conf/app.ini"), b"[app]\nport = 8080\n").unwrap();
    std::fs::write(dir.join("unnamed.txt"), b"not named by the bundle").unwrap();
    let text = format!(
        "modules = [{}, {}]\n{TESTING_GRANTS}[vars]\nport = 8080\n[hosts.box]\nconnection = [\"local\"]\nproperties = [\n{},\n{},\n[\"testing:echo\", \"unnamed.txt\"]\n]\n",
        q(module("testing").display().to_string()),
        q(module("image").display().to_string()),
        forms[0],
        forms[1],
    );
    std::fs::write(dir.join("Consfig.toml"), text).unwrap();
    let run = deploy(&sb, &dir);
    assert_eq!(run.code, 23, "{}\n{}", run.stdout, run.stderr);
    assert!(!out.join("app.ini").exists(), "only the bundle applies it");

    let info = sb.consfig(&[
        "bundle",
        "--info",
        &sb.path().join("reads-file").display().to_string(),
    ]);
    assert!(
        info.stdout.contains("\"conf/app.ini\": 18 bytes"),
        "{info:?}"
    );
    assert!(!info.stdout.contains("unnamed.txt"), "{info:?}");
    for bundle in ["reads-file", "reads-vars"] {
        let status = std::process::Command::new(sb.path().join(bundle))
            .env_clear()
            .status()
            .unwrap();
        assert!(status.success(), "{bundle}: {status}");
    }
    assert_eq!(
        std::fs::read(out.join("app.ini")).unwrap(),
        b"[app]\nport = 8080\n"
    );
    let vars: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("vars.json")).unwrap()).unwrap();
    assert_eq!(vars, serde_json::json!({"port": 8080}));
}
