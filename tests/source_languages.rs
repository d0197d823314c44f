//! Consfigs whose modules are Python and JavaScript directories: `consfig
//! deploy` builds them with componentize-py and jco (installed once, into
//! the shared `target/consfig-toolchains`), applies them, builds again only
//! what an edit changed, and stops on a module that does not build — with
//! the file and line — before anything is applied.
//!
//! The modules here are written against the raw bindings componentize-py
//! and jco generate from the WIT (no SDK): they test the build, not an SDK.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use consfig_tests::{Run, Sandbox, snapshot};

/// A Python module `pyraw` whose property `pyraw:write PATH TEXT` writes
/// `GREETING TEXT` (GREETING from `greeting.py`, beside `app.py`).
const PY_APP: &str = r#"import json

from wit_world import exports
from wit_world.imports import host
from wit_world.imports.types import Change, ModuleInfo, ParamInfo, PropertyInfo

import greeting


def param(name):
    return ParamInfo(name=name, schema="string", optional=False, default=None)


class Properties(exports.Properties):
    def init(self) -> None:
        pass

    def describe(self) -> ModuleInfo:
        write = PropertyInfo(
            name="pyraw:write",
            doc="Write a greeting and TEXT to PATH.",
            params=[param("path"), param("text")],
        )
        return ModuleInfo(name="pyraw", doc="Python, raw bindings.", properties=[write], needs=[])

    def validate(self, name: str, args: str) -> None:
        pass

    def apply(self, name: str, args: str) -> Change:
        path, text = json.loads(args)
        host.write_file(path, f"{greeting.GREETING} {text}".encode(), None)
        return Change.CHANGED
"#;

/// The same in JavaScript: `jsraw:write`, GREETING from `greeting.js`.
const JS_APP: &str = r#"import { writeFile } from "consfig:module/host@0.5.0";
import { GREETING } from "./greeting.js";

const param = (name) => ({ name, schema: "string", optional: false, default: undefined });

export const properties = {
  init() {},
  describe() {
    return {
      name: "jsraw",
      doc: "JavaScript, raw bindings.",
      needs: [],
      properties: [
        { name: "jsraw:write", doc: "Write a greeting and TEXT to PATH.", params: [param("path"), param("text")] },
      ],
    };
  },
  validate(name, args) {},
  apply(name, args) {
    const [path, text] = JSON.parse(args);
    writeFile(path, new TextEncoder().encode(`${GREETING} ${text}`), undefined);
    return "changed";
  },
};
"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A consfig in the sandbox: `modules/*` (written by the caller), host
/// `laptop` (local) with `forms`, and the modules allowed to write in
/// `out/`.
fn consfig(sandbox: &Sandbox, modules: &str, forms: &[String]) -> PathBuf {
    let dir = sandbox.path().join("consfig");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let grant = format!("grants = [\"write:{}\"]", out.display());
    write(
        &dir.join("Consfig.toml"),
        &format!(
            "modules = {modules}\n\
             [module.pyraw]\n{grant}\n[module.jsraw]\n{grant}\n\
             [hosts.laptop]\nconnection = [\"local\"]\nproperties = [{}]\n",
            forms.join(", ")
        ),
    );
    dir
}

fn deploy(sandbox: &Sandbox, dir: &Path) -> Run {
    sandbox.consfig_in(dir, &["deploy", "--json", "laptop"], &[], None)
}

/// The modules kept built in the sandbox's cache, with when each was written.
fn builds(sandbox: &Sandbox) -> Vec<(PathBuf, SystemTime)> {
    let dir = sandbox.cache().join("consfig/builds");
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
                .map(|p| {
                    let written = p.metadata().unwrap().modified().unwrap();
                    (p, written)
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[test]
fn python_and_js_directories_are_built_applied_and_built_again_only_when_edited() {
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("consfig/out");
    let dir = consfig(
        &sandbox,
        "[\"modules/*\"]",
        &[
            format!(
                "[\"pyraw:write\", \"{}/py.txt\", \"from Python\"]",
                out.display()
            ),
            format!(
                "[\"jsraw:write\", \"{}/js.txt\", \"from JavaScript\"]",
                out.display()
            ),
        ],
    );
    write(&dir.join("modules/py/app.py"), PY_APP);
    write(
        &dir.join("modules/py/greeting.py"),
        "GREETING = \"hello\"\n",
    );
    write(&dir.join("modules/js/app.js"), JS_APP);
    write(
        &dir.join("modules/js/greeting.js"),
        "export const GREETING = \"hello\";\n",
    );
    let sources_before = snapshot(&dir.join("modules"));

    let first = deploy(&sandbox, &dir);
    assert_eq!(first.code, 23, "{first:?}");
    assert!(
        first
            .stderr
            .contains("building the Python module in modules/py"),
        "{}",
        first.stderr
    );
    assert!(
        first
            .stderr
            .contains("building the JavaScript module in modules/js"),
        "{}",
        first.stderr
    );
    let read = |name: &str| std::fs::read_to_string(dir.join("out").join(name)).unwrap();
    assert_eq!(read("py.txt"), "hello from Python");
    assert_eq!(read("js.txt"), "hello from JavaScript");
    // Built elsewhere: not a file was added to (or changed in) the module
    // directories, no __pycache__, no bundle.
    assert_eq!(snapshot(&dir.join("modules")), sources_before);
    let built = builds(&sandbox);
    assert_eq!(built.len(), 2, "{built:?}");

    // Nothing changed: nothing is built, nor sent.
    let second = deploy(&sandbox, &dir);
    assert_eq!(second.code, 23, "{second:?}");
    assert!(!second.stderr.contains("building"), "{}", second.stderr);
    assert_eq!(second.event("summary")["modules_sent"], 0);
    assert_eq!(builds(&sandbox), built, "the kept builds are untouched");

    // describe builds nothing either, and reads the modules' own words.
    let described = sandbox.consfig_in(&dir, &["describe", "modules/py", "modules/js"], &[], None);
    assert_eq!(described.code, 0, "{described:?}");
    assert!(
        !described.stderr.contains("building"),
        "{}",
        described.stderr
    );
    assert!(
        described
            .stdout
            .contains("pyraw:write path: string text: string"),
        "{}",
        described.stdout
    );
    assert!(
        described
            .stdout
            .contains("jsraw:write path: string text: string"),
        "{}",
        described.stdout
    );

    // An edit of a file the Python app imports: that module alone is built
    // again, and sent.
    write(
        &dir.join("modules/py/greeting.py"),
        "GREETING = \"good morning\"\n",
    );
    let third = deploy(&sandbox, &dir);
    assert_eq!(third.code, 23, "{third:?}");
    assert!(
        third.stderr.contains("building the Python module"),
        "{}",
        third.stderr
    );
    assert!(!third.stderr.contains("JavaScript"), "{}", third.stderr);
    assert_eq!(third.event("summary")["modules_sent"], 1);
    assert_eq!(read("py.txt"), "good morning from Python");
    let now = builds(&sandbox);
    assert_eq!(now.len(), 3, "{now:?}");
    for kept in &built {
        assert!(now.contains(kept), "{kept:?} was touched");
    }
}

/// The standard `file` module and the module directory `modules/bad`, with
/// one form of each: nothing may be applied when the module does not build.
fn broken_consfig(sandbox: &Sandbox, property: &str) -> PathBuf {
    let marker = sandbox.path().join("consfig/out/marker");
    consfig(
        sandbox,
        "[\"file\", \"modules/bad\"]",
        &[
            format!("[\"file:has-content\", \"{}\", \"x\"]", marker.display()),
            format!("[\"{property}\", \"{}\", \"x\"]", marker.display()),
        ],
    )
}

/// A deploy that stopped on `modules/bad` before anything was applied.
fn assert_refused(run: &Run, dir: &Path) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("module directory modules/bad"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
    assert!(!dir.join("out/marker").exists());
    assert!(!dir.join("modules/bad/__pycache__").exists());
}

#[test]
fn python_that_does_not_build_stops_the_deploy_naming_the_file_and_line() {
    let sandbox = Sandbox::new();
    let dir = broken_consfig(&sandbox, "pyraw:write");
    write(
        &dir.join("modules/bad/app.py"),
        "import json\n\ndef broken(:\n    pass\n",
    );
    let run = deploy(&sandbox, &dir);
    assert_refused(&run, &dir);
    assert!(
        run.stderr.contains("the Python module does not build"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("modules/bad/app.py\", line 3"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("SyntaxError"), "{}", run.stderr);

    // An exception of the top level, raised in a file app.py imports: the
    // traceback names both, as the user's files.
    write(
        &dir.join("modules/bad/app.py"),
        "import json\nimport helper\n",
    );
    write(
        &dir.join("modules/bad/helper.py"),
        "X = 1\nraise ValueError(\"no configuration here\")\n",
    );
    let run = deploy(&sandbox, &dir);
    assert_refused(&run, &dir);
    assert!(
        run.stderr.contains("modules/bad/app.py\", line 2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("modules/bad/helper.py\", line 2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("ValueError: no configuration here"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Stack backtrace"), "{}", run.stderr);
}

#[test]
fn javascript_that_does_not_build_stops_the_deploy_naming_the_file_and_line() {
    let sandbox = Sandbox::new();
    let dir = broken_consfig(&sandbox, "jsraw:write");
    write(
        &dir.join("modules/bad/app.js"),
        "export const properties = {\n  init() {},\n  describe() { return 1 +; },\n};\n",
    );
    let run = deploy(&sandbox, &dir);
    assert_refused(&run, &dir);
    assert!(
        run.stderr
            .contains("the JavaScript module does not build (esbuild"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("app.js:3:"), "{}", run.stderr);

    // An import of a file that is not there.
    write(
        &dir.join("modules/bad/app.js"),
        "import { x } from \"./missing.js\";\nexport const properties = { x };\n",
    );
    let run = deploy(&sandbox, &dir);
    assert_refused(&run, &dir);
    assert!(run.stderr.contains("./missing.js"), "{}", run.stderr);

    // An exception of the top level, thrown while jco initialises it.
    write(
        &dir.join("modules/bad/app.js"),
        "const x = 1;\nthrow new Error(\"no configuration here\");\nexport const properties = {};\n",
    );
    let run = deploy(&sandbox, &dir);
    assert_refused(&run, &dir);
    assert!(
        run.stderr.contains("(jco componentize failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("no configuration here"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_directory_with_both_app_py_and_app_js_is_refused() {
    let sandbox = Sandbox::new();
    let dir = broken_consfig(&sandbox, "pyraw:write");
    write(&dir.join("modules/bad/app.py"), PY_APP);
    write(&dir.join("modules/bad/app.js"), JS_APP);
    let run = deploy(&sandbox, &dir);
    assert_refused(&run, &dir);
    assert!(run.stderr.contains("app.py and app.js"), "{}", run.stderr);
    assert!(!run.stderr.contains("building"), "{}", run.stderr);
}

/// `consfig new --python NAME` / `--js NAME` in the sandbox, then deploy.
/// Needs the Python and JavaScript SDKs (`guest-sdk/python`, `guest-sdk/js`).
#[test]
fn new_python_and_new_js_then_deploy_laptop_works_with_no_other_command() {
    for (flag, name, source) in [
        ("--python", "py-site", "modules/py-site/app.py"),
        ("--js", "js-site", "modules/js-site/app.js"),
    ] {
        let sandbox = Sandbox::new();
        let made = sandbox.consfig_in(sandbox.path(), &["new", flag, name], &[], None);
        assert_eq!(made.code, 0, "{made:?}");
        let site = sandbox.path().join(name);
        for file in ["Consfig.toml", ".gitignore", "README.md", source] {
            assert!(site.join(file).is_file(), "{flag}: {file} is missing");
        }
        assert!(!site.join("Cargo.toml").exists(), "{flag}: no workspace");

        let run = sandbox.consfig_in(&site, &["deploy", "laptop"], &[], None);
        assert_eq!(run.code, 23, "{flag}: {run:?}");
        let page = std::fs::read_to_string(site.join("www/index.html")).unwrap();
        assert!(page.contains("<h1>Hello from "), "{flag}: {page}");
        assert!(
            run.stdout.contains(&format!("{name}:hello")),
            "{}",
            run.stdout
        );

        // Again: nothing to build, send or change.
        let again = sandbox.consfig_in(&site, &["deploy", "--json", "laptop"], &[], None);
        assert_eq!(again.code, 0, "{flag}: {again:?}");
        assert!(!again.stderr.contains("building"), "{}", again.stderr);
        let summary = again.event("summary");
        assert_eq!(summary["modules_sent"], 0, "{summary}");
        assert_eq!(summary["unchanged"], 1, "{summary}");

        // The module's property is documented as written.
        let described = sandbox.consfig_in(
            &site,
            &["describe", source.rsplit_once('/').unwrap().0],
            &[],
            None,
        );
        assert_eq!(described.code, 0, "{described:?}");
        assert!(
            described.stdout.contains("greeting from this host"),
            "{}",
            described.stdout
        );
    }
}

#[test]
fn new_takes_one_language() {
    let sandbox = Sandbox::new();
    let run = sandbox.consfig_in(
        sandbox.path(),
        &["new", "--python", "--js", "site"],
        &[],
        None,
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    assert!(!sandbox.path().join("site").exists());
    let help = sandbox.consfig_in(sandbox.path(), &["new", "--help"], &[], None);
    assert!(help.stdout.contains("not with --js"), "{}", help.stdout);
    assert!(help.stdout.contains("not with --python"), "{}", help.stdout);
}

/// A module directory with a `wit/` of its own (the testing module's world:
/// the contract's and WASI sockets, the contract linked from `wit/deps`) is
/// built against it; the checkout is left as it was.
#[test]
fn a_module_with_its_own_wit_is_built_against_it() {
    let sandbox = Sandbox::new();
    let module = consfig_tests::repo_root().join("consfig-wasm/testing-python");
    let before = snapshot(&module);
    let run = sandbox.consfig(&["describe", "--json", &module.display().to_string()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("building the Python module"),
        "{}",
        run.stderr
    );
    let described: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(described["module"], "testing");
    assert_eq!(snapshot(&module), before);
}

/// The runtime checks arguments against a module's schemas itself: a raw
/// module whose `validate` accepts anything still never sees a form of the
/// wrong shape. And a module describing a parameter by no schema is refused
/// when it loads, naming the property and the parameter.
#[test]
fn the_runtime_checks_forms_against_schemas_the_module_does_not() {
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("consfig/out");
    let trusting = PY_APP.replace(
        "schema=\"string\"",
        "schema=shape.SCHEMAS.get(name, \"string\")",
    );
    let trusting = trusting.replace("import greeting\n", "import greeting\nimport shape\n");
    let module = sandbox.path().join("consfig/modules/pyraw");
    write(&module.join("app.py"), &trusting);
    write(&module.join("greeting.py"), "GREETING = \"hi\"\n");
    write(&module.join("shape.py"), "SCHEMAS = {}\n");
    let target = out.join("greeting");
    let dir = consfig(
        &sandbox,
        "[\"modules/pyraw\"]",
        &[format!("[\"pyraw:write\", \"{}\", 42]", target.display())],
    );
    let before = snapshot(&out);
    let run = deploy(&sandbox, &dir);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("argument 2 (text): expected a string, got an integer"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
    assert_eq!(snapshot(&out), before);

    write(
        &module.join("shape.py"),
        "SCHEMAS = {\"text\": \"list<string\"}\n",
    );
    let run = deploy(&sandbox, &dir);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "property pyraw:write: parameter \"text\": \"list<string\" is not a schema: a `<` is not closed"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
    assert_eq!(snapshot(&out), before);
}
