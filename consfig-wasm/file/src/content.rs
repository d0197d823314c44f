//! What a file holds, with its mode and owner: `file:has-content`,
//! `file:is-copy-of`, and [`file_has`], which every property that writes a
//! whole file uses so that a new file is never briefly wrong.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use consfig_guest::host::fs::Stat;
use consfig_guest::prelude::*;
use consfig_guest::serde::de::{self, Deserializer, MapAccess, Visitor};
use consfig_guest::serde::ser::SerializeMap;
use consfig_guest::serde::{Deserialize, Serialize, Serializer};

use crate::ownership::{Group, Ownership, User};

/// A file's content as a form gives it: text, or bytes as
/// `{"base64": "..."}`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Content(pub Vec<u8>);

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(text) => write!(f, "Content({text:?})"),
            Err(_) => write!(f, "Content({} bytes)", self.0.len()),
        }
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Content(text.as_bytes().to_vec())
    }
}

impl From<String> for Content {
    fn from(text: String) -> Self {
        Content(text.into_bytes())
    }
}

impl From<Vec<u8>> for Content {
    fn from(bytes: Vec<u8>) -> Self {
        Content(bytes)
    }
}

impl From<&[u8]> for Content {
    fn from(bytes: &[u8]) -> Self {
        Content(bytes.to_vec())
    }
}

impl Serialize for Content {
    /// Text when it is UTF-8, else `{"base64": "..."}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => serializer.serialize_str(text),
            Err(_) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("base64", &BASE64.encode(&self.0))?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct ContentVisitor;

        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = Content;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("text, or bytes as {\"base64\": \"...\"}")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<Content, E> {
                Ok(Content::from(text))
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Content, A::Error> {
                let mut bytes = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "base64" || bytes.is_some() {
                        return Err(de::Error::custom(format!(
                            "unexpected key {key:?}: content is text, or bytes as \
                             {{\"base64\": \"...\"}} and nothing else"
                        )));
                    }
                    let encoded: String = map.next_value()?;
                    let decoded = BASE64.decode(encoded.trim()).map_err(|e| {
                        de::Error::custom(format!("the base64 of the content is not valid: {e}"))
                    })?;
                    bytes = Some(decoded);
                }
                bytes.map(Content).ok_or_else(|| {
                    de::Error::custom(
                        "content is text, or bytes as {\"base64\": \"...\"}: the object is empty",
                    )
                })
            }
        }

        deserializer.deserialize_any(ContentVisitor)
    }
}

/// The mode and ownership a whole file written by a property must have.
/// `None` leaves that as it is on an existing file; a new file gets 0644
/// and the owner of the deploy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attributes {
    pub mode: Option<Mode>,
    pub ownership: Ownership,
}

impl Attributes {
    /// From the `mode`, `owner` and `group` options of a form, the names
    /// looked up on the target.
    pub fn of(mode: Option<Mode>, owner: Option<&User>, group: Option<&Group>) -> Result<Self> {
        Ok(Attributes {
            mode,
            ownership: Ownership::of(owner, group)?,
        })
    }
}

/// A name beside `path`, in the same directory (so a rename from it is
/// atomic), for what is made before it is renamed into place.
pub(crate) fn temporary_beside(path: &str) -> Result<String> {
    let trimmed = path.trim_end_matches('/');
    let Some((dir, name)) = trimmed.rsplit_once('/') else {
        bail!("{path} is not an absolute path")
    };
    ensure!(
        !name.is_empty() && name != "." && name != "..",
        "{path} names no file"
    );
    Ok(format!("{dir}/.{name}.consfig-new"))
}

/// Remove what a failed attempt left at `temporary` (a file or symlink).
fn clear(temporary: &str) -> Result<()> {
    match fs::stat(temporary)? {
        None => Ok(()),
        Some(stat) if stat.is_dir() => {
            bail!("{temporary} is a directory: it is in the way of the temporary file")
        }
        Some(_) => fs::remove(temporary),
    }
}

/// Ensure the file at `path` holds exactly `content`, with `attributes`.
///
/// Unchanged when content, mode, owner and group all match. A new file, or
/// new content for a file whose owner must change too, is written beside
/// it with its mode, given its owner and group, then renamed into place: the
/// file at `path` is never briefly wrong. New content alone is written with
/// its mode (the host replaces the file atomically, keeping its owner); an
/// owner or mode alone is corrected in place. Anything but a file at `path`
/// (a directory, a symlink) is refused.
pub fn file_has(path: &str, content: &[u8], attributes: &Attributes) -> Result<Change> {
    let existing = fs::stat(path)?;
    if let Some(stat) = &existing {
        ensure!(
            stat.is_file(),
            "{path} is a {}, not a file: not replacing it",
            stat.kind
        );
    }
    let Attributes { mode, ownership } = *attributes;
    let Some(stat) = existing else {
        if !ownership.is_given() {
            fs::write(path, content, mode)?;
            return Ok(Change::Changed);
        }
        replace(path, content, mode.unwrap_or(Mode::new(0o644)?), &ownership)?;
        return Ok(Change::Changed);
    };
    let new_content = fs::read(path)? != content;
    let mode_differs = mode.is_some_and(|mode| mode != stat.mode);
    let owner_differs = ownership.differs(&stat);
    match (new_content, owner_differs) {
        (false, false) if !mode_differs => Ok(Change::Unchanged),
        (true, true) => {
            let mode = mode.unwrap_or(stat.mode);
            replace(path, content, mode, &ownership.or_as(&stat))?;
            Ok(Change::Changed)
        }
        (true, false) => {
            fs::write(path, content, mode)?;
            Ok(Change::Changed)
        }
        (false, _) => {
            // chown clears set-uid and set-gid bits: set the mode after it.
            ownership.correct(path, &stat)?;
            correct_mode(path, mode)?;
            Ok(Change::Changed)
        }
    }
}

/// Set `mode` on `path` when it has other bits.
fn correct_mode(path: &str, mode: Option<Mode>) -> Result<()> {
    let Some(mode) = mode else { return Ok(()) };
    match fs::stat(path)? {
        Some(Stat { mode: now, .. }) if now == mode => Ok(()),
        _ => fs::chmod(path, mode),
    }
}

/// Write `content` beside `path` with `mode`, give it `ownership`, and
/// rename it over `path`.
fn replace(path: &str, content: &[u8], mode: Mode, ownership: &Ownership) -> Result<()> {
    let temporary = temporary_beside(path)?;
    clear(&temporary)?;
    fs::write(&temporary, content, Some(mode))?;
    let placed = ownership
        .apply_to(&temporary)
        // chown clears set-uid and set-gid bits: set them again before the rename.
        .and_then(|()| correct_mode(&temporary, Some(mode)))
        .and_then(|()| fs::rename(&temporary, path));
    if placed.is_err() {
        let _ = fs::remove(&temporary);
    }
    placed
}

/// Ensure a file has exactly this content: text, or bytes given as
/// `{"base64": "..."}`.
///
/// Options: `mode` (e.g. `"0640"`), `owner` and `group` (names on the target
/// or numbers). A new file is written with them — beside it, then renamed
/// into place — so it is never briefly readable by the wrong people; a new
/// file with no mode gets 0644. An existing file is corrected: content
/// replaced atomically (keeping its mode and owner unless told), mode and
/// owner set. Unchanged only when content, mode, owner and group all match.
/// A directory or symlink at the path is refused.
#[property]
pub fn has_content(
    path: String,
    content: Content,
    mode: Option<Mode>,
    owner: Option<User>,
    group: Option<Group>,
) -> Result<Change> {
    let attributes = Attributes::of(mode, owner.as_ref(), group.as_ref())?;
    file_has(&path, &content.0, &attributes)
}

/// How many symlinks a path may go through, as on Linux.
const MAX_LINKS: usize = 40;

/// The path `path` leads to when its final symlinks are followed (each
/// relative one resolved against its own directory).
fn followed(original: &str) -> Result<(String, Option<Stat>)> {
    let mut path = original.to_owned();
    for _ in 0..=MAX_LINKS {
        match fs::stat(&path)? {
            Some(stat) if stat.is_symlink() => {
                let target = fs::readlink(&path)?;
                path = match target.starts_with('/') {
                    true => target,
                    false => {
                        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
                        format!("{dir}/{target}")
                    }
                };
            }
            stat => return Ok((path, stat)),
        }
    }
    bail!("{original}: too many levels of symlinks")
}

/// Ensure `dest` is a copy of `source`, another file on the target: the
/// same content and mode. A symlink as `source` is followed, and what it
/// points to copied.
///
/// Unchanged when `dest` is a file with the same content and mode. `dest`
/// is replaced atomically, keeping its owner; a new one is owned by the
/// deploy's user. A directory or symlink at `dest` is refused.
#[property]
pub fn is_copy_of(dest: String, source: String) -> Result<Change> {
    let (resolved, stat) = followed(&source)?;
    let stat = match stat {
        None => bail!("{source} does not exist: nothing to copy to {dest}"),
        Some(stat) if !stat.is_file() => bail!("{source} is a {}, not a file to copy", stat.kind),
        Some(stat) => stat,
    };
    let content = fs::read(&resolved)?;
    let attributes = Attributes {
        mode: Some(stat.mode),
        ownership: Ownership::default(),
    };
    file_has(&dest, &content, &attributes)
}

/// Text, or `{"base64": "..."}`.
impl consfig_guest::HasSchema for Content {
    fn schema() -> consfig_guest::Schema {
        use consfig_guest::Schema;
        Schema::Either(vec![Schema::String, Schema::Object(Some(Box::new(Schema::String)))])
    }
}

#[cfg(test)]
mod tests {
    use consfig_guest::serde_json::{self, json};
    use consfig_guest::testing::FakeHost;

    use super::*;
    use crate::MODULE;

    use consfig_guest::testing::failure as err;

    fn form(json: &str) -> Form {
        json.parse().unwrap()
    }

    /// (mode, uid, gid) of what is at `path`.
    fn attrs(host: &FakeHost, path: &str) -> (u32, u32, u32) {
        let stat = host.stat(path).unwrap();
        (stat.mode.bits(), stat.uid, stat.gid)
    }

    fn host() -> FakeHost {
        FakeHost::new()
            .user("www-data", 33, 33)
            .group("www-data", 33, Vec::<String>::new())
            .group("ssl-cert", 110, Vec::<String>::new())
            .dir("/etc")
            .module(&MODULE)
    }

    #[test]
    fn has_content_writes_only_what_differs() {
        let host = FakeHost::new()
            .file("/etc/motd", "old\n")
            .mode("/etc/motd", 0o600)
            .owner("/etc/motd", 1000, 1000);
        let motd = || has_content("/etc/motd".into(), "hi\n".into(), None, None, None);
        assert_eq!(host.apply(motd), Ok(Change::Changed));
        assert_eq!(host.text("/etc/motd").as_deref(), Some("hi\n"));
        assert_eq!(attrs(&host, "/etc/motd"), (0o600, 1000, 1000), "kept");
        assert_eq!(host.apply(motd), Ok(Change::Unchanged));

        let new = || has_content("/etc/issue".into(), "".into(), None, None, None);
        assert_eq!(host.apply(new), Ok(Change::Changed));
        assert_eq!(host.stat("/etc/issue").unwrap().mode.bits(), 0o644);
        assert_eq!(host.apply(new), Ok(Change::Unchanged));
    }

    #[test]
    fn has_content_replaces_no_directory_or_symlink() {
        let host = FakeHost::new()
            .dir("/etc/motd.d")
            .file("/etc/real", "x")
            .symlink("/etc/link", "real");
        let content = |path: &str| {
            let path = path.to_owned();
            host.apply(move || has_content(path, "y".into(), Some(Mode::new(0o600)?), None, None))
        };
        assert_eq!(
            err(content("/etc/motd.d")),
            "/etc/motd.d is a directory, not a file: not replacing it"
        );
        assert_eq!(
            err(content("/etc/link")),
            "/etc/link is a symlink, not a file: not replacing it"
        );
        assert_eq!(host.text("/etc/real").as_deref(), Some("x"));
        assert_eq!(
            err(content("/no/such/dir")),
            "write-file /no/such/dir: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn a_new_file_is_placed_with_its_mode_and_owner() {
        let host = host();
        let secret = r#"["file:has-content", "/etc/key.pem", "KEY",
                         {"mode": "0640", "owner": "www-data", "group": "ssl-cert"}]"#;
        assert_eq!(host.apply_form(&form(secret)), Ok(Change::Changed));
        assert_eq!(host.text("/etc/key.pem").as_deref(), Some("KEY"));
        assert_eq!(attrs(&host, "/etc/key.pem"), (0o640, 33, 110));
        let names: Vec<String> = host
            .list_dir("/etc")
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["key.pem"], "no temporary file left");
        assert_eq!(host.apply_form(&form(secret)), Ok(Change::Unchanged));

        // Only the owner given: 0644, the group of the deploy.
        let owned = r#"["file:has-content", "/etc/site", "s", {"owner": 33}]"#;
        assert_eq!(host.apply_form(&form(owned)), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/etc/site"), (0o644, 33, 0));
        assert_eq!(host.apply_form(&form(owned)), Ok(Change::Unchanged));
    }

    #[test]
    fn the_new_file_is_never_at_its_path_with_the_wrong_owner() {
        // Every write and chown of the property, in order, with what was at
        // the path then: the file appears there only by the final rename.
        let host = host();
        let placed = host.apply(|| {
            has_content(
                "/etc/key.pem".into(),
                "KEY".into(),
                Some(Mode::new(0o600)?),
                Some("www-data".into()),
                None,
            )
        });
        assert_eq!(placed, Ok(Change::Changed));
        assert_eq!(
            host.file_changes(),
            [
                "write-file /etc/.key.pem.consfig-new 0600",
                "chown /etc/.key.pem.consfig-new 33 -",
                "rename /etc/.key.pem.consfig-new /etc/key.pem",
            ]
        );
        assert_eq!(attrs(&host, "/etc/key.pem"), (0o600, 33, 0));
        assert!(!host.exists("/etc/.key.pem.consfig-new"));
        // The leftover of an interrupted deploy is replaced, not trusted.
        let host =
            host.file("/etc/.motd.consfig-new", "junk")
                .owner("/etc/.motd.consfig-new", 7, 7);
        let motd = r#"["file:has-content", "/etc/motd", "hi", {"group": "www-data"}]"#;
        assert_eq!(host.apply_form(&form(motd)), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/etc/motd"), (0o644, 0, 33));
        assert!(!host.exists("/etc/.motd.consfig-new"));
    }

    #[test]
    fn an_existing_file_is_corrected_in_each_way() {
        let host = host()
            .file("/etc/app.conf", "old")
            .mode("/etc/app.conf", 0o644)
            .owner("/etc/app.conf", 1000, 1000);
        let apply = |json: &str| host.apply_form(&form(json));
        // Content only: the owner and mode are kept.
        let content = r#"["file:has-content", "/etc/app.conf", "new"]"#;
        assert_eq!(apply(content), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/etc/app.conf"), (0o644, 1000, 1000));
        // Mode only.
        let mode = r#"["file:has-content", "/etc/app.conf", "new", {"mode": "0600"}]"#;
        assert_eq!(apply(mode), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/etc/app.conf"), (0o600, 1000, 1000));
        assert_eq!(apply(mode), Ok(Change::Unchanged));
        // Group only, in place; the owner left as it is.
        let group = r#"["file:has-content", "/etc/app.conf", "new", {"group": "ssl-cert"}]"#;
        assert_eq!(apply(group), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/etc/app.conf"), (0o600, 1000, 110));
        assert_eq!(apply(group), Ok(Change::Unchanged));
        // Content and owner: replaced, keeping the mode and group it has.
        let both = r#"["file:has-content", "/etc/app.conf", "newer", {"owner": "www-data"}]"#;
        assert_eq!(apply(both), Ok(Change::Changed));
        assert_eq!(host.text("/etc/app.conf").as_deref(), Some("newer"));
        assert_eq!(attrs(&host, "/etc/app.conf"), (0o600, 33, 110));
        assert_eq!(apply(both), Ok(Change::Unchanged));
        // Everything at once.
        let all = r#"["file:has-content", "/etc/app.conf", "all",
                      {"mode": "0640", "owner": 0, "group": 0}]"#;
        assert_eq!(apply(all), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/etc/app.conf"), (0o640, 0, 0));
        assert_eq!(apply(all), Ok(Change::Unchanged));
    }

    #[test]
    fn a_setuid_mode_survives_the_chown() {
        let host = host();
        let tool =
            r#"["file:has-content", "/etc/tool", "tool", {"mode": "4750", "group": "www-data"}]"#;
        assert_eq!(host.apply_form(&form(tool)), Ok(Change::Changed));
        // chown clears set-uid, as on Linux: the mode is set again after it,
        // before the rename.
        assert_eq!(
            host.file_changes(),
            [
                "write-file /etc/.tool.consfig-new 4750",
                "chown /etc/.tool.consfig-new - 33",
                "chmod /etc/.tool.consfig-new 4750",
                "rename /etc/.tool.consfig-new /etc/tool",
            ]
        );
        assert_eq!(attrs(&host, "/etc/tool"), (0o4750, 0, 33));
        assert_eq!(host.apply_form(&form(tool)), Ok(Change::Unchanged));
    }

    #[test]
    fn an_unknown_owner_changes_nothing() {
        let host = host().file("/etc/app.conf", "old");
        let apply = |json: &str| host.apply_form(&form(json));
        assert_eq!(
            err(apply(
                r#"["file:has-content", "/etc/new", "x", {"owner": "nobody"}]"#
            )),
            "there is no user nobody on this host (in its /etc/passwd)"
        );
        assert_eq!(
            err(apply(
                r#"["file:has-content", "/etc/app.conf", "x", {"group": "staff"}]"#
            )),
            "there is no group staff on this host (in its /etc/group)"
        );
        assert!(!host.exists("/etc/new"));
        assert_eq!(host.text("/etc/app.conf").as_deref(), Some("old"));
        let names: Vec<String> = host
            .list_dir("/etc")
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["app.conf"]);
    }

    #[test]
    fn content_may_be_bytes_in_base64() {
        let host = host();
        let bytes = r#"["file:has-content", "/etc/blob", {"base64": "AP/+"}]"#;
        assert_eq!(host.apply_form(&form(bytes)), Ok(Change::Changed));
        assert_eq!(host.content("/etc/blob"), Some(vec![0, 255, 254]));
        assert_eq!(host.apply_form(&form(bytes)), Ok(Change::Unchanged));
        let with_mode =
            r#"["file:has-content", "/etc/blob", {"base64": "AP/+"}, {"mode": "0600"}]"#;
        assert_eq!(host.apply_form(&form(with_mode)), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/etc/blob").0, 0o600);

        let bad = |json: &str| err(host.apply_form(&form(json)));
        assert_eq!(
            bad(r#"["file:has-content", "/etc/blob", {"base64": "A?"}]"#),
            "argument 2 (content): the base64 of the content is not valid: Invalid symbol 63, offset 1."
        );
        assert_eq!(
            bad(r#"["file:has-content", "/etc/blob", {"base64": "AA==", "mode": "0600"}]"#),
            "argument 2 (content): unexpected key \"mode\": content is text, or bytes as \
             {\"base64\": \"...\"} and nothing else"
        );
        assert_eq!(
            bad(r#"["file:has-content", "/etc/blob", 42]"#),
            "argument 2 (content): invalid type: integer `42`, expected text, or bytes as \
             {\"base64\": \"...\"}"
        );
        assert_eq!(
            host.content("/etc/blob"),
            Some(vec![0, 255, 254]),
            "not run"
        );
    }

    #[test]
    fn content_round_trips_as_text_or_base64() {
        assert_eq!(
            serde_json::to_value(Content::from("hi")).unwrap(),
            json!("hi")
        );
        let bytes = Content::from(vec![0u8, 255]);
        assert_eq!(
            serde_json::to_value(&bytes).unwrap(),
            json!({"base64": "AP8="})
        );
        let back: Content = serde_json::from_value(serde_json::to_value(&bytes).unwrap()).unwrap();
        assert_eq!(back, bytes);
        let typed = crate::forms::has_content("/f", vec![0xffu8]).mode(Mode::new(0o600).unwrap());
        assert_eq!(
            Form::from(typed).to_string(),
            r#"["file:has-content","/f",{"base64":"/w=="},{"mode":"0600"}]"#
        );
    }

    #[test]
    fn is_copy_of_copies_content_and_mode_following_a_symlink() {
        let host = host()
            .file("/usr/share/doc/motd", "hello\n")
            .mode("/usr/share/doc/motd", 0o640)
            .symlink("/usr/share/motd", "doc/motd")
            .file("/etc/motd", "old")
            .owner("/etc/motd", 33, 33);
        let copy = r#"["file:is-copy-of", "/etc/motd", "/usr/share/motd"]"#;
        assert_eq!(host.apply_form(&form(copy)), Ok(Change::Changed));
        assert_eq!(host.text("/etc/motd").as_deref(), Some("hello\n"));
        assert_eq!(attrs(&host, "/etc/motd"), (0o640, 33, 33), "owner kept");
        assert_eq!(host.apply_form(&form(copy)), Ok(Change::Unchanged));
        // The mode alone follows the source's.
        host.apply(|| fs::chmod("/usr/share/doc/motd", Mode::new(0o600)?))
            .unwrap();
        assert_eq!(host.apply_form(&form(copy)), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/etc/motd").0, 0o600);
        assert_eq!(host.apply_form(&form(copy)), Ok(Change::Unchanged));
        // A new copy.
        let new = r#"["file:is-copy-of", "/etc/motd.new", "/usr/share/doc/motd"]"#;
        assert_eq!(host.apply_form(&form(new)), Ok(Change::Changed));
        assert_eq!(attrs(&host, "/etc/motd.new"), (0o600, 0, 0));
        assert_eq!(host.apply_form(&form(new)), Ok(Change::Unchanged));
    }

    #[test]
    fn is_copy_of_refuses_a_missing_or_odd_source_and_dest() {
        let host = host()
            .file("/src/f", "x")
            .dir("/src/d")
            .symlink("/src/dangling", "nowhere")
            .symlink("/src/loop", "loop")
            .dir("/dst/d")
            .symlink("/dst/l", "/src/f");
        let err = |dest: &str, source: &str| {
            let json = format!(r#"["file:is-copy-of", "{dest}", "{source}"]"#);
            host.apply_form(&form(&json)).unwrap_err().to_string()
        };
        assert_eq!(
            err("/dst/x", "/src/none"),
            "/src/none does not exist: nothing to copy to /dst/x"
        );
        assert_eq!(
            err("/dst/x", "/src/dangling"),
            "/src/dangling does not exist: nothing to copy to /dst/x"
        );
        assert_eq!(
            err("/dst/x", "/src/d"),
            "/src/d is a directory, not a file to copy"
        );
        assert_eq!(
            err("/dst/x", "/src/loop"),
            "/src/loop: too many levels of symlinks"
        );
        assert_eq!(
            err("/dst/d", "/src/f"),
            "/dst/d is a directory, not a file: not replacing it"
        );
        assert_eq!(
            err("/dst/l", "/src/f"),
            "/dst/l is a symlink, not a file: not replacing it"
        );
        assert!(!host.exists("/dst/x"));
    }
}
