//! Variables and reuse in Consfig.toml, end to end: `[vars]`, groups' and
//! hosts' vars merged host over groups (alphabetically, a later one
//! winning) over global, as a module reads them with `var` and `vars`;
//! named lists of forms and `{"$var": NAME}` replaced on the controller;
//! bad input refused before anything connects.

use consfig_tests::{Sandbox, TESTING_GRANTS, module, q};
use serde_json::{Value, json};

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_module_sees_host_over_group_over_global_variables() {
    let sb = Sandbox::new();
    let out = sb.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let at = |name: &str| q(out.join(name).display().to_string());
    let text = format!(
        "modules = [{}]\n{TESTING_GRANTS}\
         [vars]\nlevel = \"global\"\nglobal-only = 1\nport = 80\n\
         [groups.a-first]\nhosts = [\"web1\", \"web2\"]\nvars = {{ level = \"a-first\", port = 8080, groups = [\"a\"] }}\n\
         [groups.b-second]\nhosts = [\"web1\"]\nvars = {{ level = \"b-second\" }}\n\
         [hosts.web1]\nconnection = [\"local\"]\nvars = {{ own = {{ nested = true }} }}\n\
         properties = [[\"testing:vars\", {}], [\"testing:var\", \"level\", {}], [\"testing:var\", \"missing\", {}]]\n\
         [hosts.web2]\nconnection = [\"local\"]\nvars = {{ level = \"web2\" }}\n\
         properties = [[\"testing:vars\", {}]]\n",
        q(module("testing").display().to_string()),
        at("web1.json"),
        at("web1-level"),
        at("web1-missing"),
        at("web2.json"),
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
    let run = sb.consfig(&["deploy", "--json", "web1", "web2"]);
    assert_eq!(run.code, 23, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        read_json(&out.join("web1.json")),
        json!({"level": "b-second", "global-only": 1, "port": 8080, "groups": ["a"], "own": {"nested": true}})
    );
    assert_eq!(
        std::fs::read_to_string(out.join("web1-level")).unwrap(),
        "\"b-second\""
    );
    assert_eq!(
        std::fs::read_to_string(out.join("web1-missing")).unwrap(),
        "none"
    );
    assert_eq!(
        read_json(&out.join("web2.json")),
        json!({"level": "web2", "global-only": 1, "port": 8080, "groups": ["a"]})
    );
}

#[test]
fn ad_hoc_forms_have_no_variables() {
    let sb = Sandbox::new();
    let out = sb.path().join("vars.json");
    let testing = module("testing").display().to_string();
    let run = sb.consfig(&[
        "apply",
        "--json",
        "--modules",
        &testing,
        "--grant",
        &format!("testing=write:{}", sb.path().display()),
        "local",
        &format!(r#"["testing:vars", {}]"#, q(out.display().to_string())),
    ]);
    assert_eq!(run.code, 23, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(read_json(&out), json!({}));
}

#[test]
fn lists_and_variables_in_forms_are_expanded_before_the_deploy() {
    let sb = Sandbox::new();
    let out = sb.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let text = format!(
        "modules = [{}]\n{TESTING_GRANTS}\
         [vars]\ndir = {}\ngreeting = \"hello from the vars\\n\"\n\
         [lists.base]\nproperties = [[\"testing:write\", {{ \"$var\" = \"base\" }}, {{ \"$var\" = \"greeting\" }}]]\n\
         [lists.web]\nproperties = [[\"list\", \"base\"], [\"testing:echo\", {{ port = {{ \"$var\" = \"port\" }} }}]]\n\
         [hosts.box]\nconnection = [\"local\"]\nvars = {{ port = 8443, base = {} }}\n\
         properties = [[\"list\", \"web\"], [\"testing:echo\", \"last\"]]\n",
        q(module("testing").display().to_string()),
        q(out.display().to_string()),
        q(out.join("base.txt").display().to_string()),
    );
    std::fs::write(sb.path().join("Consfig.toml"), text).unwrap();
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 23, "{}\n{}", run.stdout, run.stderr);
    let forms: Vec<Value> = run.forms().iter().map(|f| f["form"].clone()).collect();
    assert_eq!(forms.len(), 3, "{}", run.stdout);
    assert_eq!(
        std::fs::read_to_string(out.join("base.txt")).unwrap(),
        "hello from the vars\n"
    );
    // Reports show the forms as expanded: variables are not secret.
    assert!(run.stdout.contains("8443"), "{}", run.stdout);
    assert!(!run.stdout.contains("$var"), "{}", run.stdout);
}

#[test]
fn bad_variables_groups_and_lists_are_refused_naming_file_line_and_host() {
    let sb = Sandbox::new();
    let testing = q(module("testing").display().to_string());
    for (extra, says) in [
        (
            "[hosts.box]\nconnection = [\"local\"]\nvars = \"x\"\n",
            "Consfig.toml:4: host box: vars must be a table",
        ),
        (
            "[hosts.box]\nconnection = [\"local\"]\n[groups.web]\nhosts = [\"box\", \"web9\"]\n",
            "Consfig.toml:4: group \"web\": lists \"web9\", which is not a host",
        ),
        (
            "[hosts.box]\nconnection = [\"local\"]\nproperties = [[\"list\", \"webserver\"]]\n",
            "Consfig.toml:4: host box: no list \"webserver\"; lists: none",
        ),
        (
            "[lists.a]\nproperties = [[\"list\", \"a\"]]\n[hosts.box]\nconnection = [\"local\"]\nproperties = [[\"list\", \"a\"]]\n",
            "Consfig.toml:3: host box: list a includes itself: a -> a",
        ),
        (
            "[hosts.box]\nconnection = [\"local\"]\nproperties = [[\"testing:echo\", { \"$var\" = \"domain\" }]]\n",
            "Consfig.toml:4: host box: form [\"testing:echo\",{\"$var\":\"domain\"}] uses variable \"domain\", which this host does not have (its variables: none)",
        ),
    ] {
        std::fs::write(
            sb.path().join("Consfig.toml"),
            format!("modules = [{testing}]\n{extra}"),
        )
        .unwrap();
        let run = sb.deploy(&[]);
        assert_eq!(run.code, 2, "{extra}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(says), "{extra}: {}", run.stderr);
    }
}
