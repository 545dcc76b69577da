/**
 * Memory stays flat over many epochs on the backends whose memory the garbage collector cannot see
 * (WebAssembly, GPU): training, the checkpoint's bytes, evaluation and the pictures' values each
 * epoch, with the live-buffer count and bytes read after every epoch and no garbage collection
 * forced. A leak of one tensor per epoch shows as a count that grows. run.memory.test.ts runs it on
 * wasm, test/kernels/gpu/backend.memory.test.ts on the gpu backend.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Backend } from "../../src/kernels/backend.ts";
import type { GpuBackend } from "../../src/kernels/gpu/index.ts";
import { getBackend, setBackend } from "../../src/kernels/registry.ts";
import { decodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import {
  checkpointBytes,
  disposeRun,
  evaluateRun,
  evaluationGenerator,
  pictureValues,
  startRun,
  trainRun,
} from "../../src/vae/run.ts";
import { tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";

const EPOCHS = 8;
const config = { inputDim: 16, latentDim: 3, encUnits: 8, decUnits: 8 };

/** Live buffers and bytes after each of `EPOCHS` epochs of a full run: train, checkpoint, evaluate, pictures. */
async function readings(backend: Backend): Promise<{ epoch: number; buffers: number; bytes: number }[]> {
  setBackend(backend);
  const train = tinyDataset(40, 4, 4);
  const test = tinyDataset(12, 4, 4, 2);
  const out: { epoch: number; buffers: number; bytes: number }[] = [];
  let run = startRun(config, tinyTraining({ epochs: EPOCHS, batchSize: 16 }));
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    run.training.epochs = epoch;
    await trainRun(run, train);
    const bytes = await checkpointBytes(run);
    if (epoch % 4 === 0) {
      // Resume from the bytes, as --resume does: the checkpoint's tensors are freed once loaded.
      const resumed = decodeCheckpoint(bytes, "memory-test");
      disposeRun(run);
      run = startRun(resumed.model, resumed.training, resumed);
    }
    const generator = evaluationGenerator(run);
    await evaluateRun(run, test, { iwK: 5, iwImages: 6, generator });
    await pictureValues(run, test, generator);
    await (backend as Partial<GpuBackend>).flush?.();
    out.push({ epoch, ...backend.memory() });
  }
  return out;
}

export function describeMemoryOverEpochs(title: string, load: () => Promise<Backend>): void {
  describe("memory over many epochs, without the garbage collector", () => {
    const previous = getBackend();
    afterAll(() => setBackend(previous));

    it(`${title}: the live buffers and bytes are the same after every epoch`, async () => {
      const backend = await load();
      const seen = await readings(backend);
      // A run that resumes frees the one it replaces only when the GC runs: compare within each stretch.
      const byStretch = (from: number, to: number) => seen.filter((r) => r.epoch >= from && r.epoch <= to);
      for (const [from, to] of [
        [1, 3],
        [4, 7],
        [8, 11],
      ]) {
        const stretch = byStretch(from, to).map(({ buffers, bytes }) => ({ buffers, bytes }));
        expect(stretch, `epochs ${from}..${to}: ${JSON.stringify(seen)}`).toEqual(
          stretch.map(() => stretch[0]),
        );
      }
    });
  });
}
