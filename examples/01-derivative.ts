/**
 * Chapter 1: a derivative as a limit. Run: npx tsx examples/01-derivative.ts
 *
 * f(x) = x³ − 2x at x = 1.5, whose derivative we know exactly: f'(x) = 3x² − 2 = 4.75.
 * We estimate it with forward and centered differences for shrinking h, in float64 and float32,
 * and watch the error first fall (truncation) and then rise again (rounding).
 * The cells below (each starts with a `// %%` line) are the chapter's code blocks, in order.
 */
// %%
import { gradcheck, type Tensor, tensor } from "../src/index.ts";

const x0 = 1.5;
const exact = 3 * x0 ** 2 - 2;
// f is built from elbo's ops, so the same f runs in either dtype.
const f = (x: Tensor) => x.mul(x).mul(x).sub(x.mul(2));
type DType = "float32" | "float64";
const at = (x: number, dtype: DType) => f(tensor([x], { dtype })).item();

const forward = (h: number, dtype: DType) => (at(x0 + h, dtype) - at(x0, dtype)) / h;
const centered = (h: number, dtype: DType) => (at(x0 + h, dtype) - at(x0 - h, dtype)) / (2 * h);

const e = (v: number) => v.toExponential(1).padStart(9);
console.log(`f(x) = x³ − 2x at x = ${x0}: f'(x) = ${exact}`);
console.log("error of each estimate against the exact derivative");
console.log("      h   forward64  centered64   forward32  centered32");
for (let k = 1; k <= 10; k++) {
  const h = 10 ** -k;
  const errors = [
    forward(h, "float64"),
    centered(h, "float64"),
    forward(h, "float32"),
    centered(h, "float32"),
  ].map((estimate) => Math.abs(estimate - exact));
  console.log(`${`1e-${k}`.padStart(7)}  ${errors.map(e).join("   ")}`);
}
// %%
// Where the error is smallest, for each method and dtype.
const best = (method: typeof forward, dtype: DType) => {
  const error = (k: number) => Math.abs(method(10 ** -k, dtype) - exact);
  let bestK = 1;
  for (let k = 2; k <= 10; k++) if (error(k) < error(bestK)) bestK = k;
  return `h = 1e-${bestK} (error ${error(bestK).toExponential(1)})`;
};
console.log(`best forward64:  ${best(forward, "float64")}`);
console.log(`best centered64: ${best(centered, "float64")}`);
console.log(`best forward32:  ${best(forward, "float32")}`);
console.log(`best centered32: ${best(centered, "float32")}`);
// %%
// gradcheck does exactly this, per input element: centered differences in float64 with h = 1e-6,
// compared with what backward() computes.
const report = gradcheck(f, [tensor([x0, -0.7, 2.0], { dtype: "float64" })]);
const r = report.inputs[0];
console.log(
  `gradcheck on f over 3 points: passed ${report.passed}, max abs error ${r.maxAbsError.toExponential(1)}, max rel error ${r.maxRelError.toExponential(1)}`,
);
// %%
// Kinks. relu at 0 has slope 0 on the left and 1 on the right; backward says 0 (as PyTorch does),
// the centered difference averages the two sides.
const atZero = gradcheck((x) => x.relu().sum(), [tensor([-1, 0, 2], { dtype: "float64" })]);
console.log(`relu at [-1, 0, 2]: passed ${atZero.passed}`);
console.log(`  ${atZero.message}`);
// max at a tie: elbo splits the gradient ½/½ between the tied elements, which is what the
// centered difference sees too (moving one 5 up raises the max, moving it down does not).
const tie = gradcheck((x) => x.max(), [tensor([1, 5, 2, 5], { dtype: "float64" })]);
console.log(`max at a tie [1, 5, 2, 5]: passed ${tie.passed}`);
