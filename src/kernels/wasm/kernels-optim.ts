/**
 * Adam's update fused into one pass: read param, grad, m and v once, write param, m and v once.
 * Composed from ops, the same update is about a dozen passes over memory, each with a temporary
 * buffer — for the VAE that was half of a training step. On the way it notes whether every number it
 * wrote is finite, which a divergence guard would otherwise need another pass over memory to learn.
 *
 * The arithmetic is the composed formula's, operation for operation (see Backend.adamUpdate), so
 * each lane rounds exactly as the ops would and the results agree bit for bit.
 */
import { type FunctionDef, ValType } from "./encoding.ts";
import {
  type Code,
  FunctionBuilder,
  type FunctionList,
  f32,
  f32x4,
  get,
  type Local,
  set,
  v128,
} from "./instructions.ts";
import { loadLanes, storeLanes, vectorLoop } from "./vector-loop.ts";

/**
 * adam_update[_decay](param, grad, m, v, n, finite, corrections, weightDecay, beta1, oneMinusBeta1,
 * beta2, oneMinusBeta2, eps): addresses, a count, the address of 16 bytes for the finiteness check,
 * the address of the step's two numbers [1 − β₂ᵗ, lr / (1 − β₁ᵗ)], and the float32 constants. The
 * _decay variant first adds weightDecay·param to the gradient. The constants come as the bits of
 * float32s in i32s, because worker threads are handed integers. At `finite` it stores four sums of
 * x − x over every x written: x − x is 0 for a finite x and NaN for NaN or ±∞, and NaN survives a
 * sum, so the sums are all zero exactly when every number written is finite.
 */
function adam(name: string, decay: boolean): FunctionDef {
  const f = new FunctionBuilder(name);
  const [p, g, m, v, n, finite, corrections] = Array.from({ length: 7 }, () => f.param(ValType.i32));
  const [wd, b1, omb1, b2, omb2, eps] = Array.from({ length: 6 }, () => f.param(ValType.i32));
  const [vp, vg, vm, vv, check, c2, stepSize] = Array.from({ length: 7 }, () => f.local(ValType.v128));
  const zeroIfFinite = (x: Local) => f32x4.sub(get(x), get(x));
  const splat = (c: Local) => f32x4.splat(f32.reinterpret(get(c)));

  /** The update of the four lanes in vp, vg, vm, vv (results left in vp, vm, vv). */
  const update = (): Code[] => [
    decay ? set(vg, f32x4.add(get(vg), f32x4.mul(get(vp), splat(wd)))) : [],
    set(vm, f32x4.add(f32x4.mul(get(vm), splat(b1)), f32x4.mul(get(vg), splat(omb1)))),
    set(vv, f32x4.add(f32x4.mul(get(vv), splat(b2)), f32x4.mul(f32x4.mul(get(vg), get(vg)), splat(omb2)))),
    set(
      vp,
      f32x4.sub(
        get(vp),
        f32x4.mul(
          f32x4.div(get(vm), f32x4.add(f32x4.sqrt(f32x4.div(get(vv), get(c2))), splat(eps))),
          get(stepSize),
        ),
      ),
    ),
    set(
      check,
      f32x4.add(get(check), f32x4.add(f32x4.add(zeroIfFinite(vp), zeroIfFinite(vm)), zeroIfFinite(vv))),
    ),
  ];
  return f.finish(
    set(c2, v128.load32Splat(get(corrections))),
    set(stepSize, v128.load32Splat(get(corrections), 4)),
    vectorLoop(f, [p, g, m, v], n, (tail) => [
      [vp, vg, vm, vv].map((x, i) => set(x, loadLanes([p, g, m, v][i], tail))),
      update(),
      [vp, vm, vv].map((x, i) => storeLanes([p, m, v][i], get(x), tail)),
    ]),
    v128.store(get(finite), get(check)),
  );
}

export function addOptimizerKernels(fns: FunctionList): void {
  fns.add(adam("adam_update", false));
  fns.add(adam("adam_update_decay", true));
}
