//! The `chroot` module: deploying inside a directory tree, such as a
//! container image or an OS being installed, as if it were the root.
//!
//! The forms run in a subdeployment: a child process of the host enters the
//! chroot (with the host's `/proc`, `/sys` and `/dev` mounted inside, in a
//! private mount namespace) and applies them with fresh copies of the
//! modules, which see only the tree. The host reports each form's outcome.

use consfig_guest::prelude::*;

/// Apply forms inside the directory tree at `path`, as if it were the root.
///
/// `path` must be absolute, and entering the chroot needs root. Changed when
/// any form changed; fails when the chroot cannot be entered or any form
/// failed (every form is applied even so). No forms is simply Unchanged.
#[property]
fn deploys(path: String, forms: Vec<Form>) -> Result<Change> {
    ensure!(
        path.starts_with('/'),
        "{path:?} is relative: give the chroot's absolute path"
    );
    if forms.is_empty() {
        return Ok(Change::Unchanged);
    }
    subdeploy(&[Context::chroot(&path)], &forms)
}

consfig_guest::module! {
    name: "chroot",
    needs: ["subdeploy", "context:chroot:/"],
    doc: "Deploying inside a directory tree, as if it were the root.",
    properties: [deploys],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    fn motd() -> Form {
        Form::new("file:has-content")
            .arg("/etc/motd")
            .unwrap()
            .arg("hi\n")
            .unwrap()
    }

    #[test]
    fn subdeploys_the_forms_into_the_chroot() {
        let host = FakeHost::new().subdeploy([Context::chroot("/srv/guest")], Change::Changed);
        let deploy = || deploys("/srv/guest".into(), vec![motd()]);
        assert_eq!(host.apply(deploy), Ok(Change::Changed));
        let [sub] = &host.subdeployments()[..] else {
            panic!("one subdeployment")
        };
        assert_eq!(sub.contexts, [Context::chroot("/srv/guest")]);
        assert_eq!(sub.forms, [motd()]);
        assert!(!host.exists("/etc/motd"), "the forms are not run here");
    }

    #[test]
    fn a_failed_form_inside_fails_the_form() {
        let host = FakeHost::new().subdeploy_fails(
            [Context::chroot("/srv/guest")],
            "1 of 1 forms failed in chroot:/srv/guest",
        );
        let deploy = || deploys("/srv/guest".into(), vec![motd()]);
        assert_eq!(
            host.apply(deploy).unwrap_err().message(),
            "1 of 1 forms failed in chroot:/srv/guest"
        );
    }

    #[test]
    fn refuses_a_relative_path_and_skips_no_forms() {
        let host = FakeHost::new();
        assert_eq!(
            host.apply(|| deploys("srv/guest".into(), vec![motd()]))
                .unwrap_err()
                .message(),
            "\"srv/guest\" is relative: give the chroot's absolute path"
        );
        assert_eq!(
            host.apply(|| deploys("/srv/guest".into(), Vec::new())),
            Ok(Change::Unchanged)
        );
        assert!(host.subdeployments().is_empty());
    }
}
