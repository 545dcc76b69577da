/**
 * Reductions over all axes or chosen ones, with or without keepdims.
 *
 * Their backward passes broadcast the gradient back over the reduced axes: every input element
 * that went into a sum gets the sum's gradient (d sum/dx_i = 1); for max only the elements that
 * were the maximum do.
 */
import type { ReduceOp, Shape } from "../../kernels/backend.ts";
import { formatShape, sizeOf } from "../../kernels/shape.ts";
import { normalizeAxes } from "../axes.ts";
import { zeros } from "../create.ts";
import { noGrad } from "../grad-mode.ts";
import { applyOp, type Vjp } from "../op.ts";
import { Tensor } from "../tensor.ts";
import { equal } from "./compare.ts";
import { add, div, exp, log, maximum, minimum, mul, sub } from "./elementwise.ts";
import { broadcastTo, reshape } from "./shape.ts";

/** The shape after reducing `axes`: size-1 dimensions kept (keepdims) or dropped. */
function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): number[] {
  return keepdims
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
}

function reduceOp(op: ReduceOp, x: Tensor, axes: readonly number[], keepdims: boolean, vjp: Vjp): Tensor {
  if (op === "max" && axes.some((a) => x.shape[a] === 0)) {
    throw new Error(`max: cannot reduce an empty axis of a tensor of shape ${formatShape(x.shape)}`);
  }
  const shape = reducedShape(x.shape, axes, keepdims);
  return applyOp(
    op,
    [x],
    () => new Tensor(x.backend.reduce(op, x.storage, x.shape, axes), shape, x.backend),
    vjp,
  );
}

/** Put back the reduced axes as size-1 dimensions, so a reduced tensor broadcasts against x. */
function keepDims(t: Tensor, xShape: Shape, axes: readonly number[]): Tensor {
  return reshape(t, reducedShape(xShape, axes, true));
}

// d(Σ x)/dx_i = 1: the gradient is copied to every element that was summed
export function sum(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  const ax = normalizeAxes("sum", x.shape, axes);
  return reduceOp("sum", x, ax, keepdims, (g) => [() => broadcastTo(keepDims(g, x.shape, ax), x.shape)]);
}

// mean = sum / n, so d mean/dx_i = 1/n
export function mean(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  const ax = normalizeAxes("mean", x.shape, axes);
  const n = sizeOf(ax.map((a) => x.shape[a]));
  return div(sum(x, ax, keepdims), n);
}

// d max/dx_i = 1 where x_i is the maximum, else 0; ties share the gradient equally (as torch.amax)
export function max(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  const ax = normalizeAxes("max", x.shape, axes);
  return reduceOp("max", x, ax, keepdims, (g, out) => [
    () => {
      const isMax = equal(x, keepDims(out, x.shape, ax));
      return mul(isMax, div(keepDims(g, x.shape, ax), sum(isMax, ax, true)));
    },
  ]);
}

/**
 * log Σ exp(x) over one axis, computed stably as log Σ exp(x − s) + s with the shift s = max(x),
 * so that no exp overflows. s is taken as a constant (detached, as tinygrad does): the result does
 * not depend on it, d/ds [log Σ exp(x − s) + s] = −1 + 1 = 0, so the gradient (below) comes out
 * of exp, sum and log's own VJPs, and so do all higher derivatives.
 */
// d lse/dx_i = exp(x_i − lse) = softmax(x)_i
export function logsumexp(x: Tensor, axis: number, keepdims = false): Tensor {
  const ax = normalizeAxes("logsumexp", x.shape, axis);
  // Over no elements: log Σ∅ = log 0 = −Infinity (as PyTorch), with no maximum to shift by.
  const empty = ax.some((a) => x.shape[a] === 0);
  const shift = noGrad(() => {
    if (empty) return zeros(reducedShape(x.shape, ax, true), { dtype: x.dtype });
    // A row of ±Infinity would give inf − inf = NaN; shifting by the largest finite number instead
    // gives the right ±Infinity, and leaves every finite maximum unchanged.
    const largest = x.dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
    return minimum(maximum(max(x, ax, true), -largest), largest);
  });
  const lse = add(log(sum(exp(sub(x, shift)), ax, true)), shift);
  return keepdims ? lse : reshape(lse, reducedShape(x.shape, ax, false));
}
