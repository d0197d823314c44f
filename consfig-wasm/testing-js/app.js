// The `testing-js` module: properties that misbehave on purpose, or report
// on the runtime, for the end-to-end tests of modules in JavaScript. Never
// deploy it anywhere real.
//
// A module in JavaScript gets the sandbox of a module in any language: the
// same grants, the same refusals, one form's failure its own.

import { module, property, Change, ConsfigError, host, change, query, apply, subdeploy } from "consfig";
export { properties } from "consfig";

let inits = 0;
let counter = 0;

module("testing-js", {
  doc: "Misbehaving properties, for the tests. Never deploy it anywhere real.",
  init: () => {
    inits += 1;
  },
});

property(
  "counter",
  () => {
    counter += 1;
    console.log(`counter=${counter}`);
    console.log(`inits=${inits}`);
    return Change.CHANGED;
  },
  { doc: "Count this call and log counter=N and inits=M: 1 and 1 on a fresh copy." },
);

property(
  "write",
  (path, content) => {
    host.writeFile(path, content);
    return Change.CHANGED;
  },
  {
    doc: "Write `content` to the file at `path` through the host.",
    params: [
      { name: "path", schema: "string" },
      { name: "content", schema: "string" },
    ],
  },
);

property(
  "read",
  (path) => {
    host.log.info(`read ${host.readFile(path).length} bytes`);
    return Change.UNCHANGED;
  },
  { doc: "Read the file at `path` and log its size.", params: [{ name: "path", schema: "string" }] },
);

property(
  "run",
  (argv, readOnly) => {
    const command = readOnly ? query(argv) : change(argv);
    command.run();
    return Change.CHANGED;
  },
  {
    doc: "Run a command (a change, or a query when `read-only`); fails unless it exits 0.",
    params: [
      { name: "argv", schema: "list<string>" },
      { name: "readOnly", schema: "bool", default: false },
    ],
  },
);

property(
  "spin",
  () => {
    let n = 0;
    for (;;) n = (n + 1) | 0;
  },
  { doc: "Loop forever, until the runtime's timeout kills the form." },
);

property(
  "throw",
  (message) => {
    /** @type {any} */
    const thing = undefined;
    if (message === "type") return thing.field;
    throw new RangeError(message);
  },
  {
    doc: "Throw an unexpected exception: a TypeError for `type`, else a RangeError with this message.",
    params: [{ name: "message", schema: "string" }],
  },
);

property(
  "fail",
  (message) => {
    throw new ConsfigError(message);
  },
  { doc: "Fail with this message.", params: [{ name: "message", schema: "string" }] },
);

property(
  "returns",
  (value) => value,
  { doc: "Return this value, Change or not.", params: [{ name: "value", schema: "any" }] },
);

property(
  "each",
  (forms) => Change.any(forms.map((form) => apply(form))),
  { doc: "Apply each of these forms.", params: [{ name: "forms", schema: "list<form>" }] },
);

property(
  "subdeploy",
  (contexts, forms) => subdeploy(contexts, forms),
  {
    doc: "Apply these forms in a subdeployment entering these contexts.",
    params: [
      { name: "contexts", schema: "list<string>" },
      { name: "forms", schema: "list<form>" },
    ],
  },
);

property(
  "echo",
  (text, loud) => {
    console.log(loud ? text.toUpperCase() : text);
    return Change.UNCHANGED;
  },
  {
    doc: "Log `text`.",
    params: [
      { name: "text", schema: "string" },
      { name: "loud", schema: "bool", default: false },
    ],
  },
);

property(
  "facts",
  () => {
    const me = host.whoami();
    console.log(`hostname=${host.hostname()}`);
    console.log(`architecture=${host.architecture()}`);
    console.log(`uid=${me.uid}`);
    console.log(`in-chroot=${host.inChroot()}`);
    console.log(`root-user=${host.lookupUser("0")?.name}`);
    console.log(`var=${JSON.stringify(host.var("colour"))}`);
    console.log(`unset=${host.var("no-such-variable")}`);
    return Change.UNCHANGED;
  },
  { doc: "Log facts of the host and the variable colour." },
);

