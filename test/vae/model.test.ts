/**
 * BernoulliVAE: the reference architecture's parameters, ≈ 784·ln 2 nats per image at
 * initialisation, the whole loss's gradient against finite differences, and the stable BCE.
 */
import { describe, expect, it } from "vitest";
import { randn, tensor } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { Generator } from "../../src/autograd/random.ts";
import { BernoulliVAE } from "../../src/vae/model.ts";

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
