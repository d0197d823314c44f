//! `file:copied`: a file of the consfig (beside Consfig.toml), as the
//! controller sent it to this host, copied to a path on the target.

use consfig_guest::prelude::*;

use crate::content::{Attributes, file_has};
use crate::ownership::{Group, User};

/// Ensure the file at `path` is a copy of the consfig's file `source`, a
/// path relative to Consfig.toml (e.g. `"files/nginx.conf"`).
///
/// The controller sends every file a host's forms name this way, only when
/// the target does not hold it already; a file outside the consfig's
/// directory (by `..` or a symlink) is never sent. Options: `mode` (e.g.
/// `"0640"`), `owner` and `group` (names on the target or numbers). A new
/// file is written with them beside its path, then renamed into place; a
/// new file with no mode gets 0644. Unchanged when content, mode, owner and
/// group all match; in check mode the prediction is exact. A directory or
/// symlink at the path is refused.
#[property]
pub fn copied(
    path: String,
    source: String,
    mode: Option<Mode>,
    owner: Option<User>,
    group: Option<Group>,
) -> Result<Change> {
    let content = host::consfig_file(&source)?;
    let attributes = Attributes::of(mode, owner.as_ref(), group.as_ref())?;
    file_has(&path, &content, &attributes)
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::MODULE;

    fn host() -> FakeHost {
        FakeHost::new()
            .user("www-data", 33, 33)
            .group("www-data", 33, Vec::<String>::new())
            .dir("/etc")
            .consfig_file("files/app.conf", "port = 80\n")
            .module(&MODULE)
    }

    #[test]
    fn copies_only_what_differs_with_mode_and_owner() {
        let host = host();
        let form: Form = r#"["file:copied", "/etc/app.conf", "files/app.conf",
                             {"mode": "0640", "owner": "www-data", "group": 33}]"#
            .parse()
            .unwrap();
        assert_eq!(host.apply_form(&form), Ok(Change::Changed));
        assert_eq!(host.text("/etc/app.conf").as_deref(), Some("port = 80\n"));
        let stat = host.stat("/etc/app.conf").unwrap();
        assert_eq!((stat.mode.bits(), stat.uid, stat.gid), (0o640, 33, 33));
        assert_eq!(host.apply_form(&form), Ok(Change::Unchanged));

        host.apply(|| fs::write("/etc/app.conf", b"port = 81\n", None))
            .unwrap();
        assert_eq!(host.apply_form(&form), Ok(Change::Changed));
        assert_eq!(host.text("/etc/app.conf").as_deref(), Some("port = 80\n"));
    }

    #[test]
    fn a_file_the_consfig_did_not_send_fails_the_form() {
        let host = host();
        let copy = || copied("/etc/x".into(), "../secret".into(), None, None, None);
        let error = host.apply(copy).unwrap_err().to_string();
        assert!(error.contains("../secret"), "{error}");
        assert_eq!(host.text("/etc/x"), None);
    }
}
