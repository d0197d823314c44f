//! Applying forms in order: `consfig:all` and `consfig:on-change`.
//!
//! A group stops at its first failure (Consfigurator's `eseqprops`, an
//! Ansible block): what follows a failed step usually depends on it. The
//! runtime reports only the calling form, so each applied form's outcome is
//! logged beneath it.

use consfig_guest::prelude::*;

/// Apply forms in order, stopping at the first that fails; changed when any
/// of them changed.
pub(crate) fn apply_in_order(forms: &[Form]) -> Result<Change> {
    let mut change = Change::Unchanged;
    for (index, form) in forms.iter().enumerate() {
        let outcome = apply(form).map_err(|e| {
            let left = forms.len() - index - 1;
            match left {
                0 => e,
                _ => e.context(format!("{left} later form(s) not applied")),
            }
        })?;
        log::info(format!("{}: {}", form.name(), label(outcome)));
        change |= outcome;
    }
    Ok(change)
}

/// How a form's outcome is logged. A module does not know whether it runs
/// in check mode: there "changed" means "would change", as in the report.
pub(crate) fn label(change: Change) -> &'static str {
    match change {
        Change::Changed => "changed",
        Change::Unchanged => "unchanged",
    }
}

/// Apply the forms in order, as one step (Ansible's roles and blocks,
/// Consfigurator's property lists).
///
/// Stops at the first form that fails: the forms after it are not applied,
/// and the error names it and how many were left. Changed when any form
/// changed. Each form's outcome is logged. No forms is simply Unchanged.
#[property]
pub fn all(forms: Vec<Form>) -> Result<Change> {
    apply_in_order(&forms)
}

/// Apply `forms`; then, only if any of them changed, apply `then` — the
/// handler pattern (Consfigurator's `on-change`, Ansible's `notify`), e.g.
/// `["consfig:on-change", [["file:copied", …]], [["systemd:reloaded", "nginx"]]]`.
///
/// Both lists stop at their first failing form. When a form of `forms`
/// fails, `then` is not applied, even after an earlier form changed (as
/// Ansible does without `force_handlers`): the error says so, so that the
/// next deploy, which will find nothing to change, does not hide it. In
/// check mode `then` is checked when `forms` would change. Changed when
/// any form of either list changed.
#[property]
pub fn on_change(forms: Vec<Form>, then: Vec<Form>) -> Result<Change> {
    let mut changed = Change::Unchanged;
    for (index, form) in forms.iter().enumerate() {
        match apply(form) {
            Ok(outcome) => {
                log::info(format!("{}: {}", form.name(), label(outcome)));
                changed |= outcome;
            }
            Err(e) if changed.is_changed() => {
                return Err(e.context(format!(
                    "after an earlier form changed, {} failed; the {} form(s) after it and \
                     the {} form(s) of `then` were not applied",
                    form.name(),
                    forms.len() - index - 1,
                    then.len()
                )));
            }
            Err(e) => return Err(e),
        }
    }
    if !changed.is_changed() {
        return Ok(Change::Unchanged);
    }
    apply_in_order(&then).map_err(|e| e.context("then"))?;
    Ok(Change::Changed)
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    fn form(name: &str, path: &str) -> Form {
        Form::new(name).arg(path).unwrap()
    }

    #[test]
    fn all_applies_every_form_in_order_and_is_changed_when_one_changed() {
        let (a, b) = (form("file:absent", "/a"), form("file:absent", "/b"));
        let host = FakeHost::new().form(b.clone(), Change::Changed);
        assert_eq!(
            host.apply(|| all(vec![a.clone(), b.clone()])),
            Ok(Change::Changed)
        );
        assert_eq!(host.forms_applied(), [a.clone(), b]);
        assert_eq!(
            host.logged(),
            ["info: file:absent: unchanged", "info: file:absent: changed"]
        );
        let quiet = FakeHost::new();
        assert_eq!(
            quiet.apply(|| all(vec![a.clone(), a])),
            Ok(Change::Unchanged)
        );
        assert_eq!(quiet.apply(|| all(Vec::new())), Ok(Change::Unchanged));
    }

    #[test]
    fn all_stops_at_the_first_failure_and_says_what_was_left() {
        let (a, b, c) = (
            form("file:absent", "/a"),
            form("cmd:single", "/b"),
            form("file:absent", "/c"),
        );
        let host = FakeHost::new()
            .form(a.clone(), Change::Changed)
            .form_fails(b.clone(), "exit code 1");
        let err = host
            .apply(|| all(vec![a.clone(), b.clone(), c]))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "1 later form(s) not applied: cmd:single: exit code 1"
        );
        assert_eq!(host.forms_applied(), [a, b], "c is never applied");
    }

    #[test]
    fn on_change_applies_then_only_after_a_change() {
        let config = form("file:copied", "/etc/nginx/nginx.conf");
        let reload = form("systemd:reloaded", "nginx");
        let unchanged = FakeHost::new();
        assert_eq!(
            unchanged.apply(|| on_change(vec![config.clone()], vec![reload.clone()])),
            Ok(Change::Unchanged)
        );
        assert_eq!(unchanged.forms_applied(), std::slice::from_ref(&config));

        let changed = FakeHost::new().form(config.clone(), Change::Changed);
        assert_eq!(
            changed.apply(|| on_change(vec![config.clone()], vec![reload.clone()])),
            Ok(Change::Changed)
        );
        assert_eq!(changed.forms_applied(), [config, reload]);
    }

    #[test]
    fn on_change_never_runs_then_after_a_failure_and_says_so() {
        let (a, b) = (form("file:copied", "/a"), form("file:copied", "/b"));
        let reload = form("systemd:reloaded", "nginx");
        let host = FakeHost::new()
            .form(a.clone(), Change::Changed)
            .form_fails(b.clone(), "no such file");
        let err = host
            .apply(|| on_change(vec![a.clone(), b.clone()], vec![reload.clone()]))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "after an earlier form changed, file:copied failed; the 0 form(s) after it and \
             the 1 form(s) of `then` were not applied: file:copied: no such file"
        );
        assert_eq!(host.forms_applied(), [a.clone(), b.clone()]);

        // A failure before any change is just that failure.
        let first = FakeHost::new().form_fails(a.clone(), "no such file");
        let err = first
            .apply(|| on_change(vec![a.clone(), b], vec![reload.clone()]))
            .unwrap_err();
        assert_eq!(err.message(), "file:copied: no such file");
    }

    #[test]
    fn a_failing_handler_fails_the_form_naming_then() {
        let config = form("file:copied", "/a");
        let reload = form("systemd:reloaded", "nginx");
        let host = FakeHost::new()
            .form(config.clone(), Change::Changed)
            .form_fails(reload.clone(), "nginx.service not loaded");
        let err = host
            .apply(|| on_change(vec![config], vec![reload]))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "then: systemd:reloaded: nginx.service not loaded"
        );
    }

    #[test]
    fn forms_in_either_list_are_validated_with_the_form() {
        let host = FakeHost::new().module(&crate::MODULE);
        let bad = Form::from_value(consfig_guest::serde_json::json!([
            "consfig:on-change",
            [["file:absent", "/a"]],
            ["not a form"]
        ]))
        .unwrap();
        let err = host.apply_form(&bad).unwrap_err();
        assert!(err.message().contains("then"), "{}", err.message());
        assert!(host.forms_applied().is_empty(), "nothing applied");
    }
}
