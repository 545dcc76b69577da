/**
 * What gradcheck accepts at its defaults, pinned with gradients known to be wrong by a chosen
 * amount. A function f(x) = g(x) + δ·h(x) whose h is computed from a detached copy of x has
 * backward's gradient g′ but finite differences' g′ + δ·h′, so the error is exactly what we plant.
 * The defaults (PyTorch's gradcheck uses similar ones) pass an element when
 *   |analytic − numeric| ≤ atol + rtol·|numeric|,  atol = 1e-5, rtol = 1e-3:
 * a relative error of 2e-3 must fail and one of 5e-4 must pass (so rtol lies between them), and an
 * absolute error of 2e-5 on a zero gradient must fail where 5e-6 passes.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { gradcheck } from "../../src/autograd/gradcheck.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";

const x = tensor(Float64Array.from([0.5, -1.25, 2, 3.5]), [4]);

/** f(x) = Σ 10·x² + δ·Σ x_detached: backward says 20x, finite differences 20x + δ. */
const offBy = (delta: number) => (t: Tensor) => t.mul(t).mul(10).add(t.detach().mul(delta)).sum();

describe("gradcheck's default tolerance", () => {
  it("accepts backward's exact gradient", () => {
    expect(gradcheck(offBy(0), [x]).passed).toBe(true);
  });

  it("rejects a gradient off by 0.2% of its size and accepts one off by 0.05%", () => {
    // |20x| ≥ 10 here, so δ = 2e-3·|20x| per element; use the smallest element's scale.
    const scale = 20 * 0.5;
    const wrong = gradcheck(offBy(2e-3 * scale), [x]);
    expect(wrong.passed).toBe(false);
    expect(wrong.message).toMatch(
      /input 0 .*index \[0\].*backward gives 10 .*finite differences give 10\.02/,
    );
    expect(wrong.inputs[0].maxAbsError).toBeCloseTo(2e-3 * scale, 6);
    expect(gradcheck(offBy(5e-4 * scale), [x]).passed).toBe(true);
  });

  it("rejects an absolute error of 2e-5 on a zero gradient and accepts one of 5e-6", () => {
    const flat = (delta: number) => (t: Tensor) => t.mul(0).add(t.detach().mul(delta)).sum();
    expect(gradcheck(flat(2e-5), [x]).passed).toBe(false);
    expect(gradcheck(flat(5e-6), [x]).passed).toBe(true);
  });

  it("reports the worst element of each input and its own tolerance", () => {
    const report = gradcheck(offBy(1), [x]);
    expect(report.passed).toBe(false);
    expect(report.inputs[0].shape).toEqual([4]);
    expect(report.inputs[0].maxRelError).toBeCloseTo(1 / 11, 6); // at x = 0.5: |10 − 11| / 11
    expect(report.message).toMatch(/atol 0\.00001, rtol 0\.001/);
  });
});
