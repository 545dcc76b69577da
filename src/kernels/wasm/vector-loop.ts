/**
 * The loop every elementwise kernel runs: over n floats, four at a time in v128 registers (the
 * body), then the last n mod 4 one at a time (the tail). In the tail each number sits alone in a
 * vector, in all four lanes, and runs the same vector code, so that it gives exactly what the body
 * would have; `loadLanes` and `storeLanes` read and write one float or four accordingly.
 */
import { ValType } from "./encoding.ts";
import {
  type Code,
  type FunctionBuilder,
  f32,
  f32x4,
  get,
  i32,
  type Local,
  type Stmts,
  set,
  v128,
} from "./instructions.ts";

/** p += bytes */
export const advance = (p: Local, bytes: number) => set(p, i32.add(get(p), i32.const(bytes)));

/** Four floats at p, or in a tail the one float at p, in all four lanes. */
export const loadLanes = (p: Local, tail: boolean): Code =>
  tail ? f32x4.splat(f32.load(get(p))) : v128.load(get(p));

/** The four lanes of `value` to p, or in a tail its first lane. */
export const storeLanes = (p: Local, value: Code, tail: boolean): Code =>
  tail ? f32.store(get(p), f32x4.extractLane(value, 0)) : v128.store(get(p), value);

/**
 * `body(false)` over whole vectors, then `between`, then `body(true)` over the tail, for n floats.
 * Each of `pointers` (byte addresses; the first bounds the loop) moves on by the floats done;
 * a pointer that stays put (an operand broadcast along the row) is simply not passed.
 */
export function vectorLoop(
  f: FunctionBuilder,
  pointers: readonly Local[],
  n: Local,
  body: (tail: boolean) => Stmts,
  between: Stmts = [],
): Stmts {
  const [first] = pointers;
  const end = f.local(ValType.i32);
  return [
    set(end, i32.add(get(first), i32.shl(i32.and(get(n), i32.const(-4)), i32.const(2)))),
    f.while(
      () => i32.ltU(get(first), get(end)),
      () => [body(false), pointers.map((p) => advance(p, 16))],
    ),
    between,
    set(end, i32.add(get(end), i32.shl(i32.and(get(n), i32.const(3)), i32.const(2)))),
    f.while(
      () => i32.ltU(get(first), get(end)),
      () => [body(true), pointers.map((p) => advance(p, 4))],
    ),
  ];
}
