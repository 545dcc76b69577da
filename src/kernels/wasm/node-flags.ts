/**
 * Node 20's V8 (11.3) runs relaxed SIMD, whose fused multiply-add makes the matmul about 1.2×
 * faster, only behind --experimental-wasm-relaxed-simd; Node 22 and later run it by default. A Node
 * program that trains (the CLI, the benches) calls this before its first wasm backend, so that
 * `npm run train:mnist` gets the fused path on Node 20 too without a flag on the command line.
 * The flag is only set where the feature is missing, so a later Node that has dropped the flag never
 * sees it. Not for the library itself: it changes the whole process's V8, which is the program's call.
 */
import { setFlagsFromString } from "node:v8";
import { relaxedSimdSupported } from "./module.ts";

/** Turn relaxed SIMD on where V8 has it behind a flag; returns whether the engine now runs it. */
export function enableRelaxedSimd(): boolean {
  if (!relaxedSimdSupported()) setFlagsFromString("--experimental-wasm-relaxed-simd");
  return relaxedSimdSupported();
}
