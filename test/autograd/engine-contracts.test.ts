/**
 * The engine's promises that no gradient value shows: each .grad is a tensor of its own; an input an
 * op gives no gradient keeps none; gradients() leaves behind exactly the gradients asked for, in the
 * scope around it if there is one; an op's errors keep their cause; mean's default keeps no dims.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { gradients } from "../../src/autograd/engine.ts";
import { applyOp } from "../../src/autograd/op.ts";
import { scoped } from "../../src/autograd/scope.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";

/** a + b whose backward gives a its gradient and b none (null), though b requires grad. */
function addGradToFirstOnly(a: Tensor, b: Tensor): Tensor {
  return applyOp(
    "addGradToFirstOnly",
    [a, b],
    () => a.add(b),
    (g) => [() => g, null],
  );
}

describe("backward", () => {
  it("gives each .grad a tensor of its own, never the seed nor another's, safe to dispose alone", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const seed = tensor([5, 6]);
    // add hands its gradient on unchanged: one object reaches both inputs.
    a.add(b).backward(seed);
    expect(a.grad).not.toBe(b.grad);
    expect(a.grad).not.toBe(seed);
    expect(b.grad).not.toBe(seed);
    a.grad?.dispose();
    expect(b.grad?.toArray()).toEqual([5, 6]);
    expect(seed.toArray()).toEqual([5, 6]);
  });

  it("leaves .grad null on an input whose rule is null, though it requires grad", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    addGradToFirstOnly(a, b).sum().backward();
    expect(a.grad?.toArray()).toEqual([1, 1]);
    expect(b.grad).toBeNull();
    expect(gradients(addGradToFirstOnly(a, b).sum(), [a, b]).map((g) => g?.toArray() ?? null)).toEqual([
      [1, 1],
      null,
    ]);
  });
});

describe("gradients", () => {
  it("leaves exactly the gradients asked for alive, none of the pass's other tensors", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const w = tensor([3, 4], { requiresGrad: true });
    const loss = x.mul(w).exp().sum();
    const before = x.backend.memory().buffers;
    const [gx] = gradients(loss, [x]);
    expect(x.backend.memory().buffers - before).toBe(1);
    expect(gx?.toArray()).toEqual(
      [3 * Math.fround(Math.exp(3)), 4 * Math.fround(Math.exp(8))].map(Math.fround),
    );
  });

  it("run inside a scope, hands that scope the gradients (tensors only), which frees them unless kept", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const before = x.backend.memory().buffers;
    const kept = scoped(
      () => {
        const [g] = gradients(x.mul(x).sum(), [x]);
        const [unkept] = gradients(x.mul(3).sum(), [x]);
        return { g, unkept };
      },
      (r) => [r.g],
    );
    expect(kept.g?.toArray()).toEqual([2, 4]);
    expect(() => kept.unkept?.dataSync()).toThrow(/used after dispose/);
    expect(x.backend.memory().buffers - before).toBe(1);
  });

  it("names itself when the output needs a seed or the seed does not fit", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => gradients(x.mul(2), [x])).toThrow(/^gradients: output of shape \[2\] is not a scalar/);
    expect(() => gradients(x.mul(2), [x], tensor([1]))).toThrow(
      /^gradients: gradient of shape \[1\] \(float32\) does not match the output's \[2\] \(float32\)/,
    );
  });
});

describe("an op's errors", () => {
  it("say the op's name first and keep the original error as their cause", () => {
    const a = tensor([1, 2]);
    let caught: unknown;
    try {
      applyOp(
        "broken",
        [a],
        () => a.add(tensor([1, 2, 3])),
        (g) => [() => g],
      );
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).message).toMatch(/^broken: add: shapes \[2\] and \[3\] cannot be broadcast/);
    expect((caught as Error).cause).toBeInstanceOf(Error);
    expect(((caught as Error).cause as Error).message).toMatch(/^add: shapes \[2\] and \[3\]/);
  });
});

describe("Tensor.mean", () => {
  it("drops the reduced axes unless asked to keep them, like sum and max", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(x.mean(1).shape).toEqual([2]);
    expect(x.mean(1).toArray()).toEqual([2, 5]);
    expect(x.mean(1, true).shape).toEqual([2, 1]);
    expect(x.mean().shape).toEqual([]);
  });
});

describe("scoped", () => {
  it("hands any number of kept tensors to the enclosing scope (no spread into push, which overflows the stack)", () => {
    const many = 300_000;
    let inner: Tensor[] = [];
    const outer = scoped(
      () => {
        inner = scoped(
          () => Array.from({ length: many }, () => tensor([1])),
          (r) => r,
        );
        return inner.length;
      },
      () => [inner[0]],
    );
    expect(outer).toBe(many);
    // The outer scope received them all: it freed every one but the one it kept.
    expect(inner[0].dataSync()).toEqual(new Float32Array([1]));
    expect(() => inner[many - 1].dataSync()).toThrow(/used after dispose/);
  });
});
