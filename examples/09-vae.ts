/**
 * Chapter 9: the VAE. Run: npx tsx examples/09-vae.ts
 *
 * The ELBO and its two terms; the KL in closed form against a Monte Carlo estimate; the
 * reparameterization trick's gradient checked numerically; the variance of the reparameterized
 * gradient against the score-function (REINFORCE) estimator on the same problem; then a short
 * training run and its evaluation (test −ELBO and the importance-weighted bound).
 * The cells below (each starts with a `// %%` line) are the chapter's code blocks, in order.
 */
// %%
import {
  Adam,
  BernoulliVAE,
  evaluateElbo,
  evaluateIwae,
  Generator,
  gaussianKl,
  manualSeed,
  noGrad,
  randn,
  reparameterize,
  type Tensor,
  tensor,
  trainEpoch,
} from "../src/index.ts";
import { loadMnist } from "../src/node.ts";
import { drawGraph } from "./pictures.ts";

const f = (v: number, digits = 2) => v.toFixed(digits);

// The ELBO's two terms, on an untrained model and 128 test images.
const generator = new Generator(0);
const model = new BernoulliVAE({ inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 }, { generator });
const test = loadMnist("test", { limit: 1000 });
const batch = tensor(test.images.subarray(0, 128 * 784), [128, 784]);
const out = model.forward(batch, { generator });
console.log("1. −ELBO per image of an untrained model = reconstruction (BCE) + KL");
console.log(
  `   BCE ${f(out.bce.item() / 128)} (784·ln 2 = ${f(784 * Math.LN2)} if the decoder said 0.5 everywhere)  KL ${f(out.kl.item() / 128, 4)}  −ELBO ${f(out.loss.item() / 128)}`,
);
// %%
// KL(q ‖ p) for q = N(μ, σ²), p = N(0, I): closed form against a Monte Carlo average.
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
// %%
// The reparameterization gradient: z = μ + exp(logvar/2)·ε.
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
// %%
// Two estimators of ∇μ E_q[log p(x|z)] for one image, with S samples each.
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
  // A baseline b leaves the mean unchanged when it does not depend on the sample it multiplies,
  // since E[∇ log q] = 0: for sample i, the mean of f over the other S − 1 samples (leave one out).
  const b = fz
    .sum()
    .sub(fz)
    .div(S - 1);
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
// %%
// Train briefly (the tutorial's full run: npm run train:mnist) and evaluate.
const epochs = 2;
const train = loadMnist("train", { limit: 2000 });
const optimizer = new Adam(model.parameters(), { lr: 0.01 });
console.log(`5. training on ${train.count} images, batch 128, Adam lr 0.01`);
for (let epoch = 1; epoch <= epochs; epoch++) {
  const result = await trainEpoch(model, optimizer, train, { epoch, batchSize: 128, generator });
  console.log(
    `   epoch ${epoch}/${epochs}  −ELBO per image ${f(result.loss)}  (BCE ${f(result.bce)}, KL ${f(result.kl)})`,
  );
}
// %%
// The test −ELBO of the trained model on the 1000 test images.
const elbo = await evaluateElbo(model, test, { generator });
// The test −ELBO sums 1000 × 784 float32 terms per batch: its last printed digit is rounding.
console.log(
  `   test −ELBO ${f(elbo.loss, 1)} on ${elbo.images} images (BCE ${f(elbo.bce, 1)}, KL ${f(elbo.kl)})`,
);
// %%
// The importance-weighted bound on the first 200 test images, with k = 50 and k = 1 samples.
const first200 = loadMnist("test", { limit: 200 });
const elbo200 = await evaluateElbo(model, first200, { generator });
const iwae = await evaluateIwae(model, first200, { k: 50, images: 200, generator });
const iwae1 = await evaluateIwae(model, first200, { k: 1, images: 200, generator });
console.log(`   on the first ${iwae.images} test images: ELBO ${f(-elbo200.loss)}`);
console.log(
  `   IWAE k = 1:  log p(x) ≥ ${f(iwae1.logLikelihood)} ± ${f(iwae1.standardError)} (one sample: the ELBO itself)`,
);
console.log(`   IWAE k = 50: log p(x) ≥ ${f(iwae.logLikelihood)} ± ${f(iwae.standardError)}`);
// %%
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
await drawGraph("09-tiny-vae.svg", tinyOut.loss);
