//! The file calls against a module written to misbehave (`testing`, which
//! gets only what the consfig grants): read-file, write-file, stat, remove,
//! mkdir and chmod under no grant, a `read:` grant and a `write:` grant
//! elsewhere, each refused with its exact message and the tree (contents and
//! modes) unchanged, in check mode too; set-id bits without a `setid:`
//! grant; a hard link out of a grant; a granted directory that is a symlink;
//! and WASI's own files and environment, which a module never gets. The
//! calls on links, owners, listings and renames (symlink, readlink, chown,
//! list-dir, rename) are held to their grants the same way: link targets,
//! hard links, `..` and symlinks out of a grant.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use consfig_tests::{Run, Sandbox, Testing, q, snapshot};

/// The language of the `testing` module these tests run against:
/// tests/hostile_python.rs includes this file and sets its own.
#[allow(dead_code)]
const TESTING: Testing = Testing::Rust;

fn module(name: &str) -> std::path::PathBuf {
    crate::TESTING.module(name)
}

/// Every path under `root` with its mode and contents (None for a
/// directory): contents as `snapshot` has them, and the modes it leaves out.
fn state(root: &Path) -> Vec<(PathBuf, u32, Option<Vec<u8>>)> {
    snapshot(root)
        .into_iter()
        .map(|(path, contents)| {
            let mode = std::fs::symlink_metadata(&path).unwrap().mode() & 0o7777;
            (path, mode, contents)
        })
        .collect()
}

/// A form's status and reason.
type Outcome = (String, Option<String>);

/// Each form's status and reason, in order.
fn outcomes(run: &Run) -> Vec<Outcome> {
    run.forms()
        .iter()
        .map(|f| {
            (
                f["status"].as_str().unwrap().to_owned(),
                f["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

/// `[module.testing]` with these grants.
fn granting(grants: &[String]) -> String {
    let grants: Vec<String> = grants.iter().map(q).collect();
    format!("[module.testing]\ngrants = [{}]\n", grants.join(", "))
}

fn failed(reason: String) -> Outcome {
    ("failed".to_owned(), Some(reason))
}

fn done(status: &str) -> Outcome {
    (status.to_owned(), None)
}

/// The refusal of `call` on `path` for lack of `kind:path`.
fn no_grant(call: &str, path: &Path, kind: &str) -> String {
    format!(
        "denied: module testing may not {call} {p}: it has no grant {kind}:{p}",
        p = path.display()
    )
}

/// A form calling `testing:NAME` with these arguments (JSON).
fn form(name: &str, args: &[String]) -> String {
    let mut all = vec![q(format!("testing:{name}"))];
    all.extend(args.iter().cloned());
    format!("[{}]", all.join(", "))
}

/// One form per file call on `dir/f` (a file), `dir/sub` (a directory)
/// and `dir/new` (nothing yet), with the grant kind each needs.
fn every_call(dir: &Path) -> Vec<(String, &'static str, PathBuf, &'static str)> {
    let (f, sub, new) = (dir.join("f"), dir.join("sub"), dir.join("new"));
    let p = |path: &Path| q(text(path));
    vec![
        (form("read", &[p(&f)]), "read-file", f.clone(), "read"),
        (form("stat", &[p(&f)]), "stat", f.clone(), "read"),
        (
            form("write", &[p(&new), q("x")]),
            "write-file",
            new.clone(),
            "write",
        ),
        (
            form("write", &[p(&f), q("x")]),
            "write-file",
            f.clone(),
            "write",
        ),
        (form("remove", &[p(&f)]), "remove", f.clone(), "write"),
        (
            form("remove", &[p(&sub.join("g"))]),
            "remove",
            sub.join("g"),
            "write",
        ),
        (
            form("mkdir", &[p(&new), "493".into()]),
            "mkdir",
            new.clone(),
            "write",
        ),
        (
            form("chmod", &[p(&f), "511".into()]),
            "chmod",
            f.clone(),
            "write",
        ),
        (
            form("chmod", &[p(&sub), "511".into()]),
            "chmod",
            sub.clone(),
            "write",
        ),
    ]
}

/// A directory `name` with a file `f` (0644), a directory `sub` (0755)
/// holding a file `g` (0600).
fn tree(sb: &Sandbox, name: &str) -> PathBuf {
    let dir = sb.path().join(name);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("f"), "hi\n").unwrap();
    std::fs::write(dir.join("sub/g"), "g\n").unwrap();
    let set = |p: PathBuf, mode| std::fs::set_permissions(p, PermissionsExt::from_mode(mode));
    set(dir.join("f"), 0o644).unwrap();
    set(dir.join("sub"), 0o755).unwrap();
    set(dir.join("sub/g"), 0o600).unwrap();
    dir
}

#[test]
fn every_file_call_is_refused_without_its_grant() {
    let sb = Sandbox::new();
    let dir = tree(&sb, "dir");
    let calls = every_call(&dir);
    let forms: Vec<String> = calls.iter().map(|(f, ..)| f.clone()).collect();
    let all_refused = |grant_kind: fn(&str) -> &str| -> Vec<_> {
        calls
            .iter()
            .map(|(_, call, path, kind)| failed(no_grant(call, path, grant_kind(kind))))
            .collect()
    };
    let cases: Vec<(&str, Vec<String>, Vec<Outcome>)> = vec![
        ("no grant", vec![], all_refused(|kind| kind)),
        (
            "read:DIR",
            vec![format!("read:{}", dir.display())],
            calls
                .iter()
                .map(|(_, call, path, kind)| match *kind {
                    "read" => done("unchanged"),
                    _ => failed(no_grant(call, path, "write")),
                })
                .collect(),
        ),
        (
            // Set-id bits there, which allow no file call by themselves.
            "setid:DIR",
            vec![format!("setid:{}", dir.display())],
            all_refused(|kind| kind),
        ),
        (
            // A write grant beside the paths, and one whose name starts
            // as theirs does (grants match whole components).
            "write:OTHER",
            vec![
                format!("write:{}", sb.path().join("other").display()),
                format!("write:{}f", dir.display()),
            ],
            all_refused(|kind| kind),
        ),
    ];
    let before = state(&dir);
    for (name, grants, expected) in cases {
        sb.write_consfig(&[module("testing")], &forms, &granting(&grants));
        for args in [&["--check"][..], &[]] {
            let run = sb.deploy(args);
            assert_eq!(outcomes(&run), expected, "{name} {args:?}: {run:?}");
            assert_eq!(state(&dir), before, "{name} {args:?}: nothing changed");
        }
    }
    // What the read grant allowed did run: stat saw the file.
    sb.write_consfig(
        &[module("testing")],
        &forms[1..2],
        &granting(&[format!("read:{}", dir.display())]),
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.forms()[0]["output"], "stat: file 644 3\n", "{run:?}");
}

#[test]
fn a_write_grant_allows_every_file_call_beneath_it() {
    // The other side of the refusals: the same calls, granted, all act.
    let sb = Sandbox::new();
    let dir = tree(&sb, "dir");
    let forms: Vec<String> = every_call(&dir).into_iter().map(|(f, ..)| f).collect();
    sb.write_consfig(
        &[module("testing")],
        &forms,
        &granting(&[format!("write:{}", dir.display())]),
    );
    let run = sb.deploy(&[]);
    let statuses = [
        "unchanged",
        "unchanged",
        "changed",
        "changed",
        "changed",
        "changed",
        // The file `new` written before: mkdir finds it there.
        "failed",
        // The file `f` removed before.
        "failed",
        "changed",
    ];
    assert_eq!(run.statuses(), statuses, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("new")).unwrap(),
        "x",
        "{run:?}"
    );
    assert!(!dir.join("f").exists() && !dir.join("sub/g").exists());
    let sub = std::fs::metadata(dir.join("sub")).unwrap().mode() & 0o7777;
    assert_eq!(sub, 0o777);
}

#[test]
fn set_id_bits_need_a_setid_grant() {
    let sb = Sandbox::new();
    let dir = tree(&sb, "dir");
    let suid = dir.join("suid");
    std::fs::write(&suid, "old\n").unwrap();
    std::fs::set_permissions(&suid, PermissionsExt::from_mode(0o4755)).unwrap();
    std::fs::create_dir(dir.join("bin")).unwrap();
    let p = |path: &Path| q(text(path));
    let (new, f, sub, d) = (
        dir.join("new"),
        dir.join("f"),
        dir.join("sub"),
        dir.join("d"),
    );
    let forms = vec![
        form("write-mode", &[p(&new), q("x"), format!("{}", 0o4755)]),
        form("write-mode", &[p(&new), q("x"), format!("{}", 0o2711)]),
        form("write-mode", &[p(&new), q("x"), format!("{}", 0o6777)]),
        form("write", &[p(&suid), q("new\n")]),
        form("chmod", &[p(&f), format!("{}", 0o4755)]),
        form("chmod", &[p(&sub), format!("{}", 0o2755)]),
        form("mkdir", &[p(&d), format!("{}", 0o2755)]),
        // File-type bits are no mode.
        form("chmod", &[p(&f), format!("{}", 0o104644)]),
    ];
    let refusal = |call: &str, path: &Path, how: &str| {
        failed(format!(
            "denied: module testing may not {call} {p} {how}: it has no grant setid:{p}",
            p = path.display()
        ))
    };
    let expected = vec![
        refusal("write-file", &new, "with mode 04755"),
        refusal("write-file", &new, "with mode 02711"),
        refusal("write-file", &new, "with mode 06777"),
        refusal("write-file", &suid, "keeping its mode 04755"),
        refusal("chmod", &f, "to mode 04755"),
        refusal("chmod", &sub, "to mode 02755"),
        refusal("mkdir", &d, "with mode 02755"),
        failed(format!(
            "chmod {}: 0o104644 is not a file mode: the most is 0o7777",
            f.display()
        )),
    ];
    // Granted every other file call, and set-id bits elsewhere.
    let grants = [
        format!("write:{}", dir.display()),
        format!("setid:{}", dir.join("bin").display()),
    ];
    sb.write_consfig(&[module("testing")], &forms, &granting(&grants));
    let before = state(&dir);
    for args in [&["--check"][..], &[]] {
        let run = sb.deploy(args);
        assert_eq!(outcomes(&run), expected, "{args:?}: {run:?}");
        assert_eq!(state(&dir), before, "{args:?}: nothing changed");
    }

    // Beneath the setid grant they are set, exactly; a mode without them,
    // and the sticky bit, need no such grant.
    let tool = dir.join("bin/tool");
    let allowed = vec![
        form("write-mode", &[p(&tool), q("x"), format!("{}", 0o4755)]),
        form("write-mode", &[p(&suid), q("new\n"), format!("{}", 0o755)]),
        form("mkdir", &[p(&d), format!("{}", 0o1777)]),
    ];
    sb.write_consfig(&[module("testing")], &allowed, &granting(&grants));
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["changed"; 3], "{run:?}");
    let mode = |path: &Path| std::fs::metadata(path).unwrap().mode() & 0o7777;
    assert_eq!(mode(&tool), 0o4755);
    assert_eq!(mode(&suid), 0o755);
    assert_eq!(std::fs::read_to_string(&suid).unwrap(), "new\n");
    assert_eq!(mode(&d) & 0o1000, 0o1000, "sticky");
    let set_id: Vec<PathBuf> = state(&dir)
        .into_iter()
        .filter(|(_, mode, _)| mode & 0o6000 != 0)
        .map(|(path, ..)| path)
        .collect();
    assert_eq!(set_id, [tool], "set-id only where granted");
}

#[test]
fn a_hard_link_never_carries_a_mode_change_out_of_the_grant() {
    let sb = Sandbox::new();
    let dir = tree(&sb, "dir");
    let outside = sb.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let secret = outside.join("secret");
    std::fs::write(&secret, "keep\n").unwrap();
    std::fs::set_permissions(&secret, PermissionsExt::from_mode(0o600)).unwrap();
    let link = dir.join("link");
    std::fs::hard_link(&secret, &link).unwrap();
    let p = |path: &Path| q(text(path));
    let forms = vec![
        form("chmod", &[p(&link), format!("{}", 0o644)]),
        // Writing replaces the name with a new file, whose mode is its own.
        form("write", &[p(&link), q("new\n")]),
        form("chmod", &[p(&link), format!("{}", 0o640)]),
    ];
    sb.write_consfig(
        &[module("testing")],
        &forms,
        &granting(&[format!("write:{}", dir.display())]),
    );
    let refused = failed(format!(
        "chmod {}: denied: the file has 2 names (hard links), which may lie outside the grant and would change with it: its mode is never changed through one of them (remove the other links, or write the file anew)",
        link.display()
    ));
    let before = state(&outside);
    for (args, changed) in [(&["--check"][..], "would-change"), (&[], "changed")] {
        let expected = vec![refused.clone(), done(changed), done(changed)];
        let run = sb.deploy(args);
        assert_eq!(outcomes(&run), expected, "{args:?}: {run:?}");
        assert_eq!(state(&outside), before, "{args:?}: the outside unchanged");
    }
    assert_eq!(std::fs::read_to_string(&link).unwrap(), "new\n");
    let meta = std::fs::metadata(&link).unwrap();
    assert_eq!((meta.mode() & 0o7777, meta.nlink()), (0o640, 1));
    assert_eq!(std::fs::metadata(&secret).unwrap().nlink(), 1);
}

#[test]
fn a_granted_directory_that_is_a_symlink_is_not_followed() {
    let sb = Sandbox::new();
    let outside = tree(&sb, "outside");
    std::fs::create_dir(sb.path().join("x")).unwrap();
    let granted = sb.path().join("x/granted");
    std::os::unix::fs::symlink(&outside, &granted).unwrap();
    let calls = every_call(&granted);
    let forms: Vec<String> = calls.iter().map(|(f, ..)| f.clone()).collect();
    sb.write_consfig(
        &[module("testing")],
        &forms,
        &granting(&[format!("write:{}", granted.display())]),
    );
    let expected: Vec<_> = calls
        .iter()
        .map(|(_, call, path, _)| {
            failed(format!(
                "{call} {}: denied: the granted directory {g} is reached through the symlink {g} (to {}), and grants are never followed through symlinks: grant the directory it leads to instead",
                path.display(),
                outside.display(),
                g = granted.display(),
            ))
        })
        .collect();
    let before = state(&outside);
    for args in [&["--check"][..], &[]] {
        let run = sb.deploy(args);
        assert_eq!(outcomes(&run), expected, "{args:?}: {run:?}");
        assert_eq!(state(&outside), before, "{args:?}: the outside unchanged");
    }
}

#[test]
fn a_granted_directory_not_there_is_made_as_itself_and_never_above() {
    let sb = Sandbox::new();
    std::fs::create_dir(sb.path().join("x")).unwrap();
    let granted = sb.path().join("x/granted");
    let orphan = sb.path().join("y/granted");
    let p = |path: &Path| q(text(path));
    let forms = [
        form("stat", &[p(&granted.join("f"))]),
        form("write", &[p(&granted.join("f")), q("x")]),
        form("mkdir", &[p(&granted.join("sub/deeper")), "493".into()]),
        form("write", &[p(&granted.join("sub/deeper/f")), q("x")]),
        form("stat", &[p(&granted.join("sub/deeper/f"))]),
        form("mkdir", &[p(&orphan.join("sub")), "493".into()]),
    ];
    sb.write_consfig(
        &[module("testing")],
        &forms,
        &granting(&[
            format!("write:{}", granted.display()),
            format!("write:{}", orphan.display()),
        ]),
    );
    let no_such = |call: &str, path: &Path| {
        failed(format!(
            "{call} {}: No such file or directory (os error 2)",
            path.display()
        ))
    };
    let expected = |changed: &str| {
        vec![
            done("unchanged"),
            no_such("write-file", &granted.join("f")),
            done(changed),
            done(changed),
            done("unchanged"),
            no_such("mkdir", &orphan.join("sub")),
        ]
    };
    let check = sb.deploy(&["--check"]);
    assert_eq!(outcomes(&check), expected("would-change"), "{check:?}");
    assert!(!granted.exists(), "check mode made nothing");
    let run = sb.deploy(&[]);
    assert_eq!(outcomes(&run), expected("changed"), "{run:?}");
    assert_eq!(std::fs::read(granted.join("sub/deeper/f")).unwrap(), b"x");
    assert!(
        !sb.path().join("y").exists(),
        "nothing is made above a granted directory"
    );
    // What the module saw of the file it wrote, in both runs.
    for run in [&check, &run] {
        assert_eq!(run.forms()[4]["output"], "stat: file 644 1\n", "{run:?}");
    }
}

#[test]
fn a_module_gets_no_files_and_no_environment_from_wasi() {
    let sb = Sandbox::new();
    let planted = Path::new("/tmp/consfig-wasi-probe");
    let _ = std::fs::remove_file(planted);
    // Even granted everything a grant can give files.
    sb.write_consfig(
        &[module("testing")],
        &[form("wasi-probe", &[])],
        &granting(&["write:/".to_owned()]),
    );
    let secret = sb.path().join("secret-value");
    let run = sb.consfig_with_env(
        &["deploy", "--json", "box"],
        &[("CONSFIG_PROBE_SECRET", &secret)],
    );
    assert_eq!(run.statuses(), ["unchanged"], "{run:?}");
    let output = run.forms()[0]["output"].as_str().unwrap().to_owned();
    let lines: Vec<&str> = output.lines().collect();
    let refused = |name: &str| {
        lines
            .iter()
            .any(|l| l.starts_with(&format!("wasi {name}: refused (")))
    };
    for name in [
        "read /etc/passwd",
        "read etc/passwd",
        "list /",
        "list .",
        "write /tmp/consfig-wasi-probe",
        "metadata /",
    ] {
        assert!(refused(name), "{name}: {output}");
    }
    assert!(!output.contains("GOT"), "{output}");
    assert!(lines.contains(&"wasi env: 0 variables []"), "{output}");
    assert!(!planted.exists());
}

#[test]
fn a_granted_file_is_acted_on_by_its_name_and_never_through_a_symlink() {
    let sb = Sandbox::new();
    let dir = tree(&sb, "dir");
    let outside = tree(&sb, "outside");
    let link = dir.join("conf");
    std::os::unix::fs::symlink(outside.join("f"), &link).unwrap();
    let (f, new) = (dir.join("f"), dir.join("new.conf"));
    let p = |path: &Path| q(text(path));
    let forms = vec![
        form("read", &[p(&f)]),
        form("write", &[p(&new), q("made\n")]),
        form("chmod", &[p(&new), format!("{}", 0o600)]),
        form("write", &[p(&link), q("pwned\n")]),
        form("read", &[p(&link)]),
    ];
    let grants = [
        format!("read:{}", f.display()),
        format!("write:{}", new.display()),
        format!("write:{}", link.display()),
    ];
    sb.write_consfig(&[module("testing")], &forms, &granting(&grants));
    let through = |call: &str| {
        failed(format!(
            "{call} {l}: denied: the granted directory {l} is reached through the symlink {l} (to {}), and grants are never followed through symlinks: grant the directory it leads to instead",
            outside.join("f").display(),
            l = link.display(),
        ))
    };
    let before = state(&outside);
    let run = sb.deploy(&[]);
    assert_eq!(
        outcomes(&run),
        [
            done("unchanged"),
            done("changed"),
            done("changed"),
            through("write-file"),
            through("read-file"),
        ],
        "{run:?}"
    );
    assert_eq!(std::fs::read_to_string(&new).unwrap(), "made\n");
    assert_eq!(std::fs::metadata(&new).unwrap().mode() & 0o7777, 0o600);
    assert_eq!(state(&outside), before, "the outside unchanged");
}

/// The refusal of `call` on `path`, which symlinks lead out of `root`.
fn leads_out(call: &str, path: &str, root: &Path) -> String {
    format!(
        "denied: {call} {path}: the path leads out of the granted directory {} (through a symlink)",
        root.display()
    )
}

#[test]
fn links_owners_listings_and_renames_are_confined_to_their_grants() {
    let sb = Sandbox::new();
    let dir = tree(&sb, "dir");
    let outside = tree(&sb, "outside");
    std::fs::hard_link(outside.join("f"), dir.join("linked")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("outdir")).unwrap();
    let p = |path: &Path| q(text(path));
    let l = dir.join("l");
    let forms = vec![
        // Link targets outside the grant: absolute, climbing, via a link.
        form("symlink", &[q("/etc/shadow"), p(&l)]),
        form("symlink", &[q("../outside/f"), p(&l)]),
        form("symlink", &[q("outdir/f"), p(&l)]),
        // A hard link to a file outside, and a path through a link out.
        form("chown", &[p(&dir.join("linked")), q("0")]),
        form("chown", &[p(&dir.join("outdir/f")), q("0")]),
        form("chown", &[p(&dir.join("f")), q("no-such-user-here")]),
        // Out of the grant, into it from outside.
        form("rename", &[p(&dir.join("f")), p(&outside.join("stolen"))]),
        form("rename", &[p(&outside.join("f")), p(&dir.join("stolen"))]),
        form("list-dir", &[p(&outside)]),
        form("list-dir", &[p(&dir.join("outdir"))]),
        form("readlink", &[p(&outside.join("f"))]),
    ];
    let expected = vec![
        failed(format!(
            "denied: module testing may not symlink {} -> /etc/shadow: it has no grant write:/etc/shadow",
            l.display()
        )),
        failed(format!(
            "denied: module testing may not symlink {} -> ../outside/f: it has no grant write:{}",
            l.display(),
            outside.join("f").display()
        )),
        failed(leads_out(
            "symlink",
            &format!("{} -> outdir/f", l.display()),
            &dir,
        )),
        failed(format!(
            "chown {}: denied: the file has 2 names (hard links), which may lie outside the grant and would change with it: its owner is never changed through one of them (remove the other links, or write the file anew)",
            dir.join("linked").display()
        )),
        failed(leads_out("chown", &text(&dir.join("outdir/f")), &dir)),
        failed(format!(
            "chown {}: this host has no user named \"no-such-user-here\" in its /etc/passwd (create it first, or give a number)",
            dir.join("f").display()
        )),
        failed(no_grant("rename", &outside.join("stolen"), "write")),
        failed(no_grant("rename", &outside.join("f"), "write")),
        failed(no_grant("list-dir", &outside, "read")),
        failed(leads_out("list-dir", &text(&dir.join("outdir")), &dir)),
        failed(no_grant("readlink", &outside.join("f"), "read")),
    ];
    sb.write_consfig(
        &[module("testing")],
        &forms,
        &granting(&[format!("write:{}", dir.display())]),
    );
    let (before, before_outside) = (state(&dir), state(&outside));
    for args in [&["--check"][..], &[]] {
        let run = sb.deploy(args);
        assert_eq!(outcomes(&run), expected, "{args:?}: {run:?}");
        assert_eq!(state(&dir), before, "{args:?}: nothing changed");
        assert_eq!(
            state(&outside),
            before_outside,
            "{args:?}: the outside unchanged"
        );
    }
    assert!(!Path::new("/etc/shadow").is_symlink());
}

#[test]
fn links_owners_listings_and_renames_act_beneath_their_grant_as_check_mode_predicts() {
    let sb = Sandbox::new();
    let dir = tree(&sb, "dir");
    let p = |path: &Path| q(text(path));
    let current = dir.join("current");
    // Root gives the link away; anyone else can set its own ids.
    let (uid, gid) = if nix::unistd::geteuid().is_root() {
        (4242, 4243)
    } else {
        let meta = std::fs::metadata(&dir).unwrap();
        (meta.uid(), meta.gid())
    };
    let forms = vec![
        form("symlink", &[q("sub/g"), p(&current)]),
        form("readlink", &[p(&current)]),
        form("read", &[p(&current)]),
        form("rename", &[p(&dir.join("f")), p(&dir.join("sub/f2"))]),
        form("list-dir", &[p(&dir.join("sub"))]),
        form(
            "chown",
            &[p(&current), q(uid.to_string()), q(gid.to_string())],
        ),
        form("owner", &[p(&current)]),
        form("facts", &[]),
    ];
    sb.write_consfig(
        &[module("testing")],
        &forms,
        &granting(&[format!("write:{}", dir.display())]),
    );
    let outputs = |run: &Run| -> Vec<String> {
        run.forms()
            .iter()
            .map(|f| f["output"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let before = state(&dir);
    let check = sb.deploy(&["--check", "--diff"]);
    assert_eq!(state(&dir), before, "check mode changed nothing: {check:?}");
    let statuses = |changed: &'static str| {
        vec![
            changed,
            "unchanged",
            "unchanged",
            changed,
            "unchanged",
            changed,
            "unchanged",
            "unchanged",
        ]
    };
    assert_eq!(check.statuses(), statuses("would-change"), "{check:?}");
    let link = &check.forms()[0]["changes"][0];
    assert_eq!(link["path"], text(&current).as_str(), "{link}");
    assert!(
        link["diff"]
            .as_str()
            .unwrap()
            .contains(&format!("+++ {} (symlink to sub/g)", current.display())),
        "{link}"
    );
    let deploy = sb.deploy(&[]);
    assert_eq!(deploy.statuses(), statuses("changed"), "{deploy:?}");
    assert_eq!(
        outputs(&check),
        outputs(&deploy),
        "check mode saw what the deploy did"
    );
    let seen = outputs(&deploy);
    assert_eq!(seen[1], "readlink: sub/g\n");
    assert_eq!(seen[4], "list-dir: f2 file, g file\n");
    assert_eq!(seen[6], format!("owner: {uid}:{gid}\n"));
    assert!(seen[7].contains("root: 0 /root\n"), "{}", seen[7]);
    assert!(seen[7].starts_with("os: "), "{}", seen[7]);
    assert_eq!(std::fs::read_link(&current).unwrap(), Path::new("sub/g"));
    let meta = std::fs::symlink_metadata(&current).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (uid, gid));
    assert_eq!(std::fs::read_to_string(dir.join("sub/f2")).unwrap(), "hi\n");
    assert!(!dir.join("f").exists());
}
