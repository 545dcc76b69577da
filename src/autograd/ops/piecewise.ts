/** Piecewise-linear ops: |x| and clamping to an interval. */
import { applyOp } from "../op.ts";
import { Tensor, toTensor } from "../tensor.ts";
import { greater, greaterEqual, less, lessEqual, sign } from "./compare.ts";
import { mul } from "./elementwise.ts";
import { where } from "./where.ts";

// d|x|/dx = sign(x): 0 at the kink x = 0 (as PyTorch), NaN at NaN (a NaN must not vanish)
export function abs(x: Tensor): Tensor {
  return applyOp(
    "abs",
    [x],
    () => new Tensor(x.backend.unary("abs", x.storage), x.shape, x.backend),
    (g) => [() => mul(g, sign(x))],
  );
}

/**
 * x limited to [min, max] (either bound may be left out), as torch.clamp. NaN stays NaN.
 * Composed from `where`: inside the interval the value (and its gradient) is x's; outside it is a
 * constant bound. The x that reaches the innermost branch is detached, so that a NaN, which is
 * neither inside nor outside, passes its value on but, as in PyTorch, no gradient.
 */
// d clamp(x)/dx = 1 where min ≤ x ≤ max (the bounds included, as PyTorch), else 0
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min === undefined && max === undefined) throw new Error("clamp: give a min, a max or both");
  if (Number.isNaN(min) || Number.isNaN(max))
    throw new Error(`clamp: a bound is NaN (min ${min}, max ${max})`);
  if (min !== undefined && max !== undefined && !(min <= max)) {
    throw new Error(`clamp: min ${min} must not be greater than max ${max}`);
  }
  const lo = toTensor(min ?? Number.NEGATIVE_INFINITY, x);
  const hi = toTensor(max ?? Number.POSITIVE_INFINITY, x);
  const inside = mul(greaterEqual(x, lo), lessEqual(x, hi));
  return where(inside, x, where(less(x, lo), lo, where(greater(x, hi), hi, x.detach())));
}
