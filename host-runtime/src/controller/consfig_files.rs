//! Files of the consfig sent to its hosts. Every string in a host's forms
//! that is a relative path naming a regular file beneath the consfig's
//! directory (Consfig.toml's) is sent to that host, for `consfig-file` to
//! read there: a template, a file to copy. Paths are resolved — `..` and
//! symlinks followed — and a file that lies outside the directory is never
//! sent, whatever the form says. Files the consfig names as secrets or keys
//! (a host's `data`, `identity-file`, `sudo-password-file`, `su-password-file`) are refused:
//! those never travel as plain files.
//!
//! Each file is read once for all hosts, identified by the SHA-256 of its
//! bytes and compressed for the wire once, as modules are; a target caches
//! them and is sent only those it lacks.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::consfig_file::{Consfig, Host};
use crate::engine::cache::sha256_hex;
use crate::sandbox::policy::{normal_path, show_bytes};
use crate::wire::protocol::MAX_FRAME;

#[derive(Debug, thiserror::Error)]
pub enum ConsfigFilesError {
    #[error("{consfig}: its directory: {source}")]
    Base {
        consfig: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{consfig}:{line}: host {host}: {path:?} names {what}, which is never sent to a host as a file of the consfig (secrets travel as data: see file:data-uploaded)"
    )]
    Secret {
        consfig: PathBuf,
        line: usize,
        host: String,
        path: String,
        what: String,
    },
    #[error("{consfig}:{line}: host {host}: file {path}: {source}")]
    Read {
        consfig: PathBuf,
        line: usize,
        host: String,
        path: String,
        source: std::io::Error,
    },
    #[error("{consfig}:{line}: host {host}: file {path} is {} bytes, more than the {} a file of the consfig may be", size, show_bytes(*limit as u64))]
    TooLarge {
        consfig: PathBuf,
        line: usize,
        host: String,
        path: String,
        size: u64,
        limit: usize,
    },
}

/// One file's bytes as sent: its hash, and its gzip made once when first needed.
#[derive(Debug)]
pub struct ConsfigFile {
    pub bytes: Vec<u8>,
    pub sha256: String,
    compressed: OnceLock<Vec<u8>>,
}

impl ConsfigFile {
    pub fn new(bytes: Vec<u8>) -> Self {
        ConsfigFile {
            sha256: sha256_hex(&bytes),
            bytes,
            compressed: OnceLock::new(),
        }
    }

    pub fn compressed(&self) -> &[u8] {
        self.compressed.get_or_init(|| {
            let mut gz = GzEncoder::new(Vec::new(), Compression::best());
            gz.write_all(&self.bytes).expect("writing to memory");
            gz.finish().expect("writing to memory")
        })
    }
}

/// A host's files of the consfig, by the path its forms name them by
/// (normalised: `./a` is `a`).
pub type HostFiles = BTreeMap<String, Arc<ConsfigFile>>;

/// The largest file of the consfig: one frame of the wire.
pub const MAX_FILE: usize = MAX_FRAME;

/// Reads the files of a consfig for its hosts, each file once.
pub struct ConsfigFiles<'c> {
    consfig: &'c Consfig,
    /// The consfig's directory, resolved.
    base: PathBuf,
    /// Secrets and keys named in Consfig.toml, resolved, with what they are.
    secrets: Vec<(PathBuf, String)>,
    read: BTreeMap<PathBuf, Arc<ConsfigFile>>,
}

impl<'c> ConsfigFiles<'c> {
    pub fn new(consfig: &'c Consfig) -> Result<Self, ConsfigFilesError> {
        let dir = consfig.path.parent().unwrap_or(Path::new("."));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let base = dir
            .canonicalize()
            .map_err(|source| ConsfigFilesError::Base {
                consfig: consfig.path.clone(),
                source,
            })?;
        let mut secrets = Vec::new();
        for host in consfig.hosts.values() {
            let name = &host.name;
            let named = (host.data.iter())
                .filter_map(|(key, source)| {
                    Some((source.file()?, format!("host {name}'s data {key}")))
                })
                .chain(
                    (host.identity_file.as_deref())
                        .map(|path| (path, format!("host {name}'s identity-file"))),
                )
                .chain(
                    (host.sudo_password_file.as_deref())
                        .map(|path| (path, format!("host {name}'s sudo-password-file"))),
                )
                .chain(
                    (host.su_password_file.as_deref())
                        .map(|path| (path, format!("host {name}'s su-password-file"))),
                );
            for (path, what) in named {
                if let Ok(path) = path.canonicalize() {
                    secrets.push((path, what));
                }
            }
        }
        Ok(ConsfigFiles {
            consfig,
            base,
            secrets,
            read: BTreeMap::new(),
        })
    }

    /// The files `host`'s forms name.
    pub fn of_host(&mut self, host: &Host) -> Result<HostFiles, ConsfigFilesError> {
        let mut files = HostFiles::new();
        for form in &host.forms {
            let mut strings = Vec::new();
            for arg in form.form.args() {
                strings_in(arg, &mut strings);
            }
            for named in strings {
                let Some(source) = self.names_file(named) else {
                    continue;
                };
                let key = normal_path(named);
                if files.contains_key(&key) {
                    continue;
                }
                if let Some((_, what)) = self.secrets.iter().find(|(s, _)| *s == source) {
                    return Err(ConsfigFilesError::Secret {
                        consfig: self.consfig.path.clone(),
                        line: form.line,
                        host: host.name.clone(),
                        path: named.to_owned(),
                        what: what.clone(),
                    });
                }
                let file = self.read(&source, named, host, form.line)?;
                files.insert(key, file);
            }
        }
        Ok(files)
    }

    /// The file beneath the consfig's directory that `text` names as a
    /// relative path, resolved; none when it names nothing there.
    fn names_file(&self, text: &str) -> Option<PathBuf> {
        let path = Path::new(text);
        if text.is_empty() || text.contains('\0') || !path.is_relative() {
            return None;
        }
        let resolved = self.base.join(path).canonicalize().ok()?;
        (resolved.starts_with(&self.base) && resolved.metadata().ok()?.is_file())
            .then_some(resolved)
    }

    fn read(
        &mut self,
        source: &Path,
        named: &str,
        host: &Host,
        line: usize,
    ) -> Result<Arc<ConsfigFile>, ConsfigFilesError> {
        if let Some(file) = self.read.get(source) {
            return Ok(Arc::clone(file));
        }
        let error = |source| ConsfigFilesError::Read {
            consfig: self.consfig.path.clone(),
            line,
            host: host.name.clone(),
            path: named.to_owned(),
            source,
        };
        let size = source.metadata().map_err(error)?.len();
        if size > MAX_FILE as u64 {
            return Err(ConsfigFilesError::TooLarge {
                consfig: self.consfig.path.clone(),
                line,
                host: host.name.clone(),
                path: named.to_owned(),
                size,
                limit: MAX_FILE,
            });
        }
        let bytes = std::fs::read(source).map_err(error)?;
        let file = Arc::new(ConsfigFile::new(bytes));
        self.read.insert(source.to_owned(), Arc::clone(&file));
        Ok(file)
    }
}

/// Every string in a JSON value, object keys aside.
fn strings_in<'v>(value: &'v serde_json::Value, out: &mut Vec<&'v str>) {
    match value {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        serde_json::Value::Object(object) => object.values().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    /// A consfig in `dir/c` whose host `h` has `properties`; beside it
    /// `dir/secret` and some files of the consfig.
    fn consfig(dir: &Path, properties: &str) -> Consfig {
        let base = dir.join("c");
        std::fs::create_dir_all(base.join("templates")).unwrap();
        std::fs::write(base.join("m.wasm"), b"").unwrap();
        std::fs::write(base.join("templates/motd.j2"), b"hello {{ x }}\n").unwrap();
        std::fs::write(base.join("same.txt"), b"hello {{ x }}\n").unwrap();
        std::fs::write(base.join("db.pw"), b"hunter22").unwrap();
        std::fs::write(dir.join("secret"), b"outside").unwrap();
        let _ = symlink("../secret", base.join("out"));
        let _ = symlink("templates/motd.j2", base.join("in"));
        let _ = symlink("db.pw", base.join("pw-link"));
        Consfig::parse(
            &base.join("Consfig.toml"),
            &format!(
                "modules = [\"*.wasm\"]\n[hosts.h]\nconnection = [\"local\"]\ndata = {{ db = \"db.pw\" }}\nproperties = [\n{properties}\n]\n"
            ),
        )
        .unwrap()
    }

    fn files_of(consfig: &Consfig) -> Result<HostFiles, ConsfigFilesError> {
        ConsfigFiles::new(consfig)?.of_host(&consfig.hosts["h"])
    }

    #[test]
    fn strings_naming_files_beneath_the_consfig_are_sent_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let c = consfig(
            dir.path(),
            r#"["t:x", "./templates/motd.j2", {deep = ["same.txt", "in"]}],
               ["t:y", "templates/motd.j2", "templates", "hello\n", "/etc/passwd", "nope.txt"]"#,
        );
        let files = files_of(&c).unwrap();
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            ["in", "same.txt", "templates/motd.j2"]
        );
        // One read, one hash, for every name of the same bytes.
        assert!(Arc::ptr_eq(&files["in"], &files["templates/motd.j2"]));
        assert_eq!(files["same.txt"].sha256, files["in"].sha256);
        assert_eq!(files["in"].sha256, sha256_hex(b"hello {{ x }}\n"));
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(files["in"].compressed()),
            &mut unzipped,
        )
        .unwrap();
        assert_eq!(unzipped, b"hello {{ x }}\n");
    }

    #[test]
    fn files_outside_the_consfig_are_never_sent() {
        let dir = tempfile::tempdir().unwrap();
        let c = consfig(
            dir.path(),
            r#"["t:x", "../secret", "out", "templates/../../secret", "templates/../same.txt"]"#,
        );
        let files = files_of(&c).unwrap();
        assert_eq!(files.keys().collect::<Vec<_>>(), ["templates/../same.txt"]);
    }

    #[test]
    fn password_files_named_in_a_form_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for setting in ["sudo-password-file", "su-password-file"] {
            std::fs::write(dir.path().join("m.wasm"), b"").unwrap();
            std::fs::write(dir.path().join("login.pw"), b"hunter22").unwrap();
            let c = Consfig::parse(
                &dir.path().join("Consfig.toml"),
                &format!(
                    "modules = [\"*.wasm\"]\n[hosts.h]\nconnection = [\"ssh://h\", \"su\"]\n{setting} = \"login.pw\"\nproperties = [[\"t:copy\", \"/tmp/x\", \"login.pw\"]]\n"
                ),
            )
            .unwrap();
            let e = files_of(&c).unwrap_err().to_string();
            assert!(
                e.contains(&format!("\"login.pw\" names host h's {setting}")),
                "{e}"
            );
        }
    }

    #[test]
    fn secrets_named_in_a_form_are_refused_naming_what_they_are() {
        let dir = tempfile::tempdir().unwrap();
        for named in ["db.pw", "pw-link"] {
            let c = consfig(dir.path(), &format!(r#"["t:copy", "/tmp/x", "{named}"]"#));
            let e = files_of(&c).unwrap_err().to_string();
            assert!(
                e.contains(":6: host h:")
                    && e.contains(&format!("{named:?} names host h's data db"))
                    && e.contains("never sent"),
                "{e}"
            );
        }
    }
}
