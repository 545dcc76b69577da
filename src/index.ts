/**
 * elbo (the npm package `elbojs`): reverse-mode tensor autodiff, neural-network pieces and a VAE,
 * from scratch. This entry runs the same in Node and in a page: nothing here reaches a Node
 * built-in unless it finds Node. What reads or writes files is in `elbojs/node`; the options of the
 * wasm and gpu backends are in `elbojs/wasm` and `elbojs/gpu`.
 */

export type { CreateOptions, RandomOptions } from "./autograd/create.ts";
export { full, ones, rand, randn, tensor, zeros } from "./autograd/create.ts";
export { backward, isGradEnabled, noGrad, releaseGraph, topologicalOrder } from "./autograd/engine.ts";
export type { GradcheckOptions, GradcheckReport, InputReport } from "./autograd/gradcheck.ts";
export { gradcheck } from "./autograd/gradcheck.ts";
export { summarize, toDot } from "./autograd/graph.ts";
export {
  add,
  cast,
  div,
  exp,
  log,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  relu,
  sigmoid,
  softplus,
  sqrt,
  sub,
  tanh,
} from "./autograd/ops/elementwise.ts";
export type { MatmulOptions } from "./autograd/ops/matmul.ts";
export { matmul } from "./autograd/ops/matmul.ts";
export { logsumexp, max, mean, sum } from "./autograd/ops/reduce.ts";
export { broadcastTo, gatherRows, reshape, sliceRows, transpose } from "./autograd/ops/shape.ts";
export type { GeneratorState } from "./autograd/random.ts";
export { Generator, globalGenerator, manualSeed } from "./autograd/random.ts";
export { scoped, valuesOf } from "./autograd/scope.ts";
export type { BackwardFn, NestedArray, Operand } from "./autograd/tensor.ts";
export { fromTypedArray, Tensor } from "./autograd/tensor.ts";
export type {
  Backend,
  BinaryOp,
  DType,
  MemoryInfo,
  ReduceOp,
  Shape,
  Storage,
  TypedArray,
  UnaryOp,
} from "./kernels/backend.ts";
export type { BackendName } from "./kernels/registry.ts";
export {
  backendFromEnvironment,
  backendNames,
  cpuBackend,
  getBackend,
  loadBackend,
  setBackend,
  useBackend,
} from "./kernels/registry.ts";
export { ReLU, Sigmoid } from "./nn/activations.ts";
export type { LinearOptions } from "./nn/linear.ts";
export { Linear } from "./nn/linear.ts";
export type { Reduction } from "./nn/losses.ts";
export { binaryCrossEntropy, binaryCrossEntropyWithLogits } from "./nn/losses.ts";
export { Module } from "./nn/module.ts";
export type { AdamOptions } from "./nn/optim/adam.ts";
export { Adam } from "./nn/optim/adam.ts";
export type { OptimizerState } from "./nn/optim/optimizer.ts";
export { Optimizer } from "./nn/optim/optimizer.ts";
export type { SGDOptions } from "./nn/optim/sgd.ts";
export { SGD } from "./nn/optim/sgd.ts";
export { decodeSafetensors, encodeSafetensors } from "./nn/safetensors.ts";
export type { Dataset, IdxArray, NamedBytes } from "./vae/dataset.ts";
export { datasetFromIdx, gatherImages, parseIdx, shuffledBatches } from "./vae/dataset.ts";
export type { ElboTerms } from "./vae/elbo.ts";
export { gaussianKl, negativeElbo } from "./vae/elbo.ts";
export type { ElboEvaluation, IwaeEvaluation } from "./vae/evaluate.ts";
export { evaluateElbo, evaluateIwae } from "./vae/evaluate.ts";
export type { VaeConfig, VaeOutput } from "./vae/model.ts";
export { BernoulliVAE } from "./vae/model.ts";
export { reparameterize, standardNormalLike } from "./vae/sampler.ts";
export type { EpochResult, StepReport } from "./vae/train.ts";
export { trainEpoch, trainStep } from "./vae/train.ts";
