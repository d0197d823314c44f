//! `file:replaced`: Ansible's `replace`, on text.
//!
//! The regexp is in multi-line mode (`^` and `$` match at every line) and
//! `.` does not match a newline; in a CRLF file, `$` also matches before
//! `\r\n` and `.` matches no `\r`. `after` and `before` are in dot-all mode
//! (`.` matches newlines) and not multi-line, unless they turn it on with
//! `(?m)`; only the text between their matches is replaced.

use regex::Regex;

use super::pattern::{self, Template};
use super::{EditError, Lines};

/// A checked `replaced`.
#[derive(Debug, Clone)]
pub struct Replace {
    /// The regexp and replacement for LF files, and for CRLF files.
    lf: (Regex, Template),
    crlf: (Regex, Template),
    section: Option<Regex>,
}

impl Replace {
    pub fn new(
        regexp: &str,
        replacement: &str,
        after: Option<&str>,
        before: Option<&str>,
    ) -> Result<Self, EditError> {
        let compiled = |flags| -> Result<(Regex, Template), EditError> {
            let regex = pattern::compile_with("regexp", regexp, flags)?;
            let template = Template::parse("replacement", replacement, &regex)?;
            Ok((regex, template))
        };
        let (lf, crlf) = (compiled("m")?, compiled("mR")?);
        let after = after.filter(|a| !a.is_empty());
        let before = before.filter(|b| !b.is_empty());
        let section = match (after, before) {
            (None, None) => None,
            (after, before) => {
                // Each checked alone first, for an error naming it.
                if let Some(after) = after {
                    pattern::compile_with("after", after, "s")?;
                }
                if let Some(before) = before {
                    pattern::compile_with("before", before, "s")?;
                }
                let middle = if after.is_some() && before.is_some() {
                    "(?P<subsection>.*?)"
                } else {
                    "(?P<subsection>.*)"
                };
                let joined = format!(
                    "{}{middle}{}",
                    after.unwrap_or_default(),
                    before.unwrap_or_default()
                );
                Some(pattern::compile_with("after and before", &joined, "s")?)
            }
        };
        Ok(Replace { lf, crlf, section })
    }

    /// The new text and how many replacements made it; the same text when
    /// after/before match nothing or no replacement changes anything.
    pub fn apply(&self, text: &str) -> (String, usize) {
        let (start, end) = match &self.section {
            None => (0, text.len()),
            Some(section) => match section.captures(text).and_then(|c| c.name("subsection")) {
                Some(m) => (m.start(), m.end()),
                None => return (text.to_owned(), 0),
            },
        };
        let (regex, template) = if Lines::parse(text).newline == "\r\n" {
            &self.crlf
        } else {
            &self.lf
        };
        let section = &text[start..end];
        let mut out = String::with_capacity(text.len());
        out.push_str(&text[..start]);
        let mut last = 0;
        let mut count = 0;
        for captures in regex.captures_iter(section) {
            let Some(whole) = captures.get(0) else {
                continue;
            };
            out.push_str(&section[last..whole.start()]);
            out.push_str(&template.expand(&captures));
            last = whole.end();
            count += 1;
        }
        out.push_str(&section[last..]);
        out.push_str(&text[end..]);
        if out == text {
            return (out, 0);
        }
        (out, count)
    }
}

#[cfg(test)]
#[path = "replace_tests.rs"]
mod tests;
