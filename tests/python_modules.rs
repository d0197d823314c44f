//! Modules written in Python, deployed end to end with connection `local`:
//! the example website (consfig-wasm/example-python) with its grants
//! enforced, check mode exact and a second deploy unchanged; and a module
//! exercising the Python SDK (tests/fixtures/python-sdk) — the schemas it
//! describes, arguments by position and by name, forms among them
//! validated before anything runs, the reason an exception fails its form
//! with, commands, and every host call.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use consfig_tests::built;
use consfig_tests::{Run, Sandbox, assert_untouched, identities, q, repo_root, toml_value};
use serde_json::{Value, json};

/// The grant the example's build command needs, as it declares it.
const BUILD_COMMAND: &str = "command:/bin/sh -c 'echo built > built.txt'";

fn example() -> PathBuf {
    built::module("example-python")
}

fn sdk_module() -> PathBuf {
    built::module_at(&repo_root().join("tests/fixtures/python-sdk"))
}

/// `[module.NAME]` with these grants.
fn granting(module: &str, grants: &[String]) -> String {
    let grants: Vec<String> = grants.iter().map(q).collect();
    format!("[module.{module}]\ngrants = [{}]\n", grants.join(", "))
}

fn website(root: &Path) -> String {
    format!(
        "[\"example-python:website\", {}]",
        q(root.display().to_string())
    )
}

fn reason(run: &Run, i: usize) -> String {
    run.forms()[i]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn output(run: &Run, i: usize) -> String {
    run.forms()[i]["output"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A form given as JSON, as Consfig.toml takes it.
fn toml(form: &str) -> String {
    toml_value(&serde_json::from_str(form).unwrap())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_python_website_deploys_as_checked_and_then_stays_unchanged() {
    let sb = Sandbox::new();
    let www = sb.path().join("www");
    std::fs::create_dir(&www).unwrap();
    let (a, c) = (www.join("a"), www.join("c"));
    let grants = granting(
        "example-python",
        &[format!("write:{}", www.display()), BUILD_COMMAND.to_owned()],
    );

    // A site made before: the check must call it unchanged.
    sb.write_consfig(&[example()], &[website(&c)], &grants);
    let run = sb.deploy(&[]);
    assert_eq!(
        (run.code, run.statuses()),
        (23, vec!["changed".into()]),
        "{run:?}"
    );
    let made_before = identities(&[&c]);

    // A form failing with its exception fails alone; the others run.
    let forms = [website(Path::new("/")), website(&a), website(&c)];
    sb.write_consfig(&[example()], &forms, &grants);
    let check = sb.deploy(&["--check"]);
    assert_eq!(
        check.statuses(),
        ["failed", "would-change", "unchanged"],
        "{check:?}"
    );
    assert_eq!(reason(&check, 0), "refusing to make a website of /");
    assert!(!a.exists(), "check mode made nothing");
    assert_untouched(&made_before, "check mode");

    let run = sb.deploy(&[]);
    assert_eq!(run.code, 22, "{run:?}");
    assert_eq!(
        run.statuses(),
        ["failed", "changed", "unchanged"],
        "{run:?}"
    );
    assert_eq!(reason(&run, 0), "refusing to make a website of /");
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let page = std::fs::read_to_string(a.join("index.html")).unwrap();
    assert!(
        page.contains(&format!("<h1>Hello from {}</h1>", hostname.trim())),
        "{page}"
    );
    assert_eq!(mode(&a.join("index.html")), 0o644);
    assert_eq!(
        std::fs::read_to_string(a.join("built.txt")).unwrap(),
        "built\n"
    );
    assert_untouched(&made_before, "a site already made");

    let made = identities(&[&a, &c]);
    let again = sb.deploy(&[]);
    assert_eq!(
        again.statuses(),
        ["failed", "unchanged", "unchanged"],
        "{again:?}"
    );
    assert_untouched(&made, "the second deploy");

    // Drift: a mode changed, a build's output gone. Check mode sees both
    // and changes neither; the deploy repairs both.
    std::fs::set_permissions(a.join("index.html"), PermissionsExt::from_mode(0o600)).unwrap();
    std::fs::remove_file(c.join("built.txt")).unwrap();
    let check = sb.deploy(&["--check"]);
    assert_eq!(
        check.statuses(),
        ["failed", "would-change", "would-change"],
        "{check:?}"
    );
    assert_eq!(mode(&a.join("index.html")), 0o600);
    assert!(!c.join("built.txt").exists());
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["failed", "changed", "changed"], "{run:?}");
    assert_eq!(mode(&a.join("index.html")), 0o644);
    assert_eq!(
        std::fs::read_to_string(c.join("built.txt")).unwrap(),
        "built\n"
    );
}

#[test]
fn the_python_website_gets_only_what_it_is_granted() {
    let sb = Sandbox::new();
    let www = sb.path().join("www");
    std::fs::create_dir(&www).unwrap();
    let site = www.join("site");

    // Read, not write: the first write is refused, naming the grant.
    let read_only = granting(
        "example-python",
        &[format!("read:{}", www.display()), BUILD_COMMAND.to_owned()],
    );
    sb.write_consfig(&[example()], &[website(&site)], &read_only);
    let run = sb.deploy(&[]);
    assert_eq!(
        (run.code, run.statuses()),
        (22, vec!["failed".into()]),
        "{run:?}"
    );
    assert_eq!(
        reason(&run, 0),
        format!(
            "denied: module example-python may not mkdir {p}: it has no grant write:{p}",
            p = site.display()
        )
    );
    assert!(!site.exists(), "nothing was written");

    // Its declared need not granted: the deploy does not start.
    let no_command = granting("example-python", &[format!("write:{}", www.display())]);
    sb.write_consfig(&[example()], &[website(&site)], &no_command);
    let run = sb.deploy(&[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("example-python") && run.stderr.contains("command:/bin/sh -c"),
        "{}",
        run.stderr
    );
    assert!(!site.exists(), "nothing was written");
}

#[test]
fn describe_shows_each_parameter_as_a_schema() {
    let sb = Sandbox::new();
    let example = example();
    let sdk = sdk_module();
    let run = sb.consfig(&[
        "describe",
        "--json",
        &example.display().to_string(),
        &sdk.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let modules: Vec<Value> = run.events();
    let property = |module: usize, name: &str| -> Value {
        modules[module]["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {}", modules[module]))
            .clone()
    };
    assert_eq!(modules[0]["module"], "example-python");
    assert_eq!(modules[0]["needs"], json!([BUILD_COMMAND]));
    let site = property(0, "example-python:website");
    assert_eq!(
        site["params"],
        json!([{"name": "root", "schema": "string", "optional": false, "default": null}])
    );
    assert!(
        site["doc"]
            .as_str()
            .unwrap()
            .starts_with("Put a small static website under `root`")
    );

    let schemas: Vec<(String, String, bool, Value)> = property(1, "pysdk:kinds")["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["schema"].as_str().unwrap().to_owned(),
                p["optional"].as_bool().unwrap(),
                p["default"].clone(),
            )
        })
        .collect();
    let param = |name: &str, schema: &str, optional: bool, default: Value| {
        (name.to_owned(), schema.to_owned(), optional, default)
    };
    assert_eq!(
        schemas,
        [
            param("text", "string", false, Value::Null),
            param("count", "integer", false, Value::Null),
            param("ratio", "number", false, Value::Null),
            param("flag", "bool", false, Value::Null),
            param("names", "list<string>", false, Value::Null),
            param("table", "object<integer>", false, Value::Null),
            param("anything", "any", false, Value::Null),
            param("settings", "object", false, Value::Null),
            param("choice", "integer|string", false, Value::Null),
            param("maybe", "optional<string>", true, Value::Null),
            param("login-shell", "string", true, json!("/bin/sh")),
            param("forms", "list<form>", true, json!([])),
        ]
    );
    let greet = property(1, "pysdk:greet");
    assert_eq!(
        greet["doc"],
        "Log a greeting, in a language, signed or not."
    );
    assert_eq!(greet["params"][2]["schema"], "optional<string>");
}

#[test]
fn arguments_arrive_decoded_by_position_and_by_name() {
    let sb = Sandbox::new();
    let forms = [
        r#"["pysdk:kinds", "t", 1, 2, true, ["a"], {"x": 3}, null, {"k": [1]}, "c"]"#,
        r#"["pysdk:kinds", "t", 1, 2.5, false, [], {}, [1], {}, 7, "m", {"forms": [["pysdk:greet", "x"]], "login-shell": "/bin/zsh"}]"#,
        r#"["pysdk:greet", "ada"]"#,
        r#"["pysdk:greet", "ada", {"signature": "Bob"}]"#,
        r#"["pysdk:greet", "ada", "fr", {"signature": "Bob"}]"#,
        r#"["pysdk:greet-twice", "bo"]"#,
    ];
    // Applied as JSON: TOML has no null.
    let sdk = sdk_module().display().to_string();
    let mut args = vec![
        "apply",
        "--json",
        "--modules",
        &sdk,
        "--grant",
        "pysdk=command:/bin/sh",
    ];
    args.push("local");
    args.extend(forms);
    let run = sb.consfig(&args);
    assert_eq!(run.code, 23, "{run:?}");
    assert_eq!(
        output(&run, 0),
        "str \"t\"\nint 1\nfloat 2.0\nbool true\n[str \"a\"]\ndict {\"x\": 3}\nNoneType null\n\
         dict {\"k\": [1]}\nstr \"c\"\nNoneType null\nstr \"/bin/sh\"\n[]\n"
    );
    assert_eq!(
        output(&run, 1),
        "str \"t\"\nint 1\nfloat 2.5\nbool false\n[]\ndict {}\n[int 1]\ndict {}\nint 7\n\
         str \"m\"\nstr \"/bin/zsh\"\n[Form[\"pysdk:greet\",\"x\"]]\n"
    );
    assert_eq!(output(&run, 2), "Hello, ada!\n");
    assert_eq!(output(&run, 3), "Hello, ada! -- Bob\n");
    assert_eq!(output(&run, 4), "Bonjour, ada! -- Bob\n");
    // Its own property called as a function, and applied as a form.
    assert_eq!(output(&run, 5), "Bonjour, bo!\nHello, bo! -- Ada\n");
    assert_eq!(run.forms()[5]["status"], "changed", "{run:?}");
}

#[test]
fn bad_arguments_are_refused_before_anything_runs() {
    let sb = Sandbox::new();
    let www = sb.path().join("www");
    let site = www.join("site");
    let grants = granting(
        "example-python",
        &[format!("write:{}", www.display()), BUILD_COMMAND.to_owned()],
    ) + &granting("pysdk", &["command:/bin/sh".to_owned()]);
    let bad = [
        // A wrong type, by position and by name.
        r#"["example-python:website", 42]"#.to_owned(),
        r#"["pysdk:greet", "ada", {"language": 7}]"#.to_owned(),
        // A name it does not take.
        r#"["pysdk:greet", "ada", {"shel": "/bin/zsh"}]"#.to_owned(),
        // More than it takes: a property without optional parameters takes
        // an object by position.
        format!(
            "[\"example-python:website\", {}, {{\"title\": \"x\"}}]",
            q(site.display().to_string())
        ),
        // A form among the arguments, deep down, of no property there is.
        r#"["pysdk:each", [["pysdk:each", [["pysdk:nope"]]]]]"#.to_owned(),
    ];
    for (form, said) in bad.iter().zip([
        "argument 1 (root)",
        "language",
        "shel",
        "too many arguments",
        "pysdk:nope",
    ]) {
        std::fs::create_dir_all(&www).unwrap();
        sb.write_consfig(
            &[example(), sdk_module()],
            &[website(&site), toml(form)],
            &grants,
        );
        let run = sb.deploy(&[]);
        assert_eq!(run.code, 2, "{form}: {run:?}");
        assert!(
            run.stderr.contains("nothing was deployed") && run.stderr.contains(said),
            "{form}: {}",
            run.stderr
        );
        assert!(run.forms().is_empty(), "{form}: {run:?}");
        assert!(!site.exists(), "{form}: the first form did not run");
    }
}

#[test]
fn a_failing_property_fails_its_form_alone_saying_why_and_where() {
    let sb = Sandbox::new();
    let forms = [
        r#"["pysdk:divide", 1, 0]"#,
        r#"["pysdk:greet", "ada", "de"]"#,
        r#"["pysdk:forgetful"]"#,
        r#"["pysdk:loud", 3]"#,
        r#"["pysdk:loud", 0]"#,
        r#"["pysdk:quiet", 2]"#,
        r#"["pysdk:divide", 1, 4]"#,
    ]
    .map(toml);
    sb.write_consfig(
        &[sdk_module()],
        &forms,
        &granting("pysdk", &["command:/bin/sh".to_owned()]),
    );
    let run = sb.deploy(&[]);
    assert_eq!(
        run.statuses(),
        [
            "failed",
            "failed",
            "failed",
            "failed",
            "unchanged",
            "unchanged",
            "unchanged"
        ],
        "{run:?}"
    );
    // An unexpected exception: its type, message, and the line of the
    // module's own file it was raised at; the traceback in the output.
    assert_eq!(
        reason(&run, 0),
        "ZeroDivisionError: division by zero (at helpers.py:5, in ratio)"
    );
    assert!(
        output(&run, 0).contains("Traceback (most recent call last):"),
        "{run:?}"
    );
    // An Error: its message alone.
    assert_eq!(reason(&run, 1), "no greeting in 'de'");
    assert_eq!(
        reason(&run, 2),
        "pysdk:forgetful returned None, not a Change: return Change.CHANGED or Change.UNCHANGED"
    );
    // A checked command that fails names itself, how it ended and its stderr.
    assert_eq!(
        reason(&run, 3),
        "/bin/sh -c 'echo out; echo err >&2; exit 3': exit code 3: err"
    );
    assert_eq!(output(&run, 4), "out\nerr\n");
    assert_eq!(output(&run, 5), "exit=2 success=False stdout='out\\n'\n");
    assert_eq!(output(&run, 6), "0.25\n");
}

#[test]
fn every_host_call_works_from_python() {
    let sb = Sandbox::new();
    let dir = sb.path().join("files");
    std::fs::create_dir(&dir).unwrap();
    let d = dir.display().to_string();
    sb.write_consfig(
        &[sdk_module()],
        &[
            format!("[\"pysdk:files\", {}]", q(&d)),
            r#"["pysdk:facts"]"#.to_owned(),
        ],
        &format!(
            "[vars]\nsite = {{ name = \"x\", port = 8080 }}\n\n{}",
            granting(
                "pysdk",
                &[format!("write:{d}"), "command:/bin/sh".to_owned()]
            )
        ),
    );
    let run = sb.deploy(&[]);
    assert_eq!(run.statuses(), ["changed", "unchanged"], "{run:?}");
    assert_eq!(
        output(&run, 0),
        format!(
            "a: file 644 6 'hello\\n'\nb: 600 b'\\x00\\xff'\nsub: directory 750\n\
             link: symlink -> a\nentries: a file, c file, link symlink\ngone: False None\n\
             error: read-file {d}/nothing: No such file or directory (os error 2)\n"
        )
    );
    let c = dir.join("sub/c");
    assert_eq!(std::fs::read(&c).unwrap(), b"\x00\xff");
    assert_eq!(mode(&c), 0o640);
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap();
    let os = os_release
        .lines()
        .find_map(|l| l.strip_prefix("ID="))
        .unwrap()
        .trim_matches('"');
    assert_eq!(
        output(&run, 1),
        format!(
            "whoami: 0 0 root root=True\nos: {os}\nuser 0: root /root\ngroup root: 0\n\
             nobody: None\nchroot: False arch: True\n\
             var site: {{'name': 'x', 'port': 8080}} var none: None\nvars: ['site']\n"
        )
    );
}

#[test]
fn a_mistake_in_a_definition_stops_the_build_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.py"),
        "from consfig import Change, module, property\n\
         module(\"bad\")\n\
         \n\
         @property\n\
         def pairs(name: str, p: tuple[int, int]) -> Change:\n\
         \x20   return Change.UNCHANGED\n",
    )
    .unwrap();
    let err = built::build(dir.path()).unwrap_err();
    assert!(
        err.contains(
            "property pairs (app.py:4), parameter p: tuple[int, int] has no schema: annotate with str"
        ),
        "{err}"
    );
}

/// The grant the website's build command needs gives a module holding it
/// nothing more: a hostile module (the Python `testing` module) with the
/// same grants cannot run the command elsewhere than where its own grants
/// let it read, nor any other shell script, nor the same script with one
/// more argument.
#[test]
fn the_build_command_s_grant_cannot_be_turned_to_writing_elsewhere() {
    let sb = Sandbox::new();
    let www = sb.path().join("www");
    let outside = sb.path().join("outside");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let grants = granting(
        "testing",
        &[format!("write:{}", www.display()), BUILD_COMMAND.to_owned()],
    );
    let run_with = |spec: Value| format!("[\"testing:run-with\", {}]", toml_value(&spec));
    let build = json!(["/bin/sh", "-c", "echo built > built.txt"]);
    let forms = [
        run_with(json!({"argv": build, "cwd": outside.display().to_string()})),
        run_with(
            json!({"argv": ["/bin/sh", "-c", "echo built > ../outside/built.txt"], "cwd": www.display().to_string()}),
        ),
        run_with(
            json!({"argv": ["/bin/sh", "-c", "echo built > built.txt", "sh", "x"], "cwd": www.display().to_string()}),
        ),
        run_with(json!({"argv": build, "cwd": www.display().to_string()})),
    ];
    sb.write_consfig(&[built::module("testing-python")], &forms, &grants);
    let before = identities(&[&outside]);
    let run = sb.deploy(&[]);
    assert_eq!(
        run.statuses(),
        ["failed", "failed", "failed", "changed"],
        "{run:?}"
    );
    assert!(
        reason(&run, 0).contains(&format!("may not run in {}", outside.display())),
        "{}",
        reason(&run, 0)
    );
    for i in [1, 2] {
        assert!(
            reason(&run, i).contains("module testing may not run /bin/sh"),
            "{}",
            reason(&run, i)
        );
    }
    assert_untouched(&before, "the directory outside the module's grants");
    assert!(!outside.join("built.txt").exists());
    assert_eq!(
        std::fs::read_to_string(www.join("built.txt")).unwrap(),
        "built\n",
        "the command as granted runs where the module may write"
    );
}
