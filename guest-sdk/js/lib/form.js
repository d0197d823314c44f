// Forms — `["file:has-content", "/etc/motd", "hi\n"]` — built in JavaScript,
// and the calls of the contract's `forms` interface that take them: `apply`
// (a form of any loaded module's property), `subdeploy` (forms in other
// contexts: a chroot, another user), `dumpImage` (a bundle), and
// `validateForm`, which the SDK calls for the forms among a form's
// arguments while it is validated.

import {
  apply as witApply,
  dumpImage as witDumpImage,
  subdeploy as witSubdeploy,
  validateForm as witValidateForm,
} from "consfig:module/forms@0.5.0";

import { ConsfigError, hostCall } from "./error.js";
import { splitProperty } from "./names.js";

const EXAMPLE = `like ["file:has-content", "/etc/motd", "hi\\n"]`;

function shorten(text, max) {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max).join("")}…`;
}

function checkName(name) {
  if (splitProperty(name) === null) {
    throw new ConsfigError(
      `${JSON.stringify(name)} is not a property name: expected module:property, such as "file:has-content"`,
    );
  }
}

/** A property's full name and its arguments. */
export class Form {
  /** A form of the property `name` (e.g. `file:has-content`) with these arguments. */
  constructor(name, ...args) {
    checkName(name);
    this.name = name;
    this.args = args;
  }

  /**
   * A form from its JSON: an array whose first element is the property's
   * full name (or the JSON text of one, or a Form).
   */
  static from(value) {
    if (value instanceof Form) return value;
    let json = value;
    if (typeof value === "string") {
      try {
        json = JSON.parse(value);
      } catch (e) {
        throw new ConsfigError(`a form must be JSON: ${e.message}`);
      }
    }
    if (!Array.isArray(json) || typeof json[0] !== "string") {
      let shown;
      try {
        shown = JSON.stringify(json);
      } catch {
        shown = undefined;
      }
      throw new ConsfigError(
        `a form is a JSON array whose first element is a property name, ${EXAMPLE}; got ${shorten(shown ?? String(json), 60)}`,
      );
    }
    return new Form(json[0], ...json.slice(1));
  }

  /** The module part of the name: `file` in `file:has-content`. */
  get module() {
    return this.name.slice(0, this.name.indexOf(":"));
  }

  /** The form as JSON: `["file:absent", "/tmp/x"]`. */
  toJSON() {
    return [this.name, ...this.args];
  }

  /** The form as JSON text, as the host takes it. */
  toString() {
    return JSON.stringify(this);
  }

  /** Apply this form on the host; see `apply`. */
  apply() {
    return apply(this);
  }
}

/** The JSON text of a form given as a Form, an array or JSON text. */
function formText(form) {
  const f = Form.from(form);
  let text;
  try {
    text = JSON.stringify(f);
  } catch (e) {
    throw new ConsfigError(`${f.name}: the arguments cannot be made JSON: ${e.message}`);
  }
  return [f, text];
}

/**
 * Apply a form with a property of any module the host has loaded, and
 * return what it did (a Change). Its errors come back prefixed with the
 * form's name. The form runs with the grants of the module defining it and
 * of this module: what neither may do, the form may not.
 */
export function apply(form) {
  const [f, text] = formText(form);
  try {
    return hostCall(() => witApply(text));
  } catch (e) {
    throw e instanceof ConsfigError ? e.context(f.name) : e;
  }
}

/** Ask the host whether a form would be accepted: its property exists, its arguments fit. */
export function validateForm(form) {
  const [, text] = formText(form);
  hostCall(() => witValidateForm(text));
}

/**
 * Apply forms in a subdeployment: a child process of the host enters the
 * contexts in order (`chroot:PATH`, `chroot-bare:PATH`, `setuid:USER`,
 * `nsenter:PID`, `machine:NAME`), then applies every form, each on a fresh
 * copy of its module. Changed when any form changed; an error when a
 * context cannot be entered or any form failed. Needs the grant `subdeploy`
 * and one per context (`context:chroot:DIR`, `context:setuid:USER`).
 */
export function subdeploy(contexts, forms) {
  if (!Array.isArray(contexts) || !contexts.every((c) => typeof c === "string")) {
    throw new ConsfigError(`the contexts must be a list of strings, such as ["chroot:/srv/guest"]`);
  }
  if (!Array.isArray(forms)) {
    throw new ConsfigError("the forms must be a list of forms");
  }
  const texts = forms.map((form) => formText(form)[1]);
  return hostCall(() => witSubdeploy(contexts, texts));
}

/**
 * Write a bundle at `path` (absolute): a standalone executable applying
 * `form` when it starts, its modules given `grants`. Changed only when the
 * file's bytes differ from what was there.
 */
export function dumpImage(path, form, grants = []) {
  if (typeof path !== "string") throw new ConsfigError("the bundle's path must be a string");
  if (!Array.isArray(grants) || !grants.every((g) => typeof g === "string")) {
    throw new ConsfigError(`the grants must be a list of strings, such as ["net:127.0.0.1:8080"]`);
  }
  const [, text] = formText(form);
  return hostCall(() => witDumpImage(path, text, grants));
}
