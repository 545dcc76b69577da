/** Linear(in, out): y = x·Wᵀ + b, with W stored out×in as in PyTorch. */
import type { Generator } from "../autograd/random.ts";
import type { Tensor } from "../autograd/tensor.ts";
import type { DType } from "../kernels/backend.ts";
import { formatShape } from "../kernels/shape.ts";
import { uniformFanIn } from "./init.ts";
import { Module } from "./module.ts";

export interface LinearOptions {
  bias?: boolean;
  dtype?: DType;
  generator?: Generator;
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    // A layer of no inputs would draw its weights from ±1/√0: NaN. (Checked at run time, for
    // JavaScript callers, as the types promise.)
    for (const [name, n] of Object.entries({ inFeatures, outFeatures })) {
      if (!Number.isSafeInteger(n) || n < 1)
        throw new Error(
          `Linear(${inFeatures}, ${outFeatures}): ${name} must be a positive integer, got ${n}`,
        );
    }
    const init = { generator: options.generator, dtype: options.dtype };
    this.weight = this.registerParameter("weight", uniformFanIn([outFeatures, inFeatures], inFeatures, init));
    this.bias =
      options.bias === false
        ? null
        : this.registerParameter("bias", uniformFanIn([outFeatures], inFeatures, init));
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 2 || x.shape[1] !== this.inFeatures) {
      throw new Error(
        `Linear(${this.inFeatures}, ${this.outFeatures}): expected input of shape [batch, ${this.inFeatures}], got ${formatShape(x.shape)}`,
      );
    }
    // The transB flag reads Wᵀ in place; the bias broadcasts over the batch.
    const y = x.matmul(this.weight, { transB: true });
    return this.bias === null ? y : y.add(this.bias);
  }
}
