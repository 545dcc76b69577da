/**
 * The divergence guard: training stops, naming the epoch, the step and the tensor, when the loss, a
 * gradient, the optimizer's state or a parameter stops being finite, even while the loss looks fine.
 * On the cpu backend Adam is composed from ops and the guard sums every buffer; on wasm the fused
 * update reports what it wrote (here on two threads, each update split between them).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { fromTypedArray } from "../../src/autograd/tensor.ts";
import { cpuBackend, getBackend, setBackend } from "../../src/kernels/registry.ts";
import { createWasmBackend } from "../../src/kernels/wasm/create.ts";
import { loadMnist } from "../../src/train-mnist/data.ts";
import { startRun, trainRun } from "../../src/vae/run.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";

const previous = getBackend();
const wasm = await createWasmBackend({ threads: 2, parallelElements: 0 });
afterAll(async () => {
  setBackend(previous);
  await wasm.terminate();
});

describe.each([
  ["cpu", cpuBackend()],
  ["wasm×2", wasm],
])("divergence guard on %s", (_, backend) => {
  beforeAll(() => setBackend(backend));
  it("at lr 100 Adam's second moment overflows while the loss stays finite: stopped, naming v", async () => {
    const data = loadMnist("train", { limit: 512 });
    const run = startRun(
      { inputDim: 784, latentDim: 4, encUnits: 32, decUnits: 32 },
      tinyTraining({ epochs: 3, batchSize: 64, lr: 100, seed: 1 }),
    );
    const saved: number[] = [];
    await expect(trainRun(run, data, { onEpoch: (r) => void saved.push(r.epoch) })).rejects.toThrow(
      /^training stopped: the optimizer's v of \S+ holds Infinity at index \d+ at epoch 1, step \d\/8 \(try a smaller --lr\); no checkpoint was written for this epoch$/,
    );
    expect(saved).toEqual([]); // no epoch reached its checkpoint
  });

  it("a NaN row in a weight (relu may hide it from the loss) stops the first step", async () => {
    const run = startRun(tinyConfig, tinyTraining());
    const w = run.model.fc1.weight;
    const values = Float32Array.from(w.dataSync());
    values.fill(Number.NaN, 0, tinyConfig.inputDim); // row 0: hidden unit 0's weights
    noGrad(() => w.assign(fromTypedArray(values, w.shape)));
    await expect(trainRun(run, tinyDataset(8))).rejects.toThrow(
      /^training stopped: (the loss became NaN|the (gradient of|optimizer's [mv] of|parameter) fc1\.weight holds (NaN|non-finite).*) at epoch 1, step 1\/2 /,
    );
    expect(run.history).toEqual([]);
  });
});
