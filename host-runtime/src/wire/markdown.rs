//! Text from modules on its way into a Markdown document (`consfig describe
//! --markdown`): a module's docs and names are its own words, so they must
//! not be able to change the document around them — start a heading, a list,
//! a table, a code block or raw HTML, or close the table cell they are in.
//!
//! A doc keeps its paragraphs, its `- ` list items and its code spans (the
//! Markdown module docs use most); every other character Markdown could act
//! on is backslash-escaped, so the rest reads as the plain text it was.

use super::terminal::{escape, one_line};

/// Characters escaped wherever they are (outside code spans): emphasis,
/// links and images, raw HTML and entities, headings, table cells,
/// strikethrough, and the backslash itself.
fn always_escaped(c: char) -> bool {
    matches!(
        c,
        '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '#' | '|' | '~' | '!' | '`'
    )
}

/// A module's doc as Markdown blocks: paragraphs (blank lines between them
/// kept), lines starting with `- ` or `* ` as list items, code spans that
/// open and close on one line kept, everything else literal text. Control
/// characters are made visible first, as for a terminal.
pub fn doc(text: &str) -> String {
    let text = escape(text);
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.lines() {
        // Leading blanks are dropped: four would start a code block.
        let line = line.trim();
        if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            out.push_str("- ");
            out.push_str(&inline(item.trim_start()));
        } else {
            out.push_str(&inline(line));
        }
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// One line of text as inline Markdown that cannot start a block: code
/// spans closed on the line kept as they are, other Markdown characters
/// escaped, and what would start a block at the beginning of a line (a
/// list marker, an ordered list's number, a setext underline, a table's
/// delimiter row) escaped there.
fn inline(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len() + 8);
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c == '`' {
            let run = run_length(&chars, at);
            match closing_run(&chars, at + run, run) {
                Some(close) => {
                    out.extend(&chars[at..close + run]);
                    at = close + run;
                }
                None => {
                    // An unclosed run would be literal anyway; escaped, it
                    // cannot pair with one on a later line.
                    for _ in 0..run {
                        out.push_str("\\`");
                    }
                    at += run;
                }
            }
            continue;
        }
        let starts_block = at == 0 && matches!(c, '-' | '+' | '=' | ':');
        // `1. ` or `1) ` at the start of a line begins an ordered list.
        let ends_number =
            matches!(c, '.' | ')') && at > 0 && chars[..at].iter().all(char::is_ascii_digit);
        if always_escaped(c) || starts_block || ends_number {
            out.push('\\');
        }
        out.push(c);
        at += 1;
    }
    out
}

/// How many backticks start at `at`.
fn run_length(chars: &[char], at: usize) -> usize {
    chars[at..].iter().take_while(|&&c| c == '`').count()
}

/// Where a run of exactly `length` backticks starts, from `from` on: the
/// end of a code span that began with such a run.
fn closing_run(chars: &[char], mut from: usize, length: usize) -> Option<usize> {
    while from < chars.len() {
        if chars[from] == '`' {
            let run = run_length(chars, from);
            if run == length {
                return Some(from);
            }
            from += run;
        } else {
            from += 1;
        }
    }
    None
}

/// A name, type or value as one code span, on one line, fit for a table
/// cell too: a `|` would end the cell even inside a code span, so it is
/// escaped (tables read `\|` in a code span as `|`); the span's fence is
/// longer than any run of backticks in the text.
pub fn code(text: &str) -> String {
    let text = one_line(text).replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A span's first and last space are dropped when both are there: pad
    // when the text starts or ends with a backtick, which would join the fence.
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_and_paragraphs_are_kept() {
        assert_eq!(
            doc("Ensure a file has `content`.\n\nA new file gets mode 0644."),
            "Ensure a file has `content`.\n\nA new file gets mode 0644."
        );
        assert_eq!(doc("- one\n* two"), "- one\n- two");
    }

    #[test]
    fn a_doc_cannot_start_a_block() {
        let cases = [
            ("# Title", "\\# Title"),
            ("    indented code", "indented code"),
            ("```\nfenced", "\\`\\`\\`\nfenced"),
            ("~~~", "\\~\\~\\~"),
            ("> quote", "\\> quote"),
            ("+ item", "\\+ item"),
            ("1. first", "1\\. first"),
            ("12) first", "12\\) first"),
            ("text\n===", "text\n\\===\n"),
            ("text\n---", "text\n\\---"),
            ("a | b\n--|--", "a \\| b\n\\--\\|--"),
            (":-:|", "\\:-:\\|"),
            ("<script>x</script>", "\\<script\\>x\\</script\\>"),
            ("[a]: http://evil", "\\[a\\]: http://evil"),
            ("&lt; *b* _i_ \\", "\\&lt; \\*b\\* \\_i\\_ \\\\"),
            ("- # item", "- \\# item"),
            ("- - item", "- \\- item"),
        ];
        for (text, expected) in cases {
            assert_eq!(doc(text), expected.trim_end(), "doc of {text:?}");
        }
    }

    #[test]
    fn code_spans_do_not_cross_lines() {
        assert_eq!(doc("a `b\nc` d"), "a \\`b\nc\\` d");
        assert_eq!(doc("``a`b`` `c"), "``a`b`` \\`c");
    }

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(doc("red\x1b[31m"), "red\\\\x1b\\[31m");
    }

    #[test]
    fn code_cannot_leave_its_span_or_cell() {
        assert_eq!(code("Vec<String>"), "`Vec<String>`");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("two\nlines"), "`two\\nlines`");
        assert_eq!(code(""), "`  `");
    }
}
