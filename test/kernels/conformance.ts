/**
 * The backend conformance suite, written once: every check takes a backend (with the accuracy it
 * promises) and throws an Error that names the op, the inputs and both numbers when the backend
 * breaks the reference's semantics. Vitest runs it on every backend and mode in Node
 * (test/kernels/describe-conformance.ts); a browser page runs the same list. So this module imports
 * neither vitest nor node:, only the code under test, fast-check and the op table
 * (test/autograd/op-table.ts), which keeps to the same rule.
 *
 * "The reference's semantics" are those of the cpu backend, stated here independently of its code:
 * - the special-value tables below say what each op gives for NaN, ±Infinity, ±0, subnormals and
 *   large magnitudes, written from Math's float64 definitions, not by running a backend;
 * - the property checks compare each op, with its own runs, against the cpu backend in float64 on
 *   the same float32 inputs (the exact answer, rounded once), on values that mix moderate numbers
 *   with those special ones.
 * An op with tolerance 0 must give the float32 rounding of the exact answer bit for bit (NaN for
 * NaN, and the sign of a zero, except where max/min choose between −0 and +0); otherwise it must
 * be within the tolerance the backend's contract states, and a non-finite answer must be matched
 * exactly either way.
 */
import fc from "fast-check";
import type {
  AdamHyperparameters,
  Backend,
  BinaryOp,
  DType,
  Storage,
  UnaryOp,
} from "../../src/kernels/backend.ts";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";
import { elementwiseTolerance, sumTolerance, unitRoundoff } from "../../src/kernels/gpu/precision.ts";
import { broadcastShapes, sizeOf } from "../../src/kernels/shape.ts";
import { kernelOps } from "../autograd/op-table.ts";

/** What a backend promises: how far from the exact answer each kind of result may be. */
export interface Contract {
  /** Largest |got − exact| for an elementwise op on x (and y); 0: the float32 rounding, bit for bit. */
  elementwise(op: UnaryOp | BinaryOp, exact: number, x: number, y?: number): number;
  /** Largest |got − exact| for a sum of n terms (a dot product of length n) with Σ|terms| = absSum. */
  sum(n: number, absSum: number): number;
  /**
   * "kept": subnormal numbers are computed like any other. "flushable": a subnormal input may be
   * read as a zero of its sign and a subnormal result may come back as a zero (what WGSL and
   * GLSL allow a GPU to do).
   */
  subnormals: "kept" | "flushable";
}

export interface Target {
  backend: Backend;
  contract: Contract;
  /** Runs of each property check, per op. */
  runs: number;
  /**
   * How many ops have run off the device so far (the gpu backend's fallback counter). Given, the
   * checks of ops the backend promises to run on its device assert that this count stayed put.
   */
  fallbacks?: () => number;
}

export interface ConformanceCheck {
  name: string;
  run(target: Target): Promise<void>;
}

/**
 * Every unary and binary kernel, as the ops of the op table (test/autograd/op-table.ts) run them:
 * an op added there is checked here on every backend too.
 */
export const unaryOps: readonly UnaryOp[] = kernelOps.unary;
export const binaryOps: readonly BinaryOp[] = kernelOps.binary;

// ---- contracts ----------------------------------------------------------------------------------

/** The cpu backend computes each float32 element in float64 and rounds once: the float32 rounding of the exact answer. */
export const cpuContract: Contract = {
  elementwise: () => 0,
  sum: (n, absSum) => (n + 1) * unitRoundoff * absSum,
  subnormals: "kept",
};

/**
 * The wasm backend: + − × ÷, sqrt, comparisons and copies are IEEE float32 operations, rounded
 * once; exp, log and what is built on them are polynomials within 4 float32 ulps of the cpu
 * backend (itself within ½ ulp of exact), with a floor of 1e-44 where ulps are fixed (subnormals).
 * Sums and dot products add in another order, in float32: 2(n + 1)·2⁻²³·Σ|terms|.
 */
export const wasmContract: Contract = {
  elementwise: (op, exact) =>
    ["exp", "log", "sigmoid", "softplus", "tanh"].includes(op)
      ? 9 * unitRoundoff * Math.abs(exact) + 1e-44
      : 0,
  sum: (n, absSum) => 4 * (n + 1) * unitRoundoff * absSum,
  subnormals: "kept",
};

/**
 * The gpu backend: the bounds WGSL promises, from src/kernels/gpu/precision.ts. Subnormals may be
 * flushed, as WGSL and GLSL allow: llvmpipe computes with subnormal inputs, but its exp and pow
 * return 0 for results below float32's normal range (exp(−100) is 0, not 3.8e-44).
 */
export const gpuContract: Contract = {
  elementwise: elementwiseTolerance,
  sum: sumTolerance,
  subnormals: "flushable",
};

// ---- values -------------------------------------------------------------------------------------

const smallestNormal = 2 ** -126;
const isSubnormal = (v: number) => v !== 0 && Math.abs(v) < smallestNormal;
/** A zero of v's sign. */
const flushed = (v: number) => (v < 0 || Object.is(v, -0) ? -0 : 0);

/** The special values every op meets: NaN, ±∞, ±0, subnormals, the largest and smallest magnitudes. */
export const specialValues: readonly number[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0,
  -0,
  Math.fround(1e-40),
  -Math.fround(1e-40),
  2 ** -149,
  Math.fround(3e38),
  -Math.fround(3e38),
  1,
  -1,
  0.5,
  2.5,
  -2,
  20,
  88.5,
  -87,
];

/** float32 numbers: mostly moderate, one in five special, one in ten any float32 at all. */
const valueArb = fc.oneof(
  { weight: 7, arbitrary: fc.double({ min: -12, max: 12, noNaN: true }).map(Math.fround) },
  { weight: 2, arbitrary: fc.constantFrom(...specialValues) },
  { weight: 1, arbitrary: fc.float() },
);
const valuesArb = (n: number) => fc.array(valueArb, { minLength: n, maxLength: n });
/**
 * Values for sums and dot products. Their float32 partial sums and products must not overflow, since
 * where they do the result depends on the order of the terms (+∞ + −∞ = NaN in one order, −∞ in
 * another) and no float64 reference can say which is right: so no ±3e38, and the large magnitude is
 * 1e18, whose square 1e36, times the 17 terms of the longest product drawn, stays below 3.4e38.
 */
const sumValueArb = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -12, max: 12, noNaN: true }).map(Math.fround) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0, Math.fround(1e-40), Math.fround(1e18)),
  },
);

// ---- comparing --------------------------------------------------------------------------------

const show = (v: number) => (Object.is(v, -0) ? "-0" : String(v));

/**
 * Whether `got` is what the contract allows for the exact answer `exact`. `zeroSign`: whether a
 * bit-for-bit result must also have the sign of zero right (not so for max and min).
 */
function allowed(got: number, exact: number, tolerance: number, zeroSign = true): boolean {
  const rounded = Math.fround(exact);
  if (Number.isNaN(rounded)) return Number.isNaN(got);
  if (Object.is(got, rounded)) return true;
  if (!Number.isFinite(rounded) || tolerance === 0)
    return zeroSign ? Object.is(got, rounded) : got === rounded;
  return Math.abs(got - exact) <= tolerance;
}

async function read(backend: Backend, s: Storage): Promise<Float32Array | Float64Array> {
  return backend.read(s);
}

/** Uploads float32 values to the backend. */
const upload = (backend: Backend, values: readonly number[]) => backend.fromArray(Float32Array.from(values));

/** The cpu reference in float64 on the same (float32) numbers: the exact answer, before rounding. */
const reference = new CpuBackend();
const exactly = (values: readonly number[]) => reference.fromArray(Float64Array.from(values));

/** Runs `work` and, where the target counts fallbacks, fails if any op of it left the device. */
async function onDevice(target: Target, what: string, work: () => Promise<void>): Promise<void> {
  const before = target.fallbacks?.();
  await work();
  const after = target.fallbacks?.();
  if (before !== after)
    throw new Error(`${what}: ${after! - before!} op(s) ran on the cpu fallback instead of the device`);
}

/** The result of a elementwise op at each element, checked against the exact answers. */
function expectElementwise(
  target: Target,
  op: UnaryOp | BinaryOp,
  got: ArrayLike<number>,
  xs: readonly number[],
  ys: readonly number[] | null,
  exact: (x: number, y: number) => number,
): void {
  const { contract } = target;
  const zeroSign = op !== "max" && op !== "min";
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const y = ys === null ? 0 : ys[i];
    const candidates = [[x, y]];
    if (contract.subnormals === "flushable") {
      if (isSubnormal(x)) candidates.push([flushed(x), y]);
      if (isSubnormal(y)) candidates.push(...candidates.map(([a]) => [a, flushed(y)]));
    }
    const ok = candidates.some(([a, b]) => {
      const e = exact(a, b);
      const tolerance = contract.elementwise(op, e, a, b);
      if (allowed(got[i], e, tolerance, zeroSign)) return true;
      return contract.subnormals === "flushable" && isSubnormal(Math.fround(e)) && got[i] === 0;
    });
    if (!ok) {
      const args = ys === null ? show(x) : `${show(x)}, ${show(y)}`;
      const e = exact(x, y);
      throw new Error(
        `${op}(${args}) gave ${show(got[i])}; expected ${show(Math.fround(e))} (exact ${show(e)}, allowed ±${contract.elementwise(op, e, x, y)})`,
      );
    }
  }
}

// ---- stated semantics, written from Math's float64 definitions --------------------------------

/** What each unary op means at any float64 x, special values included. */
const unaryMeaning: Record<UnaryOp, ((x: number) => number) | null> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  // relu(NaN) follows the cpu backend (checked by the property below); the rest is stated here.
  relu: null,
  sigmoid: (x) => (x === Infinity ? 1 : x === -Infinity ? 0 : 1 / (1 + Math.exp(-x))),
  tanh: Math.tanh,
  softplus: (x) => (x > 40 ? x : Math.log1p(Math.exp(x))),
  abs: Math.abs,
  sign: Math.sign,
};

/** Stated for every value but NaN: relu(x) = x for x > 0, else +0. */
const notNaNMeaning: Partial<Record<UnaryOp, (x: number) => number>> = {
  relu: (x) => (x > 0 ? x : 0),
};

/** What each binary op means: IEEE arithmetic, Math.pow, and max/min that let a NaN on either side win. */
const binaryMeaning: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  max: Math.max,
  min: Math.min,
  eq: (a, b) => (a === b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
};

function statedUnary(op: UnaryOp): ConformanceCheck {
  return {
    name: `unary ${op}: NaN, ±Infinity, ±0, subnormals and large magnitudes`,
    async run(target) {
      const { backend } = target;
      const meaning = unaryMeaning[op] ?? notNaNMeaning[op]!;
      const xs = unaryMeaning[op] === null ? specialValues.filter((v) => !Number.isNaN(v)) : specialValues;
      await onDevice(target, op, async () => {
        const got = await read(backend, backend.unary(op, upload(backend, xs)));
        expectElementwise(target, op, got, xs, null, (x) => meaning(x));
      });
    },
  };
}

function statedBinary(op: BinaryOp): ConformanceCheck {
  return {
    name: `binary ${op}: every pair of NaN, ±Infinity, ±0, subnormals and large magnitudes`,
    async run(target) {
      const { backend } = target;
      const as = specialValues.flatMap((a) => specialValues.map(() => a));
      const bs = specialValues.flatMap(() => specialValues);
      const shape = [as.length];
      await onDevice(target, op, async () => {
        const got = await read(
          backend,
          backend.binary(op, upload(backend, as), shape, upload(backend, bs), shape, shape),
        );
        expectElementwise(target, op, got, as, bs, binaryMeaning[op]);
      });
    },
  };
}

// ---- properties against the cpu reference, each op with its own runs --------------------------

/** Sizes around the kernels' vector widths (4 floats) and tiles, from a few so compiled kernels are reused. */
const sizeArb = fc.constantFrom(1, 3, 4, 5, 8, 13, 33);
/** An output shape of rank 0 to 3 and two operand shapes that broadcast to it. */
const broadcastArb = fc.array(fc.constantFrom(1, 2, 3, 5), { minLength: 0, maxLength: 3 }).chain((out) => {
  const operand = fc
    .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }))
    .map(([rank, ones]) => out.slice(out.length - rank).map((d, i) => (ones[i] ? 1 : d)));
  return fc.tuple(operand, operand);
});

/** The cpu reference's exact answer for one element. */
const referenceUnary = (op: UnaryOp) => (x: number) =>
  reference.readSync(reference.unary(op, exactly([x])))[0];
const referenceBinary = (op: BinaryOp) => (a: number, b: number) =>
  reference.readSync(reference.binary(op, exactly([a]), [], exactly([b]), [], []))[0];

function propertyUnary(op: UnaryOp): ConformanceCheck {
  return {
    name: `unary ${op}: random values, specials mixed in, against the cpu reference`,
    async run(target) {
      const { backend } = target;
      await fc.assert(
        fc.asyncProperty(
          sizeArb.chain((n) => valuesArb(n)),
          (xs) =>
            onDevice(target, op, async () => {
              const got = await read(backend, backend.unary(op, upload(backend, xs)));
              expectElementwise(target, op, got, xs, null, referenceUnary(op));
            }),
        ),
        { numRuns: target.runs },
      );
    },
  };
}

function propertyBinary(op: BinaryOp): ConformanceCheck {
  return {
    name: `binary ${op}: random values and broadcast shapes, specials mixed in, against the cpu reference`,
    async run(target) {
      const { backend } = target;
      const cases = broadcastArb.chain(([aShape, bShape]) =>
        fc.tuple(
          fc.constant(aShape),
          fc.constant(bShape),
          valuesArb(sizeOf(aShape)),
          valuesArb(sizeOf(bShape)),
        ),
      );
      await fc.assert(
        fc.asyncProperty(cases, ([aShape, bShape, av, bv]) =>
          onDevice(target, op, async () => {
            const out = broadcastShapes(aShape, bShape) as number[];
            const got = await read(
              backend,
              backend.binary(op, upload(backend, av), aShape, upload(backend, bv), bShape, out),
            );
            // The inputs each output element reads, broadcast by the reference.
            const spread = (v: number[], shape: number[]) =>
              Array.from(reference.readSync(reference.broadcastTo(exactly(v), shape, out)));
            expectElementwise(target, op, got, spread(av, aShape), spread(bv, bShape), referenceBinary(op));
          }),
        ),
        { numRuns: target.runs },
      );
    },
  };
}

// ---- reductions and matmul ----------------------------------------------------------------------

/**
 * A sum's tolerance: the contract's rounding bound, plus what each of its n terms may lose below
 * float32's range (a product of two subnormals is 0 in float32; half the smallest subnormal each,
 * or the smallest normal where subnormals may be flushed).
 */
function sumBound(contract: Contract, n: number, absSum: number): number {
  return contract.sum(n, absSum) + n * (contract.subnormals === "kept" ? 2 ** -150 : smallestNormal);
}

/** got within `tolerance(i)` of the exact answers; non-finite answers matched exactly (NaN for NaN). */
function expectClose(
  what: string,
  got: ArrayLike<number>,
  exact: ArrayLike<number>,
  tolerance: (i: number) => number,
) {
  if (got.length !== exact.length)
    throw new Error(`${what}: ${got.length} elements, expected ${exact.length}`);
  for (let i = 0; i < exact.length; i++) {
    if (
      !allowed(got[i], exact[i], tolerance(i), false) &&
      !(tolerance(i) === 0 && got[i] === Math.fround(exact[i]))
    )
      throw new Error(
        `${what}: element ${i} is ${show(got[i])}, exactly ${show(exact[i])} (allowed ±${tolerance(i)})`,
      );
  }
}

/** A shape of rank 0 to 4 and one run of consecutive axes of it (what one device pass reduces). */
const reduceRunArb = fc
  .array(fc.constantFrom(1, 2, 3, 5, 9), { minLength: 0, maxLength: 4 })
  .chain((shape) =>
    fc
      .tuple(fc.integer({ min: 0, max: shape.length }), fc.integer({ min: 0, max: shape.length }))
      .map(([a, b]) => ({ shape, axes: shape.map((_, i) => i).slice(Math.min(a, b), Math.max(a, b)) })),
  );
/** A shape and any sorted subset of its axes (a backend may run these off its device). */
const reduceAnyArb = fc
  .array(fc.constantFrom(1, 2, 3, 5), { minLength: 0, maxLength: 4 })
  .chain((shape) => fc.record({ shape: fc.constant(shape), axes: fc.subarray(shape.map((_, i) => i)) }));

function propertyReduce(op: "sum" | "max", axesArb: typeof reduceRunArb, device: boolean): ConformanceCheck {
  return {
    name: `reduce ${op} over ${device ? "a run of consecutive axes" : "any axes"}: random values, specials mixed in, against the cpu reference`,
    async run(target) {
      const { backend, contract } = target;
      const cases = axesArb.chain(({ shape, axes }) =>
        fc.tuple(
          fc.constant(shape),
          fc.constant(axes),
          fc.array(sumValueArb, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }),
        ),
      );
      await fc.assert(
        fc.asyncProperty(cases, async ([shape, axes, values]) => {
          const what = `reduce ${op} of [${shape}] over [${axes}]`;
          const work = async () => {
            const got = await read(backend, backend.reduce(op, upload(backend, values), shape, axes));
            const exact = reference.readSync(reference.reduce(op, exactly(values), shape, axes));
            const absSum = reference.readSync(
              reference.reduce("sum", exactly(values.map(Math.abs)), shape, axes),
            );
            const n = sizeOf(axes.map((a) => shape[a]));
            expectClose(what, got, exact, (i) => (op === "max" ? 0 : sumBound(contract, n, absSum[i])));
          };
          await (device ? onDevice(target, what, work) : work());
        }),
        { numRuns: target.runs },
      );
    },
  };
}

const reduceStated: ConformanceCheck = {
  name: "reduce: a NaN wins a max wherever it is, a row of −Infinity keeps it, ∞ − ∞ sums to NaN, nothing sums to 0",
  async run(target) {
    const { backend } = target;
    const rows = [
      [Number.NaN, 1, 2],
      [1, Number.NaN, 2],
      [1, 2, Number.NaN],
      [-Infinity, -Infinity, -Infinity],
      [Infinity, 1, -Infinity],
      [-0, -0, -0],
      [Math.fround(1e-40), Math.fround(1e-40), 0],
    ];
    const x = upload(backend, rows.flat());
    await onDevice(target, "reduce", async () => {
      const max = await read(backend, backend.reduce("max", x, [rows.length, 3], [1]));
      const sum = await read(backend, backend.reduce("sum", x, [rows.length, 3], [1]));
      expectClose(
        "max of rows",
        max.slice(0, 5),
        [Number.NaN, Number.NaN, Number.NaN, -Infinity, Infinity],
        () => 0,
      );
      expectClose("sum of rows", sum.slice(3, 6), [-Infinity, Number.NaN, 0], () => 0);
      // 2e-40 is subnormal: exact where subnormals are kept, a zero where they may be flushed.
      const tiny = sum[6];
      if (!(tiny === 2 * Math.fround(1e-40) || (target.contract.subnormals === "flushable" && tiny === 0)))
        throw new Error(`sum of two subnormals 1e-40 gave ${tiny}`);
    });
    const empty = await read(backend, backend.reduce("sum", backend.fill(0, 1, "float32"), [2, 0], [1]));
    expectClose("a sum over an empty axis", empty, [0, 0], () => 0);
  },
};

/** [m, k, n] around the 4×8 register tiles, then k = 0 and long dot products. */
const matmulDimsArb = fc.tuple(
  fc.constantFrom(1, 2, 3, 4, 5, 8, 9, 13),
  fc.constantFrom(0, 1, 2, 3, 5, 8, 17),
  fc.constantFrom(1, 2, 3, 4, 5, 8, 9, 13),
);

const matmulProperty: ConformanceCheck = {
  name: "matmul, all four transpose variants: random values, specials mixed in, against the cpu reference",
  async run(target) {
    const { backend, contract } = target;
    const cases = fc
      .tuple(matmulDimsArb, fc.boolean(), fc.boolean())
      .chain(([[m, k, n], ta, tb]) =>
        fc.tuple(
          fc.constant([m, k, n, ta, tb] as const),
          fc.array(sumValueArb, { minLength: m * k, maxLength: m * k }),
          fc.array(sumValueArb, { minLength: k * n, maxLength: k * n }),
        ),
      );
    await fc.assert(
      fc.asyncProperty(cases, async ([[m, k, n, ta, tb], av, bv]) => {
        const what = `matmul ${m}×${k}·${k}×${n} transA=${ta} transB=${tb}`;
        const work = async () => {
          const got = await read(
            backend,
            backend.matmul(upload(backend, av), upload(backend, bv), {
              batch: 1,
              m,
              k,
              n,
              transA: ta,
              transB: tb,
            }),
          );
          const exact = reference.readSync(
            reference.matmul(exactly(av), exactly(bv), { batch: 1, m, k, n, transA: ta, transB: tb }),
          );
          const abs = reference.readSync(
            reference.matmul(exactly(av.map(Math.abs)), exactly(bv.map(Math.abs)), {
              batch: 1,
              m,
              k,
              n,
              transA: ta,
              transB: tb,
            }),
          );
          expectClose(what, got, exact, (i) => sumBound(contract, k, abs[i]));
        };
        // An empty product (k = 0) is only zeros: a backend may make them off its device.
        await (k === 0 ? work() : onDevice(target, what, work));
      }),
      { numRuns: target.runs },
    );
  },
};

const matmulStated: ConformanceCheck = {
  name: "matmul: NaN and ∞·0 give NaN in their row and column only; K = 1,500 and 4,097 add every term",
  async run(target) {
    const { backend } = target;
    await onDevice(target, "matmul", async () => {
      // A = [[NaN, 0], [1, 2]], B = [[1, 0], [Inf, 1]]: C = [[NaN, NaN], [1 + 2·Inf, 2]] and 0·Inf = NaN.
      const a = upload(backend, [Number.NaN, 0, 1, 2]);
      const b = upload(backend, [1, 0, Infinity, 1]);
      const c = await read(
        backend,
        backend.matmul(a, b, { batch: 1, m: 2, k: 2, n: 2, transA: false, transB: false }),
      );
      expectClose("2×2 product with NaN and Infinity", c, [Number.NaN, Number.NaN, Infinity, 2], () => 0);
      for (const k of [1500, 4097]) {
        for (const [ta, tb] of [
          [false, false],
          [true, false],
          [false, true],
          [true, true],
        ]) {
          const ones = backend.fill(3 * k, 1, "float32");
          const got = await read(
            backend,
            backend.matmul(ones, ones, { batch: 1, m: 3, k, n: 3, transA: ta, transB: tb }),
          );
          expectClose(`3×${k}·${k}×3 of ones, transA=${ta} transB=${tb}`, got, new Array(9).fill(k), () => 0);
        }
      }
    });
    const empty = await read(
      backend,
      backend.matmul(backend.fill(0, 1, "float32"), backend.fill(0, 1, "float32"), {
        batch: 1,
        m: 2,
        k: 0,
        n: 3,
        transA: false,
        transB: false,
      }),
    );
    expectClose("k = 0", empty, [0, 0, 0, 0, 0, 0], () => 0);
  },
};

// ---- copies --------------------------------------------------------------------------------------

/** Bit for bit: NaN for NaN and the sign of every zero. */
function expectSame(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} elements, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i])))
      throw new Error(`${what}: element ${i} is ${show(got[i])}, expected ${show(want[i])}`);
  }
}

const copiesProperty: ConformanceCheck = {
  name: "broadcastTo and permute move every value bit for bit, specials included",
  async run(target) {
    const { backend } = target;
    const cases = broadcastArb.chain(([shape, other]) =>
      fc.tuple(fc.constant(shape), fc.constant(other), valuesArb(sizeOf(shape))),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ([shape, other, values]) => {
        const out = broadcastShapes(shape, other) as number[];
        const perm = shape.map((_, i) => shape.length - 1 - i);
        await onDevice(target, `broadcast [${shape}] to [${out}], permute by [${perm}]`, async () => {
          const x = upload(backend, values);
          const f32 = (s: Storage) => Float32Array.from(reference.readSync(s));
          expectSame(
            `broadcast [${shape}] to [${out}]`,
            await read(backend, backend.broadcastTo(x, shape, out)),
            f32(reference.broadcastTo(exactly(values), shape, out)),
          );
          expectSame(
            `permute [${shape}] by [${perm}]`,
            await read(backend, backend.permute(x, shape, perm)),
            f32(reference.permute(exactly(values), shape, perm)),
          );
        });
      }),
      { numRuns: target.runs },
    );
  },
};

const rowsAndCasts: ConformanceCheck = {
  name: "copy, cast, fill, gather and scatterAdd keep specials; float64 tensors compute as the cpu reference, bit for bit",
  async run(target) {
    const { backend } = target;
    const values = specialValues.slice(0, 16); // 4 rows of 4
    const x = upload(backend, values);
    const f32 = Float32Array.from(values);
    // A copy is a storage of its own: it outlives the original.
    const copied = backend.copy(x);
    const x64copy = backend.copy(backend.fromArray(Float64Array.from(values)));
    expectSame("copy of float64", await read(backend, x64copy), Float64Array.from(values));
    expectSame("cast to float32", await read(backend, backend.cast(x, "float32")), f32);
    const wide = backend.cast(x, "float64");
    if (wide.dtype !== "float64") throw new Error(`cast to float64 gave ${wide.dtype}`);
    expectSame("cast to float64", await read(backend, wide), Float64Array.from(f32));
    expectSame("fill with −0", await read(backend, backend.fill(5, -0, "float32")), [-0, -0, -0, -0, -0]);
    expectSame("fill with NaN", await read(backend, backend.fill(2, Number.NaN, "float64")), [
      Number.NaN,
      Number.NaN,
    ]);
    const idx = Int32Array.from([3, 0, 3]);
    const gathered = backend.gather(x, [4, 4], 0, idx);
    expectSame("gather", await read(backend, gathered), [
      ...f32.slice(12, 16),
      ...f32.slice(0, 4),
      ...f32.slice(12, 16),
    ]);
    // Row 3 is gathered twice, so scatterAdd adds it to itself; rows 1 and 2 stay +0.
    const row3 = f32.slice(12, 16);
    expectSame("scatterAdd", await read(backend, backend.scatterAdd(gathered, [3, 4], 0, idx, 4)), [
      ...f32.slice(0, 4),
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...Float32Array.from(row3, (v) => v + v),
    ]);
    backend.dispose(x);
    expectSame("copy, after the original is disposed", await read(backend, copied), f32);
    // float64: every op as the cpu backend's float64 kernels, bit for bit.
    const x64 = backend.fromArray(Float64Array.from(values));
    for (const op of unaryOps) {
      expectSame(
        `float64 ${op}`,
        await read(backend, backend.unary(op, x64)),
        reference.readSync(reference.unary(op, exactly(values))),
      );
    }
    for (const op of binaryOps) {
      expectSame(
        `float64 ${op}`,
        await read(
          backend,
          backend.binary(
            op,
            x64,
            [4, 4],
            backend.fromArray(Float64Array.from(values.slice(0, 4))),
            [4],
            [4, 4],
          ),
        ),
        reference.readSync(
          reference.binary(op, exactly(values), [4, 4], exactly(values.slice(0, 4)), [4], [4, 4]),
        ),
      );
    }
    const m64 = backend.fromArray(Float64Array.from({ length: 12 }, (_, i) => Math.sin(i) / 3));
    expectSame(
      "float64 matmul",
      await read(
        backend,
        backend.matmul(m64, m64, { batch: 1, m: 3, k: 4, n: 3, transA: false, transB: true }),
      ),
      reference.readSync(
        reference.matmul(
          exactly(Array.from({ length: 12 }, (_, i) => Math.sin(i) / 3)),
          exactly(Array.from({ length: 12 }, (_, i) => Math.sin(i) / 3)),
          { batch: 1, m: 3, k: 4, n: 3, transA: false, transB: true },
        ),
      ),
    );
  },
};

// ---- storages ----------------------------------------------------------------------------------

const writes: ConformanceCheck = {
  name: "write replaces a storage's values in place: ops issued before it read the old values, ops after it the new",
  async run(target) {
    const { backend } = target;
    const values = specialValues.slice(0, 8);
    const dst = upload(backend, values);
    const before = backend.unary("neg", dst);
    const replacement = values.map((_, i) => i - 3.5);
    backend.write(dst, upload(backend, replacement));
    const after = backend.unary("neg", dst);
    expectSame("write: the new values", await read(backend, dst), Float32Array.from(replacement));
    expectSame(
      "an op issued before the write",
      await read(backend, before),
      Float32Array.from(values, (v) => -v),
    );
    expectSame(
      "an op issued after the write",
      await read(backend, after),
      Float32Array.from(replacement, (v) => -v),
    );
    let message = "";
    try {
      backend.write(dst, backend.fill(3, 0, "float32"));
    } catch (e) {
      message = (e as Error).message;
    }
    if (!/write needs one size and dtype/.test(message))
      throw new Error(
        `a write of another size: "${message}", expected it to say "write needs one size and dtype"`,
      );
  },
};

const storages: ConformanceCheck = {
  name: "storages: disposing frees what memory() counts, twice is harmless, use after dispose throws",
  async run(target) {
    const { backend } = target;
    // No await between the readings: the garbage collector's callbacks (which count down storages
    // dropped by earlier checks) run between tasks, so they cannot move the counts in between.
    const before = backend.memory();
    const a = upload(backend, [1, 2, 3]);
    const b = backend.unary("neg", a);
    const during = backend.memory();
    backend.dispose(a);
    backend.dispose(a);
    const afterOne = backend.memory();
    backend.dispose(b);
    const after = backend.memory();
    const counts = [before, during, afterOne, after].map((m) => `${m.buffers} buffers, ${m.bytes} bytes`);
    const expected = [0, 2, 1, 0].map((k) => `${before.buffers + k} buffers, ${before.bytes + 12 * k} bytes`);
    if (counts.join("; ") !== expected.join("; "))
      throw new Error(
        `memory() before, with two 3-element float32 storages, after disposing one (twice), then both: ${counts.join("; ")}; expected ${expected.join("; ")}`,
      );
    let message = "";
    try {
      backend.unary("neg", a);
    } catch (error) {
      message = String(error);
    }
    if (!/after dispose/.test(message))
      throw new Error(`an op on a disposed storage: "${message}", expected it to say "after dispose"`);
  },
};

const adam: ConformanceCheck = {
  name: "adamUpdate, where a backend has it and does not decline, equals the formula composed from binary and unary ops, bit for bit, and its probe sums to 0 exactly when all it wrote is finite (else NaN)",
  async run(target) {
    const { backend, runs } = target;
    if (backend.adamUpdate === undefined) return;
    const update = backend.adamUpdate.bind(backend);
    for (const dtype of ["float32", "float64"] as DType[]) {
      const typed = (v: number[]) => (dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v));
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 37 }).chain((n) =>
            fc.tuple(
              fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n }),
              // Now and then a gradient that makes the state non-finite: NaN, ±∞, or one whose
              // square overflows v while the parameter stays finite.
              fc.array(
                fc.oneof(
                  { weight: 20, arbitrary: fc.double({ min: -3, max: 3, noNaN: true }) },
                  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 3e38) },
                ),
                { minLength: 3 * n, maxLength: 3 * n },
              ),
            ),
          ),
          fc.constantFrom(0, 0.01),
          async ([p0, grads], weightDecay) => {
            const n = p0.length;
            const r = new CpuBackend();
            let ref = { p: r.fromArray(typed(p0)), m: r.fill(n, 0, dtype), v: r.fill(n, 0, dtype) };
            const state = {
              p: backend.fromArray(typed(p0)),
              m: backend.fill(n, 0, dtype),
              v: backend.fill(n, 0, dtype),
            };
            for (let step = 1; step <= 3; step++) {
              const g = typed(grads.slice((step - 1) * n, step * n));
              const h: AdamHyperparameters = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay };
              const corrections = [1 - h.beta2 ** step, 0.01 / (1 - h.beta1 ** step)];
              ref = composedAdam(r, ref, r.fromArray(g), n, h, corrections, dtype);
              const probe = update(
                state.p,
                backend.fromArray(g),
                state.m,
                state.v,
                backend.fromArray(typed(corrections)),
                h,
              );
              // Declining (undefined) is allowed, but then nothing may have been written.
              if (probe === undefined) {
                expectSame(`adam ${dtype} declined, p unchanged`, await read(backend, state.p), typed(p0));
                return;
              }
              const written = [ref.p, ref.m, ref.v].flatMap((x) => Array.from(r.readSync(x)));
              const sum = Array.from(await read(backend, probe)).reduce((a, b) => a + b, 0);
              if ((sum === 0) !== written.every(Number.isFinite) || !(sum === 0 || Number.isNaN(sum)))
                throw new Error(
                  `adam ${dtype} step ${step}: the probe sums to ${sum}, but it wrote ${written}`,
                );
            }
            for (const key of ["p", "m", "v"] as const)
              expectSame(
                `adam ${dtype} ${key} after 3 steps`,
                await read(backend, state[key]),
                r.readSync(ref[key]),
              );
          },
        ),
        { numRuns: runs },
      );
    }
  },
};

/** Adam's step in the order Backend.adamUpdate documents, from the reference's ops. */
function composedAdam(
  r: CpuBackend,
  s: { p: Storage; m: Storage; v: Storage },
  g: Storage,
  n: number,
  h: AdamHyperparameters,
  [c2, stepSize]: number[],
  dtype: DType,
): { p: Storage; m: Storage; v: Storage } {
  const shape = [n];
  const scalar = (x: number) => r.fill(1, x, dtype);
  const op = (o: BinaryOp, a: Storage, b: Storage, bShape: number[] = shape) =>
    r.binary(o, a, shape, b, bShape, shape);
  const gd = h.weightDecay === 0 ? g : op("add", g, op("mul", s.p, scalar(h.weightDecay), []));
  const m = op("add", op("mul", s.m, scalar(h.beta1), []), op("mul", gd, scalar(1 - h.beta1), []));
  const v = op(
    "add",
    op("mul", s.v, scalar(h.beta2), []),
    op("mul", op("mul", gd, gd), scalar(1 - h.beta2), []),
  );
  const denominator = op("add", r.unary("sqrt", op("div", v, scalar(c2), [])), scalar(h.eps), []);
  const p = op("sub", s.p, op("mul", op("div", m, denominator), scalar(stepSize), []));
  return { p, m, v };
}

const bceWithLogits: ConformanceCheck = {
  name: "bceWithLogitsSum/Grad, where a backend has them and does not decline: each term and gradient as the backend's own ops give it, the sum within the sum bound",
  async run(target) {
    const { backend, runs } = target;
    const { bceWithLogitsSum, bceWithLogitsGrad } = backend;
    if (bceWithLogitsSum === undefined || bceWithLogitsGrad === undefined) return;
    for (const dtype of ["float32", "float64"] as DType[]) {
      const typed = (v: number[]) => (dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v));
      await fc.assert(
        fc.asyncProperty(
          // Sizes with and without a tail of n mod 4, and past the size where threads share the pass.
          fc.oneof(fc.integer({ min: 1, max: 41 }), fc.integer({ min: 16_380, max: 16_390 })).chain((n) =>
            fc.tuple(
              fc.array(fc.oneof(sumValueArb, fc.constantFrom(1e4, -1e4)), { minLength: n, maxLength: n }),
              fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1)), {
                minLength: n,
                maxLength: n,
              }),
              fc.oneof(fc.double({ min: -3, max: 3, noNaN: true }), fc.constantFrom(1, 0, Number.NaN)),
            ),
          ),
          async ([logitValues, targetValues, gValue]) => {
            const n = logitValues.length;
            const shape = [n];
            const [l, t, g] = [typed(logitValues), typed(targetValues), typed([gValue])].map((v) =>
              backend.fromArray(v),
            );
            // The same computation from the backend's own elementwise ops.
            const terms = await read(
              backend,
              backend.binary(
                "sub",
                backend.unary("softplus", l),
                shape,
                backend.binary("mul", t, shape, l, shape, shape),
                shape,
                shape,
              ),
            );
            const fusedSum = bceWithLogitsSum.call(backend, l, t);
            const fusedGrad = bceWithLogitsGrad.call(backend, l, t, g);
            if ((fusedSum === undefined) !== (fusedGrad === undefined))
              throw new Error(`bceWithLogits ${dtype}: the sum and the gradient must decline together`);
            if (fusedSum === undefined || fusedGrad === undefined) return;
            const sum = (await read(backend, fusedSum))[0];
            const exact = Array.from(terms).reduce((a, b) => a + b, 0);
            const absSum = Array.from(terms).reduce((a, b) => a + Math.abs(b), 0);
            // (allowed() judges float32 results: a float64 one is compared with the exact sum itself.)
            const tolerance = sumTolerance(n, absSum);
            const ok =
              dtype === "float32"
                ? allowed(sum, exact, tolerance)
                : Object.is(sum, exact) ||
                  (Number.isNaN(sum) && Number.isNaN(exact)) ||
                  Math.abs(sum - exact) <= tolerance;
            if (!ok)
              throw new Error(
                `bceWithLogitsSum ${dtype} of ${n}: ${show(sum)}, the terms sum to ${show(exact)}`,
              );
            const composedGrad = backend.binary(
              "mul",
              backend.binary("sub", backend.unary("sigmoid", l), shape, t, shape, shape),
              shape,
              g,
              [],
              shape,
            );
            expectSame(
              `bceWithLogitsGrad ${dtype} of ${n}, g = ${gValue}`,
              await read(backend, fusedGrad),
              await read(backend, composedGrad),
            );
          },
        ),
        { numRuns: runs },
      );
    }
  },
};

/** The whole suite: each op's stated special values and its own property, then the rest. */
export const conformanceChecks: readonly ConformanceCheck[] = [
  ...unaryOps.flatMap((op) => [statedUnary(op), propertyUnary(op)]),
  ...binaryOps.flatMap((op) => [statedBinary(op), propertyBinary(op)]),
  propertyReduce("sum", reduceRunArb, true),
  propertyReduce("max", reduceRunArb, true),
  propertyReduce("sum", reduceAnyArb, false),
  propertyReduce("max", reduceAnyArb, false),
  reduceStated,
  writes,
  matmulProperty,
  matmulStated,
  copiesProperty,
  rowsAndCasts,
  storages,
  adam,
  bceWithLogits,
];
