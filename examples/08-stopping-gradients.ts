/**
 * Chapter 8: stopping gradients, and the memory of reverse mode.
 * Run: npx tsx examples/08-stopping-gradients.ts
 *
 * detach and noGrad; the straight-through estimator for an op whose derivative is zero almost
 * everywhere; what a graph keeps alive until backward, and checkpointing, which keeps less and
 * computes again.
 * The cells below (each starts with a `// %%` line) are the chapter's code blocks, in order.
 */
// %%
import {
  applyOp,
  Generator,
  noGrad,
  randn,
  type Tensor,
  tensor,
  topologicalOrder,
  vjp,
} from "../src/index.ts";

// detach: the same values, cut off from the graph. In f(x) = x · detach(x), the second factor is a
// constant to backward, so df/dx = detach(x) = x, not 2x.
const x = tensor([3], { requiresGrad: true });
x.mul(x).sum().backward();
console.log(`d(x·x)/dx at 3:         ${x.grad!.item()}`);
x.zeroGrad();
x.mul(x.detach()).sum().backward();
console.log(`d(x·detach(x))/dx at 3: ${x.grad!.item()}`);
// %%
// noGrad: nothing inside it is recorded. Its results are plain values, and backward refuses them.
const evaluated = noGrad(() => x.mul(x));
console.log(
  `made under noGrad: requiresGrad ${evaluated.requiresGrad}, op "${evaluated.op}", inputs ${evaluated.inputs.length}`,
);
try {
  evaluated.sum().backward();
} catch (e) {
  console.log((e as Error).message);
}
// %%
// Rounding, as an op: its true derivative is 0 wherever it is defined.
const round = (t: Tensor) =>
  applyOp(
    "round",
    [t],
    () => tensor(Float32Array.from(t.dataSync(), Math.round), [...t.shape]),
    (g) => [() => g.mul(0)], // d round(x)/dx = 0 (almost everywhere)
  );
// The straight-through estimator: round in the forward pass, the identity in the backward pass.
const roundStraightThrough = (t: Tensor) => t.add(round(t).sub(t).detach());

const w = tensor([0.4, 1.7, -2.2], { requiresGrad: true });
const q = roundStraightThrough(w);
q.mul(tensor([1, 2, 3]))
  .sum()
  .backward();
console.log(
  `round(w) = ${JSON.stringify(q.toArray())}; through the estimator dL/dw = ${JSON.stringify(w.grad!.toArray())}`,
);
// %%
// Fitting quantized weights: y = x·round(w), from data made with integer weights [2, -1, 3].
const fitQuantized = (quantize: (t: Tensor) => Tensor, label: string) => {
  const g = new Generator(0);
  const xs = randn([64, 3], { generator: g });
  const ys = xs.matmul(tensor([[2], [-1], [3]]));
  const weights = tensor([[0.3], [0.2], [-0.4]], { requiresGrad: true });
  const losses: string[] = [];
  for (let step = 0; step <= 60; step++) {
    const loss = xs.matmul(quantize(weights)).sub(ys).pow(2).mean();
    weights.zeroGrad();
    loss.backward();
    noGrad(() => weights.assign(weights.sub(weights.grad!.mul(0.05))));
    if (step % 20 === 0) losses.push(loss.item().toFixed(3));
  }
  console.log(
    `${label} loss at steps 0, 20, 40, 60: ${losses.join(", ")}; round(w) = ${JSON.stringify(round(weights).reshape([3]).toArray())}`,
  );
};
fitQuantized(round, "true derivative (0):  ");
fitQuantized(roundStraightThrough, "straight-through:     ");
// %%
// The memory of reverse mode: every intermediate a graph holds stays alive until backward has
// passed it. A stack of `depth` layers of width 256 on a batch of 64:
const layers = (depth: number) => {
  const g = new Generator(1);
  return Array.from({ length: depth }, () =>
    randn([256, 256], { std: Math.sqrt(2 / 256), generator: g, requiresGrad: true }),
  );
};
const batch = randn([64, 256], { generator: new Generator(2) });
const forwardStack = (h: Tensor, ws: readonly Tensor[]) => ws.reduce((a, W) => a.matmul(W).relu(), h);
/** Floats held by the intermediates of the graph behind `root` (parameters not counted). */
const saved = (root: Tensor) =>
  topologicalOrder(root)
    .filter((t) => !t.isLeaf)
    .reduce((n, t) => n + t.size, 0);
for (const depth of [5, 10, 20]) {
  const loss = forwardStack(batch, layers(depth)).mean();
  console.log(
    `depth ${String(depth).padStart(2)}: the graph keeps ${String(saved(loss)).padStart(7)} floats (${((saved(loss) * 4) / 2 ** 20).toFixed(2)} MiB) for backward`,
  );
}
// %%
// Checkpointing: run a segment without keeping its intermediates, and run it again in backward.
function checkpoint(segment: (...inputs: Tensor[]) => Tensor, inputs: Tensor[]): Tensor {
  return applyOp(
    "checkpoint",
    inputs,
    () => segment(...inputs), // forward: under noGrad (applyOp's rule), so nothing is kept
    (g) => {
      let pulled: Tensor[] | undefined; // the recomputation, shared by all inputs' thunks
      const pull = () => (pulled ??= vjp(segment)(...inputs).pullback(g));
      return inputs.map((_, i) => () => pull()[i]); // d segment/d inputᵢ, by recomputing it
    },
  );
}
const ws = layers(20);
const plain = forwardStack(batch, ws).mean();
plain.backward();
const plainGrads = ws.map((W) => W.grad!);
for (const W of ws) W.zeroGrad();
// Four segments of five layers: only their boundaries are kept.
let h = batch;
for (let s = 0; s < 20; s += 5) {
  const part = ws.slice(s, s + 5);
  h = checkpoint((a, ...segmentWeights) => forwardStack(a, segmentWeights), [h, ...part]);
}
const checkpointed = h.mean();
console.log(`20 layers in 4 checkpointed segments: the graph keeps ${saved(checkpointed)} floats`);
checkpointed.backward();
const worst = Math.max(...ws.map((W, i) => W.grad!.sub(plainGrads[i]).abs().max().item()));
console.log(
  `loss ${checkpointed.item().toFixed(6)} = ${plain.item().toFixed(6)}; largest gradient difference ${worst}`,
);
