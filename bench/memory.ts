/**
 * Memory over a long run, per backend: resident memory (RSS) and the backend's live buffers after
 * every epoch of VAE training with a checkpoint each epoch, each backend in a process of its own
 * (bench/memory-run.ts). Flat is the goal: the garbage collector cannot see WebAssembly or GPU
 * memory, so anything left to it grows. The baseline is epoch 1 of the same run.
 * Full: 20 epochs of 12,000 images (the settings of issue 12's figures); --quick: 3 epochs of 2,000.
 * ELBO_MEMORY_EPOCHS, ELBO_MEMORY_LIMIT and ELBO_MEMORY_BACKENDS (comma-separated) override.
 */
import { execFileSync } from "node:child_process";
import type { BenchOptions, BenchSection, BenchTable } from "./table.ts";

interface EpochMemory {
  epoch: number;
  rssMiB: number;
  buffers: number;
  bytes: number;
  seconds: number;
}

function measure(backend: string, epochs: number, limit: number): EpochMemory[] {
  const stdout = execFileSync(
    process.execPath,
    ["--import", "tsx", "bench/memory-run.ts", backend, String(epochs), String(limit)],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as EpochMemory);
}

/** Minutes long: runs only when asked for, `npm run bench -- --only memory`. */
export const memorySection: BenchSection & { onRequest: true } = {
  name: "memory",
  onRequest: true,
  async run({ quick }: BenchOptions): Promise<BenchTable[]> {
    const env = process.env;
    const epochs = Number(env.ELBO_MEMORY_EPOCHS ?? (quick ? 3 : 20));
    const limit = Number(env.ELBO_MEMORY_LIMIT ?? (quick ? 2000 : 12000));
    const backends = (env.ELBO_MEMORY_BACKENDS ?? "cpu,wasm,gpu").split(",");
    const rows: (string | number)[][] = [];
    const notes: string[] = [];
    for (const backend of backends) {
      const series = measure(backend, epochs, limit);
      const first = series[0];
      const last = series[series.length - 1];
      rows.push([
        backend,
        first.rssMiB,
        last.rssMiB,
        last.rssMiB - first.rssMiB,
        `${first.buffers} / ${last.buffers}`,
        `${(first.bytes / 2 ** 20).toFixed(2)} / ${(last.bytes / 2 ** 20).toFixed(2)}`,
        series.reduce((s, e) => s + e.seconds, 0) / series.length,
      ]);
      notes.push(`${backend} RSS MiB per epoch: ${series.map((e) => e.rssMiB.toFixed(0)).join(" ")}`);
      notes.push(`${backend} live buffers per epoch: ${series.map((e) => e.buffers).join(" ")}`);
    }
    return [
      {
        title: `Memory over ${epochs} epochs of ${limit} images (784-200-10, batch 128, a checkpoint each epoch)`,
        columns: [
          "backend",
          "RSS ep 1 MiB",
          `RSS ep ${epochs} MiB`,
          "growth MiB",
          "live buffers 1 / last",
          "live MiB 1 / last",
          "s/epoch",
        ],
        rows,
        notes: [
          "Each backend runs in its own process (bench/memory-run.ts); RSS is the whole process, live buffers the backend's own ledger.",
          ...notes,
        ],
      },
    ];
  },
};
