//! The `run` call: a command the grants allow, by program (an absolute path,
//! or a name found in PATH) and arguments, with only the environment
//! variables granted, its standard input from a file so no writer thread is
//! needed. In check mode a command that is not read-only is skipped and
//! recorded as such, and one that is runs in a read-only view of the host.

use std::io::{Seek, Write};
use std::os::unix::process::CommandExt;
use std::process::Stdio;

use super::bindings::consfig::module::host::{Command, CommandOutput};
use super::collect::{CollectError, output_within};
use super::error::HostError;
use super::state::HostState;
use crate::sandbox::program::Program;
use crate::sandbox::read_only;

impl HostState {
    pub fn run(&mut self, command: Command) -> Result<CommandOutput, HostError> {
        self.effects_allowed("run")?;
        let Some((name, args)) = command.argv.split_first() else {
            return Err(HostError::EmptyArgv);
        };
        let program = Program::find(name, std::env::var_os("PATH").as_deref())?;
        let confinement = self.confinement();
        let variables: Vec<&str> = command.env.iter().map(|(k, _)| k.as_str()).collect();
        confinement
            .command(&program, args, &variables)
            .map_err(|denied| HostError::denied("run", command.argv.join(" "), denied))?;
        if self.check_mode() && !command.read_only {
            self.skipped.push(command.argv.join(" "));
            return Ok(CommandOutput {
                exit_code: Some(0),
                stdout: Vec::new(),
                stderr: Vec::new(),
            });
        }
        let spawn_error = |source| HostError::Spawn {
            program: name.clone(),
            source,
        };
        // What runs is the file checked, under the name the module gave.
        let mut cmd = std::process::Command::new(&program.real);
        cmd.arg0(name).args(args);
        // Only the variables granted (and a few every program expects) pass.
        cmd.env_clear();
        for (variable, value) in std::env::vars_os() {
            if confinement.env(&variable.to_string_lossy()) {
                cmd.env(variable, value);
            }
        }
        cmd.envs(command.env.iter().map(|(k, v)| (k, v)));
        if let Some(cwd) = &command.cwd {
            let place = self.place("run in", cwd, false)?;
            // A command is a process of its own: it can only be started in
            // the directory, not kept beneath it.
            cmd.current_dir(place.path());
        }
        if self.check_mode() {
            read_only::confine(&mut cmd);
            // It sees the host as it is, not as earlier forms would leave it.
            if self.check_has_changes() {
                self.ran_without_changes.push(command.argv.join(" "));
            }
        }
        // Standard input comes from an unlinked temporary file, so feeding a
        // large input needs no writer thread: this process may fork again.
        cmd.stdin(match command.stdin {
            None => Stdio::null(),
            Some(bytes) => {
                let mut file = tempfile::tempfile().map_err(spawn_error)?;
                file.write_all(&bytes)
                    .and_then(|()| file.rewind())
                    .map_err(spawn_error)?;
                Stdio::from(file)
            }
        });
        // Held to the form's output limit and deadline, so a command cannot
        // make the host hold more than the module could.
        let limit = self.running_limit().output;
        let output = output_within(&mut cmd, limit, self.deadline()).map_err(|e| match e {
            CollectError::Spawn(source) => spawn_error(source),
            error => HostError::Command {
                program: name.clone(),
                error,
            },
        })?;
        Ok(CommandOutput {
            exit_code: output.status.code(),
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::test_support::{host_with, host_with_policy};
    use crate::sandbox::program::ProgramError;

    fn command(argv: &[&str]) -> Command {
        Command {
            argv: argv.iter().map(|a| a.to_string()).collect(),
            stdin: None,
            env: Vec::new(),
            cwd: None,
            read_only: false,
        }
    }

    fn sh() -> String {
        Program::find("sh", std::env::var_os("PATH").as_deref())
            .unwrap()
            .given
            .display()
            .to_string()
    }

    #[test]
    fn runs_only_granted_programs_with_matching_arguments() {
        let mut host = host_with(&[&format!("command:{} -c 'echo *'", sh())]);
        let out = host.run(command(&["sh", "-c", "echo hi"])).unwrap();
        assert_eq!((out.exit_code, out.stdout), (Some(0), b"hi\n".to_vec()));
        let refused = host.run(command(&["sh", "-c", "id"])).unwrap_err();
        assert!(matches!(refused, HostError::Denied { .. }), "{refused}");
        let refused = host.run(command(&["true"])).unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with("denied: module m may not run true")
        );
        assert!(matches!(
            host.run(command(&[])).unwrap_err(),
            HostError::EmptyArgv
        ));
        assert!(matches!(
            host.run(command(&["no-such-program-here"])).unwrap_err(),
            HostError::Program(ProgramError::NotFound(_))
        ));
    }

    #[test]
    fn commands_get_granted_variables_stdin_and_a_confined_cwd() {
        let dir = tempfile::tempdir().unwrap();
        // Cargo runs tests with its CARGO_* variables set.
        let mut host = host_with(&[
            "command:*",
            "env:CARGO_PKG_NAME",
            "env:EXTRA",
            &format!("read:{}", dir.path().display()),
        ]);
        let mut cmd = command(&[
            "sh",
            "-c",
            "echo $CARGO_PKG_NAME-$CARGO_MANIFEST_DIR-$EXTRA; pwd; cat",
        ]);
        cmd.env.push(("EXTRA".into(), "given".into()));
        cmd.cwd = Some(dir.path().display().to_string());
        cmd.stdin = Some(b"fed\n".to_vec());
        let out = host.run(cmd).unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("consfig--given\n{}\nfed\n", dir.path().display())
        );
        let mut elsewhere = command(&["true"]);
        elsewhere.cwd = Some("/".into());
        let refused = host.run(elsewhere).unwrap_err();
        assert!(
            matches!(refused, HostError::Denied { call: "run in", .. }),
            "{refused}"
        );
    }

    #[test]
    fn check_mode_skips_commands_that_are_not_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let mut host = host_with_policy(&["command:*"], true);
        let touch = command(&["touch", &marker.display().to_string()]);
        let out = host.run(touch).unwrap();
        assert_eq!(out.exit_code, Some(0));
        assert!(!marker.exists(), "skipped");
        let mut look = command(&["echo", "looked"]);
        look.read_only = true;
        assert_eq!(host.run(look).unwrap().stdout, b"looked\n");
        // A command said to only look, that writes, fails to.
        let mut lying = command(&["touch", &marker.display().to_string()]);
        lying.read_only = true;
        let out = host.run(lying).unwrap();
        assert_ne!(out.exit_code, Some(0));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Read-only file system"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!marker.exists(), "a read-only command wrote in check mode");
        let report = host.take_report();
        assert_eq!(report.skipped, [format!("touch {}", marker.display())]);
    }

    #[test]
    fn check_mode_notes_what_makes_a_later_failure_unknowable() {
        use crate::sandbox::overlay::Unknowable;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        let mut host = host_with_policy(
            &["command:*", &format!("write:{}", dir.path().display())],
            true,
        );
        let look = |word: &str| {
            let mut cmd = command(&["echo", word]);
            cmd.read_only = true;
            cmd
        };
        host.run(look("before")).unwrap();
        host.write_file(&file.display().to_string(), b"x", None)
            .unwrap();
        // Runs on the disk, where the file check mode wrote is not.
        host.run(look("after")).unwrap();
        host.run(command(&["touch", "/nowhere"])).unwrap();
        host.note_unknowable([Unknowable::NotRun("make".into())]);
        let report = host.take_report();
        assert_eq!(report.ran_without_changes, ["echo after"]);
        assert_eq!(report.skipped, ["touch /nowhere"]);
        assert_eq!(
            report.earlier_unknowable,
            [Unknowable::NotRun("make".into())]
        );
        assert!(!report.real_failure);

        // A refusal by the grants is noted as it becomes text.
        let refused = host.read_file("/etc/shadow").unwrap_err();
        assert!(matches!(refused, HostError::Denied { .. }), "{refused}");
        let text = host.refusal_noted(refused);
        assert!(text.starts_with("denied:"), "{text}");
        assert!(host.take_report().real_failure);
        let missing = host.read_file(&file.with_extension("no").display().to_string());
        host.refusal_noted(missing.unwrap_err());
        assert!(
            !host.take_report().real_failure,
            "a missing file may be unknowable"
        );
    }

    #[test]
    fn a_module_cannot_make_a_granted_command_run_its_code() {
        let dir = tempfile::tempdir().unwrap();
        let planted = dir.path().join("id");
        std::fs::write(&planted, "#!/bin/sh\necho planted\n").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let id = Program::find("id", std::env::var_os("PATH").as_deref()).unwrap();
        let mut host = host_with(&[
            &format!("command:{} -u", id.given.display()),
            &format!("read:{}", dir.path().display()),
        ]);
        // The loader told to load the module's bytes.
        let mut preload = command(&["id", "-u"]);
        preload
            .env
            .push(("LD_PRELOAD".into(), "/proc/self/fd/0".into()));
        preload.stdin = Some(b"\x7fELF".to_vec());
        let refused = host.run(preload).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("LD_PRELOAD steers the dynamic loader"),
            "{refused}"
        );
        // A relative path, resolved from the command's directory.
        let mut relative = command(&["./id", "-u"]);
        relative.cwd = Some(dir.path().display().to_string());
        let refused = host.run(relative).unwrap_err();
        assert!(
            matches!(refused, HostError::Program(ProgramError::Relative(_))),
            "{refused}"
        );
        // The planted file by its absolute path: not the granted program.
        let refused = host
            .run(command(&[&planted.display().to_string(), "-u"]))
            .unwrap_err();
        assert!(matches!(refused, HostError::Denied { .. }), "{refused}");
        // The granted program itself still runs.
        let out = host.run(command(&["id", "-u"])).unwrap();
        assert_eq!(out.exit_code, Some(0));
        assert!(!String::from_utf8_lossy(&out.stdout).contains("planted"));
    }

    #[test]
    fn a_program_another_module_of_the_deploy_can_write_is_refused() {
        use crate::host::test_support::host_under;
        use crate::sandbox::grants::ModuleGrants;
        use crate::sandbox::policy::Policy;
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("tool");
        std::fs::write(&tool, "#!/bin/sh\necho tool\n").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let grants = |texts: &[String], standard: bool| ModuleGrants {
            grants: consfig_contract::parse_grants(texts).unwrap(),
            standard,
            ..ModuleGrants::default()
        };
        let run = [format!("command:{}", tool.display())];
        let write = [format!("write:{}", dir.path().display())];
        let deploy = |writer: ModuleGrants| Policy {
            grants: [
                ("m".to_owned(), grants(&run, false)),
                ("w".to_owned(), writer),
            ]
            .into(),
            ..Policy::default()
        };
        let tool_argv = tool.display().to_string();
        // Module w never calls m: its form may still rewrite the program
        // before m's form starts it.
        let refused = host_under(deploy(grants(&write, false)))
            .run(command(&[&tool_argv]))
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains(&format!("module w may write {tool_argv}")),
            "{refused}"
        );
        // A standard module is no such writer.
        let out = host_under(deploy(grants(&write, true)))
            .run(command(&[&tool_argv]))
            .unwrap();
        assert_eq!(out.stdout, b"tool\n");
        // A standard module's command is not bounded by other modules'
        // writes (its programs are the system's own).
        let mut standard_runs = deploy(grants(&write, false));
        standard_runs
            .grants
            .insert("m".to_owned(), grants(&run, true));
        let out = host_under(standard_runs)
            .run(command(&[&tool_argv]))
            .unwrap();
        assert_eq!(out.exit_code, Some(0));
        // Nor is a module the deploy does not have.
        let mut without = deploy(grants(&write, false));
        without.grants.remove("w");
        assert_eq!(
            host_under(without)
                .run(command(&[&tool_argv]))
                .unwrap()
                .exit_code,
            Some(0)
        );
    }
}
