/**
 * What every optimizer shares: the parameters it updates, zeroGrad, the step (each parameter that
 * has a gradient updated in place by the optimizer's own rule), and state for checkpoints.
 */
import { full } from "../../autograd/create.ts";
import { noGrad } from "../../autograd/grad-mode.ts";
import { hostEffect } from "../../autograd/host.ts";
import { scoped } from "../../autograd/scope.ts";
import type { Tensor } from "../../autograd/tensor.ts";

export abstract class Optimizer {
  readonly params: readonly Tensor[];
  /** Steps taken so far (Adam's t). */
  protected steps = 0;
  /** What the fused kernels of the last step said of all they wrote: numbers that sum to 0 when it is finite. */
  private probes: Tensor[] = [];
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

  /**
   * Update every parameter that has a gradient, in place. The step count is host state, advanced
   * as a host effect so that a compiled step advances it too. Every tensor made here is scratch,
   * freed when the step ends, but for the fused kernels' finiteness probes, which finiteProbe reads.
   */
  step(): void {
    hostEffect(() => this.steps++);
    const probes: Tensor[] = [];
    const unchecked: Tensor[] = [];
    const state = Object.values(this.stateTensors());
    scoped(
      () =>
        noGrad(() => {
          const update = this.rule();
          this.params.forEach((p, i) => {
            const probe = p.grad === null ? undefined : update(p, p.grad, i);
            if (probe === undefined) unchecked.push(p, ...state.flatMap((buffers) => buffers[i] ?? []));
            else probes.push(probe);
          });
        }),
      () => probes,
    );
    this.probes = probes;
    this.unchecked = unchecked;
  }

  /**
   * The optimizer's rule for this step: a function that updates parameter `i`, `p`, from its
   * gradient, in place (with `assign`, or a backend's fused kernel). It returns the fused kernel's
   * finiteness probe (numbers that sum to 0 when all it wrote is finite), or undefined when no
   * kernel vouched for what it wrote (then finiteProbe sums that).
   */
  protected abstract rule(): (p: Tensor, grad: Tensor, i: number) => Tensor | undefined;

  /** Everything the optimizer remembers between steps, for checkpoints. */
  abstract stateDict(): OptimizerState;
  abstract loadStateDict(state: OptimizerState): void;
  /** The same buffers as `stateDict`, themselves rather than copies (to watch them; never change them). */
  abstract stateTensors(): Readonly<Record<string, readonly Tensor[]>>;

  /**
   * A scalar that is finite exactly when every parameter and state buffer is, for a divergence
   * guard to read after `step()` (in the same scope, if the step ran in one): the sum of the fused
   * kernels' probes and of what no fused kernel vouched for in the last step (one more pass over
   * that memory; nothing at all where a fused update saw every number it wrote). NaN and ±Infinity
   * survive a sum, so the result is finite when all are (or huge, when finite values overflow it).
   */
  finiteProbe(): Tensor {
    const tensors = [
      ...this.probes,
      ...(this.unchecked ?? [...this.params, ...Object.values(this.stateTensors()).flat()]),
    ];
    return tensors.reduce((sum, t) => sum.add(t.sum()), full([], 0, { dtype: this.params[0].dtype }));
  }

  /** After loading a state: `steps` taken, and nothing vouched for yet. */
  protected restored(steps: number): void {
    this.steps = steps;
    this.probes = [];
    this.unchecked = null;
  }
}

export interface OptimizerState {
  /** Steps taken so far. */
  step: number;
  /** Named per-parameter buffers, each a list aligned with `params` (null where not yet created). */
  buffers: Record<string, (Tensor | null)[]>;
}
