//! `block-in-file` on text. The cases from Ansible's `blockinfile`
//! integration tests carry the expected file contents whose SHA-1 those
//! tests assert; each is applied a second time, which must change nothing.

use super::*;

const B: &str = "# BEGIN ANSIBLE MANAGED BLOCK\n";
const E: &str = "# END ANSIBLE MANAGED BLOCK\n";
const LINES: &str = "line1\nline2\nline3\n";

fn opts<'a>() -> BlockOptions<'a> {
    BlockOptions::default()
}

#[track_caller]
fn edits(text: &str, options: &BlockOptions, expected: &str) {
    let edit = BlockInFile::new(options).unwrap();
    crate::edit::assert_edits_once(|t| edit.apply(t), text, expected);
}

#[test]
fn insert_after_and_before_the_last_match() {
    let block = "block1\nblock2\n";
    edits(
        LINES,
        &BlockOptions {
            block,
            insert_after: Some("line2"),
            ..opts()
        },
        &format!("line1\nline2\n{B}block1\nblock2\n{E}line3\n"),
    );
    edits(
        LINES,
        &BlockOptions {
            block,
            insert_before: Some("line2"),
            ..opts()
        },
        &format!("line1\n{B}block1\nblock2\n{E}line2\nline3\n"),
    );
    // An anchor that matches nothing: at the end, both ways.
    for (after, before) in [(Some("nothing"), None), (None, Some("nothing"))] {
        edits(
            LINES,
            &BlockOptions {
                block: "x",
                insert_after: after,
                insert_before: before,
                ..opts()
            },
            &format!("{LINES}{B}x\n{E}"),
        );
    }
    edits(
        LINES,
        &BlockOptions {
            block: "x",
            insert_before: Some("BOF"),
            ..opts()
        },
        &format!("{B}x\n{E}{LINES}"),
    );
}

#[test]
fn append_newline_as_ansible_does() {
    let step1 = format!("line1\n{B}line1.5\n{E}\nline2\nline3\n");
    edits(
        LINES,
        &BlockOptions {
            block: "line1.5\n",
            insert_after: Some("line1"),
            append_newline: true,
            ..opts()
        },
        &step1,
    );
    let unwrapped = BlockOptions {
        block: "line2.5\n",
        marker: "#{mark} UNWRAPPED TEXT",
        insert_after: Some("line2"),
        ..opts()
    };
    let step2 = step1.replace(
        "line2\n",
        "line2\n#BEGIN UNWRAPPED TEXT\nline2.5\n#END UNWRAPPED TEXT\n",
    );
    edits(&step1, &unwrapped, &step2);
    let step3 = step2.replace("#END UNWRAPPED TEXT\n", "#END UNWRAPPED TEXT\n\n");
    edits(
        &step2,
        &BlockOptions {
            append_newline: true,
            ..unwrapped.clone()
        },
        &step3,
    );
    // At the end of the file, no blank line is appended.
    let step4 = format!("{step3}#BEGIN END OF FILE TEXT\nline3.5\n#END END OF FILE TEXT\n");
    edits(
        &step3,
        &BlockOptions {
            block: "line3.5\n",
            marker: "#{mark} END OF FILE TEXT",
            insert_after: Some("line3"),
            append_newline: true,
            ..opts()
        },
        &step4,
    );
    // Removing keeps the blank line, and adds none.
    edits(
        &step4,
        &BlockOptions {
            state: State::Absent,
            append_newline: true,
            ..unwrapped
        },
        &format!(
            "line1\n{B}line1.5\n{E}\nline2\n\nline3\n#BEGIN END OF FILE TEXT\nline3.5\n#END END OF FILE TEXT\n"
        ),
    );
}

#[test]
fn prepend_newline_as_ansible_does() {
    // At the beginning of the file, no blank line is prepended.
    let step1 = format!("{B}line0.5\n{E}{LINES}");
    edits(
        LINES,
        &BlockOptions {
            block: "line0.5\n",
            insert_before: Some("line1"),
            prepend_newline: true,
            ..opts()
        },
        &step1,
    );
    let step2 = step1.replace(
        "line1\n",
        "line1\n\n#BEGIN WRAPPED TEXT\nline1.5\n#END WRAPPED TEXT\n",
    );
    edits(
        &step1,
        &BlockOptions {
            block: "line1.5\n",
            marker: "#{mark} WRAPPED TEXT",
            insert_after: Some("line1"),
            prepend_newline: true,
            ..opts()
        },
        &step2,
    );
    let unwrapped = BlockOptions {
        block: "line3.5\n",
        marker: "#{mark} UNWRAPPED TEXT",
        insert_after: Some("line3"),
        ..opts()
    };
    let step3 = format!("{step2}#BEGIN UNWRAPPED TEXT\nline3.5\n#END UNWRAPPED TEXT\n");
    edits(&step2, &unwrapped, &step3);
    let step4 = format!("{step2}\n#BEGIN UNWRAPPED TEXT\nline3.5\n#END UNWRAPPED TEXT\n");
    edits(
        &step3,
        &BlockOptions {
            prepend_newline: true,
            ..unwrapped.clone()
        },
        &step4,
    );
    edits(
        &step4,
        &BlockOptions {
            state: State::Absent,
            prepend_newline: true,
            ..unwrapped
        },
        &format!("{step2}\n"),
    );
}

#[test]
fn a_block_without_final_newline_and_a_file_without_one() {
    edits(
        "",
        &BlockOptions {
            block: "one\ntwo\nthree",
            ..opts()
        },
        &format!("{B}one\ntwo\nthree\n{E}"),
    );
    edits(
        "# File with no newline",
        &BlockOptions {
            block: "one\ntwo\nthree\n",
            ..opts()
        },
        &format!("# File with no newline\n{B}one\ntwo\nthree\n{E}"),
    );
}

#[test]
fn removing_the_only_block_leaves_an_empty_file() {
    let options = BlockOptions {
        block: "Hey\nthere\n",
        ..opts()
    };
    let made = BlockInFile::new(&options).unwrap().apply("");
    assert_eq!(made, format!("{B}Hey\nthere\n{E}"));
    let absent = BlockOptions {
        state: State::Absent,
        ..options
    };
    assert!(BlockInFile::new(&absent).unwrap().removes());
    edits(&made, &absent, "");
    // An empty block removes too.
    edits(&made, &opts(), "");
    // Nothing to remove, in a file without a final newline: unchanged.
    edits("a", &absent, "a");
}

#[test]
fn an_existing_block_is_replaced_where_it_is() {
    let text = format!("a\n{B}old\n{E}b\n");
    edits(
        &text,
        &BlockOptions {
            block: "new1\nnew2",
            insert_before: Some("BOF"),
            ..opts()
        },
        &format!("a\n{B}new1\nnew2\n{E}b\n"),
    );
    // Markers in the wrong order still delimit the block.
    edits(
        &format!("a\n{E}old\n{B}b\n"),
        &BlockOptions {
            block: "new",
            ..opts()
        },
        &format!("a\n{B}new\n{E}b\n"),
    );
    // The marker is recognised without its line ending (a last line).
    edits(
        &format!("{B}old\n# END ANSIBLE MANAGED BLOCK"),
        &BlockOptions {
            block: "new",
            ..opts()
        },
        &format!("{B}new\n{E}"),
    );
}

#[test]
fn custom_markers() {
    edits(
        "x\n",
        &BlockOptions {
            block: "y",
            marker: "// {mark} managed",
            marker_begin: "start",
            marker_end: "stop",
            ..opts()
        },
        "x\n// start managed\ny\n// stop managed\n",
    );
    let same = BlockInFile::new(&BlockOptions {
        block: "y",
        marker: "# managed",
        ..opts()
    })
    .unwrap_err();
    assert!(
        same.to_string()
            .contains("begin and end lines are the same"),
        "{same}"
    );
    let err = BlockInFile::new(&BlockOptions {
        marker: "# {mark}\nmore",
        ..opts()
    })
    .unwrap_err();
    assert!(err.to_string().contains("contains a line break"), "{err}");
}

#[test]
fn line_endings_are_preserved() {
    // Ansible's case: CRLF lines in an LF file, and a CRLF block.
    let text = "unix\nunix\nunix\n\ndos\r\ndos\r\ndos\r\n\nunix\nunix\n# BEGIN ANSIBLE MANAGED BLOCK\ndos\r\n# END ANSIBLE MANAGED BLOCK\nunix\nunix\nunix\nunix\n";
    let options = BlockOptions {
        block: "dos\r\ndos\r\ndos\r\n",
        ..opts()
    };
    let once = BlockInFile::new(&options).unwrap().apply(text);
    assert_eq!(
        once,
        "unix\nunix\nunix\n\ndos\r\ndos\r\ndos\r\n\nunix\nunix\n# BEGIN ANSIBLE MANAGED BLOCK\ndos\r\ndos\r\ndos\r\n# END ANSIBLE MANAGED BLOCK\nunix\nunix\nunix\nunix\n"
    );
    assert_eq!(once.split('\n').filter(|l| *l == "dos\r").count(), 6);
    edits(text, &options, &once);
    // A CRLF file gets CRLF on the markers and on the block's LF lines.
    edits(
        "a\r\nb\r\n",
        &BlockOptions {
            block: "x\ny",
            insert_after: Some("^a$"),
            ..opts()
        },
        "a\r\n# BEGIN ANSIBLE MANAGED BLOCK\r\nx\r\ny\r\n# END ANSIBLE MANAGED BLOCK\r\nb\r\n",
    );
}

#[test]
fn multiline_anchors_span_lines_only_with_the_flag() {
    let ora = "LISTENER=(DESCRIPTION=(ADDRESS_LIST=(ADDRESS=(PROTOCOL=IPC)(KEY=LISTENER)))) # line added by Agent\n\
ENABLE_GLOBAL_DYNAMIC_ENDPOINT_LISTENER=ON                                   # line added by Agent\n\n\
SID_LIST_LISTENER_DG =\n    (SID_LIST =\n        (SID_DESC =\n            (GLOBAL_DBNAME = DB01_DG)\n            (ORACLE_HOME = /u01/app/oracle/product/12.1.0.1/db_1)\n            (SID_NAME = DB011)\n        )\n    )\n\n\
SID_LIST_LISTENER =\n    (SID_LIST =\n        (SID_DESC =\n            (GLOBAL_DBNAME = DB02)\n            (ORACLE_HOME = /u01/app/oracle/product/12.1.0.1/db_1)\n            (SID_NAME = DB021)\n        )\n    )\n";
    let block = "(SID_DESC =\n  (GLOBAL_DBNAME = DB03\n  (ORACLE_HOME = /u01/app/oracle/product/12.1.0.1/db_1)\n  (SID_NAME = DB031)\n)\n";
    let m1 = "    <!-- BEGIN ANSIBLE MANAGED BLOCK 1-->\n";
    let m1e = "    <!-- END ANSIBLE MANAGED BLOCK 1-->\n";
    let with_flag = ora.replace(
        "SID_LIST_LISTENER_DG =\n    (SID_LIST =\n",
        &format!("SID_LIST_LISTENER_DG =\n    (SID_LIST =\n{m1}{block}{m1e}"),
    );
    edits(
        ora,
        &BlockOptions {
            block,
            insert_after: Some(r"(?m)SID_LIST_LISTENER_DG =\n.*\(SID_LIST ="),
            marker: "    <!-- {mark} ANSIBLE MANAGED BLOCK 1-->",
            ..opts()
        },
        &with_flag,
    );
    edits(
        &with_flag,
        &BlockOptions {
            block,
            insert_after: Some(r"SID_LIST_LISTENER_DG =\n.*\(SID_LIST ="),
            marker: "    <!-- {mark} ANSIBLE MANAGED BLOCK 2-->",
            ..opts()
        },
        &format!(
            "{with_flag}    <!-- BEGIN ANSIBLE MANAGED BLOCK 2-->\n{block}    <!-- END ANSIBLE MANAGED BLOCK 2-->\n"
        ),
    );
    // A multiline insert-before, and one matching past the last newline.
    edits(
        "a\nb\nc\n",
        &BlockOptions {
            block: "x",
            insert_before: Some(r"(?m)b\nc"),
            ..opts()
        },
        &format!("a\n{B}x\n{E}b\nc\n"),
    );
    edits(
        "a\nb\n",
        &BlockOptions {
            block: "x",
            insert_after: Some(r"(?m)b\n"),
            ..opts()
        },
        &format!("a\nb\n{B}x\n{E}"),
    );
}

#[test]
fn insert_after_and_before_exclude_each_other() {
    let err = BlockInFile::new(&BlockOptions {
        insert_after: Some("a"),
        insert_before: Some("b"),
        ..opts()
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "insert-after and insert-before cannot both be given"
    );
}
