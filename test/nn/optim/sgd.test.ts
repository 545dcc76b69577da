import { describe, expect, it } from "vitest";
import { tensor } from "../../../src/autograd/create.ts";
import type { Tensor } from "../../../src/autograd/tensor.ts";
import { SGD } from "../../../src/nn/optim/sgd.ts";
import { gradients, param, stepWith } from "./stepping.ts";

describe("SGD", () => {
  it("plain SGD: p ← p − lr·g", () => {
    const p = param([1, -2, 3]);
    stepWith(new SGD([p], { lr: 0.5 }), p, [0.5, -1, 0]);
    expect(Array.from(p.dataSync())).toEqual([0.75, -1.5, 3]);
  });

  it("momentum: b ← μb + g, p ← p − lr·b", () => {
    const p = param([1, -2, 3]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    const expected = [1, -2, 3];
    const b = [0, 0, 0];
    gradients.forEach((g, step) => {
      for (let i = 0; i < 3; i++) {
        b[i] = step === 0 ? g[i] : 0.9 * b[i] + g[i];
        expected[i] -= 0.1 * b[i];
      }
      stepWith(opt, p, g);
      const got = p.dataSync();
      expected.forEach((e, i) => {
        expect(got[i]).toBeCloseTo(e, 12);
      });
    });
  });

  it("zeroGrad clears every parameter's gradient", () => {
    const p = param([1]);
    const opt = new SGD([p], { lr: 1 });
    p.grad = tensor(Float64Array.from([1]), [1]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
  });

  it("p ← p − lr·(g + λp) with momentum b ← μb + d, step by step, and leaves a parameter without a gradient alone", () => {
    const p = f64Leaf([1, -2]);
    const idle = f64Leaf([5]);
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
    const p = f64Leaf([3]);
    const opt = new SGD([p], { lr: 0.5 });
    expect(opt.stateDict().buffers.momentum).toEqual([]);
    p.mul(p).sum().backward();
    opt.step();
    expect(values(p)).toEqual([0]); // 3 − 0.5·6
    expect(() => new SGD([f64Leaf([1])], { lr: 0 })).not.toThrow();
    expect(() => new SGD([f64Leaf([1])], { lr: -0.1 })).toThrow(
      /SGD: lr must be a finite number ≥ 0, got a number \(-0.1\)/,
    );
  });

  it("its state round-trips: a restored optimizer continues exactly, and a mismatched state is refused", () => {
    const run = (restoreAfter: number | null) => {
      const p = f64Leaf([1, 2]);
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
    const withMomentum = new SGD([f64Leaf([1])], { lr: 0.1, momentum: 0.9 });
    expect(() => withMomentum.loadStateDict({ step: 1, buffers: {} })).toThrow(
      /SGD.loadStateDict: expected buffer momentum with 1 tensors \(one per parameter\)/,
    );
    expect(() => withMomentum.loadStateDict({ step: 1, buffers: { momentum: [] } })).toThrow(
      /expected buffer momentum with 1 tensors/,
    );
  });
});

const values = (t: Tensor) => Array.from(t.dataSync());

const f64Leaf = (v: number[], shape: number[] = [v.length]) =>
  tensor(Float64Array.from(v), shape, { requiresGrad: true });
