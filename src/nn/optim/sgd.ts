/**
 * Stochastic gradient descent with optional momentum, as PyTorch's SGD:
 *   b ← μ·b + g   (b = g on the first step)
 *   p ← p − lr·b  (plain SGD when μ = 0: p ← p − lr·g)
 */
import { zeros } from "../../autograd/create.ts";
import { noGrad } from "../../autograd/grad-mode.ts";
import type { Tensor } from "../../autograd/tensor.ts";
import { Optimizer, type OptimizerState } from "./optimizer.ts";

export interface SGDOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /** Momentum buffers, made once here (zeros, so the first step's b is g) and overwritten by each step. */
  private readonly buffers: Tensor[];

  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super(params);
    if (typeof options !== "object" || options === null)
      throw new Error("SGD: options with a learning rate are needed, e.g. new SGD(params, { lr: 0.1 })");
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    const finite = Number.POSITIVE_INFINITY;
    this.checkOptions({
      lr: [this.lr, 0, finite, false],
      momentum: [this.momentum, 0, finite, false],
      weightDecay: [this.weightDecay, 0, finite, false],
    });
    this.buffers = this.momentum === 0 ? [] : this.params.map((p) => zeros(p.shape, { dtype: p.dtype }));
  }

  protected rule(): (p: Tensor, grad: Tensor, i: number) => undefined {
    return (p, grad, i) => {
      let d = this.weightDecay === 0 ? grad : grad.add(p.mul(this.weightDecay));
      if (this.momentum !== 0) {
        this.buffers[i].assign(this.buffers[i].mul(this.momentum).add(d));
        d = this.buffers[i];
      }
      p.assign(p.sub(d.mul(this.lr)));
      return undefined;
    };
  }

  stateDict(): OptimizerState {
    return { step: this.steps, buffers: { momentum: this.buffers.map((t) => t.detach()) } };
  }

  stateTensors(): Readonly<Record<string, readonly Tensor[]>> {
    return { momentum: this.buffers };
  }

  loadStateDict(state: OptimizerState): void {
    // One momentum buffer per parameter when momentum is set, none without.
    this.checkState(state, ["momentum"], this.buffers.length);
    const momentum = state.buffers.momentum;
    this.restored(state.step);
    noGrad(() => {
      this.buffers.forEach((b, i) => {
        b.assign((momentum[i] ?? zeros(b.shape)).to(b.dtype));
      });
    });
  }
}
