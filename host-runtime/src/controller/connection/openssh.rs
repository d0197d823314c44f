//! The `openssh://` hop: the system's OpenSSH client, whose stdin and
//! stdout carry the bootstrap and then the protocol, so every option `ssh`
//! supports works — ProxyCommand, certificates, hardware keys, `Match
//! exec`, ControlMaster multiplexing — exactly as `ssh HOST` would use it.
//!
//! The command line is built from parts checked when the hop was read (no
//! name can start with `-`, and the host follows `--`); what runs on the
//! target is the same bootstrap script as over the built-in client.

use std::process::Command;
use std::time::Duration;

use super::become_user::Become;
use super::bootstrap::{self, Runtimes};
use super::child::{Spawned, spawn};
use super::ssh::{BOOTSTRAP_STEP_TIMEOUT_MS, SshOptions, SshTarget};
use super::ssh_target::jumps_text;
use super::{ConnectionError, RuntimeChannel};

/// The client run, found on PATH.
const SSH: &str = "ssh";

/// The exit code of `ssh` when it could not connect or log in.
const SSH_FAILED: i32 = 255;

/// The `ssh` command that runs `remote_command` on `target`.
pub fn command(target: &SshTarget, options: &SshOptions, remote_command: &str) -> Command {
    let mut ssh = Command::new(SSH);
    // No terminal: the streams carry binary protocol frames.
    ssh.arg("-T");
    if let Some(file) = &options.config_file {
        ssh.arg("-F").arg(file);
    }
    if options.accept_new_host_keys {
        ssh.args(["-o", "StrictHostKeyChecking=accept-new"]);
    }
    for identity in &options.identity_files {
        ssh.arg("-i").arg(identity);
    }
    if let Some(user) = &target.user {
        ssh.arg("-l").arg(user);
    }
    if let Some(port) = target.port {
        ssh.arg("-p").arg(port.to_string());
    }
    if let Some(jumps) = &target.jumps {
        ssh.arg("-J").arg(jumps_text(jumps));
    }
    // `ssh` joins what follows the host into one command for the login shell.
    ssh.arg("--").arg(&target.host).arg(remote_command);
    ssh
}

/// Start the runtime on the far side of `target` through `ssh`, uploading
/// it first if the target lacks it; with `via`, as its user through sudo,
/// su or doas.
pub fn start_runtime(
    target: &SshTarget,
    via: Option<&Become>,
    options: &SshOptions,
    runtimes: &Runtimes,
) -> Result<RuntimeChannel, ConnectionError> {
    let remote = bootstrap::remote_command(runtimes, via);
    let Spawned {
        mut reader,
        mut writer,
        deadline,
        mut process,
    } = spawn(command(target, options, &remote)).map_err(|source| ConnectionError::Spawn {
        exe: SSH.to_owned(),
        source,
    })?;
    // Each step of starting is bounded, as over the built-in client.
    deadline.set(Some(Duration::from_millis(
        BOOTSTRAP_STEP_TIMEOUT_MS.into(),
    )));
    let started = bootstrap::finish(
        &mut reader,
        &mut writer,
        runtimes,
        via.map(|via| (via, &options.passwords)),
    );
    deadline.set(None);
    let runtime_bytes_sent = match started {
        Ok(sent) => sent,
        Err(e) => {
            drop(writer);
            let (code, said) = process.ended(Duration::from_secs(5));
            let said = said.trim().to_owned();
            return Err(if code == Some(SSH_FAILED) {
                // ssh itself failed: it said why (refused, host key, login).
                ConnectionError::Unreachable {
                    host: target.to_string(),
                    reason: if said.is_empty() { e } else { said },
                }
            } else {
                ConnectionError::Bootstrap(if said.is_empty() {
                    e
                } else {
                    format!("{e}: {said}")
                })
            });
        }
    };
    Ok(RuntimeChannel {
        reader: Box::new(reader),
        writer: Box::new(writer),
        deadline,
        process: Box::new(process),
        runtime_bytes_sent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_keeps_every_part_in_its_place() {
        let target: SshTarget = "openssh://deploy@web1:2222?jump=b1,u@b2:2200"
            .parse()
            .unwrap();
        let options = SshOptions {
            accept_new_host_keys: true,
            identity_files: vec!["/keys/id".into()],
            config_file: Some("/etc/consfig/ssh_config".into()),
            ..SshOptions::default()
        };
        let ssh = command(&target, &options, "sh -c 'x'");
        let args: Vec<_> = ssh.get_args().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            [
                "-T",
                "-F",
                "/etc/consfig/ssh_config",
                "-o",
                "StrictHostKeyChecking=accept-new",
                "-i",
                "/keys/id",
                "-l",
                "deploy",
                "-p",
                "2222",
                "-J",
                "b1,u@b2:2200",
                "--",
                "web1",
                "sh -c 'x'"
            ]
        );
        let plain: SshTarget = "openssh://web1".parse().unwrap();
        let ssh = command(&plain, &SshOptions::default(), "true");
        let args: Vec<_> = ssh.get_args().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(args, ["-T", "--", "web1", "true"]);
    }
}
