//! The example consfig module: how a module of your own composes the
//! standard ones.
//!
//! `example:website` puts a small static website in place by applying forms
//! of the `file` and `cmd` modules through the host, exactly as a consfig
//! would list them, built with those modules' typed constructors (their
//! crates are dependencies); each step is idempotent, so the whole is too.
//! The consfig deploying it is `Consfig.toml`, next to this crate.

use consfig_cmd::forms as cmd;
use consfig_file::forms as file;
use consfig_guest::prelude::*;

/// Put a small static website under `root`: the directory, an `index.html`
/// (mode 0644) greeting from this host, and a `built.txt` a build command
/// makes once.
///
/// Changed if any step changed the host.
#[property]
fn website(root: String) -> Result<Change> {
    let root = root.trim_end_matches('/');
    if root.is_empty() {
        bail!("refusing to make a website of /");
    }
    let index = format!("{root}/index.html");
    let built = format!("{root}/built.txt");
    let page = format!(
        "<!doctype html>\n<title>{host}</title>\n<h1>Hello from {host}</h1>\n<p>Managed by Consfig.</p>\n",
        host = host::hostname(),
    );
    // The path reaches the shell as an argument, never as shell code.
    let build = ["sh", "-c", "echo built > \"$1\"", "sh", &built].map(String::from);

    let steps = [
        file::directory_exists(root),
        file::has_content(&index, page),
        file::has_mode(&index, Mode::new(0o644)?),
        cmd::single(build).creates(&built).into(),
    ];
    let mut change = Change::Unchanged;
    for step in &steps {
        change |= apply(step)?;
    }
    Ok(change)
}

consfig_guest::module! {
    name: "example",
    doc: "The example consfig module: a website composed of file: and cmd: forms.",
    properties: [website],
}
