// Write Consfig modules in JavaScript.
//
// A module is a directory holding `app.js`, an ES module that imports this
// SDK as "consfig", names the module, adds its properties, and re-exports
// `properties` (the contract's export, wit/consfig.wit):
//
//   import { module, property, Change, host } from "consfig";
//   export { properties } from "consfig";
//
//   module("motd", { doc: "The message of the day.", needs: ["write:/etc/motd"] });
//
//   property("is", (text) => {
//     if (host.exists("/etc/motd") && host.readText("/etc/motd") === text) {
//       return Change.UNCHANGED;
//     }
//     host.writeFile("/etc/motd", text, 0o644);
//     return Change.CHANGED;
//   }, { doc: "/etc/motd says exactly this.", params: [{ name: "text", schema: "string" }] });
//
// The module is built into a Wasm component (bundled with esbuild, then
// `jco componentize`): the top level runs then, at build time, and the
// engine is snapshotted with it, so no host call is possible there. Each
// form then runs on a fresh copy of that snapshot, in the same sandbox as a
// module in any other language. See docs/modules-javascript.md.

export { Change } from "./lib/change.js";
export { ConsfigError } from "./lib/error.js";
export { host, log } from "./lib/host.js";
export { Command, Output, query, change } from "./lib/command.js";
export { Form, apply, subdeploy, dumpImage, validateForm } from "./lib/form.js";
export { module, property, properties } from "./lib/module.js";
