/**
 * `npm run bench -- --only microkernel`: why the wasm matmul's micro-kernel keeps a 4×8 block of C
 * (kernels-matmul.ts), measured on this engine and CPU.
 *
 * 1. The SIMD128 multiply-add ceiling against how many independent accumulators a loop keeps
 *    (bench/calibrate.ts): each multiply-add waits for the one before it on the same vector, so
 *    too few accumulators leave the units idle; too many do not fit the registers.
 * 2. The micro-kernel's inner loop (multiplyAddStep, the same code as the matmul's) for blocks of
 *    other shapes, rows × columns of C, over packed panels already in cache: a block needs
 *    rows·columns/4 accumulators, columns/4 vectors of B and one of A. x86 has 16 SIMD registers,
 *    and a block that needs more makes V8 keep some of them in memory.
 */
import { encodeModule, ValType } from "../src/kernels/wasm/encoding.ts";
import { FunctionBuilder, get, i32, set, v128 } from "../src/kernels/wasm/instructions.ts";
import { MR, multiplyAddStep, NR } from "../src/kernels/wasm/kernels-matmul.ts";
import { relaxedSimdSupported } from "../src/kernels/wasm/module.ts";
import { advance } from "../src/kernels/wasm/vector-loop.ts";
import { WebAssemblyApi } from "../src/kernels/wasm/wasm-api.ts";
import { simd128Gflops } from "./calibrate.ts";
import type { BenchOptions, BenchSection, BenchTable } from "./table.ts";
import { measure } from "./timing.ts";

/** Register blocks, rows × vectors of 4 columns: ours first. */
const blocks: [number, number][] = [
  [MR, NR / 4],
  [3, 3],
  [2, 4],
  [5, 2],
  [6, 2],
  [4, 3],
  [3, 4],
];

const DEPTH = 200; // the VAE's hidden size: the k of its decoder matmuls

/**
 * block(pa, pb, k, reps, out): `reps` times, the block of C over k depth steps of packed panels
 * at pa (rows floats a step) and pb (4·vectors floats a step), stored at out.
 */
function blockModule(rows: number, vectors: number, fma: boolean): Uint8Array {
  const f = new FunctionBuilder("block", [ValType.i32]);
  const [pa0, pb0, k, reps, out] = Array.from({ length: 5 }, () => f.param(ValType.i32));
  const [pa, pb, end] = Array.from({ length: 3 }, () => f.local(ValType.i32));
  const acc = Array.from({ length: rows }, () =>
    Array.from({ length: vectors }, () => f.local(ValType.v128)),
  );
  const b = Array.from({ length: vectors }, () => f.local(ValType.v128));
  const a = f.local(ValType.v128);
  const body = f.finish(
    f.while(
      () => i32.gtS(get(reps), i32.const(0)),
      () => [
        acc.flat().map((v) => set(v, v128.f32x4(0))),
        set(pa, get(pa0)),
        set(pb, get(pb0)),
        set(end, i32.add(get(pb), i32.mul(get(k), i32.const(16 * vectors)))),
        f.while(
          () => i32.ltU(get(pb), get(end)),
          () => [multiplyAddStep(acc, b, a, pa, pb, fma), advance(pa, 4 * rows), advance(pb, 16 * vectors)],
        ),
        acc.map((row, r) => row.map((v, h) => v128.store(get(out), get(v), 16 * (r * vectors + h)))),
        set(reps, i32.sub(get(reps), i32.const(1))),
      ],
    ),
    i32.const(0),
  );
  return encodeModule([body], { initialPages: 2, maximumPages: 2, shared: false });
}

/** GFLOP/s of one block shape's inner loop, fastest of the repetitions. */
async function blockGflops(rows: number, vectors: number, fma: boolean, quick: boolean): Promise<number> {
  const memory = new WebAssemblyApi.Memory({ initial: 2, maximum: 2 });
  new Float32Array(memory.buffer).fill(0.001);
  const module = await WebAssemblyApi.compile(blockModule(rows, vectors, fma));
  const { exports } = await WebAssemblyApi.instantiate(module, { env: { memory } });
  const run = (exports as { block: (...args: number[]) => number }).block;
  const reps = 2000;
  // A's panel at 0, B's at 32 KiB (both under 32 KiB: in cache, as in the matmul), C at 64 KiB.
  const t = await measure(() => run(0, 32768, DEPTH, reps, 65536), {
    warmup: 3,
    minReps: quick ? 5 : 15,
    minTimeMs: quick ? 100 : 400,
  });
  return (reps * DEPTH * rows * vectors * 8) / (t.minMs * 1e6);
}

async function run(options: BenchOptions): Promise<BenchTable[]> {
  const fused = relaxedSimdSupported();
  const ceiling: (string | number)[][] = [];
  for (const accumulators of [4, 8, 12, 16]) {
    ceiling.push([
      String(accumulators),
      await simd128Gflops(options.quick, false, accumulators),
      fused ? await simd128Gflops(options.quick, true, accumulators) : "n/a",
    ]);
  }
  const shapes: (string | number)[][] = [];
  for (const [rows, vectors] of blocks) {
    shapes.push([
      `${rows}×${4 * vectors}${rows === MR && vectors === NR / 4 ? " (ours)" : ""}`,
      rows * vectors + vectors + 1,
      await blockGflops(rows, vectors, false, options.quick),
      fused ? await blockGflops(rows, vectors, true, options.quick) : "n/a",
    ]);
  }
  const fusedNote = fused
    ? "fused: relaxed SIMD's multiply-add, one instruction and one rounding (what the matmul uses here)."
    : "fused: n/a, this engine has no relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd).";
  return [
    {
      title: "SIMD128 multiply-add ceiling on one thread against independent accumulators: GFLOP/s",
      columns: ["accumulators", "plain", "fused"],
      rows: ceiling,
      notes: [
        "acc = acc + acc·c on registers, no memory traffic (bench/calibrate.ts). Each multiply-add waits for the last",
        "on its vector: with too few vectors the units idle between them.",
        fusedNote,
      ],
    },
    {
      title: `The matmul's micro-kernel by register block (rows × columns of C), k = ${DEPTH}, panels in cache: GFLOP/s`,
      columns: ["block", "SIMD registers", "plain", "fused"],
      rows: shapes,
      notes: [
        "The inner loop of kernels-matmul.ts (multiplyAddStep) on packed panels; registers: accumulators + B's vectors + A's splat.",
        "x86 has 16; a block that needs more is kept partly in memory by V8, and its loop slows.",
      ],
    },
  ];
}

export const microkernelSection: BenchSection & { onRequest: true } = {
  name: "microkernel",
  onRequest: true,
  run,
};
