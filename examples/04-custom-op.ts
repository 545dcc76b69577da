/**
 * Chapter 4: your own op. Run: npx tsx examples/04-custom-op.ts
 *
 * SiLU (also called swish), silu(x) = x·sigmoid(x), written as an op with its own backward; checked
 * with gradcheck; broken on purpose to see what gradcheck says; then its second derivative.
 * The cells below (each starts with a `// %%` line) are the chapter's code blocks, in order.
 */
// %%
import {
  applyOp,
  grad,
  gradcheck,
  gradgradcheck,
  gradients,
  hessian,
  type Tensor,
  tensor,
} from "../src/index.ts";
import { drawGraph } from "./pictures.ts";

// d silu(x)/dx = s + x·s·(1 − s), with s = sigmoid(x)
function silu(x: Tensor): Tensor {
  return applyOp(
    "silu",
    [x],
    () => x.mul(x.sigmoid()), // forward: any ops
    (g) => [
      () => {
        const s = x.sigmoid();
        return g.mul(s.add(x.mul(s).mul(s.neg().add(1)))); // g · dsilu/dx
      },
    ],
  );
}

const x = tensor([-2, -0.5, 0, 1.5], { dtype: "float64" });
const y = silu(x);
console.log(
  `silu(${JSON.stringify(x.toArray())}) = [${Array.from(y.dataSync(), (v) => v.toFixed(4)).join(", ")}]`,
);
console.log(`recorded as op "${silu(tensor([1], { requiresGrad: true })).op}"`);

const good = gradcheck(silu, [x]);
console.log(
  `gradcheck(silu): passed ${good.passed}, max abs error ${good.inputs[0].maxAbsError.toExponential(1)}`,
);

// %%
// The same op with a bug a tired person writes: the product rule's second term forgotten.
function siluBroken(x: Tensor): Tensor {
  return applyOp(
    "siluBroken",
    [x],
    () => x.mul(x.sigmoid()),
    (g) => [() => g.mul(x.sigmoid())],
  );
}

const bad = gradcheck(siluBroken, [x]);
console.log(`gradcheck(siluBroken): passed ${bad.passed}`);
console.log(bad.message);
// %%
// The backward pass, recorded: y = tanh(t²) at t = 0.5, then backward({ createGraph: true }).
const t = tensor(0.5, { dtype: "float64", requiresGrad: true });
t.name = "t";
const yOfT = t.mul(t).tanh();
yOfT.name = "y";
yOfT.backward({ createGraph: true });
const dydt = t.grad!; // 2t·(1 − y²), built from ops: a tensor with a graph of its own
dydt.name = "dy/dt";
await drawGraph("04-backward-graph.svg", dydt);
const [d2ydt2] = gradients(dydt, [t]); // differentiate the recorded backward pass
const [tv, yv] = [0.5, Math.tanh(0.25)];
console.log(`dy/dt = ${dydt.item().toFixed(6)} (2t(1 − y²) = ${(2 * tv * (1 - yv ** 2)).toFixed(6)})`);
const closedSecond = 2 * (1 - yv ** 2) - 8 * tv ** 2 * yv * (1 - yv ** 2);
console.log(`d²y/dt² = ${d2ydt2!.item().toFixed(6)} (2(1 − y²) − 8t²y(1 − y²) = ${closedSecond.toFixed(6)})`);
// %%
// Second derivatives. The VJP above is made of ops, so it can be differentiated again. silu acts
// elementwise, so the gradient of Σ silu'(x) is silu''(x), element by element.
const first = grad((t: Tensor) => silu(t).sum());
const second = grad((t: Tensor) => first(t).sum());
const closed = (v: number) => {
  const s = 1 / (1 + Math.exp(-v));
  return s * (1 - s) * (2 + v * (1 - 2 * s)); // silu''(x) = s(1−s)(2 + x(1 − 2s))
};
const d2 = second(x).dataSync();
console.log("x      silu''(x) by grad(grad)   closed form");
for (let i = 0; i < x.size; i++) {
  const v = x.dataSync()[i];
  console.log(
    `${v.toFixed(1).padStart(4)}   ${d2[i].toFixed(6).padStart(12)}   ${closed(v).toFixed(6).padStart(12)}`,
  );
}
const gg = gradgradcheck(silu, [x]);
console.log(`gradgradcheck(silu): passed ${gg.passed}`);
const ggBad = gradgradcheck(siluBroken, [x]);
console.log(`gradgradcheck(siluBroken): passed ${ggBad.passed}`);
// %%
// The Hessian of f(x) = Σ silu(x)·x₀ couples every element to x₀: a dense first row and column.
const f = (t: Tensor) => silu(t).mul(t.sliceRows(0, 1)).sum();
const h = hessian(f)(tensor([0.5, -1, 2], { dtype: "float64" }));
console.log("Hessian of Σ silu(x)·x₀ at x = [0.5, −1, 2]:");
for (const row of h.toArray() as number[][])
  console.log(`  [${row.map((v) => v.toFixed(4).padStart(7)).join(", ")}]`);
