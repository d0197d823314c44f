//! Where an SSH hop points, as written: `ssh://[USER@]HOST[:PORT]` (the
//! built-in client) or `openssh://…` (the system's `ssh`), with IPv6
//! addresses in brackets and, optionally, the jump hosts to go through:
//! `?jump=[USER@]HOST[:PORT],…` as OpenSSH's `-J`, or `?jump=none` to pass
//! over a ProxyJump of the SSH configuration.

use std::fmt;

/// Which SSH client reaches the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SshClient {
    /// In process, over the ssh2 crate (`ssh://`).
    BuiltIn,
    /// The system's OpenSSH `ssh`, with every option it supports (`openssh://`).
    OpenSsh,
}

impl SshClient {
    pub fn scheme(self) -> &'static str {
        match self {
            SshClient::BuiltIn => "ssh://",
            SshClient::OpenSsh => "openssh://",
        }
    }
}

/// A host to log in to: `[USER@]HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// Where an SSH hop points, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub client: SshClient,
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// The jump hosts the hop names, first to last: None to take them from
    /// the SSH configuration's ProxyJump, empty for `jump=none`.
    pub jumps: Option<Vec<Endpoint>>,
}

impl SshTarget {
    /// The host to log in to, without the jumps.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            user: self.user.clone(),
            host: self.host.clone(),
            port: self.port,
        }
    }
}

/// A user or host name fit to be handed to `ssh` and to known_hosts: no
/// leading `-` (it would read as an option), no whitespace, control
/// characters or separators of the hop's syntax.
fn check_name(what: &str, name: &str, whole: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("{whole:?}: empty {what}"));
    }
    if name.starts_with('-') {
        return Err(format!("{whole:?}: a {what} may not start with '-'"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "@,/?#&=%'\"`\\$;|<>()".contains(*c))
    {
        return Err(format!("{whole:?}: {c:?} is not allowed in a {what}"));
    }
    Ok(())
}

impl Endpoint {
    /// `[USER@]HOST[:PORT]`, `[USER@][V6]:PORT`, or the same after `ssh://`;
    /// `whole` is what errors quote.
    fn parse(s: &str, whole: &str) -> Result<Self, String> {
        let s = s.strip_prefix("ssh://").unwrap_or(s);
        let (user, hostport) = match s.rsplit_once('@') {
            Some((user, hostport)) => {
                check_name("user name", user, whole)?;
                (Some(user.to_owned()), hostport)
            }
            None => (None, s),
        };
        // [v6::addr]:port, host:port, or host.
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{whole:?}: unclosed ["))?;
            match after {
                "" => (host, None),
                _ => (
                    host,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or_else(|| format!("{whole:?}: expected :PORT after ]"))?,
                    ),
                ),
            }
        } else {
            match hostport.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(format!("{whole:?}: no host"));
        }
        if !host.contains(':') {
            check_name("host name", host, whole)?;
        } else if !host
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(format!("{whole:?}: {host:?} is not an IPv6 address"));
        }
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .map_err(|_| format!("{whole:?}: bad port {p:?}"))
            })
            .transpose()?;
        Ok(Endpoint {
            user,
            host: host.to_owned(),
            port,
        })
    }

    /// A ProxyJump list: `none`, or comma-separated endpoints.
    pub fn parse_jumps(list: &str) -> Result<Vec<Endpoint>, String> {
        if list.eq_ignore_ascii_case("none") {
            return Ok(Vec::new());
        }
        list.split(',')
            .map(|jump| Endpoint::parse(jump, list))
            .collect()
    }
}

impl std::str::FromStr for SshTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (client, rest) = [SshClient::BuiltIn, SshClient::OpenSsh]
            .into_iter()
            .find_map(|client| s.strip_prefix(client.scheme()).map(|rest| (client, rest)))
            .ok_or_else(|| format!("{s:?} does not start with ssh:// or openssh://"))?;
        let (address, query) = match rest.split_once('?') {
            Some((address, query)) => (address, Some(query)),
            None => (rest, None),
        };
        let jumps = match query {
            None => None,
            Some(query) => {
                let list = query.strip_prefix("jump=").ok_or_else(|| {
                    format!(
                        "{s:?}: the only setting after ? is jump=[USER@]HOST[:PORT],… or jump=none"
                    )
                })?;
                Some(Endpoint::parse_jumps(list).map_err(|e| format!("{s:?}: jump: {e}"))?)
            }
        };
        let Endpoint { user, host, port } = Endpoint::parse(address, s)?;
        Ok(SshTarget {
            client,
            user,
            host,
            port,
            jumps,
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        match (self.host.contains(':'), self.port) {
            (true, Some(port)) => write!(f, "[{}]:{port}", self.host),
            (false, Some(port)) => write!(f, "{}:{port}", self.host),
            (_, None) => f.write_str(&self.host),
        }
    }
}

/// A list of jumps as `-J` and `jump=` take it.
pub fn jumps_text(jumps: &[Endpoint]) -> String {
    if jumps.is_empty() {
        return "none".to_owned();
    }
    jumps
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl fmt::Display for SshTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.client.scheme(), self.endpoint())?;
        if let Some(jumps) = &self.jumps {
            write!(f, "?jump={}", jumps_text(jumps))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let t: SshTarget = "ssh://root@web1:2222".parse().unwrap();
        assert_eq!(
            (t.user.as_deref(), t.host.as_str(), t.port, t.client),
            (Some("root"), "web1", Some(2222), SshClient::BuiltIn)
        );
        let t: SshTarget = "ssh://web1".parse().unwrap();
        assert_eq!((t.user, t.port, t.jumps), (None, None, None));
        let t: SshTarget = "ssh://deploy@[::1]:22".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", Some(22)));
        assert_eq!(t.to_string(), "ssh://deploy@[::1]:22");
        assert!("ssh://root@".parse::<SshTarget>().is_err());
        assert!("ssh://h:port".parse::<SshTarget>().is_err());
        assert!("web1".parse::<SshTarget>().is_err());
    }

    #[test]
    fn parses_jumps_and_the_openssh_client() {
        let t: SshTarget = "openssh://root@web1?jump=u@b1:2201,ssh://b2,[::1]:22"
            .parse()
            .unwrap();
        assert_eq!(t.client, SshClient::OpenSsh);
        let jumps = t.jumps.clone().unwrap();
        assert_eq!(jumps.len(), 3);
        assert_eq!(
            (
                jumps[0].user.as_deref(),
                jumps[0].host.as_str(),
                jumps[0].port
            ),
            (Some("u"), "b1", Some(2201))
        );
        assert_eq!(jumps[2].host, "::1");
        assert_eq!(
            t.to_string(),
            "openssh://root@web1?jump=u@b1:2201,b2,[::1]:22"
        );
        let t: SshTarget = "ssh://web1?jump=none".parse().unwrap();
        assert_eq!(t.jumps, Some(Vec::new()));
        assert_eq!(t.to_string(), "ssh://web1?jump=none");
        assert!("ssh://web1?via=b1".parse::<SshTarget>().is_err());
        assert!("ssh://web1?jump=".parse::<SshTarget>().is_err());
    }

    /// Names that `ssh` would read as options, or that smuggle separators,
    /// are refused when the hop is read.
    #[test]
    fn refuses_names_that_would_be_read_as_options() {
        for bad in [
            "openssh://-oProxyCommand=sh",
            "openssh://-F/tmp/x@web1",
            "ssh://web1?jump=-oProxyCommand=x",
            "ssh://web1?jump=u@-b",
            "openssh://we b1",
            "openssh://web1\n",
            "openssh://a'b@web1",
            "ssh://[::1;x]:22",
        ] {
            assert!(bad.parse::<SshTarget>().is_err(), "{bad:?} accepted");
        }
    }
}
