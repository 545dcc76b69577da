/**
 * The same model on either backend: a short training run of the Bernoulli VAE on MNIST on the gpu
 * backend tracks the cpu backend's losses step for step, and the gpu backend's memory stays flat
 * across training steps.
 *
 * The run uses ELBO_GPU_MODE if set, else the shader mode found here (WebGPU through Dawn; without
 * a GPU, on llvmpipe); where none works it uses gpu.js' cpu mode and says so in the titles, and
 * with ELBO_REQUIRE_SHADERS=1 (CI) it fails instead. Every op of training but those the gpu
 * backend documents as host work must have run on the device.
 *
 * Tolerance: both backends start from the same weights and draw the same batches and noise. The
 * gpu sums its dot products in float32 where the cpu packs them in float64, so the two differ by a
 * few float32 ulps per op, and Adam's steps carry that on. Over 8 steps we saw at most 5e-7
 * relative (a few float32 ulps); we allow 1e-5, about 80 ulps, far below what a wrong kernel does
 * (a wrong gradient moves the loss by percents within a step or two).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { Generator } from "../../../src/autograd/random.ts";
import { compile } from "../../../src/compile/compile.ts";
import type { Backend } from "../../../src/kernels/backend.ts";
import { type GpuBackend, type GpuMode, loadGpuBackend } from "../../../src/kernels/gpu/index.ts";
import { cpuBackend, getBackend, setBackend } from "../../../src/kernels/registry.ts";
import { Adam } from "../../../src/nn/optim/adam.ts";
import { gatherImages, loadMnist, shuffledBatches } from "../../../src/train-mnist/data.ts";
import { BernoulliVAE } from "../../../src/vae/model.ts";
import { stepOf, trainStep } from "../../../src/vae/train.ts";
import { gpuBackends, itRunsOnAShaderMode } from "../../fixtures/backends.ts";

const { probe, shader, jsCpu } = await gpuBackends();
// Each test loads a backend of its own, so that one test's memory is not another's.
const mode: GpuMode = probe.shaderMode ?? "cpu";
const where =
  shader.skip === undefined ? shader.title : `${jsCpu.title}, SHADER PATH DID NOT RUN: ${shader.skip}`;
const data = loadMnist("train", { limit: 512 });

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const previous = getBackend();
afterEach(() => setBackend(previous));

/**
 * `steps` Adam steps of the VAE on `backend`, from seed 0, each one trainStep (src/vae/train.ts):
 * the per-image loss of each step. trainStep's scope frees each step's graph; with `release`, the
 * tensors it returns are disposed too, without, only the garbage collector frees them.
 * `after` runs after each step (for memory readings).
 */
async function train(
  backend: Backend,
  steps: number,
  options: { release?: boolean; after?: (step: number) => Promise<void>; compiled?: boolean } = {},
): Promise<number[]> {
  setBackend(backend);
  const generator = new Generator(0);
  const model = new BernoulliVAE(
    { inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 },
    { generator },
  );
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const eager = stepOf(model, optimizer, generator);
  const step = options.compiled ? compile(eager, { name: "the gpu step" }) : eager;
  const batches = shuffledBatches(data.count, 64, generator);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const indices = batches[s % batches.length];
    const results = trainStep(model, optimizer, gatherImages(data, indices), generator, undefined, step);
    // On an asynchronous backend the values arrive later: await them (item() would throw).
    const [loss] = await results[0].data();
    losses.push(loss / indices.length);
    if (options.release !== false) for (const t of results) t.dispose();
    await options.after?.(s);
  }
  return losses;
}

describe(`the VAE on the gpu backend: ${where}`, () => {
  itRunsOnAShaderMode(probe);

  it("tracks the cpu backend's loss at every one of 8 Adam steps within 1e-5 relative, on the device", async () => {
    const gpu = (await loadGpuBackend(mode)) as GpuBackend;
    const cpuLosses = await train(cpuBackend(), 8);
    const gpuLosses = await train(gpu, 8);
    // On the host by design: row gathers and their adjoint (the indices live there) and copies of
    // values that are on the host already (the batch); every other op must have run on the device.
    const host = ["gather", "scatterAdd", "copy"];
    const offDevice = [...gpu.fallbacks.keys()].filter((op) => !host.includes(op));
    expect(offDevice, `ops that ran on the cpu fallback: ${JSON.stringify([...gpu.fallbacks])}`).toEqual([]);
    // Sanity anchor: at initialisation the decoder says 0.5 everywhere, so the loss is near 784·ln 2.
    expect(cpuLosses[0]).toBeGreaterThan(500);
    expect(cpuLosses[7]).toBeLessThan(cpuLosses[0]);
    gpuLosses.forEach((loss, i) => {
      expect(
        Math.abs(loss - cpuLosses[i]) / cpuLosses[i],
        `step ${i}: gpu ${loss}, cpu ${cpuLosses[i]}`,
      ).toBeLessThan(1e-5);
    });
  });

  it("compiled (replayed call by call: the gpu backend has no lowering of its own), gives the eager step's 8 losses bit for bit", async () => {
    const eager = await train((await loadGpuBackend(mode)) as GpuBackend, 8);
    const compiled = await train((await loadGpuBackend(mode)) as GpuBackend, 8, { compiled: true });
    expect(compiled).toEqual(eager);
    expect(new Set(eager).size).toBe(8);
  });

  it.each([
    ["disposed", true, false],
    ["dropped and left to the garbage collector", false, false],
    ["disposed, the step compiled", true, true],
  ])("memory stays flat from step 8 to step 20 of training, with each step's results %s", async (_, release, compiled) => {
    const gpu = (await loadGpuBackend(mode)) as GpuBackend;
    const readings: { step: number; buffers: number; bytes: number; deviceArrays: number }[] = [];
    await train(gpu, 20, {
      release,
      compiled,
      after: async (step) => {
        if (step !== 7 && step !== 19) return;
        for (let i = 0; i < 3; i++) {
          gc();
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await gpu.flush();
        readings.push({ step, ...gpu.memory(), deviceArrays: gpu.deviceArrays() });
      },
    });
    const [at8, at20] = readings;
    expect({ ...at20, step: 0 }).toEqual({ ...at8, step: 0 });
  });
});
