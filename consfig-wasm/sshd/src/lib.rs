//! The `sshd` module: the SSH server's configuration, edited as
//! Consfigurator's `file:contains-conf-space` edits files (the editor of
//! the `file` module), checked by `sshd -t` before it replaces the file,
//! and sshd reloaded when it runs; and on that, [`passwords`]
//! (`sshd:no-passwords`).

use std::collections::BTreeMap;

use consfig_file::edit::conf::{ConfSettings, ConfStyle};
use consfig_guest::prelude::*;

pub mod passwords;

const SSHD: &str = "/usr/sbin/sshd";
const SYSTEMCTL: &str = "/usr/bin/systemctl";
const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";
/// Where systemd, running, keeps its state: its presence says systemd runs.
const SYSTEMD_RUNNING: &str = "/run/systemd/system";

/// A keyword of sshd_config: letters and digits. `Match` starts a block
/// whose lines apply to some connections only, so it is not a setting.
fn check_key(key: &str) -> Result<()> {
    ensure!(
        key.starts_with(|c: char| c.is_ascii_alphabetic())
            && key.chars().all(|c| c.is_ascii_alphanumeric()),
        "{key:?} is not an sshd_config keyword (letters and digits, such as PermitRootLogin)"
    );
    ensure!(
        !key.eq_ignore_ascii_case("match"),
        "Match starts a block of settings for some connections: sshd:configured sets \
         global keywords only"
    );
    Ok(())
}

fn check_value(key: &str, value: &str) -> Result<()> {
    ensure!(
        !value.trim().is_empty() && !value.chars().any(|c| c.is_control() && c != '\t'),
        "the value of {key}, {value:?}, is not one line of text (it is empty, or has a \
         newline or another control character)"
    );
    Ok(())
}

/// `text` with each keyword of `keys` written as in `keys`: sshd reads
/// keywords in any case and takes the first line for one, so
/// `permitrootlogin yes` is the line to set for `PermitRootLogin`.
fn keywords_cased(keys: &[&str], text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let start = line.len() - line.trim_start_matches(['#', ' ', '\t']).len();
        let rest = &line[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let found = keys
            .iter()
            .find(|key| key.eq_ignore_ascii_case(&rest[..end]) && **key != &rest[..end]);
        match found {
            Some(key) => {
                out.push_str(&line[..start]);
                out.push_str(key);
                out.push_str(&rest[end..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The new text: the settings applied to the part of the file before its
/// first `Match` block (whose lines only apply to some connections, so
/// they are neither edited nor appended to).
fn edited(keys: &[&str], edit: &ConfSettings, text: &str) -> String {
    let mut head_len = text.len();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let keyword = line.split_whitespace().next().unwrap_or_default();
        if keyword.eq_ignore_ascii_case("match") {
            head_len = offset;
            break;
        }
        offset += line.len();
    }
    let (head, tail) = text.split_at(head_len);
    let new_head = edit.apply(&keywords_cased(keys, head));
    if new_head == head {
        return text.to_owned();
    }
    format!("{new_head}{tail}")
}

/// Whether sshd accepts `text` as its configuration: `sshd -t` reads it on
/// its standard input (a query, so check mode validates too). A missing
/// `/run/sshd` (where sshd does not run: a chroot, an image) is the only
/// complaint sshd makes after reading the whole configuration, so it does
/// not make the text invalid.
fn validate(config: &str, text: &str) -> Result<()> {
    let command = Command::query(SSHD)
        .args(["-t", "-f", "/dev/stdin"])
        .stdin(text);
    let shown = command.to_string();
    let output = run(command).map_err(|e| {
        let e = e.to_string();
        let hint = match e.contains("No such file") || e.contains("not found") {
            true => " (is openssh-server installed?)",
            false => "",
        };
        Error::new(format!("{shown}{hint}: {e}"))
    })?;
    if output.success() {
        return Ok(());
    }
    let stderr = output.stderr_str();
    let complaints: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let no_privsep_dir = !complaints.is_empty()
        && complaints
            .iter()
            .all(|l| l.starts_with("Missing privilege separation directory"));
    ensure!(
        output.exit_code.is_some() && no_privsep_dir,
        "{config}: sshd -t refuses the new configuration, so it is left as it was: {}{}",
        output.status(),
        output.stderr_suffix()
    );
    Ok(())
}

/// sshd has reloaded its configuration, if it runs: when systemd runs
/// (`/run/systemd/system` exists, not in a chroot) and `ssh.service` is
/// active. Otherwise it reads the new configuration when it starts.
fn reload() -> Result<()> {
    if host::in_chroot() || !fs::exists(SYSTEMD_RUNNING)? {
        info!("systemd does not run here: sshd not reloaded");
        return Ok(());
    }
    let active = Command::query(SYSTEMCTL)
        .args(["is-active", "--quiet", "ssh.service"])
        .run()?;
    if !active.success() {
        info!("ssh.service is not active: not reloaded");
        return Ok(());
    }
    Command::change(SYSTEMCTL)
        .args(["reload", "ssh.service"])
        .succeed()?;
    info!("reloaded ssh.service");
    Ok(())
}

/// sshd_config sets each keyword of `settings` to its value, edited as
/// Consfigurator's `file:contains-conf-space` edits (the first line for a
/// keyword, commented out or not, is set; later ones are commented out;
/// missing keywords are appended) — in the global part of the file, before
/// its first `Match` block, which is left as it is. Keywords are matched
/// in any case, as sshd reads them (a line `permitrootlogin yes` is the one
/// set for `PermitRootLogin`, and written so).
///
/// Option `config`: the file, `/etc/ssh/sshd_config` by default. The new
/// text is checked with `sshd -t` first: one sshd refuses leaves the file
/// as it was and fails, with sshd's reason. When the file changed, sshd is
/// reloaded (`systemctl reload ssh.service`) if systemd runs and the
/// service is active, and only for the default file. Unchanged when every
/// keyword is set already. Check mode reads the file and runs `sshd -t`
/// too, and predicts the same (the reload is skipped).
#[property]
pub fn configured(
    settings: BTreeMap<String, String>,
    #[default = "/etc/ssh/sshd_config"] config: String,
) -> Result<Change> {
    for (key, value) in &settings {
        check_key(key)?;
        check_value(key, value)?;
    }
    check_config(&config)?;
    configure(&settings, &config, |_, _| Ok(()))
}

fn check_config(config: &str) -> Result<()> {
    ensure!(
        config.starts_with('/') && !config.chars().any(char::is_control),
        "the config {config:?} is not an absolute path"
    );
    Ok(())
}

/// The file's text, which must be there.
fn read_config(config: &str) -> Result<String> {
    match fs::stat(config)? {
        Some(stat) if stat.is_file() => fs::read_to_string(config),
        Some(stat) => bail!("{config} is a {}, not a file", stat.kind),
        None => bail!("{config} does not exist (is openssh-server installed?)"),
    }
}

/// Set `settings` (checked) in `config` as `sshd:configured` does: edited,
/// `look` given the text before and after (to refuse it, before anything
/// is written), checked by `sshd -t`, written, sshd reloaded.
fn configure(
    settings: &BTreeMap<String, String>,
    config: &str,
    look: impl FnOnce(&str, &str) -> Result<()>,
) -> Result<Change> {
    let edit = ConfSettings::new(ConfStyle::Space, settings)
        .map_err(|e| Error::new(format!("{config}: {e}")))?;
    let before = read_config(config)?;
    let keys: Vec<&str> = settings.keys().map(String::as_str).collect();
    let after = edited(&keys, &edit, &before);
    look(&before, &after)?;
    if after == before {
        return Ok(Change::Unchanged);
    }
    validate(config, &after)?;
    fs::write(config, &after, None)?;
    info!("{config}: set {}", keys.join(", "));
    if config == SSHD_CONFIG {
        reload()?;
    }
    Ok(Change::Changed)
}

consfig_guest::module! {
    name: "sshd",
    export: false,
    needs: [
        "write:/etc/ssh",
        "read:/run/systemd/system",
        "command:/usr/sbin/sshd -t -f /dev/stdin",
        "command:/usr/bin/systemctl is-active --quiet ssh.service",
        "command:/usr/bin/systemctl reload ssh.service",
    ],
    doc: "The SSH server's configuration: keywords of sshd_config, checked by sshd -t; password logins refused.",
    properties: [configured, passwords::no_passwords],
}

#[cfg(test)]
mod tests;
