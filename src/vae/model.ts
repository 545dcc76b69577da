/**
 * BernoulliVAE: the Variational Autoencoder of Kingma & Welling with a Bernoulli decoder.
 *   encoder  h = relu(W₁x + b₁);  μ = W_μh + b_μ;  logvar = W_σh + b_σ
 *   sample   z = μ + exp(logvar/2) ⊙ ε,  ε ~ N(0, I)          (reparameterize)
 *   decoder  h' = relu(W₃z + b₃);  logits = W₄h' + b₄;  x̂ = sigmoid(logits)
 * The encoder predicts the log-variance rather than σ so that it is free to be any real number.
 */
import type { Generator } from "../autograd/random.ts";
import type { Tensor } from "../autograd/tensor.ts";
import type { DType } from "../kernels/backend.ts";
import { Linear } from "../nn/linear.ts";
import { Module } from "../nn/module.ts";
import { type ElboTerms, negativeElbo } from "./elbo.ts";
import { reparameterize, standardNormalLike } from "./sampler.ts";

export interface VaeConfig {
  inputDim: number;
  latentDim: number;
  encUnits: number;
  decUnits: number;
}

export interface VaeOutput extends ElboTerms {
  logits: Tensor;
  mu: Tensor;
  logvar: Tensor;
  z: Tensor;
}

export class BernoulliVAE extends Module {
  readonly fc1: Linear;
  readonly fcMu: Linear;
  readonly fcLogvar: Linear;
  readonly fc3: Linear;
  readonly fc4: Linear;

  constructor(
    readonly config: VaeConfig,
    options: { generator?: Generator; dtype?: DType } = {},
  ) {
    super();
    for (const field of ["inputDim", "latentDim", "encUnits", "decUnits"] as const) {
      const n = config?.[field];
      if (!Number.isSafeInteger(n) || n < 1)
        throw new Error(`BernoulliVAE: config.${field} must be a positive integer, got ${n}`);
    }
    const { inputDim, latentDim, encUnits, decUnits } = config;
    this.fc1 = this.registerModule("fc1", new Linear(inputDim, encUnits, options));
    this.fcMu = this.registerModule("fcMu", new Linear(encUnits, latentDim, options));
    this.fcLogvar = this.registerModule("fcLogvar", new Linear(encUnits, latentDim, options));
    this.fc3 = this.registerModule("fc3", new Linear(latentDim, decUnits, options));
    this.fc4 = this.registerModule("fc4", new Linear(decUnits, inputDim, options));
  }

  /** q(z|x) = N(μ, diag(exp(logvar))). Named, so that graphs and errors say which is which. */
  encode(x: Tensor): { mu: Tensor; logvar: Tensor } {
    const h = this.fc1.forward(x).relu();
    const mu = this.fcMu.forward(h);
    const logvar = this.fcLogvar.forward(h);
    mu.name = "μ";
    logvar.name = "logvar";
    return { mu, logvar };
  }

  /** The logits of p(x|z); sigmoid of them is the picture. */
  decodeLogits(z: Tensor): Tensor {
    const logits = this.fc4.forward(this.fc3.forward(z).relu());
    logits.name = "logits";
    return logits;
  }

  decode(z: Tensor): Tensor {
    return this.decodeLogits(z).sigmoid();
  }

  /**
   * Encode, sample z with the reparameterization trick, decode, and compute the loss.
   * `eps` fixes the noise (tests pass it to make the loss a deterministic function of the weights).
   */
  forward(x: Tensor, options: { eps?: Tensor; generator?: Generator } = {}): VaeOutput {
    const { mu, logvar } = this.encode(x);
    const eps = options.eps ?? standardNormalLike(mu, options.generator);
    const z = reparameterize(mu, logvar, eps);
    const logits = this.decodeLogits(z);
    return { logits, mu, logvar, z, ...negativeElbo(logits, x, mu, logvar) };
  }
}
