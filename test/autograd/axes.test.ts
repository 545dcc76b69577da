/** Every op that takes an axis reads it through axes.ts: negative axes count from the end, the rest are refused alike. */
import { describe, expect, it } from "vitest";
import { normalizeAxes, normalizeAxis } from "../../src/autograd/axes.ts";
import { tensor } from "../../src/autograd/create.ts";
import { gather, scatterAdd } from "../../src/autograd/ops/gather.ts";
import { indexSelect, stack } from "../../src/autograd/ops/indexing.ts";
import { transpose } from "../../src/autograd/ops/shape.ts";

const x = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

describe("normalizeAxes", () => {
  it("gives a sorted list of distinct non-negative axes; undefined means every axis", () => {
    expect(normalizeAxes("sum", [2, 3, 4], [2, -3])).toEqual([0, 2]);
    expect(normalizeAxes("sum", [2, 3, 4], [-1, 1, 0])).toEqual([0, 1, 2]);
    expect(normalizeAxes("sum", [2, 3, 4], -2)).toEqual([1]);
    expect(normalizeAxes("sum", [2, 3, 4], undefined)).toEqual([0, 1, 2]);
    expect(() => normalizeAxes("sum", [2, 3, 4], [1, -2])).toThrow("sum: repeated axis in [1, -2]");
  });
});

describe("normalizeAxis", () => {
  it("counts negative axes from the end and refuses what is past either end, naming the op and the range", () => {
    expect([-2, -1, 0, 1].map((a) => normalizeAxis("op", [2, 3], a))).toEqual([0, 1, 0, 1]);
    expect(() => normalizeAxis("op", [2, 3], 2)).toThrow(
      "op: axis 2 is out of range for a tensor of shape [2, 3] (axes run from -2 to 1)",
    );
    expect(() => normalizeAxis("op", [2, 3], -3)).toThrow(/axis -3 is out of range/);
    expect(() => normalizeAxis("op", [2, 3], 0.5)).toThrow(/axis 0.5 is out of range/);
    expect(() => normalizeAxis("op", [], 0)).toThrow(
      "op: axis 0 is out of range for a tensor of shape [] (it has no axes)",
    );
  });
});

describe("ops that take an axis accept negative ones", () => {
  it("gather and scatterAdd along −1 are the same as along the last axis", async () => {
    const idx = Int32Array.of(2, 0);
    expect(await gather(x(), -1, idx).data()).toEqual(await gather(x(), 1, idx).data());
    expect(await scatterAdd(x(), -2, Int32Array.of(1, 0), 3).data()).toEqual(
      await scatterAdd(x(), 0, Int32Array.of(1, 0), 3).data(),
    );
  });

  it("gather on an axis the tensor does not have names the op, the axis and the shape", () => {
    expect(() => gather(x(), 2, Int32Array.of(0))).toThrow(
      /^gather: axis 2 is out of range for a tensor of shape \[2, 3\]/,
    );
    expect(() => scatterAdd(x(), 1, Int32Array.of(0, 1, 2), -1)).toThrow(
      "scatterAdd: size must be a whole number from 0, got -1",
    );
  });

  it("transpose takes a permutation written with negative axes", async () => {
    const t = transpose(x(), [-1, -2]);
    expect(t.shape).toEqual([3, 2]);
    expect(await t.data()).toEqual(await transpose(x(), [1, 0]).data());
    expect(() => transpose(x(), [0, -2])).toThrow(/\[0, -2\] is not a permutation of the axes of \[2, 3\]/);
    expect(() => transpose(x(), [0])).toThrow(/is not a permutation/);
  });

  it("stack inserts a new axis anywhere, negative ones counting from after the last", () => {
    expect(stack([x(), x()], -1).shape).toEqual([2, 3, 2]);
    expect(() => stack([x()], 3)).toThrow(
      "stack: axis 3 is out of range for stacking tensors of shape [2, 3] (axes run from -3 to 2)",
    );
  });
});

describe("an empty index list gives an empty result, as NumPy's take and PyTorch's index_select", () => {
  it("along either axis, and its gradient is zeros", async () => {
    const w = tensor([[1, 2, 3]], { requiresGrad: true });
    const none = indexSelect(w, 1, []);
    expect(none.shape).toEqual([1, 0]);
    expect(gather(x(), 0, new Int32Array(0)).shape).toEqual([0, 3]);
    none.sum().backward();
    expect(await w.grad?.data()).toEqual(Float32Array.of(0, 0, 0));
  });
});
