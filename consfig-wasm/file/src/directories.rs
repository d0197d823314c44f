//! Directories: `file:directory-exists` (with its mode and owner),
//! `file:containing-directory-exists` and `file:directory-does-not-exist`.

use consfig_guest::host::fs::FileKind;
use consfig_guest::prelude::*;

use crate::ownership::{Group, Ownership, User};

/// Ensure a directory exists, creating it and any missing parents (mode
/// 0755, or `mode`).
///
/// Options: `mode` (e.g. `"0750"`), `owner` and `group` (names on the
/// target or numbers), set on the directory itself — a new one and an
/// existing one alike; its parents keep theirs. Unchanged when it exists
/// with them. A symlink to a directory will do when no option is given; a
/// file, or a symlink to anything else, is refused.
#[property]
pub fn directory_exists(
    path: String,
    mode: Option<Mode>,
    owner: Option<User>,
    group: Option<Group>,
) -> Result<Change> {
    let ownership = Ownership::of(owner.as_ref(), group.as_ref())?;
    let options = mode.is_some() || ownership.is_given();
    let Some(stat) = fs::stat(&path)? else {
        fs::mkdir(&path, mode)?;
        if ownership.is_given() {
            ownership.apply_to(&path)?;
        }
        return Ok(Change::Changed);
    };
    match stat.kind {
        FileKind::Directory => {
            // chown keeps a directory's set-id bits: the order does not matter.
            let mut change = ownership.correct(&path, &stat)?;
            if let Some(mode) = mode.filter(|&mode| mode != stat.mode) {
                fs::chmod(&path, mode)?;
                change = Change::Changed;
            }
            Ok(change)
        }
        // `mkdir` of an existing path succeeds only if it resolves to a
        // directory, which settles whether this symlink is one.
        FileKind::Symlink if !options => fs::mkdir(&path, None)
            .map(|()| Change::Unchanged)
            .map_err(|e| Error::new(format!("{path} is a symlink, but not to a directory ({e})"))),
        FileKind::Symlink => bail!(
            "{path} is a symlink: not setting a mode or owner through it (give the \
             directory it points to)"
        ),
        kind => bail!("{path} is a {kind}, not a directory"),
    }
}

/// The directory holding `path`, lexically; `None` for `/`.
fn containing_directory(path: &str) -> Result<Option<String>> {
    ensure!(path.starts_with('/'), "{path} is not an absolute path");
    let trimmed = path.trim_end_matches('/');
    Ok(match trimmed.rsplit_once('/') {
        None => None,
        Some(("", _)) => Some("/".to_owned()),
        Some((dir, _)) => Some(dir.to_owned()),
    })
}

/// Ensure the directory that holds `path` exists (and its parents), as
/// `file:directory-exists` makes it: for a file about to be written there.
///
/// Unchanged when it is there (or `path` is `/`).
#[property]
pub fn containing_directory_exists(path: String) -> Result<Change> {
    match containing_directory(&path)? {
        None => Ok(Change::Unchanged),
        Some(dir) => directory_exists(dir, None, None, None),
    }
}

/// Ensure no directory is at `path`: remove it and everything in it,
/// symlinks removed themselves, never followed.
///
/// Unchanged when nothing is there. A file or a symlink at `path` is
/// refused (`file:does-not-exist` removes those), as is `/`.
#[property]
pub fn directory_does_not_exist(path: String) -> Result<Change> {
    ensure!(
        !path.trim_end_matches('/').is_empty(),
        "not removing the root directory {path}"
    );
    match fs::stat(&path)? {
        None => Ok(Change::Unchanged),
        Some(stat) if stat.is_dir() => {
            remove_tree(&path)?;
            Ok(Change::Changed)
        }
        Some(stat) => bail!(
            "{path} is a {}, not a directory: not removing it (file:does-not-exist removes \
             files and symlinks)",
            stat.kind
        ),
    }
}

/// Remove the directory at `dir` and what it holds, depth first.
fn remove_tree(dir: &str) -> Result<()> {
    let dir = dir.trim_end_matches('/');
    // `list-dir` follows a symlink: a directory swapped for one since it was
    // listed must not lead the removal elsewhere.
    match fs::stat(dir)? {
        Some(stat) if stat.is_dir() => {}
        Some(stat) => bail!(
            "{dir} became a {} while it was removed: stopping",
            stat.kind
        ),
        None => return Ok(()),
    }
    for entry in fs::list_dir(dir)? {
        let path = format!("{dir}/{}", entry.name);
        match entry.kind {
            FileKind::Directory => remove_tree(&path)?,
            _ => fs::remove(&path)?,
        }
    }
    fs::remove(dir)
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::MODULE;

    fn form(json: &str) -> Form {
        json.parse().unwrap()
    }

    use consfig_guest::testing::failure as err;

    /// (mode, uid, gid) of what is at `path`.
    fn attrs(host: &FakeHost, path: &str) -> (u32, u32, u32) {
        let stat = host.stat(path).unwrap();
        (stat.mode.bits(), stat.uid, stat.gid)
    }

    #[test]
    fn directory_exists_makes_parents_and_accepts_a_link_to_one() {
        let host = FakeHost::new()
            .dir("/srv/real")
            .symlink("/srv/link", "real")
            .symlink("/srv/dangling", "/nowhere")
            .file("/srv/file", "");
        let dir = |path: &str| {
            let path = path.to_owned();
            host.apply(move || directory_exists(path, None, None, None))
        };
        assert_eq!(dir("/srv/www/site"), Ok(Change::Changed));
        assert!(host.stat("/srv/www").unwrap().is_dir());
        assert_eq!(host.stat("/srv/www/site").unwrap().mode.bits(), 0o755);
        assert_eq!(dir("/srv/www/site"), Ok(Change::Unchanged));
        assert_eq!(dir("/srv/link"), Ok(Change::Unchanged));
        assert_eq!(
            err(dir("/srv/dangling")),
            "/srv/dangling is a symlink, but not to a directory \
             (mkdir /srv/dangling: File exists (os error 17))"
        );
        assert_eq!(
            err(dir("/srv/file")),
            "/srv/file is a file, not a directory"
        );
        assert!(!host.exists("/nowhere"), "nothing made where it points");
    }

    #[test]
    fn directory_exists_sets_mode_owner_and_group() {
        let host = FakeHost::new()
            .user("www-data", 33, 33)
            .group("www-data", 33, Vec::<String>::new())
            .dir("/srv/old")
            .symlink("/srv/link", "old")
            .module(&MODULE);
        let apply = |json: &str| host.apply_form(&form(json));
        let new = r#"["file:directory-exists", "/srv/www/site",
                      {"mode": "0750", "owner": "www-data", "group": "www-data"}]"#;
        assert_eq!(apply(new), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/srv/www/site"), (0o750, 33, 33));
        assert_eq!(apply(new), Ok(Change::Unchanged));
        let existing = r#"["file:directory-exists", "/srv/old", {"mode": "2775", "group": 33}]"#;
        assert_eq!(apply(existing), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/srv/old"), (0o2775, 0, 33));
        assert_eq!(apply(existing), Ok(Change::Unchanged));
        let owner_only = r#"["file:directory-exists", "/srv/old", {"owner": 33}]"#;
        assert_eq!(apply(owner_only), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/srv/old"), (0o2775, 33, 33), "set-gid kept");
        assert_eq!(
            err(apply(
                r#"["file:directory-exists", "/srv/link", {"mode": "0700"}]"#
            )),
            "/srv/link is a symlink: not setting a mode or owner through it \
             (give the directory it points to)"
        );
        assert_eq!(
            err(apply(
                r#"["file:directory-exists", "/srv/x", {"owner": "nobody"}]"#
            )),
            "there is no user nobody on this host (in its /etc/passwd)"
        );
        assert!(!host.exists("/srv/x"), "nothing made for an unknown owner");
    }

    #[test]
    fn containing_directory_exists_makes_the_parent_only() {
        let host = FakeHost::new().module(&MODULE);
        let apply = |path: &str| host.apply_form(&crate::forms::containing_directory_exists(path));
        assert_eq!(apply("/etc/app/conf.d/app.conf"), Ok(Change::Changed));
        assert!(host.stat("/etc/app/conf.d").unwrap().is_dir());
        assert!(!host.exists("/etc/app/conf.d/app.conf"));
        assert_eq!(apply("/etc/app/conf.d/app.conf"), Ok(Change::Unchanged));
        assert_eq!(
            apply("/etc/app/conf.d/"),
            Ok(Change::Unchanged),
            "its parent is /etc/app"
        );
        assert_eq!(apply("/top"), Ok(Change::Unchanged));
        assert_eq!(apply("/"), Ok(Change::Unchanged));
        assert_eq!(err(apply("etc/x")), "etc/x is not an absolute path");
    }

    #[test]
    fn directory_does_not_exist_removes_a_tree_without_following_links() {
        let host = FakeHost::new()
            .file("/srv/site/index.html", "")
            .file("/srv/site/a/b/c/deep", "")
            .dir("/srv/site/empty")
            .special("/srv/site/fifo")
            .file("/srv/keep/precious", "")
            .symlink("/srv/site/to-keep", "/srv/keep")
            .symlink("/srv/site/a/file-link", "/srv/keep/precious")
            .module(&MODULE);
        let gone = crate::forms::directory_does_not_exist("/srv/site");
        assert_eq!(host.apply_form(&gone), Ok(Change::Changed));
        assert!(!host.exists("/srv/site"));
        assert!(
            host.exists("/srv/keep/precious"),
            "a link is removed, not followed"
        );
        assert_eq!(host.apply_form(&gone), Ok(Change::Unchanged));
        let changes = host.file_changes();
        assert_eq!(
            changes.first().map(String::as_str),
            Some("remove /srv/site/a/b/c/deep")
        );
        assert_eq!(changes.last().map(String::as_str), Some("remove /srv/site"));
        assert_eq!(changes.len(), 10);
    }

    #[test]
    fn directory_does_not_exist_refuses_files_links_and_the_root() {
        let host = FakeHost::new()
            .file("/srv/f", "")
            .dir("/srv/d")
            .symlink("/srv/l", "d")
            .module(&MODULE);
        let err = |path: &str| {
            let form = crate::forms::directory_does_not_exist(path);
            host.apply_form(&form).unwrap_err().to_string()
        };
        assert_eq!(
            err("/srv/f"),
            "/srv/f is a file, not a directory: not removing it \
             (file:does-not-exist removes files and symlinks)"
        );
        assert_eq!(
            err("/srv/l"),
            "/srv/l is a symlink, not a directory: not removing it \
             (file:does-not-exist removes files and symlinks)"
        );
        assert_eq!(err("/"), "not removing the root directory /");
        assert_eq!(err("//"), "not removing the root directory //");
        assert!(host.exists("/srv/f") && host.exists("/srv/d") && host.exists("/srv/l"));
    }
}
