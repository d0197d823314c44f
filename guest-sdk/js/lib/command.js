// Running commands on the host: `query(...)` and `change(...)` build a
// Command, whose `run()` runs it to completion and returns its Output.
//
// A command says what it does when it is made: `query` only looks, so check
// mode (`consfig deploy --check`) runs it, where the kernel keeps it from
// changing anything; `change` changes the host, so check mode skips it and
// answers as if it exited 0 with no output. There is no third way, so no
// module can forget to choose.

import { run as witRun } from "consfig:module/host@0.5.0";

import { ConsfigError, hostCall } from "./error.js";
import { bytesOf, log, lossyText } from "./host.js";
import { describeValue } from "./schema.js";

function word(value, what) {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw new ConsfigError(`${what} must be a string, not ${describeValue(value)}`);
}

/** A word as a shell would read it, for messages. */
function shellQuote(w) {
  return w !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** What a command did. */
export class Output {
  constructor(exitCode, stdout, stderr) {
    /** The exit code, or null when the command was killed by a signal. */
    this.exitCode = exitCode;
    /** Standard output and error, as bytes. */
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** Whether the command exited with code 0. */
  get success() {
    return this.exitCode === 0;
  }

  /** `exit code 1`, or `killed by a signal`. */
  get status() {
    return this.exitCode === null ? "killed by a signal" : `exit code ${this.exitCode}`;
  }

  /** Standard output as text (invalid UTF-8 replaced). */
  get stdoutText() {
    return lossyText(this.stdout);
  }

  /** Standard error as text (invalid UTF-8 replaced). */
  get stderrText() {
    return lossyText(this.stderr);
  }
}

/** A command to run on the host, made with `query` or `change`. */
export class Command {
  #argv;
  #stdin = undefined;
  #env = [];
  #cwd = undefined;
  #readOnly;

  constructor(argv, readOnly) {
    const words = argv.length === 1 && Array.isArray(argv[0]) ? argv[0] : argv;
    if (words.length === 0) {
      throw new ConsfigError("a command needs at least the program to run");
    }
    this.#argv = words.map((w, i) => word(w, i === 0 ? "the program" : `argument ${i} of the command`));
    this.#readOnly = readOnly;
  }

  /** Add an argument. */
  arg(value) {
    this.#argv.push(word(value, `argument ${this.#argv.length} of the command`));
    return this;
  }

  /** Add arguments. */
  args(values) {
    for (const value of values) this.arg(value);
    return this;
  }

  /** Bytes (or UTF-8 text) fed to standard input; otherwise /dev/null. */
  stdin(data) {
    this.#stdin = bytesOf("standard input", data);
    return this;
  }

  /**
   * An environment variable, on top of the runtime's environment: the
   * module needs the grant `env:KEY`.
   */
  env(key, value) {
    this.#env.push([word(key, "the variable's name"), word(value, `the value of ${key}`)]);
    return this;
  }

  /** The working directory, an absolute path. */
  cwd(dir) {
    this.#cwd = word(dir, "the working directory");
    return this;
  }

  /** The program and its arguments. */
  get argv() {
    return [...this.#argv];
  }

  /** Whether the command only looks (`query`) rather than changes the host (`change`). */
  get isQuery() {
    return this.#readOnly;
  }

  /**
   * Run the command to completion. By default it must exit 0: otherwise a
   * ConsfigError naming the command line, how it ended and what it wrote on
   * stderr; what it printed is logged. With `{check: false}` the Output is
   * returned whatever the exit. Either way, a command that could not be
   * started (no grant, no such program) throws.
   */
  run({ check = true } = {}) {
    const shown = this.toString();
    const out = hostCall(() =>
      witRun({
        argv: this.#argv,
        stdin: this.#stdin,
        env: this.#env,
        cwd: this.#cwd,
        readOnly: this.#readOnly,
      }),
    );
    const output = new Output(out.exitCode ?? null, out.stdout, out.stderr);
    if (!check) return output;
    if (!output.success) {
      const stderr = output.stderrText.trim();
      throw new ConsfigError(`${shown}: ${output.status}${stderr ? `: ${stderr}` : ""}`);
    }
    for (const text of [output.stdoutText, output.stderrText]) {
      if (text.trim() !== "") log.info(text.trimEnd());
    }
    return output;
  }

  /** The command line as a shell would read it, for messages. */
  toString() {
    return this.#argv.map(shellQuote).join(" ");
  }
}

/**
 * A command that only looks and changes nothing (`getent`, `dpkg-query`),
 * so check mode runs it too: `query("getent", "passwd", user).run()`.
 */
export function query(...argv) {
  return new Command(argv, true);
}

/**
 * A command that changes the host (`useradd`, `systemctl reload`). Check
 * mode skips it, answering as if it exited 0 with no output.
 */
export function change(...argv) {
  return new Command(argv, false);
}
