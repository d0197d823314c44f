//! Passwords: `user:has-password` (a hash from the host's data) and
//! `user:has-locked-password`. The current hash is read from `/etc/shadow`
//! as a file; a hash is only ever given to `chpasswd` on its standard input,
//! never on a command line (where `ps` would show it), and never appears in
//! a message.

use consfig_guest::prelude::*;

use crate::names::{CHPASSWD, USERMOD, check_name};

const SHADOW: &str = "/etc/shadow";

/// The password field of `name` in `/etc/shadow`, if it has a line there.
fn shadow_hash(name: &str) -> Result<Option<String>> {
    if !fs::exists(SHADOW)? {
        return Ok(None);
    }
    let shadow = fs::read_to_string(SHADOW)?;
    let prefix = format!("{name}:");
    Ok(shadow
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|rest| rest.split(':').next().unwrap_or_default().to_owned()))
}

/// The user's password hash is the host's data `data-key` (the module's
/// grant `data:*`; in Consfig.toml, `[hosts.NAME] data`), a crypt(3) hash
/// such as `mkpasswd -m yescrypt` prints (starting with `$`): Ansible's
/// `user` with `password`.
///
/// Compared with the hash in `/etc/shadow`: unchanged when it is the same,
/// so a hash is never salted again. Otherwise set with `chpasswd -e`, fed
/// on its standard input. The hash never appears in a message or on a
/// command line. A locked account (`!` before its hash) whose hash is
/// given is unlocked. Check mode reads `/etc/shadow` and predicts the same.
#[property]
pub fn has_password(name: String, data_key: String) -> Result<Change> {
    check_name("user", &name)?;
    let hash = host::data_text(&data_key)?;
    ensure!(
        hash.starts_with('$')
            && !hash.contains(':')
            && !hash.chars().any(|c| c.is_whitespace() || c.is_control()),
        "the data {data_key:?} is not a crypt(3) password hash: one word starting with `$`, \
         without `:` (as `mkpasswd -m yescrypt` prints)"
    );
    if shadow_hash(&name)?.as_deref() == Some(hash.as_str()) {
        return Ok(Change::Unchanged);
    }
    Command::change(CHPASSWD)
        .arg("-e")
        .stdin(format!("{name}:{hash}\n"))
        .succeed()?;
    info!("set the password of {name} (from the data {data_key})");
    Ok(Change::Changed)
}

/// The user cannot log in with a password: its hash in `/etc/shadow` starts
/// with `!`, as `usermod --lock` makes it (Consfigurator's
/// `user:has-locked-password`, Ansible's `password_lock`). Logging in with
/// an SSH key still works.
///
/// Unchanged when it is locked already. Check mode reads `/etc/shadow` and
/// predicts the same.
#[property]
pub fn has_locked_password(name: String) -> Result<Change> {
    check_name("user", &name)?;
    if shadow_hash(&name)?.is_some_and(|hash| hash.starts_with('!')) {
        return Ok(Change::Unchanged);
    }
    Command::change(USERMOD)
        .args(["--lock", "--", &name])
        .succeed()?;
    info!("locked the password of {name}");
    Ok(Change::Changed)
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::MODULE;

    fn form(json: &str) -> Form {
        json.parse().unwrap()
    }

    const HASH: &str = "$y$j9T$saltsaltsalt$hashhashhashhashhashhashhashhashhashhashhas";
    const OLD: &str = "$6$oldsalt$oldhash";

    fn shadow(ada: &str) -> String {
        format!("root:*:19000:0:99999:7:::\nada:{ada}:19000:0:99999:7:::\nadam:x:1::::::\n")
    }

    /// Everything a host shows of what ran: commands, messages, the log.
    fn shown(host: &FakeHost) -> String {
        let mut all = format!("{:?}{:?}", host.commands_run(), host.logged());
        for command in host.commands() {
            all.push_str(&command.to_string());
        }
        all
    }

    #[test]
    fn has_password_sets_the_hash_through_stdin_once() {
        let host = FakeHost::new()
            .module(&MODULE)
            .dir("/etc")
            .file(SHADOW, shadow(OLD))
            .data("ada-password", format!("{HASH}\n"))
            .command([CHPASSWD, "-e"], 0, "");
        let ada = form(r#"["user:has-password", "ada", "ada-password"]"#);
        assert_eq!(host.apply_form(&ada), Ok(Change::Changed));
        let commands = host.commands();
        assert_eq!(
            commands[0].input(),
            Some(format!("ada:{HASH}\n").as_bytes())
        );
        assert!(!shown(&host).contains(HASH));
        assert_eq!(
            host.logged(),
            ["info: set the password of ada (from the data ada-password)"]
        );
        // chpasswd wrote the hash: the same hash is no change (no new salt).
        let same = FakeHost::new()
            .dir("/etc")
            .file(SHADOW, shadow(HASH))
            .data("ada-password", HASH);
        assert_eq!(
            same.apply(|| has_password("ada".into(), "ada-password".into())),
            Ok(Change::Unchanged)
        );
        assert!(same.commands_run().is_empty());
    }

    #[test]
    fn has_password_in_check_mode_reads_shadow_and_skips_chpasswd() {
        let host = FakeHost::new()
            .check_mode()
            .dir("/etc")
            .file(SHADOW, shadow("!"))
            .data("pw", HASH);
        assert_eq!(
            host.apply(|| has_password("ada".into(), "pw".into())),
            Ok(Change::Changed)
        );
        assert_eq!(host.commands_skipped(), [[CHPASSWD, "-e"]]);
        assert!(!shown(&host).contains(HASH));
    }

    #[test]
    fn has_password_refuses_a_hash_that_could_inject_a_line_without_showing_it() {
        for (secret, reason) in [
            // A second line for chpasswd would set root's password.
            (format!("{HASH}\nroot:{HASH}"), "newline"),
            (format!("{HASH}:0:0"), "colon"),
            ("plain-text-password".to_owned(), "not a hash"),
            (String::new(), "empty"),
        ] {
            let host = FakeHost::new()
                .dir("/etc")
                .file(SHADOW, shadow(OLD))
                .data("pw", &secret);
            let error = host
                .apply(|| has_password("ada".into(), "pw".into()))
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with("the data \"pw\" is not a crypt(3) password hash"),
                "{reason}: {error}"
            );
            assert!(secret.is_empty() || !error.contains(&secret), "{reason}");
            assert!(!error.contains("plain-text"), "{reason}");
            assert!(host.commands_run().is_empty(), "{reason}");
        }
    }

    #[test]
    fn has_password_refuses_bad_user_names() {
        let host = FakeHost::new().data("pw", HASH);
        for name in ["ada:", "ada\nroot", "-e"] {
            assert!(
                host.apply(|| has_password(name.into(), "pw".into()))
                    .is_err()
            );
        }
        assert!(host.commands_run().is_empty());
    }

    #[test]
    fn has_password_of_a_missing_account_runs_chpasswd_which_fails() {
        let host = FakeHost::new()
            .dir("/etc")
            .file(SHADOW, shadow(OLD))
            .data("pw", HASH)
            .command_output(
                [CHPASSWD, "-e"],
                Output {
                    exit_code: Some(1),
                    stdout: Vec::new(),
                    stderr: b"chpasswd: line 1: user 'bob' does not exist\n".to_vec(),
                },
            );
        let error = host
            .apply(|| has_password("bob".into(), "pw".into()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "/usr/sbin/chpasswd -e: exit code 1: chpasswd: line 1: user 'bob' does not exist"
        );
    }

    #[test]
    fn has_locked_password_locks_once() {
        let host = FakeHost::new()
            .module(&MODULE)
            .dir("/etc")
            .file(SHADOW, shadow(OLD))
            .command([USERMOD, "--lock", "--", "ada"], 0, "");
        let ada = form(r#"["user:has-locked-password", "ada"]"#);
        assert_eq!(host.apply_form(&ada), Ok(Change::Changed));
        assert_eq!(host.logged(), ["info: locked the password of ada"]);
        // `adam:` is not `ada:`.
        let locked = FakeHost::new()
            .module(&MODULE)
            .dir("/etc")
            .file(SHADOW, shadow(&format!("!{OLD}")));
        assert_eq!(locked.apply_form(&ada), Ok(Change::Unchanged));
        assert!(locked.commands_run().is_empty());
        let check = FakeHost::new()
            .check_mode()
            .dir("/etc")
            .file(SHADOW, shadow("*"));
        assert_eq!(
            check.apply(|| has_locked_password("ada".into())),
            Ok(Change::Changed)
        );
        assert_eq!(check.commands_skipped(), [[USERMOD, "--lock", "--", "ada"]]);
        assert!(
            check
                .apply(|| has_locked_password("--lock".into()))
                .is_err()
        );
    }
}
