/**
 * Operands an op cannot combine are refused before any work, each with a message naming the op and
 * what differs: tensors on two backends, mixed dtypes, shapes that do not fit, axes and ranges out of
 * bounds. (errors.test.ts holds the common cases; these are the rest, one check each.)
 */
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../src/autograd/create.ts";
import { batchedMatmul } from "../../src/autograd/ops/batched-matmul.ts";
import { equal, greater, greaterEqual, notEqual } from "../../src/autograd/ops/compare.ts";
import { concat, stack } from "../../src/autograd/ops/indexing.ts";
import { max, sum } from "../../src/autograd/ops/reduce.ts";
import { where } from "../../src/autograd/ops/where.ts";
import { Tensor } from "../../src/autograd/tensor.ts";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";

/** A second backend, so that two tensors can live on different ones. */
class OtherBackend extends CpuBackend {
  override readonly name = "other";
}
const other = new OtherBackend();
const elsewhere = (shape: number[]) =>
  new Tensor(
    other.fill(
      shape.reduce((a, b) => a * b, 1),
      1,
      "float32",
    ),
    shape,
    other,
  );

describe("tensors on different backends are refused by name", () => {
  it("by the elementwise ops, matmul, batchedMatmul, where, concat and the masks", () => {
    const here = zeros([2, 2]);
    const there = elsewhere([2, 2]);
    expect(() => here.add(there)).toThrow("add: tensors live on different backends (cpu and other)");
    expect(() => here.matmul(there)).toThrow(
      "matmul([2, 2], [2, 2]): operands on different backends (cpu, other)",
    );
    expect(() => batchedMatmul(zeros([3, 2, 2]), elsewhere([3, 2, 2]))).toThrow(
      "batchedMatmul([3, 2, 2], [3, 2, 2]): operands on different backends (cpu, other)",
    );
    expect(() => where(there, here, here)).toThrow("where: the condition lives on other, the values on cpu");
    expect(() => concat([here, there])).toThrow(
      "concat: tensors differ in dtype or backend (float32 on cpu, float32 on other)",
    );
    expect(() => greater(here, there)).toThrow(
      "greater: cannot compare float32 [2, 2] on cpu with float32 [2, 2] on other",
    );
  });
});

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

describe("dtype and shape checks name the op", () => {
  it("batchedMatmul: dtypes, ranks, and the transposes in its name", () => {
    expect(() => batchedMatmul(zeros([2, 2, 2]), zeros([2, 2, 2], { dtype: "float64" }))).toThrow(
      "batchedMatmul([2, 2, 2], [2, 2, 2]): dtypes differ (float32 and float64)",
    );
    expect(() => batchedMatmul(zeros([2, 3, 4]), zeros([4]))).toThrow(
      "batchedMatmul([2, 3, 4], [4]): both operands need at least 2 dimensions (the last two hold the matrices)",
    );
    expect(() => batchedMatmul(zeros([2, 3, 4]), zeros([2, 3, 4]), { transA: true, transB: true })).toThrow(
      "batchedMatmul([2, 3, 4]ᵀ, [2, 3, 4]ᵀ): inner dimensions differ (3 vs 4)",
    );
  });

  it("where: values of two dtypes", () => {
    expect(() => where(tensor([1]), zeros([1]), zeros([1], { dtype: "float64" }))).toThrow(
      /^where: dtypes differ: float32 \[1\] and float64 \[1\]/,
    );
  });

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

  it("matmul: a matrix times a vector or a stack of matrices", () => {
    expect(() => zeros([2, 3]).matmul(zeros([3]))).toThrow(
      "matmul([2, 3], [3]): both operands must be 2-D matrices",
    );
    expect(() => zeros([2, 3]).matmul(zeros([1, 3, 2]))).toThrow(
      "matmul([2, 3], [1, 3, 2]): both operands must be 2-D matrices",
    );
  });

  it("reshape: negative or fractional dimensions, even when their product is the size", () => {
    expect(() => zeros([2, 3]).reshape([-2, -3])).toThrow("reshape: invalid target shape [-2, -3]");
    expect(() => zeros([2, 3]).reshape([1.5, 4])).toThrow("reshape: invalid target shape [1.5, 4]");
    expect(() => zeros([2, 3]).reshape([-1, -6])).toThrow("reshape: invalid target shape [-1, -6]");
    expect(zeros([2, 3]).reshape([3, -1]).shape).toEqual([3, 2]);
  });

  it("transpose: a permutation of too many or too few axes", () => {
    expect(() => zeros([2, 3]).transpose([1, 0, 2])).toThrow(
      "transpose: [1, 0, 2] is not a permutation of the axes of [2, 3]",
    );
    expect(() => zeros([2, 3]).transpose([0])).toThrow(
      "transpose: [0] is not a permutation of the axes of [2, 3]",
    );
  });

  it("gatherRows of a scalar, and sliceRows with a negative start or a start past the end", () => {
    expect(() => tensor(1).gatherRows([0])).toThrow(
      "gatherRows: needs a tensor with at least one dimension, got a scalar",
    );
    expect(() => zeros([3, 2]).sliceRows(-1, 1)).toThrow(
      "sliceRows: rows -1..1 are out of range for shape [3, 2]",
    );
    expect(() => zeros([3, 2]).sliceRows(2, 1)).toThrow(
      "sliceRows: rows 2..1 are out of range for shape [3, 2]",
    );
    expect(zeros([3, 2]).sliceRows(2, 2).shape).toEqual([0, 2]);
  });

  it("reductions: a repeated axis (also written once negative), and max over an empty axis", () => {
    expect(() => sum(zeros([2, 3]), [0, 0])).toThrow("sum: repeated axis in [0, 0]");
    expect(() => zeros([2, 3]).mean([1, -1])).toThrow("mean: repeated axis in [1, -1]");
    expect(() => max(zeros([2, 0]), 1)).toThrow(
      "max: cannot reduce an empty axis of a tensor of shape [2, 0]",
    );
    expect(() => zeros([0]).max()).toThrow("max: cannot reduce an empty axis of a tensor of shape [0]");
    // Reducing a non-empty axis of a tensor that is empty elsewhere is fine: nothing to reduce.
    expect(max(zeros([2, 0]), 0).shape).toEqual([0]);
  });
});
