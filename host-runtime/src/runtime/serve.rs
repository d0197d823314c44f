//! `consfig-stub runtime`: the process on the target that the controller
//! talks to over stdin/stdout. It has no compiler.
//!
//! It says what it runs on and which compiled code (and files of consfigs)
//! it already caches, receives only the missing ones into the cache
//! (verified by hash, renamed into place), reads the files this host's
//! forms may read into memory (where a subdeployment in a chroot still has
//! them), loads every module's code — read back from the cache and verified
//! again, so code altered there is asked for anew, never run — into the
//! pristine image, forks the control child, and then has each form
//! evaluated in a grandchild. A form that writes a bundle builds it on this
//! executable, which is the bundle stub.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::PathBuf;
use std::sync::Arc;

use consfig_contract::{Context, Form};

use super::blanked_stderr;
use super::launcher::RuntimeLauncher;
use super::stub::StubSource;
use super::zygote::{Zygote, ZygoteError};
use crate::engine::cache::{Cache, CacheError, Shelf};
use crate::engine::image::Image;
use crate::engine::recipe::Recipe;
use crate::host::state::{HostMode, HostState};
use crate::sandbox::policy::{ConsfigFiles, Policy};
use crate::wire::outcome::Outcome;
use crate::wire::protocol::{
    self, FromRuntime, ModuleCode, PROTOCOL_VERSION, ProtocolError, ToRuntime,
};
use crate::wire::redact::ReportSender;

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
    let close_in_zygote = [input.as_raw_fd(), output.as_raw_fd()];
    serve(
        BufReader::new(&input),
        BufWriter::new(output),
        &close_in_zygote,
        Some(input.as_fd()),
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

/// The protocol loop, on any pair of streams; `controller` is the
/// descriptor `input` reads from, if it has one: when it hangs up while a
/// form runs, the controller is gone and the runtime stops (with the form).
pub fn serve(
    mut input: impl Read,
    output: impl Write,
    close_in_zygote: &[RawFd],
    controller: Option<BorrowedFd<'_>>,
) -> Result<(), RuntimeError> {
    let mut output = ReportSender::new(output);
    let cache = Cache::from_env().map_err(|e| RuntimeError::Fatal(format!("cache: {e}")))?;
    // Opened now, before any context is entered: what bundles are built on.
    let mut stub = Some(StubSource::runtime_executable());
    cache.sweep_abandoned();
    output.send(FromRuntime::Hello {
        protocol: PROTOCOL_VERSION,
        runtime_version: env!("CARGO_PKG_VERSION").to_owned(),
        arch: std::env::consts::ARCH.to_owned(),
        cached_code: cache.cached(Shelf::Code).unwrap_or_default(),
        cached_files: cache.cached(Shelf::Files).unwrap_or_default(),
    })?;

    let mut received_code = Vec::new();
    let mut received_bytes = 0u64;
    let mut received_files = Vec::new();
    let mut received_file_bytes = 0u64;
    let mut loaded: Option<Loaded> = None;
    loop {
        let message = match protocol::recv(&mut input) {
            Ok(message) => message,
            Err(ProtocolError::Closed) => break,
            Err(e) => return Err(e.into()),
        };
        match message {
            ToRuntime::Code {
                sha256,
                size,
                compressed_size,
            } => {
                let stored = receive(&mut input, size, compressed_size, |bytes| {
                    cache.store(Shelf::Code, &sha256, bytes)
                })?;
                if let Err(e) = stored {
                    return fatal(&mut output, format!("compiled code {sha256}: {e}"));
                }
                received_bytes += compressed_size;
                received_code.push(sha256);
            }
            ToRuntime::File {
                sha256,
                size,
                compressed_size,
            } => {
                let stored = receive(&mut input, size, compressed_size, |bytes| {
                    cache.store(Shelf::Files, &sha256, bytes)
                })?;
                if let Err(e) = stored {
                    return fatal(&mut output, format!("file of the consfig {sha256}: {e}"));
                }
                received_file_bytes += compressed_size;
                received_files.push(sha256);
            }
            ToRuntime::Load { .. } if loaded.is_some() => {
                return fatal(&mut output, "the modules are loaded already".into());
            }
            ToRuntime::Load {
                modules,
                files,
                mut policy,
                contexts,
            } => {
                let code = match read_code(&cache, &modules) {
                    Ok(code) => code,
                    Err(Missing(code)) => {
                        output.send(FromRuntime::Resend { code })?;
                        continue;
                    }
                };
                policy.files = match read_files(&cache, &files) {
                    Ok(files) => files,
                    Err(message) => return fatal(&mut output, message),
                };
                // From here on the host's data is in this process: blanked
                // out of every message, and out of what reaches stderr.
                output.blank(&policy.data);
                if let Err(e) = blanked_stderr::start(&policy.data, close_in_zygote) {
                    return fatal(&mut output, format!("standard error: {e}"));
                }
                let stub = stub.take().expect("only the first Load gets here");
                let launcher = RuntimeLauncher::new(stub);
                let mut image = match load(&cache, code, *policy, launcher) {
                    Ok(image) => image,
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
                });
                output.send(FromRuntime::Ready {
                    received_code: std::mem::take(&mut received_code),
                    received_bytes,
                    received_files: std::mem::take(&mut received_files),
                    received_file_bytes,
                })?;
            }
            ToRuntime::Apply { id, form } => {
                let outcome = match &mut loaded {
                    None => Outcome::failed("no modules loaded yet", String::new()),
                    Some(loaded) => loaded.apply(&form, close_in_zygote, controller)?,
                };
                output.send(FromRuntime::Outcome { id, outcome })?;
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
}

impl Loaded {
    fn apply(
        &mut self,
        form: &Form,
        close_in_zygote: &[RawFd],
        controller: Option<BorrowedFd<'_>>,
    ) -> Result<Outcome, RuntimeError> {
        let zygote = match &mut self.zygote {
            Some(zygote) => zygote,
            // Our own image has never run a form, so it is still pristine.
            None => self.zygote.insert(
                Zygote::spawn(&mut self.image, &self.contexts, close_in_zygote)
                    .map_err(|e| RuntimeError::Fatal(e.to_string()))?,
            ),
        };
        let time = self.image.policy().limits.for_module(form.module()).time;
        match zygote.apply_watching(form, time, controller) {
            Ok(outcome) => {
                // Check mode: a control child forked anew later sees it too.
                self.image.absorb(&outcome).map_err(|e| {
                    RuntimeError::Fatal(format!(
                        "check mode cannot keep what forms would change: {e}"
                    ))
                })?;
                Ok(outcome)
            }
            Err(ZygoteError::Upstream(e)) => Err(e.into()),
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

/// Code a `Load` named that the cache does not hold (intact): to be sent again.
struct Missing(Vec<String>);

/// Each module's compiled code, read back from the cache and verified; an
/// entry found damaged is dropped, and named with the missing ones.
fn read_code(cache: &Cache, modules: &[ModuleCode]) -> Result<Vec<(ModuleCode, Vec<u8>)>, Missing> {
    let mut code = Vec::new();
    let mut missing = Vec::new();
    for module in modules {
        match cache.read(Shelf::Code, &module.code) {
            Ok(bytes) => code.push((module.clone(), bytes)),
            Err(_) if !missing.contains(&module.code) => missing.push(module.code.clone()),
            Err(_) => {}
        }
    }
    if missing.is_empty() {
        Ok(code)
    } else {
        Err(Missing(missing))
    }
}

/// The raw frame after a `Code` or `File` message, gunzipped and put in
/// the cache by `store`: where it is, or what is wrong with it.
fn receive(
    input: &mut impl Read,
    size: u64,
    compressed_size: u64,
    store: impl FnOnce(&[u8]) -> Result<PathBuf, CacheError>,
) -> Result<Result<PathBuf, String>, ProtocolError> {
    let compressed = protocol::read_frame(input)?;
    Ok(decompress(&compressed, compressed_size, size)
        .and_then(|bytes| store(&bytes).map_err(|e| e.to_string())))
}

/// Gunzip what the controller sent, refusing anything but exactly `size` bytes.
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

/// The files of the consfig named (path → hash), read from the cache, each
/// verified by its hash.
fn read_files(cache: &Cache, files: &BTreeMap<String, String>) -> Result<ConsfigFiles, String> {
    files
        .iter()
        .map(|(path, sha256)| {
            cache
                .read(Shelf::Files, sha256)
                .map(|bytes| (path.clone(), bytes))
                .map_err(|e| {
                    format!("file of the consfig {path} ({sha256}) is not in the cache: {e}")
                })
        })
        .collect::<Result<BTreeMap<_, _>, _>>()
        .map(ConsfigFiles::new)
}

/// Tell the controller why the runtime stops, and stop: the message is
/// blanked for the frame, and for the runtime's last words on stderr.
fn fatal(output: &mut ReportSender<impl Write>, message: String) -> Result<(), RuntimeError> {
    let message = output.redactor().text(&message).into_owned();
    let _ = output.send(FromRuntime::Fatal {
        message: message.clone(),
    });
    Err(RuntimeError::Fatal(message))
}

/// Load the modules' verified code into a pristine image under `policy`.
fn load(
    cache: &Cache,
    code: Vec<(ModuleCode, Vec<u8>)>,
    policy: Policy,
    launcher: RuntimeLauncher,
) -> Result<Image, String> {
    let engine = crate::engine::new_engine().map_err(|e| e.to_string())?;
    let recipe = Recipe::deserialize(
        &engine,
        code.iter().map(|(module, bytes)| {
            (
                format!("module {}", module.module),
                module.module.as_str(),
                bytes.as_slice(),
            )
        }),
        Arc::new(launcher),
    )
    .map_err(|e| e.to_string())?;
    // Compiled code is loaded from the cache and runs with any module's
    // grants: no module may write there, nor over this executable.
    let mut policy = policy;
    policy.protected.push(cache.root().to_owned());
    if let Ok(exe) = std::env::current_exe() {
        policy.protected.push(exe);
    }
    Image::new(&recipe, HostState::new(HostMode::Deploy, policy)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn decompression_refuses_lying_sizes() {
        let packed = gzip(b"module bytes");
        let len = packed.len() as u64;
        assert_eq!(decompress(&packed, len, 12).unwrap(), b"module bytes");
        assert!(
            decompress(&packed, len, 11)
                .unwrap_err()
                .contains("expected 11 bytes")
        );
        assert!(decompress(&packed, len, 13).is_err());
        assert!(decompress(&packed, len + 1, 12).is_err());
        assert!(
            decompress(b"not gzip", 8, 12)
                .unwrap_err()
                .contains("corrupt")
        );
    }
}
