//! Bundles: a standalone executable that applies one form when started —
//! Consfig's `image-dumped`, for running a service from a consfig.
//!
//! A bundle is a runtime without compiler (the *stub*, `consfig-stub`) with a
//! payload appended, then a trailer:
//!
//! ```text
//! stub executable | manifest length (u32 LE) | manifest (JSON) | compiled module… | consfig file… | trailer
//! trailer (64 bytes): stub length (u64 LE) | payload length (u64 LE)
//!                     | SHA-256 of everything before the trailer | magic (16 bytes)
//! ```
//!
//! The manifest names the modules (with the hash of their Wasm), the form and
//! the grants; a bundle dumped during a deploy also carries the host's
//! variables and the files of the consfig its form names, which its form
//! reads as it would in the deploy. This file is the format: writing one, and reading one back
//! verified. Starting one is the runtime's (`runtime::bundled`).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use consfig_contract::{Form, Grant};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// The variables of the host it was dumped on.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// Files of the consfig its form names, after the compiled code, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Its path relative to the consfig's Consfig.toml, as forms name it.
    pub path: String,
    pub size: u64,
}

/// What a consfig gave the host a bundle is dumped on, for its form.
#[derive(Debug, Clone, Default)]
pub struct BundleGiven {
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// Files of the consfig by path.
    pub files: Vec<(String, Vec<u8>)>,
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

impl ManifestModule {
    /// Whether this entry is one `assemble` could have written: a module
    /// name, and a SHA-256 in lowercase hex (both are printed and used to
    /// name things).
    fn check(&self) -> Result<(), String> {
        if !consfig_contract::name::is_name(&self.name) {
            return Err(format!("{:?} is not a module name", self.name));
        }
        let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if self.sha256.len() != 64 || !self.sha256.bytes().all(hex) {
            return Err(format!(
                "module {}: {:?} is not a SHA-256 in hex",
                self.name, self.sha256
            ));
        }
        Ok(())
    }
}

/// A module to put in a bundle.
pub struct BundleModule {
    pub name: String,
    pub sha256: String,
    pub compiled: Vec<u8>,
}

/// The bytes of a bundle for `arch`: `stub`, then the payload, then the trailer.
pub fn assemble(
    arch: &str,
    stub: &[u8],
    form: &Form,
    grants: &[Grant],
    modules: &[BundleModule],
    given: &BundleGiven,
) -> Vec<u8> {
    let manifest = Manifest {
        format: FORMAT,
        consfig: env!("CARGO_PKG_VERSION").to_owned(),
        architecture: arch.to_owned(),
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
        vars: given.vars.clone(),
        files: (given.files.iter())
            .map(|(path, bytes)| ManifestFile {
                path: path.clone(),
                size: bytes.len() as u64,
            })
            .collect(),
    };
    let manifest = serde_json::to_vec(&manifest).expect("a manifest always serializes");
    let code: usize = modules.iter().map(|m| m.compiled.len()).sum::<usize>()
        + given.files.iter().map(|(_, b)| b.len()).sum::<usize>();
    let mut bytes = Vec::with_capacity(stub.len() + 4 + manifest.len() + code + TRAILER_LEN);
    bytes.extend_from_slice(stub);
    bytes.extend_from_slice(&(manifest.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&manifest);
    for module in modules {
        bytes.extend_from_slice(&module.compiled);
    }
    for (_, file) in &given.files {
        bytes.extend_from_slice(file);
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
    /// Where each file of the consfig lies in `bytes`.
    files: Vec<std::ops::Range<usize>>,
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
        // The sizes add up to the file's length (checked above), so the stub
        // lies within the body; every offset below is checked, as a bundle's
        // sizes are what its maker wrote, checksum or not.
        let stub_len = stub_len as usize;
        let payload = &body[stub_len..];
        let manifest_len = payload
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize)
            .ok_or_else(|| bad("payload too short".into()))?;
        let manifest_bytes = 4usize
            .checked_add(manifest_len)
            .and_then(|end| payload.get(4..end))
            .ok_or_else(|| bad("manifest runs past the payload".into()))?;
        let manifest: Manifest =
            serde_json::from_slice(manifest_bytes).map_err(|e| bad(e.to_string()))?;
        if manifest.format != FORMAT {
            return Err(bad(format!(
                "format {} (this Consfig reads format {FORMAT})",
                manifest.format
            )));
        }
        for module in &manifest.modules {
            module.check().map_err(bad)?;
        }
        let form =
            Form::from_value(manifest.form.clone()).map_err(|e| bad(format!("form: {e}")))?;
        let mut at = stub_len + 4 + manifest_len;
        let mut code = Vec::new();
        for module in &manifest.modules {
            let end = usize::try_from(module.compiled_size)
                .ok()
                .and_then(|size| at.checked_add(size))
                .filter(|&end| end <= body.len())
                .ok_or_else(|| {
                    bad(format!(
                        "module {}: {} bytes of code from offset {at} run past the payload, which ends at {}",
                        module.name,
                        module.compiled_size,
                        body.len()
                    ))
                })?;
            code.push(at..end);
            at = end;
        }
        let mut files = Vec::new();
        for file in &manifest.files {
            let path = &file.path;
            if path.is_empty() || path.starts_with('/') || path.contains('\0') {
                return Err(bad(format!("{path:?} is not a path of a consfig file")));
            }
            let end = usize::try_from(file.size)
                .ok()
                .and_then(|size| at.checked_add(size))
                .filter(|&end| end <= body.len())
                .ok_or_else(|| bad(format!("file {path}: runs past the payload")))?;
            files.push(at..end);
            at = end;
        }
        if at != body.len() {
            return Err(bad(format!(
                "{} bytes after the last module and file",
                body.len() - at
            )));
        }
        Ok(Bundle {
            manifest,
            form,
            stub_len,
            bytes,
            code,
            files,
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

    /// The files of the consfig it carries, by path.
    pub fn files(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        (self.manifest.files.iter())
            .zip(&self.files)
            .map(|(file, range)| (file.path.clone(), self.bytes[range.clone()].to_vec()))
            .collect()
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
            self.form.summary(),
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
        if !self.manifest.vars.is_empty() {
            let names: Vec<&str> = self.manifest.vars.keys().map(String::as_str).collect();
            text.push_str(&format!("  variables: {}\n", names.join(", ")));
        }
        for file in &self.manifest.files {
            text.push_str(&format!(
                "  file of the consfig {:?}: {} bytes\n",
                file.path, file.size
            ));
        }
        text
    }
}

/// The length of the stub a bundle file starts with, read from its
/// trailer; None when the file is no bundle (or too short to be one).
pub fn stub_length(file: &File) -> Option<u64> {
    let len = file.metadata().ok()?.len();
    let mut tail = [0u8; TRAILER_LEN];
    file.read_exact_at(&mut tail, len.checked_sub(TRAILER_LEN as u64)?)
        .ok()?;
    Trailer::decode(&tail)
        .map(|trailer| trailer.stub_len)
        .filter(|&stub_len| stub_len <= len - TRAILER_LEN as u64)
}

/// The exit status of a bundle whose payload cannot be used.
pub const EXIT_BAD_BUNDLE: i32 = 125;
/// The exit status of a bundle whose form failed.
pub const EXIT_FORM_FAILED: i32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let form = Form::parse(r#"["web:start-server", 8080]"#).unwrap();
        let grants = consfig_contract::parse_grants(&["net:127.0.0.1:8080"]).unwrap();
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
        assemble(
            "x86_64",
            b"\x7fELF stub",
            &form,
            &grants,
            &modules,
            &BundleGiven::default(),
        )
    }

    #[test]
    fn carries_the_hosts_variables_and_files_after_the_code() {
        let form = Form::parse(r#"["web:start-server", 8080]"#).unwrap();
        let given = BundleGiven {
            vars: [("port".to_owned(), serde_json::json!(8080))]
                .into_iter()
                .collect(),
            files: vec![
                ("conf/app.ini".to_owned(), b"[app]\n".to_vec()),
                ("logo.png".to_owned(), vec![0x89, b'P', 0]),
            ],
        };
        let module = BundleModule {
            name: "web".into(),
            sha256: "ab".repeat(32),
            compiled: b"compiled web".to_vec(),
        };
        let bytes = assemble(
            "x86_64",
            b"stub",
            &form,
            &[],
            std::slice::from_ref(&module),
            &given,
        );
        let bundle = Bundle::parse(bytes, "b").unwrap();
        assert_eq!(bundle.manifest.vars["port"], 8080);
        assert_eq!(bundle.files().into_iter().collect::<Vec<_>>(), given.files);
        assert_eq!(bundle.compiled().next().unwrap().1, b"compiled web");
        let info = bundle.describe();
        assert!(
            info.contains("variables: port") && info.contains("\"conf/app.ini\": 6 bytes"),
            "{info}"
        );
        // Without any, the manifest is as it always was.
        let plain = String::from_utf8_lossy(&sample()).into_owned();
        assert!(!plain.contains("\"vars\"") && !plain.contains("\"files\""));
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

    /// `bundle` with its manifest edited by `edit` and a checksum that
    /// matches again: what a maker of crafted bundles can write.
    fn recrafted(bundle: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let trailer = Trailer::decode(bundle).unwrap();
        let stub_len = trailer.stub_len as usize;
        let payload = &bundle[stub_len..bundle.len() - TRAILER_LEN];
        let manifest_len = u32::from_le_bytes(payload[..4].try_into().unwrap()) as usize;
        let mut manifest: serde_json::Value =
            serde_json::from_slice(&payload[4..4 + manifest_len]).unwrap();
        edit(&mut manifest);
        let manifest = serde_json::to_vec(&manifest).unwrap();
        let mut bytes = bundle[..stub_len].to_vec();
        bytes.extend_from_slice(&(manifest.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&manifest);
        bytes.extend_from_slice(&payload[4 + manifest_len..]);
        let trailer = Trailer {
            stub_len: stub_len as u64,
            payload_len: (bytes.len() - stub_len) as u64,
            checksum: Sha256::digest(&bytes).into(),
        };
        bytes.extend_from_slice(&trailer.encode());
        bytes
    }

    #[test]
    fn refuses_module_sizes_that_wrap_around() {
        let good = sample();
        let code = b"compiled web".len() + b"compiled file code".len();
        // The first size wraps the offset around to just before the code;
        // the second brings it back to the end, so the total adds up.
        let wrapping = recrafted(&good, |manifest| {
            manifest["modules"][0]["compiled_size"] = u64::MAX.into();
            manifest["modules"][1]["compiled_size"] = (code as u64 + 1).into();
        });
        let err = Bundle::parse(wrapping, "b").unwrap_err();
        assert!(
            matches!(&err, BundleError::Manifest { reason, .. }
                if reason.starts_with("module web: 18446744073709551615 bytes of code from offset")),
            "{err}"
        );
        for size in [u64::MAX / 2, (code as u64) + 1, u64::MAX - 20] {
            let bad = recrafted(&good, |manifest| {
                manifest["modules"][1]["compiled_size"] = size.into();
            });
            assert!(
                matches!(
                    Bundle::parse(bad, "b").unwrap_err(),
                    BundleError::Manifest { .. }
                ),
                "{size}"
            );
        }
        // Unedited, the same recrafting reads back.
        assert!(Bundle::parse(recrafted(&good, |_| {}), "b").is_ok());
    }

    #[test]
    fn refuses_module_entries_that_are_not_names_and_hashes() {
        let good = sample();
        // 64 bytes, not all hex: cut at 16 for --info, a character would split.
        let not_hex = format!("a{}a", "é".repeat(31));
        for (field, value, says) in [
            ("name", "web\n\x1b[2K", "is not a module name"),
            ("sha256", not_hex.as_str(), "is not a SHA-256"),
            ("sha256", "AB", "is not a SHA-256"),
        ] {
            let bad = recrafted(&good, |manifest| {
                manifest["modules"][0][field] = value.into();
            });
            let err = Bundle::parse(bad, "b").unwrap_err();
            assert!(err.to_string().contains(says), "{field}: {err}");
        }
    }

    #[test]
    fn finds_the_stub_length_of_a_bundle_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle");
        std::fs::write(&path, sample()).unwrap();
        let file = File::open(&path).unwrap();
        assert_eq!(stub_length(&file), Some(b"\x7fELF stub".len() as u64));
        std::fs::write(&path, b"short").unwrap();
        assert_eq!(stub_length(&File::open(&path).unwrap()), None);
        // A trailer whose stub would be longer than the file is none.
        let mut lying = sample();
        let at = lying.len() - TRAILER_LEN;
        lying[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        std::fs::write(&path, lying).unwrap();
        assert_eq!(stub_length(&File::open(&path).unwrap()), None);
    }
}
