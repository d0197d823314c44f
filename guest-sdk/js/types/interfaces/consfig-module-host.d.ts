/** @module Interface consfig:module/host@0.5.0 **/
/**
 * Append a line to the current form's captured output.
 */
export function log(level: Level, message: string): void;
/**
 * The module is panicking and about to abort: where and why (e.g.
 * `panicked at src/lib.rs:4:5: deliberate panic`). The form's failure
 * reason names it. The Rust SDK calls this from its panic hook.
 */
export function panicked(message: string): void;
/**
 * Run a command to completion. Errors only when it could not be started.
 */
export function run(command: Command): CommandOutput;
export function readFile(path: string): Uint8Array;
/**
 * Replace the file's contents atomically (temporary file, then rename).
 * With no mode, an existing file keeps its mode and a new one gets 0o644.
 */
export function writeFile(path: string, contents: Uint8Array, mode: number | undefined): void;
/**
 * Status of a path without following a final symlink; none when it does not exist.
 */
export function stat(path: string): FileStat | undefined;
/**
 * Remove a file, a symlink or an empty directory.
 */
export function remove(path: string): void;
/**
 * Create a directory and any missing parents; with no mode, 0o755.
 */
export function mkdir(path: string, mode: number | undefined): void;
export function chmod(path: string, mode: number): void;
/**
 * Set a path's owner and/or group, each a name (looked up in the
 * target's own `/etc/passwd` and `/etc/group`) or a number; none leaves
 * it as it is. A symlink's own owner is set, never its target's.
 */
export function chown(path: string, owner: string | undefined, group: string | undefined): void;
/**
 * Make a symlink at `link` whose contents are `target` (relative to the
 * link's directory unless absolute). Fails when something is at `link`.
 */
export function symlink(target: string, link: string): void;
/**
 * The contents of the symlink at `path`.
 */
export function readlink(path: string): string;
/**
 * The entries of a directory, sorted by name, without `.` and `..`.
 */
export function listDir(path: string): Array<DirEntry>;
/**
 * Rename `source` to `destination` atomically, replacing a file there
 * (not a directory); both on the same file system.
 */
export function rename(source: string, destination: string): void;
export function whoami(): Identity;
/**
 * An error when neither file exists or it names no `ID`.
 */
export function osRelease(): OsInfo;
/**
 * The account named `user`, or with that uid when it is a number; none
 * when there is none.
 */
export function lookupUser(user: string): UserInfo | undefined;
/**
 * The group named `group`, or with that gid when it is a number.
 */
export function lookupGroup(group: string): GroupInfo | undefined;
/**
 * Whether the process runs in a chroot: its root is not the root of
 * the machine's first process.
 */
export function inChroot(): boolean;
export function hostname(): string;
/**
 * The machine's architecture as `uname -m` reports it, e.g. `x86_64`.
 */
export function architecture(): string;
/**
 * This host's data named `key`: what the consfig gives the host under
 * `[hosts.NAME] data`, read from files outside the consfig on the
 * controller, such as passwords. It reaches only this host, lives only
 * in memory there, and the runtime blanks it out of every output and
 * reason it reports. An error when the host has no data of that name.
 */
export function data(key: string): Uint8Array;
/**
 * This host's variable `key` as JSON text: `[vars]` of Consfig.toml,
 * overridden by its groups' `vars`, overridden by the host's own. None
 * when no level sets it.
 */
export { _var as var };
declare function _var(key: string): string | undefined;
/**
 * Every variable of this host, merged as `var` merges them, as one JSON
 * object.
 */
export function vars(): string;
/**
 * The file at `path` (relative to Consfig.toml) of the consfig, as the
 * controller sent it. Only files that this host's forms name by that
 * path are sent; any other is an error.
 */
export function consfigFile(path: string): Uint8Array;
/**
 * # Variants
 * 
 * ## `"debug"`
 * 
 * ## `"info"`
 * 
 * ## `"warn"`
 * 
 * ## `"error"`
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
export interface Command {
  /**
   * Program and arguments; the program is looked up in PATH when it has no `/`.
   */
  argv: Array<string>,
  /**
   * Bytes fed to the command's standard input; none means /dev/null.
   */
  stdin?: Uint8Array,
  /**
   * Extra environment variables, on top of the runtime's environment.
   */
  env: Array<[string, string]>,
  cwd?: string,
  /**
   * The command only looks: it changes nothing, so check mode
   * (`--check`) runs it. Check mode skips every other command, answering
   * as if it exited 0 with no output, and reports it skipped.
   */
  readOnly: boolean,
}
export interface CommandOutput {
  /**
   * Exit code, or none when the command was killed by a signal.
   */
  exitCode?: number,
  stdout: Uint8Array,
  stderr: Uint8Array,
}
/**
 * # Variants
 * 
 * ## `"file"`
 * 
 * ## `"directory"`
 * 
 * ## `"symlink"`
 * 
 * ## `"other"`
 */
export type FileKind = 'file' | 'directory' | 'symlink' | 'other';
export interface FileStat {
  kind: FileKind,
  /**
   * Permission bits (e.g. 0o644), without the file-type bits.
   */
  mode: number,
  size: bigint,
  uid: number,
  gid: number,
  /**
   * Last modification, in seconds since the Unix epoch.
   */
  mtime: bigint,
}
/**
 * One entry of a directory.
 */
export interface DirEntry {
  /**
   * The entry's name, without the directory's path.
   */
  name: string,
  kind: FileKind,
}
/**
 * Who the calling process runs as.
 */
export interface Identity {
  uid: number,
  gid: number,
  /**
   * The user's name, when the password database has one for the uid.
   */
  user?: string,
  /**
   * The value of HOME, if set.
   */
  home?: string,
}
/**
 * What `/etc/os-release` (or `/usr/lib/os-release`) of the root the
 * process is in says, e.g. id `debian`, version-id `12`, codename
 * `bookworm`.
 */
export interface OsInfo {
  id: string,
  versionId?: string,
  versionCodename?: string,
  prettyName?: string,
}
/**
 * An account of the target's own `/etc/passwd`.
 */
export interface UserInfo {
  name: string,
  uid: number,
  gid: number,
  /**
   * The GECOS field, e.g. the full name.
   */
  comment: string,
  home: string,
  shell: string,
}
/**
 * A group of the target's own `/etc/group`.
 */
export interface GroupInfo {
  name: string,
  gid: number,
  /**
   * Its supplementary members, by name.
   */
  members: Array<string>,
}
