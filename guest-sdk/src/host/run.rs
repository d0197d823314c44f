//! Running commands on the host: a `Command` builder, and the `Output` of a
//! command run to completion.
//!
//! A command says what it does when it is made: [`Command::query`] only
//! looks, so check mode runs it; [`Command::change`] changes the host, so
//! check mode skips it. There is no third way, so no module can forget to
//! choose.

use std::borrow::Cow;
use std::fmt;

use crate::sys;
use crate::{Error, Result};

/// A command to run on the host, built like `std::process::Command`, but
/// made with [`query`](Command::query) (it only looks) or
/// [`change`](Command::change) (it changes the host):
///
/// ```no_run
/// # use consfig_guest::host::Command;
/// let installed = Command::query("dpkg-query").args(["-W", "nginx"]).run()?;
/// let output = Command::change("sh")
///     .args(["-c", "cat > /tmp/greeting"])
///     .stdin("hello\n")
///     .env("LC_ALL", "C")
///     .cwd("/tmp")
///     .run()?;
/// # Ok::<(), consfig_guest::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    argv: Vec<String>,
    stdin: Option<Vec<u8>>,
    env: Vec<(String, String)>,
    cwd: Option<String>,
    /// Made with `query`: check mode runs it.
    query: bool,
}

impl Command {
    /// A command that only looks and changes nothing (`getent`, `dpkg-query`,
    /// `systemctl is-active`), so check mode (`consfig deploy --check`) runs
    /// it too, where the kernel keeps it from changing anything.
    ///
    /// The program is looked up in the host's `PATH` when it has no `/`;
    /// one with a `/` must be an absolute path.
    pub fn query(program: impl Into<String>) -> Self {
        Command::with(program.into(), true)
    }

    /// A command that changes the host (`useradd`, `apt-get install`,
    /// `systemctl reload`). Check mode skips it and reports it skipped,
    /// answering as if it exited 0 with no output.
    ///
    /// The program is looked up as for [`query`](Command::query).
    pub fn change(program: impl Into<String>) -> Self {
        Command::with(program.into(), false)
    }

    fn with(program: String, query: bool) -> Self {
        Command {
            argv: vec![program],
            stdin: None,
            env: Vec::new(),
            cwd: None,
            query,
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.argv.push(arg.into());
        self
    }

    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.argv.extend(args.into_iter().map(Into::into));
        self
    }

    /// Bytes fed to the command's standard input (otherwise `/dev/null`).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// An environment variable, on top of the runtime's environment. The
    /// module needs the grant `env:KEY` for it (`env:*` only with
    /// `command:*`); the dynamic loader's variables (`LD_*`, `GCONV_PATH`, …)
    /// never reach the commands of untrusted modules.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The working directory, an absolute path.
    pub fn cwd(mut self, dir: impl Into<String>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// The program and its arguments.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// Bytes for its standard input, if any.
    pub fn input(&self) -> Option<&[u8]> {
        self.stdin.as_deref()
    }

    /// The environment variables it adds.
    pub fn envs(&self) -> &[(String, String)] {
        &self.env
    }

    /// Its working directory, if set.
    pub fn working_dir(&self) -> Option<&str> {
        self.cwd.as_deref()
    }

    /// Whether the command only looks ([`Command::query`]) rather than
    /// changes the host ([`Command::change`]).
    pub fn is_query(&self) -> bool {
        self.query
    }

    /// Run the command to completion; see [`run`].
    pub fn run(self) -> Result<Output> {
        run(self)
    }

    /// Run the command, which must exit 0: otherwise an error naming the
    /// command line, how it ended and what it wrote on stderr. What it
    /// printed is logged.
    pub fn succeed(self) -> Result<Output> {
        let shown = self.to_string();
        let output = run(self)?;
        if !output.success() {
            return Err(Error::new(format!(
                "{shown}: {}{}",
                output.status(),
                output.stderr_suffix()
            )));
        }
        for text in [output.stdout_str(), output.stderr_str()] {
            if !text.trim().is_empty() {
                super::log::info(text.trim_end());
            }
        }
        Ok(output)
    }
}

impl fmt::Display for Command {
    /// The command line as a shell would read it, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<Cow<str>> = self.argv.iter().map(|a| shell_quote(a)).collect();
        f.write_str(&words.join(" "))
    }
}

fn shell_quote(word: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The exit code, or `None` when the command was killed by a signal.
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    /// Whether the command exited with code 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// `exit code 1`, or `killed by a signal`.
    pub fn status(&self) -> String {
        match self.exit_code {
            Some(code) => format!("exit code {code}"),
            None => "killed by a signal".to_owned(),
        }
    }

    /// `: ` and what the command wrote on stderr, trimmed, to append to a
    /// message about it; empty when it wrote nothing.
    pub fn stderr_suffix(&self) -> String {
        match self.stderr_str().trim() {
            "" => String::new(),
            text => format!(": {text}"),
        }
    }

    /// Standard output as text (invalid UTF-8 replaced).
    pub fn stdout_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }

    /// Standard error as text (invalid UTF-8 replaced).
    pub fn stderr_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }
}

/// Run a command on the host to completion. This fails only when the command
/// could not be started: check [`Output::success`] for how it ended.
pub fn run(command: Command) -> Result<Output> {
    sys::run(&command).map_err(Error::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_commands() {
        let cmd = Command::change("touch")
            .arg("/x")
            .args(["-c"])
            .env("A", "b")
            .cwd("/tmp")
            .stdin("in");
        assert_eq!(cmd.argv(), ["touch", "/x", "-c"]);
        assert_eq!(cmd.envs(), [("A".to_owned(), "b".to_owned())]);
        assert_eq!(cmd.working_dir(), Some("/tmp"));
        assert_eq!(cmd.input(), Some(&b"in"[..]));
        assert!(!cmd.is_query());
        assert!(Command::query("getent").args(["passwd", "ada"]).is_query());
    }

    #[test]
    fn displays_as_a_shell_command_line() {
        let cmd = Command::change("sh").args(["-c", "echo it's > /x", ""]);
        assert_eq!(cmd.to_string(), r"sh -c 'echo it'\''s > /x' ''");
        assert_eq!(
            Command::query("/bin/true").arg("a=b,c").to_string(),
            "/bin/true a=b,c"
        );
    }

    #[test]
    fn describes_output() {
        let out = Output {
            exit_code: Some(0),
            stdout: b"ok\n".to_vec(),
            stderr: vec![0xff],
        };
        assert!(out.success());
        assert_eq!(out.stdout_str(), "ok\n");
        assert_eq!(out.stderr_str(), "\u{fffd}");
        assert_eq!(out.stderr_suffix(), ": \u{fffd}");
        let quiet = Output {
            stderr: b" \n".to_vec(),
            ..out.clone()
        };
        assert_eq!(quiet.stderr_suffix(), "");
        let killed = Output {
            exit_code: None,
            ..out.clone()
        };
        assert!(!killed.success());
        assert_eq!(killed.status(), "killed by a signal");
        assert_eq!(
            Output {
                exit_code: Some(2),
                ..out
            }
            .status(),
            "exit code 2"
        );
    }
}
