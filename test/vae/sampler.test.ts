/**
 * The sampler: ε is standard normal, z = μ + exp(logvar/2)·ε has the mean and variance it should
 * (within four standard errors, from a fixed seed), and its gradients reach μ and logvar.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randn, tensor } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { Generator } from "../../src/autograd/random.ts";
import { reparameterize, standardNormalLike } from "../../src/vae/sampler.ts";
import { valuesArb } from "../fixtures/arbitraries.ts";
import { expectGradOk } from "../fixtures/assertions.ts";
import { fixedVae } from "../fixtures/fixed-vae.ts";
import { f64 } from "../fixtures/tensors.ts";

/** 4×4-pixel images and 3 latents. */
const side = 4;
const pixels = side * side;
const latent = 3;

const bias = Array.from({ length: pixels }, (_, j) => Math.fround(Math.sin(j + 1) * 2));

describe("the sampler", () => {
  /** Sample mean and variance of each column of an n×d matrix. */
  function moments(values: ArrayLike<number>, n: number, d: number): { mean: number[]; variance: number[] } {
    const mean = Array.from({ length: d }, (_, j) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += values[i * d + j];
      return s / n;
    });
    const variance = mean.map((m, j) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (values[i * d + j] - m) ** 2;
      return s / (n - 1);
    });
    return { mean, variance };
  }

  it("ε is standard normal: mean 0 and variance 1 within four standard errors", () => {
    const n = 20000;
    const like = tensor(new Float64Array(n * 2), [n, 2]);
    const eps = standardNormalLike(like, new Generator(4));
    expect(eps.shape).toEqual([n, 2]);
    expect(eps.dtype).toBe("float64");
    const { mean, variance } = moments(eps.dataSync(), n, 2);
    for (let j = 0; j < 2; j++) {
      expect(Math.abs(mean[j])).toBeLessThan(4 / Math.sqrt(n));
      expect(Math.abs(variance[j] - 1)).toBeLessThan(4 * Math.sqrt(2 / (n - 1)));
    }
  });

  it("the model's z has mean μ and variance e^logvar per latent, within four standard errors", () => {
    const mu = [1.5, -0.5, 0];
    const logvar = [Math.log(4), Math.log(0.25), 0];
    const n = 20000;
    const vae = fixedVae(mu, logvar, bias);
    const x = tensor(new Float32Array(n * pixels), [n, pixels]);
    const { z } = noGrad(() => vae.forward(x, { generator: new Generator(6) }));
    const { mean, variance } = moments(z.dataSync(), n, latent);
    for (let d = 0; d < latent; d++) {
      const s2 = Math.exp(logvar[d]);
      // Standard errors: σ/√n for the mean, σ²·√(2/(n−1)) for the sample variance of a normal.
      expect(Math.abs(mean[d] - mu[d]), `latent ${d}`).toBeLessThan(4 * Math.sqrt(s2 / n));
      expect(Math.abs(variance[d] - s2), `latent ${d}`).toBeLessThan(4 * s2 * Math.sqrt(2 / (n - 1)));
    }
  });
});

describe("reparameterize", () => {
  it("z = μ + exp(logvar/2)·ε, and gradients reach μ and logvar (property)", () => {
    fc.assert(
      fc.property(valuesArb(6), valuesArb(6), valuesArb(6), (m, lv, e) => {
        const [mu, logvar, eps] = [f64(m, [2, 3]), f64(lv, [2, 3]), f64(e, [2, 3])];
        const z = reparameterize(mu, logvar, eps).dataSync();
        m.forEach((mi, i) => {
          expect(z[i]).toBeCloseTo(mi + Math.exp(lv[i] / 2) * e[i], 12);
        });
        expectGradOk((a, b) => reparameterize(a, b, eps), [mu, logvar]);
      }),
      { numRuns: 30 },
    );
  });

  it("draws z with mean μ and standard deviation exp(logvar/2)", () => {
    const n = 20000;
    const mu = tensor(
      Float64Array.from({ length: n }, () => 1.5),
      [n],
    );
    const logvar = tensor(
      Float64Array.from({ length: n }, () => Math.log(4)),
      [n],
    );
    const z = reparameterize(
      mu,
      logvar,
      randn([n], { dtype: "float64", generator: new Generator(5) }),
    ).dataSync();
    const mean = Array.from(z).reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(Array.from(z).reduce((s, v) => s + (v - mean) ** 2, 0) / n);
    // Standard errors: 2/√n ≈ 0.014 for the mean, ≈ 2/√(2n) ≈ 0.01 for the sd; allow 4 of them.
    expect(Math.abs(mean - 1.5)).toBeLessThan(4 * (2 / Math.sqrt(n)));
    expect(Math.abs(sd - 2)).toBeLessThan(4 * (2 / Math.sqrt(2 * n)));
  });

  it("names the shapes when they differ", () => {
    expect(() => reparameterize(tensor([1, 2]), tensor([1, 2]), tensor([1]))).toThrow(
      /reparameterize.*\[2\].*\[1\]/,
    );
  });
});
