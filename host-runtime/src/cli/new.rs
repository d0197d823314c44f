//! `consfig new DIR`: make a new consfig, ready to deploy to this machine.

use std::path::Path;

use anyhow::Result;

use crate::controller::installation::Installation;
use crate::controller::scaffold;
use crate::wire::terminal::one_line;

pub fn run(dir: &Path) -> Result<i32> {
    let sdk = Installation::current()?.sdk()?;
    let made = scaffold::create(dir, &sdk)?;
    println!(
        "made the consfig {} with the module {} (in modules/{}, built with the SDK in {})",
        one_line(&made.dir.to_string_lossy()),
        made.module,
        made.module,
        one_line(&sdk.to_string_lossy()),
    );
    println!(
        "next: cd {} && consfig deploy laptop",
        one_line(&dir.to_string_lossy())
    );
    Ok(0)
}
