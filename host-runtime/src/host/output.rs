//! What a store's modules print and log, captured per form.
//!
//! A module's stdout and stderr are pipes of our own that hold at most the
//! largest output limit of the deploy; a write past it traps the module with
//! [`OutputLimitExceeded`], which the engine recognises by type. Log lines
//! past it are dropped and the cut is remembered. Each form's own limit is
//! checked when it ends. A bundle's service writes to the process's own
//! stdout and stderr instead.

use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// A module wrote more than any form may: the payload of the trap that stops it.
#[derive(Debug, thiserror::Error)]
#[error("output limit exceeded: the form printed more than the deploy allows")]
pub struct OutputLimitExceeded;

/// One captured stream: the bytes written so far, up to `capacity`.
#[derive(Clone)]
pub struct Pipe {
    buffer: Arc<Mutex<Vec<u8>>>,
    capacity: usize,
}

impl Pipe {
    fn new(capacity: usize) -> Self {
        Pipe {
            buffer: Arc::default(),
            capacity,
        }
    }

    fn room(&self) -> usize {
        let used = self.buffer.lock().unwrap_or_else(|e| e.into_inner()).len();
        self.capacity.saturating_sub(used)
    }

    fn contents_since(&self, start: usize) -> (Vec<u8>, usize) {
        let buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        (buffer[start.min(buffer.len())..].to_vec(), buffer.len())
    }
}

impl IsTerminal for Pipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Pipe {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl OutputStream for Pipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        if bytes.len() > self.capacity.saturating_sub(buffer.len()) {
            return Err(StreamError::Trap(wasmtime::Error::new(OutputLimitExceeded)));
        }
        buffer.extend_from_slice(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        match self.room() {
            0 => Err(StreamError::Trap(wasmtime::Error::new(OutputLimitExceeded))),
            room => Ok(room),
        }
    }
}

#[async_trait::async_trait]
impl Pollable for Pipe {
    async fn ready(&mut self) {}
}

/// For WASI p3 streams, which the runtime does not link: what fits is kept.
impl tokio::io::AsyncWrite for Pipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        let fits = bytes.len().min(self.capacity.saturating_sub(buffer.len()));
        buffer.extend_from_slice(&bytes[..fits]);
        Poll::Ready(Ok(fits))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The output of a store: its modules' stdout, stderr and log.
pub struct Output {
    /// None for a service, whose output is the process's own.
    captured: Option<[Pipe; 2]>,
    /// Bytes of each stream already handed out, so each form gets its own.
    taken: [usize; 2],
    log: String,
    /// Most bytes captured, per stream and for the log.
    capacity: usize,
    /// The log went past `capacity` and was cut.
    log_cut: bool,
}

impl Output {
    /// Captured per form, each stream up to `capacity` bytes.
    pub fn captured(capacity: u64) -> Self {
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX);
        Output {
            captured: Some([Pipe::new(capacity), Pipe::new(capacity)]),
            taken: [0, 0],
            log: String::new(),
            capacity,
            log_cut: false,
        }
    }

    /// The process's own stdout and stderr (a bundle's service).
    pub fn inherited() -> Self {
        Output {
            captured: None,
            ..Output::captured(0)
        }
    }

    /// Point a WASI context's stdout and stderr here.
    pub fn attach(&self, wasi: &mut wasmtime_wasi::WasiCtxBuilder) {
        match &self.captured {
            Some([stdout, stderr]) => {
                wasi.stdout(stdout.clone()).stderr(stderr.clone());
            }
            None => {
                wasi.inherit_stdout().inherit_stderr();
            }
        }
    }

    /// Add a log line.
    pub fn log(&mut self, line: &str) {
        if self.captured.is_none() {
            let _ = std::io::stderr().write_all(line.as_bytes());
        } else if self.log.len() + line.len() <= self.capacity {
            self.log.push_str(line);
        } else {
            self.log_cut = true;
        }
    }

    /// Everything logged or printed since the last call, log first; and
    /// whether the log was cut meanwhile.
    pub fn take(&mut self) -> (String, bool) {
        let mut output = std::mem::take(&mut self.log);
        if let Some(pipes) = &self.captured {
            for (pipe, taken) in pipes.iter().zip(&mut self.taken) {
                let (new, end) = pipe.contents_since(*taken);
                output.push_str(&String::from_utf8_lossy(&new));
                if !new.is_empty() && !output.ends_with('\n') {
                    output.push('\n');
                }
                *taken = end;
            }
        }
        (output, std::mem::take(&mut self.log_cut))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_trap_past_capacity_with_a_typed_error() {
        let mut pipe = Pipe::new(8);
        pipe.write(Bytes::from_static(b"12345")).unwrap();
        assert_eq!(pipe.check_write().unwrap(), 3);
        let StreamError::Trap(error) = pipe.write(Bytes::from_static(b"6789")).unwrap_err() else {
            panic!("a write past capacity traps")
        };
        assert!(error.is::<OutputLimitExceeded>());
        pipe.write(Bytes::from_static(b"678")).unwrap();
        assert!(matches!(pipe.check_write(), Err(StreamError::Trap(_))));
    }

    #[test]
    fn each_take_hands_out_what_came_since_the_last() {
        let mut output = Output::captured(64);
        let [mut stdout, mut stderr] = output.captured.clone().unwrap();
        output.log("info line\n");
        stdout.write(Bytes::from_static(b"printed")).unwrap();
        stderr.write(Bytes::from_static(b"warned\n")).unwrap();
        assert_eq!(
            output.take(),
            ("info line\nprinted\nwarned\n".to_owned(), false)
        );
        stdout.write(Bytes::from_static(b"more\n")).unwrap();
        assert_eq!(output.take(), ("more\n".to_owned(), false));
        output.log(&"x".repeat(65));
        assert_eq!(
            output.take(),
            (String::new(), true),
            "a log past capacity is cut"
        );
        assert_eq!(output.take(), (String::new(), false));
    }
}
