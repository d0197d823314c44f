//! The controller's side of a deployment: read the modules, validate every form
//! against them before anything connects, then for each host open its
//! connection, ship the modules the runtime lacks, stream the forms, and report.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cache::{Cache, sha256_hex};
use crate::connection::{self, Hop, RuntimeChannel};
use crate::context::Context;
use crate::engine::{self, Image, Recipe};
use crate::form::Form;
use crate::host_api::HostMode;
use crate::protocol::{self, FromRuntime, PROTOCOL_VERSION, ToRuntime};
use crate::report::{HostSummary, Reporter};

/// Default per-form time limit, as the documentation promises.
pub const DEFAULT_FORM_TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("module {path}: {source}")]
    ReadModule {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
}

/// A module file as the controller read it.
#[derive(Debug, Clone)]
pub struct ModuleFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

pub fn read_modules(paths: &[PathBuf]) -> Result<Vec<ModuleFile>, DeployError> {
    paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).map_err(|source| DeployError::ReadModule {
                path: path.clone(),
                source,
            })?;
            Ok(ModuleFile {
                sha256: sha256_hex(&bytes),
                path: path.clone(),
                bytes,
            })
        })
        .collect()
}

/// The modules loaded on the controller, where no host call may act: to describe
/// them and to validate forms before anything connects.
pub struct Inspector {
    image: Image,
}

impl Inspector {
    pub fn new(modules: &[ModuleFile]) -> Result<Self, DeployError> {
        let cache = Cache::from_env()?;
        let engine = engine::new_engine()?;
        let (recipe, _) = Recipe::compile(
            &engine,
            &cache,
            modules.iter().map(|m| {
                (
                    m.path.display().to_string(),
                    m.sha256.as_str(),
                    m.bytes.as_slice(),
                )
            }),
        )?;
        let image = Image::new(&recipe, HostMode::Inspect)?;
        Ok(Inspector { image })
    }

    pub fn validate(&mut self, form: &Form) -> Result<(), String> {
        self.image.validate(form)
    }

    pub fn image(&self) -> &Image {
        &self.image
    }
}

#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The `consfig` executable to start as the runtime.
    pub runtime_exe: PathBuf,
    pub form_timeout: Duration,
}

impl DeployOptions {
    pub fn new(runtime_exe: impl AsRef<Path>) -> Self {
        DeployOptions {
            runtime_exe: runtime_exe.as_ref().to_owned(),
            form_timeout: DEFAULT_FORM_TIMEOUT,
        }
    }
}

/// Deploy `forms` to one host. Failures of single forms are counted; failures
/// that stop the host (connection, runtime) are in the summary's `error`.
pub fn deploy_host(
    host: &str,
    hops: &[Hop],
    forms: &[Form],
    modules: &[ModuleFile],
    options: &DeployOptions,
    reporter: &mut Reporter,
) -> HostSummary {
    let mut summary = HostSummary::default();
    let (mut channel, contexts) = match connection::open(hops, &options.runtime_exe) {
        Ok(opened) => opened,
        Err(e) => {
            let error = e.to_string();
            reporter.host_error(host, &error);
            summary.error = Some(error);
            return summary;
        }
    };
    let session = Session {
        host,
        forms,
        modules,
        options,
        contexts,
    };
    let result = session.run(&mut channel, reporter, &mut summary);
    // Close our end first, so the runtime sees the end of input whatever happened.
    drop(std::mem::replace(
        &mut channel.writer,
        Box::new(std::io::sink()),
    ));
    let diagnostics = channel.process.finish();
    if let Err(error) = result {
        let diagnostics = diagnostics.trim();
        let error = if diagnostics.is_empty() {
            error
        } else {
            format!("{error}\nruntime said: {diagnostics}")
        };
        reporter.host_error(host, &error);
        summary.error = Some(error);
    }
    summary
}

/// One host's conversation with its runtime.
struct Session<'a> {
    host: &'a str,
    forms: &'a [Form],
    modules: &'a [ModuleFile],
    options: &'a DeployOptions,
    contexts: Vec<Context>,
}

impl Session<'_> {
    fn run(
        self,
        channel: &mut RuntimeChannel,
        reporter: &mut Reporter,
        summary: &mut HostSummary,
    ) -> Result<(), String> {
        let Session {
            host,
            forms,
            modules,
            options,
            contexts,
        } = self;
        let (reader, writer) = (&mut channel.reader, &mut channel.writer);
        let lost = |e: protocol::ProtocolError| format!("lost the runtime: {e}");
        let cached = match protocol::recv(reader).map_err(lost)? {
            FromRuntime::Hello {
                protocol: PROTOCOL_VERSION,
                cached_modules,
                ..
            } => cached_modules,
            FromRuntime::Hello {
                protocol,
                runtime_version,
                ..
            } => {
                return Err(format!(
                    "runtime {runtime_version} speaks protocol {protocol}, this controller {PROTOCOL_VERSION}"
                ));
            }
            FromRuntime::Fatal { message } => return Err(format!("runtime: {message}")),
            other => return Err(format!("runtime did not greet: {other:?}")),
        };

        let mut sent = Vec::new();
        for module in modules.iter().filter(|m| !cached.contains(&m.sha256)) {
            protocol::send(
                writer,
                &ToRuntime::Module {
                    sha256: module.sha256.clone(),
                    size: module.bytes.len() as u64,
                },
            )
            .map_err(lost)?;
            protocol::write_frame(writer, &module.bytes).map_err(lost)?;
            sent.push(module.sha256.clone());
            summary.bytes_sent += module.bytes.len() as u64;
        }
        summary.modules_sent = sent.len();
        protocol::send(
            writer,
            &ToRuntime::Load {
                modules: modules.iter().map(|m| m.sha256.clone()).collect(),
                form_timeout_ms: options
                    .form_timeout
                    .as_millis()
                    .try_into()
                    .unwrap_or(u64::MAX),
                contexts,
            },
        )
        .map_err(lost)?;
        match protocol::recv(reader).map_err(lost)? {
            FromRuntime::Ready {
                received_modules,
                received_bytes,
                compiled_modules,
            } => {
                if received_bytes != summary.bytes_sent || received_modules != sent {
                    return Err(format!(
                        "runtime received {received_bytes} bytes in {} modules, but {} in {} were sent",
                        received_modules.len(),
                        summary.bytes_sent,
                        sent.len()
                    ));
                }
                reporter.modules_sent(host, &sent, received_bytes, &compiled_modules);
            }
            FromRuntime::Fatal { message } => return Err(format!("runtime: {message}")),
            other => return Err(format!("unexpected message from the runtime: {other:?}")),
        }

        for (index, form) in forms.iter().enumerate() {
            let id = index as u64;
            protocol::send(
                writer,
                &ToRuntime::Apply {
                    id,
                    form: form.clone(),
                },
            )
            .map_err(lost)?;
            match protocol::recv(reader).map_err(lost)? {
                FromRuntime::Outcome { id: got, outcome } if got == id => {
                    for status in outcome.statuses() {
                        summary.count(status);
                    }
                    reporter.form(host, index, form, &outcome);
                }
                FromRuntime::Fatal { message } => return Err(format!("runtime: {message}")),
                other => return Err(format!("unexpected message from the runtime: {other:?}")),
            }
        }
        protocol::send(writer, &ToRuntime::Finish).map_err(lost)?;
        Ok(())
    }
}
