//! What a form came to, as the runtime reports it to the controller: its
//! status, reason and output, the forms of its subdeployments, and in check
//! mode the files it would change, the commands it skipped, and when it
//! failed after a step check mode could not take, that it is unknown.

use consfig_contract::Form;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sandbox::overlay::{FileChange, Unknowable};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Unchanged,
    Changed,
    Failed,
    /// Check mode: it failed after a step check mode could not take (a
    /// command it did not run), so whether the deploy would fail is not known.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unchanged => "unchanged",
            Status::Changed => "changed",
            Status::Failed => "failed",
            Status::Unknown => "unknown",
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
    /// When unknown: the steps check mode did not take, in this form, its
    /// subdeployments or the forms before it, that make its failure unknowable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_after: Vec<Unknowable>,
    /// How long the form took, in milliseconds, as the runtime measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// A form a subdeployment evaluated, in the contexts it ran in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nested {
    /// The chain of contexts, e.g. `chroot:/srv/c1 → setuid:www`.
    pub context: String,
    /// Where the subdeployment's `/` is, in the paths of the form that
    /// started it: its file changes are in its own paths.
    #[serde(default = "file_system_root")]
    pub root: std::path::PathBuf,
    pub form: ShownForm,
    pub outcome: Outcome,
}

fn file_system_root() -> std::path::PathBuf {
    "/".into()
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
            unknown_after: Vec::new(),
            duration_ms: None,
        }
    }

    /// Check mode: a failure after a step check mode could not take becomes
    /// `unknown`, naming those steps — this form's commands not run or run
    /// without earlier changes, the unknown forms of its subdeployments,
    /// then `earlier` forms' commands not run, the latest first. A failure
    /// is real (stays `failed`) when `real` says so (a refusal by the
    /// grants, a limit), when a subdeployment's form really failed, or when
    /// check mode skipped nothing before it.
    pub fn settle_check(
        &mut self,
        real: bool,
        ran_without_changes: &[String],
        earlier: &[Unknowable],
    ) {
        if self.status != Status::Failed
            || real
            || self
                .nested
                .iter()
                .any(|n| n.outcome.status == Status::Failed)
        {
            return;
        }
        let mut steps: Vec<Unknowable> = Vec::new();
        let own = self.skipped.iter().cloned().map(Unknowable::NotRun);
        let unseen = ran_without_changes
            .iter()
            .cloned()
            .map(Unknowable::RanWithoutChanges);
        let nested = self
            .nested
            .iter()
            .filter(|n| n.outcome.status == Status::Unknown)
            .flat_map(|n| n.outcome.unknown_after.iter().cloned());
        for step in own
            .chain(unseen)
            .chain(nested)
            .chain(earlier.iter().rev().cloned())
        {
            if !steps.contains(&step) {
                steps.push(step);
            }
        }
        if steps.is_empty() {
            return;
        }
        steps.truncate(crate::sandbox::overlay::MAX_UNKNOWABLE);
        self.status = Status::Unknown;
        self.unknown_after = steps;
    }

    /// The commands this form and its subdeployments did not run, which
    /// the forms after it could not know the effects of.
    pub fn not_run(&self) -> Vec<Unknowable> {
        let mut steps: Vec<Unknowable> = self
            .skipped
            .iter()
            .cloned()
            .map(Unknowable::NotRun)
            .collect();
        for nested in &self.nested {
            steps.extend(nested.outcome.not_run());
        }
        steps
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

    fn nested(outcome: Outcome) -> Nested {
        Nested {
            context: "chroot:/c".into(),
            root: "/c".into(),
            form: ShownForm::from(&Form::parse(r#"["testing:counter"]"#).unwrap()),
            outcome,
        }
    }

    fn not_run(command: &str) -> Unknowable {
        Unknowable::NotRun(command.into())
    }

    #[test]
    fn a_failure_after_a_step_check_mode_did_not_take_is_unknown() {
        // After a command an earlier form did not run.
        let mut after_earlier = Outcome::failed("no such file", String::new());
        after_earlier.settle_check(false, &[], &[not_run("apt-get install a"), not_run("b")]);
        assert_eq!(after_earlier.status, Status::Unknown);
        assert_eq!(
            after_earlier.unknown_after,
            [not_run("b"), not_run("apt-get install a")],
            "the latest first"
        );
        assert_eq!(after_earlier.reason.as_deref(), Some("no such file"));

        // Its own skipped command, and a query run without earlier changes.
        let mut own = Outcome::failed("no", String::new());
        own.skipped.push("touch /x".into());
        own.settle_check(false, &["getent passwd a".into()], &[not_run("touch /x")]);
        assert_eq!(
            own.unknown_after,
            [
                not_run("touch /x"),
                Unknowable::RanWithoutChanges("getent passwd a".into())
            ],
            "each step once"
        );

        // Through a subdeployment whose form was unknown.
        let mut inner = Outcome::failed("inner", String::new());
        inner.settle_check(false, &[], &[not_run("make")]);
        let mut outer = Outcome::failed("1 of 1 forms could not be known", String::new());
        outer.nested.push(nested(inner));
        outer.settle_check(false, &[], &[]);
        assert_eq!(
            (outer.status, outer.unknown_after.as_slice()),
            (Status::Unknown, [not_run("make")].as_slice())
        );
    }

    #[test]
    fn a_real_failure_stays_failed_in_check_mode() {
        let earlier = [not_run("apt-get install a")];
        // Nothing skipped: check mode knew everything.
        let mut known = Outcome::failed("no", String::new());
        known.settle_check(false, &[], &[]);
        assert_eq!(known.status, Status::Failed);
        // A refusal by the grants, or a limit.
        let mut refused = Outcome::failed("denied", String::new());
        refused.skipped.push("touch /x".into());
        refused.settle_check(true, &[], &earlier);
        assert_eq!(refused.status, Status::Failed);
        assert!(refused.unknown_after.is_empty());
        // A subdeployment's form that really failed.
        let mut outer = Outcome::failed("1 of 2 forms failed", String::new());
        outer
            .nested
            .push(nested(Outcome::failed("denied", String::new())));
        outer.settle_check(false, &[], &earlier);
        assert_eq!(outer.status, Status::Failed);
        // What did not fail is what it was.
        let mut fine = Outcome::failed("x", String::new());
        fine.status = Status::Changed;
        fine.reason = None;
        fine.settle_check(false, &[], &earlier);
        assert_eq!(fine.status, Status::Changed);
    }

    #[test]
    fn the_commands_not_run_reach_into_subdeployments() {
        let mut inner = Outcome::failed("x", String::new());
        inner.skipped.push("make".into());
        let mut outer = Outcome::failed("x", String::new());
        outer.skipped.push("touch /x".into());
        outer.nested.push(nested(inner));
        assert_eq!(outer.not_run(), [not_run("touch /x"), not_run("make")]);
    }
}
