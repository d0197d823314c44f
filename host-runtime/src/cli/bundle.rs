//! `consfig bundle`: write a bundle — one executable that applies a form
//! when started — or, with `--info`, verify one and show what it holds.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use consfig_contract::{Form, parse_grants};

use super::shared::{load_modules, validate_all};
use crate::bundle::format::Bundle;
use crate::controller::installation::Installation;
use crate::controller::modules::{Inspector, expand_modules};
use crate::sandbox::files::{Disk, FileBackend};
use crate::sandbox::place::Place;
use crate::wire::terminal::escape;

/// Module files and crate directories for `--module` arguments: paths and
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
) -> Result<i32> {
    let installation = Installation::current()?;
    let form = Form::parse(form).with_context(|| format!("--form {form}"))?;
    let grants = parse_grants(grant_args)?;
    let stub = match stub {
        Some(path) => std::fs::read(path).with_context(|| format!("--stub {}", path.display()))?,
        None => installation.read_stub()?,
    };
    let modules = load_modules(&bundle_modules(&installation, module_args)?)
        .context("no bundle was written")?;
    let mut inspector = Inspector::new(&modules)?;
    validate_all(
        "no bundle was written",
        &mut inspector,
        [("--form".to_owned(), &form)],
    )?;
    let bytes = inspector
        .image()
        .module_set()
        // Made on the controller, outside any consfig: no variables, no files.
        .bundle(&stub, &form, &grants, &Default::default())
        .map_err(anyhow::Error::msg)?;
    let place = Place::new(output, None)?;
    let changed = Disk
        .write_if_changed(&place, &bytes, 0o755)
        .with_context(|| format!("writing {}", output.display()))?;
    println!(
        "{}: {} bytes ({} of runtime stub, {} modules), {}",
        output.display(),
        bytes.len(),
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
