//! The runtime's standard error, blanked. Once the host's data is in the
//! runtime, its stderr (and its stdout, which points there) become a pipe
//! to a process of their own that blanks the data out of whatever passes
//! before it goes on to the real stderr, which the controller relays: the
//! runtime's last words, a panic's message, anything a descendant writes to
//! the stderr it inherited (a command can open its parent's).
//!
//! The relay is a process, not a thread, as the runtime forks. It ends when
//! the last writer has closed the pipe, after letting go of everything.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, IntoRawFd, RawFd};

use nix::sys::signal::{SigHandler, Signal, signal};
use nix::unistd::{ForkResult, pipe2};

use super::fork::{ForkError, exit_child, fork};
use crate::sandbox::policy::HostData;
use crate::sandbox::redact::Redactor;

#[derive(Debug, thiserror::Error)]
pub enum BlankError {
    #[error("cannot start the process that blanks the host's data out of it: {0}")]
    Fork(#[from] ForkError),
    #[error("cannot point it at the process that blanks the host's data out of it: {0}")]
    Redirect(nix::Error),
}

/// Send this process's stdout and stderr, from now on, through a process
/// that blanks `data` out of them. `close_in_relay` are descriptors the
/// relay must not hold (the protocol channel, so the controller sees it
/// close when the runtime exits). Nothing to blank, nothing done.
pub fn start(data: &HostData, close_in_relay: &[RawFd]) -> Result<(), BlankError> {
    let redactor = data.redactor();
    if redactor.is_empty() {
        return Ok(());
    }
    let (from_runtime, to_relay) =
        pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| BlankError::Fork(ForkError::Fork(e)))?;
    match fork()? {
        ForkResult::Child => {
            drop(to_relay);
            // Moved to fd 0; the descriptor it had is closed with the rest.
            let read_end = from_runtime.into_raw_fd();
            // SAFETY: plain descriptor calls; the parent's copies of the
            // closed descriptors are never used here.
            unsafe {
                libc::dup2(read_end, 0);
                for &fd in close_in_relay {
                    libc::close(fd);
                }
                // Anything else the runtime held, where the kernel can.
                libc::syscall(libc::SYS_close_range, 3, libc::c_uint::MAX, 0);
            }
            // Signals meant for the runtime must not cut its last words.
            for sig in [Signal::SIGHUP, Signal::SIGINT] {
                // SAFETY: ignoring a signal installs no handler.
                let _ = unsafe { signal(sig, SigHandler::SigIgn) };
            }
            // SAFETY: fd 0 is the pipe's read end, now only ours.
            let input = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(0) };
            relay(input, &mut std::io::stderr(), &redactor);
            exit_child(0)
        }
        ForkResult::Parent { .. } => {
            drop(from_runtime);
            for fd in [1, 2] {
                // SAFETY: plain descriptor duplication onto the standard descriptors.
                if unsafe { libc::dup2(to_relay.as_raw_fd(), fd) } < 0 {
                    return Err(BlankError::Redirect(nix::Error::last()));
                }
            }
            Ok(())
        }
    }
}

/// Copy `input` to `output` with every value blanked, holding back only
/// what could still be the start of one, until `input` ends. A failing
/// `output` is drained into nothing, so no writer ever blocks on it.
fn relay(mut input: impl Read, output: &mut impl Write, redactor: &Redactor) {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut pending = Vec::new();
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        pending.extend_from_slice(&chunk[..n]);
        let settled = redactor.settled(&pending);
        let _ = output.write_all(&redactor.bytes(&pending[..settled]));
        let _ = output.flush();
        pending.drain(..settled);
    }
    let _ = output.write_all(&redactor.bytes(&pending));
    let _ = output.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader giving out `stream` a few bytes at a time.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(self.0.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn the_relay_blanks_values_split_across_reads_and_keeps_line_breaks() {
        let mut data = HostData::default();
        data.insert("db".into(), b"correct-horse\n".to_vec());
        let redactor = data.redactor();
        let stream = b"consfig runtime: init failed: correct-horse\nleaked correct-horse";
        for size in 1..=stream.len() {
            let mut out = Vec::new();
            relay(Trickle(stream, size), &mut out, &redactor);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "consfig runtime: init failed: [data db]\nleaked [data db]",
                "reads of {size} bytes"
            );
        }
    }
}
