// An in-memory host for the SDK's tests under Node: the functions of the
// contract's `host` and `forms` interfaces as jco's bindings present them
// (a `result`'s error thrown as an Error whose `payload` is the message),
// over files in a Map, with every call recorded. Tests script it through
// `fake`.

class ComponentError extends Error {
  constructor(payload) {
    super(payload);
    this.payload = payload;
  }
}

export const fake = {
  files: new Map(),
  logs: [],
  commands: [],
  forms: [],
  /** What `run` answers: a function of the command, or an output. */
  answer: () => ({ exitCode: 0, stdout: new Uint8Array(), stderr: new Uint8Array() }),
  /** Forms `validateForm` refuses, by name, with their message. */
  invalid: new Map(),
  vars: {},
  reset() {
    this.files.clear();
    this.logs.length = 0;
    this.commands.length = 0;
    this.forms.length = 0;
    this.invalid.clear();
    this.vars = {};
    this.answer = () => ({ exitCode: 0, stdout: new Uint8Array(), stderr: new Uint8Array() });
  },
};

function denied(call, path) {
  throw new ComponentError(`denied: module test may not ${call} ${path}`);
}

export function log(level, message) {
  fake.logs.push(`${level}: ${message}`);
}

export function panicked() {}

export function run(command) {
  fake.commands.push(command);
  const answer = fake.answer(command);
  if (answer instanceof Error) throw new ComponentError(answer.message);
  return answer;
}

export function readFile(path) {
  const file = fake.files.get(path);
  if (!file) throw new ComponentError(`${path}: No such file or directory`);
  return file.contents;
}

export function writeFile(path, contents, mode) {
  if (!(contents instanceof Uint8Array)) throw new TypeError("contents must be bytes");
  if (path.startsWith("/denied")) denied("write-file", path);
  const old = fake.files.get(path);
  fake.files.set(path, { contents, mode: mode ?? old?.mode ?? 0o644 });
}

export function stat(path) {
  const file = fake.files.get(path);
  if (!file) return undefined;
  return { kind: "file", mode: file.mode, size: BigInt(file.contents.length), uid: 0, gid: 0, mtime: 1700000000n };
}

export function remove(path) {
  fake.files.delete(path);
}

export function mkdir() {}

export function chmod(path, mode) {
  const file = fake.files.get(path);
  if (!file) throw new ComponentError(`${path}: No such file or directory`);
  file.mode = mode;
}

export function chown(path, owner, group) {
  fake.forms.push(["chown", path, owner ?? null, group ?? null]);
}

export function symlink() {}
export function readlink() {
  return "target";
}
export function listDir() {
  return [{ name: "a", kind: "file" }];
}
export function rename() {}

export function whoami() {
  return { uid: 0, gid: 0, user: "root", home: undefined };
}

export function osRelease() {
  return { id: "debian", versionId: "12", versionCodename: "bookworm", prettyName: undefined };
}

export function lookupUser(user) {
  return user === "root" || user === "0"
    ? { name: "root", uid: 0, gid: 0, comment: "root", home: "/root", shell: "/bin/sh" }
    : undefined;
}

export function lookupGroup() {
  return undefined;
}

export function inChroot() {
  return false;
}

export function hostname() {
  return "web1";
}

export function architecture() {
  return "x86_64";
}

export function data(key) {
  if (key !== "password") throw new ComponentError(`no data ${key}`);
  return new TextEncoder().encode("s3cret\n");
}

function _var(key) {
  return Object.hasOwn(fake.vars, key) ? JSON.stringify(fake.vars[key]) : undefined;
}
export { _var as var };

export function vars() {
  return JSON.stringify(fake.vars);
}

export function consfigFile(path) {
  throw new ComponentError(`${path} was not sent`);
}

export function apply(form) {
  fake.forms.push(JSON.parse(form));
  const [name] = JSON.parse(form);
  if (name === "file:fails") throw new ComponentError("it failed");
  return "changed";
}

export function validateForm(form) {
  const [name] = JSON.parse(form);
  if (fake.invalid.has(name)) throw new ComponentError(fake.invalid.get(name));
}

export function subdeploy(contexts, forms) {
  fake.forms.push({ contexts, forms });
  return "unchanged";
}

export function dumpImage(path, form, grants) {
  fake.forms.push({ path, form, grants });
  return "changed";
}
