/** Planted wrong answer: softmax written out as exp / Σ exp, then log: overflows at large logits. */
import { type Tensor, tensor } from "../../../src/index.ts";

export function crossEntropy(logits: Tensor, labels: readonly number[]): Tensor {
  const [n, k] = logits.shape;
  const onehot = tensor(
    Array.from({ length: n * k }, (_, i) => (i % k === labels[Math.floor(i / k)] ? 1 : 0)),
    [n, k],
    { dtype: logits.dtype },
  );
  const e = logits.exp();
  const p = e.div(e.sum(1, true));
  return p.log().mul(onehot).sum(1).neg().mean();
}
