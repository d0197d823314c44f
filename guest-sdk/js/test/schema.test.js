// The schema language: parsing, canonical text, checking values, in the
// runtime's words (the cases of guest-sdk/contract/src/schema.rs).

import assert from "node:assert/strict";
import { test } from "node:test";

import { acceptsNull, check, eachForm, parseSchema, schemaText } from "../lib/schema.js";

const parse = (text) => parseSchema(text);
const mismatch = (schema, value) => String(check(parse(schema), value));

test("parses and prints every schema canonically", () => {
  for (const text of [
    "string",
    "integer",
    "number",
    "bool",
    "form",
    "any",
    "object",
    "list<string>",
    "object<list<integer>>",
    "optional<list<form>>",
    "string|integer",
    "list<string|integer>",
    "optional<string|list<string>>",
  ]) {
    assert.equal(schemaText(parse(text)), text);
  }
  assert.equal(schemaText(parse(" list < string | bool > ")), "list<string|bool>");
});

test("refuses what is no schema", () => {
  for (const [text, error] of [
    ["String", '"String" is not a schema: expected string'],
    ["Vec<String>", '"Vec" is not a schema'],
    ["list", "list and optional take a type"],
    ["list<string", "a `<` is not closed"],
    ["string>", "something follows its end"],
    ["", "a type is missing"],
    ["string|", "a type is missing"],
    ["list<>", "a type is missing"],
  ]) {
    assert.throws(() => parse(text), (e) => e.message.includes(error), text);
  }
  assert.throws(() => parse(`${"list<".repeat(40)}string${">".repeat(40)}`), /nesting more than 16 deep/);
  assert.throws(() => parse(`${"string|".repeat(200)}string`), /more than 1024 bytes/);
  assert.throws(() => parseSchema(42), /a schema is text/);
});

test("checks values", () => {
  assert.equal(check(parse("string"), "x"), null);
  assert.equal(check(parse("integer"), -3), null);
  assert.equal(check(parse("number"), 1.5), null);
  assert.equal(check(parse("any"), null), null);
  assert.equal(check(parse("optional<string>"), null), null);
  assert.equal(check(parse("form"), ["file:absent", "/x"]), null);
  assert.equal(check(parse("object<string>"), { a: "b" }), null);
  assert.equal(check(parse("string|integer"), 420), null);
  assert.equal(mismatch("integer", 1.5), "expected an integer, got a number");
  assert.equal(mismatch("string", null), "expected a string, got null");
  assert.equal(mismatch("list<string>", ["a", 2]), "item 2: expected a string, got an integer");
  assert.equal(mismatch("object<integer>", { port: "80" }), 'key "port": expected an integer, got a string');
  assert.equal(
    mismatch("list<form>", [["nope"]]),
    "item 1: expected a form (an array starting with a property name), got a list",
  );
  assert.equal(mismatch("string|integer", true), "expected a string or an integer, got a boolean");
  assert.equal(mismatch("string|list<string>", ["a", 1]), "item 2: expected a string, got an integer");
  assert.equal(mismatch("optional<list<integer>>", "x"), "expected a list of integers or null, got a string");
  assert.equal(mismatch("object", []), "expected an object, got a list");
  assert.equal(mismatch("list<any>", {}), "expected a list of values, got an object");
});

test("knows which schemas take null", () => {
  assert.ok(acceptsNull(parse("optional<string>")));
  assert.ok(acceptsNull(parse("any")));
  assert.ok(acceptsNull(parse("string|optional<integer>")));
  assert.ok(!acceptsNull(parse("string")));
  assert.ok(!acceptsNull(parse("list<any>")));
});

test("finds the forms a value holds, and where", () => {
  const found = [];
  const visit = (form, place) => found.push([form[0], place.join(": ")]);
  eachForm(parse("list<form>"), [["a:b"], ["c:d", 1]], visit);
  eachForm(parse("object<optional<form>>"), { web: ["e:f"], none: null }, visit);
  eachForm(parse("string|form"), ["g:h"], visit);
  eachForm(parse("string|form"), "g:h", visit);
  eachForm(parse("any"), ["i:j"], visit);
  assert.deepEqual(found, [
    ["a:b", "item 1"],
    ["c:d", "item 2"],
    ["e:f", 'key "web"'],
    ["g:h", ""],
  ]);
});
