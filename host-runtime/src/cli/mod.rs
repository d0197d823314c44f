//! The `consfig` command line: a thin layer over the library, one file per
//! sub-command. Each parses its arguments, calls the controller (or the
//! runtime), prints, and gives the exit code; errors become text here.

mod apply;
mod bundle;
mod deploy;
mod describe;
mod new;
mod shared;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use shared::ReportArgs;

use crate::controller::scaffold::Language;

use crate::wire::terminal::escape;

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

#[derive(Subcommand)]
enum Command {
    /// Make a new consfig in DIR: a Cargo workspace with one module crate (or,
    /// with --python or --js, one module in that language), and a Consfig.toml
    /// deploying it to this machine (`consfig deploy laptop`).
    New {
        /// The directory to make (or an empty one); its name names the module.
        dir: PathBuf,
        /// Write the module in Python (modules/NAME/app.py) instead of Rust; not
        /// with --js.
        #[arg(long, conflicts_with = "js")]
        python: bool,
        /// Write the module in JavaScript (modules/NAME/app.js) instead of Rust;
        /// not with --python.
        #[arg(long)]
        js: bool,
    },
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
        /// Module files, globs, module directories (crates, or directories holding
        /// app.py or app.js; built first), or names of standard modules [default: the standard modules installed with consfig, or $CONSFIG_MODULES].
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
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Print a property reference in Markdown instead of text.
        #[arg(long)]
        markdown: bool,
        /// Module files, or module directories (crates, or directories holding
        /// app.py or app.js; built first).
        #[arg(required = true, value_name = "MODULE")]
        modules: Vec<PathBuf>,
    },
    /// Write a bundle: one executable that applies a form when started, for
    /// running a service. Or, with --info, show what a bundle holds.
    #[command(
        after_help = "Example:\n  consfig bundle --module cool-web-service --grant net:127.0.0.1:8080 \\\n              --form '[\"cool-web-service:start-server\", 8080]' -o cool-web-service\n\n        The bundle exits with the form's status: 0 when it succeeded, 1 when it failed, \
        the status a module passed to exit, or 125 when the bundle itself is damaged."
    )]
    Bundle {
        /// Modules to put in: files, globs, module directories (crates, or holding
        /// app.py or app.js; built first), or names of the standard modules installed with consfig (e.g. cool-web-service).
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
        /// or $CONSFIG_STUB; consfig-stub.ARCH for --target ARCH].
        #[arg(long, value_name = "PATH")]
        stub: Option<PathBuf>,
        /// The architecture the bundle runs on: x86_64 or aarch64 [default:
        /// this machine's]. Its modules are compiled for it.
        #[arg(long, value_name = "ARCH")]
        target: Option<String>,
        /// Verify a bundle and show what it holds, instead of writing one.
        #[arg(long, value_name = "BUNDLE", conflicts_with_all = ["modules", "grants", "form", "output", "stub", "target"])]
        info: Option<PathBuf>,
    },
}

/// Run the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::New { dir, python, js } => new::run(
            &dir,
            match (python, js) {
                (true, _) => Language::Python,
                (false, true) => Language::JavaScript,
                (false, false) => Language::Rust,
            },
        ),
        Command::Deploy {
            consfig,
            report,
            hosts,
        } => deploy::run(&consfig, &report, &hosts),
        Command::Apply {
            modules,
            grants,
            trusted,
            report,
            connection,
            forms,
        } => apply::settings(&grants, &trusted)
            .and_then(|settings| apply::run(&modules, &settings, &report, &connection, &forms)),
        Command::Describe {
            json,
            markdown,
            modules,
        } => describe::run(&modules, describe::Format::new(json, markdown)),
        Command::Bundle {
            info: Some(path), ..
        } => bundle::info(&path),
        Command::Bundle {
            modules,
            grants,
            form,
            output,
            stub,
            target,
            info: None,
        } => bundle::run(
            &modules,
            &grants,
            form.as_deref().unwrap_or_default(),
            output.as_deref().unwrap_or(Path::new("")),
            stub.as_deref(),
            target.as_deref(),
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Errors quote modules (a form's validation) and bundles: made
            // safe for the terminal like everything else they say.
            eprintln!("consfig: {}", escape(&format!("{e:#}")));
            EXIT_USAGE
        }
    }
}
