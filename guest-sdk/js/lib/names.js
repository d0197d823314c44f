// Module, property and parameter names, and the shape of a form, as the
// contract defines them (guest-sdk/contract/src/name.rs and form.rs).
//
// A name is lowercase ASCII letters, digits and single inner dashes,
// starting with a letter: `file`, `has-content`. A property's own name may
// also have single inner dots (`standard-sources.list`). A full property
// name joins its module's and its own with a colon: `file:has-content`. A
// form is a JSON array whose first element is a full property name.

/** Whether `name` may name a module (or a parameter). */
export function isName(name) {
  return typeof name === "string" && /^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$/.test(name);
}

/** Whether `name` may name a property within its module. */
export function isPropertyPart(name) {
  return typeof name === "string" && name.split(".").every(isName);
}

/** The module and property parts of a full property name, or null. */
export function splitProperty(full) {
  if (typeof full !== "string") return null;
  const colon = full.indexOf(":");
  if (colon < 0) return null;
  const module = full.slice(0, colon);
  const property = full.slice(colon + 1);
  return isName(module) && isPropertyPart(property) ? [module, property] : null;
}

/** Whether `value` is a form: an array whose first element is a full property name. */
export function isForm(value) {
  return Array.isArray(value) && splitProperty(value[0]) !== null;
}

/**
 * A parameter's name as forms give it: kebab case, from the name written in
 * JavaScript (`homeDir` and `home_dir` are both `home-dir`).
 */
export function kebab(name) {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/_/g, "-")
    .toLowerCase();
}

/**
 * Text as written in a template literal, without the indentation its lines
 * after the first share (the first starts right after the backtick), and
 * without leading and trailing blank lines.
 */
export function dedent(text) {
  const lines = text.split("\n");
  const rest = lines.slice(1).filter((l) => l.trim() !== "");
  const common = rest.length ? Math.min(...rest.map((l) => l.match(/^[ \t]*/)[0].length)) : 0;
  const out = [lines[0].trimStart(), ...lines.slice(1).map((l) => l.slice(common).trimEnd())];
  return out.join("\n").trim();
}
