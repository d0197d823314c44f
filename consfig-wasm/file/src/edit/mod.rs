//! Pure text editing for the `file` module's line, block, replace and
//! config-file properties: text in, new text out, no host calls. The
//! properties (`crate::lines`, `crate::conf`) read the file, call these and
//! write only when the text differs.
//!
//! Files are handled as lines that keep their own endings: a file that uses
//! CRLF gets CRLF on the lines an edit adds or rewrites, and lines an edit
//! does not touch are left byte for byte.

pub mod block;
pub mod conf;
pub mod line;
pub mod lines;
pub mod pattern;
pub mod replace;
mod text;

pub use text::{Line, Lines};

/// Why an edit cannot be made: a bad option, never a bad file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error("{option}: {pattern:?} is not a regular expression this module understands: {reason}")]
    BadPattern {
        option: &'static str,
        pattern: String,
        reason: String,
    },
    #[error("{option}: {template:?} is not a valid replacement: {reason}")]
    BadReplacement {
        option: &'static str,
        template: String,
        reason: String,
    },
    #[error("{0} and {1} cannot both be given")]
    Exclusive(&'static str, &'static str),
    #[error("{needed} is required {when}")]
    Required {
        needed: &'static str,
        when: &'static str,
    },
    #[error("{what} {value:?} contains a line break: {hint}")]
    LineBreak {
        what: &'static str,
        value: String,
        hint: &'static str,
    },
    #[error("{what} {value:?} cannot be written so that it reads back: {reason}")]
    Unreadable {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
}

/// Refuse a value that must stay on one line.
fn one_line(what: &'static str, value: &str, hint: &'static str) -> Result<(), EditError> {
    if value.contains(['\n', '\r']) {
        return Err(EditError::LineBreak {
            what,
            value: value.to_owned(),
            hint,
        });
    }
    Ok(())
}

/// Apply an edit to `text`, expecting `expected`, then to its result: a
/// second application must change nothing. The edits' tests share it.
#[cfg(test)]
#[track_caller]
fn assert_edits_once(apply: impl Fn(&str) -> String, text: &str, expected: &str) {
    let once = apply(text);
    assert_eq!(once, expected);
    assert_eq!(apply(&once), once, "a second application changes nothing");
}
