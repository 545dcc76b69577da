/**
 * The comparison masks (equal, greater, less, …): they match JavaScript's comparisons elementwise,
 * are never tracked, refuse operands that do not broadcast or mix dtypes by name, and a mask made
 * of two leaves one buffer behind.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../../src/autograd/create.ts";
import {
  equal,
  greater,
  greaterEqual,
  less,
  lessEqual,
  notEqual,
} from "../../../src/autograd/ops/compare.ts";
import { sizeOf } from "../../../src/kernels/shape.ts";
import { RUNS, shapeArb } from "../../fixtures/arbitraries.ts";
import { f64 } from "../../fixtures/tensors.ts";

describe("comparison masks check their operands", () => {
  it("refuse shapes that do not broadcast, and mixed dtypes, naming the comparison", () => {
    const a = zeros([2]);
    expect(() => greater(a, zeros([3]))).toThrow(
      "greater: cannot compare float32 [2] on cpu with float32 [3] on cpu",
    );
    expect(() => equal(a, zeros([2], { dtype: "float64" }))).toThrow(
      "equal: cannot compare float32 [2] on cpu with float64 [2] on cpu",
    );
    expect(() => notEqual(a, zeros([3, 4]))).toThrow(/^notEqual: cannot compare float32 \[2\] .* \[3, 4\]/);
    // Each comparison names itself and its operands in the order given, also those built on others.
    const b = zeros([3]);
    expect(() => a.less(b)).toThrow("less: cannot compare float32 [2] on cpu with float32 [3] on cpu");
    expect(() => a.greaterEqual(b)).toThrow(
      "greaterEqual: cannot compare float32 [2] on cpu with float32 [3]",
    );
    expect(() => a.lessEqual(b)).toThrow("lessEqual: cannot compare float32 [2] on cpu with float32 [3]");
    // Shapes that do broadcast are compared element by element.
    expect(greater(tensor([[1], [3]]), tensor([2, 0, 3])).toArray()).toEqual([
      [0, 1, 0],
      [1, 1, 0],
    ]);
  });

  it("a mask made of two masks leaves one buffer behind, not three", () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([2, 2, 2]);
    const before = a.backend.memory().buffers;
    const mask = greaterEqual(a, b);
    expect(mask.toArray()).toEqual([0, 1, 1]);
    expect(a.backend.memory().buffers - before).toBe(1);
    const lessOrEqual = a.lessEqual(b);
    expect(lessOrEqual.toArray()).toEqual([1, 1, 0]);
    expect(a.backend.memory().buffers - before).toBe(2);
  });
});

const inf = Number.POSITIVE_INFINITY;

describe("comparison masks", () => {
  it("match JavaScript's comparisons elementwise, with broadcasting and special values", () => {
    const special = fc.oneof(fc.integer({ min: -2, max: 2 }), fc.constantFrom(inf, -inf, Number.NaN, -0));
    const arb = shapeArb().chain((out) =>
      fc.tuple(
        fc.array(special, { minLength: sizeOf(out), maxLength: sizeOf(out) }),
        fc.array(special, { minLength: sizeOf(out), maxLength: sizeOf(out) }),
        fc.constant(out),
      ),
    );
    fc.assert(
      fc.property(arb, ([av, bv, out]) => {
        const a = f64(av, out);
        const b = f64(bv, out);
        const cases: [typeof greater, (x: number, y: number) => boolean][] = [
          [greater, (x, y) => x > y],
          [less, (x, y) => x < y],
          [equal, (x, y) => x === y],
          [greaterEqual, (x, y) => x >= y],
          [lessEqual, (x, y) => x <= y],
        ];
        for (const [mask, reference] of cases) {
          expect(Array.from(mask(a, b).dataSync())).toEqual(av.map((x, i) => (reference(x, bv[i]) ? 1 : 0)));
        }
      }),
      RUNS,
    );
    // Broadcasting is the binary kernels' (tested with them); here once, to see it is used.
    expect(greater(f64([1, 2, 3], [3]), f64([2], [1])).toArray()).toEqual([0, 0, 1]);
  });

  it("are constants of the graph: never tracked, even from a tensor that requires grad", () => {
    const x = f64([1, -1], [2]);
    x.requiresGrad = true;
    expect(x.greater(0).requiresGrad).toBe(false);
    expect(x.lessEqual(0).toArray()).toEqual([0, 1]);
  });
});
