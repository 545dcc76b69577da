/**
 * Cross-entropy of class scores (logits), the loss of a classifier (torch.nn.functional.cross_entropy):
 *   CE(x, y) = −log softmax(x)_y           for a class index y,
 *   CE(x, p) = −Σ_c p_c · log softmax(x)_c  for a target distribution p.
 * The classes lie along axis 1 (axis 0 for a single example of shape [C]), so an input [N, C]
 * gives one loss per row and [N, C, d…] one per position. log softmax is computed stably from the
 * logits and the loss is composed from differentiable ops, so its gradient, softmax(x) − onehot(y),
 * comes out of their backward passes, to any order.
 */
import { indexSelect } from "../autograd/ops/indexing.ts";
import { logSoftmax } from "../autograd/ops/softmax.ts";
import { Tensor } from "../autograd/tensor.ts";
import { formatShape, sameShape, sizeOf } from "../kernels/shape.ts";
import type { Reduction } from "./losses.ts";

/**
 * `target` is either the class index of each example (integers, e.g. MNIST's labels: one per row of
 * an [N, C] input) or a tensor of class probabilities shaped like `logits`.
 */
// d CE/dx = softmax(x) − onehot(y) (or − p for target probabilities), from the ops it is composed of
export function crossEntropy(
  logits: Tensor,
  target: ArrayLike<number> | Tensor,
  reduction: Reduction = "mean",
): Tensor {
  if (logits.ndim === 0) throw new Error("crossEntropy: logits must have a class axis, got a scalar");
  const axis = logits.ndim === 1 ? 0 : 1;
  const logP = logSoftmax(logits, axis);
  const perExample =
    target instanceof Tensor ? againstProbabilities(logP, target, axis) : atIndices(logP, target, axis);
  if (reduction === "none") return perExample;
  return reduction === "sum" ? perExample.sum() : perExample.mean();
}

/** −Σ_c p_c · log q_c along the class axis. */
function againstProbabilities(logP: Tensor, probs: Tensor, axis: number): Tensor {
  if (!sameShape(probs.shape, logP.shape)) {
    throw new Error(
      `crossEntropy: target probabilities ${formatShape(probs.shape)} must have the shape of the logits ${formatShape(logP.shape)}`,
    );
  }
  return probs.mul(logP).sum(axis).neg();
}

/** −log q_y, each example's log-probability picked out at its class index. */
function atIndices(logP: Tensor, classes: ArrayLike<number>, axis: number): Tensor {
  const shape = logP.shape;
  const c = shape[axis];
  const outer = axis === 0 ? 1 : shape[0];
  const inner = sizeOf(shape.slice(axis + 1));
  const exampleShape = shape.filter((_, i) => i !== axis);
  if (classes.length !== outer * inner) {
    throw new Error(
      `crossEntropy: ${classes.length} class indices for logits ${formatShape(shape)}, which need ${outer * inner} (one per example, shape ${formatShape(exampleShape)})`,
    );
  }
  // Where each example's class sits in the flattened log-probabilities: [outer, C, inner] row-major.
  const picks = new Int32Array(classes.length);
  for (let j = 0; j < classes.length; j++) {
    const y = classes[j];
    if (!(Number.isInteger(y) && y >= 0 && y < c)) {
      throw new Error(`crossEntropy: target ${y} at position ${j} is not a class index in [0, ${c})`);
    }
    const o = Math.floor(j / inner);
    picks[j] = (o * c + y) * inner + (j % inner);
  }
  return indexSelect(logP.reshape([-1]), 0, picks)
    .reshape(exampleShape)
    .neg();
}
