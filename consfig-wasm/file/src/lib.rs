//! The `file` module: files and directories on the host.
//!
//! Every property checks first and changes the host only when it has to, so
//! applying a form twice changes nothing the second time. Symlinks are never
//! replaced or followed behind the author's back: where one is in the way,
//! the property fails and says so.

use consfig_guest::host::fs::FileKind;
use consfig_guest::prelude::*;

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
    properties: [has_content, directory_exists, absent, has_mode],
}
