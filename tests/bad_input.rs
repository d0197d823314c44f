//! Bad input gives a clear error naming the culprit and changes nothing:
//! each consfig here also holds a valid form that would create a file, and
//! that file must not appear.

use std::path::PathBuf;

use consfig_tests::{Run, Sandbox, module, q, snapshot};

/// A valid form that would create `would-be-created`, then `bad`; deploy must refuse both.
fn refuse(sb: &Sandbox, modules: &[PathBuf], bad: &str) -> Run {
    let target = sb.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    let created = target.join("would-be-created");
    let good = format!(
        "[\"file:has-content\", {}, \"x\"]",
        q(created.display().to_string())
    );
    sb.write_consfig(modules, &[good, bad.to_owned()], "");
    let before = snapshot(&target);
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 2, "bad input is refused: {run:?}");
    assert!(
        run.stdout.is_empty(),
        "nothing was deployed, nothing reported: {}",
        run.stdout
    );
    assert_eq!(snapshot(&target), before, "the target is untouched");
    run
}

fn file_module() -> Vec<PathBuf> {
    vec![module("file")]
}

#[test]
fn a_malformed_form_names_file_line_and_host() {
    let sb = Sandbox::new();
    let run = refuse(&sb, &file_module(), "[42, \"not a name\"]");
    assert!(
        run.stderr.contains("Consfig.toml:7: host box:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("first element is a property name"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_property_is_named_with_a_suggestion() {
    let sb = Sandbox::new();
    let run = refuse(
        &sb,
        &file_module(),
        "[\"file:has-contnt\", \"/tmp/x\", \"y\"]",
    );
    assert!(
        run.stderr.contains("Consfig.toml:7: host box"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("unknown property file:has-contnt (did you mean file:has-content?)"),
        "{}",
        run.stderr
    );
}

#[test]
fn wrong_argument_types_name_the_argument() {
    let sb = Sandbox::new();
    let run = refuse(
        &sb,
        &file_module(),
        "[\"file:has-content\", \"/tmp/x\", 42]",
    );
    assert!(
        run.stderr.contains("argument 2 (content)"),
        "{}",
        run.stderr
    );
    let run = refuse(&sb, &file_module(), "[\"file:has-content\", \"/tmp/x\"]");
    assert!(
        run.stderr.contains("missing argument 2 (content)"),
        "{}",
        run.stderr
    );
    let run = refuse(
        &sb,
        &file_module(),
        "[\"file:absent\", \"/tmp/x\", \"extra\"]",
    );
    assert!(run.stderr.contains("file:absent"), "{}", run.stderr);
}

#[test]
fn mistakes_in_nested_forms_stop_the_deploy_before_it_starts() {
    let sb = Sandbox::new();
    let modules = [module("file"), module("chroot"), module("user")];
    // A chroot in a user in a chroot: the innermost form reaches `chroot`'s
    // validation again while `chroot` is still validating the outer one.
    let nested = |inner: &str| {
        format!(
            r#"["chroot:deploys", "/srv/c1", [
                ["user:as", "www", [["chroot:deploys", "/c2", [{inner}]]]]
            ]]"#
        )
    };
    let run = refuse(&sb, &modules, &nested(r#"["file:has-contnet", "/x", "y"]"#));
    assert!(
        run.stderr.contains("Consfig.toml:7: host box")
            && run
                .stderr
                .contains("unknown property file:has-contnet (did you mean file:has-content?)"),
        "{}",
        run.stderr
    );
    let run = refuse(&sb, &modules, &nested(r#"["file:has-content", "/x"]"#));
    assert!(
        run.stderr.contains("missing argument 2 (content)"),
        "{}",
        run.stderr
    );
    let run = refuse(&sb, &modules, &nested(r#"["user:as", "www"]"#));
    assert!(
        run.stderr.contains("user:as") && run.stderr.contains("missing argument 2 (forms)"),
        "{}",
        run.stderr
    );
}

#[test]
fn corrupt_and_truncated_modules_name_the_file() {
    let sb = Sandbox::new();
    let good = std::fs::read(module("file")).unwrap();

    let truncated = sb.path().join("truncated.wasm");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let run = refuse(
        &sb,
        std::slice::from_ref(&truncated),
        "[\"file:absent\", \"/tmp/x\"]",
    );
    assert!(
        run.stderr.contains(&truncated.display().to_string()),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("not a valid Wasm component"),
        "{}",
        run.stderr
    );

    let corrupt = sb.path().join("corrupt.wasm");
    let mut bytes = good.clone();
    let middle = bytes.len() / 2;
    bytes[middle..middle + 64].fill(0xff);
    std::fs::write(&corrupt, &bytes).unwrap();
    let run = refuse(
        &sb,
        std::slice::from_ref(&corrupt),
        "[\"file:absent\", \"/tmp/x\"]",
    );
    assert!(
        run.stderr.contains(&corrupt.display().to_string()),
        "{}",
        run.stderr
    );

    let not_wasm = sb.path().join("notes.wasm");
    std::fs::write(&not_wasm, "just text").unwrap();
    let run = refuse(
        &sb,
        std::slice::from_ref(&not_wasm),
        "[\"file:absent\", \"/tmp/x\"]",
    );
    assert!(
        run.stderr.contains(&not_wasm.display().to_string()),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_keys_and_hosts_are_named() {
    let sb = Sandbox::new();
    sb.write_consfig(&file_module(), &[], "form-timout = \"1s\"");
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 2);
    for expected in ["Consfig.toml", "line 2", "unknown field `form-timout`"] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }

    sb.write_consfig(&file_module(), &[], "");
    let run = sb.consfig(&["deploy", "web9"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no host or group \"web9\"") && run.stderr.contains("box"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_forms_on_the_command_line_are_refused() {
    let sb = Sandbox::new();
    let modules = module("file").display().to_string();
    let run = sb.consfig(&["apply", "--modules", &modules, "local", "[\"file:absent\""]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("form 1"), "{}", run.stderr);
    let run = sb.consfig(&[
        "apply",
        "--modules",
        &modules,
        "nowhere",
        "[\"file:absent\", \"/x\"]",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown connection hop \"nowhere\""),
        "{}",
        run.stderr
    );
}
