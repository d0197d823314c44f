//! The config editors on text: Consfigurator's own tests, then the cases
//! around them. Each edit is applied a second time, which must change
//! nothing.

use super::*;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[track_caller]
fn conf(style: ConfStyle, text: &str, pairs: &[(&str, &str)], expected: &str) {
    let edit = ConfSettings::new(style, &map(pairs)).unwrap();
    crate::edit::assert_edits_once(|t| edit.apply(t), text, expected);
}

fn triples(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|(s, k, v)| ((*s).to_owned(), (*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[track_caller]
fn ini(text: &str, list: &[(&str, &str, &str)], expected: &str) {
    let edit = IniSettings::new(&triples(list)).unwrap();
    crate::edit::assert_edits_once(|t| edit.apply(t), text, expected);
}

#[test]
fn consfigurator_contains_conf_space() {
    conf(
        ConfStyle::Space,
        "foo bar\n\n# one two\none three\n# one three\n",
        &[("foo", "baz"), ("one", "four"), ("two", "five")],
        "foo baz\n\none four\n# one three\n# one three\ntwo five\n",
    );
}

#[test]
fn consfigurator_contains_conf_shell() {
    conf(
        ConfStyle::Shell,
        "foo=\"bar baz\"\n\n# bar=baz\nother=\"three word s\"\n",
        &[("bar", "two words"), ("quux", "one"), ("other", "one")],
        "foo=\"bar baz\"\n\nbar=\"two words\"\nother=one\nquux=one\n",
    );
}

/// Consfigurator's INI test: where it writes `bar=baz` and
/// `# bar=baz baz quux`, the lines set keep their own spacing around `=`.
#[test]
fn consfigurator_contains_ini_settings() {
    ini(
        "[one]\ntwo=three\n\n[other]\n; bar = ba\nbar = baz baz quux\n",
        &[
            ("one", "four", "five"),
            ("another", "k", "v"),
            ("other", "bar", "baz"),
            ("another", "key", "val"),
            ("finally", "this", "one"),
        ],
        "[one]\ntwo=three\nfour=five\n\n[other]\nbar = baz\n# bar = baz baz quux\n\n[another]\nk=v\nkey=val\n\n[finally]\nthis=one\n",
    );
}

#[test]
fn each_format_writes_its_separator() {
    // A later line for the key is commented out as it is; one already
    // commented out is left.
    let text = "#Port 22\nPort 2222\n#Port 2223\n";
    conf(
        ConfStyle::Space,
        text,
        &[("Port", "80")],
        "Port 80\n# Port 2222\n#Port 2223\n",
    );
    conf(
        ConfStyle::Tab,
        text,
        &[("Port", "80")],
        "Port\t80\n# Port 2222\n#Port 2223\n",
    );
    conf(
        ConfStyle::Equals,
        "# SHELL=/bin/sh\nSHELL = /bin/zsh\n",
        &[("SHELL", "/bin/bash")],
        "SHELL=/bin/bash\n# SHELL = /bin/zsh\n",
    );
    conf(
        ConfStyle::Shell,
        "#HWCLOCKACCESS=yes\n",
        &[("HWCLOCKACCESS", "no")],
        "HWCLOCKACCESS=no\n",
    );
}

#[test]
fn lines_for_other_keys_are_left_alone() {
    let text = "UMASK\t\t027\n#   A comment   with blanks\nkey  value\n";
    conf(
        ConfStyle::Space,
        text,
        &[("PASS_MAX_DAYS", "90")],
        "UMASK\t\t027\n#   A comment   with blanks\nkey  value\nPASS_MAX_DAYS 90\n",
    );
    // Already set exactly: unchanged.
    conf(
        ConfStyle::Space,
        "key value\n",
        &[("key", "value")],
        "key value\n",
    );
    // Set with other blanks: rewritten once.
    conf(
        ConfStyle::Space,
        "key   value\n",
        &[("key", "value")],
        "key value\n",
    );
}

#[test]
fn missing_and_empty_files_and_files_without_final_newline() {
    conf(ConfStyle::Tab, "", &[("key", "value")], "key\tvalue\n");
    conf(ConfStyle::Equals, "a = 1", &[("b", "2")], "a = 1\nb = 2\n");
    conf(ConfStyle::Equals, "a = 1", &[("a", "1")], "a = 1");
    conf(ConfStyle::Equals, "", &[], "");
    ini(
        "",
        &[("main", "name", "web"), ("db", "port", "5432")],
        "[main]\nname = web\n\n[db]\nport = 5432\n",
    );
    ini("[a]\nx=1", &[("a", "y", "2")], "[a]\nx=1\ny=2\n");
}

#[test]
fn crlf_files_keep_crlf() {
    conf(
        ConfStyle::Space,
        "#Port 22\r\nUsePAM yes\r\n",
        &[("Port", "80"), ("X11Forwarding", "no")],
        "Port 80\r\nUsePAM yes\r\nX11Forwarding no\r\n",
    );
    ini(
        "[a]\r\nx=1\r\n\r\n[b]\r\ny=1\r\n",
        &[("a", "z", "2"), ("c", "w", "3")],
        "[a]\r\nx=1\r\nz=2\r\n\r\n[b]\r\ny=1\r\n\r\n[c]\r\nw=3\r\n",
    );
}

#[test]
fn shell_values_are_quoted_when_they_must_be() {
    assert_eq!(shell_quoted("/bin/bash"), "/bin/bash");
    assert_eq!(shell_quoted("a=b,c:d@e%f+g"), "a=b,c:d@e%f+g");
    assert_eq!(shell_quoted(""), "\"\"");
    assert_eq!(shell_quoted("two words"), "\"two words\"");
    assert_eq!(
        shell_quoted(r#"$HOME `x` "q" \"#),
        r#""\$HOME \`x\` \"q\" \\""#
    );
    assert_eq!(shell_quoted("é"), "\"é\"");
    conf(
        ConfStyle::Shell,
        "",
        &[("OPTS", "-a $X"), ("EMPTY", "")],
        "EMPTY=\"\"\nOPTS=\"-a \\$X\"\n",
    );
}

#[test]
fn keys_and_values_that_would_not_read_back_are_refused() {
    let err = |style, key: &str, value: &str| {
        ConfSettings::new(style, &map(&[(key, value)]))
            .unwrap_err()
            .to_string()
    };
    assert!(
        err(ConfStyle::Space, "two words", "x").starts_with("key \"two words\" cannot be written")
    );
    assert!(err(ConfStyle::Space, "#key", "x").starts_with("key \"#key\""));
    assert!(err(ConfStyle::Space, "key", "").starts_with("key \"key\""));
    assert!(err(ConfStyle::Equals, "a=b", "x").starts_with("key \"a=b\""));
    assert_eq!(
        err(ConfStyle::Equals, "key", "a\nb"),
        "value \"a\\nb\" contains a line break: values are single lines"
    );
    // An empty value is fine where `=` separates.
    conf(ConfStyle::Equals, "", &[("key", "")], "key = \n");
    let ini_err = |s: &str, k: &str| {
        IniSettings::new(&triples(&[(s, k, "v")]))
            .unwrap_err()
            .to_string()
    };
    assert!(ini_err("s", ";k").starts_with("key \";k\""));
    let header = IniSettings::new(&triples(&[("s", "[k", "]")])).unwrap_err();
    assert_eq!(
        header.to_string(),
        "key \"[k\" cannot be written so that it reads back: it would read as a section header"
    );
    assert!(ini_err("a\nb", "k").starts_with("section \"a\\nb\" contains a line break"));
}

#[test]
fn ini_sections_headers_and_the_top_part() {
    // A section with only its header: the key goes under the header.
    ini(
        "[empty]\n\n[full]\na=1\n",
        &[("empty", "k", "v")],
        "[empty]\nk=v\n\n[full]\na=1\n",
    );
    // The top part, before any header.
    ini(
        "; top comment\n[s]\na=1\n",
        &[("", "k", "v")],
        "k=v\n; top comment\n[s]\na=1\n",
    );
    ini("x=1\n[s]\na=1\n", &[("", "x", "2")], "x=2\n[s]\na=1\n");
    // The same key in two sections is two settings; a commented header is
    // no section; the last value given wins.
    ini(
        "[a]\nk=1\n;[b]\n[b]\nk=1\n",
        &[("a", "k", "2"), ("b", "k", "3"), ("a", "k", "4")],
        "[a]\nk=4\n;[b]\n[b]\nk=3\n",
    );
    // A blank line already ends the file: no second one before a new section.
    ini("[a]\nk=1\n\n", &[("b", "k", "1")], "[a]\nk=1\n\n[b]\nk=1\n");
}

#[test]
fn equals_lines_keep_the_file_style() {
    // New keys take the spacing of the file's first setting.
    conf(
        ConfStyle::Equals,
        "# comment = here\na=1\nb = 2\n",
        &[("b", "3"), ("c", "4")],
        "# comment = here\na=1\nb = 3\nc=4\n",
    );
    // A shell file is always KEY=VALUE.
    conf(
        ConfStyle::Shell,
        "A = 1\n",
        &[("A", "2"), ("B", "3")],
        "A=2\nB=3\n",
    );
    ini(
        "[s]\na = 1\n",
        &[("s", "a", "2"), ("s", "b", "3"), ("t", "c", "4")],
        "[s]\na = 2\nb = 3\n\n[t]\nc = 4\n",
    );
}
