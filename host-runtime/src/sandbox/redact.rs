//! Blanking a host's data out of bytes: the one rule every report, frame
//! and diagnostic is redacted by, in the runtime and again in the controller.
//!
//! Each value is blanked as given, without its trailing whitespace (a file
//! of data usually ends with a newline the text around the value keeps),
//! and replaced by `[data KEY]`. Values shorter than [`REDACT_MIN_LEN`]
//! bytes are not blanked. Matching is on bytes, so a value that is not
//! UTF-8, or that sits in binary contents, is found too. Where values
//! overlap, the one starting first wins, and the longer of two starting
//! together, so no part of a longer value is left beside a shorter one's
//! blank.
//!
//! Blanking keeps reports from showing a value; it cannot stop a module
//! granted the value from passing it on transformed (encoded, reversed).

use std::borrow::Cow;

use memchr::memmem::Finder;

use super::policy::HostData;

/// Values shorter than this are not blanked out of text: it would blank
/// ordinary words, and so short a value is no secret.
pub const REDACT_MIN_LEN: usize = 4;

/// What blanks one host's data; empty when the host has none.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Values to find, longest first, each with what replaces it.
    needles: Vec<(Finder<'static>, Vec<u8>)>,
    /// Each line of a value of several lines, for [`Redactor::holds_data`]:
    /// an edit may leave one without the others.
    lines: Vec<Finder<'static>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} values)", self.needles.len())
    }
}

impl Redactor {
    pub fn new(data: &HostData) -> Self {
        let values: Vec<(&str, &[u8])> = data
            .iter()
            .map(|(key, value)| (key, value.trim_ascii_end()))
            .filter(|(_, value)| value.len() >= REDACT_MIN_LEN)
            .collect();
        let mut needles: Vec<(Finder<'static>, Vec<u8>)> = values
            .iter()
            .map(|&(key, value)| {
                // A key that holds a value would show it in its own blank.
                let names_a_value = values
                    .iter()
                    .any(|(_, v)| Finder::new(v).find(key.as_bytes()).is_some());
                let blank = if names_a_value {
                    "[data]".to_owned()
                } else {
                    format!("[data {key}]")
                };
                (Finder::new(value).into_owned(), blank.into_bytes())
            })
            .collect();
        needles.sort_by_key(|(finder, _)| std::cmp::Reverse(finder.needle().len()));
        let lines = values
            .iter()
            .filter(|(_, value)| value.contains(&b'\n'))
            .flat_map(|(_, value)| value.split(|&b| b == b'\n'))
            .map(|line| line.trim_ascii())
            .filter(|line| line.len() >= REDACT_MIN_LEN)
            .map(|line| Finder::new(line).into_owned())
            .collect();
        Redactor { needles, lines }
    }

    /// Whether `bytes` hold a value, or a line of a value of several lines.
    pub fn holds_data(&self, bytes: &[u8]) -> bool {
        (self.needles.iter().map(|(finder, _)| finder))
            .chain(&self.lines)
            .any(|finder| finder.find(bytes).is_some())
    }

    /// Whether there is nothing to blank.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// Bytes of the longest value blanked (0 when none).
    pub fn longest(&self) -> usize {
        self.needles.first().map_or(0, |(f, _)| f.needle().len())
    }

    /// `bytes` with every value blanked.
    pub fn bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let (mut out, mut at, mut matched) = (Vec::new(), 0, false);
        self.each_match(bytes, |start, index| {
            matched = true;
            out.extend_from_slice(&bytes[at..start]);
            out.extend_from_slice(&self.needles[index].1);
            at = start + self.needles[index].0.needle().len();
            true
        });
        if !matched {
            return Cow::Borrowed(bytes);
        }
        out.extend_from_slice(&bytes[at..]);
        Cow::Owned(out)
    }

    /// Call `found` with the start and needle of each value to blank, in
    /// order, until it returns false: the earliest match, the longest value
    /// first among those starting there, then on after it.
    fn each_match(&self, bytes: &[u8], mut found: impl FnMut(usize, usize) -> bool) {
        let mut next: Vec<Option<usize>> = self
            .needles
            .iter()
            .map(|(finder, _)| finder.find(bytes))
            .collect();
        // The needles are sorted longest first, and `min` keeps the first
        // of equal starts.
        while let Some((start, index)) = next
            .iter()
            .enumerate()
            .filter_map(|(index, start)| start.map(|start| (start, index)))
            .min()
        {
            if !found(start, index) {
                return;
            }
            let at = start + self.needles[index].0.needle().len();
            for (slot, (finder, _)) in next.iter_mut().zip(&self.needles) {
                if slot.is_some_and(|start| start < at) {
                    *slot = finder.find(&bytes[at..]).map(|found| at + found);
                }
            }
        }
    }

    /// `text` with every value blanked. A value that is not whole
    /// characters leaves the broken characters around its blank as U+FFFD.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            Cow::Owned(bytes) => Cow::Owned(match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }),
        }
    }

    /// Blank every value in `text`, in place.
    pub fn string(&self, text: &mut String) {
        if let Cow::Owned(blanked) = self.text(text) {
            *text = blanked;
        }
    }

    /// Blank the end of `text` where it begins a value ([`REDACT_MIN_LEN`]
    /// bytes of it or more): what a cut left of a value it split. For text
    /// that was cut, after blanking it whole.
    pub fn split_tail(&self, text: &mut String) {
        let bytes = text.as_bytes();
        let split = (self.needles.iter())
            .filter_map(|(finder, blank)| {
                let value = finder.needle();
                let most = value.len().saturating_sub(1).min(bytes.len());
                (REDACT_MIN_LEN..=most)
                    .rev()
                    .find(|&len| bytes.ends_with(&value[..len]))
                    .map(|len| (len, blank))
            })
            .max_by_key(|&(len, _)| len);
        if let Some((len, blank)) = split {
            let mut kept = bytes[..bytes.len() - len].to_vec();
            kept.extend_from_slice(blank);
            *text = String::from_utf8_lossy(&kept).into_owned();
        }
    }

    /// For a stream: how much of `pending` can be blanked and let go now,
    /// leaving the rest for when more arrives. What is kept (fewer bytes
    /// than the longest value) could still be the start of a value; what
    /// is let go is blanked exactly as the whole stream would be.
    pub fn settled(&self, pending: &[u8]) -> usize {
        let cut = pending
            .len()
            .saturating_sub(self.longest().saturating_sub(1));
        // Every value starting before `cut` lies whole in `pending`: a
        // blank that runs across the cut is let go with it.
        let mut settled = cut;
        self.each_match(pending, |start, index| {
            let end = start + self.needles[index].0.needle().len();
            if start < cut && end > cut {
                settled = end;
            }
            start < cut
        });
        settled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(values: &[(&str, &[u8])]) -> Redactor {
        let mut data = HostData::default();
        for (key, value) in values {
            data.insert((*key).to_owned(), value.to_vec());
        }
        Redactor::new(&data)
    }

    #[test]
    fn a_value_is_blanked_without_its_trailing_line_break_which_stays() {
        let r = redactor(&[("db", b"hunter22\n")]);
        assert_eq!(r.text("line hunter22\nnext\n"), "line [data db]\nnext\n");
        assert_eq!(r.text("hunter22\r\n"), "[data db]\r\n");
        assert_eq!(r.text("hunter22"), "[data db]");
        assert_eq!(r.text("hunter2"), "hunter2");
        assert!(matches!(r.text("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn values_from_the_threshold_up_are_blanked_shorter_ones_are_not() {
        let at = "k".repeat(REDACT_MIN_LEN);
        let under = "q".repeat(REDACT_MIN_LEN - 1);
        let r = redactor(&[
            ("at", at.as_bytes()),
            ("under", format!("{under}\n").as_bytes()),
        ]);
        assert_eq!(
            r.text(&format!("{at} {under}")),
            format!("[data at] {under}")
        );
        // Trailing whitespace does not count towards the threshold.
        let r = redactor(&[("padded", format!("{under}  \n").as_bytes())]);
        assert!(r.is_empty());
    }

    #[test]
    fn values_are_found_in_bytes_that_are_not_text() {
        let r = redactor(&[("key", &[0xff, 0x00, b's', b'e', 0x80])]);
        assert_eq!(
            r.bytes(&[1, 0xff, 0x00, b's', b'e', 0x80, 2]).as_ref(),
            b"\x01[data key]\x02"
        );
        // Half a character of text: the broken rest shows as U+FFFD.
        let r = redactor(&[("half", "é-value".as_bytes()[1..].as_ref())]);
        assert_eq!(r.text("an é-value."), "an \u{fffd}[data half].");
    }

    #[test]
    fn the_longer_of_overlapping_values_wins_and_no_part_is_left() {
        let r = redactor(&[("short", b"hunter22"), ("long", b"hunter22-extra")]);
        assert_eq!(
            r.text("a hunter22-extra b hunter22 c"),
            "a [data long] b [data short] c"
        );
        let r = redactor(&[("a", b"abcdef"), ("b", b"defghi")]);
        assert_eq!(r.text("abcdefghi"), "[data a]ghi");
    }

    #[test]
    fn what_a_cut_left_of_a_value_is_blanked() {
        let r = redactor(&[("db", b"hunter22-secret"), ("pin", b"4711-0815")]);
        let mut cut = "password: hunter22-se".to_owned();
        r.split_tail(&mut cut);
        assert_eq!(cut, "password: [data db]");
        // The longest start wins; fewer bytes than the threshold stay.
        let mut cut = "pins 4711-08".to_owned();
        r.split_tail(&mut cut);
        assert_eq!(cut, "pins [data pin]");
        let mut short = "a hun".to_owned();
        r.split_tail(&mut short);
        assert_eq!(short, "a hun");
        // An end that is part of a value, but not its start, stays.
        let mut middle = "x 1-0815".to_owned();
        r.split_tail(&mut middle);
        assert_eq!(middle, "x 1-0815");
    }

    #[test]
    fn a_key_holding_a_value_does_not_show_it_in_the_blank() {
        let r = redactor(&[("hunter22", b"hunter22")]);
        assert_eq!(r.text("x hunter22"), "x [data]");
    }

    #[test]
    fn a_stream_lets_go_of_nothing_a_value_could_still_run_across() {
        let r = redactor(&[("db", b"hunter22"), ("pin", b"4711")]);
        let stream = b"one hunter22 two 4711 three hunter22";
        // Cut into chunks at every place: the blanked whole is the same.
        for size in 1..stream.len() {
            let (mut out, mut pending) = (Vec::new(), Vec::new());
            for chunk in stream.chunks(size) {
                pending.extend_from_slice(chunk);
                let cut = r.settled(&pending);
                out.extend_from_slice(&r.bytes(&pending[..cut]));
                pending.drain(..cut);
                assert!(pending.len() < r.longest(), "chunks of {size}");
            }
            out.extend_from_slice(&r.bytes(&pending));
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "one [data db] two [data pin] three [data db]",
                "chunks of {size}"
            );
        }
    }
}
