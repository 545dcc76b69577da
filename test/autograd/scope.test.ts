/**
 * scoped and valuesOf: what a computation made is freed when it ends, what it keeps is handed to the
 * scope around it (which frees it in turn unless it keeps it too).
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { scoped, valuesOf } from "../../src/autograd/scope.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { getBackend } from "../../src/kernels/registry.ts";
import { binaryCrossEntropy } from "../../src/nn/losses.ts";

describe("scoped", () => {
  it("hands the tensors it keeps to the scope around it, which frees them unless it keeps them too", () => {
    const x = tensor([1, 2]);
    const backend = x.backend;
    const before = backend.memory().buffers;
    let inner: Tensor | undefined;
    const outer = scoped(
      () => {
        inner = scoped(
          () => x.mul(2).add(1),
          (t) => [t],
        );
        return inner.mul(10);
      },
      (t) => [t],
    );
    expect(outer.toArray()).toEqual([30, 50]);
    // Only the outer result is left: the inner one was kept by its scope but not by the outer one.
    expect(backend.memory().buffers - before).toBe(1);
    expect(() => inner?.dataSync()).toThrow(/used after dispose/);
  });

  it("lets keep name null and undefined (a gradient not computed, say), handing on only tensors", () => {
    const x = tensor([1, 2]);
    const before = x.backend.memory().buffers;
    const outer = scoped(
      () =>
        scoped(
          () => ({ y: x.mul(2), none: null, missing: undefined }),
          (r) => [r.y, r.none, r.missing],
        ).y.add(1),
      (t) => [t],
    );
    expect(outer.toArray()).toEqual([3, 5]);
    expect(x.backend.memory().buffers - before).toBe(1);
  });
});

describe("scopes", () => {
  it("valuesOf frees what a computation made but keeps what it returns, even results of composite ops", async () => {
    const x = tensor([
      [1, 2, 3],
      [0, 0, 0],
    ]);
    const before = getBackend().memory().buffers;
    const [lse, bce] = await valuesOf(() => [
      x.logsumexp(1),
      binaryCrossEntropy(tensor([0.5, 0.25]), tensor([1, 0]), "none"),
    ]);
    expect(Array.from(lse)[1]).toBeCloseTo(Math.log(3), 6);
    expect(Array.from(lse)[0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), 5);
    expect(Array.from(bce)[0]).toBeCloseTo(Math.log(2), 6);
    expect(Array.from(bce)[1]).toBeCloseTo(-Math.log(0.75), 6);
    expect(getBackend().memory().buffers).toBe(before);
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
