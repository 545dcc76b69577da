/**
 * Exercise 03-sum-to-shape (chapter 3: tensors).
 *
 * Broadcasting repeats an operand along some axes: a bias of shape [3] added to a batch [2, 3] is
 * used once per row. Its gradient is therefore the output's gradient summed over those axes.
 *
 * 1. sumToShape(g, shape): sum g (of the broadcast output's shape) back to `shape`: over the
 *    leading axes that `shape` lacks, and over every axis where `shape` has 1 and g does not.
 *    [2, 3] → [3] sums axis 0; [2, 3] → [2, 1] sums axis 1 (keeping it); [2, 3] → [] sums all.
 * 2. addBroadcast(a, b): a + b as an op of your own (chapter 4 explains applyOp; the forward is
 *    written for you). Its VJP: d(a+b)/da = 1 and d(a+b)/db = 1, each summed back to its input's
 *    shape.
 *
 * Tensor methods you may use: g.sum(axes, keepdims), g.reshape(shape), g.shape, g.ndim.
 * Grade it: npm run exercise -- 03-sum-to-shape
 */
import { applyOp, type Tensor } from "../src/index.ts";

export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  throw new Error("not written yet");
}

export function addBroadcast(a: Tensor, b: Tensor): Tensor {
  return applyOp(
    "addBroadcast",
    [a, b],
    () => a.add(b),
    (g) => [
      () => {
        throw new Error("not written yet: the gradient of a");
      },
      () => {
        throw new Error("not written yet: the gradient of b");
      },
    ],
  );
}
