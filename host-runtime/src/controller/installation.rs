//! Where this Consfig is installed: the `consfig` binary (which is also the
//! runtime every target receives, unless `$CONSFIG_RUNTIME` names another
//! build of it), the bundle stub beside it
//! (`consfig-stub`, or `$CONSFIG_STUB`), and the standard modules in
//! `modules/` beside it (what `consfig apply` uses unless told otherwise,
//! and which modules count as standard, by content hash).

use std::path::{Path, PathBuf};

use crate::engine::cache::sha256_hex;

/// The stub's file name, next to `consfig` (`make` puts it there).
pub const STUB_NAME: &str = "consfig-stub";

#[derive(Debug, thiserror::Error)]
pub enum InstallationError {
    #[error("finding the consfig executable: {0}")]
    NoExecutable(std::io::Error),
    #[error(
        "no runtime stub for bundles at {0} (it is built by `make`; set CONSFIG_STUB to use another)"
    )]
    NoStub(String),
    #[error("no modules given and none installed in {0}: pass --modules")]
    NoModules(String),
    #[error("no standard module named {0} is installed beside consfig; give the .wasm file's path")]
    NoSuchModule(String),
    #[error("$CONSFIG_MODULES: {0}")]
    BadModulesVariable(String),
}

#[derive(Debug, Clone)]
pub struct Installation {
    runtime: PathBuf,
    stub: PathBuf,
    modules: PathBuf,
}

impl Installation {
    /// The installation of the running `consfig`.
    pub fn current() -> Result<Self, InstallationError> {
        let exe = std::env::current_exe().map_err(InstallationError::NoExecutable)?;
        Ok(Self::of(&exe))
    }

    /// The installation of the `consfig` at `exe`.
    pub fn of(exe: &Path) -> Self {
        let dir = exe.parent().unwrap_or(Path::new("."));
        Installation {
            runtime: std::env::var_os("CONSFIG_RUNTIME")
                .map(PathBuf::from)
                .unwrap_or_else(|| exe.to_owned()),
            stub: std::env::var_os("CONSFIG_STUB")
                .map(PathBuf::from)
                .unwrap_or_else(|| dir.join(STUB_NAME)),
            modules: dir.join("modules"),
        }
    }

    /// The runtime `local` hops start and `ssh://` hops ship: this
    /// `consfig`, or the build `$CONSFIG_RUNTIME` names (one of the same
    /// protocol, e.g. for the targets' architecture).
    pub fn runtime(&self) -> &Path {
        &self.runtime
    }

    pub fn stub(&self) -> &Path {
        &self.stub
    }

    /// The stub's bytes, or why there are none.
    pub fn read_stub(&self) -> Result<Vec<u8>, InstallationError> {
        std::fs::read(&self.stub).map_err(|_| self.no_stub())
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
                super::modules::expand_modules(Path::new("."), &patterns)
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
            .ok_or_else(|| InstallationError::NoSuchModule(name.to_owned()))
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
        if std::env::var_os("CONSFIG_RUNTIME").is_none() {
            assert_eq!(install.runtime(), exe);
        }
        if std::env::var_os("CONSFIG_STUB").is_none() {
            assert_eq!(install.stub(), dir.path().join(STUB_NAME));
            assert!(matches!(
                install.read_stub(),
                Err(InstallationError::NoStub(_))
            ));
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
}
