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
//! # su-password-file = "/etc/consfig/web1-root"  # for an `su` hop: the password of the user su switches to
//! data = { db = { command = ["pass", "show", "web1/db"] } }   # see data_sources
//! properties = []
//!
//! [groups.web]                   # `consfig deploy web` deploys both
//! hosts = ["web1", "web2"]       # (or, without vars: [groups] web = ["web1", "web2"])
//! vars = { domain = "example.org" }
//!
//! [vars]                         # every host's; a group's override them, a host's those
//! admin = "root@example.org"
//!
//! [lists.webserver]              # forms many hosts share: ["list", "webserver"]
//! properties = [["file:has-content", "/etc/motd", { "$var" = "domain" }]]
//! ```
//!
//! Variables merge per host: `[vars]`, then the `vars` of each group the host
//! is in, groups in alphabetical order (a later one winning), then the
//! host's own `vars`. A form `["list", NAME]` among a host's (or a list's)
//! properties stands for that list's forms; `{"$var": NAME}` anywhere inside
//! a form stands for the host's variable NAME. Both are replaced here, so
//! the runtime, validation and reports see plain forms.
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
use super::data_sources::DataSource;
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
    #[error("{path}:{line}: {message}")]
    At {
        path: PathBuf,
        line: usize,
        message: String,
    },
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
    /// A group is a list of hosts, or a table with `hosts` and `vars`.
    #[serde(default)]
    groups: BTreeMap<String, toml::Spanned<toml::Value>>,
    /// Variables of every host.
    vars: Option<toml::Spanned<toml::Value>>,
    /// Named lists of forms.
    #[serde(default)]
    lists: BTreeMap<String, RawList>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    #[serde(default)]
    properties: Vec<toml::Spanned<toml::Value>>,
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
    /// The SSH configuration read instead of ~/.ssh/config (as `ssh -F`).
    ssh_config_file: Option<PathBuf>,
    su_password_file: Option<PathBuf>,
    /// Data for this host's modules (`data` import): key → source, read at
    /// deploy time.
    #[serde(default)]
    data: BTreeMap<String, toml::Spanned<toml::Value>>,
    #[serde(default)]
    properties: Vec<toml::Spanned<toml::Value>>,
    /// This host's own variables, over those of its groups and `[vars]`.
    vars: Option<toml::Spanned<toml::Value>>,
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
    /// The SSH configuration read instead of ~/.ssh/config and
    /// /etc/ssh/ssh_config, by either SSH client.
    pub ssh_config_file: Option<PathBuf>,
    /// For an `su` hop: the password of the user su switches to.
    pub su_password_file: Option<PathBuf>,
    /// Where each value of its data is read from, by key.
    pub data: BTreeMap<String, DataSource>,
    /// Variables, merged from `[vars]`, its groups' and its own.
    pub vars: Vars,
    pub line: usize,
}

/// A host's variables by name, as JSON values.
pub type Vars = serde_json::Map<String, serde_json::Value>;

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

/// A group as read: its hosts and its variables.
struct Group {
    hosts: Vec<String>,
    vars: Vars,
}

/// A named list of forms as read: its forms with their lines.
struct List {
    forms: Vec<(usize, serde_json::Value)>,
}

/// The most forms one host's lists may expand to: lists that include each
/// other twice over would otherwise grow without bound.
const MAX_EXPANDED_FORMS: usize = 100_000;

/// `[groups]`: each a list of hosts, or a table `{hosts, vars}`; every
/// member must be a host, and no group may have a host's name.
fn read_groups(
    raw: BTreeMap<String, toml::Spanned<toml::Value>>,
    hosts: &BTreeMap<String, toml::Spanned<RawHost>>,
    at: impl Fn(std::ops::Range<usize>, String) -> ConsfigError,
) -> Result<BTreeMap<String, Group>, ConsfigError> {
    let mut groups = BTreeMap::new();
    for (name, spanned) in raw {
        let span = spanned.span();
        let err = |message: String| at(span.clone(), format!("group {name:?}: {message}"));
        if hosts.contains_key(&name) {
            return Err(err("has the name of a host; rename one of them".into()));
        }
        let (members, vars) = match spanned.into_inner() {
            members @ toml::Value::Array(_) => (members, Vars::new()),
            toml::Value::Table(mut table) => {
                let members = table
                    .remove("hosts")
                    .ok_or_else(|| err("has no hosts; write hosts = [\"web1\", ...]".into()))?;
                let vars = match table.remove("vars") {
                    None => Vars::new(),
                    Some(vars) => read_vars(vars).map_err(err)?,
                };
                if let Some(unknown) = table.keys().next() {
                    return Err(err(format!(
                        "unknown key {unknown:?}; a group has hosts and vars"
                    )));
                }
                (members, vars)
            }
            other => {
                return Err(err(format!(
                    "is a {}; write a list of hosts, or a table with hosts and vars",
                    other.type_str()
                )));
            }
        };
        let toml::Value::Array(members) = members else {
            return Err(err("hosts must be a list of host names".into()));
        };
        let mut names = Vec::new();
        for member in members {
            let toml::Value::String(member) = member else {
                return Err(err("hosts must be a list of host names".into()));
            };
            if !hosts.contains_key(&member) {
                return Err(err(format!("lists {member:?}, which is not a host")));
            }
            names.push(member);
        }
        groups.insert(name, Group { hosts: names, vars });
    }
    Ok(groups)
}

/// A `vars` table as JSON values by name.
fn read_vars(value: toml::Value) -> Result<Vars, String> {
    match value {
        toml::Value::Table(table) => table
            .into_iter()
            .map(|(key, value)| {
                to_json(value)
                    .map(|value| (key.clone(), value))
                    .map_err(|e| format!("vars {key}: {e}"))
            })
            .collect(),
        other => Err(format!(
            "vars must be a table, e.g. vars = {{ domain = \"example.org\" }}, not a {}",
            other.type_str()
        )),
    }
}

/// A TOML value as JSON: dates and times become their text.
fn to_json(value: toml::Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as Json;
    Ok(match value {
        toml::Value::String(s) => Json::String(s),
        toml::Value::Integer(i) => Json::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(Json::Number)
            .ok_or_else(|| format!("{f} has no JSON form"))?,
        toml::Value::Boolean(b) => Json::Bool(b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(items) => {
            Json::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(table) => Json::Object(
            table
                .into_iter()
                .map(|(k, v)| to_json(v).map(|v| (k, v)))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// The list a form `["list", NAME]` names; none for any other value.
fn list_name(value: &serde_json::Value) -> Result<Option<&str>, String> {
    match value.as_array().map(Vec::as_slice) {
        Some([serde_json::Value::String(list), rest @ ..]) if list == "list" => match rest {
            [serde_json::Value::String(name)] => Ok(Some(name)),
            _ => Err("write a list of forms as [\"list\", \"NAME\"], with one list name".into()),
        },
        _ => Ok(None),
    }
}

/// `forms` with every `["list", NAME]` replaced by that list's forms, in
/// place, lists inside lists too; `within` is the lists being expanded.
/// Errors carry the line they are about.
fn expand_lists(
    forms: &[(usize, serde_json::Value)],
    lists: &BTreeMap<String, List>,
    within: &mut Vec<String>,
    out: &mut Vec<(usize, serde_json::Value)>,
) -> Result<(), (usize, String)> {
    let inside = |within: &[String]| match within.last() {
        Some(list) => format!("in list {list}: "),
        None => String::new(),
    };
    for (line, form) in forms {
        let name = list_name(form).map_err(|e| (*line, format!("{}{e}", inside(within))))?;
        let Some(name) = name else {
            if out.len() >= MAX_EXPANDED_FORMS {
                return Err((
                    *line,
                    format!("its lists expand to more than {MAX_EXPANDED_FORMS} forms"),
                ));
            }
            out.push((*line, form.clone()));
            continue;
        };
        let Some(list) = lists.get(name) else {
            let known: Vec<&str> = lists.keys().map(String::as_str).collect();
            return Err((
                *line,
                format!(
                    "{}no list {name:?}; lists: {}",
                    inside(within),
                    if known.is_empty() {
                        "none (define one under [lists.NAME])".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        };
        if within.iter().any(|l| l == name) {
            return Err((
                *line,
                format!(
                    "list {name} includes itself: {} -> {name}",
                    within.join(" -> ")
                ),
            ));
        }
        within.push(name.to_owned());
        expand_lists(&list.forms, lists, within, out)?;
        within.pop();
    }
    Ok(())
}

/// Why a form's `{"$var": NAME}` could not be replaced.
enum VarError {
    /// The host has no variable of this name.
    Missing(String),
    /// `$var` with a name that is no string, or beside other keys.
    Malformed,
}

/// `value` with every `{"$var": NAME}` replaced by the variable NAME of
/// `vars`. A variable's own value is taken as it is, never looked into for
/// more.
fn with_vars(value: &serde_json::Value, vars: &Vars) -> Result<serde_json::Value, VarError> {
    use serde_json::Value as Json;
    Ok(match value {
        Json::Object(object) if object.contains_key("$var") => match object.get("$var") {
            Some(Json::String(name)) if object.len() == 1 => vars
                .get(name)
                .cloned()
                .ok_or_else(|| VarError::Missing(name.clone()))?,
            _ => return Err(VarError::Malformed),
        },
        Json::Object(object) => Json::Object(
            object
                .iter()
                .map(|(k, v)| with_vars(v, vars).map(|v| (k.clone(), v)))
                .collect::<Result<_, _>>()?,
        ),
        Json::Array(items) => Json::Array(
            items
                .iter()
                .map(|v| with_vars(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
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

        let at = |span: std::ops::Range<usize>, message: String| ConsfigError::At {
            path: path.to_owned(),
            line: line_of(text, span.start),
            message,
        };
        let groups = read_groups(raw.groups, &raw.hosts, at)?;
        let global_vars = match raw.vars {
            None => Vars::new(),
            Some(vars) => {
                let span = vars.span();
                read_vars(vars.into_inner()).map_err(|e| at(span, format!("[vars]: {e}")))?
            }
        };
        let mut lists = BTreeMap::new();
        for (name, list) in raw.lists {
            let forms = list
                .properties
                .into_iter()
                .map(|form| {
                    let line = line_of(text, form.span().start);
                    to_json(form.into_inner())
                        .map(|value| (line, value))
                        .map_err(|e| ConsfigError::At {
                            path: path.to_owned(),
                            line,
                            message: format!("list {name}: {e}"),
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            lists.insert(name, List { forms });
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
            // Global, then each group the host is in (alphabetically, a
            // later one winning), then its own.
            let mut vars = global_vars.clone();
            for group in groups.values().filter(|g| g.hosts.contains(&name)) {
                vars.extend(group.vars.clone());
            }
            if let Some(own) = raw_host.vars {
                let line = line_of(text, own.span().start);
                vars.extend(read_vars(own.into_inner()).map_err(|e| host_err(line, e))?);
            }
            let mut data = BTreeMap::new();
            for (key, value) in raw_host.data {
                let line = line_of(text, value.span().start);
                let source = DataSource::from_toml(value.into_inner(), base)
                    .map_err(|e| host_err(line, format!("data {key}: {e}")))?;
                data.insert(key, source);
            }
            let mut written = Vec::new();
            for property in raw_host.properties {
                let line = line_of(text, property.span().start);
                let value = to_json(property.into_inner()).map_err(|e| host_err(line, e))?;
                written.push((line, value));
            }
            let mut expanded = Vec::new();
            expand_lists(&written, &lists, &mut Vec::new(), &mut expanded)
                .map_err(|(line, e)| host_err(line, e))?;
            let mut forms = Vec::new();
            for (line, value) in expanded {
                let value = with_vars(&value, &vars).map_err(|e| {
                    let form = super::session::bounded(&value.to_string(), 200);
                    host_err(
                        line,
                        match e {
                            VarError::Missing(missing) => format!(
                                "form {form} uses variable {missing:?}, which this host does not have (its variables: {})",
                                if vars.is_empty() {
                                    "none".to_owned()
                                } else {
                                    vars.keys().cloned().collect::<Vec<_>>().join(", ")
                                }
                            ),
                            VarError::Malformed => format!(
                                "form {form}: a variable is written {{\"$var\": \"NAME\"}}, alone in its object"
                            ),
                        },
                    )
                })?;
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
                    ssh_config_file: raw_host.ssh_config_file.map(|f| base.join(f)),
                    su_password_file: raw_host.su_password_file.map(|f| base.join(f)),
                    data,
                    vars,
                    line,
                },
            );
        }
        Ok(Consfig {
            path: path.to_owned(),
            module_paths,
            policy,
            module_settings,
            hosts,
            groups: groups
                .into_iter()
                .map(|(name, g)| (name, g.hosts))
                .collect(),
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

    const HOSTS: &str = "modules = [\"*.wasm\"]\n[hosts.a]\nconnection = [\"local\"]\n[hosts.b]\nconnection = [\"local\"]\n";

    #[test]
    fn variables_merge_host_over_groups_alphabetically_over_global() {
        let c = parse(&format!(
            "{HOSTS}vars = {{ x = 1 }}\n\n[vars]\nlevel = \"global\"\nonly = \"global\"\nwhen = 2024-01-02\n\
             [groups.zz]\nhosts = [\"a\"]\nvars = {{ level = \"zz\", zz = true }}\n\
             [groups.aa]\nhosts = [\"a\", \"b\"]\n[groups.aa.vars]\nlevel = \"aa\"\nzz = false\nlist = [1, 2]\n"
        ))
        .unwrap();
        let a = &c.hosts["a"].vars;
        assert_eq!(a.get("x"), None);
        assert_eq!(a["level"], "zz", "zz comes after aa and wins");
        assert_eq!(a["zz"], true);
        assert_eq!(a["only"], "global");
        assert_eq!(a["when"], "2024-01-02", "dates become text");
        assert_eq!(a["list"], serde_json::json!([1, 2]));
        let b = &c.hosts["b"].vars;
        assert_eq!(b["level"], "aa");
        assert_eq!(b["x"], 1, "the host's own");
        assert_eq!(c.groups["aa"], ["a", "b"]);
        // The short form of a group still works.
        let c = parse(&format!("{HOSTS}[groups]\nweb = [\"b\"]\n")).unwrap();
        assert_eq!(c.groups["web"], ["b"]);
    }

    #[test]
    fn bad_variables_and_groups_name_file_line_and_what_is_wrong() {
        for (bad, says) in [
            ("vars = 3\n", "Consfig.toml:6: host b: vars must be a table"),
            (
                "[groups.web]\nhosts = [\"a\", \"c\"]\n",
                "Consfig.toml:6: group \"web\": lists \"c\", which is not a host",
            ),
            ("[groups.web]\nvars = {}\n", "group \"web\": has no hosts"),
            (
                "[groups.web]\nhosts = [\"a\"]\nvars = [1]\n",
                "vars must be a table",
            ),
            (
                "[groups.web]\nhosts = [\"a\"]\nvar = {}\n",
                "unknown key \"var\"",
            ),
            ("[groups]\na = [\"b\"]\n", "has the name of a host"),
            ("[groups]\nweb = 1\n", "write a list of hosts"),
            (
                "[vars]\nnan = nan\n",
                "[vars]: vars nan: NaN has no JSON form",
            ),
        ] {
            let e = parse(&format!("{HOSTS}{bad}")).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn lists_expand_in_place_nested_and_vars_are_replaced() {
        let c = parse(&format!(
            "{HOSTS}properties = [\n  [\"t:first\"],\n  [\"list\", \"web\"],\n  [\"t:last\", {{ \"$var\" = \"port\" }}],\n]\n\
             vars = {{ port = 8080, names = [\"x\"] }}\n\
             [lists.base]\nproperties = [[\"t:base\", {{ deep = [{{ \"$var\" = \"names\" }}] }}]]\n\
             [lists.web]\nproperties = [\n  [\"list\", \"base\"],\n  [\"t:web\", {{ \"$var\" = \"port\" }}],\n]\n"
        ))
        .unwrap();
        let b = &c.hosts["b"];
        let forms: Vec<String> = b
            .forms
            .iter()
            .map(|f| f.form.to_value().to_string())
            .collect();
        assert_eq!(
            forms,
            [
                r#"["t:first"]"#,
                r#"["t:base",{"deep":[["x"]]}]"#,
                r#"["t:web",8080]"#,
                r#"["t:last",8080]"#
            ]
        );
        // Each form keeps the line it was written on, in its list if it came from one.
        let lines: Vec<usize> = b.forms.iter().map(|f| f.line).collect();
        assert_eq!(lines, [7, 13, 17, 9]);
    }

    #[test]
    fn list_and_variable_errors_name_host_list_and_variable() {
        for (bad, says) in [
            (
                "properties = [[\"list\", \"nope\"]]\n[lists.web]\n",
                "host b: no list \"nope\"; lists: web",
            ),
            (
                "properties = [[\"list\", \"x\"]]\n[lists.x]\nproperties = [[\"list\", \"y\"]]\n[lists.y]\nproperties = [[\"list\", \"x\"]]\n",
                "host b: list x includes itself: x -> y -> x",
            ),
            (
                "properties = [[\"list\", \"x\"]]\n[lists.x]\nproperties = [[\"list\", \"y\"]]\n",
                "host b: in list x: no list \"y\"",
            ),
            ("properties = [[\"list\"]]\n", "one list name"),
            (
                "vars = { a = 1 }\nproperties = [[\"t:x\", { \"$var\" = \"port\" }]]\n",
                "Consfig.toml:7: host b: form [\"t:x\",{\"$var\":\"port\"}] uses variable \"port\", which this host does not have (its variables: a)",
            ),
            (
                "properties = [[\"t:x\", { \"$var\" = \"port\", other = 1 }]]\n",
                "alone in its object",
            ),
            ("[lists.x]\nforms = []\n", "unknown field `forms`"),
        ] {
            let e = parse(&format!("{HOSTS}{bad}")).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn data_is_read_from_paths_files_commands_and_env() {
        use super::super::data_sources::DataSource;
        let c = parse(&format!(
            "{HOSTS}[hosts.b.data]\nold = \"secrets/db\"\nfile = {{ file = \"/etc/db\" }}\n\
             pass = {{ command = [\"pass\", \"show\", \"b/db\"] }}\nenv = {{ env = \"DB\" }}\n"
        ))
        .unwrap();
        let data = &c.hosts["b"].data;
        let base = c.path.parent().unwrap();
        assert_eq!(data["old"], DataSource::File(base.join("secrets/db")));
        assert_eq!(data["file"], DataSource::File("/etc/db".into()));
        assert_eq!(data["env"], DataSource::Env("DB".into()));
        let DataSource::Command(pass) = &data["pass"] else {
            panic!("{:?}", data["pass"])
        };
        assert_eq!(pass.argv, ["pass", "show", "b/db"]);
        assert_eq!(pass.dir, base);
    }

    #[test]
    fn a_bad_data_source_names_file_line_host_and_key() {
        for (bad, says) in [
            (
                "data = { db = 3 }\n",
                "Consfig.toml:6: host b: data db: is an integer; a data value is a path",
            ),
            (
                "[hosts.b.data]\nok = \"f\"\ndb = { command = [] }\n",
                "Consfig.toml:8: host b: data db: command is empty",
            ),
            (
                "data = { db = { file = \"f\", env = \"E\" } }\n",
                "Consfig.toml:6: host b: data db: has keys env, file; write exactly one of file, command, env",
            ),
            (
                "data = { db = { pipe = \"pass show db\" } }\n",
                "Consfig.toml:6: host b: data db: unknown source \"pipe\"",
            ),
            (
                "data = {\n  db = { command = \"pass show db\" },\n}\n",
                "Consfig.toml:7: host b: data db: command must be a list of strings",
            ),
            (
                "data = { token = { env = \"A=B\" } }\n",
                "Consfig.toml:6: host b: data token: env must be the name",
            ),
        ] {
            let e = parse(&format!("{HOSTS}{bad}")).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn lists_that_multiply_are_bounded() {
        let mut text = format!("{HOSTS}properties = [[\"list\", \"l0\"]]\n");
        for i in 0..20 {
            text.push_str(&format!(
                "[lists.l{i}]\nproperties = [[\"list\", \"l{n}\"], [\"list\", \"l{n}\"]]\n",
                n = i + 1
            ));
        }
        text.push_str("[lists.l20]\nproperties = [[\"t:x\"]]\n");
        let e = parse(&text).unwrap_err().to_string();
        assert!(e.contains("more than 100000 forms"), "{e}");
    }
}
