//! A file's text as lines that keep their own endings (`\n`, `\r\n`, or
//! none for a last line without one), and the newline the file uses.

/// One line: its text, without the ending, and the ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub ending: &'static str,
}

/// A file's lines, and the newline its new lines get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lines {
    pub lines: Vec<Line>,
    /// `"\r\n"` when the file's first line ends so, otherwise `"\n"`.
    pub newline: &'static str,
}

impl Line {
    /// A line the edit adds: it ends with the file's newline. A text that
    /// already ends with a line break keeps that one.
    pub fn new(text: impl Into<String>, newline: &'static str) -> Line {
        let text = text.into();
        if let Some(stripped) = text.strip_suffix("\r\n") {
            Line {
                text: stripped.to_owned(),
                ending: "\r\n",
            }
        } else if let Some(stripped) = text.strip_suffix('\n') {
            Line {
                text: stripped.to_owned(),
                ending: newline,
            }
        } else {
            Line {
                text,
                ending: newline,
            }
        }
    }

    /// The text without any trailing CR and LF, as Ansible compares lines.
    pub fn trimmed(&self) -> &str {
        self.text.trim_end_matches(['\r', '\n'])
    }

    pub fn is_blank(&self) -> bool {
        self.trimmed().is_empty()
    }
}

impl Lines {
    pub fn parse(text: &str) -> Lines {
        let mut lines = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let (line, ending, next) = match rest.find('\n') {
                Some(i) if rest[..i].ends_with('\r') => (&rest[..i - 1], "\r\n", &rest[i + 1..]),
                Some(i) => (&rest[..i], "\n", &rest[i + 1..]),
                None => (rest, "", ""),
            };
            lines.push(Line {
                text: line.to_owned(),
                ending,
            });
            rest = next;
        }
        let newline = match lines.first() {
            Some(line) if line.ending == "\r\n" => "\r\n",
            _ => "\n",
        };
        Lines { lines, newline }
    }

    /// A line of this file's newline.
    pub fn line(&self, text: impl Into<String>) -> Line {
        Line::new(text, self.newline)
    }

    /// The text again. A line that lost its place as the last one gets the
    /// file's newline, so that no two lines run together.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            out.push_str(&line.text);
            out.push_str(if line.ending.is_empty() && i < last {
                self.newline
            } else {
                line.ending
            });
        }
        out
    }

    /// End the last line with a newline, as a line added after it needs.
    pub fn terminate_last(&mut self) {
        let newline = self.newline;
        if let Some(last) = self.lines.last_mut()
            && last.ending.is_empty()
        {
            last.ending = newline;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_every_ending() {
        for text in [
            "",
            "a",
            "a\n",
            "a\nb",
            "a\r\nb\r\n",
            "a\r\nb\nc",
            "\n\n",
            "x\r",
        ] {
            assert_eq!(Lines::parse(text).render(), text, "{text:?}");
        }
        let lines = Lines::parse("a\r\nb\nc");
        let endings: Vec<_> = lines.lines.iter().map(|l| l.ending).collect();
        assert_eq!(endings, ["\r\n", "\n", ""]);
        assert_eq!(lines.newline, "\r\n");
        assert_eq!(Lines::parse("a\nb\r\n").newline, "\n");
        assert_eq!(Lines::parse("").lines, []);
    }

    #[test]
    fn a_line_that_is_no_longer_last_gets_the_newline() {
        let mut lines = Lines::parse("a\r\nb");
        let c = lines.line("c");
        lines.lines.push(c);
        assert_eq!(lines.render(), "a\r\nb\r\nc\r\n");
        let mut lines = Lines::parse("a");
        lines.terminate_last();
        assert_eq!(lines.render(), "a\n");
    }

    #[test]
    fn new_lines_keep_a_break_they_end_with() {
        assert_eq!(Line::new("x\r\n", "\n").ending, "\r\n");
        assert_eq!(Line::new("x\n", "\r\n"), Line::new("x", "\r\n"));
        assert_eq!(Line::new("x", "\n").text, "x");
    }
}
