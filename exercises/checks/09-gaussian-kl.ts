import fc from "fast-check";
import { Generator, randn, gaussianKl as reference, type Tensor } from "../../src/index.ts";
import { f64, shapeArb, sizeOf, valuesArb } from "./arbitraries.ts";
import { expectClose, expectShape, expectTensor, exported, holds } from "./assertions.ts";
import { type Exercise, Failure } from "./verdict.ts";

type Kl = (mu: Tensor, logvar: Tensor) => Tensor;
type KlGradients = (mu: Tensor, logvar: Tensor) => { mu: Tensor; logvar: Tensor };

const pairArb = shapeArb(1, 2).chain((shape) =>
  fc
    .tuple(valuesArb(sizeOf(shape), -2, 2), valuesArb(sizeOf(shape), -2, 2))
    .map(([m, l]) => [f64(m, shape), f64(l, shape)] as const),
);

export const exercise: Exercise = {
  id: "09-gaussian-kl",
  chapter: 9,
  title: "The Gaussian KL term and its gradient",
  teaches: "the VAE's regularizer in closed form, and that its gradient pulls μ to 0 and σ to 1",
  checks: [
    {
      name: "KL(N(μ, σ²) ‖ N(0, 1)) equals elbo's gaussianKl on random μ, logvar",
      hint: "−½ Σ (1 + logvar − μ² − exp(logvar)), summed over every element to shape []",
      run: (student) => {
        const kl = exported<Kl>(student, "gaussianKl");
        holds(pairArb, ([mu, logvar]) => {
          const out = expectTensor(kl(mu, logvar), "gaussianKl(mu, logvar)");
          expectShape(out, [], "gaussianKl(mu, logvar)");
          expectClose(out.item(), reference(mu, logvar).item(), "the KL", { atol: 1e-12, rtol: 1e-12 });
        });
        expectClose(kl(f64([0, 0], [2]), f64([0, 0], [2])).item(), 0, "the KL of the prior from itself");
      },
    },
    {
      name: "agrees with a Monte Carlo estimate E_q[log q(z) − log p(z)]",
      hint: "the closed form is the expectation of log q − log p under q; a wrong constant shows up here",
      run: (student) => {
        const kl = exported<Kl>(student, "gaussianKl");
        const mu = f64([0.5, -1, 2], [3]);
        const logvar = f64([0.2, -0.6, 1], [3]);
        const n = 20_000;
        const eps = randn([n, 3], { dtype: "float64", generator: new Generator(9) });
        const z = mu.add(logvar.mul(0.5).exp().mul(eps));
        const samples = Array.from(z.mul(z).sub(eps.mul(eps)).sub(logvar).sum(1).mul(0.5).dataSync());
        const mean = samples.reduce((a, b) => a + b, 0) / n;
        const se = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) / n);
        const closed = kl(mu, logvar).item();
        if (Math.abs(closed - mean) > 4 * se) {
          throw new Failure(
            `closed form ${closed.toFixed(4)}, Monte Carlo ${mean.toFixed(4)} ± ${se.toFixed(4)}: more than 4 standard errors apart`,
          );
        }
        return `closed form ${closed.toFixed(4)}, Monte Carlo ${mean.toFixed(4)} ± ${se.toFixed(4)}`;
      },
    },
    {
      name: "the hand-written gradients equal autodiff's",
      hint: "∂/∂μ of −½(−μ²) is μ; ∂/∂logvar of −½(1 + logvar − e^logvar) is ½(e^logvar − 1)",
      run: (student) => {
        const gradients = exported<KlGradients>(student, "gaussianKlGradients");
        holds(pairArb, ([mu, logvar]) => {
          const [m, l] = [mu.detach(), logvar.detach()];
          m.requiresGrad = true;
          l.requiresGrad = true;
          reference(m, l).backward();
          const got = gradients(mu, logvar);
          if (got === null || typeof got !== "object")
            throw new Failure("expected an object { mu, logvar } of tensors");
          expectShape(expectTensor(got.mu, "the gradient for mu"), mu.shape, "the gradient for mu");
          expectShape(
            expectTensor(got.logvar, "the gradient for logvar"),
            logvar.shape,
            "the gradient for logvar",
          );
          expectClose(got.mu.dataSync(), m.grad!.dataSync(), "∂KL/∂μ", { atol: 1e-12, rtol: 1e-12 });
          expectClose(got.logvar.dataSync(), l.grad!.dataSync(), "∂KL/∂logvar", { atol: 1e-12, rtol: 1e-12 });
        });
      },
    },
  ],
};
