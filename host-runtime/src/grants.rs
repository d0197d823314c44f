//! Grants: what a module may do on the host. Nothing unless granted.
//!
//! A grant is written as text, the same in Consfig.toml (`[module.NAME]
//! grants`), in a module's declared needs, on `consfig bundle --grant` and in
//! `image:dumped`:
//!
//! - `read:DIR` — read files and their status under DIR (a file or directory);
//! - `write:DIR` — that, and write, remove, make directories, change modes;
//! - `command:PROGRAM` — run PROGRAM (an absolute path) with any arguments;
//!   `command:PROGRAM ARGS` — only with arguments matching the glob ARGS
//!   (matched against the arguments joined by spaces); `command:*` — anything;
//! - `env:NAME` — commands it runs get NAME from the runtime's environment
//!   (`env:*`: all of it); otherwise they get PATH, HOME, USER, LOGNAME, LANG;
//! - `net` — any TCP/UDP address, and name lookups; `net:HOST:PORT` — bind,
//!   listen on or connect to that address (HOST an IP address, IPv6 in
//!   brackets, or `*`; PORT a number or `*`);
//! - `subdeploy` — apply forms in subdeployments (chroots, other users).
//!
//! A call is allowed when the module making it has a grant for it and so has
//! every module it was called through (by `apply` or a subdeployment) that is
//! neither trusted nor one of the standard modules: grants never grow by
//! calling through another module.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use wasmtime_wasi::sockets::SocketAddrUse;

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
    /// A program (None: any) and a glob its joined arguments must match (None: any).
    Command {
        program: Option<PathBuf>,
        args: Option<String>,
    },
    /// An environment variable (None: all of them).
    Env(Option<String>),
    /// Every address, and name lookups.
    AnyNetwork,
    Network(AddressPattern),
    Subdeploy,
}

/// `HOST:PORT` where either may be `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressPattern {
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
}

impl AddressPattern {
    fn matches(&self, addr: SocketAddr) -> bool {
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

/// An absolute path without `.` or `..`, as grants and checked calls use.
pub(crate) fn clean_path(text: &str) -> Result<PathBuf, &'static str> {
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
        let (kind, arg) = match text.split_once(':') {
            Some((kind, arg)) => (kind, Some(arg)),
            None => (text, None),
        };
        match (kind, arg) {
            ("net", None) => Ok(Grant::AnyNetwork),
            ("subdeploy", None) => Ok(Grant::Subdeploy),
            ("read", Some(path)) => Ok(Grant::Read(clean_path(path).map_err(bad)?)),
            ("write", Some(path)) => Ok(Grant::Write(clean_path(path).map_err(bad)?)),
            ("env", Some("*")) => Ok(Grant::Env(None)),
            ("env", Some(name)) if !name.is_empty() && !name.contains('=') => {
                Ok(Grant::Env(Some(name.to_owned())))
            }
            ("command", Some("*")) => Ok(Grant::Command {
                program: None,
                args: None,
            }),
            ("command", Some(spec)) => {
                let (program, args) = match spec.split_once(' ') {
                    Some((program, args)) => (program, Some(args.trim())),
                    None => (spec, None),
                };
                let program = clean_path(program)
                    .map_err(|_| bad("the program must be an absolute path, or * for any"))?;
                if let Some(args) = args {
                    glob::Pattern::new(args).map_err(|e| bad(&format!("argument pattern: {e}")))?;
                }
                Ok(Grant::Command {
                    program: Some(program),
                    args: args.map(str::to_owned),
                })
            }
            ("net", Some(address)) => {
                let (host, port) = address.rsplit_once(':').ok_or_else(|| {
                    bad("the address needs a port: net:HOST:PORT, with * for any")
                })?;
                let ip = match host {
                    "*" => None,
                    _ => {
                        let bare = host
                            .strip_prefix('[')
                            .and_then(|h| h.strip_suffix(']'))
                            .unwrap_or(host);
                        Some(bare.parse::<IpAddr>().map_err(|_| {
                            bad("the host must be an IP address (IPv6 in brackets) or *; names are not resolved")
                        })?)
                    }
                };
                let port = match port {
                    "*" => None,
                    _ => Some(
                        port.parse::<u16>()
                            .map_err(|_| bad("the port must be 0–65535 or *"))?,
                    ),
                };
                Ok(Grant::Network(AddressPattern { ip, port }))
            }
            _ => Err(bad(
                "write read:DIR, write:DIR, command:PROGRAM [ARGS], command:*, env:NAME, net, net:HOST:PORT or subdeploy",
            )),
        }
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grant::Read(path) => write!(f, "read:{}", path.display()),
            Grant::Write(path) => write!(f, "write:{}", path.display()),
            Grant::Command { program: None, .. } => f.write_str("command:*"),
            Grant::Command {
                program: Some(program),
                args,
            } => {
                write!(f, "command:{}", program.display())?;
                match args {
                    Some(args) => write!(f, " {args}"),
                    None => Ok(()),
                }
            }
            Grant::Env(None) => f.write_str("env:*"),
            Grant::Env(Some(name)) => write!(f, "env:{name}"),
            Grant::AnyNetwork => f.write_str("net"),
            Grant::Network(pattern) => write!(f, "net:{pattern}"),
            Grant::Subdeploy => f.write_str("subdeploy"),
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
            | (Grant::Read(dir), Grant::Read(path)) => path.starts_with(dir),
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
            (Grant::Command { .. }, Grant::Command { .. }) => self == need,
            (Grant::Env(None), Grant::Env(_)) => true,
            (Grant::AnyNetwork, Grant::AnyNetwork | Grant::Network(_)) => true,
            (Grant::Network(a), Grant::Network(b)) => a.covers(b),
            _ => self == need,
        }
    }
}

/// What a module may do: its grants, or everything when trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleGrants {
    pub grants: Vec<Grant>,
    #[serde(default)]
    pub trusted: bool,
    /// One of the modules that ship with Consfig (by content hash): calls
    /// through it are bounded by its own grants only.
    #[serde(default)]
    pub standard: bool,
}

impl ModuleGrants {
    pub fn trusted() -> Self {
        ModuleGrants {
            trusted: true,
            ..ModuleGrants::default()
        }
    }

    /// The needs (as declared) these grants do not cover.
    pub fn missing<'a>(&self, needs: &'a [Grant]) -> Vec<&'a Grant> {
        if self.trusted {
            return Vec::new();
        }
        needs
            .iter()
            .filter(|need| !self.grants.iter().any(|g| g.covers(need)))
            .collect()
    }

    /// The deepest granted directory holding `path`, for reading or writing.
    fn root_for(&self, path: &Path, write: bool) -> Option<&Path> {
        self.grants
            .iter()
            .filter_map(|g| match g {
                Grant::Write(dir) => Some(dir),
                Grant::Read(dir) if !write => Some(dir),
                _ => None,
            })
            .filter(|dir| path.starts_with(dir))
            .max_by_key(|dir| dir.components().count())
            .map(PathBuf::as_path)
    }

    fn allows_command(&self, program: &Path, args: &[String]) -> bool {
        let joined = args.join(" ");
        self.grants.iter().any(|g| match g {
            Grant::Command { program: None, .. } => true,
            Grant::Command {
                program: Some(p),
                args,
            } => {
                p == program
                    && args.as_ref().is_none_or(|pattern| {
                        glob::Pattern::new(pattern).is_ok_and(|p| p.matches(&joined))
                    })
            }
            _ => false,
        })
    }

    fn allows_env(&self, name: &str) -> bool {
        self.trusted
            || self.grants.iter().any(|g| match g {
                Grant::Env(None) => true,
                Grant::Env(Some(n)) => n == name,
                _ => false,
            })
    }

    pub fn any_network(&self) -> bool {
        self.trusted || self.grants.contains(&Grant::AnyNetwork)
    }

    fn has_network(&self) -> bool {
        self.trusted
            || self
                .grants
                .iter()
                .any(|g| matches!(g, Grant::AnyNetwork | Grant::Network(_)))
    }

    fn allows_address(&self, addr: SocketAddr) -> bool {
        self.trusted
            || self.grants.iter().any(|g| match g {
                Grant::AnyNetwork => true,
                Grant::Network(pattern) => pattern.matches(addr),
                _ => false,
            })
    }

    /// Whether a socket may use `addr` this way. A connect first binds to the
    /// wildcard address and port 0 implicitly, which reaches nothing by
    /// itself; a listener accepts whoever connects: the grant is checked on
    /// the address bound, listened on, connected or sent to.
    pub fn allows_socket(&self, addr: SocketAddr, used: SocketAddrUse) -> bool {
        let implicit_bind = addr.ip().is_unspecified() && addr.port() == 0;
        match used {
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind if implicit_bind => true,
            SocketAddrUse::TcpAccept | SocketAddrUse::UdpReceive => self.has_network(),
            _ => self.allows_address(addr),
        }
    }
}

/// What a consfig says of one module's grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleSettings {
    /// The module's grants; for a standard module, they replace (narrow) what
    /// it declares. None: a standard module gets its needs, any other nothing.
    pub grants: Option<Vec<Grant>>,
    /// Everything, unchecked (and said so in the report).
    pub trusted: bool,
}

/// A loaded module, as the grants are decided for it.
pub struct LoadedModule<'a> {
    pub name: &'a str,
    /// Its declared needs, as text.
    pub needs: &'a [String],
    /// Whether it is one of the modules that ship with Consfig (by content hash).
    pub standard: bool,
}

/// Each module's grants, from the consfig's settings and the modules' needs.
/// Every problem at once when a module's needs are not granted, or are
/// written wrong, or settings name no loaded module.
pub fn decide(
    modules: &[LoadedModule<'_>],
    settings: &std::collections::BTreeMap<String, ModuleSettings>,
) -> Result<std::collections::BTreeMap<String, ModuleGrants>, Vec<String>> {
    let mut problems = Vec::new();
    let mut decided = std::collections::BTreeMap::new();
    for name in settings.keys() {
        if !modules.iter().any(|m| m.name == name) {
            let loaded: Vec<&str> = modules.iter().map(|m| m.name).collect();
            problems.push(format!(
                "[module.{name}]: no module named {name} is loaded (loaded: {})",
                loaded.join(", ")
            ));
        }
    }
    for module in modules {
        let needs = match parse_grants(module.needs) {
            Ok(needs) => needs,
            Err(e) => {
                problems.push(format!(
                    "module {} declares a need that is not a grant: {e}",
                    module.name
                ));
                continue;
            }
        };
        let own = settings.get(module.name).cloned().unwrap_or_default();
        let grants = ModuleGrants {
            grants: match (own.grants, module.standard) {
                (Some(grants), _) => grants,
                (None, true) => needs.clone(),
                (None, false) => Vec::new(),
            },
            trusted: own.trusted,
            standard: module.standard,
        };
        // A standard module narrowed by the consfig is the consfig's choice.
        if !module.standard {
            let missing = grants.missing(&needs);
            if !missing.is_empty() {
                let list: Vec<String> = missing.iter().map(|g| format!("\"{g}\"")).collect();
                problems.push(format!(
                    "module {} needs grants it was not given: {} (add them to grants in [module.{}], or set trusted = true there)",
                    module.name,
                    list.join(", "),
                    module.name
                ));
            }
        }
        decided.insert(module.name.to_owned(), grants);
    }
    if problems.is_empty() {
        Ok(decided)
    } else {
        Err(problems)
    }
}

/// The modules whose grants bound a call: the one making it, then every
/// untrusted, non-standard module it was called through. Named for messages.
#[derive(Debug, Clone, Default)]
pub struct Confinement {
    pub modules: Vec<(String, ModuleGrants)>,
}

/// Why a call was refused: which module lacked which grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub module: String,
    pub needed: Grant,
}

impl Denied {
    /// The message of the refusal of `action` (e.g. `run /bin/rm -f x`),
    /// the same for every kind of call: module, action, the grant it lacks.
    pub fn message(&self, action: &str) -> String {
        format!(
            "denied: module {} may not {}: it has no grant {}",
            self.module,
            action.trim_end(),
            self.needed
        )
    }
}

impl Confinement {
    fn first_denial(
        &self,
        needed: Grant,
        allows: impl Fn(&ModuleGrants) -> bool,
    ) -> Result<(), Denied> {
        match self
            .modules
            .iter()
            .find(|(_, grants)| !grants.trusted && !allows(grants))
        {
            Some((module, _)) => Err(Denied {
                module: module.clone(),
                needed,
            }),
            None => Ok(()),
        }
    }

    /// May `path` be read (or written)? The directory to confine the access
    /// to: the deepest granted directory among the modules (None when every
    /// module is trusted or granted `/`, which needs no confining).
    pub fn file_access(&self, path: &Path, write: bool) -> Result<Option<PathBuf>, Denied> {
        let needed = if write {
            Grant::Write(path.to_owned())
        } else {
            Grant::Read(path.to_owned())
        };
        self.first_denial(needed, |g| g.root_for(path, write).is_some())?;
        Ok(self
            .modules
            .iter()
            .filter(|(_, g)| !g.trusted)
            .filter_map(|(_, g)| g.root_for(path, write))
            .max_by_key(|dir| dir.components().count())
            .filter(|dir| *dir != Path::new("/"))
            .map(Path::to_owned))
    }

    /// May `program` (as found in PATH, or as given) run with `args`? A
    /// grant may name the program by that path or by the file it resolves to
    /// (`/sbin/useradd` on a system where /sbin is /usr/sbin).
    pub fn command(&self, program: &Path, args: &[String]) -> Result<(), Denied> {
        let needed = Grant::Command {
            program: Some(program.to_owned()),
            args: (!args.is_empty()).then(|| args.join(" ")),
        };
        let real = std::fs::canonicalize(program).unwrap_or_else(|_| program.to_owned());
        self.first_denial(needed, |g| {
            g.allows_command(program, args) || g.allows_command(&real, args)
        })
    }

    pub fn subdeploy(&self) -> Result<(), Denied> {
        self.first_denial(Grant::Subdeploy, |g| g.grants.contains(&Grant::Subdeploy))
    }

    /// Whether commands may get the runtime's variable `name`.
    pub fn env(&self, name: &str) -> bool {
        self.modules.iter().all(|(_, g)| g.allows_env(name))
    }

    pub fn socket(&self, addr: SocketAddr, used: SocketAddrUse) -> Result<(), Denied> {
        let needed = Grant::Network(AddressPattern {
            ip: Some(addr.ip()),
            port: Some(addr.port()),
        });
        self.first_denial(needed, |g| g.allows_socket(addr, used))
    }
}

/// The check WASI sockets call: the current confinement, shared with the
/// store, and a record of what it refused.
#[derive(Debug, Clone, Default)]
pub struct NetworkGate {
    current: Arc<Mutex<Confinement>>,
    denials: Arc<Mutex<Vec<String>>>,
    /// Print each refusal to stderr as it happens (a bundle's service, whose
    /// output is not collected per form).
    echo: bool,
}

impl NetworkGate {
    pub fn echoing(mut self) -> Self {
        self.echo = true;
        self
    }

    /// The modules bounding sockets from now on.
    pub fn set(&self, confinement: Confinement) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = confinement;
    }

    fn check(&self, addr: SocketAddr, used: SocketAddrUse) -> bool {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match current.socket(addr, used) {
            Ok(()) => true,
            Err(denied) => {
                let what = match used {
                    SocketAddrUse::TcpBind => "bind a TCP socket to",
                    SocketAddrUse::TcpListen => "listen on",
                    SocketAddrUse::TcpAccept => "accept a connection from",
                    SocketAddrUse::TcpConnect => "connect to",
                    SocketAddrUse::UdpBind => "bind a UDP socket to",
                    SocketAddrUse::UdpSend => "send a datagram to",
                    SocketAddrUse::UdpReceive => "receive a datagram from",
                };
                let message = denied.message(&format!("{what} {addr}"));
                if self.echo {
                    eprintln!("{message}");
                } else {
                    self.denials
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(message);
                }
                false
            }
        }
    }

    /// What was refused since the last call.
    pub fn take_denials(&self) -> Vec<String> {
        std::mem::take(&mut *self.denials.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Set up a WASI context builder to ask this gate. Sockets are allowed
    /// at the WASI level and each address is checked here, against the
    /// modules running at the time; name lookups only when `lookups` (some
    /// module may use any address).
    pub fn apply_to(&self, builder: &mut wasmtime_wasi::WasiCtxBuilder, lookups: bool) {
        builder
            .allow_ip_name_lookup(lookups)
            .allow_tcp(true)
            .allow_udp(true);
        let gate = self.clone();
        builder.socket_addr_check(move |addr, used| {
            Box::pin(std::future::ready(gate.check(addr, used)))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn grants(texts: &[&str]) -> ModuleGrants {
        ModuleGrants {
            grants: parse_grants(texts).unwrap(),
            ..ModuleGrants::default()
        }
    }

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
            "env:LANG",
            "env:*",
            "subdeploy",
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
            "env:",
            "subdeploy:now",
        ] {
            assert!(bad.parse::<Grant>().is_err(), "{bad} should be refused");
        }
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
        let m = grants(&["write:/srv", "subdeploy"]);
        assert_eq!(
            m.missing(&[g("read:/srv/a"), g("command:/bin/sh"), g("subdeploy")]),
            [&g("command:/bin/sh")]
        );
        assert!(ModuleGrants::trusted().missing(&[g("net")]).is_empty());
    }

    #[test]
    fn a_call_must_be_granted_by_every_confining_module() {
        let confinement = Confinement {
            modules: vec![
                ("file".into(), grants(&["write:/"])),
                ("web".into(), grants(&["write:/srv/www", "read:/etc"])),
            ],
        };
        assert_eq!(
            confinement.file_access(Path::new("/srv/www/index.html"), true),
            Ok(Some(PathBuf::from("/srv/www")))
        );
        assert_eq!(
            confinement.file_access(Path::new("/etc/passwd"), false),
            Ok(Some(PathBuf::from("/etc")))
        );
        let denied = confinement
            .file_access(Path::new("/etc/passwd"), true)
            .unwrap_err();
        assert_eq!(denied.module, "web");
        assert_eq!(denied.needed.to_string(), "write:/etc/passwd");
        let alone = Confinement {
            modules: vec![("file".into(), grants(&["write:/"]))],
        };
        assert_eq!(alone.file_access(Path::new("/etc/passwd"), true), Ok(None));
    }

    #[test]
    fn commands_match_program_and_argument_pattern() {
        let c = Confinement {
            modules: vec![(
                "m".into(),
                grants(&["command:/bin/sh -c echo *", "command:/usr/bin/make"]),
            )],
        };
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(
            c.command(Path::new("/bin/sh"), &args(&["-c", "echo hi"]))
                .is_ok()
        );
        assert!(
            c.command(Path::new("/bin/sh"), &args(&["-c", "rm -rf /"]))
                .is_err()
        );
        assert!(
            c.command(Path::new("/usr/bin/make"), &args(&["-C", "/x"]))
                .is_ok()
        );
        let denied = c
            .command(Path::new("/bin/rm"), &args(&["-rf", "/"]))
            .unwrap_err();
        assert_eq!(denied.needed.to_string(), "command:/bin/rm -rf /");
    }

    #[test]
    fn checks_addresses() {
        let m = grants(&["net:127.0.0.1:8080"]);
        assert!(m.allows_socket(addr("127.0.0.1:8080"), SocketAddrUse::TcpBind));
        assert!(m.allows_socket(addr("127.0.0.1:8080"), SocketAddrUse::TcpListen));
        assert!(m.allows_socket(addr("10.1.2.3:5555"), SocketAddrUse::TcpAccept));
        assert!(!m.allows_socket(addr("127.0.0.1:8081"), SocketAddrUse::TcpBind));
        assert!(!m.allows_socket(addr("0.0.0.0:8080"), SocketAddrUse::TcpBind));
        assert!(!m.allows_socket(addr("127.0.0.1:22"), SocketAddrUse::TcpConnect));
        let none = ModuleGrants::default();
        assert!(none.allows_socket(addr("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(!none.allows_socket(addr("0.0.0.0:0"), SocketAddrUse::TcpListen));
        assert!(!none.allows_socket(addr("127.0.0.1:80"), SocketAddrUse::TcpConnect));
        assert!(!none.allows_socket(addr("10.1.2.3:5555"), SocketAddrUse::TcpAccept));
        let any_port = grants(&["net:*:443"]);
        assert!(any_port.allows_socket(addr("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(any_port.allows_socket(addr("[::1]:443"), SocketAddrUse::TcpConnect));
        assert!(!any_port.allows_socket(addr("[::1]:80"), SocketAddrUse::TcpConnect));
    }

    #[test]
    fn the_gate_records_denials_naming_module_and_grant() {
        let gate = NetworkGate::default();
        gate.set(Confinement {
            modules: vec![("web".into(), ModuleGrants::default())],
        });
        assert!(!gate.check(addr("127.0.0.1:8080"), SocketAddrUse::TcpBind));
        let denials = gate.take_denials();
        assert_eq!(denials.len(), 1);
        assert!(
            denials[0].contains("module web") && denials[0].contains("net:127.0.0.1:8080"),
            "{}",
            denials[0]
        );
        assert!(gate.take_denials().is_empty());
    }
}
