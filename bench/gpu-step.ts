/**
 * `npm run bench -- --only gpu-step`: the compiled training step as `npm run train:mnist` runs it
 * (784–200–10, Adam; the losses read every 20 steps on the gpu, as the trainer reads them there, and
 * every step on wasm), on the gpu backend against wasm on all threads, at batch 128, 512 and 2048,
 * in alternating rounds. The table issue #21 asks for: run it on a machine with a real GPU (on a
 * software renderer it only shows that the path works, and what it costs there).
 */
import { createWasmBackend } from "../src/kernels/wasm/create.ts";
import { GPU_READ_EVERY } from "../src/train-mnist/train-mnist.ts";
import { gpuOrSkipped, softwareCaveat } from "./gpu.ts";
import { benchData, HIDDEN, ourStepper } from "./step.ts";
import type { BenchOptions, BenchSection, BenchTable } from "./table.ts";
import { median } from "./timing.ts";

const BATCHES = [128, 512, 2048];

async function run(options: BenchOptions): Promise<BenchTable[]> {
  const loaded = await gpuOrSkipped("the compiled step, gpu against wasm");
  if ("skipped" in loaded) return loaded.skipped;
  const { gpu } = loaded;
  const wasm = await createWasmBackend();
  const wasmLabel = `wasm×${wasm.threadCount}`; // before terminate(), which leaves one thread
  const rounds = options.quick ? 1 : 5;
  const rows: (string | number)[][] = [];
  try {
    for (const batch of BATCHES) {
      const { batches } = benchData(batch);
      // One call: GPU_READ_EVERY steps, then their losses read, on each backend.
      const steppers = [
        ourStepper(gpu, batches, HIDDEN, true, GPU_READ_EVERY),
        ourStepper(wasm, batches, HIDDEN, true, 1),
      ];
      const perStep = async (stepper: () => Promise<void>, calls: number) => {
        const start = performance.now();
        for (let i = 0; i < calls; i++) await stepper();
        return (performance.now() - start) / calls;
      };
      // Warm: traced twice, then lowered or replayed, and through the engines' tiers.
      await perStep(steppers[0], 1);
      await perStep(steppers[1], 30);
      const ms: [number[], number[]] = [[], []];
      for (let r = 0; r < rounds; r++) {
        ms[0].push((await perStep(steppers[0], options.quick ? 1 : 3)) / GPU_READ_EVERY);
        ms[1].push(await perStep(steppers[1], options.quick ? 20 : 60));
      }
      const [g, w] = ms.map(median);
      rows.push([
        batch,
        g,
        w,
        `${(w / g).toFixed(2)}×`,
        Math.round((1000 * batch) / g),
        Math.round((1000 * batch) / w),
      ]);
    }
  } finally {
    await wasm.terminate();
  }
  return [
    {
      title: `the compiled training step, ms: gpu backend (gpu.js ${gpu.mode} on ${gpu.detail}) against ${wasmLabel}`,
      columns: ["batch", "gpu", wasmLabel, "× (wasm / gpu)", "gpu images/s", "wasm images/s"],
      rows,
      notes: [
        `Medians of ${rounds} alternating rounds. The gpu's losses are read every ${GPU_READ_EVERY} steps and the wasm's every step, as npm run train:mnist reads them on each. Above 1×: the gpu is faster.`,
        ...softwareCaveat(gpu),
      ],
    },
  ];
}

export const gpuStepSection: BenchSection & { onRequest: true } = {
  name: "gpu-step",
  run,
  onRequest: true,
};
