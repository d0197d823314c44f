//! Where a runtime gets the stub it builds bundles on, when a form asks
//! for one (`dump-image`).
//!
//! A bundle carries its own stub: the start of its executable, opened when
//! it starts, before any context is entered. `consfig runtime` asks the
//! controller — but the form runs in a grandchild (or deeper, in a
//! subdeployment, inside a chroot, as another user), and only the runtime
//! process speaks to the controller. So the runtime makes a [`StubLine`]
//! before it forks anything: a socket pair every descendant inherits. A
//! descendant asks on it; the runtime, waiting for the form's outcome, takes
//! the stub from its cache or from the controller and answers with an open
//! file descriptor (SCM_RIGHTS), which reads the same in any chroot and as any
//! user. Forms run one at a time, so one line serves the whole tree; a tag per
//! request lets an asker skip an answer meant for one that died waiting.

use std::fs::File;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};

use crate::bundle::format::stub_length;
use crate::engine::launcher::LaunchError;

/// The largest answer: a tag and a reason.
const MAX_MESSAGE: usize = 4096;

/// A descendant's question, to answer with [`StubLine::reply`].
pub struct Question([u8; 8]);

/// The runtime's line to its descendants, for the stub.
pub struct StubLine {
    /// Where descendants ask and read answers.
    asker: OwnedFd,
    /// Where the runtime reads questions and answers.
    server: OwnedFd,
}

impl StubLine {
    pub fn new() -> nix::Result<Self> {
        let (asker, server) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        Ok(StubLine { asker, server })
    }

    /// What the runtime polls while a form runs.
    pub fn server(&self) -> BorrowedFd<'_> {
        self.server.as_fd()
    }

    /// Descriptors a forked child never needs: the runtime's end.
    pub fn server_fd(&self) -> RawFd {
        self.server.as_raw_fd()
    }

    /// Read the question waiting on the line; None when what came was none.
    pub fn question(&self) -> nix::Result<Option<Question>> {
        let mut tag = [0u8; 8];
        let mut iov = [IoSliceMut::new(&mut tag)];
        let received = recvmsg::<()>(
            self.server.as_raw_fd(),
            &mut iov,
            None,
            MsgFlags::MSG_CMSG_CLOEXEC,
        )?;
        Ok((received.bytes == tag.len()).then_some(Question(tag)))
    }

    /// Answer a question: with the stub, open, or why there is none.
    pub fn reply(&self, question: Question, answer: Result<&File, String>) -> nix::Result<()> {
        let tag = question.0;
        match answer {
            Ok(file) => {
                let fds = [file.as_raw_fd()];
                sendmsg::<()>(
                    self.server.as_raw_fd(),
                    &[IoSlice::new(&tag)],
                    &[ControlMessage::ScmRights(&fds)],
                    MsgFlags::empty(),
                    None,
                )?;
            }
            Err(reason) => {
                let mut reason = reason.into_bytes();
                reason.truncate(MAX_MESSAGE - tag.len());
                let message = [IoSlice::new(&tag), IoSlice::new(&reason)];
                sendmsg::<()>(
                    self.server.as_raw_fd(),
                    &message,
                    &[],
                    MsgFlags::empty(),
                    None,
                )?;
            }
        }
        Ok(())
    }

    /// Ask the runtime for the stub (from a descendant): its bytes.
    fn ask(&self) -> Result<Vec<u8>, LaunchError> {
        let lost = |e: nix::Error| {
            LaunchError::NoStub(format!("asking the runtime for the bundle stub: {e}"))
        };
        let tag = (u64::from(std::process::id()) << 32 | u64::from(next_ask())).to_le_bytes();
        sendmsg::<()>(
            self.asker.as_raw_fd(),
            &[IoSlice::new(&tag)],
            &[],
            MsgFlags::empty(),
            None,
        )
        .map_err(lost)?;
        loop {
            let mut buffer = vec![0u8; MAX_MESSAGE];
            let mut space = nix::cmsg_space!([RawFd; 1]);
            let mut iov = [IoSliceMut::new(&mut buffer)];
            let message = recvmsg::<()>(
                self.asker.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            )
            .map_err(lost)?;
            let bytes = message.bytes;
            let mut file = None;
            for control in message.cmsgs().map_err(lost)? {
                if let ControlMessageOwned::ScmRights(fds) = control {
                    for fd in fds {
                        // SAFETY: received just now, owned by nobody else.
                        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                        file.get_or_insert(File::from(owned));
                    }
                }
            }
            if bytes < tag.len() || buffer[..tag.len()] != tag {
                // An answer to an asker that died waiting.
                continue;
            }
            return match file {
                Some(file) => read_all(&file, None),
                None => Err(LaunchError::NoStub(
                    String::from_utf8_lossy(&buffer[tag.len()..bytes]).into_owned(),
                )),
            };
        }
    }
}

/// How many times this process asked: with its pid, a tag no other ask has.
fn next_ask() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNT: AtomicU32 = AtomicU32::new(0);
    COUNT.fetch_add(1, Ordering::Relaxed)
}

/// The first `len` bytes of `file` (all of it when None).
fn read_all(file: &File, len: Option<u64>) -> Result<Vec<u8>, LaunchError> {
    let failed = |e: std::io::Error| LaunchError::NoStub(format!("reading the bundle stub: {e}"));
    let len = match len {
        Some(len) => len,
        None => file.metadata().map_err(failed)?.len(),
    };
    let mut bytes = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
    file.read_exact_at(&mut bytes, 0).map_err(failed)?;
    Ok(bytes)
}

/// Where this process gets the stub.
pub enum StubSource {
    /// A bundle's own executable, which starts with its stub.
    OwnExecutable { file: File, len: u64 },
    /// The runtime process, over the line every descendant inherits.
    Runtime(Arc<StubLine>),
    /// Nowhere: why.
    None(String),
}

impl StubSource {
    /// A bundle's: its own executable, opened now (before any context).
    pub fn own_executable() -> StubSource {
        let opened = File::open("/proc/self/exe").map_err(|e| e.to_string());
        match opened.map(|file| (stub_length(&file), file)) {
            Ok((Some(len), file)) => StubSource::OwnExecutable { file, len },
            Ok((None, _)) => StubSource::None("this executable is not a bundle".into()),
            Err(e) => StubSource::None(format!("cannot open this executable: {e}")),
        }
    }

    pub fn bytes(&self) -> Result<Vec<u8>, LaunchError> {
        match self {
            StubSource::OwnExecutable { file, len } => read_all(file, Some(*len)),
            StubSource::Runtime(line) => line.ask(),
            StubSource::None(reason) => Err(LaunchError::NoStub(reason.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_descendant_gets_the_stub_or_the_reason_over_the_line() {
        let line = StubLine::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stub");
        std::fs::write(&path, b"\x7fELF stub").unwrap();
        // The question waits in the socket; answer it, then read the answer.
        let tag = 7u64.to_le_bytes();
        sendmsg::<()>(
            line.asker.as_raw_fd(),
            &[IoSlice::new(&tag)],
            &[],
            MsgFlags::empty(),
            None,
        )
        .unwrap();
        let stale = line.question().unwrap().unwrap();
        line.reply(stale, Err("stale".into())).unwrap();
        // A real ask skips the stale answer and gets its own.
        let asking = std::thread::scope(|s| {
            let asker = s.spawn(|| line.ask());
            // The question blocks until it comes.
            let question = line.question().unwrap().unwrap();
            line.reply(question, Ok(&File::open(&path).unwrap()))
                .unwrap();
            asker.join().unwrap()
        });
        assert_eq!(asking.unwrap(), b"\x7fELF stub");
        let refused = std::thread::scope(|s| {
            let asker = s.spawn(|| line.ask());
            let question = line.question().unwrap().unwrap();
            line.reply(question, Err("no stub installed".into()))
                .unwrap();
            asker.join().unwrap()
        });
        assert_eq!(refused.unwrap_err().to_string(), "no stub installed");
    }
}
