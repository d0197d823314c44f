//! One host's conversation with its runtime: the greeting (what it runs on,
//! what it holds), the modules' code compiled for its architecture and the
//! files of the consfig it lacks, loading them under the deploy's policy
//! (sending again, once, code it found damaged in its cache), then the
//! forms one by one, each outcome reported as it comes.

use std::io::{Read, Write};
use std::time::Duration;

use consfig_contract::{Context, Form};

use super::compiler::{Code, Compiler};
use super::connection::RuntimeChannel;
use super::connection::deadline::Deadline;
use super::consfig_files::HostFiles;
use super::modules::ModuleFile;
use super::reporter::Reporter;
use super::summary::HostSummary;
use crate::engine::architecture;
use crate::sandbox::policy::{LimitSet, Policy, show_bytes};
use crate::sandbox::redact::Redactor;
use crate::wire::outcome::Outcome;
use crate::wire::protocol::{
    self, FromRuntime, MAX_FRAME, ModuleCode, PROTOCOL_VERSION, ProtocolError, Received, ToRuntime,
};
use crate::wire::redact::Redact;

/// The least a runtime may send in one message, whatever the output limits:
/// a form's outcome holds its output, and in check mode the files it would
/// change.
const MIN_MESSAGE_LIMIT: usize = 16 << 20;

/// The longest the runtime may take to greet, or to take a message (or
/// each part of a large one) sent to it.
const STEP_LIMIT: Duration = Duration::from_secs(120);

/// The least time the runtime is given to load the modules.
const MIN_LOAD_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The most of a runtime's own words (a fatal error, its version) kept for
/// the report.
const MAX_RUNTIME_WORDS: usize = 4096;

/// Why a host's conversation with its runtime ended early.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("lost the runtime: {0}")]
    Lost(#[from] ProtocolError),
    #[error("runtime {version} speaks protocol {protocol}, this controller {PROTOCOL_VERSION}")]
    Version { version: String, protocol: u32 },
    #[error("runtime: {0}")]
    Fatal(String),
    #[error("unexpected {got} message from the runtime while {waiting}")]
    Unexpected {
        got: &'static str,
        waiting: &'static str,
    },
    #[error(
        "the runtime sent a message of {size} bytes while {waiting}, more than the {} this controller accepts from a runtime",
        show_bytes(*limit as u64)
    )]
    TooLarge {
        size: usize,
        limit: usize,
        waiting: &'static str,
    },
    #[error("malformed message from the runtime while {waiting}: {error}")]
    Malformed {
        waiting: &'static str,
        error: serde_json::Error,
    },
    #[error(
        "runtime received {received_bytes} bytes in {received} modules, but {sent_bytes} in {sent} were sent"
    )]
    Received {
        received_bytes: u64,
        received: usize,
        sent_bytes: u64,
        sent: usize,
    },
    #[error(
        "runtime received {received_bytes} bytes in {received} files of the consfig, but {sent_bytes} in {sent} were sent"
    )]
    ReceivedFiles {
        received_bytes: u64,
        received: usize,
        sent_bytes: u64,
        sent: usize,
    },
    #[error("the runtime runs on {0}, an architecture this controller does not compile for")]
    Architecture(String),
    #[error("compiling for the target: {0}")]
    Compile(String),
    #[error("the runtime asked again for code it was not given: {0}")]
    Resend(String),
    #[error(
        "no progress from the runtime within {} while {waiting}: it was given up on",
        humantime::format_duration(*limit)
    )]
    Deadline {
        waiting: &'static str,
        limit: Duration,
    },
}

/// One host's conversation with its runtime.
pub struct Session<'a> {
    pub host: &'a str,
    pub forms: &'a [Form],
    pub modules: &'a [ModuleFile],
    /// The files of the consfig this host's forms name.
    pub files: &'a HostFiles,
    /// The deploy's policy with this host's data.
    pub policy: Policy,
    pub contexts: Vec<Context>,
    /// What compiles the modules for the runtime's architecture.
    pub compiler: &'a Compiler,
}

/// The most the controller reads of one message from a runtime under
/// `policy`: room for the largest output a form may make (twice, for
/// JSON's escapes), never less than [`MIN_MESSAGE_LIMIT`]. The runtime is
/// not trusted to keep to its limits: this bounds what one host costs the
/// controller, as only one message per host is held at a time.
pub fn message_limit(policy: &Policy) -> usize {
    let output = usize::try_from(policy.limits.max_output()).unwrap_or(usize::MAX);
    output
        .saturating_mul(2)
        .saturating_add(1 << 20)
        .clamp(MIN_MESSAGE_LIMIT, MAX_FRAME)
}

/// At most `max` bytes of `text` (cut at a character), saying how much was cut.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

/// The conversation as the session holds it: every message read within
/// the size limit and every wait within a deadline, anything else an error
/// saying what we were waiting for.
struct Conversation<'c> {
    /// Blanks this host's data out of every message received.
    redactor: Redactor,
    reader: &'c mut dyn Read,
    writer: &'c mut dyn Write,
    deadline: &'c Deadline,
    limit: usize,
    /// How long the runtime may take to take a message, or greet.
    step: Duration,
}

impl Conversation<'_> {
    /// The next message, within `within`.
    fn recv(
        &mut self,
        waiting: &'static str,
        within: Duration,
    ) -> Result<FromRuntime, SessionError> {
        self.deadline.set(Some(within));
        let received: Received<FromRuntime> = protocol::recv_within(&mut self.reader, self.limit)
            .map_err(|e| timed_out(e, waiting, within))?;
        let received = match received {
            Received::Message(mut message) => {
                if !self.redactor.is_empty() {
                    message.redact(&self.redactor);
                }
                Received::Message(message)
            }
            other => other,
        };
        match received {
            Received::Message(FromRuntime::Fatal { message }) => {
                Err(SessionError::Fatal(bounded(&message, MAX_RUNTIME_WORDS)))
            }
            Received::Message(message) => Ok(message),
            Received::TooLarge(size) => Err(SessionError::TooLarge {
                size,
                limit: self.limit,
                waiting,
            }),
            Received::Malformed(error) => Err(SessionError::Malformed { waiting, error }),
        }
    }

    /// Send a message, which the runtime must take within a step.
    fn send(&mut self, message: &ToRuntime) -> Result<(), SessionError> {
        self.deadline.set(Some(self.step));
        protocol::send(&mut self.writer, message).map_err(|e| timed_out(e, SENDING, self.step))
    }

    /// Send a message announcing bytes (code, a file), then the bytes: how
    /// many crossed the wire.
    fn send_with_frame(&mut self, message: &ToRuntime, bytes: &[u8]) -> Result<u64, SessionError> {
        self.send(message)?;
        self.send_frame(bytes)?;
        Ok(bytes.len() as u64)
    }

    /// Send a raw frame (compiled code, a file), each write of it taken
    /// within a step of the one before.
    fn send_frame(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        self.deadline.set(Some(self.step));
        let mut progress = Progress {
            inner: &mut self.writer,
            deadline: self.deadline,
            step: self.step,
        };
        protocol::write_frame(&mut progress, bytes).map_err(|e| timed_out(e, SENDING, self.step))
    }
}

const SENDING: &str = "sending to it";

/// A writer whose deadline moves on with each write that went through:
/// large frames need progress, not speed.
struct Progress<'w> {
    inner: &'w mut dyn Write,
    deadline: &'w Deadline,
    step: Duration,
}

impl Write for Progress<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.deadline.set(Some(self.step));
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A protocol error, as the deadline error it is when the wait timed out.
fn timed_out(e: ProtocolError, waiting: &'static str, limit: Duration) -> SessionError {
    match e {
        ProtocolError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            SessionError::Deadline { waiting, limit }
        }
        other => SessionError::Lost(other),
    }
}

/// How long loading may take under `limits`: compiling modules on a slow
/// target takes minutes, and each module's `init` has the time of forms.
fn load_limit(limits: &LimitSet) -> Duration {
    (limits.for_forms().time * 2).max(MIN_LOAD_LIMIT)
}

/// How long the outcome of `form` may take under `limits`: its module's
/// time limit (which the runtime enforces), and as much again (at least 5
/// seconds, at most [`STEP_LIMIT`]) for the runtime to stop it and report.
fn form_limit(limits: &LimitSet, form: &Form) -> Duration {
    let time = limits.for_module(form.module()).time;
    time + time.clamp(Duration::from_secs(5), STEP_LIMIT)
}

impl Session<'_> {
    pub fn run(
        self,
        channel: &mut RuntimeChannel,
        reporter: &Reporter,
        summary: &mut HostSummary,
    ) -> Result<(), SessionError> {
        self.run_within(channel, reporter, summary, STEP_LIMIT)
    }

    /// [`Session::run`], with `step` as the longest wait for a greeting or
    /// for a message to be taken.
    fn run_within(
        self,
        channel: &mut RuntimeChannel,
        reporter: &Reporter,
        summary: &mut HostSummary,
        step: Duration,
    ) -> Result<(), SessionError> {
        let result = self.converse(channel, reporter, summary, step);
        // Whatever is left unsent when the conversation ends (the runtime
        // stopped taking it) is not waited for when the channel closes.
        channel.deadline.set(Some(Duration::ZERO));
        result
    }

    fn converse(
        self,
        channel: &mut RuntimeChannel,
        reporter: &Reporter,
        summary: &mut HostSummary,
        step: Duration,
    ) -> Result<(), SessionError> {
        let Session {
            host,
            forms,
            modules,
            files,
            policy,
            contexts,
            compiler,
        } = self;
        let limits = policy.limits.clone();
        let mut runtime = Conversation {
            // Whatever the runtime sends, this host's data is blanked out of it.
            redactor: policy.data.redactor(),
            reader: &mut channel.reader,
            writer: &mut channel.writer,
            deadline: &channel.deadline,
            limit: message_limit(&policy),
            step,
        };
        const GREETING: &str = "waiting for its greeting";
        let (arch, cached, cached_files) = match runtime.recv(GREETING, step)? {
            FromRuntime::Hello {
                protocol: PROTOCOL_VERSION,
                arch,
                cached_code,
                cached_files,
                ..
            } => (arch, cached_code, cached_files),
            FromRuntime::Hello {
                protocol,
                runtime_version,
                ..
            } => {
                return Err(SessionError::Version {
                    version: bounded(&runtime_version, MAX_RUNTIME_WORDS),
                    protocol,
                });
            }
            other => {
                return Err(SessionError::Unexpected {
                    got: other.kind(),
                    waiting: GREETING,
                });
            }
        };
        let arch = architecture::by_name(&arch)
            .ok_or_else(|| SessionError::Architecture(bounded(&arch, 80)))?;
        // Each module's code for this host's architecture, compiled once
        // for every host of it.
        let code = modules
            .iter()
            .map(|module| compiler.code(arch, module).map_err(SessionError::Compile))
            .collect::<Result<Vec<_>, _>>()?;

        let mut sent = Vec::new();
        let mut sent_code = Vec::new();
        let mut module_bytes = 0;
        for (module, code) in modules.iter().zip(&code) {
            if cached.contains(&code.sha256) || sent_code.contains(&code.sha256) {
                continue;
            }
            module_bytes += send_code(&mut runtime, code)?;
            sent.push(module.sha256.clone());
            sent_code.push(code.sha256.clone());
        }
        drop(cached);
        summary.modules_sent = sent.len();
        summary.bytes_sent += module_bytes;
        // Each content once, and only when the target's cache lacks it.
        let mut files_sent: Vec<String> = Vec::new();
        let mut paths_sent = Vec::new();
        let mut file_bytes = 0;
        for (path, file) in files {
            if cached_files.contains(&file.sha256) || files_sent.contains(&file.sha256) {
                continue;
            }
            let compressed = file.compressed();
            let message = ToRuntime::File {
                sha256: file.sha256.clone(),
                size: file.bytes.len() as u64,
                compressed_size: compressed.len() as u64,
            };
            file_bytes += runtime.send_with_frame(&message, compressed)?;
            files_sent.push(file.sha256.clone());
            paths_sent.push(path.clone());
        }
        drop(cached_files);
        summary.files_sent = files_sent.len();
        summary.bytes_sent += file_bytes;
        let load = ToRuntime::Load {
            modules: modules
                .iter()
                .zip(&code)
                .map(|(module, code)| ModuleCode {
                    module: module.sha256.clone(),
                    code: code.sha256.clone(),
                })
                .collect(),
            files: files
                .iter()
                .map(|(path, file)| (path.clone(), file.sha256.clone()))
                .collect(),
            policy: Box::new(policy),
            contexts,
        };
        runtime.send(&load)?;
        const LOADING: &str = "waiting for it to load the modules";
        let mut resent = false;
        loop {
            match runtime.recv(LOADING, load_limit(&limits))? {
                // Code the target held at its greeting but found damaged
                // (or gone) when loading: sent again, once.
                FromRuntime::Resend { code: wanted } if !resent => {
                    resent = true;
                    let before = module_bytes;
                    for hash in &wanted {
                        let Some(index) = code.iter().position(|c| &c.sha256 == hash) else {
                            return Err(SessionError::Resend(bounded(hash, 80)));
                        };
                        module_bytes += send_code(&mut runtime, &code[index])?;
                        sent.push(modules[index].sha256.clone());
                        sent_code.push(hash.clone());
                    }
                    summary.modules_sent = sent.len();
                    summary.bytes_sent += module_bytes - before;
                    runtime.send(&load)?;
                }
                FromRuntime::Ready {
                    received_code,
                    received_bytes,
                    received_files,
                    received_file_bytes,
                } => {
                    if received_bytes != module_bytes || received_code != sent_code {
                        return Err(SessionError::Received {
                            received_bytes,
                            received: received_code.len(),
                            sent_bytes: module_bytes,
                            sent: sent_code.len(),
                        });
                    }
                    if received_file_bytes != file_bytes || received_files != files_sent {
                        return Err(SessionError::ReceivedFiles {
                            received_bytes: received_file_bytes,
                            received: received_files.len(),
                            sent_bytes: file_bytes,
                            sent: files_sent.len(),
                        });
                    }
                    let compiled: Vec<String> = modules
                        .iter()
                        .zip(&code)
                        .filter(|(_, code)| code.compiled_now)
                        .map(|(module, _)| module.sha256.clone())
                        .collect();
                    reporter.modules_sent(
                        host,
                        arch.name,
                        &sent,
                        received_bytes,
                        summary.runtime_bytes_sent,
                        &compiled,
                    );
                    if !files.is_empty() {
                        reporter.files_sent(host, &paths_sent, file_bytes, files.len());
                    }
                    break;
                }
                other => {
                    return Err(SessionError::Unexpected {
                        got: other.kind(),
                        waiting: LOADING,
                    });
                }
            }
        }

        for (index, form) in forms.iter().enumerate() {
            let id = index as u64;
            runtime.send(&ToRuntime::Apply {
                id,
                form: form.clone(),
            })?;
            const FORM: &str = "waiting for the outcome of a form";
            let limit = form_limit(&limits, form);
            // A report too large or malformed to read fails only its form.
            let outcome = match runtime.recv(FORM, limit) {
                Ok(FromRuntime::Outcome { id: got, outcome }) if got == id => outcome,
                Ok(other) => {
                    return Err(SessionError::Unexpected {
                        got: other.kind(),
                        waiting: FORM,
                    });
                }
                Err(SessionError::TooLarge { size, limit, .. }) => Outcome::failed(
                    format!(
                        "the runtime's report of this form is {size} bytes, more than the {} this controller accepts from a runtime; it was dropped unread (lower the form's output, or raise its output limit)",
                        show_bytes(limit as u64)
                    ),
                    String::new(),
                ),
                Err(SessionError::Malformed { error, .. }) => Outcome::failed(
                    format!(
                        "the runtime's report of this form is malformed, so it was dropped: {error}"
                    ),
                    String::new(),
                ),
                Err(e) => return Err(e),
            };
            // A subdeployment's forms are the form's own doing: counted
            // once, as the form.
            summary.count(outcome.status);
            reporter.form(host, index, form, &outcome);
        }
        runtime.send(&ToRuntime::Finish)?;
        Ok(())
    }
}

/// Send one module's compiled code: the bytes it cost on the wire.
fn send_code(runtime: &mut Conversation<'_>, code: &Code) -> Result<u64, SessionError> {
    let compressed = code.compressed();
    let message = ToRuntime::Code {
        sha256: code.sha256.clone(),
        size: code.bytes.len() as u64,
        compressed_size: compressed.len() as u64,
    };
    runtime.send_with_frame(&message, compressed)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::controller::connection::RuntimeProcess;
    use crate::engine::cache::Cache;
    use crate::wire::outcome::Status;

    /// Bytes written, readable after the writer moved into a reporter or channel.
    #[derive(Clone, Default)]
    pub(crate) struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        pub(crate) fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    struct Gone;
    impl RuntimeProcess for Gone {
        fn finish(&mut self) -> String {
            String::new()
        }
    }

    fn frame(message: &FromRuntime) -> Vec<u8> {
        let mut bytes = Vec::new();
        protocol::send(&mut bytes, message).unwrap();
        bytes
    }

    fn hello_from(arch: &str) -> Vec<u8> {
        frame(&FromRuntime::Hello {
            protocol: PROTOCOL_VERSION,
            runtime_version: "test".into(),
            arch: arch.into(),
            cached_code: Vec::new(),
            cached_files: Vec::new(),
        })
    }

    fn hello() -> Vec<u8> {
        hello_from(std::env::consts::ARCH)
    }

    fn ready() -> Vec<u8> {
        frame(&FromRuntime::Ready {
            received_code: Vec::new(),
            received_bytes: 0,
            received_files: Vec::new(),
            received_file_bytes: 0,
        })
    }

    fn outcome(id: u64, status: Status, output: &str) -> Vec<u8> {
        let mut outcome = Outcome::failed("", output.to_owned());
        outcome.status = status;
        outcome.reason = None;
        frame(&FromRuntime::Outcome { id, outcome })
    }

    fn compiler() -> (tempfile::TempDir, Compiler) {
        let dir = tempfile::tempdir().unwrap();
        let compiler = Compiler::new(Cache::at(dir.path()).unwrap());
        (dir, compiler)
    }

    /// A deploy of `forms` forms to a runtime that says `said`, with no
    /// module: the error, the summary, what was reported (JSON lines) and
    /// what was sent to the runtime.
    fn converse(
        forms: usize,
        said: Vec<u8>,
    ) -> (Result<(), SessionError>, HostSummary, String, String) {
        let forms: Vec<Form> = (0..forms)
            .map(|i| Form::parse(&format!(r#"["testing:echo", "{i}"]"#)).unwrap())
            .collect();
        let (report, sent) = (Shared::default(), Shared::default());
        let reporter = Reporter::new(Box::new(report.clone()), true, false);
        let mut channel = RuntimeChannel {
            reader: Box::new(Cursor::new(said)),
            writer: Box::new(sent.clone()),
            process: Box::new(Gone),
            deadline: Default::default(),
            runtime_bytes_sent: 0,
        };
        let mut summary = HostSummary::default();
        let (_cache, compiler) = compiler();
        let result = Session {
            host: "web1",
            forms: &forms,
            modules: &[],
            files: &HostFiles::new(),
            policy: Policy::default(),
            contexts: Vec::new(),
            compiler: &compiler,
        }
        .run(&mut channel, &reporter, &mut summary);
        drop(reporter);
        (result, summary, report.text(), sent.text())
    }

    #[test]
    fn a_report_over_the_limit_fails_only_its_form_and_is_never_held() {
        let limit = message_limit(&Policy::default());
        let mut said = [hello(), ready(), outcome(0, Status::Unchanged, "first")].concat();
        // Form 1's report claims more than the limit, and brings it.
        said.extend_from_slice(&((limit + 1) as u32).to_be_bytes());
        said.resize(said.len() + limit + 1, b'x');
        said.extend(outcome(2, Status::Changed, "third"));
        let (result, summary, report, _) = converse(3, said);
        result.unwrap();
        assert_eq!(
            (summary.unchanged, summary.failed, summary.changed),
            (1, 1, 1)
        );
        assert!(
            report.contains(
                "more than the 16 MiB this controller accepts from a runtime; it was dropped unread"
            ),
            "{report}"
        );
        assert!(report.contains("third"), "{report}");
    }

    #[test]
    fn a_malformed_or_deeply_nested_report_fails_only_its_form() {
        let deep = format!(
            r#"{{"type":"outcome","id":1,"outcome":{{"status":"changed","output":{}1{}}}}}"#,
            "[".repeat(50_000),
            "]".repeat(50_000)
        );
        let mut said = [hello(), ready()].concat();
        protocol::write_frame(&mut said, b"{\"type\":\"outcome\",\"id\":").unwrap();
        protocol::write_frame(&mut said, deep.as_bytes()).unwrap();
        said.extend(outcome(2, Status::Unchanged, "after"));
        let (result, summary, report, _) = converse(3, said);
        result.unwrap();
        assert_eq!((summary.failed, summary.unchanged), (2, 1), "{report}");
        assert_eq!(
            report.matches("report of this form is malformed").count(),
            2
        );
        assert!(report.contains("recursion limit exceeded"), "{report}");
    }

    #[test]
    fn what_the_runtime_says_in_errors_is_bounded_and_never_dumped() {
        let fatal = frame(&FromRuntime::Fatal {
            message: "\x1b[2J".repeat(1 << 20),
        });
        let (result, ..) = converse(1, [hello(), fatal].concat());
        let error = result.unwrap_err().to_string();
        assert!(error.len() < MAX_RUNTIME_WORDS + 100, "{}", error.len());
        assert!(
            error.ends_with(&format!("({} more bytes)", (4 << 20) - 4096)),
            "{error}"
        );

        // An outcome where a greeting belongs: named, not printed.
        let big = outcome(0, Status::Changed, &"secret of web2 ".repeat(10_000));
        let (result, ..) = converse(1, big);
        assert_eq!(
            result.unwrap_err().to_string(),
            "unexpected outcome message from the runtime while waiting for its greeting"
        );
        let version = frame(&FromRuntime::Hello {
            protocol: PROTOCOL_VERSION + 1,
            runtime_version: "v".repeat(1 << 20),
            arch: "x86_64".into(),
            cached_code: Vec::new(),
            cached_files: Vec::new(),
        });
        let error = converse(1, version).0.unwrap_err().to_string();
        assert!(error.len() < MAX_RUNTIME_WORDS + 100, "{}", error.len());
    }

    #[test]
    fn a_runtime_of_an_architecture_not_compiled_for_is_named_and_refused() {
        let (result, ..) = converse(1, [hello_from("\x1b[2Jmips"), ready()].concat());
        assert!(
            matches!(&result, Err(SessionError::Architecture(arch)) if arch == "\x1b[2Jmips"),
            "{result:?}"
        );
        assert!(
            result
                .unwrap_err()
                .to_string()
                .contains("does not compile for"),
            "the error says why"
        );
    }

    #[test]
    fn a_runtime_may_ask_again_only_for_code_it_was_given_and_only_once() {
        let resend = |hash: &str| {
            frame(&FromRuntime::Resend {
                code: vec![hash.to_owned()],
            })
        };
        // No module here: any code asked for is code it was not given.
        let (result, _, _, sent) = converse(1, [hello(), resend("\x1b[2Jc0de")].concat());
        assert!(
            matches!(&result, Err(SessionError::Resend(hash)) if hash == "\x1b[2Jc0de"),
            "{result:?}"
        );
        assert_eq!(sent.matches(r#""type":"load""#).count(), 1, "{sent}");
        let empty = frame(&FromRuntime::Resend { code: Vec::new() });
        let (result, _, _, sent) = converse(1, [hello(), empty.clone(), empty].concat());
        assert!(
            matches!(&result, Err(SessionError::Unexpected { got: "resend", .. })),
            "{result:?}"
        );
        assert_eq!(sent.matches(r#""type":"load""#).count(), 2, "{sent}");
    }

    #[test]
    fn a_runtime_that_stops_listening_is_given_up_on_and_not_waited_for_after() {
        use crate::controller::connection::deadline::Polled;
        use std::time::Instant;

        let (unread, full) = nix::unistd::pipe().unwrap();
        let deadline = Deadline::default();
        // Its input is full: the runtime takes nothing more.
        let mut writer = Polled::new(std::fs::File::from(full), deadline.clone()).unwrap();
        deadline.set(Some(Duration::ZERO));
        assert!(writer.write_all(&vec![0u8; 1 << 20]).is_err());
        let mut channel = RuntimeChannel {
            reader: Box::new(Cursor::new([hello(), ready()].concat())),
            writer: Box::new(std::io::BufWriter::new(writer)),
            process: Box::new(Gone),
            deadline,
            runtime_bytes_sent: 0,
        };
        let reporter = Reporter::new(Box::new(std::io::sink()), true, false);
        let (_cache, compiler) = compiler();
        let started = Instant::now();
        let result = Session {
            host: "web1",
            forms: &[],
            modules: &[],
            files: &HostFiles::new(),
            policy: Policy::default(),
            contexts: Vec::new(),
            compiler: &compiler,
        }
        .run_within(
            &mut channel,
            &reporter,
            &mut HostSummary::default(),
            Duration::from_millis(200),
        );
        assert_eq!(
            result.unwrap_err().to_string(),
            "no progress from the runtime within 200ms while sending to it: it was given up on"
        );
        // Closing our end with the message still buffered does not wait either.
        drop(std::mem::replace(
            &mut channel.writer,
            Box::new(std::io::sink()),
        ));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        drop(unread);
    }
}
