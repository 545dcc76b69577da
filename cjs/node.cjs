"use strict";
// require("elbojs/node") from CommonJS: see load.cjs.
module.exports = require("./load.cjs")("../dist/node.js", "elbojs/node");
