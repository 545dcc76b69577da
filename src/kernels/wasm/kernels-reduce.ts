/**
 * Reductions on float32. Any reduction over a set of axes, once adjacent axes of the same kind
 * are merged (see `collapseReduce` in the backend), is made of two moves:
 *
 * - rows: fold each contiguous row into one number (reducing the last axis), e.g. a sum per image;
 * - cols: fold whole rows into one row (reducing an outer axis), e.g. a bias gradient, Σ over the batch.
 *
 * Both add into `out` rather than overwrite it, so the caller can fold several blocks into the
 * same result. Sums of a row are accumulated in float64, like the reference's JavaScript numbers;
 * sums of rows add float32 to float32 in the reference's order, so they agree bit for bit. Max keeps
 * the reference's rule `x > acc || isNaN(x) ? x : acc`, so a NaN anywhere gives NaN.
 */
import { type FunctionDef, ValType } from "./encoding.ts";
import {
  type Code,
  FunctionBuilder,
  type FunctionList,
  f32,
  f32x4,
  f64,
  f64x2,
  get,
  i32,
  type Local,
  select,
  set,
  v128,
} from "./instructions.ts";

const step = (p: Local, bytes: number) => set(p, i32.add(get(p), i32.const(bytes)));
const vectorEnd = (p: Local, n: Local) =>
  i32.add(get(p), i32.shl(i32.and(get(n), i32.const(-4)), i32.const(2)));
const tailEnd = (end: Local, n: Local) =>
  i32.add(get(end), i32.shl(i32.and(get(n), i32.const(3)), i32.const(2)));

/** The reference's max rule on four lanes: take x where x > acc or x is NaN. */
const maxRule = (x: Local, acc: Local) =>
  v128.bitselect(get(x), get(acc), v128.or(f32x4.gt(get(x), get(acc)), f32x4.ne(get(x), get(x))));

/** reduce_rows_sum(x, out, rows, cols): out[r] += Σⱼ x[r·cols + j], in float64. */
function rowsSum(): FunctionDef {
  const f = new FunctionBuilder("reduce_rows_sum");
  const x = f.param(ValType.i32);
  const out = f.param(ValType.i32);
  const rows = f.param(ValType.i32);
  const cols = f.param(ValType.i32);
  const end = f.local(ValType.i32);
  const v = f.local(ValType.v128);
  const lo = f.local(ValType.v128);
  const hi = f.local(ValType.v128);
  const s = f.local(ValType.f64);
  // Lanes 2 and 3 moved down to 0 and 1, so that promote_low widens them.
  const high = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  return f.finish(
    f.while(
      () => i32.gtS(get(rows), i32.const(0)),
      () => [
        set(lo, v128.f32x4(0)),
        set(hi, v128.f32x4(0)),
        set(end, vectorEnd(x, cols)),
        f.while(
          () => i32.ltU(get(x), get(end)),
          () => [
            set(v, v128.load(get(x))),
            set(lo, f64x2.add(get(lo), f64x2.promoteLowF32x4(get(v)))),
            set(hi, f64x2.add(get(hi), f64x2.promoteLowF32x4(v128.shuffle(get(v), get(v), high)))),
            step(x, 16),
          ],
        ),
        set(lo, f64x2.add(get(lo), get(hi))),
        set(
          s,
          f64.add(
            f64.promote(f32.load(get(out))),
            f64.add(f64x2.extractLane(get(lo), 0), f64x2.extractLane(get(lo), 1)),
          ),
        ),
        set(end, tailEnd(end, cols)),
        f.while(
          () => i32.ltU(get(x), get(end)),
          () => [set(s, f64.add(get(s), f64.promote(f32.load(get(x))))), step(x, 4)],
        ),
        f32.store(get(out), f32.demote(get(s))),
        step(out, 4),
        set(rows, i32.sub(get(rows), i32.const(1))),
      ],
    ),
  );
}

/** reduce_rows_max(x, out, rows, cols): out[r] = max(out[r], maxⱼ x[r·cols + j]). */
function rowsMax(): FunctionDef {
  const f = new FunctionBuilder("reduce_rows_max");
  const x = f.param(ValType.i32);
  const out = f.param(ValType.i32);
  const rows = f.param(ValType.i32);
  const cols = f.param(ValType.i32);
  const end = f.local(ValType.i32);
  const v = f.local(ValType.v128);
  const acc = f.local(ValType.v128);
  const m = f.local(ValType.f32);
  const l = f.local(ValType.f32);
  const fold = (value: Code) => [
    set(l, value),
    set(m, select(get(l), get(m), i32.or(f32.gt(get(l), get(m)), f32.ne(get(l), get(l))))),
  ];
  return f.finish(
    f.while(
      () => i32.gtS(get(rows), i32.const(0)),
      () => [
        set(acc, v128.f32x4(Number.NEGATIVE_INFINITY)),
        set(end, vectorEnd(x, cols)),
        f.while(
          () => i32.ltU(get(x), get(end)),
          () => [set(v, v128.load(get(x))), set(acc, maxRule(v, acc)), step(x, 16)],
        ),
        set(m, f32.load(get(out))),
        [0, 1, 2, 3].map((lane) => fold(f32x4.extractLane(get(acc), lane))),
        set(end, tailEnd(end, cols)),
        f.while(
          () => i32.ltU(get(x), get(end)),
          () => [...fold(f32.load(get(x))), step(x, 4)],
        ),
        f32.store(get(out), get(m)),
        step(out, 4),
        set(rows, i32.sub(get(rows), i32.const(1))),
      ],
    ),
  );
}

/**
 * reduce_cols_OP(x, out, rows, cols, xRowBytes): for each of `rows` rows of x (each xRowBytes
 * after the last), out[j] = out[j] OP x[r][j] for j < cols.
 */
function colsKernel(
  name: string,
  combine: (x: Local, o: Local) => Code,
  combine1: (x: Local, o: Local) => Code,
): FunctionDef {
  const f = new FunctionBuilder(name);
  const x = f.param(ValType.i32);
  const out = f.param(ValType.i32);
  const rows = f.param(ValType.i32);
  const cols = f.param(ValType.i32);
  const xRow = f.param(ValType.i32);
  const px = f.local(ValType.i32);
  const po = f.local(ValType.i32);
  const end = f.local(ValType.i32);
  const v = f.local(ValType.v128);
  const o = f.local(ValType.v128);
  const s = f.local(ValType.f32);
  const t = f.local(ValType.f32);
  return f.finish(
    f.while(
      () => i32.gtS(get(rows), i32.const(0)),
      () => [
        set(px, get(x)),
        set(po, get(out)),
        set(end, vectorEnd(po, cols)),
        f.while(
          () => i32.ltU(get(po), get(end)),
          () => [
            set(v, v128.load(get(px))),
            set(o, v128.load(get(po))),
            v128.store(get(po), combine(v, o)),
            step(px, 16),
            step(po, 16),
          ],
        ),
        set(end, tailEnd(end, cols)),
        f.while(
          () => i32.ltU(get(po), get(end)),
          () => [
            set(s, f32.load(get(px))),
            set(t, f32.load(get(po))),
            f32.store(get(po), combine1(s, t)),
            step(px, 4),
            step(po, 4),
          ],
        ),
        set(x, i32.add(get(x), get(xRow))),
        set(rows, i32.sub(get(rows), i32.const(1))),
      ],
    ),
  );
}

export function addReduceKernels(fns: FunctionList): void {
  fns.add(rowsSum());
  fns.add(rowsMax());
  fns.add(
    colsKernel(
      "reduce_cols_sum",
      (v, o) => f32x4.add(get(o), get(v)),
      (s, t) => f32.add(get(t), get(s)),
    ),
  );
  fns.add(
    colsKernel(
      "reduce_cols_max",
      (v, o) => maxRule(v, o),
      (s, t) => select(get(s), get(t), i32.or(f32.gt(get(s), get(t)), f32.ne(get(s), get(s)))),
    ),
  );
}
