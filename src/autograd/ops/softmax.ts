/**
 * softmax and log-softmax along one axis, composed from differentiable ops (as tinygrad does), so
 * they need no backward code of their own and can be differentiated to any order.
 *
 * Stability: both subtract the row's maximum m first, so no exp overflows. m is detached: it is a
 * constant of the graph, and rightly so, because softmax(x − c) = softmax(x) for any constant c,
 * so the shift changes neither the value nor the gradient. Like PyTorch, a row holding +Infinity
 * gives NaN, and a row of only −Infinity gives NaN.
 */

import { normalizeAxis } from "../axes.ts";
import { noGrad } from "../grad-mode.ts";
import type { Tensor } from "../tensor.ts";

/** x − max(x) along the axis, with the max a constant of the graph. */
function shifted(op: string, x: Tensor, axis: number): { z: Tensor; axis: number } {
  const ax = normalizeAxis(op, x.shape, axis);
  // An empty axis has no maximum, and nothing to shift either.
  // Taken under noGrad: no graph, so the shift is a constant without a copy.
  return { z: x.shape[ax] === 0 ? x : x.sub(noGrad(() => x.max(ax, true))), axis: ax };
}

/** e^xᵢ / Σⱼ e^xⱼ along `axis`: each row becomes a probability distribution. */
// d softmax/dx (by composition) = s ⊙ (g − Σ g ⊙ s), with s = softmax(x)
export function softmax(x: Tensor, axis = -1): Tensor {
  const { z, axis: ax } = shifted("softmax", x, axis);
  const e = z.exp();
  return e.div(e.sum(ax, true));
}

/** xᵢ − log Σⱼ e^xⱼ along `axis`: the log of softmax without ever taking the log of a small number. */
// d logSoftmax/dx (by composition) = g − softmax(x) ⊙ Σ g
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const { z, axis: ax } = shifted("logSoftmax", x, axis);
  return z.sub(z.exp().sum(ax, true).log());
}
