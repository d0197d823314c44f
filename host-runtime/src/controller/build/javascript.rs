//! JavaScript modules: a directory holding `app.js` (an ES module; it may
//! import files beside it and packages of its own `node_modules`, and the
//! JS SDK as `consfig`), bundled into one file by esbuild — componentize-js
//! resolves no imports — and made a component of the WIT world `module` by
//! jco (componentize-js), which runs the bundle's top level at build time
//! and snapshots the initialised engine.
//!
//! esbuild runs in the module directory, so its errors name `app.js` and
//! its lines as the user wrote them; the bundle and the component are
//! written in the build's own directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::run::{ToolOutput, tail};

pub struct JsBuild<'a> {
    /// The module directory.
    pub dir: &'a Path,
    /// The SDK's ES module (`guest-sdk/js/consfig.js`), if installed.
    pub sdk: Option<&'a Path>,
    /// The build's own directory.
    pub work: &'a Path,
    pub wit: &'a Path,
}

impl JsBuild<'_> {
    /// The bundle esbuild makes.
    pub fn bundle(&self) -> PathBuf {
        self.work.join("bundle.js")
    }

    /// Where the module lands.
    pub fn output(&self) -> PathBuf {
        self.work.join("module.wasm")
    }

    /// esbuild: `app.js` and what it imports as one ES module; the host's
    /// interfaces (`consfig:module/…`) stay imports, `consfig` is the SDK.
    pub fn bundle_command(&self, esbuild: &Path) -> Command {
        let mut cmd = Command::new(esbuild);
        cmd.args([
            "app.js",
            "--bundle",
            "--format=esm",
            "--platform=neutral",
            "--external:consfig:*",
            "--log-level=warning",
            "--color=false",
        ]);
        if let Some(sdk) = self.sdk {
            cmd.arg(format!("--alias:consfig={}", sdk.display()));
        }
        cmd.arg(format!("--outfile={}", self.bundle().display()))
            .current_dir(self.dir);
        cmd
    }

    /// jco, run by `node`: the bundle made a component.
    pub fn componentize_command(&self, node: &Path, jco: &Path) -> Command {
        let mut cmd = Command::new(node);
        cmd.arg(jco)
            .arg("componentize")
            .arg(self.bundle())
            .arg("--wit")
            .arg(self.wit)
            .args(["--world-name", "module", "--disable", "all", "-o"])
            .arg(self.output())
            .current_dir(self.work)
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0");
        cmd
    }

    /// What went wrong: the end of what the tool said, without jco's own
    /// stack (its frames are node's, never the module's).
    pub fn error(&self, out: &ToolOutput) -> String {
        let said = out.said();
        let kept: Vec<&str> = said
            .lines()
            .filter(|line| !line.starts_with("    at ") && line.trim() != "(jco componentize)")
            .collect();
        tail(&kept.join("\n"), 30, 6000)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    use super::*;

    #[test]
    fn jcos_own_stack_is_left_out() {
        let build = JsBuild {
            dir: Path::new("modules/web"),
            sdk: None,
            work: Path::new("/tmp/b"),
            wit: Path::new("/wit"),
        };
        // As jco 1.35 reports an exception of the bundle's top level.
        let said = "(jco componentize) Error: Failed to initialize component (wizer):\n\
            Exception while evaluating top-level script\n\
            bundle.js:2:7 Error: boom at build\n\
            Stack:\n  @bundle.js:2:7\n\
            \x20   at Module.componentize (file:///x/componentize.js:365:11)\n\
            \x20   at async componentize (file:///x/jco.js:176:29)\n";
        let out = ToolOutput {
            status: ExitStatus::from_raw(1 << 8),
            stdout: Vec::new(),
            stderr: said.as_bytes().to_vec(),
        };
        let error = build.error(&out);
        assert!(
            error.contains("bundle.js:2:7 Error: boom at build"),
            "{error}"
        );
        assert!(!error.contains("componentize.js"), "{error}");
    }
}
