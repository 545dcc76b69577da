"use strict";
// require("elbojs") from CommonJS: see load.cjs.
module.exports = require("./load.cjs")("../dist/index.js", "elbojs");
