// elbojs is an ES module package. These files answer require("elbojs") (and its entries) from
// CommonJS: where Node can require() an ES module (20.19 and newer, 22.12 and newer) they hand
// back the module itself, the same instance `import` gets; elsewhere they say how to load it.
"use strict";

/** The ES module `file` (relative to this folder), published as `name`, for a CommonJS caller. */
module.exports = function load(file, name) {
  try {
    return require(file);
  } catch (error) {
    const code = error?.code;
    if (code !== "ERR_REQUIRE_ESM" && code !== "ERR_REQUIRE_ASYNC_MODULE") throw error;
    throw new Error(
      `${name} is an ES module package, and this Node (${process.version}) cannot require() ES modules: ` +
        `load it with \`const elbo = await import("${name}")\` inside an async function, or make this file an ES module ` +
        `(.mjs, or "type": "module" in package.json) and write \`import { … } from "${name}"\`. ` +
        "Node 20.19 and 22.12 or newer require() it directly.",
      { cause: error },
    );
  }
};
