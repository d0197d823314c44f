//! `mount:mounted` on this machine: a tmpfs and a bind mount in a scratch
//! directory. `--check` reads the mount table and mounts nothing, the deploy
//! mounts, the second deploy changes nothing, and something else mounted at
//! the path fails the form rather than be mounted over. Every mount is
//! undone when the test ends.

use std::path::{Path, PathBuf};
use std::process::Command;

use consfig_tests::{Run, Sandbox};

/// Unmounts (lazily, innermost first) whatever is mounted at its paths when
/// dropped, so a failing test leaves no mount behind.
struct Unmount(Vec<PathBuf>);

impl Drop for Unmount {
    fn drop(&mut self) {
        for path in self.0.iter().rev() {
            while mounted(path).is_some() {
                let status = Command::new("umount").arg("-l").arg(path).status().unwrap();
                if !status.success() {
                    break;
                }
            }
        }
    }
}

/// The type and source of the top mount at `path`, from the kernel's table.
fn mounted(path: &Path) -> Option<(String, String)> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let path = path.to_str().unwrap();
    table.lines().rev().find_map(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        let dash = fields.iter().position(|f| *f == "-")?;
        (fields[4] == path).then(|| (fields[dash + 1].to_owned(), fields[dash + 2].to_owned()))
    })
}

fn apply(sb: &Sandbox, check: bool, form: &str) -> Run {
    let mut args = vec!["apply", "--json"];
    if check {
        args.push("--check");
    }
    args.extend(["local", form]);
    sb.consfig(&args)
}

#[test]
fn tmpfs_and_bind_mounts() {
    consfig_tests::warm::standard_modules();
    let sb = Sandbox::new();
    let scratch = sb.path().join("mnt");
    let (tmp, src, bound) = (
        scratch.join("tmp"),
        scratch.join("src"),
        scratch.join("bound"),
    );
    for dir in [&tmp, &src, &bound] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(src.join("marker"), "bound\n").unwrap();
    let _unmount = Unmount(vec![tmp.clone(), bound.clone()]);

    let tmpfs = serde_json::json!(
        ["mount:mounted", tmp, "tmpfs", {"fstype": "tmpfs", "opts": "size=1m,mode=0700"}]
    )
    .to_string();
    let bind = serde_json::json!(["mount:mounted", bound, src, {"opts": "bind"}]).to_string();

    for form in [&tmpfs, &bind] {
        let check = apply(&sb, true, form);
        assert_eq!(check.code, 23, "{check:?}");
        assert_eq!(check.statuses(), ["would-change"], "{check:?}");
    }
    assert_eq!(mounted(&tmp), None, "check mode mounted");
    assert_eq!(mounted(&bound), None, "check mode mounted");

    for form in [&tmpfs, &bind] {
        let first = apply(&sb, false, form);
        assert_eq!(first.code, 23, "{first:?}");
        assert_eq!(first.statuses(), ["changed"], "{first:?}");
    }
    assert_eq!(
        mounted(&tmp),
        Some(("tmpfs".to_owned(), "tmpfs".to_owned()))
    );
    assert!(mounted(&bound).is_some());
    assert_eq!(
        std::fs::read_to_string(bound.join("marker")).unwrap(),
        "bound\n"
    );

    for form in [&tmpfs, &bind] {
        for check in [true, false] {
            let again = apply(&sb, check, form);
            assert_eq!(again.code, 0, "unchanged once mounted: {again:?}");
            assert_eq!(again.statuses(), ["unchanged"], "{again:?}");
        }
    }

    // Something else at the path: a failure, not a mount on top.
    let ramfs = serde_json::json!(["mount:mounted", tmp, "ramfs", {"fstype": "ramfs"}]).to_string();
    let refused = apply(&sb, false, &ramfs);
    assert_eq!(refused.code, 22, "{refused:?}");
    assert!(refused.stdout.contains("unmount it first"), "{refused:?}");
    assert_eq!(
        mounted(&tmp),
        Some(("tmpfs".to_owned(), "tmpfs".to_owned()))
    );

    // A missing path fails before mount runs, in a check too.
    let missing =
        serde_json::json!(["mount:mounted", scratch.join("none"), "tmpfs", {"fstype": "tmpfs"}])
            .to_string();
    for check in [true, false] {
        let run = apply(&sb, check, &missing);
        assert_eq!(run.code, 22, "{run:?}");
        assert!(run.stdout.contains("does not exist"), "{run:?}");
    }
}
