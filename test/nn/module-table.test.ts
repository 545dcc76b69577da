/**
 * Every nn module of the table (module-table.ts) against its formula by value in float64, not only
 * by gradcheck: each layer's output for random inputs and seeded parameters, each optimizer's
 * parameters after three steps of random gradients under random settings (zero momentum, decay
 * and lr included). The layers' input gradients are checked against finite differences too.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { sizeOf } from "../../src/kernels/shape.ts";
import { opTable } from "../autograd/op-table.ts";
import { shapeArb } from "../fixtures/arbitraries.ts";
import { expectGradOk } from "../fixtures/assertions.ts";
import { layers, losses, optimizers } from "./module-table.ts";

/** Equal up to float64 rounding of a few operations. */
function expectNear(got: readonly number[], want: readonly number[], what: string): void {
  expect(got.length, what).toBe(want.length);
  want.forEach((w, i) => {
    if (!(Math.abs(got[i] - w) <= 1e-12 * (1 + Math.abs(w))))
      throw new Error(`${what}: element ${i} is ${got[i]}, the formula gives ${w}`);
  });
}

const rowsOf = (t: Tensor) => t.toArray() as number[][];

describe("each layer's output is its formula, by value (float64)", () => {
  for (const layer of layers) {
    it(layer.name, () => {
      fc.assert(
        fc.property(layer.domain, ({ module, x }) => {
          const parameters = Object.fromEntries(
            module.namedParameters().map(([name, p]) => [name, Array.from(p.dataSync())]),
          );
          const want = layer.reference(rowsOf(x), parameters);
          expectNear(rowsOf(module.forward(x)).flat(), want.flat(), layer.name);
        }),
        { numRuns: 40 },
      );
    });
  }
});

describe("each layer's gradient with respect to its input matches finite differences", () => {
  for (const layer of layers) {
    it(layer.name, () => {
      fc.assert(
        fc.property(layer.domain, ({ module, x }) => expectGradOk((t) => module.forward(t), [x])),
        { numRuns: 20 },
      );
    });
  }
});

describe("each optimizer's steps are its update rule, by value (float64)", () => {
  /** One or two parameters of random shapes: their first values, then three steps of gradients. */
  const paramsArb = fc.array(
    shapeArb().chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), {
          minLength: 4 * sizeOf(shape),
          maxLength: 4 * sizeOf(shape),
        }),
      ),
    ),
    { minLength: 1, maxLength: 2 },
  );

  for (const entry of optimizers) {
    it(entry.name, () => {
      fc.assert(
        fc.property(paramsArb, entry.options, (specs, options) => {
          const n = specs.map(([shape]) => sizeOf(shape));
          // values[0 .. n) start the parameter; the rest are three steps of gradients.
          const params = specs.map(([shape, values], k) =>
            tensor(Float64Array.from(values.slice(0, n[k])), shape, { requiresGrad: true }),
          );
          const optimizer = entry.make(params, options);
          const expected = specs.map(([, values], k) => values.slice(0, n[k]));
          const states = specs.map(() => ({}));
          for (let t = 1; t <= 3; t++) {
            specs.forEach(([shape, values], k) => {
              const g = values.slice(t * n[k], (t + 1) * n[k]);
              params[k].grad = tensor(Float64Array.from(g), shape);
              expected[k] = entry.step(expected[k], g, states[k], options, t);
            });
            optimizer.step();
            params.forEach((p, k) => {
              expectNear(Array.from(p.dataSync()), expected[k], `${entry.name} step ${t}, parameter ${k}`);
            });
          }
        }),
        { numRuns: 40 },
      );
    });
  }
});

describe("the losses", () => {
  it("are ops of the op table, where each is checked against its formula by value and by gradcheck", () => {
    const names = new Set(opTable.map((e) => e.name));
    expect(losses.filter((name) => !names.has(name))).toEqual([]);
  });
});
