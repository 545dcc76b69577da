// A stranger's first script: plain Node ESM, no TypeScript, no tsx, the installed package only.
// Trains a tiny MLP for a few Adam steps on each CPU backend (wasm with relaxed SIMD turned on
// through elbojs/node), runs gradcheck, reads MNIST-format files through elbojs/node, and prints what it saw as one line of JSON for the test to judge.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Adam,
  binaryCrossEntropyWithLogits,
  gradcheck,
  Linear,
  Module,
  manualSeed,
  tensor,
  useBackend,
} from "elbojs";
import { enableRelaxedSimd, loadMnist } from "elbojs/node";

class Mlp extends Module {
  constructor() {
    super();
    this.hidden = this.registerModule("hidden", new Linear(2, 8));
    this.out = this.registerModule("out", new Linear(8, 1));
  }
  forward(x) {
    return this.out.forward(this.hidden.forward(x).tanh());
  }
}

async function train(backend) {
  const chosen = await useBackend(backend);
  if (backend === "wasm") wasmRelaxed = chosen.relaxedSimd;
  manualSeed(0);
  const model = new Mlp();
  const optimizer = new Adam(model.parameters(), { lr: 0.05 });
  const x = tensor([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ]);
  const y = tensor([[0], [1], [1], [0]]);
  const losses = [];
  for (let step = 0; step < 40; step++) {
    const loss = binaryCrossEntropyWithLogits(model.forward(x), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    losses.push((await loss.data())[0]);
  }
  return losses;
}

let wasmRelaxed = null;
const cpu = await train("cpu");
// As npm run train:mnist does: relaxed SIMD's fused multiply-add, behind a V8 flag on Node 20.
const relaxed = enableRelaxedSimd();
const wasm = await train("wasm");
await useBackend("cpu");
const report = gradcheck(
  (a, b) => a.matmul(b).sigmoid().sum(),
  [tensor([[1, -2, 0.5]], { dtype: "float64" }), tensor([[0.1], [0.2], [-0.3]], { dtype: "float64" })],
);

// Two tiny IDX files (3 images of 2×2, 3 labels) in a temporary folder, read back by loadMnist.
const dir = mkdtempSync(join(tmpdir(), "elbojs-idx-"));
const idx = (magic, dims, data) => {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  for (const [i, d] of dims.entries()) header.writeUInt32BE(d, 4 + 4 * i);
  return Buffer.concat([header, Buffer.from(data)]);
};
writeFileSync(
  join(dir, "train-images-idx3-ubyte"),
  idx(0x803, [3, 2, 2], [0, 255, 51, 102, 0, 0, 0, 0, 255, 255, 255, 255]),
);
writeFileSync(join(dir, "train-labels-idx1-ubyte"), idx(0x801, [3], [7, 0, 9]));
const mnist = loadMnist("train", { dir });
rmSync(dir, { recursive: true });

console.log(
  JSON.stringify({
    cpu: [cpu[0], cpu.at(-1)],
    wasm: [wasm[0], wasm.at(-1)],
    gradcheck: report.passed,
    relaxed: [relaxed, wasmRelaxed],
    mnist: {
      count: mnist.count,
      labels: Array.from(mnist.labels),
      first: Array.from(mnist.images.subarray(0, 4)),
    },
  }),
);
