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
    export: false,
    needs: ["subdeploy", "context:chroot:/"],
    doc: "Deploying inside a directory tree, as if it were the root.",
    properties: [deploys],
}
