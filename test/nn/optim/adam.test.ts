import { describe, expect, it } from "vitest";
import { tensor } from "../../../src/autograd/create.ts";
import { Adam } from "../../../src/nn/optim/adam.ts";
import { gradients, param, stepWith } from "./stepping.ts";

describe("Adam", () => {
  it("first step moves every parameter by lr against the sign of its gradient (m̂ = g, v̂ = g²)", () => {
    const p = param([1, -2, 3]);
    stepWith(new Adam([p], { lr: 0.1 }), p, [0.5, -1, 4]);
    const v = p.dataSync();
    [0.9, -1.9, 2.9].forEach((e, i) => {
      expect(v[i]).toBeCloseTo(e, 6);
    });
  });

  it("matches PyTorch's update rule step by step (bias correction included)", () => {
    const lr = 0.05;
    const [b1, b2] = [0.8, 0.95];
    const eps = 1e-3; // large, so that a wrong placement of eps shows
    const p = param([1, -2, 3]);
    const opt = new Adam([p], { lr, betas: [b1, b2], eps });
    // PyTorch's Adam, written out: m, v running means; p -= lr/(1-b1^t) * m / (sqrt(v/(1-b2^t)) + eps)
    const expected = [1, -2, 3];
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    gradients.forEach((g, step) => {
      const t = step + 1;
      for (let i = 0; i < 3; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        expected[i] -= ((lr / (1 - b1 ** t)) * m[i]) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
      }
      stepWith(opt, p, g);
      const got = p.dataSync();
      expected.forEach((e, i) => {
        expect(got[i]).toBeCloseTo(e, 12);
      });
    });
  });

  it("weight decay adds λ·p to the gradient before the moments", () => {
    const p = param([2]);
    const q = param([2]);
    stepWith(new Adam([p], { lr: 0.1, weightDecay: 0.5 }), p, [0.3]);
    stepWith(new Adam([q], { lr: 0.1 }), q, [0.3 + 0.5 * 2]);
    expect(p.item()).toBeCloseTo(q.item(), 12);
  });

  it("skips parameters without a gradient and resumes exactly from its state dict", () => {
    const p = param([1, -2, 3]);
    const idle = param([7]);
    const opt = new Adam([p, idle], { lr: 0.1 });
    stepWith(opt, p, gradients[0]);
    expect(idle.item()).toBe(7);

    const q = param(Array.from(p.dataSync()));
    const restored = new Adam([q, param([7])], { lr: 0.1 });
    restored.loadStateDict(opt.stateDict());
    stepWith(opt, p, gradients[1]);
    stepWith(restored, q, gradients[1]);
    expect(Array.from(q.dataSync())).toEqual(Array.from(p.dataSync()));
  });

  it("rejects bad settings with a message naming them", () => {
    expect(() => new Adam([param([1])], { betas: [0.9, 1] })).toThrow(/Adam: betas/);
    expect(() => new Adam([param([1])], { lr: -1 })).toThrow(/Adam: lr/);
    expect(() => new Adam([], {})).toThrow(/empty parameter list/);
  });

  it("accepts lr 0 and β = 0, refuses a negative lr and β = 1, naming them", () => {
    expect(() => new Adam([f64Leaf([1])], { lr: 0, betas: [0, 0] })).not.toThrow();
    expect(() => new Adam([f64Leaf([1])], { lr: -1 })).toThrow(
      /Adam: lr must be a finite number ≥ 0, got a number \(-1\)/,
    );
    expect(() => new Adam([f64Leaf([1])], { betas: [0.9, 1] })).toThrow(
      /Adam: betas must be two numbers in \[0, 1\), got \[0.9,1\]/,
    );
    expect(() => new Adam([f64Leaf([1])], { betas: [-0.1, 0.9] })).toThrow(/betas/);
  });

  it("refuses a state whose buffers do not match its parameters", () => {
    const opt = new Adam([f64Leaf([1]), f64Leaf([2])]);
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

const f64Leaf = (v: number[], shape: number[] = [v.length]) =>
  tensor(Float64Array.from(v), shape, { requiresGrad: true });
