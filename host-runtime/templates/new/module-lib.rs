//! The `@NAME@` module: properties of this consfig, written in Consfig.toml
//! as `["@NAME@:PROPERTY", ARGUMENTS…]`. `consfig deploy` rebuilds it when
//! its sources change and sends it only to hosts that lack this build.

use consfig_file::forms as file;
use consfig_guest::prelude::*;

/// Put a page greeting from this host in the directory `dir`: the
/// directory, then `dir/index.html`. Composed of the standard `file:`
/// properties, built with their typed forms (checked by the compiler).
///
/// Changed if any step changed the host.
#[property]
fn hello(dir: String) -> Result<Change> {
    let page = format!(
        "<!doctype html>\n<title>{host}</title>\n<h1>Hello from {host}</h1>\n",
        host = host::hostname(),
    );
    // Forms with options are builders (`.mode(..)`, `.owner(..)`); `into`
    // makes them plain forms, to be listed together.
    let steps: [Form; 2] = [
        file::directory_exists(&dir).into(),
        file::has_content(format!("{dir}/index.html"), page).into(),
    ];
    let mut change = Change::Unchanged;
    for step in &steps {
        change |= apply(step)?;
    }
    Ok(change)
}

consfig_guest::module! {
    name: "@NAME@",
    doc: "The properties of this consfig.",
    properties: [hello],
}
