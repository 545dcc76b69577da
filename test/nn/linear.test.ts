import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { Generator } from "../../src/autograd/random.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { Linear } from "../../src/nn/linear.ts";
import { expectGradOk } from "../fixtures/assertions.ts";
import { f64 } from "../fixtures/tensors.ts";

describe("Linear", () => {
  it("stores W as out×in and initialises W and b uniformly within ±1/√in (PyTorch's default)", () => {
    const layer = new Linear(50, 7, { generator: new Generator(3) });
    expect(layer.weight.shape).toEqual([7, 50]);
    expect(layer.bias?.shape).toEqual([7]);
    const bound = 1 / Math.sqrt(50);
    for (const t of [layer.weight, layer.bias!]) {
      const v = Array.from(t.dataSync());
      expect(Math.max(...v)).toBeLessThanOrEqual(bound);
      expect(Math.min(...v)).toBeGreaterThanOrEqual(-bound);
      // Uniform on ±bound has standard deviation bound/√3: the draws should spread that wide.
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
      if (v.length > 100) expect(sd).toBeCloseTo(bound / Math.sqrt(3), 2);
    }
  });

  it("the same generator seed gives the same weights", () => {
    const a = new Linear(4, 3, { generator: new Generator(9) });
    const b = new Linear(4, 3, { generator: new Generator(9) });
    expect(a.weight.toArray()).toEqual(b.weight.toArray());
  });

  it("computes x·Wᵀ + b", () => {
    const layer = new Linear(2, 3, { dtype: "float64" });
    noGrad(() => {
      layer.weight.assign(f64([1, 2, 3, 4, 5, 6], [3, 2]));
      layer.bias!.assign(f64([0.5, -1, 2], [3]));
    });
    expect(layer.forward(f64([1, -1, 2, 0], [2, 2])).toArray()).toEqual([
      [-0.5, -2, 1],
      [2.5, 5, 12],
    ]);
  });

  it("gradients with respect to input, weight and bias match finite differences (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        (batch, inF, outF, seed) => {
          const g = new Generator(seed);
          const rand = (n: number) => Array.from({ length: n }, () => g.normal());
          const x = f64(rand(batch * inF), [batch, inF]);
          const w = f64(rand(outF * inF), [outF, inF]);
          const b = f64(rand(outF), [outF]);
          const layer = new Linear(inF, outF, { dtype: "float64" });
          // Route the checked inputs through the layer's own forward.
          expectGradOk(
            (xi: Tensor, wi: Tensor, bi: Tensor) => {
              (layer as { weight: Tensor }).weight = wi;
              (layer as { bias: Tensor | null }).bias = bi;
              return layer.forward(xi).tanh();
            },
            [x, w, b],
          );
        },
      ),
      { numRuns: 25 },
    );
  });

  it("rejects an input with the wrong number of features, naming both shapes", () => {
    const layer = new Linear(3, 2);
    expect(() => layer.forward(f64([1, 2], [1, 2]).to("float32"))).toThrow(
      /Linear\(3, 2\).*\[batch, 3\].*\[1, 2\]/,
    );
  });

  it("rejects an input that is not 2-D even when its second axis has the right size", () => {
    const layer = new Linear(3, 2);
    const cube = f64(
      Array.from({ length: 18 }, (_, i) => i),
      [2, 3, 3],
    ).to("float32");
    expect(() => layer.forward(cube)).toThrow(
      /Linear\(3, 2\): expected input of shape \[batch, 3\], got \[2, 3, 3\]/,
    );
    expect(() => layer.forward(f64([1, 2, 3], [3]).to("float32"))).toThrow(/got \[3\]/);
  });

  it("y = x·Wᵀ + b, and without a bias y = x·Wᵀ with no bias parameter", () => {
    const withBias = new Linear(3, 2, { dtype: "float64", generator: new Generator(1) });
    const plain = new Linear(3, 2, { bias: false, dtype: "float64", generator: new Generator(1) });
    expect(plain.bias).toBeNull();
    expect(plain.namedParameters().map(([n]) => n)).toEqual(["weight"]);
    expect(withBias.namedParameters().map(([n]) => n)).toEqual(["weight", "bias"]);
    const x = [1, -2, 0.5, 3, 0, -1];
    const w = values(withBias.weight);
    const b = values(withBias.bias!);
    const xw = [0, 1].flatMap((i) =>
      [0, 1].map((o) => x[i * 3] * w[o * 3] + x[i * 3 + 1] * w[o * 3 + 1] + x[i * 3 + 2] * w[o * 3 + 2]),
    );
    const y = values(withBias.forward(tensor(Float64Array.from(x), [2, 3])));
    y.forEach((v, i) => {
      expect(v).toBeCloseTo(xw[i] + b[i % 2], 14);
    });
    values(plain.forward(tensor(Float64Array.from(x), [2, 3]))).forEach((v, i) => {
      expect(v).toBeCloseTo(xw[i], 14);
    });
  });

  it("names what is wrong with an input that is not [batch, in]", () => {
    const layer = new Linear(3, 2);
    expect(() => layer.forward(tensor([1, 2, 3]))).toThrow(
      /Linear\(3, 2\): expected input of shape \[batch, 3\], got \[3\]/,
    );
    expect(() => layer.forward(tensor([[1, 2]]))).toThrow(/got \[1, 2\]/);
  });
});

const values = (t: Tensor) => Array.from(t.dataSync());
