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
    let command = Command::change(program).args(args);
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
    needs: ["command:*", "env:*", "read:/"],
    doc: "Running commands, made idempotent with `creates`.",
    properties: [single],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn runs_the_command_and_logs_its_output() {
        let host = FakeHost::new().command(["make", "-C", "/src"], 0, "built\n");
        let make = || single(argv(&["make", "-C", "/src"]), None);
        assert_eq!(host.apply(make), Ok(Change::Changed));
        assert_eq!(host.commands_run(), [["make", "-C", "/src"]]);
        assert_eq!(host.logged(), ["info: built"]);
    }

    #[test]
    fn creates_makes_it_idempotent() {
        // Nothing is scripted: had it run the command, the test would fail.
        let host = FakeHost::new().file("/src/out", "");
        let make = || single(argv(&["make"]), Some("/src/out".into()));
        assert_eq!(host.apply(make), Ok(Change::Unchanged));
        assert!(host.commands_run().is_empty());

        let host = FakeHost::new().command(["make"], 0, "");
        assert_eq!(host.apply(make), Ok(Change::Changed));
    }

    #[test]
    fn a_failure_names_the_command_status_and_end_of_stderr() {
        let stderr: String = (1..=12).map(|n| format!("line {n}\n")).collect();
        let host = FakeHost::new()
            .command_output(
                ["sh", "-c", "exit 3"],
                Output {
                    exit_code: Some(3),
                    stdout: Vec::new(),
                    stderr: stderr.into_bytes(),
                },
            )
            .command_output(
                ["sleep", "9"],
                Output {
                    exit_code: None,
                    stdout: Vec::new(),
                    stderr: b"Killed\n".to_vec(),
                },
            );
        let failed = host.apply(|| single(argv(&["sh", "-c", "exit 3"]), None));
        let expected_tail: String = (3..=12).map(|n| format!("\nline {n}")).collect();
        assert_eq!(
            failed.unwrap_err().message(),
            format!("sh -c 'exit 3': exit code 3:\n[2 earlier lines of stderr]{expected_tail}")
        );
        let killed = host.apply(|| single(argv(&["sleep", "9"]), None));
        assert_eq!(
            killed.unwrap_err().message(),
            "sleep 9: killed by a signal: Killed"
        );
        let empty = host.apply(|| single(Vec::new(), None));
        assert_eq!(
            empty.unwrap_err().message(),
            "argv is empty: give at least the program to run"
        );
    }

    #[test]
    fn check_mode_skips_the_command() {
        let host = FakeHost::new().check_mode();
        let rm = || single(argv(&["rm", "-rf", "/srv/cache"]), None);
        assert_eq!(host.apply(rm), Ok(Change::Changed));
        assert_eq!(host.commands_skipped(), [["rm", "-rf", "/srv/cache"]]);
        assert!(host.commands_run().is_empty());
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail(""), "");
        assert_eq!(tail("only\n"), ": only");
        assert_eq!(tail("a\nb\n"), ":\na\nb");
    }
}
