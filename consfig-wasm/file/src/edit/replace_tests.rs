//! `replaced` on text, with the cases of Ansible's `replace` integration
//! tests.

use super::*;

const PANGRAMS: &str = "The quick brown fox jumps over the lazy dog.\n\
We promptly judged antique ivory buckles for the next prize.\n\
Jinxed wizards pluck ivy from the big quilt.\n\
Jaded zombies acted quaintly but kept driving their oxen forward.";

fn replace(
    text: &str,
    regexp: &str,
    with: &str,
    after: Option<&str>,
    before: Option<&str>,
) -> (String, usize) {
    Replace::new(regexp, with, after, before)
        .unwrap()
        .apply(text)
}

/// Replace, check, and replace again: nothing changes the second time.
#[track_caller]
fn settles(
    text: &str,
    regexp: &str,
    with: &str,
    after: Option<&str>,
    before: Option<&str>,
) -> String {
    let (once, count) = replace(text, regexp, with, after, before);
    assert!(count > 0, "something was replaced");
    assert_eq!(
        replace(&once, regexp, with, after, before),
        (once.clone(), 0)
    );
    once
}

#[test]
fn before_after_and_both() {
    let out = settles(PANGRAMS, " ", "", None, Some("quilt"));
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines[0], "Thequickbrownfoxjumpsoverthelazydog.");
    assert_eq!(lines[2], "Jinxedwizardspluckivyfromthebigquilt.");
    assert_eq!(
        lines[3],
        "Jaded zombies acted quaintly but kept driving their oxen forward."
    );

    let out = settles(PANGRAMS, " ", "", Some("promptly"), None);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines[0], "The quick brown fox jumps over the lazy dog.");
    assert_eq!(
        lines[1],
        "We promptlyjudgedantiqueivorybucklesforthenextprize."
    );
    assert_eq!(
        lines[3],
        "Jadedzombiesactedquaintlybutkeptdrivingtheiroxenforward."
    );

    // after "quilt" and before "promptly": nothing lies between.
    assert_eq!(
        replace(PANGRAMS, "e", "3", Some("quilt"), Some("promptly")),
        (PANGRAMS.to_owned(), 0)
    );
    let out = settles(PANGRAMS, "e", "3", Some("promptly"), Some("quilt"));
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(
        lines[1],
        "We promptly judg3d antiqu3 ivory buckl3s for th3 n3xt priz3."
    );
    assert_eq!(lines[2], "Jinx3d wizards pluck ivy from th3 big quilt.");
    assert_eq!(lines[3], PANGRAMS.lines().nth(3).unwrap());
}

#[test]
fn anchors_are_multiline_and_dot_stops_at_newlines() {
    // Patterns that match their own output are not idempotent, in Ansible
    // either: these run once.
    let (whole, count) = replace(PANGRAMS, r"^([\S\s]+)$", r#""\1""#, None, None);
    assert_eq!(count, 1);
    assert!(whole.starts_with("\"The quick brown fox jumps over the lazy dog.\n"));
    assert!(
        whole.ends_with("\nJaded zombies acted quaintly but kept driving their oxen forward.\"")
    );
    let (lines, count) = replace(&whole, "^(.+)$", r#""\1""#, None, None);
    assert_eq!(count, 4);
    assert_eq!(
        lines.lines().next(),
        Some(r#"""The quick brown fox jumps over the lazy dog.""#)
    );
    assert_eq!(
        lines.lines().last(),
        Some(r#""Jaded zombies acted quaintly but kept driving their oxen forward."""#)
    );
    let (bounded, _) = replace(PANGRAMS, r"\b(.+)\b", r#""\1""#, None, None);
    assert_eq!(
        bounded.lines().next(),
        Some(r#""The quick brown fox jumps over the lazy dog"."#)
    );
    // A literal backslash-b matches nothing.
    assert_eq!(
        replace(&bounded, r"\\b(.+)\\b", r#""\1""#, None, None),
        (bounded.clone(), 0)
    );
}

#[test]
fn after_and_before_take_the_first_section() {
    let group = "# start of group\n0.0.0.0\n127.0.0.1\n127.0.1.1\n# end of group\n";
    let text = format!("{group}{group}{group}");
    let out = settles(
        &text,
        "0",
        "9",
        Some("# start of group"),
        Some("# end of group"),
    );
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines[1], "9.9.9.9");
    assert_eq!(lines[2], "127.9.9.1");
    assert_eq!(lines[6], "0.0.0.0");
    assert_eq!(lines[11], "0.0.0.0");
}

#[test]
fn bad_escapes_and_patterns_are_errors() {
    let err = Replace::new(r"\.", r"\D", Some("^"), Some("$")).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"replacement: "\\D" is not a valid replacement: \D is not an escape a replacement knows"#
    );
    let err = Replace::new("(", "", None, None).unwrap_err().to_string();
    assert!(
        err.starts_with("regexp: \"(\" is not a regular expression"),
        "{err}"
    );
    let err = Replace::new("a", "", Some("("), None)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("after: \"(\""), "{err}");
    let err = Replace::new("a", "", None, Some("["))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("before: \"[\""), "{err}");
}

#[test]
fn python_backreferences_and_named_groups() {
    let hosts = "127.0.0.1 localhost\n10.0.0.1 old.host.name alias\n";
    let out = settles(
        hosts,
        r"(\s+)old\.host\.name(\s+.*)?$",
        r"\1new.host.name\2",
        None,
        None,
    );
    assert_eq!(out, "127.0.0.1 localhost\n10.0.0.1 new.host.name alias\n");
    let sshd = "ListenAddress 10.0.0.1\nPort 22\n";
    let (out, count) = replace(
        sshd,
        r"^(?P<dctv>ListenAddress[ ]+)(?P<host>[^\n]+)$",
        r"#\g<dctv>\g<host>\n\g<dctv>0.0.0.0",
        None,
        None,
    );
    assert_eq!(count, 1);
    assert_eq!(
        out,
        "#ListenAddress 10.0.0.1\nListenAddress 0.0.0.0\nPort 22\n"
    );
}

#[test]
fn crlf_files_match_at_line_ends_and_keep_crlf() {
    let text = "a=1\r\nb=2\r\n";
    assert_eq!(settles(text, "^b=.*$", "b=3", None, None), "a=1\r\nb=3\r\n");
    assert_eq!(settles(text, "1$", "one", None, None), "a=one\r\nb=2\r\n");
}

#[test]
fn empty_files_and_no_match_change_nothing() {
    assert_eq!(replace("", "^x$", "y", None, None), (String::new(), 0));
    assert_eq!(
        replace("a\n", "^x$", "y", None, None),
        ("a\n".to_owned(), 0)
    );
    // A match replaced by itself changes nothing.
    assert_eq!(
        replace("a\n", "a", r"\g<0>", None, None),
        ("a\n".to_owned(), 0)
    );
    // Without a final newline, the last line is still a line.
    assert_eq!(settles("a\nb", "^b$", "c", None, None), "a\nc");
}
