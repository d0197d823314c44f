//! Consfigurator's line properties, on text: `file:contains-lines`,
//! `file:lacks-lines`, `file:lacks-lines-matching` and
//! `file:regex-replaced-lines`. Lines are compared and matched without
//! their line endings; lines an edit does not touch keep theirs.

use regex::Regex;

use super::pattern::{self, Template};
use super::{EditError, Lines, one_line};

/// Refuse lines that could never be found again as one line of a file.
pub fn check_lines(lines: &[String]) -> Result<(), EditError> {
    for line in lines {
        one_line("line", line, "give each line as its own string")?;
    }
    Ok(())
}

/// The text with each of `lines` it lacks appended, once, in order.
pub fn contains_lines(text: &str, lines: &[String]) -> String {
    let mut file = Lines::parse(text);
    let mut missing: Vec<&String> = Vec::new();
    for line in lines {
        if !file.lines.iter().any(|l| &l.text == line) && !missing.contains(&line) {
            missing.push(line);
        }
    }
    if missing.is_empty() {
        return text.to_owned();
    }
    file.terminate_last();
    for line in missing {
        let new = file.line(line.as_str());
        file.lines.push(new);
    }
    file.render()
}

/// The text without any line equal to one of `lines`.
pub fn lacks_lines(text: &str, lines: &[String]) -> String {
    remove_lines(text, |line| lines.iter().any(|l| l == line))
}

/// Compile the patterns of `lacks-lines-matching`.
pub fn compile_all(patterns: &[String]) -> Result<Vec<Regex>, EditError> {
    patterns
        .iter()
        .map(|p| pattern::compile("regexes", p))
        .collect()
}

/// The text without any line that one of `regexes` matches.
pub fn lacks_lines_matching(text: &str, regexes: &[Regex]) -> String {
    remove_lines(text, |line| regexes.iter().any(|r| r.is_match(line)))
}

fn remove_lines(text: &str, unwanted: impl Fn(&str) -> bool) -> String {
    let mut file = Lines::parse(text);
    let before = file.lines.len();
    file.lines.retain(|l| !unwanted(&l.text));
    if file.lines.len() == before {
        return text.to_owned();
    }
    file.render()
}

/// A checked `regex-replaced-lines`: like `s/REGEXP/REPLACEMENT/` on each
/// line, the first match of each line replaced.
#[derive(Debug, Clone)]
pub struct LineReplace {
    regex: Regex,
    template: Template,
}

impl LineReplace {
    pub fn new(regexp: &str, replacement: &str) -> Result<Self, EditError> {
        let regex = pattern::compile("regexp", regexp)?;
        let template = Template::parse("replacement", replacement, &regex)?;
        Ok(LineReplace { regex, template })
    }

    pub fn apply(&self, text: &str) -> String {
        let mut file = Lines::parse(text);
        let mut changed = false;
        for line in &mut file.lines {
            let Some(captures) = self.regex.captures(&line.text) else {
                continue;
            };
            let Some(whole) = captures.get(0) else {
                continue;
            };
            let new = format!(
                "{}{}{}",
                &line.text[..whole.start()],
                self.template.expand(&captures),
                &line.text[whole.end()..]
            );
            if new != line.text {
                line.text = new;
                changed = true;
            }
        }
        if !changed {
            return text.to_owned();
        }
        file.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn contains_lines_appends_each_missing_line_once() {
        let want = strings(&["b", "c", "c", "d"]);
        for (text, expected) in [
            ("a\nb\n", "a\nb\nc\nd\n"),
            ("a\nb", "a\nb\nc\nd\n"),
            ("", "b\nc\nd\n"),
            ("x\r\nb\r\n", "x\r\nb\r\nc\r\nd\r\n"),
        ] {
            let once = contains_lines(text, &want);
            assert_eq!(once, expected, "{text:?}");
            assert_eq!(contains_lines(&once, &want), once);
        }
        // Everything there, even without a final newline: unchanged.
        assert_eq!(contains_lines("b\nc\nd", &want), "b\nc\nd");
        assert_eq!(contains_lines("a\n", &[]), "a\n");
    }

    #[test]
    fn line_breaks_in_lines_are_refused() {
        let err = check_lines(&strings(&["ok", "a\nb"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line \"a\\nb\" contains a line break: give each line as its own string"
        );
    }

    #[test]
    fn lacks_lines_removes_every_equal_line() {
        let unwanted = strings(&["b", "d"]);
        for (text, expected) in [
            ("a\nb\nc\nb\n", "a\nc\n"),
            ("a\nb", "a\n"),
            ("b\r\na\r\n", "a\r\n"),
            ("", ""),
            ("a\n b\n", "a\n b\n"),
        ] {
            let once = lacks_lines(text, &unwanted);
            assert_eq!(once, expected, "{text:?}");
            assert_eq!(lacks_lines(&once, &unwanted), once);
        }
    }

    #[test]
    fn lacks_lines_matching_removes_lines_any_regex_matches() {
        let regexes = compile_all(&strings(&["^#", r"^none\b"])).unwrap();
        let text = "# UNCONFIGURED FSTAB\n/dev/sda1 / ext4\ntmpfs /tmp tmpfs\nnone /tmp x\r\n";
        let once = lacks_lines_matching(text, &regexes);
        assert_eq!(once, "/dev/sda1 / ext4\ntmpfs /tmp tmpfs\n");
        assert_eq!(lacks_lines_matching(&once, &regexes), once);
        assert_eq!(lacks_lines_matching("", &regexes), "");
        let err = compile_all(&strings(&["ok", "("])).unwrap_err().to_string();
        assert!(
            err.starts_with("regexes: \"(\" is not a regular expression"),
            "{err}"
        );
    }

    #[test]
    fn regex_replaced_lines_replaces_the_first_match_of_each_line() {
        let edit = LineReplace::new("o", "0").unwrap();
        assert_eq!(edit.apply("foo\nbar\nboo"), "f0o\nbar\nb0o");
        let edit = LineReplace::new("^#(REMOVE_HOME) = 0$", r"\1 = 1").unwrap();
        let text = "# comment\r\n#REMOVE_HOME = 0\r\n";
        let once = edit.apply(text);
        assert_eq!(once, "# comment\r\nREMOVE_HOME = 1\r\n");
        assert_eq!(edit.apply(&once), once);
        assert_eq!(edit.apply(""), "");
        // A match replaced by itself changes nothing.
        let same = LineReplace::new("a", r"\g<0>").unwrap();
        assert_eq!(same.apply("a"), "a");
        let err = LineReplace::new("a", r"\1").unwrap_err().to_string();
        assert!(err.contains("there is no group 1"), "{err}");
    }
}
