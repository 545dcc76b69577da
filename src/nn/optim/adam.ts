/**
 * Adam (Kingma & Ba, 2015) with PyTorch's semantics. For each parameter p with gradient g, at step t:
 *   m ← β₁m + (1 − β₁)g          running mean of gradients
 *   v ← β₂v + (1 − β₂)g²         running mean of squared gradients
 *   p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
 * The divisions by 1 − βᵗ undo the bias of m and v towards their zero start.
 */
import { zeros } from "../../autograd/create.ts";
import { noGrad } from "../../autograd/grad-mode.ts";
import { hostTensor } from "../../autograd/host.ts";
import { Tensor } from "../../autograd/tensor.ts";
import type { AdamHyperparameters, DType } from "../../kernels/backend.ts";
import { Optimizer, type OptimizerState } from "./optimizer.ts";

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
  /** The moments, made once here: updates overwrite them, so a step creates no lasting tensors. */
  private m: Tensor[];
  private v: Tensor[];

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
  }

  protected rule(): (p: Tensor, grad: Tensor, i: number) => Tensor | undefined {
    const [beta1, beta2] = this.betas;
    const hyper: AdamHyperparameters = { beta1, beta2, eps: this.eps, weightDecay: this.weightDecay };
    // This step's bias corrections [1 − β₂ᵗ, lr / (1 − β₁ᵗ)], once per dtype, made on the host.
    const corrections = new Map<DType, Tensor>();
    const correctionsIn = (dtype: DType) => {
      const made =
        corrections.get(dtype) ??
        hostTensor(() => {
          const t = this.steps;
          const values = [1 - beta2 ** t, this.lr / (1 - beta1 ** t)];
          return dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values);
        }, [2]);
      corrections.set(dtype, made);
      return made;
    };
    return (p, grad, i) => {
      const [m, v, c] = [this.m[i], this.v[i], correctionsIn(p.dtype)];
      // A backend with a fused kernel does the whole update in one pass, in place.
      const probe = p.backend.adamUpdate?.(p.storage, grad.storage, m.storage, v.storage, c.storage, hyper);
      if (probe !== undefined) {
        p.version++; // changed in place, as assign would: a graph that read p must not backward now
        return new Tensor(probe, [probe.size], p.backend);
      }
      const [c2, stepSize] = [0, 1].map((k) => c.gatherRows([k]).reshape([]));
      const g = hyper.weightDecay === 0 ? grad : grad.add(p.mul(hyper.weightDecay));
      m.assign(m.mul(beta1).add(g.mul(1 - beta1)));
      v.assign(v.mul(beta2).add(g.mul(g).mul(1 - beta2)));
      p.assign(p.sub(m.div(v.div(c2).sqrt().add(hyper.eps)).mul(stepSize)));
      return undefined;
    };
  }

  stateDict(): OptimizerState {
    return {
      step: this.steps,
      buffers: { m: this.m.map((t) => t.detach()), v: this.v.map((t) => t.detach()) },
    };
  }

  stateTensors(): Readonly<Record<string, readonly Tensor[]>> {
    return { m: this.m, v: this.v };
  }

  loadStateDict(state: OptimizerState): void {
    this.checkState(state, ["m", "v"], this.params.length);
    const { m, v } = state.buffers;
    this.restored(state.step);
    // Copy into the existing moments (shapes checked by assign); a missing one means zeros.
    noGrad(() => {
      this.params.forEach((p, i) => {
        this.m[i].assign((m[i] ?? zeros(p.shape)).to(p.dtype));
        this.v[i].assign((v[i] ?? zeros(p.shape)).to(p.dtype));
      });
    });
  }
}
