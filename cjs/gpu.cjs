"use strict";
// require("elbojs/gpu") from CommonJS: see load.cjs.
module.exports = require("./load.cjs")("../dist/backend-gpu.js", "elbojs/gpu");
