/**
 * The functional transforms at their edges: argument numbers that do not exist, tangents that do not
 * fit, functions that ignore their input, a pullback used twice, and Hessians of empty and float32
 * inputs. Expected values are worked out by hand from the functions' formulas.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { grad, hessian, jvp, valueAndGrad, vjp } from "../../src/autograd/transforms.ts";
import { f64 } from "./helpers.ts";

describe("grad and valueAndGrad", () => {
  it("refuse argument numbers that are negative, fractional or past the last argument", () => {
    const x = f64([1, 2], [2]);
    const f = (a: Tensor) => a.sum();
    for (const n of [-1, 0.5, 1]) {
      expect(() => grad(f, n)(x)).toThrow(
        `grad: argument ${n} to differentiate does not exist (f got 1 arguments)`,
      );
    }
    expect(() => grad(f, [0, 2])(x)).toThrow(
      "grad: argument 2 to differentiate does not exist (f got 1 arguments)",
    );
  });

  it("with a list of argument numbers give a list of gradients, in that order", () => {
    const a = f64([1, 2], [2]);
    const b = f64([3, 4], [2]);
    // f = Σ a²·b: ∂f/∂a = 2ab, ∂f/∂b = a².
    const f = (p: Tensor, q: Tensor) => p.mul(p).mul(q).sum();
    const { value, grad: grads } = valueAndGrad(f, [1, 0])(a, b);
    expect(value.item()).toBe(1 * 3 + 4 * 4);
    expect(grads.map((g) => g.toArray())).toEqual([
      [1, 4],
      [6, 16],
    ]);
    expect(grad(f, [1])(a, b).map((g) => g.toArray())).toEqual([[1, 4]]);
    // A single argument number (the first by default) gives a single gradient.
    expect(valueAndGrad(f)(a, b).grad.toArray()).toEqual([6, 16]);
    expect(valueAndGrad(f, 1)(a, b).grad.toArray()).toEqual([1, 4]);
  });
});

describe("jvp", () => {
  it("refuses a wrong number of tangents, or one of another dtype, naming which", () => {
    const f = (p: Tensor, q: Tensor) => p.mul(q);
    const x = f64([1, 2], [2]);
    expect(() => jvp(f)([x, x], [x])).toThrow("jvp: got 1 tangents for 2 primals (one each)");
    expect(() => jvp(f)([x, x], [x, tensor([1, 2])])).toThrow(
      "jvp: tangent 1 is float32 [2] but its primal is float64 [2]",
    );
  });

  it("of a function that ignores its input is zero, shaped like the output", () => {
    const c = f64([5, 6, 7], [3]);
    const { value, tangent } = jvp((_x: Tensor) => c.mul(2))([f64([1], [1])], [f64([1], [1])]);
    expect(value.toArray()).toEqual([10, 12, 14]);
    expect(tangent.toArray()).toEqual([0, 0, 0]);
  });

  it("adds the directional derivatives of every argument", () => {
    // f(p, q) = p·q elementwise: J·(u, v) = u·q + p·v.
    const p = f64([1, 2], [2]);
    const q = f64([3, 4], [2]);
    const { tangent } = jvp((a: Tensor, b: Tensor) => a.mul(b))([p, q], [f64([1, 0], [2]), f64([0, 1], [2])]);
    expect(tangent.toArray()).toEqual([3, 2]);
  });
});

describe("vjp", () => {
  it("gives a pullback that can be called again with another cotangent", () => {
    // f(x) = x² elementwise: uᵀJ = 2x·u.
    const { value, pullback } = vjp((x: Tensor) => x.mul(x))(f64([1, -2], [2]));
    expect(value.toArray()).toEqual([1, 4]);
    expect(pullback(f64([1, 1], [2]))[0].toArray()).toEqual([2, -4]);
    expect(pullback(f64([0, 3], [2]))[0].toArray()).toEqual([0, -12]);
  });
});

describe("hessian", () => {
  it("of an empty input is empty, shaped [...x.shape, ...x.shape]", () => {
    expect(hessian((x: Tensor) => x.sum())(f64([], [0])).shape).toEqual([0, 0]);
    expect(hessian((x: Tensor) => x.sum())(f64([], [2, 0])).shape).toEqual([2, 0, 2, 0]);
  });

  it("works in float32 too: Σ x³ has Hessian diag(6x)", () => {
    const h = hessian((x: Tensor) => x.mul(x).mul(x).sum())(tensor([1, -2]));
    expect(h.dtype).toBe("float32");
    expect(h.toArray()).toEqual([
      [6, 0],
      [0, -12],
    ]);
  });
});
