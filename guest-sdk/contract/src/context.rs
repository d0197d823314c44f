//! Contexts: where a subdeployment's forms run. Written as text —
//! `chroot:/srv/c1`, `chroot-bare:/srv/c2`, `setuid:www-data` (also
//! `as:www-data`), `nsenter:4242` (the namespaces and root of a running
//! process: a container), `machine:web` (a systemd container, by its
//! machine name) — in the contract, in forms and in connection chains.
//! Entering one is the runtime's business; this is only what they say.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Context {
    /// `chroot:PATH` (with /proc, /sys and /dev mounted inside) or
    /// `chroot-bare:PATH` (nothing mounted); PATH is absolute.
    Chroot { path: PathBuf, mounts: bool },
    /// `setuid:USER`, also written `as:USER`.
    Setuid { user: String },
    /// `nsenter:PID`: the namespaces (mount, UTS, IPC, network, PID,
    /// cgroup, and user when it differs) and the root directory of the
    /// running process PID.
    Nsenter { pid: u32 },
    /// `machine:NAME`: the same, for the leader process of the systemd
    /// container (systemd-machined's machine) NAME.
    Machine { name: String },
}

/// The largest process id Linux gives (`PID_MAX_LIMIT`).
pub const PID_MAX: u32 = 1 << 22;

/// `text` as a process id: decimal digits only (no sign, no spaces, no
/// leading zero), 1 to [`PID_MAX`].
pub fn parse_pid(text: &str) -> Result<u32, &'static str> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the process id must be a decimal number");
    }
    if text.starts_with('0') {
        return Err("the process id must be a number from 1, without leading zeros");
    }
    match text.parse::<u32>() {
        Ok(pid) if pid <= PID_MAX => Ok(pid),
        _ => Err("the process id is larger than any Linux gives"),
    }
}

/// Whether `name` is a machine name systemd-machined accepts: a host name
/// of at most 64 characters (letters, digits, `-`, `_`, `.`), not starting
/// with `-` or `.`, and no `..`: it names a file under /run/systemd/machines
/// and an argument of machinectl.
pub fn check_machine_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 64 {
        return Err("a machine name has 1 to 64 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err("a machine name has only letters, digits, '-', '_' and '.'");
    }
    if name.starts_with(['-', '.']) || name.contains("..") {
        return Err("a machine name may not start with '-' or '.', nor contain '..'");
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error(
        "unknown context {0:?}: write chroot:PATH, chroot-bare:PATH, setuid:USER, as:USER, nsenter:PID or machine:NAME"
    )]
    Unknown(String),
    #[error("{0}: the chroot's path must be absolute")]
    RelativeChroot(String),
    #[error("{0}: {1}")]
    BadChroot(String, &'static str),
    #[error("{0}: {1}")]
    BadPid(String, &'static str),
    #[error("{0}: {1}")]
    BadMachine(String, &'static str),
}

impl FromStr for Context {
    type Err = ContextError;

    fn from_str(text: &str) -> Result<Context, ContextError> {
        let unknown = || ContextError::Unknown(text.to_owned());
        let (kind, arg) = text.split_once(':').ok_or_else(unknown)?;
        if arg.is_empty() {
            return Err(unknown());
        }
        match kind {
            "chroot" | "chroot-bare" if !arg.starts_with('/') => {
                Err(ContextError::RelativeChroot(text.to_owned()))
            }
            "chroot" | "chroot-bare" => Ok(Context::Chroot {
                path: crate::absolute_path(arg)
                    .map_err(|reason| ContextError::BadChroot(text.to_owned(), reason))?,
                mounts: kind == "chroot",
            }),
            "setuid" | "as" => Ok(Context::Setuid {
                user: arg.to_owned(),
            }),
            "nsenter" => Ok(Context::Nsenter {
                pid: parse_pid(arg)
                    .map_err(|reason| ContextError::BadPid(text.to_owned(), reason))?,
            }),
            "machine" => {
                check_machine_name(arg)
                    .map_err(|reason| ContextError::BadMachine(text.to_owned(), reason))?;
                Ok(Context::Machine {
                    name: arg.to_owned(),
                })
            }
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
            Context::Nsenter { pid } => write!(f, "nsenter:{pid}"),
            Context::Machine { name } => write!(f, "machine:{name}"),
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

impl Context {
    /// A chain of contexts for reports: `chroot:/srv/c1 → setuid:www`.
    pub fn describe_chain(contexts: &[Context]) -> String {
        contexts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// Where `/` of a process inside `contexts` lies among the files of the
    /// process outside them: each chroot moves it down, users leave it, a
    /// process's namespaces move it to that process's root as /proc shows
    /// it (`/proc/PID/root`). A machine is known by name only: the runtime
    /// gives its leader as an `nsenter:` context first, and here it counts as
    /// its own root under /run/systemd/machines (which holds no files).
    pub fn files_root(contexts: &[Context]) -> PathBuf {
        contexts
            .iter()
            .fold(PathBuf::from("/"), |root, context| match context {
                Context::Chroot { path, .. } => {
                    root.join(path.strip_prefix("/").unwrap_or(Path::new("")))
                }
                Context::Setuid { .. } => root,
                Context::Nsenter { pid } => root.join(format!("proc/{pid}/root")),
                Context::Machine { name } => root.join(format!("run/systemd/machines/{name}")),
            })
    }

    /// Whether entering this context changes namespaces (a running
    /// process's, not a chroot's or a user's).
    pub fn enters_namespaces(&self) -> bool {
        matches!(self, Context::Nsenter { .. } | Context::Machine { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_contexts() {
        for text in [
            "chroot:/srv/c1",
            "chroot-bare:/srv/c2",
            "setuid:www-data",
            "nsenter:4242",
            "machine:web-1.example",
        ] {
            assert_eq!(text.parse::<Context>().unwrap().to_string(), text);
        }
        assert_eq!(
            "as:www".parse::<Context>().unwrap(),
            Context::Setuid { user: "www".into() }
        );
        assert_eq!(
            "chroot:relative".parse::<Context>(),
            Err(ContextError::RelativeChroot("chroot:relative".into()))
        );
        for unknown in ["jail:/x", "setuid:", "chroot", ""] {
            assert!(
                matches!(unknown.parse::<Context>(), Err(ContextError::Unknown(_))),
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn a_pid_is_a_plain_positive_number() {
        assert_eq!(
            "nsenter:1".parse::<Context>(),
            Ok(Context::Nsenter { pid: 1 })
        );
        for bad in [
            "nsenter:0",
            "nsenter:-1",
            "nsenter:+5",
            "nsenter: 5",
            "nsenter:5 ",
            "nsenter:05",
            "nsenter:0x10",
            "nsenter:self",
            "nsenter:99999999999",
            "nsenter:4194305",
            "nsenter:1/../2",
        ] {
            assert!(
                matches!(bad.parse::<Context>(), Err(ContextError::BadPid(..))),
                "{bad:?}"
            );
        }
        assert!(
            "nsenter:abc"
                .parse::<Context>()
                .unwrap_err()
                .to_string()
                .contains("decimal number")
        );
    }

    #[test]
    fn a_machine_name_cannot_become_a_path_or_an_option() {
        for bad in [
            "machine:-H",
            "machine:--help",
            "machine:.hidden",
            "machine:a/b",
            "machine:..",
            "machine:a..b",
            "machine:a b",
            "machine:a\nb",
            "machine:\u{e9}t\u{e9}",
        ] {
            assert!(
                matches!(bad.parse::<Context>(), Err(ContextError::BadMachine(..))),
                "{bad:?}"
            );
        }
        let long = format!("machine:{}", "a".repeat(65));
        assert!(matches!(
            long.parse::<Context>(),
            Err(ContextError::BadMachine(..))
        ));
    }

    #[test]
    fn a_process_moves_the_files_root_to_its_own() {
        let chain =
            |texts: &[&str]| -> Vec<Context> { texts.iter().map(|t| t.parse().unwrap()).collect() };
        assert_eq!(
            Context::files_root(&chain(&["nsenter:42", "chroot:/srv/c1"])),
            Path::new("/proc/42/root/srv/c1")
        );
    }

    #[test]
    fn chroots_move_the_files_root_and_users_do_not() {
        let chain =
            |texts: &[&str]| -> Vec<Context> { texts.iter().map(|t| t.parse().unwrap()).collect() };
        assert_eq!(Context::files_root(&[]), Path::new("/"));
        assert_eq!(Context::files_root(&chain(&["setuid:www"])), Path::new("/"));
        assert_eq!(
            Context::files_root(&chain(&[
                "chroot:/srv/c1",
                "setuid:www",
                "chroot-bare:/var/c2"
            ])),
            Path::new("/srv/c1/var/c2")
        );
        assert_eq!(
            Context::describe_chain(&chain(&["chroot:/srv/c1", "as:www"])),
            "chroot:/srv/c1 → setuid:www"
        );
    }
}
