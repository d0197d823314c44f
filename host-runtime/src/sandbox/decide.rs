//! Deciding each module's grants for a deploy, from the consfig's settings
//! (`[module.NAME]`) and what the modules declare they need.

use std::collections::BTreeMap;

use consfig_contract::{Grant, parse_grants};

use super::grants::ModuleGrants;

/// What a consfig says of one module's grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleSettings {
    /// The module's grants; for a standard module, they replace (narrow) what
    /// it declares. None: a standard module gets its needs, any other nothing.
    pub grants: Option<Vec<Grant>>,
    /// Everything, unchecked (and said so in the report).
    pub trusted: bool,
}

/// Where a deploy's module settings are written: what a refusal tells the
/// user to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsFrom {
    /// `[module.NAME]` tables of Consfig.toml.
    ConsfigFile,
    /// `--grant MODULE=GRANT` and `--trusted MODULE` (`consfig apply`).
    CommandLine,
}

impl SettingsFrom {
    /// Settings for a module that is not loaded.
    fn no_such_module(self, name: &str, loaded: &str) -> String {
        match self {
            SettingsFrom::ConsfigFile => {
                format!("[module.{name}]: no module named {name} is loaded (loaded: {loaded})")
            }
            SettingsFrom::CommandLine => format!(
                "--grant/--trusted {name}: no module named {name} is loaded (loaded: {loaded})"
            ),
        }
    }

    /// How to give module `name` what it needs.
    fn how_to_grant(self, name: &str) -> String {
        match self {
            SettingsFrom::ConsfigFile => {
                format!("add them to grants in [module.{name}], or set trusted = true there")
            }
            SettingsFrom::CommandLine => format!(
                "give each with --grant {name}=GRANT, or run it unchecked with --trusted {name}"
            ),
        }
    }
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
/// Refusals say how to fix them where the settings are written (`from`).
pub fn decide(
    modules: &[LoadedModule<'_>],
    settings: &BTreeMap<String, ModuleSettings>,
    from: SettingsFrom,
) -> Result<BTreeMap<String, ModuleGrants>, Vec<String>> {
    let mut problems = Vec::new();
    let mut decided = BTreeMap::new();
    for name in settings.keys() {
        if !modules.iter().any(|m| m.name == name) {
            let loaded: Vec<&str> = modules.iter().map(|m| m.name).collect();
            problems.push(from.no_such_module(name, &loaded.join(", ")));
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
                    "module {} needs grants it was not given: {} ({})",
                    module.name,
                    list.join(", "),
                    from.how_to_grant(module.name)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn module<'a>(name: &'a str, needs: &'a [String], standard: bool) -> LoadedModule<'a> {
        LoadedModule {
            name,
            needs,
            standard,
        }
    }

    #[test]
    fn standard_modules_get_their_needs_unless_narrowed() {
        let needs = vec!["write:/".to_owned()];
        let decided = decide(
            &[module("file", &needs, true)],
            &BTreeMap::new(),
            SettingsFrom::ConsfigFile,
        )
        .unwrap();
        assert_eq!(decided["file"].grants, parse_grants(&["write:/"]).unwrap());
        assert!(decided["file"].standard);
        let narrowed = BTreeMap::from([(
            "file".to_owned(),
            ModuleSettings {
                grants: Some(parse_grants(&["write:/srv"]).unwrap()),
                trusted: false,
            },
        )]);
        let decided = decide(
            &[module("file", &needs, true)],
            &narrowed,
            SettingsFrom::ConsfigFile,
        )
        .unwrap();
        assert_eq!(
            decided["file"].grants,
            parse_grants(&["write:/srv"]).unwrap()
        );
    }

    #[test]
    fn other_modules_get_nothing_and_every_problem_is_listed() {
        let needs = vec!["write:/srv".to_owned(), "subdeploy".to_owned()];
        let bad_needs = vec!["write:srv".to_owned()];
        let settings = BTreeMap::from([("nope".to_owned(), ModuleSettings::default())]);
        let problems = decide(
            &[
                module("web", &needs, false),
                module("odd", &bad_needs, false),
            ],
            &settings,
            SettingsFrom::ConsfigFile,
        )
        .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("[module.nope]"), "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("module web needs grants") && p.contains("\"subdeploy\"")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("module odd declares a need")),
            "{problems:?}"
        );
        let trusted = BTreeMap::from([(
            "web".to_owned(),
            ModuleSettings {
                grants: None,
                trusted: true,
            },
        )]);
        assert!(
            decide(
                &[module("web", &needs, false)],
                &trusted,
                SettingsFrom::ConsfigFile
            )
            .unwrap()["web"]
                .trusted
        );
    }

    #[test]
    fn refusals_name_where_the_settings_are_written() {
        let needs = vec!["write:/srv".to_owned()];
        let settings = BTreeMap::from([("nope".to_owned(), ModuleSettings::default())]);
        let web = [module("web", &needs, false)];
        let file = decide(&web, &settings, SettingsFrom::ConsfigFile).unwrap_err();
        assert!(file[1].contains("grants in [module.web]"), "{file:?}");
        let flags = decide(&web, &settings, SettingsFrom::CommandLine).unwrap_err();
        assert!(flags[0].starts_with("--grant/--trusted nope:"), "{flags:?}");
        assert!(
            flags[1].contains("--grant web=GRANT") && flags[1].contains("--trusted web"),
            "{flags:?}"
        );
        assert!(
            flags
                .iter()
                .all(|p| !p.contains("[module.") && !p.contains("trusted = true")),
            "{flags:?}"
        );
    }
}
