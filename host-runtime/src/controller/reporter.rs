//! How the controller reports outcomes: one line per form for people, or one
//! JSON object per event with `--json`; a summary per host; on a terminal, a
//! progress bar under the lines.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use consfig_contract::Form;

use super::diff::render_diff;
use super::summary::HostSummary;
use crate::wire::outcome::{Nested, Outcome, Status};

/// How much of an outcome the text shows.
#[derive(Clone, Copy)]
struct Detail {
    verbose: bool,
    /// Check mode: "would change", and what could not be known.
    check: bool,
    /// Check mode: a unified diff per file.
    diff: bool,
}

impl Detail {
    fn status(&self, status: Status) -> &'static str {
        match status {
            Status::Changed if self.check => "would change",
            other => other.as_str(),
        }
    }
}

/// One form's line, its reason and (when failed or verbose) its output.
fn render_line(out: &mut String, head: &str, outcome: &Outcome, indent: &str, detail: Detail) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!("{head} ... {}", detail.status(outcome.status)));
    if let Some(reason) = &outcome.reason {
        out.push_str(&format!(
            ": {}",
            reason.trim_end().replace('\n', &format!("\n{indent}    "))
        ));
    }
    if !outcome.skipped.is_empty() {
        let skipped: Vec<String> = outcome.skipped.iter().map(|c| format!("`{c}`")).collect();
        out.push_str(&format!(
            " (could not know: did not run {})",
            skipped.join(", ")
        ));
    }
    if (detail.verbose || outcome.status == Status::Failed) && !outcome.output.is_empty() {
        for line in outcome.output.trim_matches('\n').lines() {
            out.push_str(&format!("\n{indent}    | {line}"));
        }
    }
    if detail.diff {
        for change in &outcome.changes {
            for line in render_diff(change).lines() {
                out.push_str(&format!("\n{indent}    {line}"));
            }
        }
    }
}

fn render_nested(out: &mut String, host: &str, nested: &Nested, depth: usize, detail: Detail) {
    let indent = "  ".repeat(depth);
    let head = format!(
        "{host} :: {indent}[{}] {}",
        nested.context,
        nested.form.summary()
    );
    // Their changes are already in the diff of the form that asked for them,
    // in the paths of the host.
    let detail = Detail {
        diff: false,
        ..detail
    };
    render_line(out, &head, &nested.outcome, &indent, detail);
    for inner in &nested.outcome.nested {
        render_nested(out, host, inner, depth + 1, detail);
    }
}

/// Where events go: a terminal-friendly text stream, or JSON lines. Shared by
/// the threads deploying hosts in parallel; on a terminal, a progress bar
/// stays under the lines.
pub struct Reporter {
    out: Mutex<Box<dyn Write + Send>>,
    json: bool,
    verbose: bool,
    check: bool,
    diff: bool,
    progress: Option<ProgressBar>,
}

impl Reporter {
    pub fn new(out: Box<dyn Write + Send>, json: bool, verbose: bool) -> Self {
        Reporter {
            out: Mutex::new(out),
            json,
            verbose,
            check: false,
            diff: false,
            progress: None,
        }
    }

    /// Report a check (`--check`): "would change", skipped commands, and
    /// with `diff`, a unified diff per file.
    pub fn checking(mut self, diff: bool) -> Self {
        self.check = true;
        self.diff = diff;
        self
    }

    /// Report on stdout, with a progress bar over `forms` forms when it is a terminal.
    pub fn stdout(json: bool, verbose: bool, forms: usize) -> Self {
        let mut reporter = Self::new(Box::new(std::io::stdout()), json, verbose);
        if !json && std::io::stdout().is_terminal() {
            let bar = ProgressBar::new(forms as u64).with_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed}] {bar:30} {pos}/{len} forms {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            reporter.progress = Some(bar);
        }
        reporter
    }

    fn emit(&self, event: serde_json::Value, line: impl FnOnce() -> String) {
        if let (Some(bar), false) = (&self.progress, self.json) {
            bar.println(line());
            return;
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        // A closed stdout (e.g. `| head`) must not abort the deployment.
        let _ = if self.json {
            writeln!(out, "{event}")
        } else {
            writeln!(out, "{}", line())
        };
        let _ = out.flush();
    }

    /// Progress only: a host started or finished.
    pub fn hosts_progress(&self, message: String) {
        if let Some(bar) = &self.progress {
            bar.set_message(message);
        }
    }

    /// The recap of every host, at the end of a deploy of several.
    pub fn recap(&self, hosts: &[(String, HostSummary)]) {
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
        let width = hosts.iter().map(|(h, _)| h.len()).max().unwrap_or(0);
        let rows: Vec<_> = hosts
            .iter()
            .map(|(host, s)| {
                json!({"host": host, "state": s.state(), "changed": s.changed,
                                    "unchanged": s.unchanged, "failed": s.failed, "error": s.error,
                                    "bytes_sent": s.bytes_sent})
            })
            .collect();
        self.emit(json!({"event": "recap", "hosts": rows}), || {
            let mut text = String::from("recap:");
            for (host, s) in hosts {
                text.push_str(&format!(
                    "\n  {host:width$}  {:11}  {} changed, {} unchanged, {} failed, {} bytes sent",
                    s.state(),
                    s.changed,
                    s.unchanged,
                    s.failed,
                    s.bytes_sent
                ));
            }
            text
        });
    }

    pub fn modules_sent(
        &self,
        host: &str,
        sent: &[String],
        bytes: u64,
        runtime_bytes: u64,
        compiled: &[String],
    ) {
        let verbose = self.verbose;
        self.emit(
            json!({"event": "modules", "host": host, "sent": sent, "bytes": bytes,
                   "runtime_bytes": runtime_bytes, "compiled": compiled}),
            || {
                let mut line = if sent.is_empty() {
                    format!("{host} :: modules up to date, no module bytes sent")
                } else {
                    format!("{host} :: sent {} module(s), {} bytes", sent.len(), bytes)
                };
                if runtime_bytes > 0 {
                    line.push_str(&format!(", and the runtime, {runtime_bytes} bytes"));
                }
                if verbose {
                    for hash in sent {
                        line.push_str(&format!("\n{host} ::   sent {hash}"));
                    }
                    for hash in compiled {
                        line.push_str(&format!("\n{host} ::   compiled {hash}"));
                    }
                }
                line
            },
        );
    }

    pub fn form(&self, host: &str, index: usize, form: &Form, outcome: &Outcome) {
        if let Some(bar) = &self.progress {
            bar.inc(1);
        }
        let detail = Detail {
            verbose: self.verbose,
            check: self.check,
            diff: self.diff,
        };
        let nested_lines = |lines: &mut String| {
            for nested in &outcome.nested {
                render_nested(lines, host, nested, 1, detail);
            }
        };
        let mut event = json!({
            "event": "form", "host": host, "index": index, "form": form,
            "status": outcome.status, "reason": outcome.reason, "output": outcome.output,
            "nested": outcome.nested,
        });
        if self.check {
            event["status"] = json!(detail.status(outcome.status).replace(' ', "-"));
            event["changes"] = json!(
                outcome
                    .changes
                    .iter()
                    .map(|c| {
                        let mut change =
                            json!({"path": c.path, "before": c.before, "after": c.after});
                        if self.diff {
                            change["diff"] = json!(render_diff(c));
                        }
                        change
                    })
                    .collect::<Vec<_>>()
            );
            event["skipped"] = json!(outcome.skipped);
        }
        self.emit(event, || {
            let mut line = String::new();
            render_line(
                &mut line,
                &format!("{host} :: {}", form.summary()),
                outcome,
                "",
                detail,
            );
            nested_lines(&mut line);
            line
        });
    }

    /// Something the whole deploy should know, e.g. that a module runs trusted.
    pub fn notice(&self, message: &str) {
        self.emit(json!({"event": "notice", "message": message}), || {
            format!("note: {message}")
        });
    }

    pub fn host_error(&self, host: &str, error: &str, unreachable: bool) {
        let what = if unreachable { "UNREACHABLE" } else { "FAILED" };
        self.emit(
            json!({"event": "host-error", "host": host, "error": error, "unreachable": unreachable}),
            || format!("{host} :: {what}: {error}"),
        );
    }

    pub fn summary(&self, host: &str, s: &HostSummary) {
        self.emit(
            json!({"event": "summary", "host": host, "changed": s.changed, "unchanged": s.unchanged,
                   "failed": s.failed, "error": s.error, "unreachable": s.unreachable,
                   "modules_sent": s.modules_sent, "bytes_sent": s.bytes_sent,
                   "runtime_bytes_sent": s.runtime_bytes_sent, "exit_code": s.exit_code()}),
            || {
                let state = if s.error.is_some() {
                    ", not deployed"
                } else {
                    ""
                };
                let changed = if self.check {
                    "would change"
                } else {
                    "changed"
                };
                format!(
                    "{host}: {} {changed}, {} unchanged, {} failed{state}",
                    s.changed, s.unchanged, s.failed
                )
            },
        );
    }
}
