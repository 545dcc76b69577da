/**
 * The matmul's zero skipping (src/kernels/wasm/sparsity.ts) against the dense product, on one
 * thread, in the same run: x·W1ᵀ (128×784·784×200) with x's zeros scattered at random at a range
 * of shares (the worst case: few whole steps are zero), and with x a real MNIST batch, for which
 * the first layer's forward x·W1ᵀ and weight gradient Gᵀ·x both skip. Dense and skipping calls
 * alternate, so both see the same machine.
 */
import type { WasmBackend } from "../src/kernels/wasm/backend.ts";
import { createWasmBackend } from "../src/kernels/wasm/create.ts";
import { gatherImages, loadMnist } from "../src/train-mnist/data.ts";
import type { BenchTable } from "./table.ts";
import { measure } from "./timing.ts";

const [M, K, N] = [128, 784, 200];

export async function zeroSkippingTable(quick: boolean): Promise<BenchTable> {
  const dense = await createWasmBackend({ threads: 1, sparseZeros: 2 });
  const skipping = await createWasmBackend({ threads: 1, sparseZeros: 0 });
  let seed = 11;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const weights = Float32Array.from({ length: K * N }, () => random() - 0.5);
  const grad = Float32Array.from({ length: M * N }, () => random() - 0.5);
  const mnist = gatherImages(
    loadMnist("train", { limit: M }),
    Int32Array.from({ length: M }, (_, i) => i),
  );
  const time = async (
    backend: WasmBackend,
    a: Float32Array,
    b: Float32Array,
    shape: [number, number, number, boolean, boolean],
  ) => {
    const [m, k, n, ta, tb] = shape;
    const [sa, sb] = [backend.fromArray(a), backend.fromArray(b)];
    const t = await measure(
      () => backend.dispose(backend.matmul(sa, sb, { batch: 1, m, k, n, transA: ta, transB: tb })),
      {
        warmup: 5,
        minReps: quick ? 10 : 40,
        minTimeMs: quick ? 50 : 300,
      },
    );
    backend.dispose(sa);
    backend.dispose(sb);
    return t.minMs;
  };
  const rows: (string | number)[][] = [];
  const forward: [number, number, number, boolean, boolean] = [M, K, N, false, true];
  for (const share of quick ? [0, 0.5, 0.8] : [0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9]) {
    const x = Float32Array.from({ length: M * K }, () => (random() < share ? 0 : random()));
    const d = await time(dense, x, weights, forward);
    const s = await time(skipping, x, weights, forward);
    rows.push([`x·W1ᵀ, ${Math.round(share * 100)}% zeros at random`, d, s, `${(d / s).toFixed(2)}×`]);
  }
  const d1 = await time(dense, mnist, weights, forward);
  const s1 = await time(skipping, mnist, weights, forward);
  rows.push(["x·W1ᵀ, x an MNIST batch", d1, s1, `${(d1 / s1).toFixed(2)}×`]);
  const gradient: [number, number, number, boolean, boolean] = [N, M, K, true, false];
  const d2 = await time(dense, grad, mnist, gradient);
  const s2 = await time(skipping, grad, mnist, gradient);
  rows.push(["Gᵀ·x, x an MNIST batch", d2, s2, `${(d2 / s2).toFixed(2)}×`]);
  return {
    title: "matmul zero skipping on one thread: ms per product, fastest of the repetitions (lower is better)",
    columns: ["product (128×784·784×200)", "dense ms", "skipping ms", "speed-up"],
    rows,
    notes: [
      "Skipping is forced here at every share; the backend looks for zeros only in an operand whose sampled",
      "share of zeros is at least 60% (sparsity.ts), about where random zeros break even.",
      "Fastest rather than median: the least disturbed figure of each kernel when the machine is shared.",
    ],
  };
}
