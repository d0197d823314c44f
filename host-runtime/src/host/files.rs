//! The file calls: `read-file`, `write-file`, `stat`, `remove`, `mkdir`,
//! `chmod` (those on owners, links, listings and renames are in
//! [`tree`](super::tree)). Each checks the path against the grants
//! ([`HostState::place`]) and acts through the file backend — the disk, or
//! check mode's overlay.
//! A mode with set-uid or set-gid bits needs a `setid:` grant as well, the
//! same in check mode: without one the call is refused, not silently masked,
//! so that the module's author learns why the file is not set-id.

use std::io;

use super::bindings::consfig::module::host::{FileKind, FileStat};
use super::error::HostError;
use super::state::HostState;
use crate::sandbox::place::{Kind, Place};

pub(super) fn file_kind(kind: Kind) -> FileKind {
    match kind {
        Kind::File => FileKind::File,
        Kind::Dir => FileKind::Directory,
        Kind::Symlink => FileKind::Symlink,
        Kind::Other => FileKind::Other,
    }
}

/// The set-uid and set-gid bits.
const SET_ID: u32 = 0o6000;

/// The most a mode may hold: permission, set-id and sticky bits.
const MODE_BITS: u32 = 0o7777;

impl HostState {
    /// `mode`, refused when it holds more than permission bits (the file
    /// type's, say): a module that sends them is mistaken.
    fn mode_bits(call: &'static str, path: &str, mode: u32) -> Result<u32, HostError> {
        if mode & !MODE_BITS != 0 {
            return Err(HostError::file(
                call,
                path,
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{mode:#o} is not a file mode: the most is 0o7777"),
                ),
            ));
        }
        Ok(mode)
    }

    /// Refuse set-id bits in the mode `place` would get (`how`: "with mode",
    /// "keeping its mode", …) unless every confining module may set them there.
    fn setid_allowed(
        &self,
        call: &'static str,
        path: &str,
        place: &Place,
        how: &str,
        mode: u32,
    ) -> Result<(), HostError> {
        if mode & SET_ID == 0 {
            return Ok(());
        }
        self.confinement()
            .setid(&place.path())
            .map_err(|denied| HostError::denied(call, format!("{path} {how} 0{mode:o}"), denied))
    }

    pub fn read_file(&mut self, path: &str) -> Result<Vec<u8>, HostError> {
        const CALL: &str = "read-file";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, false)?;
        // What the module could not hold is not read into the host either.
        let limit = self.running_limit().memory;
        self.files()
            .read(&place, limit)
            .map_err(|e| HostError::file(CALL, path, e))
    }

    /// Without a mode, a file replaced keeps its mode: set-id bits too only
    /// with a `setid:` grant.
    pub fn write_file(
        &mut self,
        path: &str,
        contents: &[u8],
        mode: Option<u32>,
    ) -> Result<(), HostError> {
        const CALL: &str = "write-file";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, true)?;
        match mode {
            Some(mode) => {
                let mode = Self::mode_bits(CALL, path, mode)?;
                self.setid_allowed(CALL, path, &place, "with mode", mode)?;
            }
            None => {
                let kept = self
                    .files()
                    .status(&place)
                    .map_err(|e| HostError::file(CALL, path, e))?
                    .filter(|s| s.is_file);
                if let Some(kept) = kept {
                    self.setid_allowed(CALL, path, &place, "keeping its mode", kept.mode)?;
                }
            }
        }
        self.files()
            .write(&place, contents, mode)
            .map_err(|e| HostError::file(CALL, path, e))
    }

    pub fn stat(&mut self, path: &str) -> Result<Option<FileStat>, HostError> {
        const CALL: &str = "stat";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, false)?;
        let status = self
            .files()
            .status(&place)
            .map_err(|e| HostError::file(CALL, path, e))?;
        Ok(status.map(|s| FileStat {
            kind: file_kind(s.kind()),
            mode: s.mode,
            size: s.size,
            uid: s.uid,
            gid: s.gid,
            mtime: s.mtime,
        }))
    }

    pub fn remove(&mut self, path: &str) -> Result<(), HostError> {
        const CALL: &str = "remove";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, true)?;
        self.files()
            .remove(&place)
            .map_err(|e| HostError::file(CALL, path, e))
    }

    /// A set-gid bit asked for needs a `setid:` grant as on a file, though
    /// on a directory it only passes its group on to what is made in it.
    pub fn mkdir(&mut self, path: &str, mode: Option<u32>) -> Result<(), HostError> {
        const CALL: &str = "mkdir";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, true)?;
        let mode = Self::mode_bits(CALL, path, mode.unwrap_or(0o755))?;
        self.setid_allowed(CALL, path, &place, "with mode", mode)?;
        self.files()
            .mkdir_all(&place, mode)
            .map_err(|e| HostError::file(CALL, path, e))
    }

    /// Refused, too, for a file with other names (hard links) beneath a
    /// granted directory: they may lie outside it.
    pub fn chmod(&mut self, path: &str, mode: u32) -> Result<(), HostError> {
        const CALL: &str = "chmod";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, true)?;
        let mode = Self::mode_bits(CALL, path, mode)?;
        self.setid_allowed(CALL, path, &place, "to mode", mode)?;
        self.files()
            .chmod(&place, mode)
            .map_err(|e| HostError::file(CALL, path, e))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::host::test_support::{host_with, host_with_policy, inspecting};
    use crate::sandbox::place::{SharedFile, ThroughLink};

    fn tree() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("www");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("index.html"), "hi\n").unwrap();
        std::fs::write(dir.path().join("outside"), "secret\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), root.join("out")).unwrap();
        (dir, root)
    }

    fn text(path: &Path) -> String {
        path.display().to_string()
    }

    #[test]
    fn a_write_grant_allows_file_calls_beneath_it_only() {
        let (dir, root) = tree();
        let mut host = host_with(&[&format!("write:{}", root.display())]);
        let index = text(&root.join("index.html"));
        assert_eq!(host.read_file(&index).unwrap(), b"hi\n");
        host.write_file(&text(&root.join("new")), b"x", Some(0o600))
            .unwrap();
        let mode = std::fs::metadata(root.join("new"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        host.mkdir(&text(&root.join("a/b")), None).unwrap();
        host.chmod(&text(&root.join("a")), 0o700).unwrap();
        let stat = host.stat(&text(&root.join("a"))).unwrap().unwrap();
        assert_eq!((stat.kind, stat.mode), (FileKind::Directory, 0o700));
        host.remove(&text(&root.join("a/b"))).unwrap();
        assert!(host.stat(&text(&root.join("a/b"))).unwrap().is_none());

        let outside = text(&dir.path().join("outside"));
        for refused in [
            host.read_file(&outside).unwrap_err(),
            host.write_file(&outside, b"x", None).unwrap_err(),
            host.remove(&outside).unwrap_err(),
        ] {
            assert!(matches!(refused, HostError::Denied { .. }), "{refused}");
        }
        let through_link = host.read_file(&text(&root.join("out"))).unwrap_err();
        assert!(
            matches!(through_link, HostError::LeadsOut { .. }),
            "{through_link}"
        );
        let dotdot = host
            .read_file(&format!("{}/../outside", root.display()))
            .unwrap_err();
        assert!(matches!(dotdot, HostError::BadPath { .. }), "{dotdot}");
        let relative = host.read_file("index.html").unwrap_err();
        assert!(matches!(relative, HostError::BadPath { .. }), "{relative}");
        assert_eq!(
            std::fs::read(dir.path().join("outside")).unwrap(),
            b"secret\n"
        );
    }

    #[test]
    fn a_read_grant_allows_no_change() {
        let (_dir, root) = tree();
        let mut host = host_with(&[&format!("read:{}", root.display())]);
        let index = text(&root.join("index.html"));
        assert_eq!(host.read_file(&index).unwrap(), b"hi\n");
        let refused = host.write_file(&index, b"x", None).unwrap_err();
        assert_eq!(
            refused.to_string(),
            format!("denied: module m may not write-file {index}: it has no grant write:{index}")
        );
        let d = text(&root.join("d"));
        for (refused, action, path) in [
            (host.chmod(&index, 0o600).unwrap_err(), "chmod", &index),
            (host.mkdir(&d, None).unwrap_err(), "mkdir", &d),
            (host.remove(&index).unwrap_err(), "remove", &index),
        ] {
            assert_eq!(
                refused.to_string(),
                format!("denied: module m may not {action} {path}: it has no grant write:{path}")
            );
        }
        assert_eq!(std::fs::read(root.join("index.html")).unwrap(), b"hi\n");
        let mode = std::fs::metadata(root.join("index.html")).unwrap().mode();
        assert_eq!(mode & 0o7777, 0o644);
        assert!(!root.join("d").exists());
    }

    /// Every path beneath `dir` with its mode, for before/after comparisons.
    fn modes(dir: &Path) -> Vec<(PathBuf, u32)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                found.extend(modes(&path));
            }
            found.push((path, meta.mode() & 0o7777));
        }
        found.sort();
        found
    }

    #[test]
    fn set_id_bits_need_a_setid_grant_on_disk_and_in_check_mode() {
        for check in [false, true] {
            let (_dir, root) = tree();
            let suid = root.join("suid");
            std::fs::write(&suid, "old\n").unwrap();
            std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
            let before = modes(&root);
            let mut host = host_with_policy(&[&format!("write:{}", root.display())], check);
            let (new, index, d) = (
                text(&root.join("new")),
                text(&root.join("index.html")),
                text(&root.join("d")),
            );
            let suid_text = text(&suid);
            let refusals = [
                (
                    host.write_file(&new, b"x", Some(0o4755)),
                    &new,
                    "write-file",
                    "with mode 04755",
                ),
                (
                    host.write_file(&new, b"x", Some(0o2711)),
                    &new,
                    "write-file",
                    "with mode 02711",
                ),
                (
                    host.write_file(&suid_text, b"new\n", None),
                    &suid_text,
                    "write-file",
                    "keeping its mode 04755",
                ),
                (host.mkdir(&d, Some(0o2755)), &d, "mkdir", "with mode 02755"),
                (host.chmod(&index, 0o4755), &index, "chmod", "to mode 04755"),
                (host.chmod(&index, 0o6711), &index, "chmod", "to mode 06711"),
                (
                    host.chmod(&root.display().to_string(), 0o2755),
                    &text(&root),
                    "chmod",
                    "to mode 02755",
                ),
            ];
            for (result, path, call, how) in refusals {
                let refused = result.unwrap_err();
                assert!(matches!(refused, HostError::Denied { .. }), "{refused}");
                assert_eq!(
                    refused.to_string(),
                    format!(
                        "denied: module m may not {call} {path} {how}: it has no grant setid:{path}"
                    ),
                    "check mode: {check}"
                );
            }
            let not_a_mode = host.chmod(&index, 0o104755).unwrap_err();
            assert!(
                matches!(&not_a_mode, HostError::Io { source, .. } if source.kind() == io::ErrorKind::InvalidInput),
                "{not_a_mode}"
            );
            assert_eq!(modes(&root), before, "check mode: {check}");
            assert_eq!(std::fs::read(&suid).unwrap(), b"old\n");
            if !check {
                assert!(host.take_report().changes.is_empty());
            }

            // The sticky bit is no set-id bit; a mode given drops them.
            host.mkdir(&d, Some(0o1777)).unwrap();
            host.write_file(&suid_text, b"new\n", Some(0o755)).unwrap();
            let stat = host.stat(&suid_text).unwrap().unwrap();
            assert_eq!(stat.mode, 0o755);
        }
    }

    #[test]
    fn a_setid_grant_allows_set_id_bits_beneath_it() {
        let (_dir, root) = tree();
        let bin = root.join("bin");
        std::fs::create_dir(&bin).unwrap();
        let mut host = host_with(&[
            &format!("write:{}", root.display()),
            &format!("setid:{}", bin.display()),
        ]);
        let tool = text(&bin.join("tool"));
        host.write_file(&tool, b"x", Some(0o4755)).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o7777;
        assert_eq!(mode(&bin.join("tool")), 0o4755);
        host.write_file(&tool, b"y", None).unwrap();
        assert_eq!(mode(&bin.join("tool")), 0o4755, "kept");
        host.chmod(&tool, 0o2755).unwrap();
        assert_eq!(mode(&bin.join("tool")), 0o2755);
        let outside_setid = host.chmod(&text(&root.join("index.html")), 0o4755);
        assert!(matches!(outside_setid, Err(HostError::Denied { .. })));
    }

    #[test]
    fn a_file_with_other_names_keeps_its_mode() {
        for check in [false, true] {
            let (dir, root) = tree();
            let outside = dir.path().join("outside");
            let linked = root.join("linked");
            std::fs::hard_link(&outside, &linked).unwrap();
            let mut host = host_with_policy(&[&format!("write:{}", root.display())], check);
            let refused = host.chmod(&text(&linked), 0o777).unwrap_err();
            assert!(
                matches!(&refused, HostError::Io { source, .. } if SharedFile::of(source).map(|s| s.links) == Some(2)),
                "{refused}"
            );
            assert_eq!(
                refused.to_string(),
                format!(
                    "chmod {}: denied: the file has 2 names (hard links), which may lie outside the grant and would change with it: its mode is never changed through one of them (remove the other links, or write the file anew)",
                    linked.display()
                )
            );
            // Writing replaces the name with a new file: the other keeps
            // its contents, and the new file its own mode.
            host.write_file(&text(&linked), b"new\n", None).unwrap();
            host.chmod(&text(&linked), 0o600).unwrap();
            assert_eq!(std::fs::read(&outside).unwrap(), b"secret\n");
            let meta = std::fs::metadata(&outside).unwrap();
            assert_eq!(
                (meta.mode() & 0o7777, meta.nlink()),
                (0o644, if check { 2 } else { 1 })
            );
        }
        // Where everything is granted, every name is too.
        let (dir, root) = tree();
        std::fs::hard_link(dir.path().join("outside"), root.join("linked")).unwrap();
        let mut host = host_with(&["write:/"]);
        host.chmod(&text(&root.join("linked")), 0o600).unwrap();
    }

    #[test]
    fn a_granted_directory_reached_through_a_symlink_is_refused() {
        for check in [false, true] {
            let (dir, _root) = tree();
            let elsewhere = dir.path().join("elsewhere");
            std::fs::create_dir_all(elsewhere.join("sub")).unwrap();
            std::fs::write(elsewhere.join("f"), "keep\n").unwrap();
            std::fs::create_dir(dir.path().join("x")).unwrap();
            let granted = dir.path().join("x/granted");
            std::os::unix::fs::symlink(&elsewhere, &granted).unwrap();
            // A link higher up the path is no better.
            std::os::unix::fs::symlink(&elsewhere, dir.path().join("up")).unwrap();
            let before = modes(&elsewhere);
            for (grant, link) in [
                (granted.clone(), granted.clone()),
                (dir.path().join("up/sub"), dir.path().join("up")),
            ] {
                let mut host = host_with_policy(&[&format!("write:{}", grant.display())], check);
                let (f, new, d) = (
                    text(&grant.join("f")),
                    text(&grant.join("new")),
                    text(&grant.join("d")),
                );
                let refusals = [
                    host.read_file(&f).map(drop).unwrap_err(),
                    host.stat(&f).map(drop).unwrap_err(),
                    host.write_file(&new, b"x", None).unwrap_err(),
                    host.remove(&f).unwrap_err(),
                    host.mkdir(&d, None).unwrap_err(),
                    host.chmod(&f, 0o777).unwrap_err(),
                ];
                for refused in refusals {
                    let HostError::Io { source, .. } = &refused else {
                        panic!("{refused}");
                    };
                    let through = ThroughLink::of(source).unwrap_or_else(|| panic!("{refused}"));
                    assert_eq!(
                        (&through.root, &through.link, &through.target),
                        (&grant, &link, &elsewhere)
                    );
                }
                let said = host.read_file(&f).unwrap_err().to_string();
                assert_eq!(
                    said,
                    format!(
                        "read-file {f}: denied: the granted directory {} is reached through the symlink {} (to {}), and grants are never followed through symlinks: grant the directory it leads to instead",
                        grant.display(),
                        link.display(),
                        elsewhere.display()
                    )
                );
            }
            assert_eq!(modes(&elsewhere), before);
            assert_eq!(std::fs::read(elsewhere.join("f")).unwrap(), b"keep\n");
        }
    }

    #[test]
    fn errors_carry_the_errno_of_the_failure() {
        let (_dir, root) = tree();
        let mut host = host_with(&[&format!("write:{}", root.display())]);
        match host.read_file(&text(&root.join("none"))).unwrap_err() {
            HostError::Io { source, .. } => assert_eq!(source.raw_os_error(), Some(libc::ENOENT)),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn check_mode_answers_from_the_overlay_and_reports_changes() {
        let (_dir, root) = tree();
        let mut host = host_with_policy(&[&format!("write:{}", root.display())], true);
        let index = text(&root.join("index.html"));
        host.write_file(&index, b"new\n", None).unwrap();
        assert_eq!(host.read_file(&index).unwrap(), b"new\n");
        host.mkdir(&text(&root.join("d")), None).unwrap();
        assert_eq!(std::fs::read(root.join("index.html")).unwrap(), b"hi\n");
        assert!(!root.join("d").exists());
        let report = host.take_report();
        assert_eq!(report.changes.len(), 2);
        let ghost = host.read_file(&text(&root.join("d/x"))).unwrap_err();
        assert!(
            matches!(&ghost, HostError::Io { source, .. } if source.raw_os_error() == Some(libc::ENOENT)),
            "{ghost}"
        );
    }

    #[test]
    fn check_mode_is_held_to_the_grant_like_the_disk() {
        let (dir, root) = tree();
        std::os::unix::fs::symlink(dir.path(), root.join("outdir")).unwrap();
        let mut host = host_with_policy(&[&format!("write:{}", root.display())], true);
        let escapes = [
            host.read_file(&text(&root.join("out")))
                .map(drop)
                .unwrap_err(),
            host.write_file(&text(&root.join("outdir/x")), b"x", None)
                .unwrap_err(),
            host.mkdir(&text(&root.join("outdir/d/e")), None)
                .unwrap_err(),
            host.chmod(&text(&root.join("outdir/outside")), 0o777)
                .unwrap_err(),
            host.remove(&text(&root.join("outdir/outside")))
                .unwrap_err(),
        ];
        for refused in escapes {
            assert!(matches!(refused, HostError::LeadsOut { .. }), "{refused}");
        }
        let outside = text(&dir.path().join("outside"));
        let denied = host.write_file(&outside, b"x", None).unwrap_err();
        assert!(matches!(denied, HostError::Denied { .. }), "{denied}");
        assert!(host.take_report().changes.is_empty(), "nothing recorded");
        assert_eq!(
            std::fs::read(dir.path().join("outside")).unwrap(),
            b"secret\n"
        );
    }

    #[test]
    fn inspecting_refuses_every_file_call() {
        let mut host = inspecting(&["write:/"]);
        for refused in [
            host.read_file("/etc/hostname").map(drop).unwrap_err(),
            host.stat("/").map(drop).unwrap_err(),
            host.mkdir("/tmp/x", None).unwrap_err(),
        ] {
            assert!(matches!(refused, HostError::Inspecting { .. }), "{refused}");
        }
    }
}
