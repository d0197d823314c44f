//! Contexts: where a subdeployment's forms run. Written as text —
//! `chroot:/srv/c1`, `chroot-bare:/srv/c2`, `setuid:www-data` (also
//! `as:www-data`) — in the contract, in forms and in connection chains.
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
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("unknown context {0:?}: write chroot:PATH, chroot-bare:PATH, setuid:USER or as:USER")]
    Unknown(String),
    #[error("{0}: the chroot's path must be absolute")]
    RelativeChroot(String),
    #[error("{0}: {1}")]
    BadChroot(String, &'static str),
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
    /// process outside them: each chroot moves it down, users leave it.
    pub fn files_root(contexts: &[Context]) -> PathBuf {
        contexts
            .iter()
            .fold(PathBuf::from("/"), |root, context| match context {
                Context::Chroot { path, .. } => {
                    root.join(path.strip_prefix("/").unwrap_or(Path::new("")))
                }
                Context::Setuid { .. } => root,
            })
    }
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
