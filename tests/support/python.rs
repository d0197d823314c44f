//! Modules written in Python, for the tests: a directory holding `app.py`
//! built with componentize-py against the contract and the Python SDK
//! (guest-sdk/python), as `consfig` builds one named in Consfig.toml.
//!
//! A build takes about 20 s, so each is made once per content: the module
//! file is named after the hash of everything it is built from (the
//! directory, the SDK, the WIT, the tool's version) in
//! `target/python-modules`, written under a temporary name and renamed, so
//! test binaries running at once share it safely.
//!
//! The toolchain is componentize-py (from PyPI) installed in the directory
//! `$CONSFIG_COMPONENTIZE_PY_DIR` (default [`DEFAULT_TOOLCHAIN`]): its
//! `bin/componentize-py`, run with that directory as `PYTHONPATH`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use super::repo_root;

/// Where componentize-py is installed unless `$CONSFIG_COMPONENTIZE_PY_DIR` says.
pub const DEFAULT_TOOLCHAIN: &str = "/tmp/tc/py";

/// The modules this process has built, by directory: one build at a time,
/// and each once (threads wanting the same module wait for the first).
static BUILT: Mutex<Option<HashMap<PathBuf, PathBuf>>> = Mutex::new(None);

fn toolchain() -> PathBuf {
    std::env::var_os("CONSFIG_COMPONENTIZE_PY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_TOOLCHAIN))
}

/// The Python SDK's package directory (holding `consfig/`).
pub fn sdk_dir() -> PathBuf {
    repo_root().join("guest-sdk/python")
}

/// The WIT a module directory is built against: its own `wit/` when it has
/// one (a world `module` including the contract's, plus what else it
/// imports), else the contract.
fn wit_of(dir: &Path) -> PathBuf {
    let own = dir.join("wit");
    if own.is_dir() {
        own
    } else {
        repo_root().join("wit")
    }
}

/// A Python module of consfig-wasm/, by its directory's name (e.g.
/// `example-python`), built if need be, its compiled code made for the
/// tests' shared cache.
pub fn module(dir_name: &str) -> PathBuf {
    module_at(&repo_root().join("consfig-wasm").join(dir_name))
}

/// The Python module in the directory `dir`, built if need be, its compiled
/// code made for the tests' shared cache.
pub fn module_at(dir: &Path) -> PathBuf {
    let wasm = build(dir).unwrap_or_else(|e| panic!("{e}"));
    super::warm::compile(&wasm);
    wasm
}

/// Build the module directory `dir` (unless built already), returning its
/// .wasm, or componentize-py's complaint, naming the directory.
pub fn build(dir: &Path) -> Result<PathBuf, String> {
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(wasm) = built.get(dir) {
        return Ok(wasm.clone());
    }
    let tool = toolchain().join("bin/componentize-py");
    assert!(
        tool.exists(),
        "{} is missing: install componentize-py 0.25.1 there (`pip install --target DIR \
         componentize-py==0.25.1`) or set CONSFIG_COMPONENTIZE_PY_DIR",
        tool.display()
    );
    let wit = wit_of(dir);
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let out_dir = repo_root().join("target/python-modules");
    std::fs::create_dir_all(&out_dir).unwrap();
    let hash = consfig::engine::cache::sha256_hex(&inputs(&[dir, &sdk_dir(), &wit], &tool));
    let wasm = out_dir.join(format!("{name}-{}.wasm", &hash[..16]));
    if wasm.exists() {
        built.insert(dir.to_owned(), wasm.clone());
        return Ok(wasm);
    }
    let partial = out_dir.join(format!(".building-{name}-{}.wasm", std::process::id()));
    let out = Command::new("nice")
        .arg(&tool)
        .arg("-d")
        .arg(&wit)
        .args(["-w", "module", "componentize", "app", "-p"])
        .arg(dir)
        .arg("-p")
        .arg(sdk_dir())
        .arg("-o")
        .arg(&partial)
        .env("PYTHONPATH", toolchain())
        .output()
        .unwrap();
    if !out.status.success() {
        let _ = std::fs::remove_file(&partial);
        return Err(format!(
            "building the Python module {}: {}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::rename(&partial, &wasm).unwrap();
    built.insert(dir.to_owned(), wasm.clone());
    Ok(wasm)
}

/// Every file under `roots` (symlinks followed), with its path, and the
/// tool's version: what a build's result depends on.
fn inputs(roots: &[&Path], tool: &Path) -> Vec<u8> {
    let mut files = Vec::new();
    for root in roots {
        let mut stack = vec![root.to_path_buf()];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                let name = path.file_name().unwrap_or_default();
                if name == "__pycache__" {
                    continue;
                }
                for entry in std::fs::read_dir(&path).unwrap() {
                    stack.push(entry.unwrap().path());
                }
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut bytes = Vec::new();
    for file in files {
        bytes.extend_from_slice(file.to_string_lossy().as_bytes());
        bytes.push(0);
        let contents = std::fs::read(&file).unwrap();
        bytes.extend_from_slice(&(contents.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&contents);
    }
    let version = Command::new(tool)
        .arg("--version")
        .env("PYTHONPATH", toolchain())
        .output()
        .unwrap();
    bytes.extend_from_slice(&version.stdout);
    bytes
}
