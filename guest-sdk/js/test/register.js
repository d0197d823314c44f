// Loaded with `node --import`: the SDK's imports of the contract's
// interfaces (`consfig:module/host@0.5.0`, `consfig:module/forms@0.5.0`),
// which only a component has, resolve to the in-memory host of
// fake-host.js, so the SDK's logic runs under Node.

import { register } from "node:module";

register("./hooks.js", import.meta.url);
