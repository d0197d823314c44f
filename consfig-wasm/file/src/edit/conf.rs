//! Consfigurator's config-file editors, on text: `file:contains-conf-space`,
//! `-tab`, `-equals`, `-shell` and `file:contains-ini-settings`.
//!
//! For each key set, the first line for it, commented or not, is
//! uncommented and set; later lines for it are commented out (`# ` and the
//! key and its old value, written in the file's format); keys the file
//! lacks are appended. A line is read as a key and value once its comment
//! characters (`#`, and `;` in INI files) and the blanks after them are
//! taken off, so a commented default such as `#Port 22` is the line that
//! gets set. Lines for other keys, and every other line, are left as they
//! are.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regex::Regex;

use super::{EditError, Line, Lines, one_line};

/// How a format separates keys from values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfStyle {
    /// `key value`, read with any blanks between.
    Space,
    /// `key<TAB>value`, read with any blanks between.
    Tab,
    /// `key = value`, read with or without a blank on either side of `=`.
    Equals,
    /// `KEY=value` of a shell file (`/etc/default`), the value quoted for
    /// the shell when it has to be; read as `Equals`.
    Shell,
}

impl ConfStyle {
    fn pattern(self) -> &'static str {
        match self {
            ConfStyle::Space | ConfStyle::Tab => r"^(\S+)\s+(.+)",
            ConfStyle::Equals | ConfStyle::Shell => r"^([^\s=]+)\s?=\s?(.*)",
        }
    }

    fn render(self, key: &str, value: &str) -> String {
        match self {
            ConfStyle::Space => format!("{key} {value}"),
            ConfStyle::Tab => format!("{key}\t{value}"),
            ConfStyle::Equals => format!("{key} = {value}"),
            ConfStyle::Shell => format!("{key}={value}"),
        }
    }

    /// The value as written: quoted for the shell in shell files.
    fn value(self, value: &str) -> String {
        match self {
            ConfStyle::Shell => shell_quoted(value),
            _ => value.to_owned(),
        }
    }
}

/// A value as a POSIX shell reads it back: as is when it has only letters,
/// digits and `+-_.,%@:/=`, otherwise in double quotes with `$`, `` ` ``,
/// `"` and `\` escaped (as Consfigurator's `sh-escape`).
pub fn shell_quoted(value: &str) -> String {
    let easy = |c: char| c.is_ascii_alphanumeric() || "+-_.,%@:/=".contains(c);
    if !value.is_empty() && value.chars().all(easy) {
        return value.to_owned();
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        if "$`\\\"".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A line without its comment characters and the blanks after them, and
/// whether it had any.
fn uncomment<'a>(line: &'a str, comment: &[char]) -> (&'a str, bool) {
    let stripped = line.trim_start_matches(comment);
    if stripped.len() == line.len() {
        return (line, false);
    }
    (stripped.trim_start(), true)
}

/// Key and value of an uncommented line.
fn key_value<'a>(regex: &Regex, line: &'a str) -> Option<(&'a str, &'a str)> {
    let captures = regex.captures(line)?;
    Some((captures.get(1)?.as_str(), captures.get(2)?.as_str()))
}

fn compiled(pattern: &str) -> Regex {
    // The patterns are constants, tested below.
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("{pattern}: {e}"))
}

/// Refuse a key or value that would not read back as itself, so that a
/// second application would append it again.
fn check_readable(
    written: &str,
    key: &str,
    value: &str,
    comment: &[char],
    regex: &Regex,
) -> Result<(), EditError> {
    one_line("key", key, "keys are single words")?;
    one_line("value", value, "values are single lines")?;
    let (uncommented, commented) = uncomment(written, comment);
    match key_value(regex, uncommented) {
        Some((read, _)) if !commented && read == key => Ok(()),
        _ => Err(EditError::Unreadable {
            what: "key",
            value: key.to_owned(),
            reason: "keys are single words, not starting with a comment character \
                     or holding `=`, and in the space and tab formats values are not empty",
        }),
    }
}

/// A checked `contains-conf-*`: keys and values as they will be written.
#[derive(Debug, Clone)]
pub struct ConfSettings {
    style: ConfStyle,
    values: BTreeMap<String, String>,
    regex: Regex,
}

impl ConfSettings {
    pub fn new(style: ConfStyle, settings: &BTreeMap<String, String>) -> Result<Self, EditError> {
        let regex = compiled(style.pattern());
        let mut values = BTreeMap::new();
        for (key, value) in settings {
            let value = style.value(value);
            check_readable(&style.render(key, &value), key, &value, &['#'], &regex)?;
            values.insert(key.clone(), value);
        }
        Ok(ConfSettings {
            style,
            values,
            regex,
        })
    }

    /// The new text (the same text when every key is already set).
    pub fn apply(&self, text: &str) -> String {
        let mut file = Lines::parse(text);
        let mut set: BTreeSet<String> = BTreeSet::new();
        let mut changed = false;
        for line in &mut file.lines {
            let (uncommented, _) = uncomment(&line.text, &['#']);
            let Some((key, old)) = key_value(&self.regex, uncommented) else {
                continue;
            };
            let Some(value) = self.values.get(key) else {
                continue;
            };
            let new = if set.insert(key.to_owned()) {
                self.style.render(key, value)
            } else {
                format!("# {}", self.style.render(key, old))
            };
            if new != line.text {
                line.text = new;
                changed = true;
            }
        }
        let missing: Vec<_> = self
            .values
            .iter()
            .filter(|(key, _)| !set.contains(*key))
            .collect();
        if !changed && missing.is_empty() {
            return text.to_owned();
        }
        file.terminate_last();
        for (key, value) in missing {
            let line = file.line(self.style.render(key, value));
            file.lines.push(line);
        }
        file.render()
    }
}

const INI_COMMENT: [char; 2] = ['#', ';'];
const INI_SECTION: &str = r"^\[(.+)\]$";
const INI_KEY_VALUE: &str = r"^([^=\s]+)\s*=\s*(.*)";

/// A checked `contains-ini-settings`: `(section, key, value)` triples, the
/// last value given for a key winning; section `""` is the part of the
/// file before its first section header.
#[derive(Debug, Clone)]
pub struct IniSettings {
    settings: Vec<(String, String, String)>,
    section: Regex,
    key_value: Regex,
}

impl IniSettings {
    pub fn new(triples: &[(String, String, String)]) -> Result<Self, EditError> {
        let section = compiled(INI_SECTION);
        let key_value = compiled(INI_KEY_VALUE);
        let mut settings: Vec<(String, String, String)> = Vec::new();
        for (name, key, value) in triples {
            one_line("section", name, "section names are single lines")?;
            check_readable(&ini_line(key, value), key, value, &INI_COMMENT, &key_value)?;
            if section.is_match(&ini_line(key, value)) {
                return Err(EditError::Unreadable {
                    what: "key",
                    value: key.clone(),
                    reason: "it would read as a section header",
                });
            }
            match settings.iter_mut().find(|(s, k, _)| s == name && k == key) {
                Some(existing) => existing.2 = value.clone(),
                None => settings.push((name.clone(), key.clone(), value.clone())),
            }
        }
        Ok(IniSettings {
            settings,
            section,
            key_value,
        })
    }

    fn value(&self, section: &str, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(s, k, _)| s == section && k == key)
            .map(|(_, _, v)| v.as_str())
    }

    /// The new text (the same text when every setting is already there).
    pub fn apply(&self, text: &str) -> String {
        let mut file = Lines::parse(text);
        let mut current = String::new();
        // Where each section is: its first header, and its last key line.
        let mut headers: HashMap<String, usize> = HashMap::new();
        let mut last_key: HashMap<String, usize> = HashMap::new();
        let mut set: BTreeSet<(String, String)> = BTreeSet::new();
        let mut changed = false;
        for (i, line) in file.lines.iter_mut().enumerate() {
            let (uncommented, commented) = uncomment(&line.text, &INI_COMMENT);
            if !commented && let Some(name) = self.section.captures(&line.text) {
                current = name[1].to_owned();
                headers.entry(current.clone()).or_insert(i);
                continue;
            }
            let Some((key, old)) = key_value(&self.key_value, uncommented) else {
                continue;
            };
            last_key.insert(current.clone(), i);
            let Some(value) = self.value(&current, key) else {
                continue;
            };
            let new = if set.insert((current.clone(), key.to_owned())) {
                ini_line(key, value)
            } else {
                format!("# {}", ini_line(key, old))
            };
            if new != line.text {
                line.text = new;
                changed = true;
            }
        }
        let missing: Vec<_> = self
            .settings
            .iter()
            .filter(|(s, k, _)| !set.contains(&(s.clone(), k.clone())))
            .collect();
        if !changed && missing.is_empty() {
            return text.to_owned();
        }
        // Keys of sections the file has go after the section's last key
        // line (or its header); the top part's at the top. The others go
        // in new sections at the end, in the order first given.
        let mut inserts: BTreeMap<usize, Vec<Line>> = BTreeMap::new();
        let mut new_sections: Vec<(&str, Vec<Line>)> = Vec::new();
        for (section, key, value) in missing {
            let line = file.line(ini_line(key, value));
            let position = last_key
                .get(section)
                .or_else(|| headers.get(section))
                .map(|i| i + 1)
                .or(section.is_empty().then_some(0));
            match position {
                Some(at) => inserts.entry(at).or_default().push(line),
                None => match new_sections.iter_mut().find(|(s, _)| s == section) {
                    Some((_, lines)) => lines.push(line),
                    None => new_sections.push((section, vec![line])),
                },
            }
        }
        for (at, lines) in inserts.into_iter().rev() {
            if at == file.lines.len() {
                file.terminate_last();
            }
            file.lines.splice(at..at, lines);
        }
        for (section, lines) in new_sections {
            file.terminate_last();
            if file.lines.last().is_some_and(|l| !l.is_blank()) {
                let blank = file.line("");
                file.lines.push(blank);
            }
            let header = file.line(format!("[{section}]"));
            file.lines.push(header);
            file.lines.extend(lines);
        }
        file.render()
    }
}

/// A key and value as an INI line: `key=value`, as Consfigurator writes it.
fn ini_line(key: &str, value: &str) -> String {
    format!("{key}={value}")
}

#[cfg(test)]
#[path = "conf_tests.rs"]
mod tests;
