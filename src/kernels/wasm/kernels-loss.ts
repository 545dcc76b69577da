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
import {
  FunctionBuilder,
  type FunctionList,
  f32,
  f32x4,
  get,
  i32,
  type Local,
  type Stmts,
  set,
  v128,
} from "./instructions.ts";
import { sigmoid, softplus } from "./simd-math.ts";

const step = (p: Local, bytes: number) => set(p, i32.add(get(p), i32.const(bytes)));

/** Four floats at p, or (in the tail) one float at p in all four lanes, so the tail runs the same code. */
const load = (p: Local, tail: boolean) => (tail ? f32x4.splat(f32.load(get(p))) : v128.load(get(p)));
const store = (p: Local, v: Local, tail: boolean) =>
  tail ? f32.store(get(p), f32x4.extractLane(get(v), 0)) : v128.store(get(p), get(v));

/**
 * Runs `body` over n floats four at a time, then over the last n mod 4 one at a time, moving every
 * pointer (byte addresses; the first one counts) by the floats done.
 */
function overElements(
  f: FunctionBuilder,
  pointers: Local[],
  n: Local,
  body: (tail: boolean) => Stmts[],
): Stmts[] {
  const [first] = pointers;
  const end = f.local(ValType.i32);
  return [
    set(end, i32.add(get(first), i32.shl(i32.and(get(n), i32.const(-4)), i32.const(2)))),
    f.while(
      () => i32.ltU(get(first), get(end)),
      () => [body(false), pointers.map((p) => step(p, 16))],
    ),
    set(end, i32.add(get(end), i32.shl(i32.and(get(n), i32.const(3)), i32.const(2)))),
    f.while(
      () => i32.ltU(get(first), get(end)),
      () => [body(true), pointers.map((p) => step(p, 4))],
    ),
  ];
}

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
    overElements(f, [l, t], n, (isTail) => [
      set(vl, load(l, isTail)),
      softplus(f, vl, term),
      set(term, f32x4.sub(get(term), f32x4.mul(load(t, isTail), get(vl)))),
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
    overElements(f, [l, t, out], n, (isTail) => [
      set(vl, load(l, isTail)),
      sigmoid(f, vl, r),
      set(r, f32x4.mul(f32x4.sub(get(r), load(t, isTail)), get(vg))),
      store(out, r, isTail),
    ]),
  );
}

export function addLossKernels(fns: FunctionList): void {
  fns.add(bceLogitsSum());
  fns.add(bceLogitsGrad());
}
