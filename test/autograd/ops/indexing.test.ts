/**
 * indexSelect, slice, concat and stack (all gather / scatter-add along an axis): forward against
 * plain-JS references on nested arrays, first and second derivatives against finite differences
 * over random shapes, axes and indices, NaN and ±Infinity carried through untouched, and errors
 * that name the op, the axis and the shapes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../../src/autograd/create.ts";
import { concat, indexSelect, slice, stack } from "../../../src/autograd/ops/indexing.ts";
import type { NestedArray, Tensor } from "../../../src/autograd/tensor.ts";
import { RUNS, shapeArb, tensorArb } from "../../fixtures/arbitraries.ts";
import { expectGradGradOk, expectGradOk } from "../../fixtures/assertions.ts";
import { f64 } from "../../fixtures/tensors.ts";
import { pythonSlice } from "../op-table.ts";

/** The nested-array value with `pick` applied to the list at depth `axis` (a reference for one-axis ops). */
function alongAxis(
  value: NestedArray,
  axis: number,
  pick: (list: NestedArray[]) => NestedArray[],
): NestedArray {
  if (!Array.isArray(value)) throw new Error("reference: axis deeper than the array");
  return axis === 0 ? pick(value) : value.map((v) => alongAxis(v, axis - 1, pick));
}

/** A float64 tensor of rank 1..3 (dimensions 1..4) and an axis of it, negative half the time. */
const tensorAxisArb = shapeArb(1, 3).chain((shape) =>
  fc.tuple(tensorArb(shape), fc.integer({ min: -shape.length, max: shape.length - 1 })),
);
const positive = (x: Tensor, axis: number) => (axis < 0 ? axis + x.ndim : axis);

describe("indexSelect", () => {
  const caseArb = tensorAxisArb.chain(([x, axis]) =>
    fc.tuple(
      fc.constant(x),
      fc.constant(axis),
      fc.array(fc.integer({ min: 0, max: x.shape[positive(x, axis)] - 1 }), { maxLength: 5 }),
    ),
  );

  it("forward: the slabs at the indices, in order, repeats included", () => {
    fc.assert(
      fc.property(caseArb, ([x, axis, idx]) => {
        const expected = alongAxis(x.toArray(), positive(x, axis), (list) => idx.map((i) => list[i]));
        expect(indexSelect(x, axis, idx).toArray()).toEqual(expected);
      }),
      RUNS,
    );
  });

  it("first and second derivatives (a slab taken twice gets both gradients)", () => {
    fc.assert(
      fc.property(caseArb, ([x, axis, idx]) => {
        expectGradOk((t) => indexSelect(t, axis, idx), [x]);
        expectGradGradOk((t) => indexSelect(t, axis, idx).mul(indexSelect(t, axis, idx)), [x]);
      }),
      { numRuns: 20 },
    );
  });

  it("bad indices and axes are refused, naming the op, the axis and the shape", () => {
    const x = f64([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(() => indexSelect(x, 1, [0, 3])).toThrow(
      "indexSelect: index 3 is out of range for axis 1 of size 3 (shape [2, 3])",
    );
    expect(() => indexSelect(x, 0, [-1])).toThrow(
      "indexSelect: index -1 is out of range for axis 0 of size 2",
    );
    expect(() => indexSelect(x, 0, [0.5])).toThrow("indexSelect: index 0.5 is out of range");
    expect(() => indexSelect(x, 2, [0])).toThrow(/^indexSelect: axis 2 is out of range .*\[2, 3\]/);
    expect(() => indexSelect(f64([1], []), 0, [0])).toThrow(
      "indexSelect: needs a tensor with at least one dimension",
    );
  });
});

describe("slice", () => {
  const bound = fc.option(fc.integer({ min: -6, max: 6 }), { nil: undefined });
  const step = fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0);
  const caseArb = fc.tuple(tensorAxisArb, bound, bound, step);

  it("forward: Python's start:end:step (negatives from the end, clipped, backwards with a negative step)", () => {
    fc.assert(
      fc.property(caseArb, ([[x, axis], start, end, s]) => {
        const expected = alongAxis(x.toArray(), positive(x, axis), (list) =>
          pythonSlice(list, start, end, s),
        );
        const out = slice(x, axis, start, end, s);
        expect(out.toArray()).toEqual(expected);
        expect(out.shape[positive(x, axis)]).toBe(
          pythonSlice(Array.from({ length: x.shape[positive(x, axis)] }), start, end, s).length,
        );
      }),
      RUNS,
    );
  });

  it("first and second derivatives: the gradient goes back where the elements were, zeros elsewhere", () => {
    fc.assert(
      fc.property(caseArb, ([[x, axis], start, end, s]) => {
        expectGradOk((t) => slice(t, axis, start, end, s), [x]);
        expectGradGradOk((t) => slice(t, axis, start, end, s).exp(), [x]);
      }),
      { numRuns: 20 },
    );
  });

  it("walking backwards without an end runs to the first element, as x[::-1] and x[2::-2] do", () => {
    const x = f64([0, 1, 2, 3, 4], [5]);
    expect(Array.from(slice(x, 0, undefined, undefined, -1).dataSync())).toEqual([4, 3, 2, 1, 0]);
    expect(Array.from(slice(x, 0, 2, undefined, -2).dataSync())).toEqual([2, 0]);
  });

  it("NaN and ±Infinity are moved, never touched; gradients around them stay finite", () => {
    const x = f64([Number.NaN, Number.POSITIVE_INFINITY, 1, Number.NEGATIVE_INFINITY], [4]);
    x.requiresGrad = true;
    expect(Array.from(slice(x, 0, 1, undefined, 2).dataSync())).toEqual([
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    slice(x, 0, 2, 3).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 1, 0]);
  });

  it("a zero or fractional step or bound is refused", () => {
    const x = f64([1, 2, 3], [3]);
    expect(() => slice(x, 0, 0, 3, 0)).toThrow("slice: step must not be zero");
    expect(() => slice(x, 0, 0.5)).toThrow("slice: start 0.5 must be an integer");
    expect(() => slice(x, 1)).toThrow(/^slice: axis 1 is out of range .*\[3\]/);
  });
});

describe("concat and stack", () => {
  /** 1..3 tensors that agree on every dimension but `axis`, where each has its own size (0 allowed). */
  const concatArb = shapeArb(1, 3).chain((shape) =>
    fc
      .integer({ min: 0, max: shape.length - 1 })
      .chain((axis) =>
        fc
          .array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 })
          .chain((sizes) =>
            fc.tuple(
              fc.tuple(...sizes.map((n) => tensorArb(shape.map((d, i) => (i === axis ? n : d))))),
              fc.constant(axis),
            ),
          ),
      ),
  );

  it("concat forward: the pieces end to end along the axis", () => {
    fc.assert(
      fc.property(concatArb, ([xs, axis]) => {
        const expected = xs.map((x) => x.toArray()).reduce((acc, v) => joinAt(acc, v, axis));
        expect(plusZero(concat(xs, axis).toArray())).toEqual(plusZero(expected));
      }),
      RUNS,
    );
  });

  it("concat first and second derivatives, to every piece", () => {
    fc.assert(
      fc.property(concatArb, ([xs, axis]) => {
        expectGradOk((...ts) => concat(ts, axis), xs);
        expectGradGradOk((...ts) => concat(ts, axis).tanh(), xs);
      }),
      { numRuns: 20 },
    );
  });

  it("stack forward and derivatives: a new axis anywhere, negative counting from the end", () => {
    const stackArb = shapeArb(0, 2).chain((shape) =>
      fc.tuple(
        fc.array(tensorArb(shape), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: -(shape.length + 1), max: shape.length }),
      ),
    );
    fc.assert(
      fc.property(stackArb, ([xs, axis]) => {
        const ax = axis < 0 ? axis + xs[0].ndim + 1 : axis;
        const out = stack(xs, axis);
        expect(out.shape).toEqual([...xs[0].shape.slice(0, ax), xs.length, ...xs[0].shape.slice(ax)]);
        // + 0: concatenation adds, so −0 comes back as +0 (see concat).
        const plain = (t: Tensor) => Array.from(t.dataSync(), (v) => v + 0);
        xs.forEach((x, i) => {
          expect(plain(indexSelect(out, ax, [i]))).toEqual(plain(x));
        });
        expectGradOk((...ts) => stack(ts, axis), xs);
        expectGradGradOk((...ts) => stack(ts, axis).mul(stack(ts, axis)), xs);
      }),
      { numRuns: 20 },
    );
  });

  it("Infinity in one piece does not turn the others into NaN (placed, not multiplied)", () => {
    const a = f64([Number.POSITIVE_INFINITY, Number.NaN], [2]);
    const b = f64([1, 2], [2]);
    const out = Array.from(concat([a, b]).dataSync());
    expect(out[0]).toBe(Number.POSITIVE_INFINITY);
    expect(out[1]).toBeNaN();
    expect(out.slice(2)).toEqual([1, 2]);
  });

  it("mismatched shapes, dtypes or an empty list are refused, naming the op and the shapes", () => {
    const a = f64([1, 2, 3, 4], [2, 2]);
    const b = f64([1, 2, 3], [1, 3]);
    expect(() => concat([a, b], 0)).toThrow(
      "concat: shapes [2, 2], [1, 3] must match in every dimension but axis 0",
    );
    expect(() => concat([])).toThrow("concat: needs at least one tensor");
    expect(() => concat([a, a.to("float32")])).toThrow(
      "concat: tensors differ in dtype or backend (float64 on cpu, float32 on cpu)",
    );
    expect(() => stack([a, b])).toThrow("stack: all tensors must have one shape, got [2, 2], [1, 3]");
    expect(() => stack([a], 3)).toThrow("stack: axis 3 is out of range for stacking tensors of shape [2, 2]");
  });
});

/** Two nested arrays joined along `axis`. */
function joinAt(a: NestedArray, b: NestedArray, axis: number): NestedArray {
  if (!Array.isArray(a) || !Array.isArray(b)) throw new Error("reference: axis deeper than the array");
  return axis === 0 ? [...a, ...b] : a.map((v, i) => joinAt(v, b[i], axis - 1));
}

/** −0 as +0 throughout (concat adds its pieces, and +0 + −0 = +0; a single piece keeps its −0). */
function plusZero(value: NestedArray): NestedArray {
  return Array.isArray(value) ? value.map(plusZero) : value + 0;
}

describe("dtype and shape checks name the op", () => {
  it("concat and stack: no tensors, a scalar, tensors of other ranks, an axis out of range", () => {
    expect(() => concat([tensor(1)])).toThrow(
      "concat: needs a tensor with at least one dimension, got a scalar",
    );
    expect(() => concat([zeros([2, 3]), zeros([2])], 1)).toThrow(
      "concat: shapes [2, 3], [2] must match in every dimension but axis 1",
    );
    expect(() => stack([])).toThrow("stack: needs at least one tensor");
    expect(() => stack([zeros([2, 3]), zeros([2])])).toThrow(
      "stack: all tensors must have one shape, got [2, 3], [2]",
    );
    for (const axis of [-4, 3, 0.5]) {
      expect(() => stack([zeros([2, 3]), zeros([2, 3])], axis)).toThrow(
        `stack: axis ${axis} is out of range for stacking tensors of shape [2, 3]`,
      );
    }
    // −3 and 2 are the first and the last place the new axis can go.
    expect(stack([zeros([2, 3]), zeros([2, 3])], -3).shape).toEqual([2, 2, 3]);
    expect(stack([zeros([2, 3]), zeros([2, 3])], 2).shape).toEqual([2, 3, 2]);
  });
});

/** A 2×3 float32 leaf that requires grad. */
const x = () => tensor(Float32Array.of(1, -2, 3, -4, 5, -6), [2, 3], { requiresGrad: true });

describe("each op's output carries its name", () => {
  it("composite ops show the ops they are made of: concat is scatter-adds added", () => {
    const out = concat([x(), x()], 0);
    expect(out.op).toBe("add");
    expect(out.inputs.map((t) => t.op)).toEqual(["scatterAdd", "scatterAdd"]);
  });
});
