/**
 * The Backend primitives that indexing ops compose from — gather and scatterAdd along an axis,
 * where, batchedMatmul — against plain-JavaScript references written here (per multi-index, not
 * per slab, so they share no code with the kernels), on the cpu backend; then the wasm backend
 * and the gpu backend (its shader mode here, ELBO_REQUIRE_SHADERS=1 to insist on one) against cpu.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import type { Backend, DType, Shape, TypedArray } from "../../src/kernels/backend.ts";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";
import { type GpuBackend, loadGpuBackend, probeGpu, shaderModes } from "../../src/kernels/gpu/index.ts";
import { getBackend, setBackend } from "../../src/kernels/registry.ts";
import { sizeOf } from "../../src/kernels/shape.ts";
import { createWasmBackend, type WasmBackend } from "../../src/kernels/wasm/backend.ts";
import { broadcastPairArb } from "../fixtures/arbitraries.ts";
import { broadcastSource, ravel, unravel } from "../fixtures/ravel.ts";

const RUNS = { numRuns: 40 };
const cpu = new CpuBackend();

function referenceGather(x: ArrayLike<number>, shape: Shape, axis: number, indices: Int32Array): number[] {
  const outShape = shape.map((d, i) => (i === axis ? indices.length : d));
  return Array.from({ length: sizeOf(outShape) }, (_, flat) => {
    const at = unravel(flat, outShape);
    at[axis] = indices[at[axis]];
    return x[ravel(at, shape)];
  });
}

function referenceScatterAdd(
  x: ArrayLike<number>,
  shape: Shape,
  axis: number,
  indices: Int32Array,
  size: number,
): number[] {
  const outShape = shape.map((d, i) => (i === axis ? size : d));
  const out = new Array<number>(sizeOf(outShape)).fill(0);
  for (let flat = 0; flat < x.length; flat++) {
    const at = unravel(flat, shape);
    at[axis] = indices[at[axis]];
    out[ravel(at, outShape)] += x[flat];
  }
  return out;
}

function referenceMatmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  batch: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
): number[] {
  const out: number[] = [];
  for (let s = 0; s < batch; s++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = a[s * m * k + (transA ? p * m + i : i * k + p)];
          const bv = b[s * k * n + (transB ? j * k + p : p * n + j)];
          acc += av * bv;
        }
        out.push(acc);
      }
    }
  }
  return out;
}

const arrayOf = (dtype: DType, v: ArrayLike<number>): TypedArray =>
  dtype === "float64" ? Float64Array.from(v) : Float32Array.from(v);

/** A shape of rank 1..4 (dimensions 0..4, so empty ones too), an axis, and indices into it (repeats allowed). */
const gatherCaseArb = fc
  .array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      axis: fc.integer({ min: 0, max: shape.length - 1 }),
      dtype: fc.constantFrom<DType>("float32", "float64"),
    }),
  )
  .chain(({ shape, axis, dtype }) =>
    fc.record({
      shape: fc.constant(shape),
      axis: fc.constant(axis),
      dtype: fc.constant(dtype),
      indices:
        shape[axis] === 0
          ? fc.constant<number[]>([])
          : fc.array(fc.integer({ min: 0, max: shape[axis] - 1 }), { maxLength: 6 }),
      values: fc.array(fc.integer({ min: -50, max: 50 }), {
        minLength: sizeOf(shape),
        maxLength: sizeOf(shape),
      }),
    }),
  );

/**
 * A 0/1 condition, a and b, whose shapes broadcast together (the condition and a from a broadcast
 * pair, b of their common shape), with values that include ±Inf and NaN.
 */
const whereCaseArb = broadcastPairArb.chain(({ a, b, out }) => {
  const special = fc.oneof(
    fc.integer({ min: -9, max: 9 }),
    fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN),
  );
  const filled = (shape: number[], value: fc.Arbitrary<number>) =>
    fc.array(value, { minLength: sizeOf(shape), maxLength: sizeOf(shape) });
  return fc.record({
    shapes: fc.constant({ c: a, a: b, b: out, out }),
    cond: filled(a, fc.constantFrom(0, 1)),
    a: filled(b, special),
    b: filled(out, special),
    dtype: fc.constantFrom<DType>("float32", "float64"),
  });
});

const matmulCaseArb = fc.record({
  batch: fc.integer({ min: 0, max: 3 }),
  m: fc.integer({ min: 1, max: 6 }),
  k: fc.integer({ min: 0, max: 6 }),
  n: fc.integer({ min: 1, max: 9 }),
  transA: fc.boolean(),
  transB: fc.boolean(),
  dtype: fc.constantFrom<DType>("float32", "float64"),
  seed: fc.integer(),
});

/** Small integers: every product and sum is exact in float32, so each backend must agree exactly. */
function integers(size: number, seed: number): number[] {
  return Array.from({ length: size }, (_, i) => ((seed + i * 7919) % 9) - 4);
}

/** gather, scatterAdd, where and batchedMatmul on `backend` equal the references (cpu) or cpu (others). */
function conformance(
  name: string,
  backend: () => Backend,
  read: (b: Backend, s: ReturnType<Backend["fill"]>) => Promise<TypedArray>,
) {
  describe(`${name}: gather, scatterAdd, where and batchedMatmul`, () => {
    it("gather and scatterAdd along any axis, repeated and empty indices, both dtypes", async () => {
      await fc.assert(
        fc.asyncProperty(gatherCaseArb, async ({ shape, axis, dtype, indices, values }) => {
          const be = backend();
          const idx = Int32Array.from(indices);
          const x = be.fromArray(arrayOf(dtype, values));
          const gathered = be.gather(x, shape, axis, idx);
          expect(gathered.dtype).toBe(dtype);
          expect(Array.from(await read(be, gathered))).toEqual(referenceGather(values, shape, axis, idx));
          const gShape = shape.map((d, i) => (i === axis ? idx.length : d));
          const g = referenceGather(values, shape, axis, idx);
          const scattered = be.scatterAdd(be.fromArray(arrayOf(dtype, g)), gShape, axis, idx, shape[axis]);
          expect(Array.from(await read(be, scattered))).toEqual(
            referenceScatterAdd(g, gShape, axis, idx, shape[axis]),
          );
        }),
        RUNS,
      );
    });

    it("where selects (an Infinity or NaN on the side not taken never leaks), with broadcasting", async () => {
      await fc.assert(
        fc.asyncProperty(whereCaseArb, async ({ shapes, cond, a, b, dtype }) => {
          const be = backend();
          const out = be.where(
            be.fromArray(arrayOf(dtype, cond)),
            shapes.c,
            be.fromArray(arrayOf(dtype, a)),
            shapes.a,
            be.fromArray(arrayOf(dtype, b)),
            shapes.b,
            shapes.out,
          );
          const expected = Array.from({ length: sizeOf(shapes.out) }, (_, flat) => {
            const at = unravel(flat, shapes.out);
            return cond[broadcastSource(at, shapes.c)] !== 0
              ? a[broadcastSource(at, shapes.a)]
              : b[broadcastSource(at, shapes.b)];
          });
          expect(Array.from(await read(be, out))).toEqual(expected);
        }),
        RUNS,
      );
    });

    it("batchedMatmul: every transpose variant, empty batches and k = 0", async () => {
      await fc.assert(
        fc.asyncProperty(matmulCaseArb, async ({ batch, m, k, n, transA, transB, dtype, seed }) => {
          const be = backend();
          const a = integers(batch * m * k, seed);
          const b = integers(batch * k * n, seed + 1);
          const out = be.batchedMatmul(be.fromArray(arrayOf(dtype, a)), be.fromArray(arrayOf(dtype, b)), {
            batch,
            m,
            k,
            n,
            transA,
            transB,
          });
          // + 0 makes −0 (a lone product −4·0) and +0 (a sum from 0) the same zero.
          expect(Array.from(await read(be, out), (v) => v + 0)).toEqual(
            referenceMatmul(a, b, batch, m, k, n, transA, transB),
          );
        }),
        { numRuns: 30 },
      );
    });

    it("an index out of range is refused with the op, the axis and the shape", () => {
      const be = backend();
      const x = be.fromArray(new Float32Array(6));
      expect(() => be.gather(x, [2, 3], 1, Int32Array.from([0, 3]))).toThrow(
        "gather: index 3 is out of range for axis 1 of size 3 (shape [2, 3])",
      );
      expect(() => be.scatterAdd(x, [2, 3], 0, Int32Array.from([0, -1]), 4)).toThrow(
        "scatterAdd: index -1 is out of range for axis 0 of size 4 (shape [4, 3])",
      );
    });
  });
}

const hostRead = (b: Backend, s: ReturnType<Backend["fill"]>) => Promise.resolve(b.readSync(s));

conformance("cpu (against the references)", () => cpu, hostRead);

let wasm: WasmBackend;
beforeAll(async () => {
  wasm = await createWasmBackend({ threads: 2, parallelFlops: 0 });
});
afterAll(async () => {
  await wasm?.terminate();
});
conformance("wasm (two threads on every matmul)", () => wasm, hostRead);

const probe = await probeGpu();
const shadersRan = probe.mode !== null && shaderModes.includes(probe.mode);
const shadersRequired = process.env.ELBO_REQUIRE_SHADERS === "1";
let gpu: GpuBackend;
beforeAll(async () => {
  if (shadersRan) gpu = await loadGpuBackend(probe.mode ?? undefined);
});
it(`gpu: a shader mode runs here${shadersRequired ? " (required)" : ""}`, () => {
  if (shadersRequired && !shadersRan) throw new Error(`no shader mode: ${probe.detail}`);
});
describe.skipIf(!shadersRan)(`gpu backend, ${probe.mode} mode on ${probe.detail}`, () => {
  conformance(
    "gpu",
    () => gpu,
    (b, s) => b.read(s),
  );

  it("where runs as a shader on float32 (no cpu fallback), Infinity and NaN on the side not taken kept out", async () => {
    const before = gpu.fallbacks.get("where") ?? 0;
    const inf = Number.POSITIVE_INFINITY;
    const cond = gpu.fromArray(Float32Array.from([1, 0, 1, 0, 1, 0]));
    const a = gpu.unary("neg", gpu.fromArray(Float32Array.from([1, inf, Number.NaN]))); // on the device
    const b = gpu.fromArray(Float32Array.from([-inf, 5]));
    const out = gpu.where(cond, [3, 2], a, [3, 1], b, [2], [3, 2]);
    expect(Array.from(await gpu.read(out))).toEqual([-1, 5, -inf, 5, Number.NaN, 5]);
    expect(gpu.fallbacks.get("where") ?? 0).toBe(before);
  });

  it("an indexing op between device kernels: values come from the device and go back to it", async () => {
    const x = Float32Array.from({ length: 12 }, (_, i) => i - 5);
    const onDevice = gpu.unary("neg", gpu.fromArray(x)); // made by a shader, so gather must fetch it
    const taken = gpu.gather(onDevice, [3, 4], 1, Int32Array.from([3, 0]));
    const doubled = gpu.binary("add", taken, [3, 2], taken, [3, 2], [3, 2]); // a shader on gather's result
    const expected = referenceGather(
      Array.from(x, (v) => -2 * v),
      [3, 4],
      1,
      Int32Array.from([3, 0]),
    );
    expect(Array.from(await gpu.read(doubled))).toEqual(expected);
  });
});

describe("broadcastTo refuses a target shape that is not made of non-negative integers", () => {
  const previous = getBackend();
  afterAll(() => setBackend(previous));
  const backends: [string, () => Backend][] = [
    ["cpu", () => cpu],
    ["wasm", () => wasm],
  ];
  for (const [name, be] of backends) {
    it(`on ${name}`, () => {
      setBackend(be());
      const x = tensor([1]);
      expect(() => x.broadcastTo([-1])).toThrow(
        "broadcastTo: target shape [-1] must hold non-negative integers (broadcasting [1])",
      );
      expect(() => x.broadcastTo([2.5])).toThrow(
        "broadcastTo: target shape [2.5] must hold non-negative integers (broadcasting [1])",
      );
      expect(x.broadcastTo([0]).shape).toEqual([0]);
    });
  }
  it.skipIf(!shadersRan)("on gpu", () => {
    setBackend(gpu);
    expect(() => tensor([1]).broadcastTo([-1])).toThrow("broadcastTo: target shape [-1] must hold");
    expect(() => tensor([1]).broadcastTo([2.5])).toThrow("broadcastTo: target shape [2.5] must hold");
  });
});
