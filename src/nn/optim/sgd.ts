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
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.lr >= 0)) throw new Error(`SGD: lr must be ≥ 0, got ${this.lr}`);
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
    const momentum = state.buffers.momentum;
    if (momentum === undefined || momentum.length !== this.buffers.length) {
      throw new Error(
        `SGD.loadStateDict: expected ${this.buffers.length} momentum buffers (one per parameter when momentum is set)`,
      );
    }
    this.restored(state.step);
    noGrad(() => {
      this.buffers.forEach((b, i) => {
        b.assign((momentum[i] ?? zeros(b.shape)).to(b.dtype));
      });
    });
  }
}
