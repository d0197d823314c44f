//! `file:line-in-file`: Ansible's `lineinfile`, on text.
//!
//! Patterns are matched against each line without its line ending, so `$`
//! ends the line in CRLF files too.

use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};

use super::pattern::{self, Template};
use super::{EditError, Lines, one_line};

/// Whether the line (or block) should be there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    #[default]
    Present,
    Absent,
}

/// The options of `file:line-in-file`, as given.
#[derive(Debug, Clone, Default)]
pub struct LineOptions<'a> {
    pub line: Option<&'a str>,
    pub regexp: Option<&'a str>,
    pub search_string: Option<&'a str>,
    pub state: State,
    pub insert_after: Option<&'a str>,
    pub insert_before: Option<&'a str>,
    pub backrefs: bool,
    pub firstmatch: bool,
}

/// Where a line is inserted when nothing matches.
#[derive(Debug, Clone)]
enum Anchor {
    Bof,
    Eof,
    After(Regex),
    Before(Regex),
}

/// How lines are recognised.
#[derive(Debug, Clone)]
enum Search {
    Regexp(Regex),
    String(String),
    None,
}

/// A checked `line-in-file`: the options agree with each other and the
/// patterns compile.
#[derive(Debug, Clone)]
pub struct LineInFile {
    line: Option<String>,
    search: Search,
    state: State,
    anchor: Anchor,
    backrefs: Option<Template>,
    firstmatch: bool,
}

impl LineInFile {
    pub fn new(options: &LineOptions) -> Result<Self, EditError> {
        if options.insert_after.is_some() && options.insert_before.is_some() {
            return Err(EditError::Exclusive("insert-after", "insert-before"));
        }
        if options.regexp.is_some() && options.search_string.is_some() {
            return Err(EditError::Exclusive("regexp", "search-string"));
        }
        if options.backrefs && options.search_string.is_some() {
            return Err(EditError::Exclusive("backrefs", "search-string"));
        }
        if let Some(line) = options.line {
            one_line(
                "line",
                line,
                "give one line, or use file:block-in-file for several",
            )?;
        }
        let search = match (options.regexp, options.search_string) {
            (Some(regexp), _) => Search::Regexp(pattern::compile("regexp", regexp)?),
            (None, Some(string)) => Search::String(string.to_owned()),
            (None, None) => Search::None,
        };
        let mut backrefs = None;
        match options.state {
            State::Present => {
                let Some(line) = options.line else {
                    return Err(EditError::Required {
                        needed: "line",
                        when: "when state is present",
                    });
                };
                if options.backrefs {
                    let Search::Regexp(regex) = &search else {
                        return Err(EditError::Required {
                            needed: "regexp",
                            when: "with backrefs",
                        });
                    };
                    backrefs = Some(Template::parse("line", line, regex)?);
                }
            }
            State::Absent => {
                if options.line.is_none() && matches!(search, Search::None) {
                    return Err(EditError::Required {
                        needed: "one of line, regexp and search-string",
                        when: "when state is absent",
                    });
                }
            }
        }
        let anchor = match (options.insert_after, options.insert_before) {
            (Some("BOF"), _) | (None, Some("BOF")) => Anchor::Bof,
            (Some("EOF"), _) | (None, None) => Anchor::Eof,
            (Some(after), _) => Anchor::After(pattern::compile("insert-after", after)?),
            (None, Some(before)) => Anchor::Before(pattern::compile("insert-before", before)?),
        };
        Ok(LineInFile {
            line: options.line.map(str::to_owned),
            search,
            state: options.state,
            anchor,
            backrefs,
            firstmatch: options.firstmatch,
        })
    }

    /// Whether `regexp` or `search-string` is the empty string, which
    /// matches every line (Ansible warns about it).
    pub fn matches_everything(&self) -> bool {
        match &self.search {
            Search::Regexp(regex) => regex.as_str().is_empty(),
            Search::String(string) => string.is_empty(),
            Search::None => false,
        }
    }

    /// Whether a missing file stays missing whatever the options say.
    pub fn is_absent(&self) -> bool {
        self.state == State::Absent
    }

    /// The new text (the same text when nothing changes).
    pub fn apply(&self, text: &str) -> String {
        match self.state {
            State::Present => self.present(text),
            State::Absent => self.absent(text),
        }
    }

    fn present(&self, text: &str) -> String {
        let mut file = Lines::parse(text);
        let line = self.line.as_deref().unwrap_or_default();
        // The last line matching regexp or search-string (the first with
        // firstmatch), and its captures for backrefs.
        let mut found: Option<usize> = None;
        let mut captures: Option<Captures> = None;
        for (i, current) in file.lines.iter().enumerate() {
            let matched = match &self.search {
                Search::Regexp(regex) => match regex.captures(&current.text) {
                    Some(c) => {
                        captures = Some(c);
                        true
                    }
                    None => false,
                },
                Search::String(string) => current.text.contains(string.as_str()),
                Search::None => false,
            };
            if matched {
                found = Some(i);
                if self.firstmatch {
                    break;
                }
            }
        }
        let searched = found.is_some();
        // With no match, the line itself, and where insert-after or
        // insert-before point.
        let mut insert_at: Option<usize> = None;
        if !searched {
            for (i, current) in file.lines.iter().enumerate() {
                if current.trimmed() == line {
                    found = Some(i);
                } else {
                    match &self.anchor {
                        Anchor::After(regex) if regex.is_match(&current.text) => {
                            insert_at = Some(i + 1);
                            if self.firstmatch {
                                break;
                            }
                        }
                        Anchor::Before(regex) if regex.is_match(&current.text) => {
                            insert_at = Some(i);
                            if self.firstmatch {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
        }

        if let Some(index) = found {
            // The captures belong to the matched line: only a regexp match
            // expands backrefs.
            let new_text = match (&self.backrefs, &captures) {
                (Some(template), Some(captures)) if searched => template.expand(captures),
                _ => line.to_owned(),
            };
            let new_line = file.line(new_text);
            if file.lines[index] != new_line {
                file.lines[index] = new_line;
            }
            return file.render();
        }
        if self.backrefs.is_some() {
            // Nothing to fill the backreferences with: leave the file.
            return text.to_owned();
        }
        let new_line = file.line(line);
        match (&self.anchor, insert_at) {
            (Anchor::Bof, _) => file.lines.insert(0, new_line),
            (Anchor::Eof, _) | (_, None) => {
                file.terminate_last();
                file.lines.push(new_line);
            }
            (Anchor::After(_), Some(at)) => {
                // Not again when the line already follows the anchor.
                let already = if at == file.lines.len() {
                    file.lines[at - 1].trimmed() == line
                } else {
                    file.lines[at].trimmed() == line
                };
                if !already {
                    if at == file.lines.len() {
                        file.terminate_last();
                    }
                    file.lines.insert(at, new_line);
                }
            }
            (Anchor::Before(_), Some(at)) => file.lines.insert(at, new_line),
        }
        file.render()
    }

    fn absent(&self, text: &str) -> String {
        let mut file = Lines::parse(text);
        let line = self.line.as_deref().unwrap_or_default();
        let before = file.lines.len();
        file.lines.retain(|current| match &self.search {
            Search::Regexp(regex) => !regex.is_match(&current.text),
            Search::String(string) => !current.text.contains(string.as_str()),
            Search::None => current.trimmed() != line,
        });
        if file.lines.len() == before {
            return text.to_owned();
        }
        file.render()
    }
}

/// `present` or `absent`.
impl consfig_guest::HasSchema for State {
    fn schema() -> consfig_guest::Schema {
        consfig_guest::Schema::String
    }
}

#[cfg(test)]
#[path = "line_tests.rs"]
mod tests;
