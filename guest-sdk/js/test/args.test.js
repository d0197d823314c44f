// Arranging a form's arguments into parameters, in the runtime's words (the
// cases of guest-sdk/contract/src/arguments.rs and guest-sdk/src/args.rs).

import assert from "node:assert/strict";
import { test } from "node:test";

import { arrange, checkArgs, parseArgs, values } from "../lib/args.js";
import { parseSchema } from "../lib/schema.js";

function param(name, schema, optional, dflt) {
  return {
    name,
    schema: parseSchema(schema),
    optional,
    default: dflt,
    defaultJson: dflt === undefined ? undefined : JSON.stringify(dflt),
  };
}

/** `user:exists`-like: one required, two optional, one with a default. */
const ACCOUNT = [
  param("name", "string", false),
  param("home", "optional<string>", true),
  param("shell", "string", true, "/bin/sh"),
];

const err = (args) => {
  try {
    checkArgs(ACCOUNT, args);
  } catch (e) {
    assert.equal(e.name, "ConsfigError");
    return e.message;
  }
  assert.fail(`accepted ${JSON.stringify(args)}`);
};
const call = (args) => values(ACCOUNT, checkArgs(ACCOUNT, args));

test("parses only arrays", () => {
  assert.deepEqual(parseArgs('["/x", 1]'), ["/x", 1]);
  assert.throws(() => parseArgs('{"a": 1}'), { message: "the arguments must be a JSON array, not an object" });
  assert.throws(() => parseArgs('"x"'), { message: "the arguments must be a JSON array, not a string" });
  assert.throws(() => parseArgs("[1,"), /^ConsfigError: the arguments are not valid JSON: /);
});

test("takes positional and named arguments", () => {
  assert.deepEqual(call(["ada"]), ["ada", null, "/bin/sh"]);
  assert.deepEqual(call(["ada", "/home/a"]), ["ada", "/home/a", "/bin/sh"]);
  assert.deepEqual(call(["ada", { shell: "/bin/zsh" }]), ["ada", null, "/bin/zsh"]);
  assert.deepEqual(call(["ada", "/h", { shell: "/bin/zsh" }]), ["ada", "/h", "/bin/zsh"]);
  assert.deepEqual(call(["ada", {}]), ["ada", null, "/bin/sh"]);
  assert.deepEqual(call(["ada", { home: null }]), ["ada", null, "/bin/sh"]);
  assert.deepEqual(call(["ada", null, "/bin/zsh"]), ["ada", null, "/bin/zsh"]);
});

test("names what is wrong", () => {
  assert.equal(err(["ada", { shel: "/bin/zsh" }]), 'unknown keyword argument "shel": it takes home, shell');
  assert.equal(err(["ada", { name: "bob" }]), "argument 1 (name) is required: give it by position, not by name");
  assert.equal(err(["ada", "/h", { home: "/g" }]), "argument 2 (home) is given twice: by position and by name");
  assert.equal(err(["ada", { home: 42 }]), "keyword argument home: expected a string or null, got an integer");
  assert.equal(err(["ada", { shell: null }]), "keyword argument shell: expected a string, got null");
  assert.equal(err(["ada", "/h", "/bin/sh", "extra"]), "too many arguments: expected at most 3 (name, home, shell), got 4");
  assert.equal(err([]), "missing argument 1 (name)");
  assert.equal(err([{ shell: "/bin/zsh" }]), "argument 1 (name): expected a string, got an object");
  // Names are data: nothing of Object.prototype is a parameter.
  assert.equal(err(["ada", JSON.parse('{"__proto__": 1}')]), 'unknown keyword argument "__proto__": it takes home, shell');
  assert.equal(err(["ada", { constructor: 1 }]), 'unknown keyword argument "constructor": it takes home, shell');
});

test("an object in a required place is that argument", () => {
  const settings = [param("settings", "object", false)];
  assert.deepEqual(arrange(settings, [{ a: 1 }]), [{ how: "positional", value: { a: 1 } }]);
  assert.throws(() => checkArgs(settings, [{ a: 1 }, { b: 2 }]), {
    message: "too many arguments: expected 1 (settings), got 2",
  });
  assert.throws(() => checkArgs([], [1]), { message: "too many arguments: expected none, got 1" });
  assert.throws(() => checkArgs([], [{}]), { message: "too many arguments: expected none, got 1" });
});

test("a left-out argument gets a fresh copy of its default", () => {
  const list = [param("items", "list<string>", true, ["a"])];
  const first = values(list, checkArgs(list, []));
  first[0].push("changed by the property");
  assert.deepEqual(values(list, checkArgs(list, [])), [["a"]]);
});
