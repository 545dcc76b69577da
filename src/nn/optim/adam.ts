/**
 * Adam (Kingma & Ba, 2015) with PyTorch's semantics. For each parameter p with gradient g, at step t:
 *   m ← β₁m + (1 − β₁)g          running mean of gradients
 *   v ← β₂v + (1 − β₂)g²         running mean of squared gradients
 *   p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
 * The divisions by 1 − βᵗ undo the bias of m and v towards their zero start.
 */
import { zeros } from "../../autograd/create.ts";
import { noGrad } from "../../autograd/engine.ts";
import { scoped } from "../../autograd/scope.ts";
import type { Tensor } from "../../autograd/tensor.ts";
import type { AdamHyperparameters } from "../../kernels/backend.ts";
import { Optimizer, type OptimizerState, sumProbe } from "./optimizer.ts";

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** L2 penalty added to the gradient (PyTorch's Adam weight_decay, not AdamW). */
  weightDecay?: number;
}

export class Adam extends Optimizer {
  readonly lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  /** The moments, made once here: updates overwrite them, so a step creates no lasting tensors. */
  private m: Tensor[];
  private v: Tensor[];
  /** What the last step's fused kernels said of all they wrote, and what they did not write. */
  private fusedFinite = true;
  private unchecked: Tensor[];

  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params);
    this.lr = options.lr ?? 1e-3;
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    const finite = Number.POSITIVE_INFINITY;
    this.checkOptions({
      lr: [this.lr, 0, finite, false],
      eps: [this.eps, 0, finite, false],
      weightDecay: [this.weightDecay, 0, finite, false],
    });
    if (!Array.isArray(this.betas) || this.betas.length !== 2 || !this.betas.every((b) => b >= 0 && b < 1))
      throw new Error(
        `Adam: betas must be two numbers in [0, 1), got ${JSON.stringify(this.betas) ?? "undefined"}`,
      );
    this.m = this.params.map((p) => zeros(p.shape, { dtype: p.dtype }));
    this.v = this.params.map((p) => zeros(p.shape, { dtype: p.dtype }));
    this.unchecked = this.everything();
  }

  step(): void {
    this.t++;
    const hyper: AdamHyperparameters = {
      lr: this.lr,
      beta1: this.betas[0],
      beta2: this.betas[1],
      eps: this.eps,
      weightDecay: this.weightDecay,
      step: this.t,
    };
    this.fusedFinite = true;
    this.unchecked = [];
    // Every tensor made here is scratch, freed when the step ends.
    scoped(
      () =>
        noGrad(() => {
          this.params.forEach((p, i) => {
            const finite = p.grad === null ? undefined : this.update(p, p.grad, this.m[i], this.v[i], hyper);
            if (finite === undefined) this.unchecked.push(p, this.m[i], this.v[i]);
            else this.fusedFinite &&= finite;
          });
        }),
      () => [],
    );
  }

  /** Returns whether all it wrote is finite when a fused kernel did the update, else undefined. */
  private update(p: Tensor, grad: Tensor, m: Tensor, v: Tensor, h: AdamHyperparameters): boolean | undefined {
    // A backend with a fused kernel does the whole update in one pass, in place.
    if (p.backend.adamUpdate !== undefined) {
      const finite = p.backend.adamUpdate(p.storage, grad.storage, m.storage, v.storage, h);
      p.version++; // changed in place, as assign would: a graph that read p must not backward now
      return finite;
    }
    const [b1, b2] = [h.beta1, h.beta2];
    const g = h.weightDecay === 0 ? grad : grad.add(p.mul(h.weightDecay));
    m.assign(m.mul(b1).add(g.mul(1 - b1)));
    v.assign(v.mul(b2).add(g.mul(g).mul(1 - b2)));
    const denominator = v
      .div(1 - b2 ** h.step)
      .sqrt()
      .add(h.eps);
    p.assign(p.sub(m.div(denominator).mul(h.lr / (1 - b1 ** h.step))));
    return undefined;
  }

  /** Sums only what no fused kernel vouched for in the last step (nothing, on wasm). */
  override finiteProbe(): Tensor {
    return sumProbe(this.unchecked, this.fusedFinite);
  }

  stateDict(): OptimizerState {
    return {
      step: this.t,
      buffers: { m: this.m.map((t) => t.detach()), v: this.v.map((t) => t.detach()) },
    };
  }

  stateTensors(): Readonly<Record<string, readonly Tensor[]>> {
    return { m: this.m, v: this.v };
  }

  loadStateDict(state: OptimizerState): void {
    this.checkState(state, ["m", "v"], this.params.length);
    const { m, v } = state.buffers;
    this.t = state.step;
    this.unchecked = this.everything();
    // Copy into the existing moments (shapes checked by assign); a missing one means zeros.
    noGrad(() => {
      this.params.forEach((p, i) => {
        this.m[i].assign((m[i] ?? zeros(p.shape)).to(p.dtype));
        this.v[i].assign((v[i] ?? zeros(p.shape)).to(p.dtype));
      });
    });
  }
}
