//! `consfig deploy HOST…`: deploy hosts as Consfig.toml describes them.

use std::path::Path;

use anyhow::{Context, Result};

use super::shared::{ReportArgs, decide_grants, load_modules, options, run_plans, validate_all};
use crate::controller::consfig_file::Consfig;
use crate::controller::consfig_files::ConsfigFiles;
use crate::controller::installation::Installation;
use crate::controller::modules::Inspector;
use crate::controller::plan::HostPlan;
use crate::sandbox::decide::SettingsFrom;

pub fn run(path: &Path, report: &ReportArgs, names: &[String]) -> Result<i32> {
    let installation = Installation::current()?;
    let consfig = Consfig::load(path)?;
    let hosts = consfig.select(names)?;
    let modules = load_modules(&consfig.module_paths)
        .with_context(|| format!("{}: nothing was deployed", path.display()))?;
    let mut options = options(&installation, report, consfig.policy.clone())?;
    // Validating is held to the deploy's time limits too.
    let mut inspector =
        Inspector::with_limits(&modules, options.policy.limits.clone(), &options.compiler)?;
    validate_all(
        "nothing was deployed",
        &mut inspector,
        hosts.iter().flat_map(|host| {
            host.forms.iter().map(move |f| {
                (
                    format!("{}:{}: host {}", path.display(), f.line, host.name),
                    &f.form,
                )
            })
        }),
    )?;
    options.policy.grants = decide_grants(
        &installation,
        &inspector,
        &consfig.module_settings,
        SettingsFrom::ConsfigFile,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e:#}", path.display()))?;
    let mut files = ConsfigFiles::new(&consfig)?;
    let plans: Vec<HostPlan> = hosts
        .iter()
        .map(|host| {
            Ok(HostPlan {
                name: host.name.clone(),
                hops: host.connection.clone(),
                forms: host.forms.iter().map(|f| f.form.clone()).collect(),
                identity_files: host.identity_file.iter().cloned().collect(),
                sudo_password_file: host.sudo_password_file.clone(),
                ssh_config_file: host.ssh_config_file.clone(),
                su_password_file: host.su_password_file.clone(),
                data: host.data.clone(),
                vars: host.vars.clone(),
                files: files.of_host(host)?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(run_plans(&plans, &modules, &options, report))
}
