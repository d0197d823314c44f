//! The framed, versioned protocol between the controller and the runtime
//! (the messages here), and the frames the runtime and its forked children
//! speak among themselves.
//!
//! A frame is a 4-byte big-endian length followed by that many bytes. Control
//! messages are JSON; compiled code travels raw in the frame that follows a
//! [`ToRuntime::Code`] message, and a file of the consfig in the frame after
//! a [`ToRuntime::File`], so they are never inflated by an encoding.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use consfig_contract::{Context, Form};

use super::outcome::Outcome;
use crate::sandbox::policy::Policy;

/// Bumped on every incompatible change; the controller refuses a runtime that differs.
pub const PROTOCOL_VERSION: u32 = 5;

/// Frames larger than this are refused: no module, form or outcome is near it,
/// and a corrupt length must not make us allocate gigabytes.
pub const MAX_FRAME: usize = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("connection closed")]
    Closed,
    #[error("frame of {0} bytes is larger than the limit of {MAX_FRAME}")]
    TooLarge(usize),
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    #[error("malformed message: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// Write one frame and flush it.
pub fn write_frame(w: &mut impl Write, payload: &[u8]) -> Result<(), ProtocolError> {
    if payload.len() > MAX_FRAME {
        return Err(ProtocolError::TooLarge(payload.len()));
    }
    w.write_all(&(payload.len() as u32).to_be_bytes())?;
    w.write_all(payload)?;
    w.flush()?;
    Ok(())
}

/// Read one frame; [`ProtocolError::Closed`] on a clean end of stream before it.
pub fn read_frame(r: &mut impl Read) -> Result<Vec<u8>, ProtocolError> {
    let len = read_len(r)?;
    if len > MAX_FRAME {
        return Err(ProtocolError::TooLarge(len));
    }
    read_payload(r, len)
}

/// A frame's length.
fn read_len(r: &mut impl Read) -> Result<usize, ProtocolError> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => Ok(u32::from_be_bytes(len) as usize),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(ProtocolError::Closed),
        Err(e) => Err(e.into()),
    }
}

/// A frame's `len` bytes of payload.
fn read_payload(r: &mut impl Read, len: usize) -> Result<Vec<u8>, ProtocolError> {
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => ProtocolError::Closed,
        _ => e.into(),
    })?;
    Ok(buf)
}

/// What [`recv_within`] read: a message, or a frame it did not keep.
#[derive(Debug)]
pub enum Received<M> {
    Message(M),
    /// A frame of this many bytes, over the reader's limit: read past
    /// without being kept, so the next frame is read in step.
    TooLarge(usize),
    /// A frame within the limit that is no message: not JSON, nested
    /// deeper than the 128 levels the JSON reader allows, or of another shape.
    Malformed(serde_json::Error),
}

/// Read one message of at most `max` bytes. A larger frame is read past
/// and dropped, and a malformed one reported, without losing the stream:
/// a peer that is not trusted costs at most `max` bytes of memory, and one
/// bad message need not end the conversation.
pub fn recv_within<M: DeserializeOwned>(
    r: &mut impl Read,
    max: usize,
) -> Result<Received<M>, ProtocolError> {
    let len = read_len(r)?;
    if len > max {
        let skipped = io::copy(&mut r.by_ref().take(len as u64), &mut io::sink())?;
        if skipped < len as u64 {
            return Err(ProtocolError::Closed);
        }
        return Ok(Received::TooLarge(len));
    }
    let payload = read_payload(r, len)?;
    Ok(match serde_json::from_slice(&payload) {
        Ok(message) => Received::Message(message),
        Err(e) => Received::Malformed(e),
    })
}

pub fn send<M: Serialize>(w: &mut impl Write, message: &M) -> Result<(), ProtocolError> {
    write_frame(w, &serde_json::to_vec(message)?)
}

pub fn recv<M: DeserializeOwned>(r: &mut impl Read) -> Result<M, ProtocolError> {
    Ok(serde_json::from_slice(&read_frame(r)?)?)
}

/// Runtime → controller.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FromRuntime {
    /// First message: who we are, what we run on, and which compiled code
    /// and files we already hold.
    Hello {
        protocol: u32,
        runtime_version: String,
        /// The architecture the runtime runs on (`std::env::consts::ARCH`):
        /// the code the controller compiles is for it.
        arch: String,
        /// Hashes of the compiled code it holds.
        cached_code: Vec<String>,
        /// Hashes of the files of consfigs it holds.
        cached_files: Vec<String>,
    },
    /// Some code [`ToRuntime::Load`] names is not in the cache, or no longer
    /// has its hash there (dropped): send it, then `Load` again.
    Resend {
        code: Vec<String>,
    },
    /// All modules are loaded and the control child is forked: forms may come.
    Ready {
        /// Hashes of the compiled code received, in order, and their bytes
        /// as they crossed the wire.
        received_code: Vec<String>,
        received_bytes: u64,
        /// The same for the files of the consfig.
        received_files: Vec<String>,
        received_file_bytes: u64,
    },
    Outcome {
        id: u64,
        outcome: Outcome,
    },
    /// The runtime cannot go on; it exits after sending this.
    Fatal {
        message: String,
    },
}

impl FromRuntime {
    /// What kind of message this is, for errors (never its contents, which
    /// may be large and are not the controller's to print).
    pub fn kind(&self) -> &'static str {
        match self {
            FromRuntime::Hello { .. } => "hello",
            FromRuntime::Resend { .. } => "resend",
            FromRuntime::Ready { .. } => "ready",
            FromRuntime::Outcome { .. } => "outcome",
            FromRuntime::Fatal { .. } => "fatal",
        }
    }
}

/// A module to load: the hash of its Wasm (what it is) and of the code
/// compiled from it for the runtime's engine (what runs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleCode {
    pub module: String,
    pub code: String,
}

/// Controller → runtime.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ToRuntime {
    /// Followed by one raw frame holding a module's compiled code,
    /// gzip-compressed; `sha256` is the hash of the code.
    Code {
        sha256: String,
        size: u64,
        compressed_size: u64,
    },
    /// Followed by one raw frame holding a file of the consfig, gzip-compressed.
    File {
        sha256: String,
        size: u64,
        compressed_size: u64,
    },
    /// Load these modules (their code present by now, or asked for again
    /// with [`FromRuntime::Resend`]) and fork the control child.
    Load {
        modules: Vec<ModuleCode>,
        /// The files of the consfig this host's forms may read, by their
        /// path relative to Consfig.toml: the SHA-256 of each (all present
        /// by now).
        files: BTreeMap<String, String>,
        /// Limits (and the rest of the deploy's policy) for every form.
        policy: Box<Policy>,
        /// Contexts the control child enters before any form: the context hops
        /// of the connection, e.g. `chroot:/srv/c1`.
        contexts: Vec<Context>,
    },
    Apply {
        id: u64,
        form: Form,
    },
    /// No more forms: stop the control child and exit.
    Finish,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(payloads: &[&[u8]]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for payload in payloads {
            write_frame(&mut bytes, payload).unwrap();
        }
        bytes
    }

    #[test]
    fn a_frame_over_the_limit_is_skipped_and_the_next_read_in_step() {
        let big = vec![b'x'; 1000];
        let bytes = frames(&[&big, br#"{"type":"resend","code":[]}"#]);
        let mut r = bytes.as_slice();
        assert!(matches!(
            recv_within::<FromRuntime>(&mut r, 999).unwrap(),
            Received::TooLarge(1000)
        ));
        assert!(matches!(
            recv_within::<FromRuntime>(&mut r, 999).unwrap(),
            Received::Message(FromRuntime::Resend { .. })
        ));
        assert!(matches!(
            recv_within::<FromRuntime>(&mut r, 999),
            Err(ProtocolError::Closed)
        ));
        // Cut short while being skipped: the stream is closed.
        let cut = &frames(&[&big])[..500];
        assert!(matches!(
            recv_within::<FromRuntime>(&mut &cut[..], 10),
            Err(ProtocolError::Closed)
        ));
    }

    #[test]
    fn a_forms_numbers_cross_exactly() {
        let form = Form::parse(
            r#"["f:x", 8885888888800000000000000038186596, 88888887081114195906616, 0.1, -1e-300]"#,
        )
        .unwrap();
        let mut bytes = Vec::new();
        send(
            &mut bytes,
            &ToRuntime::Apply {
                id: 0,
                form: form.clone(),
            },
        )
        .unwrap();
        let Ok(ToRuntime::Apply { form: got, .. }) = recv(&mut bytes.as_slice()) else {
            panic!("not an apply");
        };
        assert_eq!(got, form);
    }

    #[test]
    fn malformed_and_deeply_nested_messages_are_reported_not_fatal() {
        let deep = format!(
            r#"{{"type":"fatal","message":{}"x"{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let bytes = frames(&[
            b"not json",
            deep.as_bytes(),
            br#"{"type":"resend","code":[]}"#,
        ]);
        let mut r = bytes.as_slice();
        for _ in 0..2 {
            assert!(matches!(
                recv_within::<FromRuntime>(&mut r, 1 << 20).unwrap(),
                Received::Malformed(_)
            ));
        }
        assert!(matches!(
            recv_within::<FromRuntime>(&mut r, 1 << 20).unwrap(),
            Received::Message(FromRuntime::Resend { .. })
        ));
    }
}
