/**
 * elbo (the npm package `elbojs`): reverse-mode tensor autodiff, neural-network pieces and a VAE,
 * from scratch. This entry runs the same in Node and in a page: nothing here reaches a Node
 * built-in unless it finds Node. What reads or writes files is in `elbojs/node`; the options of the
 * wasm and gpu backends are in `elbojs/wasm` and `elbojs/gpu`.
 */

export type { CreateOptions, RandomOptions } from "./autograd/create.ts";
export { full, fullLike, ones, rand, randn, tensor, zeros, zerosLike } from "./autograd/create.ts";
export type { BackwardOptions } from "./autograd/engine.ts";
export { backward, gradients, releaseGraph, topologicalOrder } from "./autograd/engine.ts";
export { enableGrad, isGradEnabled, noGrad } from "./autograd/grad-mode.ts";
export type { GradcheckOptions, GradcheckReport, InputReport } from "./autograd/gradcheck.ts";
export { gradcheck, gradgradcheck } from "./autograd/gradcheck.ts";
export { dotToSvg, summarize, toDot, toSvg } from "./autograd/graph.ts";
export { hostEffect, hostTensor } from "./autograd/host.ts";
export type { Gradients, Vjp } from "./autograd/op.ts";
export { applyOp } from "./autograd/op.ts";
export { batchedMatmul } from "./autograd/ops/batched-matmul.ts";
export {
  equal,
  greater,
  greaterEqual,
  less,
  lessEqual,
  notEqual,
  sign,
} from "./autograd/ops/compare.ts";
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
export { gather, scatterAdd } from "./autograd/ops/gather.ts";
export { concat, indexSelect, slice, stack } from "./autograd/ops/indexing.ts";
export type { MatmulOptions } from "./autograd/ops/matmul.ts";
export { matmul } from "./autograd/ops/matmul.ts";
export { abs, clamp } from "./autograd/ops/piecewise.ts";
export { logsumexp, max, mean, sum } from "./autograd/ops/reduce.ts";
export { broadcastTo, gatherRows, reshape, sliceRows, transpose } from "./autograd/ops/shape.ts";
export { logSoftmax, softmax } from "./autograd/ops/softmax.ts";
export { where } from "./autograd/ops/where.ts";
export type { GeneratorState } from "./autograd/random.ts";
export { Generator, globalGenerator, manualSeed } from "./autograd/random.ts";
export { scoped, valuesOf } from "./autograd/scope.ts";
export type { NestedArray, Operand } from "./autograd/tensor.ts";
export { fromTypedArray, Tensor } from "./autograd/tensor.ts";
export type { JacobianTransform } from "./autograd/transforms.ts";
export {
  grad,
  hessian,
  hvp,
  jacfwd,
  jacobian,
  jacrev,
  jvp,
  valueAndGrad,
  vjp,
} from "./autograd/transforms.ts";
export type { CompiledStep, CompileOptions } from "./compile/compile.ts";
export { CompileError, compile } from "./compile/compile.ts";
export type {
  Backend,
  BackendDescription,
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
export { crossEntropy } from "./nn/cross-entropy.ts";
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
export type { ByteSource, EncodeOptions, SafetensorsEntry } from "./nn/safetensors.ts";
export { decodeSafetensors, encodeSafetensors, encodeSafetensorsParts } from "./nn/safetensors.ts";
export type { TrainingConfig } from "./vae/checkpoint-format.ts";
export type { Dataset, IdxArray } from "./vae/dataset.ts";
export { datasetFromIdx, gatherImages, parseIdx, shuffledBatches } from "./vae/dataset.ts";
export type { ElboTerms } from "./vae/elbo.ts";
export { gaussianKl, negativeElbo } from "./vae/elbo.ts";
export type { ElboEvaluation, IwaeEvaluation } from "./vae/evaluate.ts";
export { evaluateElbo, evaluateIwae } from "./vae/evaluate.ts";
export type { VaeConfig, VaeOutput } from "./vae/model.ts";
export { BernoulliVAE } from "./vae/model.ts";
export type { Run, TrainOptions } from "./vae/run.ts";
export { disposeRun, initialTestLoss, startRun, trainRun } from "./vae/run.ts";
export { reparameterize, standardNormalLike } from "./vae/sampler.ts";
export type { EpochResult, Inspect, Step, StepReport } from "./vae/train.ts";
export { stepOf, TrainingDiverged, trainEpoch, trainStep } from "./vae/train.ts";
