/**
 * The checks the page runs on one backend, each a plain async function that returns what went
 * wrong or null: the library's kernels against the cpu backend in float64 within the gpu backend's
 * precision contract (src/kernels/gpu/precision.ts), a gradient check, and a few training steps of
 * the VAE that must lower the loss and track the cpu backend's. No test framework: the same list
 * runs in any page, reporting through the return values.
 */
import {
  Adam,
  add,
  type Backend,
  BernoulliVAE,
  cpuBackend,
  type Dataset,
  div,
  fromTypedArray,
  Generator,
  gatherImages,
  gradcheck,
  maximum,
  minimum,
  mul,
  setBackend,
  shuffledBatches,
  sub,
  type Tensor,
  trainStep,
} from "elbojs";
import { elementwiseTolerance, sumTolerance } from "elbojs/gpu";

export interface Check {
  name: string;
  run(backend: Backend): Promise<string | null>;
}

/** `fn` on `backend`: the current backend is switched for the call and put back after. */
function on<T>(backend: Backend, fn: () => T): T {
  setBackend(backend);
  try {
    return fn();
  } finally {
    setBackend(cpuBackend());
  }
}

/** Seeded uniform values in [low, high), as float32. */
function values(n: number, seed: number, low: number, high: number): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => low + (high - low) * g.uniform());
}

/** |got − exact| within `tolerance(i)` everywhere, NaN where exact is NaN, same infinities. */
function compare(
  name: string,
  got: ArrayLike<number>,
  exact: ArrayLike<number>,
  tolerance: (i: number) => number,
): string | null {
  for (let i = 0; i < exact.length; i++) {
    const [g, e] = [got[i], exact[i]];
    if (Number.isNaN(e) ? Number.isNaN(g) : g === e || Math.abs(g - e) <= tolerance(i)) continue;
    return `${name}: element ${i} is ${g}, expected ${e} within ${tolerance(i)}`;
  }
  return null;
}

/** Each op's inputs: inside its domain, with large magnitudes (as test/kernels/gpu/backend.test.ts draws them). */
const unaryDomains = {
  neg: [-50, 50],
  exp: [-80, 80],
  log: [1e-3, 1e3],
  sqrt: [0, 1e3],
  relu: [-5, 5],
  sigmoid: [-60, 60],
  tanh: [-20, 20],
  softplus: [-40, 40],
} as const;
const unaryOps = Object.keys(unaryDomains) as (keyof typeof unaryDomains)[];
const unaryChecks: Check[] = unaryOps.map((op) => ({
  name: `${op} within the precision contract`,
  async run(backend) {
    const [low, high] = unaryDomains[op];
    const x = values(64, 1, low, high);
    const got = await on(backend, () => fromTypedArray(x, [8, 8])[op]()).data();
    const exact = fromTypedArray(Float64Array.from(x), [8, 8])[op]().dataSync();
    return compare(op, got, exact, (i) => elementwiseTolerance(op, exact[i], x[i]));
  },
}));

const binaryOps = { add, sub, mul, div, max: maximum, min: minimum } as const;

const binaryChecks: Check[] = (Object.keys(binaryOps) as (keyof typeof binaryOps)[]).map((op) => ({
  name: `${op}, broadcasting [6, 8] with [8], within the precision contract`,
  async run(backend) {
    const [a, b] = [values(48, 2, -4, 4), values(8, 3, op === "div" ? 0.5 : -4, 4)];
    const fn = binaryOps[op];
    const got = await on(backend, () => fn(fromTypedArray(a, [6, 8]), fromTypedArray(b, [8]))).data();
    const exact = fn(
      fromTypedArray(Float64Array.from(a), [6, 8]),
      fromTypedArray(Float64Array.from(b), [8]),
    ).dataSync();
    return compare(op, got, exact, (i) => elementwiseTolerance(op, exact[i], a[i], b[i % 8]));
  },
}));

const powChecks: Check[] = [2, 3, 0.5, -1.5, 2.5].map((p) => ({
  name: `pow(x, ${p}) within the precision contract`,
  async run(backend) {
    const x = values(64, 8, 1e-2, 4);
    const got = await on(backend, () => fromTypedArray(x, [64]).pow(p)).data();
    const exact = fromTypedArray(Float64Array.from(x), [64]).pow(p).dataSync();
    return compare(`pow ${p}`, got, exact, (i) => elementwiseTolerance("pow", exact[i], x[i], p));
  },
}));

const finite = (n: number, seed: number) => values(n, seed, -4, 4);

const matmulChecks: Check[] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
].map(([transA, transB]) => ({
  name: `matmul transA=${transA} transB=${transB} within n·u·Σ|a·b|`,
  async run(backend) {
    const [m, k, n] = [5, 33, 7];
    const a = finite(m * k, 4);
    const b = finite(k * n, 5);
    const [aShape, bShape] = [transA ? [k, m] : [m, k], transB ? [n, k] : [k, n]];
    const options = { transA, transB };
    const got = await on(backend, () =>
      fromTypedArray(a, aShape).matmul(fromTypedArray(b, bShape), options),
    ).data();
    const exact = fromTypedArray(Float64Array.from(a), aShape)
      .matmul(fromTypedArray(Float64Array.from(b), bShape), options)
      .dataSync();
    const absSum = fromTypedArray(Float64Array.from(a, Math.abs), aShape)
      .matmul(fromTypedArray(Float64Array.from(b, Math.abs), bShape), options)
      .dataSync();
    return compare("matmul", got, exact, (i) => sumTolerance(k, absSum[i]));
  },
}));

const reduceChecks: Check[] = [
  { name: "sum over axis 1 within n·u·Σ|x|", op: "sum" as const, axis: 1 },
  { name: "sum over axis 0 within n·u·Σ|x|", op: "sum" as const, axis: 0 },
  { name: "max over axis 1, exactly", op: "max" as const, axis: 1 },
].map(({ name, op, axis }) => ({
  name,
  async run(backend) {
    const x = finite(12 * 40, 6);
    const got = await on(backend, () => fromTypedArray(x, [12, 40])[op](axis)).data();
    const exact = fromTypedArray(Float64Array.from(x), [12, 40])[op](axis).dataSync();
    const absSum = fromTypedArray(Float64Array.from(x, Math.abs), [12, 40]).sum(axis).dataSync();
    return compare(op, got, exact, (i) =>
      op === "max" ? 0 : sumTolerance(x.length / exact.length, absSum[i]),
    );
  },
}));

const gradcheckCheck: Check = {
  name: "gradcheck of a small MLP's loss passes",
  async run() {
    // gradcheck runs in float64, which every backend hands to the cpu kernels: it checks the engine.
    const x = fromTypedArray(finite(12, 7), [4, 3]);
    const w = fromTypedArray(finite(6, 8), [3, 2]);
    const report = gradcheck((xs: Tensor, ws: Tensor) => xs.matmul(ws).sigmoid().mul(xs.sum()).sum(), [x, w]);
    return report.passed ? null : report.message;
  },
};

/**
 * IEEE special values through each op: NaN propagates, infinities and signed zeros come out as in
 * float64 arithmetic. The cpu and wasm backends keep these; shader math (WGSL, GLSL) does not
 * promise them, so on the gpu backend the page reports which differ rather than failing.
 */
const specials = Float32Array.from([0, -0, 1, -1, Infinity, -Infinity, Number.NaN, 1e-3]);
export const specialValueChecks: Check[] = [
  ...unaryOps.map((op) => ({
    name: `${op} of 0, -0, ±1, ±Infinity, NaN`,
    async run(backend: Backend) {
      const got = await on(backend, () => fromTypedArray(specials, [8])[op]()).data();
      const exact = fromTypedArray(Float64Array.from(specials), [8])[op]().dataSync();
      return sameSpecials(op, got, exact);
    },
  })),
  ...(Object.keys(binaryOps) as (keyof typeof binaryOps)[]).map((op) => ({
    name: `${op} of every pair of 0, -0, ±1, ±Infinity, NaN`,
    async run(backend: Backend) {
      const fn = binaryOps[op];
      const got = await on(backend, () =>
        fn(fromTypedArray(specials, [8, 1]), fromTypedArray(specials, [8])),
      ).data();
      const exact = fn(
        fromTypedArray(Float64Array.from(specials), [8, 1]),
        fromTypedArray(Float64Array.from(specials), [8]),
      ).dataSync();
      return sameSpecials(op, got, exact);
    },
  })),
];

/** Each element as float64 gives it, rounded to float32 (NaN for NaN, signs of zero ignored). */
function sameSpecials(name: string, got: ArrayLike<number>, exact: ArrayLike<number>): string | null {
  for (let i = 0; i < exact.length; i++) {
    const want = Math.fround(exact[i]);
    if (
      Number.isNaN(want)
        ? Number.isNaN(got[i])
        : got[i] === want || Math.abs(got[i] - want) <= 1e-6 * Math.abs(want)
    )
      continue;
    return `${name}: element ${i} is ${got[i]}, float64 gives ${exact[i]}`;
  }
  return null;
}

/** Kernel and engine checks on finite values: the same list on every backend and mode. */
export const kernelChecks: Check[] = [
  ...unaryChecks,
  ...binaryChecks,
  ...powChecks,
  ...matmulChecks,
  ...reduceChecks,
  gradcheckCheck,
];

/**
 * `steps` Adam steps of the VAE (784–200–10, batch 64, seed 0) on `backend`, each one trainStep: the
 * per-image loss of each step and the milliseconds each step took (loss read back included).
 */
export async function trainVae(
  backend: Backend,
  data: Dataset,
  steps: number,
): Promise<{ losses: number[]; ms: number[] }> {
  setBackend(backend);
  try {
    const generator = new Generator(0);
    const model = new BernoulliVAE(
      { inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 },
      { generator },
    );
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const batches = shuffledBatches(data.count, 64, generator);
    const losses: number[] = [];
    const ms: number[] = [];
    for (let s = 0; s < steps; s++) {
      const start = performance.now();
      const indices = batches[s % batches.length];
      const results = trainStep(model, optimizer, gatherImages(data, indices), generator);
      const [loss] = await results[0].data();
      for (const t of results) t.dispose();
      losses.push(loss / indices.length);
      ms.push(performance.now() - start);
    }
    return { losses, ms };
  } finally {
    setBackend(cpuBackend());
  }
}

/**
 * The VAE check: the loss falls over the steps and tracks the cpu backend's step for step within
 * 1e-5 relative, the tolerance test/kernels/gpu/backend.training.test.ts documents (a few float32 ulps of
 * reordered sums, carried on by Adam; a wrong kernel moves it by percents).
 */
export function vaeVerdict(losses: number[], cpuLosses: number[]): string | null {
  if (!(cpuLosses[0] > 500)) return `the cpu loss starts at ${cpuLosses[0]}, not near 784·ln 2`;
  if (!(losses[losses.length - 1] < losses[0])) return `the loss did not fall: ${losses.join(", ")}`;
  for (let i = 0; i < losses.length; i++) {
    const relative = Math.abs(losses[i] - cpuLosses[i]) / cpuLosses[i];
    if (!(relative < 1e-5)) return `step ${i}: loss ${losses[i]}, cpu ${cpuLosses[i]} (relative ${relative})`;
  }
  return null;
}
