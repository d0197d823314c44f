//! The `git` module against real repositories the tests make: `git:cloned`
//! clones, moves between a tag and a branch, replaces a DEST cloned from
//! something else, and clones as another user; `git:pulled` fast-forwards;
//! `git:configured` sets keys. Each time `--check` predicts exactly what the
//! deploy then does, without changing anything, and the second deploy
//! changes nothing.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use consfig_tests::tree::listing;
use consfig_tests::{ACCOUNTS, Run, Sandbox, TestUser};

/// Run git in `dir`, which must succeed; its output.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.org"])
        .args(["-c", "init.defaultBranch=main", "-c", "safe.directory=*"])
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A repository at `dir` with a commit per message, the last on `main`.
fn repository(dir: &Path, messages: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q"]);
    for message in messages {
        commit(dir, message);
    }
    dir.to_owned()
}

fn commit(dir: &Path, message: &str) -> String {
    std::fs::write(dir.join("file"), message).unwrap();
    git(dir, &["add", "file"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// A world-readable scratch directory (a sandbox's is private to root), for
/// repositories another user clones.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn apply(sb: &Sandbox, check: bool, forms: &[String]) -> Run {
    let mut args = vec!["apply", "--json"];
    if check {
        args.push("--check");
    }
    args.push("local");
    args.extend(forms.iter().map(String::as_str));
    sb.consfig(&args)
}

/// Check, deploy, deploy again: the check changes nothing under `tree` and
/// predicts every status; the deploy changes something; the second deploy
/// nothing.
fn check_deploy_again(sb: &Sandbox, tree: &Path, forms: &[String]) {
    let before = listing(tree);
    let check = apply(sb, true, forms);
    assert_eq!(check.code, 23, "something would change: {check:?}");
    assert_eq!(
        listing(tree),
        before,
        "check mode changed {}",
        tree.display()
    );
    let first = apply(sb, false, forms);
    assert_eq!(first.code, 23, "{first:?}");
    assert_eq!(
        first.statuses_as_checked(),
        check.statuses_as_checked(),
        "the check predicted every status: {check:?} {first:?}"
    );
    let second = apply(sb, false, forms);
    assert_eq!(
        second.code, 0,
        "the second deploy changes nothing: {second:?}"
    );
    let check_again = apply(sb, true, forms);
    assert_eq!(check_again.code, 0, "nothing would change: {check_again:?}");
}

fn form(value: serde_json::Value) -> String {
    value.to_string()
}

#[test]
fn cloned_clones_moves_between_revisions_and_replaces_what_is_not_a_clone() {
    consfig_tests::warm::standard_modules();
    let sb = Sandbox::new();
    let dir = scratch();
    let src = repository(&dir.path().join("src"), &["one", "two"]);
    git(&src, &["tag", "v1", "HEAD~1"]);
    let v1 = git(&src, &["rev-parse", "v1"]);
    let main = git(&src, &["rev-parse", "main"]);
    let dest = dir.path().join("work/app");
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    let (src_s, dest_s) = (src.to_str().unwrap(), dest.to_str().unwrap());
    let head = || git(&dest, &["rev-parse", "HEAD"]);

    // A fresh clone at a tag.
    let at = |rev: &str| form(serde_json::json!(["git:cloned", src_s, dest_s, {"rev": rev}]));
    check_deploy_again(&sb, dest.parent().unwrap(), &[at("v1")]);
    assert_eq!(head(), v1);
    assert_eq!(git(&dest, &["config", "--get", "remote.origin.url"]), src_s);

    // Moved to a branch: fetched and checked out as that branch, tracking origin.
    check_deploy_again(&sb, dest.parent().unwrap(), &[at("main")]);
    assert_eq!(head(), main);
    assert_eq!(git(&dest, &["symbolic-ref", "HEAD"]), "refs/heads/main");
    assert_eq!(
        git(&dest, &["rev-parse", "--abbrev-ref", "@{u}"]),
        "origin/main"
    );

    // A new commit upstream: the branch moves to it; then to a commit by hash.
    let three = commit(&src, "three");
    check_deploy_again(&sb, dest.parent().unwrap(), &[at("main")]);
    assert_eq!(head(), three);
    check_deploy_again(&sb, dest.parent().unwrap(), &[at(&v1[..10])]);
    assert_eq!(head(), v1);

    // Without rev, an existing clone is left where it is.
    let plain = form(serde_json::json!(["git:cloned", src_s, dest_s]));
    let run = apply(&sb, false, std::slice::from_ref(&plain));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(head(), v1);

    // A clone of another repository at DEST is replaced.
    let other = repository(&dir.path().join("other"), &["other"]);
    let dest2 = dir.path().join("work2/app");
    std::fs::create_dir_all(&dest2).unwrap();
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            other.to_str().unwrap(),
            dest2.to_str().unwrap(),
        ],
    );
    std::fs::write(dest2.join("local-file"), "x").unwrap();
    let replace = form(serde_json::json!([
        "git:cloned",
        src_s,
        dest2.to_str().unwrap()
    ]));
    check_deploy_again(&sb, dest2.parent().unwrap(), &[replace]);
    assert_eq!(
        git(&dest2, &["config", "--get", "remote.origin.url"]),
        src_s
    );
    assert_eq!(git(&dest2, &["rev-parse", "HEAD"]), three);
    assert!(!dest2.join("local-file").exists());

    // A shallow clone of a branch.
    let dest3 = dir.path().join("work3/app");
    let shallow = form(serde_json::json!(
        ["git:cloned", format!("file://{src_s}"), dest3.to_str().unwrap(), {"rev": "main", "depth": 1}]
    ));
    std::fs::create_dir_all(dest3.parent().unwrap()).unwrap();
    check_deploy_again(&sb, dest3.parent().unwrap(), &[shallow]);
    assert_eq!(git(&dest3, &["rev-list", "--count", "HEAD"]), "1");
}

#[test]
fn pulled_fast_forwards_and_configured_sets_keys() {
    consfig_tests::warm::standard_modules();
    let sb = Sandbox::new();
    let dir = scratch();
    let src = repository(&dir.path().join("src"), &["one"]);
    let dest = dir.path().join("work/app");
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    git(
        dir.path(),
        &["clone", "-q", src.to_str().unwrap(), dest.to_str().unwrap()],
    );
    let two = commit(&src, "two");
    let pulled = form(serde_json::json!(["git:pulled", dest.to_str().unwrap()]));
    check_deploy_again(&sb, dest.parent().unwrap(), std::slice::from_ref(&pulled));
    assert_eq!(git(&dest, &["rev-parse", "HEAD"]), two);

    let configured = form(serde_json::json!(
        ["git:configured", dest.to_str().unwrap(), {"pull.rebase": "false", "user.name": "Ops Team"}]
    ));
    check_deploy_again(&sb, dest.parent().unwrap(), &[configured]);
    let config = std::fs::read_to_string(dest.join(".git/config")).unwrap();
    assert!(config.contains("\tname = Ops Team\n"), "{config}");
    assert!(config.contains("\trebase = false\n"), "{config}");
}

/// As another user: the subdeployment's queries run in check mode too,
/// in a read-only view made before the change of user.
#[test]
fn cloned_and_pulled_as_another_user() {
    let _accounts = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    let user = TestUser::create("consfig-git");
    let (uid, gid, home, _) = user.passwd();
    let dir = scratch();
    let src = repository(&dir.path().join("src"), &["one"]);
    // git refuses to read a repository its user does not own.
    let status = Command::new("chown")
        .args(["-R", &format!("{uid}:{gid}")])
        .arg(&src)
        .status()
        .unwrap();
    assert!(status.success());
    let dest = PathBuf::from(&home).join("app");
    consfig_tests::warm::standard_modules();
    let sb = Sandbox::new();
    let cloned = form(serde_json::json!(
        ["git:cloned", src.to_str().unwrap(), dest.to_str().unwrap(), {"user": user.name, "rev": "main"}]
    ));
    check_deploy_again(&sb, Path::new(&home), &[cloned]);
    for path in [dest.clone(), dest.join(".git/config"), dest.join("file")] {
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (uid, gid), "{}", path.display());
    }
    let two = commit(&src, "two");
    let pulled =
        form(serde_json::json!(["git:pulled", dest.to_str().unwrap(), {"user": user.name}]));
    check_deploy_again(&sb, Path::new(&home), &[pulled]);
    assert_eq!(git(&dest, &["rev-parse", "HEAD"]), two);
}

#[test]
fn urls_that_run_commands_and_options_are_refused() {
    consfig_tests::warm::standard_modules();
    let sb = Sandbox::new();
    let dir = scratch();
    let marker = dir.path().join("pwned");
    let dest = dir.path().join("app");
    for url in [
        format!("ext::sh -c touch% {}", marker.display()),
        format!("ext::touch% {}", marker.display()),
        format!("--upload-pack=touch {}", marker.display()),
    ] {
        let run = apply(
            &sb,
            false,
            &[form(serde_json::json!([
                "git:cloned",
                url,
                dest.to_str().unwrap()
            ]))],
        );
        assert_eq!(run.code, 22, "{run:?}");
        assert!(!marker.exists() && !dest.exists(), "{url}");
    }
    let rev = form(serde_json::json!(
        ["git:cloned", "/nonexistent", dest.to_str().unwrap(), {"rev": "--upload-pack=x"}]
    ));
    let run = apply(&sb, false, &[rev]);
    assert_eq!(run.code, 22, "{run:?}");
    assert!(
        run.stdout.contains("is not a branch, tag or commit name"),
        "{run:?}"
    );
}

/// git replaces a configuration file with one of its own user's: the
/// owner of a repository another user owns is given back its file.
#[test]
fn configured_keeps_the_owner_of_the_configuration_file() {
    consfig_tests::warm::standard_modules();
    let sb = Sandbox::new();
    let dir = scratch();
    let repo = repository(&dir.path().join("repo"), &["one"]);
    let status = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(&repo)
        .status()
        .unwrap();
    assert!(status.success());
    let configured = form(serde_json::json!(
        ["git:configured", repo.to_str().unwrap(), {"core.autocrlf": "false"}]
    ));
    check_deploy_again(&sb, &repo, &[configured]);
    let meta = std::fs::metadata(repo.join(".git/config")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
}
