/** What every optimizer shares: the parameters it updates, zeroGrad, and state for checkpoints. */
import { full } from "../../autograd/create.ts";
import { describeValue, expectTensor, type Tensor } from "../../autograd/tensor.ts";
import { checkLoadable } from "../state.ts";

export abstract class Optimizer {
  readonly params: readonly Tensor[];

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

  /** Update every parameter that has a gradient, in place. */
  abstract step(): void;

  /** Everything the optimizer remembers between steps, for checkpoints. */
  abstract stateDict(): OptimizerState;
  abstract loadStateDict(state: OptimizerState): void;
  /** The same buffers as `stateDict`, themselves rather than copies (to watch them; never change them). */
  abstract stateTensors(): Readonly<Record<string, readonly Tensor[]>>;

  /**
   * A scalar that is finite exactly when every parameter and state buffer is, for a divergence
   * guard to read after `step()`. This default sums them all (one more pass over memory); an
   * optimizer whose fused update already saw every number it wrote answers from that instead.
   */
  finiteProbe(): Tensor {
    return sumProbe(this.everything(), true);
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

  /** Every parameter and every state buffer. */
  protected everything(): Tensor[] {
    return [...this.params, ...Object.values(this.stateTensors()).flat()];
  }
}

/**
 * `known` (as 0, or NaN when false) plus the sum of every tensor's sum: NaN and ±Infinity survive a
 * sum, so the result is finite when all are (or huge, when finite values overflow it).
 */
export function sumProbe(tensors: readonly Tensor[], known: boolean): Tensor {
  const start = full([], known ? 0 : Number.NaN, { dtype: tensors[0]?.dtype });
  return tensors.reduce((sum, t) => sum.add(t.sum()), start);
}

export interface OptimizerState {
  /** Steps taken so far. */
  step: number;
  /** Named per-parameter buffers, each a list aligned with `params` (null where not yet created). */
  buffers: Record<string, (Tensor | null)[]>;
}
