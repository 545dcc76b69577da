/**
 * Every op in one table, as MiniTorch's testing.py: for each, its function and method forms, a
 * float64 reference written here from the op's definition (sharing no code with the library), the
 * calls where it is smooth (a fast-check arbitrary of inputs and arguments), whether its second
 * derivative is checked, its tolerances, and the backend kernels its forward runs.
 *
 * op-table.test.ts runs every check over every entry: first and second derivatives against finite
 * differences, float64 values and float32 precision against the reference, the name the output
 * records, the method against the function, and that every export of src/index.ts and every Tensor
 * method that returns a Tensor is here or in `notInTable`. The kernel conformance suite
 * (test/kernels/conformance.ts) takes its unary and binary ops from `kernelOps`. So a new op is
 * added once, here, and no check can leave it out.
 *
 * No vitest and no node: here: the conformance suite, which imports this, also runs in a page.
 */
import fc from "fast-check";
import type { GradcheckOptions } from "../../src/autograd/gradcheck.ts";
import { sumToShape } from "../../src/autograd/ops/shape.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import {
  abs,
  add,
  batchedMatmul,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  broadcastTo,
  cast,
  clamp,
  concat,
  crossEntropy,
  div,
  exp,
  gather,
  gatherRows,
  gaussianKl,
  indexSelect,
  log,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  pow,
  type Reduction,
  relu,
  reparameterize,
  reshape,
  scatterAdd,
  sigmoid,
  slice,
  sliceRows,
  softmax,
  softplus,
  sqrt,
  stack,
  sub,
  sum,
  tanh,
  tensor,
  transpose,
  where,
} from "../../src/index.ts";
import type { BinaryOp, UnaryOp } from "../../src/kernels/backend.ts";
import {
  awayFromZeroArb,
  broadcastPairArb,
  distinctValuesArb,
  randomTensorArb,
  shapeArb,
  tensorArb,
  valuesArb,
} from "../fixtures/arbitraries.ts";
import { broadcastSource, ravel, unravel } from "../fixtures/ravel.ts";

/** An array as plain numbers: what a reference computes on. */
export interface Plain {
  shape: number[];
  values: number[];
}

/** One call of an op: the tensors it differentiates (float64), and its other arguments. */
export interface OpCall<P> {
  inputs: Tensor[];
  params: P;
}

/** What a float32 bound is computed from: the exact answer, the (float32) inputs, the call's arguments. */
export interface BoundContext<P> {
  exact: Plain;
  inputs: Plain[];
  params: P;
  reference: (inputs: Plain[], params: P) => Plain;
}

/** The largest |float32 result − exact answer| at element i; 0 asks for the float32 rounding itself. */
export type Float32Bound<P> = (c: BoundContext<P>) => (i: number) => number;

export interface OpEntry<P> {
  /** The op as a user calls it: the name src/index.ts exports it by (or the Tensor method's). */
  name: string;
  /** What tells this entry from another of the same op (the dtype a cast goes to). */
  variant?: string;
  /**
   * The op its output records (out.op): what graphs, printing and errors show. A composite op's
   * output records the last op it is made of, which may depend on the call.
   */
  recordedAs: string | ((c: OpCall<P>) => string);
  /** The function form. */
  fn(inputs: Tensor[], params: P): Tensor;
  /** The method form on Tensor, with the method's name, where there is one. */
  method: { name: string; call(inputs: Tensor[], params: P): Tensor } | null;
  /** Calls where the op is smooth: the domain of the derivative checks and of the float64 reference check. */
  domain: fc.Arbitrary<OpCall<P>>;
  /** The op on plain float64 numbers, from its definition. */
  reference(inputs: Plain[], params: P): Plain;
  /** Whether gradgradcheck checks its second derivative, or why not. */
  secondDerivative: true | { notChecked: string };
  /** gradcheck's and gradgradcheck's options, where the defaults do not fit (the reason beside them). */
  gradcheck?: GradcheckOptions;
  /** float32 against the reference: the calls (default: `domain`, rounded to float32) and the bound. */
  float32: { domain?: fc.Arbitrary<OpCall<P>>; bound: Float32Bound<P> };
  /** The backend's unary and binary kernels its forward runs. */
  kernels: { unary?: readonly UnaryOp[]; binary?: readonly BinaryOp[] };
}

/** The entry's name in test titles. */
export const titleOf = (entry: OpEntry<unknown>) =>
  entry.variant === undefined ? entry.name : `${entry.name} (${entry.variant})`;

/** Keeps each entry's parameter type while the table holds them all. */
function op<P>(entry: OpEntry<P>): OpEntry<unknown> {
  return entry as OpEntry<unknown>;
}

// ---- plain arrays ------------------------------------------------------------------------------

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The values of a tensor as a plain array. */
export function plainOf(t: Tensor): Plain {
  return { shape: [...t.shape], values: Array.from(t.dataSync()) };
}

/** A tensor of a plain array, in the dtype of `like`. */
const tensorLike = (like: Tensor, p: Plain) => tensor(Float64Array.from(p.values), p.shape).to(like.dtype);

function broadcastShape(shapes: readonly number[][]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  return range(rank).map((i) => Math.max(1, ...shapes.map((s) => s[s.length - rank + i] ?? 1)));
}

/** An elementwise op with NumPy broadcasting, from its value at one element. */
function elementwise(at: (...xs: number[]) => number): (inputs: Plain[]) => Plain {
  return (inputs) => {
    const shape = broadcastShape(inputs.map((p) => p.shape));
    const values = range(sizeOf(shape)).map((flat) => {
      const index = unravel(flat, shape);
      return at(...inputs.map((p) => p.values[broadcastSource(index, p.shape)]));
    });
    return { shape, values };
  };
}

const positiveAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/**
 * Every line of `xs` along `axis` (the same for each input but along the axis), mapped by `f` to a
 * new line, which may be longer or shorter: the reference of every one-axis op.
 */
function alongAxis(xs: Plain[], axis: number, f: (lines: number[][]) => number[]): Plain {
  const shape = xs[0].shape;
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const outLines: number[][] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      outLines.push(
        f(xs.map((x) => range(x.shape[axis]).map((j) => x.values[(o * x.shape[axis] + j) * inner + i]))),
      );
    }
  }
  const length = outLines[0]?.length ?? f(xs.map(() => [])).length;
  const values = new Array<number>(outer * length * inner);
  outLines.forEach((line, n) => {
    const [o, i] = [Math.floor(n / inner), n % inner];
    line.forEach((v, j) => {
      values[(o * length + j) * inner + i] = v;
    });
  });
  return { shape: shape.map((d, k) => (k === axis ? length : d)), values };
}

/** Sorted, distinct, non-negative axes; undefined means all of them. */
function axesOf(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return range(rank);
  const list = typeof axes === "number" ? [axes] : axes;
  return [...new Set(list.map((a) => positiveAxis(a, rank)))].sort((a, b) => a - b);
}

/** A reduction over `axes`, each group of values folded to one. */
function reduceOver(x: Plain, axes: number[], keepdims: boolean, fold: (values: number[]) => number): Plain {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups: number[][] = range(sizeOf(kept)).map(() => []);
  x.values.forEach((v, flat) => {
    groups[
      ravel(
        unravel(flat, x.shape).map((j, i) => (axes.includes(i) ? 0 : j)),
        kept,
      )
    ].push(v);
  });
  return {
    shape: keepdims ? kept : x.shape.filter((_, i) => !axes.includes(i)),
    values: groups.map(fold),
  };
}

const total = (values: number[]) => values.reduce((s, v) => s + v, 0);
const lse = (values: number[]) => {
  const m = Math.max(...values);
  return m + Math.log(total(values.map((v) => Math.exp(v - m))));
};

/** Python's list[start:end:step], by its definition. */
export function pythonSlice<T>(list: readonly T[], start?: number, end?: number, step = 1): T[] {
  const n = list.length;
  const norm = (v: number, low: number, high: number) => Math.min(Math.max(v < 0 ? v + n : v, low), high);
  const out: T[] = [];
  if (step > 0) {
    const to = end === undefined ? n : norm(end, 0, n);
    for (let i = start === undefined ? 0 : norm(start, 0, n); i < to; i += step) out.push(list[i]);
  } else {
    const to = end === undefined ? -1 : norm(end, -1, n - 1);
    for (let i = start === undefined ? n - 1 : norm(start, -1, n - 1); i > to; i += step) out.push(list[i]);
  }
  return out;
}

/** op(A)·op(B) over broadcast batch dimensions (none for a 2-D matmul), by the triple loop. */
export function referenceMatmul(a: Plain, b: Plain, transA: boolean, transB: boolean): Plain {
  const [m, k] = transA ? [a.shape.at(-1)!, a.shape.at(-2)!] : [a.shape.at(-2)!, a.shape.at(-1)!];
  const n = transB ? b.shape.at(-2)! : b.shape.at(-1)!;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShape([aBatch, bBatch]);
  const values: number[] = [];
  for (let s = 0; s < sizeOf(batch); s++) {
    const index = unravel(s, batch);
    const ao = broadcastSource(index, aBatch) * m * k;
    const bo = broadcastSource(index, bBatch) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          acc +=
            a.values[ao + (transA ? p * m + i : i * k + p)] * b.values[bo + (transB ? j * k + p : p * n + j)];
        }
        values.push(acc);
      }
    }
  }
  return { shape: [...batch, m, n], values };
}

const softplusOf = (v: number) => (v > 30 ? v : Math.log1p(Math.exp(v)));
const sigmoidOf = (v: number) => 1 / (1 + Math.exp(-v));

function reduceLoss(terms: Plain, reduction: Reduction): Plain {
  if (reduction === "none") return terms;
  const s = total(terms.values);
  return { shape: [], values: [reduction === "sum" ? s : s / terms.values.length] };
}

// ---- bounds -------------------------------------------------------------------------------------

const EPS_F32 = 2 ** -23;
const U_F32 = 2 ** -24;
/** Results below float32's smallest normal number lose relative precision by design. */
const TINY = 2 ** -126;

/**
 * One rounding (or a few ulps of a transcendental function) per element. 1e-6 is eight float32 ulps:
 * the cpu backend rounds a float64 result once (½ ulp), and a wrong formula is off by far more.
 */
const elementwiseBound =
  <P>(c: BoundContext<P>) =>
  (i: number) =>
    1e-6 * Math.abs(c.exact.values[i]) + TINY;

/** Values moved or chosen, not computed: the float32 rounding of the exact answer, bit for bit. */
const exactBound =
  <P>(_: BoundContext<P>) =>
  (_i: number) =>
    0;

/**
 * A sum of n terms: n·eps_f32·(the same op on |inputs|) plus the final rounding, the textbook bound
 * of recursive summation (γₙ ≈ n·u, doubled). For matmul, n = K and the op on |A|, |B| is |A|·|B|.
 */
function summationBound<P>(terms: (inputs: Plain[], params: P) => number): Float32Bound<P> {
  return (c) => {
    const magnitude = c.reference(
      c.inputs.map((p) => ({ shape: p.shape, values: p.values.map(Math.abs) })),
      c.params,
    );
    const n = terms(c.inputs, c.params);
    return (i) => n * EPS_F32 * Math.abs(magnitude.values[i]) + U_F32 * Math.abs(c.exact.values[i]) + TINY;
  };
}

/**
 * log Σ exp over n numbers (and what is built on it): the sum of exponentials, each ≤ 1 after the
 * max shift, is relatively accurate to n·eps, and log turns that into absolute error, so
 * (n + 4)·eps_f32·(1 + |value|).
 */
function logSumExpBound<P>(terms: (inputs: Plain[], params: P) => number): Float32Bound<P> {
  return (c) => {
    const n = terms(c.inputs, c.params);
    return (i) => (n + 4) * EPS_F32 * (1 + Math.abs(c.exact.values[i]));
  };
}

// ---- domains ------------------------------------------------------------------------------------

type Values = (size: number) => fc.Arbitrary<number[]>;
const call = <P>(inputs: Tensor[], params: P): OpCall<P> => ({ inputs, params });

const unaryDomain = (values: Values = valuesArb) => randomTensorArb(values).map((x) => call([x], undefined));
const binaryDomain = (aValues: Values = valuesArb, bValues: Values = aValues) =>
  broadcastPairArb
    .chain(({ a, b }) => fc.tuple(tensorArb(a, aValues), tensorArb(b, bValues)))
    .map(([a, b]) => call([a, b], undefined));

/** float32 numbers in [min, max], for the float32 checks (wider than where finite differences work). */
const float32Values =
  (min: number, max: number): Values =>
  (n) =>
    fc.array(fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true }), {
      minLength: n,
      maxLength: n,
    });
/** float32 numbers with min ≤ |v| ≤ max, either sign (denominators). */
const float32AwayFromZero =
  (min: number, max: number): Values =>
  (n) =>
    fc
      .tuple(float32Values(min, max)(n), fc.array(fc.boolean(), { minLength: n, maxLength: n }))
      .map(([v, negative]) => v.map((x, i) => (negative[i] ? -x : x)));
const positive: Values = (n) => valuesArb(n, 0.2, 4);
/** Values on the grid k/4 + offset: two grids an eighth apart never tie, not even after a finite-difference step. */
const grid =
  (offset: number): Values =>
  (n) =>
    fc.array(
      fc.integer({ min: -8, max: 8 }).map((k) => k / 4 + offset),
      { minLength: n, maxLength: n },
    );

type Axes = number | number[] | undefined;
/** A tensor of rank ≥ minRank with an axes argument: undefined (all), one axis, or a subset, some negative. */
function reductionDomain(values: Values, minRank = 0) {
  return randomTensorArb(values, minRank).chain((x) => {
    const r = x.ndim;
    const axis = r === 0 ? fc.constant(undefined) : fc.integer({ min: -r, max: r - 1 });
    const subset = fc
      .subarray(range(r), { minLength: 0 })
      .chain((axes) => fc.tuple(...axes.map((a) => fc.constantFrom(a, a - r))))
      .map((axes) => axes as number[]);
    return fc
      .tuple(fc.oneof(fc.constant(undefined), axis, subset), fc.boolean())
      .map(([axes, keepdims]) => call([x], { axes: axes as Axes, keepdims }));
  });
}

/** A tensor of rank ≥ 1 with one axis of it, negative half the time. */
const axisDomain = (values: Values = valuesArb) =>
  randomTensorArb(values, 1).chain((x) =>
    fc
      .integer({ min: -x.ndim, max: x.ndim - 1 })
      .map((axis) => ({ x, axis, at: positiveAxis(axis, x.ndim) })),
  );

const matmulDims = fc.tuple(
  fc.integer({ min: 1, max: 4 }),
  fc.integer({ min: 1, max: 4 }),
  fc.integer({ min: 1, max: 4 }),
  fc.boolean(),
  fc.boolean(),
);

// ---- the table ----------------------------------------------------------------------------------

const unaryOps: [string, (x: Tensor) => Tensor, (x: number) => number, Values, Values][] = [
  // name, function, reference, derivative domain, float32 domain
  ["neg", neg, (v) => -v, valuesArb, float32Values(-100, 100)],
  ["exp", exp, Math.exp, valuesArb, float32Values(-80, 80)],
  ["log", log, Math.log, positive, float32Values(1e-30, 1e30)],
  ["sqrt", sqrt, Math.sqrt, positive, float32Values(0, 1e30)],
  ["relu", relu, (v) => Math.max(v, 0), (n) => awayFromZeroArb(n, 0.1, 2), float32Values(-100, 100)],
  ["sigmoid", sigmoid, sigmoidOf, (n) => valuesArb(n, -5, 5), float32Values(-80, 80)],
  ["tanh", tanh, Math.tanh, (n) => valuesArb(n, -3, 3), float32Values(-20, 20)],
  ["softplus", softplus, softplusOf, (n) => valuesArb(n, -5, 5), float32Values(-80, 80)],
];

const binaryOps: [string, (a: Tensor, b: Tensor) => Tensor, (a: number, b: number) => number][] = [
  ["add", add, (a, b) => a + b],
  ["sub", sub, (a, b) => a - b],
  ["mul", mul, (a, b) => a * b],
];

export const opTable: readonly OpEntry<unknown>[] = [
  ...binaryOps.map(([name, f, at]) =>
    op({
      name,
      recordedAs: name,
      fn: ([a, b]) => f(a, b),
      method: { name, call: ([a, b]) => (a as unknown as Record<string, (b: Tensor) => Tensor>)[name](b) },
      domain: binaryDomain(),
      reference: elementwise(at),
      secondDerivative: true,
      float32: { domain: binaryDomain(float32Values(-100, 100)), bound: elementwiseBound },
      kernels: { binary: [name as BinaryOp] },
    }),
  ),
  op({
    name: "div",
    recordedAs: "div",
    fn: ([a, b]) => div(a, b),
    method: { name: "div", call: ([a, b]) => a.div(b) },
    domain: binaryDomain(valuesArb, (n) => awayFromZeroArb(n, 0.5, 2)),
    reference: elementwise((a, b) => a / b),
    secondDerivative: true,
    float32: {
      domain: binaryDomain(float32Values(-100, 100), float32AwayFromZero(0.5, 100)),
      bound: elementwiseBound,
    },
    kernels: { binary: ["div"] },
  }),
  op({
    name: "maximum",
    recordedAs: "maximum",
    fn: ([a, b]) => maximum(a, b),
    method: null,
    // Away from ties (ties split the gradient in half: ops/elementwise.test.ts).
    domain: binaryDomain(grid(0), grid(1 / 8)),
    reference: elementwise(Math.max),
    secondDerivative: true,
    float32: { domain: binaryDomain(float32Values(-100, 100)), bound: exactBound },
    kernels: { binary: ["max"] },
  }),
  op({
    name: "minimum",
    recordedAs: "minimum",
    fn: ([a, b]) => minimum(a, b),
    method: null,
    domain: binaryDomain(grid(0), grid(1 / 8)),
    reference: elementwise(Math.min),
    secondDerivative: true,
    float32: { domain: binaryDomain(float32Values(-100, 100)), bound: exactBound },
    kernels: { binary: ["min"] },
  }),
  ...unaryOps.map(([name, f, at, values, values32]) =>
    op({
      name,
      recordedAs: name,
      fn: ([x]) => f(x),
      method: { name, call: ([x]) => (x as unknown as Record<string, () => Tensor>)[name]() },
      domain: unaryDomain(values),
      reference: elementwise(at),
      secondDerivative: true,
      float32: { domain: unaryDomain(values32), bound: elementwiseBound },
      kernels: { unary: [name as UnaryOp] },
    }),
  ),
  op<number>({
    name: "pow",
    recordedAs: "pow",
    fn: ([x], p) => pow(x, p),
    method: { name: "pow", call: ([x], p) => x.pow(p) },
    // An integer exponent on any base, or any exponent on a positive base.
    domain: fc
      .oneof(
        fc.tuple(randomTensorArb(), fc.integer({ min: 0, max: 4 })),
        fc.tuple(
          randomTensorArb((n) => valuesArb(n, 0.3, 3)),
          fc.double({ min: -2.5, max: 2.5, noNaN: true }),
        ),
      )
      .map(([x, p]) => call([x], p)),
    reference: ([x], p) => elementwise((v) => v ** p)([x]),
    secondDerivative: true,
    float32: {
      domain: fc
        .oneof(
          fc.tuple(randomTensorArb(float32Values(-1e10, 1e10)), fc.constant(3)),
          fc.tuple(randomTensorArb(float32Values(0, 1e30)), fc.constant(0.5)),
        )
        .map(([x, p]) => call([x], p)),
      bound: elementwiseBound,
    },
    kernels: { binary: ["pow"] },
  }),
  op({
    name: "cast",
    variant: "to float64",
    recordedAs: "cast:float64",
    fn: ([x]) => cast(x, "float64"),
    method: { name: "to", call: ([x]) => x.to("float64") },
    domain: unaryDomain(),
    reference: ([x]) => x,
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op({
    name: "cast",
    variant: "to float32",
    recordedAs: "cast:float32",
    fn: ([x]) => cast(x, "float32"),
    method: { name: "to", call: ([x]) => x.to("float32") },
    domain: unaryDomain(),
    reference: ([x]) => ({ shape: x.shape, values: x.values.map(Math.fround) }),
    secondDerivative: true,
    // Checked through float32 and back: finite differences can only see steps float32 resolves.
    gradcheck: { eps: 1e-3, atol: 1e-3 },
    float32: { bound: exactBound },
    kernels: {},
  }),
  op({
    name: "abs",
    recordedAs: "abs",
    fn: ([x]) => abs(x),
    method: { name: "abs", call: ([x]) => x.abs() },
    domain: unaryDomain((n) => awayFromZeroArb(n, 0.1, 2)),
    reference: elementwise(Math.abs),
    secondDerivative: true,
    float32: { domain: unaryDomain(float32Values(-100, 100)), bound: exactBound },
    kernels: { unary: ["abs"] },
  }),
  op<{ min?: number; max?: number }>({
    name: "clamp",
    recordedAs: "where",
    fn: ([x], { min, max }) => clamp(x, min, max),
    method: { name: "clamp", call: ([x], { min, max }) => x.clamp(min, max) },
    // Values on the grid k/4 + 1/8, bounds on the grid k/4: never within a finite-difference step.
    domain: fc
      .tuple(
        randomTensorArb(grid(1 / 8)),
        fc.option(fc.integer({ min: -8, max: 0 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
      )
      .filter(([, lo, hi]) => lo !== undefined || hi !== undefined)
      .map(([x, lo, hi]) =>
        call([x], { min: lo === undefined ? undefined : lo / 4, max: hi === undefined ? undefined : hi / 4 }),
      ),
    reference: ([x], { min, max }) =>
      elementwise((v) => Math.min(Math.max(v, min ?? -Infinity), max ?? Infinity))([x]),
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<{ cond: Plain }>({
    name: "where",
    recordedAs: "where",
    fn: ([a, b], { cond }) => where(tensorLike(a, cond), a, b),
    method: null,
    domain: broadcastPairArb.chain(({ a, b, out }) =>
      fc
        .tuple(
          tensorArb(a),
          tensorArb(b),
          fc.array(fc.constantFrom(0, 1), { minLength: sizeOf(out), maxLength: sizeOf(out) }),
        )
        .map(([x, y, c]) => call([x, y], { cond: { shape: out, values: c } })),
    ),
    reference: ([a, b], { cond }) => elementwise((c, x, y) => (c !== 0 ? x : y))([cond, a, b]),
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<{ transA: boolean; transB: boolean }>({
    name: "matmul",
    recordedAs: "matmul",
    fn: ([a, b], options) => matmul(a, b, options),
    method: { name: "matmul", call: ([a, b], options) => a.matmul(b, options) },
    domain: matmulDims.chain(([m, k, n, transA, transB]) =>
      fc
        .tuple(tensorArb(transA ? [k, m] : [m, k]), tensorArb(transB ? [n, k] : [k, n]))
        .map(([a, b]) => call([a, b], { transA, transB })),
    ),
    reference: ([a, b], { transA, transB }) => referenceMatmul(a, b, transA, transB),
    secondDerivative: true,
    float32: { bound: summationBound(([a], { transA }) => (transA ? a.shape[0] : a.shape[1])) },
    kernels: {},
  }),
  op<{ transA: boolean; transB: boolean }>({
    name: "batchedMatmul",
    // One matrix B shared by every batch is a single 2-D matmul over all the rows of A, reshaped.
    recordedAs: ({ inputs: [a, b], params: { transA } }) =>
      b.ndim === 2 && !transA ? (a.ndim === 2 ? "matmul" : "reshape") : "batchedMatmul",
    fn: ([a, b], options) => batchedMatmul(a, b, options),
    method: { name: "batchedMatmul", call: ([a, b], options) => a.batchedMatmul(b, options) },
    // Batch dimensions that broadcast; half the time one shared right-hand matrix (the x·W of a layer).
    domain: fc
      .tuple(broadcastPairArb, matmulDims, fc.boolean())
      .chain(([batch, [m, k, n, transA, transB], shared]) =>
        fc
          .tuple(
            tensorArb([...batch.a, ...(transA ? [k, m] : [m, k])]),
            tensorArb([...(shared ? [] : batch.b), ...(transB ? [n, k] : [k, n])]),
          )
          .map(([a, b]) => call([a, b], { transA, transB })),
      ),
    reference: ([a, b], { transA, transB }) => referenceMatmul(a, b, transA, transB),
    secondDerivative: true,
    float32: { bound: summationBound(([a], { transA }) => (transA ? a.shape.at(-2)! : a.shape.at(-1)!)) },
    kernels: {},
  }),
  op<{ axes: Axes; keepdims: boolean }>({
    name: "sum",
    recordedAs: "sum",
    fn: ([x], { axes, keepdims }) => sum(x, axes, keepdims),
    method: { name: "sum", call: ([x], { axes, keepdims }) => x.sum(axes, keepdims) },
    domain: reductionDomain(valuesArb),
    reference: ([x], { axes, keepdims }) => reduceOver(x, axesOf(axes, x.shape.length), keepdims, total),
    secondDerivative: true,
    float32: {
      bound: summationBound(([x], { axes }) => sizeOf(axesOf(axes, x.shape.length).map((a) => x.shape[a]))),
    },
    kernels: {},
  }),
  op<{ axes: Axes; keepdims: boolean }>({
    name: "mean",
    recordedAs: "div",
    fn: ([x], { axes, keepdims }) => mean(x, axes, keepdims),
    method: { name: "mean", call: ([x], { axes, keepdims }) => x.mean(axes, keepdims) },
    domain: reductionDomain(valuesArb),
    reference: ([x], { axes, keepdims }) =>
      reduceOver(x, axesOf(axes, x.shape.length), keepdims, (v) => total(v) / v.length),
    secondDerivative: true,
    float32: {
      bound: summationBound(([x], { axes }) => sizeOf(axesOf(axes, x.shape.length).map((a) => x.shape[a]))),
    },
    kernels: {},
  }),
  op<{ axes: Axes; keepdims: boolean }>({
    name: "max",
    recordedAs: "max",
    fn: ([x], { axes, keepdims }) => max(x, axes, keepdims),
    method: { name: "max", call: ([x], { axes, keepdims }) => x.max(axes, keepdims) },
    // No ties (tied maxima share the gradient: ops/reduce.test.ts).
    domain: reductionDomain(distinctValuesArb),
    reference: ([x], { axes, keepdims }) =>
      reduceOver(x, axesOf(axes, x.shape.length), keepdims, (v) => Math.max(...v)),
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<{ axis: number; keepdims: boolean }>({
    name: "logsumexp",
    // m + log Σ exp(x − m), the reduced axis then dropped unless kept.
    recordedAs: ({ params: { keepdims } }) => (keepdims ? "add" : "reshape"),
    fn: ([x], { axis, keepdims }) => logsumexp(x, axis, keepdims),
    method: { name: "logsumexp", call: ([x], { axis, keepdims }) => x.logsumexp(axis, keepdims) },
    domain: fc
      .tuple(
        axisDomain((n) => valuesArb(n, -4, 4)),
        fc.boolean(),
      )
      .map(([{ x, axis }, keepdims]) => call([x], { axis, keepdims })),
    reference: ([x], { axis, keepdims }) =>
      reduceOver(x, [positiveAxis(axis, x.shape.length)], keepdims, lse),
    secondDerivative: true,
    float32: {
      domain: fc
        .tuple(axisDomain(float32Values(-50, 50)), fc.boolean())
        .map(([{ x, axis }, keepdims]) => call([x], { axis, keepdims })),
      bound: logSumExpBound(([x], { axis }) => x.shape[positiveAxis(axis, x.shape.length)]),
    },
    kernels: {},
  }),
  ...(
    [
      ["softmax", softmax, "div", (line: number[]) => line.map((v) => Math.exp(v - lse(line)))],
      ["logSoftmax", logSoftmax, "sub", (line: number[]) => line.map((v) => v - lse(line))],
    ] as const
  ).map(([name, f, recordedAs, at]) =>
    op<{ axis: number }>({
      name,
      recordedAs,
      fn: ([x], { axis }) => f(x, axis),
      method: { name, call: ([x], { axis }) => x[name](axis) },
      domain: axisDomain((n) => valuesArb(n, -4, 4)).map(({ x, axis }) => call([x], { axis })),
      reference: ([x], { axis }) => alongAxis([x], positiveAxis(axis, x.shape.length), ([line]) => at(line)),
      secondDerivative: true,
      float32: { bound: logSumExpBound(([x], { axis }) => x.shape[positiveAxis(axis, x.shape.length)]) },
      kernels: {},
    }),
  ),
  op<number[]>({
    name: "reshape",
    recordedAs: "reshape",
    fn: ([x], shape) => reshape(x, shape),
    method: { name: "reshape", call: ([x], shape) => x.reshape(shape) },
    // Another shape of the same size, with and without an inferred −1 (never the shape it has: that is x itself).
    domain: randomTensorArb().chain((x) => {
      const reversed = [...x.shape].reverse();
      const targets: number[][] = [
        [x.size, 1],
        [-1, 1],
        [1, ...x.shape, 1],
      ];
      if (reversed.length > 1) targets.push(reversed.map((d, i) => (i === 0 ? -1 : d)).concat([1]));
      const resolved = (t: number[]) =>
        t.map((d) => (d === -1 ? x.size / sizeOf(t.filter((u) => u !== -1)) : d));
      const other = targets.filter((t) => resolved(t).join() !== x.shape.join());
      return fc.constantFrom(...other).map((target) => call([x], target));
    }),
    reference: ([x], target) => ({
      shape: target.map((d) => (d === -1 ? sizeOf(x.shape) / sizeOf(target.filter((t) => t !== -1)) : d)),
      values: x.values,
    }),
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<number[] | undefined>({
    name: "transpose",
    recordedAs: "transpose",
    fn: ([x], perm) => transpose(x, perm),
    method: { name: "transpose", call: ([x], perm) => x.transpose(perm) },
    // The default (reversed axes) or a random permutation; cyclic ones need the inverse in backward.
    domain: randomTensorArb(valuesArb, 2).chain((x) =>
      fc
        .option(fc.shuffledSubarray(range(x.ndim), { minLength: x.ndim, maxLength: x.ndim }), {
          nil: undefined,
        })
        .map((perm) => call([x], perm)),
    ),
    reference: ([x], perm) => {
      const p = perm ?? range(x.shape.length).reverse();
      const shape = p.map((a) => x.shape[a]);
      const values = range(x.values.length).map((flat) => {
        const out = unravel(flat, shape);
        const index = new Array<number>(p.length);
        p.forEach((a, d) => {
          index[a] = out[d];
        });
        return x.values[ravel(index, x.shape)];
      });
      return { shape, values };
    },
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<number[]>({
    name: "broadcastTo",
    recordedAs: "broadcastTo",
    fn: ([x], shape) => broadcastTo(x, shape),
    method: { name: "broadcastTo", call: ([x], shape) => x.broadcastTo(shape) },
    // A shape it really broadcasts to: one more leading dimension at least.
    domain: broadcastPairArb.chain(({ a, out }) => tensorArb(a).map((x) => call([x], [2, ...out]))),
    reference: ([x], shape) => ({
      shape,
      values: range(sizeOf(shape)).map((flat) => x.values[broadcastSource(unravel(flat, shape), x.shape)]),
    }),
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<number[]>({
    name: "sumToShape",
    recordedAs: "sumToShape",
    fn: ([x], shape) => sumToShape(x, shape),
    method: null,
    // The adjoint of broadcastTo: from a broadcast result back to one of its operands' shapes.
    domain: broadcastPairArb.chain(({ a, out }) => tensorArb([2, ...out]).map((x) => call([x], a))),
    reference: ([x], shape) => {
      const values = new Array<number>(sizeOf(shape)).fill(0);
      x.values.forEach((v, flat) => {
        values[broadcastSource(unravel(flat, x.shape), shape)] += v;
      });
      return { shape, values };
    },
    secondDerivative: true,
    float32: { bound: summationBound(([x], shape) => sizeOf(x.shape) / sizeOf(shape)) },
    kernels: {},
  }),
  op<number[]>({
    name: "gatherRows",
    recordedAs: "gather",
    fn: ([x], rows) => gatherRows(x, rows),
    method: { name: "gatherRows", call: ([x], rows) => x.gatherRows(rows) },
    // The first index again at the end, so every call takes some row twice.
    domain: randomTensorArb(valuesArb, 1).chain((x) =>
      fc
        .array(fc.integer({ min: 0, max: x.shape[0] - 1 }), { minLength: 1, maxLength: 6 })
        .map((rows) => call([x], [...rows, rows[0]])),
    ),
    reference: ([x], rows) => alongAxis([x], 0, ([line]) => rows.map((r) => line[r])),
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<[number, number]>({
    name: "sliceRows",
    recordedAs: "gather",
    fn: ([x], [start, end]) => sliceRows(x, start, end),
    method: { name: "sliceRows", call: ([x], [start, end]) => x.sliceRows(start, end) },
    domain: randomTensorArb(valuesArb, 1).chain((x) =>
      fc
        .tuple(fc.integer({ min: 0, max: x.shape[0] }), fc.integer({ min: 0, max: x.shape[0] }))
        .map(([i, j]) => call([x], [Math.min(i, j), Math.max(i, j)] as [number, number])),
    ),
    reference: ([x], [start, end]) => alongAxis([x], 0, ([line]) => line.slice(start, end)),
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<{ axis: number; indices: number[] }>({
    name: "indexSelect",
    recordedAs: "gather",
    fn: ([x], { axis, indices }) => indexSelect(x, axis, indices),
    method: { name: "indexSelect", call: ([x], { axis, indices }) => x.indexSelect(axis, indices) },
    // Repeats and no indices at all included.
    domain: axisDomain().chain(({ x, axis, at }) =>
      fc
        .array(fc.integer({ min: 0, max: x.shape[at] - 1 }), { maxLength: 5 })
        .map((indices) => call([x], { axis, indices })),
    ),
    reference: ([x], { axis, indices }) =>
      alongAxis([x], positiveAxis(axis, x.shape.length), ([line]) => indices.map((i) => line[i])),
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<{ axis: number; start?: number; end?: number; step: number }>({
    name: "slice",
    recordedAs: "gather",
    fn: ([x], { axis, start, end, step }) => slice(x, axis, start, end, step),
    method: { name: "slice", call: ([x], { axis, start, end, step }) => x.slice(axis, start, end, step) },
    domain: fc
      .tuple(
        axisDomain(),
        fc.option(fc.integer({ min: -6, max: 6 }), { nil: undefined }),
        fc.option(fc.integer({ min: -6, max: 6 }), { nil: undefined }),
        fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0),
      )
      .map(([{ x, axis }, start, end, step]) => call([x], { axis, start, end, step })),
    reference: ([x], { axis, start, end, step }) =>
      alongAxis([x], positiveAxis(axis, x.shape.length), ([line]) => pythonSlice(line, start, end, step)),
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<{ axis: number }>({
    name: "concat",
    // The pieces scatter-added into place and added; one piece is itself.
    recordedAs: ({ inputs }) => (inputs.length === 1 ? "leaf" : "add"),
    fn: (xs, { axis }) => concat(xs, axis),
    method: null,
    // 1..3 tensors that agree on every dimension but the axis, where each has its own size (0 too).
    domain: shapeArb(1, 3).chain((shape) =>
      fc.integer({ min: 0, max: shape.length - 1 }).chain((axis) =>
        fc
          .array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 })
          .chain((sizes) =>
            fc.tuple(...sizes.map((n) => tensorArb(shape.map((d, i) => (i === axis ? n : d))))),
          )
          .map((xs) => call(xs, { axis })),
      ),
    ),
    reference: (xs, { axis }) => alongAxis(xs, axis, (lines) => lines.flat()),
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<{ axis: number }>({
    name: "stack",
    // concat of the pieces, each reshaped to hold the new axis.
    recordedAs: ({ inputs }) => (inputs.length === 1 ? "reshape" : "add"),
    fn: (xs, { axis }) => stack(xs, axis),
    method: null,
    // 1..3 tensors of one shape, a new axis anywhere, negative counting from the end.
    domain: shapeArb(0, 2).chain((shape) =>
      fc
        .tuple(
          fc.array(tensorArb(shape), { minLength: 1, maxLength: 3 }),
          fc.integer({ min: -shape.length - 1, max: shape.length }),
        )
        .map(([xs, axis]) => call(xs, { axis })),
    ),
    reference: (xs, { axis }) => {
      const at = positiveAxis(axis, xs[0].shape.length + 1);
      const lifted = xs.map((x) => ({
        shape: [...x.shape.slice(0, at), 1, ...x.shape.slice(at)],
        values: x.values,
      }));
      return alongAxis(lifted, at, (lines) => lines.flat());
    },
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<{ axis: number; indices: number[] }>({
    name: "gather",
    recordedAs: "gather",
    fn: ([x], { axis, indices }) => gather(x, axis, Int32Array.from(indices)),
    method: null,
    domain: axisDomain().chain(({ x, at }) =>
      fc
        .array(fc.integer({ min: 0, max: x.shape[at] - 1 }), { maxLength: 5 })
        .map((indices) => call([x], { axis: at, indices })),
    ),
    reference: ([x], { axis, indices }) => alongAxis([x], axis, ([line]) => indices.map((i) => line[i])),
    secondDerivative: true,
    float32: { bound: exactBound },
    kernels: {},
  }),
  op<{ axis: number; indices: number[]; size: number }>({
    name: "scatterAdd",
    recordedAs: "scatterAdd",
    fn: ([x], { axis, indices, size }) => scatterAdd(x, axis, Int32Array.from(indices), size),
    method: null,
    // Each slab of x added at its index along the axis of an output of `size`; repeats add up.
    domain: axisDomain().chain(({ x, at }) =>
      fc
        .integer({ min: 1, max: 4 })
        .chain((size) =>
          fc
            .array(fc.integer({ min: 0, max: size - 1 }), { minLength: x.shape[at], maxLength: x.shape[at] })
            .map((indices) => call([x], { axis: at, indices, size })),
        ),
    ),
    reference: ([x], { axis, indices, size }) =>
      alongAxis([x], axis, ([line]) => {
        const out = new Array<number>(size).fill(0);
        line.forEach((v, j) => {
          out[indices[j]] += v;
        });
        return out;
      }),
    secondDerivative: true,
    float32: { bound: summationBound(([x], { axis }) => x.shape[axis]) },
    kernels: {},
  }),
  op<Reduction>({
    name: "binaryCrossEntropy",
    recordedAs: ({ params }) => ({ none: "binaryCrossEntropy", sum: "sum", mean: "div" })[params],
    fn: ([p, t], reduction) => binaryCrossEntropy(p, t, reduction),
    method: null,
    // Probabilities inside (0.1, 0.9), where −log stays smooth; targets anywhere in [0, 1], also differentiated.
    domain: fc
      .tuple(shapeArb(1, 2), fc.constantFrom<Reduction>("mean", "sum", "none"))
      .chain(([shape, reduction]) =>
        fc
          .tuple(
            tensorArb(shape, (n) => valuesArb(n, 0.1, 0.9)),
            tensorArb(shape, (n) => valuesArb(n, 0, 1)),
          )
          .map(([p, t]) => call([p, t], reduction)),
      ),
    reference: ([p, t], reduction) =>
      reduceLoss(elementwise((q, y) => -(y * Math.log(q) + (1 - y) * Math.log(1 - q)))([p, t]), reduction),
    secondDerivative: true,
    // Every term is ≥ 0 (no cancellation), each one off by a few ulps of its logs, then summed.
    float32: { bound: summationBound(([p]) => p.values.length + 4) },
    kernels: {},
  }),
  op<Reduction>({
    name: "binaryCrossEntropyWithLogits",
    // One op when reduced (a backend may fuse it); elementwise terms with "none".
    recordedAs: ({ params }) => ({ none: "sub", sum: "binaryCrossEntropyWithLogits", mean: "div" })[params],
    fn: ([l, t], reduction) => binaryCrossEntropyWithLogits(l, t, reduction),
    method: null,
    domain: fc.tuple(shapeArb(1, 2), fc.constantFrom<Reduction>("mean", "sum")).chain(([shape, reduction]) =>
      fc
        .tuple(
          tensorArb(shape),
          tensorArb(shape, (n) => valuesArb(n, 0, 1)),
        )
        .map(([l, t]) => call([l, t], reduction)),
    ),
    reference: ([l, t], reduction) =>
      reduceLoss(elementwise((x, y) => softplusOf(x) - y * x)([l, t]), reduction),
    secondDerivative: true,
    // softplus(ℓ) − t·ℓ subtracts two numbers each known to a few ulps: n·eps_f32·Σ (softplus(ℓ) + |t·ℓ|).
    float32: {
      bound: (c) => {
        const scale = total(
          c.inputs[0].values.map((x, i) => softplusOf(x) + Math.abs(c.inputs[1].values[i] * x)),
        );
        const n = c.inputs[0].values.length + 4;
        const per = c.params === "mean" ? 1 / c.inputs[0].values.length : 1;
        return () => n * EPS_F32 * scale * per + TINY;
      },
    },
    kernels: {},
  }),
  op<{ reduction: Reduction; classes: number[] | null }>({
    name: "crossEntropy",
    recordedAs: ({ params: { reduction } }) => ({ none: "neg", sum: "sum", mean: "div" })[reduction],
    fn: ([x, p], { reduction, classes }) => crossEntropy(x, classes ?? p, reduction),
    method: null,
    // Logits [N, C] with a class index per row, or with target probabilities (also differentiated).
    domain: fc
      .tuple(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 4 }),
        fc.constantFrom<Reduction>("mean", "sum", "none"),
      )
      .chain(([n, c, reduction]) =>
        fc.oneof(
          fc
            .tuple(
              tensorArb([n, c]),
              fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: n, maxLength: n }),
            )
            .map(([x, classes]) => call([x], { reduction, classes })),
          fc
            .tuple(
              tensorArb([n, c]),
              tensorArb([n, c], (k) => valuesArb(k, 0, 1)),
            )
            .map(([x, p]) => call([x, p], { reduction, classes: null })),
        ),
      ),
    reference: ([x, p], { reduction, classes }) => {
      const logP = alongAxis([x], 1, ([line]) => line.map((v) => v - lse(line)));
      const c = x.shape[1];
      const rows = range(x.shape[0]).map((r) =>
        classes === null
          ? -total(range(c).map((j) => p.values[r * c + j] * logP.values[r * c + j]))
          : -logP.values[r * c + classes[r]],
      );
      return reduceLoss({ shape: [x.shape[0]], values: rows }, reduction);
    },
    secondDerivative: true,
    // Each row's log-probabilities within log-sum-exp's bound, (C + 4)·eps_f32·(1 + |log p|), weighted by
    // the target (one class, or the probabilities), then N rows summed: (N + C + 8)·eps_f32·Σ the rows' magnitudes.
    float32: {
      bound: (c) => {
        const [x, p] = c.inputs;
        const [rows, classes] = x.shape;
        const logP = alongAxis([x], 1, ([line]) => line.map((v) => v - lse(line))).values;
        const magnitude = range(rows).map((r) =>
          c.params.classes === null
            ? total(
                range(classes).map(
                  (j) => Math.abs(p.values[r * classes + j]) * (1 + Math.abs(logP[r * classes + j])),
                ),
              )
            : 1 + Math.abs(logP[r * classes + c.params.classes[r]]),
        );
        if (c.params.reduction === "none") return (i) => (classes + 8) * EPS_F32 * magnitude[i] + TINY;
        const per = c.params.reduction === "mean" ? 1 / rows : 1;
        return () => (rows + classes + 8) * EPS_F32 * total(magnitude) * per + TINY;
      },
    },
    kernels: {},
  }),
  op({
    name: "gaussianKl",
    recordedAs: "mul",
    fn: ([mu, logvar]) => gaussianKl(mu, logvar),
    method: null,
    domain: shapeArb(1, 2).chain((shape) =>
      fc.tuple(tensorArb(shape), tensorArb(shape)).map((xs) => call(xs, undefined)),
    ),
    reference: ([mu, logvar]) => ({
      shape: [],
      values: [
        -0.5 * total(mu.values.map((m, i) => 1 + logvar.values[i] - m * m - Math.exp(logvar.values[i]))),
      ],
    }),
    secondDerivative: true,
    // Each term 1 + lv − μ² − e^lv adds four numbers: n·eps_f32·½Σ (1 + |lv| + μ² + e^lv).
    float32: {
      bound: (c) => {
        const [mu, logvar] = c.inputs;
        const scale =
          0.5 *
          total(mu.values.map((m, i) => 1 + Math.abs(logvar.values[i]) + m * m + Math.exp(logvar.values[i])));
        return () => (mu.values.length + 4) * EPS_F32 * scale + TINY;
      },
    },
    kernels: {},
  }),
  op<{ eps: Plain }>({
    name: "reparameterize",
    recordedAs: "add",
    fn: ([mu, logvar], { eps }) => reparameterize(mu, logvar, tensorLike(mu, eps)),
    method: null,
    domain: shapeArb(1, 2).chain((shape) =>
      fc
        .tuple(
          tensorArb(shape),
          tensorArb(shape),
          fc.array(fc.double({ min: -3, max: 3, noNaN: true }), {
            minLength: sizeOf(shape),
            maxLength: sizeOf(shape),
          }),
        )
        .map(([mu, logvar, eps]) => call([mu, logvar], { eps: { shape, values: eps } })),
    ),
    reference: ([mu, logvar], { eps }) =>
      elementwise((m, lv, e) => m + Math.exp(lv / 2) * e)([mu, logvar, eps]),
    secondDerivative: true,
    float32: {
      bound: (c) => {
        const [mu, logvar] = c.inputs;
        return (i) =>
          4 *
            EPS_F32 *
            (Math.abs(mu.values[i]) + Math.exp(logvar.values[i] / 2) * Math.abs(c.params.eps.values[i])) +
          TINY;
      },
    },
    kernels: {},
  }),
];

/**
 * Exports of src/index.ts that return a Tensor but are not differentiable ops, each with the reason,
 * and the backend kernels the masks run (so the conformance suite checks those too).
 */
export const notInTable: readonly { name: string; why: string; kernels?: OpEntry<unknown>["kernels"] }[] = [
  // Tensors made from data or a generator: nothing to differentiate (create.test.ts, random.test.ts).
  ...["tensor", "zeros", "ones", "full", "rand", "randn", "fromTypedArray", "hostTensor"].map((name) => ({
    name,
    why: "makes a tensor from data, not from other tensors",
  })),
  { name: "fullLike", why: "a constant shaped like its argument" },
  { name: "zerosLike", why: "a constant shaped like its argument" },
  // Masks: their derivative is zero almost everywhere, so they are made without a graph (ops/compare.test.ts).
  { name: "equal", why: "a mask, a constant of the graph", kernels: { binary: ["eq"] } },
  { name: "notEqual", why: "a mask, a constant of the graph", kernels: { binary: ["eq", "sub"] } },
  { name: "greater", why: "a mask, a constant of the graph", kernels: { binary: ["lt"] } },
  { name: "less", why: "a mask, a constant of the graph", kernels: { binary: ["lt"] } },
  {
    name: "greaterEqual",
    why: "a mask, a constant of the graph",
    kernels: { binary: ["lt", "eq", "add"] },
  },
  {
    name: "lessEqual",
    why: "a mask, a constant of the graph",
    kernels: { binary: ["lt", "eq", "add"] },
  },
  { name: "sign", why: "a mask (−1, 0, 1), abs's derivative", kernels: { unary: ["sign"] } },
  { name: "applyOp", why: "the way to write an op, not an op (op.test.ts)" },
  { name: "standardNormalLike", why: "a draw from the generator (vae/sampler.test.ts)" },
  // Tensor methods.
  { name: "detach", why: "a copy without history: no gradient by definition" },
  { name: "retainGrad", why: "returns the tensor itself, marked to keep its gradient" },
];

/** The backend's unary and binary kernels, as the ops in the table and the masks run them. */
export const kernelOps: { unary: readonly UnaryOp[]; binary: readonly BinaryOp[] } = {
  unary: [...new Set([...opTable, ...notInTable].flatMap((e) => e.kernels?.unary ?? []))],
  binary: [...new Set([...opTable, ...notInTable].flatMap((e) => e.kernels?.binary ?? []))],
};
