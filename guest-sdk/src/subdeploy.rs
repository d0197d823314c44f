//! Subdeployments: forms applied by a child process of the host that has
//! entered other *contexts* first — a chroot, another user, a running
//! container's namespaces — each starting
//! from a fresh copy of the modules, as a deploy does.

use std::fmt;
use std::str::FromStr;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};

use crate::{Change, Error, Form, Result, sys};

/// Where a subdeployment runs: an OS context the host enters before applying
/// its forms. Written as text — `chroot:/srv/guest`, `setuid:www-data` — in
/// the contract and in forms, and (de)serialized as that text.
///
/// ```
/// # use consfig_guest::Context;
/// assert_eq!(Context::chroot("/srv/guest").to_string(), "chroot:/srv/guest");
/// assert_eq!(Context::setuid("www-data").to_string(), "setuid:www-data");
/// assert_eq!("as:www-data".parse::<Context>()?, Context::setuid("www-data"));
/// assert_eq!(Context::nsenter(4242).to_string(), "nsenter:4242");
/// assert_eq!(Context::machine("web").to_string(), "machine:web");
/// # Ok::<(), consfig_guest::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Context(String);

impl Context {
    /// `chroot:PATH`: the directory tree at the absolute `path` as the root,
    /// with the host's `/proc`, `/sys` and `/dev` mounted inside it (in a
    /// private mount namespace, so they go away with the subdeployment).
    pub fn chroot(path: impl AsRef<str>) -> Context {
        Context(format!("chroot:{}", path.as_ref()))
    }

    /// `chroot-bare:PATH`: like [`chroot`](Context::chroot), with nothing mounted.
    pub fn chroot_bare(path: impl AsRef<str>) -> Context {
        Context(format!("chroot-bare:{}", path.as_ref()))
    }

    /// `setuid:USER`: as the user with this name, with their groups, `HOME`
    /// and a `PATH` for them.
    pub fn setuid(user: impl AsRef<str>) -> Context {
        Context(format!("setuid:{}", user.as_ref()))
    }

    /// `nsenter:PID`: the namespaces (mount, UTS, IPC, network, PID, cgroup,
    /// and user when it differs) and the root directory of the running
    /// process `pid`, a process of a container. Forms run as processes of
    /// that container. The host refuses a process whose root directory is
    /// its own (one in no container), and any from inside a chroot.
    pub fn nsenter(pid: u32) -> Context {
        Context(format!("nsenter:{pid}"))
    }

    /// `machine:NAME`: like [`nsenter`](Context::nsenter), for the leader
    /// process of the systemd container (systemd-machined's machine) `name`.
    pub fn machine(name: impl AsRef<str>) -> Context {
        Context(format!("machine:{}", name.as_ref()))
    }

    /// The text as given, unchecked: for contexts this crate does not know
    /// yet, or to see what the host makes of a bad one.
    pub fn raw(text: impl Into<String>) -> Context {
        Context(text.into())
    }

    /// The text the host takes, such as `chroot:/srv/guest`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Context {
    type Err = Error;

    /// `chroot:PATH`, `chroot-bare:PATH` (absolute paths), `setuid:USER` or
    /// `as:USER`, checked as the host checks them.
    fn from_str(text: &str) -> Result<Context> {
        let context: consfig_contract::Context = text
            .parse()
            .map_err(|e: consfig_contract::ContextError| Error::new(e.to_string()))?;
        Ok(Context(context.to_string()))
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Context {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Context {
    /// From its text, checked; see [`Context::from_str`].
    fn deserialize<D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Context, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Apply forms in a subdeployment: a child process of the host enters the
/// contexts, in order (each resolved inside the ones before it: a chroot's
/// path inside the previous chroot, a user in the chroot's password
/// database), then applies the forms one after another, each starting from a
/// fresh copy of its module. Never the calling process: it stays where it is.
///
/// The host reports each form's outcome itself, nested under the calling
/// form, and applies every form even when one before it failed. Changed when
/// any form changed; an error when a context cannot be entered or any form
/// failed.
///
/// The module needs the grant `subdeploy`, and one per context it enters:
/// `context:chroot:DIR` for chroots at or beneath DIR, `context:setuid:USER`
/// (or `context:setuid:*`) for users.
///
/// ```no_run
/// use consfig_guest::prelude::*;
///
/// /// Give the user a shell profile, written as the user.
/// #[property]
/// fn has_profile(user: String, profile: String) -> Result<Change> {
///     let home = format!("/home/{user}");
///     subdeploy(
///         &[Context::setuid(&user)],
///         &[Form::new("file:has-content")
///             .arg(format!("{home}/.profile"))?
///             .arg(profile)?],
///     )
/// }
/// # consfig_guest::module! { name: "profiles", properties: [has_profile] }
/// # fn main() {}
/// ```
pub fn subdeploy(contexts: &[Context], forms: &[Form]) -> Result<Change> {
    sys::subdeploy(contexts, forms).map_err(Error::new)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn writes_contexts_as_the_host_reads_them() {
        assert_eq!(Context::chroot("/srv/c1").as_str(), "chroot:/srv/c1");
        assert_eq!(
            Context::chroot_bare("/srv/c1").to_string(),
            "chroot-bare:/srv/c1"
        );
        assert_eq!(Context::setuid("nobody").to_string(), "setuid:nobody");
        assert_eq!(Context::raw("jail:x").to_string(), "jail:x");
        assert_eq!(
            serde_json::to_value([Context::chroot("/c"), Context::setuid("ada")]).unwrap(),
            json!(["chroot:/c", "setuid:ada"])
        );
    }

    #[test]
    fn parses_contexts() {
        let parse = |s: &str| s.parse::<Context>();
        assert_eq!(parse("chroot:/srv/c1"), Ok(Context::chroot("/srv/c1")));
        assert_eq!(parse("chroot-bare:/c"), Ok(Context::chroot_bare("/c")));
        assert_eq!(parse("setuid:www"), Ok(Context::setuid("www")));
        assert_eq!(parse("as:www"), Ok(Context::setuid("www")));
        // Only the first colon separates.
        assert_eq!(parse("chroot:/a:b"), Ok(Context::chroot("/a:b")));
        let contexts: Vec<Context> =
            serde_json::from_value(json!(["chroot:/c", "as:ada"])).unwrap();
        assert_eq!(contexts, [Context::chroot("/c"), Context::setuid("ada")]);
    }

    #[test]
    fn refuses_unknown_contexts() {
        let err = |s: &str| s.parse::<Context>().unwrap_err().to_string();
        for bad in ["jail:/x", "chroot", "chroot:", "setuid:", ""] {
            assert_eq!(
                err(bad),
                format!(
                    "unknown context {bad:?}: write chroot:PATH, chroot-bare:PATH, setuid:USER, as:USER, nsenter:PID or machine:NAME"
                )
            );
        }
        assert_eq!(
            err("chroot:srv/c1"),
            "chroot:srv/c1: the chroot's path must be absolute"
        );
        assert_eq!(
            err("chroot-bare:."),
            "chroot-bare:.: the chroot's path must be absolute"
        );
        let e = serde_json::from_value::<Context>(json!("jail:/x")).unwrap_err();
        assert!(e.to_string().starts_with("unknown context \"jail:/x\""));
    }
}
