//! Deploying hosts: several at a time, each through its connection chain to
//! a runtime, whose conversation is the [`Session`]'s. One host's failure or
//! unreachability never stops the others.

use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::connection::become_user::Passwords;
use super::connection::bootstrap::Secret;
use super::connection::{self, ssh::SshOptions};
use super::data_sources::{self, read_secret_file};
use super::modules::ModuleFile;
use super::plan::{DeployOptions, HostPlan};
use super::reporter::Reporter;
use super::session::Session;
use super::summary::HostSummary;

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
                    // A host whose runtime found a bug in the controller costs
                    // that host, not the deploy of the others.
                    let summary = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        deploy_host(plan, modules, options, reporter)
                    }))
                    .unwrap_or_else(|_| {
                        let error = "internal error of the controller while deploying this host (its message is on standard error); the other hosts are unaffected".to_owned();
                        reporter.host_error(&plan.name, &error, false);
                        HostSummary {
                            error: Some(error),
                            ..HostSummary::default()
                        }
                    });
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
    let passwords = match read_passwords(plan) {
        Ok(passwords) => passwords,
        Err(error) => {
            reporter.host_error(host, &error, false);
            summary.error = Some(error);
            return summary;
        }
    };
    let mut policy = options.policy.clone();
    policy.vars = plan.vars.clone();
    // Before anything connects: a value that cannot be read stops this
    // host only, and its error holds no value.
    match data_sources::read_all(&plan.data) {
        Ok(data) => policy.data = data,
        Err(e) => {
            let error = e.to_string();
            reporter.host_error(host, &error, false);
            summary.error = Some(error);
            return summary;
        }
    }
    let ssh = SshOptions {
        accept_new_host_keys: options.accept_new_host_keys,
        identity_files: plan.identity_files.clone(),
        passwords,
        config_file: plan.ssh_config_file.clone(),
    };
    let (mut channel, contexts) = match connection::open(&plan.hops, &options.runtimes, &ssh) {
        Ok(opened) => opened,
        Err(e) => {
            let error = e.to_string();
            reporter.host_error(host, &error, true);
            summary.error = Some(error);
            summary.unreachable = true;
            return summary;
        }
    };
    // What the runtime said on stderr, and why it ended, may hold the
    // host's data: blanked before it is reported.
    let redactor = policy.data.redactor();
    summary.runtime_bytes_sent = channel.runtime_bytes_sent;
    summary.bytes_sent = channel.runtime_bytes_sent;
    let session = Session {
        host,
        forms: &plan.forms,
        modules,
        files: &plan.files,
        policy,
        contexts,
        compiler: &options.compiler,
    };
    let result = session.run(&mut channel, reporter, &mut summary);
    // Close our end first, so the runtime sees the end of input whatever happened.
    drop(std::mem::replace(
        &mut channel.writer,
        Box::new(std::io::sink()),
    ));
    let diagnostics = channel.process.finish();
    if let Err(error) = result {
        let error = error.to_string();
        let diagnostics = diagnostics.trim();
        let error = if diagnostics.is_empty() {
            error
        } else {
            format!("{error}\nruntime said: {diagnostics}")
        };
        let error = redactor.text(&error).into_owned();
        reporter.host_error(host, &error, false);
        summary.error = Some(error);
    }
    summary
}

/// The most a password file may hold.
const MAX_PASSWORD_FILE: u64 = 64 << 10;

/// The passwords of `plan`'s password files, each the file's first line.
/// An error names the setting and the file, never what it holds.
fn read_passwords(plan: &HostPlan) -> Result<Passwords, String> {
    let read = |setting: &str, path: &Option<std::path::PathBuf>| -> Result<_, String> {
        match path {
            None => Ok(None),
            Some(path) => {
                let bytes = read_secret_file(path, MAX_PASSWORD_FILE)
                    .map_err(|e| format!("{setting} {e}"))?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("{setting} {}: not UTF-8 text", path.display()))?;
                Ok(Some(Secret(
                    text.lines().next().unwrap_or_default().to_owned(),
                )))
            }
        }
    };
    Ok(Passwords {
        sudo: read("sudo-password-file", &plan.sudo_password_file)?,
        su: read("su-password-file", &plan.su_password_file)?,
    })
}
