//! The `consfig` command line: a thin layer over the library.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::connection::Hop;
use crate::consfig_file::{Consfig, expand_modules};
use crate::deploy::{self, DeployOptions, HostPlan, Inspector, ModuleFile};
use crate::form::Form;
use crate::grants::{LoadedModule, ModuleGrants, ModuleSettings};
use crate::policy::Policy;
use crate::report::{Reporter, combined_exit_code};

/// Exit code for bad input: nothing was deployed.
const EXIT_USAGE: i32 = 2;

#[derive(Parser)]
#[command(
    name = "consfig",
    version,
    about = "Configuration management whose configuration code is WebAssembly",
    long_about = "Configuration management whose configuration code is WebAssembly.\n\n\
        Exit codes of deploy and apply: 0 nothing changed, 23 something changed, \
        22 something failed, 2 bad input (nothing was deployed)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// Print one JSON object per event instead of lines for people.
    #[arg(long)]
    json: bool,
    /// Also show every form's output and which modules were sent and compiled.
    #[arg(short, long)]
    verbose: bool,
    /// Time limit per form, e.g. 30s, 5m [default: 5m, or the time in [limits] of
    /// Consfig.toml]; a module's own limits still apply to its forms.
    #[arg(long, value_parser = humantime::parse_duration)]
    timeout: Option<Duration>,
    /// Add unknown SSH host keys to ~/.ssh/known_hosts (a changed key is always refused).
    #[arg(long)]
    accept_new_host_keys: bool,
    /// Hosts to deploy at once.
    #[arg(short, long, default_value_t = deploy::DEFAULT_JOBS)]
    jobs: usize,
    /// Change nothing: writes go to an overlay (later forms see it), commands
    /// that are not read-only are skipped; each form says whether it would change.
    #[arg(long)]
    check: bool,
    /// With --check, show a unified diff of each file a form would change.
    #[arg(long, requires = "check")]
    diff: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Deploy hosts as Consfig.toml describes them.
    Deploy {
        /// The consfig to read.
        #[arg(long, default_value = "Consfig.toml")]
        consfig: PathBuf,
        #[command(flatten)]
        report: ReportArgs,
        /// Hosts or groups to deploy, as named under [hosts.NAME] or in [groups].
        #[arg(required = true)]
        hosts: Vec<String>,
    },
    /// Apply forms ad hoc, without a Consfig.toml.
    #[command(
        after_help = "Example:\n  consfig apply local '[\"file:has-content\", \"/tmp/motd\", \"hello\\n\"]'"
    )]
    Apply {
        /// Module files or globs [default: the standard modules installed beside consfig,
        /// or $CONSFIG_MODULES].
        #[arg(long = "modules", value_name = "PATH")]
        modules: Vec<String>,
        #[command(flatten)]
        report: ReportArgs,
        /// Grant a module more, or other, than it declares: MODULE=GRANT, e.g.
        /// `example=write:/srv/www`, written as grants are in Consfig.toml.
        #[arg(long = "grant", value_name = "MODULE=GRANT")]
        grants: Vec<String>,
        /// Let a module do anything, unchecked.
        #[arg(long = "trusted", value_name = "MODULE")]
        trusted: Vec<String>,
        /// Where to apply: hops separated by commas, e.g. `local`,
        /// `ssh://root@web1`, `ssh://deploy@web1,sudo`, `local,chroot:/srv/c1`.
        connection: String,
        /// Forms as JSON arrays, e.g. '["file:absent", "/tmp/x"]'.
        #[arg(required = true)]
        forms: Vec<String>,
    },
    /// List the properties of modules, and the grants they need.
    Describe {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[arg(required = true, value_name = "MODULE.wasm")]
        modules: Vec<PathBuf>,
    },
    /// Write a bundle: one executable that applies a form when started, for
    /// running a service. Or, with --info, show what a bundle holds.
    #[command(
        after_help = "Example:\n  consfig bundle --module cool-web-service --grant net:127.0.0.1:8080 \\\n              --form '[\"cool-web-service:start-server\", 8080]' -o cool-web-service\n\n        The bundle exits with the form's status: 0 when it succeeded, 1 when it failed, \
        the status a module passed to exit, or 125 when the bundle itself is damaged."
    )]
    Bundle {
        /// Modules to put in: files, globs, or names of the standard modules
        /// installed beside consfig (e.g. cool-web-service).
        #[arg(
            long = "module",
            value_name = "MODULE",
            required_unless_present = "info"
        )]
        modules: Vec<String>,
        /// What the bundled modules may reach: net (any address) or
        /// net:HOST:PORT (HOST an IP or *, PORT a number or *). None by default.
        #[arg(long = "grant", value_name = "GRANT")]
        grants: Vec<String>,
        /// The form to apply when the bundle starts, as a JSON array.
        #[arg(long, required_unless_present = "info")]
        form: Option<String>,
        /// Where to write the bundle (replaced atomically, mode 0755).
        #[arg(short, long, value_name = "PATH", required_unless_present = "info")]
        output: Option<PathBuf>,
        /// The runtime stub to build on [default: consfig-stub beside consfig,
        /// or $CONSFIG_STUB].
        #[arg(long, value_name = "PATH")]
        stub: Option<PathBuf>,
        /// Verify a bundle and show what it holds, instead of writing one.
        #[arg(long, value_name = "BUNDLE", conflicts_with_all = ["modules", "grants", "form", "output", "stub"])]
        info: Option<PathBuf>,
    },
    /// Serve the runtime protocol on stdin/stdout (started by the controller).
    Runtime,
}

/// Run the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Deploy {
            consfig,
            report,
            hosts,
        } => deploy_command(&consfig, &report, &hosts),
        Command::Apply {
            modules,
            grants,
            trusted,
            report,
            connection,
            forms,
        } => apply_settings(&grants, &trusted)
            .and_then(|settings| apply_command(&modules, &settings, &report, &connection, &forms)),
        Command::Describe { json, modules } => describe_command(&modules, json),
        Command::Bundle {
            info: Some(path), ..
        } => bundle_info_command(&path),
        Command::Bundle {
            modules,
            grants,
            form,
            output,
            stub,
            info: None,
        } => bundle_command(
            &modules,
            &grants,
            form.as_deref().unwrap_or_default(),
            output.as_deref().unwrap_or(Path::new("")),
            stub.as_deref(),
        ),
        Command::Runtime => match crate::runtime::main() {
            Ok(()) => Ok(0),
            Err(e) => {
                eprintln!("consfig runtime: {e}");
                return 1;
            }
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("consfig: {e:#}");
            EXIT_USAGE
        }
    }
}

fn options(report: &ReportArgs, policy: Policy) -> Result<DeployOptions> {
    let exe = std::env::current_exe().context("finding the consfig executable")?;
    let mut options =
        DeployOptions::new(&exe).with_context(|| format!("reading {}", exe.display()))?;
    options.policy = policy;
    if let Some(timeout) = report.timeout {
        options.policy.limits.forms.time = Some(timeout);
    }
    options.accept_new_host_keys = report.accept_new_host_keys;
    options.policy.check = report.check;
    options.jobs = report.jobs.max(1);
    Ok(options)
}

/// The SHA-256 of each standard module: those installed beside consfig.
fn standard_hashes() -> Vec<String> {
    let Ok(exe) = std::env::current_exe() else {
        return Vec::new();
    };
    let dir = exe.parent().unwrap_or(Path::new(".")).join("modules");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "wasm"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .map(|bytes| crate::cache::sha256_hex(&bytes))
        .collect()
}

/// Each loaded module's grants; refused, with every problem, when a module
/// needs grants it was not given. Says which modules run trusted.
fn decide_grants(
    inspector: &Inspector,
    settings: &BTreeMap<String, ModuleSettings>,
) -> Result<BTreeMap<String, ModuleGrants>> {
    let standard = standard_hashes();
    let loaded: Vec<LoadedModule<'_>> = inspector
        .image()
        .modules()
        .map(|(sha256, info)| LoadedModule {
            name: &info.name,
            needs: &info.needs,
            standard: standard.iter().any(|s| s == sha256),
        })
        .collect();
    let decided = crate::grants::decide(&loaded, settings).map_err(|problems| {
        anyhow::anyhow!("nothing was deployed:\n  {}", problems.join("\n  "))
    })?;
    Ok(decided)
}

/// Validate every form against the modules; all problems at once, each naming
/// its culprit, after `refusal` (what did not happen because of them).
fn validate_all<'a>(
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
                .map(|e| format!("{place}: {}: {e}", form.to_value()))
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{refusal}:\n  {}", problems.join("\n  "))
    }
}

fn deploy_command(path: &Path, report: &ReportArgs, names: &[String]) -> Result<i32> {
    let consfig = Consfig::load(path)?;
    let hosts = consfig.select(names)?;
    let modules = deploy::read_modules(&consfig.module_files)?;
    let mut inspector = Inspector::new(&modules)?;
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
    let mut options = options(report, consfig.policy.clone())?;
    options.policy.grants = decide_grants(&inspector, &consfig.module_settings)
        .map_err(|e| anyhow::anyhow!("{}: {e:#}", path.display()))?;
    let plans: Vec<HostPlan> = hosts
        .iter()
        .map(|host| HostPlan {
            name: host.name.clone(),
            hops: host.connection.clone(),
            forms: host.forms.iter().map(|f| f.form.clone()).collect(),
            identity_files: host.identity_file.iter().cloned().collect(),
            sudo_password_file: host.sudo_password_file.clone(),
            data_files: host.data_files.clone(),
        })
        .collect();
    Ok(run_plans(&plans, &modules, &options, report))
}

/// Deploy the plans, report, and give the exit code.
fn run_plans(
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
    let summaries = deploy::deploy_hosts(plans, modules, options, &reporter);
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

/// Where `consfig apply` finds modules when none are named.
fn standard_modules() -> Result<Vec<PathBuf>> {
    if let Some(list) = std::env::var_os("CONSFIG_MODULES") {
        let patterns: Vec<String> = std::env::split_paths(&list)
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        return expand_modules(Path::new("."), &patterns)
            .map_err(|e| anyhow::anyhow!("$CONSFIG_MODULES: {e}"));
    }
    let exe = std::env::current_exe()?;
    let dir = exe.parent().unwrap_or(Path::new(".")).join("modules");
    expand_modules(&dir, &["*.wasm".to_owned()]).map_err(|_| {
        anyhow::anyhow!(
            "no modules given and none installed in {}: pass --modules",
            dir.display()
        )
    })
}

/// `--grant MODULE=GRANT` and `--trusted MODULE` as module settings.
fn apply_settings(
    grants: &[String],
    trusted: &[String],
) -> Result<BTreeMap<String, ModuleSettings>> {
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

fn apply_command(
    patterns: &[String],
    settings: &BTreeMap<String, ModuleSettings>,
    report: &ReportArgs,
    connection: &str,
    texts: &[String],
) -> Result<i32> {
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
        standard_modules()?
    } else {
        expand_modules(Path::new("."), patterns).map_err(anyhow::Error::msg)?
    };
    let modules: Vec<ModuleFile> = deploy::read_modules(&files)?;
    let mut inspector = Inspector::new(&modules)?;
    validate_all(
        "nothing was deployed",
        &mut inspector,
        forms
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("form {}", i + 1), f)),
    )?;
    let mut options = options(report, Policy::default())?;
    options.policy.grants = decide_grants(&inspector, settings)?;
    let plan = HostPlan {
        name: connection.to_owned(),
        hops,
        forms,
        identity_files: Vec::new(),
        sudo_password_file: None,
        data_files: Default::default(),
    };
    Ok(run_plans(&[plan], &modules, &options, report))
}

/// Module files for `--module` arguments: paths and globs as given; a bare
/// name is a standard module installed beside consfig.
fn bundle_modules(args: &[String]) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for arg in args {
        let is_name = !arg.contains('/') && !arg.ends_with(".wasm") && !arg.contains('*');
        if is_name {
            let file = format!("consfig_{}.wasm", arg.replace('-', "_"));
            let installed = standard_modules()?.into_iter().find(|p| p.ends_with(&file));
            paths.push(installed.with_context(|| {
                format!("no standard module named {arg} is installed beside consfig; give the .wasm file's path")
            })?);
        } else {
            paths.extend(
                expand_modules(Path::new("."), std::slice::from_ref(arg))
                    .map_err(anyhow::Error::msg)?,
            );
        }
    }
    Ok(paths)
}

fn bundle_command(
    module_args: &[String],
    grant_args: &[String],
    form: &str,
    output: &Path,
    stub: Option<&Path>,
) -> Result<i32> {
    let form = Form::parse(form).with_context(|| format!("--form {form}"))?;
    let grants = crate::grants::parse_grants(grant_args)?;
    let stub_path = match stub {
        Some(path) => path.to_owned(),
        None => crate::bundle::stub_path(&std::env::current_exe()?),
    };
    let stub = std::fs::read(&stub_path)
        .map_err(|_| crate::bundle::BundleError::NoStub(stub_path.display().to_string()))?;
    let modules = deploy::read_modules(&bundle_modules(module_args)?)?;
    let mut inspector = Inspector::new(&modules)?;
    validate_all(
        "no bundle was written",
        &mut inspector,
        [("--form".to_owned(), &form)],
    )?;
    let bytes = crate::bundle::from_modules(inspector.image().module_set(), &stub, &form, &grants)
        .map_err(anyhow::Error::msg)?;
    let place = crate::confined_fs::Place::new(output, None)?;
    let status = crate::bundle::write_if_changed(&place, &bytes)
        .with_context(|| format!("writing {}", output.display()))?;
    println!(
        "{}: {} bytes ({} of runtime stub, {} modules), {}",
        output.display(),
        bytes.len(),
        stub.len(),
        modules.len(),
        status.as_str()
    );
    Ok(0)
}

fn bundle_info_command(path: &Path) -> Result<i32> {
    let bundle = crate::bundle::Bundle::open(path)?;
    print!("{}", bundle.describe());
    Ok(0)
}

fn describe_command(paths: &[PathBuf], json: bool) -> Result<i32> {
    let modules = deploy::read_modules(paths)?;
    let inspector = Inspector::new(&modules)?;
    for (module, (sha256, info)) in modules.iter().zip(inspector.image().modules()) {
        if json {
            let properties: Vec<_> = info
                .properties
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "name": p.name, "doc": p.doc,
                        "params": p.params.iter().map(|a| serde_json::json!({
                            "name": a.name, "type": a.type_, "optional": a.optional,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::json!({"path": module.path, "sha256": sha256, "module": info.name,
                                   "doc": info.doc, "needs": info.needs, "properties": properties})
            );
            continue;
        }
        println!(
            "{} ({}, sha256 {})",
            info.name,
            module.path.display(),
            &sha256[..16]
        );
        if !info.doc.is_empty() {
            println!("  {}", info.doc.replace('\n', "\n  "));
        }
        if !info.needs.is_empty() {
            println!("  needs: {}", info.needs.join(", "));
        }
        for p in &info.properties {
            let params: Vec<String> = p
                .params
                .iter()
                .map(|a| {
                    if a.optional {
                        format!("[{}: {}]", a.name, a.type_)
                    } else {
                        format!("{}: {}", a.name, a.type_)
                    }
                })
                .collect();
            println!("\n  {} {}", p.name, params.join(" ").trim_end());
            for line in p.doc.lines() {
                println!("      {line}");
            }
        }
        println!();
    }
    Ok(0)
}
