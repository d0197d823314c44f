//! `line-in-file` on text. The cases from Ansible's `lineinfile`
//! integration tests carry the expected file contents whose SHA-1 those
//! tests assert; each is also applied a second time, which must change
//! nothing.

use super::*;

fn opts<'a>() -> LineOptions<'a> {
    LineOptions::default()
}

/// Apply once, check the result, apply again: nothing changes.
#[track_caller]
fn edits(text: &str, options: &LineOptions, expected: &str) {
    let edit = LineInFile::new(options).unwrap();
    crate::edit::assert_edits_once(|t| edit.apply(t), text, expected);
}

fn error(options: &LineOptions) -> String {
    LineInFile::new(options).unwrap_err().to_string()
}

const TEST_TXT: &str = "This is line 1\nThis is line 2\nREF this is a line for backrefs REF\nThis is line 4\nThis is line 5\n";

#[test]
fn ansible_sequence_on_test_txt() {
    let text = &mut TEST_TXT.to_owned();
    let step = |text: &mut String, options: LineOptions, expected: &str| {
        edits(text, &options, expected);
        *text = expected.to_owned();
    };
    step(
        text,
        LineOptions {
            line: Some("New line at the beginning"),
            insert_before: Some("BOF"),
            ..opts()
        },
        "New line at the beginning\nThis is line 1\nThis is line 2\nREF this is a line for backrefs REF\nThis is line 4\nThis is line 5\n",
    );
    step(
        text,
        LineOptions {
            line: Some("New line at the end"),
            insert_after: Some("EOF"),
            ..opts()
        },
        "New line at the beginning\nThis is line 1\nThis is line 2\nREF this is a line for backrefs REF\nThis is line 4\nThis is line 5\nNew line at the end\n",
    );
    step(
        text,
        LineOptions {
            line: Some("New line after line 1"),
            insert_after: Some("^This is line 1$"),
            ..opts()
        },
        "New line at the beginning\nThis is line 1\nNew line after line 1\nThis is line 2\nREF this is a line for backrefs REF\nThis is line 4\nThis is line 5\nNew line at the end\n",
    );
    step(
        text,
        LineOptions {
            line: Some("New line before line 5"),
            insert_before: Some("^This is line 5$"),
            ..opts()
        },
        "New line at the beginning\nThis is line 1\nNew line after line 1\nThis is line 2\nREF this is a line for backrefs REF\nThis is line 4\nNew line before line 5\nThis is line 5\nNew line at the end\n",
    );
    // Ansible's pattern is `^(REF) .* \1$`: backreferences inside a
    // pattern are not supported, so the second REF is spelled out.
    step(
        text,
        LineOptions {
            line: Some("This is line 3"),
            regexp: Some("^(REF) .* REF$"),
            backrefs: true,
            ..opts()
        },
        "New line at the beginning\nThis is line 1\nNew line after line 1\nThis is line 2\nThis is line 3\nThis is line 4\nNew line before line 5\nThis is line 5\nNew line at the end\n",
    );
    step(
        text,
        LineOptions {
            regexp: Some("^This is line 3$"),
            state: State::Absent,
            ..opts()
        },
        "New line at the beginning\nThis is line 1\nNew line after line 1\nThis is line 2\nThis is line 4\nNew line before line 5\nThis is line 5\nNew line at the end\n",
    );
    step(
        text,
        LineOptions {
            regexp: Some("^This is line 5$"),
            state: State::Absent,
            ..opts()
        },
        "New line at the beginning\nThis is line 1\nNew line after line 1\nThis is line 2\nThis is line 4\nNew line before line 5\nNew line at the end\n",
    );
    // Ansible then inserts "This is a line\nwith \\n character", which this
    // property refuses (see `a_line_with_a_line_break_is_refused`); the
    // backrefs step runs on the file that insert made.
    text.push_str("This is a line\nwith \\n character\n");
    step(
        text,
        LineOptions {
            line: Some(r"New \1 created with the backref"),
            regexp: Some("^This is (line 4)$"),
            backrefs: true,
            ..opts()
        },
        "New line at the beginning\nThis is line 1\nNew line after line 1\nThis is line 2\nNew line 4 created with the backref\nNew line before line 5\nNew line at the end\nThis is a line\nwith \\n character\n",
    );
}

#[test]
fn a_line_with_a_line_break_is_refused() {
    assert_eq!(
        error(&LineOptions {
            line: Some("This is a line\nwith \\n character"),
            ..opts()
        }),
        "line \"This is a line\\nwith \\\\n character\" contains a line break: \
         give one line, or use file:block-in-file for several"
    );
}

#[test]
fn end_of_file_without_a_final_newline_and_empty_files() {
    let at_end = LineOptions {
        line: Some("New line at the end"),
        insert_after: Some("EOF"),
        ..opts()
    };
    edits(
        "This is line 1\nThis is line 2",
        &at_end,
        "This is line 1\nThis is line 2\nNew line at the end\n",
    );
    edits("", &at_end, "New line at the end\n");
    let top = LineOptions {
        line: Some("top"),
        insert_before: Some("^not in the file$"),
        ..opts()
    };
    edits("", &top, "top\n");
    // A new file made with create and BOF.
    edits(
        "",
        &LineOptions {
            line: Some("This is a new file"),
            insert_before: Some("BOF"),
            ..opts()
        },
        "This is a new file\n",
    );
}

#[test]
fn inserting_after_a_last_line_without_newline_keeps_both_lines() {
    // Ansible would write "ab\n" here.
    edits(
        "a",
        &LineOptions {
            line: Some("b"),
            insert_after: Some("^a$"),
            ..opts()
        },
        "a\nb\n",
    );
    // A replaced last line gets a newline, as in Ansible.
    edits(
        "a\nkey=1",
        &LineOptions {
            line: Some("key=2"),
            regexp: Some("^key="),
            ..opts()
        },
        "a\nkey=2\n",
    );
}

#[test]
fn quoting_lines_at_the_beginning() {
    let mut text = String::new();
    for line in ["'foo'", "dotenv.load();", "var dotenv = require('dotenv');"] {
        let edit = LineInFile::new(&LineOptions {
            line: Some(line),
            insert_before: Some("BOF"),
            ..opts()
        })
        .unwrap();
        let next = edit.apply(&text);
        assert_ne!(next, text, "{line} added");
        text = next;
    }
    assert_eq!(
        text,
        "var dotenv = require('dotenv');\ndotenv.load();\n'foo'\n"
    );
    let expected = format!("{text}import g'\n");
    edits(
        &text,
        &LineOptions {
            line: Some("import g'"),
            ..opts()
        },
        &expected,
    );
    edits(
        &expected,
        &LineOptions {
            line: Some("\"quote\" and \"unquote\""),
            ..opts()
        },
        &format!("{expected}\"quote\" and \"unquote\"\n"),
    );
}

const MULTIPLE: &str = "This is line 1\n\nThis is line 2\n\nThis is line 3\n\nThis is line 4\n";

#[test]
fn the_same_line_after_or_before_different_lines_is_added_once() {
    for (after, expected) in [
        (
            true,
            MULTIPLE.replace("This is line 1\n", "This is line 1\nbar\n"),
        ),
        (
            false,
            MULTIPLE.replace("This is line 1\n", "bar\nThis is line 1\n"),
        ),
    ] {
        let mut text = MULTIPLE.to_owned();
        for (i, regex) in ["1", "2", "3", "4"].into_iter().enumerate() {
            let options = LineOptions {
                line: Some("bar"),
                insert_after: after.then_some(regex),
                insert_before: (!after).then_some(regex),
                ..opts()
            };
            let next = LineInFile::new(&options).unwrap().apply(&text);
            assert_eq!(next != text, i == 0, "only the first adds it");
            text = next;
        }
        assert_eq!(text, expected);
    }
}

const CONF: &str = "[section_one]\n\n[section_two]\n\n[section_three]\n";
const OPTIONS: [(&str, &str); 3] = [
    ("option_one=", "option_one=1"),
    ("option_two=", "option_two=2"),
    ("option_three=", "option_three=3"),
];

/// Ansible's insert-after/insert-before with regexp (and with
/// search-string), run twice, then a third time with neither.
fn sections(after: bool, literal: bool, expected: &str) {
    let mut text = CONF.to_owned();
    for round in 0..3 {
        for (search, line) in OPTIONS {
            let options = LineOptions {
                line: Some(line),
                regexp: (!literal && round < 2).then_some(search),
                search_string: (literal && round < 2).then_some(search),
                insert_after: after.then_some("section_one"),
                insert_before: (!after).then_some("section_three"),
                ..opts()
            };
            let next = LineInFile::new(&options).unwrap().apply(&text);
            assert_eq!(next != text, round == 0, "round {round}: {line}");
            text = next;
        }
    }
    assert_eq!(text, expected);
}

#[test]
fn insert_after_and_before_with_regexp_or_search_string() {
    let after = "[section_one]\noption_three=3\noption_two=2\noption_one=1\n\n[section_two]\n\n[section_three]\n";
    let before = "[section_one]\n\n[section_two]\n\noption_one=1\noption_two=2\noption_three=3\n[section_three]\n";
    for literal in [false, true] {
        sections(true, literal, after);
        sections(false, literal, before);
    }
}

#[test]
fn an_empty_regexp_or_search_string_replaces_the_last_line() {
    let regexp = LineOptions {
        line: Some("This is line 6"),
        regexp: Some(""),
        ..opts()
    };
    assert!(LineInFile::new(&regexp).unwrap().matches_everything());
    edits(
        TEST_TXT,
        &regexp,
        &TEST_TXT.replace("This is line 5", "This is line 6"),
    );
    let string = LineOptions {
        line: Some("This is line 6"),
        search_string: Some(""),
        ..opts()
    };
    assert!(LineInFile::new(&string).unwrap().matches_everything());
    edits(
        TEST_STRING,
        &string,
        &TEST_STRING.replace("<FilesMatch \".py[45]?$\">", "This is line 6"),
    );
}

#[test]
fn firstmatch_inserts_after_the_first_anchor_once() {
    edits(
        "line1\nline1\nline1\nline2\nline3\n",
        &LineOptions {
            line: Some("INSERT"),
            insert_after: Some("line1"),
            firstmatch: true,
            ..opts()
        },
        "line1\nINSERT\nline1\nline1\nline2\nline3\n",
    );
    // Without firstmatch, after the last.
    edits(
        "line1\nline1\nline2\n",
        &LineOptions {
            line: Some("INSERT"),
            insert_after: Some("line1"),
            ..opts()
        },
        "line1\nline1\nINSERT\nline2\n",
    );
}

const SCRIPT: &str =
    "#!/bin/sh\n\ncase \"`uname`\" in\n  Darwin*) if [ -z \"$JAVA_HOME\" ] ; then\n";
const FISHEYE: &str = "export FISHEYE_OPTS=\"-Xmx4096m -Xms2048m\"";

#[test]
fn firstmatch_with_regexp_search_string_or_neither() {
    let after = SCRIPT.replace("#!/bin/sh\n", &format!("#!/bin/sh\n{FISHEYE}\n"));
    let before = format!("{FISHEYE}\n{SCRIPT}");
    let searches = [
        (Some("^export FISHEYE_OPTS"), None),
        (None, Some("export FISHEYE_OPTS")),
        (None, None),
    ];
    for (regexp, search_string) in searches {
        let base = LineOptions {
            line: Some(FISHEYE),
            regexp,
            search_string,
            firstmatch: true,
            ..opts()
        };
        edits(
            SCRIPT,
            &LineOptions {
                insert_after: Some("^#!/bin/sh"),
                ..base.clone()
            },
            &after,
        );
        edits(
            SCRIPT,
            &LineOptions {
                insert_before: Some("^#!/bin/sh"),
                ..base.clone()
            },
            &before,
        );
    }
    // The line is already there, far from the new anchor: unchanged.
    edits(
        &before,
        &LineOptions {
            line: Some(FISHEYE),
            insert_before: Some(r#"   Darwin\*\) if \[ -z "\$JAVA_HOME" \] ; then"#),
            firstmatch: true,
            ..opts()
        },
        &before,
    );
}

#[test]
fn a_regexp_without_match_inserts_after_an_anchor_at_the_end() {
    for literal in [false, true] {
        edits(
            "testline\n",
            &LineOptions {
                line: Some("line at the end"),
                insert_after: Some("testline"),
                regexp: (!literal).then_some("line at the end"),
                search_string: literal.then_some("line at the end"),
                ..opts()
            },
            "testline\nline at the end\n",
        );
    }
}

const TEST_STRING: &str = "This is line 1\nThis is line 2\n(\\\\w)(\\\\s+)([\\\\.,])\nThis is line 4\n<FilesMatch \".py[45]?$\">\n";

#[test]
fn search_string_is_literal() {
    let start = format!("New line at the beginning\n{TEST_STRING}");
    let replaced = start.replace("(\\\\w)(\\\\s+)([\\\\.,])", "Thi$ i^ [ine 3");
    edits(
        &start,
        &LineOptions {
            line: Some("Thi$ i^ [ine 3"),
            search_string: Some("(\\\\w)(\\\\s+)([\\\\.,])"),
            ..opts()
        },
        &replaced,
    );
    let removed = replaced.replace("Thi$ i^ [ine 3\n", "");
    edits(
        &replaced,
        &LineOptions {
            search_string: Some("Thi$ i^ [ine 3"),
            state: State::Absent,
            ..opts()
        },
        &removed,
    );
    edits(
        &removed,
        &LineOptions {
            search_string: Some("<FilesMatch \".py[45]?$\">"),
            state: State::Absent,
            ..opts()
        },
        &removed.replace("<FilesMatch \".py[45]?$\">\n", ""),
    );
}

#[test]
fn the_last_match_is_replaced_unless_firstmatch() {
    let text = "key=1\nother\nkey=2\n";
    let set = |firstmatch| LineOptions {
        line: Some("key=3"),
        regexp: Some("^key="),
        firstmatch,
        ..opts()
    };
    edits(text, &set(false), "key=1\nother\nkey=3\n");
    edits(text, &set(true), "key=3\nother\nkey=2\n");
}

#[test]
fn absent_removes_every_match() {
    let text = "a\n#a\na\nb\na";
    edits(
        text,
        &LineOptions {
            line: Some("a"),
            state: State::Absent,
            ..opts()
        },
        "#a\nb\n",
    );
    edits(
        text,
        &LineOptions {
            regexp: Some("a"),
            state: State::Absent,
            ..opts()
        },
        "b\n",
    );
    edits(
        "x\n",
        &LineOptions {
            line: Some("a"),
            state: State::Absent,
            ..opts()
        },
        "x\n",
    );
}

#[test]
fn backrefs_without_a_match_change_nothing() {
    let options = LineOptions {
        line: Some(r"\1=2"),
        regexp: Some("^(nothing)=1$"),
        backrefs: true,
        insert_before: Some("BOF"),
        ..opts()
    };
    edits(TEST_TXT, &options, TEST_TXT);
    edits("", &options, "");
    // Named groups, Python style.
    edits(
        "host=old\n",
        &LineOptions {
            line: r"\g<key>=new".into(),
            regexp: Some("^(?P<key>host)=.*$"),
            backrefs: true,
            ..opts()
        },
        "host=new\n",
    );
    // Without backrefs, `\1` is written as is.
    edits(
        "a\n",
        &LineOptions {
            line: Some(r"\1"),
            regexp: Some("^(b)$"),
            ..opts()
        },
        "a\n\\1\n",
    );
}

#[test]
fn crlf_files_keep_crlf() {
    let text = "a=1\r\nb=2\r\n";
    edits(
        text,
        &LineOptions {
            line: Some("b=3"),
            regexp: Some("^b=2$"),
            ..opts()
        },
        "a=1\r\nb=3\r\n",
    );
    edits(
        text,
        &LineOptions {
            line: Some("c=3"),
            ..opts()
        },
        "a=1\r\nb=2\r\nc=3\r\n",
    );
    edits(
        "a=1\r\nb=2",
        &LineOptions {
            line: Some("top"),
            insert_before: Some("BOF"),
            ..opts()
        },
        "top\r\na=1\r\nb=2",
    );
    edits(
        text,
        &LineOptions {
            line: Some("a=1"),
            state: State::Absent,
            ..opts()
        },
        "b=2\r\n",
    );
    // The line itself, present: unchanged.
    edits(
        text,
        &LineOptions {
            line: Some("a=1"),
            ..opts()
        },
        text,
    );
}

#[test]
fn options_that_contradict_are_refused() {
    let cases = [
        (
            LineOptions {
                line: Some("x"),
                insert_after: Some("a"),
                insert_before: Some("b"),
                ..opts()
            },
            "insert-after and insert-before cannot both be given",
        ),
        (
            LineOptions {
                line: Some("x"),
                regexp: Some("a"),
                search_string: Some("b"),
                ..opts()
            },
            "regexp and search-string cannot both be given",
        ),
        (
            LineOptions {
                line: Some("x"),
                search_string: Some("b"),
                backrefs: true,
                ..opts()
            },
            "backrefs and search-string cannot both be given",
        ),
        (
            LineOptions {
                line: Some("x"),
                backrefs: true,
                ..opts()
            },
            "regexp is required with backrefs",
        ),
        (
            LineOptions {
                regexp: Some("x"),
                ..opts()
            },
            "line is required when state is present",
        ),
        (
            LineOptions {
                state: State::Absent,
                ..opts()
            },
            "one of line, regexp and search-string is required when state is absent",
        ),
        (
            LineOptions {
                line: Some(r"\2"),
                regexp: Some("(a)"),
                backrefs: true,
                ..opts()
            },
            r#"line: "\\2" is not a valid replacement: there is no group 2: the regexp has 1"#,
        ),
    ];
    for (options, message) in cases {
        assert_eq!(error(&options), message);
    }
    assert!(
        error(&LineOptions {
            line: Some("x"),
            insert_after: Some("(unclosed"),
            ..opts()
        })
        .starts_with("insert-after: \"(unclosed\" is not a regular expression")
    );
}
