//! `file:templated` on a real host: a Jinja2 template rendered in the
//! module with the form's variables and the host's facts, written once,
//! predicted by check mode with its diff, and an undefined variable failing
//! with the template's line and nothing written.

use consfig_tests::{Sandbox, module, q};

const TEMPLATE: &str = "\
# {{ facts.hostname }}, {{ facts.architecture }}
{% for port in ports %}
listen {{ port }};
{% endfor %}
server_name {{ vars.domain | upper }};
";

fn form(path: &str, template: &str, vars: &str) -> String {
    format!(
        "[\"file:templated\", {}, {{ inline = {} }}, {{ vars = {vars}, mode = \"0640\" }}]",
        q(path),
        q(template)
    )
}

#[test]
fn a_template_is_rendered_once_as_check_mode_predicts() {
    let sb = Sandbox::new();
    let site = sb.path().join("site.conf").display().to_string();
    let forms = [form(
        &site,
        TEMPLATE,
        "{ domain = \"example.org\", ports = [80, 443] }",
    )];
    sb.write_consfig(&[module("file")], &forms, "");

    let check = sb.deploy(&["--check", "--diff"]);
    assert_eq!(check.statuses(), ["would-change"], "{check:?}");
    assert!(
        !std::path::Path::new(&site).exists(),
        "check mode wrote nothing"
    );
    let hostname = nix::unistd::gethostname()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let arch = std::env::consts::ARCH;
    let expected =
        format!("# {hostname}, {arch}\nlisten 80;\nlisten 443;\nserver_name EXAMPLE.ORG;\n");
    let diff = check.forms()[0]["changes"][0]["diff"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        diff.contains("+listen 443;\n+server_name EXAMPLE.ORG;\n"),
        "the diff shows the rendering: {diff}"
    );

    let deploy = sb.deploy(&[]);
    assert_eq!(deploy.statuses(), ["changed"], "{deploy:?}");
    assert_eq!(std::fs::read_to_string(&site).unwrap(), expected);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&site).unwrap().permissions());
    assert_eq!(mode & 0o7777, 0o640);

    let again = sb.deploy(&[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.statuses(), ["unchanged"], "{again:?}");
}

#[test]
fn an_undefined_variable_names_the_line_and_writes_nothing() {
    let sb = Sandbox::new();
    let site = sb.path().join("site.conf").display().to_string();
    // `domian`: a typo that must not render as an empty name.
    let forms = [form(
        &site,
        "# managed\nserver_name {{ vars.domian }};\n",
        "{ domain = \"example.org\" }",
    )];
    sb.write_consfig(&[module("file")], &forms, "");
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 22, "{run:?}");
    assert_eq!(
        run.forms()[0]["reason"].as_str(),
        Some("template inline, line 2: `vars.domian` is undefined"),
        "{run:?}"
    );
    assert!(!std::path::Path::new(&site).exists());
}
