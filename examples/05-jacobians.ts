/**
 * Chapter 5: Jacobians and the two modes. Run: npx tsx examples/05-jacobians.ts
 *
 * A small Jacobian built row by row from VJPs and column by column from JVPs; forward mode with
 * dual numbers; what each mode costs for a loss (many inputs, one output) and for a map with few
 * inputs and many outputs; jvp as a double VJP; Hessian-vector products.
 * The cells below (each starts with a `// %%` line) are the chapter's code blocks, in order.
 */
// %%
import {
  concat,
  gradients,
  hessian,
  hvp,
  jacfwd,
  jacrev,
  jvp,
  manualSeed,
  randn,
  type Tensor,
  tensor,
  vjp,
} from "../src/index.ts";

// f: R³ → R²,  f(x) = [x₀·x₁ + x₂,  exp(x₀)·x₂]
const f = (x: Tensor) => {
  const [x0, x1, x2] = [0, 1, 2].map((i) => x.slice(0, i, i + 1));
  return concat([x0.mul(x1).add(x2), x0.exp().mul(x2)]);
};
const x = tensor([0.5, -1, 2], { dtype: "float64" });
const basis = (n: number, i: number) =>
  tensor(
    Array.from({ length: n }, (_, k) => (k === i ? 1 : 0)),
    { dtype: "float64" },
  );
const show = (t: Tensor) => `[${Array.from(t.dataSync(), (v) => v.toFixed(4).padStart(7)).join(", ")}]`;

// Reverse mode: one pullback per output gives a row, e_iᵀJ.
const { pullback } = vjp(f)(x);
console.log("rows from VJPs (e_iᵀJ, one reverse pass each):");
for (let i = 0; i < 2; i++) console.log(`  row ${i}: ${show(pullback(basis(2, i))[0])}`);
// Forward mode: one JVP per input gives a column, J·e_j.
console.log("columns from JVPs (J·e_j, one forward pass each):");
for (let j = 0; j < 3; j++) console.log(`  column ${j}: ${show(jvp(f)([x], [basis(3, j)]).tangent)}`);
console.log("by hand: [[x₁, x₀, 1], [exp(x₀)·x₂, 0, exp(x₀)]]");
console.log(`  = [${show(tensor([-1, 0.5, 1]))}, ${show(tensor([Math.exp(0.5) * 2, 0, Math.exp(0.5)]))}]`);
// %%
// jacrev stacks the rows, jacfwd the columns; both have shape [...out.shape, ...x.shape].
const byRows = jacrev(f)(x);
const byColumns = jacfwd(f)(x);
console.log(
  `jacrev(f)(x): shape [${byRows.shape}], rows ${show(byRows.slice(0, 0, 1))} ${show(byRows.slice(0, 1, 2))}`,
);
const same = byRows.sub(byColumns).abs().max().item();
console.log(`jacfwd(f)(x): shape [${byColumns.shape}], largest difference from jacrev ${same}`);
// %%
// Forward mode by hand: a dual number carries a value and its derivative along one direction.
class Dual {
  constructor(
    readonly value: number,
    readonly tangent: number,
  ) {}
  add(o: Dual) {
    return new Dual(this.value + o.value, this.tangent + o.tangent);
  }
  mul(o: Dual) {
    return new Dual(this.value * o.value, this.tangent * o.value + this.value * o.tangent); // product rule
  }
  exp() {
    const e = Math.exp(this.value);
    return new Dual(e, e * this.tangent); // chain rule, applied as the value is computed
  }
}
const fDual = ([x0, x1, x2]: Dual[]) => [x0.mul(x1).add(x2), x0.exp().mul(x2)];
console.log("dual numbers, seeding x_j with tangent 1 (one pass per column):");
for (let j = 0; j < 3; j++) {
  const seeded = [0.5, -1, 2].map((v, k) => new Dual(v, k === j ? 1 : 0));
  const out = fDual(seeded);
  console.log(
    `  column ${j}: [${out.map((d) => d.tangent.toFixed(4).padStart(7)).join(", ")}]  (values ${out.map((d) => d.value.toFixed(4)).join(", ")})`,
  );
}
// %%
// What each mode costs: a pass per output row (reverse) or per input column (forward).
manualSeed(0);
const W = randn([200, 200], { dtype: "float64" }).mul(0.05);
const loss = (v: Tensor) =>
  W.matmul(v.reshape([200, 1]))
    .tanh()
    .sum(); // R²⁰⁰ → R
const wide = (v: Tensor) =>
  W.slice(1, 0, 2)
    .matmul(v.reshape([2, 1]))
    .tanh()
    .reshape([200]); // R² → R²⁰⁰
const time = (label: string, run: () => Tensor) => {
  const start = performance.now();
  const shape = run().shape;
  console.log(`  ${label.padEnd(34)} shape [${shape}]  ${(performance.now() - start).toFixed(0)} ms`);
};
const v200 = randn([200], { dtype: "float64" });
const v2 = randn([2], { dtype: "float64" });
console.log("n = 200 inputs, m = 1 output (a loss):");
time("jacrev: 1 reverse pass", () => jacrev(loss)(v200));
time("jacfwd: 200 forward passes", () => jacfwd(loss)(v200));
console.log("n = 2 inputs, m = 200 outputs:");
time("jacrev: 200 reverse passes", () => jacrev(wide)(v2));
time("jacfwd: 2 forward passes", () => jacfwd(wide)(v2));
// %%
// jvp as a double VJP: the pullback u ↦ Jᵀu is linear in u, so the gradient of ⟨Jᵀu, v⟩ with
// respect to u is J·v. Recording the first backward pass makes it differentiable in u.
const v = tensor([1, 0.5, -2], { dtype: "float64" });
const u = tensor([0, 0], { dtype: "float64", requiresGrad: true }); // its value does not matter
const xv = x.detach();
xv.requiresGrad = true;
const [jtu] = gradients(f(xv), [xv], u, { createGraph: true }); // Jᵀu, recorded: a function of u
const [jv] = gradients(jtu!.mul(v).sum(), [u]); // ∇u ⟨Jᵀu, v⟩ = J·v
console.log(`J·v by the double VJP: ${show(jv!)}`);
console.log(`J·v by jvp:            ${show(jvp(f)([x], [v]).tangent)}`);
console.log(`J·v from jacrev:       ${show(byRows.matmul(v.reshape([3, 1])).reshape([2]))}`);
// %%
// A Hessian-vector product without the Hessian: H·v = ∇⟨∇g(x), v⟩, two reverse passes.
const g = (t: Tensor) => t.tanh().mul(t.sum()).sum();
const point = tensor([0.3, -0.8, 1.2], { dtype: "float64" });
console.log(`hvp(g)(x, v):   ${show(hvp(g)(point, v))}`);
console.log(
  `hessian(g)(x)·v: ${show(
    hessian(g)(point)
      .matmul(v.reshape([3, 1]))
      .reshape([3]),
  )}`,
);
