//! Bundles: a standalone executable that applies one form when started —
//! Consfig's `image-dumped`, for running a service from a consfig.
//!
//! A bundle is a runtime without compiler (the *stub*, `consfig-stub`) with a
//! payload appended, then a trailer:
//!
//! ```text
//! stub executable | manifest length (u32 LE) | manifest (JSON) | compiled module… | trailer
//! trailer (64 bytes): stub length (u64 LE) | payload length (u64 LE)
//!                     | SHA-256 of everything before the trailer | magic (16 bytes)
//! ```
//!
//! The manifest names the modules (with the hash of their Wasm), the form and
//! the grants. Started, the stub reads its own executable, refuses it unless
//! the trailer's sizes and checksum match, loads the compiled modules into a
//! pristine image and applies the form in this process, so the form's exit
//! status and the signals the process gets are the service's own.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::confined_fs::Place;
use crate::engine::{self, EngineError, Image, LoadedComponent, ModuleSet, Recipe};
use crate::form::Form;
use crate::grants::Grant;
use crate::host_api::HostState;
use crate::report::Status;

const MAGIC: &[u8; 16] = b"consfig-bundle\0\x01";
const TRAILER_LEN: usize = 64;
const FORMAT: u32 = 1;

/// The stub's file name, next to `consfig` (`make` puts it there).
pub const STUB_NAME: &str = "consfig-stub";

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{0}: not a Consfig bundle, or a truncated one (no bundle trailer at its end); make it again with `consfig bundle`"
    )]
    NoTrailer(String),
    #[error(
        "{path}: truncated or damaged bundle: its trailer describes {expected} bytes, the file has {actual}; make it again with `consfig bundle`"
    )]
    Size {
        path: String,
        expected: u64,
        actual: u64,
    },
    #[error(
        "{0}: damaged bundle: its checksum does not match its contents; make it again with `consfig bundle`"
    )]
    Checksum(String),
    #[error("{path}: bad bundle manifest: {reason}")]
    Manifest { path: String, reason: String },
    #[error(
        "no runtime stub for bundles at {0} (it is built by `make`; set CONSFIG_STUB to use another)"
    )]
    NoStub(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The fixed-size end of a bundle: where its parts lie, and their checksum.
struct Trailer {
    stub_len: u64,
    payload_len: u64,
    /// SHA-256 of everything before the trailer.
    checksum: [u8; 32],
}

impl Trailer {
    fn encode(&self) -> [u8; TRAILER_LEN] {
        let mut bytes = [0u8; TRAILER_LEN];
        bytes[..8].copy_from_slice(&self.stub_len.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.payload_len.to_le_bytes());
        bytes[16..48].copy_from_slice(&self.checksum);
        bytes[48..].copy_from_slice(MAGIC);
        bytes
    }

    /// The trailer ending `bytes`, if they end with one.
    fn decode(bytes: &[u8]) -> Option<Trailer> {
        let trailer = bytes.get(bytes.len().checked_sub(TRAILER_LEN)?..)?;
        if &trailer[TRAILER_LEN - MAGIC.len()..] != MAGIC {
            return None;
        }
        let u64_at = |at: usize| u64::from_le_bytes(trailer[at..at + 8].try_into().unwrap());
        Some(Trailer {
            stub_len: u64_at(0),
            payload_len: u64_at(8),
            checksum: trailer[16..48].try_into().unwrap(),
        })
    }
}

/// What a bundle holds, besides the stub and the compiled code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// The Consfig version that wrote it.
    pub consfig: String,
    /// `uname -m` of the machine the code was compiled for.
    pub architecture: String,
    pub form: serde_json::Value,
    pub grants: Vec<Grant>,
    pub modules: Vec<ManifestModule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestModule {
    /// The module's name, which prefixes its properties.
    pub name: String,
    /// SHA-256 of the module's Wasm, as the cache and `consfig deploy -v` name it.
    pub sha256: String,
    /// Bytes of compiled code that follow the manifest, in module order.
    pub compiled_size: u64,
}

/// A module to put in a bundle.
pub struct BundleModule {
    pub name: String,
    pub sha256: String,
    pub compiled: Vec<u8>,
}

/// The bytes of a bundle: `stub`, then the payload, then the trailer.
pub fn assemble(stub: &[u8], form: &Form, grants: &[Grant], modules: &[BundleModule]) -> Vec<u8> {
    let manifest = Manifest {
        format: FORMAT,
        consfig: env!("CARGO_PKG_VERSION").to_owned(),
        architecture: std::env::consts::ARCH.to_owned(),
        form: form.to_value(),
        grants: grants.to_vec(),
        modules: modules
            .iter()
            .map(|m| ManifestModule {
                name: m.name.clone(),
                sha256: m.sha256.clone(),
                compiled_size: m.compiled.len() as u64,
            })
            .collect(),
    };
    let manifest = serde_json::to_vec(&manifest).expect("a manifest always serializes");
    let code: usize = modules.iter().map(|m| m.compiled.len()).sum();
    let mut bytes = Vec::with_capacity(stub.len() + 4 + manifest.len() + code + TRAILER_LEN);
    bytes.extend_from_slice(stub);
    bytes.extend_from_slice(&(manifest.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&manifest);
    for module in modules {
        bytes.extend_from_slice(&module.compiled);
    }
    let trailer = Trailer {
        stub_len: stub.len() as u64,
        payload_len: (bytes.len() - stub.len()) as u64,
        checksum: Sha256::digest(&bytes).into(),
    };
    bytes.extend_from_slice(&trailer.encode());
    bytes
}

/// A bundle read and verified.
#[derive(Debug)]
pub struct Bundle {
    pub manifest: Manifest,
    pub form: Form,
    pub stub_len: usize,
    bytes: Vec<u8>,
    /// Where each module's compiled code lies in `bytes`.
    code: Vec<std::ops::Range<usize>>,
}

impl Bundle {
    /// Read a bundle file and verify it; `origin` is what errors call it.
    pub fn open(path: &Path) -> Result<Bundle, BundleError> {
        let bytes = std::fs::read(path).map_err(|source| BundleError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Bundle::parse(bytes, &path.display().to_string())
    }

    /// Verify the bytes of a bundle and read its manifest.
    pub fn parse(bytes: Vec<u8>, origin: &str) -> Result<Bundle, BundleError> {
        let len = bytes.len();
        let Trailer {
            stub_len,
            payload_len,
            checksum,
        } = Trailer::decode(&bytes).ok_or_else(|| BundleError::NoTrailer(origin.to_owned()))?;
        let expected = stub_len
            .checked_add(payload_len)
            .and_then(|n| n.checked_add(TRAILER_LEN as u64));
        if expected != Some(len as u64) {
            return Err(BundleError::Size {
                path: origin.to_owned(),
                expected: expected.unwrap_or(u64::MAX),
                actual: len as u64,
            });
        }
        let body = &bytes[..len - TRAILER_LEN];
        if Sha256::digest(body).as_slice() != checksum {
            return Err(BundleError::Checksum(origin.to_owned()));
        }
        let bad = |reason: String| BundleError::Manifest {
            path: origin.to_owned(),
            reason,
        };
        let stub_len = stub_len as usize;
        let payload = &body[stub_len..];
        let manifest_len = payload
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize)
            .ok_or_else(|| bad("payload too short".into()))?;
        let manifest_bytes = payload
            .get(4..4 + manifest_len)
            .ok_or_else(|| bad("manifest runs past the payload".into()))?;
        let manifest: Manifest =
            serde_json::from_slice(manifest_bytes).map_err(|e| bad(e.to_string()))?;
        if manifest.format != FORMAT {
            return Err(bad(format!(
                "format {} (this Consfig reads format {FORMAT})",
                manifest.format
            )));
        }
        let form =
            Form::from_value(manifest.form.clone()).map_err(|e| bad(format!("form: {e}")))?;
        let mut at = stub_len + 4 + manifest_len;
        let mut code = Vec::new();
        for module in &manifest.modules {
            let end = at + module.compiled_size as usize;
            if end > body.len() {
                return Err(bad(format!(
                    "module {}: code runs past the payload",
                    module.name
                )));
            }
            code.push(at..end);
            at = end;
        }
        if at != body.len() {
            return Err(bad(format!(
                "{} bytes after the last module",
                body.len() - at
            )));
        }
        Ok(Bundle {
            manifest,
            form,
            stub_len,
            bytes,
            code,
        })
    }

    /// The stub executable this bundle starts with.
    pub fn stub(&self) -> &[u8] {
        &self.bytes[..self.stub_len]
    }

    /// Each module's compiled code, in manifest order.
    pub fn compiled(&self) -> impl Iterator<Item = (&ManifestModule, &[u8])> {
        self.manifest
            .modules
            .iter()
            .zip(&self.code)
            .map(|(m, range)| (m, &self.bytes[range.clone()]))
    }

    /// What `consfig bundle --info` prints.
    pub fn describe(&self) -> String {
        let code: usize = self.code.iter().map(|r| r.len()).sum();
        let mut text = format!(
            "bundle of Consfig {} for {}, {} bytes (checksum verified)\n  stub: {} bytes\n  form: {}\n  grants: {}\n  modules: {} ({} bytes of compiled code)\n",
            self.manifest.consfig,
            self.manifest.architecture,
            self.bytes.len(),
            self.stub_len,
            self.form,
            if self.manifest.grants.is_empty() {
                "none".to_owned()
            } else {
                self.manifest
                    .grants
                    .iter()
                    .map(Grant::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            self.manifest.modules.len(),
            code,
        );
        for module in &self.manifest.modules {
            text.push_str(&format!(
                "    {:<20} {}  {} bytes\n",
                module.name,
                &module.sha256[..module.sha256.len().min(16)],
                module.compiled_size
            ));
        }
        text
    }

    /// Load the compiled modules into a recipe for this process's engine.
    pub fn recipe(&self, engine: &wasmtime::Engine) -> Result<Arc<Recipe>, BundleError> {
        let mut components = Vec::with_capacity(self.code.len());
        for (module, code) in self.compiled() {
            // SAFETY: the code is the output of `Component::serialize` and its
            // checksum was verified in `parse`; wasmtime checks that it suits
            // this engine before using it.
            let component =
                unsafe { Component::deserialize(engine, code) }.map_err(|e| EngineError::Load {
                    origin: format!("bundled module {}", module.name),
                    message: engine::error_chain(&e),
                })?;
            components.push(LoadedComponent {
                origin: format!("bundled module {}", module.name),
                sha256: module.sha256.clone(),
                component,
            });
        }
        Ok(Recipe::new(engine, components)?)
    }
}

/// Where the stub comes from when a runtime dumps an image: an open file, so
/// a dump inside a chroot can still read it. Located once, before any chroot.
struct StubSource {
    file: File,
    len: u64,
}

static STUB: OnceLock<Result<StubSource, String>> = OnceLock::new();

fn locate_stub() -> Result<StubSource, String> {
    let exe = std::env::current_exe().map_err(|e| format!("finding this executable: {e}"))?;
    // A bundle carries its own stub.
    if let Ok(file) = File::open("/proc/self/exe") {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len >= TRAILER_LEN as u64 {
            let mut tail = [0u8; TRAILER_LEN];
            if file
                .read_exact_at(&mut tail, len - TRAILER_LEN as u64)
                .is_ok()
                && let Some(trailer) = Trailer::decode(&tail)
            {
                return Ok(StubSource {
                    file,
                    len: trailer.stub_len,
                });
            }
        }
    }
    let path = stub_path(&exe);
    let file = File::open(&path)
        .map_err(|_| BundleError::NoStub(path.display().to_string()).to_string())?;
    let len = file
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    Ok(StubSource { file, len })
}

/// Where the stub is for the `consfig` at `exe`: `$CONSFIG_STUB`, or beside it.
pub fn stub_path(exe: &Path) -> PathBuf {
    match std::env::var_os("CONSFIG_STUB") {
        Some(path) => PathBuf::from(path),
        None => exe.with_file_name(STUB_NAME),
    }
}

/// Find the stub now, while the process still sees the root it started in.
pub fn remember_stub() {
    STUB.get_or_init(locate_stub);
}

fn stub_bytes() -> Result<Vec<u8>, String> {
    let source = STUB
        .get_or_init(locate_stub)
        .as_ref()
        .map_err(Clone::clone)?;
    let mut bytes = vec![0u8; source.len as usize];
    source
        .file
        .read_exact_at(&mut bytes, 0)
        .map_err(|e| format!("reading the runtime stub: {e}"))?;
    Ok(bytes)
}

/// The bytes of a bundle of every module of an image, applying `form`.
pub fn from_modules(
    modules: &ModuleSet,
    stub: &[u8],
    form: &Form,
    grants: &[Grant],
) -> Result<Vec<u8>, String> {
    let mut bundled = Vec::new();
    for (name, sha256, component) in modules.compiled() {
        let compiled = component
            .serialize()
            .map_err(|e| format!("module {name}: {}", engine::error_chain(&e)))?;
        bundled.push(BundleModule {
            name: name.to_owned(),
            sha256: sha256.to_owned(),
            compiled,
        });
    }
    Ok(assemble(stub, form, grants, &bundled))
}

/// The bundle for `form` of the modules of a pristine image, on the stub
/// this runtime found.
pub fn dump(modules: &ModuleSet, form: &Form, grants: &[Grant]) -> Result<Vec<u8>, String> {
    from_modules(modules, &stub_bytes()?, form, grants)
}

/// Replace the file at `place` with `bytes`, mode 0755, atomically, unless it
/// already holds exactly them (and is executable).
pub fn write_if_changed(place: &Place, bytes: &[u8]) -> std::io::Result<Status> {
    // What cannot be read is rewritten; the write says what is wrong.
    let same = place
        .status()
        .ok()
        .flatten()
        .is_some_and(|s| s.is_file && s.mode == 0o755 && s.size == bytes.len() as u64)
        && place.read().is_ok_and(|there| there == bytes);
    if same {
        return Ok(Status::Unchanged);
    }
    place.write_atomic(bytes, 0o755, None)?;
    Ok(Status::Changed)
}

/// The exit status of a bundle whose payload cannot be used.
pub const EXIT_BAD_BUNDLE: i32 = 125;
/// The exit status of a bundle whose form failed.
pub const EXIT_FORM_FAILED: i32 = 1;

/// The stub's `main`: apply the form of the bundle this executable is.
/// Returns the process's exit status.
pub fn run_self() -> i32 {
    let name = std::env::args()
        .next()
        .unwrap_or_else(|| "consfig-bundle".to_owned());
    if std::env::args()
        .nth(1)
        .is_some_and(|a| a == "--help" || a == "-h")
    {
        println!(
            "{name}: a Consfig bundle. Run it without arguments to apply its form;\n`consfig bundle --info {name}` shows what it holds."
        );
        return 0;
    }
    let fail = |message: String| {
        eprintln!("{name}: {message}");
        EXIT_BAD_BUNDLE
    };
    let bytes = match std::fs::read("/proc/self/exe") {
        Ok(bytes) => bytes,
        Err(e) => return fail(format!("cannot read its own executable: {e}")),
    };
    let bundle = match Bundle::parse(bytes, &name) {
        Ok(bundle) => bundle,
        Err(e) => return fail(e.to_string()),
    };
    remember_stub();
    stop_on_signals_as_pid1();
    let engine = match engine::new_engine() {
        Ok(engine) => engine,
        Err(e) => return fail(e.to_string()),
    };
    let recipe = match bundle.recipe(&engine) {
        Ok(recipe) => recipe,
        Err(e) => return fail(e.to_string()),
    };
    let state = HostState::for_service(bundle.manifest.grants.clone());
    let mut image = match Image::with_state(&recipe, state) {
        Ok(image) => image,
        Err(e) => return fail(e.to_string()),
    };
    let outcome = image.apply(&bundle.form);
    if let Some(code) = image.exit_requested() {
        return code;
    }
    match outcome.status {
        Status::Failed => {
            eprintln!(
                "{name}: {} failed: {}",
                bundle.form,
                outcome.reason.as_deref().unwrap_or("no reason given")
            );
            EXIT_FORM_FAILED
        }
        _ => 0,
    }
}

/// As process 1 (a container's entry point), the kernel ignores signals that
/// have no handler: make SIGTERM and SIGINT stop the service there too.
fn stop_on_signals_as_pid1() {
    extern "C" fn exit_on_signal(signal: libc::c_int) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + signal) }
    }
    if std::process::id() != 1 {
        return;
    }
    use nix::sys::signal::{SigHandler, Signal, signal};
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only calls _exit.
        let _ = unsafe { signal(sig, SigHandler::Handler(exit_on_signal)) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let form = Form::parse(r#"["web:start-server", 8080]"#).unwrap();
        let grants = crate::grants::parse_grants(&["net:127.0.0.1:8080"]).unwrap();
        let modules = [
            BundleModule {
                name: "web".into(),
                sha256: "ab".repeat(32),
                compiled: b"compiled web".to_vec(),
            },
            BundleModule {
                name: "file".into(),
                sha256: "cd".repeat(32),
                compiled: b"compiled file code".to_vec(),
            },
        ];
        assemble(b"\x7fELF stub", &form, &grants, &modules)
    }

    #[test]
    fn reads_what_it_writes() {
        let bundle = Bundle::parse(sample(), "b").unwrap();
        assert_eq!(bundle.stub(), b"\x7fELF stub");
        assert_eq!(
            bundle.form.to_value(),
            serde_json::json!(["web:start-server", 8080])
        );
        assert_eq!(bundle.manifest.grants[0].to_string(), "net:127.0.0.1:8080");
        let code: Vec<_> = bundle
            .compiled()
            .map(|(m, c)| (m.name.clone(), c.to_vec()))
            .collect();
        assert_eq!(
            code,
            [
                ("web".to_owned(), b"compiled web".to_vec()),
                ("file".to_owned(), b"compiled file code".to_vec())
            ]
        );
        assert!(bundle.describe().contains("net:127.0.0.1:8080"));
    }

    #[test]
    fn same_inputs_same_bytes() {
        assert_eq!(sample(), sample());
    }

    #[test]
    fn refuses_damage() {
        let good = sample();
        for cut in [1, 10, TRAILER_LEN, good.len() - 5] {
            let err = Bundle::parse(good[..good.len() - cut].to_vec(), "b").unwrap_err();
            assert!(matches!(err, BundleError::NoTrailer(_)), "cut {cut}: {err}");
        }
        for at in 0..good.len() - TRAILER_LEN {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            let err = Bundle::parse(bad, "b").unwrap_err();
            assert!(matches!(err, BundleError::Checksum(_)), "byte {at}: {err}");
        }
        // A prefix glued on (or a trailer's sizes edited) no longer adds up.
        let mut longer = b"junk".to_vec();
        longer.extend_from_slice(&good);
        assert!(matches!(
            Bundle::parse(longer, "b").unwrap_err(),
            BundleError::Size { .. }
        ));
    }
}
