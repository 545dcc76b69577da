/**
 * float32 results of the ops against an independent float64 reference: each op's meaning written
 * here with Math's functions, not computed by the same code in float64. (A float64 run of the same
 * code would carry the same mistake: an exp off by 0.1% agrees with itself.) The tolerance is
 * relative 1e-6 — eight float32 ulps — plus an absolute floor at float32's smallest normal number.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";

const RTOL = 1e-6;
const TINY = 2 ** -126;

const softplus = (v: number) => (v > 30 ? v : Math.log1p(Math.exp(v)));
const cases: [string, (x: Tensor) => Tensor, (v: number) => number, number, number][] = [
  ["neg", (x) => x.neg(), (v) => -v, -100, 100],
  ["exp", (x) => x.exp(), Math.exp, -80, 80],
  ["log", (x) => x.log(), Math.log, 1e-30, 1e30],
  ["sqrt", (x) => x.sqrt(), Math.sqrt, 0, 1e30],
  ["relu", (x) => x.relu(), (v) => Math.max(v, 0), -100, 100],
  ["sigmoid", (x) => x.sigmoid(), (v) => 1 / (1 + Math.exp(-v)), -80, 80],
  ["tanh", (x) => x.tanh(), Math.tanh, -20, 20],
  ["softplus", (x) => x.softplus(), softplus, -80, 80],
  ["abs", (x) => x.abs(), Math.abs, -100, 100],
  ["pow 3", (x) => x.pow(3), (v) => v ** 3, -1e10, 1e10],
  ["pow 0.5", (x) => x.pow(0.5), Math.sqrt, 0, 1e30],
];

describe("float32 ops against their float64 definitions", () => {
  for (const [name, op, exact, min, max] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(
          fc.array(fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true }), {
            minLength: 1,
            maxLength: 40,
          }),
          (values) => {
            const got = op(tensor(Float32Array.from(values), [values.length])).dataSync();
            values.forEach((v, i) => {
              const want = exact(Math.fround(v));
              if (!(Math.abs(got[i] - want) <= RTOL * Math.abs(want) + TINY))
                throw new Error(`${name}(${v}) = ${got[i]} in float32, exactly ${want}`);
            });
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});
