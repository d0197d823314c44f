//! File operations behind the `host` file calls, as one trait with two
//! implementations: [`Disk`] acts on the confined place, and check mode's
//! [`Check`](super::check::Check) answers from an overlay. Both fail with
//! `io::Error`s (errno values), so a call reports the same error either way.

use std::io;

use std::path::Path;

use super::place::{Listed, Place, Status};

/// The operations a file call may make on a place the grants allowed.
pub trait FileBackend {
    /// The file's contents; longer than `limit` is refused ([`TooLarge`](super::bounded::TooLarge)).
    fn read(&self, place: &Place, limit: u64) -> io::Result<Vec<u8>>;

    /// Status without following a final symlink; None when nothing is there.
    fn status(&self, place: &Place) -> io::Result<Option<Status>>;

    /// Replace the file atomically. With no mode, an existing file keeps its
    /// mode (and owner) and a new one gets 0644.
    fn write(&mut self, place: &Place, contents: &[u8], mode: Option<u32>) -> io::Result<()>;

    /// Remove a file, a symlink or an empty directory.
    fn remove(&mut self, place: &Place) -> io::Result<()>;

    /// Make the directory and any missing parents.
    fn mkdir_all(&mut self, place: &Place, mode: u32) -> io::Result<()>;

    fn chmod(&mut self, place: &Place, mode: u32) -> io::Result<()>;

    /// Set the owner and/or group, never following a final symlink.
    fn chown(&mut self, place: &Place, uid: Option<u32>, gid: Option<u32>) -> io::Result<()>;

    /// Make a symlink at `place` whose contents are `target` (checked by
    /// the caller); EEXIST when something is there.
    fn symlink(&mut self, place: &Place, target: &Path) -> io::Result<()>;

    /// The contents of the symlink at `place`; EINVAL when it is none.
    fn read_link(&self, place: &Place) -> io::Result<std::path::PathBuf>;

    /// The entries of the directory at `place`, in no order; more than
    /// `limit` bytes of them is refused.
    fn list_dir(&self, place: &Place, limit: u64) -> io::Result<Vec<Listed>>;

    /// Rename `from` to `to`, replacing what is at `to` as rename(2) does.
    fn rename(&mut self, from: &Place, to: &Place) -> io::Result<()>;

    /// `place` as this backend reaches it, where that is not where the
    /// disk resolved it (check mode: through a symlink it made); None when
    /// it is where the disk says.
    fn reached(&self, place: &Place) -> io::Result<Option<Place>> {
        let _ = place;
        Ok(None)
    }

    /// Replace the file with `contents` and `mode` unless it holds exactly
    /// them already; whether it changed.
    fn write_if_changed(&mut self, place: &Place, contents: &[u8], mode: u32) -> io::Result<bool> {
        // What cannot be read is rewritten; the write says what is wrong.
        let same = self
            .status(place)
            .ok()
            .flatten()
            .is_some_and(|s| s.is_file && s.mode == mode && s.size == contents.len() as u64)
            && self
                .read(place, contents.len() as u64)
                .is_ok_and(|there| there == contents);
        if same {
            return Ok(false);
        }
        self.write(place, contents, Some(mode))?;
        Ok(true)
    }
}

/// The effective user and group of this process: the owner of what it creates.
pub fn our_ids() -> (u32, u32) {
    (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    )
}

/// The files as they are: every call acts on the disk.
#[derive(Debug, Default)]
pub struct Disk;

impl FileBackend for Disk {
    fn read(&self, place: &Place, limit: u64) -> io::Result<Vec<u8>> {
        place.read(limit)
    }

    fn status(&self, place: &Place) -> io::Result<Option<Status>> {
        place.status()
    }

    fn write(&mut self, place: &Place, contents: &[u8], mode: Option<u32>) -> io::Result<()> {
        let existing = place.status()?.filter(|s| !s.is_symlink);
        let mode = mode.or(existing.as_ref().map(|s| s.mode)).unwrap_or(0o644);
        // Replacing a file keeps its owner, as editing it in place would; a
        // new file is simply ours.
        let owner = existing
            .map(|s| (s.uid, s.gid))
            .filter(|owner| *owner != our_ids());
        place.write_atomic(contents, mode, owner)
    }

    fn remove(&mut self, place: &Place) -> io::Result<()> {
        place.remove()
    }

    fn mkdir_all(&mut self, place: &Place, mode: u32) -> io::Result<()> {
        place.mkdir_all(mode)
    }

    fn chmod(&mut self, place: &Place, mode: u32) -> io::Result<()> {
        place.chmod(mode)
    }

    fn chown(&mut self, place: &Place, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
        place.chown(uid, gid)
    }

    fn symlink(&mut self, place: &Place, target: &Path) -> io::Result<()> {
        place.symlink(target)
    }

    fn read_link(&self, place: &Place) -> io::Result<std::path::PathBuf> {
        place.read_link()
    }

    fn list_dir(&self, place: &Place, limit: u64) -> io::Result<Vec<Listed>> {
        place.list_dir(limit)
    }

    fn rename(&mut self, from: &Place, to: &Place) -> io::Result<()> {
        from.rename(to)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use super::*;

    #[test]
    fn writes_keep_the_mode_of_what_they_replace_and_report_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let place = Place::new(&path, Some(dir.path().to_owned())).unwrap();
        let mut disk = Disk;
        disk.write(&place, b"one", Some(0o600)).unwrap();
        disk.write(&place, b"two", None).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
        assert_eq!(disk.read(&place, 3).unwrap(), b"two");
        assert!(!disk.write_if_changed(&place, b"two", 0o600).unwrap());
        assert!(disk.write_if_changed(&place, b"two", 0o755).unwrap());
        assert!(disk.write_if_changed(&place, b"three", 0o755).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"three");
        let new = Place::new(Path::new(&dir.path().join("new")), None).unwrap();
        disk.write(&new, b"x", None).unwrap();
        assert_eq!(disk.status(&new).unwrap().unwrap().mode, 0o644);
    }

    #[test]
    fn a_replaced_file_keeps_its_owner_and_a_new_one_is_ours() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "old").unwrap();
        let place = Place::new(&path, Some(dir.path().to_owned())).unwrap();
        // Owned by someone else (only root can give a file away).
        let other = (our_ids().0 + 4242, our_ids().1 + 4242);
        if nix::unistd::geteuid().is_root() {
            std::os::unix::fs::chown(&path, Some(other.0), Some(other.1)).unwrap();
        }
        let owner = |p: &Path| {
            let meta = std::fs::metadata(p).unwrap();
            (meta.uid(), meta.gid())
        };
        let before = owner(&path);
        Disk.write(&place, b"new", None).unwrap();
        assert_eq!(owner(&path), before);
        // What check mode would create is reported as ours.
        let new = Place::new(&dir.path().join("new"), Some(dir.path().to_owned())).unwrap();
        let mut check = crate::sandbox::check::Check::default();
        check.write(&new, b"x", None).unwrap();
        let status = check.status(&new).unwrap().unwrap();
        assert_eq!(
            (status.uid, status.gid),
            (
                nix::unistd::geteuid().as_raw(),
                nix::unistd::getegid().as_raw()
            )
        );
    }

    #[test]
    fn our_ids_are_the_effective_ones() {
        // Under root the effective ids are 0, as a constant would be: lower
        // them in a child so a wrong answer shows.
        use nix::sys::wait::{WaitStatus, waitpid};
        use nix::unistd::{ForkResult, Gid, Uid, fork, setegid, seteuid};
        if !nix::unistd::geteuid().is_root() {
            assert_eq!(
                our_ids(),
                (
                    nix::unistd::geteuid().as_raw(),
                    nix::unistd::getegid().as_raw()
                )
            );
            return;
        }
        // SAFETY: the child only makes system calls and exits.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                let lowered = setegid(Gid::from_raw(4243)).is_ok()
                    && seteuid(Uid::from_raw(4242)).is_ok()
                    && our_ids() == (4242, 4243);
                unsafe { nix::libc::_exit(if lowered { 0 } else { 1 }) }
            }
            ForkResult::Parent { child } => {
                assert_eq!(waitpid(child, None).unwrap(), WaitStatus::Exited(child, 0));
            }
        }
    }
}
