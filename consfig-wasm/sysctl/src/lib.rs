//! The `sysctl` module: kernel parameters, persisted in a file of
//! `/etc/sysctl.d` (read at boot) and, outside a chroot, applied to the
//! running kernel.

use std::collections::BTreeMap;

use consfig_file::edit::conf::{ConfSettings, ConfStyle};
use consfig_guest::prelude::*;

const SYSCTL_D: &str = "/etc/sysctl.d";
const PROC_SYS: &str = "/proc/sys";
const PROGRAM: &str = "/usr/sbin/sysctl";

/// The kernel parameter KEY (`net.ipv4.ip_forward`) is VALUE: persisted as
/// `KEY = VALUE` in `/etc/sysctl.d/FILE`, set as `file:contains-conf-equals`
/// sets a key (the first line for it, commented out or not, is set, later
/// ones commented out, one appended when there is none; the file is made
/// when missing, and `/etc/sysctl.d` too), and, outside a chroot, applied
/// now with `sysctl -w KEY=VALUE` when `/proc/sys/KEY` reads otherwise
/// (blanks compared as one space, so `4096 87380 6291456` matches what the
/// kernel shows with tabs). In a chroot (an image being built) the running
/// kernel is left alone.
///
/// Options: `file`, the file's name in `/etc/sysctl.d` (default
/// `60-consfig.conf`; a plain name ending in `.conf`).
///
/// Unchanged when the file has the setting and (outside a chroot) the
/// kernel has the value. Check mode reads the file and `/proc/sys` and
/// skips `sysctl -w`, so it predicts exactly. KEY is dot-separated words of
/// letters, digits, `_` and `-` (no `/`, no `..`); VALUE is one line.
/// Outside a chroot, a KEY the kernel does not have fails.
#[property]
pub fn value(
    key: String,
    value: String,
    #[default = "60-consfig.conf"] file: String,
) -> Result<Change> {
    check_key(&key)?;
    check_value(&key, &value)?;
    check_file(&file)?;
    let path = format!("{SYSCTL_D}/{file}");
    let settings = BTreeMap::from([(key.clone(), value.clone())]);
    let edit = ConfSettings::new(ConfStyle::Equals, &settings)
        .map_err(|e| Error::new(format!("{path}: {e}")))?;
    // procps and systemd ship the directory; a minimal tree may lack it.
    match fs::stat(SYSCTL_D)? {
        Some(stat) if stat.is_dir() => {}
        Some(stat) => bail!("{SYSCTL_D} is a {}, not a directory", stat.kind),
        None => fs::mkdir(SYSCTL_D, Some(Mode::new(0o755)?))?,
    }
    let before = match fs::stat(&path)? {
        Some(stat) if stat.is_file() => Some(fs::read_to_string(&path)?),
        Some(stat) => bail!("{path} is a {}, not a file", stat.kind),
        None => None,
    };
    let after = edit.apply(before.as_deref().unwrap_or_default());
    let mut change = Change::Unchanged;
    if before.as_deref() != Some(after.as_str()) {
        fs::write(&path, &after, None)?;
        info!("{path}: {key} = {value}");
        change = Change::Changed;
    }

    if host::in_chroot() {
        debug!("in a chroot: the running kernel's {key} is left as it is");
        return Ok(change);
    }
    let live = format!("{PROC_SYS}/{}", key.replace('.', "/"));
    ensure!(
        fs::exists(&live)?,
        "the kernel has no parameter {key} ({live} does not exist)"
    );
    let current = fs::read_to_string(&live)?;
    if words(&current) != words(&value) {
        Command::change(PROGRAM)
            .args(["-w", &format!("{key}={value}")])
            .succeed()?;
        change = Change::Changed;
    }
    Ok(change)
}

/// A value with its blanks as single spaces, for comparing what the kernel
/// shows (tab-separated, newline-ended) with what was given.
fn words(value: &str) -> Vec<&str> {
    value.split_whitespace().collect()
}

/// Dot-separated words of letters, digits, `_` and `-`, not starting with
/// `-`: so no `/` or `..` reaches a path under `/proc/sys`, and no option
/// reaches `sysctl`.
fn check_key(key: &str) -> Result<()> {
    let word = |w: &str| {
        !w.is_empty()
            && !w.starts_with('-')
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
    };
    ensure!(
        key.split('.').all(word),
        "{key:?} is not a kernel parameter name such as net.ipv4.ip_forward (dot-separated \
         words of letters, digits, `_` and `-`)"
    );
    Ok(())
}

fn check_value(key: &str, value: &str) -> Result<()> {
    ensure!(
        !value.trim().is_empty() && !value.chars().any(|c| c.is_control() && c != '\t'),
        "the value of {key} {value:?} is empty or not one line"
    );
    Ok(())
}

/// A plain file name in `/etc/sysctl.d`, which reads only `*.conf`.
fn check_file(file: &str) -> Result<()> {
    let valid = file.len() > ".conf".len()
        && file.ends_with(".conf")
        && !file.starts_with(['.', '-'])
        && file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    ensure!(
        valid,
        "the file {file:?} is not a plain name ending in .conf (letters, digits, `_`, `.` and \
         `-`)"
    );
    Ok(())
}

consfig_guest::module! {
    name: "sysctl",
    export: false,
    needs: ["write:/etc/sysctl.d", "read:/proc/sys", "command:/usr/sbin/sysctl -w *"],
    doc: "Kernel parameters: persisted in /etc/sysctl.d, applied live outside a chroot.",
    properties: [value],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    const CONF: &str = "/etc/sysctl.d/60-consfig.conf";
    const FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";

    use consfig_guest::testing::failure;

    fn forward(value: &str) -> impl Fn() -> Result<Change> {
        let value = value.to_owned();
        move || {
            super::value(
                "net.ipv4.ip_forward".into(),
                value.clone(),
                "60-consfig.conf".into(),
            )
        }
    }

    #[test]
    fn persists_and_applies_then_is_unchanged() {
        let host = FakeHost::new().dir(SYSCTL_D).file(FORWARD, "0\n").command(
            [PROGRAM, "-w", "net.ipv4.ip_forward=1"],
            0,
            "net.ipv4.ip_forward = 1\n",
        );
        assert_eq!(host.apply(forward("1")), Ok(Change::Changed));
        assert_eq!(
            host.text(CONF).as_deref(),
            Some("net.ipv4.ip_forward = 1\n")
        );
        assert_eq!(host.commands_run().len(), 1);

        let host = host.file(FORWARD, "1\n");
        assert_eq!(host.apply(forward("1")), Ok(Change::Unchanged));
        assert_eq!(host.commands_run().len(), 1);
    }

    #[test]
    fn edits_an_existing_file_and_compares_blanks_loosely() {
        let rmem = "/proc/sys/net/ipv4/tcp_rmem";
        let host = FakeHost::new().file(rmem, "4096\t87380\t6291456\n").file(
            "/etc/sysctl.d/10-net.conf",
            "# tuned\n#net.ipv4.tcp_rmem=1 2 3\nvm.swappiness=10\n",
        );
        let set = || {
            value(
                "net.ipv4.tcp_rmem".into(),
                "4096 87380 6291456".into(),
                "10-net.conf".into(),
            )
        };
        assert_eq!(host.apply(set), Ok(Change::Changed));
        assert_eq!(
            host.text("/etc/sysctl.d/10-net.conf").as_deref(),
            Some("# tuned\nnet.ipv4.tcp_rmem=4096 87380 6291456\nvm.swappiness=10\n")
        );
        assert!(host.commands_run().is_empty());
        assert_eq!(host.apply(set), Ok(Change::Unchanged));
    }

    #[test]
    fn in_a_chroot_only_the_file_changes() {
        // A minimal tree without procps: the directory is made too.
        let host = FakeHost::new()
            .in_chroot(true)
            .dir("/etc")
            .file(FORWARD, "0\n");
        assert_eq!(host.apply(forward("1")), Ok(Change::Changed));
        assert!(host.stat(SYSCTL_D).is_some_and(|s| s.is_dir()));
        assert_eq!(host.apply(forward("1")), Ok(Change::Unchanged));
        let file = FakeHost::new().in_chroot(true).file(SYSCTL_D, "");
        assert_eq!(
            failure(file.apply(forward("1"))),
            "/etc/sysctl.d is a file, not a directory"
        );
        let host = FakeHost::new().in_chroot(true).dir(SYSCTL_D);
        assert_eq!(host.apply(forward("1")), Ok(Change::Changed));
        assert_eq!(host.apply(forward("1")), Ok(Change::Unchanged));
        assert!(host.commands_run().is_empty());
    }

    #[test]
    fn check_mode_reads_proc_and_skips_sysctl() {
        let host = FakeHost::new()
            .check_mode()
            .file(CONF, "net.ipv4.ip_forward = 1\n")
            .file(FORWARD, "0\n");
        assert_eq!(host.apply(forward("1")), Ok(Change::Changed));
        assert_eq!(
            host.commands_skipped(),
            [[PROGRAM, "-w", "net.ipv4.ip_forward=1"]]
        );
        let host = FakeHost::new()
            .check_mode()
            .file(CONF, "net.ipv4.ip_forward = 1\n")
            .file(FORWARD, "1\n");
        assert_eq!(host.apply(forward("1")), Ok(Change::Unchanged));
    }

    #[test]
    fn an_unknown_parameter_fails_outside_a_chroot() {
        let host = FakeHost::new().dir(SYSCTL_D);
        assert_eq!(
            failure(host.apply(|| value("net.nope".into(), "1".into(), "60-consfig.conf".into()))),
            "the kernel has no parameter net.nope (/proc/sys/net/nope does not exist)"
        );
    }

    #[test]
    fn refuses_keys_values_and_files_that_escape_or_inject() {
        let host = FakeHost::new().file(FORWARD, "0\n");
        let set = |key: &str, value: &str, file: &str| {
            host.apply(|| super::value(key.into(), value.into(), file.into()))
        };
        for key in [
            "",
            "net/ipv4/ip_forward",
            "net..ipv4",
            "..",
            "../../etc/shadow",
            "-a",
            "net.ipv4.-w",
            "net.ipv4 ip_forward",
            "net.ipv4.ip_forward=1",
            "kernel.x\nkernel.y",
        ] {
            assert!(
                failure(set(key, "1", "60-consfig.conf")).contains("is not a kernel parameter"),
                "{key:?}"
            );
        }
        for value in ["", " ", "1\nkernel.panic = 0", "1\r"] {
            assert!(
                failure(set("net.ipv4.ip_forward", value, "60-consfig.conf"))
                    .contains("is empty or not one line"),
                "{value:?}"
            );
        }
        for file in [
            "../sysctl.conf",
            "a/b.conf",
            "x.txt",
            ".conf",
            "-x.conf",
            ".hidden.conf",
            "a b.conf",
        ] {
            assert!(
                failure(set("net.ipv4.ip_forward", "1", file)).contains("is not a plain name"),
                "{file:?}"
            );
        }
        assert!(host.file_changes().is_empty());
        assert!(host.commands_run().is_empty());
    }
}
