//! The target's own accounts: `/etc/passwd` and `/etc/group` of the root
//! the process is in, parsed here rather than asked of NSS. A forked child
//! calling into NSS may deadlock on a lock its parent held, and inside a
//! chroot NSS would load the host's modules and answer for the host; the
//! files answer for the root they lie in. `lookup-user`, `lookup-group` and
//! the names `chown` is given are resolved here.

use super::bindings::consfig::module::host::{GroupInfo, UserInfo};

pub const PASSWD: &str = "/etc/passwd";
pub const GROUP: &str = "/etc/group";

/// A line of an account file that is not one, with where it is: the
/// file is taken as broken, rather than an account silently missed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {reason}")]
pub struct BadAccountLine {
    pub file: &'static str,
    pub line: usize,
    pub reason: String,
}

/// The fields of each account line, numbered from 1; blank lines, comments
/// and NIS markers (`+`, `-`) skipped.
fn records(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let line = line.trim_end_matches('\r');
        let skipped = line.trim().is_empty() || line.starts_with(['#', '+', '-']);
        (!skipped).then(|| (i + 1, line.split(':').collect()))
    })
}

fn number(file: &'static str, line: usize, what: &str, text: &str) -> Result<u32, BadAccountLine> {
    text.parse().map_err(|_| BadAccountLine {
        file,
        line,
        reason: format!("the {what} {text:?} is not a number"),
    })
}

/// Every account of `passwd` (the text of an `/etc/passwd`).
pub fn users(passwd: &str) -> Result<Vec<UserInfo>, BadAccountLine> {
    records(passwd)
        .map(|(line, fields)| {
            let [name, _password, uid, gid, comment, home, shell] = fields[..] else {
                return Err(BadAccountLine {
                    file: PASSWD,
                    line,
                    reason: format!("{} fields where an account has 7", fields.len()),
                });
            };
            Ok(UserInfo {
                name: name.to_owned(),
                uid: number(PASSWD, line, "uid", uid)?,
                gid: number(PASSWD, line, "gid", gid)?,
                comment: comment.to_owned(),
                home: home.to_owned(),
                shell: shell.to_owned(),
            })
        })
        .collect()
}

/// Every group of `group` (the text of an `/etc/group`).
pub fn groups(group: &str) -> Result<Vec<GroupInfo>, BadAccountLine> {
    records(group)
        .map(|(line, fields)| {
            let [name, _password, gid, members] = fields[..] else {
                return Err(BadAccountLine {
                    file: GROUP,
                    line,
                    reason: format!("{} fields where a group has 4", fields.len()),
                });
            };
            Ok(GroupInfo {
                name: name.to_owned(),
                gid: number(GROUP, line, "gid", gid)?,
                members: members
                    .split(',')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .collect()
}

/// The first of `all` named `wanted`, else (when it is a number) the
/// first with that id: a name made of digits is a name first.
fn find<T>(all: Vec<T>, wanted: &str, name: fn(&T) -> &str, id: fn(&T) -> u32) -> Option<T> {
    let by_name = all.iter().position(|a| name(a) == wanted);
    let by_id = || {
        let wanted: u32 = wanted.parse().ok()?;
        all.iter().position(|a| id(a) == wanted)
    };
    let at = by_name.or_else(by_id)?;
    all.into_iter().nth(at)
}

/// The account of `passwd` named `wanted`, or with that uid when it is a number.
pub fn find_user(passwd: &str, wanted: &str) -> Result<Option<UserInfo>, BadAccountLine> {
    Ok(find(users(passwd)?, wanted, |u| &u.name, |u| u.uid))
}

/// The group of `group` named `wanted`, or with that gid when it is a number.
pub fn find_group(group: &str, wanted: &str) -> Result<Option<GroupInfo>, BadAccountLine> {
    Ok(find(groups(group)?, wanted, |g| &g.name, |g| g.gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD_TEXT: &str = "\
root:x:0:0:root:/root:/bin/bash
# a comment, and a blank line

daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
+nisuser::::::
ada:x:1000:1000:Ada Lovelace,,,:/home/ada:/bin/zsh\r
1001:x:1002:1002::/home/numeric:/bin/sh
";

    const GROUP_TEXT: &str = "\
root:x:0:
sudo:x:27:ada,bob
web:x:33: ada , carol
";

    #[test]
    fn users_are_found_by_name_or_uid() {
        let ada = find_user(PASSWD_TEXT, "ada").unwrap().unwrap();
        assert_eq!(
            (ada.uid, ada.gid, ada.comment.as_str(), ada.home.as_str()),
            (1000, 1000, "Ada Lovelace,,,", "/home/ada")
        );
        assert_eq!(ada.shell, "/bin/zsh", "a CRLF line ends before \\r");
        assert_eq!(find_user(PASSWD_TEXT, "1000").unwrap().unwrap().name, "ada");
        assert_eq!(find_user(PASSWD_TEXT, "0").unwrap().unwrap().name, "root");
        // A name made of digits is a name first.
        assert_eq!(find_user(PASSWD_TEXT, "1001").unwrap().unwrap().uid, 1002);
        assert_eq!(
            find_user(PASSWD_TEXT, "1002").unwrap().unwrap().name,
            "1001"
        );
        assert!(find_user(PASSWD_TEXT, "nobody").unwrap().is_none());
        assert!(find_user(PASSWD_TEXT, "nisuser").unwrap().is_none());
        assert!(find_user(PASSWD_TEXT, "").unwrap().is_none());
    }

    #[test]
    fn groups_are_found_by_name_or_gid_with_their_members() {
        let sudo = find_group(GROUP_TEXT, "sudo").unwrap().unwrap();
        assert_eq!(
            (sudo.gid, sudo.members),
            (27, vec!["ada".into(), "bob".into()])
        );
        let web = find_group(GROUP_TEXT, "33").unwrap().unwrap();
        assert_eq!(
            (web.name.as_str(), web.members),
            ("web", vec!["ada".into(), "carol".into()])
        );
        assert!(
            find_group(GROUP_TEXT, "0")
                .unwrap()
                .unwrap()
                .members
                .is_empty()
        );
        assert!(find_group(GROUP_TEXT, "wheel").unwrap().is_none());
    }

    #[test]
    fn a_malformed_line_names_its_file_and_line() {
        let bad = "root:x:0:0:root:/root:/bin/bash\nbroken:x:12\n";
        assert_eq!(
            find_user(bad, "ada").unwrap_err().to_string(),
            "/etc/passwd line 2: 3 fields where an account has 7"
        );
        assert_eq!(
            find_group("g:x:abc:\n", "g").unwrap_err().to_string(),
            "/etc/group line 1: the gid \"abc\" is not a number"
        );
    }
}
