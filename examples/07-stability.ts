/**
 * Chapter 7: stability and gradient flow. Run: npx tsx examples/07-stability.ts
 *
 * Where float32 breaks a gradient (sigmoid then BCE at logit 20, a naive log-sum-exp at 1000) and
 * how the stable forms avoid it; why logsumexp's detached max-shift is exact; softmax's Jacobian;
 * then how initialization decides whether signals and gradients survive twenty layers.
 * The cells below (each starts with a `// %%` line) are the chapter's code blocks, in order.
 */
// %%
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  Generator,
  jacrev,
  rand,
  randn,
  type Tensor,
  tensor,
} from "../src/index.ts";

// A confident, wrong prediction: logit 20 (σ = 1 − 2e-9) for a pixel whose target is 0, in float32.
const target = tensor([0]);
const viaSigmoid = tensor([20], { requiresGrad: true });
const lossA = binaryCrossEntropy(viaSigmoid.sigmoid(), target);
lossA.backward();
const viaLogits = tensor([20], { requiresGrad: true });
const lossB = binaryCrossEntropyWithLogits(viaLogits, target);
lossB.backward();
console.log(`sigmoid(20) in float32 = ${viaSigmoid.sigmoid().item()}`);
console.log(`sigmoid then BCE:    loss ${lossA.item()}  d loss/d logit ${viaSigmoid.grad!.item()}`);
console.log(`BCE with logits:     loss ${lossB.item()}  d loss/d logit ${viaLogits.grad!.item()}`);
console.log(
  `exact: loss softplus(20) = ${Math.log1p(Math.exp(20)).toFixed(6)}, gradient σ(20) − 0 = ${(1 / (1 + Math.exp(-20))).toFixed(9)}`,
);
// %%
// log Σ exp(x) at x = [1000, 1000]: exp(1000) overflows float32 (and float64).
const naiveX = tensor([1000, 1000], { requiresGrad: true });
const naive = naiveX.exp().sum().log();
naive.backward();
const stableX = tensor([1000, 1000], { requiresGrad: true });
const stable = stableX.logsumexp(0);
stable.backward();
const show = (t: Tensor) => `[${Array.from(t.dataSync(), (v) => +v.toFixed(4)).join(", ")}]`;
console.log(`naive log(sum(exp(x))): ${naive.item()}, gradient ${show(naiveX.grad!)}`);
console.log(`logsumexp(x):           ${stable.item().toFixed(2)}, gradient ${show(stableX.grad!)}`);
// %%
// The shift m = max(x): lse(x) = m + log Σ exp(x − m) for any m. Its derivative with respect to
// m is 1 − Σ softmax(x − m) = 0, so treating m as a constant (detached) loses nothing.
const x = tensor([0.5, 2, -1, 2], { dtype: "float64", requiresGrad: true });
const m = tensor(3.7, { dtype: "float64", requiresGrad: true }); // any shift, as a variable
const shifted = m.add(x.sub(m).exp().sum().log());
shifted.backward();
console.log(
  `m + log Σ exp(x − m) at m = 3.7: ${shifted.item().toFixed(6)} = logsumexp ${x.logsumexp(0).item().toFixed(6)}`,
);
console.log(
  `  |d/dm| = ${Math.abs(m.grad!.item()).toFixed(6)}; d/dx = ${show(x.grad!)} = softmax(x) ${show(x.softmax(0))}`,
);
// %%
// softmax's Jacobian: ∂sᵢ/∂xⱼ = sᵢ([i = j] − sⱼ), that is diag(s) − s·sᵀ.
const z = tensor([1, 2, 0.5], { dtype: "float64" });
const s = Array.from(z.softmax(0).dataSync());
const J = jacrev((t: Tensor) => t.softmax(0))(z);
const byHand = s.flatMap((si, i) => s.map((sj, j) => (i === j ? si : 0) - si * sj));
const rows = J.toArray() as number[][];
console.log("jacrev(softmax) at [1, 2, 0.5]:");
for (const row of rows) console.log(`  [${row.map((v) => v.toFixed(4).padStart(7)).join(", ")}]`);
const gap = Math.max(...(J.reshape([9]).toArray() as number[]).map((v, k) => Math.abs(v - byHand[k])));
const rowSums = rows.map((r) => Math.abs(r.reduce((a, b) => a + b, 0)));
console.log(
  `equals diag(s) − s·sᵀ to 1e-15: ${gap < 1e-15}; every row sums to 0 (to 1e-15): ${rowSums.every((r) => r < 1e-15)}`,
);
// %%
// Initialization: the root mean square of the activations after 1, 5, 10 and 20 relu layers of
// width 256, for PyTorch's default U(±1/√n) (variance 1/(3n)) and He's N(0, 2/n).
const width = 256;
const rmsThroughDepth = (draw: (g: Generator) => Tensor) => {
  const g = new Generator(0);
  let h = randn([256, width], { generator: g }); // 256 inputs of unit variance
  const seen: string[] = [];
  for (let layer = 1; layer <= 20; layer++) {
    h = h.matmul(draw(g)).relu();
    if ([1, 5, 10, 20].includes(layer)) seen.push(Math.sqrt(h.mul(h).mean().item()).toExponential(2));
  }
  return seen.join("  ");
};
const bound = 1 / Math.sqrt(width);
console.log("rms of the activations after layer   1         5         10        20");
console.log(
  `U(±1/√n), variance 1/(3n):          ${rmsThroughDepth((g) => rand([width, width], { low: -bound, high: bound, generator: g }))}`,
);
console.log(
  `He, N(0, 2/n):                      ${rmsThroughDepth((g) => randn([width, width], { std: Math.sqrt(2 / width), generator: g }))}`,
);
// %%
// Gradient flow: ‖∂L/∂Wₗ‖ for each layer of a 20-layer network, L the mean square of its output.
const gradientNorms = (activation: (t: Tensor) => Tensor, std: number) => {
  const g = new Generator(1);
  const weights = Array.from({ length: 20 }, () =>
    randn([64, 64], { std, generator: g, requiresGrad: true }),
  );
  let h = randn([32, 64], { generator: g });
  for (const W of weights) h = activation(h.matmul(W));
  h.mul(h).mean().backward();
  const norm = (t: Tensor) => Math.sqrt(t.mul(t).sum().item());
  return [1, 5, 10, 15, 20]
    .map((l) =>
      norm(weights[l - 1].grad!)
        .toExponential(1)
        .padStart(8),
    )
    .join("");
};
const he = Math.sqrt(2 / 64);
console.log("‖∂L/∂Wₗ‖ at layer                      1       5      10      15      20");
console.log(`sigmoid, std 1/√n (vanishing):  ${gradientNorms((t) => t.sigmoid(), 1 / 8)}`);
console.log(`relu, He std √(2/n) (steady):   ${gradientNorms((t) => t.relu(), he)}`);
console.log(`relu, 1.5 × He std (exploding): ${gradientNorms((t) => t.relu(), 1.5 * he)}`);
