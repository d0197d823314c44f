//! Modules built from source. A module entry naming a directory is built
//! before the modules are read, as what the directory holds says: a
//! `Cargo.toml`, a crate, built with cargo ([`cargo`]); an `app.py`, a
//! Python module ([`python`]); an `app.js`, a JavaScript module
//! ([`javascript`]).
//!
//! Python and JavaScript modules are built with toolchains installed once
//! into a cache ([`toolchain`]), each in a temporary directory of its own,
//! and kept by a key over everything that goes into them ([`source_hash`],
//! [`built`]): an unchanged module is not built again, and nothing runs. A
//! module that does not build stops everything, with the tool's own words.

pub mod built;
pub mod cargo;
pub mod javascript;
pub mod python;
pub mod run;
pub mod source_hash;
pub mod toolchain;

use std::path::{Path, PathBuf};
use std::time::Duration;

use built::Builds;
use cargo::{CargoError, RustTools};
use javascript::JsBuild;
use python::PythonBuild;
use run::{RunError, run_tool};
use source_hash::{BuildKey, SourceError, copy_files};
use toolchain::{Programs, Toolchain, ToolchainError};

use super::installation::{Installation, InstallationError};
use crate::engine::cache::CacheError;

/// Longest one build step may take: a module whose top level never ends
/// would otherwise hang the command.
const BUILD_TIME: Duration = Duration::from_secs(10 * 60);

/// What a module directory is, by the file that marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Crate,
    Python,
    JavaScript,
}

impl SourceKind {
    const ALL: [SourceKind; 3] = [
        SourceKind::Crate,
        SourceKind::Python,
        SourceKind::JavaScript,
    ];

    /// The file that makes a directory a module of this kind.
    pub fn marker(self) -> &'static str {
        match self {
            SourceKind::Crate => "Cargo.toml",
            SourceKind::Python => "app.py",
            SourceKind::JavaScript => "app.js",
        }
    }

    pub fn language(self) -> &'static str {
        match self {
            SourceKind::Crate => "Rust",
            SourceKind::Python => "Python",
            SourceKind::JavaScript => "JavaScript",
        }
    }
}

/// The kind of module the directory at `path` holds: none for what is no
/// directory or holds no marker; an error when it holds more than one.
pub fn source_kind(path: &Path) -> Result<Option<SourceKind>, BuildError> {
    if !path.is_dir() {
        return Ok(None);
    }
    let found: Vec<SourceKind> = SourceKind::ALL
        .into_iter()
        .filter(|kind| path.join(kind.marker()).is_file())
        .collect();
    match found[..] {
        [] => Ok(None),
        [kind] => Ok(Some(kind)),
        _ => Err(BuildError::Ambiguous {
            dir: path.to_owned(),
            found: found.iter().map(|k| k.marker()).collect(),
        }),
    }
}

/// Whether `path` is a directory a module is built from (a crate, or one
/// holding `app.py` or `app.js`).
pub fn is_source_dir(path: &Path) -> bool {
    path.is_dir()
        && SourceKind::ALL
            .iter()
            .any(|kind| path.join(kind.marker()).is_file())
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Cargo(#[from] CargoError),
    #[error(
        "module directory {}: it holds {}, and a module directory is one module: keep one of them",
        dir.display(),
        found.join(" and ")
    )]
    Ambiguous {
        dir: PathBuf,
        found: Vec<&'static str>,
    },
    #[error("module directory {}: {source}", dir.display())]
    Sources { dir: PathBuf, source: SourceError },
    #[error("module directory {}: building its {language} module needs consfig's guest SDK: {source}", dir.display())]
    Sdk {
        dir: PathBuf,
        language: &'static str,
        source: InstallationError,
    },
    #[error("module directory {}: {source}", dir.display())]
    Toolchain {
        dir: PathBuf,
        source: ToolchainError,
    },
    #[error("module directory {}: the {language} module does not build ({tool} failed, {status}):\n{said}", dir.display())]
    Failed {
        dir: PathBuf,
        language: &'static str,
        tool: &'static str,
        status: String,
        said: String,
    },
    #[error("module directory {}: running {tool}: {source}", dir.display())]
    Run {
        dir: PathBuf,
        tool: &'static str,
        source: RunError,
    },
    #[error("module directory {}: {what}: {source}", dir.display())]
    Io {
        dir: PathBuf,
        what: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// What a build tells the operator while it runs.
pub trait BuildObserver {
    /// The Rust target is missing, and is being installed.
    fn installing_target(&self, _command: &str) {}
    /// A warning of the compiler, rendered.
    fn warning(&self, _rendered: &str) {}
    /// A toolchain (`what`) is being installed into `dir`, once.
    fn installing_toolchain(&self, _what: &str, _dir: &Path) {}
    /// Another consfig is installing the toolchain; this one waits for it.
    fn waiting_for_install(&self, _what: &str, _lock: &Path) {}
    /// The module in `dir` is being built: no build of these sources is kept.
    fn building(&self, _dir: &Path, _kind: SourceKind) {}
}

/// Observing nothing.
pub struct Quiet;
impl BuildObserver for Quiet {}

/// What builds use: the Rust tools, the programs toolchains run with, the
/// installation (for the SDK and the WIT), where toolchains are installed
/// and where built modules are kept (`None`: as the environment says,
/// looked up only when a Python or JavaScript module is built).
#[derive(Debug, Clone)]
pub struct Builders {
    pub rust: RustTools,
    pub programs: Programs,
    pub installation: Installation,
    pub toolchains: Option<PathBuf>,
    pub builds: Option<Builds>,
}

impl Builders {
    pub fn from_env(installation: &Installation) -> Self {
        Builders {
            rust: RustTools::from_env(),
            programs: Programs::default(),
            installation: installation.clone(),
            toolchains: None,
            builds: None,
        }
    }
}

/// The module files of `paths`: files as they are, and in place of each
/// module directory the Wasm modules built from it.
pub fn build_sources(
    paths: &[PathBuf],
    builders: &Builders,
    observer: &dyn BuildObserver,
) -> Result<Vec<PathBuf>, BuildError> {
    let mut files = Vec::new();
    let mut target_checked = false;
    for path in paths {
        let built = match source_kind(path)? {
            None => vec![path.clone()],
            Some(SourceKind::Crate) => {
                if !target_checked {
                    cargo::ensure_target(&builders.rust, path, observer)?;
                    target_checked = true;
                }
                cargo::build_crate(&builders.rust, path, observer)?
            }
            Some(kind) => vec![build_script(kind, path, builders, observer)?],
        };
        for file in built {
            if !files.contains(&file) {
                files.push(file);
            }
        }
    }
    Ok(files)
}

/// Where the SDK and the WIT of a Python or JavaScript build are.
struct Inputs {
    /// The WIT directory whose world `module` the module is built for.
    wit: PathBuf,
    /// The language's SDK: the Python package's directory, or the JS SDK's
    /// directory.
    sdk: PathBuf,
}

fn inputs(kind: SourceKind, dir: &Path, installation: &Installation) -> Result<Inputs, BuildError> {
    let guest_sdk = installation.sdk().map_err(|source| BuildError::Sdk {
        dir: dir.to_owned(),
        language: kind.language(),
        source,
    })?;
    // A module's own `wit/` (its world including the contract's, and more
    // imports); else the contract: in a checkout and as `make install`
    // lays it out, `wit/` is beside the SDK's crate.
    let own = dir.join("wit");
    let wit = if own.is_dir() {
        own
    } else {
        guest_sdk.parent().unwrap_or(&guest_sdk).join("wit")
    };
    // Absolute: the tools run in the build's own directory.
    let wit = std::fs::canonicalize(&wit).unwrap_or(wit);
    let sdk = guest_sdk.join(match kind {
        SourceKind::JavaScript => "js",
        _ => "python",
    });
    Ok(Inputs { wit, sdk })
}

/// Build the Python or JavaScript module in `dir`, or find it built.
fn build_script(
    kind: SourceKind,
    dir: &Path,
    builders: &Builders,
    observer: &dyn BuildObserver,
) -> Result<PathBuf, BuildError> {
    let Inputs { wit, sdk } = inputs(kind, dir, &builders.installation)?;
    let toolchain_kind = match kind {
        SourceKind::JavaScript => toolchain::Kind::JavaScript,
        _ => toolchain::Kind::Python,
    };
    let sources = |source| BuildError::Sources {
        dir: dir.to_owned(),
        source,
    };
    let mut key = BuildKey::new(&kind.language().to_lowercase(), &toolchain_kind.identity());
    key.add_tree("wit", &wit).map_err(sources)?;
    let sdk_files = key.add_tree("sdk", &sdk).map_err(sources)?;
    let module_files = key.add_tree("module", dir).map_err(sources)?;
    let key = key.finish();
    let builds = match &builders.builds {
        Some(builds) => builds.clone(),
        None => Builds::from_env()?,
    };
    if let Some(built) = builds.get(&key) {
        return Ok(built);
    }

    let toolchain_error = |source| BuildError::Toolchain {
        dir: dir.to_owned(),
        source,
    };
    let root = match &builders.toolchains {
        Some(root) => root.clone(),
        None => toolchain::toolchains_dir().map_err(toolchain_error)?,
    };
    let toolchain = toolchain::ensure(toolchain_kind, &root, &builders.programs, observer)
        .map_err(toolchain_error)?;
    observer.building(dir, kind);
    let io = |what: &str| {
        let what = what.to_owned();
        move |source| BuildError::Io {
            dir: dir.to_owned(),
            what,
            source,
        }
    };
    let work = tempfile::Builder::new()
        .prefix("consfig-build-")
        .tempdir()
        .map_err(io("making a directory to build in"))?;
    let output = match kind {
        SourceKind::JavaScript => build_js(dir, &sdk, &wit, work.path(), &toolchain, builders)?,
        _ => {
            copy_files(dir, &module_files, &work.path().join("module")).map_err(sources)?;
            copy_files(&sdk, &sdk_files, &work.path().join("sdk")).map_err(sources)?;
            let build = PythonBuild {
                dir,
                sdk: &sdk,
                work: work.path(),
                wit: &wit,
            };
            let mut cmd = build.command(
                &builders.programs.python3,
                &toolchain.componentize_py(),
                &toolchain.dir,
            );
            step(kind, dir, "componentize-py", &mut cmd, &toolchain, |out| {
                build.error(out)
            })?;
            build.output()
        }
    };
    builds
        .store(&key, &output)
        .map_err(io("keeping the module built"))
}

fn build_js(
    dir: &Path,
    sdk: &Path,
    wit: &Path,
    work: &Path,
    toolchain: &Toolchain,
    builders: &Builders,
) -> Result<PathBuf, BuildError> {
    let sdk_module = sdk.join("consfig.js");
    // An absolute path, which esbuild needs for an alias.
    let dir_abs = std::fs::canonicalize(dir).map_err(|source| BuildError::Io {
        dir: dir.to_owned(),
        what: "finding it".to_owned(),
        source,
    })?;
    let build = JsBuild {
        dir: &dir_abs,
        sdk: sdk_module.is_file().then_some(sdk_module.as_path()),
        work,
        wit,
    };
    let kind = SourceKind::JavaScript;
    let error = |out: &run::ToolOutput| build.error(out);
    step(
        kind,
        dir,
        "esbuild",
        &mut build.bundle_command(&toolchain.esbuild()),
        toolchain,
        error,
    )?;
    let mut componentize = build.componentize_command(&builders.programs.node, &toolchain.jco());
    step(
        kind,
        dir,
        "jco componentize",
        &mut componentize,
        toolchain,
        error,
    )?;
    Ok(build.output())
}

/// Run one step of a build; its failure, in the tool's words.
fn step(
    kind: SourceKind,
    dir: &Path,
    tool: &'static str,
    cmd: &mut std::process::Command,
    toolchain: &Toolchain,
    error: impl Fn(&run::ToolOutput) -> String,
) -> Result<(), BuildError> {
    let out = run_tool(cmd, BUILD_TIME).map_err(|source| match source {
        RunError::Spawn(e) => BuildError::Toolchain {
            dir: dir.to_owned(),
            source: toolchain::missing(toolchain.kind, cmd.get_program(), e),
        },
        source => BuildError::Run {
            dir: dir.to_owned(),
            tool,
            source,
        },
    })?;
    if !out.status.success() {
        return Err(BuildError::Failed {
            dir: dir.to_owned(),
            language: kind.language(),
            tool,
            status: out.status.to_string(),
            said: error(&out),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_a_module_by_the_file_that_marks_it() {
        let dir = tempfile::tempdir().unwrap();
        let module = dir.path().join("web");
        std::fs::create_dir(&module).unwrap();
        assert_eq!(source_kind(&module).unwrap(), None);
        assert!(!is_source_dir(&module));
        for (marker, kind) in [
            ("Cargo.toml", SourceKind::Crate),
            ("app.py", SourceKind::Python),
            ("app.js", SourceKind::JavaScript),
        ] {
            std::fs::write(module.join(marker), "").unwrap();
            assert_eq!(source_kind(&module).unwrap(), Some(kind), "{marker}");
            assert!(is_source_dir(&module));
            std::fs::remove_file(module.join(marker)).unwrap();
        }
        // A marker that is a directory marks nothing; a file is no directory.
        std::fs::create_dir(module.join("app.py")).unwrap();
        assert_eq!(source_kind(&module).unwrap(), None);
        std::fs::write(dir.path().join("m.wasm"), b"\0asm").unwrap();
        assert_eq!(source_kind(&dir.path().join("m.wasm")).unwrap(), None);
        // Two markers: which module is meant is not guessed.
        std::fs::remove_dir(module.join("app.py")).unwrap();
        std::fs::write(module.join("app.py"), "").unwrap();
        std::fs::write(module.join("app.js"), "").unwrap();
        let e = source_kind(&module).unwrap_err();
        assert!(matches!(e, BuildError::Ambiguous { .. }), "{e}");
        assert!(e.to_string().contains("app.py and app.js"), "{e}");
        assert!(is_source_dir(&module));
    }

    #[test]
    fn files_pass_through_and_only_module_directories_are_built() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("m.wasm");
        std::fs::write(&wasm, b"\0asm").unwrap();
        let not_a_crate = dir.path().join("plain");
        std::fs::create_dir(&not_a_crate).unwrap();
        // No program may run: building anything would fail.
        let builders = Builders {
            rust: RustTools {
                cargo: dir.path().join("no-cargo"),
                rustc: dir.path().join("no-rustc"),
                rustup: dir.path().join("no-rustup"),
            },
            programs: Programs {
                python3: dir.path().join("no-python3"),
                node: dir.path().join("no-node"),
                npm: dir.path().join("no-npm"),
            },
            installation: Installation::of(&dir.path().join("bin/consfig")),
            toolchains: Some(dir.path().join("toolchains")),
            builds: Some(Builds::at(dir.path().join("builds"))),
        };
        let files = build_sources(&[wasm.clone(), wasm.clone()], &builders, &Quiet).unwrap();
        assert_eq!(files, [wasm]);
        std::fs::write(not_a_crate.join("Cargo.toml"), "").unwrap();
        assert!(matches!(
            build_sources(&[not_a_crate], &builders, &Quiet),
            Err(BuildError::Cargo(CargoError::Spawn { .. }))
        ));
    }
}
