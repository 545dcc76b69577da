/**
 * Binary cross-entropy from logits, fused: the VAE's reconstruction term and its gradient, each in
 * one pass over the 128×784 logits and images.
 *
 * Composed from ops, the loss Σ softplus(ℓ) − t·ℓ makes four passes (softplus, t·ℓ, the
 * difference, the sum) with three temporary arrays, and its gradient (σ(ℓ) − t)·g three more.
 * Here each term is computed with the same vector code and the same roundings as those ops
 * (simd-math.ts), so every term and every gradient element is bit for bit what the ops give; only
 * the order in which the loss's terms are added differs (see Backend.bceWithLogitsSum).
 */
import { type FunctionDef, ValType } from "./encoding.ts";
import { FunctionBuilder, type FunctionList, f32, f32x4, get, set, v128 } from "./instructions.ts";
import { sigmoid, softplus } from "./simd-math.ts";
import { loadLanes, storeLanes, vectorLoop } from "./vector-loop.ts";

/**
 * bce_logits_sum(l, t, n, partial): the terms softplus(ℓ) − t·ℓ of n floats, added up in four
 * lanes (and the tail in a fifth number); the five partial sums are stored at `partial` (20 bytes)
 * for the caller to add.
 */
function bceLogitsSum(): FunctionDef {
  const f = new FunctionBuilder("bce_logits_sum");
  const [l, t, n, partial] = Array.from({ length: 4 }, () => f.param(ValType.i32));
  const [vl, term, lanes] = Array.from({ length: 3 }, () => f.local(ValType.v128));
  const tail = f.local(ValType.f32);
  return f.finish(
    vectorLoop(f, [l, t], n, (isTail) => [
      set(vl, loadLanes(l, isTail)),
      softplus(f, vl, term),
      set(term, f32x4.sub(get(term), f32x4.mul(loadLanes(t, isTail), get(vl)))),
      isTail
        ? set(tail, f32.add(get(tail), f32x4.extractLane(get(term), 0)))
        : set(lanes, f32x4.add(get(lanes), get(term))),
    ]),
    v128.store(get(partial), get(lanes)),
    f32.store(get(partial), get(tail), 16),
  );
}

/** bce_logits_grad(l, t, g, out, n): out = (σ(ℓ) − t)·g for n floats; g is the address of one float. */
function bceLogitsGrad(): FunctionDef {
  const f = new FunctionBuilder("bce_logits_grad");
  const [l, t, g, out, n] = Array.from({ length: 5 }, () => f.param(ValType.i32));
  const [vl, vg, r] = Array.from({ length: 3 }, () => f.local(ValType.v128));
  return f.finish(
    set(vg, f32x4.splat(f32.load(get(g)))),
    vectorLoop(f, [l, t, out], n, (isTail) => [
      set(vl, loadLanes(l, isTail)),
      sigmoid(f, vl, r),
      storeLanes(out, f32x4.mul(f32x4.sub(get(r), loadLanes(t, isTail)), get(vg)), isTail),
    ]),
  );
}

export function addLossKernels(fns: FunctionList): void {
  fns.add(bceLogitsSum());
  fns.add(bceLogitsGrad());
}
