//! Unit and user names, checked before they reach a command line or a path.

use consfig_guest::prelude::*;

/// The suffixes of unit types; a name with none of them is a service.
pub const SUFFIXES: [&str; 11] = [
    ".service",
    ".socket",
    ".device",
    ".mount",
    ".automount",
    ".swap",
    ".target",
    ".path",
    ".timer",
    ".slice",
    ".scope",
];

/// The unit's full name: `name` if it ends with a unit type's suffix, else
/// `name.service`. Refused: anything but letters, digits and `:_.\@-`
/// (so no `/` and no whitespace), a leading `-` or `.`, more than 255
/// characters.
pub fn unit_name(name: &str) -> Result<String> {
    let valid = !name.is_empty()
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":_.\\@-".contains(c));
    ensure!(
        valid,
        "{name:?} is not a unit name: use letters, digits and `:_.\\@-`, not starting with \
         `-` or `.`"
    );
    let full = if SUFFIXES
        .iter()
        .any(|s| name.ends_with(s) && name.len() > s.len())
    {
        name.to_owned()
    } else {
        format!("{name}.service")
    };
    ensure!(
        full.len() <= 255,
        "{name:?} is longer than a unit name may be (255)"
    );
    Ok(full)
}

/// A user name as `useradd` takes it: `[a-z_][a-z0-9_-]*[$]?`, which keeps
/// options and `@` out of `--machine=USER@.host`.
pub fn check_user(user: &str) -> Result<()> {
    let body = user.strip_suffix('$').unwrap_or(user);
    let valid = body.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && body
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    ensure!(
        valid,
        "user: {user:?} is not a user name (lowercase letters, digits, `_` and `-`)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_get_a_suffix_and_refuse_paths_and_options() {
        assert_eq!(unit_name("nginx").unwrap(), "nginx.service");
        assert_eq!(unit_name("nginx.service").unwrap(), "nginx.service");
        assert_eq!(unit_name("apt-daily.timer").unwrap(), "apt-daily.timer");
        assert_eq!(
            unit_name("getty@tty1.service").unwrap(),
            "getty@tty1.service"
        );
        assert_eq!(unit_name("foo@.service").unwrap(), "foo@.service");
        assert_eq!(unit_name("srv-data.mount").unwrap(), "srv-data.mount");
        assert_eq!(unit_name("a.b").unwrap(), "a.b.service");
        assert_eq!(
            unit_name("dev-disk-by\\x2duuid.device").unwrap(),
            "dev-disk-by\\x2duuid.device"
        );
        for bad in [
            "",
            "-H",
            "--now",
            ".service",
            "..",
            "../etc/passwd",
            "a/b.service",
            "a b",
            "a\nb",
            "x;reboot",
            "é.service",
            ".hidden",
        ] {
            assert!(unit_name(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(unit_name(&"a".repeat(250)).is_err());
    }

    #[test]
    fn user_names() {
        check_user("ada").unwrap();
        for bad in ["", "-M", "ada@x", "Ada", "a b", "root@.host --system"] {
            assert!(check_user(bad).is_err(), "{bad:?}");
        }
    }
}
