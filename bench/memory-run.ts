/**
 * A child process of the memory bench: trains as `npm run train:mnist` does (src/vae/run.ts, a
 * checkpoint written atomically after every epoch) on one backend, and prints one JSON line per
 * epoch with the process's resident memory and the backend's live buffers and bytes.
 *   node --import tsx bench/memory-run.ts BACKEND EPOCHS LIMIT
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useBackend } from "../src/kernels/registry.ts";
import { loadMnist } from "../src/train-mnist/data.ts";
import { writeFileAtomic } from "../src/train-mnist/files.ts";
import { checkpointBytes, startRun, trainRun } from "../src/vae/run.ts";

const [name = "wasm", epochs = "20", limit = "12000"] = process.argv.slice(2);
const backend = await useBackend(name);
const data = loadMnist("train", { limit: Number(limit) });
const run = startRun(
  { inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 },
  { epochs: Number(epochs), batchSize: 128, lr: 0.01, seed: 1, limit: Number(limit), dataDir: null },
);
const out = mkdtempSync(join(tmpdir(), "elbo-memory-"));
try {
  await trainRun(run, data, {
    onEpoch: async (result) => {
      writeFileAtomic(join(out, "checkpoint.safetensors"), await checkpointBytes(run));
      const { buffers, bytes } = backend.memory();
      const line = {
        epoch: result.epoch,
        rssMiB: process.memoryUsage().rss / 2 ** 20,
        buffers,
        bytes,
        seconds: result.seconds,
      };
      console.log(JSON.stringify(line));
    },
  });
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.exit(0);
