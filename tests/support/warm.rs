//! The suite's warm module cache: the compiled code of the modules the tests
//! use, made once by `consfig describe` into `target/test-module-cache` and
//! copied into a sandbox's own cache before each run. Compiling a module
//! takes about 1.5 s and loading it compiled 0.06 s: without this, every test
//! recompiled every module it used.
//!
//! Only this file writes the shared cache, and only from the pristine module
//! files (by their hash): nothing a test runs ever writes there, so no test
//! sees what another one did, and the code is the same whichever test asked
//! first. Sandboxes get copies, never links, so a test that damages or
//! replaces its cached code damages its own copy. Only the controller's
//! compiled code (and its gzip) is copied, never a target's, so a first
//! deploy still sends what it sends to a cold target. Entries are named by module hash and engine, and written by
//! rename, so runs of several test binaries at once share the directory safely.

use std::collections::HashMap;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use super::{consfig_bin, repo_root};

/// Hashes of the module files compiled into the shared cache by this
/// process, by path: what a sandbox gets copies of.
static COMPILED: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);

/// The shared cache, as XDG_CACHE_HOME.
fn shared_home() -> PathBuf {
    repo_root().join("target/test-module-cache")
}

fn shared_modules() -> PathBuf {
    shared_home().join("consfig/modules")
}

/// Make sure the shared cache holds the compiled code of the module file
/// at `path` (a pristine module of consfig-wasm/).
pub fn compile(path: &Path) {
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    let compiled = compiled.get_or_insert_with(HashMap::new);
    if compiled.contains_key(path) {
        return;
    }
    let bytes = std::fs::read(path).unwrap();
    let sha256 = consfig::engine::cache::sha256_hex(&bytes);
    let out = Command::new(consfig_bin())
        .arg("describe")
        .arg(path)
        .env("XDG_CACHE_HOME", shared_home())
        .env_remove("CONSFIG_MODULES")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "compiling {} into the tests' shared cache {}: {}",
        path.display(),
        shared_home().display(),
        String::from_utf8_lossy(&out.stderr)
    );
    pack(&sha256);
    compiled.insert(path.to_owned(), sha256);
}

/// Keep the gzip of the module's compiled code beside it, as a deploy
/// does when it first ships the code: made once here rather than in every
/// test that deploys it.
fn pack(sha256: &str) {
    for entry in std::fs::read_dir(shared_modules()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let packed = path.with_file_name(format!("{name}.gz"));
        if !(name.starts_with(sha256) && name.ends_with(".cwasm")) || packed.exists() {
            continue;
        }
        let partial = path.with_file_name(format!(".packing-{name}.gz"));
        let done = Command::new("sh")
            .arg("-c")
            .arg(r#"gzip -9 -c "$1" > "$2" && mv "$2" "$3""#)
            .arg("sh")
            .args([&path, &partial, &packed])
            .status()
            .unwrap();
        assert!(done.success(), "gzip of {}", path.display());
    }
}

/// The hash of the code compiled for this machine from the module file at
/// `path` (a pristine module of consfig-wasm/): what a runtime here caches
/// it as.
pub fn code_hash(path: &Path) -> String {
    compile(path);
    let sha256 = consfig::engine::cache::sha256_hex(&std::fs::read(path).unwrap());
    let native = consfig::engine::architecture::native();
    let engine = consfig::engine::engine_id(&consfig::engine::compiler_for(native).unwrap());
    let code = shared_modules().join(format!("{sha256}.{engine}.cwasm"));
    consfig::engine::cache::sha256_hex(&std::fs::read(code).unwrap())
}

/// Make sure the shared cache holds the compiled code of every standard
/// module beside the binary, which `consfig apply` loads.
pub fn standard_modules() {
    let dir = repo_root().join("target/release/modules");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name
            .strip_prefix("consfig_")
            .and_then(|n| n.strip_suffix(".wasm"))
        {
            crate::module(module);
        }
    }
}

/// Copy the compiled code of every module compiled so far into the cache at
/// `cache` (`$XDG_CACHE_HOME/consfig`), where it is not there yet.
pub fn seed(cache: &Path) {
    let hashes: Vec<String> = COMPILED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .flat_map(|map| map.values().cloned())
        .collect();
    if hashes.is_empty() {
        return;
    }
    let into = cache.join("modules");
    // As the runtime makes it: only its user may write compiled code there.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&into)
        .unwrap();
    for entry in std::fs::read_dir(shared_modules()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = (name.ends_with(".cwasm") || name.ends_with(".cwasm.gz"))
            && hashes.iter().any(|h| {
                name.strip_prefix(h.as_str())
                    .is_some_and(|r| r.starts_with('.'))
            });
        let target = into.join(name);
        if !ours || target.exists() {
            continue;
        }
        // Copied under a temporary name, then renamed: a cache never holds
        // a partial entry under its final name.
        let partial = into.join(format!(".seeding-{name}"));
        std::fs::copy(entry.path(), &partial).unwrap();
        std::fs::rename(&partial, &target).unwrap();
    }
}
