//! Facts about the machine and the process: `whoami`, `hostname`,
//! `architecture`, `os-release`, the accounts of `lookup-user` and
//! `lookup-group`, `in-chroot`. They read, never act, so they need no
//! grant: what they read is world-readable. The files they read are read as
//! file calls read them, so in check mode they see what earlier forms would
//! have written.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::accounts::{self, GROUP, PASSWD};
use super::bindings::consfig::module::host::{GroupInfo, Identity, OsInfo, UserInfo};
use super::error::HostError;
use super::state::HostState;
use crate::sandbox::place::Place;

/// Where os-release is, in the order systemd looks.
const OS_RELEASE: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// Set once this process entered a chroot (a subdeployment's context).
static CHROOT_ENTERED: AtomicBool = AtomicBool::new(false);

/// This process entered a chroot: `in-chroot` says so from now on, even
/// where `/proc` is not mounted to tell.
pub fn note_chroot_entered() {
    CHROOT_ENTERED.store(true, Ordering::Relaxed);
}

/// Whether directory `ours` is another than `init` (device and inode);
/// None when either cannot be looked at.
fn differ(ours: &Path, init: &Path) -> Option<bool> {
    use std::os::unix::fs::MetadataExt;
    let ours = std::fs::metadata(ours).ok()?;
    let init = std::fs::metadata(init).ok()?;
    Some((ours.dev(), ours.ino()) != (init.dev(), init.ino()))
}

/// Whether this process runs in a chroot: it entered one, or its `/` is
/// another directory than the root of the machine's first process (when
/// `/proc` is there to tell, and readable).
pub fn in_chroot() -> bool {
    CHROOT_ENTERED.load(Ordering::Relaxed)
        || differ(Path::new("/"), Path::new("/proc/1/root")) == Some(true)
}

/// The value of an os-release assignment: quoted with `"` (where `\`
/// escapes `"`, `\\`, `$` and `` ` ``) or `'`, or bare.
fn os_release_value(raw: &str) -> String {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return inner.to_owned();
    }
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(next @ ('"' | '\\' | '$' | '`'))) => {
                value.push(next);
                chars.next();
            }
            _ => value.push(c),
        }
    }
    value
}

/// What an os-release file says; an error naming `file` when it has no `ID`.
pub fn parse_os_release(file: &str, text: &str) -> Result<OsInfo, HostError> {
    let mut info = OsInfo {
        id: String::new(),
        version_id: None,
        version_codename: None,
        pretty_name: None,
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = os_release_value(value);
        match key.trim() {
            "ID" => info.id = value,
            "VERSION_ID" => info.version_id = Some(value),
            "VERSION_CODENAME" => info.version_codename = Some(value),
            "PRETTY_NAME" => info.pretty_name = Some(value),
            _ => {}
        }
    }
    if info.id.is_empty() {
        return Err(HostError::OsRelease {
            reason: format!("{file} names no ID"),
        });
    }
    Ok(info)
}

impl HostState {
    pub fn whoami(&self) -> Identity {
        let uid = nix::unistd::getuid();
        Identity {
            uid: uid.as_raw(),
            gid: nix::unistd::getgid().as_raw(),
            user: nix::unistd::User::from_uid(uid)
                .ok()
                .flatten()
                .map(|u| u.name),
            home: std::env::var("HOME").ok(),
        }
    }

    pub fn hostname(&self) -> String {
        nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// As `uname -m` says.
    pub fn architecture(&self) -> String {
        nix::sys::utsname::uname()
            .map(|u| u.machine().to_string_lossy().into_owned())
            .unwrap_or_else(|_| std::env::consts::ARCH.to_owned())
    }

    /// The text of the world-readable file `path` of this root, as a file
    /// call would read it; None when it does not exist.
    pub(super) fn read_fact(
        &mut self,
        call: &'static str,
        path: &str,
    ) -> Result<Option<String>, HostError> {
        let place =
            Place::new(Path::new(path), None).map_err(|e| HostError::file(call, path, e))?;
        let limit = self.running_limit().memory;
        match self.files().read(&place, limit) {
            Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(HostError::file(call, path, e)),
        }
    }

    pub fn os_release(&mut self) -> Result<OsInfo, HostError> {
        for file in OS_RELEASE {
            if let Some(text) = self.read_fact("os-release", file)? {
                return parse_os_release(file, &text);
            }
        }
        Err(HostError::OsRelease {
            reason: format!("neither {} exists", OS_RELEASE.join(" nor ")),
        })
    }

    pub fn lookup_user(&mut self, user: &str) -> Result<Option<UserInfo>, HostError> {
        const CALL: &str = "lookup-user";
        let passwd = self.read_fact(CALL, PASSWD)?.unwrap_or_default();
        accounts::find_user(&passwd, user)
            .map_err(|source| HostError::Accounts { call: CALL, source })
    }

    pub fn lookup_group(&mut self, group: &str) -> Result<Option<GroupInfo>, HostError> {
        const CALL: &str = "lookup-group";
        let groups = self.read_fact(CALL, GROUP)?.unwrap_or_default();
        accounts::find_group(&groups, group)
            .map_err(|source| HostError::Accounts { call: CALL, source })
    }

    /// A chroot this process entered, or a root other than init's.
    pub fn in_chroot(&self) -> bool {
        in_chroot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::test_support::host_with;

    #[test]
    fn os_release_is_parsed_as_the_shell_would() {
        let text = r#"
# Debian, with comments and quotes of both kinds
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME='Debian GNU/Linux'
VERSION_ID="12"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
BUG_REPORT_URL="say \"hi\" for \$5"
"#;
        let info = parse_os_release("/etc/os-release", text).unwrap();
        assert_eq!(info.id, "debian");
        assert_eq!(info.version_id.as_deref(), Some("12"));
        assert_eq!(info.version_codename.as_deref(), Some("bookworm"));
        assert_eq!(
            info.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(
            os_release_value(r#""say \"hi\" for \$5""#),
            r#"say "hi" for $5"#
        );
        assert_eq!(os_release_value("'a \\ b'"), "a \\ b");
        let rolling = parse_os_release("/usr/lib/os-release", "ID=arch\nNAME=Arch\n").unwrap();
        assert_eq!((rolling.version_id, rolling.version_codename), (None, None));
        let none = parse_os_release("/etc/os-release", "NAME=x\n# ID=commented\n").unwrap_err();
        assert_eq!(none.to_string(), "os-release: /etc/os-release names no ID");
    }

    #[test]
    fn os_release_and_accounts_are_this_roots() {
        let mut host = host_with(&[]);
        match OS_RELEASE.iter().find(|f| Path::new(f).exists()) {
            Some(file) => {
                let text = std::fs::read_to_string(file).unwrap();
                let info = host.os_release().unwrap();
                assert!(
                    text.contains(&format!("ID={}", info.id))
                        || text.contains(&format!("ID=\"{}\"", info.id))
                );
            }
            None => assert!(matches!(
                host.os_release(),
                Err(HostError::OsRelease { .. })
            )),
        }
        let root = host.lookup_user("root").unwrap().unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(host.lookup_user("0").unwrap().unwrap().name, "root");
        let group = host.lookup_group("0").unwrap().unwrap();
        assert_eq!(group.gid, 0);
        assert_eq!(host.lookup_group(&group.name).unwrap().unwrap().gid, 0);
        assert!(host.lookup_user("no-such-user-here").unwrap().is_none());
        assert!(host.lookup_group("4294967290").unwrap().is_none());
    }

    #[test]
    fn a_root_is_another_when_its_device_or_inode_differs() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(differ(dir.path(), dir.path()), Some(false));
        assert_eq!(differ(dir.path(), Path::new("/")), Some(true));
        assert_eq!(differ(dir.path(), &dir.path().join("none")), None);
        // This test process is where it started.
        assert_eq!(
            in_chroot(),
            differ(Path::new("/"), Path::new("/proc/1/root")) == Some(true)
        );
    }

    #[test]
    fn a_chroot_entered_is_known_without_proc() {
        use nix::sys::wait::{WaitStatus, waitpid};
        use nix::unistd::{ForkResult, fork};
        // In a child: the flag is the process's for good.
        // SAFETY: the child only stores a flag, reads files and exits.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                note_chroot_entered();
                unsafe { nix::libc::_exit(if in_chroot() { 0 } else { 1 }) }
            }
            ForkResult::Parent { child } => {
                assert_eq!(waitpid(child, None).unwrap(), WaitStatus::Exited(child, 0));
            }
        }
    }

    #[test]
    fn facts_describe_this_process() {
        let host = host_with(&[]);
        let me = host.whoami();
        assert_eq!(me.uid, nix::unistd::getuid().as_raw());
        assert_eq!(me.gid, nix::unistd::getgid().as_raw());
        assert!(!host.hostname().is_empty());
        let arch = host.architecture();
        assert!(
            arch == std::env::consts::ARCH || arch.starts_with("arm"),
            "{arch}"
        );
    }
}
