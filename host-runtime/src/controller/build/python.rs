//! Python modules: a directory holding `app.py` (its entry; other files
//! beside it may be imported), built with componentize-py against the WIT
//! world `module`, with the Python SDK (`guest-sdk/python`) importable as
//! `consfig`. componentize-py imports the app at build time and snapshots
//! the initialised interpreter, so the app's top level runs here, now.
//!
//! The module's and the SDK's files are copied into the build's own
//! directory first: the interpreter writes `__pycache__` beside what it
//! imports, and nothing is written into the user's directory. Inside the
//! build, the two are `/0` and `/1`; a traceback names them as the files
//! they were copied from.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::run::{ToolOutput, tail};

/// The module a build leaves, and the tool's words if it failed.
pub struct PythonBuild<'a> {
    /// The module directory, as the user named it.
    pub dir: &'a Path,
    /// The Python SDK's directory (holding the `consfig` package).
    pub sdk: &'a Path,
    /// The build's own directory, holding `module/` and `sdk/` copies.
    pub work: &'a Path,
    pub wit: &'a Path,
}

impl PythonBuild<'_> {
    /// Where the module lands.
    pub fn output(&self) -> PathBuf {
        self.work.join("module.wasm")
    }

    /// The command that builds it: componentize-py run by `python3`,
    /// with nothing on its path but the toolchain in `toolchain`.
    pub fn command(&self, python3: &Path, componentize_py: &Path, toolchain: &Path) -> Command {
        let mut cmd = Command::new(python3);
        cmd.arg(componentize_py)
            .arg("-d")
            .arg(self.wit)
            .args(["-w", "module", "componentize", "app", "-p"])
            .arg(self.work.join("module"))
            .arg("-p")
            .arg(self.work.join("sdk"))
            .arg("-o")
            .arg(self.output())
            .current_dir(self.work)
            .env("PYTHONPATH", toolchain)
            .env("PYTHONNOUSERSITE", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            // Its error, not where in componentize-py's Rust it surfaced.
            .env("RUST_BACKTRACE", "0");
        cmd
    }

    /// What went wrong, from componentize-py's output: the Python
    /// traceback alone when there is one (the app's file and line, named
    /// as the user's files), else the end of what it said.
    pub fn error(&self, out: &ToolOutput) -> String {
        let said = out.said();
        let text = match said.find("AssertionError: ") {
            Some(at) => {
                let rest = &said[at + "AssertionError: ".len()..];
                rest.split("\n\nCaused by:").next().unwrap_or(rest)
            }
            None => &said,
        };
        let named = text
            .replace("\"/0/", &format!("\"{}/", self.dir.display()))
            .replace("\"/1/", &format!("\"{}/", self.sdk.display()));
        tail(&named, 40, 6000)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    use super::*;

    fn failed(stderr: &str) -> ToolOutput {
        ToolOutput {
            status: ExitStatus::from_raw(1 << 8),
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_traceback_names_the_users_files_and_lines() {
        let build = PythonBuild {
            dir: Path::new("modules/web"),
            sdk: Path::new("/usr/lib/consfig/sdk/guest-sdk/python"),
            work: Path::new("/tmp/b"),
            wit: Path::new("/wit"),
        };
        // As componentize-py 0.25.1 reports an exception of the app's top level.
        let said = r#"Traceback (most recent call last):
  File "/root/.cache/consfig/toolchains/componentize-py-0.25.1/bin/componentize-py", line 8, in <module>
    sys.exit(script())
             ^^^^^^^^
AssertionError: Traceback (most recent call last):
  File "/0/app.py", line 2, in <module>
    import helper
  File "/1/consfig/__init__.py", line 9, in <module>
    raise ValueError("boom at build")
ValueError: boom at build


Caused by:
    ValueError: boom at build
"#;
        assert_eq!(
            build.error(&failed(said)),
            r#"Traceback (most recent call last):
  File "modules/web/app.py", line 2, in <module>
    import helper
  File "/usr/lib/consfig/sdk/guest-sdk/python/consfig/__init__.py", line 9, in <module>
    raise ValueError("boom at build")
ValueError: boom at build"#
        );
        // Anything else: what it said, as it said it.
        assert_eq!(
            build.error(&failed("error: no such world\n")),
            "error: no such world"
        );
    }
}
