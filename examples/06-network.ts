/**
 * Chapter 6: a network from scratch. Run: npx tsx examples/06-network.ts
 *
 * A small MLP learns a 2-D problem (points labelled by whether their coordinates' signs agree)
 * first with a hand-written SGD loop, then with Module, Linear and Adam; then an MNIST digit
 * classifier with softmax cross-entropy.
 * The cells below (each starts with a `// %%` line) are the chapter's code blocks, in order.
 */
// %%
import {
  Adam,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  Generator,
  Linear,
  Module,
  manualSeed,
  noGrad,
  randn,
  scoped,
  type Tensor,
  tensor,
  valuesOf,
} from "../src/index.ts";
import { loadMnist } from "../src/node.ts";
import { drawGraph } from "./pictures.ts";

// The data: 200 points drawn from a standard normal, labelled 1 where x·y > 0 (the signs agree:
// the XNOR of the signs), which no straight line separates.
manualSeed(0);
const points = randn([200, 2]).dataSync();
const x = tensor(points, [200, 2]);
const labels = Float32Array.from({ length: 200 }, (_, i) => (points[2 * i] * points[2 * i + 1] > 0 ? 1 : 0));
const y = tensor(labels, [200, 1]);
const accuracy = (logits: Tensor) => {
  const l = logits.dataSync();
  return labels.filter((t, i) => (l[i] > 0 ? 1 : 0) === t).length / labels.length;
};
// %%
// The loop everyone writes first, and why it breaks.
console.log("1. W = W.sub(W.grad.mul(0.05)) in a loop");
{
  let W = randn([2, 1], { requiresGrad: true });
  for (let step = 1; step <= 3; step++) {
    try {
      const loss = binaryCrossEntropyWithLogits(x.matmul(W), y);
      loss.backward();
      console.log(
        `   step ${step}: loss ${loss.item().toFixed(4)}, W is a leaf: ${W.isLeaf}, W.grad is null: ${W.grad === null}`,
      );
      W = W.sub(W.grad!.mul(0.05));
    } catch (e) {
      console.log(`   step ${step}: ${(e as Error).message}`);
      break;
    }
  }
}
// %%
// assign changes the values in place; elbo refuses it outside noGrad on a tensor that requires grad.
{
  const W = randn([2, 1], { requiresGrad: true });
  try {
    W.assign(W.sub(0.1));
  } catch (e) {
    console.log(`   assign outside noGrad: ${(e as Error).message}`);
  }
  noGrad(() => W.assign(W.sub(0.1)));
  console.log(`   inside noGrad: W is a leaf: ${W.isLeaf}, version ${W.version}`);
}
// %%
// An MLP 2 → 16 → 1 with a hand-written SGD step; `clear` says whether each step zeroes the gradients.
const trainBySgd = (clear: boolean, label: string, steps: number, every: number) => {
  console.log(label);
  const g = new Generator(1);
  const param = (shape: number[], scale: number) => {
    const t = noGrad(() => randn(shape, { generator: g }).mul(scale));
    t.requiresGrad = true;
    return t;
  };
  const W1 = param([2, 16], 1);
  const b1 = param([16], 0);
  const W2 = param([16, 1], 0.25);
  const b2 = param([1], 0);
  const params = [W1, b1, W2, b2];
  [W1.name, b1.name, W2.name, b2.name] = ["W1", "b1", "W2", "b2"];
  const forward = () => x.matmul(W1).add(b1).relu().matmul(W2).add(b2); // rows: relu(x·W1 + b1)·W2 + b2
  for (let step = 0; step <= steps; step++) {
    const loss = binaryCrossEntropyWithLogits(forward(), y);
    if (clear) for (const p of params) p.zeroGrad(); // backward adds into .grad: clear it first
    loss.backward();
    noGrad(() => {
      for (const p of params) p.assign(p.sub(p.grad!.mul(0.5)));
    });
    if (step % every === 0) {
      const norm = Math.sqrt(W1.grad!.mul(W1.grad!).sum().item()); // the size of the step W1 just took, / lr
      console.log(
        `   step ${String(step).padStart(3)}  loss ${loss.item().toFixed(4)}  |W1.grad| ${norm.toFixed(3)}`,
      );
    }
  }
  console.log(`   training accuracy ${(100 * accuracy(forward())).toFixed(1)}%`);
  return forward;
};
const forward = trainBySgd(true, "2. MLP 2-16-1, hand-written SGD, lr 0.5", 300, 100);
// %%
// The same loop with `p.zeroGrad()` left out: each step's gradient is added to all the earlier ones.
trainBySgd(false, "   the same loop without zeroGrad:", 60, 10);
// %%
// The trained network's graph, with a fresh gradient on it.
const mlpLoss = binaryCrossEntropyWithLogits(forward(), y);
mlpLoss.backward();
await drawGraph("06-mlp.svg", mlpLoss);
// %%
// The same with Module, Linear and Adam.
class MLP extends Module {
  readonly hidden: Linear;
  readonly out: Linear;
  constructor(inputs: number, hidden: number, outputs: number, generator: Generator) {
    super();
    this.hidden = this.registerModule("hidden", new Linear(inputs, hidden, { generator }));
    this.out = this.registerModule("out", new Linear(hidden, outputs, { generator }));
  }
  forward(t: Tensor): Tensor {
    return this.out.forward(this.hidden.forward(t).relu());
  }
}
console.log("3. the same MLP as a Module, with Adam (lr 0.05)");
{
  const model = new MLP(2, 16, 1, new Generator(1));
  const optimizer = new Adam(model.parameters(), { lr: 0.05 });
  for (let step = 0; step <= 300; step++) {
    const loss = binaryCrossEntropyWithLogits(model.forward(x), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    if (step % 100 === 0) console.log(`   step ${String(step).padStart(3)}  loss ${loss.item().toFixed(4)}`);
  }
  console.log(
    `   ${model.parameters().length} parameter tensors, training accuracy ${(100 * accuracy(model.forward(x))).toFixed(1)}%`,
  );
}
// %%
// An MNIST classifier: 784 → 64 → 10, softmax cross-entropy, Adam.
console.log("4. MNIST digits, 784-64-10, softmax cross-entropy, Adam lr 0.002, batch 100");
{
  const train = loadMnist("train", { limit: 3000 });
  const test = loadMnist("test", { limit: 1000 });
  const model = new MLP(784, 64, 10, new Generator(2));
  const optimizer = new Adam(model.parameters(), { lr: 0.002 });
  const xs = tensor(train.images, [train.count, 784]);
  for (let epoch = 1; epoch <= 3; epoch++) {
    let total = 0;
    for (let start = 0; start < train.count; start += 100) {
      // One step in a scope: every tensor it makes (batch, graph, gradients) is freed when it ends,
      // except the loss it returns; parameters and Adam's state were made outside and live on.
      const loss = scoped(
        () => {
          const rows = Array.from({ length: 100 }, (_, i) => start + i);
          const batchLoss = crossEntropy(
            model.forward(xs.gatherRows(rows)),
            train.labels.subarray(start, start + 100),
          );
          optimizer.zeroGrad();
          batchLoss.backward();
          optimizer.step();
          return batchLoss;
        },
        (l) => [l],
      );
      total += loss.item();
      loss.dispose();
    }
    const [logits] = await valuesOf(() => [model.forward(tensor(test.images, [test.count, 784]))] as const);
    let correct = 0;
    for (let i = 0; i < test.count; i++) {
      const row = logits.subarray(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) === test.labels[i]) correct++;
    }
    console.log(
      `   epoch ${epoch}  train loss ${(total / (train.count / 100)).toFixed(4)}  test accuracy ${((100 * correct) / test.count).toFixed(1)}%`,
    );
  }
}
