//! Grants: what a module may do on the host, written as text — the same in
//! Consfig.toml (`[module.NAME] grants`), in a module's declared needs, on
//! `consfig bundle --grant` and in `image:dumped`:
//!
//! - `read:DIR` — read files and their status under DIR (a file or directory);
//! - `write:DIR` — that, and write, remove, make directories, change modes.
//!   A mode with set-uid or set-gid bits is refused without `setid:` (never
//!   silently masked), and so is rewriting a set-id file that would keep its
//!   mode; a mode is never changed through a file with other names (hard
//!   links) beneath DIR, which could lie outside it. DIR (every `read:` and
//!   `write:` path) is opened without following symlinks: a grant whose path
//!   goes through one is refused, whatever it points to;
//! - `setid:DIR` — with `write:DIR`, set set-uid and set-gid bits there too;
//! - `command:PROGRAM` — run PROGRAM (an absolute path) with any arguments;
//!   `command:PROGRAM ARG…` — only with exactly as many arguments, each
//!   matching its glob (words split and quoted as a shell does: `'a b'` is one
//!   word; `*` never spans two arguments, and a word that does not start with
//!   `-` never matches an argument that does); `command:*` — anything;
//! - `env:NAME` — commands get NAME, from the runtime's environment or set by
//!   the module (`env:*`: the runtime's whole environment, and any variable
//!   the module sets only with `command:*`); the dynamic loader's variables
//!   never reach the commands of untrusted modules;
//! - `net` — any TCP/UDP address, and name lookups; `net:HOST:PORT` — bind,
//!   listen on or connect to that address (HOST an IP address, IPv6 in
//!   brackets, or `*`; PORT a number or `*`);
//! - `subdeploy` — apply forms in subdeployments (a fresh image, here);
//! - `context:chroot:DIR` — with `subdeploy`, into chroots at or beneath DIR;
//!   `context:setuid:USER` — as USER (`context:setuid:*`: any user);
//!   `context:nsenter:PID` — in the namespaces and root of process PID
//!   (`context:nsenter:*`: of any process in a container, and any machine);
//!   `context:machine:NAME` — of the systemd container NAME (`context:machine:*`:
//!   any of them);
//! - `data:KEY` — read this host's data KEY (`data:*`: all of it).
//!
//! What a grant allows at run time is the runtime's sandbox; this is the
//! grammar, and which grant gives at least what another gives ([`Grant::covers`]).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad grant {text:?}: {reason}")]
pub struct GrantError {
    text: String,
    reason: String,
}

/// One grant, as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Grant {
    Read(PathBuf),
    Write(PathBuf),
    /// Set-uid and set-gid bits on files beneath the directory.
    SetId(PathBuf),
    /// A program (None: any) and a glob per argument (None: any arguments).
    Command {
        program: Option<PathBuf>,
        args: Option<Vec<String>>,
    },
    /// An environment variable (None: all of them).
    Env(Option<String>),
    /// Every address, and name lookups.
    AnyNetwork,
    Network(AddressPattern),
    Subdeploy,
    /// Chroots at or beneath the directory, as subdeployment contexts.
    Chroot(PathBuf),
    /// A user (None: any) as a subdeployment context.
    Setuid(Option<String>),
    /// A running process's namespaces (None: any process's, and any machine's).
    Nsenter(Option<u32>),
    /// A systemd container by machine name (None: any).
    Machine(Option<String>),
    /// A key of the host's data (None: all of them).
    Data(Option<String>),
}

/// Whether `args` match the per-argument globs `patterns`: as many of
/// them, each matching its own, and an argument starting with `-` only
/// matched by a glob that does too (a wildcard never becomes an option).
pub fn args_match(patterns: &[String], args: &[String]) -> bool {
    patterns.len() == args.len()
        && patterns.iter().zip(args).all(|(pattern, arg)| {
            (!arg.starts_with('-') || pattern.starts_with('-'))
                && glob::Pattern::new(pattern).is_ok_and(|p| p.matches(arg))
        })
}

/// `HOST:PORT` where either may be `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressPattern {
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
}

impl AddressPattern {
    pub fn matches(&self, addr: SocketAddr) -> bool {
        self.ip.is_none_or(|ip| ip == addr.ip()) && self.port.is_none_or(|p| p == addr.port())
    }

    fn covers(&self, other: &AddressPattern) -> bool {
        (self.ip.is_none() || self.ip == other.ip)
            && (self.port.is_none() || self.port == other.port)
    }
}

impl fmt::Display for AddressPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            None => f.write_str("*")?,
            Some(IpAddr::V4(ip)) => write!(f, "{ip}")?,
            Some(IpAddr::V6(ip)) => write!(f, "[{ip}]")?,
        }
        match self.port {
            None => f.write_str(":*"),
            Some(port) => write!(f, ":{port}"),
        }
    }
}

/// `text` as an absolute path without `.` or `..`, as grants and the paths
/// of checked calls are.
pub fn absolute_path(text: &str) -> Result<PathBuf, &'static str> {
    let path = Path::new(text);
    if !path.is_absolute() {
        return Err("the path must be absolute");
    }
    let mut clean = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::RootDir => {}
            Component::Normal(part) => clean.push(part),
            Component::CurDir | Component::ParentDir | Component::Prefix(_) => {
                return Err("the path may not contain . or ..");
            }
        }
    }
    Ok(clean)
}

impl FromStr for Grant {
    type Err = GrantError;

    fn from_str(text: &str) -> Result<Grant, GrantError> {
        let bad = |reason: &str| GrantError {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        // No path, argument or name the kernel takes can hold one, and
        // shell quoting cannot show one: a grant printed and read back
        // would mean something else.
        if text.contains('\0') {
            return Err(bad("a grant cannot contain a NUL character"));
        }
        let (kind, arg) = match text.split_once(':') {
            Some((kind, arg)) => (kind, Some(arg)),
            None => (text, None),
        };
        match (kind, arg) {
            ("net", None) => Ok(Grant::AnyNetwork),
            ("subdeploy", None) => Ok(Grant::Subdeploy),
            ("read", Some(path)) => Ok(Grant::Read(absolute_path(path).map_err(bad)?)),
            ("write", Some(path)) => Ok(Grant::Write(absolute_path(path).map_err(bad)?)),
            ("setid", Some(path)) => Ok(Grant::SetId(absolute_path(path).map_err(bad)?)),
            ("env", Some("*")) => Ok(Grant::Env(None)),
            ("env", Some(name)) if is_variable_name(name) => Ok(Grant::Env(Some(name.to_owned()))),
            ("data", Some("*")) => Ok(Grant::Data(None)),
            ("data", Some(key)) if !key.is_empty() => Ok(Grant::Data(Some(key.to_owned()))),
            ("context", Some(context)) => match context.split_once(':') {
                Some(("chroot", path)) => Ok(Grant::Chroot(absolute_path(path).map_err(bad)?)),
                Some(("setuid", "*")) => Ok(Grant::Setuid(None)),
                Some(("setuid", user)) if !user.is_empty() && !user.contains(['/', ':']) => {
                    Ok(Grant::Setuid(Some(user.to_owned())))
                }
                Some(("nsenter", "*")) => Ok(Grant::Nsenter(None)),
                Some(("nsenter", pid)) => Ok(Grant::Nsenter(Some(
                    crate::context::parse_pid(pid).map_err(bad)?,
                ))),
                Some(("machine", "*")) => Ok(Grant::Machine(None)),
                Some(("machine", name)) => {
                    crate::context::check_machine_name(name).map_err(bad)?;
                    Ok(Grant::Machine(Some(name.to_owned())))
                }
                _ => Err(bad(
                    "write context:chroot:DIR, context:setuid:USER, context:setuid:*, context:nsenter:PID, context:nsenter:*, context:machine:NAME or context:machine:*",
                )),
            },
            ("command", Some("*")) => Ok(Grant::Command {
                program: None,
                args: None,
            }),
            ("command", Some(spec)) => {
                let words = shlex::split(spec)
                    .ok_or_else(|| bad("unbalanced quotes or a trailing backslash"))?;
                let (program, args) = words
                    .split_first()
                    .ok_or_else(|| bad("name the program: command:PROGRAM [ARG…]"))?;
                let program = absolute_path(program)
                    .map_err(|_| bad("the program must be an absolute path, or * for any"))?;
                for arg in args {
                    glob::Pattern::new(arg)
                        .map_err(|e| bad(&format!("argument pattern {arg:?}: {e}")))?;
                }
                Ok(Grant::Command {
                    program: Some(program),
                    // Nothing after the program: any arguments (`command:/bin/true ''`
                    // is one empty argument).
                    args: (!args.is_empty()).then(|| args.to_vec()),
                })
            }
            ("net", Some(address)) => Ok(Grant::Network(parse_address(address).map_err(bad)?)),
            _ => Err(bad(
                "write read:DIR, write:DIR, setid:DIR, command:PROGRAM [ARG…], command:*, env:NAME, data:KEY, net, net:HOST:PORT, subdeploy, context:chroot:DIR, context:setuid:USER, context:nsenter:PID or context:machine:NAME",
            )),
        }
    }
}

/// An environment variable's name as a grant may give it: letters, digits
/// and `_`, not starting with a digit.
fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn parse_address(address: &str) -> Result<AddressPattern, &'static str> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or("the address needs a port: net:HOST:PORT, with * for any")?;
    let ip = match host {
        "*" => None,
        _ => {
            let bare = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            Some(bare.parse::<IpAddr>().map_err(|_| {
                "the host must be an IP address (IPv6 in brackets) or *; names are not resolved"
            })?)
        }
    };
    let port = match port {
        "*" => None,
        _ => Some(
            port.parse::<u16>()
                .map_err(|_| "the port must be 0–65535 or *")?,
        ),
    };
    Ok(AddressPattern { ip, port })
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grant::Read(path) => write!(f, "read:{}", path.display()),
            Grant::Write(path) => write!(f, "write:{}", path.display()),
            Grant::SetId(path) => write!(f, "setid:{}", path.display()),
            Grant::Command { program: None, .. } => f.write_str("command:*"),
            Grant::Command {
                program: Some(program),
                args,
            } => {
                // Each word quoted only when splitting needs it (globs stay
                // readable), the program too: read back, it is the same grant.
                let word = |f: &mut fmt::Formatter<'_>, word: &str| {
                    let plain = !word.is_empty()
                        && !word.contains(|c: char| c.is_whitespace() || "'\"\\#$`".contains(c));
                    match shlex::try_quote(word) {
                        Ok(quoted) if !plain => f.write_str(&quoted),
                        _ => f.write_str(word),
                    }
                };
                f.write_str("command:")?;
                word(f, &program.to_string_lossy())?;
                for arg in args.iter().flatten() {
                    f.write_str(" ")?;
                    word(f, arg)?;
                }
                Ok(())
            }
            Grant::Env(None) => f.write_str("env:*"),
            Grant::Env(Some(name)) => write!(f, "env:{name}"),
            Grant::AnyNetwork => f.write_str("net"),
            Grant::Network(pattern) => write!(f, "net:{pattern}"),
            Grant::Subdeploy => f.write_str("subdeploy"),
            Grant::Chroot(path) => write!(f, "context:chroot:{}", path.display()),
            Grant::Setuid(None) => f.write_str("context:setuid:*"),
            Grant::Setuid(Some(user)) => write!(f, "context:setuid:{user}"),
            Grant::Nsenter(None) => f.write_str("context:nsenter:*"),
            Grant::Nsenter(Some(pid)) => write!(f, "context:nsenter:{pid}"),
            Grant::Machine(None) => f.write_str("context:machine:*"),
            Grant::Machine(Some(name)) => write!(f, "context:machine:{name}"),
            Grant::Data(None) => f.write_str("data:*"),
            Grant::Data(Some(key)) => write!(f, "data:{key}"),
        }
    }
}

impl TryFrom<String> for Grant {
    type Error = GrantError;
    fn try_from(text: String) -> Result<Grant, GrantError> {
        text.parse()
    }
}

impl From<Grant> for String {
    fn from(grant: Grant) -> String {
        grant.to_string()
    }
}

/// Parse grants as written, e.g. from `--grant` or the `image:dumped` form.
pub fn parse_grants<S: AsRef<str>>(texts: &[S]) -> Result<Vec<Grant>, GrantError> {
    texts.iter().map(|t| t.as_ref().parse()).collect()
}

impl Grant {
    /// Whether holding this grant gives everything `need` gives.
    pub fn covers(&self, need: &Grant) -> bool {
        match (self, need) {
            (Grant::Write(dir), Grant::Write(path) | Grant::Read(path))
            | (Grant::Read(dir), Grant::Read(path))
            | (Grant::SetId(dir), Grant::SetId(path))
            | (Grant::Chroot(dir), Grant::Chroot(path)) => path.starts_with(dir),
            (Grant::Setuid(None), Grant::Setuid(_)) => true,
            (Grant::Nsenter(None), Grant::Nsenter(_) | Grant::Machine(_)) => true,
            (Grant::Machine(None), Grant::Machine(_)) => true,
            (Grant::Data(None), Grant::Data(_)) => true,
            (Grant::Command { program: None, .. }, Grant::Command { .. }) => true,
            (
                Grant::Command {
                    program: Some(p),
                    args: None,
                },
                Grant::Command {
                    program: Some(q), ..
                },
            ) => p == q,
            (Grant::Env(None), Grant::Env(_)) => true,
            (Grant::AnyNetwork, Grant::AnyNetwork | Grant::Network(_)) => true,
            (Grant::Network(a), Grant::Network(b)) => a.covers(b),
            _ => self == need,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_grants() {
        for text in [
            "net",
            "net:127.0.0.1:8080",
            "net:*:80",
            "net:[::1]:*",
            "read:/etc",
            "write:/srv/www",
            "write:/",
            "command:*",
            "command:/usr/bin/make",
            "command:/bin/sh -c *",
            "command:/bin/sh -c 'echo *'",
            "command:/bin/true ''",
            "command:'/opt/my app/run' 'a b'",
            "env:LANG",
            "env:*",
            "subdeploy",
            "setid:/usr/local/bin",
            "context:chroot:/srv/c1",
            "context:setuid:www-data",
            "context:setuid:*",
            "context:nsenter:4242",
            "context:nsenter:*",
            "context:machine:web1",
            "context:machine:*",
            "data:db",
            "data:*",
        ] {
            assert_eq!(text.parse::<Grant>().unwrap().to_string(), text);
        }
        assert_eq!(
            "write:/srv/www/".parse::<Grant>().unwrap().to_string(),
            "write:/srv/www"
        );
        for bad in [
            "network",
            "net:",
            "net:localhost:80",
            "net:127.0.0.1",
            "net:1.2.3.4:99999",
            "dir:/etc",
            "read:etc",
            "write:/srv/../etc",
            "command:make",
            "command:/bin/sh [",
            "env:",
            "env:A=B",
            "env:1A",
            "subdeploy:now",
            "command:/bin/sh 'unbalanced",
            "context:chroot:srv",
            "context:setuid:",
            "context:user:www",
            "context:nsenter:",
            "context:nsenter:0",
            "context:nsenter:-1",
            "context:nsenter:self",
            "context:nsenter:1-9",
            "context:machine:",
            "context:machine:-H",
            "context:machine:../x",
            "data:",
            "setid:bin",
            "command:/bin/sh -c 'echo *\0'",
            "read:/etc\0/x",
            "data:a\0b",
        ] {
            assert!(bad.parse::<Grant>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn grants_travel_as_the_text_they_are_written_in() {
        let texts = ["write:/srv/www", "command:/bin/sh -c 'echo *'", "data:db"];
        let parsed = parse_grants(&texts).unwrap();
        assert_eq!(
            parsed,
            texts.map(|t| t.parse::<Grant>().unwrap()),
            "every grant, in order"
        );
        let json = serde_json::to_string(&parsed).unwrap();
        assert_eq!(
            json,
            r#"["write:/srv/www","command:/bin/sh -c 'echo *'","data:db"]"#
        );
        assert_eq!(serde_json::from_str::<Vec<Grant>>(&json).unwrap(), parsed);
        assert!(parse_grants(&["read:/etc", "read:etc"]).is_err());
    }

    #[test]
    fn coverage() {
        let g = |t: &str| t.parse::<Grant>().unwrap();
        assert!(g("write:/srv").covers(&g("read:/srv/www")));
        assert!(g("write:/srv").covers(&g("write:/srv/www")));
        assert!(!g("write:/srv").covers(&g("write:/srvx")));
        assert!(!g("read:/srv").covers(&g("write:/srv")));
        assert!(g("command:*").covers(&g("command:/bin/sh -c *")));
        assert!(g("command:/bin/sh").covers(&g("command:/bin/sh -c *")));
        assert!(!g("command:/bin/sh -c *").covers(&g("command:/bin/sh")));
        assert!(g("net").covers(&g("net:1.2.3.4:5")));
        assert!(g("net:*:5").covers(&g("net:1.2.3.4:5")));
        assert!(!g("net:1.2.3.4:5").covers(&g("net:*:5")));
        assert!(g("env:*").covers(&g("env:LANG")));
        assert!(!g("env:LANG").covers(&g("env:*")));
        assert!(g("context:chroot:/srv").covers(&g("context:chroot:/srv/c1")));
        assert!(!g("context:chroot:/srv/c1").covers(&g("context:chroot:/srv")));
        assert!(g("context:setuid:*").covers(&g("context:setuid:www")));
        assert!(!g("context:setuid:www").covers(&g("context:setuid:root")));
        assert!(g("context:nsenter:*").covers(&g("context:nsenter:42")));
        assert!(g("context:nsenter:*").covers(&g("context:machine:web")));
        assert!(!g("context:nsenter:42").covers(&g("context:nsenter:43")));
        assert!(!g("context:nsenter:42").covers(&g("context:nsenter:*")));
        assert!(g("context:machine:*").covers(&g("context:machine:web")));
        assert!(!g("context:machine:*").covers(&g("context:nsenter:42")));
        assert!(!g("context:machine:web").covers(&g("context:machine:db")));
        assert!(g("data:*").covers(&g("data:db")));
        assert!(!g("data:db").covers(&g("data:api")));
        assert!(!g("write:/usr").covers(&g("setid:/usr/bin")));
    }

    #[test]
    fn arguments_match_one_glob_each() {
        let words = |t: &str| match t.parse::<Grant>().unwrap() {
            Grant::Command { args, .. } => args.unwrap(),
            other => panic!("{other}"),
        };
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let sh = words("command:/bin/sh -c 'echo *'");
        assert!(args_match(&sh, &argv(&["-c", "echo hi"])));
        // Before, `*` matched the rest of the line joined by spaces.
        assert!(!args_match(&sh, &argv(&["-c", "echo hi", "extra"])));
        let make = words("command:/usr/bin/make -C *");
        assert!(args_match(&make, &argv(&["-C", "/srv/app"])));
        assert!(!args_match(
            &make,
            &argv(&["-C", "/srv/app", "--eval=$(shell id)"])
        ));
        assert!(!args_match(&make, &argv(&["-C"])));
        // A wildcard never stands for an option.
        let git = words("command:/usr/bin/git pull *");
        assert!(args_match(&git, &argv(&["pull", "origin"])));
        assert!(!args_match(
            &git,
            &argv(&["pull", "--upload-pack=touch /x"])
        ));
        assert!(args_match(&words("command:/bin/ls -*"), &argv(&["-l"])));
        assert!(args_match(&words("command:/bin/true ''"), &argv(&[""])));
        assert!(!args_match(&words("command:/bin/true ''"), &argv(&[])));
    }

    #[test]
    fn address_patterns_match_addresses() {
        let pattern = |t: &str| match t.parse::<Grant>().unwrap() {
            Grant::Network(p) => p,
            other => panic!("{other}"),
        };
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(pattern("net:127.0.0.1:80").matches(addr("127.0.0.1:80")));
        assert!(!pattern("net:127.0.0.1:80").matches(addr("127.0.0.1:81")));
        assert!(pattern("net:*:443").matches(addr("[::1]:443")));
        assert!(pattern("net:[::1]:*").matches(addr("[::1]:9")));
    }
}
