//! What a deploy decides for its modules: each module's grants (see
//! [`super::grants`]), limits on every form, and the host's data.
//!
//! Limits: wall time, memory (the growth of a module's linear memory) and
//! output (what a form prints or logs), set for every form and per module.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::confinement::Writer;
use super::grants::ModuleGrants;
use super::redact::Redactor;

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

/// The most any call into a module may take while it is only inspected
/// (`init`, `describe`, validating a form) on the controller, where no
/// call has an effect: nothing there should take long, and a module that
/// loops must not hold `describe` or a deploy's validation for minutes.
pub const INSPECT_TIME_LIMIT: Duration = Duration::from_secs(30);

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

    /// These limits with no time limit above `most`, for every form and
    /// every module.
    pub fn with_time_at_most(&self, most: Duration) -> LimitSet {
        let mut capped = self.clone();
        capped.forms.time = Some(self.for_forms().time.min(most));
        for (module, limits) in &mut capped.modules {
            limits.time = Some(self.for_module(module).time.min(most));
        }
        capped
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
    /// Grants by module name.
    #[serde(default)]
    pub grants: BTreeMap<String, ModuleGrants>,
    /// Grants of a module not in `grants` (a bundle's, for all its modules);
    /// none means nothing.
    #[serde(default)]
    pub every_module: Option<ModuleGrants>,
    /// Modules a subdeployment was asked for through: they bound its calls too.
    #[serde(default)]
    pub ceiling: Vec<(String, ModuleGrants)>,
    /// What the untrusted modules it was asked for through may write from
    /// outside the chroots this subdeployment entered, as seen inside them.
    #[serde(default)]
    pub outer_writers: Vec<Writer>,
    /// In a subdeployment: what every untrusted module of the deploy may
    /// write, as seen inside the chroots entered (see [`Policy::deploy_writers`]).
    #[serde(default)]
    pub deploy_writers_inside: Vec<Writer>,
    pub limits: LimitSet,
    /// Check mode: writes go to an overlay, commands that change things are skipped.
    #[serde(default)]
    pub check: bool,
    /// This host's data (secrets), by key.
    #[serde(default)]
    pub data: HostData,
    /// This host's variables, merged from the consfig's levels. Not secret:
    /// they may show in forms and reports.
    #[serde(default)]
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// The files of the consfig sent to this host, by their path relative
    /// to Consfig.toml. They travel apart, content-addressed (see the wire
    /// protocol), and are put here on the target: never inside the policy's
    /// own message.
    #[serde(skip)]
    pub files: ConsfigFiles,
    /// The runtime's own files — its cache of modules and compiled code, its
    /// executable — which no untrusted module may change: code loaded from
    /// there runs with any module's grants.
    #[serde(default)]
    pub protected: Vec<std::path::PathBuf>,
    /// How many subdeployments deep the forms under this policy run: 0 for
    /// a deploy's own, at most [`MAX_SUBDEPLOY_DEPTH`].
    #[serde(default)]
    pub depth: u32,
}

/// How deep subdeployments may nest: each is processes of its own, and a
/// module that subdeploys itself would otherwise fork without end.
pub const MAX_SUBDEPLOY_DEPTH: u32 = 8;

/// A host's data: values that never show in debug output, and that a
/// [`Redactor`] blanks out of everything reported.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostData(BTreeMap<String, Vec<u8>>);

impl fmt::Debug for HostData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// Files of the consfig a host was sent, in memory: shared by every copy
/// of the policy (each form's, each subdeployment's, inside a chroot too).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConsfigFiles(std::sync::Arc<BTreeMap<String, Vec<u8>>>);

impl fmt::Debug for ConsfigFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl ConsfigFiles {
    pub fn new(files: BTreeMap<String, Vec<u8>>) -> Self {
        ConsfigFiles(std::sync::Arc::new(
            files
                .into_iter()
                .map(|(path, bytes)| (normal_path(&path), bytes))
                .collect(),
        ))
    }

    /// The file a form named `path`, however it spells the same relative
    /// path (`./a`, `a//b`).
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.0.get(&normal_path(path)).map(Vec::as_slice)
    }

    pub fn paths(&self) -> impl ExactSizeIterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A relative path without `.` and empty components: `./a//b` is `a/b`.
/// `..` stays: only the file system knows where it leads.
pub fn normal_path(path: &str) -> String {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

impl Policy {
    /// The grants of the module named `module`.
    pub fn grants_of(&self, module: &str) -> ModuleGrants {
        self.grants
            .get(module)
            .or(self.every_module.as_ref())
            .cloned()
            .unwrap_or_default()
    }

    /// What the untrusted, non-standard modules of the deploy may write,
    /// whichever forms they run in: a program one of them can write runs
    /// its code when another untrusted module's form starts it. Known from
    /// the grants at the top; a subdeployment is given them.
    pub fn deploy_writers(&self) -> Vec<Writer> {
        if self.depth > 0 {
            return self.deploy_writers_inside.clone();
        }
        (self.grants.iter())
            .filter(|(_, grants)| !grants.trusted && !grants.standard)
            .flat_map(|(name, grants)| Writer::of(name, grants))
            .collect()
    }

    /// Whether any module may look names up (has `net`, or is trusted).
    pub fn any_network(&self) -> bool {
        self.grants
            .values()
            .chain(self.every_module.as_ref())
            .any(ModuleGrants::any_network)
    }
}

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

    /// Every key with its value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What blanks these values out of reports.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(self)
    }

    /// `text` with every value blanked (see [`Redactor`]).
    pub fn redact(&self, text: &str) -> String {
        self.redactor().text(text).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Capped: the default and a longer limit come down, a shorter stays.
        limits.modules.insert(
            "slow".into(),
            Limits {
                time: Some(Duration::from_secs(900)),
                ..Limits::default()
            },
        );
        let capped = limits.with_time_at_most(Duration::from_secs(30));
        assert_eq!(capped.for_module("file").time, Duration::from_secs(3));
        assert_eq!(capped.for_module("slow").time, Duration::from_secs(30));
        assert_eq!(capped.for_module("cmd").time, Duration::from_secs(30));
        assert_eq!(capped.for_module("file").memory, 64 << 20);
    }

    #[test]
    fn sizes_show_in_the_largest_whole_unit() {
        for (n, shown) in [
            (0, "0 bytes"),
            (1000, "1000 bytes"),
            (1 << 10, "1 KiB"),
            (1536, "1536 bytes"),
            (3 << 10, "3 KiB"),
            (1 << 20, "1 MiB"),
            ((1 << 20) + (1 << 10), "1025 KiB"),
            ((1 << 20) + 1, "1048577 bytes"),
            (1 << 30, "1 GiB"),
            (5 << 30, "5 GiB"),
            ((1 << 30) + (1 << 20), "1025 MiB"),
        ] {
            assert_eq!(show_bytes(n), shown, "{n}");
        }
        // The defaults the README states.
        assert_eq!(show_bytes(DEFAULT_LIMIT.memory), "1 GiB");
        assert_eq!(show_bytes(DEFAULT_LIMIT.output), "4 MiB");
        assert_eq!(DEFAULT_LIMIT.time, Duration::from_secs(300));
    }

    #[test]
    fn a_modules_grants_are_its_own_or_those_of_every_module() {
        let web = ModuleGrants {
            grants: consfig_contract::parse_grants(&["read:/etc"]).unwrap(),
            ..ModuleGrants::default()
        };
        let mut policy = Policy {
            grants: [("web".to_owned(), web.clone())].into(),
            ..Policy::default()
        };
        assert_eq!(policy.grants_of("web"), web);
        assert_eq!(policy.grants_of("other"), ModuleGrants::default());
        let bundle = ModuleGrants::trusted();
        policy.every_module = Some(bundle.clone());
        assert_eq!(policy.grants_of("other"), bundle);
        assert_eq!(policy.grants_of("web"), web);
    }

    #[test]
    fn names_may_be_looked_up_when_some_module_may_use_any_address() {
        let module = |grants: &[&str]| ModuleGrants {
            grants: consfig_contract::parse_grants(grants).unwrap(),
            ..ModuleGrants::default()
        };
        let mut policy = Policy {
            grants: [("web".to_owned(), module(&["net:127.0.0.1:80"]))].into(),
            ..Policy::default()
        };
        assert!(!policy.any_network());
        policy.grants.insert("fetch".into(), module(&["net"]));
        assert!(policy.any_network());
        policy.grants.remove("fetch");
        policy.every_module = Some(module(&["net"]));
        assert!(policy.any_network(), "a bundle's grants count too");
    }

    #[test]
    fn the_deploys_writers_are_its_untrusted_non_standard_modules() {
        let module = |grant: &str, trusted, standard| ModuleGrants {
            grants: consfig_contract::parse_grants(&[grant]).unwrap(),
            trusted,
            standard,
        };
        let mut policy = Policy {
            grants: [
                ("web".to_owned(), module("write:/srv/www", false, false)),
                ("file".to_owned(), module("write:/", false, true)),
                ("mine".to_owned(), module("write:/opt", true, false)),
                ("looks".to_owned(), module("read:/usr", false, false)),
            ]
            .into(),
            ..Policy::default()
        };
        let writers = policy.deploy_writers();
        assert_eq!(
            writers,
            [Writer {
                module: "web".into(),
                grant: "write:/srv/www".parse().unwrap(),
                here: "/srv/www".into(),
            }]
        );
        // A subdeployment has them as given, seen inside its chroots.
        policy.depth = 1;
        assert!(policy.deploy_writers().is_empty());
        policy.deploy_writers_inside = writers.clone();
        assert_eq!(policy.deploy_writers(), writers);
    }

    #[test]
    fn host_data_is_found_by_key() {
        let mut data = HostData::default();
        assert!(data.is_empty());
        data.insert("pin".into(), b"4711".to_vec());
        data.insert("db".into(), b"hunter22".to_vec());
        assert_eq!(data.get("db"), Some(&b"hunter22"[..]));
        assert_eq!(data.get("nope"), None);
        assert_eq!(data.keys().collect::<Vec<_>>(), ["db", "pin"]);
        assert!(!data.is_empty());
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
        // The line break after the value stays.
        assert_eq!(
            data.redact("line hunter22\nnext line\n"),
            "line [data db]\nnext line\n"
        );
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
}
