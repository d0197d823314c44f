//! Modules written in JavaScript, built for the tests from their
//! directories (`app.js` importing the SDK as "consfig") as a user's build
//! does: bundled with esbuild, the SDK at `guest-sdk/js/consfig.js`, then
//! made a component with `jco componentize` against `wit/`.
//!
//! A build takes seconds, so each is kept in `target/js-modules`, named by
//! a hash of everything it is made from (the module's `.js` files, the SDK,
//! the WIT and the commands), and its compiled code goes into the suite's
//! warm cache like any module's. The tools are those of the directory
//! `$CONSFIG_JS_TOOLS` (default `/tmp/tc/js/node_modules/.bin`), holding
//! `esbuild` and `jco`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use super::{repo_root, warm};

/// Modules built by this process, by directory: a test binary builds each once.
static BUILT: Mutex<Option<HashMap<PathBuf, PathBuf>>> = Mutex::new(None);

/// Where esbuild and jco are.
pub fn js_tools() -> PathBuf {
    let dir = std::env::var_os("CONSFIG_JS_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/tc/js/node_modules/.bin"));
    for tool in ["esbuild", "jco"] {
        assert!(
            dir.join(tool).exists(),
            "{} is missing: set CONSFIG_JS_TOOLS to a directory holding esbuild and jco \
             (npm install @bytecodealliance/jco@1.35.0 @bytecodealliance/componentize-js@0.23.0 esbuild)",
            dir.join(tool).display()
        );
    }
    dir
}

/// The SDK's entry, which `import ... from "consfig"` names.
pub fn js_sdk() -> PathBuf {
    repo_root().join("guest-sdk/js/consfig.js")
}

/// The JavaScript module of consfig-wasm/NAME (e.g. `example-js`), built.
pub fn js_module(name: &str) -> PathBuf {
    js_module_dir(&repo_root().join("consfig-wasm").join(name))
}

/// The module of the directory `dir` (holding `app.js`), built.
pub fn js_module_dir(dir: &Path) -> PathBuf {
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(wasm) = built.get(dir) {
        return wasm.clone();
    }
    let wasm = build(dir);
    warm::compile(&wasm);
    built.insert(dir.to_owned(), wasm.clone());
    wasm
}

/// The `.js` files directly in `dir`, sorted.
fn js_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "js"))
        .collect();
    files.sort();
    files
}

/// The two commands that build `dir` into `out`, through `bundle`.
fn commands(dir: &Path, bundle: &Path, out: &Path) -> [Command; 2] {
    let tools = js_tools();
    let mut esbuild = Command::new(tools.join("esbuild"));
    esbuild
        .arg(dir.join("app.js"))
        .args([
            "--bundle",
            "--format=esm",
            "--platform=neutral",
            "--external:consfig:*",
            "--log-level=warning",
        ])
        .arg(format!("--alias:consfig={}", js_sdk().display()))
        .arg(format!("--outfile={}", bundle.display()));
    let mut jco = Command::new(tools.join("jco"));
    jco.arg("componentize")
        .arg(bundle)
        .arg("--wit")
        .arg(repo_root().join("wit"))
        .args(["--world-name", "module", "--disable", "all", "-o"])
        .arg(out);
    [esbuild, jco]
}

fn build(dir: &Path) -> PathBuf {
    let sdk = repo_root().join("guest-sdk/js");
    let mut inputs = js_files(dir);
    inputs.push(sdk.join("consfig.js"));
    inputs.extend(js_files(&sdk.join("lib")));
    inputs.push(repo_root().join("wit/consfig.wit"));
    let mut hashed = Vec::new();
    for input in &inputs {
        hashed.extend_from_slice(input.to_string_lossy().as_bytes());
        hashed.push(0);
        hashed.extend_from_slice(&std::fs::read(input).unwrap());
        hashed.push(0);
    }
    let outputs = repo_root().join("target/js-modules");
    std::fs::create_dir_all(&outputs).unwrap();
    let placeholder = Path::new("@");
    for command in commands(dir, placeholder, placeholder) {
        hashed.extend_from_slice(format!("{command:?}").as_bytes());
    }
    let hash = consfig::engine::cache::sha256_hex(&hashed);
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let wasm = outputs.join(format!("{name}-{}.wasm", &hash[..16]));
    if wasm.exists() {
        return wasm;
    }
    // Built under names of this process, then renamed: test binaries
    // building the same module at once each finish with a whole file.
    let scratch = outputs.join(format!(".build-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let partial = scratch.join(format!("{name}.wasm"));
    // Named after the module: stacks name this file.
    let bundle = scratch.join(format!("{name}.js"));
    for mut command in commands(dir, &bundle, &partial) {
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "building the JavaScript module {}: {command:?}: {}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::rename(&partial, &wasm).unwrap();
    let _ = std::fs::remove_dir_all(&scratch);
    wasm
}
