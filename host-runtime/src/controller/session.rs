//! One host's conversation with its runtime: the greeting, the modules it
//! lacks, loading them under the deploy's policy, then the forms one by one
//! — answering the runtime's request for the bundle stub when a form needs
//! it — each outcome reported as it comes.

use std::io::Write;

use consfig_contract::{Context, Form};

use super::connection::RuntimeChannel;
use super::connection::bootstrap::RuntimeBinary;
use super::modules::ModuleFile;
use super::reporter::Reporter;
use super::summary::HostSummary;
use crate::sandbox::policy::Policy;
use crate::wire::outcome::Outcome;
use crate::wire::protocol::{self, FromRuntime, PROTOCOL_VERSION, ProtocolError, ToRuntime};
use crate::wire::redact;

/// One host's conversation with its runtime.
pub struct Session<'a> {
    pub host: &'a str,
    pub forms: &'a [Form],
    pub modules: &'a [ModuleFile],
    /// The deploy's policy with this host's data.
    pub policy: Policy,
    pub contexts: Vec<Context>,
    /// The bundle stub, for a runtime whose form asks for it.
    pub stub: &'a Result<RuntimeBinary, String>,
}

impl Session<'_> {
    pub fn run(
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
            stub,
        } = self;
        let (reader, writer) = (&mut channel.reader, &mut channel.writer);
        // Whatever the runtime sends, this host's data is blanked out of it.
        let redactor = policy.data.redactor();
        let lost = |e: protocol::ProtocolError| format!("lost the runtime: {e}");
        let cached = match redact::recv(reader, &redactor).map_err(lost)? {
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
                policy: Box::new(policy),
                contexts,
                stub: stub.as_ref().ok().map(|s| s.sha256.clone()),
            },
        )
        .map_err(lost)?;
        match redact::recv(reader, &redactor).map_err(lost)? {
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
            // While the form runs, the runtime may ask for the stub.
            let outcome = loop {
                let message = match redact::recv(reader, &redactor) {
                    // The frame was read whole, so the stream is still in
                    // step: only this form's report is lost, not the host.
                    Err(ProtocolError::Malformed(e)) => {
                        break Outcome::failed(
                            format!("the runtime's report of this form could not be read: {e}"),
                            String::new(),
                        );
                    }
                    other => other.map_err(lost)?,
                };
                match message {
                    FromRuntime::Outcome { id: got, outcome } if got == id => break outcome,
                    FromRuntime::NeedStub => {
                        let sent = send_stub(writer, stub).map_err(lost)?;
                        summary.runtime_bytes_sent += sent;
                        summary.bytes_sent += sent;
                    }
                    FromRuntime::Fatal { message } => return Err(format!("runtime: {message}")),
                    other => {
                        return Err(format!("unexpected message from the runtime: {other:?}"));
                    }
                }
            };
            for status in outcome.statuses() {
                summary.count(status);
            }
            reporter.form(host, index, form, &outcome);
        }
        protocol::send(writer, &ToRuntime::Finish).map_err(lost)?;
        Ok(())
    }
}

/// Send the runtime the stub, compressed, or why there is none; the bytes sent.
fn send_stub(
    writer: &mut impl Write,
    stub: &Result<RuntimeBinary, String>,
) -> Result<u64, ProtocolError> {
    let compressed = stub
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|stub| stub.compressed().map(|bytes| (stub, bytes)));
    match compressed {
        Ok((stub, bytes)) => {
            protocol::send(
                writer,
                &ToRuntime::Stub {
                    sha256: stub.sha256.clone(),
                    size: stub.size,
                    compressed_size: bytes.len() as u64,
                },
            )?;
            protocol::write_frame(writer, bytes)?;
            Ok(bytes.len() as u64)
        }
        Err(reason) => {
            protocol::send(writer, &ToRuntime::NoStub { reason })?;
            Ok(0)
        }
    }
}
