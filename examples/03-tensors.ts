/**
 * Chapter 3: tensors. Run: npx tsx examples/03-tensors.ts
 *
 * Broadcasting and why a broadcast input's gradient is summed back; matmul's two VJPs, checked
 * against the formulas; reductions and where their gradients go.
 * The cells below (each starts with a `// %%` line) are the chapter's code blocks, in order.
 */
// %%
import { gradcheck, manualSeed, randn, type Tensor, tensor } from "../src/index.ts";

const show = (t: Tensor | null) => JSON.stringify(t?.toArray());

// Broadcasting: a bias of shape [3] added to every row of a [2, 3] batch.
const x = tensor(
  [
    [1, 2, 3],
    [4, 5, 6],
  ],
  { requiresGrad: true },
);
const bias = tensor([10, 20, 30], { requiresGrad: true });
const y = x.add(bias); // bias is read as [[10, 20, 30], [10, 20, 30]]
console.log(`x + bias = ${show(y)}`);
// Weight each output so the gradient is not all ones: L = Σ y ⊙ w.
const w = tensor([
  [1, 2, 3],
  [0.5, 0.5, 0.5],
]);
y.mul(w).sum().backward();
console.log(`dL/dx    = ${show(x.grad)} (one gradient per element: w itself)`);
console.log(`dL/dbias = ${show(bias.grad)} (each bias element was used in both rows: w summed over rows)`);
// %%
// Matmul: C = A·B, with G = dL/dC, gives dA = G·Bᵀ and dB = Aᵀ·G.
manualSeed(3);
const A = randn([2, 3], { dtype: "float64", requiresGrad: true });
const B = randn([3, 4], { dtype: "float64", requiresGrad: true });
const G = randn([2, 4], { dtype: "float64" });
A.matmul(B).backward(G); // backward with a given output gradient: the vector-Jacobian product
// The formulas written out as loops: L = Σᵢⱼ Gᵢⱼ Cᵢⱼ and Cᵢⱼ = Σₖ Aᵢₖ Bₖⱼ, so
// ∂L/∂Aᵢₖ = Σⱼ Gᵢⱼ Bₖⱼ  (that is G·Bᵀ)   and   ∂L/∂Bₖⱼ = Σᵢ Gᵢⱼ Aᵢₖ  (that is Aᵀ·G).
const [a, b, g] = [A, B, G].map((t) => t.toArray() as number[][]);
let worstA = 0;
let worstB = 0;
for (let i = 0; i < 2; i++)
  for (let k = 0; k < 3; k++) {
    let s = 0;
    for (let j = 0; j < 4; j++) s += g[i][j] * b[k][j];
    worstA = Math.max(worstA, Math.abs(s - (A.grad!.toArray() as number[][])[i][k]));
  }
for (let k = 0; k < 3; k++)
  for (let j = 0; j < 4; j++) {
    let s = 0;
    for (let i = 0; i < 2; i++) s += g[i][j] * a[i][k];
    worstB = Math.max(worstB, Math.abs(s - (B.grad!.toArray() as number[][])[k][j]));
  }
console.log(`matmul [2, 3]·[3, 4]: |A.grad − G·Bᵀ| ≤ ${worstA}, |B.grad − Aᵀ·G| ≤ ${worstB}`);
const mm = gradcheck((a, b) => a.matmul(b), [A, B]);
console.log(
  `gradcheck of matmul: passed ${mm.passed}, max abs error ${Math.max(...mm.inputs.map((r) => r.maxAbsError)).toExponential(1)}`,
);
// %%
// Reductions: where each one sends its gradient.
const v = tensor([1, 5, 2, 5], { requiresGrad: true });
v.sum().backward();
console.log(`sum:  grad ${show(v.grad)} (every element counted once)`);
v.zeroGrad();
v.mean().backward();
console.log(`mean: grad ${show(v.grad)} (1/n each)`);
v.zeroGrad();
v.max().backward();
console.log(`max:  grad ${show(v.grad)} (only the maxima; the two tied 5s share)`);
v.zeroGrad();
v.logsumexp(0).backward();
const fixed = (t: Tensor | null) => `[${Array.from(t!.dataSync(), (e) => e.toFixed(4)).join(", ")}]`;
console.log(`logsumexp: grad ${fixed(v.grad)} (softmax of v)`);
const sumRows = tensor(
  [
    [1, 2],
    [3, 4],
  ],
  { requiresGrad: true },
);
const perRow = sumRows.sum(1, true); // keepdims: shape [2, 1], broadcasts back against [2, 2]
perRow
  .mul(tensor([[1], [10]]))
  .sum()
  .backward();
console.log(`sum over axis 1 (keepdims) then weighted [1, 10]: grad ${show(sumRows.grad)}`);
