// A CommonJS program's require() of every entry of the installed package. Where Node can require()
// ES modules this trains nothing but computes, and prints what it got; where it cannot (an older
// Node, or --no-experimental-require-module), it prints the error a CommonJS user sees.
"use strict";
const out = {};
try {
  const elbo = require("elbojs");
  const x = elbo.tensor([1, 2, 3], { requiresGrad: true });
  const y = x.mul(x).sum();
  y.backward();
  out.grad = Array.from(x.grad.dataSync());
  out.entries = ["elbojs/node", "elbojs/wasm", "elbojs/gpu"].map(
    (name) => Object.keys(require(name)).length > 0,
  );
  out.same = require("elbojs") === elbo;
} catch (error) {
  out.error = error.message;
}
console.log(JSON.stringify(out));
