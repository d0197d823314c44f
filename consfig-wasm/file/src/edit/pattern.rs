//! Regular expressions and replacement templates written as Ansible's (and
//! so Python's `re`) are, run with the `regex` crate.
//!
//! Patterns: the syntax is the `regex` crate's, which is Python's for
//! everything but backreferences (`\1`, `(?P=name)`) and look-around
//! (`(?=`, `(?!`, `(?<=`, `(?<!`), which it refuses with an error naming the
//! option. Python's `\Z` (the very end) is accepted and means `\z`. `\w`,
//! `\d`, `\s`, `\b` and `(?i)` are Unicode-aware, as in Python; Unicode
//! classes (`\p{Greek}`) are refused, their tables being left out of the
//! module to keep it small.
//!
//! Replacements follow Python's `re.sub` templates: `\1` to `\99` and
//! `\g<1>` for numbered groups, `\g<name>` for named ones, `\g<0>` for the
//! whole match; `\n`, `\t`, `\r`, `\a`, `\b`, `\f`, `\v`, `\\` and octal
//! `\0`, `\012`; any other backslash before a non-letter stays as written
//! (`\&` is `\&`); an unknown letter escape is an error. A group that took
//! no part in the match is replaced by nothing. `$` is an ordinary
//! character.

use regex::{Captures, Regex};

use super::EditError;

/// Compile a pattern given as the option `option`.
pub fn compile(option: &'static str, pattern: &str) -> Result<Regex, EditError> {
    compile_with(option, pattern, "")
}

/// Compile a pattern with flags (`"m"`, `"s"`, `"R"`, ...) set before it.
pub fn compile_with(option: &'static str, pattern: &str, flags: &str) -> Result<Regex, EditError> {
    let translated = translate(pattern);
    let full = if flags.is_empty() {
        translated
    } else {
        format!("(?{flags}){translated}")
    };
    Regex::new(&full).map_err(|e| EditError::BadPattern {
        option,
        pattern: pattern.to_owned(),
        reason: reason(&e),
    })
}

/// The regex crate's message, with a hint for what Python has and it lacks.
fn reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let first = text
        .lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error:").trim().to_owned())
        .unwrap_or(text);
    if first.contains("look-around") || first.contains("backreferences") {
        format!("{first} (backreferences and look-around are not supported)")
    } else {
        first
    }
}

/// Python's `\Z` (absolute end) as the crate's `\z`; everything else as is.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('Z') => out.push_str("\\z"),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether the pattern turns on Python's MULTILINE globally, with `(?m)`
/// (among other flags) at its very start.
pub fn starts_multiline(pattern: &str) -> bool {
    let mut rest = pattern;
    while let Some(group) = rest.strip_prefix("(?") {
        let Some(end) = group.find(')') else {
            return false;
        };
        let flags = &group[..end];
        if flags.is_empty() || !flags.chars().all(|c| "aiLmsux".contains(c)) {
            return false;
        }
        if flags.contains('m') {
            return true;
        }
        rest = &group[end + 1..];
    }
    false
}

/// A parsed replacement template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Group(usize),
}

impl Template {
    /// Parse `template`, given as the option `option`, for matches of `regex`:
    /// a group it names must be one of the regex's.
    pub fn parse(option: &'static str, template: &str, regex: &Regex) -> Result<Self, EditError> {
        let bad = |reason: String| EditError::BadReplacement {
            option,
            template: template.to_owned(),
            reason,
        };
        let groups = regex.captures_len();
        let group = |number: usize| {
            if number < groups {
                Ok(Piece::Group(number))
            } else {
                Err(bad(format!(
                    "there is no group {number}: the regexp has {}",
                    groups - 1
                )))
            }
        };
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\\' {
                text.push(c);
                continue;
            }
            let Some(escape) = chars.next() else {
                return Err(bad("it ends with a lone backslash".into()));
            };
            let piece = match escape {
                'g' => {
                    if chars.next() != Some('<') {
                        return Err(bad("\\g must be followed by <name> or <number>".into()));
                    }
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('>') => break,
                            Some(c) => name.push(c),
                            None => return Err(bad("\\g<... lacks its closing >".into())),
                        }
                    }
                    if let Ok(number) = name.parse::<usize>() {
                        group(number)?
                    } else {
                        let index = regex
                            .capture_names()
                            .position(|n| n == Some(name.as_str()))
                            .ok_or_else(|| {
                                bad(format!("the regexp has no group named {name:?}"))
                            })?;
                        Piece::Group(index)
                    }
                }
                '0' => {
                    let mut value = 0u32;
                    for _ in 0..2 {
                        match chars.peek().and_then(|d| d.to_digit(8)) {
                            Some(d) => {
                                value = value * 8 + d;
                                chars.next();
                            }
                            None => break,
                        }
                    }
                    text.push(char::from_u32(value).unwrap_or('\0'));
                    continue;
                }
                '1'..='9' => {
                    let first = escape.to_digit(10).unwrap_or(0);
                    let second = chars.peek().and_then(|d| d.to_digit(10));
                    match second {
                        Some(second) => {
                            chars.next();
                            // Three octal digits are a character, as in Python.
                            let third = chars.peek().and_then(|d| d.to_digit(8));
                            match third {
                                Some(third) if first < 8 && second < 8 => {
                                    chars.next();
                                    let value = first * 64 + second * 8 + third;
                                    if value > 0o377 {
                                        return Err(bad(format!(
                                            "octal escape \\{first}{second}{third} is above \\377"
                                        )));
                                    }
                                    text.push(char::from_u32(value).unwrap_or('\0'));
                                    continue;
                                }
                                _ => group((first * 10 + second) as usize)?,
                            }
                        }
                        None => group(first as usize)?,
                    }
                }
                'a' => {
                    text.push('\x07');
                    continue;
                }
                'b' => {
                    text.push('\x08');
                    continue;
                }
                'f' => {
                    text.push('\x0c');
                    continue;
                }
                'n' => {
                    text.push('\n');
                    continue;
                }
                'r' => {
                    text.push('\r');
                    continue;
                }
                't' => {
                    text.push('\t');
                    continue;
                }
                'v' => {
                    text.push('\x0b');
                    continue;
                }
                '\\' => {
                    text.push('\\');
                    continue;
                }
                letter if letter.is_ascii_alphabetic() => {
                    return Err(bad(format!(
                        "\\{letter} is not an escape a replacement knows"
                    )));
                }
                other => {
                    text.push('\\');
                    text.push(other);
                    continue;
                }
            };
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(piece);
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template { pieces })
    }

    /// The replacement for one match.
    pub fn expand(&self, captures: &Captures) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Group(i) => out.push_str(captures.get(*i).map_or("", |m| m.as_str())),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(pattern: &str, template: &str, haystack: &str) -> Result<String, EditError> {
        let regex = compile("regexp", pattern)?;
        let template = Template::parse("replacement", template, &regex)?;
        Ok(template.expand(&regex.captures(haystack).unwrap()))
    }

    #[test]
    fn expands_python_backreferences() {
        let cases = [
            (r"^(\w+)=(\d+)$", r"\2=\1", "port=80", "80=port"),
            (r"^(\w+)=(\d+)$", r"\g<1>0", "port=80", "port0"),
            (
                r"^(?P<k>\w+)=(?P<v>\d+)$",
                r"\g<v> \g<k>",
                "port=80",
                "80 port",
            ),
            (r"^(\w+)", r"[\g<0>]", "word rest", "[word]"),
            (r"^(\w+)", r"$1 \\ \& \n\t", "a", "$1 \\ \\& \n\t"),
            (r"(a)|(b)", r"<\2>", "a", "<>"),
            (r"(x)", r"\101\0", "x", "A\0"),
            (
                r"(x)(y)(z)(a)(b)(c)(d)(e)(f)(g)(h)",
                r"\11",
                "xyzabcdefgh",
                "h",
            ),
        ];
        for (pattern, template, haystack, expected) in cases {
            assert_eq!(
                expand(pattern, template, haystack).as_deref(),
                Ok(expected),
                "{pattern} {template}"
            );
        }
    }

    #[test]
    fn refuses_what_python_refuses() {
        let err = |template: &str| {
            expand(r"(a)(?P<n>b)", template, "ab")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(r"\3"),
            r#"replacement: "\\3" is not a valid replacement: there is no group 3: the regexp has 2"#
        );
        assert!(err(r"\g<m>").ends_with("the regexp has no group named \"m\""));
        assert!(err(r"\d").ends_with("\\d is not an escape a replacement knows"));
        assert!(err("x\\").ends_with("it ends with a lone backslash"));
        assert!(err(r"\g1").contains("\\g must be followed by <name> or <number>"));
        assert!(err(r"\g<1").ends_with("\\g<... lacks its closing >"));
    }

    #[test]
    fn refuses_backreferences_in_patterns_naming_the_option() {
        let err = compile("regexp", r"^(REF) .* \1$").unwrap_err().to_string();
        assert!(
            err.starts_with(r#"regexp: "^(REF) .* \\1$" is not a regular expression"#),
            "{err}"
        );
        assert!(err.contains("backreferences"), "{err}");
        let err = compile("insert-after", "a(?=b)").unwrap_err().to_string();
        assert!(err.starts_with("insert-after: "), "{err}");
        assert!(err.contains("look-around"), "{err}");
    }

    #[test]
    fn unicode_classes_and_case_folding() {
        assert!(compile("regexp", r"^\w+\s\d$").unwrap().is_match("é ٣"));
        assert!(compile("regexp", "(?i)émile").unwrap().is_match("ÉMILE"));
        let err = compile("regexp", r"\p{Greek}").unwrap_err().to_string();
        assert!(
            err.starts_with(r#"regexp: "\\p{Greek}" is not a regular expression"#),
            "{err}"
        );
    }

    #[test]
    fn translates_python_end_of_text() {
        let end = compile("regexp", r"a\Z").unwrap();
        assert!(end.is_match("ba") && !end.is_match("a\n"));
        assert!(compile("regexp", r"\\Z").unwrap().is_match(r"\Z"));
    }

    #[test]
    fn finds_a_leading_multiline_flag() {
        assert!(starts_multiline("(?m)a"));
        assert!(starts_multiline("(?i)(?ms)a"));
        assert!(!starts_multiline("(?m:a)b"));
        assert!(!starts_multiline("a(?m)"));
        assert!(!starts_multiline("(?i)a"));
    }
}
