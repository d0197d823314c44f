// The example module in JavaScript: `example-js:website` does what the Rust
// example's `example:website` does, with host calls of its own, so the
// grants the consfig gives this module are what bound it.

import { module, property, Change, ConsfigError, host, change } from "consfig";
export { properties } from "consfig";

/** Text as HTML shows it, not as markup. */
function escapeHtml(text) {
  const entities = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  return text.replace(/[&<>"']/g, (c) => entities[c]);
}

/** The build command that makes `built.txt`, run in the site's directory. */
const BUILD = ["/bin/sh", "-c", "echo built > built.txt"];

module("example-js", {
  doc: "The example module in JavaScript: a small website, made with host calls.",
  needs: ["command:/bin/sh -c 'echo built > built.txt'"],
});

property(
  "website",
  (root, title) => {
    root = root.replace(/\/+$/, "");
    if (root === "") {
      throw new ConsfigError("refusing to make a website of /");
    }
    const index = `${root}/index.html`;
    const built = `${root}/built.txt`;
    const name = escapeHtml(title ?? host.hostname());
    const page =
      `<!doctype html>\n<title>${name}</title>\n<h1>Hello from ${name}</h1>\n` +
      `<p>Managed by Consfig.</p>\n`;

    let changed = false;
    const dir = host.stat(root);
    if (dir === null) {
      host.mkdir(root);
      changed = true;
    } else if (!dir.isDirectory) {
      throw new ConsfigError(`${root} is a ${dir.kind}, not a directory`);
    }

    const current = host.stat(index);
    if (current === null || host.readText(index) !== page) {
      host.writeFile(index, page, 0o644);
      changed = true;
    } else if (current.mode !== 0o644) {
      host.chmod(index, 0o644);
      changed = true;
    }

    // Made once: the command runs only when its file is missing, and is a
    // change, so a check skips it and reports it. It is fixed, run in the
    // site's directory: its grant names it exactly, so it cannot be turned
    // to writing anywhere else (a glob for a path argument would match
    // `ROOT/../../etc/shadow` too).
    if (!host.exists(built)) {
      change(...BUILD).cwd(root).run();
      changed = true;
    }
    return Change.from(changed);
  },
  {
    doc: `Put a small static website under \`root\`: the directory, an \`index.html\`
      (mode 0644) greeting from this host (or titled \`title\`), and a \`built.txt\` a
      command makes once.

      Changed if any step changed the host.`,
    params: [
      { name: "root", schema: "string" },
      { name: "title", schema: "optional<string>" },
    ],
  },
);
