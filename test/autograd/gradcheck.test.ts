/**
 * The checker: gradcheck must catch a wrong backward and say where (toDot's tests are in test/docs/graph.test.ts).
 */
import { describe, expect, it } from "vitest";
import { gradcheck } from "../../src/autograd/gradcheck.ts";
import { applyOp } from "../../src/autograd/op.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { f64 } from "./helpers.ts";

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
