/**
 * The SIMD128 ceiling of this machine, measured: a WebAssembly kernel that does nothing but
 * f32x4 multiply-adds on registers (8 independent accumulators, as many as the matmul's
 * micro-kernel keeps, no memory traffic), timed on one thread. A matmul's GFLOP/s next to this
 * number says how close it comes to what WebAssembly SIMD can do here at all.
 */
import { encodeModule, ValType } from "../src/kernels/wasm/encoding.ts";
import { FunctionBuilder, f32x4, get, i32, set, v128 } from "../src/kernels/wasm/instructions.ts";
import { WebAssemblyApi } from "../src/kernels/wasm/wasm-api.ts";
import { measure } from "./timing.ts";

const ACCUMULATORS = 8;

/**
 * calibrate(iterations): acc_i = acc_i + acc_i·c on 8 vectors, `iterations` times; with `fused`,
 * each multiply-add is relaxed SIMD's one instruction (as the matmul uses where the engine has it).
 */
function calibrationModule(fused: boolean): Uint8Array {
  const f = new FunctionBuilder("calibrate", [ValType.i32]);
  const iterations = f.param(ValType.i32);
  const acc = Array.from({ length: ACCUMULATORS }, () => f.local(ValType.v128));
  const c = f.local(ValType.v128);
  const body = f.finish(
    set(c, v128.f32x4(0.999)),
    acc.map((a, i) => set(a, v128.f32x4(1 + i))),
    f.while(
      () => i32.gtS(get(iterations), i32.const(0)),
      () => [
        acc.map((a) =>
          set(
            a,
            fused ? f32x4.relaxedMadd(get(a), get(c), get(a)) : f32x4.add(get(a), f32x4.mul(get(a), get(c))),
          ),
        ),
        set(iterations, i32.sub(get(iterations), i32.const(1))),
      ],
    ),
    // Return something that depends on every accumulator, so that none is optimized away.
    v128.anyTrue(acc.map((a) => get(a)).reduce((x, y) => f32x4.add(x, y))),
  );
  return encodeModule([body], { initialPages: 1, maximumPages: 1, shared: false });
}

/** GFLOP/s of SIMD128 multiply-adds on one thread (a multiply and an add: 8 flops per vector). */
export async function simd128Gflops(quick: boolean, fused = false): Promise<number> {
  const memory = new WebAssemblyApi.Memory({ initial: 1, maximum: 1 });
  const module = await WebAssemblyApi.compile(calibrationModule(fused));
  const { exports } = await WebAssemblyApi.instantiate(module, { env: { memory } });
  const kernel = (exports as { calibrate: (n: number) => number }).calibrate;
  const iterations = 1_000_000;
  const t = await measure(() => kernel(iterations), {
    warmup: 3,
    minReps: quick ? 5 : 20,
    minTimeMs: quick ? 100 : 500,
  });
  return (iterations * ACCUMULATORS * 8) / (t.minMs * 1e6);
}
