/**
 * The GPU backend, op by op, against exact answers: the cpu backend run in float64 on the same
 * float32 inputs. Each comparison allows the error bound of src/kernels/gpu/precision.ts for that
 * op (bit for bit where the op is exact; dot products and sums within n·u·Σ|terms|).
 *
 * Everything runs twice: in the shader mode found on this machine (WebGPU through Dawn; on a
 * machine without a GPU, on Mesa's llvmpipe software renderer) or the one ELBO_GPU_MODE names
 * (`ELBO_GPU_MODE=headlessgl xvfb-run -a npx vitest run test/kernels/gpu` where the native `gl`
 * package is built), and in gpu.js' cpu mode, which runs the very same kernel sources as
 * JavaScript, so the kernels are tested even where no shader mode works. If none works, the shader
 * tests are skipped with the reason in their title and a warning is printed; with
 * ELBO_REQUIRE_SHADERS=1 (CI, after .ci/gpu-deps.sh) that fails instead.
 *
 * Random shapes compile a kernel each (about 2 to 60 ms on llvmpipe), so runs are capped.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import type { BinaryOp, Storage, TypedArray, UnaryOp } from "../../src/kernels/backend.ts";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";
import { Device } from "../../src/kernels/gpu/device.ts";
import {
  GpuBackend,
  type GpuMode,
  loadGpuBackend,
  modeFromEnvironment,
  probeGpu,
  probeMode,
  shaderModes,
} from "../../src/kernels/gpu/index.ts";
import { elementwiseTolerance, sumTolerance } from "../../src/kernels/gpu/precision.ts";
import { broadcastShapes, sizeOf } from "../../src/kernels/shape.ts";

// The shader mode: ELBO_GPU_MODE if set, else the best one that works here. (One per process:
// a headless-gl context on the main thread breaks Dawn's OpenGL backend in the same process.)
const named = modeFromEnvironment();
const probe =
  named === undefined ? await probeGpu() : { mode: named, detail: (await probeMode(named)).detail };
const shadersRan = probe.mode !== null && shaderModes.includes(probe.mode);
const shadersRequired = process.env.ELBO_REQUIRE_SHADERS === "1";
if (!shadersRan) {
  console.warn(
    `GPU tests: the SHADER PATH DID NOT RUN (${probe.detail}); the kernels ran in gpu.js' cpu mode only`,
  );
}
const modes: { mode: GpuMode; title: string; skip: boolean }[] = [
  probe.mode === null
    ? { mode: "webgpu", title: `shader path SKIPPED, no shader mode works here: ${probe.detail}`, skip: true }
    : { mode: probe.mode, title: `gpu.js ${probe.mode} mode on ${probe.detail}`, skip: false },
  { mode: "cpu", title: "gpu.js cpu mode (the same kernel sources, run as JavaScript)", skip: false },
];

it(`a shader mode runs here${shadersRequired ? " (required: ELBO_REQUIRE_SHADERS=1)" : ""}`, () => {
  if (shadersRequired && !shadersRan) throw new Error(`no shader mode: ${probe.detail}`);
});

const cpu = new CpuBackend();

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Collect garbage, let the FinalizationRegistry callbacks run, and let the device free what they release. */
async function collectGarbage(gpu: GpuBackend): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await gpu.flush();
}
const RUNS = { numRuns: 25 };

/** Uniform values in [low, high), from a seed, kept away from float32's subnormals (GPUs may flush them to 0). */
function values(size: number, seed: number, low = -4, high = 4): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: size }, () => {
    const v = low + (high - low) * g.uniform();
    return Math.abs(v) < 1e-30 ? 0 : v;
  });
}

/** The exact answer: the cpu backend in float64 on the same (float32) inputs. */
function exact(run: (...xs: Storage[]) => Storage, ...inputs: Float32Array[]): Float64Array {
  return cpu.readSync(run(...inputs.map((x) => cpu.fromArray(Float64Array.from(x))))) as Float64Array;
}

/** Every element within tolerance(i) of the exact answer; NaN and infinities must match. */
function expectClose(
  got: TypedArray,
  want: Float64Array,
  tolerance: (i: number) => number,
  what: string,
): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i], want[i]];
    const ok = Number.isFinite(w) ? Math.abs(g - w) <= tolerance(i) : Object.is(g, Math.fround(w)) || g === w;
    if (!ok) throw new Error(`${what}: element ${i} is ${g}, exactly ${w} (allowed ±${tolerance(i)})`);
  }
}

/** Shapes of rank 0..3 with dimensions 1..9. */
const shapeArb = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 3 });

/** Two shapes that broadcast together (each a suffix of the result with some dimensions set to 1). */
const broadcastPairArb = fc
  .array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 4 })
  .chain((out) => {
    const operand = fc
      .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }))
      .map(([rank, ones]) => out.slice(out.length - rank).map((d, i) => (ones[i] ? 1 : d)));
    return fc.tuple(operand, operand);
  });

/** Inputs to each unary op inside its domain, with a few large magnitudes. */
const unaryDomains: Record<UnaryOp, [number, number]> = {
  neg: [-50, 50],
  exp: [-80, 80],
  log: [1e-3, 1e3],
  sqrt: [0, 1e3],
  relu: [-5, 5],
  step: [-5, 5],
  sigmoid: [-60, 60],
  tanh: [-20, 20],
  softplus: [-40, 40],
  abs: [-5, 5],
  sign: [-5, 5],
};
const unaryOps = Object.keys(unaryDomains) as UnaryOp[];
const binaryOps: BinaryOp[] = ["add", "sub", "mul", "div", "pow", "max", "min", "eq"];

for (const { mode, title, skip } of modes) {
  describe.skipIf(skip)(title, () => {
    let gpu: GpuBackend;
    beforeAll(async () => {
      gpu = await loadGpuBackend(mode);
    });
    const up = (x: TypedArray) => gpu.fromArray(x);

    describe("matmul", () => {
      it("all four transpose variants match float64 within k·u·Σ|a||b|, K up to 2,100", async () => {
        const dims = fc.tuple(
          fc.integer({ min: 1, max: 40 }),
          fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1500, max: 2100 })),
          fc.integer({ min: 1, max: 40 }),
        );
        await fc.assert(
          fc.asyncProperty(
            dims,
            fc.boolean(),
            fc.boolean(),
            fc.nat(),
            async ([m, k, n], transA, transB, seed) => {
              const a = values(m * k, seed);
              const b = values(k * n, seed + 1);
              const got = await gpu.read(gpu.matmul(up(a), up(b), m, k, n, transA, transB));
              const mm = (x: Storage, y: Storage) => cpu.matmul(x, y, m, k, n, transA, transB);
              const want = exact(mm, a, b);
              const absSum = exact(mm, a.map(Math.abs), b.map(Math.abs));
              expectClose(
                got,
                want,
                (i) => sumTolerance(k, absSum[i]),
                `${m}×${k}·${k}×${n} ${transA}/${transB}`,
              );
            },
          ),
          RUNS,
        );
      });

      it.each([
        1500, 4097,
      ])("a K = %i dot product adds every term (gpu.js' loop cap is 1,000 by default)", async (k) => {
        const ones = new Float32Array(3 * k).fill(1);
        for (const [transA, transB] of [
          [false, false],
          [true, false],
          [false, true],
          [true, true],
        ]) {
          const c = await gpu.read(gpu.matmul(up(ones), up(ones), 3, k, 3, transA, transB));
          expect(Array.from(c)).toEqual(new Array(9).fill(k));
        }
      });

      it("a dot product longer than a shader loop may run (K = 70,000) is computed by the cpu kernels", async () => {
        const k = 70000;
        const before = gpu.fallbacks.get("matmul") ?? 0;
        const c = await gpu.read(
          gpu.matmul(gpu.fill(k, 1, "float32"), gpu.fill(k, 1, "float32"), 1, k, 1, false, false),
        );
        expect(Array.from(c)).toEqual([k]);
        expect(gpu.fallbacks.get("matmul")).toBe(before + 1);
      });

      it("the VAE's shapes, 128×784·784×200 and its backward products", async () => {
        const [m, k, n] = [128, 784, 200];
        const x = values(m * k, 1, 0, 1);
        const w = values(n * k, 2, -0.05, 0.05);
        const g = values(m * n, 3);
        const cases: [Float32Array, Float32Array, number, number, number, boolean, boolean][] = [
          [x, w, m, k, n, false, true], // forward: x·Wᵀ
          [g, w, m, n, k, false, false], // dx = G·W
          [g, x, n, m, k, true, false], // dW = Gᵀ·x
        ];
        for (const [a, b, mm, kk, nn, ta, tb] of cases) {
          const got = await gpu.read(gpu.matmul(up(a), up(b), mm, kk, nn, ta, tb));
          const run = (p: Storage, q: Storage) => cpu.matmul(p, q, mm, kk, nn, ta, tb);
          const absSum = exact(run, a.map(Math.abs), b.map(Math.abs));
          expectClose(got, exact(run, a, b), (i) => sumTolerance(kk, absSum[i]), `${mm}×${kk}·${kk}×${nn}`);
        }
      });
    });

    describe("elementwise", () => {
      it("unary ops match float64 within their bounds", async () => {
        const sizes = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constant(128 * 784));
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...unaryOps), sizes, fc.nat(), async (op, size, seed) => {
            const [low, high] = unaryDomains[op];
            const x = values(size, seed, low, high);
            const got = await gpu.read(gpu.unary(op, up(x)));
            const want = exact((s) => cpu.unary(op, s), x);
            expectClose(got, want, (i) => elementwiseTolerance(op, want[i], x[i]), `${op} on ${size}`);
          }),
          RUNS,
        );
      });

      it("saturating inputs stay finite and right: sigmoid, softplus, tanh at ±50 and ±1000; sign and relu keep ±0", async () => {
        const x = Float32Array.from([-1000, -50, -0, 0, 50, 1000]);
        for (const op of ["sigmoid", "softplus", "tanh"] as const) {
          const want = exact((s) => cpu.unary(op, s), x);
          const got = await gpu.read(gpu.unary(op, up(x)));
          expectClose(got, want, (i) => elementwiseTolerance(op, want[i], x[i]), op);
        }
        const sign = Array.from(await gpu.read(gpu.unary("sign", up(x))));
        expect(sign.map((v) => (Object.is(v, -0) ? "-0" : v))).toEqual([-1, -1, "-0", 0, 1, 1]);
        expect(Array.from(await gpu.read(gpu.unary("relu", up(x))))).toEqual([0, 0, 0, 0, 50, 1000]);
      });

      it("binary ops broadcast by NumPy rules and match float64 within their bounds", async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...binaryOps),
            broadcastPairArb,
            fc.nat(),
            async (op, [aShape, bShape], seed) => {
              const out = broadcastShapes(aShape, bShape) as number[];
              let a = values(sizeOf(aShape), seed);
              let b = values(sizeOf(bShape), seed + 1);
              if (op === "div") b = b.map((v) => (Math.abs(v) < 0.25 ? 0.25 : v));
              if (op === "pow") {
                // Integer exponents on any base, or fractional ones on positive bases (Math.pow's domain).
                a = a.map((v) => (Math.abs(v) < 0.1 ? 0.1 : v));
                if (seed % 2 === 0) b = b.map(Math.round);
                else a = a.map(Math.abs);
              }
              if (op === "eq") b = b.map((v, i) => (i % 3 === 0 ? a[i % a.length] : v));
              const got = await gpu.read(gpu.binary(op, up(a), aShape, up(b), bShape, out));
              const want = exact((x, y) => cpu.binary(op, x, aShape, y, bShape, out), a, b);
              // The inputs each output element read, for the bounds that depend on them.
              const ax = cpu.readSync(cpu.broadcastTo(cpu.fromArray(a), aShape, out));
              const bx = cpu.readSync(cpu.broadcastTo(cpu.fromArray(b), bShape, out));
              const what = `${op} [${aShape}] with [${bShape}]`;
              expectClose(got, want, (i) => elementwiseTolerance(op, want[i], ax[i], bx[i]), what);
            },
          ),
          { numRuns: 40 },
        );
      });

      it("layouts that need four indices fall back to the cpu kernels, still correct", async () => {
        const [aShape, bShape, out] = [
          [2, 3, 4, 5],
          [2, 1, 4, 1],
          [2, 3, 4, 5],
        ];
        const a = values(120, 1);
        const b = values(8, 2);
        const before = gpu.fallbacks.get("add") ?? 0;
        const got = await gpu.read(gpu.binary("add", up(a), aShape, up(b), bShape, out));
        const want = exact((x, y) => cpu.binary("add", x, aShape, y, bShape, out), a, b);
        expectClose(got, want, (i) => elementwiseTolerance("add", want[i], 0), "add");
        expect(gpu.fallbacks.get("add")).toBe(before + 1);
      });
    });

    describe("reductions and copies", () => {
      it("sum and max over any axes match float64 (sums within n·u·Σ|x|)", async () => {
        const cases = shapeArb.chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.subarray(shape.map((_, i) => i)),
            fc.constantFrom("sum" as const, "max" as const),
          ),
        );
        await fc.assert(
          fc.asyncProperty(cases, fc.nat(), async ([shape, axes, op], seed) => {
            const x = values(sizeOf(shape), seed);
            const got = await gpu.read(gpu.reduce(op, up(x), shape, axes));
            const want = exact((s) => cpu.reduce(op, s, shape, axes), x);
            const absSum = exact((s) => cpu.reduce("sum", s, shape, axes), x.map(Math.abs));
            const n = sizeOf(axes.map((a) => shape[a]));
            const tolerance = op === "sum" ? (i: number) => sumTolerance(n, absSum[i]) : () => 0;
            expectClose(got, want, tolerance, `${op} of [${shape}] over [${axes}]`);
          }),
          { numRuns: 40 },
        );
      });

      it("a sum of 784 pixels, and of a whole 128×784 batch, against float64", async () => {
        const x = values(128 * 784, 7, 0, 1);
        for (const axes of [[1], [0, 1]]) {
          const got = await gpu.read(gpu.reduce("sum", up(x), [128, 784], axes));
          const want = exact((s) => cpu.reduce("sum", s, [128, 784], axes), x);
          const n = axes.length === 1 ? 784 : 128 * 784;
          expectClose(got, want, (i) => sumTolerance(n, want[i]), `sum over [${axes}]`);
        }
      });

      it("a sum of 100,352 ones is 100,352 (llvmpipe ends any shader loop after 65,535 iterations)", async () => {
        for (const n of [65535, 65536, 100352]) {
          expect(Array.from(await gpu.read(gpu.reduce("sum", gpu.fill(n, 1, "float32"), [n], [0])))).toEqual([
            n,
          ]);
        }
        const max = await gpu.read(
          gpu.reduce("max", up(Float32Array.from({ length: 100352 }, (_, i) => i)), [100352], [0]),
        );
        expect(Array.from(max)).toEqual([100351]);
      });

      it("max lets NaN win and keeps a row of -Infinity", async () => {
        const x = Float32Array.from([1, Number.NaN, 3, -Infinity, -Infinity, -Infinity]);
        const got = Array.from(await gpu.read(gpu.reduce("max", up(x), [2, 3], [1])));
        expect(got).toEqual([Number.NaN, -Infinity]);
      });

      it("broadcastTo and permute move values bit for bit", async () => {
        const permutation = shapeArb.chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.shuffledSubarray(
              shape.map((_, i) => i),
              { minLength: shape.length, maxLength: shape.length },
            ),
          ),
        );
        await fc.assert(
          fc.asyncProperty(permutation, broadcastPairArb, fc.nat(), async ([shape, perm], [from], seed) => {
            const x = values(sizeOf(shape), seed);
            const p = await gpu.read(gpu.permute(up(x), shape, perm));
            expectClose(
              p,
              exact((s) => cpu.permute(s, shape, perm), x),
              () => 0,
              `permute [${shape}] by [${perm}]`,
            );
            const to = [3, ...from.map((d) => (d === 1 ? 2 : d))];
            const y = values(sizeOf(from), seed + 1);
            const bc = await gpu.read(gpu.broadcastTo(up(y), from, to));
            expectClose(
              bc,
              exact((s) => cpu.broadcastTo(s, from, to), y),
              () => 0,
              `broadcast [${from}] to [${to}]`,
            );
          }),
          RUNS,
        );
      });

      it("cast, gather, scatterAdd and float64 tensors (computed by the cpu kernels) match the cpu backend", async () => {
        const x = values(12, 3);
        const onDevice = gpu.unary("neg", up(x)); // so the copy below starts from the device
        expect(Array.from(await gpu.read(gpu.cast(onDevice, "float32")))).toEqual(
          Array.from(x.map((v) => -v)),
        );
        const wide = gpu.cast(onDevice, "float64");
        expect(await gpu.read(wide)).toEqual(Float64Array.from(x, (v) => -v));
        const idx = Int32Array.from([2, 0, 2]);
        expect(await gpu.read(gpu.gather(up(x), [3, 4], 0, idx))).toEqual(
          cpu.readSync(cpu.gather(cpu.fromArray(x), [3, 4], 0, idx)),
        );
        const scattered = await gpu.read(gpu.scatterAdd(up(x), [3, 4], 0, idx, 3));
        expect(scattered).toEqual(cpu.readSync(cpu.scatterAdd(cpu.fromArray(x), [3, 4], 0, idx, 3)));
        const x64 = Float64Array.from(x);
        const ref = cpu.readSync(cpu.unary("exp", cpu.fromArray(x64)));
        const y64 = gpu.unary("exp", gpu.fromArray(x64));
        // Computed on the host from values on the host: readable at once, even on an asynchronous device.
        expect(gpu.readSync(y64)).toBeInstanceOf(Float64Array);
        expect(gpu.readSync(y64)).toEqual(ref);
      });
    });

    describe("storage", () => {
      it("readSync throws on an asynchronous device until the values have been awaited, then works", async () => {
        const y = gpu.unary("exp", up(Float32Array.from([0, 1])));
        if (gpu.asyncRead) {
          expect(() => gpu.readSync(y)).toThrow(/await t\.data\(\)/);
          await gpu.read(y);
        }
        const e = gpu.readSync(y);
        expect(e[0]).toBe(1);
        expect(Math.abs(e[1] - Math.E)).toBeLessThanOrEqual(elementwiseTolerance("exp", Math.E, 1));
      });

      it("using a disposed storage, or another backend's, throws at once; disposing twice is harmless", () => {
        const x = up(Float32Array.from([1, 2, 3]));
        gpu.dispose(x);
        gpu.dispose(x);
        expect(() => gpu.unary("neg", x)).toThrow(/after dispose/);
        expect(() => gpu.unary("neg", cpu.fromArray(new Float32Array(1)))).toThrow(/another backend/);
      });

      it("results stay readable, and usable, after their kernel has left the cache", async () => {
        const { GPU } = await import("gpu.js");
        const small = new GpuBackend(new Device(mode, new GPU({ mode }), 2), gpu.detail, gpu.software);
        const first = small.unary("sqrt", small.fromArray(Float32Array.from([1, 4, 9])));
        for (let n = 4; n < 8; n++)
          await small.read(small.unary("neg", small.fromArray(new Float32Array(n))));
        expect(small.device.cachedKernels).toBe(2);
        expect(Array.from(await small.read(small.unary("neg", first)))).toEqual([-1, -2, -3]);
        expect(Array.from(await small.read(first))).toEqual([1, 2, 3]);
      });

      it("disposing what was made frees every storage and device array", async () => {
        await collectGarbage(gpu); // so storages of earlier tests are not counted down halfway through
        const before = { ...gpu.memory(), arrays: gpu.deviceArrays() };
        const made: Storage[] = [];
        const keep = (s: Storage) => {
          made.push(s);
          return s;
        };
        let h = keep(up(values(64 * 32, 1)));
        const w = keep(up(values(32 * 16, 2)));
        for (let i = 0; i < 10; i++) {
          const z = keep(gpu.matmul(h, w, 64, 32, 16, false, false));
          const r = keep(gpu.unary("relu", z));
          h = keep(gpu.matmul(r, w, 64, 16, 32, false, true));
          keep(gpu.reduce("sum", h, [64, 32], [0]));
        }
        await gpu.read(h);
        expect(gpu.memory().buffers).toBe(before.buffers + made.length);
        for (const s of made) gpu.dispose(s);
        await collectGarbage(gpu);
        expect({ ...gpu.memory(), arrays: gpu.deviceArrays() }).toEqual(before);
      });
    });
  });
}
