//! The `file` module: files and directories on the host.
//!
//! Every property checks first and changes the host only when it has to, so
//! applying a form twice changes nothing the second time. Symlinks are never
//! replaced or followed behind the author's back: where one is in the way,
//! the property fails and says so.

use consfig_guest::host::fs::FileKind;
use consfig_guest::prelude::*;

mod template;
mod templated;

/// Ensure a file has exactly this content.
///
/// The file is replaced atomically, and only when its content differs. A new
/// file gets mode 0644; an existing one keeps its mode and owner.
#[property]
fn has_content(path: String, content: String) -> Result<Change> {
    match fs::stat(&path)? {
        Some(stat) if !stat.is_file() => {
            bail!("{path} is a {}, not a file: not replacing it", stat.kind)
        }
        Some(_) if fs::read(&path)? == content.as_bytes() => return Ok(Change::Unchanged),
        _ => {}
    }
    fs::write(&path, &content, None)?;
    Ok(Change::Changed)
}

/// Ensure a directory exists, creating it and any missing parents (mode 0755).
#[property]
fn directory_exists(path: String) -> Result<Change> {
    match fs::stat(&path)? {
        None => {
            fs::mkdir(&path, None)?;
            Ok(Change::Changed)
        }
        Some(stat) => match stat.kind {
            FileKind::Directory => Ok(Change::Unchanged),
            // `mkdir` of an existing path succeeds only if it resolves to a
            // directory, which settles whether this symlink is one.
            FileKind::Symlink => fs::mkdir(&path, None)
                .map(|()| Change::Unchanged)
                .map_err(|e| {
                    Error::new(format!("{path} is a symlink, but not to a directory ({e})"))
                }),
            kind => bail!("{path} is a {kind}, not a directory"),
        },
    }
}

/// Ensure nothing is at a path: remove a file, a symlink (not what it points
/// to) or an empty directory. Unchanged when the path is already absent.
#[property]
fn absent(path: String) -> Result<Change> {
    match fs::stat(&path)? {
        None => Ok(Change::Unchanged),
        Some(_) => {
            fs::remove(&path)?;
            Ok(Change::Changed)
        }
    }
}

/// Ensure a file or directory has these permission bits, e.g. `"0644"`.
#[property]
fn has_mode(path: String, mode: Mode) -> Result<Change> {
    match fs::stat(&path)? {
        None => bail!("{path} does not exist"),
        Some(stat) if stat.is_symlink() => {
            bail!("{path} is a symlink: it has no mode of its own to set")
        }
        Some(stat) if stat.mode == mode => Ok(Change::Unchanged),
        Some(_) => {
            fs::chmod(&path, mode)?;
            Ok(Change::Changed)
        }
    }
}

consfig_guest::module! {
    name: "file",
    export: false,
    needs: ["write:/", "setid:/"],
    doc: "Files and directories: contents, directories, absence and modes.",
    properties: [has_content, directory_exists, absent, has_mode, templated::templated],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    fn err(result: Result<Change>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn has_content_writes_only_what_differs() {
        let host = FakeHost::new()
            .file("/etc/motd", "old\n")
            .mode("/etc/motd", 0o600)
            .owner("/etc/motd", 1000, 1000);
        let motd = || has_content("/etc/motd".into(), "hi\n".into());
        assert_eq!(host.apply(motd), Ok(Change::Changed));
        assert_eq!(host.text("/etc/motd").as_deref(), Some("hi\n"));
        let stat = host.stat("/etc/motd").unwrap();
        assert_eq!((stat.mode.bits(), stat.uid), (0o600, 1000), "kept");
        assert_eq!(host.apply(motd), Ok(Change::Unchanged));

        let new = || has_content("/etc/issue".into(), "".into());
        assert_eq!(host.apply(new), Ok(Change::Changed));
        assert_eq!(host.stat("/etc/issue").unwrap().mode.bits(), 0o644);
    }

    #[test]
    fn has_content_replaces_no_directory_or_symlink() {
        let host = FakeHost::new()
            .dir("/etc/motd.d")
            .file("/etc/real", "x")
            .symlink("/etc/link", "real");
        assert_eq!(
            err(host.apply(|| has_content("/etc/motd.d".into(), "x".into()))),
            "/etc/motd.d is a directory, not a file: not replacing it"
        );
        assert_eq!(
            err(host.apply(|| has_content("/etc/link".into(), "y".into()))),
            "/etc/link is a symlink, not a file: not replacing it"
        );
        assert_eq!(host.text("/etc/real").as_deref(), Some("x"));
        assert_eq!(
            err(host.apply(|| has_content("/no/such/dir".into(), "y".into()))),
            "write-file /no/such/dir: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn directory_exists_makes_parents_and_accepts_a_link_to_one() {
        let host = FakeHost::new()
            .dir("/srv/real")
            .symlink("/srv/link", "real")
            .symlink("/srv/dangling", "/nowhere")
            .file("/srv/file", "");
        let dir = |path: &str| {
            let path = path.to_owned();
            host.apply(move || directory_exists(path))
        };
        assert_eq!(dir("/srv/www/site"), Ok(Change::Changed));
        assert!(host.stat("/srv/www").unwrap().is_dir());
        assert_eq!(host.stat("/srv/www/site").unwrap().mode.bits(), 0o755);
        assert_eq!(dir("/srv/www/site"), Ok(Change::Unchanged));
        assert_eq!(dir("/srv/link"), Ok(Change::Unchanged));
        assert_eq!(
            err(dir("/srv/dangling")),
            "/srv/dangling is a symlink, but not to a directory \
             (mkdir /srv/dangling: File exists (os error 17))"
        );
        assert_eq!(
            err(dir("/srv/file")),
            "/srv/file is a file, not a directory"
        );
        assert!(!host.exists("/nowhere"), "nothing made where it points");
    }

    #[test]
    fn absent_removes_a_link_not_its_target() {
        let host = FakeHost::new()
            .file("/tmp/target", "keep")
            .symlink("/tmp/link", "/tmp/target")
            .file("/tmp/full/x", "");
        assert_eq!(
            host.apply(|| absent("/tmp/link".into())),
            Ok(Change::Changed)
        );
        assert!(!host.exists("/tmp/link"));
        assert_eq!(host.text("/tmp/target").as_deref(), Some("keep"));
        assert_eq!(
            host.apply(|| absent("/tmp/link".into())),
            Ok(Change::Unchanged)
        );
        assert_eq!(
            err(host.apply(|| absent("/tmp/full".into()))),
            "remove /tmp/full: Directory not empty (os error 39)"
        );
    }

    #[test]
    fn has_mode_sets_bits_of_files_not_links() {
        let host = FakeHost::new()
            .file("/etc/secret", "")
            .symlink("/etc/link", "secret");
        let mode = |path: &str, bits| {
            let path = path.to_owned();
            host.apply(move || has_mode(path, Mode::new(bits).unwrap()))
        };
        assert_eq!(mode("/etc/secret", 0o600), Ok(Change::Changed));
        assert_eq!(host.stat("/etc/secret").unwrap().mode.bits(), 0o600);
        assert_eq!(mode("/etc/secret", 0o600), Ok(Change::Unchanged));
        assert_eq!(
            err(mode("/etc/link", 0o644)),
            "/etc/link is a symlink: it has no mode of its own to set"
        );
        assert_eq!(err(mode("/etc/none", 0o644)), "/etc/none does not exist");
    }

    #[test]
    fn forms_are_checked_before_they_run() {
        let host = FakeHost::new().module(&MODULE);
        let form = |json: &str| json.parse::<Form>().unwrap();
        assert_eq!(
            host.apply_form(&form(r#"["file:has-content", "/motd", "hi\n"]"#)),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.apply_form(&form(r#"["file:has-mode", "/motd", "0640"]"#)),
            Ok(Change::Changed)
        );
        assert_eq!(host.stat("/motd").unwrap().mode.bits(), 0o640);
        let bad = host.apply_form(&form(r#"["file:has-mode", "/motd", "rw-r--r--"]"#));
        assert_eq!(
            err(bad),
            "argument 2 (mode): \"rw-r--r--\" is not a file mode: \
             expected octal digits such as \"0644\""
        );
        assert_eq!(host.stat("/motd").unwrap().mode.bits(), 0o640, "not run");
    }
}
