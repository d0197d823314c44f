//! Collecting what a command prints, bounded: its stdout and stderr are read
//! together (poll on this thread, no reader threads: the process forks) up
//! to the form's output limit, and a command that prints more, or is still
//! running at the call's deadline, is killed and the call fails. So a module
//! cannot make the host hold more of a command's output than of its own.
//! [`read_both`] and [`wait_for_exit`] also serve the controller's data
//! commands, with limits of their own.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::state::CallDeadline;
use crate::sandbox::policy::show_bytes;

/// What a command printed, and how it ended.
#[derive(Debug)]
pub struct Collected {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Why a command's output was not collected.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{0}")]
    Spawn(io::Error),
    #[error("reading its output: {0}")]
    Io(io::Error),
    /// It printed more than `limit` bytes, stdout and stderr together.
    #[error("printed more than the output limit of {} and was killed", show_bytes(*limit))]
    TooMuch { limit: u64 },
    /// It was still running at the deadline of the call that ran it.
    #[error(
        "still running at the time limit of {} and was killed",
        humantime::format_duration(*limit)
    )]
    Deadline { limit: Duration },
}

/// Start `cmd` (stdin already set) and collect its output, at most `limit`
/// bytes, until `deadline`.
pub fn output_within(
    cmd: &mut Command,
    limit: u64,
    deadline: Option<CallDeadline>,
) -> Result<Collected, CollectError> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(CollectError::Spawn)?;
    let result = collect(&mut child, limit, deadline);
    if result.is_err() {
        // Killed only if it still runs; reaped either way.
        let _ = child.kill();
        let _ = child.wait();
    }
    result
}

fn remaining(deadline: Option<CallDeadline>) -> Result<PollTimeout, CollectError> {
    let Some(deadline) = deadline else {
        return Ok(PollTimeout::NONE);
    };
    poll_timeout(deadline.at).ok_or(CollectError::Deadline {
        limit: deadline.limit,
    })
}

/// How long a wait may last until `at`: None once it has passed.
pub fn poll_timeout(at: Instant) -> Option<PollTimeout> {
    let left = at.saturating_duration_since(Instant::now());
    (!left.is_zero()).then(|| {
        PollTimeout::try_from(left.max(Duration::from_millis(1))).unwrap_or(PollTimeout::MAX)
    })
}

fn collect(
    child: &mut Child,
    limit: u64,
    deadline: Option<CallDeadline>,
) -> Result<Collected, CollectError> {
    let mut buffers = [Vec::new(), Vec::new()];
    read_both(
        child,
        || remaining(deadline),
        |stream, bytes| {
            buffers[stream as usize].extend_from_slice(bytes);
            if (buffers[0].len() + buffers[1].len()) as u64 > limit {
                return Err(CollectError::TooMuch { limit });
            }
            Ok(())
        },
        CollectError::Io,
    )?;
    let status = match deadline {
        None => child.wait().map_err(CollectError::Io)?,
        Some(_) => wait_for_exit(child, || remaining(deadline).map(drop), CollectError::Io)?,
    };
    let [stdout, stderr] = buffers;
    Ok(Collected {
        status,
        stdout,
        stderr,
    })
}

/// Which of a child's output streams bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

/// Read `child`'s piped stdout and stderr together, on this thread, until
/// both close: each chunk goes to `take`, which may end the reading with an
/// error; `timeout` says how long each wait may last, or fails when time is
/// up.
pub fn read_both<E>(
    child: &mut Child,
    mut timeout: impl FnMut() -> Result<PollTimeout, E>,
    mut take: impl FnMut(Stream, &[u8]) -> Result<(), E>,
    io_error: impl Fn(io::Error) -> E,
) -> Result<(), E> {
    let mut streams: [Option<File>; 2] = [
        child.stdout.take().map(|s| File::from(OwnedFd::from(s))),
        child.stderr.take().map(|s| File::from(OwnedFd::from(s))),
    ];
    let mut chunk = vec![0u8; 64 * 1024];
    while streams.iter().any(Option::is_some) {
        let wait = timeout()?;
        let open: Vec<usize> = (0..2).filter(|&i| streams[i].is_some()).collect();
        let mut fds: Vec<PollFd> = open
            .iter()
            .filter_map(|&i| streams[i].as_ref())
            .map(|stream| PollFd::new(stream.as_fd(), PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, wait) {
            Ok(0) | Err(nix::Error::EINTR) => continue,
            Ok(_) => {}
            Err(e) => return Err(io_error(e.into())),
        }
        let ready: Vec<usize> = open
            .iter()
            .zip(&fds)
            .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
            .map(|(&i, _)| i)
            .collect();
        drop(fds);
        for i in ready {
            let Some(stream) = &mut streams[i] else {
                continue;
            };
            match stream.read(&mut chunk) {
                Ok(0) => streams[i] = None,
                Ok(n) => {
                    let which = if i == 0 {
                        Stream::Stdout
                    } else {
                        Stream::Stderr
                    };
                    take(which, &chunk[..n])?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e)),
            }
        }
    }
    Ok(())
}

/// Wait for a child that closed its output, as long as `in_time` allows.
pub fn wait_for_exit<E>(
    child: &mut Child,
    mut in_time: impl FnMut() -> Result<(), E>,
    io_error: impl Fn(io::Error) -> E,
) -> Result<ExitStatus, E> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait().map_err(&io_error)? {
            return Ok(status);
        }
        in_time()?;
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]).stdin(Stdio::null());
        cmd
    }

    #[test]
    fn collects_both_streams_and_the_status() {
        let out = output_within(&mut sh("echo out; echo err >&2; exit 3"), 100, None).unwrap();
        assert_eq!(
            (out.status.code(), out.stdout, out.stderr),
            (Some(3), b"out\n".to_vec(), b"err\n".to_vec())
        );
    }

    #[test]
    fn a_command_printing_past_the_limit_is_killed() {
        let start = Instant::now();
        let error = output_within(&mut sh("yes; echo never >&2"), 1 << 20, None).unwrap_err();
        assert!(
            matches!(error, CollectError::TooMuch { limit } if limit == 1 << 20),
            "{error}"
        );
        assert!(start.elapsed() < Duration::from_secs(10));
        // Both streams count: 600 KiB on each is more than 1 MiB.
        let both = "head -c 614400 /dev/zero; head -c 614400 /dev/zero >&2";
        assert!(matches!(
            output_within(&mut sh(both), 1 << 20, None),
            Err(CollectError::TooMuch { .. })
        ));
        let fits = output_within(&mut sh("head -c 1048576 /dev/zero"), 1 << 20, None).unwrap();
        assert_eq!(fits.stdout.len(), 1 << 20);
    }

    #[test]
    fn a_command_running_at_the_deadline_is_killed() {
        let limit = Duration::from_millis(300);
        let deadline = Some(CallDeadline {
            at: Instant::now() + limit,
            limit,
        });
        let start = Instant::now();
        // Silent and with its output closed: waited for, not read from.
        for script in ["sleep 30", "exec >&- 2>&-; sleep 30"] {
            let error = output_within(&mut sh(script), 100, deadline).unwrap_err();
            assert!(
                matches!(error, CollectError::Deadline { limit: l } if l == limit),
                "{error}"
            );
        }
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn the_run_call_fails_past_the_forms_output_limit() {
        use crate::host::bindings::consfig::module::host::Command as Run;
        use crate::host::error::HostError;
        use crate::host::test_support::host_under;
        use crate::sandbox::grants::ModuleGrants;
        use crate::sandbox::policy::Policy;

        let mut policy = Policy::default();
        policy.limits.forms.output = Some(64 << 10);
        policy.grants.insert(
            "m".into(),
            ModuleGrants {
                grants: consfig_contract::parse_grants(&["command:*"]).unwrap(),
                ..ModuleGrants::default()
            },
        );
        let mut host = host_under(policy);
        let run = |argv: &[&str]| Run {
            argv: argv.iter().map(|a| a.to_string()).collect(),
            stdin: None,
            env: Vec::new(),
            cwd: None,
            read_only: false,
        };
        let refused = host.run(run(&["yes"])).unwrap_err();
        assert!(
            matches!(
                &refused,
                HostError::Command { error: CollectError::TooMuch { limit }, .. } if *limit == 64 << 10
            ),
            "{refused}"
        );
        assert_eq!(
            refused.to_string(),
            "run yes: printed more than the output limit of 64 KiB and was killed"
        );
        let fine = host.run(run(&["echo", "fits"])).unwrap();
        assert_eq!(fine.stdout, b"fits\n");
    }
}
