//! Where a host's data comes from, and reading it on the controller before
//! the host is connected to.
//!
//! A data value in Consfig.toml is a path (`"FILE"`, as `{ file = "FILE" }`),
//! a command's output (`{ command = ["pass", "show", "web1/db"] }`) or an
//! environment variable of the controller (`{ env = "DB_PASSWORD" }`). A
//! command runs without a shell, in the consfig's directory, stdin
//! `/dev/null`, in a process group of its own, for at most
//! [`CommandLimits::time`]; its value is its stdout without the trailing
//! newlines, as the shell's `$(...)` takes it. An environment variable's
//! value is its bytes, as they are.
//!
//! A source that cannot be read fails its host only. The error names the key
//! and the source and never the value: a command's stdout is never shown;
//! its stderr is, cut to [`CommandLimits::stderr_shown`] bytes, with the
//! host's data read so far and whatever the command printed on stdout
//! blanked out of it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::controller::own_group;
use crate::host::collect::{Stream, poll_timeout, read_both, wait_for_exit};
use crate::sandbox::policy::{HostData, show_bytes};

/// Where one value of a host's data is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// A file, absolute or relative to the Consfig.toml.
    File(PathBuf),
    /// What a command prints on stdout.
    Command(DataCommand),
    /// An environment variable of the controller.
    Env(String),
}

/// A command whose stdout is a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCommand {
    /// The program and its arguments, as written (for messages).
    pub argv: Vec<String>,
    /// The program to start: a name looked up on PATH, or an absolute path.
    pub program: PathBuf,
    /// Where it runs: the consfig's directory.
    pub dir: PathBuf,
}

/// What a command may take: time, and bytes of stdout kept and of stderr
/// shown.
#[derive(Debug, Clone, Copy)]
pub struct CommandLimits {
    pub time: Duration,
    pub stdout: usize,
    pub stderr_shown: usize,
}

/// A password manager may wait on its agent, but a deploy must not hang.
pub const COMMAND_LIMITS: CommandLimits = CommandLimits {
    time: Duration::from_secs(60),
    stdout: 16 << 20,
    stderr_shown: 4 << 10,
};

/// How a source is written, for messages.
const SOURCES: &str = "a data value is a path \"FILE\", { file = \"FILE\" }, \
{ command = [\"PROGRAM\", \"ARG\", ...] } or { env = \"NAME\" }";

/// Why a data value in Consfig.toml is not a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceSyntaxError {
    #[error("is {found}; {SOURCES}")]
    NotASource { found: String },
    #[error("has {found}; write exactly one of file, command, env ({SOURCES})")]
    NotOneKey { found: String },
    #[error("unknown source {0:?}; {SOURCES}")]
    UnknownKind(String),
    #[error("file must be a path, e.g. {{ file = \"/home/me/secrets/db\" }}")]
    File,
    #[error(
        "command must be a list of strings, the program and its arguments (no shell), e.g. {{ command = [\"pass\", \"show\", \"web1/db\"] }}"
    )]
    Command,
    #[error(
        "command is empty; give at least the program, e.g. {{ command = [\"pass\", \"show\", \"web1/db\"] }}"
    )]
    EmptyCommand,
    #[error("env must be the name of an environment variable, e.g. {{ env = \"DB_PASSWORD\" }}")]
    Env,
    #[error("{what} holds a NUL byte, which no program or variable can take")]
    Nul { what: &'static str },
}

impl DataSource {
    /// The source a data value of Consfig.toml names; `base` is the
    /// consfig's directory.
    pub fn from_toml(value: toml::Value, base: &Path) -> Result<Self, SourceSyntaxError> {
        let table = match value {
            toml::Value::String(path) => return file(path, base),
            toml::Value::Table(table) => table,
            other => {
                let found = other.type_str();
                let article = if found.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                return Err(SourceSyntaxError::NotASource {
                    found: format!("{article} {found}"),
                });
            }
        };
        if table.len() != 1 {
            let found = if table.is_empty() {
                "no key".to_owned()
            } else {
                format!(
                    "keys {}",
                    table.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            return Err(SourceSyntaxError::NotOneKey { found });
        }
        let (kind, value) = table.into_iter().next().expect("one key");
        match (kind.as_str(), value) {
            ("file", toml::Value::String(path)) => file(path, base),
            ("file", _) => Err(SourceSyntaxError::File),
            ("command", toml::Value::Array(items)) => command(items, base),
            ("command", _) => Err(SourceSyntaxError::Command),
            ("env", toml::Value::String(name)) => {
                if name.is_empty() || name.contains('=') {
                    Err(SourceSyntaxError::Env)
                } else if name.contains('\0') {
                    Err(SourceSyntaxError::Nul { what: "env" })
                } else {
                    Ok(DataSource::Env(name))
                }
            }
            ("env", _) => Err(SourceSyntaxError::Env),
            _ => Err(SourceSyntaxError::UnknownKind(kind)),
        }
    }

    /// The file this source reads, if it reads one: a secret no form may
    /// name as a file of the consfig.
    pub fn file(&self) -> Option<&Path> {
        match self {
            DataSource::File(path) => Some(path),
            _ => None,
        }
    }
}

fn file(path: String, base: &Path) -> Result<DataSource, SourceSyntaxError> {
    if path.is_empty() {
        return Err(SourceSyntaxError::File);
    }
    Ok(DataSource::File(base.join(path)))
}

fn command(items: Vec<toml::Value>, base: &Path) -> Result<DataSource, SourceSyntaxError> {
    let argv = items
        .into_iter()
        .map(|item| match item {
            toml::Value::String(s) if s.contains('\0') => {
                Err(SourceSyntaxError::Nul { what: "command" })
            }
            toml::Value::String(s) => Ok(s),
            _ => Err(SourceSyntaxError::Command),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let Some(name) = argv.first() else {
        return Err(SourceSyntaxError::EmptyCommand);
    };
    if name.is_empty() {
        return Err(SourceSyntaxError::EmptyCommand);
    }
    // A consfig's directory given as "" (Consfig.toml in the current one).
    let dir = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    // Absolute, so that where the program is does not depend on the
    // directory it runs in.
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let program = if name.contains('/') {
        dir.join(name)
    } else {
        PathBuf::from(name)
    };
    Ok(DataSource::Command(DataCommand { argv, program, dir }))
}

/// One value that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("data {key}: {source}")]
pub struct DataError {
    pub key: String,
    pub source: SourceError,
}

/// Why a source gave no value. Holds no value: a command's stderr is
/// kept only as shown, blanked.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    File(#[from] SecretFileError),
    #[error("environment variable {name} is not set on the controller")]
    EnvUnset { name: String },
    #[error("command {argv} {failure}{stderr}")]
    Command {
        /// The argv as JSON.
        argv: String,
        failure: CommandFailure,
        stderr: ShownStderr,
    },
}

/// How a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandFailure {
    #[error("could not start: there is no program {program:?} on PATH")]
    NotOnPath { program: String },
    #[error("could not start {}: {source}", program.display())]
    Spawn { program: PathBuf, source: io::Error },
    #[error("exited with status {0}")]
    Exited(i32),
    #[error("was killed by signal {0}")]
    Killed(String),
    #[error("was still running after {} and was killed", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("printed more than {} on stdout and was killed", show_bytes(*.0 as u64))]
    TooMuch(usize),
    #[error("reading its output: {0}")]
    Io(io::Error),
}

/// The start of a command's stderr, blanked; shown after a colon.
#[derive(Debug, Default)]
pub struct ShownStderr(String);

impl fmt::Display for ShownStderr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, ": {}", self.0)
        }
    }
}

/// The most a data file may hold: as much as a command's output.
pub const MAX_FILE_VALUE: u64 = COMMAND_LIMITS.stdout as u64;

/// Why a file of secrets (data, a password) was not read.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: not a regular file (a directory, device or pipe): give the file that holds the value", path.display())]
    NotRegular { path: PathBuf },
    #[error("{}: larger than {}, the most it may hold", path.display(), show_bytes(*limit))]
    TooLarge { path: PathBuf, limit: u64 },
}

/// The bytes of the regular file at `path`, at most `limit` of them. A pipe
/// or a device is refused before it is read (opened without waiting for a
/// writer), so a path to one neither hangs the deploy nor fills its memory.
pub fn read_secret_file(path: &Path, limit: u64) -> Result<Vec<u8>, SecretFileError> {
    use std::os::unix::fs::OpenOptionsExt;
    let failed = |source| SecretFileError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(failed)?;
    if !file.metadata().map_err(failed)?.is_file() {
        return Err(SecretFileError::NotRegular {
            path: path.to_owned(),
        });
    }
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(file, limit + 1), &mut bytes).map_err(failed)?;
    if bytes.len() as u64 > limit {
        return Err(SecretFileError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

/// Read every value of a host's data, in key order; the first that cannot
/// be read is the error.
pub fn read_all(sources: &BTreeMap<String, DataSource>) -> Result<HostData, DataError> {
    read_all_with(sources, &COMMAND_LIMITS)
}

/// [`read_all`], with commands held to `limits`.
pub fn read_all_with(
    sources: &BTreeMap<String, DataSource>,
    limits: &CommandLimits,
) -> Result<HostData, DataError> {
    let mut data = HostData::default();
    for (key, source) in sources {
        let value = read(key, source, &data, limits).map_err(|source| DataError {
            key: key.clone(),
            source,
        })?;
        data.insert(key.clone(), value);
    }
    Ok(data)
}

/// One value; `known` is the host's data read so far, blanked out of what
/// an error shows.
fn read(
    key: &str,
    source: &DataSource,
    known: &HostData,
    limits: &CommandLimits,
) -> Result<Vec<u8>, SourceError> {
    match source {
        DataSource::File(path) => Ok(read_secret_file(path, MAX_FILE_VALUE)?),
        DataSource::Env(name) => std::env::var_os(name)
            .map(OsString::into_vec)
            .ok_or_else(|| SourceError::EnvUnset { name: name.clone() }),
        DataSource::Command(command) => run(command, limits).map_err(|failed| {
            let mut blank = known.clone();
            blank.insert(key.to_owned(), failed.stdout);
            let argv = serde_json::to_string(&command.argv).unwrap_or_default();
            SourceError::Command {
                // A value written into the command itself is no less one.
                argv: blank.redact(&argv),
                failure: failed.failure,
                stderr: shown_stderr(&failed.stderr, &blank),
            }
        }),
    }
}

/// The start of a command's stderr, and how many bytes it printed there.
#[derive(Debug, Default)]
struct Stderr {
    kept: Vec<u8>,
    total: usize,
}

/// A command that failed: why, and what it printed.
struct Failed {
    failure: CommandFailure,
    /// Its stdout without trailing newlines: perhaps the value, to blank.
    stdout: Vec<u8>,
    stderr: Stderr,
}

/// Run `command` and take its stdout as the value.
fn run(command: &DataCommand, limits: &CommandLimits) -> Result<Vec<u8>, Failed> {
    let failed = |failure| Failed {
        failure,
        stdout: Vec::new(),
        stderr: Stderr::default(),
    };
    let mut cmd = Command::new(&command.program);
    cmd.args(&command.argv[1..]).current_dir(&command.dir);
    let mut child = own_group::spawn(&mut cmd).map_err(|source| {
        failed(match source.kind() {
            io::ErrorKind::NotFound if !command.argv[0].contains('/') => {
                CommandFailure::NotOnPath {
                    program: command.argv[0].clone(),
                }
            }
            _ => CommandFailure::Spawn {
                program: command.program.clone(),
                source,
            },
        })
    })?;
    let deadline = Instant::now() + limits.time;
    let (mut stdout, mut stderr) = (Vec::new(), Stderr::default());
    let result = collect(&mut child, limits, deadline, &mut stdout, &mut stderr)
        .and_then(|()| wait(&mut child, limits, deadline));
    let status = match result {
        Ok(status) => status,
        Err(failure) => {
            own_group::kill(&mut child);
            return Err(Failed {
                failure,
                stdout: without_trailing_newlines(stdout),
                stderr,
            });
        }
    };
    let failure = match (status.code(), status.signal()) {
        (Some(0), _) => return Ok(without_trailing_newlines(stdout)),
        (Some(code), _) => CommandFailure::Exited(code),
        (None, Some(signal)) => CommandFailure::Killed(
            Signal::try_from(signal)
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|_| signal.to_string()),
        ),
        (None, None) => CommandFailure::Killed(format!("{status}")),
    };
    Err(Failed {
        failure,
        stdout: without_trailing_newlines(stdout),
        stderr,
    })
}

/// `bytes` without the newlines they end with, as `$(...)` takes output.
fn without_trailing_newlines(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}

/// Read the command's stdout (at most `limits.stdout` bytes) and stderr
/// (its start kept, the rest drained) until both close, on this thread.
fn collect(
    child: &mut Child,
    limits: &CommandLimits,
    deadline: Instant,
    stdout: &mut Vec<u8>,
    stderr: &mut Stderr,
) -> Result<(), CommandFailure> {
    read_both(
        child,
        || poll_timeout(deadline).ok_or(CommandFailure::Timeout(limits.time)),
        |stream, bytes| {
            match stream {
                Stream::Stdout => {
                    stdout.extend_from_slice(bytes);
                    if stdout.len() > limits.stdout {
                        return Err(CommandFailure::TooMuch(limits.stdout));
                    }
                }
                Stream::Stderr => {
                    let room = limits.stderr_shown.saturating_sub(stderr.kept.len());
                    stderr
                        .kept
                        .extend_from_slice(&bytes[..bytes.len().min(room)]);
                    stderr.total += bytes.len();
                }
            }
            Ok(())
        },
        CommandFailure::Io,
    )
}

/// Wait for a command that closed its output, until the deadline.
fn wait(
    child: &mut Child,
    limits: &CommandLimits,
    deadline: Instant,
) -> Result<ExitStatus, CommandFailure> {
    let in_time = || {
        poll_timeout(deadline)
            .map(drop)
            .ok_or(CommandFailure::Timeout(limits.time))
    };
    wait_for_exit(child, in_time, CommandFailure::Io)
}

/// Stderr as shown: its kept start with every value of `data` blanked —
/// and, where it was cut, without an end that could be the start of a
/// value, which no blank would find.
fn shown_stderr(stderr: &Stderr, data: &HostData) -> ShownStderr {
    let mut kept = stderr.kept.as_slice();
    let cut = stderr.total > kept.len();
    if cut {
        let starts_a_value = |tail: &[u8]| {
            data.iter()
                .any(|(_, value)| value.trim_ascii_end().starts_with(tail))
        };
        if let Some(at) = (0..kept.len()).find(|&at| starts_a_value(&kept[at..])) {
            kept = &kept[..at];
        }
    }
    let blanked = data.redactor().bytes(kept).into_owned();
    let mut text = String::from_utf8_lossy(&blanked).trim_end().to_owned();
    if cut {
        let more = stderr.total - kept.len();
        text.push_str(&format!(" … ({} more not shown)", show_bytes(more as u64)));
    }
    ShownStderr(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data file that is a pipe, a device or too large is refused, at
    /// once, naming the path.
    #[test]
    fn secret_files_are_regular_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let started = Instant::now();
        for path in [fifo.as_path(), Path::new("/dev/zero"), dir.path()] {
            let err = read_secret_file(path, 100).unwrap_err();
            assert!(matches!(err, SecretFileError::NotRegular { .. }), "{err}");
            assert!(err.to_string().starts_with(&path.display().to_string()));
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 101]).unwrap();
        let err = read_secret_file(&big, 100).unwrap_err();
        assert!(
            matches!(err, SecretFileError::TooLarge { limit: 100, .. }),
            "{err}"
        );
        std::fs::write(&big, vec![b'x'; 100]).unwrap();
        assert_eq!(read_secret_file(&big, 100).unwrap().len(), 100);
    }

    fn source(text: &str) -> Result<DataSource, SourceSyntaxError> {
        let value: toml::Value = toml::from_str(&format!("v = {text}")).unwrap();
        DataSource::from_toml(value["v"].clone(), Path::new("/consfig"))
    }

    fn sh(script: &str) -> DataSource {
        DataSource::Command(DataCommand {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            program: "sh".into(),
            dir: "/".into(),
        })
    }

    fn one(key: &str, source: DataSource) -> BTreeMap<String, DataSource> {
        BTreeMap::from([(key.to_owned(), source)])
    }

    const QUICK: CommandLimits = CommandLimits {
        time: Duration::from_millis(500),
        stdout: 1 << 10,
        stderr_shown: 64,
    };

    fn error(sources: &BTreeMap<String, DataSource>, limits: &CommandLimits) -> String {
        read_all_with(sources, limits).unwrap_err().to_string()
    }

    #[test]
    fn a_path_a_file_a_command_and_an_env_are_sources() {
        let file = DataSource::File("/consfig/secrets/db".into());
        assert_eq!(source("\"secrets/db\"").unwrap(), file);
        assert_eq!(source("{ file = \"secrets/db\" }").unwrap(), file);
        assert_eq!(
            source("{ file = \"/abs\" }").unwrap(),
            DataSource::File("/abs".into())
        );
        assert_eq!(
            source("{ env = \"DB_PASSWORD\" }").unwrap(),
            DataSource::Env("DB_PASSWORD".into())
        );
        let on_path = source("{ command = [\"pass\", \"show\", \"web1/db\"] }").unwrap();
        assert_eq!(
            on_path,
            DataSource::Command(DataCommand {
                argv: vec!["pass".into(), "show".into(), "web1/db".into()],
                program: "pass".into(),
                dir: "/consfig".into(),
            })
        );
        let DataSource::Command(relative) = source("{ command = [\"bin/get\", \"db\"] }").unwrap()
        else {
            panic!("a command")
        };
        assert_eq!(relative.program, Path::new("/consfig/bin/get"));
        assert_eq!(relative.argv, ["bin/get", "db"]);
    }

    #[test]
    fn anything_else_says_what_is_allowed() {
        for (bad, says) in [
            ("3", "is an integer; a data value is a path"),
            ("[\"pass\"]", "is an array; a data value is a path"),
            ("{}", "has no key; write exactly one of file, command, env"),
            (
                "{ file = \"a\", env = \"B\" }",
                "has keys env, file; write exactly one",
            ),
            ("{ cmd = [\"pass\"] }", "unknown source \"cmd\""),
            ("{ file = 1 }", "file must be a path"),
            ("{ file = \"\" }", "file must be a path"),
            ("{ command = \"pass show db\" }", "command must be a list"),
            ("{ command = [\"pass\", 1] }", "command must be a list"),
            ("{ command = [] }", "command is empty"),
            ("{ command = [\"\"] }", "command is empty"),
            ("{ command = [\"pass\", \"a\\u0000b\"] }", "NUL byte"),
            ("{ env = \"\" }", "env must be the name"),
            ("{ env = \"A=B\" }", "env must be the name"),
            ("{ env = [\"A\"] }", "env must be the name"),
        ] {
            let e = source(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn a_command_s_value_is_its_stdout_without_trailing_newlines() {
        for (script, value) in [
            ("printf 'pw\\n\\n\\n'", &b"pw"[..]),
            ("printf 'a\\n\\nb \\n'", b"a\n\nb "),
            ("printf ' pw\\t'", b" pw\t"),
            ("true", b""),
            // stdin is /dev/null: nothing to read, nothing to wait for.
            ("cat; readlink /proc/self/fd/0", b"/dev/null"),
            ("printf '\\377\\000x'", b"\xff\0x"),
        ] {
            let data = read_all_with(&one("k", sh(script)), &QUICK).unwrap();
            assert_eq!(data.get("k").unwrap(), value, "{script}");
        }
    }

    #[test]
    fn a_relative_program_runs_from_the_consfig_s_directory_there() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("bin/get");
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::write(&script, "#!/bin/sh\npwd; echo \"$1\"\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let value: toml::Value = toml::from_str("v = { command = [\"bin/get\", \"x\"] }").unwrap();
        let source = DataSource::from_toml(value["v"].clone(), dir.path()).unwrap();
        let data = read_all_with(&one("k", source), &QUICK).unwrap();
        let expected = format!("{}\nx", dir.path().display());
        assert_eq!(data.get("k").unwrap(), expected.as_bytes());
    }

    #[test]
    fn env_is_read_as_bytes_and_an_unset_one_is_named() {
        let path = std::env::var_os("PATH").expect("PATH is set");
        let data = read_all_with(&one("k", DataSource::Env("PATH".into())), &QUICK).unwrap();
        assert_eq!(data.get("k").unwrap(), path.into_vec());
        let name = "CONSFIG_SURELY_UNSET_VARIABLE_7f3a";
        let e = error(&one("token", DataSource::Env(name.into())), &QUICK);
        assert_eq!(
            e,
            format!("data token: environment variable {name} is not set on the controller")
        );
    }

    #[test]
    fn an_unreadable_file_names_key_and_path() {
        let e = error(
            &one("db", DataSource::File("/no/such/secret".into())),
            &QUICK,
        );
        assert!(e.starts_with("data db: /no/such/secret: "), "{e}");
    }

    #[test]
    fn a_failing_command_shows_its_stderr_but_never_the_value() {
        let e = error(
            &one(
                "db",
                sh("echo hunter2-secret; echo 'vault: hunter2-secret is sealed' >&2; exit 3"),
            ),
            &QUICK,
        );
        // Blanked out of the command as written too.
        assert_eq!(
            e,
            "data db: command [\"sh\",\"-c\",\"echo [data db]; echo 'vault: [data db] is sealed' >&2; exit 3\"] \
             exited with status 3: vault: [data db] is sealed"
        );
    }

    #[test]
    fn values_read_before_are_blanked_too() {
        let sources = BTreeMap::from([
            ("a".to_owned(), sh("echo first-secret")),
            ("b".to_owned(), sh("echo first-secret >&2; exit 1")),
        ]);
        let e = error(&sources, &QUICK);
        assert!(
            e.starts_with("data b: ") && e.ends_with("exited with status 1: [data a]"),
            "{e}"
        );
    }

    #[test]
    fn a_killed_command_names_the_signal() {
        let e = error(&one("db", sh("kill -9 $$")), &QUICK);
        assert!(e.ends_with("was killed by signal SIGKILL"), "{e}");
    }

    #[test]
    fn a_missing_program_says_where_it_was_looked_for() {
        let missing = DataSource::Command(DataCommand {
            argv: vec!["no-such-program-7f3a".into()],
            program: "no-such-program-7f3a".into(),
            dir: "/".into(),
        });
        let e = error(&one("db", missing), &QUICK);
        assert!(
            e.contains("could not start: there is no program \"no-such-program-7f3a\" on PATH"),
            "{e}"
        );
        let missing = DataSource::Command(DataCommand {
            argv: vec!["./get".into()],
            program: "/no/such/dir/get".into(),
            dir: "/".into(),
        });
        let e = error(&one("db", missing), &QUICK);
        assert!(e.contains("could not start /no/such/dir/get: "), "{e}");
    }

    /// Whether the process `pid` is gone (or a zombie nobody waits for).
    fn gone(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z'),
        }
    }

    #[test]
    fn a_command_still_running_at_the_time_limit_is_killed_with_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!(
            "sleep 30 & echo $! > {}; echo started >&2; wait",
            pid_file.display()
        );
        let start = Instant::now();
        let e = error(&one("db", sh(&script)), &QUICK);
        assert!(start.elapsed() < Duration::from_secs(5), "{e}");
        assert!(
            e.ends_with("was still running after 500ms and was killed: started"),
            "{e}"
        );
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let until = Instant::now() + Duration::from_secs(5);
        while !gone(pid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(gone(pid), "the command's child {pid} was killed with it");
        // Its output closed but still running: waited for, then killed.
        let e = error(&one("db", sh("exec >&- 2>&-; sleep 30")), &QUICK);
        assert!(
            e.ends_with("was still running after 500ms and was killed"),
            "{e}"
        );
    }

    #[test]
    fn stdout_past_its_limit_kills_the_command() {
        let start = Instant::now();
        let e = error(&one("db", sh("yes")), &QUICK);
        assert!(
            e.ends_with("printed more than 1 KiB on stdout and was killed"),
            "{e}"
        );
        assert!(start.elapsed() < Duration::from_secs(5));
        let fits = read_all_with(&one("db", sh("head -c 1024 /dev/zero")), &QUICK).unwrap();
        assert_eq!(fits.get("db").unwrap().len(), 1024);
    }

    #[test]
    fn stderr_is_cut_and_never_ends_in_the_start_of_a_value() {
        // 60 bytes, then the value: the cut at 64 bytes leaves its first 4.
        let script = "echo long-secret-value-xyz; printf '%060d' 0 >&2; echo long-secret-value-xyz >&2; exit 1";
        let e = error(&one("db", sh(script)), &QUICK);
        assert!(
            e.ends_with(&format!(
                "status 1: {} … (22 bytes more not shown)",
                "0".repeat(60)
            )),
            "{e}"
        );
        assert!(!e.contains("long"), "{e}");
        // A flood of stderr is drained, not waited on, and cut.
        let e = error(
            &one(
                "db",
                sh("head -c 1000000 /dev/zero | tr '\\0' x >&2; exit 2"),
            ),
            &QUICK,
        );
        assert!(
            e.ends_with(&format!(
                "status 2: {} … (999936 bytes more not shown)",
                "x".repeat(64)
            )),
            "{e}"
        );
    }
}
