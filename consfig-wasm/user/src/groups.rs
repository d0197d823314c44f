//! Groups of the `user` module: `user:group-exists` (a group, created only),
//! `user:has-groups` (an account's supplementary groups) and
//! `user:has-desktop-groups` (those a desktop user is given).

use consfig_guest::prelude::*;

use crate::names::{GROUPADD, USERMOD, check_name, found, supplementary_groups};

/// The group exists; if not, it is made with `groupadd`.
///
/// Only creation: an existing group is left as it is (`group:exists`
/// corrects its gid).
#[property]
pub fn group_exists(name: String) -> Result<Change> {
    check_name("group", &name)?;
    if found("group", &name)? {
        return Ok(Change::Unchanged);
    }
    Command::change(GROUPADD).arg(&name).succeed()?;
    info!("added group {name}");
    Ok(Change::Changed)
}

/// The user is a member of each of the supplementary `groups`, added with
/// `usermod --append --groups`: Consfigurator's `user:has-groups`, and
/// Ansible's `user` with `groups` and `append: true`.
///
/// Option `exclusive`: the account is a member of these groups and no other
/// supplementary ones (Ansible's `append: false`), set with `usermod
/// --groups`; its primary group is not affected. Unchanged when the
/// memberships are already so. The groups must exist. Check mode reads the
/// memberships (`getent group`) and predicts the same.
#[property]
pub fn has_groups(
    name: String,
    groups: Vec<String>,
    #[default = false] exclusive: bool,
) -> Result<Change> {
    check_name("user", &name)?;
    for group in &groups {
        check_name("group", group)?;
    }
    let member_of = supplementary_groups(&name)?;
    let missing: Vec<&str> = groups
        .iter()
        .filter(|g| !member_of.contains(g))
        .map(String::as_str)
        .collect();
    let extra: Vec<&str> = member_of
        .iter()
        .filter(|g| exclusive && !groups.contains(g))
        .map(String::as_str)
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return Ok(Change::Unchanged);
    }
    if exclusive {
        let mut wanted: Vec<&str> = Vec::new();
        for group in &groups {
            if !wanted.contains(&group.as_str()) {
                wanted.push(group);
            }
        }
        Command::change(USERMOD)
            .args(["--groups", &wanted.join(","), "--", &name])
            .succeed()?;
    } else {
        Command::change(USERMOD)
            .args(["--append", "--groups", &missing.join(","), "--", &name])
            .succeed()?;
    }
    if !missing.is_empty() {
        info!("added {name} to {}", missing.join(", "));
    }
    if !extra.is_empty() {
        info!("removed {name} from {}", extra.join(", "));
    }
    Ok(Change::Changed)
}

/// The groups Debian's installer puts the account it creates in
/// (user-setup's `passwd/user-default-groups`), as Consfigurator lists them.
pub const DESKTOP_GROUPS: [&str; 11] = [
    "audio",
    "cdrom",
    "dip",
    "floppy",
    "video",
    "plugdev",
    "netdev",
    "scanner",
    "bluetooth",
    "debian-tor",
    "lpadmin",
];

/// The user is a member of the standard desktop groups that exist on the
/// system — those Debian's installer gives the account it creates: audio,
/// cdrom, dip, floppy, video, plugdev, netdev, scanner, bluetooth,
/// debian-tor, lpadmin (Consfigurator's `user:has-desktop-groups`). Groups
/// not in the system's /etc/group are skipped, pending the software that
/// makes them (applied again later, the property adds the user to them).
///
/// Added as `user:has-groups` adds them, never removed from others.
/// Unchanged when the user is in each of them already (or none exists).
/// Check mode reads /etc/group and the memberships, and predicts the same.
#[property]
pub fn has_desktop_groups(name: String) -> Result<Change> {
    check_name("user", &name)?;
    let mut existing = Vec::new();
    for group in DESKTOP_GROUPS {
        if host::lookup_group(group)?.is_some() {
            existing.push(group.to_owned());
        }
    }
    has_groups(name, existing, false)
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::MODULE;
    use crate::names::GETENT;

    use consfig_guest::testing::failure;

    fn form(json: &str) -> Form {
        json.parse().unwrap()
    }

    const GROUPS: &str = "root:x:0:\nadm:x:4:syslog,ada\ncdrom:x:24:ada\nsudo:x:27:\n";

    /// A Debian system's desktop groups of /etc/group, some made by packages
    /// not installed yet.
    fn desktop_host() -> FakeHost {
        FakeHost::new()
            .module(&MODULE)
            .group("audio", 29, ["ada"])
            .group("cdrom", 24, ["ada"])
            .group("dip", 30, Vec::<String>::new())
            .group("floppy", 25, Vec::<String>::new())
            .group("video", 44, Vec::<String>::new())
            .group("plugdev", 46, Vec::<String>::new())
            .group("sudo", 27, Vec::<String>::new())
    }

    const DESKTOP: &str = "root:x:0:\naudio:x:29:ada\ncdrom:x:24:ada\ndip:x:30:\nfloppy:x:25:\n\
                           video:x:44:\nplugdev:x:46:\nsudo:x:27:\n";
    const DESKTOP_AFTER: &str = "root:x:0:\naudio:x:29:ada\ncdrom:x:24:ada\ndip:x:30:ada\n\
                                 floppy:x:25:ada\nvideo:x:44:ada\nplugdev:x:46:ada\nsudo:x:27:\n";

    #[test]
    fn has_desktop_groups_adds_the_existing_ones_only() {
        let host = desktop_host()
            .command([GETENT, "group"], 0, DESKTOP)
            .command(
                [
                    USERMOD,
                    "--append",
                    "--groups",
                    "dip,floppy,video,plugdev",
                    "--",
                    "ada",
                ],
                0,
                "",
            )
            .command([GETENT, "group"], 0, DESKTOP_AFTER);
        let ada = form(r#"["user:has-desktop-groups", "ada"]"#);
        assert_eq!(host.apply_form(&ada), Ok(Change::Changed));
        assert_eq!(
            host.logged(),
            ["info: added ada to dip, floppy, video, plugdev"]
        );
        assert_eq!(host.apply_form(&ada), Ok(Change::Unchanged));
        assert!(host.commands_not_run().is_empty());
        // Not exclusive: sudo stays.
        let sudoer = desktop_host().command(
            [GETENT, "group"],
            0,
            "audio:x:29:bob\ncdrom:x:24:bob\ndip:x:30:bob\nfloppy:x:25:bob\nvideo:x:44:bob\n\
             plugdev:x:46:bob\nsudo:x:27:bob\n",
        );
        assert_eq!(
            sudoer.apply(|| has_desktop_groups("bob".into())),
            Ok(Change::Unchanged)
        );
    }

    #[test]
    fn has_desktop_groups_with_none_of_them_changes_nothing() {
        let host = FakeHost::new().command([GETENT, "group"], 0, "root:x:0:\n");
        assert_eq!(
            host.apply(|| has_desktop_groups("ada".into())),
            Ok(Change::Unchanged)
        );
        assert_eq!(DESKTOP_GROUPS.len(), 11);
    }

    #[test]
    fn has_desktop_groups_in_check_mode_predicts_from_getent() {
        let host = desktop_host()
            .check_mode()
            .command([GETENT, "group"], 0, DESKTOP);
        assert_eq!(
            host.apply(|| has_desktop_groups("ada".into())),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.commands_skipped(),
            [[
                USERMOD,
                "--append",
                "--groups",
                "dip,floppy,video,plugdev",
                "--",
                "ada"
            ]]
        );
    }

    #[test]
    fn has_desktop_groups_refuses_names_that_are_not_user_names() {
        let host = desktop_host();
        for bad in [
            "-G",
            "--root=/tmp",
            "../root",
            "ada\nroot",
            "ada,bob",
            "Ada",
            "",
        ] {
            let error = failure(host.apply(|| has_desktop_groups(bad.into())));
            assert!(
                error.starts_with(&format!("{bad:?} is not a valid user name")),
                "{error}"
            );
        }
        assert!(host.commands().is_empty());
    }
    const AFTER: &str = "root:x:0:\nadm:x:4:syslog,ada\ncdrom:x:24:ada\nsudo:x:27:ada\n";

    #[test]
    fn group_exists_adds_only_a_missing_group() {
        let host = FakeHost::new()
            .command([GETENT, "group", "web"], 0, "web:x:998:\n")
            .command([GETENT, "group", "ops"], 2, "")
            .command([GROUPADD, "ops"], 0, "");
        assert_eq!(
            host.apply(|| group_exists("web".into())),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            host.apply(|| group_exists("ops".into())),
            Ok(Change::Changed)
        );
        assert_eq!(host.logged(), ["info: added group ops"]);
        assert!(
            failure(host.apply(|| group_exists("Web".into())))
                .starts_with("\"Web\" is not a valid group name")
        );
    }

    #[test]
    fn has_groups_adds_only_the_missing_groups() {
        let host = FakeHost::new()
            .module(&MODULE)
            .command([GETENT, "group"], 0, GROUPS)
            .command(
                [USERMOD, "--append", "--groups", "sudo", "--", "ada"],
                0,
                "",
            )
            .command([GETENT, "group"], 0, AFTER);
        let ada = form(r#"["user:has-groups", "ada", ["adm", "sudo"]]"#);
        assert_eq!(host.apply_form(&ada), Ok(Change::Changed));
        assert_eq!(host.apply_form(&ada), Ok(Change::Unchanged));
        assert!(host.commands_not_run().is_empty());
        assert_eq!(host.logged(), ["info: added ada to sudo"]);
    }

    #[test]
    fn has_groups_exclusive_removes_the_others() {
        let host = FakeHost::new()
            .module(&MODULE)
            .command([GETENT, "group"], 0, AFTER)
            .command([USERMOD, "--groups", "sudo,adm", "--", "ada"], 0, "")
            .command(
                [GETENT, "group"],
                0,
                "adm:x:4:syslog,ada\ncdrom:x:24:\nsudo:x:27:ada\n",
            );
        let ada =
            form(r#"["user:has-groups", "ada", ["sudo", "adm", "sudo"], {"exclusive": true}]"#);
        assert_eq!(host.apply_form(&ada), Ok(Change::Changed));
        assert_eq!(host.apply_form(&ada), Ok(Change::Unchanged));
        assert_eq!(host.logged(), ["info: removed ada from cdrom"]);
        // No groups, exclusively: out of every supplementary group.
        let none = FakeHost::new()
            .command([GETENT, "group"], 0, GROUPS)
            .command([USERMOD, "--groups", "", "--", "ada"], 0, "");
        assert_eq!(
            none.apply(|| has_groups("ada".into(), Vec::new(), true)),
            Ok(Change::Changed)
        );
        assert_eq!(
            none.apply(|| has_groups("nobody".into(), Vec::new(), true)),
            Ok(Change::Unchanged)
        );
    }

    #[test]
    fn has_groups_in_check_mode_predicts_from_getent() {
        let host = FakeHost::new()
            .check_mode()
            .command([GETENT, "group"], 0, GROUPS);
        assert_eq!(
            host.apply(|| has_groups("ada".into(), vec!["sudo".into()], false)),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.commands_skipped(),
            [[USERMOD, "--append", "--groups", "sudo", "--", "ada"]]
        );
    }

    #[test]
    fn has_groups_refuses_names_like_options_or_lists() {
        let host = FakeHost::new();
        for (user, group, message) in [
            ("-G", "adm", "\"-G\" is not a valid user name"),
            ("ada", "--root", "\"--root\" is not a valid group name"),
            ("ada", "adm,sudo", "\"adm,sudo\" is not a valid group name"),
            (
                "ada",
                "adm\nsudo",
                "\"adm\\nsudo\" is not a valid group name",
            ),
        ] {
            let error = failure(host.apply(|| has_groups(user.into(), vec![group.into()], false)));
            assert!(error.starts_with(message), "{error}");
        }
        assert!(host.commands_run().is_empty());
    }

    #[test]
    fn has_groups_of_a_missing_user_fails_in_usermod() {
        let host = FakeHost::new()
            .command([GETENT, "group"], 0, GROUPS)
            .command_output(
                [USERMOD, "--append", "--groups", "adm", "--", "bob"],
                Output {
                    exit_code: Some(6),
                    stdout: Vec::new(),
                    stderr: b"usermod: user 'bob' does not exist\n".to_vec(),
                },
            );
        assert_eq!(
            failure(host.apply(|| has_groups("bob".into(), vec!["adm".into()], false))),
            "/usr/sbin/usermod --append --groups adm -- bob: exit code 6: \
             usermod: user 'bob' does not exist"
        );
    }
}
