//! What a form came to, as the runtime reports it to the controller: its
//! status, reason and output, the forms of its subdeployments, and in check
//! mode the files it would change and the commands it skipped.

use consfig_contract::Form;
use serde::{Deserialize, Serialize};

use crate::sandbox::overlay::{Entry, FileChange};

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

/// The most of a failure's reason kept: a module chooses its reasons, and
/// a reason is not output, to escape the output limit through.
pub const MAX_REASON: usize = 8 << 10;

/// `reason`, cut to [`MAX_REASON`] bytes (at a character boundary) with a
/// note of how much was cut.
pub fn bounded_reason(mut reason: String) -> String {
    if reason.len() <= MAX_REASON {
        return reason;
    }
    let mut end = MAX_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let cut = reason.len() - end;
    reason.truncate(end);
    reason.push_str(&format!("… ({cut} more bytes cut)"));
    reason
}

impl Outcome {
    /// A failed outcome; its reason is held to [`MAX_REASON`].
    pub fn failed(reason: impl Into<String>, output: String) -> Self {
        Outcome {
            status: Status::Failed,
            reason: Some(bounded_reason(reason.into())),
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
                .args_mut()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_cut_at_the_limit() {
        let short = Outcome::failed("short", String::new());
        assert_eq!(short.reason.as_deref(), Some("short"));
        let flood = Outcome::failed("é".repeat(20 << 20), String::new());
        let reason = flood.reason.unwrap();
        assert!(reason.len() <= MAX_REASON + 40, "{}", reason.len());
        assert!(
            reason.ends_with(" more bytes cut)"),
            "{}",
            &reason[reason.len() - 40..]
        );
        assert!(reason.starts_with("éé"));
    }

    #[test]
    fn rewriting_reaches_every_text_of_nested_outcomes() {
        let secret = |text: &str| text.replace("hunter2", "[data db]");
        let mut inner = Outcome::failed("inner hunter2", "out hunter2\n".into());
        inner.skipped.push("echo hunter2".into());
        inner.changes.push(FileChange {
            path: "/etc/db".into(),
            before: Entry::Absent,
            after: Entry::File {
                content: b"password=hunter2\n".to_vec(),
                mode: 0o600,
            },
        });
        let mut outcome = Outcome::failed("outer", String::new());
        outcome.nested.push(Nested {
            context: "chroot:/c".into(),
            form: Form::parse(r#"["testing:echo", ["hunter2"]]"#).unwrap(),
            outcome: inner,
        });
        outcome.rewrite_text(&secret);
        let json = serde_json::to_string(&outcome).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        assert_eq!(json.matches("[data db]").count(), 5, "{json}");
        assert_eq!(outcome.statuses(), [Status::Failed, Status::Failed]);
    }
}
