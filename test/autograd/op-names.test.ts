/**
 * Every op records its own name on its output: the name that toDot draws, that printing shows, and
 * that a backward error starts with ("backward of gather: …"). A student reading a graph must see
 * the op they called (or the ops it is composed of), never a blank.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { batchedMatmul } from "../../src/autograd/ops/batched-matmul.ts";
import { equal } from "../../src/autograd/ops/constants.ts";
import { cast } from "../../src/autograd/ops/elementwise.ts";
import { gather, scatterAdd } from "../../src/autograd/ops/gather.ts";
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
});
