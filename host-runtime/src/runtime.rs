//! `consfig runtime`: the process on the target that the controller talks to
//! over stdin/stdout.
//!
//! It says which modules it already caches, receives only the missing ones into
//! the cache (verified by hash, renamed into place), loads every module into the
//! pristine image (compiled code from the cache, compiling only when absent),
//! forks the control child, and then has each form evaluated in a grandchild.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};

use crate::cache::Cache;
use crate::context::Context;
use crate::engine::{self, Image, Recipe};
use crate::form::Form;
use crate::host_api::{HostMode, HostState};
use crate::overlay::Overlay;
use crate::policy::Policy;
use crate::protocol::{self, FromRuntime, PROTOCOL_VERSION, ProtocolError, ToRuntime};
use crate::report::Outcome;
use crate::zygote::Zygote;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    #[error("{0}")]
    Fatal(String),
    #[error("setting up standard streams: {0}")]
    Stdio(std::io::Error),
}

/// Run the runtime on this process's stdin/stdout.
pub fn main() -> Result<(), RuntimeError> {
    let (input, output) = take_stdio().map_err(RuntimeError::Stdio)?;
    // Before any form can enter a chroot, where the path would not resolve.
    crate::bundle::remember_stub();
    let close_in_zygote = [input.as_raw_fd(), output.as_raw_fd()];
    serve(
        BufReader::new(input),
        BufWriter::new(output),
        &close_in_zygote,
    )
}

/// Move the protocol channel off fds 0 and 1, and point those at /dev/null and
/// stderr, so nothing a module or a command does can read or corrupt it.
fn take_stdio() -> std::io::Result<(File, File)> {
    let input = File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
    let output = File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    let null = File::open("/dev/null")?;
    // SAFETY: plain descriptor duplication onto the standard descriptors.
    unsafe {
        if libc::dup2(null.as_raw_fd(), 0) < 0 || libc::dup2(2, 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok((input, output))
}

/// The protocol loop, on any pair of streams.
pub fn serve(
    mut input: impl Read,
    mut output: impl Write,
    close_in_zygote: &[RawFd],
) -> Result<(), RuntimeError> {
    let cache = match Cache::from_env() {
        Ok(cache) => cache,
        Err(e) => return fatal(&mut output, format!("module cache: {e}")),
    };
    cache.sweep_abandoned();
    protocol::send(
        &mut output,
        &FromRuntime::Hello {
            protocol: PROTOCOL_VERSION,
            runtime_version: env!("CARGO_PKG_VERSION").to_owned(),
            cached_modules: cache.cached_modules().unwrap_or_default(),
        },
    )?;

    let mut received_modules = Vec::new();
    let mut received_bytes = 0u64;
    let mut loaded: Option<Loaded> = None;
    loop {
        let message = match protocol::recv(&mut input) {
            Ok(message) => message,
            Err(ProtocolError::Closed) => break,
            Err(e) => return Err(e.into()),
        };
        match message {
            ToRuntime::Module {
                sha256,
                size,
                compressed_size,
            } => {
                let compressed = protocol::read_frame(&mut input)?;
                let bytes = match decompress(&compressed, compressed_size, size) {
                    Ok(bytes) => bytes,
                    Err(e) => return fatal(&mut output, format!("module {sha256}: {e}")),
                };
                if let Err(e) = cache.store_module(&sha256, &bytes) {
                    return fatal(&mut output, e.to_string());
                }
                received_bytes += compressed_size;
                received_modules.push(sha256);
            }
            ToRuntime::Load {
                modules,
                policy,
                contexts,
            } => {
                let (mut image, compiled) = match load(&cache, &modules, policy) {
                    Ok(done) => done,
                    Err(message) => return fatal(&mut output, message),
                };
                let zygote = match Zygote::spawn(&mut image, &contexts, close_in_zygote) {
                    Ok(zygote) => zygote,
                    Err(e) => return fatal(&mut output, e.to_string()),
                };
                loaded = Some(Loaded {
                    image,
                    contexts,
                    zygote: Some(zygote),
                    overlay: Overlay::default(),
                });
                protocol::send(
                    &mut output,
                    &FromRuntime::Ready {
                        received_modules: std::mem::take(&mut received_modules),
                        received_bytes,
                        compiled_modules: compiled,
                    },
                )?;
            }
            ToRuntime::Apply { id, form } => {
                let mut outcome = match &mut loaded {
                    None => Outcome::failed("no modules loaded yet", String::new()),
                    Some(loaded) => loaded.apply(&form, close_in_zygote)?,
                };
                // The host's data stays on the host: blanked out of all we report.
                if let Some(loaded) = &loaded {
                    let data = &loaded.image.policy().data;
                    if !data.is_empty() {
                        outcome.rewrite_text(&|text| data.redact(text));
                    }
                }
                protocol::send(&mut output, &FromRuntime::Outcome { id, outcome })?;
            }
            ToRuntime::Finish => break,
        }
    }
    if let Some(zygote) = loaded.and_then(|l| l.zygote) {
        zygote.shutdown();
    }
    Ok(())
}

/// The pristine image and the control child forked from it.
struct Loaded {
    image: Image,
    contexts: Vec<Context>,
    /// None after the control child died; a new one is forked for the next form.
    zygote: Option<Zygote>,
    /// Check mode: what the forms so far would have changed.
    overlay: Overlay,
}

impl Loaded {
    fn apply(&mut self, form: &Form, close_in_zygote: &[RawFd]) -> Result<Outcome, RuntimeError> {
        let zygote = match &mut self.zygote {
            Some(zygote) => zygote,
            // Our own image has never run a form, so it is still pristine.
            None => self.zygote.insert(
                Zygote::spawn(&mut self.image, &self.contexts, close_in_zygote)
                    .map_err(|e| RuntimeError::Fatal(e.to_string()))?,
            ),
        };
        let time = self.image.policy().limits.for_module(form.module()).time;
        match zygote.apply_checked(form, time, &self.overlay) {
            Ok(outcome) => {
                self.overlay.apply(&outcome.changes);
                Ok(outcome)
            }
            Err(e) => {
                if let Some(dead) = self.zygote.take() {
                    dead.kill();
                }
                Ok(Outcome::failed(
                    format!("the control process failed ({e}); a new one takes the next form"),
                    String::new(),
                ))
            }
        }
    }
}

/// Gunzip a received module, refusing anything but exactly `size` bytes.
fn decompress(compressed: &[u8], compressed_size: u64, size: u64) -> Result<Vec<u8>, String> {
    if compressed.len() as u64 != compressed_size {
        return Err(format!(
            "expected {compressed_size} bytes on the wire, got {}",
            compressed.len()
        ));
    }
    let mut bytes = Vec::with_capacity(size.min(protocol::MAX_FRAME as u64) as usize);
    // One byte past the announced size tells a lying size from a right one.
    flate2::read::GzDecoder::new(compressed)
        .take(size + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("corrupt compressed data: {e}"))?;
    if bytes.len() as u64 != size {
        return Err(format!("expected {size} bytes, got {}", bytes.len()));
    }
    Ok(bytes)
}

fn fatal(output: &mut impl Write, message: String) -> Result<(), RuntimeError> {
    let _ = protocol::send(
        output,
        &FromRuntime::Fatal {
            message: message.clone(),
        },
    );
    Err(RuntimeError::Fatal(message))
}

/// Load the named cached modules into a pristine image under `policy`; also
/// say which had to be compiled.
fn load(cache: &Cache, hashes: &[String], policy: Policy) -> Result<(Image, Vec<String>), String> {
    let engine = engine::new_engine().map_err(|e| e.to_string())?;
    let modules = hashes
        .iter()
        .map(|sha256| {
            let bytes = cache
                .read_module(sha256)
                .map_err(|e| format!("module {sha256} is not in the cache: {e}"))?;
            Ok((format!("module {sha256}"), sha256.as_str(), bytes))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (recipe, compiled) = Recipe::compile(
        &engine,
        cache,
        modules
            .iter()
            .map(|(origin, sha256, bytes)| (origin.clone(), *sha256, bytes.as_slice())),
    )
    .map_err(|e| e.to_string())?;
    let image = Image::with_state(&recipe, HostState::with_policy(HostMode::Deploy, policy))
        .map_err(|e| e.to_string())?;
    Ok((image, compiled))
}
