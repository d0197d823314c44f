//! The controller's side of a deployment: read the modules, validate every form
//! against them before anything connects, then for each host open its
//! connection, ship the modules the runtime lacks, stream the forms, and report.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::cache::{Cache, sha256_hex};
use crate::connection::bootstrap::{RuntimeBinary, Secret};
use crate::connection::ssh::SshOptions;
use crate::connection::{self, Hop, RuntimeChannel};
use crate::context::Context;
use crate::engine::{self, Image, Recipe};
use crate::form::Form;
use crate::host_api::HostMode;
use crate::policy::Policy;
use crate::protocol::{self, FromRuntime, PROTOCOL_VERSION, ToRuntime};
use crate::report::{HostSummary, Reporter};

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
#[derive(Debug)]
pub struct ModuleFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
    /// Gzip of the bytes, as shipped; made once, when first needed.
    compressed: OnceLock<Vec<u8>>,
}

impl ModuleFile {
    pub fn compressed(&self) -> &[u8] {
        self.compressed.get_or_init(|| {
            let mut gz = GzEncoder::new(Vec::new(), Compression::best());
            gz.write_all(&self.bytes).expect("writing to memory");
            gz.finish().expect("writing to memory")
        })
    }
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
                compressed: OnceLock::new(),
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

pub struct DeployOptions {
    /// This controller's binary, started locally or shipped to targets as the runtime.
    pub runtime: RuntimeBinary,
    /// The bundle stub, shipped to targets whose forms write bundles; none when
    /// it is not installed (those forms then fail saying so).
    pub stub: Option<RuntimeBinary>,
    /// Limits for every form, and per module.
    pub policy: Policy,
    pub accept_new_host_keys: bool,
    /// Hosts deployed at once.
    pub jobs: usize,
}

/// Hosts deployed at once unless told otherwise: each host mostly waits on its
/// network and its target, so more than the controller's cores.
pub const DEFAULT_JOBS: usize = 16;

impl DeployOptions {
    pub fn new(runtime_exe: impl AsRef<Path>) -> std::io::Result<Self> {
        Ok(DeployOptions {
            runtime: RuntimeBinary::load(runtime_exe.as_ref())?,
            stub: RuntimeBinary::load(&crate::bundle::stub_path(runtime_exe.as_ref())).ok(),
            policy: Policy::default(),
            accept_new_host_keys: false,
            jobs: DEFAULT_JOBS,
        })
    }
}

/// One host to deploy: how to reach it and what to apply.
#[derive(Debug, Clone)]
pub struct HostPlan {
    pub name: String,
    pub hops: Vec<Hop>,
    pub forms: Vec<Form>,
    /// SSH identity files named for this host in Consfig.toml.
    pub identity_files: Vec<PathBuf>,
    /// A file holding the login user's password, for a `sudo` hop that needs one.
    pub sudo_password_file: Option<PathBuf>,
    /// Files of this host's data, by key: read when the host is deployed and
    /// sent to its runtime only.
    pub data_files: BTreeMap<String, PathBuf>,
}

impl HostPlan {
    /// Whether any form, at any depth of forms given to forms, writes a bundle.
    pub fn writes_bundles(&self) -> bool {
        fn mentions(value: &serde_json::Value) -> bool {
            match value {
                serde_json::Value::String(s) => s == "image:dumped",
                serde_json::Value::Array(items) => items.iter().any(mentions),
                serde_json::Value::Object(map) => map.values().any(mentions),
                _ => false,
            }
        }
        self.forms.iter().any(|f| mentions(&f.to_value()))
    }
}

/// Deploy several hosts, `options.jobs` at a time. One host's failure or
/// unreachability never stops the others. Summaries come back in plan order.
pub fn deploy_hosts(
    plans: &[HostPlan],
    modules: &[ModuleFile],
    options: &DeployOptions,
    reporter: &Reporter,
) -> Vec<HostSummary> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<HostSummary>>> = Mutex::new(vec![None; plans.len()]);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.clamp(1, plans.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(plan) = plans.get(index) else { break };
                    let summary = deploy_host(plan, modules, options, reporter);
                    reporter.summary(&plan.name, &summary);
                    let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                    reporter.hosts_progress(format!("({finished}/{} hosts done)", plans.len()));
                    results.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(summary);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|s| s.expect("every host deployed"))
        .collect()
}

/// Deploy one host. Failures of single forms are counted; failures that stop
/// the host (connection, runtime) are in the summary's `error`.
pub fn deploy_host(
    plan: &HostPlan,
    modules: &[ModuleFile],
    options: &DeployOptions,
    reporter: &Reporter,
) -> HostSummary {
    let host = plan.name.as_str();
    let mut summary = HostSummary::default();
    let sudo_password = match &plan.sudo_password_file {
        None => None,
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => Some(Secret(text.lines().next().unwrap_or_default().to_owned())),
            Err(e) => {
                let error = format!("sudo-password-file {}: {e}", path.display());
                reporter.host_error(host, &error, false);
                summary.error = Some(error);
                return summary;
            }
        },
    };
    let mut policy = options.policy.clone();
    for (key, path) in &plan.data_files {
        match std::fs::read(path) {
            Ok(value) => policy.data.insert(key.clone(), value),
            Err(e) => {
                let error = format!("data {key}: {}: {e}", path.display());
                reporter.host_error(host, &error, false);
                summary.error = Some(error);
                return summary;
            }
        }
    }
    let ssh = SshOptions {
        accept_new_host_keys: options.accept_new_host_keys,
        identity_files: plan.identity_files.clone(),
        sudo_password,
    };
    let stub = options.stub.as_ref().filter(|_| plan.writes_bundles());
    let (mut channel, contexts) = match connection::open(&plan.hops, &options.runtime, stub, &ssh) {
        Ok(opened) => opened,
        Err(e) => {
            let error = e.to_string();
            reporter.host_error(host, &error, true);
            summary.error = Some(error);
            summary.unreachable = true;
            return summary;
        }
    };
    summary.runtime_bytes_sent = channel.runtime_bytes_sent;
    summary.bytes_sent = channel.runtime_bytes_sent;
    let session = Session {
        host,
        forms: &plan.forms,
        modules,
        policy,
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
        reporter.host_error(host, &error, false);
        summary.error = Some(error);
    }
    summary
}

/// One host's conversation with its runtime.
struct Session<'a> {
    host: &'a str,
    forms: &'a [Form],
    modules: &'a [ModuleFile],
    /// The deploy's policy with this host's data.
    policy: Policy,
    contexts: Vec<Context>,
}

impl Session<'_> {
    fn run(
        self,
        channel: &mut RuntimeChannel,
        reporter: &Reporter,
        summary: &mut HostSummary,
    ) -> Result<(), String> {
        let Session {
            host,
            forms,
            modules,
            policy,
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
        let mut module_bytes = 0;
        for module in modules.iter().filter(|m| !cached.contains(&m.sha256)) {
            let compressed = module.compressed();
            protocol::send(
                writer,
                &ToRuntime::Module {
                    sha256: module.sha256.clone(),
                    size: module.bytes.len() as u64,
                    compressed_size: compressed.len() as u64,
                },
            )
            .map_err(lost)?;
            protocol::write_frame(writer, compressed).map_err(lost)?;
            sent.push(module.sha256.clone());
            module_bytes += compressed.len() as u64;
        }
        summary.modules_sent = sent.len();
        summary.bytes_sent += module_bytes;
        protocol::send(
            writer,
            &ToRuntime::Load {
                modules: modules.iter().map(|m| m.sha256.clone()).collect(),
                policy,
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
                if received_bytes != module_bytes || received_modules != sent {
                    return Err(format!(
                        "runtime received {received_bytes} bytes in {} modules, but {module_bytes} in {} were sent",
                        received_modules.len(),
                        sent.len()
                    ));
                }
                reporter.modules_sent(
                    host,
                    &sent,
                    received_bytes,
                    summary.runtime_bytes_sent,
                    &compiled_modules,
                );
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
