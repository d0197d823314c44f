//! The file calls on the tree of files: `chown`, `symlink`, `readlink`,
//! `list-dir`, `rename`. Like the others ([`files`](super::files)), each
//! checks its paths against the grants ([`HostState::place`]) and acts
//! through the file backend — the disk, or check mode's overlay.
//!
//! A symlink a module may write must lead where it may write: its target,
//! resolved from the link's directory, lies beneath the write grants of
//! every confining module, and no link already on its way leads out. So a
//! web root's module cannot point a link at /etc/shadow for a root process
//! to follow — not by making it, nor by moving a relative one to where it
//! would lead elsewhere.

use std::io;
use std::path::{Component, Path, PathBuf};

use super::accounts::{self, GROUP, PASSWD};
use super::bindings::consfig::module::host::DirEntry;
use super::error::HostError;
use super::files::file_kind;
use super::state::HostState;
use crate::sandbox::place::{Kind, Place, normalized};

/// The most entries beneath a directory whose symlinks a rename checks.
const MAX_CHECKED_ON_RENAME: usize = 100_000;

/// What a name given to `chown` names.
#[derive(Debug, Clone, Copy)]
enum Account {
    User,
    Group,
}

impl Account {
    fn file(self) -> &'static str {
        match self {
            Account::User => PASSWD,
            Account::Group => GROUP,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Account::User => "user",
            Account::Group => "group",
        }
    }
}

impl HostState {
    /// The id `name` gives: a number as it is, else the id of the
    /// `account` of that name in this root's own account file.
    fn account_id(
        &mut self,
        call: &'static str,
        path: &str,
        name: &str,
        account: Account,
    ) -> Result<u32, HostError> {
        if let Ok(id) = name.parse::<u32>() {
            // chown(2) takes the largest id (-1) for "leave it as it is".
            if id == u32::MAX {
                return Err(HostError::BadPath {
                    call,
                    path: name.to_owned(),
                    reason: "4294967295 (-1) is no user or group id",
                });
            }
            return Ok(id);
        }
        let text = self.read_fact(call, account.file())?.unwrap_or_default();
        let bad = |source| HostError::Accounts { call, source };
        let found = match account {
            Account::User => accounts::users(&text)
                .map_err(bad)?
                .into_iter()
                .find(|u| u.name == name)
                .map(|u| u.uid),
            Account::Group => accounts::groups(&text)
                .map_err(bad)?
                .into_iter()
                .find(|g| g.name == name)
                .map(|g| g.gid),
        };
        found.ok_or_else(|| HostError::NoAccount {
            call,
            path: path.to_owned(),
            kind: account.kind(),
            name: name.to_owned(),
            file: account.file(),
        })
    }

    /// Set the owner and/or group of `path` itself (a symlink's own),
    /// each a name in this root's account files or a number. Refused, as
    /// `chmod` is, for a file with other names beneath a granted directory.
    pub fn chown(
        &mut self,
        path: &str,
        owner: Option<&str>,
        group: Option<&str>,
    ) -> Result<(), HostError> {
        const CALL: &str = "chown";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, true)?;
        let uid = owner
            .map(|name| self.account_id(CALL, path, name, Account::User))
            .transpose()?;
        let gid = group
            .map(|name| self.account_id(CALL, path, name, Account::Group))
            .transpose()?;
        if uid.is_none() && gid.is_none() {
            return Ok(());
        }
        self.files()
            .chown(&place, uid, gid)
            .map_err(|e| HostError::file(CALL, path, e))
    }

    /// Refuse a symlink whose contents are `target`, at a place whose
    /// directory is `base` (its real path), unless what it leads to lies
    /// beneath the write grants of every confining module. `shown` names
    /// the link in messages.
    fn link_target_allowed(
        &self,
        call: &'static str,
        shown: &str,
        base: &Path,
        target: &str,
    ) -> Result<(), HostError> {
        let bad = |reason| HostError::BadPath {
            call,
            path: target.to_owned(),
            reason,
        };
        if target.is_empty() || target.contains('\0') {
            return Err(bad("a symlink's target is a path, not empty, without NUL"));
        }
        // `..` only leading: after a name it would climb from wherever
        // that name leads, which its text does not say.
        let mut named = false;
        for component in Path::new(target).components() {
            match component {
                Component::Normal(_) => named = true,
                Component::ParentDir if named => {
                    return Err(bad(
                        "a symlink's target has `..` only at its start (write the path without `NAME/..`)",
                    ));
                }
                _ => {}
            }
        }
        let resolved = normalized(&base.join(target));
        let what = format!("{shown} -> {target}");
        let confinement = self.confinement();
        let root = confinement
            .file_access(&resolved, true)
            .map_err(|denied| HostError::denied(call, what.clone(), denied))?;
        // Nor at the runtime's own files, which no untrusted module writes.
        confinement
            .protects(&self.policy().protected, &[&resolved])
            .map_err(|denied| HostError::denied(call, what.clone(), denied))?;
        // The links already on its way must not lead out either.
        Place::new(&resolved, root)
            .and_then(|place| place.resolves_inside())
            .map_err(|e| HostError::file(call, &what, e))
    }

    /// Make a symlink at `link` whose contents are `target`.
    pub fn symlink(&mut self, target: &str, link: &str) -> Result<(), HostError> {
        const CALL: &str = "symlink";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, link, true)?;
        let reached = (self.files().reached(&place)).map_err(|e| HostError::file(CALL, link, e))?;
        let base = (reached.as_ref().unwrap_or(&place).real_parent())
            .unwrap_or_else(|| PathBuf::from("/"));
        self.link_target_allowed(CALL, link, &base, target)?;
        self.files()
            .symlink(&place, Path::new(target))
            .map_err(|e| HostError::file(CALL, link, e))
    }

    pub fn readlink(&mut self, path: &str) -> Result<String, HostError> {
        const CALL: &str = "readlink";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, false)?;
        let target = self
            .files()
            .read_link(&place)
            .map_err(|e| HostError::file(CALL, path, e))?;
        target.into_os_string().into_string().map_err(|_| {
            HostError::file(
                CALL,
                path,
                io::Error::new(io::ErrorKind::InvalidData, "the link's target is not UTF-8"),
            )
        })
    }

    /// The entries of a directory, sorted by name. A name that is not
    /// UTF-8 is given with U+FFFD in place of what is not.
    pub fn list_dir(&mut self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        const CALL: &str = "list-dir";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, false)?;
        // What the module could not hold is not listed into the host either.
        let limit = self.running_limit().memory;
        let listed = self
            .files()
            .list_dir(&place, limit)
            .map_err(|e| HostError::file(CALL, path, e))?;
        let mut entries: Vec<DirEntry> = listed
            .into_iter()
            .map(|l| DirEntry {
                name: l.name.to_string_lossy().into_owned(),
                kind: file_kind(l.kind),
            })
            .collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// The symlinks at and beneath `place` with relative targets, each by
    /// its path relative to `place` ("" for `place` itself).
    fn relative_links(
        &mut self,
        call: &'static str,
        shown: &str,
        place: &Place,
    ) -> Result<Vec<(PathBuf, String)>, HostError> {
        let fail = |e| HostError::file(call, shown, e);
        let mut found = Vec::new();
        let mut todo = vec![(PathBuf::new(), None)];
        let mut seen = 0;
        while let Some((inside, kind)) = todo.pop() {
            let here = match &inside {
                p if p.as_os_str().is_empty() => None,
                p => Some(place_beneath(place, p).map_err(fail)?),
            };
            let at = here.as_ref().unwrap_or(place);
            let kind = match kind {
                Some(kind) => kind,
                None => match self.files().status(at).map_err(fail)? {
                    Some(status) => status.kind(),
                    None => continue,
                },
            };
            match kind {
                Kind::Symlink => {
                    let target = self.files().read_link(at).map_err(fail)?;
                    if target.is_relative() {
                        found.push((inside, target.to_string_lossy().into_owned()));
                    }
                }
                Kind::Dir => {
                    for listed in self.files().list_dir(at, u64::MAX).map_err(fail)? {
                        seen += 1;
                        if seen > MAX_CHECKED_ON_RENAME {
                            return Err(fail(io::Error::other(format!(
                                "more than {MAX_CHECKED_ON_RENAME} entries beneath it, too many to check the symlinks among them"
                            ))));
                        }
                        todo.push((inside.join(&listed.name), Some(listed.kind)));
                    }
                }
                Kind::File | Kind::Other => {}
            }
        }
        Ok(found)
    }

    /// Rename `source` to `destination`, both granted for writing. A file
    /// there is replaced; a directory is not. Links moved keep their
    /// contents, so a relative one moved must still lead where the module
    /// may write, from where it lands.
    pub fn rename(&mut self, source: &str, destination: &str) -> Result<(), HostError> {
        const CALL: &str = "rename";
        self.effects_allowed(CALL)?;
        let from = self.place(CALL, source, true)?;
        let to = self.place(CALL, destination, true)?;
        let there = self
            .files()
            .status(&to)
            .map_err(|e| HostError::file(CALL, destination, e))?;
        if there.is_some_and(|s| s.is_dir) && from.path() != to.path() {
            return Err(HostError::file(
                CALL,
                destination,
                io::Error::from_raw_os_error(libc::EISDIR),
            ));
        }
        if self.confinement().file_access(Path::new("/"), true) != Ok(None) {
            let reached =
                (self.files().reached(&to)).map_err(|e| HostError::file(CALL, destination, e))?;
            let landing = match reached.as_ref().unwrap_or(&to).real_parent() {
                Some(parent) => parent.join(to.path().file_name().unwrap_or_default()),
                None => PathBuf::from("/"),
            };
            for (inside, target) in self.relative_links(CALL, source, &from)? {
                let moved = match inside.as_os_str().is_empty() {
                    true => landing.clone(),
                    false => landing.join(&inside),
                };
                let base = moved.parent().unwrap_or(Path::new("/"));
                self.link_target_allowed(CALL, &moved.display().to_string(), base, &target)?;
            }
        }
        self.files()
            .rename(&from, &to)
            .map_err(|e| HostError::file(CALL, source, e))
    }
}

/// The place `inside` (relative, of real directories) beneath `place`.
fn place_beneath(place: &Place, inside: &Path) -> io::Result<Place> {
    let mut at: Option<Place> = None;
    for name in inside.iter() {
        at = Some(at.as_ref().unwrap_or(place).child(name)?);
    }
    at.ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::host::bindings::consfig::module::host::FileKind;
    use crate::host::test_support::{host_with, host_with_policy};
    use crate::sandbox::place::SharedFile;

    /// `dir/www` granted, holding `index.html`, a directory `sub` and a
    /// link `out` to `dir/outside`; `dir/elsewhere` a directory beside it.
    fn tree() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("www");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "hi\n").unwrap();
        std::fs::write(root.join("sub/page.html"), "page\n").unwrap();
        std::fs::write(dir.path().join("outside"), "secret\n").unwrap();
        std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
        std::fs::write(dir.path().join("elsewhere/file"), "far\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), root.join("out")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), root.join("outdir")).unwrap();
        (dir, root)
    }

    fn text(path: &Path) -> String {
        path.display().to_string()
    }

    fn grant(root: &Path) -> String {
        format!("write:{}", root.display())
    }

    /// Everything beneath `dir`: path, kind, mode, owner, link or contents.
    fn snapshot(dir: &Path) -> Vec<(PathBuf, String)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("link {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                found.extend(snapshot(&path));
                "dir".to_owned()
            } else {
                String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()
            };
            let desc = format!(
                "{what} mode {:o} owner {}:{} mtime {}",
                meta.mode() & 0o7777,
                meta.uid(),
                meta.gid(),
                meta.mtime()
            );
            found.push((path, desc));
        }
        found.sort();
        found
    }

    fn is_refusal(error: &HostError) -> bool {
        matches!(error, HostError::Denied { .. } | HostError::LeadsOut { .. })
    }

    fn errno(error: &HostError) -> Option<i32> {
        match error {
            HostError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    fn names(entries: &[DirEntry]) -> Vec<(&str, FileKind)> {
        entries.iter().map(|e| (e.name.as_str(), e.kind)).collect()
    }

    /// The same calls, on disk and in check mode, see the same answers;
    /// in check mode the disk is left as it was.
    #[test]
    fn check_mode_answers_as_the_disk_does_after_the_real_calls() {
        let mut seen = Vec::new();
        for check in [false, true] {
            let (dir, root) = tree();
            let before = snapshot(dir.path());
            let mut host = host_with_policy(&[&grant(&root)], check);
            let at = |rel: &str| text(&root.join(rel));
            let mut observed = Vec::new();
            let mut observe = |host: &mut HostState, what: &str| {
                let listing = host.list_dir(&text(&root)).unwrap();
                let stats: Vec<_> = listing
                    .iter()
                    .map(|e| {
                        let s = host.stat(&at(&e.name)).unwrap().unwrap();
                        (e.name.clone(), s.kind, s.mode, s.size, s.uid, s.gid)
                    })
                    .collect();
                observed.push(format!("{what}: {stats:?}"));
            };
            host.symlink("sub/page.html", &at("current")).unwrap();
            host.symlink(&at("index.html"), &at("abs")).unwrap();
            observe(&mut host, "linked");
            assert_eq!(host.readlink(&at("current")).unwrap(), "sub/page.html");
            assert_eq!(host.read_file(&at("current")).unwrap(), b"page\n");
            assert_eq!(host.read_file(&at("abs")).unwrap(), b"hi\n");
            host.write_file(&at("sub/new.html"), b"new\n", None)
                .unwrap();
            host.rename(&at("sub/new.html"), &at("moved.html")).unwrap();
            host.rename(&at("moved.html"), &at("index.html")).unwrap();
            assert_eq!(host.read_file(&at("index.html")).unwrap(), b"new\n");
            assert_eq!(host.read_file(&at("abs")).unwrap(), b"new\n");
            observe(&mut host, "renamed");
            host.mkdir(&at("d/e"), None).unwrap();
            host.write_file(&at("d/e/f"), b"f\n", Some(0o600)).unwrap();
            host.symlink("../../index.html", &at("d/e/up")).unwrap();
            host.rename(&at("d"), &at("sub/d")).unwrap();
            assert_eq!(host.read_file(&at("sub/d/e/f")).unwrap(), b"f\n");
            assert_eq!(
                host.readlink(&at("sub/d/e/up")).unwrap(),
                "../../index.html"
            );
            assert!(host.stat(&at("d")).unwrap().is_none());
            let moved = host.list_dir(&at("sub/d/e")).unwrap();
            assert_eq!(
                names(&moved),
                [("f", FileKind::File), ("up", FileKind::Symlink)]
            );
            let sub = host.list_dir(&at("sub")).unwrap();
            assert_eq!(
                names(&sub),
                [("d", FileKind::Directory), ("page.html", FileKind::File)]
            );
            host.remove(&at("current")).unwrap();
            observe(&mut host, "removed");
            let gone = host.readlink(&at("current")).unwrap_err();
            assert_eq!(errno(&gone), Some(libc::ENOENT), "{gone}");
            let not_a_link = host.readlink(&at("index.html")).unwrap_err();
            assert_eq!(errno(&not_a_link), Some(libc::EINVAL), "{not_a_link}");
            let exists = host.symlink("x", &at("abs")).unwrap_err();
            assert_eq!(errno(&exists), Some(libc::EEXIST), "{exists}");
            let onto_dir = host.rename(&at("index.html"), &at("sub")).unwrap_err();
            assert_eq!(errno(&onto_dir), Some(libc::EISDIR), "{onto_dir}");
            let into_itself = host.rename(&at("sub"), &at("sub/d/inner")).unwrap_err();
            assert_eq!(errno(&into_itself), Some(libc::EINVAL), "{into_itself}");
            let granted_itself = host.rename(&text(&root), &at("x")).unwrap_err();
            assert_eq!(
                errno(&granted_itself),
                Some(libc::EBUSY),
                "{granted_itself}"
            );
            let no_source = host.rename(&at("none"), &at("x")).unwrap_err();
            assert_eq!(errno(&no_source), Some(libc::ENOENT), "{no_source}");
            let not_a_dir = host.list_dir(&at("index.html")).unwrap_err();
            assert_eq!(errno(&not_a_dir), Some(libc::ENOTDIR), "{not_a_dir}");
            if check {
                assert_eq!(snapshot(dir.path()), before, "check mode left the disk");
                let changes = host.take_report().changes;
                let paths: Vec<_> = changes.iter().map(|c| c.path.clone()).collect();
                assert!(paths.contains(&root.join("abs")), "{paths:?}");
                assert!(paths.contains(&root.join("sub/d/e/up")), "{paths:?}");
                assert!(paths.contains(&root.join("index.html")), "{paths:?}");
                assert!(!paths.contains(&root.join("current")), "made, then removed");
                let abs = changes.iter().find(|c| c.path == root.join("abs")).unwrap();
                assert!(
                    matches!(&abs.after, Entry::Symlink { target, .. } if *target == at("index.html")),
                    "{abs:?}"
                );
            }
            seen.push(observed);
        }
        assert_eq!(seen[0], seen[1], "check mode predicts the disk");
    }

    use crate::sandbox::overlay::Entry;

    #[test]
    fn a_symlink_must_lead_where_the_module_may_write() {
        for check in [false, true] {
            let (dir, root) = tree();
            let data = dir.path().join("data");
            std::fs::create_dir(&data).unwrap();
            let mut host = host_with_policy(&[&grant(&root), &grant(&data)], check);
            let link = text(&root.join("link"));
            let outside = text(&dir.path().join("outside"));
            // Absolute, relative climbing out, or from a deeper directory.
            for target in [
                "/etc/shadow",
                outside.as_str(),
                "../outside",
                "../../../../../../etc/shadow",
            ] {
                let refused = host.symlink(target, &link).unwrap_err();
                assert!(
                    matches!(refused, HostError::Denied { .. }),
                    "{target}: {refused}"
                );
            }
            let refused = host.symlink("/etc/shadow", &link).unwrap_err();
            assert_eq!(
                refused.to_string(),
                format!(
                    "denied: module m may not symlink {link} -> /etc/shadow: it has no grant write:/etc/shadow"
                )
            );
            let deep = text(&root.join("sub/link"));
            assert!(matches!(
                host.symlink("../../outside", &deep).unwrap_err(),
                HostError::Denied { .. }
            ));
            // Through a link already there that leads out.
            for target in ["out", "outdir/file", "outdir"] {
                let refused = host.symlink(target, &link).unwrap_err();
                assert!(
                    matches!(&refused, HostError::LeadsOut { .. }),
                    "{target}: {refused}"
                );
            }
            // `..` after a name would climb from wherever the name leads.
            for target in ["outdir/../../outside", "sub/../index.html", ""] {
                let refused = host.symlink(target, &link).unwrap_err();
                assert!(
                    matches!(refused, HostError::BadPath { .. }),
                    "{target}: {refused}"
                );
            }
            // The link's own path through a link out of the grant.
            let escaped = host
                .symlink("index.html", &text(&root.join("outdir/new")))
                .unwrap_err();
            assert!(matches!(escaped, HostError::LeadsOut { .. }), "{escaped}");
            assert!(!dir.path().join("elsewhere/new").exists());
            // Where every confining module may write: allowed, in another
            // grant too, and from the link's real directory.
            host.symlink("../index.html", &deep).unwrap();
            host.symlink(&text(&data.join("x")), &link).unwrap();
            std::os::unix::fs::symlink(root.join("sub"), root.join("alias")).unwrap();
            let via_alias = text(&root.join("alias/up"));
            host.symlink("../index.html", &via_alias).unwrap();
            assert_eq!(host.read_file(&via_alias).unwrap(), b"hi\n");
            assert_eq!(
                std::fs::read(dir.path().join("outside")).unwrap(),
                b"secret\n"
            );
            assert!(!Path::new("/etc/shadow").is_symlink());
        }
    }

    #[test]
    fn a_read_grant_reads_links_and_lists_but_changes_nothing() {
        let (dir, root) = tree();
        let mut host = host_with(&[&format!("read:{}", root.display())]);
        assert_eq!(
            host.readlink(&text(&root.join("out"))).unwrap(),
            text(&dir.path().join("outside"))
        );
        let listing = host.list_dir(&text(&root)).unwrap();
        assert_eq!(
            names(&listing),
            [
                ("index.html", FileKind::File),
                ("out", FileKind::Symlink),
                ("outdir", FileKind::Symlink),
                ("sub", FileKind::Directory)
            ]
        );
        let index = text(&root.join("index.html"));
        for (refused, action, what) in [
            (
                host.chown(&index, Some("0"), None).unwrap_err(),
                "chown",
                index.clone(),
            ),
            (
                host.symlink("index.html", &text(&root.join("l")))
                    .unwrap_err(),
                "symlink",
                text(&root.join("l")),
            ),
            (
                host.rename(&index, &text(&root.join("x"))).unwrap_err(),
                "rename",
                index.clone(),
            ),
        ] {
            assert_eq!(
                refused.to_string(),
                format!("denied: module m may not {action} {what}: it has no grant write:{what}")
            );
        }
        // Outside the grant, through a link out of it, or climbing out.
        let elsewhere = text(&dir.path().join("elsewhere"));
        let refusals = [
            host.list_dir(&elsewhere).map(drop).unwrap_err(),
            host.list_dir(&text(&root.join("outdir")))
                .map(drop)
                .unwrap_err(),
            host.list_dir(&format!("{}/..", root.display()))
                .map(drop)
                .unwrap_err(),
            host.readlink(&text(&root.join("outdir/link")))
                .map(drop)
                .unwrap_err(),
        ];
        assert!(
            matches!(refusals[0], HostError::Denied { .. }),
            "{}",
            refusals[0]
        );
        assert!(
            matches!(refusals[1], HostError::LeadsOut { .. }),
            "{}",
            refusals[1]
        );
        assert!(
            matches!(refusals[2], HostError::BadPath { .. }),
            "{}",
            refusals[2]
        );
        assert!(
            matches!(refusals[3], HostError::LeadsOut { .. }),
            "{}",
            refusals[3]
        );
        assert!(refusals.iter().filter(|r| is_refusal(r)).count() == 3);
    }

    #[test]
    fn rename_keeps_both_ends_and_every_link_moved_in_the_grant() {
        for check in [false, true] {
            let (dir, root) = tree();
            let before = snapshot(dir.path());
            let mut host = host_with_policy(&[&grant(&root)], check);
            let at = |rel: &str| text(&root.join(rel));
            let outside = text(&dir.path().join("outside"));
            let mut refusals = vec![
                // Out of the grant, into it from outside.
                host.rename(&at("index.html"), &outside).unwrap_err(),
                host.rename(&outside, &at("stolen")).unwrap_err(),
                // Through a link out of the grant, at either end.
                host.rename(&at("index.html"), &at("outdir/x")).unwrap_err(),
                host.rename(&at("outdir/file"), &at("x")).unwrap_err(),
            ];
            // A relative link moved up would lead out from where it lands:
            // alone, or beneath a directory moved.
            std::fs::create_dir_all(root.join("a/b")).unwrap();
            std::os::unix::fs::symlink("../../index.html", root.join("a/b/l")).unwrap();
            refusals.push(host.rename(&at("a/b/l"), &at("l")).unwrap_err());
            refusals.push(host.rename(&at("a/b"), &at("b")).unwrap_err());
            for refused in &refusals {
                assert!(is_refusal(refused), "{refused}");
            }
            assert_eq!(
                refusals[4].to_string(),
                format!(
                    "denied: module m may not rename {} -> ../../index.html: it has no grant write:{}",
                    at("l"),
                    dir.path().parent().unwrap().join("index.html").display()
                )
            );
            // Moved deeper it still leads into the grant; an absolute link
            // leads where it did.
            host.rename(&at("a/b"), &at("sub/b")).unwrap();
            host.rename(&at("out"), &at("sub/out")).unwrap();
            let after: Vec<_> = snapshot(dir.path())
                .into_iter()
                .filter(|(p, _)| !p.starts_with(root.join("a")))
                .collect();
            if check {
                let before: Vec<_> = before
                    .into_iter()
                    .filter(|(p, _)| !p.starts_with(root.join("a")))
                    .collect();
                assert_eq!(after, before, "check mode left the disk");
                assert!(root.join("a/b/l").is_symlink());
            } else {
                assert!(root.join("sub/b/l").is_symlink());
            }
            assert_eq!(host.read_file(&at("sub/b/l")).unwrap(), b"hi\n");
            assert_eq!(
                std::fs::read(dir.path().join("outside")).unwrap(),
                b"secret\n"
            );
        }
    }

    #[test]
    fn chown_sets_a_links_own_owner_by_name_or_number() {
        for check in [false, true] {
            let (dir, root) = tree();
            let before = snapshot(dir.path());
            let mut host = host_with_policy(&[&grant(&root)], check);
            let index = text(&root.join("index.html"));
            let out = text(&root.join("out"));
            let owner = |host: &mut HostState, path: &str| {
                let s = host.stat(path).unwrap().unwrap();
                (s.uid, s.gid)
            };
            let ours = owner(&mut host, &index);
            // Nothing asked, nothing done; the owner it has, nothing done.
            host.chown(&index, None, None).unwrap();
            host.chown(&index, Some(&ours.0.to_string()), None).unwrap();
            if check {
                assert!(host.take_report().changes.is_empty());
            }
            let unknown = host
                .chown(&index, Some("no-such-user-here"), None)
                .unwrap_err();
            assert_eq!(
                unknown.to_string(),
                format!(
                    "chown {index}: this host has no user named \"no-such-user-here\" in its /etc/passwd (create it first, or give a number)"
                )
            );
            let minus_one = host.chown(&index, Some("4294967295"), None).unwrap_err();
            assert!(
                matches!(minus_one, HostError::BadPath { .. }),
                "{minus_one}"
            );
            let unknown = host
                .chown(&index, None, Some("no-such-group-here"))
                .unwrap_err();
            assert!(
                matches!(unknown, HostError::NoAccount { kind: "group", .. }),
                "{unknown}"
            );
            if !nix::unistd::geteuid().is_root() {
                continue; // Only root gives a file away.
            }
            host.chown(&index, Some("4242"), Some("4243")).unwrap();
            assert_eq!(owner(&mut host, &index), (4242, 4243));
            host.chown(&index, Some("root"), None).unwrap();
            assert_eq!(owner(&mut host, &index), (0, 4243));
            host.chown(&index, None, Some("root")).unwrap();
            assert_eq!(owner(&mut host, &index), (0, 0));
            // A link's own owner; what it leads to (outside) keeps its own.
            host.chown(&out, Some("4242"), Some("4242")).unwrap();
            assert_eq!(owner(&mut host, &out), (4242, 4242));
            let outside = std::fs::metadata(dir.path().join("outside")).unwrap();
            assert_eq!((outside.uid(), outside.gid()), ours);
            if check {
                assert_eq!(snapshot(dir.path()), before, "check mode left the disk");
                let changes = host.take_report().changes;
                let link = changes.iter().find(|c| c.path == root.join("out")).unwrap();
                assert_eq!(link.before.owner().map(|o| (o.uid, o.gid)), Some(ours));
                assert_eq!(
                    link.after.owner().map(|o| (o.uid, o.gid)),
                    Some((4242, 4242))
                );
            } else {
                let link = std::fs::symlink_metadata(root.join("out")).unwrap();
                assert_eq!((link.uid(), link.gid()), (4242, 4242));
            }
        }
    }

    #[test]
    fn chown_is_confined_like_chmod() {
        for check in [false, true] {
            let (dir, root) = tree();
            let before = snapshot(dir.path());
            let mut host = host_with_policy(&[&grant(&root)], check);
            // A hard link to a file outside the grant.
            std::fs::hard_link(dir.path().join("outside"), root.join("linked")).unwrap();
            let refused = host
                .chown(&text(&root.join("linked")), Some("4242"), None)
                .unwrap_err();
            let HostError::Io { source, .. } = &refused else {
                panic!("{refused}");
            };
            let shared = SharedFile::of(source).unwrap_or_else(|| panic!("{refused}"));
            assert_eq!((shared.links, shared.what), (2, "owner"));
            assert!(
                refused.to_string().contains("its owner is never changed"),
                "{refused}"
            );
            std::fs::remove_file(root.join("linked")).unwrap();
            let outside = text(&dir.path().join("outside"));
            let refusals = [
                host.chown(&outside, Some("4242"), None).unwrap_err(),
                host.chown(&text(&root.join("outdir/file")), Some("4242"), None)
                    .unwrap_err(),
                host.chown(
                    &format!("{}/../outside", root.display()),
                    Some("4242"),
                    None,
                )
                .unwrap_err(),
            ];
            assert!(
                matches!(refusals[0], HostError::Denied { .. }),
                "{}",
                refusals[0]
            );
            let HostError::LeadsOut { .. } = &refusals[1] else {
                panic!("{}", refusals[1]);
            };
            assert!(
                matches!(refusals[2], HostError::BadPath { .. }),
                "{}",
                refusals[2]
            );
            assert_eq!(snapshot(dir.path()), before);
        }
    }

    #[test]
    fn a_new_owner_clears_set_id_bits_as_the_kernel_does() {
        if !nix::unistd::geteuid().is_root() {
            return; // Only root gives a file away.
        }
        let mut seen = Vec::new();
        for check in [false, true] {
            let (_dir, root) = tree();
            let mut host = host_with_policy(
                &[&grant(&root), &format!("setid:{}", root.display())],
                check,
            );
            let mut modes = Vec::new();
            for (name, mode) in [("suid", 0o4755), ("sgid-x", 0o2755), ("sgid-lock", 0o2745)] {
                let path = text(&root.join(name));
                host.write_file(&path, b"x", Some(mode)).unwrap();
                host.chown(&path, Some("0"), Some("0")).unwrap();
                modes.push(host.stat(&path).unwrap().unwrap().mode);
                host.chown(&path, Some("4242"), None).unwrap();
                modes.push(host.stat(&path).unwrap().unwrap().mode);
            }
            seen.push(modes);
        }
        assert_eq!(seen[0], seen[1], "check mode predicts the kernel");
        assert_eq!(seen[0][1], 0o755);
    }

    #[test]
    fn list_dir_is_sorted_and_sees_check_modes_changes() {
        let (dir, root) = tree();
        let before = snapshot(dir.path());
        let mut host = host_with_policy(&[&grant(&root)], true);
        let at = |rel: &str| text(&root.join(rel));
        host.write_file(&at("b-new"), b"x", None).unwrap();
        host.remove(&at("index.html")).unwrap();
        host.mkdir(&at("made/deeper"), None).unwrap();
        host.write_file(&at("made/deeper/f"), b"f", None).unwrap();
        let listing = host.list_dir(&at("")).unwrap();
        assert_eq!(
            names(&listing),
            [
                ("b-new", FileKind::File),
                ("made", FileKind::Directory),
                ("out", FileKind::Symlink),
                ("outdir", FileKind::Symlink),
                ("sub", FileKind::Directory)
            ]
        );
        assert_eq!(
            names(&host.list_dir(&at("made")).unwrap()),
            [("deeper", FileKind::Directory)]
        );
        assert_eq!(
            names(&host.list_dir(&at("made/deeper")).unwrap()),
            [("f", FileKind::File)]
        );
        let ghost = host.list_dir(&at("made/none")).unwrap_err();
        assert_eq!(errno(&ghost), Some(libc::ENOENT), "{ghost}");
        // The forms after this one see it too.
        let changes = host.take_report().changes;
        let mut next = host_with_policy(&[&grant(&root)], true);
        next.absorb(&changes).unwrap();
        assert_eq!(
            names(&next.list_dir(&at("made/deeper")).unwrap()),
            [("f", FileKind::File)]
        );
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn stat_gives_the_modification_time() {
        let (_dir, root) = tree();
        let index = root.join("index.html");
        std::fs::File::options()
            .write(true)
            .open(&index)
            .unwrap()
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000))
            .unwrap();
        for check in [false, true] {
            let mut host = host_with_policy(&[&grant(&root)], check);
            let stat = host.stat(&text(&index)).unwrap().unwrap();
            assert_eq!(stat.mtime, 1_700_000_000);
            if check {
                // A mode changed keeps the time; contents written are new.
                host.chmod(&text(&index), 0o600).unwrap();
                assert_eq!(
                    host.stat(&text(&index)).unwrap().unwrap().mtime,
                    1_700_000_000
                );
                host.write_file(&text(&index), b"new\n", None).unwrap();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                let written = host.stat(&text(&index)).unwrap().unwrap().mtime;
                assert!((now - 5..=now + 5).contains(&written), "{written} vs {now}");
            }
        }
    }

    #[test]
    fn check_mode_follows_links_as_the_disk_does() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path();
        std::fs::create_dir_all(tmp.join("real/sub")).unwrap();
        std::fs::write(tmp.join("real/c"), "right\n").unwrap();
        std::fs::write(tmp.join("c"), "wrong\n").unwrap();
        std::os::unix::fs::symlink("real/sub", tmp.join("alias")).unwrap();
        std::os::unix::fs::symlink("../c", tmp.join("real/sub/l")).unwrap();
        let through = text(&tmp.join("alias/l"));
        // Unconfined and confined, on disk and in check mode.
        for grants in [vec!["write:/".to_owned()], vec![grant(tmp)]] {
            for check in [false, true] {
                let grants: Vec<&str> = grants.iter().map(String::as_str).collect();
                let mut host = host_with_policy(&grants, check);
                assert_eq!(host.read_file(&through).unwrap(), b"right\n", "{grants:?}");
                // A link made in check mode to a link on disk, to a file
                // check mode wrote.
                host.write_file(&text(&tmp.join("real/c")), b"new\n", None)
                    .unwrap();
                host.symlink("alias/l", &text(&tmp.join("made"))).unwrap();
                assert_eq!(host.read_file(&text(&tmp.join("made"))).unwrap(), b"new\n");
                host.symlink("made", &text(&tmp.join("loop-a"))).unwrap();
                host.remove(&text(&tmp.join("made"))).unwrap();
                host.symlink("loop-a", &text(&tmp.join("made"))).unwrap();
                let looped = host.read_file(&text(&tmp.join("made"))).unwrap_err();
                assert_eq!(errno(&looped), Some(libc::ELOOP), "{looped}");
                for name in ["made", "loop-a"] {
                    host.remove(&text(&tmp.join(name))).unwrap();
                }
                host.write_file(&text(&tmp.join("real/c")), b"right\n", None)
                    .unwrap();
            }
        }
    }

    #[test]
    fn paths_through_a_link_made_in_check_mode_lead_where_it_leads() {
        let mut seen = Vec::new();
        for check in [false, true] {
            let (dir, root) = tree();
            std::fs::create_dir_all(root.join("releases/1")).unwrap();
            let before = snapshot(dir.path());
            let mut host = host_with_policy(&[&grant(&root)], check);
            let at = |rel: &str| text(&root.join(rel));
            let mut observed = Vec::new();
            host.mkdir(&at("releases/2"), None).unwrap();
            host.symlink("releases/2", &at("current")).unwrap();
            host.write_file(&at("current/config"), b"two\n", None)
                .unwrap();
            observed.push(host.read_file(&at("releases/2/config")).unwrap());
            observed
                .push(format!("{:?}", names(&host.list_dir(&at("current")).unwrap())).into_bytes());
            // Relinked, absolutely, to a release on disk; then written beneath.
            host.remove(&at("current")).unwrap();
            host.symlink(&at("releases/1"), &at("current")).unwrap();
            host.mkdir(&at("current/static/css"), None).unwrap();
            host.write_file(&at("current/static/css/site.css"), b"a{}\n", None)
                .unwrap();
            observed.push(
                host.read_file(&at("releases/1/static/css/site.css"))
                    .unwrap(),
            );
            observed.push(
                format!("{:?}", names(&host.list_dir(&at("releases/1")).unwrap())).into_bytes(),
            );
            let kind = host.stat(&at("current/static")).unwrap().unwrap().kind;
            observed.push(format!("{kind:?}").into_bytes());
            // A link made through a made link, leading out, is refused.
            let out = host
                .symlink("../../../outside", &at("current/up"))
                .unwrap_err();
            assert!(matches!(out, HostError::Denied { .. }), "{out}");
            if check {
                assert_eq!(snapshot(dir.path()), before, "check mode left the disk");
            }
            seen.push(observed);
        }
        assert_eq!(seen[0], seen[1], "check mode predicts the disk");
    }

    #[test]
    fn no_link_of_an_untrusted_module_points_at_the_runtimes_own_files() {
        let (dir, root) = tree();
        let cache = dir.path().join("cache");
        std::fs::create_dir(&cache).unwrap();
        let mut policy = crate::sandbox::policy::Policy {
            protected: vec![cache.clone()],
            ..Default::default()
        };
        policy.grants.insert(
            "m".into(),
            crate::sandbox::grants::ModuleGrants {
                grants: consfig_contract::parse_grants(&["write:/"]).unwrap(),
                ..Default::default()
            },
        );
        let mut host = crate::host::test_support::host_under(policy);
        let link = text(&root.join("l"));
        let refused = host
            .symlink(&text(&cache.join("x.cwasm")), &link)
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            format!(
                "denied: module m may not symlink {link} -> {}: that is the runtime's own cache and executable, which no module changes",
                cache.join("x.cwasm").display()
            )
        );
        host.symlink("index.html", &link).unwrap();
    }

    #[test]
    fn a_later_form_in_check_mode_reaches_paths_through_an_earlier_forms_link() {
        let (dir, root) = tree();
        let before = snapshot(dir.path());
        let at = |rel: &str| text(&root.join(rel));
        let mut first = host_with_policy(&[&grant(&root)], true);
        first.symlink("sub", &at("current")).unwrap();
        let changes = first.take_report().changes;
        let mut next = host_with_policy(&[&grant(&root)], true);
        next.absorb(&changes).unwrap();
        next.write_file(&at("current/new.html"), b"new\n", None)
            .unwrap();
        assert_eq!(next.read_file(&at("sub/new.html")).unwrap(), b"new\n");
        assert_eq!(
            names(&next.list_dir(&at("current")).unwrap()),
            [("new.html", FileKind::File), ("page.html", FileKind::File)]
        );
        let paths: Vec<_> = next
            .take_report()
            .changes
            .into_iter()
            .map(|c| c.path)
            .collect();
        assert_eq!(paths, [root.join("sub/new.html")]);
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn granted_files_are_renamed_by_their_names() {
        for check in [false, true] {
            let (_dir, root) = tree();
            let (index, moved) = (text(&root.join("index.html")), text(&root.join("moved")));
            let mut host = host_with_policy(
                &[&format!("write:{index}"), &format!("write:{moved}")],
                check,
            );
            host.rename(&index, &moved).unwrap();
            assert_eq!(host.read_file(&moved).unwrap(), b"hi\n");
            assert!(host.stat(&index).unwrap().is_none());
            assert_eq!(root.join("moved").exists(), !check);
        }
    }

    #[test]
    fn a_rename_never_crosses_file_systems_in_check_mode_either() {
        use std::os::unix::fs::MetadataExt;
        let (dir, root) = tree();
        let shm = Path::new("/dev/shm");
        let Ok(shm_meta) = std::fs::metadata(shm) else {
            return; // No second file system at hand to cross to.
        };
        let crossing = shm_meta.dev() != std::fs::metadata(&root).unwrap().dev();
        let away = tempfile::tempdir_in(shm).unwrap();
        let mut answers = Vec::new();
        for check in [false, true] {
            let mut host = host_with_policy(&["write:/"], check);
            let from = text(&root.join("index.html"));
            let to = text(&away.path().join(format!("moved-{check}")));
            answers.push(host.rename(&from, &to).map_err(|e| errno(&e)));
            // Nor does a directory check mode made.
            host.mkdir(
                &text(&away.path().join(format!("made-{check}/deeper"))),
                None,
            )
            .unwrap();
            let made = text(&away.path().join(format!("made-{check}")));
            answers.push(
                host.rename(&made, &text(&dir.path().join("made")))
                    .map_err(|e| errno(&e)),
            );
        }
        assert_eq!(answers[..2], answers[2..], "check mode answers as the disk");
        if crossing {
            assert_eq!(answers[0], Err(Some(libc::EXDEV)));
        }
    }
}
