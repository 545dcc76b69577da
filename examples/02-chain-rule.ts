/**
 * Chapter 2: the chain rule on a graph. Run: npx tsx examples/02-chain-rule.ts
 *
 * One neuron, o = tanh(x1·w1 + x2·w2 + b) (the expression of micrograd's lecture): first the
 * backward pass by hand, node by node, then the engine's, then the two compared.
 * The cells below (each starts with a `// %%` line) are the chapter's code blocks, in order.
 */
// %%
import { type Tensor, tensor } from "../src/index.ts";
import { drawGraph } from "./pictures.ts";

// Scalars as float64 tensors; the parameters and inputs are leaves that want gradients.
const leaf = (value: number, name: string): Tensor => {
  const t = tensor(value, { dtype: "float64", requiresGrad: true });
  t.name = name;
  return t;
};
const x1 = leaf(2, "x1");
const x2 = leaf(0, "x2");
const w1 = leaf(-3, "w1");
const w2 = leaf(1, "w2");
const b = leaf(6.881373587019543, "b");

// Forward, naming each intermediate and asking the engine to keep its gradient too.
const x1w1 = x1.mul(w1).retainGrad();
x1w1.name = "x1w1";
const x2w2 = x2.mul(w2).retainGrad();
x2w2.name = "x2w2";
const sum = x1w1.add(x2w2).retainGrad();
sum.name = "x1w1+x2w2";
const n = sum.add(b).retainGrad();
n.name = "n";
const o = n.tanh();
o.name = "o";
const v = (t: Tensor) => t.item();
console.log(`forward: n = ${v(n).toFixed(4)}, o = tanh(n) = ${v(o).toFixed(4)}`);
// %%

// Backward by hand, from the output down. Each line is one local derivative times the gradient
// arriving from above (the chain rule): dL/dinput = dL/doutput · doutput/dinput.
const hand = new Map<string, number>();
hand.set("o", 1); // dL/do for L = o
hand.set("n", hand.get("o")! * (1 - v(o) ** 2)); // do/dn = 1 − tanh²(n)
hand.set("b", hand.get("n")! * 1); // n = sum + b: dn/db = 1
hand.set("x1w1+x2w2", hand.get("n")! * 1); // dn/dsum = 1
hand.set("x1w1", hand.get("x1w1+x2w2")! * 1); // an add passes its gradient to both inputs
hand.set("x2w2", hand.get("x1w1+x2w2")! * 1);
hand.set("x1", hand.get("x1w1")! * v(w1)); // d(x1·w1)/dx1 = w1
hand.set("w1", hand.get("x1w1")! * v(x1)); // d(x1·w1)/dw1 = x1
hand.set("x2", hand.get("x2w2")! * v(w2));
hand.set("w2", hand.get("x2w2")! * v(x2));

// Now the engine: one call walks the same graph in reverse topological order.
o.backward();
console.log("node        by hand   engine");
for (const t of [n, b, sum, x1w1, x2w2, x1, w1, x2, w2]) {
  const name = t.name!;
  console.log(
    `${name.padEnd(10)} ${hand.get(name)!.toFixed(4).padStart(8)} ${v(t.grad!).toFixed(4).padStart(8)}`,
  );
}
const worst = Math.max(
  ...[n, b, sum, x1w1, x2w2, x1, w1, x2, w2].map((t) => Math.abs(hand.get(t.name!)! - v(t.grad!))),
);
console.log(`largest difference between hand and engine: ${worst}`);
// %%
// The graph behind o with every value and gradient, drawn by Graphviz (docs/images/02-neuron.svg).
await drawGraph("02-neuron.svg", o);
// %%
// A node used twice gets the sum of both paths' gradients: d(a·a + a)/da = 2a + 1.
const a = leaf(3, "a");
const twice = a.mul(a).add(a);
twice.backward();
console.log(`a = 3, L = a·a + a: dL/da = ${v(a.grad!)} (2a + 1 = 7)`);
// %%
// backward() adds into .grad: a second call without zeroGrad() adds the same 7 again.
a.mul(a).add(a).backward();
console.log(`after a second backward: dL/da = ${v(a.grad!)}`);
a.zeroGrad();
a.mul(a).add(a).backward();
console.log(`after zeroGrad() and backward: dL/da = ${v(a.grad!)}`);
