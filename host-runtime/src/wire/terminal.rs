//! Text from modules and runtimes on its way to people: the characters a
//! terminal would act on instead of printing — escape sequences that move
//! the cursor, erase lines or set the title, carriage returns, bidirectional
//! overrides — made visible (`\x1b`, `\r`, `\u{9b}`), in lines of text and
//! in the strings of JSON lines alike.
//!
//! Whatever a module prints, logs or fails with, and whatever a runtime
//! sends, goes through here before reaching a terminal: otherwise a module
//! could redraw its failed line as "unchanged", or a host's report pass for
//! another's.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

use serde::Serialize;

/// Whether a terminal would act on `c` rather than print it: the C0
/// controls but newline and tab, DEL, the C1 controls (U+0080–U+009F, which
/// include a one-character CSI), and the formatting characters that reorder
/// the text after them.
fn acts(c: char) -> bool {
    matches!(c,
        '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f'..='\u{9f}'
        | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character that `escaped` says to escape written as
/// `\r`, `\n`, `\xHH` (below 0x80) or `\u{HH}`; borrowed when there is none.
fn escape_where(text: &str, escaped: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            _ if !escaped(c) => out.push(c),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\0'..='\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            _ => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// Text for a terminal: line breaks and tabs kept, every other control
/// character made visible.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_where(text, acts)
}

/// Text that must stay on one line (a path, a context, a command), for a
/// terminal: line breaks made visible too, so it cannot start a line that
/// passes for another.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c == '\n' || acts(c))
}

/// How JSON lines write strings: as `serde_json` does (which escapes the
/// C0 controls), and DEL, the C1 controls and the reordering characters as
/// `\uXXXX` too. The same values, read back.
struct EscapingFormatter;

impl serde_json::ser::Formatter for EscapingFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if acts(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                // All of them are in the Basic Multilingual Plane: one \u each.
                write!(writer, "\\u{:04x}", c as u32)?;
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// `value` as one line of JSON in which no string holds a character a
/// terminal would act on.
pub fn json_line(value: &impl Serialize) -> String {
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, EscapingFormatter);
    match value.serialize(&mut serializer) {
        // The formatter writes only ASCII escapes and whole UTF-8 fragments.
        Ok(()) => String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(e) => format!("{{\"event\":\"error\",\"error\":{:?}}}", e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_and_line_breaks_stay() {
        let redraw = "failed\x1b[1A\x1b[2K\rok ... unchanged\u{9b}2K\u{7f}\u{202e}x\ty\nz";
        assert_eq!(
            escape(redraw),
            "failed\\x1b[1A\\x1b[2K\\rok ... unchanged\\u{9b}2K\\x7f\\u{202e}x\ty\nz"
        );
        assert_eq!(one_line("a\nb\tc\x07"), "a\\nb\tc\\x07");
        assert!(matches!(escape("plain text, é, 🦀\n"), Cow::Borrowed(_)));
        let escaped = escape(redraw);
        assert!(!escaped.chars().any(acts), "{escaped}");
    }

    #[test]
    fn json_lines_carry_the_same_strings_and_no_raw_controls() {
        let value = serde_json::json!({
            "out\u{9b}": ["\x1b[2J", "\u{9b}31m", "\u{7f}", "\u{202e}evil", "é 🦀 \n"]
        });
        let line = json_line(&value);
        assert!(!line.chars().any(|c| acts(c) || c.is_control()), "{line}");
        assert!(line.contains(r#""out\u009b""#), "{line}");
        assert!(line.contains(r#""\u001b[2J""#), "{line}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, value);
    }
}
