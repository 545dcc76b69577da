/**
 * The elementwise ops beyond what every op is checked for in op-table.test.ts: maximum's and
 * minimum's ties, numbers as operands, pow(x, 0) at 0, cast's dtypes, NaN and infinities through
 * ops and their gradients as in PyTorch, and operands they cannot combine (shapes, dtypes,
 * backends) refused by name.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../../src/autograd/create.ts";
import { batchedMatmul } from "../../../src/autograd/ops/batched-matmul.ts";
import { greater } from "../../../src/autograd/ops/compare.ts";
import { maximum, minimum } from "../../../src/autograd/ops/elementwise.ts";
import { concat } from "../../../src/autograd/ops/indexing.ts";
import { where } from "../../../src/autograd/ops/where.ts";
import { Tensor } from "../../../src/autograd/tensor.ts";
import { CpuBackend } from "../../../src/kernels/cpu/backend.ts";
import { RUNS, randomTensorArb } from "../../fixtures/arbitraries.ts";
import { expectGradOk } from "../../fixtures/assertions.ts";
import { f64 } from "../../fixtures/tensors.ts";

const m23 = () => zeros([2, 3], { requiresGrad: true });

describe("shape errors name the op and the shapes", () => {
  it("incompatible broadcast shapes in add and mul", () => {
    expect(() => m23().add(zeros([4]))).toThrow(/^add: .*\[2, 3\].*\[4\].*cannot be broadcast/);
    expect(() => zeros([3, 1, 2]).mul(zeros([4, 3]))).toThrow(/^mul: .*\[3, 1, 2\].*\[4, 3\]/);
  });
});

describe("data and dtype errors", () => {
  it("mixed dtypes: float32 with float64", () => {
    const a = zeros([2], { dtype: "float32" });
    const b = zeros([2], { dtype: "float64" });
    expect(() => a.add(b)).toThrow(/^add: dtypes differ: float32 \[2\] and float64 \[2\]/);
    expect(() => a.reshape([1, 2]).matmul(b.reshape([2, 1]))).toThrow(
      /^matmul\(\[1, 2\], \[2, 1\]\): dtypes differ/,
    );
  });
});

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

describe("NaN and infinities through ops and gradients (cpu)", () => {
  it("relu(NaN) is NaN, relu(±Infinity) is Infinity and 0; its gradient passes at NaN, stops at 0 (PyTorch's rule)", () => {
    const x = tensor([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -2, 3, 0], {
      requiresGrad: true,
    });
    const y = x.relu();
    expect(y.toArray()).toEqual([Number.NaN, Number.POSITIVE_INFINITY, 0, 0, 3, 0]);
    y.mul(tensor([2, 3, 4, 5, 6, 7]))
      .sum()
      .backward();
    expect(x.grad?.toArray()).toEqual([2, 3, 0, 0, 6, 0]);
  });

  it("maximum with a NaN is NaN, and both sides receive the gradient (PyTorch's rule)", () => {
    const a = tensor([Number.NaN, 1, 2], { requiresGrad: true });
    const b = tensor([1, Number.NaN, 2], { requiresGrad: true });
    const m = maximum(a, b);
    expect(m.toArray()).toEqual([Number.NaN, Number.NaN, 2]);
    m.sum().backward();
    expect(a.grad?.toArray()).toEqual([1, 1, 0.5]);
    expect(b.grad?.toArray()).toEqual([1, 1, 0.5]);
  });

  it("a NaN or an infinity in the input shows in the gradient instead of vanishing", () => {
    const x = tensor([Number.NaN, Number.POSITIVE_INFINITY, 1], { requiresGrad: true });
    x.mul(x).exp().log().sum().backward();
    const [gNaN, gInf, gOne] = x.grad?.toArray() as number[];
    expect(gNaN).toBeNaN();
    expect(gInf).toBeNaN(); // d/dx log(exp(x²)) = 2x·eˣ²/eˣ² = ∞/∞ at x = ∞, as in PyTorch
    expect(gOne).toBeCloseTo(2, 6);
    const y = tensor([Number.NaN, 2], { requiresGrad: true });
    y.pow(2).sum().backward();
    expect(y.grad?.toArray()).toEqual([Number.NaN, 4]);
  });
});

describe("binary ops with broadcasting", () => {
  it("maximum and minimum: ties split the gradient in half", () => {
    const a = f64([1, 2, 3], [3]);
    const b = f64([1, 5, 0], [3]);
    a.requiresGrad = true;
    b.requiresGrad = true;
    maximum(a, b).sum().backward();
    expect(Array.from(a.grad!.dataSync())).toEqual([0.5, 0, 1]);
    expect(Array.from(b.grad!.dataSync())).toEqual([0.5, 1, 0]);
    a.zeroGrad();
    minimum(a, 2).sum().backward();
    expect(Array.from(a.grad!.dataSync())).toEqual([1, 0.5, 0]);
  });

  it("number operands on the right: x + c, x − c, x · c, x / c", () => {
    fc.assert(
      fc.property(randomTensorArb(), fc.double({ min: 0.5, max: 3, noNaN: true }), (x, c) => {
        expectGradOk((t) => t.add(c), [x]);
        expectGradOk((t) => t.sub(c), [x]);
        expectGradOk((t) => t.mul(c), [x]);
        expectGradOk((t) => t.div(c), [x]);
      }),
      RUNS,
    );
  });
});

describe("unary ops", () => {
  it("pow(x, 0) has gradient 0 everywhere, also at x = 0", () => {
    // d(x⁰)/dx = 0; a naive 0·x⁻¹ is 0·∞ = NaN at x = 0.
    const x = f64([0, -1, 2], [3]);
    x.requiresGrad = true;
    x.pow(0).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 0]);
  });

  it("cast: the gradient is carried back unchanged, in the input's dtype", () => {
    // Finite differences through float32 would only measure float32 rounding, so cast within float64
    // goes through gradcheck and the dtype round trips are checked exactly.
    fc.assert(
      fc.property(randomTensorArb(), (x) => expectGradOk((t) => t.to("float64").mul(t), [x])),
      RUNS,
    );
    for (const [from, to] of [
      ["float32", "float64"],
      ["float64", "float32"],
    ] as const) {
      const x = tensor([1.5, -2, 0.25], { dtype: from, requiresGrad: true });
      const y = x.to(to);
      expect(y.dtype).toBe(to);
      y.backward(tensor([3, 0.5, -4], { dtype: to }));
      expect(x.grad!.dtype).toBe(from);
      expect(Array.from(x.grad!.dataSync())).toEqual([3, 0.5, -4]);
    }
  });
});
