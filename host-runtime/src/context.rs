//! Contexts a subdeployment runs in: a chroot, or another user.
//!
//! A context is entered by a freshly forked control child, never by the process
//! that asked for it, so the asker is never stuck inside a chroot or a lower uid.
//! Contexts are entered in order, each resolved inside the ones before it: a
//! chroot's path inside the previous chroot, a user in the chroot's passwd.

use std::ffi::CString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::{Mode, umask};
use nix::unistd::{Uid, User, chdir, chroot, geteuid, initgroups, setgid, setuid};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Directories of the host bind-mounted into a chroot, unless it is bare.
const CHROOT_MOUNTS: [&str; 3] = ["proc", "sys", "dev"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Context {
    /// `chroot:PATH` (bind-mounts /proc, /sys, /dev) or `chroot-bare:PATH`.
    Chroot { path: PathBuf, mounts: bool },
    /// `setuid:USER`, also written `as:USER`.
    Setuid { user: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("unknown context {0:?}: write chroot:PATH, chroot-bare:PATH, setuid:USER or as:USER")]
    Unknown(String),
    #[error("{context}: {message}")]
    Enter { context: String, message: String },
}

impl FromStr for Context {
    type Err = ContextError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || ContextError::Unknown(s.to_owned());
        let (kind, arg) = s.split_once(':').ok_or_else(unknown)?;
        if arg.is_empty() {
            return Err(unknown());
        }
        match kind {
            "chroot" | "chroot-bare" => {
                if !arg.starts_with('/') {
                    return Err(ContextError::Enter {
                        context: s.to_owned(),
                        message: "the chroot's path must be absolute".into(),
                    });
                }
                Ok(Context::Chroot {
                    path: PathBuf::from(arg),
                    mounts: kind == "chroot",
                })
            }
            "setuid" | "as" => Ok(Context::Setuid {
                user: arg.to_owned(),
            }),
            _ => Err(unknown()),
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Context::Chroot { path, mounts: true } => write!(f, "chroot:{}", path.display()),
            Context::Chroot {
                path,
                mounts: false,
            } => write!(f, "chroot-bare:{}", path.display()),
            Context::Setuid { user } => write!(f, "setuid:{user}"),
        }
    }
}

impl Serialize for Context {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Context {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A chain of contexts for reports: `chroot:/srv/c1 → setuid:www`.
pub fn describe_chain(contexts: &[Context]) -> String {
    contexts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" → ")
}

/// Where `/` of a process inside `contexts` lies among the files of the
/// process outside them: each chroot moves it down, users leave it.
pub fn files_root(contexts: &[Context]) -> PathBuf {
    contexts
        .iter()
        .fold(PathBuf::from("/"), |root, context| match context {
            Context::Chroot { path, .. } => root.join(path.strip_prefix("/").unwrap_or(path)),
            Context::Setuid { .. } => root,
        })
}

impl Context {
    /// Enter this context in the calling process, for good. Only a child forked
    /// for the purpose may call this, and only while it is single-threaded.
    pub fn enter(&self) -> Result<(), ContextError> {
        let result = match self {
            Context::Chroot { path, mounts } => enter_chroot(path, *mounts),
            Context::Setuid { user } => enter_user(user),
        };
        result.map_err(|message| ContextError::Enter {
            context: self.to_string(),
            message,
        })
    }
}

fn need_root(what: &str) -> Result<(), String> {
    if geteuid().is_root() {
        Ok(())
    } else {
        Err(format!(
            "{what} needs root, and this process runs as uid {}",
            geteuid()
        ))
    }
}

fn enter_chroot(path: &Path, mounts: bool) -> Result<(), String> {
    need_root("entering a chroot")?;
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err("not a directory".into()),
        Err(e) => return Err(e.to_string()),
    }
    if mounts {
        // A private mount namespace: the mounts below are seen by this process and
        // its children only, and vanish with them, with nothing to clean up.
        unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("private mount namespace: {e}"))?;
        let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
        match mount(None::<&str>, "/", None::<&str>, private, None::<&str>) {
            // "/" is not a mount point inside a chroot; one Consfig entered is in a
            // namespace whose mounts it already made private, and so are their copies.
            Ok(()) | Err(nix::Error::EINVAL) => {}
            Err(e) => return Err(format!("making mounts private: {e}")),
        }
        for dir in CHROOT_MOUNTS {
            let target = path.join(dir);
            // Only where the tree has a mount point: a chroot is not modified.
            if target.is_dir() {
                let source = Path::new("/").join(dir);
                mount(
                    Some(&source),
                    &target,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .and_then(|()| mount(None::<&str>, &target, None::<&str>, private, None::<&str>))
                .map_err(|e| {
                    format!(
                        "bind-mounting {} on {}: {e}",
                        source.display(),
                        target.display()
                    )
                })?;
            }
        }
    }
    chroot(path).map_err(|e| format!("chroot: {e}"))?;
    chdir("/").map_err(|e| format!("chdir /: {e}"))?;
    Ok(())
}

fn enter_user(name: &str) -> Result<(), String> {
    let user = User::from_name(name)
        .map_err(|e| format!("looking up the user: {e}"))?
        .ok_or_else(|| "no such user".to_owned())?;
    if user.uid != geteuid() {
        need_root("becoming another user")?;
        let c_name = CString::new(name).map_err(|_| "user name has a NUL byte".to_owned())?;
        // Groups first: once the uid is dropped, they can no longer be changed.
        initgroups(&c_name, user.gid).map_err(|e| format!("initgroups: {e}"))?;
        setgid(user.gid).map_err(|e| format!("setgid {}: {e}", user.gid))?;
        setuid(user.uid).map_err(|e| format!("setuid {}: {e}", user.uid))?;
    }
    let path = if user.uid == Uid::from_raw(0) {
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    } else {
        "/usr/local/bin:/usr/bin:/bin"
    };
    // SAFETY: a control child enters contexts right after fork, single-threaded
    // (checked before the fork), so nothing reads the environment concurrently.
    unsafe {
        std::env::set_var("HOME", &user.dir);
        std::env::set_var("USER", name);
        std::env::set_var("LOGNAME", name);
        std::env::set_var("SHELL", &user.shell);
        std::env::set_var("PATH", path);
    }
    umask(Mode::from_bits_truncate(0o022));
    if chdir(&user.dir).is_err() {
        chdir("/").map_err(|e| format!("chdir /: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_contexts() {
        for text in ["chroot:/srv/c1", "chroot-bare:/srv/c2", "setuid:www-data"] {
            assert_eq!(text.parse::<Context>().unwrap().to_string(), text);
        }
        assert_eq!(
            "as:www".parse::<Context>().unwrap(),
            Context::Setuid { user: "www".into() }
        );
        assert!(matches!(
            "chroot:relative".parse::<Context>(),
            Err(ContextError::Enter { .. })
        ));
        assert!(matches!(
            "jail:/x".parse::<Context>(),
            Err(ContextError::Unknown(_))
        ));
        assert!(matches!(
            "setuid:".parse::<Context>(),
            Err(ContextError::Unknown(_))
        ));
    }

    #[test]
    fn chroots_move_the_files_root_and_users_do_not() {
        let chain =
            |texts: &[&str]| -> Vec<Context> { texts.iter().map(|t| t.parse().unwrap()).collect() };
        assert_eq!(files_root(&[]), Path::new("/"));
        assert_eq!(files_root(&chain(&["setuid:www"])), Path::new("/"));
        assert_eq!(
            files_root(&chain(&[
                "chroot:/srv/c1",
                "setuid:www",
                "chroot-bare:/var/c2"
            ])),
            Path::new("/srv/c1/var/c2")
        );
    }
}
