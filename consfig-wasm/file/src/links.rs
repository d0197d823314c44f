//! Symlinks: `file:symlinked`.

use consfig_guest::prelude::*;

use crate::content::temporary_beside;

/// Ensure `link` is a symlink to `target` (absolute, or relative to the
/// link's directory; written as given, not resolved).
///
/// A symlink pointing elsewhere is replaced atomically (the new link is
/// made beside it and renamed over it); a file or directory at `link` is
/// refused. Unchanged when the link already points to `target`, even if
/// nothing is there.
#[property]
pub fn symlinked(link: String, target: String) -> Result<Change> {
    ensure!(!target.is_empty(), "the target of {link} is empty");
    match fs::stat(&link)? {
        None => {
            fs::symlink(&target, &link)?;
            Ok(Change::Changed)
        }
        Some(stat) if stat.is_symlink() => {
            if fs::readlink(&link)? == target {
                return Ok(Change::Unchanged);
            }
            let temporary = temporary_beside(&link)?;
            if fs::stat(&temporary)?.is_some_and(|s| !s.is_dir()) {
                fs::remove(&temporary)?;
            }
            fs::symlink(&target, &temporary)?;
            fs::rename(&temporary, &link).inspect_err(|_| {
                let _ = fs::remove(&temporary);
            })?;
            Ok(Change::Changed)
        }
        Some(stat) => bail!(
            "{link} is a {}, not a symlink: not replacing it with a link to {target}",
            stat.kind
        ),
    }
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use crate::MODULE;

    use super::*;

    fn form(link: &str, target: &str) -> Form {
        crate::forms::symlinked(link, target)
    }

    #[test]
    fn makes_a_missing_link_and_leaves_a_right_one() {
        let host = FakeHost::new()
            .file("/etc/nginx/sites-available/blog", "")
            .dir("/etc/nginx/sites-enabled")
            .module(&MODULE);
        let blog = form("/etc/nginx/sites-enabled/blog", "../sites-available/blog");
        assert_eq!(host.apply_form(&blog), Ok(Change::Changed));
        assert_eq!(
            host.readlink("/etc/nginx/sites-enabled/blog").as_deref(),
            Some("../sites-available/blog")
        );
        assert_eq!(host.apply_form(&blog), Ok(Change::Unchanged));
        // A link to nothing is a link all the same.
        let dangling = form("/etc/nginx/sites-enabled/old", "/nowhere");
        assert_eq!(host.apply_form(&dangling), Ok(Change::Changed));
        assert_eq!(host.apply_form(&dangling), Ok(Change::Unchanged));
    }

    #[test]
    fn replaces_a_wrong_link_atomically() {
        let host = FakeHost::new()
            .file("/srv/v1/app", "1")
            .file("/srv/v2/app", "2")
            .symlink("/srv/current", "v1")
            .module(&MODULE);
        let current = form("/srv/current", "v2");
        assert_eq!(host.apply_form(&current), Ok(Change::Changed));
        assert_eq!(host.text("/srv/current/app").as_deref(), Some("2"));
        assert_eq!(
            host.file_changes(),
            [
                "symlink /srv/.current.consfig-new -> v2",
                "rename /srv/.current.consfig-new /srv/current",
            ],
            "never without a link at /srv/current"
        );
        assert_eq!(host.apply_form(&current), Ok(Change::Unchanged));
        assert!(host.exists("/srv/v1/app"), "the old target is left alone");
    }

    #[test]
    fn refuses_to_replace_a_file_or_directory() {
        let host = FakeHost::new()
            .file("/etc/motd", "keep")
            .dir("/etc/conf.d")
            .module(&MODULE);
        let err = |link: &str| host.apply_form(&form(link, "/x")).unwrap_err().to_string();
        assert_eq!(
            err("/etc/motd"),
            "/etc/motd is a file, not a symlink: not replacing it with a link to /x"
        );
        assert_eq!(
            err("/etc/conf.d"),
            "/etc/conf.d is a directory, not a symlink: not replacing it with a link to /x"
        );
        assert_eq!(host.text("/etc/motd").as_deref(), Some("keep"));
        assert_eq!(
            err("/none/link"),
            "symlink /none/link -> /x: No such file or directory (os error 2)"
        );
        assert_eq!(
            host.apply_form(&form("/etc/l", ""))
                .unwrap_err()
                .to_string(),
            "the target of /etc/l is empty"
        );
    }
}
