/**
 * The wasm backend against the plain TypeScript backend (the reference), op by op, on random
 * shapes around the kernels' block sizes (4 floats per vector, 4×8 matmul tiles) and with
 * 1-element dimensions, single-threaded and with a second thread forced onto every matmul.
 *
 * Tolerances: ops that round once per element (+ − × ÷, sqrt, comparisons, copies) must match bit
 * for bit, NaN for NaN. exp, log and what is built on them are polynomial approximations within a
 * few float32 ulps (we allow 4·2⁻²³ relative). Sums and dot products may add in another order:
 * they must agree within n·2⁻²³·Σ|terms|.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  AdamHyperparameters,
  Backend,
  BinaryOp,
  DType,
  Storage,
  TypedArray,
  UnaryOp,
} from "../../src/kernels/backend.ts";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";
import { sizeOf } from "../../src/kernels/shape.ts";
import { createWasmBackend, type WasmBackend } from "../../src/kernels/wasm/backend.ts";

const RUNS = { numRuns: 60 };
const EPS32 = 2 ** -23;
const cpu = new CpuBackend();
let wasm: WasmBackend;
let threaded: WasmBackend;

beforeAll(async () => {
  wasm = await createWasmBackend({ threads: 1 });
  // Thresholds 0: every matmul and every exp-like op is split between the two threads, however small.
  threaded = await createWasmBackend({ threads: 2, parallelFlops: 0, parallelElements: 0 });
});

afterAll(async () => {
  await threaded?.terminate();
});

const dimArb = fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 13);
const shapeArb = fc.array(fc.constantFrom(1, 2, 3, 4, 5, 7, 9), { minLength: 0, maxLength: 4 });
const specials = [
  0,
  -0,
  1,
  -1,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e-40,
  -1e-40,
  3e38,
  88.7,
  -88,
  -103,
  1e-7,
];

/** Float32 values: mostly moderate, sometimes huge, tiny, zero, infinite or NaN. */
function valuesArb(size: number, withSpecials = true): fc.Arbitrary<number[]> {
  const value = withSpecials
    ? fc.oneof(
        { weight: 8, arbitrary: fc.double({ min: -12, max: 12, noNaN: true }) },
        { weight: 1, arbitrary: fc.float({ noNaN: false }).map(Math.fround) },
        { weight: 1, arbitrary: fc.constantFrom(...specials) },
      )
    : fc.double({ min: -3, max: 3, noNaN: true });
  return fc.array(value, { minLength: size, maxLength: size });
}

function typed(values: readonly number[], dtype: DType): TypedArray {
  return dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values);
}

/** Both backends' storages for the same numbers. */
function pair(values: readonly number[], dtype: DType = "float32"): { c: Storage; w: Storage; t: Storage } {
  const data = typed(values, dtype);
  return { c: cpu.fromArray(data), w: wasm.fromArray(data), t: threaded.fromArray(data) };
}

function same(actual: TypedArray, expected: TypedArray): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i]) ? !Number.isNaN(actual[i]) : actual[i] !== expected[i]) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Within `tolerance(i)` of the reference; NaN and infinities must match exactly. */
function close(actual: TypedArray, expected: TypedArray, tolerance: (i: number) => number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!(Object.is(a, e) || a === e || (Number.isNaN(a) && Number.isNaN(e)))) {
        throw new Error(`element ${i}: got ${a}, expected ${e}`);
      }
      continue;
    }
    if (!(Math.abs(a - e) <= tolerance(i)))
      throw new Error(`element ${i}: got ${a}, expected ${e} (±${tolerance(i)})`);
  }
}

const exactUnary: UnaryOp[] = ["neg", "abs", "sqrt", "relu", "step", "sign"];
const approxUnary: UnaryOp[] = ["exp", "log", "sigmoid", "softplus", "tanh"];

describe("wasm unary ops", () => {
  it.each(exactUnary)("%s matches the reference bit for bit", (op) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 41 }).chain((n) => valuesArb(n)),
        (values) => {
          const { c, w } = pair(values);
          same(wasm.readSync(wasm.unary(op, w)), cpu.readSync(cpu.unary(op, c)));
        },
      ),
      RUNS,
    );
  });

  it.each(approxUnary)("%s is within 4 ulp of the reference", (op) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 41 }).chain((n) => valuesArb(n)),
        (values) => {
          const { c, w, t } = pair(values);
          const expected = cpu.readSync(cpu.unary(op, c));
          // 4 ulps, and an absolute floor in the subnormal range where ulps are fixed.
          const one = wasm.readSync(wasm.unary(op, w));
          close(one, expected, (i) => 4 * EPS32 * Math.abs(expected[i]) + 1e-44);
          // Split between two threads, each number is computed by the same code: same bits.
          same(threaded.readSync(threaded.unary(op, t)), one);
        },
      ),
      RUNS,
    );
  });

  it.each(approxUnary)("%s handles the edges of float32 like Math does", (op) => {
    const edges = [
      ...specials,
      -0.5,
      0.5,
      0.625,
      -0.625,
      20,
      -20,
      -87.3,
      -100,
      89,
      1.17549435e-38,
      1.4e-45,
      3.4028234663852886e38,
      -3.4028234663852886e38,
    ];
    const { c, w } = pair(edges);
    const expected = cpu.readSync(cpu.unary(op, c));
    close(wasm.readSync(wasm.unary(op, w)), expected, (i) => 4 * EPS32 * Math.abs(expected[i]) + 1e-44);
  });

  it("float64 storages run the reference kernels exactly", () => {
    const values = [0.1, -2, 3.5, 1e-300, -0, 700];
    for (const op of [...exactUnary, ...approxUnary]) {
      const { c, w } = pair(values, "float64");
      same(wasm.readSync(wasm.unary(op, w)), cpu.readSync(cpu.unary(op, c)));
    }
  });
});

/** An output shape and two input shapes that broadcast to it (dims set to 1, leading dims dropped). */
const broadcastArb = shapeArb.chain((out) =>
  fc
    .tuple(
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
      fc.integer({ min: 0, max: out.length }),
      fc.integer({ min: 0, max: out.length }),
    )
    .map(([onesA, onesB, dropA, dropB]) => ({
      out,
      a: out.map((d, i) => (onesA[i] ? 1 : d)).slice(dropA),
      b: out.map((d, i) => (onesB[i] ? 1 : d)).slice(dropB),
    })),
);

const binaryOps: BinaryOp[] = ["add", "sub", "mul", "div", "max", "min", "eq", "pow"];

describe("wasm binary ops with broadcasting", () => {
  it.each(binaryOps)("%s matches the reference bit for bit", (op) => {
    fc.assert(
      fc.property(
        broadcastArb.chain((s) => fc.tuple(fc.constant(s), valuesArb(sizeOf(s.a)), valuesArb(sizeOf(s.b)))),
        ([s, av, bv]) => {
          const a = pair(av);
          const b = pair(bv);
          const expected = cpu.readSync(cpu.binary(op, a.c, s.a, b.c, s.b, s.out));
          same(wasm.readSync(wasm.binary(op, a.w, s.a, b.w, s.b, s.out)), expected);
        },
      ),
      RUNS,
    );
  });

  it("a bias row broadcast over a batch (the Linear layer's add)", () => {
    const x = Float32Array.from({ length: 7 * 13 }, (_, i) => Math.sin(i));
    const bias = Float32Array.from({ length: 13 }, (_, i) => i / 3);
    const expected = cpu.readSync(
      cpu.binary("add", cpu.fromArray(x), [7, 13], cpu.fromArray(bias), [13], [7, 13]),
    );
    same(
      wasm.readSync(wasm.binary("add", wasm.fromArray(x), [7, 13], wasm.fromArray(bias), [13], [7, 13])),
      expected,
    );
  });
});

/** A shape and a sorted, distinct subset of its axes. */
const reduceArb = shapeArb.chain((shape) =>
  fc.tuple(
    fc.constant(shape),
    fc.subarray(
      shape.map((_, i) => i),
      { minLength: 0 },
    ),
    valuesArb(sizeOf(shape), false),
  ),
);

describe("wasm reductions", () => {
  it("sum agrees within n·ε·Σ|x|", () => {
    fc.assert(
      fc.property(reduceArb, ([shape, axes, values]) => {
        const { c, w } = pair(values);
        const expected = cpu.readSync(cpu.reduce("sum", c, shape, axes));
        const n = sizeOf(axes.map((a) => shape[a]));
        const abs = cpu.readSync(cpu.reduce("sum", cpu.unary("abs", c), shape, axes));
        close(
          wasm.readSync(wasm.reduce("sum", w, shape, axes)),
          expected,
          (i) => 2 * (n + 1) * EPS32 * abs[i],
        );
      }),
      RUNS,
    );
  });

  it("max matches exactly, NaN included", () => {
    fc.assert(
      fc.property(
        shapeArb.chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.subarray(
              shape.map((_, i) => i),
              { minLength: 0 },
            ),
            valuesArb(sizeOf(shape)),
          ),
        ),
        ([shape, axes, values]) => {
          const { c, w } = pair(values);
          // ±0 may come out either way round when both are the maximum; compare them as equal.
          const expected = Array.from(cpu.readSync(cpu.reduce("max", c, shape, axes)), (v) => v + 0);
          const actual = Array.from(wasm.readSync(wasm.reduce("max", w, shape, axes)), (v) => v + 0);
          same(Float64Array.from(actual), Float64Array.from(expected));
        },
      ),
      RUNS,
    );
  });

  it("bias gradient and per-row sums at the VAE's sizes", () => {
    const values = Float32Array.from({ length: 128 * 200 }, (_, i) => Math.cos(i));
    for (const axes of [[0], [1], [0, 1]]) {
      const expected = cpu.readSync(cpu.reduce("sum", cpu.fromArray(values), [128, 200], axes));
      close(
        wasm.readSync(wasm.reduce("sum", wasm.fromArray(values), [128, 200], axes)),
        expected,
        () => 1e-3,
      );
    }
  });
});

describe("wasm copies", () => {
  it("broadcastTo, permute, cast, fill, gather and scatterAdd of rows match exactly", () => {
    fc.assert(
      fc.property(
        broadcastArb.chain((s) => fc.tuple(fc.constant(s), valuesArb(sizeOf(s.a)))),
        fc.constantFrom<DType>("float32", "float64"),
        ([s, values], dtype) => {
          const x = pair(values, dtype);
          same(
            wasm.readSync(wasm.broadcastTo(x.w, s.a, s.out)),
            cpu.readSync(cpu.broadcastTo(x.c, s.a, s.out)),
          );
          const perm = s.a.map((_, i) => s.a.length - 1 - i);
          same(wasm.readSync(wasm.permute(x.w, s.a, perm)), cpu.readSync(cpu.permute(x.c, s.a, perm)));
          const other: DType = dtype === "float32" ? "float64" : "float32";
          same(wasm.readSync(wasm.cast(x.w, other)), cpu.readSync(cpu.cast(x.c, other)));
          same(
            wasm.readSync(wasm.fill(values.length, values[0] ?? 0, dtype)),
            cpu.readSync(cpu.fill(values.length, values[0] ?? 0, dtype)),
          );
          const rows = s.a[0] ?? 1;
          const cols = values.length / rows;
          if (Number.isInteger(cols) && rows > 0) {
            const indices = Int32Array.from({ length: 5 }, (_, i) => (i * 7) % rows);
            const gw = wasm.gather(x.w, [rows, cols], 0, indices);
            const gc = cpu.gather(x.c, [rows, cols], 0, indices);
            same(wasm.readSync(gw), cpu.readSync(gc));
            same(
              wasm.readSync(wasm.scatterAdd(gw, [indices.length, cols], 0, indices, rows)),
              cpu.readSync(cpu.scatterAdd(gc, [indices.length, cols], 0, indices, rows)),
            );
          }
        },
      ),
      RUNS,
    );
  });
});

describe("wasm matmul", () => {
  /** |C − C_ref| ≤ 2(k+1)·ε·(|A|·|B|), from the recursive summation bound in float32. */
  function checkMatmul(
    backend: Backend,
    a: Storage,
    b: Storage,
    m: number,
    k: number,
    n: number,
    ta: boolean,
    tb: boolean,
    av: number[],
    bv: number[],
  ): TypedArray {
    const ac = cpu.fromArray(Float32Array.from(av, Math.abs));
    const bc = cpu.fromArray(Float32Array.from(bv, Math.abs));
    const bound = cpu.readSync(cpu.matmul(ac, bc, m, k, n, ta, tb));
    const expected = cpu.readSync(
      cpu.matmul(cpu.fromArray(Float32Array.from(av)), cpu.fromArray(Float32Array.from(bv)), m, k, n, ta, tb),
    );
    const actual = backend.readSync(backend.matmul(a, b, m, k, n, ta, tb));
    close(actual, expected, (i) => 2 * (k + 1) * EPS32 * bound[i] + 1e-30);
    return actual;
  }

  it("all transpose variants, odd sizes, one thread and two give the same numbers", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(dimArb, fc.constantFrom(0, 1, 2, 3, 5, 8, 17), dimArb, fc.boolean(), fc.boolean())
          .chain(([m, k, n, ta, tb]) =>
            fc.tuple(
              fc.constant([m, k, n, ta, tb] as const),
              valuesArb(m * k, false),
              valuesArb(k * n, false),
            ),
          ),
        ([[m, k, n, ta, tb], av, bv]) => {
          const a = pair(av);
          const b = pair(bv);
          const one = checkMatmul(wasm, a.w, b.w, m, k, n, ta, tb, av, bv);
          const two = checkMatmul(threaded, a.t, b.t, m, k, n, ta, tb, av, bv);
          // Each element is the same dot product in the same order whichever thread computes it.
          same(two, one);
        },
      ),
      RUNS,
    );
  });

  it.each([
    [128, 784, 200],
    [200, 128, 784],
    [784, 128, 200],
    [128, 200, 10],
    [33, 65, 47],
  ])("%i×%i·%i in every variant, threaded or not", (m, k, n) => {
    const av = Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37));
    const bv = Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11));
    const a = pair(av);
    const b = pair(bv);
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const one = checkMatmul(wasm, a.w, b.w, m, k, n, ta, tb, av, bv);
        same(checkMatmul(threaded, a.t, b.t, m, k, n, ta, tb, av, bv), one);
      }
    }
  });

  it("float64 matmul runs the reference kernel", () => {
    const av = [1, 2, 3, 4, 5, 6];
    const { c: ac, w: aw } = pair(av, "float64");
    const { c: bc, w: bw } = pair(av, "float64");
    same(
      wasm.readSync(wasm.matmul(aw, bw, 2, 3, 2, false, true)),
      cpu.readSync(cpu.matmul(ac, bc, 2, 3, 2, false, true)),
    );
  });
});

describe("wasm storages", () => {
  it("dispose returns blocks to the pool, and a repeated workload reuses them", () => {
    const step = () => {
      const made: Storage[] = [];
      for (const size of [100, 128 * 784, 7, 200, 128 * 784]) made.push(wasm.fill(size, 1, "float32"));
      made.push(wasm.matmul(made[1], made[4], 128, 784, 128, false, true));
      for (const s of made) wasm.dispose(s);
    };
    const before = wasm.memory();
    step();
    const reserved = wasm.poolInfo().reserved;
    for (let i = 0; i < 5; i++) step();
    expect(wasm.poolInfo().reserved).toBe(reserved);
    expect(wasm.memory()).toEqual(before);
  });

  it("explains misuse", () => {
    const s = wasm.fill(3, 0, "float32");
    wasm.dispose(s);
    wasm.dispose(s); // harmless
    expect(() => wasm.readSync(s)).toThrow(/after dispose/);
    expect(() => wasm.readSync(cpu.fill(3, 0, "float32"))).toThrow(/another backend/);
  });

  it("survives the memory growing under existing storages", () => {
    const small = wasm.fromArray(Float32Array.from([1, 2, 3]));
    const big = wasm.fill(20 * 1024 * 1024, 2, "float32"); // 80 MB: past the initial 16 MiB
    same(wasm.readSync(small), Float32Array.from([1, 2, 3]));
    same(wasm.readSync(wasm.unary("neg", small)), Float32Array.from([-1, -2, -3]));
    expect(wasm.readSync(big)[20 * 1024 * 1024 - 1]).toBe(2);
    wasm.dispose(big);
  });
});

describe("wasm fused Adam (Backend.adamUpdate)", () => {
  /** The same update composed from the reference backend's ops, in the documented order. */
  function composed(
    p: Storage,
    g: Storage,
    m: Storage,
    v: Storage,
    n: number,
    h: AdamHyperparameters,
    dtype: DType,
  ) {
    const shape = [n];
    const scalar = (x: number) => cpu.fill(1, x, dtype);
    const op = (o: BinaryOp, a: Storage, b: Storage, bShape: number[] = shape) =>
      cpu.binary(o, a, shape, b, bShape, shape);
    const gd = h.weightDecay === 0 ? g : op("add", g, op("mul", p, scalar(h.weightDecay), []));
    const m2 = op("add", op("mul", m, scalar(h.beta1), []), op("mul", gd, scalar(1 - h.beta1), []));
    const v2 = op(
      "add",
      op("mul", v, scalar(h.beta2), []),
      op("mul", op("mul", gd, gd), scalar(1 - h.beta2), []),
    );
    const denominator = op(
      "add",
      cpu.unary("sqrt", op("div", v2, scalar(1 - h.beta2 ** h.step), [])),
      scalar(h.eps),
      [],
    );
    const p2 = op(
      "sub",
      p,
      op("mul", op("div", m2, denominator), scalar(h.lr / (1 - h.beta1 ** h.step)), []),
    );
    return [p2, m2, v2].map((s) => cpu.readSync(s));
  }

  it.each<[DType, number]>([
    ["float32", 0],
    ["float32", 0.01],
    ["float64", 0],
    ["float64", 0.01],
  ])("three steps in %s (weight decay %s) equal the composed ops bit for bit", (dtype, weightDecay) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 37 }).chain((n) => fc.tuple(valuesArb(n, false), valuesArb(3 * n, false))),
        ([p0, grads]) => {
          const n = p0.length;
          let ref = [
            typed(p0, dtype),
            new (dtype === "float32" ? Float32Array : Float64Array)(n),
            new (dtype === "float32" ? Float32Array : Float64Array)(n),
          ];
          // One thread, and two splitting every update (same bits either way).
          const states = [wasm, threaded].map((b) => ({
            b,
            p: b.fromArray(ref[0]),
            m: b.fill(n, 0, dtype),
            v: b.fill(n, 0, dtype),
          }));
          for (let step = 1; step <= 3; step++) {
            const g = typed(grads.slice((step - 1) * n, step * n), dtype);
            const h = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step };
            ref = composed(
              cpu.fromArray(ref[0]),
              cpu.fromArray(g),
              cpu.fromArray(ref[1]),
              cpu.fromArray(ref[2]),
              n,
              h,
              dtype,
            );
            for (const { b, p, m, v } of states) b.adamUpdate(p, b.fromArray(g), m, v, h);
          }
          for (const { b, p, m, v } of states) {
            same(b.readSync(p), ref[0]);
            same(b.readSync(m), ref[1]);
            same(b.readSync(v), ref[2]);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
