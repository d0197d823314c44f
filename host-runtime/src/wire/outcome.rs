//! What a form came to, as the runtime reports it to the controller: its
//! status, reason and output, the forms of its subdeployments, and in check
//! mode the files it would change and the commands it skipped.

use consfig_contract::Form;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sandbox::overlay::FileChange;

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
    pub form: ShownForm,
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

/// A subdeployment's form as its outcome shows it: the form as JSON, which
/// leaves the runtime with the host's data blanked out of every string of
/// it, its name too — so the name need not be a property name any more,
/// and a report that holds one is still read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShownForm(pub Value);

impl From<&Form> for ShownForm {
    fn from(form: &Form) -> Self {
        ShownForm(form.to_value())
    }
}

impl ShownForm {
    /// The form on one line for people, as [`Form::summary`] shows it.
    pub fn summary(&self) -> String {
        const STAND_IN: &str = "x:x";
        match self.0.as_array().and_then(|items| items.split_first()) {
            Some((Value::String(name), args)) => {
                // The form's own rendering of the arguments, under the name shown.
                let stand_in = Form::new(STAND_IN, args.to_vec())
                    .expect("the stand-in is a property name")
                    .summary()
                    .to_string();
                format!("{name}{}", &stand_in[STAND_IN.len()..])
            }
            _ => self.0.to_string(),
        }
    }
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
    fn a_shown_form_reads_like_its_form_whatever_its_name_became() {
        let form = Form::parse(r#"["testing:echo", "a b", {"k": 1}]"#).unwrap();
        let shown = ShownForm::from(&form);
        assert_eq!(shown.summary(), form.summary().to_string());
        let blanked: ShownForm =
            serde_json::from_str(r#"["testing:[data db]", "[data db]"]"#).unwrap();
        assert_eq!(blanked.summary(), r#"testing:[data db] "[data db]""#);
        let odd: ShownForm = serde_json::from_str(r#"{"not": "a form"}"#).unwrap();
        assert_eq!(odd.summary(), r#"{"not":"a form"}"#);
    }

    #[test]
    fn statuses_reach_nested_outcomes() {
        let mut outcome = Outcome::failed("outer", String::new());
        outcome.nested.push(Nested {
            context: "chroot:/c".into(),
            form: ShownForm::from(&Form::parse(r#"["testing:counter"]"#).unwrap()),
            outcome: Outcome::failed("inner", String::new()),
        });
        assert_eq!(outcome.statuses(), [Status::Failed, Status::Failed]);
    }
}
