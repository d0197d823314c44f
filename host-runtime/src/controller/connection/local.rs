//! The `local` hop: the runtime as a child process of the controller, spoken to
//! over pipes with the same protocol it will be spoken to over SSH.

use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use super::deadline::{Deadline, Polled};
use super::{ConnectionError, FINISH_GRACE, RuntimeChannel, RuntimeProcess, read_diagnostics};

struct LocalRuntime {
    child: Child,
    /// What it wrote on stderr, once its stderr ends.
    stderr: Option<Receiver<String>>,
}

impl RuntimeProcess for LocalRuntime {
    fn finish(&mut self) -> String {
        let deadline = Instant::now() + FINISH_GRACE;
        loop {
            match self.child.try_wait() {
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                Ok(Some(_)) | Err(_) => break,
            }
        }
        // Whatever the runtime left behind may hold its stderr open: wait
        // for the end of it no longer than the grace.
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(100));
        self.stderr
            .take()
            .and_then(|said| said.recv_timeout(left).ok())
            .unwrap_or_default()
    }
}

impl Drop for LocalRuntime {
    fn drop(&mut self) {
        // A runtime we abandon (e.g. after a protocol error) must not linger.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn start_runtime(exe: &Path) -> Result<RuntimeChannel, ConnectionError> {
    let mut child = Command::new(exe)
        .arg("runtime")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ConnectionError::Spawn {
            exe: exe.display().to_string(),
            source,
        })?;
    let stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    // The controller never forks, so a thread to drain diagnostics is fine here.
    let (said, stderr_text) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = said.send(read_diagnostics(&mut stderr, None));
    });
    let deadline = Deadline::default();
    let polled = |e: std::io::Error| ConnectionError::Spawn {
        exe: exe.display().to_string(),
        source: e,
    };
    Ok(RuntimeChannel {
        reader: Box::new(BufReader::new(
            Polled::new(stdout, deadline.clone()).map_err(polled)?,
        )),
        writer: Box::new(BufWriter::new(
            Polled::new(stdin, deadline.clone()).map_err(polled)?,
        )),
        deadline,
        process: Box::new(LocalRuntime {
            child,
            stderr: Some(stderr_text),
        }),
        runtime_bytes_sent: 0,
    })
}
