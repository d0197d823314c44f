// The `host` object: one wrapper per call of the contract's `host` interface
// (files, facts, variables, data, logging), with host errors thrown as
// ConsfigError carrying the host's message, JavaScript values in and out
// (strings or bytes for contents, numbers for sizes and times, null for
// none), and the console routed to the form's output.
//
// Every effect a module has goes through these calls, which the runtime
// checks against the module's grants. While forms are only validated, the
// host refuses every call with an effect.

import {
  architecture as witArchitecture,
  chmod as witChmod,
  chown as witChown,
  consfigFile as witConsfigFile,
  data as witData,
  hostname as witHostname,
  inChroot as witInChroot,
  listDir as witListDir,
  log as witLog,
  lookupGroup as witLookupGroup,
  lookupUser as witLookupUser,
  mkdir as witMkdir,
  osRelease as witOsRelease,
  readFile as witReadFile,
  readlink as witReadlink,
  remove as witRemove,
  rename as witRename,
  stat as witStat,
  symlink as witSymlink,
  var as witVar,
  vars as witVars,
  whoami as witWhoami,
  writeFile as witWriteFile,
} from "consfig:module/host@0.5.0";

import { ConsfigError, hostCall } from "./error.js";
import { describeValue } from "./schema.js";

const encoder = new TextEncoder();

/** Bytes of a string (as UTF-8) or of a Uint8Array, for contents and stdin. */
export function bytesOf(what, value) {
  if (typeof value === "string") return encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new ConsfigError(`${what} must be a string or a Uint8Array, not ${describeValue(value)}`);
}

/** UTF-8 text of bytes, or a ConsfigError saying what is not text. */
export function textOf(what, bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ConsfigError(`${what} is not UTF-8 text`);
  }
}

/** UTF-8 text of bytes, invalid sequences replaced. */
export function lossyText(bytes) {
  return new TextDecoder("utf-8").decode(bytes);
}

/**
 * Permission bits from a number (0o644) or octal text ("0644", as forms
 * give modes), checked.
 */
export function modeOf(mode) {
  let bits = mode;
  if (typeof mode === "string" && /^[0-7]{1,4}$/.test(mode)) bits = parseInt(mode, 8);
  if (!Number.isInteger(bits) || bits < 0 || bits > 0o7777) {
    throw new ConsfigError(
      `${describeValue(mode)} is not a file mode: give a number such as 0o644 or octal text such as "0644"`,
    );
  }
  return bits;
}

function optionalMode(mode) {
  return mode === undefined || mode === null ? undefined : modeOf(mode);
}

function text(what, value) {
  if (typeof value !== "string") {
    throw new ConsfigError(`${what} must be a string, not ${describeValue(value)}`);
  }
  return value;
}

/** An optional name or id (owner, group): a string, a number, or none. */
function nameOrId(what, value) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return String(value);
  return text(what, value);
}

function orNull(value) {
  return value === undefined ? null : value;
}

function statOf(s) {
  if (s === undefined || s === null) return null;
  return {
    kind: s.kind,
    mode: s.mode,
    size: Number(s.size),
    uid: s.uid,
    gid: s.gid,
    mtime: Number(s.mtime),
    isFile: s.kind === "file",
    isDirectory: s.kind === "directory",
    isSymlink: s.kind === "symlink",
  };
}

/** JSON the runtime sent; should it not be JSON, the text itself. */
function fromRuntimeJson(json) {
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}

/** Log lines at a level to the form's output. */
function logAt(level) {
  return (...parts) => witLog(level, format(parts));
}

/** Console arguments as one line of text, as console.log shows them. */
export function format(parts) {
  return parts
    .map((part) => {
      if (typeof part === "string") return part;
      if (part instanceof Error) return part.stack ? `${part.name}: ${part.message}\n${part.stack}` : String(part);
      if (typeof part === "bigint") return `${part}n`;
      if (part === undefined || typeof part === "function" || typeof part === "symbol") return String(part);
      try {
        const json = JSON.stringify(part);
        return json === undefined ? String(part) : json;
      } catch {
        return String(part);
      }
    })
    .join(" ");
}

export const log = Object.freeze({
  debug: logAt("debug"),
  info: logAt("info"),
  warn: logAt("warn"),
  error: logAt("error"),
});

export const host = Object.freeze({
  log,

  /** The file's contents, as bytes. */
  readFile(path) {
    return hostCall(() => witReadFile(text("path", path)));
  },
  /** The file's contents as UTF-8 text. */
  readText(path) {
    return textOf(path, host.readFile(path));
  },
  /**
   * Replace the file's contents atomically with `data` (a string, written
   * as UTF-8, or a Uint8Array). With no mode, an existing file keeps its
   * mode and a new one gets 0o644.
   */
  writeFile(path, data, mode) {
    const bytes = bytesOf("the contents", data);
    hostCall(() => witWriteFile(text("path", path), bytes, optionalMode(mode)));
  },
  /** Status of a path, a symlink's own; null when nothing is there. */
  stat(path) {
    return statOf(hostCall(() => witStat(text("path", path))));
  },
  /** Whether something (a symlink included) is at `path`. */
  exists(path) {
    return host.stat(path) !== null;
  },
  /** Remove a file, a symlink or an empty directory. */
  remove(path) {
    hostCall(() => witRemove(text("path", path)));
  },
  /** Make a directory and any missing parents; with no mode, 0o755. */
  mkdir(path, mode) {
    hostCall(() => witMkdir(text("path", path), optionalMode(mode)));
  },
  chmod(path, mode) {
    const bits = modeOf(mode);
    hostCall(() => witChmod(text("path", path), bits));
  },
  /** Set the owner and/or group (names or numbers); null leaves one as it is. */
  chown(path, owner, group) {
    const o = nameOrId("the owner", owner);
    const g = nameOrId("the group", group);
    hostCall(() => witChown(text("path", path), o, g));
  },
  /** Make a symlink at `link` whose contents are `target`. */
  symlink(target, link) {
    hostCall(() => witSymlink(text("the target", target), text("the link", link)));
  },
  readlink(path) {
    return hostCall(() => witReadlink(text("path", path)));
  },
  /** The entries of a directory, `{name, kind}`, sorted by name. */
  listDir(path) {
    return hostCall(() => witListDir(text("path", path))).map((e) => ({ name: e.name, kind: e.kind }));
  },
  /** Rename atomically, replacing a file at `destination`. */
  rename(source, destination) {
    hostCall(() => witRename(text("the source", source), text("the destination", destination)));
  },

  /** Who the form runs as: `{uid, gid, user, home}` (user and home may be null). */
  whoami() {
    const me = witWhoami();
    return { uid: me.uid, gid: me.gid, user: orNull(me.user), home: orNull(me.home) };
  },
  /** What /etc/os-release says: `{id, versionId, versionCodename, prettyName}`. */
  osRelease() {
    const os = hostCall(() => witOsRelease());
    return {
      id: os.id,
      versionId: orNull(os.versionId),
      versionCodename: orNull(os.versionCodename),
      prettyName: orNull(os.prettyName),
    };
  },
  /** The account of that name (or uid) in the target's /etc/passwd, or null. */
  lookupUser(user) {
    const u = hostCall(() => witLookupUser(nameOrId("the user", user) ?? text("the user", user)));
    return u === undefined || u === null ? null : { ...u };
  },
  /** The group of that name (or gid) in the target's /etc/group, or null. */
  lookupGroup(group) {
    const g = hostCall(() => witLookupGroup(nameOrId("the group", group) ?? text("the group", group)));
    return g === undefined || g === null ? null : { name: g.name, gid: g.gid, members: [...g.members] };
  },
  /** Whether the form runs in a chroot. */
  inChroot() {
    return witInChroot();
  },
  hostname() {
    return witHostname();
  },
  /** The machine's architecture as `uname -m` says it, e.g. `x86_64`. */
  architecture() {
    return witArchitecture();
  },

  /** This host's data `key` (a secret), as bytes; needs the grant `data:KEY`. */
  data(key) {
    return hostCall(() => witData(text("the key", key)));
  },
  /** The data as UTF-8 text, without the trailing newline files usually end with. */
  dataText(key) {
    return textOf(`data ${key}`, host.data(key)).replace(/[\r\n]+$/, "");
  },
  /** This host's variable `key`, decoded from JSON; undefined when no level sets it. */
  var(key) {
    const json = witVar(text("the key", key));
    return json === undefined || json === null ? undefined : fromRuntimeJson(json);
  },
  /** Every variable of this host, as one object. */
  vars() {
    const all = fromRuntimeJson(witVars());
    return all !== null && typeof all === "object" && !Array.isArray(all) ? all : {};
  },
  /** The file at `path` (relative to Consfig.toml) of the consfig, as bytes. */
  consfigFile(path) {
    return hostCall(() => witConsfigFile(text("path", path)));
  },
});

/**
 * Route the console to the form's output while the module runs in the
 * runtime (the module has no standard output of its own). At build time,
 * when the top level runs and there is no host, the console is left as it
 * was.
 */
export function routeConsole() {
  const built = globalThis.console;
  const route = (level) => (...parts) => witLog(level, format(parts));
  globalThis.console = {
    ...built,
    debug: route("debug"),
    log: route("info"),
    info: route("info"),
    warn: route("warn"),
    error: route("error"),
    trace: route("debug"),
  };
}
