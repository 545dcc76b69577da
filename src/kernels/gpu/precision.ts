/**
 * How far the GPU backend's float32 results may be from the exact answer (computed in float64
 * from the same float32 inputs). The GPU computes in single precision, so every number carries
 * float32's relative rounding error u = 2⁻²⁴; shader math functions are allowed more than that.
 * The bounds below are the accuracies that WGSL promises (and GLSL ES 3 promises about as much),
 * so they hold on any GPU, not only on the one the tests ran on:
 *
 *   exact             neg abs relu sign max min eq lt, broadcast, permute, copies: bit for bit
 *   correctly rounded + − ×: ½ ulp
 *   division          2.5 ulp
 *   sqrt              via inverseSqrt and a division: 5 ulp
 *   exp               3 + 2|x| ulp: the error grows with the argument
 *   log               3 ulp, or 2⁻²¹ absolute for x in [0.5, 2]
 *   sigmoid, tanh,    built from exp and log as written in sources.ts, so their own bound
 *   softplus, pow     follows from those (see each case)
 *   sums and dot      each of n additions rounds: |error| ≤ n·u·Σ|terms| (the textbook bound
 *   products          γₙ for recursive summation), however the device orders the adds
 *
 * A matmul whose loop stopped at 1,000 of K = 1,500 terms misses a third of Σ|terms|, far past
 * 1,500·u·Σ|terms| ≈ 10⁻⁴·Σ|terms|, so these bounds still catch the bug they are there for.
 */
import type { BinaryOp, UnaryOp } from "../backend.ts";

/** float32's unit roundoff: half the distance from 1 to the next float32. */
export const unitRoundoff = 2 ** -24;
/** One ulp (unit in the last place) of a float32 near |v|, for normal numbers. */
const ulp = (v: number) => 2 * unitRoundoff * Math.abs(v);

/**
 * The largest |gpu − exact| allowed for one element of an elementwise op on inputs x (and y).
 * `exact` is the float64 answer for the same float32 inputs.
 */
export function elementwiseTolerance(op: UnaryOp | BinaryOp, exact: number, x: number, y = 0): number {
  const e = ulp(exact);
  switch (op) {
    case "neg":
    case "abs":
    case "relu":
    case "sign":
    case "max":
    case "min":
    case "eq":
    case "lt":
      return 0;
    case "add":
    case "sub":
    case "mul":
      return 0.5 * e;
    case "div":
      return 2.5 * e;
    case "sqrt":
      return 5 * e;
    case "exp":
      return (3 + 2 * Math.abs(x)) * e;
    case "log":
      return Math.max(3 * e, 2 ** -21);
    case "sigmoid":
      // exp(−|x|) to 3 + 2|x| ulp, then one addition and one division.
      return (6 + 2 * Math.abs(x)) * e;
    case "tanh":
      // WGSL derives tanh from exp; allow exp's bound at the clamped argument, and 2⁻²² near 0.
      return (3 + 2 * Math.min(Math.abs(x), 15)) * e + 2 ** -22;
    case "softplus":
      // max(x, 0) + log(1 + e^−|x|): log's absolute 2⁻²¹ on [1, 2], plus two roundings.
      return 2 * e + 2 ** -21 + 2 * unitRoundoff;
    case "pow": {
      // exp2(y·log2|x|): log2's error, scaled by |y|, becomes a relative error of exp2's result.
      const z = Math.abs(y * Math.log2(Math.abs(x)));
      const log2Error = Math.abs(y) * Math.max(3 * ulp(Math.log2(Math.abs(x))), 2 ** -21);
      return (3 + 2 * z) * e + Math.LN2 * log2Error * Math.abs(exact);
    }
  }
}

/** The largest |gpu − exact| allowed for a sum of n terms (a dot product has n = k products). */
export function sumTolerance(n: number, absSum: number): number {
  return (n + 1) * unitRoundoff * absSum;
}
