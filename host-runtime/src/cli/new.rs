//! `consfig new DIR`: make a new consfig, ready to deploy to this machine.

use std::path::Path;

use anyhow::{Result, bail};

use crate::controller::installation::Installation;
use crate::controller::scaffold::{self, Language};
use crate::wire::terminal::one_line;

pub fn run(dir: &Path, language: Language) -> Result<i32> {
    let installation = Installation::current()?;
    // A Rust consfig loads the standard `file` module too, and any consfig
    // may come to load standard modules: a module of the same name could
    // not be loaded beside them.
    if let Some(name) = scaffold::module_name(dir)
        && installation.standard_module(&name).is_ok()
    {
        bail!(
            "{}: {name} is the name of a standard module, which this consfig uses: name the directory otherwise",
            one_line(&dir.to_string_lossy())
        );
    }
    let sdk = installation.sdk()?;
    let made = scaffold::create(dir, &sdk, language)?;
    println!(
        "made the consfig {} with the module {} (in modules/{}/{}, built with the SDK in {})",
        one_line(&made.dir.to_string_lossy()),
        made.module,
        made.module,
        language.module_source(),
        one_line(&sdk.to_string_lossy()),
    );
    println!(
        "next: cd {} && consfig deploy laptop",
        one_line(&dir.to_string_lossy())
    );
    Ok(0)
}
