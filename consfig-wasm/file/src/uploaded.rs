//! `file:data-uploaded`: this host's data (a secret the consfig reads from
//! outside itself) written to a file, mode 0600 unless told. The runtime
//! blanks data out of every diff, report and log it makes; this property
//! never prints it either.

use consfig_guest::prelude::*;

use crate::content::{Attributes, file_has};
use crate::ownership::User;

/// Ensure the file at `path` holds exactly this host's data `key` (given
/// under `data` of its `[hosts.NAME]`; the module needs the grant
/// `data:KEY`, which the standard file module has).
///
/// Options: `mode` (default `"0600"`) and `owner` (a name on the target or a
/// number). A new file is written beside its path with them, then renamed
/// into place: it is never readable by others, not even for a moment. The
/// content never appears in a diff, a report or a log: they show
/// `[data KEY]` in its place. Unchanged when content, mode and owner match;
/// in check mode the prediction is exact.
#[property]
pub fn data_uploaded(
    path: String,
    key: String,
    #[default = "0600"] mode: Mode,
    owner: Option<User>,
) -> Result<Change> {
    let content = host::data(&key)?;
    let attributes = Attributes::of(Some(mode), owner.as_ref(), None)?;
    file_has(&path, &content, &attributes)
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::MODULE;

    #[test]
    fn writes_the_data_with_mode_0600_unless_told() {
        let host = FakeHost::new()
            .user("postgres", 105, 110)
            .dir("/etc")
            .data("db", "hunter22\n")
            .module(&MODULE);
        let form: Form = r#"["file:data-uploaded", "/etc/db.pw", "db"]"#.parse().unwrap();
        assert_eq!(host.apply_form(&form), Ok(Change::Changed));
        assert_eq!(host.text("/etc/db.pw").as_deref(), Some("hunter22\n"));
        assert_eq!(host.stat("/etc/db.pw").unwrap().mode.bits(), 0o600);
        assert_eq!(host.apply_form(&form), Ok(Change::Unchanged));

        // A looser mode on the file is corrected.
        host.apply(|| fs::chmod("/etc/db.pw", Mode::new(0o644)?))
            .unwrap();
        assert_eq!(host.apply_form(&form), Ok(Change::Changed));
        assert_eq!(host.stat("/etc/db.pw").unwrap().mode.bits(), 0o600);

        let owned: Form =
            r#"["file:data-uploaded", "/etc/pg.pw", "db", {"mode": "0640", "owner": "postgres"}]"#
                .parse()
                .unwrap();
        assert_eq!(host.apply_form(&owned), Ok(Change::Changed));
        let stat = host.stat("/etc/pg.pw").unwrap();
        assert_eq!((stat.mode.bits(), stat.uid), (0o640, 105));
    }

    #[test]
    fn missing_data_fails_without_writing() {
        let host = FakeHost::new().dir("/etc").module(&MODULE);
        let form: Form = r#"["file:data-uploaded", "/etc/db.pw", "db"]"#.parse().unwrap();
        assert!(host.apply_form(&form).is_err());
        assert_eq!(host.text("/etc/db.pw"), None);
    }
}
