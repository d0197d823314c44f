//! Modules written in Python and JavaScript, for the tests and benches:
//! a module directory (`app.py`, `app.js`) built by the library's own build
//! (`consfig::controller::build`), exactly as `consfig deploy` builds one
//! named in Consfig.toml, with the toolchains of [`toolchains_dir`] and the
//! builds kept in `target/consfig-builds`, shared by every test binary. A
//! build takes seconds, so a process builds one module at a time and each
//! once; its compiled code goes into the suite's warm cache.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use consfig::controller::build::built::Builds;
use consfig::controller::build::{Builders, Quiet, build_sources};
use consfig::controller::installation::Installation;

use super::{consfig_bin, repo_root, toolchains_dir, warm};

/// The modules this process has built, by directory.
static BUILT: Mutex<Option<HashMap<PathBuf, PathBuf>>> = Mutex::new(None);

/// Build the module directory `dir` (unless built already), returning its
/// `.wasm`, or the build's error as consfig words it.
pub fn build(dir: &Path) -> Result<PathBuf, String> {
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(wasm) = built.get(dir) {
        return Ok(wasm.clone());
    }
    let builders = Builders {
        toolchains: Some(toolchains_dir()),
        builds: Some(Builds::at(repo_root().join("target/consfig-builds"))),
        ..Builders::from_env(&Installation::of(&consfig_bin()))
    };
    let files = build_sources(&[dir.to_owned()], &builders, &Quiet).map_err(|e| e.to_string())?;
    let [wasm] = &files[..] else {
        panic!("{}: built {files:?}, not one module", dir.display());
    };
    built.insert(dir.to_owned(), wasm.clone());
    Ok(wasm.clone())
}

/// The module in the directory `dir`, built, its compiled code made for the
/// tests' shared cache.
pub fn module_at(dir: &Path) -> PathBuf {
    let wasm = build(dir).unwrap_or_else(|e| panic!("{e}"));
    warm::compile(&wasm);
    wasm
}

/// A module of consfig-wasm/ by its directory's name (`example-python`,
/// `example-js`), built.
pub fn module(dir_name: &str) -> PathBuf {
    module_at(&repo_root().join("consfig-wasm").join(dir_name))
}
