//! Where an `ssh://` hop points, as written: `ssh://[USER@]HOST[:PORT]`,
//! with IPv6 addresses in brackets.

/// Where an `ssh://` hop points, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl std::str::FromStr for SshTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let rest = s
            .strip_prefix("ssh://")
            .ok_or_else(|| format!("{s:?} does not start with ssh://"))?;
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((user, hostport)) if !user.is_empty() => (Some(user.to_owned()), hostport),
            Some(_) => return Err(format!("{s:?}: empty user name")),
            None => (None, rest),
        };
        // [v6::addr]:port, host:port, or host.
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{s:?}: unclosed ["))?;
            (host, after.strip_prefix(':'))
        } else {
            match hostport.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(format!("{s:?}: no host"));
        }
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .map_err(|_| format!("{s:?}: bad port {p:?}"))
            })
            .transpose()?;
        Ok(SshTarget {
            user,
            host: host.to_owned(),
            port,
        })
    }
}

impl std::fmt::Display for SshTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ssh://")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let t: SshTarget = "ssh://root@web1:2222".parse().unwrap();
        assert_eq!(
            (t.user.as_deref(), t.host.as_str(), t.port),
            (Some("root"), "web1", Some(2222))
        );
        let t: SshTarget = "ssh://web1".parse().unwrap();
        assert_eq!((t.user, t.port), (None, None));
        let t: SshTarget = "ssh://deploy@[::1]:22".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", Some(22)));
        assert_eq!(t.to_string(), "ssh://deploy@[::1]:22");
        assert!("ssh://root@".parse::<SshTarget>().is_err());
        assert!("ssh://h:port".parse::<SshTarget>().is_err());
        assert!("web1".parse::<SshTarget>().is_err());
    }
}
