//! `Consfig.toml`: which modules a consfig uses and which forms each host gets.
//!
//! ```toml
//! modules = ["file", "cmd", "modules/web", "extra/*.wasm"]
//! form-timeout = "5m"            # optional, per form
//!
//! [hosts.laptop]
//! connection = ["local"]
//! properties = [
//!   ["file:has-content", "/tmp/motd", "hello\n"],
//! ]
//!
//! [hosts.web1]
//! connection = ["ssh://deploy@web1.example.org", "sudo"]
//! identity-file = "keys/deploy"   # optional; else ssh-agent, ~/.ssh/config, ~/.ssh/id_*
//! sudo-password-file = "/etc/consfig/web1-sudo"   # optional; kept outside the consfig
//! properties = []
//!
//! [groups]
//! web = ["web1", "web2"]         # `consfig deploy web` deploys both
//! ```
//!
//! A `modules` entry is a standard module's name, or a path or glob (relative
//! to Consfig.toml) of `.wasm` files or of crate directories, which are built
//! from source before anything connects.
//!
//! Unknown keys are errors, and every error names the file and, where it can, the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use consfig_contract::{Form, parse_grants};

use super::connection::Hop;
use super::installation::Installation;
use super::limits::{RawLimits, parse_duration};
use super::modules::expand_modules;
use crate::sandbox::decide::ModuleSettings;
use crate::sandbox::policy::Policy;

#[derive(Debug, thiserror::Error)]
pub enum ConsfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}:{line}: host {host}: {message}")]
    Host {
        path: PathBuf,
        line: usize,
        host: String,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConsfig {
    modules: Vec<String>,
    form_timeout: Option<String>,
    limits: Option<RawLimits>,
    /// Settings per module, by module name.
    #[serde(default)]
    module: BTreeMap<String, RawModule>,
    #[serde(default)]
    hosts: BTreeMap<String, toml::Spanned<RawHost>>,
    #[serde(default)]
    groups: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    limits: Option<RawLimits>,
    grants: Option<Vec<String>>,
    #[serde(default)]
    trusted: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawHost {
    connection: Vec<String>,
    identity_file: Option<PathBuf>,
    sudo_password_file: Option<PathBuf>,
    /// Data for this host's modules (`data` import): key → file, read at deploy time.
    #[serde(default)]
    data: BTreeMap<String, PathBuf>,
    #[serde(default)]
    properties: Vec<toml::Spanned<toml::Value>>,
}

/// One form of a host, with the line it was written on.
#[derive(Debug, Clone)]
pub struct HostForm {
    pub form: Form,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub connection: Vec<Hop>,
    pub forms: Vec<HostForm>,
    pub identity_file: Option<PathBuf>,
    pub sudo_password_file: Option<PathBuf>,
    /// Data files by key, absolute or relative to the Consfig.toml.
    pub data_files: BTreeMap<String, PathBuf>,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Consfig {
    pub path: PathBuf,
    /// Module files and crate directories, in the order written.
    pub module_paths: Vec<PathBuf>,
    /// Limits for every form and per module, as written.
    pub policy: Policy,
    /// Grants per module, as written under `[module.NAME]`.
    pub module_settings: BTreeMap<String, ModuleSettings>,
    pub hosts: BTreeMap<String, Host>,
    /// Named lists of hosts.
    pub groups: BTreeMap<String, Vec<String>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Consfig {
    pub fn load(path: &Path) -> Result<Self, ConsfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConsfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, ConsfigError> {
        Self::parse_with(path, text, |base, patterns| {
            let installation = Installation::current().map_err(|e| e.to_string())?;
            expand_modules(base, patterns, &installation)
        })
    }

    /// [`Consfig::parse`], with the module files found by `expand` from the
    /// consfig's directory and its `modules` patterns: reading a consfig
    /// without looking at the file system (e.g. to fuzz the reader).
    pub fn parse_with(
        path: &Path,
        text: &str,
        expand: impl FnOnce(&Path, &[String]) -> Result<Vec<PathBuf>, String>,
    ) -> Result<Self, ConsfigError> {
        let invalid = |message: String| ConsfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let raw: RawConsfig = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let module_paths = expand(base, &raw.modules).map_err(invalid)?;
        let mut policy = Policy::default();
        if let Some(limits) = &raw.limits {
            policy.limits.forms = limits.parse("[limits]").map_err(invalid)?;
        }
        if let Some(t) = &raw.form_timeout {
            if policy.limits.forms.time.is_some() {
                return Err(invalid(
                    "form-timeout and [limits] time both set the time limit: keep one".into(),
                ));
            }
            policy.limits.forms.time = Some(parse_duration("form-timeout", t).map_err(invalid)?);
        }
        let mut module_settings = BTreeMap::new();
        for (name, module) in &raw.module {
            let grants = module
                .grants
                .as_ref()
                .map(|texts| {
                    parse_grants(texts).map_err(|e| invalid(format!("[module.{name}] grants: {e}")))
                })
                .transpose()?;
            module_settings.insert(
                name.clone(),
                ModuleSettings {
                    grants,
                    trusted: module.trusted,
                },
            );
            if let Some(limits) = &module.limits {
                let limits = limits
                    .parse(&format!("[module.{name}] limits"))
                    .map_err(invalid)?;
                policy.limits.modules.insert(name.clone(), limits);
            }
        }

        let mut hosts = BTreeMap::new();
        for (name, spanned) in raw.hosts {
            let line = line_of(text, spanned.span().start);
            let host_err = |line: usize, message: String| ConsfigError::Host {
                path: path.to_owned(),
                line,
                host: name.clone(),
                message,
            };
            let raw_host = spanned.into_inner();
            let connection = raw_host
                .connection
                .iter()
                .map(|hop| hop.parse::<Hop>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| host_err(line, e.to_string()))?;
            if connection.is_empty() {
                return Err(host_err(
                    line,
                    "connection is empty; write connection = [\"local\"]".into(),
                ));
            }
            let mut forms = Vec::new();
            for property in raw_host.properties {
                let line = line_of(text, property.span().start);
                let value = serde_json::to_value(property.get_ref())
                    .map_err(|e| host_err(line, format!("form cannot be read as JSON: {e}")))?;
                let form = Form::from_value(value).map_err(|e| host_err(line, e.to_string()))?;
                forms.push(HostForm { form, line });
            }
            hosts.insert(
                name.clone(),
                Host {
                    name,
                    connection,
                    forms,
                    identity_file: raw_host.identity_file.map(|f| base.join(f)),
                    sudo_password_file: raw_host.sudo_password_file.map(|f| base.join(f)),
                    data_files: raw_host
                        .data
                        .into_iter()
                        .map(|(key, file)| (key, base.join(file)))
                        .collect(),
                    line,
                },
            );
        }
        for (group, members) in &raw.groups {
            if hosts.contains_key(group) {
                return Err(invalid(format!("group {group:?} has the name of a host")));
            }
            if let Some(unknown) = members.iter().find(|m| !hosts.contains_key(*m)) {
                return Err(invalid(format!(
                    "group {group:?} lists {unknown:?}, which is not a host"
                )));
            }
        }
        Ok(Consfig {
            path: path.to_owned(),
            module_paths,
            policy,
            module_settings,
            hosts,
            groups: raw.groups,
        })
    }

    /// The hosts named, each a host or a group, in order and without repeats.
    pub fn select(&self, names: &[String]) -> Result<Vec<&Host>, ConsfigError> {
        let mut selected: Vec<&Host> = Vec::new();
        for name in names {
            let members = match (self.hosts.get(name), self.groups.get(name)) {
                (Some(host), _) => vec![host],
                (None, Some(group)) => group.iter().map(|m| &self.hosts[m]).collect(),
                (None, None) => {
                    return Err(ConsfigError::Invalid {
                        path: self.path.clone(),
                        message: format!(
                            "no host or group {name:?}; hosts: {}; groups: {}",
                            self.hosts.keys().cloned().collect::<Vec<_>>().join(", "),
                            if self.groups.is_empty() {
                                "none".to_owned()
                            } else {
                                self.groups.keys().cloned().collect::<Vec<_>>().join(", ")
                            }
                        ),
                    });
                }
            };
            for host in members {
                if !selected.iter().any(|h| h.name == host.name) {
                    selected.push(host);
                }
            }
        }
        Ok(selected)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn parse(text: &str) -> Result<Consfig, ConsfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.wasm"), b"").unwrap();
        Consfig::parse(&dir.path().join("Consfig.toml"), text)
    }

    #[test]
    fn reads_hosts_and_forms_with_lines() {
        let c = parse(
            "modules = [\"*.wasm\"]\nform-timeout = \"2s\"\n[hosts.a]\nconnection = [\"local\"]\nproperties = [\n  [\"file:absent\", \"/x\"],\n]\n",
        )
        .unwrap();
        assert_eq!(c.module_paths.len(), 1);
        assert_eq!(c.policy.limits.forms.time, Some(Duration::from_secs(2)));
        let a = &c.hosts["a"];
        assert_eq!(a.forms[0].form.name(), "file:absent");
        assert_eq!(a.forms[0].line, 6);
    }

    #[test]
    fn reads_limits_for_every_form_and_per_module() {
        let c = parse(
            "modules = [\"*.wasm\"]\n[limits]\ntime = \"1m\"\nmemory = \"64MiB\"\n[module.file]\nlimits = { output = \"1KiB\", time = \"3s\" }\n",
        )
        .unwrap();
        let file = c.policy.limits.for_module("file");
        assert_eq!(file.time, Duration::from_secs(3));
        assert_eq!(file.memory, 64 << 20);
        assert_eq!(file.output, 1024);
        assert_eq!(
            c.policy.limits.for_module("cmd").time,
            Duration::from_secs(60)
        );

        for (bad, says) in [
            ("[limits]\nmemory = \"lots\"", "[limits] memory = \"lots\""),
            ("[limits]\ntime = \"soon\"", "[limits] time"),
            (
                "[module.file]\nlimits = { output = \"0\" }",
                "[module.file] limits output",
            ),
            ("[limits]\nspeed = \"1\"", "speed"),
            ("form-timeout = \"1s\"\n[limits]\ntime = \"2s\"", "keep one"),
        ] {
            let e = parse(&format!("modules = [\"*.wasm\"]\n{bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        let e = parse("modules = [\"*.wasm\"]\nmodles = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("modles") && e.contains("Consfig.toml"), "{e}");
        let e =
            parse("modules = [\"*.wasm\"]\n[hosts.a]\nconnection = [\"local\"]\nproprties = []\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("proprties"), "{e}");
    }

    #[test]
    fn malformed_forms_name_host_and_line() {
        let e = parse("modules = [\"*.wasm\"]\n[hosts.web]\nconnection = [\"local\"]\nproperties = [\n  [1, 2],\n]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":5: host web:"), "{e}");
    }

    #[test]
    fn groups_select_their_hosts_once() {
        let c = parse(
            "modules = [\"*.wasm\"]\n[hosts.a]\nconnection = [\"local\"]\n[hosts.b]\nconnection = [\"local\"]\n[groups]\nall = [\"a\", \"b\"]\n",
        )
        .unwrap();
        let names = |sel: Vec<&Host>| sel.iter().map(|h| h.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(c.select(&["b".into(), "all".into()]).unwrap()),
            ["b", "a"]
        );
        let e = c.select(&["web9".into()]).unwrap_err().to_string();
        assert!(
            e.contains("no host or group \"web9\"") && e.contains("groups: all"),
            "{e}"
        );
        let e = parse("modules = [\"*.wasm\"]\n[groups]\nx = [\"nope\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lists \"nope\""), "{e}");
    }
}
