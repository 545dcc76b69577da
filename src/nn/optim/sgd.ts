/**
 * Stochastic gradient descent with optional momentum, as PyTorch's SGD:
 *   b ← μ·b + g   (b = g on the first step)
 *   p ← p − lr·b  (plain SGD when μ = 0: p ← p − lr·g)
 */
import { noGrad } from "../../autograd/engine.ts";
import { scoped } from "../../autograd/scope.ts";
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
  private t = 0;
  private buffers: (Tensor | null)[];

  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super(params);
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.lr >= 0)) throw new Error(`SGD: lr must be ≥ 0, got ${this.lr}`);
    this.buffers = this.params.map(() => null);
  }

  step(): void {
    this.t++;
    // Everything made here but the momentum buffers is scratch, freed when the step ends.
    scoped(
      () =>
        noGrad(() => {
          this.params.forEach((p, i) => {
            if (p.grad === null) return;
            let d = this.weightDecay === 0 ? p.grad : p.grad.add(p.mul(this.weightDecay));
            if (this.momentum !== 0) {
              const previous = this.buffers[i];
              d = previous === null ? d.detach() : previous.mul(this.momentum).add(d);
              previous?.dispose();
              this.buffers[i] = d;
            }
            p.assign(p.sub(d.mul(this.lr)));
          });
        }),
      () => this.buffers,
    );
  }

  stateDict(): OptimizerState {
    return { step: this.t, buffers: { momentum: this.buffers.map((t) => t?.detach() ?? null) } };
  }

  loadStateDict(state: OptimizerState): void {
    const momentum = state.buffers.momentum;
    if (momentum === undefined || momentum.length !== this.params.length) {
      throw new Error(
        `SGD.loadStateDict: expected a momentum buffer list for ${this.params.length} parameters`,
      );
    }
    this.t = state.step;
    this.buffers = momentum.map((t) => t?.detach() ?? null);
  }
}
