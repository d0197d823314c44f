// The error a property fails with, and how any exception escaping a
// property becomes the reason its form failed.
//
// A ConsfigError is an expected failure: its message is the reason, as it
// is. Host calls throw one carrying the host's message. Any other exception
// is the module's bug: the reason names its type and where it was thrown
// (`TypeError: x is undefined (at site (app.bundle.js:12:7))`, a place in
// the bundle the module was built from), and the module's frames of the
// stack go to the form's output.

/** Why a property (or a host call) failed: a message for the person deploying. */
export class ConsfigError extends Error {
  constructor(message) {
    super(message);
    this.name = "ConsfigError";
  }

  /** This error with what was being done before its message: `writing /x: ...`. */
  context(what) {
    return new ConsfigError(`${what}: ${this.message}`);
  }
}

/**
 * Call a binding of the host, turning the error it throws for a `result`'s
 * `err` (an Error whose `payload` is the host's message) into a ConsfigError
 * with that message.
 */
export function hostCall(call) {
  try {
    return call();
  } catch (e) {
    if (e !== null && typeof e === "object" && typeof e.payload === "string") {
      throw new ConsfigError(e.payload);
    }
    throw e;
  }
}

/**
 * The frames of a stack, innermost first, each as SpiderMonkey writes it:
 * `function@file:line:column`. (V8's `    at function (file:line:column)`,
 * under Node in the SDK's own tests, is rewritten so; its message line is
 * no frame.)
 */
function lines(stack) {
  if (typeof stack !== "string") return [];
  const frames = [];
  for (const line of stack.split("\n")) {
    const v8 = line.match(/^\s+at (?:(.*?) \((.*)\)|(.*))$/);
    if (v8) frames.push(v8[3] !== undefined ? `@${v8[3]}` : `${v8[1]}@${v8[2]}`);
    else if (line.includes("@")) frames.push(line.trim());
  }
  return frames;
}

/** The function of a SpiderMonkey frame, `fn@file:line:column`. */
function functionOf(frame) {
  const at = frame.lastIndexOf("@");
  return at < 0 ? frame : frame.slice(0, at);
}

/**
 * A frame as people read it: `website (bundle.js:12:7)`, or only the place
 * for an anonymous function.
 */
function shown(frame) {
  const at = frame.lastIndexOf("@");
  if (at < 0) return frame.trim();
  const fn = frame.slice(0, at).replace(/\/<$/, "");
  const place = frame.slice(at + 1);
  return fn ? `${fn} (${place})` : place;
}

/**
 * An exception thrown by the module's own code, with the frames of its
 * stack that are the module's: those above the SDK's call of it.
 */
export class Unexpected {
  constructor(thrown, frames) {
    this.thrown = thrown;
    this.frames = frames;
  }
}

/**
 * Wrap what a call of the module's code threw, from the `catch` of the SDK
 * function that called it: the stack's frames below that function are the
 * SDK's and the engine's, the same as the catch's own, and are dropped. A
 * ConsfigError is the module's expected failure and stays as it is.
 */
export function unexpected(thrown) {
  if (thrown instanceof ConsfigError || !(thrown instanceof Error)) return thrown;
  const all = lines(thrown.stack);
  // This function's frame, then the caller's and everything below it.
  const below = lines(new Error().stack).slice(1);
  const tail = all.slice(all.length - below.length);
  const same =
    below.length > 0 &&
    tail.length === below.length &&
    tail.every((frame, i) => functionOf(frame) === functionOf(below[i]));
  // A stack cut short (deep recursion) keeps every frame it has.
  const own = same ? all.slice(0, all.length - below.length) : all;
  return new Unexpected(thrown, own);
}

/** The reason a form failed with, for whatever a property threw. */
export function reasonOf(thrown) {
  if (thrown instanceof Unexpected) {
    const where = thrown.frames.length ? ` (at ${shown(thrown.frames[0])})` : "";
    return `${reasonOf(thrown.thrown)}${where}`;
  }
  if (thrown instanceof ConsfigError) return thrown.message;
  if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
  if (typeof thrown === "string") return thrown;
  let text;
  try {
    text = JSON.stringify(thrown);
  } catch {
    text = undefined;
  }
  return `uncaught exception: ${text === undefined ? String(thrown) : text}`;
}

/** What to log of an unexpected exception: its frames, innermost first; or null. */
export function stackOf(thrown) {
  if (!(thrown instanceof Unexpected) || thrown.frames.length === 0) return null;
  const frames = thrown.frames.map((f) => `    at ${shown(f)}`).join("\n");
  return `${reasonOf(thrown.thrown)}\n${frames}`;
}
