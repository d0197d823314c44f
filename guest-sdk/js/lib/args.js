// Which argument of a form goes to which parameter of its property, and
// whether each is of its parameter's schema: the contract's rules and words
// (guest-sdk/contract/src/arguments.rs, guest-sdk/src/args.rs).
//
// Required parameters are given by position. Optional ones are given by
// position too, or by name in a JSON object that ends the form:
// `["user:exists", "ada", {"shell": "/bin/zsh"}]`. The last argument is that
// object exactly when the property has optional parameters, the last
// argument is a JSON object, and every required argument comes before it.
// So an object given for a required parameter is always that parameter, and
// an optional parameter whose value is itself an object is given by name.

import { ConsfigError } from "./error.js";
import { acceptsNull, check, kind } from "./schema.js";

/** The JSON text the host passes as a form's arguments, as an array. */
export function parseArgs(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConsfigError(`the arguments are not valid JSON: ${e.message}`);
  }
  if (!Array.isArray(value)) {
    throw new ConsfigError(`the arguments must be a JSON array, not ${kind(value)}`);
  }
  return value;
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Where each parameter's value is: one `{how, value}` per parameter, `how`
 * being "positional", "named" or "missing". Refuses more positional
 * arguments than parameters, unknown names, names of required parameters,
 * and a parameter given both ways.
 */
export function arrange(params, args) {
  const required = params.filter((p) => !p.optional).length;
  let positional = args;
  let named = null;
  const last = args[args.length - 1];
  if (required < params.length && isObject(last) && args.length - 1 >= required) {
    positional = args.slice(0, -1);
    named = last;
  }
  checkCount(params, positional.length);
  const given = params.map((_, i) =>
    i < positional.length ? { how: "positional", value: positional[i] } : { how: "missing" },
  );
  for (const key of named ? Object.keys(named) : []) {
    const index = params.findIndex((p) => p.name === key);
    if (index < 0) {
      throw new ConsfigError(`unknown keyword argument ${JSON.stringify(key)}: ${keywords(params)}`);
    }
    const number = index + 1;
    if (!params[index].optional) {
      throw new ConsfigError(`argument ${number} (${key}) is required: give it by position, not by name`);
    }
    if (given[index].how === "positional") {
      throw new ConsfigError(`argument ${number} (${key}) is given twice: by position and by name`);
    }
    given[index] = { how: "named", value: named[key] };
  }
  return given;
}

function keywords(params) {
  const names = params.filter((p) => p.optional).map((p) => p.name);
  return names.length ? `it takes ${names.join(", ")}` : "this property takes none";
}

function checkCount(params, given) {
  if (given <= params.length) return;
  const names = params.map((p) => p.name).join(", ");
  let expected;
  if (params.length === 0) expected = "none";
  else if (params.some((p) => p.optional)) expected = `at most ${params.length} (${names})`;
  else expected = `${params.length} (${names})`;
  throw new ConsfigError(`too many arguments: expected ${expected}, got ${given}`);
}

/** What a message about parameter `index` calls it, given as `given` says. */
export function placeOf(params, index, given) {
  const { name } = params[index];
  return given.how === "named" ? `keyword argument ${name}` : `argument ${index + 1} (${name})`;
}

/**
 * Arrange a form's arguments and check each against its parameter's schema.
 * Returns the arrangement; throws a ConsfigError naming the argument.
 */
export function checkArgs(params, args) {
  const given = arrange(params, args);
  params.forEach((param, index) => {
    const g = given[index];
    if (g.how === "missing") {
      if (!param.optional && param.default === undefined && !acceptsNull(param.schema)) {
        throw new ConsfigError(`missing argument ${index + 1} (${param.name})`);
      }
      return;
    }
    const m = check(param.schema, g.value);
    if (m) throw new ConsfigError(`${placeOf(params, index, g)}: ${m}`);
  });
  return given;
}

/**
 * The values the property's function is called with, in parameter order: a
 * left-out argument takes a fresh copy of its default, else null.
 */
export function values(params, given) {
  return params.map((param, index) => {
    const g = given[index];
    if (g.how !== "missing") return g.value;
    return param.default === undefined ? null : JSON.parse(param.defaultJson);
  });
}
