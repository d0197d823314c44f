//! Consfigurator's config-file editors, on text: `file:contains-conf-space`,
//! `-tab`, `-equals`, `-shell` and `file:contains-ini-settings`.
//!
//! For each key set, the first line for it, commented or not, is
//! uncommented and set; later lines for it are commented out (`# ` put
//! before them); keys the file lacks are appended. A line is read as a key
//! and value once its comment characters (`#`, and `;` in INI files) and
//! the blanks after them are taken off, so a commented default such as
//! `#Port 22` is the line that gets set. Lines for other keys, and every
//! other line, are left as they are.
//!
//! The space and tab formats write one space or tab between key and value,
//! as Consfigurator does. The `=` formats keep a file's style: a line that
//! is set keeps its own spacing around `=`, and new lines take the spacing
//! of the file's first setting (`KEY = VALUE` when it has none; shell files
//! are always `KEY=VALUE`). Consfigurator instead rewrites `=` lines as
//! `KEY = VALUE` (and INI lines as `KEY=VALUE`).

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

/// The separator of `=` lines written where the file shows no style.
const SPACED_EQUALS: &str = " = ";

impl ConfStyle {
    fn pattern(self) -> &'static str {
        match self {
            ConfStyle::Space | ConfStyle::Tab => r"^(\S+)(\s+)(.+)",
            ConfStyle::Equals | ConfStyle::Shell => r"^([^\s=]+)(\s?=\s?)(.*)",
        }
    }

    /// The separator to write, given the one a line (or the file) has.
    fn separator(self, found: Option<&str>) -> String {
        match self {
            ConfStyle::Space => " ".into(),
            ConfStyle::Tab => "\t".into(),
            ConfStyle::Equals => found.unwrap_or(SPACED_EQUALS).into(),
            ConfStyle::Shell => "=".into(),
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

/// A setting as a line reads: key, separator, value.
struct Setting<'a> {
    key: &'a str,
    separator: &'a str,
}

fn setting<'a>(regex: &Regex, line: &'a str) -> Option<Setting<'a>> {
    let captures = regex.captures(line)?;
    Some(Setting {
        key: captures.get(1)?.as_str(),
        separator: captures.get(2)?.as_str(),
    })
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
    match setting(regex, uncommented) {
        Some(read) if !commented && read.key == key => Ok(()),
        _ => Err(EditError::Unreadable {
            what: "key",
            value: key.to_owned(),
            reason: "keys are single words, not starting with a comment character \
                     or holding `=`, and in the space and tab formats values are not empty",
        }),
    }
}

/// The separator of the file's first uncommented setting.
fn file_separator<'a>(file: &'a Lines, regex: &Regex, comment: &[char]) -> Option<&'a str> {
    file.lines
        .iter()
        .filter(|l| !uncomment(&l.text, comment).1)
        .find_map(|l| setting(regex, &l.text).map(|s| s.separator))
}

/// Set the first line of a key, comment out the later ones: the new text
/// of a line read as `found`, when it changes.
fn rewritten(
    line: &str,
    found: &Setting,
    commented: bool,
    first: bool,
    separator: String,
    value: &str,
) -> Option<String> {
    let new = if first {
        format!("{}{separator}{value}", found.key)
    } else if commented {
        return None;
    } else {
        format!("# {line}")
    };
    (new != line).then_some(new)
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
            let written = format!("{key}{}{value}", style.separator(None));
            check_readable(&written, key, &value, &['#'], &regex)?;
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
        let file_style = file_separator(&file, &self.regex, &['#']).map(str::to_owned);
        let mut set: BTreeSet<String> = BTreeSet::new();
        let mut changed = false;
        for line in &mut file.lines {
            let (uncommented, commented) = uncomment(&line.text, &['#']);
            let Some(found) = setting(&self.regex, uncommented) else {
                continue;
            };
            let Some(value) = self.values.get(found.key) else {
                continue;
            };
            let first = set.insert(found.key.to_owned());
            let separator = self.style.separator(Some(found.separator));
            if let Some(new) = rewritten(&line.text, &found, commented, first, separator, value) {
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
        let separator = self.style.separator(file_style.as_deref());
        for (key, value) in missing {
            let line = file.line(format!("{key}{separator}{value}"));
            file.lines.push(line);
        }
        file.render()
    }
}

const INI_COMMENT: [char; 2] = ['#', ';'];
const INI_SECTION: &str = r"^\[(.+)\]$";
const INI_SETTING: &str = r"^([^=\s]+)(\s*=\s*)(.*)";

/// A checked `contains-ini-settings`: `(section, key, value)` triples, the
/// last value given for a key winning; section `""` is the part of the
/// file before its first section header.
#[derive(Debug, Clone)]
pub struct IniSettings {
    settings: Vec<(String, String, String)>,
    section: Regex,
    setting: Regex,
}

impl IniSettings {
    pub fn new(triples: &[(String, String, String)]) -> Result<Self, EditError> {
        let section = compiled(INI_SECTION);
        let setting = compiled(INI_SETTING);
        let mut settings: Vec<(String, String, String)> = Vec::new();
        for (name, key, value) in triples {
            one_line("section", name, "section names are single lines")?;
            let written = format!("{key}{SPACED_EQUALS}{value}");
            check_readable(&written, key, value, &INI_COMMENT, &setting)?;
            if section.is_match(&written) || section.is_match(&format!("{key}={value}")) {
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
            setting,
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
        let separator = file_separator(&file, &self.setting, &INI_COMMENT)
            .unwrap_or(SPACED_EQUALS)
            .to_owned();
        let mut current = String::new();
        // Where each section is: its first header, and its last setting.
        let mut headers: HashMap<String, usize> = HashMap::new();
        let mut last_setting: HashMap<String, usize> = HashMap::new();
        let mut set: BTreeSet<(String, String)> = BTreeSet::new();
        let mut changed = false;
        for (i, line) in file.lines.iter_mut().enumerate() {
            let (uncommented, commented) = uncomment(&line.text, &INI_COMMENT);
            if !commented && let Some(name) = self.section.captures(&line.text) {
                current = name[1].to_owned();
                headers.entry(current.clone()).or_insert(i);
                continue;
            }
            let Some(found) = setting(&self.setting, uncommented) else {
                continue;
            };
            last_setting.insert(current.clone(), i);
            let Some(value) = self.value(&current, found.key) else {
                continue;
            };
            let first = set.insert((current.clone(), found.key.to_owned()));
            let own = found.separator.to_owned();
            if let Some(new) = rewritten(&line.text, &found, commented, first, own, value) {
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
        // Keys of sections the file has go after the section's last
        // setting (or its header); the top part's at the top. The others go
        // in new sections at the end, in the order first given.
        let mut inserts: BTreeMap<usize, Vec<Line>> = BTreeMap::new();
        let mut new_sections: Vec<(&str, Vec<Line>)> = Vec::new();
        for (section, key, value) in missing {
            let line = file.line(format!("{key}{separator}{value}"));
            let position = last_setting
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

#[cfg(test)]
#[path = "conf_tests.rs"]
mod tests;
