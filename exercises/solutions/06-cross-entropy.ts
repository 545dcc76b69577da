/** Reference solution of exercises/06-cross-entropy.ts. */
import { type Tensor, tensor } from "../../src/index.ts";

export function crossEntropy(logits: Tensor, labels: readonly number[]): Tensor {
  const [n, k] = logits.shape;
  const onehot = tensor(
    Array.from({ length: n * k }, (_, i) => (i % k === labels[Math.floor(i / k)] ? 1 : 0)),
    [n, k],
    { dtype: logits.dtype },
  );
  const picked = logits.mul(onehot).sum(1); // row[label]
  return logits.logsumexp(1).sub(picked).mean();
}
