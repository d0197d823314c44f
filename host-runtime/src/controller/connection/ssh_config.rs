//! OpenSSH's client configuration, read as `ssh` reads it, for the built-in
//! client: `~/.ssh/config` then `/etc/ssh/ssh_config` (or one file given
//! instead of both, as `ssh -F` does), `Host` and `Match` blocks, `Include`
//! with globs, the first value obtained for an option winning.
//!
//! What the built-in client does with a host's options: it uses those that
//! say where and as whom to connect (HostName, Port, User, IdentityFile,
//! IdentitiesOnly, ProxyJump, UserKnownHostsFile, ConnectTimeout,
//! AddressFamily); it may pass over those that change nothing about which
//! machine is reached and how it is trusted (forwarding, keep-alives,
//! logging, multiplexing, …); every other option that applies to the host —
//! ProxyCommand, CertificateFile, PKCS11Provider, `Match exec`, algorithm
//! lists, unknown keywords, … — is an [`Unsupported`] error naming the
//! option, where it is written and the OpenSSH transport as the way out,
//! never silently ignored.
//!
//! Written here rather than taken from a crate: the ssh2-config crate reads
//! a `Match` line as an unknown option of the block before it, so a `Match`
//! block's options would apply to the wrong hosts.

use std::path::{Path, PathBuf};

/// The system-wide file, read after the user's.
pub const SYSTEM_CONFIG: &str = "/etc/ssh/ssh_config";

/// How deep `Include` may nest, as in OpenSSH.
const MAX_INCLUDE_DEPTH: usize = 16;

/// What the built-in client uses of one host's configuration.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HostConfig {
    pub host_name: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    /// As written (tokens and `~` expanded by [`expand_path`] once the user is known).
    pub identity_files: Vec<String>,
    pub identities_only: Option<bool>,
    /// As written: `none` or comma-separated `[user@]host[:port]`.
    pub proxy_jump: Option<String>,
    /// As written; the first is the file new keys go to.
    pub user_known_hosts_files: Option<Vec<String>>,
    pub connect_timeout_seconds: Option<u64>,
    /// `any`, `inet` or `inet6`.
    pub address_family: Option<String>,
}

/// An option that applies to a host and that the built-in client cannot honour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The keyword as written, with its arguments, e.g. `ProxyCommand nc %h %p`.
    pub option: String,
    pub file: PathBuf,
    pub line: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SshConfigError {
    #[error("{}:{line}: {message}", file.display())]
    Syntax {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{host}: {}:{}: `{}` applies to this host, and the built-in SSH client does not support it, so it would reach the host differently than `ssh {host}` does; connect with the OpenSSH client instead (a hop `openssh://…` in place of `ssh://…`), or remove the option{}",
        first.file.display(), first.line, first.option,
        if more.is_empty() { String::new() } else {
            format!(" (also: {})", more.iter().map(|u| format!("`{}` at {}:{}", u.option, u.file.display(), u.line)).collect::<Vec<_>>().join(", "))
        }
    )]
    Unsupported {
        host: String,
        first: Unsupported,
        more: Vec<Unsupported>,
    },
}

/// Which host the configuration is read for, as `ssh` would be asked.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// The name as given (an alias, maybe), matched by `Host` and `Match originalhost`.
    pub host: &'a str,
    /// The user the hop names, if it does (wins over `User`).
    pub user: Option<&'a str>,
    /// The user running the controller, for `Match localuser`.
    pub local_user: &'a str,
}

/// The configuration `query`'s host gets from `files`, read in turn (missing
/// ones skipped); `home` is where `~` and relative `Include`s of the user's
/// file point.
pub fn evaluate(
    files: &[PathBuf],
    home: &Path,
    query: &Query,
) -> Result<HostConfig, SshConfigError> {
    let mut reader = Evaluation {
        home,
        query,
        host_lower: query.host.to_ascii_lowercase(),
        config: HostConfig::default(),
        seen: Vec::new(),
        ignore_unknown: None,
        unsupported: Vec::new(),
    };
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(SshConfigError::Read {
                    file: file.clone(),
                    source,
                });
            }
        };
        reader.read(file, &text, true, 0)?;
    }
    let mut unsupported = reader.unsupported.into_iter();
    match unsupported.next() {
        None => Ok(reader.config),
        Some(first) => Err(SshConfigError::Unsupported {
            host: query.host.to_owned(),
            first,
            more: unsupported.collect(),
        }),
    }
}

/// The files read when none is given: the user's, then the system's.
pub fn default_files(home: &Path) -> Vec<PathBuf> {
    vec![home.join(".ssh/config"), PathBuf::from(SYSTEM_CONFIG)]
}

/// What an option is to the built-in client.
enum Kind {
    /// Used (see [`Evaluation::set`]).
    Used,
    /// Changes nothing about which machine is reached or how it is trusted.
    Ignored,
    /// Changes where or how to connect, unless its value is `none`.
    UnsupportedUnlessNone,
    /// Changes where or how to connect, whatever its value.
    Unsupported,
}

fn kind(keyword: &str) -> Option<Kind> {
    use Kind::*;
    Some(match keyword {
        "hostname" | "port" | "user" | "identityfile" | "identitiesonly" | "proxyjump"
        | "userknownhostsfile" | "connecttimeout" | "addressfamily" | "ignoreunknown" => Used,
        // Forwarding, sessions, multiplexing, keep-alives, logging, the
        // terminal, and authentication methods other than keys (which the
        // built-in client does not offer); the host key checks it does are
        // at least as strict as any of these settings asks.
        "addkeystoagent"
        | "batchmode"
        | "checkhostip"
        | "clearallforwardings"
        | "compression"
        | "connectionattempts"
        | "controlmaster"
        | "controlpath"
        | "controlpersist"
        | "dynamicforward"
        | "enableescapecommandline"
        | "enablesshkeysign"
        | "escapechar"
        | "exitonforwardfailure"
        | "fingerprinthash"
        | "forkafterauthentication"
        | "forwardagent"
        | "forwardx11"
        | "forwardx11timeout"
        | "forwardx11trusted"
        | "gatewayports"
        | "gssapiauthentication"
        | "gssapidelegatecredentials"
        | "hashknownhosts"
        | "hostbasedauthentication"
        | "ipqos"
        | "kbdinteractiveauthentication"
        | "kbdinteractivedevices"
        | "localcommand"
        | "localforward"
        | "loglevel"
        | "logverbose"
        | "nohostauthenticationforlocalhost"
        | "numberofpasswordprompts"
        | "obscurekeystroketiming"
        | "passwordauthentication"
        | "permitlocalcommand"
        | "permitremoteopen"
        | "preferredauthentications"
        | "pubkeyauthentication"
        | "remoteforward"
        | "requesttty"
        | "sendenv"
        | "serveraliveinterval"
        | "serveralivecountmax"
        | "sessiontype"
        | "setenv"
        | "stdinnull"
        | "streamlocalbindmask"
        | "streamlocalbindunlink"
        | "stricthostkeychecking"
        | "syslogfacility"
        | "tcpkeepalive"
        | "tunnel"
        | "tunneldevice"
        | "updatehostkeys"
        | "usekeychain"
        | "verifyhostkeydns"
        | "visualhostkey"
        | "xauthlocation"
        | "channeltimeout"
        | "globalknownhostsfile"
        | "canonicaldomains"
        | "canonicalizefallbacklocal"
        | "canonicalizemaxdots"
        | "canonicalizepermittedcnames"
        | "requiredrsasize"
        | "warnweakcrypto"
        | "hostbasedacceptedalgorithms"
        | "hostbasedkeytypes" => Ignored,
        "proxycommand"
        | "identityagent"
        | "knownhostscommand"
        | "remotecommand"
        | "canonicalizehostname"
        | "pkcs11provider"
        | "securitykeyprovider" => UnsupportedUnlessNone,
        "certificatefile"
        | "proxyusefdpass"
        | "hostkeyalias"
        | "bindaddress"
        | "bindinterface"
        | "ciphers"
        | "macs"
        | "kexalgorithms"
        | "hostkeyalgorithms"
        | "pubkeyacceptedalgorithms"
        | "pubkeyacceptedkeytypes"
        | "casignaturealgorithms"
        | "revokedhostkeys"
        | "rekeylimit"
        | "tag" => Unsupported,
        _ => return None,
    })
}

struct Evaluation<'a> {
    home: &'a Path,
    query: &'a Query<'a>,
    host_lower: String,
    config: HostConfig,
    /// Keywords already given a value (the first value wins).
    seen: Vec<String>,
    /// `IgnoreUnknown`'s patterns, once set.
    ignore_unknown: Option<String>,
    unsupported: Vec<Unsupported>,
}

impl Evaluation<'_> {
    /// Apply `text` (the file `file`) with `active` as the state of the
    /// block it is read in.
    fn read(
        &mut self,
        file: &Path,
        text: &str,
        mut active: bool,
        depth: usize,
    ) -> Result<(), SshConfigError> {
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let syntax = |message: String| SshConfigError::Syntax {
                file: file.to_owned(),
                line,
                message,
            };
            let Some((keyword, args)) = split_line(raw).map_err(syntax)? else {
                continue;
            };
            let lower = keyword.to_ascii_lowercase();
            match lower.as_str() {
                "host" => active = self.host_matches(&args),
                "match" => {
                    active = self.match_line(&args, file, line, raw).map_err(syntax)?;
                }
                "include" => {
                    if !active {
                        continue;
                    }
                    if depth >= MAX_INCLUDE_DEPTH {
                        return Err(syntax(format!(
                            "Include nested deeper than {MAX_INCLUDE_DEPTH} files"
                        )));
                    }
                    for pattern in &args {
                        for included in self.include_paths(file, pattern).map_err(syntax)? {
                            let text = std::fs::read_to_string(&included).map_err(|source| {
                                SshConfigError::Read {
                                    file: included.clone(),
                                    source,
                                }
                            })?;
                            // An included file's Host and Match lines do not
                            // change the state of the block it is included in.
                            self.read(&included, &text, active, depth + 1)?;
                        }
                    }
                }
                _ if !active => {}
                _ => self.option(&keyword, &lower, args, file, line, raw.trim())?,
            }
        }
        Ok(())
    }

    fn option(
        &mut self,
        keyword: &str,
        lower: &str,
        args: Vec<String>,
        file: &Path,
        line: usize,
        raw: &str,
    ) -> Result<(), SshConfigError> {
        let syntax = |message: String| SshConfigError::Syntax {
            file: file.to_owned(),
            line,
            message,
        };
        if args.is_empty() {
            return Err(syntax(format!("{keyword} needs an argument")));
        }
        let unsupported = |this: &mut Self| {
            this.unsupported.push(Unsupported {
                option: raw.to_owned(),
                file: file.to_owned(),
                line,
            })
        };
        // ProxyJump and ProxyCommand compete: whichever comes first holds.
        let slot = match lower {
            "proxyjump" | "proxycommand" => "proxy",
            other => other,
        };
        let first = !self.seen.iter().any(|k| k == slot);
        match kind(lower) {
            None => {
                let ignored = self
                    .ignore_unknown
                    .as_deref()
                    .is_some_and(|patterns| match_list(lower, &patterns.to_ascii_lowercase()));
                if !ignored {
                    unsupported(self);
                }
            }
            Some(Kind::Ignored) => {}
            Some(Kind::Unsupported) => unsupported(self),
            Some(Kind::UnsupportedUnlessNone) => {
                if first {
                    self.seen.push(slot.to_owned());
                    if !args[0].eq_ignore_ascii_case("none") {
                        unsupported(self);
                    }
                }
            }
            Some(Kind::Used) => {
                // IdentityFile accumulates; every other option keeps its first value.
                if lower == "identityfile" {
                    if !args[0].eq_ignore_ascii_case("none") {
                        self.config.identity_files.push(args[0].clone());
                    }
                    return Ok(());
                }
                if !first {
                    return Ok(());
                }
                self.seen.push(slot.to_owned());
                let one = || args[0].clone();
                let yes_no = |value: &str| match value.to_ascii_lowercase().as_str() {
                    "yes" | "true" => Ok(true),
                    "no" | "false" => Ok(false),
                    _ => Err(syntax(format!(
                        "{keyword}: expected yes or no, not {value:?}"
                    ))),
                };
                match lower {
                    "hostname" => {
                        self.config.host_name =
                            Some(expand_host_name(&args[0], self.query.host).map_err(syntax)?)
                    }
                    "port" => {
                        self.config.port = Some(args[0].parse().map_err(|_| {
                            syntax(format!("Port: {:?} is not a port number", args[0]))
                        })?)
                    }
                    "user" => self.config.user = Some(one()),
                    "identitiesonly" => self.config.identities_only = Some(yes_no(&args[0])?),
                    "proxyjump" => self.config.proxy_jump = Some(one()),
                    "userknownhostsfile" => self.config.user_known_hosts_files = Some(args),
                    "connecttimeout" => {
                        self.config.connect_timeout_seconds =
                            Some(args[0].parse().map_err(|_| {
                                syntax(format!(
                                    "ConnectTimeout: {:?} is not a number of seconds",
                                    args[0]
                                ))
                            })?)
                    }
                    "addressfamily" => match args[0].to_ascii_lowercase().as_str() {
                        family @ ("any" | "inet" | "inet6") => {
                            self.config.address_family = Some(family.to_owned())
                        }
                        other => {
                            return Err(syntax(format!(
                                "AddressFamily: expected any, inet or inet6, not {other:?}"
                            )));
                        }
                    },
                    "ignoreunknown" => self.ignore_unknown = Some(one()),
                    _ => unreachable!("every used option is handled"),
                }
            }
        }
        Ok(())
    }

    /// A `Host` line: active if a pattern matches the name as given and no
    /// negated one does.
    fn host_matches(&self, patterns: &[String]) -> bool {
        let mut matched = false;
        for pattern in patterns {
            let pattern = pattern.to_ascii_lowercase();
            match pattern.strip_prefix('!') {
                Some(negated) if match_pattern(&self.host_lower, negated) => return false,
                Some(_) => {}
                None => matched |= match_pattern(&self.host_lower, &pattern),
            }
        }
        matched
    }

    /// A `Match` line: its criteria, in order, all true. A criterion the
    /// built-in client cannot evaluate makes the host's configuration
    /// unsupported, if it is reached.
    fn match_line(
        &mut self,
        args: &[String],
        file: &Path,
        line: usize,
        raw: &str,
    ) -> Result<bool, String> {
        if args.is_empty() {
            return Err("Match needs criteria (e.g. `Match host web*`)".into());
        }
        let mut words = args.iter();
        while let Some(word) = words.next() {
            let lower = word.to_ascii_lowercase();
            let (negated, criterion) = match lower.strip_prefix('!') {
                Some(rest) => (true, rest.to_owned()),
                None => (false, lower.clone()),
            };
            let result = match criterion.as_str() {
                "all" => true,
                "host" | "originalhost" | "user" | "localuser" => {
                    let list = words
                        .next()
                        .ok_or_else(|| format!("Match {word} needs a pattern list"))?
                        .to_ascii_lowercase();
                    let value = match criterion.as_str() {
                        // The name after HostName, if set yet; else as given.
                        "host" => self
                            .config
                            .host_name
                            .as_deref()
                            .unwrap_or(self.query.host)
                            .to_ascii_lowercase(),
                        "originalhost" => self.host_lower.clone(),
                        "user" => self
                            .query
                            .user
                            .or(self.config.user.as_deref())
                            .unwrap_or(self.query.local_user)
                            .to_owned(),
                        _ => self.query.local_user.to_owned(),
                    };
                    match_list(&value, &list)
                }
                "exec" | "canonical" | "final" | "localnetwork" | "tagged" | "command"
                | "sessiontype" | "version" => {
                    self.unsupported.push(Unsupported {
                        option: raw.trim().to_owned(),
                        file: file.to_owned(),
                        line,
                    });
                    return Ok(false);
                }
                other => return Err(format!("Match: unknown criterion {other:?}")),
            };
            if result == negated {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The files an `Include` argument names: relative ones under `~/.ssh`
    /// (for the user's files) or `/etc/ssh`, globs expanded in order.
    fn include_paths(&self, from: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let expanded = expand_tilde(pattern, self.home);
        let path = if Path::new(&expanded).is_absolute() {
            PathBuf::from(expanded)
        } else if from.starts_with("/etc/ssh") {
            Path::new("/etc/ssh").join(expanded)
        } else {
            self.home.join(".ssh").join(expanded)
        };
        let text = path.to_string_lossy();
        let mut found: Vec<PathBuf> = glob::glob(&text)
            .map_err(|e| format!("Include {pattern:?}: {e}"))?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        Ok(found)
    }
}

/// Split a line into its keyword and arguments (`Keyword args`, `Keyword=args`),
/// with double and single quotes; None for blank lines and comments.
fn split_line(line: &str) -> Result<Option<(String, Vec<String>)>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let keyword_end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let keyword = line[..keyword_end].to_owned();
    let mut rest = line[keyword_end..].trim_start();
    if let Some(after) = rest.strip_prefix('=') {
        rest = after.trim_start();
    }
    let mut args = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        if first == '#' {
            break;
        }
        let mut arg = String::new();
        let mut quote = None;
        while let Some(c) = chars.next() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (_, '\\') if matches!(chars.peek(), Some('"' | '\'' | '\\')) => {
                    arg.push(chars.next().expect("peeked"))
                }
                (None, c) if c.is_whitespace() => break,
                (_, c) => arg.push(c),
            }
        }
        if quote.is_some() {
            return Err(format!("{keyword}: unterminated quote"));
        }
        args.push(arg);
    }
    Ok(Some((keyword, args)))
}

/// OpenSSH's wildcard match: `*` any run, `?` any one character.
pub fn match_pattern(text: &str, pattern: &str) -> bool {
    let (t, p): (Vec<char>, Vec<char>) = (text.chars().collect(), pattern.chars().collect());
    let (mut ti, mut pi) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if let Some((star, from)) = backtrack {
            pi = star + 1;
            ti = from + 1;
            backtrack = Some((star, from + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// A comma-separated pattern list: some pattern matches, no negated one does.
fn match_list(text: &str, list: &str) -> bool {
    let mut matched = false;
    for pattern in list.split(',').filter(|p| !p.is_empty()) {
        match pattern.strip_prefix('!') {
            Some(negated) if match_pattern(text, negated) => return false,
            Some(_) => {}
            None => matched |= match_pattern(text, pattern),
        }
    }
    matched
}

fn expand_tilde(path: &str, home: &Path) -> String {
    match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", home.display())
        }
        _ => path.to_owned(),
    }
}

/// HostName's value: `%h` is the name as given, `%%` a percent sign.
fn expand_host_name(value: &str, host: &str) -> Result<String, String> {
    expand_tokens(value, &[('h', host)])
}

/// `%` tokens of `value` from `tokens`; any other is an error naming it.
fn expand_tokens(value: &str, tokens: &[(char, &str)]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(t) => match tokens.iter().find(|(name, _)| *name == t) {
                Some((_, v)) => out.push_str(v),
                None => return Err(format!("{value:?}: the token %{t} is not supported here")),
            },
            None => return Err(format!("{value:?} ends with a lone %")),
        }
    }
    Ok(out)
}

/// A path option's value (IdentityFile, UserKnownHostsFile) as a path: `~`,
/// `${VAR}` and the tokens `%d` (home), `%u` (local user), `%h` (host name),
/// `%n` (name as given), `%p` (port), `%r` (remote user) expanded.
pub fn expand_path(
    value: &str,
    home: &Path,
    local_user: &str,
    original_host: &str,
    host_name: &str,
    port: u16,
    remote_user: &str,
) -> Result<PathBuf, String> {
    let mut with_env = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        with_env.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| format!("{value:?}: unclosed ${{"))?;
        let name = &rest[start + 2..start + end];
        let var = std::env::var(name)
            .map_err(|_| format!("{value:?}: the environment variable {name} is not set"))?;
        with_env.push_str(&var);
        rest = &rest[start + end + 1..];
    }
    with_env.push_str(rest);
    let home_text = home.display().to_string();
    let port = port.to_string();
    let expanded = expand_tokens(
        &expand_tilde(&with_env, home),
        &[
            ('d', &home_text),
            ('u', local_user),
            ('h', host_name),
            ('n', original_host),
            ('p', &port),
            ('r', remote_user),
        ],
    )?;
    let path = PathBuf::from(expanded);
    Ok(if path.is_absolute() {
        path
    } else {
        home.join(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(host: &str) -> Query<'_> {
        Query {
            host,
            user: None,
            local_user: "alice",
        }
    }

    fn config_in(home: &Path, text: &str) -> Vec<PathBuf> {
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::write(home.join(".ssh/config"), text).unwrap();
        vec![home.join(".ssh/config")]
    }

    #[test]
    fn patterns_match_as_openssh_does() {
        assert!(match_pattern("web1.example.com", "web*"));
        assert!(match_pattern("web1", "web?"));
        assert!(!match_pattern("web10", "web?"));
        assert!(match_pattern("a.b.c", "*.c"));
        assert!(match_pattern("abcbc", "*bc"));
        assert!(!match_pattern("db1", "web*"));
        assert!(match_list("web1", "db*,web*"));
        assert!(!match_list("web1", "web*,!web1"));
    }

    #[test]
    fn first_value_wins_and_identity_files_accumulate() {
        let home = tempfile::tempdir().unwrap();
        let files = config_in(
            home.path(),
            "# comment\nHost web1\n  HostName %h.example.com\n  Port=2201\n  IdentityFile ~/.ssh/web1\n\
             Host web*\n  Port 22\n  User deploy\n  IdentityFile \"~/.ssh/with space\"\n\
             Host * !db1\n  ProxyJump bastion\n",
        );
        let c = evaluate(&files, home.path(), &query("web1")).unwrap();
        assert_eq!(c.host_name.as_deref(), Some("web1.example.com"));
        assert_eq!(c.port, Some(2201));
        assert_eq!(c.user.as_deref(), Some("deploy"));
        assert_eq!(c.identity_files, ["~/.ssh/web1", "~/.ssh/with space"]);
        assert_eq!(c.proxy_jump.as_deref(), Some("bastion"));
        let db = evaluate(&files, home.path(), &query("db1")).unwrap();
        assert_eq!(db, HostConfig::default());
    }

    #[test]
    fn match_host_and_user_are_honoured_and_include_is_read() {
        let home = tempfile::tempdir().unwrap();
        let files = config_in(
            home.path(),
            "Host web1\n  HostName 10.0.0.7\nMatch host 10.0.0.* user deploy\n  Port 2222\n\
             Match originalhost web1 !localuser bob\n  Include conf.d/*.conf\nHost other\n  User nobody\n",
        );
        std::fs::create_dir_all(home.path().join(".ssh/conf.d")).unwrap();
        std::fs::write(
            home.path().join(".ssh/conf.d/b.conf"),
            "ProxyJump jump2\nHost web1\n  User fromb\n",
        )
        .unwrap();
        std::fs::write(home.path().join(".ssh/conf.d/a.conf"), "ProxyJump jump1\n").unwrap();
        // The user comes from the hop: `Match user` sees it.
        let q = Query {
            user: Some("deploy"),
            ..query("web1")
        };
        let c = evaluate(&files, home.path(), &q).unwrap();
        assert_eq!(c.port, Some(2222));
        assert_eq!(c.proxy_jump.as_deref(), Some("jump1"), "a.conf read first");
        assert_eq!(c.user.as_deref(), Some("fromb"));
        // Another user: the Match block is passed over; the included files'
        // Host lines did not leave the file after them active.
        let c = evaluate(&files, home.path(), &query("web1")).unwrap();
        assert_eq!(c.port, None);
        let c = evaluate(&files, home.path(), &query("other")).unwrap();
        assert_eq!(c.user.as_deref(), Some("nobody"));
        assert_eq!(c.proxy_jump, None);
    }

    #[test]
    fn options_it_cannot_honour_are_errors_naming_them_when_they_apply() {
        let home = tempfile::tempdir().unwrap();
        let files = config_in(
            home.path(),
            "Host web1\n  ProxyCommand nc %h %p\n  CertificateFile ~/.ssh/cert\n\
             Host db1\n  ProxyCommand none\n  ForwardAgent yes\n  ControlMaster auto\n\
             Host app1\n  PKCS11Provider /usr/lib/p11.so\n\
             Match host cache1 exec \"test -f /x\"\n  User x\n\
             Host new1\n  SomeFutureOption yes\n\
             Host ign1\n  IgnoreUnknown SomeFuture*\n  SomeFutureOption yes\n",
        );
        let err = evaluate(&files, home.path(), &query("web1")).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("web1: "), "{text}");
        assert!(text.contains("config:2: `ProxyCommand nc %h %p`"), "{text}");
        assert!(text.contains("openssh://"), "{text}");
        assert!(text.contains("`CertificateFile ~/.ssh/cert` at"), "{text}");
        // None, or harmless options: fine. A host the options don't apply to: fine.
        evaluate(&files, home.path(), &query("db1")).unwrap();
        let text = evaluate(&files, home.path(), &query("app1"))
            .unwrap_err()
            .to_string();
        assert!(text.contains("PKCS11Provider"), "{text}");
        let text = evaluate(&files, home.path(), &query("cache1"))
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("`Match host cache1 exec \"test -f /x\"`"),
            "{text}"
        );
        // exec is not reached for another host.
        evaluate(&files, home.path(), &query("cache2")).unwrap();
        let text = evaluate(&files, home.path(), &query("new1"))
            .unwrap_err()
            .to_string();
        assert!(text.contains("SomeFutureOption"), "{text}");
        evaluate(&files, home.path(), &query("ign1")).unwrap();
    }

    /// ProxyJump and ProxyCommand compete: the first given holds, the other
    /// is passed over, as in OpenSSH.
    #[test]
    fn the_first_of_proxy_jump_and_proxy_command_holds() {
        let home = tempfile::tempdir().unwrap();
        let files = config_in(
            home.path(),
            "Host j1\n  ProxyJump b\nHost j2\n  ProxyCommand none\n\
             Host *\n  ProxyCommand nc %h %p\n  ProxyJump c\n  ProxyCommand none\n",
        );
        let j1 = evaluate(&files, home.path(), &query("j1")).unwrap();
        assert_eq!(j1.proxy_jump.as_deref(), Some("b"));
        let j2 = evaluate(&files, home.path(), &query("j2")).unwrap();
        assert_eq!(j2.proxy_jump, None);
        let text = evaluate(&files, home.path(), &query("j3"))
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("`ProxyCommand nc %h %p`") && !text.contains("also"),
            "{text}"
        );
    }

    #[test]
    fn bad_syntax_names_file_and_line() {
        let home = tempfile::tempdir().unwrap();
        let files = config_in(home.path(), "Host a\n  Port seventy\n");
        let text = evaluate(&files, home.path(), &query("a"))
            .unwrap_err()
            .to_string();
        assert!(
            text.ends_with("config:2: Port: \"seventy\" is not a port number"),
            "{text}"
        );
        let files = config_in(home.path(), "Host a\n  User \"bob\n");
        let text = evaluate(&files, home.path(), &query("a"))
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("config:2: User: unterminated quote"),
            "{text}"
        );
        // An Include that includes itself ends, with an error.
        let files = config_in(home.path(), "Include config\n");
        let text = evaluate(&files, home.path(), &query("a"))
            .unwrap_err()
            .to_string();
        assert!(text.contains("Include nested deeper than 16"), "{text}");
    }

    #[test]
    fn paths_expand_tokens_and_home() {
        let home = Path::new("/home/alice");
        let path = expand_path(
            "~/.ssh/%r@%h:%p",
            home,
            "alice",
            "web1",
            "10.0.0.7",
            22,
            "root",
        );
        assert_eq!(
            path.unwrap(),
            Path::new("/home/alice/.ssh/root@10.0.0.7:22")
        );
        let path = expand_path("keys/%n_%u", home, "alice", "web1", "h", 22, "root");
        assert_eq!(path.unwrap(), Path::new("/home/alice/keys/web1_alice"));
        assert!(expand_path("~/%C", home, "a", "h", "h", 22, "r").is_err());
    }
}
