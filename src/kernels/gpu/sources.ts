/**
 * The kernels, as the JavaScript that gpu.js translates into shaders (WGSL for WebGPU, GLSL for
 * WebGL) or runs as is (its cpu mode).
 *
 * Each kernel is written as source text, not as a TypeScript function, for two reasons: gpu.js
 * parses `fn.toString()`, which after a TypeScript build is whatever the compiler emitted (helpers
 * and renamed variables included); and every kernel is built for one shape, so its sizes and
 * strides are written into the source as numbers. The shader compiler then sees constant loop
 * bounds and constant strides, and nothing depends on gpu.js' `loopMaxIterations` (default 1000):
 * a loop bounded by an *argument* would stop there silently, which would cut a K = 1500 matmul short.
 *
 * gpu.js runs one thread per output element and hands it `this.thread.x` (innermost), `.y`, `.z`.
 * Index arithmetic may be done in float32 on the device, which is exact for integers below 2^24,
 * so the backend sends nothing larger than `maxElements` here.
 */
import type { BinaryOp, ReduceOp, UnaryOp } from "../backend.ts";
import type { Access } from "./layout.ts";

/** Largest tensor the GPU kernels take: beyond 2^24 a float32 index is no longer exact. */
export const maxElements = 2 ** 24;

/**
 * The longest loop a kernel may run. Mesa's llvmpipe (the software renderer that WebGPU runs on
 * where there is no GPU) ends every shader loop after 65,535 iterations, silently; a sum of
 * 100,352 ones came back as 65,535. Longer reductions run in passes, longer matmuls on the cpu.
 */
export const maxLoop = 65535;

/** How many numbers one thread of a reduction pass folds. */
export const reduceSpan = 1024;

/** What the backend needs to build (and cache) one kernel. */
export interface KernelSpec {
  /** The cache key: the op and every number written into the source. */
  key: string;
  /** A `function (...) { ... }` in the subset of JavaScript that gpu.js translates. */
  source: string;
  /** gpu.js' output size, innermost dimension first (x, y, z). */
  output: number[];
  /** The longest loop in the source, so gpu.js' own loop cap can be set above it. */
  loop: number;
}

/** Elementwise maps of one value `v`, written to match the cpu backend in float32. */
const unaryExpressions: Record<UnaryOp, string> = {
  neg: "-v",
  exp: "Math.exp(v)",
  // llvmpipe's log of a subnormal is off by up to 15 (log(2⁻¹⁴⁹) came back as −88.03, not −103.28):
  // scale it into the normal range first, log(v) = log(v·2²⁴) − 24·ln 2.
  log: "v > 0 && v < 1.1754943508222875e-38 ? Math.log(v * 16777216) - 16.635532333438687 : Math.log(v)",
  sqrt: "Math.sqrt(v)",
  relu: "v > 0 || v !== v ? v : 0", // NaN passes through (`v !== v`), as in the cpu backend
  // Both branches keep exp's argument ≤ 0, so nothing overflows.
  sigmoid: "v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))",
  // Native tanh overflows to NaN on some drivers for large |v|; tanh(±15) is ±1 in float32 anyway.
  // The clamp would turn NaN into a number, and tanh(v) rounds to v itself for |v| < 2⁻¹² (the
  // next term, v³/3, is under half an ulp), which keeps NaN, −0 and subnormals as they are.
  tanh: "v !== v || Math.abs(v) < 0.000244140625 ? v : Math.tanh(Math.min(Math.max(v, -15), 15))",
  softplus: "Math.max(v, 0) + Math.log(1 + Math.exp(-Math.abs(v)))",
  abs: "Math.abs(v)",
  // Returns v itself for ±0 and NaN, as Math.sign does.
  sign: "v > 0 ? 1 : (v < 0 ? -1 : v)",
};

/**
 * Elementwise maps of `a` and `b`, as in the cpu backend. max and min let a NaN on either side win
 * (a comparison with NaN is false, so `a >= b ? a : b` alone would drop a NaN in `a`).
 */
const binaryExpressions: Record<Exclude<BinaryOp, "pow">, string> = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  max: "a >= b || a !== a ? a : b",
  min: "a <= b || a !== a ? a : b",
  eq: "a === b ? 1 : 0",
  lt: "a < b ? 1 : 0",
};

/**
 * a^b with Math.pow's meaning. Shader pow is exp2(b·log2 a), defined only for a > 0, so the rest is
 * handled here: x^0 = 1 (NaN included), NaN otherwise gives NaN, 0^b is 0 or +∞ by b's sign
 * (runtime 1/0 is +∞), a subnormal base is scaled into the normal range first (llvmpipe's log2 of
 * one is far off), and a negative base (−0 and −∞ included) takes the sign of an odd integer
 * exponent; with a fractional exponent a finite negative base gives NaN (√ of a negative number).
 */
const powBody = `
  if (b === 0) { return 1; }
  if (a !== a || b !== b) { return a + b; }
  const m = Math.abs(a);
  let r = Math.pow(m, b);
  if (m === 0) { r = b > 0 ? 0 : 1 / m; }
  if (m > 0 && m < 1.1754943508222875e-38) { r = Math.pow(m * 16777216, b) * Math.pow(2, -24 * b); }
  if (a > 0 || (a === 0 && 1 / a > 0)) { return r; }
  if (Math.floor(b) !== b) { return a === 0 || 1 / a === 0 ? r : Math.sqrt(a); }
  if (b - 2 * Math.floor(b / 2) === 1) { return -r; }
  return r;`;

const axisNames = ["x", "y", "z"];

/** gpu.js' output size for dimensions listed outermost first: it wants them innermost first. */
function outputOf(shape: readonly number[]): number[] {
  return [...shape].reverse();
}

/** `this.thread.y * 784 + this.thread.x`: the flat index that output element reads, by strides. */
function indexExpression(shape: readonly number[], strides: readonly number[]): string {
  const terms: string[] = [];
  shape.forEach((_, d) => {
    if (strides[d] === 0) return;
    const thread = `this.thread.${axisNames[shape.length - 1 - d]}`;
    terms.push(strides[d] === 1 ? thread : `${thread} * ${strides[d]}`);
  });
  return terms.length === 0 ? "0" : terms.join(" + ");
}

/** out[i] = f(x[i]) over a flat array of `size` numbers. */
export function unaryKernel(op: UnaryOp, size: number): KernelSpec {
  return {
    key: `unary:${op}:${size}`,
    source: `function (x) {
  const v = x[this.thread.x];
  return ${unaryExpressions[op]};
}`,
    output: [size],
    loop: 0,
  };
}

/** out = a op b through an access pattern of at most three dimensions (broadcasting included). */
export function binaryKernel(op: BinaryOp, access: Access): KernelSpec {
  const [aStrides, bStrides] = access.strides;
  const body = op === "pow" ? powBody : `\n  return ${binaryExpressions[op]};`;
  return {
    key: `binary:${op}:${access.shape.join("x")}:${aStrides.join(",")}:${bStrides.join(",")}`,
    source: `function (x, y) {
  const a = x[${indexExpression(access.shape, aStrides)}];
  const b = y[${indexExpression(access.shape, bStrides)}];${body}
}`,
    output: outputOf(access.shape),
    loop: 0,
  };
}

/** out = c ≠ 0 ? a : b, each read through its strides: a branch, so the side not taken is never read. */
export function whereKernel(access: Access): KernelSpec {
  const [c, a, b] = access.strides;
  return {
    key: `where:${access.shape.join("x")}:${c.join(",")}:${a.join(",")}:${b.join(",")}`,
    source: `function (c, x, y) {
  if (c[${indexExpression(access.shape, c)}] !== 0) {
    return x[${indexExpression(access.shape, a)}];
  }
  return y[${indexExpression(access.shape, b)}];
}`,
    output: outputOf(access.shape),
    loop: 0,
  };
}

/** out = x read through strides: broadcastTo and permute are both this one copy. */
export function gatherKernel(access: Access): KernelSpec {
  return {
    key: `gather:${access.shape.join("x")}:${access.strides[0].join(",")}`,
    source: `function (x) {
  return x[${indexExpression(access.shape, access.strides[0])}];
}`,
    output: outputOf(access.shape),
    loop: 0,
  };
}

/**
 * C[m×n] = op(A)·op(B): thread (x = j, y = i) computes one dot product of length k.
 * A(i, p) sits at a[i·aRow + p·aDepth] and B(p, j) at b[p·bDepth + j·bCol], which is how all
 * four transpose variants share this one loop.
 */
export function matmulKernel(m: number, k: number, n: number, transA: boolean, transB: boolean): KernelSpec {
  const aRow = transA ? 1 : k;
  const aDepth = transA ? m : 1;
  const bDepth = transB ? 1 : n;
  const bCol = transB ? k : 1;
  return {
    key: `matmul:${m}x${k}x${n}:${transA ? "T" : "N"}${transB ? "T" : "N"}`,
    source: `function (a, b) {
  let sum = 0;
  for (let p = 0; p < ${k}; p++) {
    sum += a[this.thread.y * ${aRow} + p * ${aDepth}] * b[p * ${bDepth} + this.thread.x * ${bCol}];
  }
  return sum;
}`,
    output: [n, m],
    loop: k,
  };
}

/**
 * x seen as [outer, reduced, inner], each group of `span` consecutive elements along the middle
 * axis folded into one: out[o, g, i] folds x[o, g·span … g·span + span − 1, i] (the last group
 * may be shorter). With span ≥ reduced that is the whole reduction; the backend runs wider ones
 * as several passes, since llvmpipe stops any loop after 65,535 iterations without a word, and
 * since one thread per output summing 100,000 numbers leaves a GPU idle anyway.
 * A max starts from its group's first element (so a row of -Infinity stays -Infinity) and lets
 * NaN win (`v !== v`), as the cpu backend does.
 */
export function reduceKernel(
  op: ReduceOp,
  outer: number,
  reduced: number,
  inner: number,
  span: number,
): KernelSpec {
  const groups = Math.ceil(reduced / span);
  const dims = [outer, groups, inner];
  const kept = dims.filter((d) => d > 1);
  // The thread coordinate along each of the three axes ("0" along those of size 1).
  const [o, g, i] = dims.map((d, k) => {
    if (d === 1) return "0";
    const position = dims.slice(k + 1).filter((e) => e > 1).length;
    return `this.thread.${axisNames[position]}`;
  });
  const first = `${o} * ${reduced * inner} + ${g} * ${span * inner} + ${i}`;
  const length = Math.min(span, reduced);
  // Only a last, shorter group needs its loop cut short.
  const inside = groups * span === reduced ? "" : `if (${g} * ${span} + j < ${reduced}) `;
  const fold =
    op === "sum"
      ? `let acc = 0;
  for (let j = 0; j < ${length}; j++) {
    ${inside}{ acc += x[${first} + j * ${inner}]; }
  }`
      : `let acc = x[${first}];
  for (let j = 1; j < ${length}; j++) {
    ${inside}{
      const v = x[${first} + j * ${inner}];
      if (v > acc || v !== v) { acc = v; }
    }
  }`;
  return {
    key: `reduce:${op}:${outer}x${reduced}x${inner}:${span}`,
    source: `function (x) {
  ${fold}
  return acc;
}`,
    output: outputOf(kept.length === 0 ? [1] : kept),
    loop: length,
  };
}

/** out = x: a device-side copy (cast to the same dtype, reshape). */
export function copyKernel(size: number): KernelSpec {
  return {
    key: `copy:${size}`,
    source: `function (x) {
  return x[this.thread.x];
}`,
    output: [size],
    loop: 0,
  };
}
