//! `user:has-login-shell`: an account's login shell, listed in
//! `/etc/shells` as Consfigurator's property lists it.

use consfig_guest::prelude::*;

use crate::names::{USERMOD, account, check_name, check_path};

const SHELLS: &str = "/etc/shells";

/// The user's login shell is `shell` (an absolute path), set with `usermod
/// --shell`; the shell is listed in `/etc/shells` (appended when missing,
/// as Consfigurator's `user:has-login-shell` does), so that `chsh` and
/// services checking valid shells accept it.
///
/// Unchanged when both already hold. Check mode reads the account
/// (`getent`) and `/etc/shells` and predicts the same.
#[property]
pub fn has_login_shell(name: String, shell: String) -> Result<Change> {
    check_name("user", &name)?;
    check_path("shell", &shell)?;
    let mut change = Change::Unchanged;
    let listed = match fs::stat(SHELLS)? {
        Some(stat) if stat.is_file() => fs::read_to_string(SHELLS)?,
        Some(stat) => bail!("{SHELLS} is a {}, not a file", stat.kind),
        None => String::new(),
    };
    if !listed.lines().any(|line| line.trim() == shell) {
        let separator = if listed.is_empty() || listed.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        fs::write(SHELLS, format!("{listed}{separator}{shell}\n"), None)?;
        info!("listed {shell} in {SHELLS}");
        change = Change::Changed;
    }
    let current = account(&name)?;
    if current.is_none_or(|account| account.shell != shell) {
        Command::change(USERMOD)
            .args(["--shell", &shell, "--", &name])
            .succeed()?;
        info!("set the login shell of {name} to {shell}");
        change = Change::Changed;
    }
    Ok(change)
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::MODULE;
    use crate::names::GETENT;

    fn form(json: &str) -> Form {
        json.parse().unwrap()
    }

    const ADA: &str = "ada:x:1000:1000::/home/ada:/bin/sh\n";
    const ADA_ZSH: &str = "ada:x:1000:1000::/home/ada:/usr/bin/zsh\n";

    #[test]
    fn sets_the_shell_and_lists_it() {
        let host = FakeHost::new()
            .module(&MODULE)
            .dir("/etc")
            .file(SHELLS, "/bin/sh\n/bin/bash")
            .command([GETENT, "passwd", "ada"], 0, ADA)
            .command([USERMOD, "--shell", "/usr/bin/zsh", "--", "ada"], 0, "")
            .command([GETENT, "passwd", "ada"], 0, ADA_ZSH);
        let zsh = form(r#"["user:has-login-shell", "ada", "/usr/bin/zsh"]"#);
        assert_eq!(host.apply_form(&zsh), Ok(Change::Changed));
        assert_eq!(
            host.text(SHELLS).unwrap(),
            "/bin/sh\n/bin/bash\n/usr/bin/zsh\n"
        );
        assert_eq!(host.apply_form(&zsh), Ok(Change::Unchanged));
        assert!(host.commands_not_run().is_empty());
    }

    #[test]
    fn a_listed_shell_only_needs_usermod_and_check_mode_skips_it() {
        let host = FakeHost::new()
            .check_mode()
            .dir("/etc")
            .file(SHELLS, "/bin/sh\n/usr/bin/zsh\n")
            .command([GETENT, "passwd", "ada"], 0, ADA);
        assert_eq!(
            host.apply(|| has_login_shell("ada".into(), "/usr/bin/zsh".into())),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.commands_skipped(),
            [[USERMOD, "--shell", "/usr/bin/zsh", "--", "ada"]]
        );
        assert!(host.file_changes().is_empty());
    }

    #[test]
    fn refuses_bad_shells_and_names() {
        let host = FakeHost::new().dir("/etc").file(SHELLS, "");
        for (name, shell) in [
            ("ada", "zsh"),
            ("ada", "/bin/sh\n/tmp/evil"),
            ("-s", "/bin/sh"),
        ] {
            assert!(
                host.apply(|| has_login_shell(name.into(), shell.into()))
                    .is_err()
            );
        }
        assert!(host.commands_run().is_empty());
        assert_eq!(host.text(SHELLS).unwrap(), "");
    }
}
