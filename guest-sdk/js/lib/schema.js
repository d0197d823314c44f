// What values a parameter takes, in Consfig's schema language — the same for
// modules in every language (`param-info.schema` in wit/consfig.wit):
// `string`, `integer`, `number`, `bool`, `form`, `any`, `list<T>`, `object`,
// `object<T>`, `optional<T>` and `A|B`.
//
// The runtime checks every argument against its parameter's schema before
// the module sees a form. The SDK parses each schema when the module is
// built (a typo fails the build, not a deploy), checks defaults against it
// then, and walks arguments by it to find the forms to validate. Its words
// are the runtime's (guest-sdk/contract/src/schema.rs), so the messages read
// the same whichever side speaks.

import { isForm } from "./names.js";

/** The longest schema text accepted. */
export const MAX_SCHEMA_LEN = 1024;
/** How deep `list<…>`, `object<…>` and `optional<…>` may nest. */
export const MAX_SCHEMA_DEPTH = 16;

const SCALARS = new Set(["string", "integer", "number", "bool", "form", "any"]);

function unknown(word) {
  return `${JSON.stringify(word)} is not a schema: expected string, integer, number, bool, form, any, list<T>, object, object<T>, optional<T> or A|B`;
}

/**
 * Parse a schema text into a tree: `{kind: "string"}`, `{kind: "list", item}`,
 * `{kind: "object", values}` (values null for any object), `{kind:
 * "optional", inner}`, `{kind: "either", all}`. Throws an Error saying what
 * is wrong.
 */
export function parseSchema(text) {
  if (typeof text !== "string") {
    throw new Error(`a schema is text, such as "string" or "list<string>", not ${describeValue(text)}`);
  }
  if (text.length > MAX_SCHEMA_LEN) {
    throw new Error(`a schema of more than ${MAX_SCHEMA_LEN} bytes`);
  }
  let at = 0;
  const malformed = (why) => new Error(`${JSON.stringify(text)} is not a schema: ${why}`);
  const skipSpaces = () => {
    while (at < text.length && /\s/.test(text[at])) at++;
  };
  const eat = (c) => {
    skipSpaces();
    if (text[at] === c) {
      at++;
      return true;
    }
    return false;
  };
  const either = (depth) => {
    if (depth > MAX_SCHEMA_DEPTH) {
      throw new Error(`a schema nesting more than ${MAX_SCHEMA_DEPTH} deep`);
    }
    const all = [term(depth)];
    while (eat("|")) all.push(term(depth));
    return all.length === 1 ? all[0] : { kind: "either", all };
  };
  const term = (depth) => {
    skipSpaces();
    const start = at;
    while (at < text.length && /[A-Za-z]/.test(text[at])) at++;
    const word = text.slice(start, at);
    if (SCALARS.has(word)) return { kind: word };
    if (word === "") throw malformed("a type is missing");
    if (!["list", "object", "optional"].includes(word)) throw new Error(unknown(word));
    if (!eat("<")) {
      if (word === "object") return { kind: "object", values: null };
      throw malformed("list and optional take a type: list<string>");
    }
    const inner = either(depth + 1);
    if (!eat(">")) throw malformed("a `<` is not closed");
    if (word === "list") return { kind: "list", item: inner };
    if (word === "object") return { kind: "object", values: inner };
    return { kind: "optional", inner };
  };
  const schema = either(0);
  skipSpaces();
  if (at !== text.length) throw malformed("something follows its end");
  return schema;
}

/** The canonical text of a parsed schema, without spaces. */
export function schemaText(schema) {
  switch (schema.kind) {
    case "list":
      return `list<${schemaText(schema.item)}>`;
    case "object":
      return schema.values ? `object<${schemaText(schema.values)}>` : "object";
    case "optional":
      return `optional<${schemaText(schema.inner)}>`;
    case "either":
      return schema.all.map(schemaText).join("|");
    default:
      return schema.kind;
  }
}

/** Whether `null` is a value of the schema. */
export function acceptsNull(schema) {
  switch (schema.kind) {
    case "any":
    case "optional":
      return true;
    case "either":
      return schema.all.some(acceptsNull);
    default:
      return false;
  }
}

/** A value that is not of its schema: where, what was expected, what it was. */
export class Mismatch {
  constructor(expected, got, within = []) {
    this.expected = expected;
    this.got = got;
    this.within = within;
  }

  inside(place) {
    return new Mismatch(this.expected, this.got, [place, ...this.within]);
  }

  toString() {
    const places = this.within.map((p) => `${p}: `).join("");
    return `${places}expected ${this.expected}, got ${this.got}`;
  }
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Check `value` against `schema`: null when it is of it, else the Mismatch
 * saying where and what.
 */
export function check(schema, value) {
  switch (schema.kind) {
    case "any":
      return null;
    case "string":
      return typeof value === "string" ? null : mismatch(schema, value);
    case "number":
      return typeof value === "number" ? null : mismatch(schema, value);
    case "integer":
      return Number.isInteger(value) ? null : mismatch(schema, value);
    case "bool":
      return typeof value === "boolean" ? null : mismatch(schema, value);
    case "form":
      return isForm(value) ? null : mismatch(schema, value);
    case "optional": {
      if (value === null) return null;
      const m = check(schema.inner, value);
      // Said of the value itself, the mismatch names null too.
      return m && m.within.length === 0 ? new Mismatch(expected(schema), m.got) : m;
    }
    case "list": {
      if (!Array.isArray(value)) return mismatch(schema, value);
      for (let i = 0; i < value.length; i++) {
        const m = check(schema.item, value[i]);
        if (m) return m.inside(`item ${i + 1}`);
      }
      return null;
    }
    case "object": {
      if (!isObject(value)) return mismatch(schema, value);
      if (!schema.values) return null;
      for (const key of Object.keys(value)) {
        const m = check(schema.values, value[key]);
        if (m) return m.inside(`key ${JSON.stringify(key)}`);
      }
      return null;
    }
    case "either": {
      if (schema.all.some((s) => check(s, value) === null)) return null;
      // The one alternative of the value's own kind says more than "none
      // of them" when the value is a list or an object.
      const sameKind = schema.all.filter((s) => isSameKind(s, value));
      if (sameKind.length === 1) return check(sameKind[0], value);
      return mismatch(schema, value);
    }
    default:
      throw new Error(`unknown schema kind ${schema.kind}`);
  }
}

function isSameKind(schema, value) {
  return (
    ((schema.kind === "list" || schema.kind === "form") && Array.isArray(value)) ||
    (schema.kind === "object" && isObject(value))
  );
}

function mismatch(schema, value) {
  return new Mismatch(expected(schema), kind(value));
}

/** What the schema takes, in words: `a list of strings`. */
export function expected(schema) {
  switch (schema.kind) {
    case "string":
      return "a string";
    case "integer":
      return "an integer";
    case "number":
      return "a number";
    case "bool":
      return "a boolean";
    case "form":
      return "a form (an array starting with a property name)";
    case "any":
      return "any value";
    case "list":
      return `a list of ${plural(schema.item)}`;
    case "object":
      return schema.values ? `an object of ${plural(schema.values)}` : "an object";
    case "optional":
      return `${expected(schema.inner)} or null`;
    case "either":
      return schema.all.map(expected).join(" or ");
    default:
      throw new Error(`unknown schema kind ${schema.kind}`);
  }
}

function plural(schema) {
  switch (schema.kind) {
    case "string":
      return "strings";
    case "integer":
      return "integers";
    case "number":
      return "numbers";
    case "bool":
      return "booleans";
    case "form":
      return "forms";
    case "any":
      return "values";
    case "list":
      return `lists (${expected(schema)})`;
    case "object":
      return `objects (${expected(schema)})`;
    default:
      return `values that are ${expected(schema)}`;
  }
}

/** What kind of JSON value `value` is, in words. */
export function kind(value) {
  if (value === null) return "null";
  if (typeof value === "boolean") return "a boolean";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a number";
  if (typeof value === "string") return "a string";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `no JSON value (${typeof value})`;
}

/** A value shown in a message: its JSON, shortened. */
export function describeValue(value) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) text = String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/**
 * Call `visit(form, place)` for every form that the schema says `value`
 * holds, with `place` the path to it (`item 2`, `key "web"`), in order.
 * The value has been checked against the schema; inside `any` and plain
 * `object` the module decodes what it finds, so nothing there is a form
 * to the SDK.
 */
export function eachForm(schema, value, visit, place = []) {
  switch (schema.kind) {
    case "form":
      visit(value, place);
      return;
    case "optional":
      if (value !== null) eachForm(schema.inner, value, visit, place);
      return;
    case "list":
      value.forEach((item, i) => eachForm(schema.item, item, visit, [...place, `item ${i + 1}`]));
      return;
    case "object":
      if (schema.values) {
        for (const key of Object.keys(value)) {
          eachForm(schema.values, value[key], visit, [...place, `key ${JSON.stringify(key)}`]);
        }
      }
      return;
    case "either": {
      const taken = schema.all.find((s) => check(s, value) === null);
      if (taken) eachForm(taken, value, visit, place);
      return;
    }
    default:
      return;
  }
}

/** Whether a form can be anywhere in a value of the schema. */
export function mayHoldForms(schema) {
  switch (schema.kind) {
    case "form":
      return true;
    case "optional":
      return mayHoldForms(schema.inner);
    case "list":
      return mayHoldForms(schema.item);
    case "object":
      return schema.values !== null && mayHoldForms(schema.values);
    case "either":
      return schema.all.some(mayHoldForms);
    default:
      return false;
  }
}
