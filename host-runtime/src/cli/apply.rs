//! `consfig apply CONNECTION FORM…`: apply forms ad hoc, without a Consfig.toml.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use consfig_contract::Form;

use super::shared::{ReportArgs, decide_grants, load_modules, options, run_plans, validate_all};
use crate::controller::connection::Hop;
use crate::controller::installation::Installation;
use crate::controller::modules::{Inspector, expand_modules};
use crate::controller::plan::HostPlan;
use crate::sandbox::decide::{ModuleSettings, SettingsFrom};
use crate::sandbox::policy::Policy;

/// `--grant MODULE=GRANT` and `--trusted MODULE` as module settings.
pub fn settings(grants: &[String], trusted: &[String]) -> Result<BTreeMap<String, ModuleSettings>> {
    let mut settings: BTreeMap<String, ModuleSettings> = BTreeMap::new();
    for text in grants {
        let (module, grant) = text.split_once('=').with_context(|| {
            format!("--grant {text}: write MODULE=GRANT, e.g. example=write:/srv/www")
        })?;
        let grant = grant.parse().with_context(|| format!("--grant {text}"))?;
        settings
            .entry(module.to_owned())
            .or_default()
            .grants
            .get_or_insert_with(Vec::new)
            .push(grant);
    }
    for module in trusted {
        settings.entry(module.clone()).or_default().trusted = true;
    }
    Ok(settings)
}

pub fn run(
    patterns: &[String],
    settings: &BTreeMap<String, ModuleSettings>,
    report: &ReportArgs,
    connection: &str,
    texts: &[String],
) -> Result<i32> {
    let installation = Installation::current()?;
    let hops = connection
        .split(',')
        .map(str::parse)
        .collect::<Result<Vec<Hop>, _>>()?;
    let forms = texts
        .iter()
        .enumerate()
        .map(|(i, text)| Form::parse(text).with_context(|| format!("form {} ({text})", i + 1)))
        .collect::<Result<Vec<_>>>()?;
    let files = if patterns.is_empty() {
        installation.default_modules()?
    } else {
        expand_modules(Path::new("."), patterns, &installation).map_err(anyhow::Error::msg)?
    };
    let modules = load_modules(&files).context("nothing was deployed")?;
    let mut options = options(&installation, report, Policy::default())?;
    // Validating is held to the deploy's time limit too.
    let mut inspector =
        Inspector::with_limits(&modules, options.policy.limits.clone(), &options.compiler)?;
    validate_all(
        "nothing was deployed",
        &mut inspector,
        forms
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("form {}", i + 1), f)),
    )?;
    options.policy.grants = decide_grants(
        &installation,
        &inspector,
        settings,
        SettingsFrom::CommandLine,
    )?;
    let plan = HostPlan {
        name: connection.to_owned(),
        hops,
        forms,
        identity_files: Vec::new(),
        sudo_password_file: None,
        ssh_config_file: None,
        su_password_file: None,
        data: Default::default(),
        // Ad hoc forms have no consfig: no variables.
        vars: Default::default(),
        files: Default::default(),
    };
    Ok(run_plans(&[plan], &modules, &options, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_and_trusted_flags_become_module_settings() {
        let set = settings(
            &["web=write:/srv/www".into(), "web=subdeploy".into()],
            &["legacy".into()],
        )
        .unwrap();
        assert_eq!(set["web"].grants.as_ref().unwrap().len(), 2);
        assert!(set["legacy"].trusted);
        let e = settings(&["write:/srv".into()], &[]).unwrap_err();
        assert!(format!("{e:#}").contains("write MODULE=GRANT"), "{e:#}");
        let e = settings(&["web=write:srv".into()], &[]).unwrap_err();
        assert!(format!("{e:#}").contains("must be absolute"), "{e:#}");
    }
}
