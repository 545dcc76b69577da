/**
 * Bad input fails loudly, with a message that names the op and the shapes involved, so that a
 * student can find the offending line without a debugger.
 */
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../src/autograd/create.ts";
import { applyOp } from "../../src/autograd/op.ts";

const m23 = () => zeros([2, 3], { requiresGrad: true });

describe("shape errors name the op and the shapes", () => {
  it("incompatible broadcast shapes in add and mul", () => {
    expect(() => m23().add(zeros([4]))).toThrow(/^add: .*\[2, 3\].*\[4\].*cannot be broadcast/);
    expect(() => zeros([3, 1, 2]).mul(zeros([4, 3]))).toThrow(/^mul: .*\[3, 1, 2\].*\[4, 3\]/);
  });

  it("matmul with mismatched inner dimensions, with and without transposes", () => {
    expect(() => m23().matmul(zeros([2, 4]))).toThrow(
      /^matmul\(\[2, 3\], \[2, 4\]\): inner dimensions differ \(3 vs 2\)/,
    );
    expect(() => m23().matmul(zeros([2, 4]), { transA: true, transB: true })).toThrow(
      /^matmul\(\[2, 3\]ᵀ, \[2, 4\]ᵀ\): inner dimensions differ \(2 vs 4\)/,
    );
  });

  it("matmul with operands that are not 2-D", () => {
    expect(() => zeros([2, 3, 4]).matmul(zeros([4, 2]))).toThrow(/^matmul\(\[2, 3, 4\], \[4, 2\]\): .*2-D/);
    expect(() => zeros([3]).matmul(zeros([3]))).toThrow(/^matmul\(\[3\], \[3\]\): .*2-D/);
  });

  it("reshape to a shape with another number of elements, or with two -1s", () => {
    expect(() => m23().reshape([4, 2])).toThrow(
      /^reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/,
    );
    expect(() => m23().reshape([4, -1])).toThrow(/^reshape: cannot reshape \[2, 3\].*\[4, -1\]/);
    expect(() => m23().reshape([-1, -1])).toThrow(/^reshape: invalid target shape \[-1, -1\]/);
  });

  it("axes out of range in reductions, including negative ones", () => {
    expect(() => m23().sum(2)).toThrow(/^sum: axis 2 is out of range for a tensor of shape \[2, 3\]/);
    expect(() => m23().mean([-3])).toThrow(/^mean: axis -3 is out of range .*\[2, 3\]/);
    expect(() => m23().max([0, 5])).toThrow(/^max: axis 5 .*\[2, 3\]/);
    expect(() => m23().logsumexp(-3)).toThrow(/^logsumexp: axis -3 .*\[2, 3\]/);
  });

  it("transpose with something that is not a permutation", () => {
    expect(() => m23().transpose([0, 0])).toThrow(/^transpose: \[0, 0\] is not a permutation .*\[2, 3\]/);
  });

  it("broadcastTo a shape the tensor does not broadcast to", () => {
    expect(() => m23().broadcastTo([3])).toThrow(/^broadcastTo: cannot broadcast \[2, 3\] to \[3\]/);
    expect(() => m23().broadcastTo([4, 3])).toThrow(/^broadcastTo: cannot broadcast \[2, 3\] to \[4, 3\]/);
  });

  it("gatherRows and sliceRows out of range", () => {
    expect(() => m23().gatherRows([0, 2])).toThrow(
      /^gatherRows: index 2 is out of range for 2 rows \(shape \[2, 3\]\)/,
    );
    expect(() => m23().gatherRows([-1])).toThrow(/^gatherRows: index -1 .*\[2, 3\]/);
    expect(() => m23().sliceRows(1, 3)).toThrow(
      /^sliceRows: rows 1\.\.3 are out of range for shape \[2, 3\]/,
    );
    // Fractional rows are no rows at all, rather than silently truncated ones.
    expect(() => m23().gatherRows([0.5])).toThrow(/^gatherRows: index 0\.5 is out of range .*\[2, 3\]/);
    expect(() => m23().sliceRows(0.5, 2)).toThrow(/^sliceRows: rows 0\.5\.\.2 .*\[2, 3\]/);
  });
});

describe("data and dtype errors", () => {
  it("a typed array whose length does not match the shape", () => {
    expect(() => tensor(new Float32Array(5), [2, 3])).toThrow(
      /^tensor: shape \[2, 3\] needs 6 values but the data has 5/,
    );
    expect(() => tensor(new Float64Array(7), [2, 3])).toThrow(
      /^tensor: shape \[2, 3\] needs 6 values but the data has 7/,
    );
  });

  it("shapes with negative or fractional dimensions, even when their product matches the data", () => {
    expect(() => tensor(new Float32Array(6), [-2, -3])).toThrow(
      /^tensor: shape \[-2, -3\] must hold non-negative integers/,
    );
    expect(() => tensor(new Float64Array(6), [1.5, 4])).toThrow(
      /^tensor: shape \[1\.5, 4\] must hold non-negative integers/,
    );
    expect(() => zeros([2, -1])).toThrow(/^full: shape \[2, -1\]/);
  });

  it("ragged nested arrays", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(
      /^tensor: ragged nested array: expected 2 entries at depth 1 \(shape \[2, 2\]\)/,
    );
    expect(() => tensor([1, [2]])).toThrow(/^tensor: ragged nested array.*depth 1.*\[2\]/);
    expect(() => tensor([[1, 2], 3])).toThrow(/^tensor: ragged nested array.*depth 1.*\[2, 2\]/);
  });

  it("mixed dtypes: float32 with float64", () => {
    const a = zeros([2], { dtype: "float32" });
    const b = zeros([2], { dtype: "float64" });
    expect(() => a.add(b)).toThrow(/^add: dtypes differ: float32 \[2\] and float64 \[2\]/);
    expect(() => a.reshape([1, 2]).matmul(b.reshape([2, 1]))).toThrow(
      /^matmul\(\[1, 2\], \[2, 1\]\): dtypes differ/,
    );
  });

  it("item() on a tensor with more than one element", () => {
    expect(() => m23().item()).toThrow(/^item: tensor of shape \[2, 3\] has 6 elements/);
  });
});

describe("backward errors", () => {
  it("backward on a non-scalar without a gradient", () => {
    expect(() => m23().mul(2).backward()).toThrow(/^backward: output of shape \[2, 3\] is not a scalar/);
  });

  it("backward with a gradient of the wrong shape or dtype", () => {
    const y = m23().mul(2);
    expect(() => y.backward(zeros([3, 2]))).toThrow(/^backward: gradient of shape \[3, 2\].*\[2, 3\]/);
    expect(() => y.backward(zeros([2, 3], { dtype: "float64" }))).toThrow(
      /^backward: .*float64.*\[2, 3\].*float32/,
    );
  });

  it("backward on a tensor that does not require grad", () => {
    expect(() => zeros([1]).mul(2).backward()).toThrow(/^backward: this tensor does not require grad/);
  });
});

describe("custom ops and creation", () => {
  it("a backward that returns too few gradients is named, not silently dropped", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const out = applyOp(
      "broken",
      [a, b],
      () => a.add(b),
      (g) => [() => g],
    );
    expect(() => out.sum().backward()).toThrow(/backward of broken: returned 1 gradients for 2 inputs/);
  });

  it("an op without inputs and a nested array with a mismatched shape are rejected by name", () => {
    const a = tensor([1]);
    expect(() =>
      applyOp(
        "nothing",
        [],
        () => a,
        () => [],
      ),
    ).toThrow(/^nothing: an op needs at least one input tensor/);
    expect(
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        [4],
      ).shape,
    ).toEqual([4]);
    expect(() =>
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        [3],
      ),
    ).toThrow(/tensor: shape \[3\] needs 3 values but the nested array \[2, 2\] has 4/);
  });
});
