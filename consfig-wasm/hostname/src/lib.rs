//! The `hostname` module: the host's name, the Debian way — in
//! `/etc/hostname`, on the `127.0.1.1` line of `/etc/hosts`, and, outside a
//! chroot, as the running kernel's hostname.

use std::collections::BTreeMap;

use consfig_file::edit::conf::{ConfSettings, ConfStyle};
use consfig_guest::prelude::*;

const HOSTNAME: &str = "/etc/hostname";
const HOSTS: &str = "/etc/hosts";
/// The program that sets the running hostname.
const PROGRAM: &str = "/usr/bin/hostname";
/// The address Debian gives the host's own name in `/etc/hosts`.
const SELF_ADDRESS: &str = "127.0.1.1";

/// The host is named NAME, a hostname or fully qualified domain name as
/// RFC 1123 allows (labels of letters, digits and `-`, not starting or
/// ending with `-`, at most 63 characters each and 253 in all): as
/// Consfigurator's `hostname:configured` does it, `/etc/hostname` holds its
/// first label (the short name), and `/etc/hosts` has the line
/// `127.0.1.1 FQDN SHORT` (`127.0.1.1 SHORT` for a name without a domain), set as
/// `file:contains-conf-tab` sets a key: the first line for `127.0.1.1`,
/// commented out or not, is set, later ones commented out, and one is
/// appended when there is none. Outside a chroot, the running hostname is
/// set to the short name with `hostname` when it differs; in a chroot
/// (an image being built) it is left alone.
///
/// Unchanged when both files already say so and (outside a chroot) the
/// running hostname is the short name. Check mode reads the files and the
/// running hostname and skips `hostname`, so it predicts exactly.
#[property]
pub fn configured(name: String) -> Result<Change> {
    check_name(&name)?;
    let short = name.split('.').next().unwrap_or_default().to_owned();
    let hosts_line = match name == short {
        true => short.clone(),
        false => format!("{name} {short}"),
    };
    let mut change = file_set(HOSTNAME, &format!("{short}\n"))?;

    let settings = BTreeMap::from([(SELF_ADDRESS.to_owned(), hosts_line)]);
    let edit =
        ConfSettings::new(ConfStyle::Tab, &settings).map_err(|e| Error::new(e.to_string()))?;
    let before = read_or_empty(HOSTS)?;
    let after = edit.apply(&before);
    if after != before {
        fs::write(HOSTS, &after, None)?;
        info!("{HOSTS}: {SELF_ADDRESS} is {name}");
        change = Change::Changed;
    }

    if host::in_chroot() {
        debug!("in a chroot: the running hostname is left as it is");
    } else if host::hostname() != short {
        Command::change(PROGRAM).arg(&short).succeed()?;
        info!("the running hostname is now {short}");
        change = Change::Changed;
    }
    Ok(change)
}

/// Refuse what RFC 1123 does not allow in a host name, which also keeps
/// options, whitespace and line breaks out of files and command lines.
fn check_name(name: &str) -> Result<()> {
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    ensure!(
        name.len() <= 253 && name.split('.').all(label_ok),
        "{name:?} is not a valid host name: labels of letters, digits and `-` separated by \
         dots, none starting or ending with `-`, at most 63 characters each and 253 in all"
    );
    Ok(())
}

/// The file's text, or nothing when it does not exist.
fn read_or_empty(path: &str) -> Result<String> {
    match fs::stat(path)? {
        Some(_) => fs::read_to_string(path),
        None => Ok(String::new()),
    }
}

/// The file holds exactly `text`.
fn file_set(path: &str, text: &str) -> Result<Change> {
    if fs::stat(path)?.is_some() && fs::read(path)? == text.as_bytes() {
        return Ok(Change::Unchanged);
    }
    fs::write(path, text, None)?;
    info!("{path}: {}", text.trim_end());
    Ok(Change::Changed)
}

consfig_guest::module! {
    name: "hostname",
    export: false,
    needs: ["write:/etc/hostname", "write:/etc/hosts", "command:/usr/bin/hostname *"],
    doc: "The host's name: /etc/hostname, /etc/hosts and the running hostname.",
    properties: [configured],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    const DEBIAN_HOSTS: &str = "127.0.0.1\tlocalhost\n127.0.1.1\tvm\n\n\
        # The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\n";

    use consfig_guest::testing::failure;

    #[test]
    fn sets_both_files_and_the_running_hostname_then_is_unchanged() {
        let host = FakeHost::new()
            .hostname("vm")
            .file(HOSTNAME, "vm\n")
            .file(HOSTS, DEBIAN_HOSTS)
            .command([PROGRAM, "web"], 0, "");
        let web = || configured("web.example.org".into());
        assert_eq!(host.apply(web), Ok(Change::Changed));
        assert_eq!(host.text(HOSTNAME).as_deref(), Some("web\n"));
        assert_eq!(
            host.text(HOSTS).unwrap(),
            DEBIAN_HOSTS.replace("127.0.1.1\tvm", "127.0.1.1\tweb.example.org web")
        );
        assert_eq!(host.commands_run(), [[PROGRAM, "web"]]);

        let host = host.hostname("web");
        assert_eq!(host.apply(web), Ok(Change::Unchanged));
        assert_eq!(host.commands_run().len(), 1);
    }

    #[test]
    fn a_short_name_and_missing_files() {
        let host = FakeHost::new().hostname("box").dir("/etc");
        assert_eq!(host.apply(|| configured("box".into())), Ok(Change::Changed));
        assert_eq!(host.text(HOSTNAME).as_deref(), Some("box\n"));
        assert_eq!(host.text(HOSTS).as_deref(), Some("127.0.1.1\tbox\n"));
        assert!(host.commands_run().is_empty());
        assert_eq!(
            host.apply(|| configured("box".into())),
            Ok(Change::Unchanged)
        );
    }

    #[test]
    fn in_a_chroot_the_running_hostname_is_left_alone() {
        let host = FakeHost::new()
            .in_chroot(true)
            .hostname("builder")
            .file(HOSTNAME, "vm\n")
            .file(HOSTS, "#127.0.1.1 old\n");
        assert_eq!(host.apply(|| configured("web".into())), Ok(Change::Changed));
        assert_eq!(host.text(HOSTS).as_deref(), Some("127.0.1.1\tweb\n"));
        assert!(host.commands_run().is_empty());
        assert_eq!(
            host.apply(|| configured("web".into())),
            Ok(Change::Unchanged)
        );
    }

    #[test]
    fn check_mode_reads_and_skips_hostname() {
        let host = FakeHost::new()
            .check_mode()
            .hostname("vm")
            .file(HOSTNAME, "web\n")
            .file(HOSTS, "127.0.1.1\tweb\n");
        assert_eq!(host.apply(|| configured("web".into())), Ok(Change::Changed));
        assert_eq!(host.commands_skipped(), [[PROGRAM, "web"]]);
        let host = FakeHost::new()
            .check_mode()
            .hostname("web")
            .file(HOSTNAME, "web\n")
            .file(HOSTS, "127.0.1.1\tweb\n");
        assert_eq!(
            host.apply(|| configured("web".into())),
            Ok(Change::Unchanged)
        );
    }

    #[test]
    fn refuses_names_rfc_1123_does_not_allow() {
        let host = FakeHost::new().file(HOSTNAME, "vm\n");
        for bad in [
            "",
            "-n",
            "--file=/etc/shadow",
            "web-",
            "a..b",
            "web.",
            "we b",
            "web\n127.0.0.1 evil",
            "web_1",
            "wéb",
            &"a".repeat(64),
            &["a"; 128].join("."),
        ] {
            assert!(
                failure(host.apply(|| configured(bad.into()))).contains("is not a valid host name"),
                "{bad:?}"
            );
        }
        assert_eq!(host.text(HOSTNAME).as_deref(), Some("vm\n"));
        assert!(host.commands_run().is_empty());
        for good in ["a", "web-1", "1web", "web.example.org", &"a".repeat(63)] {
            check_name(good).unwrap();
        }
    }
}
