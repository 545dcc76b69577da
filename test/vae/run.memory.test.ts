/** Memory over many epochs of a run (memory-over-epochs.ts) on the wasm backend. */
import { loadBackend } from "../../src/kernels/registry.ts";
import { describeMemoryOverEpochs } from "./memory-over-epochs.ts";

describeMemoryOverEpochs("wasm", () => loadBackend("wasm"));
