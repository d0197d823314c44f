//! Debian 12 roots for the standard modules' end-to-end tests: the roots
//! the fixture scripts make once and cache in /var/cache (a plain
//! debootstrap root for chroots; the booted one is [`crate::booted`]'s), a
//! fresh copy of the plain one in a test's sandbox, and commands run inside
//! a root.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Sandbox;

/// The root that `tests/fixtures/SCRIPT` makes once and caches, made now if
/// it is not there yet; the script prints where it is.
pub fn fixture(script: &str) -> PathBuf {
    let script = crate::repo_root().join("tests/fixtures").join(script);
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed: the Debian 12 root could not be made (`make test-deps` makes it)",
        script.display()
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// The plain Debian 12 root (debootstrap's minbase), cached.
pub fn cached_root() -> PathBuf {
    fixture("debian-root.sh")
}

/// A fresh copy of the plain root at `name` in the sandbox, for a test to
/// change as it likes.
pub fn copy_of_root(sb: &Sandbox, name: &str) -> PathBuf {
    let root = sb.path().join(name);
    let status = Command::new("cp")
        .arg("-a")
        .arg(cached_root())
        .arg(&root)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "copying the Debian root to {}",
        root.display()
    );
    root
}

/// Run a shell command inside `root` (with chroot); it must succeed.
pub fn in_root(root: &Path, script: &str) {
    let out = Command::new("chroot")
        .arg(root)
        .args(["/bin/sh", "-c", script])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "in the root, {script}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The policy that forbids services while packages change is gone from
/// `root`, and no process runs in it: nothing was started there.
pub fn assert_no_policy_and_nothing_running_in(root: &Path) {
    assert!(
        !root.join("usr/sbin/policy-rc.d").exists(),
        "policy-rc.d was left in the root"
    );
    let root = root.canonicalize().unwrap();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        if let Ok(its_root) = std::fs::read_link(entry.path().join("root")) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            assert!(
                its_root != root,
                "a process runs in the root: {}",
                String::from_utf8_lossy(&cmdline).replace('\0', " ")
            );
        }
    }
}
