import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randn, tensor } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { Generator } from "../../src/autograd/random.ts";
import { gaussianKl, negativeElbo } from "../../src/vae/elbo.ts";
import { BernoulliVAE } from "../../src/vae/model.ts";
import { reparameterize } from "../../src/vae/sampler.ts";
import { expectGradOk, f64, valuesArb } from "../autograd/helpers.ts";

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

describe("the negative ELBO", () => {
  it("KL(N(μ, σ²) ‖ N(0, 1)) matches the closed form ½(σ² + μ² − 1 − ln σ²) and is 0 at the prior", () => {
    const mu = [0.5, -1, 0];
    const lv = [0.2, -0.7, 0];
    const expected = mu.reduce((s, m, i) => s + 0.5 * (Math.exp(lv[i]) + m * m - 1 - lv[i]), 0);
    expect(gaussianKl(f64(mu, [1, 3]), f64(lv, [1, 3])).item()).toBeCloseTo(expected, 12);
    expect(Math.abs(gaussianKl(f64([0, 0], [1, 2]), f64([0, 0], [1, 2])).item())).toBe(0);
  });

  it("loss = BCE + KL, and its gradient in logits, μ and logvar matches finite differences", () => {
    fc.assert(
      fc.property(valuesArb(8, -3, 3), valuesArb(8, 0, 1), valuesArb(4), valuesArb(4), (l, x, m, lv) => {
        const target = f64(x, [2, 4]);
        const terms = negativeElbo(f64(l, [2, 4]), target, f64(m, [2, 2]), f64(lv, [2, 2]));
        expect(terms.loss.item()).toBeCloseTo(terms.bce.item() + terms.kl.item(), 10);
        expectGradOk(
          (a, b, c) => negativeElbo(a, target, b, c).loss,
          [f64(l, [2, 4]), f64(m, [2, 2]), f64(lv, [2, 2])],
        );
      }),
      { numRuns: 25 },
    );
  });
});

describe("BernoulliVAE", () => {
  it("has the reference architecture's parameters", () => {
    const vae = new BernoulliVAE({ inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 });
    expect(vae.namedParameters().map(([n, t]) => `${n}:${t.shape.join("×")}`)).toEqual([
      "fc1.weight:200×784",
      "fc1.bias:200",
      "fcMu.weight:10×200",
      "fcMu.bias:10",
      "fcLogvar.weight:10×200",
      "fcLogvar.bias:10",
      "fc3.weight:200×10",
      "fc3.bias:200",
      "fc4.weight:784×200",
      "fc4.bias:784",
    ]);
  });

  it("at initialisation the loss is ≈ 784·ln 2 ≈ 543 nats per image (decoder outputs ≈ ½)", () => {
    const vae = new BernoulliVAE(
      { inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 },
      { generator: new Generator(0) },
    );
    const g = new Generator(1);
    // Images with MNIST's share of ink (about 13% of pixels lit); a decoder at ½ costs ln 2 per pixel whatever x is.
    const x = tensor(
      Float32Array.from({ length: 32 * 784 }, () => (g.uniform() < 0.13 ? g.uniform() : 0)),
      [32, 784],
    );
    const out = noGrad(() => vae.forward(x, { generator: g }));
    const perImage = out.loss.item() / 32;
    expect(Math.abs(perImage - 784 * Math.LN2)).toBeLessThan(15);
    expect(out.kl.item() / 32).toBeLessThan(1);
  });

  it("the gradient of the whole loss with respect to every parameter matches finite differences (float64, ε fixed)", () => {
    const g = new Generator(7);
    const vae = new BernoulliVAE(
      { inputDim: 6, latentDim: 2, encUnits: 5, decUnits: 4 },
      { generator: g, dtype: "float64" },
    );
    const x = tensor(
      Float64Array.from({ length: 3 * 6 }, () => g.uniform()),
      [3, 6],
    );
    const eps = randn([3, 2], { dtype: "float64", generator: g });
    const lossOf = () => vae.forward(x, { eps }).loss;
    vae.zeroGrad();
    lossOf().backward();
    const h = 1e-6;
    for (const [name, p] of vae.namedParameters()) {
      const analytic = p.grad!.dataSync();
      const values = Float64Array.from(p.dataSync());
      for (let j = 0; j < values.length; j++) {
        const at = (delta: number) => {
          const shifted = Float64Array.from(values);
          shifted[j] += delta;
          noGrad(() => p.assign(tensor(shifted, p.shape)));
          return noGrad(() => lossOf().item());
        };
        const numeric = (at(h) - at(-h)) / (2 * h);
        noGrad(() => p.assign(tensor(values, p.shape)));
        expect(
          Math.abs(analytic[j] - numeric),
          `${name}[${j}]: backward ${analytic[j]}, finite differences ${numeric}`,
        ).toBeLessThan(1e-5 + 1e-4 * Math.abs(numeric));
      }
    }
  });

  it("uses the stable BCE: a saturated decoder gives the exact, finite loss", () => {
    // Decoder logits of ±1e4 whatever z is (zero weights, bias ±1e4): a pixel predicted with
    // certainty costs 0 when right and 1e4 nats when wrong; σ(±1e4) is exactly 1 or 0 in float32,
    // so a BCE computed from probabilities would give log 0 = −∞ or NaN instead.
    const vae = new BernoulliVAE(
      { inputDim: 2, latentDim: 1, encUnits: 2, decUnits: 2 },
      { generator: new Generator(0) },
    );
    noGrad(() => {
      for (const [, p] of vae.namedParameters()) p.assign(tensor(new Float32Array(p.size), p.shape));
      vae.fc4.bias!.assign(tensor([1e4, -1e4]));
    });
    const out = noGrad(() =>
      vae.forward(
        tensor([
          [1, 0],
          [0, 1],
        ]),
        { generator: new Generator(1) },
      ),
    );
    // Image 1 is predicted right (0 nats), image 2 wrong on both pixels (2·1e4 nats); KL is 0 (q is the prior).
    expect(out.bce.item()).toBe(2e4);
    expect(Math.abs(out.kl.item())).toBe(0);
    expect(out.loss.item()).toBe(2e4);
  });
});
