/**
 * gradcheck at its edges: the finite-difference step it takes, a NaN gradient (which compares false
 * with everything and so must be caught on purpose), functions that ignore an input or all of them,
 * empty inputs, where the worst element of a 3-D input is, and what the message and name say.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { gradcheck, gradgradcheck } from "../../src/autograd/gradcheck.ts";
import { applyOp } from "../../src/autograd/op.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { f64 } from "./helpers.ts";

/** The identity whose backward divides by x and multiplies back: 1 everywhere except NaN at x = 0. */
function nanAtZero(x: Tensor): Tensor {
  return applyOp(
    "nanAtZero",
    [x],
    () => x.mul(1),
    (g) => [() => g.mul(x).div(x)],
  );
}

describe("gradcheck's edges", () => {
  it("steps by eps = 1e-6 unless told otherwise: relu's numeric slope just right of its kink shows the step", () => {
    // At x = 5e-7 < h: (relu(x + h) − relu(x − h)) / 2h = (x + h) / 2h.
    const x = f64([5e-7], [1]);
    const slope = (h: number) => (5e-7 + h) / (2 * h);
    expect(gradcheck((t) => t.relu().sum(), [x]).inputs[0].numeric).toBeCloseTo(slope(1e-6), 9);
    expect(gradcheck((t) => t.relu().sum(), [x], { eps: 1e-3 }).inputs[0].numeric).toBeCloseTo(
      slope(1e-3),
      9,
    );
  });

  it("fails a NaN gradient and points at it, though NaN passes every comparison's else-branch", () => {
    const x = f64([1, 2, 0, -1], [4]);
    const report = gradcheck((t) => nanAtZero(t).sum(), [x]);
    expect(report.passed).toBe(false);
    expect(report.inputs[0].worstIndex).toEqual([2]);
    expect(report.inputs[0].analytic).toBeNaN();
    expect(report.message).toMatch(
      /gradcheck: input 0 \(shape \[4\]\) at index \[2\]: backward gives NaN but/,
    );
    // Away from 0 the same function is right.
    expect(gradcheck((t) => nanAtZero(t).sum(), [f64([1, 2, 3], [3])]).passed).toBe(true);
  });

  it("passes a function that ignores an input (its gradient is zero) or all of them, with zero errors", () => {
    const a = f64([0.5, -1], [2]);
    const b = f64([2, 3, 4], [3]);
    const ignoresB = gradcheck((p, _q) => p.mul(p).sum(), [a, b]);
    expect(ignoresB.passed, ignoresB.message).toBe(true);
    expect(ignoresB.inputs[1]).toMatchObject({ maxAbsError: 0, maxRelError: 0, analytic: 0, numeric: 0 });
    const constant = f64([7], []);
    const none = gradcheck((_p) => constant, [a]);
    expect(none.passed, none.message).toBe(true);
    expect(none.inputs[0]).toMatchObject({ maxAbsError: 0, maxRelError: 0, passed: true });
    // A wrong gradient of zero where the truth is not zero still fails: relative error 1.
    const zeroGrad = gradcheck((p) => p.detach().mul(p.detach()).sum().add(p.sum().mul(0)), [a]);
    expect(zeroGrad.passed).toBe(false);
    expect(zeroGrad.inputs[0].maxRelError).toBeCloseTo(1, 9);
  });

  it("passes an empty input (nothing to check) next to a checked one", () => {
    const report = gradcheck((p, e) => p.sum().add(e.sum()), [f64([1], [1]), f64([], [0, 3])]);
    expect(report.passed, report.message).toBe(true);
    expect(report.inputs[1]).toMatchObject({ shape: [0, 3], passed: true, maxAbsError: 0 });
  });

  it("accepts an error of exactly atol + rtol·|numeric|: the bound is inclusive, as numpy.allclose", () => {
    // A constant function (finite differences exactly 0) whose backward claims the slope `claimed`.
    const claims = (claimed: number) => (t: Tensor) =>
      applyOp(
        "constantClaiming",
        [t],
        () => t.mul(0),
        (g) => [() => g.mul(0).add(claimed)],
      ).sum();
    const x = f64([3], [1]);
    const onTheBound = gradcheck(claims(0.5), [x], { atol: 0.5, rtol: 0 });
    expect(onTheBound.inputs[0]).toMatchObject({ analytic: 0.5, numeric: 0, maxAbsError: 0.5 });
    expect(onTheBound.passed, onTheBound.message).toBe(true);
    expect(gradcheck(claims(0.5 + 2 ** -52), [x], { atol: 0.5, rtol: 0 }).passed).toBe(false);
  });

  it("names the first of equally wrong elements", () => {
    // Equal values get bit-identical analytic and numeric derivatives, hence equal errors.
    const wrong = (t: Tensor) => t.mul(t).sum().add(t.detach().sum());
    const failing = gradcheck(wrong, [f64([2, 2, 2], [3])]);
    expect(failing.passed).toBe(false);
    expect(failing.inputs[0].worstIndex).toEqual([0]);
    // Among passing elements too: the report points at the first of the largest errors.
    const passing = gradcheck((t) => t.mul(t).sum(), [f64([2, 2, 2], [3])]);
    expect(passing.passed).toBe(true);
    expect(passing.inputs[0].worstIndex).toEqual([0]);
  });

  it("names the worst element of a 3-D input by its multi-index", () => {
    // Backward is 3x² + 1 at one element only (flat index 17 of [2, 3, 4] is [1, 1, 1]).
    const values = Array.from({ length: 24 }, (_, i) => 0.1 * (i + 1));
    const x = f64(values, [2, 3, 4]);
    const mask = f64(
      values.map((_, i) => (i === 17 ? 1 : 0)),
      [2, 3, 4],
    );
    const report = gradcheck((t) => t.mul(t).mul(t).sum().add(t.detach().mul(mask).sum()), [x]);
    expect(report.passed).toBe(false);
    expect(report.inputs[0].worstIndex).toEqual([1, 1, 1]);
    expect(report.inputs[0].maxAbsError).toBeCloseTo(1, 6);
    // x = 1.8 there: backward 3x² = 9.72, finite differences 3x² + 1, so a relative error of 1/10.72.
    const rel = (1 / (3 * 1.8 ** 2 + 1)).toExponential(2);
    expect(report.message).toMatch(
      new RegExp(
        `input 0 \\(shape \\[2, 3, 4\\]\\) at index \\[1, 1, 1\\]: .*: abs error 1\\.00e\\+0 > atol \\+ rtol·\\|numeric\\| = 1\\.07e-2 \\(rel error ${rel}; atol 0\\.00001, rtol 0\\.001\\)$`,
      ),
    );
  });

  it("prints the named element's own errors and bound, not maxima over other elements", () => {
    // Backward claims 3x² + δ: δ = 0.2 at x = 10 (within 1e-5 + 1e-3·300) and δ = 0.01 at
    // x = 0.1 (far outside 1e-5 + 1e-3·0.03). The larger absolute error passes; the smaller fails.
    const x = f64([10, 0.1], [2]);
    const offsets = f64([0.2, 0.01], [2]);
    const report = gradcheck(
      (t) =>
        t
          .mul(t)
          .mul(t)
          .sum()
          .add(t.mul(offsets).sum().sub(t.detach().mul(offsets).sum()))
          .sum(),
      [x],
    );
    const r = report.inputs[0];
    expect(report.passed).toBe(false);
    expect(r.worstIndex).toEqual([1]);
    expect(r.maxAbsError).toBeCloseTo(0.2, 6);
    expect(r.absError).toBeCloseTo(0.01, 6);
    expect(r.relError).toBeCloseTo(0.01 / 0.03, 5);
    expect(r.bound).toBeCloseTo(1e-5 + 1e-3 * 0.03, 9);
    expect(report.message).toMatch(
      /at index \[1\]: .*: abs error 1\.00e-2 > atol \+ rtol·\|numeric\| = 4\.00e-5 \(rel error 3\.33e-1; atol 0\.00001, rtol 0\.001\)$/,
    );
  });

  it("calls the function by the name given, else by its own name, else plainly", () => {
    const x = f64([1, 2], [2]);
    const wrong = (t: Tensor) => t.mul(t).sum().add(t.detach().sum());
    expect(gradcheck(wrong, [x], { name: "squares" }).message).toMatch(/^gradcheck\(squares\): input 0/);
    expect(gradcheck(wrong, [x]).message).toMatch(/^gradcheck\(wrong\): input 0/);
    expect(gradcheck((t) => wrong(t), [x]).message).toMatch(/^gradcheck: input 0/);
    const detachedSquare = (t: Tensor) => t.mul(t.detach()).sum();
    expect(gradgradcheck(detachedSquare, [x], { name: "sq" }).message).toMatch(
      /^gradgradcheck\(sq\): second derivative: input 0/,
    );
    expect(gradgradcheck(detachedSquare, [x]).message).toMatch(/^gradgradcheck\(detachedSquare\): /);
  });

  it("evaluates at the float64 values of its inputs exactly, not at a float32 rounding of them", () => {
    // x·x at x = 0.1: backward gives 0.1 + 0.1, exactly 0.2 in float64 (0.1 in float32 is 0.10000000149…).
    const report = gradcheck((t) => t.mul(t).sum(), [f64([0.1], [1])]);
    expect(report.inputs[0].analytic).toBe(0.2);
    // A float32 input is widened: its float32 value, checked in float64.
    const widened = gradcheck((t) => t.mul(t).sum(), [tensor(Float32Array.of(0.1), [1])]);
    expect(widened.inputs[0].analytic).toBe(2 * Math.fround(0.1));
  });

  it("projects a non-scalar output with the seed it is given (the same seed, the same report)", () => {
    const x = f64([1, 2, 3], [3]);
    const wrong = (t: Tensor) => t.mul(t).add(t.detach());
    const worst = (seed?: number) =>
      gradcheck(wrong, [x], seed === undefined ? {} : { seed }).inputs[0].analytic;
    expect(worst(3)).toBe(worst(3));
    expect(worst(0)).toBe(worst());
    expect(new Set([worst(), worst(1), worst(2), worst(3)]).size).toBe(4);
  });
});

/**
 * x²/2 elementwise whose VJP, g·x, is right, but whose VJP's own derivative in x is g mirrored: right
 * when every element of g is the same (a plain sum of the output), wrong for any other g.
 */
function halfSquareMirroredSecond(x: Tensor): Tensor {
  const gTimesX = (g: Tensor) =>
    applyOp(
      "gTimesX",
      [g, x],
      () => g.mul(x),
      (u) => [
        () => u.mul(x),
        () => u.mul(g.gatherRows(Array.from({ length: g.shape[0] }, (_, i) => g.shape[0] - 1 - i))),
      ],
    );
  return applyOp(
    "halfSquare",
    [x],
    () => x.mul(x).mul(0.5),
    (g) => [() => gTimesX(g)],
  );
}

describe("gradgradcheck on a non-scalar output", () => {
  it("projects it randomly, so a second derivative that is right only for a plain sum fails", () => {
    const x = f64([0.5, -1, 2], [3]);
    expect(gradcheck(halfSquareMirroredSecond, [x]).passed).toBe(true);
    expect(gradgradcheck((t) => halfSquareMirroredSecond(t).sum(), [x]).passed).toBe(true);
    const report = gradgradcheck(halfSquareMirroredSecond, [x]);
    expect(report.passed).toBe(false);
    expect(report.message).toMatch(/^gradgradcheck\(halfSquareMirroredSecond\): second derivative: input 0/);
  });
});

describe("gradgradcheck's seed", () => {
  it("draws its weights from the seed it is given: the same seed, the same report", () => {
    const x = f64([0.5, -1, 2], [3]);
    const worst = (seed?: number) =>
      gradgradcheck((t) => halfSquareMirroredSecond(t).sum(), [x], seed === undefined ? {} : { seed })
        .inputs[0].analytic;
    expect(worst(3)).toBe(worst(3));
    expect(worst(0)).toBe(worst());
    expect(new Set([worst(), worst(1), worst(2), worst(3)]).size).toBe(4);
  });
});

describe("gradgradcheck of a function that does not return float64", () => {
  it("refuses it by name, as gradcheck does, whether the output is a scalar or not", () => {
    const x = f64([1, 2], [2]);
    const message = /^gradgradcheck: fn returned float32; build it from the float64 inputs it is given/;
    expect(() => gradgradcheck((t) => t.mul(t).to("float32"), [x])).toThrow(message);
    expect(() => gradgradcheck((t) => t.mul(t).sum().to("float32"), [x])).toThrow(message);
  });
});
