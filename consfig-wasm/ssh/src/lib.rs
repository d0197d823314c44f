//! The `ssh` module: a user's authorized keys and the keys of known hosts.
//! [`home`] owns the files of `~/.ssh` (with the guard against symlinks),
//! [`keys`] reading key lines.

pub mod home;
pub mod keys;

use consfig_guest::prelude::*;

use crate::home::{account, file_has, read, ssh_dir};
use crate::keys::{checked_key, key_of, text_of};

const SYSTEM_KNOWN_HOSTS: &str = "/etc/ssh/ssh_known_hosts";

/// `keys` (lines of `authorized_keys`: `[OPTIONS] TYPE KEY [COMMENT]`) may
/// log in as `user`: they are in `~USER/.ssh/authorized_keys` (the home from
/// the target's `/etc/passwd`). Ansible's `authorized_key`.
///
/// A key already there with other options or another comment is replaced
/// by the line given; other lines are kept, unless `exclusive`: then the
/// file holds these keys and nothing else. `~/.ssh` (mode 0700) and the
/// file (0600) are made, or corrected, owned by the user. A symlink at
/// `~/.ssh` or at the file is refused, not followed. Unchanged when the
/// file, its mode and owner, and the directory's are already so. Check mode
/// reads them and predicts the same; the account must exist (in a check
/// run whose earlier form would make it, this form is unknown).
///
/// The module writes beneath `/home`, `/root`, `/srv` and `/var/lib` (its
/// grants): a home elsewhere needs `[module.ssh] grants` naming it.
#[property]
pub fn authorized_keys(
    user: String,
    keys: Vec<String>,
    #[default = false] exclusive: bool,
) -> Result<Change> {
    let keys = keys
        .iter()
        .map(|key| checked_key("an authorized key", key))
        .collect::<Result<Vec<_>>>()?;
    let account = account(&user)?;
    let (dir, mut change) = ssh_dir(&account)?;
    let path = format!("{dir}/authorized_keys");
    let before = read(&path)?;
    let mut lines: Vec<String> = match exclusive {
        true => Vec::new(),
        false => before
            .as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect(),
    };
    for key in keys {
        let wanted = key_of(key);
        match lines.iter().position(|line| key_of(line) == wanted) {
            Some(index) => lines[index] = key.to_owned(),
            None => lines.push(key.to_owned()),
        }
    }
    let text = text_of(&lines);
    let wrote = file_has(&path, before.as_deref(), &text, Some(&account), 0o600)?;
    if wrote == Change::Changed {
        info!("{path}: {} keys", lines.len());
    }
    change |= wrote;
    Ok(change)
}

/// The host `host` (a name, an address, or `[NAME]:PORT`) is known to ssh
/// clients with `keys` (`TYPE KEY` each): lines `HOST TYPE KEY` in
/// `/etc/ssh/ssh_known_hosts`, or with `user` in `~USER/.ssh/known_hosts`
/// (made with `~/.ssh`, owned by the user).
///
/// Other lines for `host` (first field exactly `host`) are removed, so a
/// changed host key replaces the old one, as Consfigurator's
/// `ssh:known-host` does; lines of other hosts, and hashed ones, are kept.
/// The file has mode 0644. Unchanged when it already holds exactly these
/// keys for the host. Check mode reads it and predicts the same.
#[property]
pub fn known_host(host: String, keys: Vec<String>, user: Option<String>) -> Result<Change> {
    ensure!(
        !host.is_empty()
            && !host.starts_with(['#', '|', '@', '!'])
            && !host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ','),
        "{host:?} is not a host name for known_hosts: one name or address (or [NAME]:PORT), \
         without blanks, commas or a leading `#`, `|`, `@` or `!`"
    );
    let keys = keys
        .iter()
        .map(|key| checked_key("a host key", key))
        .collect::<Result<Vec<_>>>()?;
    for key in &keys {
        ensure!(
            key_of(key).is_some_and(|(kind, _)| key.starts_with(kind)),
            "{key:?} is not a host key: TYPE KEY, without a host or options"
        );
    }
    let (path, owner, mut change) = match &user {
        Some(user) => {
            let account = account(user)?;
            let (dir, change) = ssh_dir(&account)?;
            (format!("{dir}/known_hosts"), Some(account), change)
        }
        None => {
            // A root without openssh-client has no /etc/ssh.
            let missing = !fs::exists("/etc/ssh")?;
            if missing {
                fs::mkdir("/etc/ssh", None)?;
            }
            (SYSTEM_KNOWN_HOSTS.to_owned(), None, Change::from(missing))
        }
    };
    // Nothing to read in a directory just made.
    let before = match (&user, change) {
        (None, Change::Changed) => None,
        _ => read(&path)?,
    };
    let mut unused: Vec<&str> = keys.clone();
    let mut lines = Vec::new();
    for line in before.as_deref().unwrap_or_default().lines() {
        if line.split_whitespace().next() != Some(host.as_str()) {
            lines.push(line.to_owned());
            continue;
        }
        let found = key_of(line);
        if let Some(index) = unused.iter().position(|key| key_of(key) == found) {
            lines.push(format!("{host} {}", unused.remove(index)));
        }
    }
    lines.extend(unused.iter().map(|key| format!("{host} {key}")));
    let wrote = file_has(
        &path,
        before.as_deref(),
        &text_of(&lines),
        owner.as_ref(),
        0o644,
    )?;
    if wrote == Change::Changed {
        info!("{path}: {host} has {} keys", keys.len());
    }
    change |= wrote;
    Ok(change)
}

consfig_guest::module! {
    name: "ssh",
    export: false,
    needs: ["write:/home", "write:/root", "write:/srv", "write:/var/lib", "write:/etc/ssh"],
    doc: "SSH: a user's authorized keys, known hosts.",
    properties: [authorized_keys, known_host],
}

#[cfg(test)]
mod tests;
