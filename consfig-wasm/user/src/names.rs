//! Names and fields that reach `useradd`, `usermod` and friends, checked
//! before any command runs; and the accounts and groups as `getent` (a
//! query, so check mode reads them too) reports them.

use consfig_guest::prelude::*;

/// Where shadow-utils and glibc put their programs on Debian and most
/// distributions: absolute, as the module's grants name them.
pub const GETENT: &str = "/usr/bin/getent";
pub const USERADD: &str = "/usr/sbin/useradd";
pub const USERMOD: &str = "/usr/sbin/usermod";
pub const USERDEL: &str = "/usr/sbin/userdel";
pub const GROUPADD: &str = "/usr/sbin/groupadd";
pub const GROUPMOD: &str = "/usr/sbin/groupmod";
pub const GROUPDEL: &str = "/usr/sbin/groupdel";
pub const CHPASSWD: &str = "/usr/sbin/chpasswd";

/// Refuse what `useradd` and `groupadd` would (or should) refuse:
/// `[a-z_][a-z0-9_-]*[$]?`, at most 32 characters, which also keeps options
/// and whitespace out of their command lines.
pub fn check_name(what: &str, name: &str) -> Result<()> {
    let body = name.strip_suffix('$').unwrap_or(name);
    let valid = body.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && body
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && name.len() <= 32;
    ensure!(
        valid,
        "{name:?} is not a valid {what} name: use lowercase letters, digits, `_` and `-`, \
         starting with a letter or `_` (and perhaps ending with `$`), at most 32 characters"
    );
    Ok(())
}

/// A home directory or login shell: an absolute path that fits in a field
/// of `/etc/passwd` (no `:`, no newline or other control character).
pub fn check_path(what: &str, path: &str) -> Result<()> {
    ensure!(
        path.starts_with('/') && !path.contains(':') && !path.chars().any(char::is_control),
        "the {what} {path:?} is not an absolute path (without `:` or newlines)"
    );
    Ok(())
}

/// The comment (GECOS) field: one field of `/etc/passwd`.
pub fn check_comment(comment: &str) -> Result<()> {
    ensure!(
        !comment.contains(':') && !comment.chars().any(char::is_control),
        "the comment {comment:?} has a `:`, a newline or another control character"
    );
    Ok(())
}

/// An account as `getent passwd NAME` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub comment: String,
    pub home: String,
    pub shell: String,
}

/// A group as `getent group` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// The output of `getent DATABASE [KEY]`: `None` when KEY is not found
/// (exit code 2); any other failure is an error.
fn getent(args: &[&str]) -> Result<Option<String>> {
    let command = Command::query(GETENT).args(args.iter().copied());
    let shown = command.to_string();
    let output = run(command)?;
    match output.exit_code {
        Some(0) => Ok(Some(output.stdout_str().into_owned())),
        Some(2) => Ok(None),
        _ => bail!("{shown}: {}{}", output.status(), output.stderr_suffix()),
    }
}

/// Whether `getent DATABASE KEY` finds the entry.
pub fn found(database: &str, key: &str) -> Result<bool> {
    Ok(getent(&[database, key])?.is_some())
}

/// The account `name`, if there is one.
pub fn account(name: &str) -> Result<Option<Account>> {
    let Some(text) = getent(&["passwd", name])? else {
        return Ok(None);
    };
    let line = text.lines().next().unwrap_or_default();
    let fields: Vec<&str> = line.split(':').collect();
    let number = |i: usize| fields.get(i).and_then(|f| f.parse::<u32>().ok());
    match (fields.len(), number(2), number(3)) {
        (7, Some(uid), Some(gid)) => Ok(Some(Account {
            name: fields[0].to_owned(),
            uid,
            gid,
            comment: fields[4].to_owned(),
            home: fields[5].to_owned(),
            shell: fields[6].to_owned(),
        })),
        _ => bail!("getent passwd {name}: not a passwd entry: {line:?}"),
    }
}

fn parse_group(line: &str) -> Result<GroupEntry> {
    let fields: Vec<&str> = line.split(':').collect();
    match (
        fields.len(),
        fields.get(2).and_then(|f| f.parse::<u32>().ok()),
    ) {
        (4, Some(gid)) => Ok(GroupEntry {
            name: fields[0].to_owned(),
            gid,
            members: fields[3]
                .split(',')
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect(),
        }),
        _ => bail!("getent group: not a group entry: {line:?}"),
    }
}

/// The group `name`, if there is one.
pub fn group(name: &str) -> Result<Option<GroupEntry>> {
    match getent(&["group", name])? {
        Some(text) => parse_group(text.lines().next().unwrap_or_default()).map(Some),
        None => Ok(None),
    }
}

/// The supplementary groups `user` is a member of, by name, in the order
/// `getent group` lists them.
pub fn supplementary_groups(user: &str) -> Result<Vec<String>> {
    let text = getent(&["group"])?.unwrap_or_default();
    let mut groups = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let group = parse_group(line)?;
        if group.members.iter().any(|m| m == user) {
            groups.push(group.name);
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    #[test]
    fn checks_names_paths_and_comments() {
        for valid in ["ada", "_svc", "build-1", "host$"] {
            check_name("user", valid).unwrap();
        }
        for invalid in [
            "", "-o", "--help", "Ada", "a b", "a\nb", "1ab", "a:b", "../x",
        ] {
            assert!(check_name("user", invalid).is_err(), "{invalid:?}");
        }
        assert!(check_name("user", &"a".repeat(33)).is_err());
        check_path("home", "/srv/ada").unwrap();
        for invalid in ["srv", "/a:b", "/a\nb", ""] {
            assert!(check_path("home", invalid).is_err(), "{invalid:?}");
        }
        check_comment("Ada Lovelace,,,").unwrap();
        check_comment("-x").unwrap();
        assert!(check_comment("a:b").is_err());
        assert!(check_comment("a\nroot::0:0::/:/bin/sh").is_err());
    }

    #[test]
    fn reads_accounts_and_groups() {
        let host = FakeHost::new()
            .command(
                [GETENT, "passwd", "ada"],
                0,
                "ada:x:1000:1001:Ada L:/home/ada:/bin/bash\n",
            )
            .command([GETENT, "passwd", "bob"], 2, "")
            .command([GETENT, "passwd", "odd"], 0, "odd:x:no\n")
            .command(
                [GETENT, "group"],
                0,
                "root:x:0:\nadm:x:4:syslog,ada\nsudo:x:27:ada\nweb:x:998:adam\n",
            );
        let ada = host.apply(|| account("ada")).unwrap().unwrap();
        assert_eq!(
            (ada.uid, ada.gid, ada.comment.as_str(), ada.shell.as_str()),
            (1000, 1001, "Ada L", "/bin/bash")
        );
        assert_eq!(host.apply(|| account("bob")), Ok(None));
        assert!(host.apply(|| account("odd")).is_err());
        assert_eq!(
            host.apply(|| supplementary_groups("ada")),
            Ok(vec!["adm".to_owned(), "sudo".to_owned()])
        );
    }
}
