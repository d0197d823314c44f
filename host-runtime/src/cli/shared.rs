//! What the sub-commands that deploy share: the reporting options, the
//! deploy's options from them, the modules (built from source where they
//! are crates), each module's grants, validating every form before anything
//! connects, and running the plans.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use consfig_contract::Form;

use crate::controller::build::cargo::WASM_TARGET;
use crate::controller::build::{BuildObserver, Builders, SourceKind, build_sources};
use crate::controller::deploy::deploy_hosts;
use crate::controller::installation::Installation;
use crate::controller::modules::{Inspector, ModuleFile, read_modules};
use crate::controller::plan::{DEFAULT_JOBS, DeployOptions, HostPlan};
use crate::controller::reporter::Reporter;
use crate::controller::summary::combined_exit_code;
use crate::sandbox::decide::{LoadedModule, ModuleSettings, SettingsFrom, decide};
use crate::sandbox::grants::ModuleGrants;
use crate::sandbox::policy::Policy;
use crate::wire::terminal::escape;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// Print one JSON object per event instead of lines for people.
    #[arg(long)]
    pub json: bool,
    /// Also show every form's output and which modules were sent and compiled.
    #[arg(short, long)]
    pub verbose: bool,
    /// Time limit per form, e.g. 30s, 5m [default: 5m, or the time in [limits] of
    /// Consfig.toml]; a module's own limits still apply to its forms.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub timeout: Option<Duration>,
    /// Add unknown SSH host keys to ~/.ssh/known_hosts (a changed key is always refused).
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Hosts to deploy at once.
    #[arg(short, long, default_value_t = DEFAULT_JOBS)]
    pub jobs: usize,
    /// Change nothing: writes go to an overlay (later forms see it), commands
    /// that are not read-only are skipped; each form says whether it would change.
    #[arg(long)]
    pub check: bool,
    /// With --check, show a unified diff of each file a form would change.
    #[arg(long, requires = "check")]
    pub diff: bool,
}

/// What building modules from source tells the operator, on standard error
/// (standard output may be the deploy's JSON).
struct BuildMessages;

impl BuildObserver for BuildMessages {
    fn installing_target(&self, command: &str) {
        eprintln!(
            "consfig: building modules needs the Rust target {WASM_TARGET}, which is missing: installing it ({command})"
        );
    }

    fn warning(&self, rendered: &str) {
        eprintln!("{}", escape(rendered.trim_end()));
    }

    fn installing_toolchain(&self, what: &str, dir: &Path) {
        eprintln!(
            "consfig: installing {} into {}, to build modules with (once: later builds use it)",
            escape(what),
            escape(&dir.to_string_lossy())
        );
    }

    fn waiting_for_install(&self, what: &str, lock: &Path) {
        eprintln!(
            "consfig: waiting for another consfig installing {} (it holds {})",
            escape(what),
            escape(&lock.to_string_lossy())
        );
    }

    fn building(&self, dir: &Path, kind: SourceKind) {
        eprintln!(
            "consfig: building the {} module in {} (not built from these sources before)",
            kind.language(),
            escape(&dir.to_string_lossy())
        );
    }
}

/// The modules at `paths`, read; module directories among them are built
/// first (cargo rebuilds only what changed; Python and JavaScript modules
/// are built only when their sources changed).
pub fn load_modules(paths: &[PathBuf]) -> Result<Vec<ModuleFile>> {
    let builders = Builders::from_env(&Installation::current()?);
    let files = build_sources(paths, &builders, &BuildMessages)?;
    Ok(read_modules(&files)?)
}

/// The deploy's options: `policy` as the consfig set it, then the command line.
pub fn options(
    installation: &Installation,
    report: &ReportArgs,
    policy: Policy,
) -> Result<DeployOptions> {
    let mut options = DeployOptions::new(installation).context("reading the runtimes")?;
    options.policy = policy;
    if let Some(timeout) = report.timeout {
        options.policy.limits.forms.time = Some(timeout);
    }
    options.accept_new_host_keys = report.accept_new_host_keys;
    options.policy.check = report.check;
    options.jobs = report.jobs.max(1);
    Ok(options)
}

/// Each loaded module's grants; refused, with every problem, when a module
/// needs grants it was not given, saying how to fix it where the settings
/// are written (`from`).
pub fn decide_grants(
    installation: &Installation,
    inspector: &Inspector,
    settings: &BTreeMap<String, ModuleSettings>,
    from: SettingsFrom,
) -> Result<BTreeMap<String, ModuleGrants>> {
    let standard = installation.standard_hashes();
    let loaded: Vec<LoadedModule<'_>> = inspector
        .image()
        .modules()
        .map(|(sha256, info)| LoadedModule {
            name: &info.name,
            needs: &info.needs,
            standard: standard.iter().any(|s| s == sha256),
        })
        .collect();
    decide(&loaded, settings, from)
        .map_err(|problems| anyhow::anyhow!("nothing was deployed:\n  {}", problems.join("\n  ")))
}

/// Validate every form against the modules; all problems at once, each naming
/// its culprit, after `refusal` (what did not happen because of them).
pub fn validate_all<'a>(
    refusal: &str,
    inspector: &mut Inspector,
    forms: impl IntoIterator<Item = (String, &'a Form)>,
) -> Result<()> {
    let problems: Vec<String> = forms
        .into_iter()
        .filter_map(|(place, form)| {
            inspector
                .validate(form)
                .err()
                .map(|e| format!("{place}: {form}: {e}"))
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{refusal}:\n  {}", problems.join("\n  "))
    }
}

/// Deploy the plans, report, and give the exit code.
pub fn run_plans(
    plans: &[HostPlan],
    modules: &[ModuleFile],
    options: &DeployOptions,
    report: &ReportArgs,
) -> i32 {
    let forms = plans.iter().map(|p| p.forms.len()).sum();
    let mut reporter = Reporter::stdout(report.json, report.verbose, forms);
    if report.check {
        reporter = reporter.checking(report.diff);
    }
    for (name, grants) in &options.policy.grants {
        if grants.trusted {
            reporter.notice(&format!(
                "module {name} is trusted: its calls are not checked against grants"
            ));
        }
    }
    let summaries = deploy_hosts(plans, modules, options, &reporter);
    if plans.len() > 1 {
        let named: Vec<_> = plans
            .iter()
            .map(|p| p.name.clone())
            .zip(summaries.iter().cloned())
            .collect();
        reporter.recap(&named);
    }
    combined_exit_code(&summaries)
}
