/**
 * Chapter 6: the VAE. Run: npx tsx examples/06-vae.ts
 *
 * The ELBO and its two terms; the KL in closed form against a Monte Carlo estimate; the
 * reparameterization trick's gradient checked numerically; the variance of the reparameterized
 * gradient against the score-function (REINFORCE) estimator on the same problem; then a short
 * training run and its evaluation (test −ELBO and the importance-weighted bound).
 * Flags: --limit N (training images, default 2000), --epochs N (default 2).
 */
import { parseArgs } from "node:util";
import { Generator, manualSeed, noGrad, randn, type Tensor, tensor } from "../src/index.ts";
import { Adam } from "../src/nn/optim/adam.ts";
import { loadMnist } from "../src/train-mnist/data.ts";
import { gaussianKl } from "../src/vae/elbo.ts";
import { evaluateElbo, evaluateIwae } from "../src/vae/evaluate.ts";
import { BernoulliVAE } from "../src/vae/model.ts";
import { reparameterize } from "../src/vae/sampler.ts";
import { trainEpoch } from "../src/vae/train.ts";
import { drawGraph } from "./pictures.ts";

const { values: flags } = parseArgs({
  options: { limit: { type: "string", default: "2000" }, epochs: { type: "string", default: "2" } },
});
const f = (v: number, digits = 2) => v.toFixed(digits);

// --- 1. The ELBO's two terms, on an untrained model and 128 test images.
const generator = new Generator(0);
const model = new BernoulliVAE({ inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 }, { generator });
const test = loadMnist("test", { limit: 1000 });
const batch = tensor(test.images.subarray(0, 128 * 784), [128, 784]);
const out = model.forward(batch, { generator });
console.log("1. −ELBO per image of an untrained model = reconstruction (BCE) + KL");
console.log(
  `   BCE ${f(out.bce.item() / 128)} (784·ln 2 = ${f(784 * Math.LN2)} if the decoder said 0.5 everywhere)  KL ${f(out.kl.item() / 128, 4)}  −ELBO ${f(out.loss.item() / 128)}`,
);

// --- 2. KL(q ‖ p) for q = N(μ, σ²), p = N(0, I): closed form against a Monte Carlo average.
const mu = tensor([0.5, -1, 2], { dtype: "float64" });
const logvar = tensor([0.2, -0.6, 1.0], { dtype: "float64" });
const closed = gaussianKl(mu, logvar).item();
manualSeed(1);
const n = 100_000;
const eps = randn([n, 3], { dtype: "float64" });
const z = reparameterize(mu.broadcastTo([n, 3]), logvar.broadcastTo([n, 3]), eps);
// log q(z) − log p(z) per sample; the ½·log 2π terms cancel.
const logRatio = Array.from(z.mul(z).sub(eps.mul(eps)).sub(logvar).sum(1).mul(0.5).dataSync());
const mcMean = logRatio.reduce((s, v) => s + v, 0) / n;
const mcSe = Math.sqrt(logRatio.reduce((s, v) => s + (v - mcMean) ** 2, 0) / (n - 1) / n);
console.log("2. KL(N(μ, σ²) ‖ N(0, I)) for μ = [0.5, −1, 2], logvar = [0.2, −0.6, 1]");
console.log(
  `   closed form ${f(closed, 4)}   Monte Carlo (${n} samples) ${f(mcMean, 4)} ± ${f(mcSe, 4)}   difference ${f(Math.abs(mcMean - closed) / mcSe, 1)} standard errors`,
);

// --- 3. The reparameterization gradient: z = μ + exp(logvar/2)·ε.
const m = tensor(0.3, { dtype: "float64", requiresGrad: true });
const lv = tensor(-0.4, { dtype: "float64", requiresGrad: true });
const e = tensor(1.7, { dtype: "float64" });
reparameterize(m, lv, e).backward();
const h = 1e-6;
const zAt = (muV: number, lvV: number) => muV + Math.exp(lvV / 2) * 1.7;
const numericMu = (zAt(0.3 + h, -0.4) - zAt(0.3 - h, -0.4)) / (2 * h);
const numericLv = (zAt(0.3, -0.4 + h) - zAt(0.3, -0.4 - h)) / (2 * h);
console.log("3. ∂z/∂μ and ∂z/∂logvar at μ = 0.3, logvar = −0.4, ε = 1.7");
console.log(
  `   ∂z/∂μ:      backward ${f(m.grad!.item(), 6)}  finite difference ${f(numericMu, 6)}  (exactly 1)`,
);
console.log(
  `   ∂z/∂logvar: backward ${f(lv.grad!.item(), 6)}  finite difference ${f(numericLv, 6)}  (½σε = ${f(0.5 * Math.exp(-0.2) * 1.7, 6)})`,
);

// --- 4. Two estimators of ∇μ E_q[log p(x|z)] for one image, with S samples each.
const S = 2000;
const x = tensor(test.images.subarray(0, 784), [1, 784]);
const q = noGrad(() => model.encode(x));
const sigma = noGrad(() => q.logvar.mul(0.5).exp());
const epsS = randn([S, 10]);
const xS = x.broadcastTo([S, 784]);
const logLikelihood = (zs: Tensor) => {
  const logits = model.decodeLogits(zs);
  return logits.softplus().sub(xS.mul(logits)).sum(1).neg(); // log p(x|z) per sample, [S]
};
// Reparameterized: one copy of μ per sample, so backward gives each sample's gradient in a row.
const muS = noGrad(() => q.mu.broadcastTo([S, 10]).mul(1));
muS.requiresGrad = true;
logLikelihood(muS.add(sigma.mul(epsS)))
  .sum()
  .backward();
const reparam = muS.grad!.dataSync();
// Score function: log p(x|z) · ∇μ log q(z) = log p(x|z) · ε/σ, with z sampled and held fixed.
const { score, baselined } = noGrad(() => {
  const fz = logLikelihood(q.mu.add(sigma.mul(epsS))).reshape([S, 1]);
  const dlogq = epsS.div(sigma);
  // A baseline b (here the mean of f over the samples) leaves the mean unchanged, since E[∇ log q] = 0.
  const b = fz.mean().item();
  return { score: fz.mul(dlogq).dataSync(), baselined: fz.sub(b).mul(dlogq).dataSync() };
});
const stats = (g: ArrayLike<number>) => {
  // Mean gradient of coordinate 0 with its standard error, and the variance summed over the 10 coordinates.
  let total = 0;
  const mean0 = Array.from({ length: S }, (_, i) => g[i * 10]).reduce((s, v) => s + v, 0) / S;
  let var0 = 0;
  for (let j = 0; j < 10; j++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < S; i++) {
      s += g[i * 10 + j];
      s2 += g[i * 10 + j] ** 2;
    }
    const variance = (s2 - (s * s) / S) / (S - 1);
    total += variance;
    if (j === 0) var0 = variance;
  }
  return { mean0, se0: Math.sqrt(var0 / S), total };
};
const [r, sf, sb] = [reparam, score, baselined].map(stats);
console.log(`4. ∇μ E_q[log p(x|z)] for one test image, ${S} samples per estimator`);
console.log(`   estimator        ∂/∂μ₀ (± s.e.)      variance per sample (sum over 10 coordinates)`);
console.log(`   reparameterized  ${f(r.mean0, 3)} ± ${f(r.se0, 3)}   ${r.total.toPrecision(3)}`);
console.log(`   score function   ${f(sf.mean0, 3)} ± ${f(sf.se0, 3)}   ${sf.total.toPrecision(3)}`);
console.log(`   score, baseline  ${f(sb.mean0, 3)} ± ${f(sb.se0, 3)}   ${sb.total.toPrecision(3)}`);
console.log(
  `   the score function needs ${Math.round(sf.total / r.total)}× the samples (${Math.round(sb.total / r.total)}× with the baseline) for the reparameterized estimate's precision`,
);

// --- 5. Train briefly (the tutorial's full run: npm run train:mnist) and evaluate.
const limit = Number(flags.limit);
const epochs = Number(flags.epochs);
const train = loadMnist("train", { limit });
const optimizer = new Adam(model.parameters(), { lr: 0.01 });
console.log(`5. training on ${train.count} images, batch 128, Adam lr 0.01`);
for (let epoch = 1; epoch <= epochs; epoch++) {
  const result = await trainEpoch(model, optimizer, train, { epoch, batchSize: 128, generator });
  console.log(
    `   epoch ${epoch}/${epochs}  −ELBO per image ${f(result.loss)}  (BCE ${f(result.bce)}, KL ${f(result.kl)})`,
  );
}
const elbo = await evaluateElbo(model, test, { generator });
const iwae = await evaluateIwae(model, test, { k: 50, images: 200, generator });
const iwae1 = await evaluateIwae(model, test, { k: 1, images: 200, generator });
console.log(`   test −ELBO ${f(elbo.loss)} on ${elbo.images} images (BCE ${f(elbo.bce)}, KL ${f(elbo.kl)})`);
console.log(
  `   IWAE log p(x) ≥ ${f(iwae.logLikelihood)} ± ${f(iwae.standardError)} (k = 50, ${iwae.images} images);  k = 1 gives ${f(iwae1.logLikelihood)} ± ${f(iwae1.standardError)}, the ELBO itself`,
);

// The graph of a tiny VAE (4 pixels, 2 latents, 3 hidden units, 2 images), for the chapter's picture.
const tiny = new BernoulliVAE(
  { inputDim: 4, latentDim: 2, encUnits: 3, decUnits: 3 },
  { generator: new Generator(2) },
);
for (const [name, parameter] of tiny.namedParameters()) parameter.name = name; // "fc1.weight", …
const tinyOut = tiny.forward(
  tensor([
    [0, 1, 1, 0],
    [1, 0.5, 0, 1],
  ]),
  { generator: new Generator(3) },
);
tinyOut.loss.backward();
await drawGraph("06-tiny-vae.svg", tinyOut.loss);
