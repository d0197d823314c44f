//! The `local` hop: the runtime as a child process of the controller, spoken to
//! over pipes with the same protocol it will be spoken to over SSH.

use std::io::{BufReader, BufWriter, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use super::{ConnectionError, RuntimeChannel, RuntimeProcess};

struct LocalRuntime {
    child: Child,
    stderr: Option<JoinHandle<String>>,
}

impl RuntimeProcess for LocalRuntime {
    fn finish(&mut self) -> String {
        let _ = self.child.wait();
        self.stderr
            .take()
            .and_then(|reader| reader.join().ok())
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
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    Ok(RuntimeChannel {
        reader: Box::new(BufReader::new(stdout)),
        writer: Box::new(BufWriter::new(stdin)),
        process: Box::new(LocalRuntime {
            child,
            stderr: Some(stderr),
        }),
        runtime_bytes_sent: 0,
    })
}
