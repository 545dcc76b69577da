import { Generator } from "./src/autograd/random.ts";
import { fromTypedArray } from "./src/autograd/tensor.ts";
import { compile } from "./src/compile/compile.ts";
import { setBackend } from "./src/kernels/registry.ts";
import { createWasmBackend } from "./src/kernels/wasm/backend.ts";
import { enableRelaxedSimd } from "./src/kernels/wasm/node-flags.ts";
import { Adam } from "./src/nn/optim/adam.ts";
import { loadMnist } from "./src/train-mnist/data.ts";
import { BernoulliVAE } from "./src/vae/model.ts";
import { stepOf } from "./src/vae/train.ts";

await enableRelaxedSimd();
const threads = Number(process.env.T ?? 1);
const be = await createWasmBackend({ threads });
setBackend(be);
const train = loadMnist("train");
const N = Number(process.env.N ?? 200);
const batch = (i: number) =>
  train.images.subarray(((i * 128) % 59904) * 784, (((i * 128) % 59904) + 128) * 784);
async function run(compiled: boolean) {
  const g = new Generator(0);
  const model = new BernoulliVAE(
    { inputDim: 784, encUnits: 200, decUnits: 200, latentDim: 10 },
    { generator: g },
  );
  const opt = new Adam(model.parameters(), { lr: 0.01 });
  const step = stepOf(model, opt, g);
  const f = compiled ? compile(step) : step;
  for (let i = 0; i < 3; i++) {
    const x = fromTypedArray(batch(i), [128, 784]);
    for (const o of f(x)) o.dispose();
    x.dispose();
  }
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const x = fromTypedArray(batch(i), [128, 784]);
    const outs = f(x);
    await outs[0].data();
    for (const o of outs) o.dispose();
    x.dispose();
  }
  return (performance.now() - t0) / N;
}
const r: string[] = [];
for (let k = 0; k < 3; k++)
  r.push(`eager ${(await run(false)).toFixed(2)} compiled ${(await run(true)).toFixed(2)}`);
console.log(`threads ${threads}: ms/step`, r.join(" | "));
process.exit(0);
