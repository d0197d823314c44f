//! The tools that build Python and JavaScript modules, installed on first
//! use into `$CONSFIG_TOOLCHAINS` (default `$XDG_CACHE_HOME/consfig/
//! toolchains`), one directory per tool and version: componentize-py with
//! pip (`componentize-py-0.25.1/`), and jco, componentize-js and esbuild
//! with npm from a package.json and package-lock.json shipped with consfig
//! (`jco-1.35.0/`), so every install is the same.
//!
//! An install is made in a temporary directory beside its place and
//! renamed into it when complete, so an interrupted one leaves nothing
//! under the final name (its leftovers are removed by the next install);
//! and it happens under a lock file, so two consfigs starting at once
//! install once, the second waiting for the first.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::BuildObserver;
use super::run::{RunError, run_tool, tail};

/// The variable naming the directory toolchains are installed in.
pub const TOOLCHAINS_VARIABLE: &str = "CONSFIG_TOOLCHAINS";

/// The version of componentize-py Python modules are built with.
pub const COMPONENTIZE_PY: &str = "0.25.1";
/// The version of jco JavaScript modules are built with (the others are
/// pinned in its package.json).
pub const JCO: &str = "1.35.0";
/// componentize-js, which jco runs.
pub const COMPONENTIZE_JS: &str = "0.23.0";
/// esbuild, which bundles a module before jco makes it a component.
pub const ESBUILD: &str = "0.25.12";

const JS_PACKAGE: &str = include_str!("../../../templates/toolchains/js/package.json");
const JS_LOCK: &str = include_str!("../../../templates/toolchains/js/package-lock.json");

/// Longest an install may take (downloads included).
const INSTALL_TIME: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    #[error(
        "{program} is needed to build {language} modules and could not be run ({source}): install it (on Debian: apt-get install {packages})"
    )]
    Missing {
        program: String,
        language: &'static str,
        packages: &'static str,
        source: io::Error,
    },
    #[error(
        "{program} has no pip, needed to install the tools that build Python modules: install it (on Debian: apt-get install python3-pip)\n{said}"
    )]
    NoPip { program: String, said: String },
    #[error("installing {what} into {} failed ({status}):\n{said}", dir.display())]
    Failed {
        what: String,
        dir: PathBuf,
        status: String,
        said: String,
    },
    #[error("installing {what}: {} is missing after the install", missing.display())]
    Incomplete { what: String, missing: PathBuf },
    #[error("toolchain directory {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("no directory for toolchains: set {TOOLCHAINS_VARIABLE}, XDG_CACHE_HOME or HOME")]
    NoHome,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ToolchainError + '_ {
    move |source| ToolchainError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The programs toolchains are installed and run with: `python3`, `node`
/// and `npm` from PATH.
#[derive(Debug, Clone)]
pub struct Programs {
    pub python3: PathBuf,
    pub node: PathBuf,
    pub npm: PathBuf,
}

impl Default for Programs {
    fn default() -> Self {
        Programs {
            python3: "python3".into(),
            node: "node".into(),
            npm: "npm".into(),
        }
    }
}

/// Which toolchain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// componentize-py, for Python modules.
    Python,
    /// jco (componentize-js) and esbuild, for JavaScript modules.
    JavaScript,
}

impl Kind {
    /// Its directory's name: the tool and its version.
    pub fn dir_name(self) -> String {
        match self {
            Kind::Python => format!("componentize-py-{COMPONENTIZE_PY}"),
            Kind::JavaScript => format!("jco-{JCO}"),
        }
    }

    /// What it is, for people.
    pub fn describe(self) -> String {
        match self {
            Kind::Python => format!("componentize-py {COMPONENTIZE_PY}"),
            Kind::JavaScript => {
                format!("jco {JCO} with componentize-js {COMPONENTIZE_JS} and esbuild {ESBUILD}")
            }
        }
    }

    /// What it is, exactly: every version that can change a build.
    pub fn identity(self) -> String {
        match self {
            Kind::Python => self.describe(),
            Kind::JavaScript => format!(
                "{}, package-lock.json sha256 {}",
                self.describe(),
                crate::engine::cache::sha256_hex(JS_LOCK.as_bytes())
            ),
        }
    }

    /// The files an install must have made.
    fn expected(self) -> &'static [&'static str] {
        match self {
            Kind::Python => &["bin/componentize-py", "componentize_py/__init__.py"],
            Kind::JavaScript => &["node_modules/.bin/jco", "node_modules/.bin/esbuild"],
        }
    }
}

/// An installed toolchain.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub kind: Kind,
    pub dir: PathBuf,
}

impl Toolchain {
    /// componentize-py's script (run with python3, the install on PYTHONPATH).
    pub fn componentize_py(&self) -> PathBuf {
        self.dir.join("bin/componentize-py")
    }

    /// jco's script (run with node).
    pub fn jco(&self) -> PathBuf {
        self.dir.join("node_modules/.bin/jco")
    }

    /// esbuild (a program, or node's script starting it).
    pub fn esbuild(&self) -> PathBuf {
        self.dir.join("node_modules/.bin/esbuild")
    }
}

/// Where toolchains are installed: `$CONSFIG_TOOLCHAINS`, else
/// `$XDG_CACHE_HOME/consfig/toolchains` (`~/.cache/consfig/toolchains`).
pub fn toolchains_dir() -> Result<PathBuf, ToolchainError> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(TOOLCHAINS_VARIABLE) {
        return Ok(PathBuf::from(dir));
    }
    let cache = match var("XDG_CACHE_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(var("HOME").ok_or(ToolchainError::NoHome)?).join(".cache"),
    };
    Ok(cache.join("consfig/toolchains"))
}

/// The toolchain of `kind` in `root`, installed first when it is not
/// there (saying so to `observer`).
pub fn ensure(
    kind: Kind,
    root: &Path,
    programs: &Programs,
    observer: &dyn BuildObserver,
) -> Result<Toolchain, ToolchainError> {
    let name = kind.dir_name();
    let dir = root.join(&name);
    let toolchain = Toolchain {
        kind,
        dir: dir.clone(),
    };
    if dir.is_dir() {
        return Ok(toolchain);
    }
    fs::create_dir_all(root).map_err(io_error(root))?;
    let lock_path = root.join(format!(".{name}.lock"));
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_error(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            observer.waiting_for_install(&kind.describe(), &lock_path);
            lock.lock().map_err(io_error(&lock_path))?;
        }
        Err(fs::TryLockError::Error(e)) => return Err(io_error(&lock_path)(e)),
    }
    // Installed while this waited for the lock.
    if dir.is_dir() {
        return Ok(toolchain);
    }
    remove_leftovers(root, &name);
    check_programs(kind, programs)?;
    observer.installing_toolchain(&kind.describe(), &dir);
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}-"))
        .tempdir_in(root)
        .map_err(io_error(root))?;
    install(kind, staging.path(), &dir, programs)?;
    for file in kind.expected() {
        let path = staging.path().join(file);
        if !path.exists() {
            return Err(ToolchainError::Incomplete {
                what: kind.describe(),
                missing: dir.join(file),
            });
        }
    }
    let staged = staging.keep();
    fs::rename(&staged, &dir).map_err(|e| {
        let _ = fs::remove_dir_all(&staged);
        io_error(&dir)(e)
    })?;
    drop(lock);
    Ok(toolchain)
}

/// Remove what interrupted installs of `name` left (called under its lock).
fn remove_leftovers(root: &Path, name: &str) {
    let prefix = format!(".{name}-");
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether a program runs: `program ARGS` exits 0.
fn runs(program: &Path, args: &[&str]) -> Result<Result<(), String>, io::Error> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    match run_tool(&mut cmd, Duration::from_secs(60)) {
        Ok(out) if out.status.success() => Ok(Ok(())),
        Ok(out) => Ok(Err(tail(&out.said(), 5, 1000))),
        Err(RunError::Spawn(e)) => Err(e),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// The error of a program the toolchain of `kind` needs that could not be
/// run, saying which Debian packages bring it.
pub fn missing(kind: Kind, program: &OsStr, source: io::Error) -> ToolchainError {
    let (language, packages) = match kind {
        Kind::Python => ("Python", "python3 python3-pip"),
        Kind::JavaScript => ("JavaScript", "nodejs npm"),
    };
    ToolchainError::Missing {
        program: program.to_string_lossy().into_owned(),
        language,
        packages,
        source,
    }
}

/// Say what to install when a program an install needs is missing.
fn check_programs(kind: Kind, programs: &Programs) -> Result<(), ToolchainError> {
    let works = |program: &Path| {
        runs(program, &["--version"])
            .and_then(|ran| ran.map_err(io::Error::other))
            .map_err(|e| missing(kind, program.as_os_str(), e))
    };
    match kind {
        Kind::Python => {
            let python3 = &programs.python3;
            works(python3)?;
            let pip = runs(python3, &["-m", "pip", "--version"])
                .map_err(|e| missing(kind, python3.as_os_str(), e))?;
            if let Err(said) = pip {
                return Err(ToolchainError::NoPip {
                    program: python3.display().to_string(),
                    said,
                });
            }
        }
        Kind::JavaScript => {
            works(&programs.node)?;
            works(&programs.npm)?;
        }
    }
    Ok(())
}

/// Install the toolchain into `staging` (to become `dir`).
fn install(
    kind: Kind,
    staging: &Path,
    dir: &Path,
    programs: &Programs,
) -> Result<(), ToolchainError> {
    let mut cmd;
    match kind {
        Kind::Python => {
            cmd = Command::new(&programs.python3);
            cmd.args([
                "-m",
                "pip",
                "install",
                "--no-input",
                "--disable-pip-version-check",
            ])
            // Wheels only: installing runs no package's setup code here.
            .args([
                "--only-binary=:all:",
                "--no-warn-script-location",
                "--target",
            ])
            .arg(staging)
            .arg(format!("componentize-py=={COMPONENTIZE_PY}"))
            .current_dir(staging);
        }
        Kind::JavaScript => {
            for (file, text) in [("package.json", JS_PACKAGE), ("package-lock.json", JS_LOCK)] {
                let path = staging.join(file);
                fs::write(&path, text).map_err(io_error(&path))?;
            }
            // `ci`: exactly what the lock file says, or an error; no
            // package's install scripts run here (each tool's binary comes
            // in a package of its platform).
            cmd = Command::new(&programs.npm);
            cmd.args([
                "ci",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])
            .current_dir(staging);
        }
    }
    let what = kind.describe();
    let failed = |status: String, said: String| ToolchainError::Failed {
        what: what.clone(),
        dir: dir.to_owned(),
        status,
        said,
    };
    let out = run_tool(&mut cmd, INSTALL_TIME).map_err(|e| match e {
        RunError::Spawn(source) => missing(kind, cmd.get_program(), source),
        e => failed(e.to_string(), String::new()),
    })?;
    if !out.status.success() {
        return Err(failed(out.status.to_string(), tail(&out.said(), 20, 4000)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Mutex;

    use super::*;

    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[derive(Default)]
    struct Seen(Mutex<Vec<String>>);
    impl BuildObserver for Seen {
        fn installing_toolchain(&self, what: &str, dir: &Path) {
            self.0
                .lock()
                .unwrap()
                .push(format!("installing {what} into {}", dir.display()));
        }
    }

    /// A python3 whose pip "installs" componentize-py by making its files,
    /// counting its installs in `count`.
    fn fake_python(dir: &Path, count: &Path) -> PathBuf {
        script(
            dir,
            "python3",
            &format!(
                r#"case "$*" in
  --version|"-m pip --version") exit 0 ;;
esac
# pip install ... --target DIR componentize-py==V
echo x >> {count}
for a; do prev=$target_next; target_next=; [ "$prev" = 1 ] && target=$a; [ "$a" = --target ] && target_next=1; done
sleep 0.3
mkdir -p "$target/bin" "$target/componentize_py"
touch "$target/bin/componentize-py" "$target/componentize_py/__init__.py""#,
                count = count.display()
            ),
        )
    }

    #[test]
    fn installs_once_under_its_final_name_even_when_two_ask_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let count = dir.path().join("count");
        let programs = Programs {
            python3: fake_python(dir.path(), &count),
            ..Programs::default()
        };
        let root = dir.path().join("toolchains");
        // A leftover of an interrupted install.
        fs::create_dir_all(root.join(".componentize-py-0.25.1-old/bin")).unwrap();
        let seen = Seen::default();
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| ensure(Kind::Python, &root, &programs, &seen).unwrap());
            }
        });
        assert_eq!(fs::read_to_string(&count).unwrap(), "x\n", "installed once");
        let said = seen.0.lock().unwrap().clone();
        assert_eq!(
            said,
            [format!(
                "installing componentize-py 0.25.1 into {}",
                root.join("componentize-py-0.25.1").display()
            )]
        );
        let names: Vec<String> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".lock"))
            .collect();
        assert_eq!(names, ["componentize-py-0.25.1"], "no leftovers");
        let toolchain = ensure(Kind::Python, &root, &programs, &seen).unwrap();
        assert!(toolchain.componentize_py().is_file());
        assert_eq!(fs::read_to_string(&count).unwrap(), "x\n");
    }

    #[test]
    fn a_failed_install_leaves_nothing_and_shows_the_tools_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let programs = Programs {
            python3: script(
                dir.path(),
                "python3",
                r#"case "$*" in --version|"-m pip --version") exit 0 ;; esac
for i in $(seq 1 50); do echo "progress $i"; done
echo "ERROR: No matching distribution found for componentize-py==0.25.1" >&2
exit 1"#,
            ),
            ..Programs::default()
        };
        let root = dir.path().join("toolchains");
        let e = ensure(Kind::Python, &root, &programs, &Seen::default()).unwrap_err();
        assert!(matches!(e, ToolchainError::Failed { .. }), "{e}");
        let text = e.to_string();
        assert!(text.contains("No matching distribution"), "{text}");
        assert!(!text.contains("progress"), "{text}");
        let left: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| !n.to_string_lossy().ends_with(".lock"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn missing_programs_name_the_debian_packages_to_install() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("toolchains");
        let programs = Programs {
            python3: dir.path().join("no-python3"),
            node: dir.path().join("no-node"),
            npm: dir.path().join("no-npm"),
        };
        let e = ensure(Kind::Python, &root, &programs, &Seen::default()).unwrap_err();
        assert!(matches!(e, ToolchainError::Missing { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("apt-get install python3 python3-pip"),
            "{e}"
        );
        let e = ensure(Kind::JavaScript, &root, &programs, &Seen::default()).unwrap_err();
        assert!(e.to_string().contains("apt-get install nodejs npm"), "{e}");

        // A python3 without pip.
        let programs = Programs {
            python3: script(
                dir.path(),
                "python3",
                r#"[ "$1" = --version ] && exit 0
echo "/usr/bin/python3: No module named pip" >&2; exit 1"#,
            ),
            ..programs
        };
        let e = ensure(Kind::Python, &root, &programs, &Seen::default()).unwrap_err();
        assert!(matches!(e, ToolchainError::NoPip { .. }), "{e}");
        assert!(e.to_string().contains("python3-pip"), "{e}");
        assert!(e.to_string().contains("No module named pip"), "{e}");
    }

    #[test]
    fn the_js_toolchain_is_pinned_exactly() {
        let package: serde_json::Value = serde_json::from_str(JS_PACKAGE).unwrap();
        let lock: serde_json::Value = serde_json::from_str(JS_LOCK).unwrap();
        let dependencies = package["dependencies"].as_object().unwrap();
        for (name, version) in dependencies {
            let version = version.as_str().unwrap();
            assert!(
                version.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{name} {version} is not an exact version"
            );
            assert_eq!(
                lock["packages"][format!("node_modules/{name}")]["version"].as_str(),
                Some(version),
                "the lock file pins {name} as package.json does"
            );
        }
        assert_eq!(dependencies["@bytecodealliance/jco"], JCO);
        assert_eq!(
            dependencies["@bytecodealliance/componentize-js"],
            COMPONENTIZE_JS
        );
        assert_eq!(dependencies["esbuild"], ESBUILD);
        assert_eq!(
            package["overrides"]["@bytecodealliance/preview2-shim"],
            dependencies["@bytecodealliance/preview2-shim"]
        );
        assert_eq!(
            lock["packages"][""]["dependencies"],
            package["dependencies"]
        );
    }
}
