//! The `group` module: groups, made with `groupadd`, corrected with
//! `groupmod` and removed with `groupdel` (shadow-utils), looked up with
//! `getent` — Ansible's `group` module. Names are checked as the `user`
//! module checks them, before any command runs.

use consfig_guest::prelude::*;
use consfig_user::names::{GROUPADD, GROUPDEL, GROUPMOD, check_name, found, group};

/// The group exists, made with `groupadd` when missing: Ansible's `group`
/// with `state: present`.
///
/// Options: `gid` (a new group gets it; an existing group with another gid
/// is corrected with `groupmod --gid`, files keep their old gid), `system`
/// (a system group, `groupadd --system`: only when it is made, as in
/// Ansible). Unchanged when the group exists with the gid given. Check mode
/// looks the group up (`getent`) and predicts the same.
#[property]
pub fn exists(name: String, gid: Option<u32>, #[default = false] system: bool) -> Result<Change> {
    check_name("group", &name)?;
    let Some(current) = group(&name)? else {
        let mut command = Command::change(GROUPADD);
        if system {
            command = command.arg("--system");
        }
        if let Some(gid) = gid {
            command = command.args(["--gid".to_owned(), gid.to_string()]);
        }
        command.args(["--", &name]).succeed()?;
        info!("added group {name}");
        return Ok(Change::Changed);
    };
    match gid {
        Some(gid) if gid != current.gid => {
            Command::change(GROUPMOD)
                .args([
                    "--gid".to_owned(),
                    gid.to_string(),
                    "--".to_owned(),
                    name.clone(),
                ])
                .succeed()?;
            info!("corrected group {name}: gid {} → {gid}", current.gid);
            Ok(Change::Changed)
        }
        _ => Ok(Change::Unchanged),
    }
}

/// The group does not exist: removed with `groupdel`, Ansible's `group`
/// with `state: absent`. A group that is some account's primary group is
/// not removed: `groupdel` refuses, and the property fails saying so.
///
/// Unchanged when there is no such group. Check mode looks the group up and
/// predicts the same.
#[property]
pub fn absent(name: String) -> Result<Change> {
    check_name("group", &name)?;
    if !found("group", &name)? {
        return Ok(Change::Unchanged);
    }
    Command::change(GROUPDEL).args(["--", &name]).succeed()?;
    info!("removed group {name}");
    Ok(Change::Changed)
}

consfig_guest::module! {
    name: "group",
    export: false,
    needs: [
        "command:/usr/sbin/groupadd",
        "command:/usr/sbin/groupmod",
        "command:/usr/sbin/groupdel -- *",
        "command:/usr/bin/getent group *",
    ],
    doc: "Groups: created, their gid corrected, removed.",
    properties: [exists, absent],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;
    use consfig_user::names::GETENT;

    use super::*;

    fn form(json: &str) -> Form {
        json.parse().unwrap()
    }

    use consfig_guest::testing::failure;

    #[test]
    fn exists_makes_a_group_with_its_gid_then_is_unchanged() {
        let host = FakeHost::new()
            .module(&MODULE)
            .command([GETENT, "group", "web"], 2, "")
            .command([GROUPADD, "--system", "--gid", "990", "--", "web"], 0, "")
            .command([GETENT, "group", "web"], 0, "web:x:990:\n");
        let web = form(r#"["group:exists", "web", {"gid": 990, "system": true}]"#);
        assert_eq!(host.apply_form(&web), Ok(Change::Changed));
        assert_eq!(host.apply_form(&web), Ok(Change::Unchanged));
        assert!(host.commands_not_run().is_empty());
        assert_eq!(host.logged(), ["info: added group web"]);
    }

    #[test]
    fn exists_without_options_uses_the_defaults() {
        let host = FakeHost::new()
            .module(&MODULE)
            .command([GETENT, "group", "ops"], 2, "")
            .command([GROUPADD, "--", "ops"], 0, "");
        assert_eq!(
            host.apply_form(&form(r#"["group:exists", "ops"]"#)),
            Ok(Change::Changed)
        );
    }

    #[test]
    fn exists_corrects_the_gid_of_an_existing_group() {
        let host = FakeHost::new()
            .command([GETENT, "group", "web"], 0, "web:x:1001:ada\n")
            .command([GROUPMOD, "--gid", "990", "--", "web"], 0, "");
        // `system` does not change an existing group.
        assert_eq!(
            host.apply(|| exists("web".into(), Some(990), true)),
            Ok(Change::Changed)
        );
        assert_eq!(host.logged(), ["info: corrected group web: gid 1001 → 990"]);
        let same = FakeHost::new().command([GETENT, "group", "web"], 0, "web:x:990:\n");
        assert_eq!(
            same.apply(|| exists("web".into(), Some(990), false)),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            same.apply(|| exists("web".into(), None, true)),
            Ok(Change::Unchanged)
        );
    }

    #[test]
    fn check_mode_predicts_from_getent_and_skips_changes() {
        let host = FakeHost::new()
            .check_mode()
            .command([GETENT, "group", "web"], 0, "web:x:1001:\n")
            .command([GETENT, "group", "ops"], 2, "");
        assert_eq!(
            host.apply(|| exists("web".into(), Some(990), false)),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.apply(|| exists("ops".into(), None, false)),
            Ok(Change::Changed)
        );
        assert_eq!(host.apply(|| absent("web".into())), Ok(Change::Changed));
        assert_eq!(
            host.commands_skipped(),
            [
                vec![GROUPMOD, "--gid", "990", "--", "web"],
                vec![GROUPADD, "--", "ops"],
                vec![GROUPDEL, "--", "web"],
            ]
        );
    }

    #[test]
    fn absent_removes_a_group_once() {
        let host = FakeHost::new()
            .module(&MODULE)
            .command([GETENT, "group", "web"], 0, "web:x:990:\n")
            .command([GROUPDEL, "--", "web"], 0, "")
            .command([GETENT, "group", "web"], 2, "");
        let web = form(r#"["group:absent", "web"]"#);
        assert_eq!(host.apply_form(&web), Ok(Change::Changed));
        assert_eq!(host.apply_form(&web), Ok(Change::Unchanged));
        assert_eq!(host.logged(), ["info: removed group web"]);
    }

    #[test]
    fn absent_fails_with_groupdel_s_reason() {
        let host = FakeHost::new()
            .command([GETENT, "group", "ada"], 0, "ada:x:1000:\n")
            .command_output(
                [GROUPDEL, "--", "ada"],
                Output {
                    exit_code: Some(8),
                    stdout: Vec::new(),
                    stderr: b"groupdel: cannot remove the primary group of user 'ada'\n".to_vec(),
                },
            );
        assert_eq!(
            failure(host.apply(|| absent("ada".into()))),
            "/usr/sbin/groupdel -- ada: exit code 8: \
             groupdel: cannot remove the primary group of user 'ada'"
        );
    }

    #[test]
    fn refuses_names_like_options_before_any_command() {
        let host = FakeHost::new().module(&MODULE);
        for json in [
            r#"["group:exists", "--gid"]"#,
            r#"["group:exists", "web\nroot"]"#,
            r#"["group:exists", "../web"]"#,
            r#"["group:absent", "-f"]"#,
            r#"["group:absent", "Web"]"#,
        ] {
            assert!(
                failure(host.apply_form(&form(json))).contains("is not a valid group name"),
                "{json}"
            );
        }
        assert!(
            host.apply_form(&form(r#"["group:exists", "web", {"gid": -1}]"#))
                .is_err()
        );
        assert!(host.commands_run().is_empty());
    }
}
