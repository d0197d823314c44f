//! Where this Consfig is installed: the `consfig` binary, the runtime
//! every target receives — `consfig-stub`, which is also the start of every
//! bundle (`$CONSFIG_STUB` names another; `$CONSFIG_RUNTIME` another runtime
//! only), and `consfig-stub.ARCH` for each other architecture built — the
//! standard modules in `modules/` (what `consfig apply` uses unless told
//! otherwise, and which modules count as standard, by content hash), and
//! the guest SDK's sources that `consfig new` makes consfigs build with.
//!
//! Two layouts: a build tree, everything beside the binary
//! (`target/release/`, the SDK in the checkout's `guest-sdk/`); and an
//! installation, `PREFIX/bin/consfig` with the rest in `PREFIX/lib/consfig/`
//! (`sdk/guest-sdk/` for the SDK), as `make install` lays it out.

use std::path::{Path, PathBuf};

use crate::engine::architecture::{self, ARCHITECTURES, Architecture};
use crate::engine::cache::sha256_hex;

/// The stub's file name, next to `consfig` (`make` puts it there).
pub const STUB_NAME: &str = "consfig-stub";

/// The library directory of an installation, relative to the binary's
/// directory's parent (`PREFIX`).
pub const LIB_DIR: &str = "lib/consfig";

/// The variable naming the guest SDK's crate directory for `consfig new`.
pub const SDK_VARIABLE: &str = "CONSFIG_SDK";

#[derive(Debug, thiserror::Error)]
pub enum InstallationError {
    #[error("finding the consfig executable: {0}")]
    NoExecutable(std::io::Error),
    #[error(
        "no runtime stub for bundles at {0} (it is built by `make`; set CONSFIG_STUB to use another)"
    )]
    NoStub(String),
    #[error(
        "no runtime for {arch} here (looked for {looked}); runtimes available: {available}. `make` builds them for the architectures in its RUNTIME_ARCHES"
    )]
    NoRuntime {
        arch: String,
        looked: String,
        available: String,
    },
    #[error("no modules given and none installed in {0}: pass --modules")]
    NoModules(String),
    #[error(
        "no standard module named {name} is installed (in {dir}); give a .wasm file's path, or a module directory's (./{name})"
    )]
    NoSuchModule { name: String, dir: String },
    #[error(
        "no guest SDK found (looked in {looked}): set {SDK_VARIABLE} to the guest-sdk directory of a Consfig checkout"
    )]
    NoSdk { looked: String },
    #[error("$CONSFIG_MODULES: {0}")]
    BadModulesVariable(String),
}

#[derive(Debug, Clone)]
pub struct Installation {
    runtime: PathBuf,
    stub: PathBuf,
    /// Where the stubs of other architectures are (`consfig-stub.ARCH`).
    library: PathBuf,
    modules: PathBuf,
    /// Where the SDK's crate may be, in order; the first that is one wins.
    sdk_candidates: Vec<PathBuf>,
}

impl Installation {
    /// The installation of the running `consfig`.
    pub fn current() -> Result<Self, InstallationError> {
        let exe = std::env::current_exe().map_err(InstallationError::NoExecutable)?;
        Ok(Self::of(&exe))
    }

    /// The installation of the `consfig` at `exe`: its stub and standard
    /// modules beside it when either is there (a build tree), else in
    /// `../lib/consfig` when that exists (an installation).
    pub fn of(exe: &Path) -> Self {
        let dir = exe.parent().unwrap_or(Path::new("."));
        let prefix = dir.parent().unwrap_or(Path::new("/"));
        let installed = prefix.join(LIB_DIR);
        let beside = dir.join(STUB_NAME).exists() || dir.join("modules").exists();
        let library = if !beside && installed.is_dir() {
            installed.clone()
        } else {
            dir.to_owned()
        };
        let mut sdk_candidates: Vec<PathBuf> = std::env::var_os(SDK_VARIABLE)
            .map(PathBuf::from)
            .into_iter()
            .collect();
        sdk_candidates.push(installed.join("sdk/guest-sdk"));
        // A build tree: target/release/consfig in the checkout.
        sdk_candidates.push(prefix.parent().unwrap_or(prefix).join("guest-sdk"));
        let stub = std::env::var_os("CONSFIG_STUB")
            .map(PathBuf::from)
            .unwrap_or_else(|| library.join(STUB_NAME));
        Installation {
            runtime: std::env::var_os("CONSFIG_RUNTIME")
                .map(PathBuf::from)
                .unwrap_or_else(|| stub.clone()),
            stub,
            modules: library.join("modules"),
            library,
            sdk_candidates,
        }
    }

    /// The guest SDK's crate directory (`consfig-guest`), absolute:
    /// `$CONSFIG_SDK`, else the installation's `lib/consfig/sdk/guest-sdk`,
    /// else the checkout's `guest-sdk/` when this `consfig` was built there.
    pub fn sdk(&self) -> Result<PathBuf, InstallationError> {
        // $CONSFIG_SDK, when set, is the only candidate that counts.
        let explicit = std::env::var_os(SDK_VARIABLE).is_some();
        let candidates = if explicit {
            &self.sdk_candidates[..1]
        } else {
            &self.sdk_candidates[..]
        };
        candidates
            .iter()
            .find(|dir| dir.join("Cargo.toml").is_file())
            .and_then(|dir| std::fs::canonicalize(dir).ok())
            .ok_or_else(|| InstallationError::NoSdk {
                looked: candidates
                    .iter()
                    .map(|c| c.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The runtime `local` hops start and `ssh://` hops ship to targets of
    /// this machine's architecture: the stub, or the build
    /// `$CONSFIG_RUNTIME` names.
    pub fn runtime(&self) -> &Path {
        &self.runtime
    }

    /// The runtime for targets of `arch` (also their bundles' stub).
    pub fn runtime_for(&self, arch: &Architecture) -> Result<PathBuf, InstallationError> {
        let path = if arch == architecture::native() {
            self.runtime.clone()
        } else {
            self.foreign_stub(arch)
        };
        if path.is_file() {
            return Ok(path);
        }
        Err(self.no_runtime(arch, &path))
    }

    /// The error of a runtime for `arch` that is not at `looked`.
    fn no_runtime(&self, arch: &Architecture, looked: &Path) -> InstallationError {
        InstallationError::NoRuntime {
            arch: arch.name.to_owned(),
            looked: looked.display().to_string(),
            available: self.architectures().join(", "),
        }
    }

    /// The names of the architectures there is a runtime for.
    pub fn architectures(&self) -> Vec<&'static str> {
        ARCHITECTURES
            .iter()
            .filter(|arch| {
                if arch == &architecture::native() {
                    self.runtime.is_file()
                } else {
                    self.foreign_stub(arch).is_file()
                }
            })
            .map(|arch| arch.name)
            .collect()
    }

    fn foreign_stub(&self, arch: &Architecture) -> PathBuf {
        self.library.join(format!("{STUB_NAME}.{}", arch.name))
    }

    pub fn stub(&self) -> &Path {
        &self.stub
    }

    /// The stub's bytes, or why there are none.
    pub fn read_stub(&self) -> Result<Vec<u8>, InstallationError> {
        std::fs::read(&self.stub).map_err(|_| self.no_stub())
    }

    /// The bytes of the stub for bundles that run on `arch`.
    pub fn read_stub_for(&self, arch: &Architecture) -> Result<Vec<u8>, InstallationError> {
        if arch == architecture::native() {
            return self.read_stub();
        }
        let path = self.foreign_stub(arch);
        std::fs::read(&path).map_err(|_| self.no_runtime(arch, &path))
    }

    /// The error of a stub that is not where it should be.
    pub fn no_stub(&self) -> InstallationError {
        InstallationError::NoStub(self.stub.display().to_string())
    }

    pub fn modules_dir(&self) -> &Path {
        &self.modules
    }

    /// The standard modules installed here.
    pub fn standard_modules(&self) -> Result<Vec<PathBuf>, InstallationError> {
        let no_modules = || InstallationError::NoModules(self.modules.display().to_string());
        let mut found: Vec<PathBuf> = std::fs::read_dir(&self.modules)
            .map_err(|_| no_modules())?
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|x| x == "wasm") && path.is_file())
            .collect();
        if found.is_empty() {
            return Err(no_modules());
        }
        found.sort();
        Ok(found)
    }

    /// The modules `consfig apply` uses when none are named: those
    /// `$CONSFIG_MODULES` lists (paths or globs, `:`-separated), or the
    /// standard ones.
    pub fn default_modules(&self) -> Result<Vec<PathBuf>, InstallationError> {
        match std::env::var_os("CONSFIG_MODULES") {
            Some(list) => {
                let patterns: Vec<String> = std::env::split_paths(&list)
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                super::modules::expand_modules(Path::new("."), &patterns, self)
                    .map_err(InstallationError::BadModulesVariable)
            }
            None => self.standard_modules(),
        }
    }

    /// The standard module named `name` (e.g. `cool-web-service`).
    pub fn standard_module(&self, name: &str) -> Result<PathBuf, InstallationError> {
        let file = format!("consfig_{}.wasm", name.replace('-', "_"));
        Some(self.modules.join(file))
            .filter(|path| path.is_file())
            .ok_or_else(|| InstallationError::NoSuchModule {
                name: name.to_owned(),
                dir: self.modules.display().to_string(),
            })
    }

    /// The SHA-256 of each standard module: how a module is recognised as one.
    pub fn standard_hashes(&self) -> Vec<String> {
        self.standard_modules()
            .unwrap_or_default()
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .map(|bytes| sha256_hex(&bytes))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_stub_and_standard_modules_beside_the_binary() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("consfig");
        std::fs::create_dir(dir.path().join("modules")).unwrap();
        let install = Installation::of(&exe);
        if std::env::var_os("CONSFIG_STUB").is_none() {
            assert_eq!(install.stub(), dir.path().join(STUB_NAME));
            assert!(matches!(
                install.read_stub(),
                Err(InstallationError::NoStub(_))
            ));
        }
        if std::env::var_os("CONSFIG_RUNTIME").is_none() {
            assert_eq!(install.runtime(), install.stub(), "the runtime is the stub");
            // No runtime built: none for any architecture, each error
            // naming what was looked for and what there is.
            assert!(install.architectures().is_empty());
            let arm = architecture::by_name("aarch64").unwrap();
            let Err(InstallationError::NoRuntime { arch, looked, .. }) = install.runtime_for(arm)
            else {
                panic!("a runtime for aarch64 where none was built");
            };
            assert_eq!(arch, "aarch64");
            assert_eq!(
                looked,
                dir.path()
                    .join("consfig-stub.aarch64")
                    .display()
                    .to_string()
            );
            std::fs::write(dir.path().join("consfig-stub.aarch64"), b"\x7fELF").unwrap();
            assert_eq!(install.architectures(), ["aarch64"]);
            assert_eq!(install.read_stub_for(arm).unwrap(), b"\x7fELF");
        }
        assert!(matches!(
            install.standard_modules(),
            Err(InstallationError::NoModules(_))
        ));
        std::fs::write(
            dir.path().join("modules/consfig_cool_web_service.wasm"),
            b"w",
        )
        .unwrap();
        std::fs::write(dir.path().join("modules/notes.txt"), b"n").unwrap();
        assert_eq!(
            install.standard_modules().unwrap(),
            [dir.path().join("modules/consfig_cool_web_service.wasm")]
        );
        assert_eq!(
            install.standard_module("cool-web-service").unwrap(),
            dir.path().join("modules/consfig_cool_web_service.wasm")
        );
        assert!(install.standard_module("nope").is_err());
        assert_eq!(install.standard_hashes(), [sha256_hex(b"w")]);
    }

    #[test]
    fn finds_stub_and_standard_modules_in_lib_consfig_of_an_installation() {
        let prefix = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(prefix.path().join("bin")).unwrap();
        std::fs::create_dir_all(prefix.path().join("lib/consfig/modules")).unwrap();
        std::fs::write(
            prefix.path().join("lib/consfig/modules/consfig_file.wasm"),
            b"f",
        )
        .unwrap();
        let install = Installation::of(&prefix.path().join("bin/consfig"));
        if std::env::var_os("CONSFIG_STUB").is_none() {
            assert_eq!(
                install.stub(),
                prefix.path().join("lib/consfig").join(STUB_NAME)
            );
        }
        assert_eq!(
            install.standard_module("file").unwrap(),
            prefix.path().join("lib/consfig/modules/consfig_file.wasm")
        );
        // Modules beside the binary win: a build tree inside a prefix.
        std::fs::create_dir_all(prefix.path().join("bin/modules")).unwrap();
        let install = Installation::of(&prefix.path().join("bin/consfig"));
        assert_eq!(install.modules_dir(), prefix.path().join("bin/modules"));
    }

    #[test]
    fn finds_the_sdk_installed_or_in_the_checkout() {
        if std::env::var_os(SDK_VARIABLE).is_some() {
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let exe = root.path().join("target/release/consfig");
        let e = Installation::of(&exe).sdk().unwrap_err();
        assert!(matches!(e, InstallationError::NoSdk { .. }));
        assert!(e.to_string().contains(SDK_VARIABLE), "{e}");
        std::fs::create_dir_all(root.path().join("guest-sdk")).unwrap();
        std::fs::write(root.path().join("guest-sdk/Cargo.toml"), "").unwrap();
        assert_eq!(
            Installation::of(&exe).sdk().unwrap(),
            std::fs::canonicalize(root.path().join("guest-sdk")).unwrap()
        );
        let installed = root.path().join("usr/lib/consfig/sdk/guest-sdk");
        std::fs::create_dir_all(&installed).unwrap();
        std::fs::write(installed.join("Cargo.toml"), "").unwrap();
        assert_eq!(
            Installation::of(&root.path().join("usr/bin/consfig"))
                .sdk()
                .unwrap(),
            std::fs::canonicalize(installed).unwrap()
        );
    }
}
