//! Paths with nothing there: `file:does-not-exist` and `file:absent`.

use consfig_guest::prelude::*;

/// Ensure no file is at `path`: a file, a symlink (not what it points to)
/// or a special file there is removed. A directory is refused
/// (`file:directory-does-not-exist` removes those).
///
/// Unchanged when nothing is there.
#[property]
pub fn does_not_exist(path: String) -> Result<Change> {
    match fs::stat(&path)? {
        None => Ok(Change::Unchanged),
        Some(stat) if stat.is_dir() => bail!(
            "{path} is a directory: not removing it (file:directory-does-not-exist removes \
             directories)"
        ),
        Some(_) => {
            fs::remove(&path)?;
            Ok(Change::Changed)
        }
    }
}

/// Ensure nothing is at a path: remove a file, a symlink (not what it points
/// to) or an empty directory. Unchanged when the path is already absent.
#[property]
pub fn absent(path: String) -> Result<Change> {
    match fs::stat(&path)? {
        None => Ok(Change::Unchanged),
        Some(_) => {
            fs::remove(&path)?;
            Ok(Change::Changed)
        }
    }
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::MODULE;

    use consfig_guest::testing::failure;

    #[test]
    fn absent_removes_a_link_not_its_target() {
        let host = FakeHost::new()
            .file("/tmp/target", "keep")
            .symlink("/tmp/link", "/tmp/target")
            .file("/tmp/full/x", "");
        assert_eq!(
            host.apply(|| absent("/tmp/link".into())),
            Ok(Change::Changed)
        );
        assert!(!host.exists("/tmp/link"));
        assert_eq!(host.text("/tmp/target").as_deref(), Some("keep"));
        assert_eq!(
            host.apply(|| absent("/tmp/link".into())),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            failure(host.apply(|| absent("/tmp/full".into()))),
            "remove /tmp/full: Directory not empty (os error 39)"
        );
    }

    #[test]
    fn does_not_exist_removes_files_and_links_never_directories() {
        let host = FakeHost::new()
            .file("/etc/old.conf", "")
            .file("/etc/target", "keep")
            .symlink("/etc/link", "target")
            .special("/run/app.sock")
            .dir("/etc/empty.d")
            .module(&MODULE);
        let apply = |path: &str| host.apply_form(&crate::forms::does_not_exist(path));
        for path in ["/etc/old.conf", "/etc/link", "/run/app.sock"] {
            assert_eq!(apply(path), Ok(Change::Changed), "{path}");
            assert!(!host.exists(path), "{path}");
            assert_eq!(apply(path), Ok(Change::Unchanged), "{path} again");
        }
        assert_eq!(host.text("/etc/target").as_deref(), Some("keep"));
        assert_eq!(apply("/nowhere/at/all"), Ok(Change::Unchanged));
        assert_eq!(
            failure(apply("/etc/empty.d")),
            "/etc/empty.d is a directory: not removing it \
             (file:directory-does-not-exist removes directories)"
        );
        assert!(host.exists("/etc/empty.d"));
    }
}
