//! `archive:extracted` on a real host: a tar.gz made by the system's `tar`
//! is extracted by the module's own decoders, a second deploy changes
//! nothing, check mode predicts the deploy, and an archive climbing out of
//! its destination is refused with nothing written.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use consfig_tests::{Sandbox, module, q};

/// `tar ARGS` in `dir`, which must succeed.
fn tar(dir: &Path, args: &[&str]) {
    let status = Command::new("tar")
        .current_dir(dir)
        .args(args)
        .status()
        .expect("running tar");
    assert!(status.success(), "tar {args:?}: {status}");
}

/// Every path under `root` (itself excluded), with its mode and content.
fn listing(root: &Path) -> BTreeSet<(PathBuf, u32, Vec<u8>)> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                stack.push(path.clone());
                out.insert((path, mode, Vec::new()));
            } else {
                let content = std::fs::read(&path).unwrap();
                out.insert((path, mode, content));
            }
        }
    }
    out
}

#[test]
fn a_tar_gz_is_extracted_once_as_check_mode_predicts() {
    let sb = Sandbox::new();
    let src = sb.path().join("src");
    std::fs::create_dir_all(src.join("app/conf")).unwrap();
    std::fs::write(src.join("app/run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::write(src.join("app/conf/app.conf"), "port = 80\n").unwrap();
    let set_mode = |path: &str, mode| {
        std::fs::set_permissions(src.join(path), std::fs::Permissions::from_mode(mode)).unwrap()
    };
    set_mode("app/run.sh", 0o4755);
    set_mode("app/conf/app.conf", 0o640);
    set_mode("app/conf", 0o750);
    let archive = sb.path().join("app.tar.gz");
    tar(&src, &["-czf", archive.to_str().unwrap(), "app"]);

    let dest = sb.path().join("srv/www");
    let form = format!(
        "[\"archive:extracted\", {}, {}]",
        q(archive.display().to_string()),
        q(dest.display().to_string())
    );
    sb.write_consfig(&[module("archive")], &[form], "");

    let check = sb.deploy(&["--check", "--diff"]);
    assert_eq!(check.code, 23, "something would change: {check:?}");
    assert_eq!(check.statuses(), ["would-change"], "{check:?}");
    assert!(!dest.exists(), "check mode wrote nothing");
    let predicted: BTreeSet<PathBuf> = check.forms()[0]["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| PathBuf::from(c["path"].as_str().unwrap()))
        .collect();

    let deploy = sb.deploy(&[]);
    assert_eq!(deploy.code, 23, "{deploy:?}");
    assert_eq!(deploy.statuses(), ["changed"], "{deploy:?}");
    let extracted = listing(&dest);
    let expected: BTreeSet<(PathBuf, u32, Vec<u8>)> = [
        ("app", 0o755, ""),
        ("app/run.sh", 0o755, "#!/bin/sh\necho hi\n"),
        ("app/conf", 0o750, ""),
        ("app/conf/app.conf", 0o640, "port = 80\n"),
    ]
    .into_iter()
    .map(|(path, mode, content)| (dest.join(path), mode, content.as_bytes().to_vec()))
    .collect();
    assert_eq!(
        extracted, expected,
        "the archive's tree, without the set-uid bit"
    );
    // DEST and its missing parent were made too.
    let mut written: BTreeSet<PathBuf> = extracted.iter().map(|(path, ..)| path.clone()).collect();
    written.extend([sb.path().join("srv"), dest.clone()]);
    assert_eq!(
        predicted, written,
        "the check named exactly the paths written"
    );

    let again = sb.deploy(&[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.statuses(), ["unchanged"], "{again:?}");

    std::fs::write(dest.join("app/run.sh"), "tampered\n").unwrap();
    let repair = sb.deploy(&[]);
    assert_eq!(repair.statuses(), ["changed"], "{repair:?}");
    assert_eq!(
        listing(&dest),
        expected,
        "only the differing file rewritten"
    );
}

#[test]
fn an_archive_climbing_out_of_its_destination_writes_nothing() {
    let sb = Sandbox::new();
    let src = sb.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("ok.txt"), "fine\n").unwrap();
    std::fs::write(sb.path().join("escape.txt"), "evil\n").unwrap();
    let archive = sb.path().join("evil.tar");
    // -P keeps the `..` that tar would otherwise strip.
    tar(
        &src,
        &[
            "-P",
            "-cf",
            archive.to_str().unwrap(),
            "ok.txt",
            "../escape.txt",
        ],
    );
    std::fs::remove_file(sb.path().join("escape.txt")).unwrap();

    let dest = sb.path().join("out/dest");
    let form = format!(
        "[\"archive:extracted\", {}, {}]",
        q(archive.display().to_string()),
        q(dest.display().to_string())
    );
    sb.write_consfig(&[module("archive")], &[form], "");
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 22, "{run:?}");
    let reason = run.forms()[0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.contains("the entry \"../escape.txt\" climbs out of the destination with `..`")
            && reason.contains("nothing was extracted"),
        "{run:?}"
    );
    assert!(
        !sb.path().join("out").exists(),
        "nothing written, not even DEST"
    );
    assert!(!sb.path().join("out/escape.txt").exists());
}
