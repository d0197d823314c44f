//! Optional arguments given by name, in a JSON object (a TOML inline table in
//! Consfig.toml) ending the form: they reach the property, positional forms
//! keep working, a mistake in them stops the deploy before anything connects,
//! and `consfig describe` shows which parameters are optional and their
//! defaults.

use std::path::Path;

use consfig_tests::{Sandbox, free_port, module, q, snapshot};

/// `cmd:single` touching `path` unless `path` exists, with `creates` given
/// as `extra` (a TOML fragment ending the form).
fn touch(path: &Path, extra: &str) -> String {
    let path = q(path.display().to_string());
    format!("[\"cmd:single\", [\"touch\", {path}], {extra}]")
}

#[test]
fn named_arguments_reach_the_property_and_positional_ones_still_do() {
    let sb = Sandbox::new();
    let (named, positional) = (sb.path().join("named"), sb.path().join("positional"));
    let forms = [
        touch(
            &named,
            &format!("{{ creates = {} }}", q(named.display().to_string())),
        ),
        touch(&positional, &q(positional.display().to_string())),
    ];
    sb.write_consfig(&[module("cmd")], &forms, "");
    let first = sb.deploy(&[]);
    assert_eq!(first.code, 23, "{first:?}");
    assert!(named.exists() && positional.exists());
    // `creates` was taken: the second run finds both files and runs nothing.
    let second = sb.deploy(&[]);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(second.statuses(), ["unchanged", "unchanged"], "{second:?}");
}

/// A consfig whose one host is reached over SSH at a loopback port nothing
/// listens on, with a form creating a file, then `bad`.
fn write_unreachable_consfig(sb: &Sandbox, created: &Path, bad: &str) {
    let modules = [module("file"), module("cmd"), module("chroot")]
        .map(|m| q(m.display().to_string()))
        .join(", ");
    let good = format!(
        "[\"file:has-content\", {}, \"x\"]",
        q(created.display().to_string())
    );
    let text = format!(
        "modules = [{modules}]\n\n[hosts.web]\nconnection = [\"ssh://root@127.0.0.1:{}\"]\n\
         properties = [\n  {good},\n  {bad},\n]\n",
        free_port()
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
}

#[test]
fn a_mistake_in_named_arguments_stops_the_deploy_before_it_connects() {
    let sb = Sandbox::new();
    let target = sb.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    let created = target.join("would-be-created");
    let out = target.join("out");
    let creates = |table: &str| touch(&out, table);
    let cases = [
        (
            creates("{ creats = \"/x\" }"),
            "unknown keyword argument \"creats\": it takes creates",
        ),
        (
            creates("{ creates = 5 }"),
            "keyword argument creates: expected a string or null, got an integer",
        ),
        (
            creates("\"/x\", { creates = \"/y\" }"),
            "argument 2 (creates) is given twice: by position and by name",
        ),
        (
            format!(
                "[\"chroot:deploys\", \"/srv/c\", [{}]]",
                creates("{ creats = \"/x\" }")
            ),
            "unknown keyword argument \"creats\": it takes creates",
        ),
    ];
    for (bad, expected) in cases {
        write_unreachable_consfig(&sb, &created, &bad);
        let before = snapshot(&target);
        let run = sb.consfig(&["deploy", "web"]);
        assert_eq!(run.code, 2, "{bad} is refused as bad input: {run:?}");
        assert!(
            run.stderr.contains("Consfig.toml:7: host web") && run.stderr.contains(expected),
            "{bad}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "nothing deployed: {}", run.stdout);
        assert_eq!(snapshot(&target), before, "{bad}: the target is untouched");
    }

    // With a good form instead, the same consfig goes on to connect, and
    // finds nothing listening: the refusals above came before that.
    write_unreachable_consfig(&sb, &created, &creates("{ creates = \"/x\" }"));
    let run = sb.consfig(&["deploy", "web"]);
    assert_ne!(run.code, 2, "{run:?}");
    assert_ne!(run.code, 0, "{run:?}");
    assert!(!created.exists());
}

#[test]
fn describe_shows_optional_parameters_and_defaults() {
    let sb = Sandbox::new();
    let paths = [module("cmd"), module("image"), module("cool-web-service")]
        .map(|m| m.display().to_string());
    let mut args = vec!["describe"];
    args.extend(paths.iter().map(String::as_str));
    let text = sb.consfig(&args);
    assert_eq!(text.code, 0, "{text:?}");
    for shown in [
        "cmd:single argv: list<string> [creates: optional<string>]",
        "image:dumped path: string form: form [grants: list<string> = []]",
        "cool-web-service:start-server port: integer [address: string = \"127.0.0.1\"]",
    ] {
        assert!(text.stdout.contains(shown), "{shown} in {}", text.stdout);
    }

    args.insert(1, "--json");
    let json = sb.consfig(&args);
    assert_eq!(json.code, 0, "{json:?}");
    let params: Vec<serde_json::Value> = json
        .events()
        .iter()
        .map(|module| module["properties"][0]["params"].clone())
        .collect();
    let param = |module: usize, index: usize| &params[module][index];
    assert_eq!(
        (
            param(0, 1)["name"].as_str(),
            param(0, 1)["optional"].as_bool()
        ),
        (Some("creates"), Some(true))
    );
    assert!(param(0, 1)["default"].is_null(), "{}", params[0]);
    // Schemas, not Rust types: the same words for modules in every language.
    assert_eq!(param(0, 0)["schema"], "list<string>");
    assert_eq!(param(0, 1)["schema"], "optional<string>");
    assert_eq!(param(1, 1)["schema"], "form");
    assert_eq!(param(1, 2)["default"], serde_json::json!([]));
    assert_eq!(param(2, 1)["default"], "127.0.0.1");
    assert_eq!(
        (
            param(2, 0)["optional"].as_bool(),
            param(2, 0)["default"].is_null()
        ),
        (Some(false), true)
    );
}
