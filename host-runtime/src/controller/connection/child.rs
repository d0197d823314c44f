//! A runtime behind a child process's pipes: the runtime itself (`local`),
//! or the system's `ssh` reaching one on a target (`openssh://`). Its stdin
//! and stdout carry the protocol, bounded by a [`Deadline`]; its stderr is
//! drained by a thread into the diagnostics.

use std::io::{BufReader, BufWriter};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use super::deadline::{Deadline, Polled};
use super::{FINISH_GRACE, RuntimeProcess, read_diagnostics};

/// The child, and what it wrote on stderr once that ends.
pub struct ChildProcess {
    child: Child,
    stderr: Option<Receiver<String>>,
}

impl ChildProcess {
    /// Wait for the child to end, at most until `deadline` (then kill it),
    /// and return its exit code (None if killed or unknown) and its stderr.
    fn wait_until(&mut self, deadline: Instant) -> (Option<i32>, String) {
        let code = loop {
            match self.child.try_wait() {
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
                Ok(Some(status)) => break status.code(),
                Err(_) => break None,
            }
        };
        // Whatever the child left behind may hold its stderr open: wait for
        // the end of it no longer than the grace.
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(100));
        let said = self
            .stderr
            .take()
            .and_then(|said| said.recv_timeout(left).ok())
            .unwrap_or_default();
        (code, said)
    }

    /// After the child ended on its own (its stdout closed): its exit code
    /// and stderr, waiting at most `grace`.
    pub fn ended(&mut self, grace: Duration) -> (Option<i32>, String) {
        self.wait_until(Instant::now() + grace)
    }
}

impl RuntimeProcess for ChildProcess {
    fn finish(&mut self) -> String {
        self.wait_until(Instant::now() + FINISH_GRACE).1
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        // A child we abandon (e.g. after a protocol error) must not linger.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A started child: its protocol streams (bounded by `deadline`) and itself.
pub struct Spawned {
    pub reader: BufReader<Polled<std::process::ChildStdout>>,
    pub writer: BufWriter<Polled<std::process::ChildStdin>>,
    pub deadline: Deadline,
    pub process: ChildProcess,
}

/// Start `command` with its stdin, stdout and stderr piped.
pub fn spawn(mut command: Command) -> std::io::Result<Spawned> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    // The controller never forks, so a thread to drain diagnostics is fine here.
    let (said, stderr_text) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = said.send(read_diagnostics(&mut stderr, None));
    });
    let process = ChildProcess {
        child,
        stderr: Some(stderr_text),
    };
    let deadline = Deadline::default();
    Ok(Spawned {
        reader: BufReader::new(Polled::new(stdout, deadline.clone())?),
        writer: BufWriter::new(Polled::new(stdin, deadline.clone())?),
        deadline,
        process,
    })
}
