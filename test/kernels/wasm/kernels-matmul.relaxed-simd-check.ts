/**
 * Run by kernels-matmul.relaxed-simd.process.test.ts in a Node process of its own, which turns relaxed SIMD on as the CLI
 * does (enableRelaxedSimd: a V8 flag on Node 20, which would change every later test were it set in
 * the test process itself): matmul with fused multiply-adds against the cpu reference, on one thread
 * and two, dense and skipping zeros, in every transpose variant. Prints one line of JSON for the
 * test to judge.
 */
import { CpuBackend } from "../../../src/kernels/cpu/backend.ts";
import { createWasmBackend } from "../../../src/kernels/wasm/create.ts";
import { relaxedSimdSupported } from "../../../src/kernels/wasm/module.ts";
import { enableRelaxedSimd } from "../../../src/kernels/wasm/node-flags.ts";

/** What the check prints, for the test to judge. */
export interface RelaxedSimdReport {
  before: boolean;
  byDefault: boolean;
  supported: boolean;
  cases: number;
  worst: number;
  threadsDiffer: number;
  sparseDiffers: number;
}

const before = relaxedSimdSupported();
const supported = enableRelaxedSimd();
const byDefault = (await createWasmBackend({ threads: 1 })).relaxedSimd;
const report: RelaxedSimdReport = {
  before,
  byDefault,
  supported,
  cases: 0,
  worst: 0,
  threadsDiffer: 0,
  sparseDiffers: 0,
};
if (supported) {
  const cpu = new CpuBackend();
  const one = await createWasmBackend({ threads: 1, relaxedSimd: true, sparseZeros: 2 });
  const two = await createWasmBackend({ threads: 2, relaxedSimd: true, sparseZeros: 2, parallelFlops: 0 });
  const sparse = await createWasmBackend({ threads: 1, relaxedSimd: true, sparseZeros: 0 });
  let seed = 3;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (const [m, k, n] of [
    [1, 1, 1],
    [4, 8, 8],
    [5, 3, 9],
    [13, 17, 7],
    [33, 65, 47],
    [128, 784, 200],
  ]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        // Half the numbers zero in runs, so that whole steps are skipped.
        const values = (size: number) =>
          Float32Array.from({ length: size }, (_, i) => (i % 16 < 8 ? 0 : random() * 2 - 1));
        const a = values(m * k);
        const b = values(k * n);
        const run = (backend: typeof one | CpuBackend, x: Float32Array, y: Float32Array) =>
          backend.readSync(
            backend.matmul(backend.fromArray(x), backend.fromArray(y), { batch: 1, m, k, n, transA, transB }),
          );
        const expected = run(cpu, a, b);
        const bound = run(cpu, a.map(Math.abs), b.map(Math.abs));
        const got = run(one, a, b);
        const threaded = run(two, a, b);
        const skipped = run(sparse, a, b);
        for (let i = 0; i < expected.length; i++) {
          // The float32 summation bound, 2(k+1)·ε·Σ|a||b|, as the plain path's tests use.
          const allowed = 2 * (k + 1) * 2 ** -23 * bound[i] + 1e-30;
          report.worst = Math.max(report.worst, Math.abs(got[i] - expected[i]) / allowed);
          if (!Object.is(threaded[i], got[i])) report.threadsDiffer++;
          if (!Object.is(skipped[i], got[i])) report.sparseDiffers++;
        }
        report.cases++;
      }
    }
  }
  await two.terminate();
}
console.log(JSON.stringify(report));
