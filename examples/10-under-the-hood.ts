/**
 * Chapter 10: under the hood. Run: npx tsx examples/10-under-the-hood.ts
 *
 * The same VAE step on the cpu and wasm backends; where a training step's time goes; memory with
 * and without a scope; and the WebAssembly SIMD kernel that computes relu, listed instruction by
 * instruction. Timings are this machine's and vary from run to run.
 * The cells below (each starts with a `// %%` line) are the chapter's code blocks, in order.
 */
// %%
import {
  Adam,
  BernoulliVAE,
  compile,
  Generator,
  getBackend,
  type Step,
  scoped,
  setBackend,
  stepOf,
  tensor,
  trainStep,
  useBackend,
} from "../src/index.ts";
import { WasmBackend } from "../src/kernels/wasm/backend.ts";
import { unaryKernel, unaryKernels } from "../src/kernels/wasm/kernels-elementwise.ts";
import { loadMnist } from "../src/node.ts";
import { listing } from "./simd-listing.ts";

const config = { inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 };
const data = loadMnist("train", { limit: 128 });
const images = data.images;
// One computation, two backends: the same seeded model and noise give the same loss.
const cpu = getBackend();
const lossOn = async (name: string) => {
  await useBackend(name);
  const model = new BernoulliVAE(config, { generator: new Generator(0) });
  const out = model.forward(tensor(images, [128, 784]), { generator: new Generator(1) });
  return (await out.loss.data())[0] / 128;
};
const lossCpu = await lossOn("cpu");
const lossWasm = await lossOn("wasm");
console.log("1. −ELBO per image of one batch, same seed");
const relative = Math.abs(lossCpu - lossWasm) / lossCpu;
console.log(
  `   cpu ${lossCpu.toFixed(3)}   wasm ${lossWasm.toFixed(3)}   relative difference under 1e-5: ${relative < 1e-5}`,
);
// %%
// Where a training step's time goes: forward, backward, optimizer, timed apart.
const timeSteps = async (name: string) => {
  const backend = await useBackend(name);
  const model = new BernoulliVAE(config, { generator: new Generator(0) });
  const optimizer = new Adam(model.parameters(), { lr: 0.01 });
  const generator = new Generator(1);
  const total = { forward: 0, backward: 0, optimizer: 0 };
  const warmUp = 5;
  const steps = 10;
  for (let s = 0; s < warmUp + steps; s++) {
    scoped(
      () => {
        const t0 = performance.now();
        const out = model.forward(tensor(images, [128, 784]), { generator });
        out.loss.dataSync();
        const t1 = performance.now();
        optimizer.zeroGrad();
        out.loss.backward();
        model.parameters()[0].grad!.dataSync();
        const t2 = performance.now();
        optimizer.step();
        model.parameters()[0].dataSync();
        const t3 = performance.now();
        // The first steps warm up (compile kernels, size the memory pool, start threads): not counted.
        if (s >= warmUp) {
          total.forward += t1 - t0;
          total.backward += t2 - t1;
          total.optimizer += t3 - t2;
        }
      },
      () => [],
    );
  }
  const sum = total.forward + total.backward + total.optimizer;
  const pct = (v: number) => `${Math.round((100 * v) / sum)}%`;
  console.log(
    `   ${backend.name.padEnd(5)} ${(sum / steps).toFixed(1)} ms/step: forward ${pct(total.forward)}, backward ${pct(total.backward)}, optimizer ${pct(total.optimizer)}`,
  );
};
console.log("2. one training step, batch 128, 784-200-10 VAE (mean of 10 steps after 5 to warm up)");
await timeSteps("cpu");
await timeSteps("wasm");
// %%
// Memory: buffers alive on the wasm backend after each step, without and with a scope.
const wasm = await useBackend("wasm");
const model = new BernoulliVAE(config, { generator: new Generator(0) });
const optimizer = new Adam(model.parameters(), { lr: 0.01 });
const generator = new Generator(1);
/** How many more buffers are alive after each of 4 steps than before the first. */
const growth = (run: () => void) => {
  const before = wasm.memory().buffers;
  return Array.from({ length: 4 }, () => {
    run();
    return `+${wasm.memory().buffers - before}`;
  });
};
const plain = growth(() => {
  const out = model.forward(tensor(images, [128, 784]), { generator });
  optimizer.zeroGrad();
  out.loss.backward();
  optimizer.step();
});
const inScope = growth(() => {
  for (const t of trainStep(model, optimizer, images, generator)) t.dispose();
});
console.log("3. wasm buffers alive after each of 4 steps, counted from before the first");
console.log(`   plain loop:     ${plain.join(", ")}   (each step's graph waits for the garbage collector)`);
console.log(
  `   trainStep loop: ${inScope.join(", ")}   (one scope per step frees everything it made but the results it returns)`,
);
setBackend(cpu);
// The wasm backend runs worker threads; stop them so the program can end.
if (wasm instanceof WasmBackend) await wasm.terminate();
// %%
// The training step compiled: watched for two calls, then replayed as the backend's own program.
setBackend(wasm);
const vaeStep = () => {
  const generator = new Generator(0);
  const model = new BernoulliVAE(config, { generator });
  return stepOf(model, new Adam(model.parameters(), { lr: 0.01 }), generator);
};
/** Five steps on one batch; after each, `afterEach` (to note how the call ran). */
const fiveLosses = (step: Step, afterEach = () => {}) =>
  Array.from({ length: 5 }, () => {
    const x = tensor(images, [128, 784]);
    const results = step(x);
    const loss = results[0].item();
    for (const t of [x, ...results]) t.dispose();
    afterEach();
    return loss;
  });
const opByOp = fiveLosses(vaeStep());
const compiled = compile(vaeStep(), { name: "the VAE's step" });
const runs: string[] = [];
const replayed = fiveLosses(compiled, () => runs.push(String(compiled.lastRun)));
console.log("4. the training step, compiled");
console.log(`   the 5 calls: ${runs.join(", ")}`);
console.log(
  `   the same 5 losses as op by op, bit for bit: ${opByOp.every((l, i) => Object.is(l, replayed[i]))}`,
);
const program = compiled.describe().split("\n");
const lowered = program.findIndex((line) => line.startsWith("lowered"));
for (const line of [...program.slice(0, 6), "  …", ...program.slice(lowered, lowered + 5)])
  console.log(`   ${line}`);
setBackend(cpu);
// %%
// The relu kernel the wasm backend generates: out[i] = max(0, x[i]), four floats at a time, from
// one line of src/kernels/wasm/kernels-elementwise.ts:
//   relu: (_f, x, out) => set(out, f32x4.max(get(x), zero())),
const relu = unaryKernel("unary_relu", unaryKernels.relu);
console.log(`5. unary_relu(x, out, n): ${relu.body.length} bytes of WebAssembly`);
for (const line of listing(relu)) console.log(`   ${line}`);
