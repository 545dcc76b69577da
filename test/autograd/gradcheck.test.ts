/**
 * The checkers: gradcheck must catch a wrong backward and say where (the input, the index, both
 * derivatives), gradgradcheck a wrong derivative of a backward; their default tolerance, step and
 * seed, and their edges (NaN gradients, ignored and empty inputs, non-scalar outputs). toDot's tests
 * are in graph.test.ts and test/docs/graph.test.ts.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { gradcheck, gradgradcheck } from "../../src/autograd/gradcheck.ts";
import { applyOp } from "../../src/autograd/op.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { f64 } from "../fixtures/tensors.ts";

/** x², with a backward that multiplies by `factor`·x instead of 2x (factor 2 is the right one). */
function square(x: Tensor, factor: number): Tensor {
  return applyOp(
    "square",
    [x],
    () => x.mul(x),
    (g) => [() => g.mul(x).mul(factor)],
  );
}

/** The identity on a vector whose backward hands each element the gradient of its mirror image. */
function mirroredIdentity(x: Tensor): Tensor {
  return applyOp(
    "mirrored",
    [x],
    () => x.mul(1),
    (g) => [
      () => {
        const n = g.shape[0];
        return g.gatherRows(Array.from({ length: n }, (_, i) => n - 1 - i));
      },
    ],
  );
}

describe("gradcheck", () => {
  it("passes on correct functions, reporting small errors for every input", () => {
    const a = f64([0.5, -1, 2, 0.25, 1.5, -0.75], [2, 3]);
    const b = f64([1, 2, 3], [3]);
    const report = gradcheck((x, y) => x.mul(y).tanh().sum(), [a, b]);
    expect(report.passed, report.message).toBe(true);
    expect(report.message).toBe("");
    expect(report.inputs.map((r) => r.shape)).toEqual([[2, 3], [3]]);
    for (const r of report.inputs) expect(r.maxAbsError).toBeLessThan(1e-7);
    expect(gradcheck((x) => square(x, 2).sum(), [a]).passed).toBe(true);
  });

  it("fails on a wrong backward, naming the input, the index and both derivatives", () => {
    const x = f64([1, -2, 0.5], [3]);
    const report = gradcheck((t) => square(t, 3).sum(), [x]);
    expect(report.passed).toBe(false);
    const [r] = report.inputs;
    // The error 3x − 2x = x is largest at index 1, where x = −2: backward says −6, the truth is −4.
    expect(r.worstIndex).toEqual([1]);
    expect(r.analytic).toBeCloseTo(-6, 12);
    expect(r.numeric).toBeCloseTo(-4, 6);
    expect(report.message).toMatch(
      /^gradcheck: input 0 \(shape \[3\]\) at index \[1\]: backward gives -6 but finite differences give -4\.\d*/,
    );
  });

  it("names only the failing input when one of several is wrong", () => {
    const a = f64([1, 2], [2]);
    const b = f64([[0.5], [-1.5]].flat(), [2, 1]);
    const report = gradcheck((p, q) => p.add(square(q, 1).reshape([2])).sum(), [a, b]);
    expect(report.inputs.map((r) => r.passed)).toEqual([true, false]);
    expect(report.message).toMatch(
      /^gradcheck: input 1 \(shape \[2, 1\]\) at index \[1, 0\]: backward gives -1\.5 /,
    );
    expect(report.message.split("\n")).toHaveLength(1);
  });

  it("gives each failing input a line of its own when several are wrong", () => {
    const a = f64([1, 2], [2]);
    const b = f64([0.5, -1.5], [2]);
    const report = gradcheck((p, q) => square(p, 3).add(square(q, 1)).sum(), [a, b]);
    const lines = report.message.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^gradcheck: input 0 \(shape \[2\]\) at index \[1\]: backward gives 6 /);
    expect(lines[1]).toMatch(/^gradcheck: input 1 \(shape \[2\]\) at index \[1\]: backward gives -1\.5 /);
  });

  it("checks non-scalar outputs through a random projection, which catches what a plain sum would not", () => {
    const x = f64([1, 2, 3, 4], [4]);
    // Summing the output weights every element by 1, and a mirrored ones-vector is still ones.
    expect(gradcheck((t) => mirroredIdentity(t).sum(), [x]).passed).toBe(true);
    const report = gradcheck((t) => mirroredIdentity(t), [x]);
    expect(report.passed).toBe(false);
    expect(report.message).toMatch(/input 0 \(shape \[4\]\) at index \[\d\]/);
    // And the projection does not break a correct non-scalar function.
    const ok = gradcheck((t) => t.mul(t).exp(), [f64([0.1, -0.3, 0.7, 0.2], [2, 2])]);
    expect(ok.passed, ok.message).toBe(true);
  });

  it("refuses a function that does not return float64", () => {
    expect(() => gradcheck((t) => t.to("float32"), [f64([1], [1])])).toThrow(
      /gradcheck: fn returned float32/,
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
        `input 0 \\(shape \\[2, 3, 4\\]\\) at index \\[1, 1, 1\\]: backward gives 9\\.72 but .*: abs error 1\\.00e\\+0 > atol \\+ rtol·\\|numeric\\| = .* \\(rel error ${rel}; atol 0\\.00001, rtol 0\\.001\\)$`,
      ),
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

describe("gradcheck's default tolerance", () => {
  const x = tensor(Float64Array.from([0.5, -1.25, 2, 3.5]), [4]);
  /** f(x) = Σ 10·x² + δ·Σ x_detached: backward says 20x, finite differences 20x + δ. */
  const offBy = (delta: number) => (t: Tensor) => t.mul(t).mul(10).add(t.detach().mul(delta)).sum();

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
