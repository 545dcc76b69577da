/** What every optimizer shares: the parameters it updates, zeroGrad, and state for checkpoints. */
import type { Tensor } from "../../autograd/tensor.ts";

export abstract class Optimizer {
  readonly params: readonly Tensor[];

  constructor(params: Iterable<Tensor>) {
    this.params = [...params];
    if (this.params.length === 0) throw new Error(`${this.constructor.name}: got an empty parameter list`);
    for (const p of this.params) {
      if (!p.requiresGrad)
        throw new Error(`${this.constructor.name}: parameter ${p.name ?? ""} does not require grad`);
    }
  }

  /** Clear the gradients of all parameters (call before each backward, since gradients add up). */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Update every parameter that has a gradient, in place. */
  abstract step(): void;

  /** Everything the optimizer remembers between steps, for checkpoints. */
  abstract stateDict(): OptimizerState;
  abstract loadStateDict(state: OptimizerState): void;
  /** The same buffers as `stateDict`, themselves rather than copies (to watch them; never change them). */
  abstract stateTensors(): Readonly<Record<string, readonly Tensor[]>>;
}

export interface OptimizerState {
  /** Steps taken so far. */
  step: number;
  /** Named per-parameter buffers, each a list aligned with `params` (null where not yet created). */
  buffers: Record<string, (Tensor | null)[]>;
}
