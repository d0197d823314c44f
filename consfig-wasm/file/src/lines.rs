//! The line and block properties of the `file` module: Ansible's
//! `lineinfile`, `blockinfile` and `replace`, and Consfigurator's line
//! properties. Each reads the file, computes its new text with
//! [`crate::edit`] and writes only when the text differs, so a second
//! application is unchanged and check mode predicts exactly. A rewritten
//! file keeps its mode and owner.
//!
//! Files are edited as UTF-8 text; a symlink is not followed (the property
//! fails, naming it), nor is a directory or other special file edited.

use std::path::Path;

use consfig_guest::prelude::*;

use crate::edit::EditError;
use crate::edit::block::{BlockInFile, BlockOptions};
use crate::edit::line::{LineInFile, LineOptions, State};
use crate::edit::lines::{self as edits, LineReplace};
use crate::edit::replace::Replace;

/// The text of the file to edit; `None` when nothing is at the path.
pub(crate) fn read_text(path: &str) -> Result<Option<String>> {
    match fs::stat(path)? {
        None => Ok(None),
        Some(stat) if stat.is_file() => fs::read_to_string(path).map(Some),
        Some(stat) if stat.is_symlink() => {
            bail!("{path} is a symlink: not editing through it; edit the file it points to")
        }
        Some(stat) => bail!("{path} is a {}, not a file: not editing it", stat.kind),
    }
}

/// Write `after` when it differs from `before` (`None`: the file is
/// missing, and is created with its directory).
pub(crate) fn write_changed(path: &str, before: Option<&str>, after: &str) -> Result<Change> {
    if before == Some(after) {
        return Ok(Change::Unchanged);
    }
    if before.is_none()
        && let Some(parent) = Path::new(path).parent().and_then(Path::to_str)
        && !parent.is_empty()
        && !fs::exists(parent)?
    {
        fs::mkdir(parent, None)?;
    }
    fs::write(path, after, None)?;
    Ok(Change::Changed)
}

/// A bad option, naming the file the form edits.
pub(crate) fn bad_option(path: &str) -> impl FnOnce(EditError) -> Error + '_ {
    move |e| Error::new(format!("{path}: {e}"))
}

/// Ensure a line is in a file, or is not: Ansible's `lineinfile`, case for
/// case.
///
/// With `state` "present" (the default), `line` is required. The last line
/// that `regexp` matches (or that contains `search-string`) is replaced by
/// `line`; the first one with `firstmatch`. When none matches and the line
/// is not already there, it is inserted after the last line that
/// `insert-after` matches or before the last line that `insert-before`
/// matches (the first one with `firstmatch`); `insert-before` "BOF" puts it
/// first, `insert-after` "EOF" (the default) last, and an anchor that
/// matches nothing puts it last too. A file without a final newline gets one
/// before a line is added after its last line.
///
/// With `backrefs`, `line` may use the groups of `regexp` (`\1`, `\g<1>`,
/// `\g<name>`), the anchors are ignored, and when `regexp` matches nothing
/// the file is left as it is.
///
/// With `state` "absent", every line that `regexp` matches, that contains
/// `search-string`, or (without either) that equals `line`, is removed; a
/// missing file is unchanged.
///
/// A missing file fails, unless `create` is true: then it is made, with its
/// directory. `regexp` and `search-string`, `insert-after` and
/// `insert-before`, `backrefs` and `search-string` exclude each other.
///
/// Patterns are matched against each line without its line ending, in the
/// syntax of the Rust `regex` crate: Python's, without backreferences,
/// look-around and Unicode classes such as `\p{Greek}` (`\Z` is
/// accepted). Lines the property writes end as the file's lines do (CRLF
/// in a CRLF file). `line` must be a single line (use `file:block-in-file`
/// for several). An empty `regexp` or `search-string` matches every line,
/// so the last line is replaced: a warning says so.
#[property]
#[allow(clippy::too_many_arguments)]
pub fn line_in_file(
    path: String,
    line: Option<String>,
    regexp: Option<String>,
    search_string: Option<String>,
    #[default = "present"] state: State,
    insert_after: Option<String>,
    insert_before: Option<String>,
    #[default = false] backrefs: bool,
    #[default = false] firstmatch: bool,
    #[default = false] create: bool,
) -> Result<Change> {
    let edit = LineInFile::new(&LineOptions {
        line: line.as_deref(),
        regexp: regexp.as_deref(),
        search_string: search_string.as_deref(),
        state,
        insert_after: insert_after.as_deref(),
        insert_before: insert_before.as_deref(),
        backrefs,
        firstmatch,
    })
    .map_err(bad_option(&path))?;
    if edit.matches_everything() {
        warn!(
            "{path}: an empty regexp or search-string matches every line: \
             the last line is the one replaced (use \"^\" to say so)"
        );
    }
    let before = read_text(&path)?;
    let text = match (&before, state, create) {
        (Some(text), _, _) => text.as_str(),
        (None, State::Absent, _) => return Ok(Change::Unchanged),
        (None, State::Present, true) => "",
        (None, State::Present, false) => {
            bail!("{path} does not exist: give create = true to make it")
        }
    };
    let after = edit.apply(text);
    if before.is_none() && after.is_empty() {
        // backrefs matched nothing: nothing to create.
        return Ok(Change::Unchanged);
    }
    write_changed(&path, before.as_deref(), &after)
}

/// Ensure a block of lines between two marker lines is in a file, or is
/// not: Ansible's `blockinfile`.
///
/// The markers are `marker` with `{mark}` replaced by `marker-begin` and
/// `marker-end`: by default `# BEGIN ANSIBLE MANAGED BLOCK` and
/// `# END ANSIBLE MANAGED BLOCK`, so files managed by Ansible keep their
/// blocks.
/// When both markers are in the file, the lines between them (and they)
/// are replaced by the block, where they are. Otherwise the block goes
/// after the last line `insert-after` matches, or before the last line
/// `insert-before` matches; `insert-before` "BOF" puts it first,
/// `insert-after` "EOF" (the default) last, and an anchor that matches
/// nothing puts it last too. An anchor starting with `(?m)` is searched in
/// the whole text and may match across lines; otherwise it is matched line
/// by line.
///
/// `prepend-newline` puts a blank line before the block unless it is first
/// or follows one; `append-newline` puts one after it unless it is last or
/// a blank line follows. With `state` "absent", or an empty `block`, the
/// markers and the lines between them are removed.
///
/// A missing file fails, unless `create` is true: then it is made, with its
/// directory (even for an empty block, as Ansible does); with `state`
/// "absent" a missing file is unchanged. Lines the property writes end as
/// the file's lines do; CRLF in the block is kept.
#[property]
#[allow(clippy::too_many_arguments)]
pub fn block_in_file(
    path: String,
    #[default = ""] block: String,
    #[default = "# {mark} ANSIBLE MANAGED BLOCK"] marker: String,
    #[default = "BEGIN"] marker_begin: String,
    #[default = "END"] marker_end: String,
    insert_after: Option<String>,
    insert_before: Option<String>,
    #[default = "present"] state: State,
    #[default = false] create: bool,
    #[default = false] append_newline: bool,
    #[default = false] prepend_newline: bool,
) -> Result<Change> {
    let edit = BlockInFile::new(&BlockOptions {
        block: &block,
        marker: &marker,
        marker_begin: &marker_begin,
        marker_end: &marker_end,
        insert_after: insert_after.as_deref(),
        insert_before: insert_before.as_deref(),
        state,
        append_newline,
        prepend_newline,
    })
    .map_err(bad_option(&path))?;
    let before = read_text(&path)?;
    match (&before, state, create) {
        (Some(text), _, _) => {
            let after = edit.apply(text);
            write_changed(&path, Some(text), &after)
        }
        (None, State::Absent, _) => Ok(Change::Unchanged),
        (None, State::Present, true) => write_changed(&path, None, &edit.apply("")),
        (None, State::Present, false) => {
            bail!("{path} does not exist: give create = true to make it")
        }
    }
}

/// Replace every match of a regular expression in a file: Ansible's
/// `replace`.
///
/// `regexp` is in multi-line mode (`^` and `$` match at each line; `.`
/// matches no newline, and in a CRLF file `$` matches before `\r\n`).
/// `replacement` may use its groups (`\1`, `\g<1>`, `\g<name>`, `\g<0>`)
/// and the escapes `\n`, `\t` and `\\`. `after` and `before`, patterns in
/// which `.` matches newlines, limit the replacing to the text after the
/// first match of `after` and before the `before` match that ends the
/// section (the text between them when both are given); when they match
/// nothing the file is unchanged. A missing file fails.
///
/// A pattern that matches its own replacement (`^(.*)$` → `# \1`) changes
/// the file every time, as in Ansible: write one that does not.
#[property]
pub fn replaced(
    path: String,
    regexp: String,
    replacement: String,
    after: Option<String>,
    before: Option<String>,
) -> Result<Change> {
    let edit = Replace::new(&regexp, &replacement, after.as_deref(), before.as_deref())
        .map_err(bad_option(&path))?;
    let Some(text) = read_text(&path)? else {
        bail!("{path} does not exist");
    };
    let (new, count) = edit.apply(&text);
    if count > 0 {
        info!("{path}: {count} replacements");
    }
    write_changed(&path, Some(&text), &new)
}

/// Ensure a file contains each of these lines (Consfigurator's
/// `file:contains-lines`): the lines it lacks are appended, each once, in
/// order. A missing file is made, with its directory. Lines are compared
/// whole, without their line endings; each must be a single line.
#[property]
pub fn contains_lines(path: String, lines: Vec<String>) -> Result<Change> {
    edits::check_lines(&lines).map_err(bad_option(&path))?;
    let before = read_text(&path)?;
    let after = edits::contains_lines(before.as_deref().unwrap_or_default(), &lines);
    if before.is_none() && after.is_empty() {
        return Ok(Change::Unchanged);
    }
    write_changed(&path, before.as_deref(), &after)
}

/// Ensure a file has none of these lines (Consfigurator's
/// `file:lacks-lines`): every line equal to one of them is removed. A
/// missing file is unchanged.
#[property]
pub fn lacks_lines(path: String, lines: Vec<String>) -> Result<Change> {
    let Some(text) = read_text(&path)? else {
        return Ok(Change::Unchanged);
    };
    write_changed(&path, Some(&text), &edits::lacks_lines(&text, &lines))
}

/// Ensure a file has no line that any of these regular expressions matches
/// (Consfigurator's `file:lacks-lines-matching`): such lines are removed. A
/// missing file is unchanged.
#[property]
pub fn lacks_lines_matching(path: String, regexes: Vec<String>) -> Result<Change> {
    let compiled = edits::compile_all(&regexes).map_err(bad_option(&path))?;
    let Some(text) = read_text(&path)? else {
        return Ok(Change::Unchanged);
    };
    let after = edits::lacks_lines_matching(&text, &compiled);
    write_changed(&path, Some(&text), &after)
}

/// Like `s/REGEXP/REPLACEMENT/` on each line of a file (Consfigurator's
/// `file:regex-replaced-lines`): the first match in each line is replaced.
/// `replacement` is written as for `file:replaced` (`\1`, `\g<name>`,
/// `\g<0>` for the whole match, where Consfigurator writes `\&`). A
/// missing file is unchanged.
#[property]
pub fn regex_replaced_lines(path: String, regexp: String, replacement: String) -> Result<Change> {
    let edit = LineReplace::new(&regexp, &replacement).map_err(bad_option(&path))?;
    let Some(text) = read_text(&path)? else {
        return Ok(Change::Unchanged);
    };
    write_changed(&path, Some(&text), &edit.apply(&text))
}

#[cfg(test)]
#[path = "lines_tests.rs"]
mod tests;
