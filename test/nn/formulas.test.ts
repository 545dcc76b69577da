/**
 * Each nn piece against its formula, computed here in plain float64 arithmetic, and at the edges
 * of what it accepts (lr 0, β = 0, no bias, a parameter without a gradient, state round trips).
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { Generator } from "../../src/autograd/random.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { Linear } from "../../src/nn/linear.ts";
import { binaryCrossEntropy, binaryCrossEntropyWithLogits } from "../../src/nn/losses.ts";
import { Module } from "../../src/nn/module.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import { SGD } from "../../src/nn/optim/sgd.ts";

const values = (t: Tensor) => Array.from(t.dataSync());
const f64 = (v: number[], shape: number[] = [v.length]) =>
  tensor(Float64Array.from(v), shape, { requiresGrad: true });

describe("Linear", () => {
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

describe("binary cross-entropy", () => {
  const p = [0.2, 0.9, 0.5, 0.01];
  const t = [0, 1, 0.3, 1];
  const exact = p.map((pi, i) => -(t[i] * Math.log(pi) + (1 - t[i]) * Math.log(1 - pi)));
  const total = exact.reduce((s, v) => s + v, 0);

  it("on probabilities and on logits: the mean by default, or the sum", () => {
    const logits = p.map((pi) => Math.log(pi / (1 - pi)));
    expect(binaryCrossEntropy(f64(p), f64(t)).item()).toBeCloseTo(total / 4, 12);
    expect(binaryCrossEntropy(f64(p), f64(t), "sum").item()).toBeCloseTo(total, 12);
    expect(binaryCrossEntropyWithLogits(f64(logits), f64(t)).item()).toBeCloseTo(total / 4, 12);
    expect(binaryCrossEntropyWithLogits(f64(logits), f64(t), "sum").item()).toBeCloseTo(total, 12);
  });

  it("names the function whose targets do not match", () => {
    expect(() => binaryCrossEntropyWithLogits(f64([0, 1]), f64([1]))).toThrow(/binaryCrossEntropyWithLogits/);
    expect(() => binaryCrossEntropy(f64([0.5, 0.5]), f64([1]))).toThrow(/binaryCrossEntropy\b/);
  });
});

describe("SGD", () => {
  it("p ← p − lr·(g + λp) with momentum b ← μb + d, step by step, and leaves a parameter without a gradient alone", () => {
    const p = f64([1, -2]);
    const idle = f64([5]);
    const opt = new SGD([p, idle], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    let [x0, x1] = [1, -2];
    let [b0, b1] = [0, 0];
    for (let step = 1; step <= 3; step++) {
      opt.zeroGrad();
      p.mul(p).sum().backward(); // g = 2p
      opt.step();
      const d0 = 2 * x0 + 0.01 * x0;
      const d1 = 2 * x1 + 0.01 * x1;
      [b0, b1] = [0.9 * b0 + d0, 0.9 * b1 + d1];
      [x0, x1] = [x0 - 0.1 * b0, x1 - 0.1 * b1];
      values(p).forEach((v, i) => {
        expect(v, `step ${step}`).toBeCloseTo([x0, x1][i], 12);
      });
    }
    expect(values(idle)).toEqual([5]);
    expect(opt.stateDict().step).toBe(3);
  });

  it("plain SGD without momentum or decay: p ← p − lr·g; lr 0 is allowed, a negative lr is not", () => {
    const p = f64([3]);
    const opt = new SGD([p], { lr: 0.5 });
    expect(opt.stateDict().buffers.momentum).toEqual([]);
    p.mul(p).sum().backward();
    opt.step();
    expect(values(p)).toEqual([0]); // 3 − 0.5·6
    expect(() => new SGD([f64([1])], { lr: 0 })).not.toThrow();
    expect(() => new SGD([f64([1])], { lr: -0.1 })).toThrow(
      /SGD: lr must be a finite number ≥ 0, got a number \(-0.1\)/,
    );
  });

  it("its state round-trips: a restored optimizer continues exactly, and a mismatched state is refused", () => {
    const run = (restoreAfter: number | null) => {
      const p = f64([1, 2]);
      let opt = new SGD([p], { lr: 0.1, momentum: 0.5 });
      for (let s = 0; s < 4; s++) {
        if (s === restoreAfter) {
          const state = opt.stateDict();
          opt = new SGD([p], { lr: 0.1, momentum: 0.5 });
          opt.loadStateDict(state);
        }
        opt.zeroGrad();
        p.mul(p).mul(p).sum().backward();
        opt.step();
      }
      return [...values(p), opt.stateDict().step];
    };
    expect(run(2)).toEqual(run(null));
    const withMomentum = new SGD([f64([1])], { lr: 0.1, momentum: 0.9 });
    expect(() => withMomentum.loadStateDict({ step: 1, buffers: {} })).toThrow(
      /SGD.loadStateDict: expected buffer momentum with 1 tensors \(one per parameter\)/,
    );
    expect(() => withMomentum.loadStateDict({ step: 1, buffers: { momentum: [] } })).toThrow(
      /expected buffer momentum with 1 tensors/,
    );
  });
});

describe("Adam", () => {
  it("accepts lr 0 and β = 0, refuses a negative lr and β = 1, naming them", () => {
    expect(() => new Adam([f64([1])], { lr: 0, betas: [0, 0] })).not.toThrow();
    expect(() => new Adam([f64([1])], { lr: -1 })).toThrow(
      /Adam: lr must be a finite number ≥ 0, got a number \(-1\)/,
    );
    expect(() => new Adam([f64([1])], { betas: [0.9, 1] })).toThrow(
      /Adam: betas must be two numbers in \[0, 1\), got \[0.9,1\]/,
    );
    expect(() => new Adam([f64([1])], { betas: [-0.1, 0.9] })).toThrow(/betas/);
  });

  it("refuses a state whose buffers do not match its parameters", () => {
    const opt = new Adam([f64([1]), f64([2])]);
    const { step, buffers } = opt.stateDict();
    expect(() => opt.loadStateDict({ step, buffers: { m: buffers.m } })).toThrow(
      /Adam.loadStateDict: expected buffer v with 2 tensors/,
    );
    expect(() => opt.loadStateDict({ step, buffers: { v: buffers.v } })).toThrow(/Adam.loadStateDict/);
    expect(() => opt.loadStateDict({ step, buffers: { m: buffers.m.slice(1), v: buffers.v } })).toThrow(
      /Adam.loadStateDict/,
    );
    expect(() => opt.loadStateDict({ step, buffers: { m: buffers.m, v: buffers.v.slice(1) } })).toThrow(
      /Adam.loadStateDict/,
    );
    expect(() => opt.loadStateDict({ step, buffers })).not.toThrow();
  });
});

describe("Module", () => {
  class Pair extends Module {
    readonly a = this.registerModule("a", new Linear(2, 2, { generator: new Generator(0) }));
    readonly b = this.registerModule("b", new Linear(2, 1, { generator: new Generator(1) }));
  }

  it("starts in train mode; eval() and train() set every sub-module", () => {
    const m = new Pair();
    expect([m.training, m.a.training, m.b.training]).toEqual([true, true, true]);
    m.eval();
    expect([m.training, m.a.training, m.b.training]).toEqual([false, false, false]);
    m.train();
    expect([m.training, m.a.training, m.b.training]).toEqual([true, true, true]);
  });

  it("zeroGrad clears every parameter's gradient; a parameter keeps a name it already had", () => {
    const m = new Pair();
    m.b
      .forward(m.a.forward(tensor([[1, 2]])))
      .sum()
      .backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().map((p) => p.grad)).toEqual([null, null, null, null]);
    expect(m.a.weight.name).toBe("weight");
  });

  it("loadStateDict names the missing and the unexpected entries, each only when there are some", () => {
    const m = new Pair();
    const state = m.stateDict();
    const { ["a.bias"]: _, ...missing } = state;
    expect(() => m.loadStateDict(missing)).toThrow(/^loadStateDict: missing a\.bias$/);
    expect(() => m.loadStateDict({ ...state, extra: state["a.bias"] })).toThrow(
      /^loadStateDict: unexpected extra$/,
    );
    expect(() => m.loadStateDict({ ...missing, extra: state["a.bias"] })).toThrow(
      /^loadStateDict: missing a\.bias; unexpected extra$/,
    );
  });
});
