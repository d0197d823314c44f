//! Files in a user's `~/.ssh`: the directory (0700) and files in it, owned
//! by the user, made and corrected through the host's file calls. A
//! symlink at `~/.ssh` or at the file is refused, never followed: the user
//! could point it at a file they must not write (`/etc/shadow`).

use consfig_guest::host::UserInfo;
use consfig_guest::prelude::*;
use consfig_user::names::check_name;

/// The account `user` of the target's `/etc/passwd`, with an absolute home
/// that exists.
pub fn account(user: &str) -> Result<UserInfo> {
    check_name("user", user)?;
    let Some(account) = host::lookup_user(user)? else {
        bail!("there is no user {user} on this host (in its /etc/passwd)");
    };
    ensure!(
        account.home.starts_with('/') && account.home != "/",
        "the home of {user}, {:?}, is not a directory of its own",
        account.home
    );
    match fs::stat(&account.home)? {
        Some(stat) if stat.is_dir() || stat.is_symlink() => Ok(account),
        Some(stat) => bail!("the home of {user}, {}, is a {}", account.home, stat.kind),
        None => bail!("the home of {user}, {}, does not exist", account.home),
    }
}

/// `path` belongs to the account and has `mode`: corrected if not.
fn owned(path: &str, account: &UserInfo, mode: u32) -> Result<Change> {
    let Some(stat) = fs::stat(path)? else {
        bail!("{path} vanished");
    };
    let mut change = Change::Unchanged;
    if (stat.uid, stat.gid) != (account.uid, account.gid) {
        fs::chown(
            path,
            Some(&account.uid.to_string()),
            Some(&account.gid.to_string()),
        )?;
        change = Change::Changed;
    }
    if stat.mode.bits() != mode {
        fs::chmod(path, Mode::new(mode)?)?;
        change = Change::Changed;
    }
    Ok(change)
}

/// `~/.ssh` of the account exists, a directory (not a symlink) owned by it
/// with mode 0700. Its path, and whether anything changed.
pub fn ssh_dir(account: &UserInfo) -> Result<(String, Change)> {
    let dir = format!("{}/.ssh", account.home.trim_end_matches('/'));
    match fs::stat(&dir)? {
        Some(stat) if stat.is_dir() => {}
        Some(stat) => bail!(
            "{dir} is a {}, not a directory: refusing to write through it",
            stat.kind
        ),
        None => {
            fs::mkdir(&dir, Some(Mode::new(0o700)?))?;
            owned(&dir, account, 0o700)?;
            return Ok((dir, Change::Changed));
        }
    }
    let change = owned(&dir, account, 0o700)?;
    Ok((dir, change))
}

/// What the file at `path` holds (`None` when missing); a symlink or
/// anything but a file is refused.
pub fn read(path: &str) -> Result<Option<String>> {
    match fs::stat(path)? {
        Some(stat) if stat.is_file() => Ok(Some(fs::read_to_string(path)?)),
        Some(stat) => bail!(
            "{path} is a {}, not a file: refusing to write through it",
            stat.kind
        ),
        None => Ok(None),
    }
}

/// The file at `path` holds `text`, belongs to `owner` (when given: else
/// it is left to whoever owns it, root for a new one) and has `mode`.
pub fn file_has(
    path: &str,
    before: Option<&str>,
    text: &str,
    owner: Option<&UserInfo>,
    mode: u32,
) -> Result<Change> {
    let mut change = Change::Unchanged;
    if before != Some(text) {
        fs::write(path, text, Some(Mode::new(mode)?))?;
        change = Change::Changed;
    }
    let corrected = match owner {
        Some(account) => owned(path, account, mode)?,
        // Just written with its mode.
        None if change == Change::Changed => Change::Unchanged,
        None => match fs::stat(path)? {
            Some(stat) if stat.mode.bits() != mode => {
                fs::chmod(path, Mode::new(mode)?)?;
                Change::Changed
            }
            _ => Change::Unchanged,
        },
    };
    Ok(change | corrected)
}
