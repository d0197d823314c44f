//! How long the controller waits on a runtime: a [`Deadline`] the session
//! sets before each wait, and streams over the runtime's pipes that give up
//! with [`std::io::ErrorKind::TimedOut`] once it has passed — whether the
//! runtime stops talking or stops listening. A runtime is not trusted to
//! keep to its own time limits, and one that hangs must not hang the deploy.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// When the runtime must have answered, or taken what was sent, by; shared
/// by the session (which sets it) and the connection's streams.
#[derive(Clone, Debug, Default)]
pub struct Deadline(Arc<Mutex<Option<Instant>>>);

impl Deadline {
    /// Wait at most `limit` from now (None: without limit).
    pub fn set(&self, limit: Option<Duration>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = limit.map(|l| Instant::now() + l);
    }

    /// Push the deadline back by `by` (time spent on something else).
    pub fn extend(&self, by: Duration) {
        if let Some(at) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            *at += by;
        }
    }

    /// The time left: None without limit, zero once passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    fn timed_out() -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, "the runtime's deadline passed")
    }
}

/// A pipe end read or written without blocking past the deadline.
pub struct Polled<T> {
    inner: T,
    deadline: Deadline,
}

impl<T: AsFd> Polled<T> {
    /// `inner`, switched to non-blocking: the waiting is done here.
    pub fn new(inner: T, deadline: Deadline) -> io::Result<Self> {
        let flags = OFlag::from_bits_retain(fcntl(inner.as_fd(), FcntlArg::F_GETFL)?);
        fcntl(inner.as_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        Ok(Polled { inner, deadline })
    }

    /// Wait until the pipe is ready for `events`, or the deadline passes.
    fn wait(&self, events: PollFlags) -> io::Result<()> {
        loop {
            let timeout = match self.deadline.remaining() {
                None => PollTimeout::NONE,
                Some(left) if left.is_zero() => return Err(Deadline::timed_out()),
                // Waking at least every minute re-reads a deadline moved meanwhile.
                Some(left) => PollTimeout::try_from(left.min(Duration::from_secs(60)))
                    .unwrap_or(PollTimeout::MAX),
            };
            let mut fds = [PollFd::new(self.inner.as_fd(), events)];
            match poll(&mut fds, timeout) {
                Ok(0) | Err(nix::Error::EINTR) => continue,
                Ok(_) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl<T: AsFd + Read> Read for Polled<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(PollFlags::POLLIN)?,
                other => return other,
            }
        }
    }
}

impl<T: AsFd + Write> Write for Polled<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.inner.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(PollFlags::POLLOUT)?,
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipe() -> (std::fs::File, std::fs::File) {
        let (r, w) = nix::unistd::pipe().unwrap();
        (r.into(), w.into())
    }

    #[test]
    fn reads_and_writes_give_up_when_the_deadline_passes() {
        let deadline = Deadline::default();
        let (r, w) = pipe();
        let mut reader = Polled::new(r, deadline.clone()).unwrap();
        let mut writer = Polled::new(w, deadline.clone()).unwrap();

        // Within the deadline, bytes pass.
        deadline.set(Some(Duration::from_secs(5)));
        writer.write_all(b"hello").unwrap();
        let mut got = [0u8; 5];
        reader.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");

        // Nobody writes: the read gives up at the deadline.
        deadline.set(Some(Duration::from_millis(200)));
        let started = Instant::now();
        let e = reader.read(&mut got).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(190));
        assert!(started.elapsed() < Duration::from_secs(5));

        // Nobody reads: writing more than the pipe holds gives up too.
        deadline.set(Some(Duration::from_millis(200)));
        let e = writer.write_all(&vec![0u8; 1 << 20]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);

        // Extending a passed deadline gives time again.
        deadline.set(Some(Duration::ZERO));
        assert_eq!(deadline.remaining(), Some(Duration::ZERO));
        deadline.extend(Duration::from_secs(5));
        assert!(deadline.remaining().unwrap() > Duration::from_secs(4));
        deadline.set(None);
        assert_eq!(deadline.remaining(), None);
    }
}
