/** Parameter initialisation, drawn from the library's seeded generator. */
import { rand } from "../autograd/create.ts";
import type { Generator } from "../autograd/random.ts";
import type { Tensor } from "../autograd/tensor.ts";
import type { DType, Shape } from "../kernels/backend.ts";

/**
 * Uniform in ±1/√fanIn: PyTorch's default for nn.Linear's weight (kaiming_uniform with a = √5
 * works out to this bound) and bias. Its variance is 1/(3·fanIn), so an output Σ wᵢxᵢ has about a
 * third of its inputs' mean square E[x²]: signals shrink layer by layer (chapter 7 of the tutorial
 * measures it), which is why deep relu stacks use He's variance 2/fanIn instead.
 */
export function uniformFanIn(
  shape: Shape,
  fanIn: number,
  options: { generator?: Generator; dtype?: DType } = {},
): Tensor {
  if (!(Number.isFinite(fanIn) && fanIn > 0))
    throw new Error(
      `uniformFanIn: fanIn must be a positive number, got ${fanIn} (its bound 1/√fanIn would not be finite)`,
    );
  const bound = 1 / Math.sqrt(fanIn);
  return rand(shape, { low: -bound, high: bound, generator: options.generator, dtype: options.dtype });
}
