/**
 * Memory over many epochs of a run (test/vae/memory-over-epochs.ts) on the gpu backend: in the
 * shader mode found here, else in gpu.js' cpu mode.
 */
import { gpuBackends } from "../../fixtures/backends.ts";
import { describeMemoryOverEpochs } from "../../vae/memory-over-epochs.ts";

const { shader, jsCpu } = await gpuBackends();
const gpu = shader.skip === undefined ? shader : jsCpu;
describeMemoryOverEpochs(gpu.title, gpu.load);
