//! Where packages come from: `apt:source` (a deb822 `.sources` file in
//! /etc/apt/sources.list.d) and `apt:key` (a keyring in /etc/apt/keyrings),
//! written through the host's file calls.

use consfig_file::content::Content;
use consfig_guest::prelude::*;
use consfig_guest::serde::{Deserialize, Serialize};

use crate::names::{check_file_name, is_word};

pub const SOURCES_DIR: &str = "/etc/apt/sources.list.d";
pub const KEYRINGS_DIR: &str = "/etc/apt/keyrings";

const ARMOR_BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const ARMOR_END: &str = "-----END PGP PUBLIC KEY BLOCK-----";

/// Words of a deb822 field: a list, or one string of words separated by
/// spaces (`"main contrib"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(crate = "consfig_guest::serde", untagged)]
pub enum Words {
    One(String),
    Many(Vec<String>),
}

impl Words {
    pub fn items(&self) -> Vec<&str> {
        match self {
            Words::One(text) => text.split_whitespace().collect(),
            Words::Many(items) => items.iter().map(String::as_str).collect(),
        }
    }
}

/// Every item of `field` is a word (no whitespace or control characters),
/// and there is at least one.
fn field_words<'a>(field: &str, words: &'a Words) -> Result<Vec<&'a str>> {
    let items = words.items();
    ensure!(!items.is_empty(), "{field} is empty");
    for item in &items {
        ensure!(
            is_word(item),
            "{field}: {item:?} is not a single word (no spaces, newlines or control characters)"
        );
    }
    Ok(items)
}

/// The `Signed-By` field: paths or fingerprints on one line, or an armored
/// key embedded as a folded field (an empty line written ` .`).
fn signed_by_field(signed_by: &str) -> Result<String> {
    let text = signed_by.trim();
    if text.starts_with(ARMOR_BEGIN) {
        ensure!(
            text.ends_with(ARMOR_END),
            "signed-by: the armored key does not end with {ARMOR_END}"
        );
        let mut field = String::from("Signed-By:");
        for line in text.lines() {
            let line = line.trim_end();
            ensure!(
                !line.chars().any(char::is_control),
                "signed-by: the armored key holds control characters"
            );
            field.push_str("\n ");
            field.push_str(if line.is_empty() { "." } else { line });
        }
        return Ok(field);
    }
    let words: Vec<&str> = text.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    ensure!(
        !words.is_empty(),
        "signed-by is empty: give keyring paths, fingerprints or an armored key"
    );
    for word in &words {
        ensure!(
            is_word(word),
            "signed-by: {word:?} is not a keyring path or fingerprint"
        );
        ensure!(
            word.starts_with('/') || word.chars().all(|c| c.is_ascii_hexdigit() || c == '!'),
            "signed-by: {word:?} is neither an absolute keyring path nor a fingerprint"
        );
    }
    Ok(format!("Signed-By: {}", words.join(" ")))
}

/// The deb822 text of a source.
fn render(
    types: &[&str],
    uris: &[&str],
    suites: &[&str],
    components: &[&str],
    signed_by: Option<&str>,
) -> Result<String> {
    let mut text = format!(
        "Types: {}\nURIs: {}\nSuites: {}\n",
        types.join(" "),
        uris.join(" "),
        suites.join(" ")
    );
    if !components.is_empty() {
        text.push_str(&format!("Components: {}\n", components.join(" ")));
    }
    if let Some(signed_by) = signed_by {
        text.push_str(&signed_by_field(signed_by)?);
        text.push('\n');
    }
    Ok(text)
}

/// Ensure the file at `path` in `dir` holds `content` with mode 0644,
/// making `dir` (0755) when it is missing. Anything but a file at `path`
/// is refused.
pub(crate) fn file_holds(dir: &str, path: &str, content: &[u8]) -> Result<Change> {
    let mode = Mode::new(0o644)?;
    match fs::stat(path)? {
        Some(stat) if !stat.is_file() => {
            bail!("{path} is a {}, not a file: not replacing it", stat.kind)
        }
        Some(stat) if stat.mode == mode && fs::read(path)? == content => {
            return Ok(Change::Unchanged);
        }
        Some(_) => {}
        None => {
            if fs::stat(dir)?.is_none() {
                fs::mkdir(dir, None)?;
            }
        }
    }
    fs::write(path, content, Some(mode))?;
    Ok(Change::Changed)
}

/// A package source, as the deb822 file /etc/apt/sources.list.d/NAME.sources.
///
/// NAME: letters, digits, `_`, `-` and `.` (apt ignores other files), not
/// starting with `.` or `-`. Options, each a list or one string of words
/// separated by spaces: `types` (`deb`, `deb-src`; default `deb`), `uris`
/// (required), `suites` (required; a suite ending with `/` is an exact path
/// and takes no components), `components` (required unless the suite is an
/// exact path), and `signed-by`: keyring paths (`/etc/apt/keyrings/NAME.asc`,
/// see `apt:key`), fingerprints, or an armored public key, embedded.
///
/// Unchanged when the file already holds exactly this, with mode 0644.
/// The package lists are not updated here: `apt:updated` afterwards sees
/// the new source and updates them. Check mode writes to its overlay and
/// predicts exactly.
#[property]
pub fn source(
    name: String,
    types: Option<Words>,
    uris: Option<Words>,
    suites: Option<Words>,
    components: Option<Words>,
    signed_by: Option<String>,
) -> Result<Change> {
    check_file_name("source", &name)?;
    let default_types = Words::One("deb".into());
    let types = field_words("types", types.as_ref().unwrap_or(&default_types))?;
    for kind in &types {
        ensure!(
            matches!(*kind, "deb" | "deb-src"),
            "types: {kind:?} is neither deb nor deb-src"
        );
    }
    let Some(uris) = &uris else {
        bail!("uris is required: the URIs of the repository")
    };
    let uris = field_words("uris", uris)?;
    for uri in &uris {
        ensure!(
            uri.contains(':'),
            "uris: {uri:?} is not a URI (such as https://deb.example.org/debian)"
        );
    }
    let Some(suites) = &suites else {
        bail!("suites is required: the suites (bookworm, stable, or an exact path ending in /)")
    };
    let suites = field_words("suites", suites)?;
    let exact = suites.iter().any(|s| s.ends_with('/'));
    let components = match &components {
        Some(components) => field_words("components", components)?,
        None => Vec::new(),
    };
    if exact {
        ensure!(
            components.is_empty(),
            "components: a suite ending with / is an exact path and takes no components"
        );
    } else {
        ensure!(
            !components.is_empty(),
            "components is required (such as main) unless the suite is an exact path ending with /"
        );
    }
    let text = render(&types, &uris, &suites, &components, signed_by.as_deref())?;
    let path = format!("{SOURCES_DIR}/{name}.sources");
    let change = file_holds(SOURCES_DIR, &path, text.as_bytes())?;
    if change == Change::Changed {
        info!("wrote {path}");
    }
    Ok(change)
}

/// A keyring for `apt:source`'s `signed-by`: /etc/apt/keyrings/NAME.asc for
/// an armored key (text beginning `-----BEGIN PGP PUBLIC KEY BLOCK-----`),
/// NAME.gpg for a binary one (given as `{"base64": "..."}`).
///
/// NAME as for `apt:source`. Mode 0644; the directory is made when missing.
/// The keyring of the other kind under the same NAME, if any, is removed.
/// Unchanged when the file already holds exactly KEY with mode 0644. Check
/// mode writes to its overlay and predicts exactly.
#[property]
pub fn key(name: String, key: Content) -> Result<Change> {
    check_file_name("keyring", &name)?;
    let armored =
        std::str::from_utf8(&key.0).is_ok_and(|text| text.trim_start().starts_with(ARMOR_BEGIN));
    let (extension, other) = if armored {
        ("asc", "gpg")
    } else {
        ensure!(
            key.0.first().is_some_and(|b| b & 0x80 != 0),
            "the key is neither an armored public key ({ARMOR_BEGIN}) nor a binary OpenPGP \
             keyring (give its bytes as {{\"base64\": \"...\"}})"
        );
        ("gpg", "asc")
    };
    let path = format!("{KEYRINGS_DIR}/{name}.{extension}");
    let mut change = file_holds(KEYRINGS_DIR, &path, &key.0)?;
    let other = format!("{KEYRINGS_DIR}/{name}.{other}");
    if let Some(stat) = fs::stat(&other)? {
        ensure!(!stat.is_dir(), "{other} is a directory: not removing it");
        fs::remove(&other)?;
        change = Change::Changed;
    }
    if change == Change::Changed {
        info!("wrote {path}");
    }
    Ok(change)
}

/// A list of words, or one string of them.
impl consfig_guest::HasSchema for Words {
    fn schema() -> consfig_guest::Schema {
        use consfig_guest::Schema;
        Schema::Either(vec![Schema::List(Box::new(Schema::String)), Schema::String])
    }
}
