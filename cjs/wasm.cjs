"use strict";
// require("elbojs/wasm") from CommonJS: see load.cjs.
module.exports = require("./load.cjs")("../dist/backend-wasm.js", "elbojs/wasm");
