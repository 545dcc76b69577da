/**
 * What every optimizer shares: the parameters it updates, zeroGrad, the step (each parameter that
 * has a gradient updated in place by the optimizer's own rule), and state for checkpoints.
 */
import { full } from "../../autograd/create.ts";
import { noGrad } from "../../autograd/grad-mode.ts";
import { scoped } from "../../autograd/scope.ts";
import type { Tensor } from "../../autograd/tensor.ts";

export abstract class Optimizer {
  readonly params: readonly Tensor[];
  /** Steps taken so far (Adam's t). */
  protected steps = 0;
  /** Whether the fused kernels of the last step said all they wrote is finite. */
  private vouched = true;
  /** What no fused kernel vouched for in the last step; null: everything (before any step). */
  private unchecked: Tensor[] | null = null;

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

  /** Update every parameter that has a gradient, in place. Every tensor made here is scratch, freed when the step ends. */
  step(): void {
    this.steps++;
    this.vouched = true;
    const unchecked: Tensor[] = [];
    const state = Object.values(this.stateTensors());
    scoped(
      () =>
        noGrad(() => {
          this.params.forEach((p, i) => {
            const finite = p.grad === null ? undefined : this.update(p, p.grad, i);
            if (finite === undefined) unchecked.push(p, ...state.flatMap((buffers) => buffers[i] ?? []));
            else this.vouched &&= finite;
          });
        }),
      () => [],
    );
    this.unchecked = unchecked;
  }

  /**
   * The optimizer's rule: update parameter `i`, `p`, from its gradient, in place (with `assign`,
   * or a backend's fused kernel). Returns whether all that a fused kernel wrote is finite, or
   * undefined when no kernel vouched for it (then finiteProbe sums it).
   */
  protected abstract update(p: Tensor, grad: Tensor, i: number): boolean | undefined;

  /** Everything the optimizer remembers between steps, for checkpoints. */
  abstract stateDict(): OptimizerState;
  abstract loadStateDict(state: OptimizerState): void;
  /** The same buffers as `stateDict`, themselves rather than copies (to watch them; never change them). */
  abstract stateTensors(): Readonly<Record<string, readonly Tensor[]>>;

  /**
   * A scalar that is finite exactly when every parameter and state buffer is, for a divergence
   * guard to read after `step()`: the sum of what no fused kernel vouched for in the last step
   * (one more pass over that memory; nothing at all where a fused update saw every number it
   * wrote), NaN if a kernel saw a non-finite one. NaN and ±Infinity survive a sum, so the result is
   * finite when all are (or huge, when finite values overflow it).
   */
  finiteProbe(): Tensor {
    const tensors = this.unchecked ?? [...this.params, ...Object.values(this.stateTensors()).flat()];
    const start = full([], this.vouched ? 0 : Number.NaN, { dtype: this.params[0].dtype });
    return tensors.reduce((sum, t) => sum.add(t.sum()), start);
  }

  /** After loading a state: `steps` taken, and nothing vouched for yet. */
  protected restored(steps: number): void {
    this.steps = steps;
    this.vouched = true;
    this.unchecked = null;
  }
}

export interface OptimizerState {
  /** Steps taken so far. */
  step: number;
  /** Named per-parameter buffers, each a list aligned with `params` (null where not yet created). */
  buffers: Record<string, (Tensor | null)[]>;
}
