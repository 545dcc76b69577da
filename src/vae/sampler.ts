/**
 * The reparameterization trick (Kingma & Welling 2014, §2.4), the heart of the VAE.
 *
 * Sampling z ~ N(μ, σ²) directly would be a dead end for gradients: the sample does not depend
 * differentiably on μ and σ. Drawing the randomness first, ε ~ N(0, I), and then computing
 *   z = μ + σ ⊙ ε,   σ = exp(logvar / 2)
 * gives the same distribution for z, but now z is an ordinary function of μ and logvar, so
 *   ∂z/∂μ = 1,   ∂z/∂logvar = ½ σ ⊙ ε
 * and backward() carries the loss's gradient into the encoder.
 */
import { randn } from "../autograd/create.ts";
import type { Generator } from "../autograd/random.ts";
import { shapeOf, type Tensor } from "../autograd/tensor.ts";
import { sameShape } from "../kernels/shape.ts";

/** ε ~ N(0, I) of `like`'s shape and dtype, from the seeded generator. */
export function standardNormalLike(like: Tensor, generator?: Generator): Tensor {
  return randn(like.shape, { dtype: like.dtype, generator });
}

/** z = μ + exp(logvar / 2) ⊙ ε; the gradient reaches mu and logvar through it. */
export function reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor): Tensor {
  if (!sameShape(mu.shape, logvar.shape) || !sameShape(mu.shape, eps.shape)) {
    throw new Error(
      `reparameterize: mu ${shapeOf(mu)}, logvar ${shapeOf(logvar)} and eps ${shapeOf(eps)} must have one shape`,
    );
  }
  const sigma = logvar.mul(0.5).exp();
  sigma.name = "σ";
  const z = mu.add(sigma.mul(eps));
  z.name = "z";
  return z;
}
