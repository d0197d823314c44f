//! Subdeployments in chroots and as other users, through the fork control pipe,
//! with real chroots (busybox-static) and real users. These tests run as root.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use consfig_tests::{
    ACCOUNTS, Chroot, Sandbox, TESTING_GRANTS, TestGroup, TestUser, assert_logged_in,
    assert_untouched, identities, module, process_report, q,
};

fn modules() -> Vec<PathBuf> {
    ["file", "cmd", "chroot", "user", "testing"]
        .iter()
        .map(|m| module(m))
        .collect()
}

fn path(p: &std::path::Path) -> String {
    q(p.display().to_string())
}

#[test]
fn forms_in_a_chroot_write_inside_it_and_the_parent_stays_outside() {
    let sb = Sandbox::new();
    let chroot = Chroot::build(sb.path().join("c1"));
    let after = sb.path().join("after.txt");
    let forms = vec![
        format!(
            r#"["chroot:deploys", {}, [
                ["file:has-content", "/inside.txt", "in"],
                ["cmd:single", ["/bin/sh", "-c", "test -e /proc/self/status && id -u > /ran"], "/ran"]
            ]]"#,
            path(&chroot.root)
        ),
        format!(r#"["file:has-content", {}, "out"]"#, path(&after)),
    ];
    sb.write_consfig(&modules(), &forms, TESTING_GRANTS);
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 23, "{run:?}");

    assert_eq!(
        std::fs::read_to_string(chroot.outside("/inside.txt")).unwrap(),
        "in"
    );
    assert!(
        !std::path::Path::new("/inside.txt").exists(),
        "nothing escaped the chroot"
    );
    assert_eq!(
        std::fs::read_to_string(chroot.outside("/ran")).unwrap(),
        "0\n",
        "a command ran inside, with /proc mounted"
    );
    // The form after the subdeployment ran in the parent, which never entered the chroot.
    assert_eq!(std::fs::read_to_string(&after).unwrap(), "out");
    assert!(!chroot.outside(&after.display().to_string()).exists());
    // The mounts lived in a private namespace that is gone.
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&chroot.root.display().to_string()),
        "no mount left behind"
    );

    // Reported nested under the form that asked, counted once, as it.
    let forms = run.forms();
    let nested = forms[0]["nested"].as_array().unwrap();
    assert_eq!(nested.len(), 2);
    let context = format!("chroot:{}", chroot.root.display());
    for n in nested {
        assert_eq!(n["context"], context.as_str());
        assert_eq!(n["outcome"]["status"], "changed");
    }
    assert_eq!(
        run.event("summary")["changed"],
        2,
        "two forms, the nested ones part of the first"
    );

    let written = identities(&[
        &chroot.outside("/inside.txt"),
        &chroot.outside("/ran"),
        &after,
    ]);
    let again = sb.deploy(&[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.event("summary")["unchanged"], 2);
    assert_untouched(&written, "the second deploy");
}

#[test]
fn context_hops_in_the_connection_put_every_form_in_the_chroot() {
    let sb = Sandbox::new();
    let chroot = Chroot::build(sb.path().join("c1"));
    let text = format!(
        "modules = [{}]\n{TESTING_GRANTS}[hosts.jail]\nconnection = [\"local\", \"chroot:{}\"]\nproperties = [\n  [\"testing:observe\", \"/seen\"],\n]\n",
        modules()
            .iter()
            .map(|m| path(m))
            .collect::<Vec<_>>()
            .join(", "),
        chroot.root.display()
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
    let run = sb.consfig(&["deploy", "--json", "jail"]);
    assert_eq!(run.code, 23, "{run:?}");
    assert!(
        std::fs::read_to_string(chroot.outside("/seen"))
            .unwrap()
            .starts_with("uid=0 ")
    );
}

#[test]
fn forms_as_another_user_own_their_files_and_cannot_write_roots() {
    let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    let sb = Sandbox::new();
    let shared = sb.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    std::fs::set_permissions(
        sb.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();

    let user = TestUser::adopt("consfigt1");
    let owned = shared.join("owned");
    let observed = shared.join("observed");
    let root_only = sb.path().join("root-only");
    let after = sb.path().join("after-as-root");
    let forms = vec![
        r#"["user:exists", "consfigt1"]"#.to_owned(),
        format!(
            r#"["user:as", "consfigt1", [
                ["file:has-content", {}, "mine"],
                ["file:has-content", {}, "not allowed"],
                ["testing:observe", {}]
            ]]"#,
            path(&owned),
            path(&root_only),
            path(&observed)
        ),
        format!(r#"["file:has-content", {}, "root again"]"#, path(&after)),
    ];
    sb.write_consfig(&modules(), &forms, TESTING_GRANTS);
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 22, "one nested form fails: {run:?}");
    let uid = user.uid();

    assert_eq!(
        std::fs::metadata(&owned).unwrap().uid(),
        uid,
        "written as the user"
    );
    let seen = std::fs::read_to_string(&observed).unwrap();
    assert!(seen.starts_with(&format!("uid={uid} gid=")), "{seen}");
    assert!(seen.contains("user=consfigt1"), "{seen}");
    assert!(!root_only.exists());
    let forms = run.forms();
    let nested = forms[1]["nested"].as_array().unwrap();
    assert_eq!(nested[1]["outcome"]["status"], "failed");
    assert!(
        nested[1]["outcome"]["reason"]
            .as_str()
            .unwrap()
            .contains("Permission denied"),
        "{}",
        nested[1]
    );
    assert_eq!(
        nested[2]["outcome"]["status"], "changed",
        "later nested forms still run"
    );
    assert_eq!(
        forms[1]["status"], "failed",
        "the asking form fails with its subdeployment"
    );
    assert_eq!(forms[2]["status"], "changed");
    assert_eq!(
        std::fs::metadata(&after).unwrap().uid(),
        0,
        "the next form runs as root again"
    );
}

#[test]
fn contexts_nest_a_user_inside_a_chroot_and_a_chroot_inside_a_chroot() {
    let sb = Sandbox::new();
    let outer = Chroot::build(sb.path().join("outer"));
    outer.add_user("inner", 4242);
    let inner = Chroot::build(outer.outside("/c2"));
    let forms = vec![format!(
        r#"["chroot:deploys", {}, [
            ["user:as", "inner", [["testing:observe", "/tmp/as-inner"]]],
            ["chroot:deploys", "/c2", [["testing:observe", "/deepest"]]]
        ]]"#,
        path(&outer.root)
    )];
    sb.write_consfig(&modules(), &forms, TESTING_GRANTS);
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 23, "{run:?}");

    let as_inner = outer.outside("/tmp/as-inner");
    assert!(
        std::fs::read_to_string(&as_inner)
            .unwrap()
            .starts_with("uid=4242 gid=4242 user=inner")
    );
    assert_eq!(std::fs::metadata(&as_inner).unwrap().uid(), 4242);
    assert!(
        std::fs::read_to_string(inner.outside("/deepest"))
            .unwrap()
            .starts_with("uid=0 ")
    );
    assert!(
        !outer.outside("/deepest").exists(),
        "the innermost / is the inner chroot"
    );

    // Two levels of nesting in the report.
    let forms = run.forms();
    let level1 = forms[0]["nested"].as_array().unwrap();
    let level2 = level1[1]["outcome"]["nested"].as_array().unwrap();
    assert_eq!(level2[0]["context"], "chroot:/c2");
    assert_eq!(level2[0]["outcome"]["status"], "changed");
}

#[test]
fn every_subdeployment_sees_the_pristine_image() {
    let sb = Sandbox::new();
    let chroot = Chroot::build(sb.path().join("c1"));
    let forms = vec![
        r#"["testing:subdeploy-counter", [], 3]"#.to_owned(),
        format!(
            r#"["testing:subdeploy-counter", ["chroot:{}"], 2]"#,
            chroot.root.display()
        ),
    ];
    sb.write_consfig(&modules(), &forms, TESTING_GRANTS);
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 23, "{run:?}");
    for form in run.forms() {
        let nested = form["nested"].as_array().unwrap();
        assert!(!nested.is_empty());
        for n in nested {
            let output = n["outcome"]["output"].as_str().unwrap();
            assert!(
                output.contains("counter=1\n"),
                "the asker's counter never leaks in: {output}"
            );
        }
    }
}

#[test]
fn contexts_that_cannot_be_entered_fail_their_form_with_the_reason() {
    let sb = Sandbox::new();
    let marker = sb.path().join("still-runs");
    let forms = vec![
        r#"["chroot:deploys", "/no/such/dir", [["testing:counter"]]]"#.to_owned(),
        r#"["user:as", "no-such-user-here", [["testing:counter"]]]"#.to_owned(),
        r#"["user:as", "nobody", [["chroot:deploys", "/", [["testing:counter"]]]]]"#.to_owned(),
        format!(r#"["file:has-content", {}, "x"]"#, path(&marker)),
    ];
    sb.write_consfig(&modules(), &forms, TESTING_GRANTS);
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 22, "{run:?}");
    let forms = run.forms();
    let reason = |i: usize| forms[i]["reason"].as_str().unwrap_or_default().to_owned();
    assert!(
        reason(0).contains("chroot:/no/such/dir") && reason(0).contains("No such file"),
        "{}",
        reason(0)
    );
    assert!(reason(1).contains("no such user"), "{}", reason(1));
    let inner = &forms[2]["nested"][0]["outcome"]["reason"];
    assert!(
        inner.as_str().unwrap().contains("needs root"),
        "{}",
        forms[2]
    );
    assert_eq!(forms[3]["status"], "changed");
    assert!(marker.exists());
}

#[test]
fn a_bare_chroot_needs_no_proc_of_its_own() {
    let sb = Sandbox::new();
    let bare = sb.path().join("bare");
    std::fs::create_dir(&bare).unwrap();
    let forms = vec![format!(
        r#"["testing:subdeploy-counter", ["chroot-bare:{}"], 2]"#,
        bare.display()
    )];
    sb.write_consfig(&modules(), &forms, TESTING_GRANTS);
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 23, "{run:?}");
    let nested = run.forms()[0]["nested"].as_array().unwrap().clone();
    assert_eq!(nested.len(), 2);
    for n in nested {
        assert_eq!(n["outcome"]["status"], "changed", "{n}");
    }
}

/// Grants for `testing:process-report` as `user`: a subdeployment as that
/// user, and the one command the report runs (no write grant: a program
/// beneath one would be refused).
fn report_grants(user: &str) -> String {
    format!(
        "[module.testing]\ngrants = [\"subdeploy\", \"context:setuid:{user}\", \"command:/bin/sh -c *\", \"env:*\"]\n"
    )
}

/// The runtime's own environment in these tests, unlike any user's: a
/// context that keeps any of it shows.
fn runner_env() -> Vec<(&'static str, &'static std::path::Path)> {
    let p = std::path::Path::new;
    vec![
        (
            "PATH",
            p("/nonexistent/consfig-runner:/usr/sbin:/usr/bin:/sbin:/bin"),
        ),
        ("USER", p("consfig-runner")),
        ("LOGNAME", p("consfig-runner")),
        ("SHELL", p("/nonexistent/consfig-runner-shell")),
    ]
}

/// umask of the runtime in these tests: a user's context sets 0022.
const RUNNER_UMASK: u32 = 0o077;

#[test]
fn a_user_context_has_the_users_groups_and_login_environment_not_the_runtimes() {
    let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    let extra = TestGroup::create("consfigg2");
    let user = TestUser::create_with(
        "consfigt2",
        &["--shell", "/bin/sh", "--groups", "consfigg2"],
    );
    let sb = Sandbox::new();
    let forms = vec![
        r#"["testing:process-report"]"#.to_owned(),
        r#"["testing:subdeploy-forms", ["setuid:consfigt2"], [["testing:process-report"]]]"#
            .to_owned(),
        r#"["user:as", "consfigt2", [["testing:process-report"]]]"#.to_owned(),
    ];
    sb.write_consfig(&modules(), &forms, &report_grants("consfigt2"));
    let run = sb.consfig_with(
        &["deploy", "--json", "box"],
        &runner_env(),
        Some(RUNNER_UMASK),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let forms = run.forms();

    // The runtime's own, for contrast: root's groups, the runner's variables.
    let outer = process_report(forms[0]["output"].as_str().unwrap());
    assert_eq!(outer["uid"], "0", "{outer:?}");
    assert_eq!(outer["LOGNAME"], "consfig-runner", "{outer:?}");
    assert_eq!(outer["umask"], "0077", "{outer:?}");

    let (_, _, home, _) = user.passwd();
    for (i, how) in [(1, "a setuid: subdeployment"), (2, "user:as")] {
        let nested = &forms[i]["nested"][0];
        assert_eq!(nested["context"], "setuid:consfigt2", "{nested}");
        let report = process_report(nested["outcome"]["output"].as_str().unwrap());
        assert_logged_in(&report, &user, &[extra.gid()], how);
        assert_eq!(report["PATH"], "/usr/local/bin:/usr/bin:/bin", "{how}");
        assert_eq!(report["cwd"], home, "{how}: starts in the user's home");
    }
}

#[test]
fn a_user_hop_gives_every_form_the_users_groups_and_login_environment() {
    let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
    let extra = TestGroup::create("consfigg3");
    let user = TestUser::create_with(
        "consfigt3",
        &["--shell", "/bin/sh", "--groups", "consfigg3"],
    );
    let sb = Sandbox::new();
    let report = r#"[["testing:process-report"]]"#;
    let text = format!(
        "modules = [{}]\n[module.testing]\ngrants = [\"command:/bin/sh -c *\", \"env:*\"]\n\
         [hosts.setuid]\nconnection = [\"local\", \"setuid:consfigt3\"]\nproperties = {report}\n\
         [hosts.as]\nconnection = [\"local\", \"as:consfigt3\"]\nproperties = {report}\n",
        path(&module("testing")),
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
    for host in ["setuid", "as"] {
        let run = sb.consfig_with(
            &["deploy", "--json", host],
            &runner_env(),
            Some(RUNNER_UMASK),
        );
        assert_eq!(run.code, 0, "{run:?}");
        let report = process_report(run.forms()[0]["output"].as_str().unwrap());
        let how = format!("the hop of host {host}");
        assert_logged_in(&report, &user, &[extra.gid()], &how);
        assert_eq!(report["PATH"], "/usr/local/bin:/usr/bin:/bin", "{how}");
    }
}

#[test]
fn facts_and_owners_in_a_chroot_are_the_chroots_own() {
    let sb = Sandbox::new();
    let chroot = Chroot::build(sb.path().join("c1"));
    let etc =
        |file: &str, text: &str| std::fs::write(chroot.root.join("etc").join(file), text).unwrap();
    etc(
        "passwd",
        "root:x:0:0:root:/root:/bin/sh\nada:x:4242:4243:Ada:/home/ada:/bin/sh\n",
    );
    etc("group", "root:x:0:\nweb:x:4244:ada\n");
    etc(
        "os-release",
        "# a root of its own\nID=\"jailos\"\nVERSION_ID=1\n",
    );
    let owned = chroot.root.join("owned");
    std::fs::write(&owned, "x").unwrap();
    // Bare: no /proc inside to tell, only that the chroot was entered.
    let forms = vec![
        format!(
            r#"["testing:subdeploy-forms", [{}], [
                ["testing:facts"],
                ["testing:chown", "/owned", "ada", "web"],
                ["testing:owner", "/owned"]
            ]]"#,
            q(format!("chroot-bare:{}", chroot.root.display()))
        ),
        r#"["testing:facts"]"#.to_owned(),
    ];
    sb.write_consfig(&modules(), &forms, TESTING_GRANTS);
    let outputs = |run: &consfig_tests::Run| -> Vec<String> {
        let forms = run.forms();
        let nested = forms[0]["nested"].as_array().unwrap().clone();
        nested
            .iter()
            .map(|n| {
                n["outcome"]["output"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .chain([forms[1]["output"].as_str().unwrap_or_default().to_owned()])
            .collect()
    };
    let before = std::fs::metadata(&owned).unwrap();
    let check = sb.deploy(&["--check"]);
    let after_check = std::fs::metadata(&owned).unwrap();
    assert_eq!(
        (after_check.uid(), after_check.gid()),
        (before.uid(), before.gid())
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 23, "{run:?}");
    let seen = outputs(&run);
    assert_eq!(outputs(&check), seen, "check mode saw what the deploy did");
    assert_eq!(
        seen[0],
        "os: jailos\nroot: 0 /root\ngroup 0: root\nchroot: true\n"
    );
    assert_eq!(seen[2], "owner: 4242:4244\n");
    let meta = std::fs::metadata(&owned).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (4242, 4244),
        "the chroot's ada and web"
    );
    // The parent never entered it.
    let outside = std::fs::metadata("/").unwrap();
    let init_root = std::fs::metadata("/proc/1/root").ok();
    let chrooted = init_root.is_some_and(|i| (i.dev(), i.ino()) != (outside.dev(), outside.ino()));
    assert!(
        seen[3].ends_with(&format!("chroot: {chrooted}\n")),
        "{}",
        seen[3]
    );
    assert!(!seen[3].contains("jailos"), "{}", seen[3]);
}
