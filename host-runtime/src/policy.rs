//! What a deploy allows its modules: limits on every form, and grants.
//!
//! Limits: wall time, memory (the growth of a module's linear memory) and
//! output (what a form prints or logs), set for every form and per module.
//!
//! Grants: what a module may reach beyond the `host` imports. Nothing unless
//! granted. Written as text on the command line and in bundles:
//!
//! - `net` — any TCP/UDP address, and name lookups;
//! - `net:HOST:PORT` — bind, listen on or connect to that address; `HOST` is an
//!   IP address (IPv6 in brackets) or `*`, `PORT` a number or `*`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasmtime_wasi::sockets::SocketAddrUse;

/// Limits for forms; a field left out comes from the level above (a module's
/// limits, then those of every form, then the defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub time: Option<Duration>,
    /// Bytes a module's linear memory may grow to.
    pub memory: Option<u64>,
    /// Bytes a form may print and log, all streams together.
    pub output: Option<u64>,
}

/// Limits with every field decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub time: Duration,
    pub memory: u64,
    pub output: u64,
}

/// What a form gets when nothing says otherwise.
pub const DEFAULT_LIMIT: Limit = Limit {
    time: Duration::from_secs(300),
    memory: 1 << 30,
    output: 4 << 20,
};

/// The limits of a deploy: for every form, and per module (by module name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitSet {
    pub forms: Limits,
    pub modules: BTreeMap<String, Limits>,
}

impl LimitSet {
    /// The limits for forms of `module`.
    pub fn for_module(&self, module: &str) -> Limit {
        let own = self.modules.get(module).copied().unwrap_or_default();
        Limit {
            time: own.time.or(self.forms.time).unwrap_or(DEFAULT_LIMIT.time),
            memory: own
                .memory
                .or(self.forms.memory)
                .unwrap_or(DEFAULT_LIMIT.memory),
            output: own
                .output
                .or(self.forms.output)
                .unwrap_or(DEFAULT_LIMIT.output),
        }
    }

    /// The limits outside any module (while modules load).
    pub fn for_forms(&self) -> Limit {
        self.for_module("")
    }

    /// The largest output limit of any module: what output buffers must hold.
    pub fn max_output(&self) -> u64 {
        self.modules
            .keys()
            .map(|m| self.for_module(m).output)
            .chain([self.for_forms().output])
            .max()
            .unwrap_or(DEFAULT_LIMIT.output)
    }
}

/// Bytes for people: `64 MiB`, `512 KiB`, `100 bytes`.
pub fn show_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// What a deploy sets for every store it makes, subdeployments included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub limits: LimitSet,
    /// This host's data (secrets), by key.
    #[serde(default)]
    pub data: HostData,
}

/// A host's data: values that never show in debug output, and that
/// [`HostData::redact`] blanks out of text.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostData(BTreeMap<String, Vec<u8>>);

impl fmt::Debug for HostData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// Values shorter than this are not blanked out of text: it would blank
/// ordinary words, and so short a value is no secret.
pub const REDACT_MIN_LEN: usize = 4;

impl HostData {
    pub fn insert(&mut self, key: String, value: Vec<u8>) {
        self.0.insert(key, value);
    }

    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.0.get(key).map(Vec::as_slice)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `text` with every value (as given, and without trailing whitespace)
    /// replaced by `[data KEY]`.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (key, value) in &self.0 {
            let Ok(value) = std::str::from_utf8(value) else {
                continue;
            };
            for variant in [value, value.trim_end()] {
                if variant.len() >= REDACT_MIN_LEN && text.contains(variant) {
                    text = text.replace(variant, &format!("[data {key}]"));
                }
            }
        }
        text
    }
}

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
    /// Every address, and name lookups.
    AnyNetwork,
    /// One address pattern.
    Network(AddressPattern),
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

impl FromStr for Grant {
    type Err = GrantError;

    fn from_str(text: &str) -> Result<Grant, GrantError> {
        let bad = |reason: &str| GrantError {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text == "net" {
            return Ok(Grant::AnyNetwork);
        }
        let Some(address) = text.strip_prefix("net:") else {
            return Err(bad(
                "write net, or net:HOST:PORT (HOST an IP address or *, PORT a number or *)",
            ));
        };
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| bad("the address needs a port: net:HOST:PORT, with * for any"))?;
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
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grant::AnyNetwork => f.write_str("net"),
            Grant::Network(pattern) => write!(f, "net:{pattern}"),
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

/// The grants of a store, and a record of what they refused.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    grants: Vec<Grant>,
    denials: Arc<Mutex<Vec<String>>>,
    /// Print each refusal to stderr as it happens (a bundle's service, whose
    /// output is not collected per form).
    echo: bool,
}

impl Grants {
    pub fn new(grants: Vec<Grant>) -> Self {
        Grants {
            grants,
            denials: Arc::default(),
            echo: false,
        }
    }

    /// The same grants, printing each refusal to stderr as it happens.
    pub fn echoing(mut self) -> Self {
        self.echo = true;
        self
    }

    pub fn list(&self) -> &[Grant] {
        &self.grants
    }

    fn any_network(&self) -> bool {
        self.grants.contains(&Grant::AnyNetwork)
    }

    fn has_network(&self) -> bool {
        !self.grants.is_empty()
    }

    fn allows_address(&self, addr: SocketAddr) -> bool {
        self.grants.iter().any(|g| match g {
            Grant::AnyNetwork => true,
            Grant::Network(pattern) => pattern.matches(addr),
        })
    }

    /// Whether a socket may use `addr` this way. A connect first binds to the
    /// wildcard address implicitly, and a listener accepts whoever connects:
    /// the grant is checked on the address bound, listened on, connected or
    /// sent to.
    pub fn allows_socket(&self, addr: SocketAddr, used: SocketAddrUse) -> bool {
        let implicit_bind = addr.ip().is_unspecified() && addr.port() == 0;
        match used {
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind if implicit_bind => self.has_network(),
            SocketAddrUse::TcpAccept | SocketAddrUse::UdpReceive => self.has_network(),
            _ => self.allows_address(addr),
        }
    }

    /// Record a refused use, as a line for the form's output.
    pub fn deny(&self, addr: SocketAddr, used: SocketAddrUse) {
        let what = match used {
            SocketAddrUse::TcpBind => "bind a TCP socket to",
            SocketAddrUse::TcpListen => "listen on",
            SocketAddrUse::TcpAccept => "accept a connection from",
            SocketAddrUse::TcpConnect => "connect to",
            SocketAddrUse::UdpBind => "bind a UDP socket to",
            SocketAddrUse::UdpSend => "send a datagram to",
            SocketAddrUse::UdpReceive => "receive a datagram from",
        };
        let needed = Grant::Network(AddressPattern {
            ip: Some(addr.ip()),
            port: Some(addr.port()),
        });
        let message =
            format!("denied: a module tried to {what} {addr}, which needs the grant {needed}");
        if self.echo {
            eprintln!("{message}");
            return;
        }
        self.denials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message);
    }

    /// What was refused since the last call.
    pub fn take_denials(&self) -> Vec<String> {
        std::mem::take(&mut *self.denials.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Set up a WASI context builder to enforce these grants.
    pub fn apply_to(&self, builder: &mut wasmtime_wasi::WasiCtxBuilder) {
        builder
            .allow_ip_name_lookup(self.any_network())
            .allow_tcp(self.has_network())
            .allow_udp(self.has_network());
        let grants = self.clone();
        builder.socket_addr_check(move |addr, used| {
            let allowed = grants.allows_socket(addr, used);
            if !allowed {
                grants.deny(addr, used);
            }
            Box::pin(std::future::ready(allowed))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_grants() {
        for text in [
            "net",
            "net:127.0.0.1:8080",
            "net:*:80",
            "net:[::1]:*",
            "net:*:*",
        ] {
            assert_eq!(text.parse::<Grant>().unwrap().to_string(), text);
        }
        for bad in [
            "network",
            "net:",
            "net:localhost:80",
            "net:127.0.0.1",
            "net:1.2.3.4:99999",
            "dir:/etc",
        ] {
            assert!(bad.parse::<Grant>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn checks_addresses() {
        let grants = Grants::new(parse_grants(&["net:127.0.0.1:8080"]).unwrap());
        assert!(grants.allows_socket(addr("127.0.0.1:8080"), SocketAddrUse::TcpBind));
        assert!(grants.allows_socket(addr("127.0.0.1:8080"), SocketAddrUse::TcpListen));
        assert!(grants.allows_socket(addr("10.1.2.3:5555"), SocketAddrUse::TcpAccept));
        assert!(!grants.allows_socket(addr("127.0.0.1:8081"), SocketAddrUse::TcpBind));
        assert!(!grants.allows_socket(addr("0.0.0.0:8080"), SocketAddrUse::TcpBind));
        assert!(!grants.allows_socket(addr("127.0.0.1:22"), SocketAddrUse::TcpConnect));

        let none = Grants::default();
        assert!(!none.allows_socket(addr("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(!none.allows_socket(addr("10.1.2.3:5555"), SocketAddrUse::TcpAccept));

        let any_port = Grants::new(parse_grants(&["net:*:443"]).unwrap());
        assert!(any_port.allows_socket(addr("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(any_port.allows_socket(addr("[::1]:443"), SocketAddrUse::TcpConnect));
        assert!(!any_port.allows_socket(addr("[::1]:80"), SocketAddrUse::TcpConnect));
    }

    #[test]
    fn limits_fall_back_per_field() {
        let mut limits = LimitSet::default();
        assert_eq!(limits.for_module("file"), DEFAULT_LIMIT);
        limits.forms.memory = Some(64 << 20);
        limits.modules.insert(
            "file".into(),
            Limits {
                time: Some(Duration::from_secs(3)),
                output: Some(10 << 20),
                ..Limits::default()
            },
        );
        let file = limits.for_module("file");
        assert_eq!(file.time, Duration::from_secs(3));
        assert_eq!(file.memory, 64 << 20);
        assert_eq!(file.output, 10 << 20);
        assert_eq!(limits.for_module("cmd").time, DEFAULT_LIMIT.time);
        assert_eq!(limits.max_output(), 10 << 20);
        assert_eq!(show_bytes(64 << 20), "64 MiB");
        assert_eq!(show_bytes(1000), "1000 bytes");
    }

    #[test]
    fn host_data_is_redacted_and_never_debug_printed() {
        let mut data = HostData::default();
        data.insert("db".into(), b"hunter22\n".to_vec());
        data.insert("pin".into(), b"42".to_vec());
        assert_eq!(
            data.redact("password hunter22, pin 42"),
            "password [data db], pin 42"
        );
        assert_eq!(data.redact("line hunter22\n"), "line [data db]");
        let debug = format!(
            "{:?}",
            Policy {
                data: data.clone(),
                ..Policy::default()
            }
        );
        assert!(!debug.contains("hunter22"), "{debug}");
        assert!(debug.contains("db"), "{debug}");
    }

    #[test]
    fn records_denials_with_the_grant_needed() {
        let grants = Grants::default();
        grants.deny(addr("127.0.0.1:8080"), SocketAddrUse::TcpBind);
        let denials = grants.take_denials();
        assert_eq!(denials.len(), 1);
        assert!(denials[0].contains("net:127.0.0.1:8080"), "{}", denials[0]);
        assert!(grants.take_denials().is_empty());
    }
}
