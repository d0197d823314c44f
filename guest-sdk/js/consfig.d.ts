// Types of the JavaScript SDK ("consfig"), for editors and `tsc --checkJs`.
// The contract's own types are generated from wit/consfig.wit into types/
// (`make js-types`); these are the SDK's, over them.

import type * as wit from "./types/interfaces/consfig-module-host.js";
import type { ModuleInfo } from "./types/interfaces/consfig-module-types.js";

declare global {
  /** The console writes to the form's output, at the level of each method. */
  var console: {
    debug(...parts: unknown[]): void;
    log(...parts: unknown[]): void;
    info(...parts: unknown[]): void;
    warn(...parts: unknown[]): void;
    error(...parts: unknown[]): void;
    trace(...parts: unknown[]): void;
  };
}

/** What a property returns: whether it changed the host (or, in a check, would). */
export type Change = import("./types/interfaces/consfig-module-types.js").Change;
export declare const Change: Readonly<{
  CHANGED: "changed";
  UNCHANGED: "unchanged";
  /** CHANGED when `changed` is true. */
  from(changed: unknown): Change;
  /** CHANGED when any of `changes` is. */
  any(...changes: Array<Change | Change[]>): Change;
}>;

/** Why a property or a host call failed: its message is the form's reason. */
export declare class ConsfigError extends Error {
  constructor(message: string);
  /** This error with what was being done before its message: `writing /x: ...`. */
  context(what: string): ConsfigError;
}

/** A JSON value, as forms carry arguments. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One parameter of a property: what `params` lists, in the function's order. */
export interface ParamSpec {
  /** The name a form gives it by, in kebab case (`homeDir` and `home_dir` are `home-dir`). */
  name: string;
  /**
   * What values it takes: `string`, `integer`, `number`, `bool`, `form`,
   * `any`, `list<T>`, `object`, `object<T>`, `optional<T>`, `A|B`.
   */
  schema: string;
  /** The value a left-out argument takes; a parameter with one is optional. */
  default?: Json;
}

export interface PropertyOptions {
  /** What the property makes hold; `consfig describe` shows it. */
  doc?: string;
  params?: ParamSpec[];
}

export interface ModuleOptions {
  doc?: string;
  /** The grants the module needs, e.g. `write:/srv/www`, `command:/usr/bin/systemctl reload nginx`. */
  needs?: string[];
  /** Runs once when the runtime loads the module, before the copy every form starts from. */
  init?: () => void;
}

/** Name the module: once, at the top level of app.js. */
export declare function module(name: string, options?: ModuleOptions): void;

/**
 * Add a property, `module:name`. The function gets one value per
 * parameter, in order (a left-out one its default, else null), and returns
 * a Change; the function is returned, for the module to call directly.
 */
export declare function property<F extends (...args: any[]) => Change>(
  name: string,
  fn: F,
  options?: PropertyOptions,
): F;

/** The contract's `properties` export: `export { properties } from "consfig";` in app.js. */
export declare const properties: {
  init(): void;
  describe(): ModuleInfo;
  validate(name: string, args: string): void;
  apply(name: string, args: string): Change;
};

/** A form: a property's full name and its arguments. */
export declare class Form {
  constructor(name: string, ...args: Json[]);
  /** From its JSON (an array, or its text), or a Form. */
  static from(value: Form | Json): Form;
  readonly name: string;
  readonly args: Json[];
  /** `file` of `file:has-content`. */
  readonly module: string;
  toJSON(): Json[];
  toString(): string;
  apply(): Change;
}

/** A form given as a Form, a JSON array or its text. */
export type FormLike = Form | Json[] | string;

/** Apply a form with any loaded module's property; errors prefixed with its name. */
export declare function apply(form: FormLike): Change;
/** Apply forms in other contexts (`chroot:PATH`, `setuid:USER`, …) in a child process. */
export declare function subdeploy(contexts: string[], forms: FormLike[]): Change;
/** Write a bundle at `path` that applies `form` when it starts. */
export declare function dumpImage(path: string, form: FormLike, grants?: string[]): Change;
/** Check a form as a deploy does before it starts; no effect. */
export declare function validateForm(form: FormLike): void;

/** What a command did. */
export declare class Output {
  /** The exit code, or null when a signal killed it. */
  readonly exitCode: number | null;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly success: boolean;
  /** `exit code 1`, or `killed by a signal`. */
  readonly status: string;
  readonly stdoutText: string;
  readonly stderrText: string;
}

/** A command to run on the host. */
export declare class Command {
  arg(value: string | number): Command;
  args(values: Iterable<string | number>): Command;
  /** Bytes (or UTF-8 text) for standard input; otherwise /dev/null. */
  stdin(data: string | Uint8Array): Command;
  /** A variable on top of the runtime's environment (grant `env:KEY`). */
  env(key: string, value: string): Command;
  cwd(dir: string): Command;
  readonly argv: string[];
  readonly isQuery: boolean;
  /**
   * Run to completion. By default a non-zero exit throws a ConsfigError
   * with the command line and its stderr, and what it printed is logged;
   * with `{check: false}` the Output is returned whatever the exit.
   */
  run(options?: { check?: boolean }): Output;
  toString(): string;
}

/** A command that only looks: check mode runs it. */
export declare function query(...argv: Array<string | number> | [Array<string | number>]): Command;
/** A command that changes the host: check mode skips it, as if it exited 0 with no output. */
export declare function change(...argv: Array<string | number> | [Array<string | number>]): Command;

export interface Stat {
  kind: wit.FileKind;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  size: number;
  uid: number;
  gid: number;
  /** Seconds since the Unix epoch. */
  mtime: number;
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
}

/** A mode: a number (0o644) or octal text ("0644"). */
export type Mode = number | string;

export interface Log {
  debug(...parts: unknown[]): void;
  info(...parts: unknown[]): void;
  warn(...parts: unknown[]): void;
  error(...parts: unknown[]): void;
}

/** Lines of the form's output, at a level. */
export declare const log: Log;

/** The host's calls; each throws a ConsfigError with the host's message. */
export declare const host: Readonly<{
  log: Log;
  readFile(path: string): Uint8Array;
  readText(path: string): string;
  writeFile(path: string, data: string | Uint8Array, mode?: Mode | null): void;
  /** Null when nothing is at `path`; a symlink's own status. */
  stat(path: string): Stat | null;
  exists(path: string): boolean;
  remove(path: string): void;
  mkdir(path: string, mode?: Mode | null): void;
  chmod(path: string, mode: Mode): void;
  chown(path: string, owner?: string | number | null, group?: string | number | null): void;
  symlink(target: string, link: string): void;
  readlink(path: string): string;
  listDir(path: string): Array<{ name: string; kind: wit.FileKind }>;
  rename(source: string, destination: string): void;
  whoami(): { uid: number; gid: number; user: string | null; home: string | null };
  osRelease(): { id: string; versionId: string | null; versionCodename: string | null; prettyName: string | null };
  lookupUser(user: string | number): wit.UserInfo | null;
  lookupGroup(group: string | number): wit.GroupInfo | null;
  inChroot(): boolean;
  hostname(): string;
  architecture(): string;
  data(key: string): Uint8Array;
  dataText(key: string): string;
  var(key: string): Json | undefined;
  vars(): { [key: string]: Json };
  consfigFile(path: string): Uint8Array;
}>;
