//! `file:block-in-file`: Ansible's `blockinfile`, on text.
//!
//! Marker lines are recognised by their text, whatever their ending. An
//! insert-after or insert-before pattern is matched line by line, without
//! line endings, unless it starts with `(?m)`: then it is searched in the
//! whole text and may span lines.

use regex::Regex;

use super::line::State;
use super::pattern;
use super::{EditError, Line, Lines, one_line};

/// Ansible's marker: `{mark}` becomes marker-begin, then marker-end.
pub const DEFAULT_MARKER: &str = "# {mark} ANSIBLE MANAGED BLOCK";

/// The options of `file:block-in-file`, as given.
#[derive(Debug, Clone)]
pub struct BlockOptions<'a> {
    pub block: &'a str,
    pub marker: &'a str,
    pub marker_begin: &'a str,
    pub marker_end: &'a str,
    pub insert_after: Option<&'a str>,
    pub insert_before: Option<&'a str>,
    pub state: State,
    pub append_newline: bool,
    pub prepend_newline: bool,
}

impl Default for BlockOptions<'_> {
    fn default() -> Self {
        BlockOptions {
            block: "",
            marker: DEFAULT_MARKER,
            marker_begin: "BEGIN",
            marker_end: "END",
            insert_after: None,
            insert_before: None,
            state: State::Present,
            append_newline: false,
            prepend_newline: false,
        }
    }
}

#[derive(Debug, Clone)]
enum Anchor {
    Bof,
    Eof,
    After { regex: Regex, whole_text: bool },
    Before { regex: Regex, whole_text: bool },
}

/// A checked `block-in-file`.
#[derive(Debug, Clone)]
pub struct BlockInFile {
    begin: String,
    end: String,
    /// The block's text; empty when it is to be removed.
    block: String,
    anchor: Anchor,
    append_newline: bool,
    prepend_newline: bool,
}

impl BlockInFile {
    pub fn new(options: &BlockOptions) -> Result<Self, EditError> {
        if options.insert_after.is_some() && options.insert_before.is_some() {
            return Err(EditError::Exclusive("insert-after", "insert-before"));
        }
        let begin = options.marker.replace("{mark}", options.marker_begin);
        let end = options.marker.replace("{mark}", options.marker_end);
        for (what, marker) in [("the begin marker", &begin), ("the end marker", &end)] {
            one_line(what, marker, "markers are single lines")?;
        }
        if begin == end {
            return Err(EditError::Unreadable {
                what: "marker",
                value: options.marker.to_owned(),
                reason: "its begin and end lines are the same: \
                         give a marker with {mark}, or different marker-begin and marker-end",
            });
        }
        let anchor = |option: &'static str, pattern: &str| -> Result<(Regex, bool), EditError> {
            Ok((
                pattern::compile(option, pattern)?,
                pattern::starts_multiline(pattern),
            ))
        };
        let anchor = match (options.insert_after, options.insert_before) {
            (Some("EOF"), _) | (None, None) => Anchor::Eof,
            (None, Some("BOF")) => Anchor::Bof,
            (Some(after), _) => {
                let (regex, whole_text) = anchor("insert-after", after)?;
                Anchor::After { regex, whole_text }
            }
            (None, Some(before)) => {
                let (regex, whole_text) = anchor("insert-before", before)?;
                Anchor::Before { regex, whole_text }
            }
        };
        let block = match options.state {
            State::Present => options.block.to_owned(),
            State::Absent => String::new(),
        };
        Ok(BlockInFile {
            begin,
            end,
            block,
            anchor,
            append_newline: options.append_newline,
            prepend_newline: options.prepend_newline,
        })
    }

    /// Whether the edit removes the block (state absent, or no block).
    pub fn removes(&self) -> bool {
        self.block.is_empty()
    }

    /// The new text (the same text when nothing changes).
    pub fn apply(&self, text: &str) -> String {
        let mut file = Lines::parse(text);
        let block_lines = self.block_lines(file.newline);
        let begin = file.lines.iter().rposition(|l| l.text == self.begin);
        let end = file.lines.iter().rposition(|l| l.text == self.end);
        let mut at = match (begin, end) {
            (Some(begin), Some(end)) => {
                let (first, last) = if begin < end {
                    (begin, end)
                } else {
                    (end, begin)
                };
                file.lines.drain(first..=last);
                first
            }
            _ => self.anchor_position(text, &file),
        };
        if block_lines.is_empty() {
            return file.render();
        }
        if at > 0 && file.lines[at - 1].ending.is_empty() {
            file.lines[at - 1].ending = file.newline;
        }
        if self.prepend_newline && at != 0 && !file.lines[at - 1].is_blank() {
            let blank = file.line("");
            file.lines.insert(at, blank);
            at += 1;
        }
        let after = at + block_lines.len();
        file.lines.splice(at..at, block_lines);
        if self.append_newline && after < file.lines.len() && !file.lines[after].is_blank() {
            let blank = file.line("");
            file.lines.insert(after, blank);
        }
        file.render()
    }

    /// The marker lines around the block's lines. A bare LF in the block
    /// becomes the file's newline; a CRLF stays.
    fn block_lines(&self, newline: &'static str) -> Vec<Line> {
        if self.block.is_empty() {
            return Vec::new();
        }
        let mut lines = vec![Line::new(self.begin.clone(), newline)];
        for line in Lines::parse(&self.block).lines {
            lines.push(Line {
                text: line.text,
                ending: if line.ending == "\r\n" {
                    "\r\n"
                } else {
                    newline
                },
            });
        }
        lines.push(Line::new(self.end.clone(), newline));
        lines
    }

    /// Where a new block goes: after (or before) the last line the anchor
    /// matches, at the end when it matches none.
    fn anchor_position(&self, text: &str, file: &Lines) -> usize {
        let (regex, whole_text, after) = match &self.anchor {
            Anchor::Bof => return 0,
            Anchor::Eof => return file.lines.len(),
            Anchor::After { regex, whole_text } => (regex, *whole_text, true),
            Anchor::Before { regex, whole_text } => (regex, *whole_text, false),
        };
        let found = if whole_text {
            regex.find(text).map(|m| {
                let upto = if after { m.end() } else { m.start() };
                text[..upto].matches('\n').count()
            })
        } else {
            file.lines.iter().rposition(|l| regex.is_match(&l.text))
        };
        match found {
            Some(i) if after => (i + 1).min(file.lines.len()),
            Some(i) => i,
            None => file.lines.len(),
        }
    }
}

#[cfg(test)]
#[path = "block_tests.rs"]
mod tests;
