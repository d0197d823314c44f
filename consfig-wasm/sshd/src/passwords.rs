//! `sshd:no-passwords`: sshd refuses password logins, set in sshd_config
//! as `sshd:configured` sets keywords, and looked for in the files
//! sshd_config includes, which sshd may read first.

use std::collections::BTreeMap;

use consfig_guest::prelude::*;

use super::{check_config, configure};

/// Keywords that let a password in, lowercase as sshd compares them, each
/// with what it is an alias of.
const PASSWORD_KEYWORDS: [(&str, &str); 3] = [
    ("passwordauthentication", "PasswordAuthentication"),
    (
        "kbdinteractiveauthentication",
        "KbdInteractiveAuthentication",
    ),
    // OpenSSH's older name of KbdInteractiveAuthentication, still read.
    (
        "challengeresponseauthentication",
        "KbdInteractiveAuthentication",
    ),
];

/// Where sshd reads an Include with a relative path from.
const SSH_DIR: &str = "/etc/ssh";

/// The lines of a configuration that apply to every connection: those
/// before its first `Match` block.
fn global_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().take_while(|line| {
        !keyword_and_args(line).is_some_and(|(keyword, _)| keyword.eq_ignore_ascii_case("match"))
    })
}

/// A line's keyword and arguments (`Keyword value`, or `Keyword=value`),
/// or nothing for a comment or an empty line.
fn keyword_and_args(line: &str) -> Option<(&str, Vec<&str>)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (keyword, rest) = line.split_at(end);
    let rest = rest.trim_start().strip_prefix('=').unwrap_or(rest);
    Some((keyword, rest.split_whitespace().collect()))
}

/// Whether `name` matches the glob `pattern` (`*` and `?`; as glob(3), a
/// leading `.` only matches a leading `.` of the pattern).
fn glob_matches(pattern: &str, name: &str) -> bool {
    fn matches(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => matches(&p[1..], n) || (!n.is_empty() && matches(p, &n[1..])),
            (Some('?'), Some(_)) => matches(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => matches(&p[1..], &n[1..]),
            _ => false,
        }
    }
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches(&p, &n)
}

/// The files an `Include` argument names, in the order sshd reads them.
fn included_files(argument: &str) -> Result<Vec<String>> {
    let path = if argument.starts_with('/') {
        argument.to_owned()
    } else {
        format!("{SSH_DIR}/{argument}")
    };
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", &path));
    let glob = |text: &str| text.contains(['*', '?', '[']);
    ensure!(
        !glob(dir) && !name.contains('['),
        "Include {argument}: only `*` and `?` in the last part of the path can be followed \
         here, to see whether the files it names allow passwords"
    );
    if !glob(name) {
        return Ok(match fs::stat(&path)? {
            Some(_) => vec![path],
            None => Vec::new(),
        });
    }
    if !fs::stat(dir)?.is_some_and(|stat| stat.is_dir()) {
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = fs::list_dir(dir)?
        .into_iter()
        .filter(|entry| entry.kind != fs::FileKind::Directory && glob_matches(name, &entry.name))
        .map(|entry| entry.name)
        .collect();
    names.sort();
    Ok(names.into_iter().map(|n| format!("{dir}/{n}")).collect())
}

/// What lets a password in despite `text` (the configuration about to be
/// written): a file it includes, read before the line that says `no`,
/// which says otherwise. Each as `FILE: Keyword value`.
fn overridden(text: &str) -> Result<Vec<String>> {
    let mut decided: Vec<&str> = Vec::new();
    let mut found = Vec::new();
    for line in global_lines(text) {
        let Some((keyword, args)) = keyword_and_args(line) else {
            continue;
        };
        let lower = keyword.to_ascii_lowercase();
        if let Some((_, canonical)) = PASSWORD_KEYWORDS.iter().find(|(k, _)| *k == lower) {
            if !decided.contains(canonical) {
                decided.push(canonical);
            }
            continue;
        }
        if lower != "include" {
            continue;
        }
        for argument in args {
            for file in included_files(argument)? {
                let included = fs::read_to_string(&file)?;
                for line in global_lines(&included) {
                    let Some((keyword, args)) = keyword_and_args(line) else {
                        continue;
                    };
                    let lower = keyword.to_ascii_lowercase();
                    let Some((_, canonical)) = PASSWORD_KEYWORDS.iter().find(|(k, _)| *k == lower)
                    else {
                        continue;
                    };
                    if decided.contains(canonical) {
                        continue;
                    }
                    decided.push(canonical);
                    let value = args.first().copied().unwrap_or_default();
                    if !value.eq_ignore_ascii_case("no") {
                        found.push(format!("{file}: {keyword} {value}"));
                    }
                }
            }
        }
    }
    Ok(found)
}

/// sshd refuses password logins: `PasswordAuthentication no` and
/// `KbdInteractiveAuthentication no` in sshd_config (with Debian's `UsePAM
/// yes`, keyboard-interactive logins would ask PAM for the password) —
/// Consfigurator's `sshd:no-passwords`, set as `sshd:configured` sets
/// keywords (`ChallengeResponseAuthentication`, the older name of the
/// second, is set `no` too where the file has it). Unlike Consfigurator's,
/// it leaves `PermitRootLogin` as it is and does not require root to have
/// authorized keys: make sure whoever deploys logs in with a key
/// (`ssh:authorized-keys`).
///
/// sshd takes the first value it reads for a keyword, and Debian's
/// sshd_config includes /etc/ssh/sshd_config.d/*.conf first: a file it
/// includes before the line set here that allows passwords (such as
/// cloud-init's `PasswordAuthentication yes`) makes this fail, naming it,
/// before anything is written.
///
/// Option `config`: the file, `/etc/ssh/sshd_config` by default. As for
/// `sshd:configured`: the new text is checked with `sshd -t` first, and
/// sshd reloaded when it runs (default file only). Unchanged when both are
/// `no` already. Check mode reads the files and runs `sshd -t` too, and
/// predicts the same.
#[property]
pub fn no_passwords(#[default = "/etc/ssh/sshd_config"] config: String) -> Result<Change> {
    check_config(&config)?;
    let before = super::read_config(&config)?;
    let mut settings = BTreeMap::from([
        ("PasswordAuthentication".to_owned(), "no".to_owned()),
        ("KbdInteractiveAuthentication".to_owned(), "no".to_owned()),
    ]);
    let has_old_name = global_lines(&before).any(|line| {
        keyword_and_args(line)
            .is_some_and(|(k, _)| k.eq_ignore_ascii_case("ChallengeResponseAuthentication"))
    });
    if has_old_name {
        settings.insert(
            "ChallengeResponseAuthentication".to_owned(),
            "no".to_owned(),
        );
    }
    configure(&settings, &config, |_, after| {
        let found = overridden(after)?;
        ensure!(
            found.is_empty(),
            "{config}: sshd would still allow passwords, since it reads first {}: remove or \
             change that (sshd takes the first value it reads)",
            found.join("; ")
        );
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_sshd_s_glob_does() {
        assert!(glob_matches("*.conf", "50-cloud-init.conf"));
        assert!(glob_matches("?0.conf", "10.conf"));
        assert!(!glob_matches("*.conf", "a.conf.bak"));
        assert!(!glob_matches("*.conf", ".hidden.conf"));
        assert!(glob_matches("local", "local"));
        assert!(!glob_matches("local", "locals"));
    }

    #[test]
    fn keywords_and_their_arguments() {
        assert_eq!(
            keyword_and_args("  PasswordAuthentication   yes "),
            Some(("PasswordAuthentication", vec!["yes"]))
        );
        assert_eq!(
            keyword_and_args("PasswordAuthentication=yes"),
            Some(("PasswordAuthentication", vec!["yes"]))
        );
        assert_eq!(
            keyword_and_args("Include a/*.conf b"),
            Some(("Include", vec!["a/*.conf", "b"]))
        );
        assert_eq!(keyword_and_args("# PasswordAuthentication yes"), None);
        assert_eq!(keyword_and_args("   "), None);
    }
}
