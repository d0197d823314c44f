// The `@NAME@` module: properties of this consfig, written in Consfig.toml
// as `["@NAME@:PROPERTY", ARGUMENTS...]`. `consfig deploy` builds it again
// when its sources change and sends it only to hosts that lack this build.
//
// This file's top level runs once, when the module is built: it declares
// the module and its properties. Each property runs on the host, in the
// sandbox, with only the grants Consfig.toml gives the module.

import { module, property, Change, host } from "consfig";
export { properties } from "consfig";

module("@NAME@", { doc: "The properties of this consfig." });

property(
  "hello",
  (dir) => {
    const name = host.hostname();
    const page = `<!doctype html>\n<title>${name}</title>\n<h1>Hello from ${name}</h1>\n`;
    let changed = false;
    if (host.stat(dir) === null) {
      host.mkdir(dir);
      changed = true;
    }
    const index = `${dir}/index.html`;
    if (host.stat(index) === null || host.readText(index) !== page) {
      host.writeFile(index, page);
      changed = true;
    }
    return Change.from(changed);
  },
  {
    doc: `Put a page greeting from this host in the directory \`dir\`: the directory,
      then \`dir/index.html\`.

      Changed if either step changed the host.`,
    params: [{ name: "dir", schema: "string" }],
  },
);
