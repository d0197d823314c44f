//! The `cmd` module: running commands on the host.
//!
//! A command is not idempotent by itself; `creates` makes it so by naming
//! what it makes, as in Ansible's `command` module.

use consfig_guest::prelude::*;

/// How much of a failed command's stderr goes into the error.
const STDERR_LINES: usize = 10;

/// Run a command (program and arguments, no shell), unless `creates` is given
/// and that path exists.
///
/// Changed when the command ran and exited 0. A non-zero exit or a signal
/// fails the form, with the exit status and the end of the command's stderr.
/// The command's output is logged.
#[property]
fn single(argv: Vec<String>, creates: Option<String>) -> Result<Change> {
    let Some((program, args)) = argv.split_first() else {
        bail!("argv is empty: give at least the program to run");
    };
    if let Some(creates) = &creates
        && fs::exists(creates)?
    {
        debug!("{creates} exists: not running {program}");
        return Ok(Change::Unchanged);
    }
    let command = Command::new(program).args(args);
    let shown = command.to_string();
    let output = run(command)?;

    let stdout = output.stdout_str();
    if !stdout.trim().is_empty() {
        log::info(stdout.trim_end());
    }
    let stderr = output.stderr_str();
    if !output.success() {
        bail!("{shown}: {}{}", output.status(), tail(&stderr));
    }
    if !stderr.trim().is_empty() {
        log::info(stderr.trim_end());
    }
    Ok(Change::Changed)
}

/// The last lines of a failed command's stderr, to append to its error.
fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.trim().lines().collect();
    match lines.len() {
        0 => String::new(),
        1 => format!(": {}", lines[0]),
        n => {
            let skipped = n.saturating_sub(STDERR_LINES);
            let shown = lines[skipped..].join("\n");
            match skipped {
                0 => format!(":\n{shown}"),
                _ => format!(":\n[{skipped} earlier lines of stderr]\n{shown}"),
            }
        }
    }
}

consfig_guest::module! {
    name: "cmd",
    export: false,
    needs: ["command:*", "env:*", "read:/"],
    doc: "Running commands, made idempotent with `creates`.",
    properties: [single],
}
