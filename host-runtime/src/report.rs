//! Outcomes of forms, summaries per host, and the exit code Consfigurator
//! uses (0 no change, 23 changes, 22 failures). Printing them is `reporter`.

use serde::{Deserialize, Serialize};

use crate::form::Form;
use crate::overlay::{Entry, FileChange};

#[cfg(feature = "controller")]
pub use crate::reporter::Reporter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Unchanged,
    Changed,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unchanged => "unchanged",
            Status::Changed => "changed",
            Status::Failed => "failed",
        }
    }
}

/// What evaluating one form came to, with everything it printed or logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Log lines and the module's stdout/stderr, in order of arrival per stream.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output: String,
    /// Forms of subdeployments this form started, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nested: Vec<Nested>,
    /// In check mode: the files the form would change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FileChange>,
    /// In check mode: the commands it did not run, so could not know about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

/// A form a subdeployment evaluated, in the contexts it ran in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nested {
    /// The chain of contexts, e.g. `chroot:/srv/c1 → setuid:www`.
    pub context: String,
    pub form: Form,
    pub outcome: Outcome,
}

impl Outcome {
    pub fn failed(reason: impl Into<String>, output: String) -> Self {
        Outcome {
            status: Status::Failed,
            reason: Some(reason.into()),
            output,
            nested: Vec::new(),
            changes: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// Rewrite every text of this outcome with `f`: reason, output, and the
    /// forms and outcomes of its subdeployments (to blank out secrets).
    pub fn rewrite_text(&mut self, f: &dyn Fn(&str) -> String) {
        fn rewrite_value(value: &mut serde_json::Value, f: &dyn Fn(&str) -> String) {
            match value {
                serde_json::Value::String(s) => *s = f(s),
                serde_json::Value::Array(items) => {
                    items.iter_mut().for_each(|v| rewrite_value(v, f))
                }
                serde_json::Value::Object(map) => {
                    map.values_mut().for_each(|v| rewrite_value(v, f))
                }
                _ => {}
            }
        }
        if let Some(reason) = &mut self.reason {
            *reason = f(reason);
        }
        self.output = f(&self.output);
        for skipped in &mut self.skipped {
            *skipped = f(skipped);
        }
        for change in &mut self.changes {
            for entry in [&mut change.before, &mut change.after] {
                if let Entry::File { content, .. } = entry
                    && let Ok(text) = std::str::from_utf8(content)
                {
                    *content = f(text).into_bytes();
                }
            }
        }
        for nested in &mut self.nested {
            nested
                .form
                .args
                .iter_mut()
                .for_each(|v| rewrite_value(v, f));
            nested.outcome.rewrite_text(f);
        }
    }

    /// This outcome and those of every subdeployment under it.
    pub fn statuses(&self) -> Vec<Status> {
        let mut all = vec![self.status];
        for nested in &self.nested {
            all.extend(nested.outcome.statuses());
        }
        all
    }
}

/// Exit codes, as Consfigurator's.
pub const EXIT_UNCHANGED: i32 = 0;
pub const EXIT_CHANGED: i32 = 23;
pub const EXIT_FAILED: i32 = 22;

/// Totals for one host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HostSummary {
    pub changed: usize,
    pub unchanged: usize,
    pub failed: usize,
    /// Set when the host could not be deployed at all (connection, runtime, load).
    pub error: Option<String>,
    /// The error was in reaching the host: connecting, its key, logging in.
    pub unreachable: bool,
    pub modules_sent: usize,
    /// Module and runtime bytes sent, as they crossed the wire (compressed).
    pub bytes_sent: u64,
    pub runtime_bytes_sent: u64,
}

impl HostSummary {
    pub fn count(&mut self, status: Status) {
        match status {
            Status::Unchanged => self.unchanged += 1,
            Status::Changed => self.changed += 1,
            Status::Failed => self.failed += 1,
        }
    }

    /// One word for the recap.
    pub fn state(&self) -> &'static str {
        match (self.unreachable, &self.error, self.failed, self.changed) {
            (true, _, _, _) => "unreachable",
            (_, Some(_), _, _) | (_, _, 1.., _) => "failed",
            (_, _, _, 1..) => "changed",
            _ => "unchanged",
        }
    }

    pub fn exit_code(&self) -> i32 {
        if self.failed > 0 || self.error.is_some() {
            EXIT_FAILED
        } else if self.changed > 0 {
            EXIT_CHANGED
        } else {
            EXIT_UNCHANGED
        }
    }
}

/// The exit code of a deploy of several hosts: the worst of them.
pub fn combined_exit_code<'a>(summaries: impl IntoIterator<Item = &'a HostSummary>) -> i32 {
    summaries
        .into_iter()
        .map(HostSummary::exit_code)
        .fold(EXIT_UNCHANGED, |worst, code| match (worst, code) {
            (EXIT_FAILED, _) | (_, EXIT_FAILED) => EXIT_FAILED,
            (EXIT_CHANGED, _) | (_, EXIT_CHANGED) => EXIT_CHANGED,
            _ => EXIT_UNCHANGED,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_consfigurator() {
        let mut s = HostSummary::default();
        s.count(Status::Unchanged);
        assert_eq!(s.exit_code(), 0);
        s.count(Status::Changed);
        assert_eq!(s.exit_code(), 23);
        s.count(Status::Failed);
        assert_eq!(s.exit_code(), 22);
        let unreachable = HostSummary {
            error: Some("down".into()),
            ..Default::default()
        };
        assert_eq!(unreachable.exit_code(), 22);
        let changed = HostSummary {
            changed: 1,
            ..Default::default()
        };
        assert_eq!(combined_exit_code([&HostSummary::default(), &changed]), 23);
        assert_eq!(combined_exit_code([&changed, &unreachable]), 22);
        assert_eq!(combined_exit_code([]), 0);
    }
}
