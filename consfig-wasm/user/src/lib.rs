//! The `user` module: user accounts, their groups, shells and passwords,
//! and deploying as another user.
//!
//! Accounts are read with `getent` (so whatever password database the
//! system uses) and changed with shadow-utils' `useradd`, `usermod`,
//! `userdel` and `chpasswd`, on every common Linux distribution. Each
//! concern has its file: [`names`] (checking names, reading accounts),
//! [`account`] (`exists`, `has-account`, `absent`), [`groups`]
//! (`has-groups`, `has-desktop-groups`, `group-exists`), [`shell`] (`has-login-shell`) and
//! [`password`] (`has-password`, `has-locked-password`).
//!
//! Where an account a property needs does not exist yet, the property does
//! not fail while looking: it runs its change, which fails with
//! shadow-utils' message in a real deploy. In check mode, where an earlier
//! form that would have made the account was skipped, it predicts a change.

pub mod account;
pub mod groups;
pub mod names;
pub mod password;
pub mod shell;

use consfig_guest::prelude::*;

/// Apply forms as another user: a subdeployment that has become `user`
/// (with their groups, `HOME` and a `PATH`; needs root unless it is the user
/// running the deploy).
///
/// Changed when any form changed; fails when the user cannot be entered or
/// any form failed (every form is applied even so). No forms is simply
/// Unchanged.
#[property(name = "as")]
fn as_user(user: String, forms: Vec<Form>) -> Result<Change> {
    ensure!(
        !user.is_empty()
            && !user.starts_with('-')
            && !user.chars().any(|c| c.is_whitespace() || c.is_control()),
        "{user:?} is not a user name"
    );
    if forms.is_empty() {
        return Ok(Change::Unchanged);
    }
    subdeploy(&[Context::setuid(&user)], &forms)
}

consfig_guest::module! {
    name: "user",
    export: false,
    needs: [
        "subdeploy",
        "context:setuid:*",
        "command:/usr/sbin/useradd",
        "command:/usr/sbin/usermod",
        "command:/usr/sbin/userdel -- *",
        "command:/usr/sbin/userdel --remove -- *",
        "command:/usr/sbin/groupadd *",
        "command:/usr/sbin/chpasswd -e",
        "command:/usr/bin/getent passwd *",
        "command:/usr/bin/getent group *",
        "command:/usr/bin/getent group",
        "read:/etc/shadow",
        "write:/etc/shells",
        "data:*",
    ],
    doc: "User accounts: created and corrected, their groups, login shell and password; \
          deploying as another user.",
    properties: [
        as_user,
        groups::group_exists,
        account::exists,
        account::has_account,
        account::absent,
        groups::has_groups,
        groups::has_desktop_groups,
        shell::has_login_shell,
        password::has_password,
        password::has_locked_password,
    ],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    use consfig_guest::testing::failure;

    #[test]
    fn as_subdeploys_as_the_user() {
        let profile = Form::new("file:has-content")
            .arg("/home/ada/.profile")
            .unwrap()
            .arg("umask 027\n")
            .unwrap();
        let host = FakeHost::new().subdeploy([Context::setuid("ada")], Change::Changed);
        let as_ada = || as_user("ada".into(), vec![profile.clone()]);
        assert_eq!(host.apply(as_ada), Ok(Change::Changed));
        let subs = host.subdeployments();
        assert_eq!(subs[0].contexts, [Context::setuid("ada")]);
        assert_eq!(subs[0].forms, std::slice::from_ref(&profile));
        assert_eq!(
            failure(host.apply(|| as_user("ada bob".into(), vec![profile.clone()]))),
            "\"ada bob\" is not a user name"
        );
        assert_eq!(
            host.apply(|| as_user("ada".into(), Vec::new())),
            Ok(Change::Unchanged)
        );
        assert_eq!(host.subdeployments().len(), 1);
    }
}
