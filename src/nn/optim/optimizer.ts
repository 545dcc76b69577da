/**
 * What every optimizer shares: the parameters it updates, zeroGrad, the step (each parameter that
 * has a gradient updated in place by the optimizer's own rule), and state for checkpoints.
 */
import { full } from "../../autograd/create.ts";
import { noGrad } from "../../autograd/grad-mode.ts";
import { hostEffect } from "../../autograd/host.ts";
import { scoped } from "../../autograd/scope.ts";
import { describeValue, expectTensor, type Tensor } from "../../autograd/tensor.ts";
import { checkLoadable } from "../state.ts";

export abstract class Optimizer {
  readonly params: readonly Tensor[];
  /** Steps taken so far (Adam's t). */
  protected steps = 0;
  /** What the fused kernels of the last step said of all they wrote: numbers that sum to 0 when it is finite. */
  private probes: Tensor[] = [];
  /** What no fused kernel vouched for in the last step; null: everything (before any step). */
  private unchecked: Tensor[] | null = null;

  constructor(params: Iterable<Tensor>) {
    const who = this.constructor.name;
    if (params === null || typeof (params as Partial<Iterable<Tensor>>)?.[Symbol.iterator] !== "function")
      throw new Error(
        `${who}: params must be a list of tensors (model.parameters()), got ${describeValue(params)}`,
      );
    this.params = [...params];
    if (this.params.length === 0) throw new Error(`${who}: got an empty parameter list`);
    this.params.forEach((p, i) => {
      expectTensor(who, `parameter ${i}`, p);
      if (!p.requiresGrad) throw new Error(`${who}: parameter ${p.name ?? i} does not require grad`);
    });
  }

  /**
   * Throw, naming the optimizer, unless every option in `ranges` is a number in its range: from
   * JavaScript an lr of Infinity or NaN would be taken, and the parameters become ±Infinity.
   */
  protected checkOptions(
    ranges: Record<string, [value: number, low: number, high: number, highIncluded: boolean]>,
  ): void {
    for (const [name, [value, low, high, highIncluded]] of Object.entries(ranges)) {
      const inRange =
        typeof value === "number" && value >= low && (highIncluded ? value <= high : value < high);
      if (!inRange) {
        const range = `${high === Number.POSITIVE_INFINITY ? `a finite number ≥ ${low}` : `in [${low}, ${high}${highIncluded ? "]" : ")"}`}`;
        throw new Error(`${this.constructor.name}: ${name} must be ${range}, got ${describeValue(value)}`);
      }
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

  /**
   * Throw, naming the optimizer, unless `state` has a step count from 0 and `length` tensors (or
   * nulls) in each of `buffers`, each loadable into its parameter (see nn/state.ts). Checked before
   * anything is loaded, so a bad state changes nothing.
   */
  protected checkState(state: OptimizerState, buffers: readonly string[], length: number): void {
    const who = `${this.constructor.name}.loadStateDict`;
    if (!Number.isSafeInteger(state?.step) || state.step < 0)
      throw new Error(`${who}: step must be a whole number from 0, got ${state?.step}`);
    for (const name of buffers) {
      const list = state.buffers?.[name];
      if (!Array.isArray(list) || list.length !== length)
        throw new Error(`${who}: expected buffer ${name} with ${length} tensors (one per parameter)`);
      list.forEach((t, i) => {
        if (t !== null) checkLoadable(who, `${name}[${i}]`, t, this.params[i]);
      });
    }
  }
}

export interface OptimizerState {
  /** Steps taken so far. */
  step: number;
  /** Named per-parameter buffers, each a list aligned with `params` (null where not yet created). */
  buffers: Record<string, (Tensor | null)[]>;
}
