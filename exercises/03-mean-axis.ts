/**
 * Exercise 03-mean-axis (chapter 3: tensors).
 *
 * The mean over one axis, as an op of your own. The forward is written for you; write the VJP.
 * mean = sum / n with n = x.shape[axis], so each element that went into a mean gets 1/n of that
 * mean's gradient: put the reduced axis back into g (as a 1, when keepdims is false), broadcast it
 * over x's shape, divide by n. `axis` may be negative (−1 is the last axis).
 *
 * Tensor methods you may use: g.reshape(shape), g.broadcastTo(shape), g.div(n).
 * Grade it: npm run exercise -- 03-mean-axis
 */
import { applyOp, type Tensor } from "../src/index.ts";

export function meanAxis(x: Tensor, axis: number, keepdims: boolean): Tensor {
  return applyOp(
    "meanAxis",
    [x],
    () => x.mean(axis, keepdims),
    (g) => [
      () => {
        throw new Error("not written yet");
      },
    ],
  );
}
