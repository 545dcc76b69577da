/**
 * Writing an op with applyOp, as a student would: the example of op.ts works and checks out to
 * second order; the forward's scratch is freed and its result owned inside and outside scoped();
 * only the gradients that are needed are computed; a wrong VJP is caught by gradcheck, a wrong
 * derivative of a VJP by gradgradcheck, with messages naming the op, the input and the index.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/engine.ts";
import { gradcheck, gradgradcheck } from "../../src/autograd/gradcheck.ts";
import { applyOp } from "../../src/autograd/op.ts";
import { scoped } from "../../src/autograd/scope.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { f64 } from "./helpers.ts";

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

describe("checking a custom op", () => {
  // cube with a wrong VJP: 3x instead of 3x²
  function wrongCube(x: Tensor): Tensor {
    return applyOp(
      "wrongCube",
      [x],
      () => x.mul(x).mul(x),
      (g) => [() => g.mul(x).mul(3)],
    );
  }

  it("gradcheck catches a wrong VJP, naming the op, the input and the worst index", () => {
    const report = gradcheck(wrongCube, [f64([0.5, 1, 2], [3])]);
    expect(report.passed).toBe(false);
    // Through the output's random projection v: backward gives 3x·v, the truth is 3x²·v; the error
    // |3x − 3x²|·|v| is largest at x = 2, where backward says half the truth.
    expect(report.message).toMatch(
      /^gradcheck\(wrongCube\): input 0 \(shape \[3\]\) at index \[2\]: backward gives \S+ but finite differences give \S+ /,
    );
    const [r] = report.inputs;
    expect(r.analytic / r.numeric).toBeCloseTo(0.5, 6);
  });

  // a·b whose VJP for a treats b as a constant (detached): right first derivatives, wrong mixed second
  function detachedProduct(a: Tensor, b: Tensor): Tensor {
    return applyOp(
      "detachedProduct",
      [a, b],
      () => a.mul(b),
      (g) => [() => g.mul(b.detach()), () => g.mul(a)],
    );
  }

  it("gradgradcheck catches a VJP whose own derivative is wrong, which gradcheck cannot see", () => {
    const inputs = [f64([1.5], [1]), f64([-0.5], [1])];
    const first = gradcheck(detachedProduct, inputs);
    expect(first.passed, first.message).toBe(true);
    const report = gradgradcheck(detachedProduct, inputs);
    expect(report.passed).toBe(false);
    expect(report.inputs.map((r) => r.passed)).toEqual([true, false]);
    expect(report.message).toMatch(
      /^gradgradcheck\(detachedProduct\): second derivative: input 1 \(shape \[1\]\) at index \[0\]: backward of the gradient gives 0 but finite differences of the gradient give -?\d/,
    );
  });
});
