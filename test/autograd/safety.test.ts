/**
 * No silently wrong gradient: a tensor changed in place after an op read it makes backward throw,
 * naming the op, the tensor and the fix; assign on a tensor that requires grad is refused outside
 * noGrad; NaN and infinities go through ops and their gradients as in PyTorch.
 */
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { maximum } from "../../src/autograd/ops/elementwise.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import { SGD } from "../../src/nn/optim/sgd.ts";

describe("tensors changed in place before backward", () => {
  it("the regression: y = a·a summed, a zeroed under noGrad, then backward throws instead of giving [0, 0, 0]", () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    a.name = "a";
    const y = a.mul(a).sum();
    noGrad(() => a.assign(zeros([3])));
    expect(() => y.backward()).toThrow(
      /^backward of mul: one of the tensors needed for gradient computation has been modified by an in-place operation: input 0, the float32 \[3\] tensor 'a' \(a leaf\), was changed by assign\(\) after mul was computed \(it is at version 1, mul used version 0\)\. Call backward\(\) before changing it/,
    );
    expect(a.grad).toBeNull();
  });

  it("without the change the same graph gives [2, 4, 6]; changing after backward, then a new forward, is fine", () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    a.mul(a).sum().backward();
    expect(a.grad?.toArray()).toEqual([2, 4, 6]);
    noGrad(() => a.assign(zeros([3]).add(1)));
    a.zeroGrad();
    a.mul(a).sum().backward();
    expect(a.grad?.toArray()).toEqual([2, 2, 2]);
    expect(a.version).toBe(1);
  });

  it("an op's output changed in place is caught too (exp's VJP reads its output)", () => {
    const x = tensor([0, 1], { requiresGrad: true });
    const e = x.exp();
    noGrad(() => e.assign(zeros([2])));
    expect(() => e.backward(tensor([1, 1]))).toThrow(
      /^backward of exp: .*: its output, the float32 \[2\] tensor \(made by exp\)/,
    );
  });

  it("assign on a tensor that requires grad is refused outside noGrad, saying to wrap it; plain tensors may be assigned", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    w.name = "w";
    expect(() => w.assign(zeros([2]))).toThrow(
      /^assign: the float32 \[2\] tensor 'w' \(a leaf\) requires grad, .*wrap the update in noGrad\(\(\) => …\)/,
    );
    expect(w.toArray()).toEqual([1, 2]);
    const buffer = tensor([1, 2]);
    buffer.assign(zeros([2]));
    expect(buffer.toArray()).toEqual([0, 0]);
  });

  it("optimizers update under noGrad: a forward, backward, step loop runs and the parameter moves", () => {
    for (const make of [
      (p: ReturnType<typeof tensor>) => new SGD([p], { lr: 0.1, momentum: 0.9 }),
      (p: ReturnType<typeof tensor>) => new Adam([p], { lr: 0.1 }),
    ]) {
      const p = tensor([1, -1], { requiresGrad: true });
      const optimizer = make(p);
      for (let i = 0; i < 3; i++) {
        optimizer.zeroGrad();
        p.mul(p).sum().backward();
        optimizer.step();
      }
      const [a, b] = p.toArray() as number[];
      expect(Math.abs(a)).toBeLessThan(1);
      expect(Math.abs(b)).toBeLessThan(1);
    }
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
