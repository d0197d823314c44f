//! The file calls: `read-file`, `write-file`, `stat`, `remove`, `mkdir`,
//! `chmod`. Each checks the path against the grants ([`HostState::place`])
//! and acts through the file backend — the disk, or check mode's overlay.

use super::bindings::consfig::module::host::{FileKind, FileStat};
use super::error::HostError;
use super::state::HostState;

impl HostState {
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

    pub fn write_file(
        &mut self,
        path: &str,
        contents: &[u8],
        mode: Option<u32>,
    ) -> Result<(), HostError> {
        const CALL: &str = "write-file";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, true)?;
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
            kind: if s.is_symlink {
                FileKind::Symlink
            } else if s.is_dir {
                FileKind::Directory
            } else if s.is_file {
                FileKind::File
            } else {
                FileKind::Other
            },
            mode: s.mode,
            size: s.size,
            uid: s.uid,
            gid: s.gid,
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

    pub fn mkdir(&mut self, path: &str, mode: Option<u32>) -> Result<(), HostError> {
        const CALL: &str = "mkdir";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, true)?;
        self.files()
            .mkdir_all(&place, mode.unwrap_or(0o755))
            .map_err(|e| HostError::file(CALL, path, e))
    }

    pub fn chmod(&mut self, path: &str, mode: u32) -> Result<(), HostError> {
        const CALL: &str = "chmod";
        self.effects_allowed(CALL)?;
        let place = self.place(CALL, path, true)?;
        self.files()
            .chmod(&place, mode)
            .map_err(|e| HostError::file(CALL, path, e))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::host::test_support::{host_with, host_with_policy, inspecting};

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
        assert!(host.chmod(&index, 0o600).is_err());
        assert!(host.mkdir(&text(&root.join("d")), None).is_err());
        assert_eq!(std::fs::read(root.join("index.html")).unwrap(), b"hi\n");
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
