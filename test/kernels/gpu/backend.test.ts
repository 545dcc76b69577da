/**
 * What the conformance suite (conformance.ts, run on the gpu backend in conformance.test.ts) does
 * not cover: the VAE's shapes against exact answers (the cpu backend in float64 on the same
 * float32 inputs, within the bounds of src/kernels/gpu/precision.ts), the limits of shader loops
 * (reductions in passes, dot products too long for a shader loop on the cpu fallback), layouts
 * that need four indices, and the device's storages (asynchronous reads, the kernel cache, memory).
 * Every op a test expects on the device is asserted to have run there, by the fallback counter.
 *
 * Everything runs twice: in the shader mode found on this machine (WebGPU through Dawn; on a
 * machine without a GPU, on Mesa's llvmpipe software renderer) or the one ELBO_GPU_MODE names
 * (`ELBO_GPU_MODE=headlessgl xvfb-run -a npx vitest run test/kernels/gpu` where the native `gl`
 * package is built), and in gpu.js' cpu mode, which runs the very same kernel sources as
 * JavaScript. If no shader mode works, the shader tests are skipped with the reason in their
 * title and a warning is printed; with ELBO_REQUIRE_SHADERS=1 (CI, after .ci/gpu-deps.sh) that
 * fails instead.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import { Generator } from "../../../src/autograd/random.ts";
import type { Storage, TypedArray } from "../../../src/kernels/backend.ts";
import { CpuBackend } from "../../../src/kernels/cpu/backend.ts";
import { Device } from "../../../src/kernels/gpu/device.ts";
import { GpuBackend } from "../../../src/kernels/gpu/index.ts";
import { elementwiseTolerance, sumTolerance } from "../../../src/kernels/gpu/precision.ts";
import { gpuBackends, itRunsOnAShaderMode } from "../../fixtures/backends.ts";

const { probe, shader, jsCpu } = await gpuBackends();
itRunsOnAShaderMode(probe);

/** How many ops have run on the cpu fallback, all ops together. */
const fallbacks = (gpu: GpuBackend) => [...gpu.fallbacks.values()].reduce((s, n) => s + n, 0);

/** Runs `work` and expects every op of it to have run on the device. */
async function onDevice<T>(gpu: GpuBackend, work: () => Promise<T>): Promise<T> {
  const before = fallbacks(gpu);
  const result = await work();
  expect(fallbacks(gpu), `ops on the cpu fallback: ${JSON.stringify([...gpu.fallbacks])}`).toBe(before);
  return result;
}

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

for (const { title, skip, load } of [shader, jsCpu]) {
  describe.skipIf(skip !== undefined)(skip === undefined ? title : `${title} SKIPPED: ${skip}`, () => {
    let gpu: GpuBackend;
    beforeAll(async () => {
      gpu = (await load()) as GpuBackend;
    });
    const up = (x: TypedArray) => gpu.fromArray(x);

    describe("matmul", () => {
      it("a dot product longer than a shader loop may run (K = 70,000) is computed by the cpu kernels", async () => {
        const k = 70000;
        const before = gpu.fallbacks.get("matmul") ?? 0;
        const c = await gpu.read(
          gpu.matmul(gpu.fill(k, 1, "float32"), gpu.fill(k, 1, "float32"), {
            batch: 1,
            m: 1,
            k,
            n: 1,
            transA: false,
            transB: false,
          }),
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
          const got = await onDevice(gpu, () =>
            gpu.read(gpu.matmul(up(a), up(b), { batch: 1, m: mm, k: kk, n: nn, transA: ta, transB: tb })),
          );
          const run = (p: Storage, q: Storage) =>
            cpu.matmul(p, q, { batch: 1, m: mm, k: kk, n: nn, transA: ta, transB: tb });
          const absSum = exact(run, a.map(Math.abs), b.map(Math.abs));
          expectClose(got, exact(run, a, b), (i) => sumTolerance(kk, absSum[i]), `${mm}×${kk}·${kk}×${nn}`);
        }
      });
    });

    describe("elementwise", () => {
      it("max and min let a NaN on either side win, as on the cpu backend; lt is a comparison, not a sign of a − b", async () => {
        const a = up(Float32Array.from([Number.NaN, 1, Number.NaN, 2]));
        const b = up(Float32Array.from([1, Number.NaN, Number.NaN, 3]));
        // 2⁻¹²⁶ + 2⁻¹⁴⁹ − 2⁻¹²⁶ is a subnormal difference that a GPU may flush to 0; the comparison sees it.
        const [x, y] = [
          Float32Array.of(0, -0, 1e-3, 2 ** -126 + 2 ** -149),
          Float32Array.of(-0, 0, -1e-3, 2 ** -126),
        ];
        const [max, min, step] = await onDevice(gpu, () =>
          Promise.all([
            gpu.read(gpu.binary("max", a, [4], b, [4], [4])),
            gpu.read(gpu.binary("min", a, [4], b, [4], [4])),
            gpu.read(gpu.binary("lt", up(y), [4], up(x), [4], [4])),
          ]),
        );
        expect(Array.from(max)).toEqual([Number.NaN, Number.NaN, Number.NaN, 3]);
        expect(Array.from(min)).toEqual([Number.NaN, Number.NaN, Number.NaN, 2]);
        expect(Array.from(step)).toEqual([0, 0, 1, 1]);
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
      it("a sum of 784 pixels, and of a whole 128×784 batch, against float64", async () => {
        const x = values(128 * 784, 7, 0, 1);
        for (const axes of [[1], [0, 1]]) {
          const got = await onDevice(gpu, () => gpu.read(gpu.reduce("sum", up(x), [128, 784], axes)));
          const want = exact((s) => cpu.reduce("sum", s, [128, 784], axes), x);
          const n = axes.length === 1 ? 784 : 128 * 784;
          expectClose(got, want, (i) => sumTolerance(n, want[i]), `sum over [${axes}]`);
        }
      });

      it("a sum of 100,352 ones is 100,352 (llvmpipe ends any shader loop after 65,535 iterations)", async () => {
        for (const n of [65535, 65536, 100352]) {
          const sum = await onDevice(gpu, () =>
            gpu.read(gpu.reduce("sum", gpu.fill(n, 1, "float32"), [n], [0])),
          );
          expect(Array.from(sum)).toEqual([n]);
        }
        const max = await onDevice(gpu, () =>
          gpu.read(gpu.reduce("max", up(Float32Array.from({ length: 100352 }, (_, i) => i)), [100352], [0])),
        );
        expect(Array.from(max)).toEqual([100351]);
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
        const { mode } = gpu;
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
          const z = keep(gpu.matmul(h, w, { batch: 1, m: 64, k: 32, n: 16, transA: false, transB: false }));
          const r = keep(gpu.unary("relu", z));
          h = keep(gpu.matmul(r, w, { batch: 1, m: 64, k: 16, n: 32, transA: false, transB: true }));
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
