//! `docs/properties.md`, the property reference of the standard modules, is
//! what `consfig describe --markdown` writes for them: a change to a
//! property's doc or parameters that is not regenerated fails here.

use consfig_tests::{Sandbox, module, repo_root};

/// The standard modules the reference covers, in its order: the Makefile's
/// `STANDARD_MODULES` (a line, perhaps continued with `\`), which `make
/// docs` writes it for.
fn documented() -> Vec<String> {
    let makefile = std::fs::read_to_string(repo_root().join("Makefile")).expect("the Makefile");
    let joined = makefile.replace("\\\n", " ");
    let line = joined
        .lines()
        .find_map(|l| l.strip_prefix("STANDARD_MODULES := "))
        .expect("STANDARD_MODULES in the Makefile");
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn properties_reference_matches_the_standard_modules() {
    let documented = documented();
    let modules: Vec<String> = documented
        .iter()
        .map(|name| {
            let path = repo_root().join(format!("target/release/modules/consfig_{name}.wasm"));
            assert!(
                path.exists(),
                "{} is missing: run `make build` first",
                path.display()
            );
            path.to_string_lossy().into_owned()
        })
        .collect();
    let mut args = vec!["describe", "--markdown"];
    args.extend(modules.iter().map(String::as_str));
    let run = Sandbox::new().consfig(&args);
    assert_eq!(
        run.code, 0,
        "consfig describe --markdown failed: {}",
        run.stderr
    );

    let committed = std::fs::read_to_string(repo_root().join("docs/properties.md"))
        .expect("docs/properties.md is missing: run `make docs`");
    assert!(
        committed == run.stdout,
        "docs/properties.md differs from what `consfig describe --markdown` writes for the \
         standard modules: run `make docs` and commit the result.\n--- committed\n{committed}\n\
         --- generated\n{}",
        run.stdout
    );
    // The reference is whole: every standard module and each of its
    // properties has its section.
    for name in &documented {
        assert!(
            committed.contains(&format!("\n## `{name}`\n")),
            "no section for {name}"
        );
    }
    for property in [
        "file:has-content",
        "cmd:single",
        "chroot:deploys",
        "consfig:on-change",
        "user:exists",
        "image:dumped",
    ] {
        assert!(
            committed.contains(&format!("\n### `{property}`\n")),
            "no section for {property}"
        );
    }
}

/// A module's doc is its own words: a heading, a table, raw HTML or a code
/// fence in it stays text of its property's section, and a `|` in a default
/// stays in its cell.
#[test]
fn a_module_doc_cannot_change_the_reference() {
    let testing = module("testing");
    let run = Sandbox::new().consfig(&["describe", "--markdown", &testing.to_string_lossy()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let section = run
        .stdout
        .split("\n### `testing:markdown-breaker`\n")
        .nth(1)
        .expect("a section for testing:markdown-breaker");
    let doc = section
        .split("\n| parameter")
        .next()
        .expect("the doc before the parameters");
    for line in doc.lines() {
        for block in ["#", "```", "<", "|---|---|", "| a"] {
            assert!(
                !line.starts_with(block),
                "a line of the doc starts a block: {line:?}"
            );
        }
    }
    assert!(section.contains("\n\\# Not a heading\n"), "{section}");
    assert!(section.contains("\n\\`\\`\\`text\n"), "{section}");
    // The one table of the section is the parameters', three cells a row.
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(
        rows,
        [
            "| parameter | type | required or default |",
            "|---|---|---|",
            "| `text` | `string` | optional, default ``\"a\\|b`c\"`` |",
        ]
    );
}
