/**
 * Writing an op with applyOp, as a student would: the example of op.ts works and checks out to
 * second order; the forward's scratch is freed and its result owned inside and outside scoped();
 * only the gradients that are needed are computed; errors in the forward and in a VJP name the op
 * and keep their cause. (gradcheck.test.ts shows a wrong VJP caught by gradcheck.)
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { gradcheck, gradgradcheck } from "../../src/autograd/gradcheck.ts";
import { applyOp } from "../../src/autograd/op.ts";
import { scoped } from "../../src/autograd/scope.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { f64 } from "../fixtures/tensors.ts";

// cube(x) = x³, exactly as op.ts teaches it
function cube(x: Tensor): Tensor {
  return applyOp(
    "cube",
    [x],
    () => x.mul(x).mul(x),
    (g) => [() => g.mul(x.mul(x)).mul(3)],
  );
}

describe("applyOp", () => {
  it("the documented example: values, first and second derivatives", () => {
    const x = f64([0.5, -1, 2], [3]);
    expect(cube(x).toArray()).toEqual([0.125, -1, 8]);
    expect(cube(x).op).toBe("cube");
    const first = gradcheck(cube, [x]);
    expect(first.passed, first.message).toBe(true);
    const second = gradgradcheck(cube, [x]);
    expect(second.passed, second.message).toBe(true);
  });

  it("the forward's scratch is freed and its result owned, inside and outside scoped (also computed under noGrad)", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const backend = x.backend;
    const before = backend.memory().buffers;
    const y = cube(x);
    // x·x was scratch: only the output remains.
    expect(backend.memory().buffers - before).toBe(1);
    // The recipe that used to fail with "storage used after dispose()": forward under noGrad, in a scope.
    const kept = scoped(
      () =>
        applyOp(
          "cubeNoGrad",
          [x],
          () => noGrad(() => x.mul(x).mul(x)),
          (g) => [() => g.mul(x.mul(x)).mul(3)],
        ),
      (r) => [r],
    );
    expect(kept.toArray()).toEqual([1, 8, 27]);
    kept.sum().backward();
    expect(x.grad?.toArray()).toEqual([3, 12, 27]);
    expect(y.toArray()).toEqual([1, 8, 27]);
  });

  it("a forward that hands back a tensor it did not make gives the output a copy of its own", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const same = applyOp(
      "identity",
      [x],
      () => x,
      (g) => [() => g],
    );
    expect(same).not.toBe(x);
    same.dispose();
    expect(x.toArray()).toEqual([1, 2]);
  });

  it("runs only the gradient thunks of inputs that need a gradient; null means no gradient", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4]);
    const calls: string[] = [];
    const out = applyOp(
      "product",
      [a, b, a],
      () => a.mul(b),
      (g) => [
        () => {
          calls.push("a");
          return g.mul(b);
        },
        () => {
          calls.push("b");
          return g.mul(a);
        },
        null,
      ],
    );
    out.sum().backward();
    expect(calls).toEqual(["a"]);
    expect(a.grad?.toArray()).toEqual([3, 4]);
  });

  it("errors in the forward and in the VJP name the op", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    expect(() =>
      applyOp(
        "badForward",
        [a],
        () => a.add(tensor([1, 2, 3])),
        (g) => [() => g],
      ),
    ).toThrow(/^badForward: add: shapes \[2\] and \[3\] cannot be broadcast/);
    const out = applyOp(
      "badVjp",
      [a],
      () => a.mul(2),
      (g) => [() => g.reshape([3])],
    );
    expect(() => out.sum().backward()).toThrow(/^backward of badVjp: reshape: cannot reshape \[2\]/);
    const wrongShape = applyOp(
      "wrongShape",
      [a],
      () => a.mul(2),
      (g) => [() => g.sum()],
    );
    expect(() => wrongShape.sum().backward()).toThrow(
      /^backward of wrongShape: gradient for input 0 has shape \[\], expected \[2\]/,
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

describe("custom ops and creation", () => {
  it("a backward that returns too few gradients is named, not silently dropped", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const out = applyOp(
      "broken",
      [a, b],
      () => a.add(b),
      (g) => [() => g],
    );
    expect(() => out.sum().backward()).toThrow(/backward of broken: returned 1 gradients for 2 inputs/);
  });

  it("an op without inputs and a nested array with a mismatched shape are rejected by name", () => {
    const a = tensor([1]);
    expect(() =>
      applyOp(
        "nothing",
        [],
        () => a,
        () => [],
      ),
    ).toThrow(/^nothing: an op needs at least one input tensor/);
    expect(
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        [4],
      ).shape,
    ).toEqual([4]);
    expect(() =>
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        [3],
      ),
    ).toThrow(/tensor: shape \[3\] needs 3 values but the nested array \[2, 2\] has 4/);
  });
});

describe("the methods and creators a model is written with", () => {
  it("applyOp refuses a forward that does not return a tensor, naming the op", () => {
    const x = tensor([1]);
    expect(() =>
      applyOp(
        "notATensor",
        [x],
        () => 5 as unknown as Tensor,
        (g) => [() => g],
      ),
    ).toThrow("notATensor: forward must return a Tensor");
  });
});

/** A 2×3 float32 leaf that requires grad. */
const x = () => tensor(Float32Array.of(1, -2, 3, -4, 5, -6), [2, 3], { requiresGrad: true });

describe("each op's output carries its name", () => {
  it("a backward error names the op it happened in", () => {
    const y = x().pow(2);
    const history = y as { backwardFn: unknown };
    history.backwardFn = () => [() => tensor([1])];
    expect(() => y.sum().backward()).toThrow(
      /^backward of pow: gradient for input 0 has shape \[1\], expected \[2, 3\]/,
    );
  });
});
