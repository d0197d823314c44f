//! The git module's properties against a FakeHost: scripted git commands.

use std::collections::BTreeMap;

use consfig_guest::prelude::*;
use consfig_guest::testing::FakeHost;

use crate::cloned::cloned;
use crate::configured::configured;
use crate::git::{GIT, SAFE};
use crate::pulled::pulled;

const URL: &str = "https://example.org/app.git";
const SHA1: &str = "1111111111111111111111111111111111111111";
const SHA2: &str = "2222222222222222222222222222222222222222";
const TAG: &str = "3333333333333333333333333333333333333333";

/// A git command line as the module runs it.
fn g(args: &[&str]) -> Vec<String> {
    let mut argv = vec![GIT.to_owned()];
    argv.extend(SAFE.iter().map(|s| (*s).to_owned()));
    argv.extend(args.iter().map(|s| (*s).to_owned()));
    argv
}

fn rm(path: &str) -> Vec<String> {
    ["/usr/bin/rm", "-rf", "--one-file-system", "--", path]
        .map(String::from)
        .to_vec()
}

use consfig_guest::testing::failure;

fn refs() -> String {
    format!(
        "{SHA1}\tHEAD\n{SHA1}\trefs/heads/main\n{SHA2}\trefs/heads/next\n\
         {SHA2}\trefs/tags/v1\n{TAG}\trefs/tags/v1^{{}}\n"
    )
}

fn clone_of_url() -> FakeHost {
    FakeHost::new()
        .dir("/srv/app/.git")
        .command(
            g(&[
                "-C",
                "/srv/app",
                "config",
                "--get",
                "--",
                "remote.origin.url",
            ]),
            0,
            format!("{URL}\n"),
        )
        .command(g(&["-C", "/srv/app", "ls-remote", "--", URL]), 0, refs())
}

fn rev_parse(rev: &str) -> Vec<String> {
    g(&[
        "-C",
        "/srv/app",
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        &format!("{rev}^{{commit}}"),
    ])
}

#[test]
fn cloned_clones_into_a_missing_dest_then_is_unchanged() {
    let host = FakeHost::new()
        .dir("/srv")
        .command(g(&["clone", "--", URL, "/srv/app"]), 0, "");
    assert_eq!(
        host.apply(|| cloned(URL.into(), "/srv/app".into(), None, None, None)),
        Ok(Change::Changed)
    );
    // What the clone made, for the second run.
    let host = host.dir("/srv/app/.git").command(
        g(&[
            "-C",
            "/srv/app",
            "config",
            "--get",
            "--",
            "remote.origin.url",
        ]),
        0,
        format!("{URL}\n"),
    );
    assert_eq!(
        host.apply(|| cloned(URL.into(), "/srv/app".into(), None, None, None)),
        Ok(Change::Unchanged)
    );
    assert!(host.commands_not_run().is_empty());
    assert_eq!(host.logged(), [format!("info: cloned {URL} into /srv/app")]);
}

#[test]
fn cloned_with_a_branch_and_depth_clones_that_branch_shallow() {
    let host = FakeHost::new().dir("/srv/app").command(
        g(&[
            "clone", "--depth", "1", "--branch", "next", "--", URL, "/srv/app",
        ]),
        0,
        "",
    );
    assert_eq!(
        host.apply(|| cloned(
            URL.into(),
            "/srv/app".into(),
            Some("next".into()),
            Some(1),
            None
        )),
        Ok(Change::Changed)
    );
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn cloned_with_a_commit_clones_then_checks_it_out() {
    let host = FakeHost::new()
        .command(g(&["clone", "--no-checkout", "--", URL, "/srv/app"]), 0, "")
        .command(
            g(&["-C", "/srv/app", "checkout", "--detach", "abc1234", "--"]),
            0,
            "",
        );
    assert_eq!(
        host.apply(|| cloned(
            URL.into(),
            "/srv/app".into(),
            Some("abc1234".into()),
            None,
            None
        )),
        Ok(Change::Changed)
    );
    assert!(host.commands_not_run().is_empty());
    // With depth, only a commit in full can be fetched.
    let host = FakeHost::new();
    assert_eq!(
        failure(host.apply(|| cloned(
            URL.into(),
            "/srv/app".into(),
            Some("abc1234".into()),
            Some(1),
            None
        ))),
        "rev \"abc1234\" is an abbreviated commit: with depth, give it in full"
    );
    let host = FakeHost::new()
        .command(
            g(&[
                "clone",
                "--depth",
                "2",
                "--no-checkout",
                "--",
                URL,
                "/srv/app",
            ]),
            0,
            "",
        )
        .command(
            g(&[
                "-C",
                "/srv/app",
                "fetch",
                "--depth",
                "2",
                "origin",
                "--",
                &"a".repeat(40),
            ]),
            0,
            "",
        )
        .command(
            g(&[
                "-C",
                "/srv/app",
                "checkout",
                "--detach",
                &"a".repeat(40),
                "--",
            ]),
            0,
            "",
        );
    assert_eq!(
        host.apply(|| cloned(
            URL.into(),
            "/srv/app".into(),
            Some("a".repeat(40)),
            Some(2),
            None
        )),
        Ok(Change::Changed)
    );
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn cloned_replaces_a_dest_that_is_not_a_clone_of_the_url() {
    let other = "https://example.org/other.git";
    let host = FakeHost::new()
        .dir("/srv/app/.git/objects")
        .file("/srv/app/README", "other\n")
        .command(
            g(&[
                "-C",
                "/srv/app",
                "config",
                "--get",
                "--",
                "remote.origin.url",
            ]),
            0,
            format!("{other}\n"),
        )
        .command(rm("/srv/app"), 0, "")
        .command(g(&["clone", "--", URL, "/srv/app"]), 0, "");
    assert_eq!(
        host.apply(|| cloned(URL.into(), "/srv/app".into(), None, None, None)),
        Ok(Change::Changed)
    );
    assert!(host.commands_not_run().is_empty());
    assert_eq!(
        host.logged()[0],
        format!("info: /srv/app is not a clone of {URL}: replacing it")
    );

    // A plain directory with files, and a file, are replaced too.
    let host = FakeHost::new()
        .file("/srv/app/index.html", "x")
        .file("/srv/file", "x")
        .command(rm("/srv/app"), 0, "")
        .command(rm("/srv/file"), 0, "")
        .command(g(&["clone", "--", URL, "/srv/app"]), 0, "")
        .command(g(&["clone", "--", URL, "/srv/file"]), 0, "");
    assert_eq!(
        host.apply(|| cloned(URL.into(), "/srv/app".into(), None, None, None)),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.apply(|| cloned(URL.into(), "/srv/file".into(), None, None, None)),
        Ok(Change::Changed)
    );
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn cloned_moves_an_existing_clone_to_a_branch() {
    let host = clone_of_url()
        .command(rev_parse("HEAD"), 0, format!("{SHA1}\n"))
        .command(
            g(&[
                "-C",
                "/srv/app",
                "fetch",
                "origin",
                "--",
                "+refs/heads/next:refs/remotes/origin/next",
            ]),
            0,
            "",
        )
        .command(
            g(&[
                "-C",
                "/srv/app",
                "checkout",
                "-B",
                "next",
                "refs/remotes/origin/next",
                "--",
            ]),
            0,
            "",
        );
    let next = || {
        cloned(
            URL.into(),
            "/srv/app".into(),
            Some("next".into()),
            None,
            None,
        )
    };
    assert_eq!(host.apply(next), Ok(Change::Changed));
    assert!(host.commands_not_run().is_empty());
    // At the branch's commit: nothing to do.
    let host = clone_of_url().command(rev_parse("HEAD"), 0, format!("{SHA2}\n"));
    assert_eq!(host.apply(next), Ok(Change::Unchanged));
    assert_eq!(host.commands_run().len(), 3);
}

#[test]
fn cloned_moves_an_existing_clone_to_a_tag_fetching_only_when_missing() {
    let v1 = || cloned(URL.into(), "/srv/app".into(), Some("v1".into()), None, None);
    let host = clone_of_url()
        .command(rev_parse("HEAD"), 0, format!("{SHA1}\n"))
        .command(rev_parse(TAG), 1, "")
        .command(
            g(&[
                "-C",
                "/srv/app",
                "fetch",
                "origin",
                "--",
                "+refs/tags/v1:refs/tags/v1",
            ]),
            0,
            "",
        )
        .command(
            g(&["-C", "/srv/app", "checkout", "--detach", TAG, "--"]),
            0,
            "",
        );
    assert_eq!(host.apply(v1), Ok(Change::Changed));
    assert!(host.commands_not_run().is_empty());
    let host = clone_of_url().command(rev_parse("HEAD"), 0, format!("{TAG}\n"));
    assert_eq!(host.apply(v1), Ok(Change::Unchanged));
}

#[test]
fn cloned_moves_to_a_commit_it_has_without_fetching() {
    let at = |rev: &str| {
        let rev = rev.to_owned();
        move || cloned(URL.into(), "/srv/app".into(), Some(rev), None, None)
    };
    let host = clone_of_url()
        .command(rev_parse("HEAD"), 0, format!("{SHA2}\n"))
        .command(rev_parse("1111111"), 0, format!("{SHA1}\n"))
        .command(
            g(&["-C", "/srv/app", "checkout", "--detach", "1111111", "--"]),
            0,
            "",
        );
    assert_eq!(host.apply(at("1111111")), Ok(Change::Changed));
    assert!(host.commands_not_run().is_empty());
    let host = clone_of_url()
        .command(rev_parse("HEAD"), 0, format!("{SHA1}\n"))
        .command(rev_parse("1111111"), 0, format!("{SHA1}\n"));
    assert_eq!(host.apply(at("1111111")), Ok(Change::Unchanged));
    // A commit it lacks is fetched: in full by itself, abbreviated with
    // every branch.
    let host = clone_of_url()
        .command(rev_parse("HEAD"), 0, format!("{SHA1}\n"))
        .command(rev_parse("abcdef0"), 1, "")
        .command(
            g(&[
                "-C",
                "/srv/app",
                "fetch",
                "origin",
                "--",
                "+refs/heads/*:refs/remotes/origin/*",
            ]),
            0,
            "",
        )
        .command(
            g(&["-C", "/srv/app", "checkout", "--detach", "abcdef0", "--"]),
            0,
            "",
        );
    assert_eq!(host.apply(at("abcdef0")), Ok(Change::Changed));
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn cloned_fails_for_a_rev_the_remote_lacks() {
    let host = clone_of_url();
    assert_eq!(
        failure(host.apply(|| cloned(
            URL.into(),
            "/srv/app".into(),
            Some("nope".into()),
            None,
            None
        ))),
        format!("{URL} has no branch or tag \"nope\"")
    );
}

#[test]
fn cloned_in_check_mode_runs_queries_and_skips_changes() {
    let host = clone_of_url()
        .check_mode()
        .command(rev_parse("HEAD"), 0, format!("{SHA1}\n"));
    assert_eq!(
        host.apply(|| cloned(
            URL.into(),
            "/srv/app".into(),
            Some("next".into()),
            None,
            None
        )),
        Ok(Change::Changed)
    );
    assert_eq!(host.commands_run().len(), 3);
    assert_eq!(host.commands_skipped().len(), 2);

    // A fresh clone asks the remote nothing: a check needs no network.
    let host = FakeHost::new().check_mode();
    assert_eq!(
        host.apply(|| cloned(URL.into(), "/srv/new".into(), Some("v1".into()), None, None)),
        Ok(Change::Changed)
    );
    assert!(host.commands_run().is_empty());
    assert_eq!(
        host.commands_skipped(),
        [g(&["clone", "--branch", "v1", "--", URL, "/srv/new"])]
    );

    let host = FakeHost::new().check_mode().file("/srv/other/x", "x");
    assert_eq!(
        host.apply(|| cloned(URL.into(), "/srv/other".into(), None, None, None)),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.commands_skipped(),
        [rm("/srv/other"), g(&["clone", "--", URL, "/srv/other"])]
    );
}

#[test]
fn cloned_as_a_user_is_a_subdeployment_without_the_user() {
    let host = FakeHost::new().subdeploy([Context::setuid("deploy")], Change::Changed);
    assert_eq!(
        host.apply(|| cloned(
            URL.into(),
            "/srv/app".into(),
            Some("main".into()),
            Some(5),
            Some("deploy".into())
        )),
        Ok(Change::Changed)
    );
    let subs = host.subdeployments();
    assert_eq!(subs[0].contexts, [Context::setuid("deploy")]);
    assert_eq!(
        subs[0].forms[0].to_string(),
        format!(r#"["git:cloned","{URL}","/srv/app",{{"depth":5,"rev":"main"}}]"#)
    );
    assert!(host.commands_run().is_empty());
}

#[test]
fn cloned_refuses_option_like_and_dangerous_arguments_before_any_command() {
    // Nothing is scripted: a command would fail the test.
    let host = FakeHost::new();
    let try_clone = |url: &str, dest: &str, rev: Option<&str>, user: Option<&str>| {
        host.apply(|| {
            cloned(
                url.into(),
                dest.into(),
                rev.map(Into::into),
                None,
                user.map(Into::into),
            )
        })
    };
    assert!(
        failure(try_clone("--upload-pack=touch /x", "/srv/app", None, None))
            .contains("starts with `-`")
    );
    assert!(
        failure(try_clone("ext::sh -c id", "/srv/app", None, None)).contains("contains whitespace")
    );
    assert!(failure(try_clone("ext::sh", "/srv/app", None, None)).contains("`ext::`"));
    assert!(failure(try_clone(URL, "-C", None, None)).contains("the DEST \"-C\""));
    assert!(failure(try_clone(URL, "/srv/../etc", None, None)).contains("the DEST"));
    assert!(failure(try_clone(URL, "/", None, None)).contains("the DEST"));
    assert!(failure(try_clone(URL, "/srv/app", Some("--orphan"), None)).contains("the rev"));
    assert!(failure(try_clone(URL, "/srv/app", Some("main..x"), None)).contains("the rev"));
    assert!(failure(try_clone(URL, "/srv/app", None, Some("-r"))).contains("the user"));
    assert_eq!(
        failure(host.apply(|| cloned(URL.into(), "/srv/app".into(), None, Some(0), None))),
        "depth must be at least 1"
    );
    assert!(host.commands_run().is_empty());
    assert!(host.subdeployments().is_empty());
}

fn upstream() -> FakeHost {
    FakeHost::new()
        .dir("/srv/app/.git")
        .command(
            g(&["-C", "/srv/app", "symbolic-ref", "--quiet", "HEAD"]),
            0,
            "refs/heads/main\n",
        )
        .command(
            g(&[
                "-C",
                "/srv/app",
                "config",
                "--get",
                "--",
                "branch.main.remote",
            ]),
            0,
            "origin\n",
        )
        .command(
            g(&[
                "-C",
                "/srv/app",
                "config",
                "--get",
                "--",
                "branch.main.merge",
            ]),
            0,
            "refs/heads/main\n",
        )
        .command(
            g(&[
                "-C",
                "/srv/app",
                "ls-remote",
                "--",
                "origin",
                "refs/heads/main",
            ]),
            0,
            format!("{SHA2}\trefs/heads/main\n"),
        )
}

fn is_ancestor(sha: &str) -> Vec<String> {
    g(&["-C", "/srv/app", "merge-base", "--is-ancestor", sha, "HEAD"])
}

#[test]
fn pulled_fetches_and_fast_forwards_when_behind() {
    let host = upstream()
        .command(rev_parse(SHA2), 1, "")
        .command(
            g(&["-C", "/srv/app", "fetch", "--", "origin", "refs/heads/main"]),
            0,
            "",
        )
        .command(
            g(&["-C", "/srv/app", "merge", "--ff-only", SHA2]),
            0,
            "Fast-forward\n",
        );
    assert_eq!(
        host.apply(|| pulled("/srv/app".into(), None)),
        Ok(Change::Changed)
    );
    assert!(host.commands_not_run().is_empty());
    // The upstream's commit fetched but not merged: still behind.
    let host = upstream()
        .command(rev_parse(SHA2), 0, format!("{SHA2}\n"))
        .command(is_ancestor(SHA2), 1, "")
        .command(
            g(&[
                "-C",
                "/srv/app",
                "merge-base",
                "--is-ancestor",
                "HEAD",
                SHA2,
            ]),
            0,
            "",
        )
        .command(
            g(&["-C", "/srv/app", "fetch", "--", "origin", "refs/heads/main"]),
            0,
            "",
        )
        .command(g(&["-C", "/srv/app", "merge", "--ff-only", SHA2]), 0, "");
    assert_eq!(
        host.apply(|| pulled("/srv/app".into(), None)),
        Ok(Change::Changed)
    );
}

#[test]
fn pulled_fails_before_fetching_when_the_branch_has_diverged() {
    let host = upstream()
        .command(rev_parse(SHA2), 0, format!("{SHA2}\n"))
        .command(is_ancestor(SHA2), 1, "")
        .command(
            g(&[
                "-C",
                "/srv/app",
                "merge-base",
                "--is-ancestor",
                "HEAD",
                SHA2,
            ]),
            1,
            "",
        );
    assert_eq!(
        failure(host.apply(|| pulled("/srv/app".into(), None))),
        "main of /srv/app has diverged from origin refs/heads/main: not fast-forwarding it"
    );
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn pulled_is_unchanged_when_head_has_the_upstream() {
    let host = upstream()
        .command(rev_parse(SHA2), 0, format!("{SHA2}\n"))
        .command(is_ancestor(SHA2), 0, "");
    assert_eq!(
        host.apply(|| pulled("/srv/app".into(), None)),
        Ok(Change::Unchanged)
    );
    assert!(host.commands_not_run().is_empty());
}

#[test]
fn pulled_in_check_mode_predicts_from_queries() {
    let host = upstream().check_mode().command(rev_parse(SHA2), 1, "");
    assert_eq!(
        host.apply(|| pulled("/srv/app".into(), None)),
        Ok(Change::Changed)
    );
    assert_eq!(host.commands_skipped().len(), 2);
}

#[test]
fn pulled_needs_a_working_copy_with_an_upstream() {
    let host = FakeHost::new();
    assert_eq!(
        failure(host.apply(|| pulled("/srv/app".into(), None))),
        "/srv/app is not a git working copy (it has no .git)"
    );
    let host = FakeHost::new()
        .dir("/srv/app/.git")
        .command(
            g(&["-C", "/srv/app", "symbolic-ref", "--quiet", "HEAD"]),
            0,
            "refs/heads/main\n",
        )
        .command(
            g(&[
                "-C",
                "/srv/app",
                "config",
                "--get",
                "--",
                "branch.main.remote",
            ]),
            1,
            "",
        );
    assert_eq!(
        failure(host.apply(|| pulled("/srv/app".into(), None))),
        "the branch main of /srv/app has no upstream"
    );
    assert!(failure(host.apply(|| pulled("--help".into(), None))).contains("the DEST"));
    let host = FakeHost::new().subdeploy([Context::setuid("deploy")], Change::Unchanged);
    assert_eq!(
        host.apply(|| pulled("/srv/app".into(), Some("deploy".into()))),
        Ok(Change::Unchanged)
    );
    assert_eq!(
        host.subdeployments()[0].forms[0].to_string(),
        r#"["git:pulled","/srv/app"]"#
    );
}

fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn configured_sets_only_keys_that_differ_and_keeps_the_owner() {
    let file = "/srv/app/.git/config";
    let host = FakeHost::new()
        .user("deploy", 1000, 1000)
        .group("deploy", 1000, Vec::<String>::new())
        .file(file, "[core]\n")
        .owner(file, 1000, 1000)
        .command(
            g(&["config", "--file", file, "--get-all", "--", "pull.rebase"]),
            0,
            "false\n",
        )
        .command(
            g(&["config", "--file", file, "--get-all", "--", "user.email"]),
            1,
            "",
        )
        .command(
            g(&[
                "config",
                "--file",
                file,
                "--replace-all",
                "--",
                "user.email",
                "ops@example.org",
            ]),
            0,
            "",
        )
        .command(["/usr/bin/chown", "1000:1000", "--", file], 0, "");
    let wanted = settings(&[("pull.rebase", "false"), ("user.email", "ops@example.org")]);
    assert_eq!(
        host.apply(|| configured("/srv/app".into(), wanted.clone())),
        Ok(Change::Changed)
    );
    assert!(host.commands_not_run().is_empty());

    // Several values of a key are replaced by the one.
    let host = FakeHost::new()
        .file("/srv/bare.git/HEAD", "ref: refs/heads/main\n")
        .file("/srv/bare.git/config", "")
        .command(
            g(&[
                "config",
                "--file",
                "/srv/bare.git/config",
                "--get-all",
                "--",
                "remote.origin.fetch",
            ]),
            0,
            "a\nb\n",
        )
        .command(
            g(&[
                "config",
                "--file",
                "/srv/bare.git/config",
                "--replace-all",
                "--",
                "remote.origin.fetch",
                "b",
            ]),
            0,
            "",
        );
    assert_eq!(
        host.apply(|| configured(
            "/srv/bare.git".into(),
            settings(&[("remote.origin.fetch", "b")])
        )),
        Ok(Change::Changed)
    );
}

#[test]
fn configured_is_unchanged_when_every_value_is_set_and_check_mode_skips_setting() {
    let file = "/srv/app/.git/config";
    let host = FakeHost::new().dir("/srv/app/.git").file(file, "").command(
        g(&["config", "--file", file, "--get-all", "--", "core.filemode"]),
        0,
        "true\n",
    );
    assert_eq!(
        host.apply(|| configured("/srv/app".into(), settings(&[("core.filemode", "true")]))),
        Ok(Change::Unchanged)
    );
    let host = host.check_mode();
    assert_eq!(
        host.apply(|| configured("/srv/app".into(), settings(&[("core.filemode", "false")]))),
        Ok(Change::Changed)
    );
    assert_eq!(
        host.commands_skipped(),
        [g(&[
            "config",
            "--file",
            file,
            "--replace-all",
            "--",
            "core.filemode",
            "false"
        ])]
    );
}

#[test]
fn configured_refuses_bad_keys_values_and_repositories() {
    let host = FakeHost::new().dir("/srv/app/.git");
    let set = |key: &str, value: &str| {
        host.apply(|| configured("/srv/app".into(), settings(&[(key, value)])))
    };
    for key in [
        "-c",
        "--add",
        "core",
        "core.",
        ".x",
        "a b.c",
        "core.file mode",
        "x.y\n.z",
    ] {
        assert!(
            failure(set(key, "v")).contains("is not section.name"),
            "{key:?}"
        );
    }
    assert!(failure(set("core.filemode", "a\nb")).contains("is not one line"));
    assert!(host.commands_run().is_empty());
    assert_eq!(
        failure(host.apply(|| configured("/srv/none".into(), settings(&[("a.b", "c")])))),
        "/srv/none is not a git repository"
    );
    // Subsections may hold what the section and name may not.
    for key in ["remote.origin.url", "branch.feature/x y.remote", "a-b.c"] {
        super::configured::check_key(key).unwrap();
    }
}
