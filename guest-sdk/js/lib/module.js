// The module as the host sees it: `module(...)` names it, `property(...)`
// adds each property to its table, and `properties` — which the app
// re-exports — is the contract's `properties` interface (init, describe,
// validate, apply) working on that table.
//
// `module` and `property` run at the app's top level, which runs when the
// module is built (the build snapshots the initialised engine), so every
// mistake in a declaration fails the build, naming the property.

import { checkArgs, placeOf, parseArgs, values } from "./args.js";
import { isChange } from "./change.js";
import { ConsfigError, reasonOf, stackOf, unexpected } from "./error.js";
import { validateForm } from "./form.js";
import { log, routeConsole } from "./host.js";
import { dedent, isName, isPropertyPart, kebab, splitProperty } from "./names.js";
import { check, describeValue, eachForm, mayHoldForms, parseSchema, schemaText } from "./schema.js";

/** The module being defined: its declaration and its properties, in order. */
const table = {
  module: null,
  /** Property name within the module → its entry. A Map: names are data. */
  properties: new Map(),
};

function refuseUnknownKeys(what, options, known) {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new ConsfigError(`${what}: the options must be an object such as {${known.join(", ")}}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ConsfigError(`${what}: unknown option ${JSON.stringify(key)}: it takes ${known.join(", ")}`);
    }
  }
}

/**
 * Name the module and say what it needs: `module("web", {doc: "...",
 * needs: ["write:/srv/www"]})`. `init`, if given, runs once when the
 * runtime loads the module, before the copy every form starts from is taken.
 */
export function module(name, options = {}) {
  refuseUnknownKeys(`module ${name}`, options, ["doc", "needs", "init"]);
  if (table.module !== null) {
    throw new ConsfigError(`module(${JSON.stringify(name)}) after module(${JSON.stringify(table.module.name)}): a module names itself once`);
  }
  if (!isName(name)) {
    throw new ConsfigError(
      `${describeValue(name)} is not a module name: lowercase letters, digits and single dashes, starting with a letter, such as "web-site"`,
    );
  }
  const { doc = "", needs = [], init = null } = options;
  if (typeof doc !== "string") throw new ConsfigError(`module ${name}: doc must be a string`);
  if (!Array.isArray(needs) || !needs.every((n) => typeof n === "string")) {
    throw new ConsfigError(`module ${name}: needs must be a list of grants, such as ["write:/srv/www"]`);
  }
  if (init !== null && typeof init !== "function") {
    throw new ConsfigError(`module ${name}: init must be a function`);
  }
  table.module = { name, doc: dedent(doc), needs: [...needs], init };
}

/** One parameter, as `params` gives it, checked and made ready. */
function parameter(where, spec, index) {
  const number = index + 1;
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new ConsfigError(`${where}: parameter ${number} must be an object such as {name: "path", schema: "string"}`);
  }
  refuseUnknownKeys(`${where}: parameter ${number}`, spec, ["name", "schema", "default"]);
  if (typeof spec.name !== "string" || !isName(kebab(spec.name))) {
    throw new ConsfigError(`${where}: parameter ${number} needs a name of letters, digits, dashes or underscores, such as "home-dir" or "homeDir"`);
  }
  const name = kebab(spec.name);
  let schema;
  try {
    schema = parseSchema(spec.schema ?? "");
  } catch (e) {
    throw new ConsfigError(`${where}: parameter ${number} (${name}): ${e.message}`);
  }
  let defaultJson;
  if (spec.default !== undefined) {
    defaultJson = JSON.stringify(spec.default);
    const mismatch = defaultJson === undefined ? null : check(schema, JSON.parse(defaultJson));
    if (defaultJson === undefined || mismatch) {
      const why = mismatch ? `${mismatch}` : "it is no JSON value";
      throw new ConsfigError(`${where}: the default of argument ${number} (${name}), ${describeValue(spec.default)}, is no value of it: ${why}`);
    }
  }
  return { name, schema, default: spec.default, defaultJson, optional: false };
}

/**
 * Add a property: `property("website", (root, title) => Change.CHANGED,
 * {doc: "...", params: [{name: "root", schema: "string"}, {name: "title",
 * schema: "string", default: "x"}]})`. The function gets one JavaScript value
 * per parameter, in order, and returns a Change. Returns the function, so
 * the module can call its own property directly.
 */
export function property(name, fn, options = {}) {
  const where = `property ${describeValue(name)}`;
  refuseUnknownKeys(where, options, ["doc", "params"]);
  if (!isPropertyPart(name)) {
    throw new ConsfigError(
      `${describeValue(name)} is not a property name: lowercase words joined by dashes (or dots), such as "has-content"`,
    );
  }
  if (typeof fn !== "function") {
    throw new ConsfigError(`${where}: the property is a function, not ${describeValue(fn)}`);
  }
  if (table.properties.has(name)) {
    throw new ConsfigError(`${where} is defined twice`);
  }
  const { doc = "", params = [] } = options;
  if (typeof doc !== "string") throw new ConsfigError(`${where}: doc must be a string`);
  if (!Array.isArray(params)) throw new ConsfigError(`${where}: params must be a list`);
  const described = params.map((spec, i) => parameter(where, spec, i));
  const seen = new Set();
  for (const p of described) {
    if (seen.has(p.name)) throw new ConsfigError(`${where}: two parameters are named ${p.name}`);
    seen.add(p.name);
  }
  // Optional: the trailing parameters with a default or of optional<T>.
  for (let i = described.length - 1; i >= 0; i--) {
    const p = described[i];
    if (p.default === undefined && p.schema.kind !== "optional") break;
    p.optional = true;
  }
  const misplaced = described.find((p) => p.default !== undefined && !p.optional);
  if (misplaced) {
    throw new ConsfigError(`${where}: parameter ${misplaced.name} has a default, but a required parameter follows it: put optional parameters last`);
  }
  if (fn.length > described.length) {
    throw new ConsfigError(`${where}: the function takes ${fn.length} parameters, but params describes ${described.length}`);
  }
  table.properties.set(name, { name, fn, doc: dedent(doc), params: described });
  return fn;
}

function declared() {
  if (table.module === null) {
    throw new ConsfigError(`the module never names itself: call module("name", {doc: "..."}) at its top level`);
  }
  return table.module;
}

/** The entry of the property with this full name, e.g. `web:site`. */
function entry(full) {
  const { name } = declared();
  const parts = splitProperty(full);
  const found = parts !== null && parts[0] === name ? table.properties.get(parts[1]) : undefined;
  if (found) return found;
  const known = [...table.properties.keys()].map((p) => `${name}:${p}`);
  const has = known.length ? `it has ${known.join(", ")}` : "it has none";
  throw new ConsfigError(`module ${name} has no property ${full} (${has})`);
}

/**
 * Check a form's arguments without any effect: arranged and of their
 * schemas, and every form among them valid — with this module itself when
 * it is one of its own, else by the host.
 */
function validate(full, argsText) {
  const property = entry(full);
  const given = checkArgs(property.params, parseArgs(argsText));
  property.params.forEach((param, index) => {
    const g = given[index];
    if (g.how === "missing" || !mayHoldForms(param.schema)) return;
    eachForm(param.schema, g.value, (form, place) => {
      const inside = [placeOf(property.params, index, g), ...place, form[0]].join(": ");
      try {
        if (splitProperty(form[0])[0] === table.module.name) {
          validate(form[0], JSON.stringify(form.slice(1)));
        } else {
          validateForm(form);
        }
      } catch (e) {
        throw e instanceof ConsfigError ? e.context(inside) : e;
      }
    });
  });
}

function applyProperty(full, argsText) {
  const property = entry(full);
  const given = checkArgs(property.params, parseArgs(argsText));
  let result;
  try {
    result = property.fn(...values(property.params, given));
  } catch (e) {
    throw unexpected(e);
  }
  if (isChange(result)) return result;
  if (result !== null && typeof result === "object" && typeof result.then === "function") {
    throw new ConsfigError(`${full} returned a Promise: a property runs to completion synchronously (host calls need no await)`);
  }
  throw new ConsfigError(`${full} returned ${describeValue(result)}: return Change.CHANGED or Change.UNCHANGED`);
}

/**
 * Run an export's work, turning whatever it throws into the error text the
 * contract's `result` carries; an unexpected exception's stack goes to the
 * form's output.
 */
function guarded(work) {
  try {
    return work();
  } catch (e) {
    const stack = stackOf(e);
    if (stack !== null) {
      try {
        log.error(stack);
      } catch {
        // The reason still says what and where.
      }
    }
    throw reasonOf(e);
  }
}

/** The contract's `properties` interface: the app re-exports it. */
export const properties = Object.freeze({
  init() {
    guarded(() => {
      routeConsole();
      const { init } = declared();
      try {
        if (init) init();
      } catch (e) {
        throw unexpected(e);
      }
    });
  },

  describe() {
    const module = table.module ?? { name: "", doc: "", needs: [] };
    return {
      name: module.name,
      doc: module.doc,
      needs: module.needs,
      properties: [...table.properties.values()].map((p) => ({
        name: `${module.name}:${p.name}`,
        doc: p.doc,
        params: p.params.map((param) => ({
          name: param.name,
          schema: schemaText(param.schema),
          optional: param.optional,
          default: param.defaultJson,
        })),
      })),
    };
  },

  validate(name, args) {
    guarded(() => validate(name, args));
  },

  apply(name, args) {
    return guarded(() => applyProperty(name, args));
  },
});
