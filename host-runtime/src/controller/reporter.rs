//! How the controller reports outcomes: one line per form for people, or one
//! JSON object per event with `--json`; a summary per host; on a terminal, a
//! progress bar under the lines.
//!
//! Nothing a runtime or a module says is trusted to be fit for a terminal:
//! every line goes out with its control characters made visible, and a
//! host's text that spans lines has them indented under its own, so that no
//! line of one host's passes for another's, or for the controller's.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use consfig_contract::Form;

use super::diff::render_diff;
use super::summary::HostSummary;
use crate::sandbox::overlay::{Entry, FileChange};
use crate::wire::outcome::{Nested, Outcome, Status};
use crate::wire::terminal::{escape, json_line, one_line};

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

/// A duration for people: milliseconds under a second, else seconds.
fn show_duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// One form's line, its reason and (when failed, unknown or verbose) its
/// output, and with `--diff` the diff of each of `changes`.
fn render_line(
    out: &mut String,
    head: &str,
    outcome: &Outcome,
    changes: &[FileChange],
    indent: &str,
    detail: Detail,
) {
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
    let quoted = |commands: &[String]| -> Vec<String> {
        commands
            .iter()
            .map(|c| format!("`{}`", one_line(c)))
            .collect()
    };
    if outcome.status == Status::Unknown {
        // The steps include the form's own skipped commands.
        let steps: Vec<String> = outcome
            .unknown_after
            .iter()
            .map(|step| one_line(&step.to_string()).into_owned())
            .collect();
        out.push_str(&format!(" (not known: check mode {})", steps.join(", ")));
    } else if !outcome.skipped.is_empty() {
        out.push_str(&format!(
            " (could not know: did not run {})",
            quoted(&outcome.skipped).join(", ")
        ));
    }
    if detail.verbose
        && let Some(ms) = outcome.duration_ms
    {
        out.push_str(&format!(" [{}]", show_duration(ms)));
    }
    let failed = matches!(outcome.status, Status::Failed | Status::Unknown);
    if (detail.verbose || failed) && !outcome.output.is_empty() {
        for line in outcome.output.trim_matches('\n').lines() {
            out.push_str(&format!("\n{indent}    | {line}"));
        }
    }
    if detail.diff {
        for change in changes {
            for line in render_diff(change).lines() {
                out.push_str(&format!("\n{indent}    {line}"));
            }
        }
    }
}

/// The changes an outcome made itself, not through its subdeployments
/// (which also reach its changes, in its paths), seen from `root`.
fn own_changes(outcome: &Outcome, root: &Path) -> Vec<FileChange> {
    let from_nested: HashSet<PathBuf> = outcome
        .nested
        .iter()
        .flat_map(|n| {
            n.outcome
                .changes
                .iter()
                .map(|c| c.seen_outside(&n.root).path)
        })
        .collect();
    outcome
        .changes
        .iter()
        .filter(|c| !from_nested.contains(&c.path))
        .map(|c| c.seen_outside(root))
        .collect()
}

/// A subdeployment's form and those under it, each with the diff of its
/// own changes, in the paths of the host (`root` is where its parent's
/// `/` is).
fn render_nested(
    out: &mut String,
    host: &str,
    nested: &Nested,
    root: &Path,
    depth: usize,
    detail: Detail,
) {
    let indent = "  ".repeat(depth);
    let head = format!(
        "{host} :: {indent}[{}] {}",
        one_line(&nested.context),
        one_line(&nested.form.summary().to_string())
    );
    let root = FileChange {
        path: nested.root.clone(),
        before: Entry::Other,
        after: Entry::Other,
    }
    .seen_outside(root)
    .path;
    let changes = if detail.diff {
        own_changes(&nested.outcome, &root)
    } else {
        Vec::new()
    };
    render_line(out, &head, &nested.outcome, &changes, &indent, detail);
    for inner in &nested.outcome.nested {
        render_nested(out, host, inner, &root, depth + 1, detail);
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
            bar.println(escape(&line()));
            return;
        }
        let text = if self.json {
            json_line(&event)
        } else {
            escape(&line()).into_owned()
        };
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        // A closed stdout (e.g. `| head`) must not abort the deployment.
        let _ = writeln!(out, "{text}");
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
                       "unchanged": s.unchanged, "failed": s.failed, "unknown": s.unknown,
                       "error": s.error, "bytes_sent": s.bytes_sent})
            })
            .collect();
        self.emit(json!({"event": "recap", "hosts": rows}), || {
            let mut text = String::from("recap:");
            for (host, s) in hosts {
                text.push_str(&format!(
                    "\n  {host:width$}  {:11}  {} changed, {} unchanged, {} failed, {} unknown, {} bytes sent",
                    s.state(),
                    s.changed,
                    s.unchanged,
                    s.failed,
                    s.unknown,
                    s.bytes_sent
                ));
            }
            text
        });
    }

    pub fn modules_sent(
        &self,
        host: &str,
        arch: &str,
        sent: &[String],
        bytes: u64,
        runtime_bytes: u64,
        compiled: &[String],
    ) {
        let verbose = self.verbose;
        self.emit(
            json!({"event": "modules", "host": host, "arch": arch, "sent": sent, "bytes": bytes,
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
                        line.push_str(&format!("\n{host} ::   compiled {hash} for {arch}"));
                    }
                }
                line
            },
        );
    }

    /// The files of the consfig a host's forms name: those sent now (by
    /// path), their bytes on the wire, and how many the host has in all.
    pub fn files_sent(&self, host: &str, sent: &[String], bytes: u64, total: usize) {
        let verbose = self.verbose;
        self.emit(
            json!({"event": "files", "host": host, "sent": sent, "bytes": bytes, "files": total}),
            || {
                let mut line = if sent.is_empty() {
                    format!(
                        "{host} :: files of the consfig up to date ({total}), no file bytes sent"
                    )
                } else {
                    format!(
                        "{host} :: sent {} of {total} file(s) of the consfig, {bytes} bytes",
                        sent.len()
                    )
                };
                if verbose {
                    for path in sent {
                        line.push_str(&format!("\n{host} ::   sent {path}"));
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
                render_nested(lines, host, nested, Path::new("/"), 1, detail);
            }
        };
        let mut event = json!({
            "event": "form", "host": host, "index": index, "form": form,
            "status": outcome.status, "reason": outcome.reason, "output": outcome.output,
            "nested": outcome.nested, "duration_ms": outcome.duration_ms,
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
            event["unknown_after"] = json!(outcome.unknown_after);
        }
        self.emit(event, || {
            let mut line = String::new();
            // Its subdeployments' changes show under their own lines.
            let changes = if detail.diff {
                own_changes(outcome, Path::new("/"))
            } else {
                Vec::new()
            };
            render_line(
                &mut line,
                &format!("{host} :: {}", form.summary()),
                outcome,
                &changes,
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
            || {
                format!(
                    "{host} :: {what}: {}",
                    error.trim_end().replace('\n', "\n    ")
                )
            },
        );
    }

    pub fn summary(&self, host: &str, s: &HostSummary) {
        self.emit(
            json!({"event": "summary", "host": host, "changed": s.changed, "unchanged": s.unchanged,
                   "failed": s.failed, "unknown": s.unknown, "error": s.error, "unreachable": s.unreachable,
                   "modules_sent": s.modules_sent, "files_sent": s.files_sent, "bytes_sent": s.bytes_sent,
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
                let unknown = if self.check || s.unknown > 0 {
                    format!(", {} unknown", s.unknown)
                } else {
                    String::new()
                };
                format!(
                    "{host}: {} {changed}, {} unchanged, {} failed{unknown}{state}",
                    s.changed, s.unchanged, s.failed
                )
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::sandbox::overlay::Unknowable;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// An outcome whose every text tries to redraw the terminal or to pass
    /// for a line of another host's.
    fn hostile() -> Outcome {
        let lie = "\x1b[1A\x1b[2K\rweb2 :: file:absent /x ... unchanged\u{9b}2K\u{7f}\u{202e}";
        let mut inner = Outcome::failed(format!("inner {lie}"), format!("inner out {lie}\n"));
        inner.skipped.push(format!("rm -rf /\nweb2 :: {lie}"));
        let mut outcome = Outcome::failed(
            format!("reason {lie}\nweb2 :: line two {lie}"),
            format!("out {lie}\nweb2 :: out two\r\n"),
        );
        outcome.skipped.push(format!("cmd\nweb2 :: {lie}"));
        outcome.changes.push(FileChange {
            path: format!("/etc/x\nweb2 :: {lie}").into(),
            before: Entry::Absent,
            after: Entry::File {
                content: format!("line {lie}\nweb2 :: {lie}\n").into_bytes(),
                mode: 0o644,
                owner: None,
            },
        });
        outcome.nested.push(Nested {
            context: format!("chroot:/c\nweb2 :: {lie}"),
            root: "/c".into(),
            form: (&Form::parse(
                &serde_json::json!(["testing:echo", format!("a b\n{lie}")]).to_string(),
            )
            .unwrap())
                .into(),
            outcome: inner,
        });
        outcome
    }

    fn report(json: bool, check: bool) -> String {
        let out = Shared::default();
        let mut reporter = Reporter::new(Box::new(out.clone()), json, true);
        if check {
            reporter = reporter.checking(true);
        }
        let form = Form::parse(r#"["testing:echo", "x"]"#).unwrap();
        reporter.form("web1", 0, &form, &hostile());
        reporter.host_error("web1", "runtime: said\nweb2 :: FAILED: \x1b[31mno", false);
        reporter.modules_sent(
            "web1",
            "x86_64",
            &[],
            0,
            0,
            &["\x1b]0;title\x07".to_owned()],
        );
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn text_shows_control_characters_escaped_and_every_line_is_the_hosts_own() {
        for check in [false, true] {
            let text = report(false, check);
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "raw control characters: {text}"
            );
            assert!(!text.contains('\u{202e}'), "{text}");
            assert!(
                text.contains(
                    r"\x1b[1A\x1b[2K\rweb2 :: file:absent /x ... unchanged\u{9b}2K\x7f\u{202e}"
                ),
                "{text}"
            );
            for line in text.lines() {
                assert!(
                    line.starts_with("web1 :: ") || line.starts_with(' '),
                    "a line that is not web1's: {line:?} in\n{text}"
                );
            }
        }
    }

    #[test]
    fn json_lines_carry_no_raw_control_characters() {
        let text = report(true, true);
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
        assert!(!text.contains('\u{202e}'), "{text}");
        for line in text.lines() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(event["host"], "web1", "{line}");
        }
        assert!(text.contains(r"\u009b2K\u007f\u202e"), "{text}");
    }

    /// A check's report of a subdeployment in a chroot at /c, whose form
    /// would write /etc/motd there (so /c/etc/motd for the form that
    /// started it) and whose other form is unknown.
    fn checked() -> Outcome {
        let motd = FileChange {
            path: "/etc/motd".into(),
            before: Entry::Absent,
            after: Entry::text("inside\n"),
        };
        let mut inner = Outcome::failed("", String::new());
        inner.status = Status::Changed;
        inner.reason = None;
        inner.changes.push(motd.clone());
        inner.duration_ms = Some(1500);
        let mut unknown = Outcome::failed("no such file", String::new());
        unknown.settle_check(false, &[], &[Unknowable::NotRun("make".into())]);
        let mut outer = Outcome::failed("1 of 2 forms could not be known", String::new());
        outer.changes.push(motd.seen_outside(Path::new("/c")));
        outer.changes.push(FileChange {
            path: "/etc/own".into(),
            before: Entry::Absent,
            after: Entry::text("own\n"),
        });
        outer.duration_ms = Some(7);
        for outcome in [inner, unknown] {
            outer.nested.push(Nested {
                context: "chroot:/c".into(),
                root: "/c".into(),
                form: (&Form::parse(r#"["testing:echo", "x"]"#).unwrap()).into(),
                outcome,
            });
        }
        outer.settle_check(false, &[], &[]);
        outer
    }

    #[test]
    fn a_check_shows_each_diff_under_its_own_form_and_says_what_it_could_not_know() {
        let out = Shared::default();
        let reporter = Reporter::new(Box::new(out.clone()), false, true).checking(true);
        let form = Form::parse(r#"["testing:subdeploy-forms", ["chroot:/c"], []]"#).unwrap();
        reporter.form("web1", 0, &form, &checked());
        let mut summary = HostSummary::default();
        summary.count(checked().status);
        reporter.summary("web1", &summary);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let at = |needle: &str| {
            lines
                .iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
        };
        assert!(
            lines[0].ends_with(
                "... unknown: 1 of 2 forms could not be known (not known: check mode did not run `make`) [7 ms]"
            ),
            "{text}"
        );
        let nested = at("[chroot:/c] testing:echo x ... would change [1.5 s]");
        assert!(
            at("+++ /etc/own") < nested,
            "its own change under it:\n{text}"
        );
        assert!(
            nested < at("+++ /c/etc/motd"),
            "the chroot's under the chroot's form, in the host's paths:\n{text}"
        );
        assert_eq!(text.matches("/etc/motd").count(), 2, "once: {text}");
        assert!(text.contains("web1: 0 would change, 0 unchanged, 0 failed, 1 unknown"));
    }

    #[test]
    fn json_gives_durations_and_what_makes_a_form_unknown() {
        let out = Shared::default();
        let reporter = Reporter::new(Box::new(out.clone()), true, false).checking(false);
        let form = Form::parse(r#"["testing:echo", "x"]"#).unwrap();
        reporter.form("web1", 0, &form, &checked());
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let event: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(event["status"], "unknown");
        assert_eq!(event["duration_ms"], 7);
        assert_eq!(
            event["unknown_after"],
            json!([{"step": "not-run", "command": "make"}])
        );
        assert_eq!(event["nested"][0]["outcome"]["duration_ms"], 1500);
        assert_eq!(event["nested"][0]["root"], "/c");
    }
}
