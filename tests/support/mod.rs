//! What the end-to-end tests share: where the built `consfig` binary and Wasm
//! modules are, and a sandbox (scratch directory + private module cache) to run
//! the binary in, exactly as a user would.
//!
//! `make test` builds everything first; run alone, a test fails (it never
//! skips) and says to build.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn built(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run `make build` (or `make test`) first",
        path.display()
    );
    path
}

/// The release `consfig` binary.
pub fn consfig_bin() -> PathBuf {
    built(repo_root().join("target/release/consfig"))
}

/// A module built from consfig-wasm/, e.g. `module("file")`.
pub fn module(name: &str) -> PathBuf {
    built(repo_root().join(format!(
        "consfig-wasm/target/wasm32-wasip2/release/consfig_{name}.wasm"
    )))
}

/// What one run of `consfig` did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `--json` events, one per line.
    pub fn events(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// The `form` events, in order.
    pub fn forms(&self) -> Vec<Value> {
        self.events().into_iter().filter(|e| e["event"] == "form").collect()
    }

    /// The single event of a kind.
    pub fn event(&self, kind: &str) -> Value {
        let mut found: Vec<_> = self.events().into_iter().filter(|e| e["event"] == kind).collect();
        assert_eq!(found.len(), 1, "expected one {kind} event in {}", self.stdout);
        found.remove(0)
    }

    pub fn statuses(&self) -> Vec<String> {
        self.forms().iter().map(|f| f["status"].as_str().unwrap().to_owned()).collect()
    }
}

/// A scratch directory with its own module cache.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// Run `consfig ARGS` with this sandbox's cache, in this sandbox.
    pub fn consfig(&self, args: &[&str]) -> Run {
        let out = Command::new(consfig_bin())
            .args(args)
            .current_dir(self.path())
            .env("XDG_CACHE_HOME", self.cache())
            .env_remove("CONSFIG_MODULES")
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Write a Consfig.toml using these modules and one local host `box` with these forms
    /// (TOML array elements, e.g. `["file:absent", "/x"]`), plus any extra top-level TOML.
    pub fn write_consfig(&self, modules: &[PathBuf], forms: &[String], extra: &str) -> PathBuf {
        let modules: Vec<String> = modules.iter().map(|m| format!("{:?}", m.display().to_string())).collect();
        let text = format!(
            "modules = [{}]\n{extra}\n[hosts.box]\nconnection = [\"local\"]\nproperties = [\n{}\n]\n",
            modules.join(", "),
            forms.iter().map(|f| format!("  {f},")).collect::<Vec<_>>().join("\n"),
        );
        let path = self.path().join("Consfig.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `consfig deploy --json box` with the Consfig.toml written here.
    pub fn deploy(&self, extra_args: &[&str]) -> Run {
        let mut args = vec!["deploy", "--json"];
        args.extend_from_slice(extra_args);
        args.push("box");
        self.consfig(&args)
    }
}

/// A JSON string literal, for building forms in tests.
pub fn q(s: impl AsRef<str>) -> String {
    serde_json::to_string(s.as_ref()).unwrap()
}

/// Every path under `root`, with file contents, for before/after comparisons.
pub fn snapshot(root: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
                out.push((path, None));
            } else {
                let bytes = std::fs::read(&path).ok();
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}
