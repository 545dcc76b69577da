// A TypeScript consumer of the installed package, checked with strict settings against the shipped
// declarations (tsconfig.nodenext.json and tsconfig.bundler.json; typed-node.ts adds the Node entry). The @ts-expect-error lines make
// sure the types are precise, not `any`: each fails the check if its line stops being an error.
import {
  Adam,
  type Backend,
  type BackendDescription,
  BernoulliVAE,
  datasetFromIdx,
  type GradcheckReport,
  gaussianKl,
  getBackend,
  gradcheck,
  Linear,
  type Module,
  negativeElbo,
  parseIdx,
  reparameterize,
  SGD,
  startRun,
  type Tensor,
  TrainingDiverged,
  tensor,
  toDot,
  trainRun,
  useBackend,
  type VaeConfig,
} from "elbojs";
import { type GpuMode, loadGpuBackend } from "elbojs/gpu";
import { createWasmBackend, type WasmOptions } from "elbojs/wasm";

const config: VaeConfig = { inputDim: 4, latentDim: 2, encUnits: 3, decUnits: 3 };
export const model: Module = new BernoulliVAE(config);
export const adam = new Adam(model.parameters(), { lr: 1e-3 });
export const sgd = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
const x: Tensor = tensor([[1, 2, 3, 4]]);
export const report: GradcheckReport = gradcheck((a: Tensor) => a.sum(), [x]);
export const dot: string = toDot(x);
const mu = tensor([[0.1, 0.2]]);
const logvar = tensor([[0, 0]]);
export const z: Tensor = reparameterize(mu, logvar, tensor([[1, -1]]));
export const kl: Tensor = gaussianKl(mu, logvar);
export const loss: Tensor = negativeElbo(tensor([[0, 0, 0, 0]]), x, mu, logvar).loss;
export const idx: number[] = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 0]), "empty").dims;
export const read = (images: Uint8Array, labels: Uint8Array) =>
  datasetFromIdx(parseIdx(images, "i"), parseIdx(labels, "l"), { images: "i", labels: "l" }).count;
export const backends: Promise<Backend>[] = [
  useBackend("auto"),
  createWasmBackend({ threads: 2 } satisfies WasmOptions),
];
// What runs the backend, typed: no cast to reach the threads, the gpu.js mode or the renderer.
const described: BackendDescription = getBackend().describe();
export const threads: number = described.threads;
export const software: boolean = described.softwareRenderer;
export const describedMode: GpuMode | null = described.gpuMode;
// The run the lab drives: a model, Adam and generator from a config, trained epoch by epoch.
export const run = startRun(config, {
  epochs: 1,
  batchSize: 2,
  lr: 0.01,
  seed: 1,
  limit: null,
  dataDir: null,
});
export const trained = (data: Parameters<typeof trainRun>[1]) =>
  trainRun(run, data, { onStep: (epoch, step) => void [epoch, step.loss] }).catch((e: unknown) =>
    e instanceof TrainingDiverged ? e.step : Number.NaN,
  );
const mode: GpuMode = "webgl2";
export const gpu = loadGpuBackend(mode).then((b) => b.detail);

// @ts-expect-error: the gpu.js modes are named precisely
export const badMode: GpuMode = "webgl3";
// @ts-expect-error: Linear takes sizes, not strings
export const badLinear = new Linear("2", 3);
// @ts-expect-error: a description's gpu mode is one of gpu.js' modes
export const badDescribed: BackendDescription["gpuMode"] = "webgl3";
// @ts-expect-error: an optimizer wants tensors
export const badAdam = new Adam([1, 2]);
