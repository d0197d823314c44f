//! Module crates: a module entry naming a crate directory (one holding a
//! `Cargo.toml`) is built with cargo for `wasm32-wasip2`, release profile,
//! before the modules are read. Cargo decides what is up to date;
//! the module files are the `.wasm` artifacts it reports, so nothing here
//! guesses target directories. The Rust target is installed with rustup
//! when it is missing. A crate that does not compile stops everything, with
//! the compiler's diagnostics (file, line, column).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use serde::Deserialize;

use super::BuildObserver;

/// The target modules are built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

#[derive(Debug, thiserror::Error)]
pub enum CargoError {
    #[error("running {program}: {source} (is the Rust toolchain installed? see https://rustup.rs)")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("`{program} {args}` failed ({status})")]
    Tool {
        program: String,
        args: String,
        status: ExitStatus,
    },
    #[error(
        "the Rust target {WASM_TARGET} is not installed ({libdir} is missing) and rustup could not be run to install it ({source}): install {WASM_TARGET} for your toolchain"
    )]
    NoTarget {
        libdir: String,
        source: std::io::Error,
    },
    #[error("module crate {}: does not compile:\n{}", crate_dir.display(), render(diagnostics))]
    Compile {
        crate_dir: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    #[error("module crate {}: cargo build failed ({status}); cargo's messages are above", crate_dir.display())]
    Cargo {
        crate_dir: PathBuf,
        status: ExitStatus,
    },
    #[error(
        "module crate {}: cargo built no Wasm module; give the crate `[lib] crate-type = [\"cdylib\"]`",
        crate_dir.display()
    )]
    NoModule { crate_dir: PathBuf },
    #[error("module crate {}: reading cargo's messages: {source}", crate_dir.display())]
    Messages {
        crate_dir: PathBuf,
        source: std::io::Error,
    },
}

/// The lines of `cargo build --message-format=json` this reads (cargo's
/// documented JSON messages; every other line and field is ignored).
#[derive(Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
enum CargoMessage {
    CompilerArtifact {
        manifest_path: PathBuf,
        target: CargoTarget,
        filenames: Vec<PathBuf>,
    },
    CompilerMessage {
        message: CompilerDiagnostic,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct CargoTarget {
    crate_types: Vec<String>,
}

#[derive(Deserialize)]
struct CompilerDiagnostic {
    message: String,
    /// `error`, `warning`, `error: internal compiler error`, `note`, …
    level: String,
    spans: Vec<CompilerSpan>,
    rendered: Option<String>,
}

#[derive(Deserialize)]
struct CompilerSpan {
    file_name: String,
    line_start: usize,
    column_start: usize,
    is_primary: bool,
}

/// One error of the compiler, where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// As the compiler names it: relative to the crate's workspace.
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The compiler's own rendering (source excerpt, notes), if it gave one.
    pub rendered: Option<String>,
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| match &d.rendered {
            Some(text) => text.trim_end().to_owned(),
            None => format!("{}:{}:{}: error: {}", d.file, d.line, d.column, d.message),
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The programs a build runs: `$CARGO` and `$RUSTC` when set (as cargo sets
/// them for what it runs), else `cargo` and `rustc` from PATH; and `rustup`.
#[derive(Debug, Clone)]
pub struct RustTools {
    pub cargo: PathBuf,
    pub rustc: PathBuf,
    pub rustup: PathBuf,
}

impl RustTools {
    pub fn from_env() -> Self {
        let program = |var: &str, default: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(default))
        };
        RustTools {
            cargo: program("CARGO", "cargo"),
            rustc: program("RUSTC", "rustc"),
            rustup: PathBuf::from("rustup"),
        }
    }
}

fn run_tool(program: &Path, args: &[&str], dir: &Path) -> Result<std::process::Output, CargoError> {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| CargoError::Spawn {
            program: program.display().to_string(),
            source,
        })?;
    if !output.status.success() {
        return Err(CargoError::Tool {
            program: program.display().to_string(),
            args: args.join(" "),
            status: output.status,
        });
    }
    Ok(output)
}

/// Install the Rust target with rustup when the toolchain the crate in
/// `dir` builds with lacks it (asked in `dir`, where a `rust-toolchain`
/// file may choose another toolchain).
pub fn ensure_target(
    tools: &RustTools,
    dir: &Path,
    observer: &dyn BuildObserver,
) -> Result<(), CargoError> {
    let args = ["--print", "target-libdir", "--target", WASM_TARGET];
    let output = run_tool(&tools.rustc, &args, dir)?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if libdir.is_dir() {
        return Ok(());
    }
    let install = ["target", "add", WASM_TARGET];
    observer.installing_target(&format!("{} {}", tools.rustup.display(), install.join(" ")));
    let status = Command::new(&tools.rustup)
        .args(install)
        .current_dir(dir)
        .stdin(Stdio::null())
        // Its progress is for the operator, never on the deploy's stdout.
        .stdout(std::io::stderr())
        .status()
        .map_err(|source| CargoError::NoTarget {
            libdir: libdir.display().to_string(),
            source,
        })?;
    if !status.success() {
        return Err(CargoError::Tool {
            program: tools.rustup.display().to_string(),
            args: install.join(" "),
            status,
        });
    }
    Ok(())
}

/// Build the crate in `crate_dir` (a package, or a workspace and its
/// default members) and give the Wasm modules of its own packages.
pub fn build_crate(
    tools: &RustTools,
    crate_dir: &Path,
    observer: &dyn BuildObserver,
) -> Result<Vec<PathBuf>, CargoError> {
    let crate_dir_abs = std::fs::canonicalize(crate_dir).unwrap_or_else(|_| crate_dir.to_owned());
    let mut child = Command::new(&tools.cargo)
        .args(["build", "--release", "--target", WASM_TARGET])
        .arg("--message-format=json")
        .arg("--manifest-path")
        .arg(crate_dir_abs.join("Cargo.toml"))
        .current_dir(&crate_dir_abs)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Cargo's progress and its own errors (a bad Cargo.toml) go to the operator.
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| CargoError::Spawn {
            program: tools.cargo.display().to_string(),
            source,
        })?;
    let stdout = child.stdout.take().expect("piped");
    let Messages {
        modules,
        errors,
        read_error,
    } = read_messages(BufReader::new(stdout), &crate_dir_abs, observer);
    let status = child.wait().map_err(|source| CargoError::Messages {
        crate_dir: crate_dir.to_owned(),
        source,
    })?;
    if !errors.is_empty() {
        return Err(CargoError::Compile {
            crate_dir: crate_dir.to_owned(),
            diagnostics: errors,
        });
    }
    if !status.success() {
        return Err(CargoError::Cargo {
            crate_dir: crate_dir.to_owned(),
            status,
        });
    }
    if let Some(source) = read_error {
        return Err(CargoError::Messages {
            crate_dir: crate_dir.to_owned(),
            source,
        });
    }
    if modules.is_empty() {
        return Err(CargoError::NoModule {
            crate_dir: crate_dir.to_owned(),
        });
    }
    Ok(modules)
}

/// What a build's messages said.
struct Messages {
    /// The Wasm modules of the crate's own packages.
    modules: Vec<PathBuf>,
    errors: Vec<Diagnostic>,
    read_error: Option<std::io::Error>,
}

/// Read cargo's JSON messages (the build of the crate in `crate_dir`,
/// absolute) to their end: the `.wasm` files of its own packages' cdylib
/// targets, its errors; warnings go to `observer`.
fn read_messages(reader: impl BufRead, crate_dir: &Path, observer: &dyn BuildObserver) -> Messages {
    let mut found = Messages {
        modules: Vec::new(),
        errors: Vec::new(),
        read_error: None,
    };
    for line in reader.lines() {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                found.read_error = Some(e);
                break;
            }
        };
        // Lines that are not cargo's messages (a build script's) are not ours to read.
        let Ok(message) = serde_json::from_str::<CargoMessage>(&line) else {
            continue;
        };
        match message {
            CargoMessage::CompilerArtifact {
                manifest_path,
                target,
                filenames,
            } => {
                let own = manifest_path.starts_with(crate_dir);
                if own && target.crate_types.iter().any(|t| t == "cdylib") {
                    found.modules.extend(
                        filenames
                            .into_iter()
                            .filter(|f| f.extension().is_some_and(|x| x == "wasm")),
                    );
                }
            }
            CargoMessage::CompilerMessage { message } => match message.level.as_str() {
                "warning" => {
                    if let Some(text) = &message.rendered {
                        observer.warning(text);
                    }
                }
                level if level.starts_with("error") => found.errors.push(located(message)),
                _ => {}
            },
            CargoMessage::Other => {}
        }
    }
    found
}

/// A compiler error, at its primary span (or without one).
fn located(diagnostic: CompilerDiagnostic) -> Diagnostic {
    let span = diagnostic.spans.iter().find(|s| s.is_primary);
    Diagnostic {
        file: span.map(|s| s.file_name.clone()).unwrap_or_default(),
        line: span.map_or(0, |s| s.line_start),
        column: span.map_or(0, |s| s.column_start),
        message: diagnostic.message,
        rendered: diagnostic.rendered,
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Mutex;

    use super::*;
    use crate::controller::build::Quiet;

    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[derive(Default)]
    struct Seen(Mutex<Vec<String>>);
    impl BuildObserver for Seen {
        fn installing_target(&self, command: &str) {
            self.0.lock().unwrap().push(command.to_owned());
        }
        fn warning(&self, rendered: &str) {
            self.0.lock().unwrap().push(rendered.to_owned());
        }
    }

    #[test]
    fn cargo_messages_give_the_crates_own_modules_its_errors_and_warnings() {
        let lines = [
            // A dependency's library, and one of its cdylibs: not the crate's.
            r#"{"reason":"compiler-artifact","package_id":"x","manifest_path":"/src/sdk/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"sdk"},"filenames":["/t/libsdk.rlib"],"fresh":true}"#,
            r#"{"reason":"compiler-artifact","package_id":"y","manifest_path":"/src/other/Cargo.toml","target":{"kind":["cdylib"],"crate_types":["cdylib"],"name":"other"},"filenames":["/t/other.wasm"],"fresh":true}"#,
            r#"{"reason":"build-script-executed","package_id":"z","out_dir":"/t/out"}"#,
            "not JSON: a build script's line",
            r#"{"reason":"compiler-message","package_id":"w","target":{"kind":["cdylib"],"crate_types":["cdylib"],"name":"web"},"message":{"message":"unused variable","level":"warning","spans":[],"rendered":"warning: unused variable\n","children":[],"code":null}}"#,
            r#"{"reason":"compiler-message","package_id":"w","target":{"kind":["cdylib"],"crate_types":["cdylib"],"name":"web"},"message":{"message":"mismatched types","level":"error","spans":[{"file_name":"modules/web/src/lib.rs","line_start":7,"line_end":7,"column_start":9,"column_end":11,"is_primary":true,"byte_start":1,"byte_end":2,"text":[],"label":null}],"rendered":"error[E0308]: mismatched types\n --> modules/web/src/lib.rs:7:9\n","children":[],"code":null}}"#,
            // The crate's own: a cdylib and an rlib of the same target.
            r#"{"reason":"compiler-artifact","package_id":"w","manifest_path":"/src/web/Cargo.toml","target":{"kind":["cdylib","rlib"],"crate_types":["cdylib","rlib"],"name":"web"},"filenames":["/t/web.wasm","/t/libweb.rlib"],"fresh":false}"#,
            r#"{"reason":"build-finished","success":false}"#,
        ];
        let seen = Seen::default();
        let found = read_messages(lines.join("\n").as_bytes(), Path::new("/src/web"), &seen);
        assert_eq!(found.modules, [PathBuf::from("/t/web.wasm")]);
        assert_eq!(
            found.errors,
            [Diagnostic {
                file: "modules/web/src/lib.rs".into(),
                line: 7,
                column: 9,
                message: "mismatched types".into(),
                rendered: Some(
                    "error[E0308]: mismatched types\n --> modules/web/src/lib.rs:7:9\n".into()
                ),
            }]
        );
        assert!(found.read_error.is_none());
        assert_eq!(*seen.0.lock().unwrap(), ["warning: unused variable\n"]);
    }

    #[test]
    fn a_missing_target_is_installed_with_rustup_and_said() {
        let dir = tempfile::tempdir().unwrap();
        let libdir = dir.path().join("sysroot/lib/rustlib/wasm32-wasip2/lib");
        let log = dir.path().join("rustup.log");
        let tools = RustTools {
            cargo: "false".into(),
            rustc: script(dir.path(), "rustc", &format!("echo {}", libdir.display())),
            rustup: script(
                dir.path(),
                "rustup",
                &format!(
                    "echo \"$@\" >> {}\nmkdir -p {}",
                    log.display(),
                    libdir.display()
                ),
            ),
        };
        let seen = Seen::default();
        ensure_target(&tools, dir.path(), &seen).unwrap();
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "target add wasm32-wasip2\n"
        );
        assert_eq!(seen.0.lock().unwrap().len(), 1);
        assert!(seen.0.lock().unwrap()[0].ends_with("rustup target add wasm32-wasip2"));
        // Installed now: nothing more is run, nothing said.
        ensure_target(&tools, dir.path(), &seen).unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
        assert_eq!(seen.0.lock().unwrap().len(), 1);
    }

    #[test]
    fn without_rustup_a_missing_target_is_an_error_saying_what_to_install() {
        let dir = tempfile::tempdir().unwrap();
        let tools = RustTools {
            cargo: "false".into(),
            rustc: script(dir.path(), "rustc", "echo /nonexistent/wasm32-wasip2/lib"),
            rustup: dir.path().join("no-rustup"),
        };
        let e = ensure_target(&tools, dir.path(), &Quiet).unwrap_err();
        assert!(matches!(e, CargoError::NoTarget { .. }), "{e}");
        assert!(e.to_string().contains("install wasm32-wasip2"), "{e}");
    }

    #[test]
    fn compile_errors_show_the_compilers_file_and_line() {
        let e = CargoError::Compile {
            crate_dir: "modules/site".into(),
            diagnostics: vec![Diagnostic {
                file: "modules/site/src/lib.rs".into(),
                line: 12,
                column: 5,
                message: "mismatched types".into(),
                rendered: None,
            }],
        };
        assert_eq!(
            e.to_string(),
            "module crate modules/site: does not compile:\nmodules/site/src/lib.rs:12:5: error: mismatched types"
        );
    }
}
