// The `properties` export over a module's table: declarations checked when
// the module is built, describe, validate (forms among the arguments
// included) and apply, with every exception becoming its form's reason; and
// the host calls and commands a property makes, over fake-host.js.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Change, ConsfigError, Form, apply, change, host, module, properties, property, query, subdeploy } from "../consfig.js";
import { fake } from "./fake-host.js";

/** The message a declaration is refused with. */
function refused(declare) {
  try {
    declare();
  } catch (e) {
    assert.ok(e instanceof ConsfigError, e);
    return e.message;
  }
  assert.fail("the declaration was accepted");
}

/** What an export throws: the reason text it gives the host. */
function reason(call) {
  try {
    call();
  } catch (e) {
    assert.equal(typeof e, "string", `the export threw ${e}, not text`);
    return e;
  }
  assert.fail("no error");
}

test("a module declares itself once, with a valid name and known options", () => {
  assert.match(refused(() => module("Web")), /^"Web" is not a module name/);
  assert.match(refused(() => module("web", { nedds: [] })), /^module web: unknown option "nedds": it takes doc, needs, init$/);
  assert.match(refused(() => module("web", { needs: "write:/" })), /needs must be a list of grants/);
  assert.match(reason(() => properties.init()), /^the module never names itself/);
  module("web", {
    doc: `Web sites.
      Made with host calls.`,
    needs: ["write:/srv"],
  });
  assert.match(refused(() => module("other")), /^module\("other"\) after module\("web"\)/);
});

const site = property(
  "site",
  (root, title, port, extra) => {
    if (root === "/") throw new ConsfigError("refusing /");
    if (root === "/type") return root.nothing.here;
    host.writeFile(`${root}/index.html`, `<h1>${title}</h1>:${port}:${JSON.stringify(extra)}`);
    return Change.CHANGED;
  },
  {
    doc: "A site.",
    params: [
      { name: "root", schema: "string" },
      { name: "title", schema: "string", default: "hello" },
      { name: "listenPort", schema: "integer", default: 80 },
      { name: "extra", schema: "optional<object>" },
    ],
  },
);

property("each", (forms) => Change.any(forms.map((f) => apply(f))), {
  params: [{ name: "forms", schema: "list<form>" }],
});

property("returns", (value) => value, { params: [{ name: "value", schema: "any" }] });

test("declarations are checked when the module is built", () => {
  assert.match(refused(() => property("Site", () => {})), /^"Site" is not a property name/);
  assert.match(refused(() => property("site", () => {})), /^property "site" is defined twice$/);
  assert.match(refused(() => property("x", "nope")), /the property is a function/);
  assert.match(refused(() => property("x", () => {}, { parms: [] })), /unknown option "parms": it takes doc, params/);
  assert.equal(
    refused(() => property("x", () => {}, { params: [{ name: "a", schema: "String" }] })),
    'property "x": parameter 1 (a): "String" is not a schema: expected string, integer, number, bool, form, any, list<T>, object, object<T>, optional<T> or A|B',
  );
  assert.equal(
    refused(() => property("x", () => {}, { params: [{ name: "port", schema: "integer", default: "eighty" }] })),
    'property "x": the default of argument 1 (port), "eighty", is no value of it: expected an integer, got a string',
  );
  assert.match(
    refused(() => property("x", () => {}, { params: [{ name: "a", schema: "string", defualt: "x" }] })),
    /parameter 1: unknown option "defualt": it takes name, schema, default/,
  );
  assert.match(
    refused(() =>
      property("x", () => {}, {
        params: [
          { name: "a", schema: "string", default: "x" },
          { name: "b", schema: "string" },
        ],
      }),
    ),
    /parameter a has a default, but a required parameter follows it/,
  );
  assert.match(
    refused(() => property("x", (a, b) => a + b, { params: [{ name: "a", schema: "string" }] })),
    /the function takes 2 parameters, but params describes 1/,
  );
  assert.match(
    refused(() => property("x", () => {}, { params: [{ name: "a", schema: "string" }, { name: "A", schema: "string" }] })),
    /two parameters are named a/,
  );
});

test("describes the module in the contract's words", () => {
  properties.init();
  const info = properties.describe();
  assert.equal(info.name, "web");
  assert.equal(info.doc, "Web sites.\nMade with host calls.");
  assert.deepEqual(info.needs, ["write:/srv"]);
  assert.deepEqual(
    info.properties.map((p) => p.name),
    ["web:site", "web:each", "web:returns"],
  );
  assert.deepEqual(info.properties[0].params, [
    { name: "root", schema: "string", optional: false, default: undefined },
    { name: "title", schema: "string", optional: true, default: '"hello"' },
    { name: "listen-port", schema: "integer", optional: true, default: "80" },
    { name: "extra", schema: "optional<object>", optional: true, default: undefined },
  ]);
  assert.equal(typeof site, "function", "property returns the function");
});

test("applies with positional and keyword arguments", () => {
  fake.reset();
  assert.equal(properties.apply("web:site", '["/srv/a"]'), "changed");
  assert.equal(properties.apply("web:site", '["/srv/b", "hi", {"listen-port": 8080, "extra": {"k": 1}}]'), "changed");
  const text = (path) => new TextDecoder().decode(fake.files.get(path).contents);
  assert.equal(text("/srv/a/index.html"), "<h1>hello</h1>:80:null");
  assert.equal(text("/srv/b/index.html"), '<h1>hi</h1>:8080:{"k":1}');
  assert.equal(
    reason(() => properties.apply("web:site", '["/srv", {"port": 1}]')),
    'unknown keyword argument "port": it takes title, listen-port, extra',
  );
  assert.equal(reason(() => properties.apply("web:site", '[1]')), "argument 1 (root): expected a string, got an integer");
  assert.equal(
    reason(() => properties.apply("web:nope", "[]")),
    "module web has no property web:nope (it has web:site, web:each, web:returns)",
  );
  assert.equal(
    reason(() => properties.apply("other:site", "[]")),
    "module web has no property other:site (it has web:site, web:each, web:returns)",
  );
  assert.match(reason(() => properties.apply("web:__proto__", "[]")), /^module web has no property web:__proto__/);
});

test("every exception becomes the reason of its form", () => {
  fake.reset();
  assert.equal(reason(() => properties.apply("web:site", '["/"]')), "refusing /");
  assert.equal(
    reason(() => properties.apply("web:site", '["/denied"]')),
    "denied: module test may not write-file /denied/index.html",
    "a host error is a ConsfigError with the host's message",
  );
  const typeError = reason(() => properties.apply("web:site", '["/type"]'));
  assert.match(typeError, /^TypeError: .*undefined.* \(at .*module\.test\.js:\d+:\d+\)+$/);
  // The stack logged is the module's frames only, not the SDK's.
  const logged = fake.logs.find((l) => l.startsWith("error: TypeError"));
  assert.ok(logged, fake.logs.join("\n"));
  assert.ok(!/applyProperty|guarded/.test(logged), logged);
  assert.equal(reason(() => properties.apply("web:returns", "[5]")), "web:returns returned 5: return Change.CHANGED or Change.UNCHANGED");
  assert.equal(reason(() => properties.apply("web:returns", "[true]")), "web:returns returned true: return Change.CHANGED or Change.UNCHANGED");
  assert.equal(properties.apply("web:returns", '["unchanged"]'), "unchanged");
});

test("validate checks arguments and the forms among them, without effect", () => {
  fake.reset();
  properties.validate("web:site", '["/srv/a"]');
  properties.validate("web:each", '[[["web:site", "/x"], ["file:absent", "/y"]]]');
  assert.equal(fake.files.size, 0);
  assert.equal(
    reason(() => properties.validate("web:each", '[[["web:site", "/x", 5]]]')),
    "argument 1 (forms): item 1: web:site: argument 2 (title): expected a string, got an integer",
  );
  assert.equal(
    reason(() => properties.validate("web:each", '[[["web:each", [["web:nope"]]]]]')),
    "argument 1 (forms): item 1: web:each: argument 1 (forms): item 1: web:nope: module web has no property web:nope (it has web:site, web:each, web:returns)",
  );
  fake.invalid.set("file:absent", "missing argument 1 (path)");
  assert.equal(
    reason(() => properties.validate("web:each", '[[["web:site", "/x"], ["file:absent"]]]')),
    "argument 1 (forms): item 2: file:absent: missing argument 1 (path)",
  );
  assert.equal(
    reason(() => properties.validate("web:each", '[["nope"]]')),
    "argument 1 (forms): item 1: expected a form (an array starting with a property name), got a string",
  );
});

test("apply, subdeploy and Form speak forms to the host", () => {
  fake.reset();
  assert.equal(properties.apply("web:each", '[[["file:absent", "/x"]]]'), "changed");
  assert.deepEqual(fake.forms, [["file:absent", "/x"]]);
  assert.throws(() => apply(["file:fails"]), { name: "ConsfigError", message: "file:fails: it failed" });
  assert.throws(() => apply(["nope"]), { message: '"nope" is not a property name: expected module:property, such as "file:has-content"' });
  assert.throws(() => Form.from({ a: 1 }), /^ConsfigError: a form is a JSON array whose first element is a property name, like \["file:has-content", "\/etc\/motd", "hi\\n"\]; got \{"a":1\}$/);
  const form = new Form("user:exists", "ada", { shell: "/bin/zsh" });
  assert.equal(String(form), '["user:exists","ada",{"shell":"/bin/zsh"}]');
  assert.deepEqual(Form.from(String(form)), form);
  assert.equal(form.module, "user");
  assert.equal(subdeploy(["chroot:/srv/c"], [form]), "unchanged");
  assert.deepEqual(fake.forms.at(-1), { contexts: ["chroot:/srv/c"], forms: [String(form)] });
  assert.throws(() => subdeploy("chroot:/x", []), /the contexts must be a list of strings/);
});

test("host calls take and give JavaScript values", () => {
  fake.reset();
  host.writeFile("/a", "héllo", "0600");
  assert.deepEqual(fake.files.get("/a"), { contents: new TextEncoder().encode("héllo"), mode: 0o600 });
  assert.equal(host.readText("/a"), "héllo");
  assert.deepEqual(host.stat("/a"), {
    kind: "file",
    mode: 0o600,
    size: 6,
    uid: 0,
    gid: 0,
    mtime: 1700000000,
    isFile: true,
    isDirectory: false,
    isSymlink: false,
  });
  assert.equal(host.stat("/none"), null);
  assert.equal(host.exists("/none"), false);
  host.writeFile("/bin", new Uint8Array([0xff, 0xfe]));
  assert.throws(() => host.readText("/bin"), { name: "ConsfigError", message: "/bin is not UTF-8 text" });
  assert.throws(() => host.writeFile("/a", 42), { message: "the contents must be a string or a Uint8Array, not 42" });
  assert.throws(() => host.writeFile("/a", "x", 0o10000), /4096 is not a file mode/);
  assert.throws(() => host.chmod("/a", "rwx"), /"rwx" is not a file mode/);
  assert.throws(() => host.readFile("/none"), { name: "ConsfigError", message: "/none: No such file or directory" });
  assert.throws(() => host.readFile(undefined), { message: "path must be a string, not undefined" });
  host.chown("/a", 0, null);
  assert.deepEqual(fake.forms.at(-1), ["chown", "/a", "0", null]);
  assert.deepEqual(host.whoami(), { uid: 0, gid: 0, user: "root", home: null });
  assert.equal(host.osRelease().prettyName, null);
  assert.equal(host.lookupUser("root").home, "/root");
  assert.equal(host.lookupUser("ada"), null);
  assert.equal(host.dataText("password"), "s3cret");
  assert.throws(() => host.data("other"), { message: "no data other" });
  fake.vars = { colour: "blue", ports: [80] };
  assert.equal(host.var("colour"), "blue");
  assert.deepEqual(host.var("ports"), [80]);
  assert.equal(host.var("none"), undefined);
  assert.deepEqual(host.vars(), { colour: "blue", ports: [80] });
  host.log.warn("careful", { n: 1 });
  assert.equal(fake.logs.at(-1), 'warn: careful {"n":1}');
});

test("commands say whether they change the host, and fail on a non-zero exit", () => {
  fake.reset();
  const bytes = (s) => new TextEncoder().encode(s);
  fake.answer = (cmd) =>
    cmd.argv[0] === "false"
      ? { exitCode: 1, stdout: bytes(""), stderr: bytes("it's broken\n") }
      : { exitCode: 0, stdout: bytes("out\n"), stderr: bytes("") };
  const out = change("useradd", "-m", "ada").stdin("pw\n").env("LC_ALL", "C").cwd("/tmp").run();
  assert.equal(out.stdoutText, "out\n");
  assert.equal(out.success, true);
  assert.deepEqual(fake.commands.at(-1), {
    argv: ["useradd", "-m", "ada"],
    stdin: bytes("pw\n"),
    env: [["LC_ALL", "C"]],
    cwd: "/tmp",
    readOnly: false,
  });
  assert.equal(fake.logs.at(-1), "info: out", "what it printed is logged");
  query(["getent", "passwd", "ada"]).run();
  assert.equal(fake.commands.at(-1).readOnly, true);
  assert.equal(fake.commands.at(-1).stdin, undefined);
  assert.throws(() => change("false", "it's").run(), {
    name: "ConsfigError",
    message: "false 'it'\\''s': exit code 1: it's broken",
  });
  const failed = change("false").run({ check: false });
  assert.equal(failed.exitCode, 1);
  assert.equal(failed.status, "exit code 1");
  fake.answer = () => new Error("denied: no grant command:/bin/x");
  assert.throws(() => change("/bin/x").run(), { message: "denied: no grant command:/bin/x" });
  assert.throws(() => change(), { message: "a command needs at least the program to run" });
  assert.throws(() => change("ls", undefined), { message: "argument 1 of the command must be a string, not undefined" });
  assert.equal(String(change("sh", "-c", "echo it's > /x", "")), "sh -c 'echo it'\\''s > /x' ''");
});

test("after init the console writes to the form's output", () => {
  fake.reset();
  console.log("hello", 1, { a: [2] });
  console.error(new Error("bad"));
  assert.equal(fake.logs[0], 'info: hello 1 {"a":[2]}');
  assert.match(fake.logs[1], /^error: Error: bad\n/);
});

test("Change combines", () => {
  assert.equal(Change.from(true), "changed");
  assert.equal(Change.from(0), "unchanged");
  assert.equal(Change.any("unchanged", ["unchanged", "changed"]), "changed");
  assert.equal(Change.any(), "unchanged");
  assert.ok(Object.isFrozen(Change));
});
