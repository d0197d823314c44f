//! `consfig bundle`: write a bundle — one executable that applies a form
//! when started — or, with `--info`, verify one and show what it holds.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use consfig_contract::{Form, parse_grants};

use super::shared::{load_modules, validate_all};
use crate::bundle::format::Bundle;
use crate::controller::compiler::Compiler;
use crate::controller::installation::Installation;
use crate::controller::modules::{Inspector, expand_modules};
use crate::engine::architecture::{self, ARCHITECTURES};
use crate::engine::cache::Cache;
use crate::sandbox::files::{Disk, FileBackend};
use crate::sandbox::place::Place;
use crate::wire::terminal::escape;

/// Module files and module directories for `--module` arguments: paths and
/// globs as given; a bare name is a standard module installed with consfig.
fn bundle_modules(installation: &Installation, args: &[String]) -> Result<Vec<PathBuf>> {
    expand_modules(Path::new("."), args, installation).map_err(anyhow::Error::msg)
}

pub fn run(
    module_args: &[String],
    grant_args: &[String],
    form: &str,
    output: &Path,
    stub: Option<&Path>,
    target: Option<&str>,
) -> Result<i32> {
    let installation = Installation::current()?;
    let form = Form::parse(form).with_context(|| format!("--form {form}"))?;
    let grants = parse_grants(grant_args)?;
    let arch = match target {
        None => architecture::native(),
        Some(name) => architecture::by_name(name).ok_or_else(|| {
            anyhow::anyhow!(
                "--target {name}: not an architecture Consfig compiles for; known: {}",
                ARCHITECTURES
                    .iter()
                    .map(|a| a.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?,
    };
    let stub = match stub {
        Some(path) => std::fs::read(path).with_context(|| format!("--stub {}", path.display()))?,
        None => installation.read_stub_for(arch)?,
    };
    let modules = load_modules(&bundle_modules(&installation, module_args)?)
        .context("no bundle was written")?;
    // For this machine, the code the inspector runs; for another
    // architecture, code compiled for it (cached as for deploys).
    let compiler = Compiler::new(Cache::from_env()?);
    let mut inspector = Inspector::new(&modules, &compiler)?;
    validate_all(
        "no bundle was written",
        &mut inspector,
        [("--form".to_owned(), &form)],
    )?;
    let code_of = |sha256: &str, _: &_| {
        let module = modules
            .iter()
            .find(|m| m.sha256 == sha256)
            .expect("the inspector's modules are these");
        compiler.code(arch, module).map(|code| code.bytes.clone())
    };
    let bytes = inspector
        .image()
        .module_set()
        // Made on the controller, outside any consfig: no variables, no files.
        .bundle_for(
            arch.name,
            &stub,
            &form,
            &grants,
            &Default::default(),
            code_of,
        )
        .map_err(anyhow::Error::msg)?;
    let place = Place::new(output, None)?;
    let changed = Disk
        .write_if_changed(&place, &bytes, 0o755)
        .with_context(|| format!("writing {}", output.display()))?;
    println!(
        "{}: {} bytes for {} ({} of runtime stub, {} modules), {}",
        output.display(),
        bytes.len(),
        arch.name,
        stub.len(),
        modules.len(),
        if changed { "changed" } else { "unchanged" }
    );
    Ok(0)
}

pub fn info(path: &Path) -> Result<i32> {
    let bundle = Bundle::open(path)?;
    // A bundle's manifest is what its maker wrote.
    print!("{}", escape(&bundle.describe()));
    Ok(0)
}
