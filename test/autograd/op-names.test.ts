/**
 * Every op records its own name on its output: the name that toDot draws, that printing shows, and
 * that a backward error starts with ("backward of gather: …"). A student reading a graph must see
 * the op they called (or the ops it is composed of), never a blank.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { batchedMatmul } from "../../src/autograd/ops/batched-matmul.ts";
import { equal } from "../../src/autograd/ops/compare.ts";
import { cast, maximum, minimum } from "../../src/autograd/ops/elementwise.ts";
import { gather, scatterAdd } from "../../src/autograd/ops/gather.ts";
import { concat } from "../../src/autograd/ops/indexing.ts";
import { abs } from "../../src/autograd/ops/piecewise.ts";
import { sumToShape } from "../../src/autograd/ops/shape.ts";
import { where } from "../../src/autograd/ops/where.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";

const x = () =>
  tensor(
    [
      [1, -2, 3],
      [-4, 5, -6],
    ],
    { requiresGrad: true },
  );

describe("each op's output carries its name", () => {
  it.each<[string, () => Tensor]>([
    ["pow", () => x().pow(3)],
    // The elementwise maximum and minimum, not the reductions max and min.
    ["maximum", () => maximum(x(), 0)],
    ["minimum", () => minimum(x(), 0)],
    ["max", () => x().max()],
    ["cast:float64", () => cast(x(), "float64")],
    ["cast:float32", () => x().to("float64").to("float32")],
    ["transpose", () => x().transpose()],
    ["broadcastTo", () => x().broadcastTo([4, 2, 3])],
    ["sumToShape", () => sumToShape(x(), [1, 3])],
    ["abs", () => abs(x())],
    ["gather", () => gather(x(), 1, Int32Array.of(2, 0))],
    ["scatterAdd", () => scatterAdd(x(), 0, Int32Array.of(1, 0), 3)],
    ["where", () => where(equal(x(), tensor(1)), x(), 0)],
    ["batchedMatmul", () => batchedMatmul(x().reshape([1, 2, 3]), x().reshape([1, 2, 3]), { transA: true })],
  ])("%s", (name, make) => {
    const out = make();
    expect(out.op).toBe(name);
    expect(String(out)).toContain(`op=${name}`);
  });

  it("composite ops show the ops they are made of: concat is scatter-adds added", () => {
    const out = concat([x(), x()], 0);
    expect(out.op).toBe("add");
    expect(out.inputs.map((t) => t.op)).toEqual(["scatterAdd", "scatterAdd"]);
  });

  it("batchedMatmul with one shared right-hand matrix is a single 2-D matmul over all rows", () => {
    const a = tensor(
      Float32Array.from({ length: 12 }, (_, i) => i),
      [2, 2, 3],
      { requiresGrad: true },
    );
    const b = tensor(
      Float32Array.from({ length: 6 }, (_, i) => i - 2),
      [3, 2],
      { requiresGrad: true },
    );
    const out = batchedMatmul(a, b);
    expect(out.op).toBe("reshape");
    expect(out.inputs[0].op).toBe("matmul");
    expect(out.inputs[0].shape).toEqual([4, 2]);
    // The same values as each batch's own product.
    const expected = [0, 1].map((i) =>
      a
        .sliceRows(i, i + 1)
        .reshape([2, 3])
        .matmul(b)
        .toArray(),
    );
    expect(out.toArray()).toEqual(expected);
  });

  it("a backward error names the op it happened in", () => {
    const y = x().pow(2);
    const history = y as { backwardFn: unknown };
    history.backwardFn = () => [() => tensor([1])];
    expect(() => y.sum().backward()).toThrow(
      /^backward of pow: gradient for input 0 has shape \[1\], expected \[2, 3\]/,
    );
  });
});

describe("ops that would change nothing", () => {
  it("reshape, broadcastTo and sumToShape to the shape a tensor has give the tensor itself: no copy, no graph node", () => {
    const t = x();
    expect(t.reshape([2, 3])).toBe(t);
    expect(t.reshape([-1, 3])).toBe(t);
    expect(t.broadcastTo([2, 3])).toBe(t);
    expect(sumToShape(t, [2, 3])).toBe(t);
  });
});
