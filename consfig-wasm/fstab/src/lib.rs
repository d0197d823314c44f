//! The `fstab` module: entries of `/etc/fstab`, merged as Consfigurator's
//! `fstab:has-entries` merges them: an entry replaces the line for its
//! mount point. The merge itself is [`merge`], on text.

use consfig_guest::prelude::*;
use serde::{Deserialize, Serialize};

const FSTAB: &str = "/etc/fstab";

/// An entry as a form gives it: a line of fstab
/// (`"UUID=… / ext4 errors=remount-ro 0 1"`) or its fields
/// (`["tmpfs", "/tmp", "tmpfs", "size=1G"]`); DUMP and PASS may be left out
/// (`0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Entry {
    Line(String),
    Fields(Vec<String>),
}

impl consfig_guest::HasSchema for Entry {
    fn schema() -> consfig_guest::Schema {
        use consfig_guest::Schema;
        Schema::Either(vec![Schema::String, Schema::List(Box::new(Schema::String))])
    }
}

/// The placeholder an entry's SPEC may be to keep the existing line's.
const PLACEHOLDERS: [&str; 2] = ["none", "PLACEHOLDER"];

/// `/etc/fstab` has each of ENTRIES, a list of lines
/// (`"tmpfs /tmp tmpfs size=1G 0 0"`) or of lists of fields
/// (`[SPEC, FILE, VFSTYPE, OPTIONS, DUMP, PASS]`, DUMP and PASS optional, `0` if left
/// out): the line for an entry's mount point (FILE; for swap, whose FILE is
/// `none` or `swap`, the line for the same SPEC) is replaced by the entry,
/// fields joined by a space, and entries the file has no line for are
/// appended, in order. As in Consfigurator's `fstab:has-entries`, an entry
/// whose SPEC is `none` or `PLACEHOLDER` keeps the SPEC of the line it
/// replaces (unless that is `none`), so options can be set without knowing
/// a file system's UUID. Comments, blank lines and other entries are left
/// as they are; a line already holding the entry's fields is left as it is,
/// however it is spaced. The file is made when missing.
///
/// Unchanged when every entry is there. Check mode predicts exactly (only
/// the file is read and written). Nothing is mounted (see `mount:mounted`).
/// Fields are single words without whitespace or control characters (write
/// a space as `\040`, as fstab does), FILE is an absolute path, `none` or
/// `swap`, DUMP and PASS are numbers.
#[property]
pub fn has_entries(entries: Vec<Entry>) -> Result<Change> {
    let entries = entries.iter().map(fields).collect::<Result<Vec<_>>>()?;
    let before = match fs::stat(FSTAB)? {
        Some(stat) if stat.is_file() => Some(fs::read_to_string(FSTAB)?),
        Some(stat) => bail!("{FSTAB} is a {}, not a file", stat.kind),
        None => None,
    };
    let after = merge(before.as_deref().unwrap_or_default(), &entries)?;
    if before.as_deref() == Some(after.as_str()) {
        return Ok(Change::Unchanged);
    }
    fs::write(FSTAB, &after, None)?;
    let files: Vec<&str> = entries.iter().map(|e| e[1].as_str()).collect();
    info!("{FSTAB}: entries for {}", files.join(", "));
    Ok(Change::Changed)
}

/// The six fields of an entry, checked.
fn fields(entry: &Entry) -> Result<Vec<String>> {
    let mut fields: Vec<String> = match entry {
        Entry::Line(line) => {
            ensure!(
                !line.contains(['\n', '\r']),
                "the fstab entry {line:?} is not one line"
            );
            line.split_whitespace().map(str::to_owned).collect()
        }
        Entry::Fields(fields) => fields.clone(),
    };
    ensure!(
        (4..=6).contains(&fields.len()),
        "the fstab entry {entry:?} has {} fields: give SPEC FILE VFSTYPE OPTIONS [DUMP [PASS]]",
        fields.len()
    );
    fields.resize(6, "0".to_owned());
    for field in &fields {
        ensure!(
            !field.is_empty() && !field.chars().any(|c| c.is_whitespace() || c.is_control()),
            "the fstab field {field:?} is empty or has whitespace or control characters \
             (write a space as \\040)"
        );
    }
    ensure!(
        !fields[0].starts_with('#'),
        "the fstab entry {entry:?} starts with `#`: it would be a comment"
    );
    let file = &fields[1];
    ensure!(
        (file.starts_with('/') && !file.split('/').any(|c| c == "." || c == ".."))
            || file == "none"
            || file == "swap",
        "the mount point {file:?} is not an absolute path (without `.` or `..`), `none` or `swap`"
    );
    for number in &fields[4..] {
        ensure!(
            number.chars().all(|c| c.is_ascii_digit()),
            "DUMP and PASS must be numbers, not {number:?}"
        );
    }
    Ok(fields)
}

/// What identifies the line an entry replaces: its mount point, or for
/// swap (no mount point) its SPEC.
fn key(fields: &[&str]) -> (String, Option<String>) {
    let file = fields[1];
    match file == "none" || file == "swap" {
        true => (file.to_owned(), Some(fields[0].to_owned())),
        false => (file.to_owned(), None),
    }
}

/// The text of fstab with every entry merged in.
pub fn merge(text: &str, entries: &[Vec<String>]) -> Result<String> {
    let mut pending: Vec<Option<&Vec<String>>> = Vec::new();
    let mut keys = Vec::new();
    for entry in entries {
        let fields: Vec<&str> = entry.iter().map(String::as_str).collect();
        let key = key(&fields);
        ensure!(
            !keys.contains(&key),
            "two entries for the mount point {}",
            entry[1]
        );
        keys.push(key);
        pending.push(Some(entry));
    }
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let is_entry = words.len() >= 2 && !words[0].starts_with('#');
        let found = is_entry
            .then(|| {
                let existing = key(&words);
                // A placeholder SPEC matches a swap line by its mount point only.
                keys.iter().position(|k| {
                    *k == existing
                        || (k.0 == existing.0
                            && k.1.as_deref().is_some_and(|s| PLACEHOLDERS.contains(&s)))
                })
            })
            .flatten();
        match found.and_then(|i| pending[i].take().map(|e| (i, e))) {
            Some((_, entry)) => {
                let mut entry = entry.clone();
                if PLACEHOLDERS.contains(&entry[0].as_str()) && words[0] != "none" {
                    entry[0] = words[0].to_owned();
                }
                let same = words.len() == 6 && words.iter().zip(&entry).all(|(a, b)| a == b);
                lines.push(match same {
                    true => line.to_owned(),
                    false => entry.join(" "),
                });
            }
            None => lines.push(line.to_owned()),
        }
    }
    for entry in pending.into_iter().flatten() {
        ensure!(
            entry[0] != "PLACEHOLDER",
            "the entry for {} has the SPEC PLACEHOLDER, but {FSTAB} has no line for it to take \
             the SPEC from",
            entry[1]
        );
        lines.push(entry.join(" "));
    }
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    Ok(out)
}

consfig_guest::module! {
    name: "fstab",
    export: false,
    needs: ["write:/etc/fstab"],
    doc: "Entries of /etc/fstab, one per mount point.",
    properties: [has_entries],
}

#[cfg(test)]
mod tests {
    use consfig_guest::testing::FakeHost;

    use super::*;

    const DEBIAN: &str = "# /etc/fstab: static file system information.\n\
        UUID=1111\t/\text4\terrors=remount-ro\t0\t1\n\
        UUID=2222\t/boot\text4\tdefaults\t0\t2\n\
        /swapfile none swap sw 0 0\n";

    use consfig_guest::testing::failure;

    fn line(text: &str) -> Entry {
        Entry::Line(text.to_owned())
    }

    fn list(fields: &[&str]) -> Entry {
        Entry::Fields(fields.iter().map(|f| (*f).to_owned()).collect())
    }

    #[test]
    fn appends_new_entries_and_replaces_the_line_for_a_mount_point() {
        let host = FakeHost::new().file(FSTAB, DEBIAN);
        let entries = vec![
            list(&["tmpfs", "/tmp", "tmpfs", "size=1G,mode=1777"]),
            line("UUID=2222 /boot ext4 defaults,noatime 0 2"),
        ];
        assert_eq!(
            host.apply(|| has_entries(entries.clone())),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.text(FSTAB).unwrap(),
            "# /etc/fstab: static file system information.\n\
             UUID=1111\t/\text4\terrors=remount-ro\t0\t1\n\
             UUID=2222 /boot ext4 defaults,noatime 0 2\n\
             /swapfile none swap sw 0 0\n\
             tmpfs /tmp tmpfs size=1G,mode=1777 0 0\n"
        );
        assert_eq!(
            host.apply(|| has_entries(entries.clone())),
            Ok(Change::Unchanged)
        );
    }

    #[test]
    fn a_line_with_the_same_fields_is_left_however_spaced() {
        let host = FakeHost::new().file(FSTAB, DEBIAN);
        let entries = vec![line("UUID=1111 / ext4 errors=remount-ro 0 1")];
        assert_eq!(
            host.apply(|| has_entries(entries.clone())),
            Ok(Change::Unchanged)
        );
        assert_eq!(host.text(FSTAB).as_deref(), Some(DEBIAN));
    }

    #[test]
    fn placeholder_keeps_the_existing_spec() {
        let host = FakeHost::new().file(FSTAB, DEBIAN);
        let entries = vec![list(&["PLACEHOLDER", "/", "ext4", "noatime", "0", "1"])];
        assert_eq!(
            host.apply(|| has_entries(entries.clone())),
            Ok(Change::Changed)
        );
        assert!(
            host.text(FSTAB)
                .unwrap()
                .contains("\nUUID=1111 / ext4 noatime 0 1\n")
        );
        assert_eq!(
            host.apply(|| has_entries(entries.clone())),
            Ok(Change::Unchanged)
        );
        let missing = vec![list(&["PLACEHOLDER", "/srv", "ext4", "defaults"])];
        assert!(
            failure(host.apply(|| has_entries(missing.clone()))).contains("has no line for it")
        );
    }

    #[test]
    fn swap_entries_are_told_apart_by_their_spec() {
        let host = FakeHost::new().file(FSTAB, DEBIAN);
        let entries = vec![
            line("/swapfile none swap sw,pri=10 0 0"),
            line("/dev/sdb2 none swap sw 0 0"),
        ];
        assert_eq!(
            host.apply(|| has_entries(entries.clone())),
            Ok(Change::Changed)
        );
        let text = host.text(FSTAB).unwrap();
        assert!(
            text.contains("\n/swapfile none swap sw,pri=10 0 0\n"),
            "{text}"
        );
        assert!(text.ends_with("\n/dev/sdb2 none swap sw 0 0\n"), "{text}");
    }

    #[test]
    fn makes_a_missing_file_and_check_mode_predicts() {
        let host = FakeHost::new().dir("/etc").check_mode();
        let entries = vec![line("proc /proc proc defaults")];
        assert_eq!(
            host.apply(|| has_entries(entries.clone())),
            Ok(Change::Changed)
        );
        assert_eq!(
            host.text(FSTAB).as_deref(),
            Some("proc /proc proc defaults 0 0\n")
        );
        assert_eq!(
            host.apply(|| has_entries(entries.clone())),
            Ok(Change::Unchanged)
        );
    }

    #[test]
    fn refuses_injected_and_malformed_entries() {
        let host = FakeHost::new().file(FSTAB, DEBIAN);
        let cases = [
            (
                line("tmpfs /tmp tmpfs defaults 0 0\n/dev/sda1 / ext4 defaults 0 1"),
                "is not one line",
            ),
            (
                list(&["tmpfs", "/tmp", "tmpfs", "size=1G 0 0\n/dev/sda1"]),
                "whitespace",
            ),
            (
                list(&["tmpfs", "/my dir", "tmpfs", "defaults"]),
                "whitespace",
            ),
            (
                list(&["tmpfs", "/tmp\t", "tmpfs", "defaults"]),
                "whitespace",
            ),
            (list(&["tmpfs", "/tmp", "tmpfs", ""]), "is empty"),
            (
                list(&["#tmpfs", "/tmp", "tmpfs", "defaults"]),
                "would be a comment",
            ),
            (
                list(&["tmpfs", "tmp", "tmpfs", "defaults"]),
                "not an absolute path",
            ),
            (
                list(&["tmpfs", "/srv/../etc", "tmpfs", "defaults"]),
                "not an absolute path",
            ),
            (list(&["tmpfs", "/tmp", "tmpfs"]), "has 3 fields"),
            (line("a /b c d 0 0 7"), "has 7 fields"),
            (
                list(&["tmpfs", "/tmp", "tmpfs", "defaults", "x", "0"]),
                "must be numbers",
            ),
        ];
        for (entry, message) in cases {
            let got = failure(host.apply(|| has_entries(vec![entry.clone()])));
            assert!(got.contains(message), "{entry:?}: {got}");
        }
        let twice = vec![line("a /x tmpfs defaults"), line("b /x tmpfs defaults")];
        assert_eq!(
            failure(host.apply(|| has_entries(twice.clone()))),
            "two entries for the mount point /x"
        );
        assert_eq!(host.text(FSTAB).as_deref(), Some(DEBIAN));
    }

    #[test]
    fn entries_decode_from_forms_as_lines_or_fields() {
        let host = FakeHost::new().module(&crate::MODULE).file(FSTAB, "");
        let form: Form = r#"["fstab:has-entries", ["tmpfs /a tmpfs defaults", ["tmpfs", "/b", "tmpfs", "ro", "0", "0"]]]"#
            .parse()
            .unwrap();
        assert_eq!(host.apply_form(&form), Ok(Change::Changed));
        assert_eq!(
            host.text(FSTAB).as_deref(),
            Some("tmpfs /a tmpfs defaults 0 0\ntmpfs /b tmpfs ro 0 0\n")
        );
    }
}
